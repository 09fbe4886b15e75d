'use strict';
// The gate of src/helper/balance.cjs with fake listening handles and fake
// connections: run by tests/preload_parts.rs as `node gate.cjs BALANCE_CJS`.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { EventEmitter } = require('events');

const { gateOf } = require(process.argv[2]);
const RECORD = 12;
const monotonicMs = () => Number(process.hrtime.bigint() / 1000000n) >>> 0;
const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A record of another process: slot, pid, open connections, age in ms.
function writeRecord(file, slot, pid, open, age = 0) {
  const record = Buffer.alloc(RECORD);
  record.writeInt32LE(pid, 0);
  record.writeInt32LE(open, 4);
  record.writeUInt32LE((monotonicMs() - age) >>> 0, 8);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, record, 0, RECORD, slot * RECORD);
  fs.closeSync(fd);
}

function readRecord(file, slot) {
  const all = fs.readFileSync(file);
  return { pid: all.readInt32LE(slot * RECORD), open: all.readInt32LE(slot * RECORD + 4) };
}

function fakeHandle() {
  return {
    polling: true,
    readStart() {
      this.polling = true;
      return 0;
    },
    readStop() {
      this.polling = false;
      return 0;
    },
  };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-'));
  const file = path.join(dir, 'connections');
  fs.writeFileSync(file, '');
  const gate = gateOf({ file, slot: 0 });
  assert.ok(gate, 'a valid NODEUNITS_BALANCE gives a gate');
  assert.strictEqual(gateOf({ file: 'x', slot: -1 }), null);
  assert.strictEqual(gateOf({ file: 'x', slot: 1024 }), null);
  assert.strictEqual(gateOf(null), null);

  const handle = fakeHandle();
  gate.add(handle);
  assert.deepStrictEqual(readRecord(file, 0), { pid: process.pid, open: 0 }, 'it publishes itself');

  // Another live process with no connection: two here is one too many.
  writeRecord(file, 2, 1, 0);
  const sockets = [new EventEmitter(), new EventEmitter()];
  gate.connected(sockets[0]);
  await tick(1);
  assert.ok(handle.polling, 'one over the least loaded still accepts');
  gate.connected(sockets[1]);
  await tick(1);
  assert.ok(!handle.polling, 'two over the least loaded stops accepting');
  assert.strictEqual(readRecord(file, 0).open, 2);

  // The other process catches up: this one accepts again.
  writeRecord(file, 2, 1, 1);
  await tick(10);
  assert.ok(handle.polling, 'accepting again once the other holds one');

  // A record not refreshed for over 500 ms does not count.
  writeRecord(file, 2, 1, 0, 600);
  gate.connected(new EventEmitter());
  await tick(5);
  assert.ok(handle.polling, 'a stale record holds no one up');

  // A fresh record of a process that is gone (killed, no chance to give
  // its record up) does not count either.
  const { spawnSync } = require('child_process');
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
  writeRecord(file, 2, deadPid, 0);
  const more = [new EventEmitter(), new EventEmitter()];
  gate.connected(more[0]);
  await tick(5);
  assert.ok(handle.polling, 'a fresh record of a dead process holds no one up');
  // Nor does one killed and not yet reaped: a zombie takes signals still.
  const zombie = await zombieProcess();
  writeRecord(file, 2, zombie.pid, 0);
  const third = new EventEmitter();
  gate.connected(third);
  await tick(5);
  assert.ok(handle.polling, 'a fresh record of a zombie holds no one up');
  zombie.end();
  third.emit('close');
  writeRecord(file, 2, 1, 0);
  gate.connected(more[1]);
  await tick(5);
  assert.ok(!handle.polling, 'a live process with a fresh record still does');
  for (const socket of more) socket.emit('close');
  await tick(1);

  // A connection closing counts down.
  sockets[0].emit('close');
  await tick(1);
  assert.strictEqual(readRecord(file, 0).open, 2);

  // Its server closing: the process leaves, and accepts as without a gate.
  writeRecord(file, 2, 1, 0);
  gate.connected(new EventEmitter());
  await tick(1);
  assert.ok(!handle.polling);
  gate.remove(handle);
  assert.ok(handle.polling, 'a closed server is left accepting');
  assert.strictEqual(readRecord(file, 0).pid, 0, 'its record is given up');

  // Any error turns the gate off for good: the process accepts freely.
  const broken = gateOf({ file: path.join(dir, 'missing', 'connections'), slot: 1 });
  const other = fakeHandle();
  broken.add(other);
  broken.connected(new EventEmitter());
  broken.connected(new EventEmitter());
  await tick(5);
  assert.ok(other.polling, 'a gate that cannot open its file never stops accepting');

  await restsOverItsShare(dir);
  await pausedProcessStaysUp(dir);
  fs.rmSync(dir, { recursive: true });
  console.log('gate ok');
}

// Under connections of one request each, a process that accepts more in
// a beat than the mean of the last beat (theirs and its own, plus 8 % and
// 4) rests a few milliseconds, when the processes outnumber the CPUs.
async function restsOverItsShare(dir) {
  const file = path.join(dir, 'rate-connections');
  fs.writeFileSync(file, '');
  const gate = gateOf({ file, slot: 0 });
  const handle = fakeHandle();
  gate.add(handle);
  const oneRequest = (count) => {
    for (let i = 0; i < count; i++) {
      const socket = new EventEmitter();
      gate.connected(socket);
      socket.emit('close');
    }
  };
  // One other live process per CPU, each 2 accepted in its last beat.
  const others = os.availableParallelism();
  const accepts = Buffer.alloc(8);
  const acceptsFile = `${file}-accepted`;
  fs.writeFileSync(acceptsFile, '');
  const fd = fs.openSync(acceptsFile, 'r+');
  for (let slot = 1; slot <= others; slot++) {
    writeRecord(file, slot, 1, 0);
    accepts.writeInt32LE(2, 0);
    accepts.writeUInt32LE(monotonicMs(), 4);
    fs.writeSync(fd, accepts, 0, 8, slot * 8);
  }
  fs.closeSync(fd);
  // This one's first beat: 20 accepted, all closed, so short-lived.
  oneRequest(20);
  await tick(110);
  assert.strictEqual(fs.readFileSync(acceptsFile).readInt32LE(0), 20, 'it publishes its accepts');
  // Every decision reads the records' file whole: the accepts kept in it
  // made it 12 KB and cost the reloads' latency.
  assert.strictEqual(fs.statSync(file).size, RECORD * (others + 1), 'the records file holds only the slots in use');
  const cap = Math.ceil(((20 + 2 * others) / (others + 1)) * 1.08) + 4;
  oneRequest(cap);
  assert.ok(handle.polling, 'within its share it accepts');
  oneRequest(1);
  assert.ok(!handle.polling, 'over its share it rests');
  await tick(20);
  assert.ok(handle.polling, 'and accepts again a few milliseconds later');
  gate.remove(handle);
}

// A zombie: a shell's child that has ended, which the shell, replaced by
// a sleep, never waits for. Its pid, and how to end its parent.
async function zombieProcess() {
  const { spawn } = require('child_process');
  const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise((resolve) => parent.stdout.once('data', (data) => resolve(Number(data))));
  const state = () => fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1][0];
  while (state() !== 'Z') await tick(1);
  return { pid, end: () => parent.kill() };
}

// A real listening handle (a unix socket passed as fd 3, as systemd passes
// the app's) in a process that has nothing else to wait for: paused, it
// must stay up as a process that listens does, not end for want of work.
async function pausedProcessStaysUp(dir) {
  const file = path.join(dir, 'alive-connections');
  fs.writeFileSync(file, '');
  // The other process, live all along.
  writeRecord(file, 2, 1, 0);
  const beat = setInterval(() => writeRecord(file, 2, 1, 0), 100);
  const listener = require('net').createServer();
  await new Promise((resolve) => listener.listen(path.join(dir, 'alive.sock'), resolve));
  const child = `
    const { EventEmitter } = require('events');
    const gate = require(${JSON.stringify(process.argv[2])}).gateOf(${JSON.stringify({ file, slot: 0 })});
    const server = require('net').createServer();
    server.listen({ fd: 3 }, () => {
      gate.add(server._handle);
      gate.connected(new EventEmitter());
      gate.connected(new EventEmitter());
      setImmediate(() => setImmediate(() => console.log(gate.paused ? 'paused' : 'accepting')));
    });`;
  const { spawn } = require('child_process');
  const proc = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'pipe', 'inherit', listener._handle.fd] });
  let said = '';
  proc.stdout.on('data', (text) => (said += text));
  let ended = null;
  proc.on('exit', (code) => (ended = code));
  try {
    // Node starts in well under a second, unless the machine is loaded.
    for (let waited = 0; !said && ended === null && waited < 10000; waited += 20) await tick(20);
    assert.strictEqual(said.trim(), 'paused', 'the child paused');
    await tick(400);
    assert.strictEqual(ended, null, 'a paused process stays up');
  } finally {
    clearInterval(beat);
    proc.kill();
    listener.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
