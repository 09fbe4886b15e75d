// The shape `pm2 init` writes, with values computed as PM2 users compute
// them; options.toml sets WORKERS in the environment nodeunits runs in.
const path = require('path');

module.exports = {
  apps: [
    {
      name: 'api',
      script: path.join(__dirname, 'dist/server.js'),
      instances: process.env.WORKERS || 'max',
      exec_mode: 'cluster',
      listen: ['127.0.0.1:3000'],
      max_memory_restart: '512M',
      kill_timeout: 5000,
      env: { NODE_ENV: 'development', PORT: 3000 },
      env_production: { NODE_ENV: 'production' },
      // Not options: PM2 never reads them, so they are dropped.
      onReady: function () {},
      out_file: undefined,
    },
    {
      name: 'worker',
      script: './worker.js',
      instances: process.env.UNSET_IN_THE_TESTS || 2,
      watch: ['lib'],
    },
  ],
  deploy: {
    production: {
      user: 'node',
      host: ['example.com'],
      'post-deploy': 'npm ci && pm2 reload ecosystem.config.js --env production',
    },
  },
};
