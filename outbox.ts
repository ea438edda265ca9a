/**
 * A session's outgoing queue: bounded in bytes, drained by its own writer,
 * which coalesces everything queued into one `write` per turn of the event
 * loop and loops on partial writes. Lines that lie side by side in the line
 * slab (`byte_slab.ts`) and follow one another in the queue are one chunk,
 * written as a view of the slab. Pushing never waits, so a broadcast
 * never awaits one receiver.
 *
 * The flush runs with `setImmediate`, one event-loop turn after the first
 * push: by then every read that was ready has been handled, so a receiver
 * gets the lines of all senders in one write. (A microtask flush writes after
 * each read instead, and under load the server settles into one line per
 * sender per write: measured 0.77M against 2.39M deliveries/s in the burst
 * benchmark. `setTimeout(0)` waits about 2 ms here.) A flush starts at most
 * {@linkcode TURN_WRITES} writes per turn and goes on in a turn that comes
 * after the runtime polled its sockets (see `poll_turn.ts`), so that a line
 * read meanwhile reaches the receivers still to be written. While the
 * backlog grows the next flush may wait a little, within a latency budget
 * (`--flush-budget`); see `schedule` and {@linkcode FlushPacing}.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const peer = await listener.accept();
 * const outbox = new Outbox(conn, 1 << 20, {
 *   overflowed: () => conn.close(),
 *   writeFailed: (error) => console.error(error),
 * });
 * outbox.push(new TextEncoder().encode("hello\r\n"));
 * await outbox.drained(); // written: the peer can read "hello\r\n"
 * for (const c of [conn, peer, listener]) c.close();
 * ```
 * @module
 */
import { setImmediate } from "node:timers";
import { Counter } from "./metrics.ts";
import { FlushPacing } from "./flush_pacing.ts";
import { pollTurn } from "./poll_turn.ts";

/** Bytes written to connections by outboxes. */
export const bytesSent: Counter = new Counter("teaparty_bytes_sent_total", "Bytes written to connections.");
/** Writes to connections (a write carries every line queued for its connection: deliveries / writes is lines per write). */
export const writesSent: Counter = new Counter(
  "teaparty_writes_total",
  "Writes to connections (each carries every line queued for it).",
);
/** Flushes: one writes to every connection with output waiting. */
export const flushesRun: Counter = new Counter(
  "teaparty_flushes_total",
  "Flushes (each writes once to every connection with output waiting).",
);
/** Flushes that pacing held back (sustained load), and for how long in all. */
export const flushHolds: Counter = new Counter(
  "teaparty_flush_holds_total",
  "Flushes held back by pacing under sustained load (--flush-cpu, --flush-budget).",
);
/** Seconds that held flushes were held back, in all. */
export const flushHeldSeconds: Counter = new Counter(
  "teaparty_flush_held_seconds_total",
  "Seconds that pacing held flushes back, in all (each hold at most --flush-budget).",
);

/**
 * Who an outbox reports to. An object rather than two callbacks, so that a
 * session (which implements both) costs no closures.
 */
export interface OutboxOwner {
  /** Called once when a push passes the limit (the outbox is then closed). */
  overflowed(): void;
  /** Called once when a write fails (the outbox is then closed). */
  writeFailed(error: unknown): void;
  /** Called just before queued bytes are written; may push the last bytes of this write (redraw mode). */
  flushing?(): void;
}

/** Something to write bytes to, like a `Deno.Conn`. */
export interface ByteSink {
  write(p: Uint8Array): Promise<number>;
}

/**
 * Arrays that outboxes queue their chunks in, kept for the next outbox with
 * something to queue: emptying an array by setting its length to 0 frees its
 * storage, and refilling it allocates again, about 500 bytes a write at 27
 * lines (a scavenge every 30 ms in the burst benchmark). An outbox with
 * nothing queued holds no array, so idle connections cost none.
 */
const spareChunks: Uint8Array[][] = [];
/** Most arrays kept spare (a flush to more receivers allocates the rest). */
export const SPARE_CHUNK_ARRAYS = 1024;
/** Longest array kept spare (one that held a flood of chunks is let go). */
export const SPARE_CHUNK_SLOTS = 64;
const EMPTY = new Uint8Array(0); // what an emptied slot holds

let dirty: Outbox[] = []; // outboxes with bytes to write
let flushing: Outbox[] = []; // the flush under way (it may take several turns)
let flushingFrom = 0; // outboxes before this index in `flushing` were written
let scheduled = false;
let held: ReturnType<typeof setTimeout> | undefined; // the pacing's timer, while it holds the next flush back

/**
 * The pacing of every outbox's flushes (one flush serves every connection of
 * the process, so its budget is process-wide; {@linkcode ChatServer} sets it
 * from `--flush-budget`).
 */
export const flushPacing: FlushPacing = new FlushPacing();

/**
 * How many times the limit one turn's output may queue for a client that
 * took all its earlier output (no write waiting on it): thirty users who
 * send their allowed burst at once must not drop the readers of their room.
 */
export const TURN_SLACK = 4;

/**
 * Most chunks queued behind a write still waiting on the client that may be
 * views of other memory (a slab of lines, see byte_slab.ts, which each view
 * keeps alive whole); later chunks are copies. A client that keeps up has a
 * run or two queued behind its write; one that stopped reading then keeps
 * at most this many 64 KB slabs alive (and the one its unfinished write
 * holds) beyond what `--max-queue` counts, however long it takes to reach
 * that limit.
 */
export const SHARED_CHUNKS = 4;

/** Bytes counted for each queued chunk on top of its length (a typed array's own memory, roughly). */
export const CHUNK_OVERHEAD = 96;
/**
 * Most writes one turn starts; the rest follow in a later event-loop turn,
 * after the runtime polled its sockets ({@linkcode pollTurn}), so that reads
 * which came meanwhile are handled and their lines join the writes still to
 * come. 128 rather than 256: at steady-5 (1,000 receivers)
 * the later receivers got their line sooner (p50 0.86–1.57× limit_server's
 * over nine runs, all three runs of one bench within 1.15×; with 256,
 * 1.15–1.33×). 64 did no better anywhere and made the crowd slower; 1,024
 * made steady-50 fall behind (p99 83–146 ms).
 */
export const TURN_WRITES = 128;

function flushAll(): void {
  scheduled = false;
  held = undefined;
  flushPacing.turnStarted();
  if (flushingFrom === 0) { // a new flush takes everything dirty so far
    const list = dirty;
    dirty = flushing;
    flushing = list;
    flushPacing.flushStarted();
    flushesRun.inc();
  }
  const end = Math.min(flushing.length, flushingFrom + TURN_WRITES);
  for (let i = flushingFrom; i < end; i++) flushing[i].flush();
  if (end < flushing.length) {
    // The rest next turn: a fan-out to ten thousand would otherwise hold ten
    // thousand writes' promises at once, long enough for V8 to promote them
    // to the old generation, where they linger as garbage. Output queued
    // meanwhile waits for the next flush.
    flushingFrom = end;
    scheduled = true;
    flushPacing.turnEnded(false);
    pollTurn.after(flushAll); // not a setImmediate: the reads that came meanwhile join the writes still to come
    return;
  }
  flushing.length = 0;
  flushingFrom = 0;
  flushPacing.turnEnded(true);
  joinedFrom = []; // let the chunks go
  joined = lastRun = lastRunFrom = new Uint8Array(0);
  if (dirty.length > 0) schedule();
}

/**
 * Schedules the next flush: one event-loop turn from now, unless the backlog
 * is growing (output keeps arriving faster than flushes carry it away); then
 * it waits until the oldest waiting byte is as old as the latency budget
 * (see {@linkcode FlushPacing}), so that more lines gather in each write and
 * the server keeps CPU to spare. A write to a socket costs about the same for
 * one line or thirty, and a flush to a thousand receivers takes milliseconds.
 */
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  const wait = flushPacing.delay();
  if (wait > 0) {
    flushHolds.inc();
    flushHeldSeconds.inc(wait / 1000);
    held = setTimeout(flushAll, wait);
  } else setImmediate(flushAll);
}

/**
 * A client that took all its output so far has a limit's worth queued:
 * the flush the pacing holds back comes at the next turn instead. The
 * pacing gathers lines for at most a few milliseconds, but a flood read
 * meanwhile (megabytes on loopback, with `--rate 0`) would otherwise pass
 * {@linkcode TURN_SLACK} times the limit before any write and drop every
 * reader of the room.
 */
function hurry(): void {
  if (held === undefined) return;
  clearTimeout(held);
  held = undefined;
  setImmediate(flushAll);
}

/** A bounded, coalescing outgoing byte queue for one connection. */
export class Outbox {
  #sink: ByteSink;
  #limit: number;
  #owner: OutboxOwner;
  #chunks: Uint8Array[] | undefined; // borrowed from the spares while anything is queued
  #count = 0; // chunks queued (the array may be longer: its later slots are empty)
  #run = 0; // bytes of the last chunk's run: pushes that followed it in memory (see push) make it longer than it is
  #last: Uint8Array | undefined; // the bytes pushed last, while queued
  #queued = 0; // bytes in #chunks
  #inFlight = 0; // bytes handed to write() and not yet written
  #writing = false;
  #marked = false;
  #closed = false;
  #waiters: (() => void)[] | undefined;
  #data: Uint8Array | undefined; // the bytes of the write in progress
  // The write's callback (bytes written, or the error it failed with), made at the first write and reused.
  #done: ((result: unknown) => void) | undefined;

  /**
   * @param sink where bytes go
   * @param limit most bytes queued behind a write still waiting on the client (each queued chunk counting
   *   {@linkcode CHUNK_OVERHEAD} more; {@linkcode TURN_SLACK} times that while no write waits, and never more
   *   than that with the write's bytes); the push that passes it calls `owner.overflowed()`
   * @param owner told about overflow and write errors
   */
  constructor(sink: ByteSink, limit: number, owner: OutboxOwner) {
    this.#sink = sink;
    this.#limit = limit;
    this.#owner = owner;
  }

  /** Unsent bytes, including a write in progress. */
  get size(): number {
    return this.#queued + this.#inFlight;
  }

  /**
   * Queues bytes (never copied: the same array may go to many outboxes).
   * `after`: bytes that these directly follow in memory (see
   * `Delivery.after`); when they were the last pushed, both go as one view.
   * Returns false if the outbox is closed or the push overflowed it.
   */
  push(bytes: Uint8Array, after?: Uint8Array): boolean {
    if (this.#closed) return false;
    // Each queued chunk costs memory beyond its bytes (its array and slot):
    // a flood of tiny chunks must meet the limit as soon as a few big ones.
    // Behind a write still waiting on the client the queue may hold `limit`;
    // with no write waiting, the client took everything so far, and one
    // turn's output (many senders at once) may reach TURN_SLACK times that
    // before the next flush hands it over. What waits in all, the write
    // included, never passes TURN_SLACK times the limit. Bytes that follow
    // the last ones pushed in memory (lines rendered one after another into
    // the line slab) lengthen the last chunk's run and add no chunk: a
    // receiver of every line of a room queues one chunk a flush, not one a line.
    const count = this.#count;
    const lengthens = after !== undefined && after === this.#last;
    const cost = this.#queued + (lengthens ? count : count + 1) * CHUNK_OVERHEAD + bytes.length;
    const most = this.#limit * TURN_SLACK;
    if (cost > (this.#writing ? Math.min(this.#limit, most - this.#inFlight) : most)) {
      this.close();
      this.#owner.overflowed();
      return false;
    }
    if (lengthens) {
      this.#run += bytes.length;
      this.#last = bytes;
    } else {
      if (count > 0) this.#endRun();
      // A view keeps its whole slab alive: behind a write still waiting on
      // the client, only the first few chunks may be views; later ones are
      // copies, which --max-queue counts in full (and which no run follows).
      const copy = count >= SHARED_CHUNKS && this.#writing;
      (this.#chunks ??= spareChunks.pop() ?? [])[this.#count++] = copy ? bytes.slice() : bytes;
      this.#run = bytes.length;
      this.#last = copy ? undefined : bytes;
    }
    this.#queued += bytes.length;
    flushPacing.queued(bytes.length);
    if (!this.#writing) {
      this.#mark();
      if (cost > this.#limit) hurry();
    }
    return true;
  }

  /**
   * Writes everything queued in one `write` (called once per turn for dirty
   * outboxes, after every ready read was handled, so a receiver gets one
   * write per turn however many lines it was sent). Returns the bytes
   * handed to the write (0 if none was started).
   */
  flush(): number {
    if (this.#writing || this.#queued === 0 || this.#closed) {
      this.#marked = false;
      return 0;
    }
    this.#owner.flushing?.(); // still marked: what it pushes joins this write
    this.#marked = false;
    if (this.#closed) return 0; // its push overflowed
    const chunks = this.#chunks!;
    this.#endRun();
    const data = this.#count === 1 ? chunks[0] : join(chunks, this.#count, this.#queued);
    this.#release();
    this.#inFlight = this.#queued;
    flushPacing.taken(this.#queued);
    this.#queued = 0;
    this.#send(data);
    return data.length;
  }

  // The last chunk becomes the view of its whole run.
  #endRun(): void {
    const chunks = this.#chunks!;
    const first = chunks[this.#count - 1];
    if (this.#run !== first.length) chunks[this.#count - 1] = runOf(first, this.#run);
  }

  #send(data: Uint8Array): void {
    this.#writing = true;
    this.#data = data;
    let written: Promise<number>;
    try {
      written = this.#sink.write(data);
    } catch (error) { // a sink that throws at once must not break flushAll for every other outbox
      return this.#failed(error);
    }
    const done = this.#done ??= (result) => typeof result === "number" ? this.#written(result) : this.#failed(result);
    written.then(done, done);
  }

  #written(n: number): void {
    const data = this.#data!;
    this.#data = undefined;
    this.#inFlight -= n;
    bytesSent.inc(n);
    writesSent.inc();
    if (this.#closed) return;
    if (n < data.length) return this.#send(data.subarray(n)); // partial write: the rest, at once
    this.#writing = false;
    if (this.#queued > 0) this.#mark();
    else this.#wake();
  }

  #failed(error: unknown): void {
    this.#writing = false;
    this.#data = undefined;
    this.#inFlight = 0;
    if (this.#closed) return;
    this.close();
    this.#owner.writeFailed(error);
  }

  #mark(): void {
    if (this.#marked) return;
    this.#marked = true;
    dirty.push(this);
    schedule();
  }

  /** Resolves when everything queued so far is written (or the outbox closed). */
  drained(): Promise<void> {
    if (this.size === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  /** Stops writing; queued bytes are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    flushPacing.dropped(this.#queued);
    this.#queued = 0;
    this.#wake();
  }

  // Empties the queue's array (its slots, so that the chunks can go) and gives it back to the spares.
  #release(): void {
    const chunks = this.#chunks;
    if (!chunks) return;
    for (let i = 0; i < this.#count; i++) chunks[i] = EMPTY;
    this.#chunks = undefined;
    this.#count = 0;
    this.#last = undefined;
    if (spareChunks.length < SPARE_CHUNK_ARRAYS && chunks.length <= SPARE_CHUNK_SLOTS) spareChunks.push(chunks);
  }

  #wake(): void {
    const waiters = this.#waiters;
    if (!waiters) return;
    this.#waiters = undefined;
    for (const w of waiters) w();
  }
}

// The last run made, and the bytes it starts with: receivers in one room usually queued the very same run.
let lastRun: Uint8Array = new Uint8Array(0);
let lastRunFrom: Uint8Array = lastRun;

/** The `length` bytes from where `first` starts, as one view (shared with the receiver before when it is the same). */
function runOf(first: Uint8Array, length: number): Uint8Array {
  if (first === lastRunFrom && length === lastRun.length) return lastRun;
  lastRunFrom = first;
  return lastRun = new Uint8Array(first.buffer, first.byteOffset, length);
}

// The last join of a flush: receivers in one room usually got the very same
// chunks in the same order, so they can share one joined buffer.
let joinedFrom: Uint8Array[] = [];
let joined: Uint8Array = new Uint8Array(0);

/** Joins the first `count` chunks into one buffer, reusing the previous join when they are the same ones. */
function join(chunks: Uint8Array[], count: number, total: number): Uint8Array {
  if (count === joinedFrom.length && total === joined.length) {
    let same = true;
    for (let i = 0; i < count && same; i++) same = chunks[i] === joinedFrom[i];
    if (same) return joined;
  }
  joinedFrom = chunks.slice(0, count); // a copy: the outbox empties its array for the next write
  joined = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < count; i++) {
    joined.set(chunks[i], at);
    at += chunks[i].length;
  }
  return joined;
}
