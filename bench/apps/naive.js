// A naive app, as most are written: no signal handler, no ready message.
// A little work per request, so a request is in flight when a reload comes.
const http = require('http');

const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`naive ${process.pid}\n`);
    }, 2);
  })
  .listen(port, '127.0.0.1');
