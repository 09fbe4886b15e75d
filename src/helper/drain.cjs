'use strict';
// nodeunits: closing an HTTP server drains it, loaded by the preload (its
// point 3): requests in flight finish, further requests on keep-alive
// connections are answered with `Connection: close` (each connection's
// turn comes within half a second, one after another), idle connections
// are closed after a grace, never while a client may be sending on them.
//
// Nothing is added to a connection or a request until the server drains.
// The connections open then are the ones Node itself keeps for
// closeIdleConnections(): its list of the server's HTTP parsers.

const http = require('http');
const https = require('https');

// How long an idle keep-alive connection stays open once draining starts:
// a client that was about to send on it gets its answer with Connection: close.
const IDLE_GRACE_MS = 1000;
// The open connections get their turn to close one after another over
// this long, not all at once: their clients reconnect to the other workers
// a few at a time, and a successor that has just started is not handed the
// old process's whole share of clients in one go (measured: a successor's
// first answers were as fast as PM2's only with it, BENCHMARKS.md). A
// connection idle at the drain's start is no different: its client may be
// about to send its next request.
const SPREAD_MS = 500;
const kTracked = Symbol('nodeunits.drains');
const kDraining = Symbol('nodeunits.draining');
const kIdleSince = Symbol('nodeunits.idleSince');
const kDue = Symbol('nodeunits.due');
// Node's own key of a server's connections (Node 18.2 and later).
const CONNECTIONS = 'http.server.connections';

function isHttp(server) {
  return server instanceof http.Server || server instanceof https.Server;
}

// An HTTP server that listens through the preload drains when it closes.
function track(server) {
  if (isHttp(server)) server[kTracked] = true;
}

// The server's open HTTP connections, as Node lists them; null when this
// Node keeps no such list.
function connectionsOf(server) {
  const key = Object.getOwnPropertySymbols(server).find((symbol) => symbol.description === CONNECTIONS);
  const list = key === undefined ? null : server[key];
  if (!list || typeof list.all !== 'function') return null;
  return list.all().map((parser) => parser.socket).filter(Boolean);
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

function closeOnceIdle(socket, grace = IDLE_GRACE_MS) {
  const since = (socket[kIdleSince] = Date.now());
  setTimeout(() => {
    // No parser: upgraded (a WebSocket), the app's own now, as in Node's closeIdleConnections().
    const idle = !inFlight(socket) && socket[kIdleSince] === since;
    if (idle && !socket.destroyed && socket.parser) socket.destroy();
  }, grace).unref();
}

// The connection's turn to close: after the answer in flight, if any; an
// idle one at the end of the grace counted from the drain's start, so that
// waiting for its turn does not lengthen its grace.
function due(socket, start) {
  if (socket[kDue] || socket.destroyed) return;
  socket[kDue] = true;
  const res = inFlight(socket);
  if (res) closeWhenAnswered(socket, res);
  else closeOnceIdle(socket, Math.max(0, start + IDLE_GRACE_MS - Date.now()));
}

// False when this Node lists no connections: the caller closes as Node would.
function drain(server) {
  if (server[kDraining]) return true;
  const sockets = connectionsOf(server);
  if (sockets === null) return false;
  server[kDraining] = true;
  // First, so the app's handler has not yet sent the headers.
  server.prependListener('request', (req, res) => {
    if (req.socket[kDue]) closeWhenAnswered(req.socket, res);
  });
  // An https server speaks HTTP on the TLS socket, not the TCP one.
  const start = Date.now();
  const event = server instanceof https.Server ? 'secureConnection' : 'connection';
  server.on(event, (socket) => due(socket, start));
  sockets.forEach((socket, i) => {
    const delay = (SPREAD_MS * i) / sockets.length;
    if (delay === 0) due(socket, start);
    else setTimeout(() => due(socket, start), delay).unref();
  });
  return true;
}

// Node's server.close() calls closeIdleConnections(), which cuts idle
// keep-alive connections while clients may be sending on them.
for (const Server of [http.Server, https.Server]) {
  const original = Server.prototype.closeIdleConnections;
  Server.prototype.closeIdleConnections = function closeIdleConnections() {
    if (!this[kTracked] || !drain(this)) return original.call(this);
  };
}

module.exports = { track };
