// Loaded with `node --require` by bare-launch.js: the "bare node" ceiling has
// no supervisor, so this is all it gets. When a listening socket is handed
// over as fd 3 (LISTEN_FDS), the app's listen(port) takes that socket instead
// of binding its own.
const net = require('net');

const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (...args) {
  if (!process.env.LISTEN_FDS) return listen.apply(this, args);
  const callback = args.find((arg) => typeof arg === 'function');
  return listen.call(this, { fd: 3 }, callback);
};
