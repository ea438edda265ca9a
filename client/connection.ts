/**
 * The connection to the chat server, kept up: it connects, reads (telnet
 * negotiation answered and removed, bytes cut into lines), and when the
 * link is lost says so and connects again after a growing delay. Writes
 * keep their order. Everything it meets is told to its
 * {@linkcode ConnectionEvents}; the link, the clock and the waiting are
 * injected, so the unit tests drive it without sockets or real time.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * import { openLink } from "./link.ts";
 * export function chat(port = 5005): Promise<void> { // runs until the connection ends for good
 *   const connection = new Connection({
 *     open: () => openLink({ host: "127.0.0.1", port, tls: false }),
 *     reconnect: true,
 *     events: {
 *       connected: () => connection.send("login alice"),
 *       lines: (lines) => lines.forEach((l) => console.log(l)),
 *       partial: () => {},
 *       echo: () => {},
 *       lost: (why, retry) => console.log(`lost: ${why}; again in ${retry} ms`),
 *       failed: (why, retry) => console.log(`cannot connect: ${why}; again in ${retry} ms`),
 *     },
 *   });
 *   return connection.run();
 * }
 * ```
 * @module
 */
import type { Link } from "./link.ts";
import { TelnetClient } from "./telnet.ts";
import { LineSplitter } from "./lines.ts";
import { Backoff } from "./backoff.ts";

/** What a {@linkcode Connection} tells its owner. */
export interface ConnectionEvents {
  /** A link is up (send the login now). */
  connected(): void;
  /** Complete lines arrived (telnet bytes removed, UTF-8 decoded, no line ends). */
  lines(lines: string[]): void;
  /** The text after the last line end changed (a prompt waiting on its line). */
  partial(text: string): void;
  /** The server turned its echo on (true: hide what is typed) or off. */
  echo(hidden: boolean): void;
  /** The link was lost; `retryMs` until the next attempt, or undefined if none follows. */
  lost(reason: string, retryMs: number | undefined): void;
  /** Connecting failed; `retryMs` until the next attempt, or undefined if none follows. */
  failed(reason: string, retryMs: number | undefined): void;
}

/** Options of a {@linkcode Connection}. */
export interface ConnectionOptions {
  open: () => Promise<Link>;
  events: ConnectionEvents;
  /** Connect again after a loss or a failure (false: `run` ends instead). */
  reconnect: boolean;
  backoff?: Backoff;
  now?: () => number;
  /** Waits `ms` or until `signal` aborts (then resolves early). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const encoder = new TextEncoder();

/** Plain wording for a network error: the OS error number left out. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\(os error \d+\)$/, "") || "unknown error";
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** A connection to the server that comes back when lost. */
export class Connection {
  readonly #options: ConnectionOptions;
  readonly #backoff: Backoff;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #abort = new AbortController();
  #link: Link | undefined;
  #lines: LineSplitter | undefined;
  #writes: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
  }

  /** True while a link is up. */
  get connected(): boolean {
    return this.#link !== undefined;
  }

  /** Connects and reads until stopped (or, without reconnect, until the first loss or failure). */
  async run(): Promise<void> {
    const { events, reconnect } = this.#options;
    while (!this.#stopped) {
      let link: Link;
      try {
        link = await this.#options.open();
      } catch (error) {
        if (this.#stopped) return;
        const retry = reconnect ? this.#backoff.next() : undefined;
        events.failed(describeError(error), retry);
        if (retry === undefined) return;
        await this.#sleep(retry, this.#abort.signal);
        continue;
      }
      if (this.#stopped) {
        link.close();
        return;
      }
      this.#backoff.connected(this.#now());
      const reason = await this.#read(link);
      this.#backoff.lost(this.#now());
      if (this.#stopped) return;
      const retry = reconnect ? this.#backoff.next() : undefined;
      events.lost(reason, retry);
      if (retry === undefined) return;
      await this.#sleep(retry, this.#abort.signal);
    }
  }

  // Reads one link until it ends; returns why it ended.
  async #read(link: Link): Promise<string> {
    const { events } = this.#options;
    const lines = new LineSplitter();
    let hidden = false;
    const telnet = new TelnetClient((bytes) => this.#write(link, bytes), (on) => {
      hidden = on;
      events.echo(on);
    });
    this.#link = link;
    this.#lines = lines;
    this.#writes = Promise.resolve();
    events.connected();
    const buf = new Uint8Array(65536);
    let reason = "the server closed the connection";
    let partial = "";
    while (true) {
      let n: number | null;
      try {
        n = await link.read(buf);
      } catch (error) {
        reason = this.#stopped ? "closed" : describeError(error);
        break;
      }
      if (n === null) break;
      const data = telnet.filter(buf.subarray(0, n));
      if (data.length === 0) continue;
      const complete = lines.push(data);
      if (complete.length) events.lines(complete);
      if (lines.partial !== partial || complete.length) {
        partial = lines.partial;
        events.partial(partial);
      }
    }
    this.#link = undefined;
    this.#lines = undefined;
    link.close();
    const last = lines.end();
    if (last !== undefined) events.lines([last]);
    if (partial) events.partial("");
    if (hidden) events.echo(false);
    return reason;
  }

  #write(link: Link, bytes: Uint8Array): Promise<void> {
    const next = this.#writes.then(() => link.write(bytes)).catch(() => {
      // A failed write shows up as a failed read; the link is closed so the read ends.
      link.close();
    });
    this.#writes = next;
    return next;
  }

  /** Sends a line (CRLF added). False when there is no link to send it on. */
  send(line: string): boolean {
    const link = this.#link;
    if (!link) return false;
    void this.#write(link, encoder.encode(line + "\r\n"));
    return true;
  }

  /** Resolves when everything sent so far has been written. */
  flushed(): Promise<void> {
    return this.#writes;
  }

  /** Forgets the partial line (it was answered: the user's line goes on the prompt's line). */
  dropPartial(): void {
    this.#lines?.dropPartial();
  }

  /** Stops: closes the link and ends any wait; `run` then resolves. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#link?.close();
  }
}
