// A plain Node HTTP app, written as if for PM2: no signal handler, no
// readiness message, no knowledge of systemd. nodeunits-helper does the rest.
const http = require('http');

const version = process.env.APP_VERSION || 'v1';
const server = http.createServer((req, res) => {
  res.end(`hello from instance ${process.env.NODE_APP_INSTANCE} (${version}, pid ${process.pid})\n`);
});

server.listen(process.env.PORT || 3000, () => {
  console.log(`instance ${process.env.NODE_APP_INSTANCE} listening`);
});
