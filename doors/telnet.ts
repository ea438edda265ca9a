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
 * server.listen();
 * await server.shutdown();
 * ```
 * @module
 */
import { acceptLoop, type Door, type DoorHost, urlOf } from "./door.ts";
import { clientAddress, Session } from "../session.ts";
import { telnet } from "../dialects/telnet.ts";
import { Delivery } from "../dialects/dialect.ts";
import { type ByteFilter, readLines, type TOO_LONG } from "../line_reader.ts";
import { IAC, OFFER, TelnetFilter } from "../telnet.ts";
import { dispatch } from "../commands/table.ts";

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

/** TLS settings of a door: PEM certificate chain and private key. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** A telnet session: one telnet (or TLS telnet, or `nc`) connection. */
export class TelnetSession extends Session implements ByteFilter {
  #door: TelnetDoor;
  #telnet: TelnetFilter | undefined;
  #heard = true; // bytes came since the last keepalive tick
  #probed = false; // a probe is out, unanswered

  /** Wraps an accepted connection of `door`. */
  constructor(door: TelnetDoor, conn: Deno.Conn, ip: string) {
    super(door.host.chat, conn, ip, telnet);
    this.#door = door;
  }

  /** "telnet", or "telnets" over TLS. */
  get door(): string {
    return this.#door.scheme;
  }

  /** Telnet negotiation state, made when first needed (`nc` and loadgen never send IAC). */
  get telnet(): TelnetFilter {
    return this.#telnet ??= new TelnetFilter(this, { offered: true });
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
    this.#heard = true;
    if (this.#telnet === undefined) {
      const iac = buf.indexOf(IAC, start);
      if (iac === -1 || iac >= end) return end;
    }
    return this.telnet.filter(buf, start, end);
  }

  /** Queues a delivery; a password prompt also tells the telnet filter that the server echoes now. */
  override receive(delivery: Delivery): void {
    const type = delivery.event.type;
    if (type === "password") this.telnet.serverEcho = true;
    else if (type === "password-done" && this.#telnet) this.#telnet.serverEcho = false;
    super.receive(delivery);
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

  protected lines(): AsyncIterable<string | typeof TOO_LONG> {
    return readLines(this.conn, { maxLine: this.host.options.maxLine, telnet: this });
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
  #listener: Deno.Listener | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;

  /** A door on `options.hostname:options.port`; call `listen` to open it. */
  constructor(host: DoorHost, options: TelnetDoorOptions) {
    this.host = host;
    this.#options = options;
    this.greeting = new Delivery({
      type: "welcome",
      server: host.options.name,
      text: "Log in with: login <nick>    (help lists the commands)",
    }).bytes(telnet);
  }

  get scheme(): string {
    return this.#options.tls ? "telnets" : "telnet";
  }

  listen(): Deno.NetAddr {
    const { hostname, port, tls } = this.#options;
    this.#listener = tls
      ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key, reusePort: this.host.options.reusePort })
      : Deno.listen({ hostname, port, reusePort: this.host.options.reusePort });
    this.#loop = acceptLoop(
      this.#listener,
      (conn) => this.#admit(conn),
      this.host.log,
      this.scheme,
      () => this.#stopping,
    );
    return this.addr;
  }

  get addr(): Deno.NetAddr {
    if (!this.#listener) throw new Error(`the ${this.scheme} door is not listening; call listen() first`);
    return this.#listener.addr as Deno.NetAddr;
  }

  get url(): string {
    return urlOf(this.scheme, this.addr);
  }

  async close(): Promise<void> {
    this.#stopping = true;
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    await this.#loop;
  }

  #admit(conn: Deno.Conn): void {
    const { gate, chat } = this.host;
    const ip = clientAddress(conn);
    const refusal = gate.admit(ip);
    if (refusal) {
      this.host.refused(ip, this.scheme, refusal);
      conn.write(new Delivery({ type: "error", text: refusal }).bytes(telnet)).catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* gone */ }
      });
      return;
    }
    if (!this.#options.tls) {
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
