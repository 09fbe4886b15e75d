// A cooperative app that leaks memory at a steady rate (LEAK_MB_PER_S,
// default 20), so a memory limit restarts it while it serves.
const http = require('http');

const port = Number(process.env.PORT || 3000);
const mbPerSecond = Number(process.env.LEAK_MB_PER_S || 20);
const leaked = [];
setInterval(() => {
  // Filled, so the pages are really resident.
  leaked.push(Buffer.alloc((mbPerSecond * 1024 * 1024) / 10, 1));
}, 100);

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`leaking ${process.pid} ${leaked.length}\n`);
});

server.listen(port, '127.0.0.1', () => {
  if (process.send) process.send('ready');
});

process.on('SIGINT', () => {
  server.close((err) => process.exit(err ? 1 : 0));
});
