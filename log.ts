/**
 * One-line-per-event logging to stderr with levels. Writing never blocks the
 * server: lines go into a bounded buffer that is written asynchronously; when
 * the reader of stderr is stuck and the buffer is full, new lines are dropped
 * and counted, and a line saying how many were dropped follows once writing
 * works again.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * const log = new Logger("info");
 * log.info("connect", { ip: "127.0.0.1" }); // 2026-01-01T00:00:00.000Z INFO connect ip=127.0.0.1
 * await log.flush();
 * ```
 * @module
 */

const order: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };
const encoder = new TextEncoder();

/** Fields printed after the event name as `key=value`. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Bytes of log lines held while stderr is slow (queued or being written); past this, lines are dropped and counted. */
export const LOG_BUFFER_BYTES = 1 << 20;

/** Where a {@linkcode LogBuffer} writes: stderr, or a stand-in in tests. */
export interface LogSink {
  /** Writes some of `bytes` (at least one); resolves with how many. */
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Log lines on their way to a sink (stderr), written asynchronously so that
 * logging never blocks the server. At most `limit` bytes are held, queued
 * or being written; a line that does not fit is dropped and counted, and a
 * `WARN log lines dropped count=N` line follows the lines held once the
 * sink takes them.
 *
 * @example
 * ```ts
 * import { LogBuffer } from "./log.ts";
 * const buffer = new LogBuffer(Deno.stderr, 64 * 1024);
 * buffer.write("2026-01-01T00:00:00.000Z INFO started");
 * await buffer.flush();
 * ```
 */
export class LogBuffer {
  #sink: LogSink;
  #limit: number;
  #queue: Uint8Array[] = [];
  #queued = 0; // bytes in #queue
  #inFlight = 0; // bytes of the batch being written that the sink has not taken yet
  #dropped = 0;
  #writing: Promise<void> | undefined;

  /** A buffer for `sink` holding at most `limit` bytes. */
  constructor(sink: LogSink = Deno.stderr, limit: number = LOG_BUFFER_BYTES) {
    this.#sink = sink;
    this.#limit = limit;
  }

  /** Bytes held: queued, or being written. */
  get held(): number {
    return this.#queued + this.#inFlight;
  }

  /** Lines dropped since the last drop notice was queued. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues a line (without its newline), or drops it if the buffer is full. */
  write(line: string): void {
    const bytes = encoder.encode(line + "\n");
    if (this.held + bytes.length > this.#limit) {
      this.#dropped++;
      return;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 || this.#dropped > 0) {
        const chunks = this.#queue;
        this.#queue = [];
        if (this.#dropped > 0) {
          const notice = `${new Date().toISOString()} WARN log lines dropped count=${this.#dropped} ` +
            `reason="stderr was not read"\n`;
          chunks.push(encoder.encode(notice));
          this.#dropped = 0;
        }
        const batch = join(chunks);
        this.#queued = 0;
        this.#inFlight = batch.length;
        let off = 0;
        while (off < batch.length) {
          off += await this.#sink.write(batch.subarray(off));
          this.#inFlight = batch.length - off;
        }
      }
    } catch {
      // stderr gone (closed pipe): logging must never take the server down.
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#inFlight = 0;
      this.#writing = undefined;
    }
  }

  /** Resolves when the lines queued so far are written (or given up). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }
}

function join(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}

let stderrBuffer: LogBuffer | undefined;

/**
 * Lines a second that {@linkcode Logger.often} prints of one event (a
 * refusal, a connection closed to make room): a flood of connections must not
 * become a flood of log lines. The rest are counted, and one line tells how
 * many were left out.
 */
export const OFTEN_LINES_PER_SECOND = 20;

// One event's lines in the current second of Logger.often.
interface OftenWindow {
  since: number; // when the second began
  lines: number; // lines printed in it
  left: number; // lines left out in it
  level: number;
  name: string;
  timer?: unknown; // set when a line is first left out: tells the count when the second is over
}

/** Runs `fn` after `ms` without keeping the process alive; returns what {@linkcode CancelTimer} takes. */
export type StartTimer = (fn: () => void, ms: number) => unknown;
/** Cancels what a {@linkcode StartTimer} returned. */
export type CancelTimer = (timer: unknown) => void;

const unrefTimeout: StartTimer = (fn, ms) => {
  const id = setTimeout(fn, ms);
  Deno.unrefTimer(id);
  return id;
};
const cancelTimeout: CancelTimer = (timer) => clearTimeout(timer as number);

/** A logger that writes one line per event (to stderr unless told otherwise). */
export class Logger {
  #level: number;
  #write: (line: string) => void;
  #writer: LogBuffer | undefined;
  #clock: () => number;
  #timers: { start: StartTimer; cancel: CancelTimer };
  #often = new Map<string, OftenWindow>();

  /**
   * @param level the lowest level printed: debug, info, warn, error or silent
   * @param write where lines go (stderr, buffered and never blocking, by default)
   * @param clock the time in ms, for {@linkcode Logger.often} (default `Date.now`)
   * @param timers for {@linkcode Logger.often}'s count at the end of a second (default: unref'd `setTimeout`)
   */
  constructor(
    level = "info",
    write?: (line: string) => void,
    clock: () => number = Date.now,
    timers: { start: StartTimer; cancel: CancelTimer } = { start: unrefTimeout, cancel: cancelTimeout },
  ) {
    this.#level = order[level] ?? 1;
    this.#clock = clock;
    this.#timers = timers;
    if (write) this.#write = write;
    else {
      const writer = this.#writer = stderrBuffer ??= new LogBuffer();
      this.#write = (line) => writer.write(line);
    }
  }

  /** Resolves when the lines logged so far are written (or given up); first tells the lines left out so far. */
  flush(): Promise<void> {
    this.tellLeftOut();
    return this.#writer?.flush() ?? Promise.resolve();
  }

  /** Logs now how many lines {@linkcode Logger.often} left out so far, and stops its timers. */
  tellLeftOut(): void {
    for (const [event, window] of this.#often) this.#leftOut(event, window);
    this.#often.clear();
  }

  /**
   * Logs an event that an attacker can make happen at will, at most
   * {@linkcode OFTEN_LINES_PER_SECOND} lines of it a second; when that
   * second is over (or at the next line of it after that, or at
   * {@linkcode Logger.flush}) a line says how many were left out:
   * `WARN refused lines left out count=480 since=…`.
   *
   * @example
   * ```ts
   * import { Logger } from "./log.ts";
   * const lines: string[] = [];
   * let now = 0;
   * const log = new Logger("info", (line) => lines.push(line), () => now);
   * for (let i = 0; i < 25; i++) log.often("warn", "refused", { ip: "10.0.0.1" });
   * now = 1000;
   * log.often("warn", "refused", { ip: "10.0.0.1" });
   * lines.length; // 22: twenty, "refused lines left out count=5 …", and the new one
   * ```
   */
  often(level: "info" | "warn" | "error", event: string, fields?: LogFields): void {
    const n = order[level];
    if (n < this.#level) return;
    const now = this.#clock();
    let window = this.#often.get(event);
    if (!window || now - window.since >= 1000 || now < window.since) {
      if (window) this.#leftOut(event, window);
      window = { since: now, lines: 0, left: 0, level: n, name: level.toUpperCase() };
      this.#often.set(event, window);
    }
    if (window.lines >= OFTEN_LINES_PER_SECOND) {
      if (window.left++ === 0) {
        const over = window;
        over.timer = this.#timers.start(() => {
          over.timer = undefined;
          if (this.#often.get(event) !== over) return;
          this.#leftOut(event, over);
          this.#often.delete(event);
        }, over.since + 1000 - now);
      }
      return;
    }
    window.lines++;
    this.#log(n, window.name, event, fields);
  }

  #leftOut(event: string, window: OftenWindow): void {
    if (window.timer !== undefined) this.#timers.cancel(window.timer);
    window.timer = undefined;
    if (window.left === 0) return;
    this.#log(window.level, window.name, `${event} lines left out`, {
      count: window.left,
      since: new Date(window.since).toISOString(),
    });
    window.left = 0;
  }

  /** Logs a debug event. */
  debug(event: string, fields?: LogFields): void {
    this.#log(0, "DEBUG", event, fields);
  }
  /** Logs an info event. */
  info(event: string, fields?: LogFields): void {
    this.#log(1, "INFO", event, fields);
  }
  /** Logs a warning. */
  warn(event: string, fields?: LogFields): void {
    this.#log(2, "WARN", event, fields);
  }
  /** Logs an error. */
  error(event: string, fields?: LogFields): void {
    this.#log(3, "ERROR", event, fields);
  }

  #log(level: number, name: string, event: string, fields?: LogFields): void {
    if (level < this.#level) return;
    let line = `${new Date().toISOString()} ${name} ${event}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const s = String(v);
        line += ` ${k}=${/[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s}`;
      }
    }
    try {
      this.#write(line);
    } catch {
      // stderr gone (closed pipe): logging must never take the server down.
    }
  }
}
