/**
 * The WebSocket session (`GET /ws` on the HTTP door). Each text frame from
 * the client is one line of the line protocol (the same commands, the same
 * rules: max line, rate limit, login timeout); each event goes back as one
 * JSON object in one text frame (the JSON dialect, rendered once and shared).
 * Binary frames, oversize frames and invalid UTF-8 end the session with a
 * close code and a reason. Dead peers are found with ping/pong; a client
 * that does not read is dropped at `--max-queue` like any other.
 *
 * @example
 * ```ts
 * // In a browser served by teaparty:
 * // const ws = new WebSocket(`ws://${location.host}/ws`);
 * // ws.onmessage = (m) => console.log(JSON.parse(m.data));
 * // ws.onopen = () => ws.send("login alice");
 * ```
 * @module
 */
import { type Connection, errorText, Session, type SessionHost } from "../session.ts";
import { json } from "../dialects/json.ts";
import { dispatch } from "../commands/table.ts";
import type { CommandTable } from "../commands/table.ts";
import type { Chat } from "../chat.ts";
import { type LineListener, linesFrom, type LineSource, type TOO_LONG } from "../line_reader.ts";
import { closeFrame, pingFrame, pongFrame, readMessages, WebSocketClose } from "../wire/websocket.ts";

const sessions = new Set<WebSocketSession>();
let heartbeat: ReturnType<typeof setInterval> | undefined;
const PING = pingFrame(new Uint8Array(0));
const EMPTY = new Uint8Array(0);

// One timer for every WebSocket session (not one per connection).
function beat(): void {
  for (const s of sessions) s.ping();
}

/** What a WebSocket session needs from its door. */
export interface WebSocketDoorLike {
  readonly chat: Chat;
  readonly commands: CommandTable;
  readonly scheme: string;
}

/** One WebSocket client. */
export class WebSocketSession extends Session {
  #door: WebSocketDoorLike;
  #initial: Uint8Array;
  #waitingForPong = false;
  #closeSent = false;

  /** A session over an upgraded connection; `initial` holds bytes read past the HTTP request. */
  constructor(door: WebSocketDoorLike, host: SessionHost, conn: Connection, ip: string, initial: Uint8Array) {
    super(host, conn, ip, json);
    this.#door = door;
    this.#initial = initial;
  }

  /** A page's log is gone once it is reloaded: history on entering shows what the nick saw before, too. */
  get forgetful(): boolean {
    return true;
  }

  /** "websocket", or "websockets" over TLS. */
  get door(): string {
    return this.#door.scheme === "https" ? "websockets" : "websocket";
  }

  protected greet(): void {
    const seconds = this.host.options.keepalive; // a peer that has not answered by the next ping is dropped
    if (seconds > 0) {
      sessions.add(this);
      if (heartbeat === undefined) {
        heartbeat = setInterval(beat, seconds * 1000);
        Deno.unrefTimer(heartbeat as unknown as number);
      }
    }
    this.send({
      type: "welcome",
      server: this.host.options.name,
      text: "Log in with: login <nick>    (help lists the commands)",
      maxLine: this.host.options.maxLine, // a longer message closes with 1009: the page refuses it first
    });
  }

  /**
   * Sends a ping, or drops the peer if the last one went unanswered. While
   * the session holds a line back (rate limit, handling) it reads no frames,
   * so a pong may be waiting unread: that round the peer counts as alive.
   */
  ping(): void {
    if (this.closed) return;
    if (this.held) {
      this.#waitingForPong = false;
      return;
    }
    if (this.#waitingForPong) {
      this.closeWith(1001, "no answer to ping");
      return;
    }
    this.#waitingForPong = true;
    this.sendBytes(PING);
  }

  protected lines(listener: LineListener): LineSource {
    return linesFrom(this.#messages(), listener);
  }

  // The client's text messages, until its close frame (answered) or the connection's end.
  async *#messages(): AsyncGenerator<string | typeof TOO_LONG> {
    let close;
    const initial = this.#initial;
    this.#initial = EMPTY;
    try {
      close = yield* readMessages(this.conn, {
        maxMessage: this.host.options.maxLine,
        initial,
        onPing: (payload) => this.sendBytes(pongFrame(payload.slice())),
        onPong: () => {
          this.#waitingForPong = false;
        },
      });
    } catch (error) {
      if (!(error instanceof WebSocketClose)) throw error;
      await this.#closing(error.code, error.reason);
      this.closeReason = `websocket closed with ${error.code}: ${error.reason}`;
      return;
    }
    if (close) {
      // The client sent a close frame: answer it with its own code, as RFC 6455 asks.
      await this.#closing(close.code === 1005 ? 1000 : close.code, "");
      this.closeReason ||= `websocket closed by client (${close.code}${close.reason ? `: ${close.reason}` : ""})`;
    }
  }

  protected handle(line: string): Promise<void> {
    return dispatch(this.#door.chat, this.#door.commands, this, line);
  }

  protected override lostReason(error: unknown): string {
    return `connection lost: ${errorText(error)}`;
  }

  /** Sends a close frame (once), then closes the session. */
  closeWith(code: number, reason: string): void {
    this.#closing(code, reason).then(() => this.close(`websocket closed with ${code}: ${reason}`, "warn"));
  }

  // Queues the close frame and waits (briefly) for it to be written.
  async #closing(code: number, reason: string): Promise<void> {
    if (this.#closeSent) return;
    this.#closeSent = true;
    this.sendBytes(closeFrame(code, reason));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.outbox.drained(), new Promise((r) => timer = setTimeout(r, 1000))]);
    clearTimeout(timer);
  }

  protected override async finish(): Promise<void> {
    await this.outbox.drained();
    await this.#closing(this.closeReason === "server shutting down" ? 1001 : 1000, this.closeReason);
  }

  override close(reason: string, level: "info" | "warn" = "info"): void {
    sessions.delete(this);
    if (sessions.size === 0 && heartbeat !== undefined) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
    super.close(reason, level);
  }
}
