'use strict';
// nodeunits: the even share of a socket's connections among the workers
// that accept from it, loaded by the preload when the helper names a
// balance file (NODEUNITS_BALANCE: the file in the app's runtime directory,
// and this process's record in it).
//
// Every worker accepts from the one socket systemd holds; the kernel wakes
// them all and the first to run takes the connection. A burst of long-lived
// connections (a keep-alive pool opening) then lands mostly on the workers
// that happen to be on a CPU. So each process publishes how many
// connections it has open, and stops accepting while it has more than one
// over the least loaded live process: the connections wait in the socket's
// queue for the others, never refused. Under short-lived connections
// (one request each), publishing and deciding on each would cost them more
// than it spreads them: the process then publishes its count on each beat, with
// how many it accepted in that beat, and rests a few milliseconds when it
// accepts more than the mean of the last beat. A process whose record has not been
// refreshed for STALE_MS (gone, or its event loop blocked) does not count;
// nor does one of a process killed outright, which had no chance to give its
// record up: before a process pauses for another, it asks the kernel that
// the other still lives (at most once a beat each).
// Any error turns the gate off: the process accepts as it would without it.

const fs = require('fs');
const os = require('os');

// One record per process: pid, open connections, last refresh (ms, monotonic).
const RECORD = 12;
const MAX_RECORDS = 1024;
const BEAT_MS = 100;
const STALE_MS = 500;
// While paused, how often it looks again at the others' counts.
const RECHECK_MS = 2;
const SLACK = 1;
// Connections so short-lived that more than this many were accepted per
// open one in a beat (one request each, as without keep-alive) need no
// gate: they spread as they come, and counting each turn would cost them.
const SHORT_LIVED = 4;
// Under such connections, each process publishes how many it accepted in
// the last beat, in a file of its own beside the records (ACCEPTS_FILE: the
// records' file stays as short as the slots in use, which every decision
// reads): accepts, refresh time (ms, monotonic). A process that
// accepts more in a beat than the mean of the last beat, give or take
// RATE_SLACK and RATE_EXTRA, rests RATE_REST_MS: the connections wait in
// the queue for the others, and no process rests longer than that at once
// should all be over (a load rising).
const ACCEPTS_FILE = '-accepted';
const ACCEPTS = 8;
const RATE_SLACK = 1.08;
const RATE_EXTRA = 4;
const RATE_REST_MS = 5;
// Only with more processes than CPUs: with as many or fewer, each keeps a
// CPU busy, and the CPU a resting one leaves idle no other can take.
const CPUS = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

// Whether pid is a zombie: ended, not yet waited for. Unreadable (no
// /proc), it is taken for what kill(2) said: alive.
function isZombie(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The state follows the command's name, which may hold ") ".
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false;
  }
}

function monotonicMs() {
  return Number(process.hrtime.bigint() / 1000000n) >>> 0;
}

class Gate {
  constructor(file, slot) {
    this.file = file;
    this.slot = slot;
    this.fd = null;
    this.acceptsFd = null;
    this.handles = new Set();
    this.failed = false;
    this.open = 0;
    this.accepted = 0;
    this.shortLived = false;
    this.paused = false;
    this.pending = null;
    this.recheck = null;
    this.beat = null;
    // The least loaded other record: its pid and its refresh time.
    this.leastPid = 0;
    this.leastStamp = 0;
    // Processes found dead while their records were fresh: pid -> stamp.
    this.dead = new Map();
    // When each process that held this one up was last found alive.
    this.alive = new Map();
    this.record = Buffer.alloc(RECORD);
    this.records = Buffer.alloc(RECORD * MAX_RECORDS);
    this.acceptsRecord = Buffer.alloc(ACCEPTS);
    this.acceptsRecords = Buffer.alloc(ACCEPTS * MAX_RECORDS);
    // Accepts allowed in this beat before resting; a timer while resting.
    this.cap = Infinity;
    this.resting = null;
    this.closed = () => {
      this.open -= 1;
      this.changed();
    };
  }

  // A listening handle on a shared socket, once its server listens.
  add(handle) {
    if (this.failed || !handle || typeof handle.readStart !== 'function' || typeof handle.readStop !== 'function') return;
    this.guard(() => {
      if (this.fd === null) this.fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
      // libuv stops and resumes a listening stream's polling by its read
      // state: started here, so that a stop takes effect.
      if (handle.readStart() !== 0) return;
      this.handles.add(handle);
      if (this.paused) handle.readStop();
      if (!this.beat) {
        this.beat = setInterval(() => this.guard(() => this.onBeat()), BEAT_MS);
        this.beat.unref();
      }
      this.publish();
    });
  }

  // The server closes: its handles leave; with none left, so does the process.
  remove(handle) {
    if (!this.handles.delete(handle)) return;
    if (this.paused) this.guard(() => handle.readStart());
    if (this.handles.size === 0) this.stop();
  }

  onBeat() {
    const accepted = this.accepted;
    this.shortLived = accepted > SHORT_LIVED * Math.max(this.open, 1);
    this.accepted = 0;
    if (this.shortLived && this.paused) this.setPaused(false);
    this.publish();
    this.publishAccepts(accepted);
    this.cap = this.shortLived ? this.acceptCap() : Infinity;
  }

  // One listener, made once, for every connection's close: no closure and
  // no once() wrapper per connection (a socket closes once).
  connected(socket) {
    this.open += 1;
    this.accepted += 1;
    socket.on('close', this.closed);
    if (this.accepted > this.cap && !this.paused) this.guard(() => this.rest());
    this.changed();
  }

  // Over its share of this beat's short-lived connections: not accepting
  // for RATE_REST_MS, then as before (the gate decides again if the
  // connections are no longer short-lived).
  rest() {
    this.setPaused(true);
    this.resting = setTimeout(() => {
      this.resting = null;
      if (this.handles.size === 0) return;
      this.guard(() => this.setPaused(false));
      this.changed();
    }, RATE_REST_MS);
  }

  publishAccepts(accepted) {
    this.acceptsRecord.writeInt32LE(accepted, 0);
    this.acceptsRecord.writeUInt32LE(monotonicMs(), 4);
    if (this.acceptsFd === null) {
      this.acceptsFd = fs.openSync(this.file + ACCEPTS_FILE, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    }
    fs.writeSync(this.acceptsFd, this.acceptsRecord, 0, ACCEPTS, this.slot * ACCEPTS);
  }

  // The accepts allowed in a beat: over the mean of the last beat's, of
  // every process with a fresh record and fresh accepts, this one's among
  // them; no bound while they are no more than the CPUs.
  acceptCap() {
    const length = fs.readSync(this.fd, this.records, 0, this.records.length, 0);
    const acceptsLength = fs.readSync(this.acceptsFd, this.acceptsRecords, 0, this.acceptsRecords.length, 0);
    const now = monotonicMs();
    let sum = 0;
    let count = 0;
    for (let slot = 0; (slot + 1) * RECORD <= length && (slot + 1) * ACCEPTS <= acceptsLength; slot++) {
      const at = slot * RECORD;
      if (this.records.readInt32LE(at) <= 0) continue;
      if (((now - this.records.readUInt32LE(at + 8)) >>> 0) > STALE_MS) continue;
      if (((now - this.acceptsRecords.readUInt32LE(slot * ACCEPTS + 4)) >>> 0) > STALE_MS) continue;
      sum += this.acceptsRecords.readInt32LE(slot * ACCEPTS);
      count += 1;
    }
    if (count <= CPUS) return Infinity;
    return Math.ceil((sum / count) * RATE_SLACK) + RATE_EXTRA;
  }

  // libuv accepts one connection per turn of the event loop: counting and
  // deciding once per turn, before it polls again, is as exact as on every
  // event, and costs one write and one read per turn under many short
  // connections.
  changed() {
    if (this.handles.size === 0 || this.pending || this.shortLived) return;
    this.pending = setImmediate(() => {
      this.pending = null;
      if (this.handles.size === 0) return;
      this.guard(() => {
        this.publish();
        this.decide();
      });
    });
  }

  decide() {
    let least = this.leastOfOthers();
    while (this.open > least + SLACK && this.leastIsDead()) least = this.leastOfOthers();
    const ahead = this.open > least + SLACK;
    if (ahead !== this.paused) this.setPaused(ahead);
    // Paused, the listening handle no longer keeps the process alive: the
    // recheck does instead, as a process that listens would stay up.
    if (this.paused && !this.recheck) {
      this.recheck = setTimeout(() => {
        this.recheck = null;
        if (this.handles.size > 0) this.guard(() => this.decide());
      }, RECHECK_MS);
    }
  }

  leastOfOthers() {
    const length = fs.readSync(this.fd, this.records, 0, this.records.length, 0);
    const now = monotonicMs();
    let least = Infinity;
    for (let at = 0; at + RECORD <= length; at += RECORD) {
      if (at === this.slot * RECORD) continue;
      const pid = this.records.readInt32LE(at);
      if (pid <= 0 || pid === process.pid) continue;
      const stamp = this.records.readUInt32LE(at + 8);
      if (((now - stamp) >>> 0) > STALE_MS) continue;
      if (this.dead.has(pid)) {
        if (this.dead.get(pid) === stamp) continue;
        // Refreshed since: the pid is another process's now.
        this.dead.delete(pid);
      }
      const open = this.records.readInt32LE(at + 4);
      if (open < least) {
        least = open;
        this.leastPid = pid;
        this.leastStamp = stamp;
      }
    }
    return least;
  }

  // Whether the process of the least loaded record is gone; a process of
  // another user (EPERM) lives. A process killed outright stays a zombie
  // until its reaper waits for it, and a zombie still takes signals: it is
  // gone all the same, or this one would pause a beat for it.
  leastIsDead() {
    const pid = this.leastPid;
    const now = monotonicMs();
    const seen = this.alive.get(pid);
    if (seen !== undefined && ((now - seen) >>> 0) < BEAT_MS) return false;
    let gone = false;
    try {
      process.kill(pid, 0);
      gone = isZombie(pid);
    } catch (error) {
      gone = error.code === 'ESRCH';
    }
    if (gone) {
      this.alive.delete(pid);
      this.dead.set(pid, this.leastStamp);
      return true;
    }
    if (this.alive.size >= MAX_RECORDS) this.alive.clear();
    this.alive.set(pid, now);
    return false;
  }

  setPaused(paused) {
    this.paused = paused;
    for (const handle of this.handles) {
      if (paused) handle.readStop();
      else handle.readStart();
    }
  }

  publish(pid = process.pid) {
    this.record.writeInt32LE(pid, 0);
    this.record.writeInt32LE(this.open, 4);
    this.record.writeUInt32LE(monotonicMs(), 8);
    fs.writeSync(this.fd, this.record, 0, RECORD, this.slot * RECORD);
  }

  // Accepting as without the gate, and out of the others' counts.
  stop() {
    if (this.paused) this.setPaused(false);
    clearInterval(this.beat);
    clearTimeout(this.recheck);
    clearImmediate(this.pending);
    clearTimeout(this.resting);
    this.resting = null;
    this.beat = null;
    this.recheck = null;
    this.pending = null;
    this.handles.clear();
    if (this.fd === null) return;
    try {
      this.publish(0);
      fs.closeSync(this.fd);
      if (this.acceptsFd !== null) fs.closeSync(this.acceptsFd);
    } catch {
      // Nothing to undo: the others stop counting a record not refreshed.
    }
    this.fd = null;
    this.acceptsFd = null;
  }

  guard(action) {
    try {
      action();
    } catch {
      this.stop();
      this.failed = true;
    }
  }
}

// The gate NODEUNITS_BALANCE names ({ file, slot }, parsed), or null.
function gateOf(spec) {
  if (!spec || typeof spec.file !== 'string' || !Number.isInteger(spec.slot)) return null;
  if (spec.slot < 0 || spec.slot >= MAX_RECORDS) return null;
  return new Gate(spec.file, spec.slot);
}

module.exports = { gateOf };
