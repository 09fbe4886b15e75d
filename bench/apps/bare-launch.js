// No supervisor: run N plain `node APP` workers on the listening socket this
// process was handed as fd 3 (systemd-socket-activate holds it, as a socket
// unit would). Usage: node bare-launch.js N PIDS_FILE APP
const path = require('path');
const fs = require('fs');
const { spawn } = require('child_process');

const [count, pidsFile, app] = process.argv.slice(2);
const preload = path.join(__dirname, 'listen-fd-preload.js');
const children = [];
for (let i = 0; i < Number(count); i++) {
  children.push(
    spawn(process.execPath, ['--require', preload, app], {
      stdio: ['ignore', 'inherit', 'inherit', 3],
      env: { ...process.env, LISTEN_FDS: '1', NODE_APP_INSTANCE: String(i) },
    }),
  );
}
fs.writeFileSync(pidsFile, children.map((c) => c.pid).join(' ') + '\n');
const stop = () => {
  children.forEach((c) => c.kill('SIGKILL'));
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
