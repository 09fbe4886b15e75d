// A client, not an app: one request on a new connection (no keep-alive
// agent) every 5 ms to 127.0.0.1:PORT, for at most SECONDS or until SIGINT,
// then, once the requests in flight are answered or given up, one line per
// request on stdout: `SENT_MS LATENCY_MS ANSWER`. SENT_MS is the wall clock
// when it was sent (ms since the epoch), LATENCY_MS the time to the last byte
// of the answer, ANSWER the PID the app named as the last word of its body
// (the cooperative app answers `cooperative PID`), or `error:WHY` for a
// request that failed. Usage: node probe.js PORT SECONDS
const http = require('http');
const fs = require('fs');

const EVERY_MS = 5;
// As wrk's --timeout in the benchmark's loads.
const TIMEOUT_MS = 5000;

const [port, seconds] = process.argv.slice(2).map(Number);
const lines = [];
let inFlight = 0;

const ask = () => {
  const sentMs = Date.now();
  const start = process.hrtime.bigint();
  let done = false;
  inFlight++;
  const note = (answer) => {
    if (done) return;
    done = true;
    inFlight--;
    const latencyMs = Number(process.hrtime.bigint() - start) / 1e6;
    lines.push(`${sentMs} ${latencyMs.toFixed(3)} ${answer}`);
  };
  const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => {
      const pid = body.trim().split(/\s+/).pop();
      if (res.statusCode !== 200) note(`error:status-${res.statusCode}`);
      else note(/^\d+$/.test(pid) ? pid : 'error:body');
    });
    res.on('error', (err) => note(`error:${err.code || 'response'}`));
  });
  req.setTimeout(TIMEOUT_MS, () => {
    note('error:timeout');
    req.destroy();
  });
  req.on('error', (err) => note(`error:${err.code || 'request'}`));
};

const timer = setInterval(ask, EVERY_MS);

let finishing = false;
const finish = () => {
  if (finishing) return;
  finishing = true;
  clearInterval(timer);
  const print = () => {
    if (inFlight > 0) return setTimeout(print, 10);
    fs.writeFileSync(1, lines.length ? lines.join('\n') + '\n' : '');
    process.exit(0);
  };
  print();
};
process.on('SIGINT', finish);
setTimeout(finish, seconds * 1000);
