'use strict';
// nodeunits: closing an HTTP server drains it, loaded by the preload (its
// point 3): requests in flight finish, further requests on keep-alive
// connections are answered with `Connection: close`, idle connections are
// closed after a grace, never while a client may be sending on them.
//
// Nothing is added to a connection or a request until the server drains.
// The connections open then are the ones Node itself keeps for
// closeIdleConnections(): its list of the server's HTTP parsers.

const http = require('http');
const https = require('https');

// How long an idle keep-alive connection stays open once draining starts:
// a client that was about to send on it gets its answer with Connection: close.
const IDLE_GRACE_MS = 1000;
const kTracked = Symbol('nodeunits.drains');
const kDraining = Symbol('nodeunits.draining');
const kIdleSince = Symbol('nodeunits.idleSince');
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

function closeOnceIdle(socket) {
  const since = (socket[kIdleSince] = Date.now());
  setTimeout(() => {
    // No parser: upgraded (a WebSocket), the app's own now, as in Node's closeIdleConnections().
    const idle = !inFlight(socket) && socket[kIdleSince] === since;
    if (idle && !socket.destroyed && socket.parser) socket.destroy();
  }, IDLE_GRACE_MS).unref();
}

// False when this Node lists no connections: the caller closes as Node would.
function drain(server) {
  if (server[kDraining]) return true;
  const sockets = connectionsOf(server);
  if (sockets === null) return false;
  server[kDraining] = true;
  // First, so the app's handler has not yet sent the headers.
  server.prependListener('request', (req, res) => closeWhenAnswered(req.socket, res));
  // An https server speaks HTTP on the TLS socket, not the TCP one.
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', closeOnceIdle);
  for (const socket of sockets) {
    const res = inFlight(socket);
    if (res) closeWhenAnswered(socket, res);
    else closeOnceIdle(socket);
  }
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
