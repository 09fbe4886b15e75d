// A cooperative app, written as PM2's graceful-start and graceful-shutdown
// docs ask: tell the supervisor when it is ready (wait_ready), and on SIGINT
// stop accepting, finish what is in flight, then exit.
const http = require('http');

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  setTimeout(() => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`cooperative ${process.pid}\n`);
  }, 2);
});

server.listen(port, '127.0.0.1', () => {
  if (process.send) process.send('ready');
});

process.on('SIGINT', () => {
  server.close((err) => process.exit(err ? 1 : 0));
});
