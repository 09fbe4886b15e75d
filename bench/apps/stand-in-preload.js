// Loaded with `node --require`. Two jobs:
// - when a socket is handed over as fd 3 (LISTEN_FDS), the app's
//   listen(port) takes that socket instead of binding (bare node, stand-in);
// - with BENCH_READY_FILE (the stand-in for nodeunits-helper, used only while
//   the helper is not built): write that file once ready (listening, or the
//   app's process.send('ready') with BENCH_WAIT_READY=1), and on SIGINT drain:
//   stop accepting, answer each in-flight or next request with
//   `Connection: close`, close connections idle for a second, then exit.
const net = require('net');
const http = require('http');
const fs = require('fs');

const listen = net.Server.prototype.listen;
const servers = new Set();
const readyFile = process.env.BENCH_READY_FILE;
const waitReady = process.env.BENCH_WAIT_READY === '1';
let draining = false;

const markReady = () => fs.writeFileSync(readyFile, `${process.pid}\n`);

net.Server.prototype.listen = function (...args) {
  const callback = args.find((arg) => typeof arg === 'function');
  if (readyFile) track(this);
  if (!process.env.LISTEN_FDS) return listen.apply(this, args);
  return listen.call(this, { fd: 3 }, callback);
};

function track(server) {
  servers.add(server);
  const sockets = new Map();
  server.sockets = sockets;
  server.on('connection', (socket) => {
    sockets.set(socket, { busy: 0, since: Date.now() });
    socket.on('close', () => sockets.delete(socket));
  });
  if (server instanceof http.Server) {
    server.prependListener('request', (req, res) => {
      const state = sockets.get(req.socket);
      if (state) state.busy++;
      if (draining) res.setHeader('Connection', 'close');
      res.on('finish', () => {
        if (state) {
          state.busy--;
          state.since = Date.now();
        }
      });
    });
    // Node closes idle keep-alive connections on close(): a client's next
    // request on one would fail. The drain below closes them itself.
    server.closeIdleConnections = () => {};
  }
  server.once('listening', () => {
    if (!waitReady) markReady();
  });
}

if (readyFile) {
  if (waitReady && !process.send) {
    process.send = (message) => {
      if (message === 'ready') markReady();
      return true;
    };
  }
  process.on('SIGINT', () => {
    if (draining) return;
    draining = true;
    const appHandlesSignal = process.listenerCount('SIGINT') > 1;
    for (const server of servers) {
      if (!appHandlesSignal) server.close();
    }
    setInterval(() => {
      let open = 0;
      for (const server of servers) {
        for (const [socket, state] of server.sockets) {
          if (state.busy === 0 && Date.now() - state.since >= 1000) socket.destroy();
          else open++;
        }
      }
      if (open === 0 && !appHandlesSignal) process.exit(0);
    }, 50);
  });
}
