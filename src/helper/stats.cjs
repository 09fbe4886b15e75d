'use strict';
// nodeunits: what a worker's process measures from inside, loaded by the
// preload in the process that runs the app when the helper names a stats
// file (NODEUNITS_STATS: `stats.N` in the app's runtime directory). No agent
// and no daemon: every PUBLISH_MS the process replaces the file whole with
// its figures, and `nodeunits metrics`, `describe` and `monit` read it.
//
// - heap: V8's used, total and limit (v8.getHeapStatistics);
// - the event loop's delay over the last window: p50, p95, p99 and max
//   (perf_hooks.monitorEventLoopDelay, sampled every LOOP_RESOLUTION_MS);
// - active handles: what keeps the loop alive other than timers (sockets,
//   servers, pipes, file requests: process.getActiveResourcesInfo);
// - HTTP: the requests its servers answered, by status class, with their
//   latency from the request's arrival to the app's end of its response: a
//   histogram since the start (Prometheus' buckets) and percentiles over the
//   last window. A request whose connection closed before the app ended its
//   response is not counted. Per request: a wrapper of the server's emit
//   and of the response's end(), two clock readings, no closure and no
//   listener.
// The file is mode 0644: the figures are no secret (the metrics endpoint's
// own user reads them), and a reader sees the old file or the new, never
// half of one. It stops when the process drains: a successor publishes.

const fs = require('fs');
const http = require('http');
const https = require('https');
const v8 = require('v8');
const { performance, monitorEventLoopDelay, createHistogram } = require('perf_hooks');

const PUBLISH_MS = 2000;
const LOOP_RESOLUTION_MS = 20;
// Upper bounds of the latency buckets, in seconds (Prometheus' defaults).
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const kStart = Symbol('nodeunits.requestStart');
const kTracked = Symbol('nodeunits.stats');

// The response's end: counted once, when the app ends it (res.end(), also
// at the end of a pipe), with its status. A response never ended (its
// connection closed first) is not counted.
let answering = null;
const originalEnd = http.ServerResponse.prototype.end;

function end() {
  const started = this[kStart];
  if (started > 0 && !this.writableEnded) {
    this[kStart] = 0;
    answering?.(this.statusCode, (performance.now() - started) / 1000);
  }
  return originalEnd.apply(this, arguments);
}

function start(file) {
  http.ServerResponse.prototype.end = end;
  const loop = typeof monitorEventLoopDelay === 'function' ? monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS }) : null;
  loop?.enable();
  const latency = typeof createHistogram === 'function' ? createHistogram() : null;
  const served = { requests: {}, seconds: 0, buckets: new Array(BUCKETS.length).fill(0), window: 0 };
  let last = performance.now();
  let stopped = false;
  const tmp = `${file}.${process.pid}.tmp`;

  function answered(statusCode, seconds) {
    const code = CLASSES[Math.floor(statusCode / 100) - 1] || 'other';
    served.requests[code] = (served.requests[code] || 0) + 1;
    served.seconds += seconds;
    served.window += 1;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i += 1;
    if (i < BUCKETS.length) served.buckets[i] += 1;
    latency?.record(Math.max(1, Math.round(seconds * 1e6)));
  }
  answering = answered;

  // The clock starts as the server hands the request to the app: a wrapper
  // of the server's emit, cheaper per request than a listener of its own.
  function trackHttp(server) {
    if (server[kTracked] || !(server instanceof http.Server || server instanceof https.Server)) return;
    server[kTracked] = true;
    const emit = server.emit;
    server.emit = function emitTimed(event, req, res) {
      if (event === 'request' && res) res[kStart] = performance.now();
      return emit.apply(this, arguments);
    };
  }

  function figures() {
    const now = performance.now();
    const heap = v8.getHeapStatistics();
    const out = {
      pid: process.pid,
      at: Date.now(),
      window_ms: Math.round(now - last),
      heap: { used: heap.used_heap_size, total: heap.total_heap_size, limit: heap.heap_size_limit },
      handles: activeHandles(),
      loop: null,
      http: {
        requests: { ...served.requests },
        seconds: served.seconds,
        buckets: cumulative(served.buckets),
        window: { requests: served.window, p50: null, p95: null, p99: null },
      },
    };
    last = now;
    if (loop && (loop.count === undefined || loop.count > 0)) {
      // The histogram holds the time between the sampling timer's turns:
      // the delay is what exceeds its interval.
      const delay = (ns) => Math.max(0, Math.round(ns / 1e3 - LOOP_RESOLUTION_MS * 1e3) / 1e3);
      out.loop = {
        p50: delay(loop.percentile(50)),
        p95: delay(loop.percentile(95)),
        p99: delay(loop.percentile(99)),
        max: delay(loop.max),
      };
    }
    loop?.reset();
    if (latency && served.window > 0) {
      const us = (p) => Math.round(latency.percentile(p)) / 1e3;
      Object.assign(out.http.window, { p50: us(50), p95: us(95), p99: us(99) });
    }
    latency?.reset();
    served.window = 0;
    return out;
  }

  function publish() {
    if (stopped) return;
    try {
      const fd = fs.openSync(tmp, 'w', 0o644);
      try {
        // Whatever the umask: the endpoint's user reads it.
        fs.fchmodSync(fd, 0o644);
        fs.writeSync(fd, JSON.stringify(figures()));
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch {
      // A runtime directory gone or full: nothing to publish into.
    }
  }

  const timer = setInterval(publish, PUBLISH_MS);
  timer.unref();
  return {
    trackHttp,
    stop() {
      stopped = true;
      answering = null;
      clearInterval(timer);
      loop?.disable();
    },
  };
}

// Each bucket counts the requests at or under its bound, as Prometheus' `le` buckets do.
function cumulative(counts) {
  let sum = 0;
  return counts.map((n) => (sum += n));
}

function activeHandles() {
  if (typeof process.getActiveResourcesInfo !== 'function') return null;
  let n = 0;
  for (const kind of process.getActiveResourcesInfo()) if (kind !== 'Timeout' && kind !== 'Immediate') n += 1;
  return n;
}

module.exports = { start, PUBLISH_MS };
