/**
 * The IRC door: IRC clients (irssi, WeeChat, HexChat, …) on `--irc-port`
 * (6667 by convention) and `--irc-tls-port` (6697), in the same rooms as
 * everyone else. Channels are rooms (`#main` is the main room); an IRC user
 * may be in many at once. Every limit of the other doors holds: the gate
 * (clients, per address, address bans), the rate limit (reads paused, no
 * line dropped), the output queue and the login timeout (registration must
 * finish in time).
 *
 * The door accepts connections and makes an {@linkcode IrcSession}
 * (doors/irc/session.ts) of each, handing it the IRC command table
 * (doors/irc/commands.ts). Silent clients are sent a PING after `--keepalive`
 * seconds (as the other doors probe theirs) and dropped with
 * `ERROR :Ping timeout` if still silent as long again.
 *
 * @example
 * ```ts
 * import { ChatServer } from "../server.ts";
 * const server = new ChatServer({ host: "127.0.0.1", port: 0, ircPort: 0 });
 * await server.listen();
 * console.log(server.doors.map((d) => d.url)); // ["telnet://…", "irc://127.0.0.1:40125"]
 * await server.shutdown();
 * ```
 * @module
 */
import { type AcceptedConn, answerAndClose, type Door, type DoorHost, DoorListener, type TlsFiles } from "./door.ts";
import { clientAddress } from "../session.ts";
import type { Chat } from "../chat.ts";
import type { CommandTable } from "../commands/table.ts";
import { encode } from "../irc/message.ts";
import { ircCommands } from "./irc/commands.ts";
import { type IrcCommand, type IrcServer, IrcSession } from "./irc/session.ts";

/** Options of {@linkcode IrcDoor}. */
export interface IrcDoorOptions {
  hostname: string;
  port: number;
  /** Certificate and key: the door speaks TLS. */
  tls?: TlsFiles;
}

/** The IRC door, plain or over TLS. */
export class IrcDoor implements Door, IrcServer {
  /** The server. */
  readonly host: DoorHost;
  /** When the door was made (003). */
  readonly created: number = Date.now();
  /** The IRC command table its sessions use. */
  readonly ircCommands: ReadonlyMap<string, IrcCommand> = ircCommands;
  /** The sessions of this door. */
  readonly sessions: Set<IrcSession> = new Set();
  #options: IrcDoorOptions;
  #socket: DoorListener;
  #sweep: ReturnType<typeof setInterval> | undefined;

  /** A door on `options.hostname:options.port`; call `listen` to open it. */
  constructor(host: DoorHost, options: IrcDoorOptions) {
    this.host = host;
    this.#options = options;
    this.#socket = new DoorListener(this.scheme, host.log, (conn, why) => this.#refuse(conn, clientAddress(conn), why));
  }

  /** The chat engine. */
  get chat(): Chat {
    return this.host.chat;
  }

  /** The line protocol's command table. */
  get commands(): CommandTable {
    return this.host.commands;
  }

  get scheme(): string {
    return this.#options.tls ? "ircs" : "irc";
  }

  async listen(): Promise<Deno.NetAddr> {
    await this.#socket.open(this.#options, this.host.options.reusePort, (conn) => this.#admit(conn));
    const ping = this.host.options.keepalive * 1000;
    if (ping > 0) {
      this.#sweep = setInterval(() => this.#ping(ping), Math.max(50, Math.min(ping / 4, 10_000)));
      Deno.unrefTimer(this.#sweep as unknown as number);
    }
    return this.addr;
  }

  get addr(): Deno.NetAddr {
    return this.#socket.addr;
  }

  get url(): string {
    return this.#socket.url;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    await this.#socket.close();
  }

  /** PINGs registered clients silent for `ms`, drops those silent for `ms` after their PING. */
  #ping(ms: number): void {
    const now = performance.now();
    for (const s of this.sessions) {
      if (s.closed || !s.registered) continue;
      if (s.pingSent === 0) {
        if (now - s.lastHeard >= ms) s.ping(now);
      } else if (now - s.pingSent >= ms) {
        const text = `Ping timeout: ${Number((ms / 1000).toFixed(1))} seconds`;
        s.quit(text, text, "ping timeout");
      }
    }
  }

  // Answers a connection that is not let in with its one-line reason, and closes it.
  #refuse(conn: AcceptedConn, ip: string, refusal: string): Promise<void> {
    this.host.refused(ip, this.scheme, refusal);
    return answerAndClose(conn, encode(`ERROR :${refusal}\r\n`));
  }

  #admit(conn: AcceptedConn): void {
    const { gate, chat } = this.host;
    const ip = clientAddress(conn);
    const refusal = gate.admit(ip);
    if (refusal) {
      this.#refuse(conn, ip, refusal);
      return;
    }
    if (!this.#options.tls) {
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
        (conn as Deno.TcpConn).setKeepAlive(true);
      } catch { /* gone */ }
    }
    let session: IrcSession;
    try {
      session = new IrcSession(this, conn, ip);
      chat.opened(session);
      this.host.connected(session);
    } catch (error) {
      gate.leave(ip);
      throw error;
    }
    this.sessions.add(session);
    session.run(); // it leaves this.sessions when it closes
  }
}
