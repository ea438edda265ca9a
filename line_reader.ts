/**
 * The line reader: the lines a connection sends, read with a plain `read()`
 * loop into a small buffer that grows only for a busy connection. A session
 * uses {@linkcode LineReader} (callbacks, no coroutine held by an idle
 * connection); {@linkcode readLines} is the same reader as an async
 * iterator. Lines end with LF, CR LF, CR NUL or a lone CR; a CR ends its
 * line at once (it is not held back until the next byte comes), and an LF
 * or NUL right after it, even in a later read, belongs to it; bytes are split
 * before decoding, invalid UTF-8 becomes U+FFFD, telnet commands are removed
 * first, and a line longer than `maxLine` bytes is reported as
 * {@linkcode TOO_LONG} (once) and then skipped up to its end, so an endless
 * line never grows memory.
 *
 * @example
 * ```ts
 * import { readLines } from "./line_reader.ts";
 * // Any source with read(), like a Deno.Conn: here one read of "hi\r\nthere\n", then the end.
 * const data = new TextEncoder().encode("hi\r\nthere\n");
 * let sent = false;
 * const source = {
 *   read: (p: Uint8Array) => Promise.resolve(sent ? null : (sent = true, p.set(data), data.length)),
 * };
 * const lines = [];
 * for await (const line of readLines(source, { maxLine: 4096 })) lines.push(line);
 * if (lines.join("|") !== "hi|there") throw new Error(`got ${lines.join("|")}`);
 * ```
 * @module
 */

/** Yielded in place of a line that was longer than `maxLine` bytes. */
export const TOO_LONG: unique symbol = Symbol("line too long");

/** Something to read bytes from, like a `Deno.Conn`. */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** Filters `buf[start, end)` in place and returns the new end, like `TelnetFilter`. */
export interface ByteFilter {
  filter(buf: Uint8Array, start: number, end: number): number;
  /**
   * Milliseconds to wait before the next read, asked after each filtered
   * read (a session charges telnet commands against its rate limit here).
   */
  pause?(): number;
}

/** Options of {@linkcode LineReader} and {@linkcode readLines}. */
export interface LineReaderOptions {
  /** Longest line in bytes, without its end. */
  maxLine: number;
  /** Removes telnet commands from each chunk read (a `TelnetFilter`, or anything that filters in place). */
  telnet?: ByteFilter;
  /** First (and idle) buffer size in bytes. Default 128 ({@linkcode IDLE_BUFFER}: a slot of a shared slab). */
  initialBuffer?: number;
  /** Largest buffer for a busy connection. Default 64 KiB (or more for long lines). */
  maxBuffer?: number;
}

/**
 * The read buffer of an idle connection, in bytes. Buffers of this size are
 * slots of shared 64 KiB slabs, so an idle connection has no `ArrayBuffer`
 * (and no backing store) of its own: about 300 bytes less each.
 */
export const IDLE_BUFFER = 128;
/**
 * Reads in a row smaller than the first buffer after which a grown buffer
 * shrinks back to it. Not the first small read: a busy sender's reads
 * alternate between one line and several, and shrinking at every short one
 * made it grow again at the next (1.5% of a burst's time in `#grow`). A
 * connection that falls quiet within a few reads of a burst keeps its bigger
 * buffer until it reads again, as one whose last read was big always did.
 */
export const SHRINK_AFTER = 4;
const SLAB_SLOTS = 512;
const freeSlots: Uint8Array[] = []; // slots given back, taken first
let slab: ArrayBuffer | undefined;
let slabUsed = 0; // slots of `slab` handed out so far

// An IDLE_BUFFER-byte buffer: a slot given back, or the next one of the current slab.
function takeSlot(): Uint8Array {
  const free = freeSlots.pop();
  if (free) return free;
  if (slab === undefined || slabUsed === SLAB_SLOTS) {
    slab = new ArrayBuffer(IDLE_BUFFER * SLAB_SLOTS);
    slabUsed = 0;
  }
  return new Uint8Array(slab, IDLE_BUFFER * slabUsed++, IDLE_BUFFER);
}

/** Slots given back and not yet taken again (for tests). */
export function freeSlotCount(): number {
  return freeSlots.length;
}

const decoder = new TextDecoder();
const LF = 10;
const CR = 13;
const NUL = 0;

/**
 * Where the line that goes on at `from` ends in `buf[from, end)`: the index
 * of its LF or CR, or `end` when its end has not come yet. With
 * {@linkcode lineEndSize} and {@linkcode crTail}, this is the line-end rule
 * (LF, CR LF, CR NUL or a lone CR) every reader of these lines follows: the
 * line reader, and the IRC door's UTF-8 check (irc/utf8.ts), which must
 * number the lines as the reader does.
 */
export function findLineEnd(buf: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end) {
    const b = buf[i];
    if (b === LF || b === CR) break;
    i++;
  }
  return i;
}

/**
 * How many bytes the line end at `buf[at]` (an LF or CR that
 * {@linkcode findLineEnd} found) takes: 2 for CR LF or CR NUL, 1 for LF or
 * a lone CR, 0 for a CR that is the last byte of `buf[…, end)`: whether the
 * next byte, in a later read, belongs to it is for {@linkcode crTail} to
 * say then.
 */
export function lineEndSize(buf: Uint8Array, at: number, end: number): number {
  if (buf[at] !== CR) return 1;
  if (at + 1 === end) return 0;
  return crTail(buf[at + 1]) ? 2 : 1;
}

/** Whether byte `b`, right after the CR that ended a line (even in a later read), belongs to that line end (LF, NUL). */
export function crTail(b: number): boolean {
  return b === LF || b === NUL;
}

/** Told by a {@linkcode LineSource} when a read is done. */
export interface LineListener {
  /** A read is done: take lines with `next()` until it returns undefined (at the end of input too). */
  linesArrived(): void;
  /** A read failed (the connection was reset, or closed under the reader). */
  readFailed(error: unknown): void;
}

/**
 * Where a session's lines come from: the lines already read are taken at
 * once with `next()`; `read()` asks for more and tells the listener.
 */
export interface LineSource {
  /** The next line already read, or undefined when a read is needed (or the input has ended). */
  next(): string | typeof TOO_LONG | undefined;
  /** True once the input has ended; `next()` has then given everything. */
  readonly ended: boolean;
  /** Reads more, then calls the listener (once). */
  read(): void;
  /** Nothing more will be taken: buffers go back once no read is pending (the listener is not told again). */
  close?(): void;
}

/**
 * Splits what `source` sends into lines, without a coroutine: `read()` starts
 * one read and calls `listener.linesArrived()` when it is done; `next()` then
 * hands out the complete lines one by one. An idle connection holds one
 * pending read and this object, nothing else.
 *
 * @example
 * ```ts
 * import { LineReader } from "./line_reader.ts";
 * const bytes = new TextEncoder().encode("hello\r\nworld");
 * let given = false;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (given) return Promise.resolve(null);
 *     given = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const lines: unknown[] = [];
 * await new Promise<void>((done, failed) => {
 *   const reader: LineReader = new LineReader(source, { maxLine: 100 }, {
 *     linesArrived() {
 *       for (let line = reader.next(); line !== undefined; line = reader.next()) lines.push(line);
 *       if (reader.ended) done();
 *       else reader.read();
 *     },
 *     readFailed: failed,
 *   });
 *   reader.read();
 * });
 * if (lines.join(",") !== "hello,world") throw new Error(`got ${lines}`);
 * ```
 */
export class LineReader implements LineSource {
  readonly #source: ByteSource;
  readonly #listener: LineListener;
  readonly #maxLine: number;
  readonly #telnet: ByteFilter | undefined;
  readonly #initial: number;
  readonly #largest: number;
  #buf: Uint8Array;
  #start = 0; // first byte of the current line
  #end = 0; // end of the data in buf
  #scan = 0; // where the search for a line end goes on
  #skipping = false; // inside a too-long line, dropping bytes to its end
  #smallReads = 0; // reads in a row smaller than the first buffer: many mean an idle connection
  #afterCr = false; // the last line ended with a CR: a following LF or NUL is part of its end
  #ended = false;
  #reading = false;
  #closed = false;
  #inSlot = false; // #buf is a slot of a shared slab (given back when the buffer grows or the reader closes)

  /** Reads `source` for `listener`; nothing is read before the first `read()`. */
  constructor(source: ByteSource, options: LineReaderOptions, listener: LineListener) {
    this.#source = source;
    this.#listener = listener;
    this.#maxLine = options.maxLine;
    this.#telnet = options.telnet;
    this.#initial = options.initialBuffer ?? IDLE_BUFFER;
    this.#largest = Math.max(options.maxBuffer ?? 65536, options.maxLine + 2);
    this.#buf = this.#idleBuffer();
  }

  /** True once the source has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next complete line (or {@linkcode TOO_LONG}), or undefined when more must be read first. */
  next(): string | typeof TOO_LONG | undefined {
    const buf = this.#buf, end = this.#end, maxLine = this.#maxLine;
    let scan = this.#scan;
    while (scan < end) {
      if (this.#afterCr) {
        this.#afterCr = false;
        if (crTail(buf[scan])) {
          this.#start = scan = scan + 1;
          continue;
        }
      }
      const i = findLineEnd(buf, scan, end);
      if (i === end) {
        scan = end;
        break;
      }
      const size = lineEndSize(buf, i, end);
      if (size === 0) this.#afterCr = true; // a CR last: the next read decides whether an LF or NUL belongs to it
      const next = i + (size || 1);
      const start = this.#start;
      this.#start = this.#scan = next;
      if (this.#skipping) {
        this.#skipping = false;
        scan = next;
        continue;
      }
      return i - start > maxLine ? TOO_LONG : decoder.decode(buf.subarray(start, i));
    }
    this.#scan = scan;
    const start = this.#start;
    if (this.#ended) { // a last line without its end is still a line
      if (this.#skipping || end === start) return undefined;
      this.#start = this.#scan = end;
      return end - start > maxLine ? TOO_LONG : decoder.decode(buf.subarray(start, end));
    }
    if (this.#skipping) { // drop what there is of the too-long line
      this.#start = this.#scan = this.#end = 0;
    } else if (end - start > maxLine) { // the line so far is too long already
      this.#skipping = true;
      this.#start = this.#scan = this.#end = 0;
      return TOO_LONG;
    }
    return undefined;
  }

  /** Starts one read (after the filter's pause, if it asks for one); the listener is told when it is done. */
  read(): void {
    if (this.#ended || this.#reading || this.#closed) return;
    this.#reading = true;
    this.#makeRoom();
    const wait = this.#telnet?.pause?.() ?? 0;
    if (wait > 0) setTimeout(() => this.#readNow(), wait);
    else this.#readNow();
  }

  #readNow(): void {
    const end = this.#end;
    let read: Promise<number | null>;
    try {
      read = this.#source.read(end === 0 ? this.#buf : this.#buf.subarray(end)); // no view object when idle
    } catch (error) {
      read = Promise.reject(error);
    }
    read.then(this.#got, this.#got);
  }

  // A read is done: `n` bytes, null at the end, or the error it failed with (one callback for both, one closure).
  #got = (n: unknown): void => {
    this.#reading = false;
    if (this.#closed) return this.#release();
    if (n === null) {
      this.#ended = true;
    } else if (typeof n !== "number") {
      this.#ended = true;
      this.#listener.readFailed(n);
      return;
    } else {
      this.#smallReads = n < this.#initial ? this.#smallReads + 1 : 0;
      const end = this.#end;
      const chunkEnd = this.#telnet ? this.#telnet.filter(this.#buf, end, end + n) : end + n;
      // A connection that fills the buffer is busy: let it grow for the next read.
      if (chunkEnd === this.#buf.length) this.#grow(chunkEnd);
      this.#end = chunkEnd;
    }
    this.#listener.linesArrived();
  };

  // Makes room for the next read: moves the current line to the front, shrinks an idle buffer, grows a full one.
  #makeRoom(): void {
    const start = this.#start, end = this.#end;
    if (start === end) {
      this.#start = this.#end = this.#scan = 0;
      if (this.#buf.length > this.#initial && this.#smallReads >= SHRINK_AFTER) this.#buf = this.#idleBuffer();
    } else if (start > 0) {
      this.#buf.copyWithin(0, start, end);
      this.#end -= start;
      this.#scan -= start;
      this.#start = 0;
    }
    if (this.#end === this.#buf.length) this.#grow(this.#end);
  }

  // A buffer of the first size: a slot of a shared slab when that size is IDLE_BUFFER.
  #idleBuffer(): Uint8Array {
    this.#inSlot = this.#initial === IDLE_BUFFER;
    return this.#inSlot ? takeSlot() : new Uint8Array(this.#initial);
  }

  // Doubles the buffer (up to the largest), keeping its first `used` bytes.
  #grow(used: number): void {
    if (this.#buf.length >= this.#largest) return;
    const bigger = new Uint8Array(Math.min(this.#largest, this.#buf.length * 2));
    bigger.set(this.#buf.subarray(0, used));
    this.#release();
    this.#buf = bigger;
  }

  /** Nothing more will be read or taken; the buffer goes back to the shared slab once no read is pending. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#start = this.#end = this.#scan = 0;
    if (!this.#reading) this.#release();
  }

  // Gives the slot back, if the buffer is one (the reader then holds an empty buffer until it takes another).
  #release(): void {
    if (!this.#inSlot) return;
    this.#inSlot = false;
    freeSlots.push(this.#buf);
    this.#buf = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

/** Reads lines from `source` until it ends, as an async iterator; see the module documentation. */
export async function* readLines(
  source: ByteSource,
  options: LineReaderOptions,
): AsyncGenerator<string | typeof TOO_LONG, void, undefined> {
  let wake: () => void = () => {};
  let failure: { error: unknown } | undefined;
  const reader = new LineReader(source, options, {
    linesArrived: () => wake(),
    readFailed: (error) => {
      failure = { error };
      wake();
    },
  });
  try {
    while (true) {
      const line = reader.next();
      if (line !== undefined) {
        yield line;
        continue;
      }
      if (reader.ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        reader.read();
      });
      if (failure) throw failure.error;
    }
  } finally {
    reader.close();
  }
}

/**
 * A {@linkcode LineSource} over an async iterable (a WebSocket door's
 * messages): each read takes one item.
 *
 * @example
 * ```ts
 * import { linesFrom } from "./line_reader.ts";
 * async function* two() {
 *   yield "hello";
 *   yield "world";
 * }
 * const got: unknown[] = [];
 * await new Promise<void>((done, failed) => {
 *   const lines = linesFrom(two(), {
 *     linesArrived() {
 *       for (let line = lines.next(); line !== undefined; line = lines.next()) got.push(line);
 *       if (lines.ended) done();
 *       else lines.read();
 *     },
 *     readFailed: failed,
 *   });
 *   lines.read();
 * });
 * if (got.join(",") !== "hello,world") throw new Error(`got ${got}`);
 * ```
 */
export function linesFrom(
  iterable: AsyncIterable<string | typeof TOO_LONG>,
  listener: LineListener,
): LineSource {
  const iterator = iterable[Symbol.asyncIterator]();
  let held: string | typeof TOO_LONG | undefined;
  let ended = false;
  let reading = false;
  return {
    next() {
      const line = held;
      held = undefined;
      return line;
    },
    get ended() {
      return ended;
    },
    read() {
      if (ended || reading) return;
      reading = true;
      iterator.next().then((item) => {
        reading = false;
        if (item.done) ended = true;
        else held = item.value;
        listener.linesArrived();
      }, (error) => {
        reading = false;
        ended = true;
        listener.readFailed(error);
      });
    },
  };
}
