// Valid JavaScript, wrong values: each is reported by its key's path.
module.exports = {
  apps: [
    {
      name: 'api',
      script: 'server.js',
      instances: process.env.UNSET_IN_THE_TESTS || 'lots',
      kill_timeout: -5,
      watchh: true,
      env: { 'BAD-NAME': 1 },
    },
    { script: 'nameless.js' },
  ],
};
