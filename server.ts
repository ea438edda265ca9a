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
import { clientAddress, Session } from "./session.ts";
import { checkNick, foldNick, LookAlikes } from "./nick.ts";
import { encodeLine } from "./rooms.ts";
import { historyLine, mailLine, notice } from "./format.ts";
import { explain, Store } from "./store.ts";
import { Journal } from "./journal.ts";
import { describeBan, Moderation } from "./moderation.ts";
import { ServerBusy, verifyPassword } from "./accounts.ts";
import { LOGIN_LIMITS, LoginThrottle } from "./login_throttle.ts";
import { cleanLine } from "./text.ts";
import { ECHO_OFF, ECHO_ON } from "./telnet.ts";

/** Options of {@linkcode ChatServer}: server options plus extras for embedding. */
export interface ChatServerOptions extends Partial<ServerOptions> {
  /** Extra commands, added to the built-in table. */
  commands?: Command[];
  /** Where log lines go (default: stderr at `logLevel`). */
  logger?: Logger;
  /** An open store to use instead of opening `db` (the server closes it at shutdown). */
  database?: Store;
}

/** Failed logins from one address, to one nick and to all, before further attempts must wait (see login_throttle.ts). */
export const THROTTLE = { perNick: LOGIN_LIMITS.perNickAddress, perAddress: LOGIN_LIMITS.perAddress } as const;

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
  /** The database. */
  readonly store: Store;
  /** Stores room messages before they are delivered. */
  readonly journal: Journal;
  /** Bans and mutes in force. */
  readonly moderation: Moderation;
  /** Registered and logged-in nicks by how they look, to refuse look-alikes. */
  readonly lookAlikes: LookAlikes = new LookAlikes();
  #ops: Set<string>;
  /** Failed password checks (logins and /password), per address and per nick. */
  readonly logins: LoginThrottle = new LoginThrottle();
  /** The greeting every connection gets, encoded once. */
  readonly greeting: Uint8Array;
  #perIp = new Map<string, number>();
  #listened = new Set<string>(); // event types someone listens to
  #listener: Deno.TcpListener | undefined;
  #stopping = false;
  #accepting: Promise<void> | undefined;

  /**
   * Creates a server and opens its database; call {@linkcode ChatServer.listen}
   * to start it. Throws a `StoreError` if the database cannot be used.
   */
  constructor(options: ChatServerOptions = {}) {
    super();
    const { commands, logger, database, ...rest } = options;
    this.options = { ...defaults, op: [], ...rest };
    this.log = logger ?? new Logger(this.options.logLevel);
    this.commands = new CommandTable([...builtinCommands, ...(commands ?? [])]);
    this.rooms = new Rooms({ main: this.options.room, crowd: this.options.crowd });
    this.#ops = new Set(this.options.op.map(foldNick));
    this.store = database ?? Store.open(this.options.db);
    this.journal = new Journal(this.store, this.log);
    this.moderation = new Moderation(this.store, {
      onError: (action, error) => this.log.error("store failed", { action, error: explain(error) }),
    });
    for (const a of this.store.accountList()) this.lookAlikes.add(a.nick, a.key);
    this.log.info("database", { file: this.store.path || ":memory:" });
    this.greeting = encodeLine(
      `${notice(`Welcome to ${this.options.name}!`)}\r\n${
        notice("Log in with: login <nick>    (help lists the commands)")
      }`,
    );
  }

  /** Listens to a lifecycle event (see the module documentation). */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    this.#listened.add(type);
    super.addEventListener(type, listener, options);
  }

  // Events are made only for types someone listens to: a connection storm
  // should not also be a storm of unused event objects.
  #emit(type: string, detail: unknown): void {
    if (this.#listened.has(type)) this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Starts listening and accepting; returns the address actually bound. */
  listen(): Deno.NetAddr {
    const listener = Deno.listen({ hostname: this.options.host, port: this.options.port });
    this.#listener = listener;
    const addr = listener.addr as Deno.NetAddr;
    this.log.info("listening", { host: addr.hostname, port: addr.port });
    this.#accepting = this.#accept(listener);
    this.#emit("listening", { addr });
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
    const ip = clientAddress(conn);
    const { maxClients, maxPerIp } = this.options;
    const fromIp = this.#perIp.get(ip) ?? 0;
    let refusal: string | undefined;
    if (maxClients > 0 && this.sessions.size >= maxClients) {
      refusal = `The server is full (${maxClients} connections); please try again later.`;
    } else if (maxPerIp > 0 && fromIp >= maxPerIp) {
      refusal = `Too many connections from your address (at most ${maxPerIp}).`;
    } else {
      const ban = this.moderation.banned("ip", ip);
      if (ban) refusal = `Your address is banned ${describeBan(ban)}`;
    }
    if (refusal) {
      this.log.warn("refused", { ip, reason: refusal });
      this.#emit("refuse", { ip, reason: refusal });
      conn.write(encodeLine(notice(refusal))).catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* gone */ }
      });
      return;
    }
    try {
      conn.setNoDelay(true); // lines go out at once (no Nagle delay)
      conn.setKeepAlive(true); // a peer whose network vanished is noticed even if nobody writes to it
    } catch { /* gone */ }
    this.#perIp.set(ip, fromIp + 1);
    const session = new Session(this, conn);
    this.sessions.add(session);
    this.log.info("connect", { id: session.id, ip });
    this.#emit("connect", { session });
    session.run();
  }

  /**
   * Logs a session in under `nick`: checks the nick, bans and (for a
   * registered nick) the password, which is asked for with echo off when not
   * given. Replies to the session with every refusal.
   */
  login(session: Session, nick: string, password?: string): void | Promise<void> {
    const problem = checkNick(nick);
    if (problem) return session.notice(`Cannot log in as "${nick}": ${problem}.`);
    const key = foldNick(nick);
    if (this.#refused(session, nick, key)) return;
    const account = this.store.account(key);
    const like = account ? undefined : this.lookAlikes.find(nick, key);
    if (like) {
      return session.notice(`Cannot log in as "${nick}": it looks like ${like}, a registered or logged-in nick.`);
    }
    if (!account) {
      if (password) {
        return session.notice(
          `${nick} is not a registered nick, so it takes no password (nicks cannot contain spaces).`,
        );
      }
      return this.#admitNick(session, nick, key, false);
    }
    if (this.#throttled(session, account.nick, key)) return;
    if (password !== undefined && password !== "") {
      return this.#checkPassword(session, account.nick, key, account.hash, password);
    }
    session.telnet.serverEcho = true;
    session.sendBytes(ECHO_OFF);
    session.notice(`${account.nick} is a registered nick. Password:`);
    session.prompt = async (line) => {
      session.telnet.serverEcho = false;
      session.sendBytes(ECHO_ON);
      session.send("");
      const typed = cleanLine(line).trim();
      if (typed === "") return session.notice("Login cancelled: no password given.");
      await this.#checkPassword(session, account.nick, key, account.hash, typed);
    };
  }

  /** Refuses (with a notice) a nick someone else holds or that is banned. */
  #refused(session: Session, nick: string, key: string): boolean {
    const holder = this.nicks.get(key);
    if (holder && holder !== session) {
      session.notice(`The nick ${holder.nick} is taken; please choose another.`);
      return true;
    }
    const ban = this.moderation.banned("nick", key);
    if (ban) {
      this.log.warn("login refused", { id: session.id, nick, reason: "banned" });
      session.notice(`The nick ${nick} is banned ${describeBan(ban)}`);
      return true;
    }
    return false;
  }

  /** Refuses (with a notice) a login while the nick or the address has too many recent failures. */
  #throttled(session: Session, nick: string, key: string): boolean {
    const wait = this.logins.wait(key, session.ip);
    if (wait <= 0) return false;
    this.log.warn("login throttled", { id: session.id, nick, ip: session.ip });
    session.notice(
      `Too many failed logins for ${nick} or from your address; try again in ${Math.ceil(wait / 1000)} s.`,
    );
    return true;
  }

  async #checkPassword(session: Session, nick: string, key: string, hash: string, password: string): Promise<void> {
    // The throttle is checked again here (a prompt may have been opened before
    // it closed), and every attempt counts as a failure until it has
    // succeeded, so guesses sent at once on many connections count too.
    if (this.#throttled(session, nick, key)) return;
    const slowdown = this.logins.slowdown(key); // many failures on this nick from everywhere: a moment's wait
    const attempt = this.logins.begin(key, session.ip);
    if (slowdown > 0) await new Promise((resolve) => setTimeout(resolve, slowdown));
    let ok: boolean;
    try {
      ok = await verifyPassword(password, hash);
    } catch (error) {
      if (!(error instanceof ServerBusy)) throw error;
      this.logins.cancel(attempt);
      return session.notice(`Cannot log in now: ${error.message}.`);
    }
    if (session.closed) return;
    if (!ok) {
      this.log.warn("login failed", { id: session.id, nick, ip: session.ip, reason: "wrong password" });
      return session.notice(`Wrong password for ${nick}. Try again with: login ${nick}`);
    }
    this.logins.succeeded(attempt);
    // Someone may have taken the nick while we hashed, or an operator banned it.
    if (this.#refused(session, nick, key)) return;
    this.#admitNick(session, nick, key, true);
  }

  #admitNick(session: Session, nick: string, key: string, registered: boolean): void {
    this.nicks.set(key, session);
    this.lookAlikes.add(nick, key);
    session.loggedInAs(nick, key);
    session.registered = registered;
    session.operator = registered && this.#ops.has(key);
    this.log.info("login", { id: session.id, nick, ip: session.ip, registered, operator: session.operator });
    this.#emit("login", { session });
    this.seat(session, this.options.room);
    if (session.operator) session.notice("You are an operator here.");
    if (registered) this.deliverMail(session);
  }

  /** Marks a session as logged in to its (just registered) nick. */
  registered(session: Session): void {
    session.registered = true;
    this.lookAlikes.add(session.nick, session.key);
    if (this.#ops.has(session.key) && !session.operator) {
      session.operator = true;
      session.notice("You are an operator here.");
    }
  }

  /** Delivers (and deletes) the private messages stored for a session. */
  deliverMail(session: Session): void {
    const mail = this.store.takeMail(session.key);
    if (mail.length === 0) return;
    session.notice(`You have ${mail.length} message${mail.length === 1 ? "" : "s"} from while you were away:`);
    for (const m of mail) session.send(mailLine(m.at, m.from, m.text));
  }

  /** Puts a session in a room, announces it, and shows the topic and recent history. */
  seat(session: Session, name: string): void {
    const room = this.rooms.enter(session, name);
    const topic = this.store.topic(room.key);
    if (topic) session.notice(`Topic of ${room.name}: ${topic.text} (set by ${topic.by})`);
    if (this.options.history > 0) this.showHistory(session, room.key, this.options.history);
  }

  /** Sends a session up to `count` stored lines of a room before `before` (ms). Returns how many. */
  showHistory(session: Session, roomKey: string, count: number, before?: number): number {
    const messages = this.store.recent(roomKey, count, before);
    for (const m of messages) session.send(historyLine(m.at, m.kind, m.nick, m.text));
    return messages.length;
  }

  /** Whether a session may use operator commands. */
  isOperator(session: Session): boolean {
    return session.operator;
  }

  /** Moves a logged-in session to another room (created if needed). */
  move(session: Session, room: string): void {
    this.rooms.leave(session);
    this.seat(session, room);
  }

  /** Finds a logged-in session by nick (case-insensitive). */
  find(nick: string): Session | undefined {
    return this.nicks.get(foldNick(nick));
  }

  /** Frees a session's nick and takes it out of its room. Idempotent. */
  release(session: Session): void {
    this.journal.flush(); // its last words reach the room before its leaving does
    if (session.room) this.rooms.leave(session, this.#stopping);
    if (session.key && this.nicks.get(session.key) === session) {
      this.nicks.delete(session.key);
      this.lookAlikes.delete(session.key);
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
    this.#emit("close", { session, reason });
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
    this.journal.flush(); // what was said before the signal is stored and delivered
    await Promise.all(
      sessions.map((s) => s.end("server shutting down", "The server is shutting down. Goodbye!", grace)),
    );
    this.rooms.dispose();
    this.store.close();
  }
}
