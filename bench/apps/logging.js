// An app that logs, for the logging measures (BENCHMARKS.md, "Logs").
// BURST_LINES=N: as soon as it listens, the worker prints N numbered lines of
// about 95 bytes on stdout, 500 to a write, spread evenly over BURST_SECONDS
// (an app stuck in an error loop, a verbose deploy; 0: as fast as it can). LOG_EACH_REQUEST=1: one line per request
// served. Every line carries RUN_TAG and the worker's PID, so that lines of
// one start are told from earlier starts' and from each other.
const http = require('http');

const port = Number(process.env.PORT || 3000);
const burstLines = Number(process.env.BURST_LINES || 0);
const burstMs = Number(process.env.BURST_SECONDS || 0) * 1000;
const logEachRequest = process.env.LOG_EACH_REQUEST === '1';
const tag = process.env.RUN_TAG || 'untagged';
const worker = String(process.pid);
const padding = 'x'.repeat(56);

function burst() {
  const started = Date.now();
  let n = 0;
  (function chunk() {
    const end = Math.min(n + 500, burstLines);
    let text = '';
    for (; n < end; n++) {
      text += `burst ${tag} ${worker} ${n} ${padding}\n`;
    }
    process.stdout.write(text);
    if (n >= burstLines) return;
    // On schedule: the next chunk is due when its share of the time is.
    const due = started + (burstMs * n) / burstLines;
    setTimeout(chunk, Math.max(0, due - Date.now()));
  })();
}

http
  .createServer((req, res) => {
    if (logEachRequest) console.log(`request ${tag} ${worker} ${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'x-worker': worker });
    res.end('hello\n');
  })
  .listen(port, '127.0.0.1', () => {
    if (burstLines > 0) burst();
  });
