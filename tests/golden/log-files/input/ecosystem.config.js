// The log writer (APP-logs.service): log_rotate at the top of the file for
// every app that sets none, PM2's timestamps and JSON lines, a per-worker
// file (a cluster app's default) and an app that turns rotation off.
module.exports = {
  log_rotate: { max_size: '50M', retain: 7, compress: true, interval: '0 3 * * *' },
  apps: [
    {
      name: 'web',
      script: 'server.js',
      instances: 2,
      exec_mode: 'cluster',
      out_file: '/var/log/web/out.log',
      error_file: '/var/log/web/error.log',
      time: true,
    },
    {
      name: 'events',
      script: 'events.js',
      out_file: 'logs/events.log',
      log_type: 'json',
      log_rotate: { rotateInterval: '0 0 * * 0', dateFormat: 'YYYY-MM-DD' },
    },
    {
      name: 'quiet',
      script: 'quiet.js',
      out_file: 'logs/quiet.log',
      log_rotate: false,
    },
  ],
};
