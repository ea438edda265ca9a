/**
 * The connection to the chat server, kept up: it connects, reads (telnet
 * negotiation answered and removed, bytes cut into lines), and when the
 * link is lost says so and connects again after a growing delay (but not
 * after a failure that connecting again cannot mend: {@linkcode isFinal}).
 * Writes keep their order. Everything it meets is told to its
 * {@linkcode ConnectionEvents}; the link, the clock and the waiting are
 * injected, so the unit tests drive it without sockets or real time.
 *
 * Text after the last line end is most often a line still on its way (a
 * slow link delivers a chat line in pieces), sometimes a prompt (`Name: `)
 * that waits for an answer on its line. It is told as a prompt only once it
 * has stayed alone, with nothing more arriving, for
 * {@linkcode PROMPT_QUIET_MS}, or at once when the server marks it with
 * telnet GA or EOR; until then it is held back, so a line in pieces comes
 * out whole. A prompt the user answers ({@linkcode Connection.answerPrompt})
 * is taken off the partial line, as a terminal would put the answer after it.
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
  /**
   * The prompt waiting on its line changed: text after the last line end
   * that has been quiet for a while or was marked by GA/EOR ("" for none).
   */
  partial(text: string): void;
  /** Data arrived (anything, a piece of a line too). */
  received?(): void;
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
  /** How long a partial line must stay alone before it is a prompt (default {@linkcode PROMPT_QUIET_MS}). */
  promptDelayMs?: number;
}

/**
 * How long text without a line end must stay alone (nothing more arriving)
 * before it is shown as a prompt, in milliseconds: longer than the gap
 * between two pieces of one line on a slow link (a lost segment is sent
 * again after about 200 ms), short enough for a prompt to appear promptly.
 */
export const PROMPT_QUIET_MS = 400;

const encoder = new TextEncoder();

/**
 * Whether connecting again cannot mend `error`, an error of `open`: it says
 * so with `final: true`, as a TLS refusal does (`TlsRefused` in link.ts: a
 * certificate refused, a port that does not speak TLS). Such a failure is
 * told with no retry, even with `reconnect`, and `run` ends.
 */
export function isFinal(error: unknown): boolean {
  return error instanceof Error && (error as { final?: unknown }).final === true;
}

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
  readonly #promptDelay: number;
  #link: Link | undefined;
  #lines: LineSplitter | undefined;
  #writes: Promise<void> = Promise.resolve();
  #stopped = false;
  // The prompt told to the owner ("" for none) and the bytes of the partial line it covers.
  #prompt = "";
  #promptBytes = 0;
  #promptTimer: ReturnType<typeof setTimeout> | undefined;
  // A prompt was answered: the line end that ends its line is not a line of its own.
  #answered = false;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#promptDelay = options.promptDelayMs ?? PROMPT_QUIET_MS;
  }

  /** True while a link is up. */
  get connected(): boolean {
    return this.#link !== undefined;
  }

  /**
   * Connects and reads until stopped (or, without reconnect, until the first
   * loss or failure; with it, until a failure that is {@linkcode isFinal}).
   */
  async run(): Promise<void> {
    const { events, reconnect } = this.#options;
    while (!this.#stopped) {
      let link: Link;
      try {
        link = await this.#options.open();
      } catch (error) {
        if (this.#stopped) return;
        const retry = reconnect && !isFinal(error) ? this.#backoff.next() : undefined;
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
    this.#answered = false;
    events.connected();
    const buf = new Uint8Array(65536);
    let reason = "the server closed the connection";
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
      const marked = telnet.promptMark;
      if (data.length === 0 && !marked) continue;
      events.received?.();
      let complete = lines.push(data);
      if (complete.length && this.#answered) {
        this.#answered = false;
        if (complete[0] === "") complete = complete.slice(1); // the end of the answered prompt's line
      }
      if (complete.length) {
        this.#setPrompt("", 0); // its text is in a line now
        events.lines(complete);
      }
      this.#partialChanged(marked);
    }
    this.#link = undefined;
    this.#lines = undefined;
    clearTimeout(this.#promptTimer);
    link.close();
    const last = lines.end();
    if (last !== undefined && !(this.#answered && last === "")) events.lines([last]);
    this.#answered = false;
    this.#setPrompt("", 0);
    if (hidden) events.echo(false);
    return reason;
  }

  // The partial line changed (or only more of a character came): it is a
  // prompt at once if marked, else once it has been quiet for a while.
  #partialChanged(marked: boolean): void {
    clearTimeout(this.#promptTimer);
    this.#promptTimer = undefined;
    const lines = this.#lines;
    if (!lines || lines.partial === "") return this.#setPrompt("", 0);
    if (marked) return this.#setPrompt(lines.partial, lines.partialBytes);
    this.#promptTimer = setTimeout(() => {
      this.#promptTimer = undefined;
      if (this.#lines === lines) this.#setPrompt(lines.partial, lines.partialBytes);
    }, this.#promptDelay);
  }

  #setPrompt(text: string, bytes: number): void {
    this.#promptBytes = bytes;
    if (text === this.#prompt) return;
    this.#prompt = text;
    this.#options.events.partial(text);
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

  /**
   * The user answered the prompt told last (the owner shows the answer on
   * the prompt's line): the text of that prompt is taken off the partial
   * line, and the line end that ends its line is not a line of its own.
   * Anything that came after the prompt stays, and no text that was not
   * shown as the prompt is ever taken. Does nothing when no prompt is shown.
   */
  answerPrompt(): void {
    const lines = this.#lines;
    if (!lines || this.#prompt === "") return;
    lines.consume(this.#promptBytes);
    this.#answered = true;
    this.#setPrompt("", 0);
    this.#partialChanged(false);
  }

  /** Stops: closes the link and ends any wait; `run` then resolves. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    clearTimeout(this.#promptTimer);
    this.#link?.close();
  }
}
