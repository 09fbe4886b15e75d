'use strict';
// The drain of src/helper/drain.cjs on a real HTTP server with raw client
// connections: run by tests/preload_parts.rs as `node drain.cjs DRAIN_CJS`.
// Once the server closes: a request in flight is answered, with
// `Connection: close`; an idle keep-alive connection stays open for the
// grace, and a request sent on it then is answered, with `Connection:
// close`; a connection that stays idle is closed after the grace; close()'s
// callback runs once every connection is gone. Connections get their turn
// one after another over half a second, not all at once.
const assert = require('assert');
const http = require('http');
const net = require('net');

const { track } = require(process.argv[2]);
const GRACE_MS = 1000;
const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A raw keep-alive client: each answer whole, and when the server closes it.
function connect(port) {
  const socket = net.connect(port, '127.0.0.1');
  const client = { socket, data: '', closedAt: null, answers: [] };
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    client.data += chunk;
    let end;
    while ((end = client.data.indexOf('\r\n\r\n')) !== -1) {
      const head = client.data.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (client.data.length < end + 4 + length) break;
      client.answers.push({ head: head.toLowerCase(), body: client.data.slice(end + 4, end + 4 + length) });
      client.data = client.data.slice(end + 4 + length);
    }
  });
  socket.on('close', () => (client.closedAt = Date.now()));
  return new Promise((resolve) => socket.on('connect', () => resolve(client)));
}

function ask(client, path) {
  client.socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`);
}

async function answered(client, count) {
  for (let i = 0; i < 300 && client.answers.length < count; i++) await tick(10);
  assert.strictEqual(client.answers.length, count, `${count} answers, got ${JSON.stringify(client.answers)}`);
  return client.answers[count - 1];
}

async function main() {
  const server = http.createServer((req, res) => {
    const answer = () => res.end(req.url);
    if (req.url === '/slow') setTimeout(answer, 700);
    else answer();
  });
  track(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  const idle = await connect(port);
  ask(idle, '/');
  assert.doesNotMatch((await answered(idle, 1)).head, /connection: close/);
  const silent = await connect(port);
  const busy = await connect(port);
  ask(busy, '/slow');
  await tick(50);

  const closing = Date.now();
  let closed = null;
  server.close(() => (closed = Date.now()));

  // Node's own close would have cut both idle connections at once.
  await tick(150);
  assert.strictEqual(idle.closedAt, null, 'an idle keep-alive connection stays open for the grace');
  assert.strictEqual(silent.closedAt, null, 'a connection with no request yet stays open for the grace');

  const slow = await answered(busy, 1);
  assert.strictEqual(slow.body, '/slow');
  assert.match(slow.head, /connection: close/);

  ask(idle, '/again');
  const again = await answered(idle, 2);
  assert.strictEqual(again.body, '/again');
  assert.match(again.head, /connection: close/);

  const gone = () => closed !== null && busy.closedAt && idle.closedAt && silent.closedAt;
  for (let i = 0; i < 300 && !gone(); i++) await tick(10);
  assert.ok(busy.closedAt && idle.closedAt, 'the answered connections are closed');
  assert.ok(silent.closedAt, 'the silent connection is closed');
  const silentAfter = silent.closedAt - closing;
  assert.ok(silentAfter >= GRACE_MS - 50 && silentAfter < GRACE_MS + 1000, `the silent one after the grace: ${silentAfter} ms`);
  assert.ok(closed !== null && closed - closing >= GRACE_MS - 50, "close()'s callback once every connection is gone");
}

// Clients that send their next request as soon as they have an answer, as
// a load generator does: the answers with `Connection: close` come spread
// over half a second.
async function spread() {
  const server = http.createServer((req, res) => setTimeout(() => res.end('ok'), 5));
  track(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const clients = await Promise.all(Array.from({ length: 8 }, () => connect(port)));
  const told = [];
  for (const client of clients) {
    const next = () => {
      const last = client.answers[client.answers.length - 1];
      if (last && /connection: close/.test(last.head)) return told.push(Date.now());
      ask(client, '/');
    };
    client.socket.on('data', () => setImmediate(next));
    next();
  }
  await tick(100);
  const closing = Date.now();
  let closed = null;
  server.close(() => (closed = Date.now()));
  for (let i = 0; i < 300 && closed === null; i++) await tick(10);
  assert.strictEqual(told.length, clients.length, 'every client was told to close');
  const after = told.map((at) => at - closing).sort((a, b) => a - b);
  assert.ok(after[0] < 100, `the first at once: ${after}`);
  assert.ok(after[after.length - 1] >= 300, `the last after 300 ms or more: ${after}`);
  assert.ok(after[after.length - 1] < 700, `the last within the spread: ${after}`);
  assert.ok(closed !== null && closed - closing < GRACE_MS, `closed before the grace: ${closed - closing} ms`);
}

main().then(spread).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
