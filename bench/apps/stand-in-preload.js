// Loaded with `node --require` when a socket is handed over as fd 3
// (LISTEN_FDS): the app's listen(port) takes that socket instead of binding.
const net = require('net');

if (process.env.LISTEN_FDS) {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    const callback = args.find((arg) => typeof arg === 'function');
    return listen.call(this, { fd: 3 }, callback);
  };
}
