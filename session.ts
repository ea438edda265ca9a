/**
 * A session: one connection, from greeting to goodbye, whatever door it came
 * through. It reads the connection's lines (pausing reads while its token
 * bucket is empty, so a flood is slowed, never dropped), hands each to its
 * door's handler, and sends through its own bounded {@linkcode Outbox} in its
 * door's dialect. Once logged in it carries a {@linkcode User}; the user is
 * who someone is, the session is how they are connected.
 *
 * A door makes a subclass that says how lines are read (`lines`) and
 * handled (`handle`).
 *
 * @example
 * ```ts
 * // Sessions are made by doors for each accepted connection:
 * import { ChatServer } from "./server.ts";
 * const server = new ChatServer({ port: 0 });
 * server.listen();
 * await server.shutdown();
 * ```
 * @module
 */
import type { ServerOptions } from "./config.ts";
import type { Journal } from "./journal.ts";
import type { User } from "./user.ts";
import type { ChatEvent } from "./events.ts";
import type { Delivery, Dialect, Receiver } from "./dialects/dialect.ts";
import { TOO_LONG } from "./line_reader.ts";
import { Outbox, type OutboxOwner } from "./outbox.ts";
import { TokenBucket } from "./rate.ts";
import { Counter, type CounterChild } from "./metrics.ts";

let nextId = 1;

/** Lines (or WebSocket messages, IRC lines) received, by door. */
export const linesReceived: Counter = new Counter("teaparty_lines_received_total", "Lines received, by door.", [
  "door",
]);
/** Deliveries queued to sessions (one event to one receiver). */
export const deliveries: Counter = new Counter("teaparty_deliveries_total", "Events queued to receivers.");
/** Sessions dropped because they did not read (their queue passed --max-queue). */
export const slowConsumers: Counter = new Counter(
  "teaparty_slow_consumers_dropped_total",
  "Connections dropped for not reading (send queue past --max-queue).",
);
const lineCounters = new Map<string, CounterChild>();

/** A connection as a session uses it: a `Deno.Conn` or `Deno.TlsConn`. */
export interface Connection {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** What a session needs from the server it is on. */
export interface SessionHost {
  /** The options in force. */
  readonly options: ServerOptions;
  /** The one way out for everything sent (keeps each user's lines in order). */
  readonly journal: Journal;
  /** The session is ending: its user leaves its rooms and frees its nick. Idempotent. */
  release(session: Session): void;
  /** Called once when the session's connection is closed. */
  closed(session: Session, reason: string, level: "info" | "warn"): void;
}

/** One connected client, on any door. */
export abstract class Session implements OutboxOwner, Receiver {
  /** A number unique in this process. */
  readonly id: number = nextId++;
  /** The connection. */
  readonly conn: Connection;
  /** The client's address. */
  readonly ip: string;
  /** The server this session is on. */
  readonly host: SessionHost;
  /** How events are rendered for this client. */
  dialect: Dialect;
  /** The user, once logged in. */
  user: User | undefined;
  /** When set, the next line goes here instead of to the handler (a password prompt). */
  prompt: ((line: string) => void | Promise<void>) | undefined;
  /** The outgoing queue. */
  readonly outbox: Outbox;
  /** Why the session ended, once it has. */
  closeReason = "";
  #bucket: TokenBucket | undefined;
  #loginTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #ending = false;

  /** Wraps an accepted connection from `ip`, speaking `dialect`. */
  constructor(host: SessionHost, conn: Connection, ip: string, dialect: Dialect) {
    this.host = host;
    this.conn = conn;
    this.ip = ip;
    this.dialect = dialect;
    const { maxQueue, rate, burst } = host.options;
    this.outbox = new Outbox(conn, maxQueue, this);
    if (rate > 0) this.#bucket = new TokenBucket(rate, burst);
  }

  /** The door's name, for logs and metrics ("telnet", "websocket" …). */
  abstract get door(): string;

  /** The lines (or messages) the client sends; ends when the connection does. */
  protected abstract lines(): AsyncIterable<string | typeof TOO_LONG>;

  /** Handles one line (a command, chat, or a line of another protocol). */
  protected abstract handle(line: string): void | Promise<void>;

  /** Sends the greeting (called once, when the session starts). */
  protected abstract greet(): void;

  /** The nick, or "" before login. */
  get nick(): string {
    return this.user?.nick ?? "";
  }

  /** The nick's key, or "" before login. */
  get key(): string {
    return this.user?.key ?? "";
  }

  /** True once the session has a user. */
  get loggedIn(): boolean {
    return this.user !== undefined;
  }

  /** True once the session is closed or closing. */
  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  /** The outbox passed `--max-queue`: the client is not reading. */
  overflowed(): void {
    slowConsumers.inc();
    this.close(`send queue passed ${this.host.options.maxQueue} bytes (client not reading)`, "warn");
  }

  /** Writing to the connection failed. */
  writeFailed(error: unknown): void {
    this.close(`write failed: ${errorText(error)}`);
  }

  /** Queues a delivery's bytes in this session's dialect. */
  receive(delivery: Delivery): void {
    const bytes = delivery.bytes(this.dialect);
    if (bytes.length === 0) return;
    deliveries.inc();
    this.outbox.push(bytes);
  }

  /** Queues raw bytes (protocol negotiation), bypassing dialect and journal. */
  sendBytes(bytes: Uint8Array): void {
    this.outbox.push(bytes);
  }

  /** Sends an event to this session, in order behind anything still being stored. */
  send(event: ChatEvent): void {
    this.host.journal.tell(this, event);
  }

  /** Sends a server notice. */
  notice(text: string): void {
    this.send({ type: "notice", text });
  }

  /** Sends an error (a refusal answering what the client sent). */
  fail(text: string): void {
    this.send({ type: "error", text });
  }

  /** Takes `tokens` of the rate limit; returns the milliseconds to wait before the last is there (0: none). */
  protected charge(tokens = 1): number {
    let wait = 0;
    for (let i = 0; i < tokens; i++) wait = this.#bucket?.take() ?? 0;
    return wait;
  }

  /** Takes a token for one line; resolves when the rate limit allows it (undefined: at once). */
  protected pace(): Promise<void> | undefined {
    const wait = this.charge();
    if (wait <= 0) return undefined;
    return new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Runs the session until the connection ends. Never throws. */
  async run(): Promise<void> {
    const { options } = this.host;
    let reason = "connection closed by client";
    try {
      this.greet();
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
      const door = this.door;
      let counter = lineCounters.get(door);
      if (!counter) lineCounters.set(door, counter = linesReceived.labels(door));
      for await (const line of this.lines()) {
        if (this.closed) break;
        counter.inc();
        const paced = this.pace();
        if (paced) {
          await paced;
          if (this.closed) break;
        }
        if (line === TOO_LONG) {
          this.tooLong();
        } else if (this.prompt) {
          const prompt = this.prompt;
          this.prompt = undefined;
          await prompt(line);
        } else {
          await this.handle(line);
        }
      }
    } catch (error) {
      reason = this.closed ? this.closeReason : this.lostReason(error);
    }
    if (!this.#ending) this.close(this.closeReason || reason);
  }

  /** Answers a line longer than the door accepts (it was not acted on). */
  protected tooLong(): void {
    this.fail(`Line too long: at most ${this.host.options.maxLine} bytes; it was not sent.`);
  }

  /** Why the connection was lost, from the error that ended reading. */
  protected lostReason(error: unknown): string {
    return `connection lost: ${errorText(error)}`;
  }

  /** Links the session to its user (called by login). */
  loggedInAs(user: User): void {
    this.user = user;
    clearTimeout(this.#loginTimer);
    this.#loginTimer = undefined;
  }

  /**
   * Ends the session politely: the user leaves its rooms, the session gets a
   * last word, and waits (up to `graceMs`) until it is written, then closes.
   */
  async end(reason: string, farewell: string, graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.#ending = true;
    this.closeReason = reason;
    this.host.release(this);
    this.send({ type: "goodbye", text: farewell });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([this.host.journal.settled().then(() => this.finish()), grace]);
    clearTimeout(timer);
    this.#ending = false;
    this.close(reason);
  }

  /** Writes what is queued, and the door's last bytes; resolves when written (or the outbox closed). */
  protected finish(): Promise<void> {
    return this.outbox.drained();
  }

  /** Closes the connection now; the rooms see the user leave. Idempotent. */
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
    this.host.release(this);
    this.host.closed(this, this.closeReason, level);
  }
}

/** An error as one line: its name and message. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The client's address; IPv4 clients of a dual-stack listener (`::ffff:1.2.3.4`) as plain IPv4. */
export function clientAddress(conn: Deno.Conn): string {
  const host = (conn.remoteAddr as Deno.NetAddr).hostname;
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice(7) : host;
}
