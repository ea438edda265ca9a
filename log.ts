/**
 * One-line-per-event logging to stderr with levels.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * const log = new Logger("info");
 * log.info("connect", { ip: "127.0.0.1" }); // 2026-01-01T00:00:00.000Z INFO connect ip=127.0.0.1
 * ```
 * @module
 */

const order: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };
const encoder = new TextEncoder();

/** Fields printed after the event name as `key=value`. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** A logger that writes one line per event to stderr. */
export class Logger {
  #level: number;
  #write: (line: string) => void;

  /**
   * @param level the lowest level printed: debug, info, warn, error or silent
   * @param write where lines go (stderr by default)
   */
  constructor(level = "info", write?: (line: string) => void) {
    this.#level = order[level] ?? 1;
    this.#write = write ?? ((line) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
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
