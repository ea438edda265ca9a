/**
 * The telnet door: line-based chat over plain TCP (`--port`, for telnet,
 * MUD clients and `nc`) or over TLS (`--tls-port`, as Mudlet and
 * `openssl s_client` use it). Lines go to the command table; events come
 * back in the telnet dialect.
 *
 * @example
 * ```ts
 * // Opened by the server for --port and --tls-port:
 * import { ChatServer } from "../server.ts";
 * const server = new ChatServer({ host: "127.0.0.1", port: 0 });
 * await server.listen();
 * await server.shutdown();
 * ```
 * @module
 */
import { type AcceptedConn, answerAndClose, type Door, type DoorHost, DoorListener, type TlsFiles } from "./door.ts";
import { clientAddress, Session } from "../session.ts";
import { encodeLine, telnet, telnetLines } from "../dialects/telnet.ts";
import { Delivery } from "../dialects/dialect.ts";
import { type ByteFilter, type ByteSource, type LineListener, LineReader, type LineSource } from "../line_reader.ts";
import { IAC, OFFER, TelnetFilter, type TelnetPeer } from "../telnet.ts";
import { dispatch } from "../commands/table.ts";
import { keptRedraw, type RedrawControl } from "../commands/redraw.ts";
import type { ChatEvent, LoginEvent } from "../events.ts";
import type { CompletionSources } from "../term/complete.ts";
import { Redraw } from "./redraw.ts";
import { isPlainTerminal } from "./terminals.ts";

/** `IAC DO TIMING-MARK`: every telnet client answers it (RFC 860), which shows it is still there. */
const PROBE = new Uint8Array([IAC, 253, 6]);

const telnetSessions = new Set<TelnetSession>();
let prober: ReturnType<typeof setInterval> | undefined;
let proberSeconds = 0;

// One timer for every telnet session: probe those that speak telnet and were silent since the last tick.
function probeAll(): void {
  for (const s of telnetSessions) s.probe();
}

/** Telnet commands that cost one token of the rate limit, as one line does. */
export const COMMANDS_PER_TOKEN = 8;

const encoder = new TextEncoder();

export type { TlsFiles } from "./door.ts";

/**
 * A telnet session: one telnet (or TLS telnet, or `nc`) connection. A plain
 * terminal (TERMINAL-TYPE xterm, vt100, linux, screen …) is switched to
 * character mode and its line edited here (redraw mode, see redraw.ts);
 * everything else stays in line mode, where the client sends whole lines.
 */
export class TelnetSession extends Session implements ByteFilter, ByteSource, TelnetPeer, RedrawControl {
  #door: TelnetDoor;
  #telnet: TelnetFilter | undefined;
  #heard = true; // bytes came since the last keepalive tick
  #probed = false; // a probe is out, unanswered
  #redraw: Redraw | undefined; // only in redraw mode
  #carry: Uint8Array | undefined; // bytes read but not handled yet, left over when the mode changed
  #asked = false; // the user asked for redraw mode (/redraw on): a refusal is told

  /** Wraps an accepted connection of `door`. */
  constructor(door: TelnetDoor, conn: AcceptedConn, ip: string) {
    super(door.host.chat, conn, ip, telnet);
    this.#door = door;
  }

  /** "telnet", or "telnets" over TLS. */
  get door(): string {
    return this.#door.scheme;
  }

  /** Telnet negotiation state, made when first needed (`nc` and loadgen never send IAC). */
  get telnet(): TelnetFilter {
    return this.#telnet ??= new TelnetFilter(this, { offered: true, askTerminalType: true });
  }

  /** True while redraw mode is on. */
  get redrawOn(): boolean {
    return this.#redraw !== undefined;
  }

  /** Asks the client for character mode (redraw mode) or line mode; see {@linkcode RedrawControl}. */
  setRedraw(on: boolean): string | undefined {
    const telnet = this.#telnet;
    if (on === this.redrawOn && !telnet?.characterModePending) return undefined;
    if (!on) {
      this.#asked = false;
      telnet?.setCharacterMode(false);
      return undefined;
    }
    if (telnet === undefined || telnet.commands === 0) {
      return "Redraw mode needs a telnet client: yours sent no telnet negotiation (as nc does), so it stays in line mode.";
    }
    if (telnet.terminal !== "" && !isPlainTerminal(telnet.terminal)) {
      return `Your client (${telnet.terminal}) edits its lines itself; redraw mode is for plain terminals ` +
        "(xterm, vt100, linux, screen, tmux …).";
    }
    this.#asked = true;
    telnet.setCharacterMode(true);
    return undefined;
  }

  /** The client named its terminal: a plain terminal goes to redraw mode, unless its user chose otherwise. */
  terminalType(name: string): void {
    if (!isPlainTerminal(name)) return;
    const user = this.user;
    if (user?.registered && keptRedraw(this.#door.host.chat.store, user.key) === false) return;
    this.telnet.setCharacterMode(true);
  }

  /** The client's window changed size. */
  windowSize(columns: number): void {
    this.#redraw?.resize(columns);
  }

  /** The client refused character mode (or dropped it): line mode stays, and a user who asked is told. */
  characterModeRefused(): void {
    if (!this.#asked) return;
    this.#asked = false;
    this.fail("Your telnet client refused character mode, so redraw mode is off; it edits lines itself as before.");
  }

  /**
   * The line reader's source: the connection in line mode; in redraw mode,
   * the lines the user finished typing (keys are read and edited here).
   */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#redraw === undefined && this.#carry === undefined) return this.conn.read(p);
    return this.#readEdited(p);
  }

  async #readEdited(p: Uint8Array): Promise<number | null> {
    while (true) {
      const redraw = this.#redraw;
      if (redraw === undefined) { // line mode again: what was carried over first, then the connection
        const carry = this.#carry;
        if (carry === undefined) return this.conn.read(p);
        const n = Math.min(p.length, carry.length);
        p.set(carry.subarray(0, n));
        this.#carry = n < carry.length ? carry.subarray(n) : undefined;
        return n;
      }
      if (redraw.pending > 0) return redraw.take(p);
      let keys = this.#carry;
      this.#carry = undefined;
      if (keys === undefined) {
        const n = await this.conn.read(p);
        if (n === null) return null;
        this.#heard = true;
        keys = p.subarray(0, n);
      }
      const telnet = this.telnet;
      const end = telnet.filter(keys, 0, keys.length);
      this.#leftOver(keys, keys.length);
      if (this.prompt !== undefined) redraw.secret = true; // a password is asked for
      redraw.type(keys.subarray(0, end));
      this.#switchMode();
      const wait = Math.max(this.charge(redraw.tokensFor(keys.length)), this.pause());
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (this.closed) return null;
      }
    }
  }

  // After filtering buf[…, end): bytes past a change of mode are kept for the next read, in the new mode.
  #leftOver(buf: Uint8Array, end: number): void {
    const telnet = this.#telnet!;
    const at = telnet.switchedAt;
    if (at < 0) return;
    telnet.switchedAt = -1;
    this.#carry = join(buf.slice(at, end), this.#carry);
  }

  // Starts or ends redraw mode when the client's character mode began or ended.
  #switchMode(): void {
    const telnet = this.#telnet!;
    const redraw = this.#redraw;
    if (telnet.characterMode === (redraw !== undefined)) return;
    if (redraw === undefined) {
      this.#redraw = new Redraw({
        columns: telnet.columns,
        maxLine: this.host.options.maxLine,
        send: (bytes) => this.outbox.push(bytes),
        tooLong: () => this.fail(`Line too long: at most ${this.host.options.maxLine} bytes; the rest was not taken.`),
        completions: () => this.#completions(),
      });
      if (!this.#asked && !this.loggedIn) {
        this.notice("Redraw mode: your typing stays put while others talk; /redraw off stops it.");
      }
      this.#asked = false;
      return;
    }
    // Back to line mode: lines typed and the unfinished one go to the line reader, before what came after.
    this.#redraw = undefined;
    const typed = new Uint8Array(redraw.pending);
    redraw.take(typed);
    this.#carry = join(join(typed, encoder.encode(redraw.text)), this.#carry);
    if (this.#carry.length === 0) this.#carry = undefined;
  }

  #completions(): CompletionSources {
    const { commands } = this.#door.host;
    const room = this.user?.room;
    return {
      nicks: room ? [...room.members].map((m) => m.nick) : [],
      commands: commands.all.map((c) => "/" + c.name),
    };
  }

  /** Charges the telnet commands received against the rate limit (see `ByteFilter.pause`). */
  pause(): number {
    const tokens = this.#telnet?.tokensDue(COMMANDS_PER_TOKEN) ?? 0;
    return tokens > 0 ? this.charge(tokens) : 0;
  }

  /**
   * Called once per keepalive period: a session that speaks telnet and sent
   * nothing for a whole period is asked for a timing mark; one that answers
   * nothing by the next period is gone (its network vanished) and is closed.
   * Clients that never negotiated (`nc`) are left to TCP keepalive.
   */
  probe(): void {
    if (this.closed) return;
    if (this.held) { // its lines wait on the rate limit: an answer behind them is not read yet
      this.#probed = false;
      return;
    }
    if (this.#heard) {
      this.#heard = false;
      this.#probed = false;
      return;
    }
    if (this.#telnet === undefined || this.#telnet.commands === 0) return;
    if (this.#probed) {
      this.close(`no answer to keepalive for ${2 * proberSeconds} s`, "warn");
      return;
    }
    this.#probed = true;
    this.sendBytes(PROBE);
  }

  /** Removes telnet commands from received bytes (see `TelnetFilter.filter`). */
  filter(buf: Uint8Array, start: number, end: number): number {
    if (this.#redraw !== undefined) return end; // lines typed in redraw mode: filtered when they were keys
    this.#heard = true;
    if (this.#telnet === undefined) {
      const iac = buf.indexOf(IAC, start);
      if (iac === -1 || iac >= end) return end;
    }
    const out = this.telnet.filter(buf, start, end);
    if (this.#telnet!.switchedAt >= 0 || this.#telnet!.characterMode !== (this.#redraw !== undefined)) {
      this.#leftOver(buf, end);
      this.#switchMode();
    }
    return out;
  }

  /**
   * Queues a delivery; a password prompt also tells the telnet filter that
   * the server echoes now. In redraw mode the partial line is erased before
   * it and drawn again when the outbox is written (see `flushing`), and a
   * password prompt hides what is typed instead.
   */
  override receive(delivery: Delivery): void {
    const event = delivery.event;
    const type = event.type;
    if (type === "login") this.#loggedIn(event);
    const redraw = this.#redraw;
    if (redraw === undefined) {
      if (type === "password") this.telnet.serverEcho = true;
      else if (type === "password-done" && this.#telnet) this.#telnet.serverEcho = false;
      super.receive(delivery);
      return;
    }
    let bytes: Uint8Array;
    if (type === "password") {
      redraw.secret = true;
      bytes = encodeLine(telnetLines(event)[0]); // without ECHO_OFF: the server echoes already
    } else if (type === "password-done") {
      redraw.secret = false; // Enter already ended the line
      return;
    } else bytes = delivery.bytes(this.dialect);
    if (bytes.length === 0) return;
    redraw.output();
    this.outbox.push(bytes);
    if (type === "goodbye") redraw.stop();
  }

  /** The outbox is about to write: in redraw mode, the partial line goes back on screen after the output. */
  flushing(): void {
    this.#redraw?.flushing();
  }

  // A registered nick's kept choice of redraw mode applies at login.
  #loggedIn(event: ChatEvent): void {
    const telnet = this.#telnet;
    if (!(event as LoginEvent).registered || telnet === undefined) return;
    const kept = keptRedraw(this.#door.host.chat.store, this.key);
    if (kept === false) telnet.setCharacterMode(false);
    else if (kept === true && !this.redrawOn) this.setRedraw(true);
  }

  protected greet(): void {
    const seconds = this.host.options.keepalive;
    if (seconds > 0) {
      telnetSessions.add(this);
      if (prober === undefined) {
        proberSeconds = seconds;
        prober = setInterval(probeAll, seconds * 1000);
        Deno.unrefTimer(prober as unknown as number);
      }
    }
    this.outbox.push(OFFER); // DO BINARY, so that plain telnet sends 8-bit text (see telnet.ts)
    this.outbox.push(this.#door.greeting);
  }

  override close(reason: string, level: "info" | "warn" = "info"): void {
    telnetSessions.delete(this);
    if (telnetSessions.size === 0 && prober !== undefined) {
      clearInterval(prober);
      prober = undefined;
    }
    super.close(reason, level);
  }

  protected lines(listener: LineListener): LineSource {
    return new LineReader(this, { maxLine: this.host.options.maxLine, telnet: this }, listener);
  }

  protected handle(line: string): Promise<void> {
    const { chat, commands } = this.#door.host;
    return dispatch(chat, commands, this, line);
  }
}

/** Options of {@linkcode TelnetDoor}. */
export interface TelnetDoorOptions {
  hostname: string;
  port: number;
  /** Certificate and key: the door speaks TLS. */
  tls?: TlsFiles;
}

/** The telnet door, plain or over TLS. */
export class TelnetDoor implements Door {
  /** The server. */
  readonly host: DoorHost;
  /** The greeting every connection gets, rendered once. */
  readonly greeting: Uint8Array;
  #options: TelnetDoorOptions;
  #socket: DoorListener;

  /** A door on `options.hostname:options.port`; call `listen` to open it. */
  constructor(host: DoorHost, options: TelnetDoorOptions) {
    this.host = host;
    this.#options = options;
    this.#socket = new DoorListener(this.scheme, host.log, (conn, why) => this.#refuse(conn, clientAddress(conn), why));
    this.greeting = new Delivery({
      type: "welcome",
      server: host.options.name,
      text: "Log in with: login <nick>    (help lists the commands)",
    }).bytes(telnet).slice(); // a copy: kept for the door's life, it must not keep a slab of lines alive
  }

  get scheme(): string {
    return this.#options.tls ? "telnets" : "telnet";
  }

  async listen(): Promise<Deno.NetAddr> {
    await this.#socket.open(this.#options, this.host.options.reusePort, (conn) => this.#admit(conn));
    return this.addr;
  }

  get addr(): Deno.NetAddr {
    return this.#socket.addr;
  }

  get url(): string {
    return this.#socket.url;
  }

  async close(): Promise<void> {
    await this.#socket.close();
  }

  // Answers a connection that is not let in with its one-line reason, and closes it.
  #refuse(conn: AcceptedConn, ip: string, refusal: string): Promise<void> {
    this.host.refused(ip, this.scheme, refusal);
    return answerAndClose(conn, new Delivery({ type: "error", text: refusal }).bytes(telnet));
  }

  #admit(conn: AcceptedConn): void {
    const { gate, chat } = this.host;
    const ip = clientAddress(conn);
    const refusal = gate.admit(ip);
    if (refusal) {
      this.#refuse(conn, ip, refusal);
      return;
    }
    if (!this.#options.tls) { // (a TLS listener does both itself)
      try {
        (conn as Deno.TcpConn).setNoDelay(true); // lines go out at once (no Nagle delay)
        (conn as Deno.TcpConn).setKeepAlive(true); // a vanished peer is noticed even if nobody writes to it
      } catch { /* gone */ }
    }
    let session: TelnetSession;
    try {
      session = new TelnetSession(this, conn, ip);
      chat.opened(session);
      this.host.connected(session);
    } catch (error) {
      gate.leave(ip);
      throw error;
    }
    session.run(); // the gate is left when the session closes (the server's "close" event)
  }
}

function join(a: Uint8Array, b: Uint8Array | undefined): Uint8Array {
  if (b === undefined || b.length === 0) return a;
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
