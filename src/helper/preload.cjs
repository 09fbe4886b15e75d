'use strict';
// nodeunits preload, loaded by nodeunits-helper with `node --require`.
// 1. The app's listen() on a port or path the socket unit holds uses the
//    socket systemd passed down (an inherited fd) instead of binding it.
// 2. The helper hears when the app listens (readiness), and when a listen()
//    on a port the socket unit does not hold finds it taken (EADDRINUSE).
// 3. Closing an HTTP server drains it: requests in flight finish, further
//    requests on keep-alive connections are answered with `Connection: close`,
//    idle connections are closed after a grace, never while a client may be
//    sending on them.
// 4. An app with no handler of its own for SIGINT or SIGTERM is drained that
//    way, then dies of the signal as it would have at once. So is an app
//    whose handlers leave its servers open.

const net = require('net');
const http = require('http');
const https = require('https');

const listenMap = parseListenMap(process.env.NODEUNITS_LISTEN);
// How long the helper lets the app drain before it kills it.
const drainMs = Number(process.env.NODEUNITS_DRAIN_MS) || 1200;
// Only the helper's own child acts on them: not processes the app forks.
delete process.env.NODEUNITS_LISTEN;
delete process.env.NODEUNITS_DRAIN_MS;

// How long an idle keep-alive connection stays open once draining starts:
// a client that was about to send on it gets its answer with Connection: close.
const IDLE_GRACE_MS = 1000;
const kState = Symbol('nodeunits.server');
const kIdleSince = Symbol('nodeunits.idleSince');
const kAcceptors = Symbol('nodeunits.acceptors');
const kWatched = Symbol('nodeunits.addressInUse');
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

function describeAddress(address) {
  if (address && typeof address === 'object') {
    return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  }
  return String(address);
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
  if (fd === undefined) {
    watchAddressInUse(this);
    this.once('listening', () => tellHelper({ nodeunits: 'listening', address: describeAddress(this.address()) }));
    return originalListen.apply(this, args);
  }
  this.once('listening', () => {
    for (const more of moreFds) acceptFrom(this, more);
    tellHelper({ nodeunits: 'listening', fd });
  });
  const fdOptions = { fd };
  return callback ? originalListen.call(this, fdOptions, callback) : originalListen.call(this, fdOptions);
};

// The error is told before the app sees it: with no handler, the app dies
// of it, and the helper then says which port and what to declare.
function watchAddressInUse(server) {
  if (server[kWatched]) return;
  server[kWatched] = true;
  const emit = server.emit;
  server.emit = function emitWatched(event, error, ...rest) {
    if (event === 'error' && error && error.code === 'EADDRINUSE' && typeof error.port === 'number') {
      tellHelper({ nodeunits: 'address-in-use', port: error.port, address: error.address });
    }
    return emit.call(this, event, error, ...rest);
  };
}

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
  // An https server speaks HTTP on the TLS socket, not the TCP one.
  const connectionEvent = server instanceof https.Server ? 'secureConnection' : 'connection';
  server.on(connectionEvent, (socket) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
    if (state.draining) closeOnceIdle(socket);
  });
}

// Nothing is added to a request's path until the server drains: Node's own
// `socket._httpMessage` is the response in flight on a connection, if any.
function inFlight(socket) {
  return socket._httpMessage || null;
}

function closeWhenAnswered(socket, res) {
  if (!res.headersSent) res.shouldKeepAlive = false;
  let done = false;
  const finished = () => {
    if (done) return;
    done = true;
    closeOnceIdle(socket);
  };
  res.once('finish', finished);
  res.once('close', finished);
}

function closeOnceIdle(socket) {
  const since = (socket[kIdleSince] = Date.now());
  setTimeout(() => {
    // No parser: upgraded (a WebSocket), the app's own now, as in Node's closeIdleConnections().
    const idle = !inFlight(socket) && socket[kIdleSince] === since;
    if (idle && !socket.destroyed && socket.parser) socket.destroy();
  }, IDLE_GRACE_MS).unref();
}

function drain(server) {
  const state = server[kState];
  if (state.draining) return;
  state.draining = true;
  // First, so the app's handler has not yet sent the headers.
  server.prependListener('request', (req, res) => closeWhenAnswered(req.socket, res));
  for (const socket of state.sockets) {
    const res = inFlight(socket);
    if (res) closeWhenAnswered(socket, res);
    else closeOnceIdle(socket);
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
  let watching = false;
  const stopSignals = ['SIGINT', 'SIGTERM'];
  const drainAndDie = (signal) => {
    stopping = true;
    const dieOfSignal = () => {
      for (const s of stopSignals) process.removeAllListeners(s);
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
  const onStopSignal = (signal) => {
    if (stopping) return;
    if (process.listenerCount(signal) === 1) return drainAndDie(signal);
    // The app has a handler: it drains. Unless the handler is a library's
    // that only watches (signal-exit and the like): then its servers are
    // still open halfway to kill_timeout, and the preload drains them.
    if (watching) return;
    watching = true;
    setTimeout(() => {
      if (!stopping && [...servers].some((server) => server.listening)) drainAndDie(signal);
    }, drainMs / 2).unref();
  };
  for (const signal of stopSignals) process.on(signal, onStopSignal);
}
