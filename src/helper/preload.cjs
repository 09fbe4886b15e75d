'use strict';
// nodeunits preload. nodeunits-helper loads it with `node --require` when it
// runs Node itself, and through NODE_OPTIONS into every Node process of the
// tree when it runs a launcher (npm, npx, yarn, tsx...).
// 1. The app's listen() on a port or path the socket unit holds uses the
//    socket systemd passed down (an inherited fd) instead of binding it.
// 2. The helper hears when the app listens (readiness), and when a listen()
//    on a port the socket unit does not hold finds it taken (EADDRINUSE).
// 3. Closing an HTTP server drains it (drain.cjs): requests in flight finish, further
//    requests on keep-alive connections are answered with `Connection: close`,
//    idle connections are closed after a grace, never while a client may be
//    sending on them.
// 4. An app with no handler of its own for SIGINT or SIGTERM is drained that
//    way, then dies of the signal as it would have at once. So is an app
//    whose handlers leave its servers open.
// 5. Workers sharing a socket share its connections evenly (balance.cjs,
//    beside this file, when the helper names a balance file).
// 6. In cluster mode, a listen() on a port the socket unit does not hold
//    gets its socket from the helper, shared by the workers (shared_ports.cjs).
// 7. Under a launcher only the process that serves acts: the first to listen
//    on an address of the socket unit (with no socket unit, the first to
//    listen at all). It takes the channel to the helper, a plain inherited fd,
//    and gets `process.send` and 'shutdown' messages over it. Until then each
//    Node process only hands the inherited fds on to the children it spawns.
// 8. The process that runs the app measures its heap, its event loop's
//    delay, its handles and its HTTP requests (stats.cjs, beside this file,
//    when the helper names a stats file), for `nodeunits metrics`.
// 9. With unresponsive_timeout, the process that runs the app beats to the
//    helper every NODEUNITS_HEARTBEAT_MS while its event loop turns; the
//    helper kills an app whose beats stop (a loop stuck in a `while`, a
//    synchronous call that never returns).

const fs = require('fs');
const path = require('path');
const net = require('net');
const { isMainThread } = require('worker_threads');

const env = process.env;
// Under a launcher: the channel to the helper, when this process has it.
const channel = isMainThread ? inheritedFd(parseJson(env.NODEUNITS_CHANNEL)) : null;
const underLauncher = env.NODEUNITS_CHANNEL !== undefined;
const listenMap = mapOfThisProcess();
// How long the helper lets the app drain before it kills it.
const drainMs = Number(env.NODEUNITS_DRAIN_MS) || 1200;
// This process runs the app: Node run by the helper, or the one that serves.
let serving = false;
const heartbeatMs = Number(env.NODEUNITS_HEARTBEAT_MS) || 0;
const balanceSpec = parseJson(env.NODEUNITS_BALANCE);
const statsFile = isMainThread ? env.NODEUNITS_STATS : undefined;
let gate;
// The process's own figures (stats.cjs), once it runs the app.
let stats = null;

const kAcceptors = Symbol('nodeunits.acceptors');
const kWatched = Symbol('nodeunits.addressInUse');
const servers = new Set();
// Closing an HTTP server drains it (drain.cjs, beside this file).
const { track: trackHttp } = require(path.join(__dirname, 'drain.cjs'));

function track(server) {
  if (servers.has(server)) return;
  servers.add(server);
  server.once('close', () => servers.delete(server));
  trackHttp(server);
  stats?.trackHttp(server);
}

function startStats() {
  if (!statsFile || stats) return;
  try {
    stats = require(path.join(__dirname, 'stats.cjs')).start(statsFile);
  } catch {
    // Without the file (an older helper's directory), no figures.
    return;
  }
  for (const server of servers) stats.trackHttp(server);
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// An fd named by the helper, if this process has it: a launcher that did
// not hand it on leaves another file, or none, at that number.
function inheritedFd(entry) {
  if (!entry || !Number.isInteger(entry.fd)) return null;
  try {
    return fs.fstatSync(entry.fd).ino === entry.inode ? entry : null;
  } catch {
    return null;
  }
}

function mapOfThisProcess() {
  const entries = parseJson(env.NODEUNITS_LISTEN);
  if (!isMainThread || !Array.isArray(entries)) return null;
  const inherited = entries.filter((entry) => typeof entry.address === 'string' && inheritedFd(entry));
  // Under a launcher, an fd missing means they did not reach this process: it stays out.
  if (underLauncher && (!channel || inherited.length !== entries.length)) return null;
  return inherited;
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
  if (channel) {
    // Synchronous, so that a process about to die of an error has said so.
    try {
      fs.writeSync(channel.fd, `${JSON.stringify(message)}\n`);
    } catch {
      // The helper is gone, or not reading: there is no one to tell.
    }
  } else if (serving && !underLauncher && typeof process.send === 'function' && process.connected) {
    process.send(message, undefined, { swallowErrors: true }, () => {});
  }
}

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listen(...args) {
  track(this);
  const [options, callback] = normalize(args);
  const [fd, ...moreFds] = inheritedFds(options);
  if (underLauncher && listenMap && !serving && (fd !== undefined || listenMap.length === 0)) attach();
  if (fd === undefined) {
    watchAddressInUse(this);
    this.once('listening', () => tellHelper({ nodeunits: 'listening', address: describeAddress(this.address()) }));
    if (sharedPorts?.wanted(options)) return sharedPorts.listen(this, options, callback, () => originalListen.apply(this, args));
    return originalListen.apply(this, args);
  }
  this.once('listening', () => {
    share(this);
    for (const more of moreFds) acceptFrom(this, more);
    tellHelper({ nodeunits: 'listening', fd });
  });
  const fdOptions = { fd };
  return callback ? originalListen.call(this, fdOptions, callback) : originalListen.call(this, fdOptions);
};

// In cluster mode, ports only the app's code knows: their sockets come from
// the helper (shared_ports.cjs, beside this file).
const sharedPorts = sharedPortsOfThisProcess();

function sharedPortsOfThisProcess() {
  if (!isMainThread || underLauncher || env.NODEUNITS_SHARE_PORTS !== '1' || typeof process.send !== 'function') return null;
  try {
    const { sharer, wanted } = require(path.join(__dirname, 'shared_ports.cjs'));
    const listenOn = (server, handle, callback) => originalListen.call(server, handle, ...(callback ? [callback] : []));
    return { wanted, listen: sharer(listenOn) };
  } catch {
    // Without the file (an older helper's directory), the app binds its ports itself.
    return null;
  }
}

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
  acceptor.once('listening', () => theGate()?.add(acceptor._handle));
  originalListen.call(acceptor, { fd });
  (server[kAcceptors] ||= []).push(acceptor);
}

// The gate of this process, loaded on the first listen() on a shared socket.
function theGate() {
  if (gate === undefined) {
    gate = null;
    try {
      if (balanceSpec) gate = require(path.join(__dirname, 'balance.cjs')).gateOf(balanceSpec);
    } catch {
      // Without the file (an older helper's directory), no gate.
    }
  }
  return gate;
}

// A server on a shared socket: its connections are counted, its accepting gated.
function share(server) {
  const shared = theGate();
  if (!shared) return;
  shared.add(server._handle);
  server.on('connection', (socket) => shared.connected(socket));
}

const originalClose = net.Server.prototype.close;
net.Server.prototype.close = function close(...args) {
  for (const acceptor of this[kAcceptors] || []) {
    gate?.remove(acceptor._handle);
    if (acceptor.listening) originalClose.call(acceptor);
  }
  gate?.remove(this._handle);
  return originalClose.apply(this, args);
};

const stopSignals = ['SIGINT', 'SIGTERM'];

// The process runs the app: it drains on a stop signal.
function serve() {
  serving = true;
  let stopping = false;
  let watching = false;
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
    // A draining process no longer speaks for its worker: its successor does.
    stats?.stop();
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

// Under a launcher: this process serves. It takes the channel, and the
// variables leave its environment, so that its own children stay out.
function attach() {
  for (const name of ['NODEUNITS_LISTEN', 'NODEUNITS_DRAIN_MS', 'NODEUNITS_CHANNEL', 'NODEUNITS_BALANCE', 'NODEUNITS_STATS']) delete env[name];
  startStats();
  withoutPreload();
  // Read only: tellHelper writes. Not ended either: that would shut the
  // socket down for the launcher too.
  const incoming = new net.Socket({ fd: channel.fd, readable: true, writable: true });
  incoming.unref();
  incoming.on('error', () => {});
  incoming.setEncoding('utf8');
  let pending = '';
  incoming.on('data', (text) => {
    pending += text;
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
      const message = parseJson(pending.slice(0, end));
      pending = pending.slice(end + 1);
      if (message !== null) process.emit('message', message);
    }
  });
  tellHelper({ nodeunits: 'attached', pid: process.pid });
  startHeartbeat();
  const theirs = process.send;
  if (typeof theirs === 'function') {
    // The launcher's own IPC channel (tsx has one): 'ready' is the helper's too.
    process.send = function send(message, ...rest) {
      if (message === 'ready') tellHelper(message);
      return theirs.call(this, message, ...rest);
    };
  } else {
    process.send = function send(message, ...rest) {
      tellHelper(message);
      const callback = rest.find((arg) => typeof arg === 'function');
      if (callback) process.nextTick(callback, null);
      return true;
    };
    process.connected = true;
  }
  oneStopSignal();
  serve();
}

// A beat from the event loop, a timer that keeps no process alive.
function startHeartbeat() {
  if (heartbeatMs <= 0 || !isMainThread) return;
  const message = { nodeunits: 'beat' };
  setInterval(() => {
    if (channel) tellHelper(message);
    else if (typeof process.send === 'function' && process.connected) {
      process.send(message, undefined, { swallowErrors: true }, () => {});
    }
  }, heartbeatMs).unref();
}

// The helper signals every process of the tree, and a launcher may forward
// its own signal too: the app sees the first one only.
function oneStopSignal() {
  const emit = process.emit;
  let stopped = false;
  process.emit = function emitOnce(event, ...args) {
    if (stopSignals.includes(event)) {
      if (stopped) return false;
      stopped = true;
    }
    return emit.call(this, event, ...args);
  };
}

// The helper appended `--require "<this file>"` to NODE_OPTIONS.
function withoutPreload() {
  const match = /\s*--require "((?:[^"\\]|\\.)*)"$/.exec(env.NODE_OPTIONS || '');
  if (!match || match[1].replace(/\\(.)/g, '$1') !== __filename) return;
  const rest = env.NODE_OPTIONS.slice(0, match.index);
  if (rest) env.NODE_OPTIONS = rest;
  else delete env.NODE_OPTIONS;
}

// Node marks the fds it inherits close-on-exec, so a launcher would not
// pass them on: each child spawned with the helper's variables in its
// environment gets the sockets and the channel as extra stdio entries, at
// their own numbers when free, and the variables say where they landed.
// Children spawned with an environment of their own get nothing.
function handOn(options) {
  const pairs = options.envPairs;
  const at = Array.isArray(pairs) ? pairs.findIndex((pair) => pair.startsWith('NODEUNITS_CHANNEL=')) : -1;
  if (at === -1) return;
  const { stdio } = options;
  const entries = typeof stdio === 'string' ? [stdio, stdio, stdio] : Array.isArray(stdio) ? [...stdio] : [];
  while (entries.length < 3) entries.push(undefined);
  const moved = (entry) => {
    while (entries.length < entry.fd) entries.push('ignore');
    entries.push(entry.fd);
    return { ...entry, fd: entries.length - 1 };
  };
  const map = listenMap.map(moved);
  pairs[at] = `NODEUNITS_CHANNEL=${JSON.stringify(moved(channel))}`;
  const listenAt = pairs.findIndex((pair) => pair.startsWith('NODEUNITS_LISTEN='));
  if (listenAt !== -1) pairs[listenAt] = `NODEUNITS_LISTEN=${JSON.stringify(map)}`;
  options.stdio = entries;
}

if (!underLauncher) {
  // Only the helper's own child acts on them: not processes the app forks.
  delete env.NODEUNITS_LISTEN;
  delete env.NODEUNITS_DRAIN_MS;
  delete env.NODEUNITS_BALANCE;
  delete env.NODEUNITS_SHARE_PORTS;
  delete env.NODEUNITS_HEARTBEAT_MS;
  delete env.NODEUNITS_STATS;
  startStats();
  startHeartbeat();
  if (listenMap) serve();
} else if (listenMap) {
  // For an app with no socket unit, the helper waits a moment after the
  // last Node process starts before it takes the app as one that never listens.
  tellHelper({ nodeunits: 'started', pid: process.pid });
  const { ChildProcess } = require('child_process');
  const originalSpawn = ChildProcess.prototype.spawn;
  ChildProcess.prototype.spawn = function spawn(options) {
    if (!serving && options) handOn(options);
    return originalSpawn.call(this, options);
  };
}
