'use strict';
// nodeunits: ports only the app's code knows, in cluster mode, loaded by the
// preload when the helper runs with --share-ports (NODEUNITS_SHARE_PORTS).
//
// PM2's cluster primary shares every port its workers listen on. Here a
// listen() on a TCP port the socket unit does not hold asks the helper for
// the socket over Node's IPC channel; the helper binds the port once, with
// SO_REUSEPORT, and hands it over as a cluster primary hands a handle to
// its workers. Each worker's helper binds its own socket of the port, so
// the workers share it, and keeps it while a successor replaces the app.
// The answer is an internal message of Node's IPC (cmd NODE_...), which the
// app's own process.on('message') never sees. Without an answer within
// ANSWER_MS (a helper that does not know the request), the app binds the
// port itself, as it would without nodeunits.

const dns = require('dns');
const net = require('net');
const util = require('util');

const ANSWER = 'NODE_NODEUNITS_SOCKET';
const ANSWER_MS = 5000;

// The address error of a failed bind, worded as Node's own listen() words it.
function listenError(errno, address, port) {
  const [code, text] = util.getSystemErrorMap().get(-errno) || ['EUNKNOWN', 'unknown error'];
  const where = address === null ? `:::${port}` : `${address}:${port}`;
  const error = new Error(`listen ${code}: ${text} ${where}`);
  Object.assign(error, { code, errno: -errno, syscall: 'listen', address: address ?? '::', port });
  return error;
}

// A listen() this module takes: a TCP port, not 0, not `exclusive` (which
// in Node's cluster means "bind it yourself").
function wanted(options) {
  if (!options || options.fd !== undefined || options.handle !== undefined) return false;
  if (typeof options.path === 'string' || options.exclusive) return false;
  const port = Number(options.port);
  return Number.isInteger(port) && port > 0 && port < 65536;
}

// `listen(server, handle, callback)` listens on a socket; `bindItself()`
// runs the app's own listen() unchanged.
function sharer(listen) {
  const pending = new Map();
  let next = 0;
  process.on('internalMessage', (message, handle) => {
    if (!message || message.cmd !== ANSWER) return;
    const request = pending.get(message.id);
    if (!request) {
      if (handle) handle.close();
      return;
    }
    pending.delete(message.id);
    clearTimeout(request.timer);
    if (pending.size === 0) process.channel?.unref?.();
    request.answered(message, handle);
  });

  function ask(server, options, callback, bindItself, host) {
    const id = ++next;
    const port = Number(options.port);
    const request = {
      timer: setTimeout(() => {
        pending.delete(id);
        if (pending.size === 0) process.channel?.unref?.();
        bindItself();
      }, ANSWER_MS),
      answered(message, handle) {
        if (handle) return listen(server, handle, callback);
        const error = listenError(Number(message.errno) || 0, host, port);
        server.emit('error', error);
      },
    };
    pending.set(id, request);
    process.channel?.ref?.();
    process.send({ nodeunits: 'bind', id, port, host, ipv6Only: Boolean(options.ipv6Only) });
  }

  return function listenShared(server, options, callback, bindItself) {
    const host = options.host === undefined || options.host === null || options.host === '' ? null : String(options.host);
    if (host === null || net.isIP(host)) {
      ask(server, options, callback, bindItself, host);
    } else {
      // A name: resolved as Node's listen() resolves it.
      dns.lookup(host, (error, address) => {
        if (error) server.emit('error', error);
        else ask(server, options, callback, bindItself, address);
      });
    }
    return server;
  };
}

module.exports = { sharer, wanted };
