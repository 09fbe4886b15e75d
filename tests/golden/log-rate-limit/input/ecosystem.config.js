// journald's rate limit of the app's output, nodeunits' own options that
// are one directive each (Row::plain): a verbose app keeps more lines, a
// quiet one turns the limit off.
module.exports = {
  apps: [
    {
      name: 'chatty',
      script: 'chatty.js',
      log_rate_limit_interval: '10s',
      log_rate_limit_burst: 50000,
    },
    {
      name: 'unlimited',
      script: 'unlimited.js',
      log_rate_limit_interval: 0,
    },
  ],
};
