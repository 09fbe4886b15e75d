'use strict';
// nodeunits: closing an HTTP server drains it, loaded by the preload (its
// point 3): requests in flight finish, further requests on keep-alive
// connections are answered with `Connection: close`, idle connections are
// closed after a grace, never while a client may be sending on them.

const http = require('http');
const https = require('https');

// How long an idle keep-alive connection stays open once draining starts:
// a client that was about to send on it gets its answer with Connection: close.
const IDLE_GRACE_MS = 1000;
const kState = Symbol('nodeunits.server');
const kIdleSince = Symbol('nodeunits.idleSince');

function isHttp(server) {
  return server instanceof http.Server || server instanceof https.Server;
}

// Follows an HTTP server's connections, so that closing it drains them.
function track(server) {
  if (server[kState] || !isHttp(server)) return;
  const state = { draining: false, sockets: new Set() };
  server[kState] = state;
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

module.exports = { track };
