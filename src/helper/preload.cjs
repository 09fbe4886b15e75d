'use strict';
// nodeunits preload, loaded by nodeunits-helper with `node --require`.
// 1. The app's listen() on a port or path the socket unit holds uses the
//    socket systemd passed down (an inherited fd) instead of binding it.
// 2. The helper hears when the app listens there (readiness).
// 3. Closing an HTTP server drains it: requests in flight finish, further
//    requests on keep-alive connections are answered with `Connection: close`,
//    idle connections are closed after a grace, never while a client may be
//    sending on them.
// 4. An app with no handler of its own for SIGINT or SIGTERM is drained that
//    way, then dies of the signal as it would have at once.

const net = require('net');
const http = require('http');
const https = require('https');

const listenMap = parseListenMap(process.env.NODEUNITS_LISTEN);
// Only the helper's own child acts on it: not processes the app forks.
delete process.env.NODEUNITS_LISTEN;

// How long an idle keep-alive connection stays open once draining starts:
// a client that was about to send on it gets its answer with Connection: close.
const IDLE_GRACE_MS = 1000;
const kState = Symbol('nodeunits.server');
const kResponse = Symbol('nodeunits.response');
const kIdleSince = Symbol('nodeunits.idleSince');
const kAcceptors = Symbol('nodeunits.acceptors');
const servers = new Set();

function parseListenMap(text) {
  if (!text) return null;
  try {
    const entries = JSON.parse(text);
    return Array.isArray(entries) ? entries : null;
  } catch {
    return null;
  }
}

function portOf(address) {
  if (address.startsWith('/') || address.startsWith('@')) return undefined;
  const match = /(?:^|:)(\d+)$/.exec(address);
  return match ? Number(match[1]) : undefined;
}

function normalize(args) {
  if (typeof net._normalizeArgs === 'function') return net._normalizeArgs(args);
  const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : null;
  const first = args[0];
  if (first !== null && typeof first === 'object') return [first, callback];
  if (typeof first === 'string' && Number.isNaN(Number(first))) return [{ path: first }, callback];
  return [{ port: first, host: typeof args[1] === 'string' ? args[1] : undefined }, callback];
}

// The inherited fds for this listen() call: those of the socket unit's
// entries with its port (several when it listens on one port on several
// addresses), or its path.
function inheritedFds(options) {
  if (!listenMap || !options || options.fd !== undefined || options.handle !== undefined) return [];
  if (typeof options.path === 'string') {
    return listenMap.filter((e) => e.address === options.path).map((e) => e.fd);
  }
  const port = Number(options.port);
  if (!Number.isInteger(port) || port <= 0) return [];
  return listenMap.filter((e) => portOf(e.address) === port).map((e) => e.fd);
}

function tellHelper(message) {
  if (typeof process.send === 'function' && process.connected) {
    process.send(message, undefined, { swallowErrors: true }, () => {});
  }
}

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listen(...args) {
  track(this);
  const [options, callback] = normalize(args);
  const [fd, ...moreFds] = inheritedFds(options);
  if (fd === undefined) return originalListen.apply(this, args);
  this.once('listening', () => {
    for (const more of moreFds) acceptFrom(this, more);
    tellHelper({ nodeunits: 'listening', fd });
  });
  const fdOptions = { fd };
  return callback ? originalListen.call(this, fdOptions, callback) : originalListen.call(this, fdOptions);
};

// A server holds one listening handle: connections on a further inherited
// socket are accepted by a hidden server and handed over, counted as the
// server's own so that close() waits for them too.
function acceptFrom(server, fd) {
  const acceptor = new net.Server({
    allowHalfOpen: server.allowHalfOpen,
    pauseOnConnect: server.pauseOnConnect,
    noDelay: server.noDelay,
    keepAlive: server.keepAlive,
  });
  acceptor.on('connection', (socket) => {
    acceptor._connections -= 1;
    socket.server = server;
    socket._server = server;
    server._connections += 1;
    server.emit('connection', socket);
  });
  originalListen.call(acceptor, { fd });
  (server[kAcceptors] ||= []).push(acceptor);
}

const originalClose = net.Server.prototype.close;
net.Server.prototype.close = function close(...args) {
  for (const acceptor of this[kAcceptors] || []) if (acceptor.listening) originalClose.call(acceptor);
  return originalClose.apply(this, args);
};

function isHttp(server) {
  return server instanceof http.Server || server instanceof https.Server;
}

function track(server) {
  if (server[kState]) return;
  const state = { draining: false, sockets: new Set() };
  server[kState] = state;
  servers.add(server);
  server.once('close', () => servers.delete(server));
  if (!isHttp(server)) return;
  server.on('connection', (socket) => {
    state.sockets.add(socket);
    socket[kIdleSince] = Date.now();
    socket.once('close', () => state.sockets.delete(socket));
  });
  // First, so the app's handler has not yet sent the headers.
  server.prependListener('request', (req, res) => onRequest(state, req, res));
}

function rawSocket(socket) {
  return socket && socket._parent ? socket._parent : socket;
}

function onRequest(state, req, res) {
  const socket = rawSocket(req.socket);
  socket[kResponse] = res;
  if (state.draining) res.shouldKeepAlive = false;
  let done = false;
  const finished = () => {
    if (done) return;
    done = true;
    if (socket[kResponse] === res) socket[kResponse] = null;
    if (state.draining) closeOnceIdle(socket);
  };
  res.once('finish', finished);
  res.once('close', finished);
}

function closeOnceIdle(socket) {
  const since = (socket[kIdleSince] = Date.now());
  setTimeout(() => {
    if (!socket[kResponse] && socket[kIdleSince] === since && !socket.destroyed) socket.destroy();
  }, IDLE_GRACE_MS).unref();
}

function drain(server) {
  const state = server[kState];
  if (state.draining) return;
  state.draining = true;
  for (const socket of state.sockets) {
    const res = socket[kResponse];
    if (!res) closeOnceIdle(socket);
    else if (!res.headersSent) res.shouldKeepAlive = false;
  }
}

// Node's server.close() calls closeIdleConnections(), which cuts idle
// keep-alive connections while clients may be sending on them.
for (const Server of [http.Server, https.Server]) {
  const original = Server.prototype.closeIdleConnections;
  Server.prototype.closeIdleConnections = function closeIdleConnections() {
    if (!this[kState]) return original.call(this);
    drain(this);
  };
}

if (listenMap) {
  let stopping = false;
  const stopSignals = ['SIGINT', 'SIGTERM'];
  const onStopSignal = (signal) => {
    if (process.listenerCount(signal) > 1 || stopping) return; // the app handles it
    stopping = true;
    const dieOfSignal = () => {
      for (const s of stopSignals) process.removeListener(s, onStopSignal);
      process.kill(process.pid, signal);
    };
    const open = [...servers].filter((server) => server.listening);
    let left = open.length;
    if (left === 0) return dieOfSignal();
    for (const server of open) {
      server.close(() => {
        left -= 1;
        if (left === 0) dieOfSignal();
      });
    }
  };
  for (const signal of stopSignals) process.on(signal, onStopSignal);
}
