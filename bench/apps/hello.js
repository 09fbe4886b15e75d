// hello-world: the smallest HTTP app, for throughput. Each response names
// its worker (`x-worker: PID`), so that a load can count how the requests were
// shared (bench/wrk/worker-counts.lua); a few bytes, the same everywhere.
const http = require('http');

const worker = String(process.pid);

const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'x-worker': worker });
    res.end('hello\n');
  })
  .listen(port, '127.0.0.1');
