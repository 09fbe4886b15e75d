// autostart = false: PM2 installs the app without starting it.
module.exports = {
  apps: [
    {
      name: 'reports',
      script: 'reports.js',
      autostart: false,
    },
  ],
};
