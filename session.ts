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
 * await server.listen();
 * await server.shutdown();
 * ```
 * @module
 */
import type { ServerOptions } from "./config.ts";
import type { Journal } from "./journal.ts";
import type { User } from "./user.ts";
import type { ChatEvent } from "./events.ts";
import type { Delivery, Dialect, Receiver } from "./dialects/dialect.ts";
import { type LineListener, type LineSource, TOO_LONG } from "./line_reader.ts";
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

/** A connection as a session uses it: a `Deno.Conn`, or a TLS connection of `wire/node_tls.ts`. */
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
  release(session: Session, quit?: string): void;
  /** Called once when the session's connection is closed. */
  closed(session: Session, reason: string, level: "info" | "warn"): void;
}

/** One connected client, on any door. */
export abstract class Session implements OutboxOwner, Receiver, LineListener {
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
  #lines: LineSource | undefined;
  #counter: CounterChild | undefined;
  #taken = 0; // characters of lines handled since the session last let the event loop turn (see #take)
  #held = false; // a line read waits for the rate limit, a turn of the event loop or its handling (see held)

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

  /** Where the lines (or messages) the client sends come from; it tells `listener` when a read is done. */
  protected abstract lines(listener: LineListener): LineSource;

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

  /**
   * True while a line already read waits for the rate limit (or a turn of
   * the event loop) or is still being handled: the session reads nothing
   * more from the client meanwhile, so whatever came behind that line (a
   * pong, a PONG) is unread. A keepalive must not judge such a peer dead.
   */
  get held(): boolean {
    return this.#held;
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
    this.outbox.push(bytes, delivery.after(this.dialect));
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

  /**
   * Runs the session until the connection ends; never throws. It is driven
   * by callbacks, not a coroutine: while a client says nothing, the session
   * holds one pending read and nothing else.
   */
  run(): void {
    const { options } = this.host;
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
      this.#counter = counter;
      this.#lines = this.lines(this);
    } catch (error) {
      this.readFailed(error);
      return;
    }
    this.#take();
  }

  /** A read is done (the line source's listener): the lines it brought are handled in order. */
  linesArrived(): void {
    this.#take();
  }

  /** Reading failed: the connection was lost (or closed under the reader). */
  readFailed(error: unknown): void {
    this.#stopped(this.closed ? this.closeReason : this.lostReason(error));
  }

  // Handles the lines already read, one at a time: each waits for the rate limit and for the one before it.
  #take(): void {
    const lines = this.#lines!;
    try {
      while (!this.closed) {
        const line = lines.next();
        if (line === undefined) {
          if (lines.ended) break;
          lines.read();
          return;
        }
        this.#counter!.inc();
        const wait = this.charge();
        if (wait > 0) {
          this.#held = true;
          setTimeout(() => this.#paced(line), wait);
          return;
        }
        // Reads of a connection with data waiting may all finish within one turn of the event loop, so a
        // flood with no rate limit (--rate 0) would be handled whole before any output is written, and the
        // room's readers dropped as not reading: past half a --max-queue, the loop turns (writes go) first.
        this.#taken += line === TOO_LONG ? this.host.options.maxLine : line.length;
        if (this.#taken > this.host.options.maxQueue / 2) {
          this.#taken = 0;
          this.#held = true;
          setImmediate(() => this.#paced(line));
          return;
        }
        const handled = this.#handle(line);
        if (handled) return this.#resume(handled);
      }
    } catch (error) {
      this.readFailed(error);
      return;
    }
    this.#stopped("connection closed by client");
  }

  // The rate limit let `line` through.
  #paced(line: string | typeof TOO_LONG): void {
    this.#held = false;
    if (this.closed) return this.#stopped("");
    let handled;
    try {
      handled = this.#handle(line);
    } catch (error) {
      return this.readFailed(error);
    }
    if (handled) this.#resume(handled);
    else this.#take();
  }

  // A line's handling goes on: the next lines once it is done.
  #resume(handled: Promise<void>): void {
    this.#held = true;
    handled.then(() => {
      this.#held = false;
      this.#take();
    }, (error) => {
      this.#held = false;
      this.readFailed(error);
    });
  }

  // One line to the prompt waiting for it, or to the door's handler; a promise when handling goes on.
  #handle(line: string | typeof TOO_LONG): Promise<void> | undefined {
    if (line === TOO_LONG) {
      this.tooLong();
      return undefined;
    }
    const prompt = this.prompt;
    if (prompt) {
      this.prompt = undefined;
      return pending(prompt(line));
    }
    return pending(this.handle(line));
  }

  // Reading has stopped: the session closes (unless it is ending politely, which closes it when done).
  #stopped(reason: string): void {
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
   * Ends the session politely: the user leaves its rooms (`quit`: why, as
   * the others are told, e.g. "Kicked by opal: bye"), the session gets a
   * last word, and waits (up to `graceMs`) until it is written, then closes.
   */
  async end(reason: string, farewell: string, graceMs = 5000, quit?: string): Promise<void> {
    if (this.closed) return;
    this.#ending = true;
    this.closeReason = reason;
    this.host.release(this, quit);
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
    this.#lines?.close?.();
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
    this.host.release(this);
    this.host.closed(this, this.closeReason, level);
  }
}

// A handler's answer as a promise to wait for, or undefined when it is done already.
function pending(result: void | Promise<void>): Promise<void> | undefined {
  return result instanceof Promise ? result : undefined;
}

/** An error as one line: its name and message. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The client's address; IPv4 clients of a dual-stack listener (`::ffff:1.2.3.4`) as plain IPv4. */
export function clientAddress(conn: { readonly remoteAddr: Deno.Addr }): string {
  const host = (conn.remoteAddr as Deno.NetAddr).hostname;
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice(7) : host;
}
