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

/** Bytes of log lines held while stderr is slow; past this, lines are dropped and counted. */
export const LOG_BUFFER_BYTES = 1 << 20;

/** Writes lines to stderr asynchronously through a bounded buffer. */
class StderrWriter {
  #queue: string[] = [];
  #bytes = 0;
  #dropped = 0;
  #writing: Promise<void> | undefined;

  write(line: string): void {
    if (this.#bytes + line.length + 1 > LOG_BUFFER_BYTES) {
      this.#dropped++;
      return;
    }
    this.#queue.push(line);
    this.#bytes += line.length + 1;
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const lines = this.#queue;
        this.#queue = [];
        this.#bytes = 0;
        if (this.#dropped > 0) {
          lines.push(
            `${new Date().toISOString()} WARN log lines dropped count=${this.#dropped} reason="stderr was not read"`,
          );
          this.#dropped = 0;
        }
        const bytes = encoder.encode(lines.join("\n") + "\n");
        let off = 0;
        while (off < bytes.length) off += await Deno.stderr.write(bytes.subarray(off));
      }
    } catch {
      // stderr gone (closed pipe): logging must never take the server down.
      this.#queue = [];
      this.#bytes = 0;
    } finally {
      this.#writing = undefined;
    }
  }

  flush(): Promise<void> {
    return this.#writing ?? Promise.resolve();
  }
}

let stderrWriter: StderrWriter | undefined;

/** A logger that writes one line per event (to stderr unless told otherwise). */
export class Logger {
  #level: number;
  #write: (line: string) => void;
  #writer: StderrWriter | undefined;

  /**
   * @param level the lowest level printed: debug, info, warn, error or silent
   * @param write where lines go (stderr, buffered and never blocking, by default)
   */
  constructor(level = "info", write?: (line: string) => void) {
    this.#level = order[level] ?? 1;
    if (write) this.#write = write;
    else {
      const writer = this.#writer = stderrWriter ??= new StderrWriter();
      this.#write = (line) => writer.write(line);
    }
  }

  /** Resolves when the lines logged so far are written (or given up). */
  flush(): Promise<void> {
    return this.#writer?.flush() ?? Promise.resolve();
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
