/**
 * A session: one connection, from greeting to goodbye. It reads the
 * connection's lines (pausing reads while its token bucket is empty, so a
 * flood is slowed, never dropped), hands each to the dispatcher, and sends
 * through its own bounded {@linkcode Outbox}.
 *
 * @example
 * ```ts
 * // Sessions are made by the server for each accepted connection:
 * import { ChatServer } from "./server.ts";
 * const server = new ChatServer({ port: 0 });
 * server.listen();
 * ```
 * @module
 */
import type { ChatServer } from "./server.ts";
import type { Room } from "./rooms.ts";
import { encodeLine } from "./rooms.ts";
import { notice } from "./format.ts";
import { type ByteFilter, readLines, TOO_LONG } from "./line_reader.ts";
import { Outbox, type OutboxOwner } from "./outbox.ts";
import { IAC, OFFER, TelnetFilter } from "./telnet.ts";
import { TokenBucket } from "./rate.ts";
import { dispatch } from "./dispatch.ts";

let nextId = 1;

/** Telnet commands that cost one token of the rate limit, as one line does. */
export const COMMANDS_PER_TOKEN = 8;

/** One connected user. */
export class Session implements OutboxOwner, ByteFilter {
  /** A number unique in this process. */
  readonly id: number = nextId++;
  /** The connection. */
  readonly conn: Deno.Conn;
  /** The client's address. */
  readonly ip: string;
  /** The server this session is on. */
  readonly server: ChatServer;
  /** The nick; "" until logged in. */
  nick = "";
  /** The folded nick (case-insensitive key); "" until logged in. */
  key = "";
  /** The room the session is in, once logged in. */
  room: Room | undefined;
  /** Quiet mode: no room chat is received. */
  quiet = false;
  /** Folded nicks whose chat and private messages this session hides. */
  ignores: Set<string> | undefined;
  /** Logged in to a registered nick (with its password). */
  registered = false;
  /** When set, the next line goes here instead of to the dispatcher (a password prompt). */
  prompt: ((line: string) => void | Promise<void>) | undefined;
  /** Logged in to a registered nick named by `--op`. */
  operator = false;
  /** The outgoing queue. */
  readonly outbox: Outbox;
  #telnet: TelnetFilter | undefined;
  /** Why the session ended, once it has. */
  closeReason = "";
  #bucket: TokenBucket | undefined;
  #loginTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #ending = false;

  /** Wraps an accepted connection. */
  constructor(server: ChatServer, conn: Deno.Conn) {
    this.server = server;
    this.conn = conn;
    this.ip = clientAddress(conn);
    const { maxQueue, rate, burst } = server.options;
    this.outbox = new Outbox(conn, maxQueue, this);
    if (rate > 0) this.#bucket = new TokenBucket(rate, burst);
  }

  /** The outbox passed `--max-queue`: the client is not reading. */
  overflowed(): void {
    this.close(`send queue passed ${this.server.options.maxQueue} bytes (client not reading)`, "warn");
  }

  /** Writing to the connection failed. */
  writeFailed(error: unknown): void {
    this.close(`write failed: ${errorText(error)}`);
  }

  /** Telnet negotiation state, made when first needed (most clients never send IAC). */
  get telnet(): TelnetFilter {
    return this.#telnet ??= new TelnetFilter(this, { offered: true });
  }

  /** Removes telnet commands from received bytes (see `TelnetFilter.filter`). */
  filter(buf: Uint8Array, start: number, end: number): number {
    if (this.#telnet === undefined) {
      const iac = buf.indexOf(IAC, start);
      if (iac === -1 || iac >= end) return end;
    }
    return this.telnet.filter(buf, start, end);
  }

  /** Waits out the rate limit for the telnet commands received (see `ByteFilter.pause`). */
  pause(): number {
    const tokens = this.#telnet?.tokensDue(COMMANDS_PER_TOKEN) ?? 0;
    let wait = 0;
    for (let i = 0; i < tokens; i++) wait = this.#bucket?.take() ?? 0;
    return wait;
  }

  /** True once the session has a nick. */
  get loggedIn(): boolean {
    return this.nick !== "";
  }

  /** True once the session is closed or closing. */
  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  /** Queues encoded bytes (shared between receivers; never copied). */
  sendBytes(bytes: Uint8Array): void {
    this.outbox.push(bytes);
  }

  /** Sends one line as is. */
  send(line: string): void {
    this.outbox.push(encodeLine(line));
  }

  /** Sends a server notice (`*** text`). */
  notice(text: string): void {
    this.outbox.push(encodeLine(notice(text)));
  }

  /** Runs the session until the connection ends. Never throws. */
  async run(): Promise<void> {
    const { options } = this.server;
    this.sendBytes(OFFER);
    this.sendBytes(this.server.greeting);
    if (options.loginTimeout > 0) {
      this.#loginTimer = setTimeout(() => {
        this.#loginTimer = undefined;
        if (!this.loggedIn) {
          this.end(
            `not logged in after ${options.loginTimeout} s`,
            `Login timed out after ${options.loginTimeout} seconds. Goodbye!`,
          );
        }
      }, options.loginTimeout * 1000);
    }
    let reason = "connection closed by client";
    try {
      for await (const line of readLines(this.conn, { maxLine: options.maxLine, telnet: this })) {
        if (this.closed) break;
        const wait = this.#bucket?.take() ?? 0;
        if (wait > 0) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          if (this.closed) break;
        }
        if (line === TOO_LONG) {
          this.server.journal.flush(); // after the user's earlier lines
          this.notice(`Line too long: at most ${options.maxLine} bytes; it was not sent.`);
        } else if (this.prompt) {
          const prompt = this.prompt;
          this.prompt = undefined;
          await prompt(line);
        } else {
          await dispatch(this.server, this, line);
        }
      }
    } catch (error) {
      reason = this.closed ? this.closeReason : `connection lost: ${errorText(error)}`;
    }
    if (!this.#ending) this.close(this.closeReason || reason);
  }

  /** Called by the server when the nick is accepted. */
  loggedInAs(nick: string, key: string): void {
    this.nick = nick;
    this.key = key;
    clearTimeout(this.#loginTimer);
    this.#loginTimer = undefined;
  }

  /**
   * Ends the session politely: leaves the room, sends a last notice, waits
   * (up to `graceMs`) until it is written, then closes.
   */
  async end(reason: string, farewell: string, graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.#ending = true;
    this.closeReason = reason;
    this.server.release(this);
    this.notice(farewell);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.outbox.drained(),
      new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
    ]);
    clearTimeout(timer);
    this.#ending = false;
    this.close(reason);
  }

  /** Closes the connection now; the room sees the user leave. Idempotent. */
  close(reason: string, level: "info" | "warn" = "info"): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.closeReason) this.closeReason = reason;
    clearTimeout(this.#loginTimer);
    this.outbox.close();
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
    this.server.release(this);
    this.server.closed(this, this.closeReason, level);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The client's address; IPv4 clients of a dual-stack listener (`::ffff:1.2.3.4`) as plain IPv4. */
export function clientAddress(conn: Deno.Conn): string {
  const host = (conn.remoteAddr as Deno.NetAddr).hostname;
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice(7) : host;
}
