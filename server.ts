/**
 * The chat server: accepts connections (within the connection limits),
 * keeps the sessions, nicks and rooms, and shuts down politely.
 *
 * Lifecycle events, as `CustomEvent`s with a `detail`: `listening`
 * (`{ addr }`), `connect` (`{ session }`), `refuse` (`{ ip, reason }`),
 * `login` (`{ session }`), `close` (`{ session, reason }`).
 *
 * @example
 * ```ts
 * import { ChatServer } from "./server.ts";
 * const server = new ChatServer({ port: 0, name: "Tea" });
 * const addr = server.listen();
 * console.log(`listening on ${addr.hostname}:${addr.port}`);
 * await server.shutdown();
 * ```
 * @module
 */
import { defaults, type ServerOptions } from "./config.ts";
import { Logger } from "./log.ts";
import { type Command, CommandTable } from "./dispatch.ts";
import { builtinCommands } from "./commands.ts";
import { Rooms } from "./rooms.ts";
import { Session } from "./session.ts";
import { checkNick, foldNick } from "./nick.ts";
import { encodeLine } from "./rooms.ts";
import { notice } from "./format.ts";

/** Options of {@linkcode ChatServer}: server options plus extras for embedding. */
export interface ChatServerOptions extends Partial<ServerOptions> {
  /** Extra commands, added to the built-in table. */
  commands?: Command[];
  /** Where log lines go (default: stderr at `logLevel`). */
  logger?: Logger;
}

/** A running (or ready to run) teaparty server. */
export class ChatServer extends EventTarget {
  /** The options in force. */
  readonly options: ServerOptions;
  /** The logger. */
  readonly log: Logger;
  /** The command table; add to it to extend the server. */
  readonly commands: CommandTable;
  /** The rooms. */
  readonly rooms: Rooms;
  /** Every connected session. */
  readonly sessions: Set<Session> = new Set();
  /** Logged-in sessions by folded nick. */
  readonly nicks: Map<string, Session> = new Map();
  #perIp = new Map<string, number>();
  #listener: Deno.TcpListener | undefined;
  #stopping = false;
  #accepting: Promise<void> | undefined;

  /** Creates a server; call {@linkcode ChatServer.listen} to start it. */
  constructor(options: ChatServerOptions = {}) {
    super();
    const { commands, logger, ...rest } = options;
    this.options = { ...defaults, op: [], ...rest };
    this.log = logger ?? new Logger(this.options.logLevel);
    this.commands = new CommandTable([...builtinCommands, ...(commands ?? [])]);
    this.rooms = new Rooms({ main: this.options.room, crowd: this.options.crowd });
  }

  /** Starts listening and accepting; returns the address actually bound. */
  listen(): Deno.NetAddr {
    const listener = Deno.listen({ hostname: this.options.host, port: this.options.port });
    this.#listener = listener;
    const addr = listener.addr as Deno.NetAddr;
    this.log.info("listening", { host: addr.hostname, port: addr.port });
    this.#accepting = this.#accept(listener);
    this.dispatchEvent(new CustomEvent("listening", { detail: { addr } }));
    return addr;
  }

  /** The address the server listens on. */
  get addr(): Deno.NetAddr {
    if (!this.#listener) throw new Error("the server is not listening; call listen() first");
    return this.#listener.addr as Deno.NetAddr;
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    while (!this.#stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#stopping) break;
        this.log.error("accept failed", { error: String(error) });
        await new Promise((r) => setTimeout(r, 100)); // e.g. out of file descriptors
        continue;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Deno.TcpConn): void {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    const { maxClients, maxPerIp } = this.options;
    const fromIp = this.#perIp.get(ip) ?? 0;
    let refusal: string | undefined;
    if (maxClients > 0 && this.sessions.size >= maxClients) {
      refusal = `The server is full (${maxClients} connections); please try again later.`;
    } else if (maxPerIp > 0 && fromIp >= maxPerIp) {
      refusal = `Too many connections from your address (at most ${maxPerIp}).`;
    }
    if (refusal) {
      this.log.warn("refused", { ip, reason: refusal });
      this.dispatchEvent(new CustomEvent("refuse", { detail: { ip, reason: refusal } }));
      conn.write(encodeLine(notice(refusal))).catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* gone */ }
      });
      return;
    }
    try {
      conn.setNoDelay(true);
    } catch { /* gone */ }
    this.#perIp.set(ip, fromIp + 1);
    const session = new Session(this, conn);
    this.sessions.add(session);
    this.log.info("connect", { id: session.id, ip });
    this.dispatchEvent(new CustomEvent("connect", { detail: { session } }));
    session.run();
  }

  /**
   * Logs a session in under `nick` and seats it in the main room. Returns
   * why not, if the nick is invalid or taken.
   */
  login(session: Session, nick: string): string | undefined {
    const problem = checkNick(nick);
    if (problem) return `Cannot log in as "${nick}": ${problem}.`;
    const key = foldNick(nick);
    const holder = this.nicks.get(key);
    if (holder && holder !== session) {
      return `The nick ${holder.nick} is taken; please choose another.`;
    }
    this.nicks.set(key, session);
    session.loggedInAs(nick, key);
    this.log.info("login", { id: session.id, nick, ip: session.ip });
    this.dispatchEvent(new CustomEvent("login", { detail: { session } }));
    this.rooms.enter(session, this.options.room);
    return undefined;
  }

  /** Whether a session may use operator commands. */
  isOperator(session: Session): boolean {
    return session.operator;
  }

  /** Moves a logged-in session to another room (created if needed). */
  move(session: Session, room: string): void {
    this.rooms.leave(session);
    this.rooms.enter(session, room);
  }

  /** Finds a logged-in session by nick (case-insensitive). */
  find(nick: string): Session | undefined {
    return this.nicks.get(foldNick(nick));
  }

  /** Frees a session's nick and takes it out of its room. Idempotent. */
  release(session: Session): void {
    if (session.room) this.rooms.leave(session, this.#stopping);
    if (session.key && this.nicks.get(session.key) === session) {
      this.nicks.delete(session.key);
      this.log.info("logout", { id: session.id, nick: session.nick });
    }
  }

  /** Called once by a session when its connection is closed. */
  closed(session: Session, reason: string, level: "info" | "warn"): void {
    if (!this.sessions.delete(session)) return;
    const left = (this.#perIp.get(session.ip) ?? 1) - 1;
    if (left > 0) this.#perIp.set(session.ip, left);
    else this.#perIp.delete(session.ip);
    this.log[level]("disconnect", { id: session.id, nick: session.nick || undefined, ip: session.ip, reason });
    this.dispatchEvent(new CustomEvent("close", { detail: { session, reason } }));
  }

  /**
   * Stops accepting, tells every user, waits for their queues to drain (at
   * most `shutdownGrace` ms, capped at 5 s), then closes every connection.
   */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.log.info("shutdown", { sessions: this.sessions.size });
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    await this.#accepting;
    const grace = Math.min(5000, this.options.shutdownGrace);
    const sessions = [...this.sessions];
    await Promise.all(
      sessions.map((s) => s.end("server shutting down", "The server is shutting down. Goodbye!", grace)),
    );
    this.rooms.dispose();
  }
}
