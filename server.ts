/**
 * The chat server: the chat engine, the command table, the gate and the
 * doors the options ask for, started and stopped together.
 *
 * Lifecycle events, as `CustomEvent`s with a `detail`: `listening`
 * (`{ addr, url, door }`, once per door), `connect` (`{ session }`),
 * `refuse` (`{ ip, door, reason }`), `login` (`{ session }`), `close`
 * (`{ session, reason }`).
 *
 * @example
 * ```ts
 * import { ChatServer } from "./server.ts";
 * const server = new ChatServer({ host: "127.0.0.1", port: 0, name: "Tea" });
 * const addr = await server.listen();
 * console.log(`listening on ${addr.hostname}:${addr.port}`);
 * await server.shutdown();
 * ```
 * @module
 */
import { defaults, type ServerOptions } from "./config.ts";
import { Logger } from "./log.ts";
import { type Command, CommandTable } from "./commands/table.ts";
import { builtinCommands } from "./commands/chat.ts";
import { type ChatStore, Store } from "./store.ts";
import { RedisStore } from "./cluster/store.ts";
import { Chat } from "./chat.ts";
import { Gate } from "./gate.ts";
import type { Session } from "./session.ts";
import type { User } from "./user.ts";
import type { Door, DoorHost } from "./doors/door.ts";
import { TelnetDoor, type TlsFiles } from "./doors/telnet.ts";
import { IrcDoor } from "./doors/irc.ts";
import { ircDialects } from "./dialects/irc.ts";
import { HttpDoor } from "./doors/http.ts";
import { StaticFiles } from "./wire/http.ts";
import { Counter, Metrics } from "./metrics.ts";
import { deliveries, linesReceived, slowConsumers } from "./session.ts";
import { bytesSent, flushesRun, flushHeldSeconds, flushHolds, flushPacing, writesSent } from "./outbox.ts";
import { pollTurn } from "./poll_turn.ts";
import { fdReserve } from "./fd_reserve.ts";
import { failedLogins } from "./login.ts";
import { chatRenderCounts, renderCounts } from "./dialects/dialect.ts";
import { telnet } from "./dialects/telnet.ts";
import { json } from "./dialects/json.ts";

/** The web client's files, served by the HTTP door. */
export const WEB_DIR = decodeURIComponent(new URL("./web/", import.meta.url).pathname);

/** Options of {@linkcode ChatServer}: server options plus extras for embedding. */
export interface ChatServerOptions extends Partial<ServerOptions> {
  /** Extra commands, added to the built-in table. */
  commands?: Command[];
  /** Where log lines go (default: stderr at `logLevel`). */
  logger?: Logger;
  /** An open store to use instead of opening `db` (the server closes it at shutdown). */
  database?: ChatStore;
}

/** A running (or ready to run) teaparty server. */
export class ChatServer extends EventTarget implements DoorHost {
  /** The options in force. */
  readonly options: ServerOptions;
  /** The logger. */
  readonly log: Logger;
  /** The command table; add to it to extend the server. */
  readonly commands: CommandTable;
  /** The database (in cluster mode, the Redis store). */
  readonly store: ChatStore;
  /** The chat engine: rooms, users, history, moderation. */
  readonly chat: Chat;
  /** Connection admission, shared by every door. */
  readonly gate: Gate;
  /** The doors, once listening. */
  readonly doors: Door[] = [];
  /** The certificate and key of the TLS doors, read at construction. */
  readonly tls: TlsFiles | undefined;
  /** The metrics `/metrics` shows. */
  readonly metrics: Metrics;
  #refusals = new Counter("teaparty_refusals_total", "Connections refused, by reason.", ["reason"]);
  #storeWrites = new Counter("teaparty_store_writes_total", "Batches of room lines stored.");
  #storeSeconds = new Counter("teaparty_store_write_seconds_total", "Time spent storing room lines.");
  #storeFailures = new Counter(
    "teaparty_store_write_failures_total",
    "Batches of room lines that could not be stored.",
  );
  /** The cluster node, in cluster mode (`--redis`) once {@linkcode ChatServer.connect} has joined. */
  cluster: { readonly id: string; stop(): Promise<void> } | undefined;
  #web: Promise<StaticFiles> | undefined;
  #listened = new Set<string>(); // event types someone listens to
  #stopping = false;
  #polling = false; // holds one pollTurn.open() and one fdReserve.open()

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
    this.tls = readTls(this.options);
    flushPacing.budgetMs = this.options.flushBudget; // process-wide: one flush serves every outbox
    flushPacing.cpuShare = this.options.flushCpu / 100;
    this.store = database ??
      (this.options.redis
        ? new RedisStore(this.options.redis)
        : Store.open(this.options.db, { exclusive: true, check: this.options.dbCheck }));
    this.chat = new Chat(this.options, this.store, this.log, (type, detail) => this.#chatEvent(type, detail), {
      stored: (_count, ms) => {
        this.#storeWrites.inc();
        this.#storeSeconds.inc(ms / 1000);
      },
      failed: () => this.#storeFailures.inc(),
    });
    this.metrics = this.#makeMetrics();
    this.gate = new Gate({
      maxClients: this.options.maxClients,
      maxPerIp: this.options.maxPerIp,
      banned: (ip) => this.chat.moderation.banned("ip", ip),
      failed: (ip, error) => this.log.error("ban check failed", { ip, error: String(error) }),
    });
  }

  /** The rooms. */
  get rooms(): Chat["rooms"] {
    return this.chat.rooms;
  }

  /** Every connected session, on every door. */
  get sessions(): Set<Session> {
    return this.chat.sessions;
  }

  /** Logged-in users by nick key. */
  get nicks(): Map<string, User> {
    return this.chat.nicks;
  }

  /** Bans and mutes in force. */
  get moderation(): Chat["moderation"] {
    return this.chat.moderation;
  }

  /** Failed password checks. */
  get logins(): Chat["logins"] {
    return this.chat.logins;
  }

  /** Finds a logged-in user by nick (case-insensitive). */
  find(nick: string): User | undefined {
    return this.chat.find(nick);
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

  #chatEvent(type: string, detail: unknown): void {
    if (type === "close") this.gate.leave((detail as { session: Session }).session.ip);
    this.#emit(type, detail);
  }

  #makeMetrics(): Metrics {
    const chat = this.chat;
    const byDoor = (): [string[], number][] => {
      const counts = new Map<string, number>();
      for (const d of this.doors) {
        counts.set(d.scheme === "http" ? "websocket" : d.scheme === "https" ? "websockets" : d.scheme, 0);
      }
      for (const s of chat.sessions) counts.set(s.door, (counts.get(s.door) ?? 0) + 1);
      return [...counts].map(([door, n]) => [[door], n]);
    };
    return new Metrics()
      .gauge("teaparty_connections", "Open connections, by door.", ["door"], byDoor)
      .gauge("teaparty_users", "Users logged in.", [], () => chat.nicks.size)
      .gauge("teaparty_rooms", "Rooms.", [], () => chat.rooms.size)
      .add(
        linesReceived,
        deliveries,
        bytesSent,
        writesSent,
        flushesRun,
        flushHolds,
        flushHeldSeconds,
        slowConsumers,
        this.#refusals,
        failedLogins,
      )
      .counted(
        "teaparty_renders_total",
        "Events rendered, by dialect (a broadcast is rendered once per dialect).",
        ["dialect"],
        () => [telnet, json, ...ircDialects(chat)].map((d) => [[d.name], renderCounts[d.id] ?? 0]),
      )
      .counted(
        "teaparty_chat_renders_total",
        "Chat lines rendered, by dialect (once per line and dialect, whatever the number of receivers).",
        ["dialect"],
        () => [telnet, json, ...ircDialects(chat)].map((d) => [[d.name], chatRenderCounts[d.id] ?? 0]),
      )
      .add(this.#storeWrites, this.#storeSeconds, this.#storeFailures);
  }

  /** A door refused a connection. */
  refused(ip: string, door: string, reason: string): void {
    const why = /full/.test(reason)
      ? "full"
      : /Too many connections/.test(reason)
      ? "per_address"
      : /banned/.test(reason)
      ? "banned"
      : /origin/.test(reason)
      ? "origin"
      : "other";
    this.#refusals.labels(why).inc();
    this.log.often("warn", "refused", { ip, door, reason });
    this.#emit("refuse", { ip, door, reason });
  }

  /** A door let a connection in. */
  connected(session: Session): void {
    this.log.info("connect", { id: session.id, door: session.door, ip: session.ip });
    this.#emit("connect", { session });
  }

  /** The doors the options ask for, in the order they are opened. */
  #plannedDoors(): Door[] {
    const { host, port, tlsPort, httpPort, ircPort, ircTlsPort } = this.options;
    const doors: Door[] = [new TelnetDoor(this, { hostname: host, port })];
    if (tlsPort >= 0 && this.tls) doors.push(new TelnetDoor(this, { hostname: host, port: tlsPort, tls: this.tls }));
    if (httpPort >= 0) {
      const web = this.#web ??= StaticFiles.load(WEB_DIR).catch((error) => {
        throw new Error(`cannot read the web client in ${WEB_DIR}: ${(error as Error).message}`);
      });
      web.catch(() => {}); // reported by ready()
      const metrics = () => this.metrics.render();
      doors.push(new HttpDoor(this, { hostname: host, port: httpPort, tls: this.tls, web, metrics }));
    }
    if (ircPort >= 0) doors.push(new IrcDoor(this, { hostname: host, port: ircPort }));
    if (ircTlsPort >= 0 && this.tls) doors.push(new IrcDoor(this, { hostname: host, port: ircTlsPort, tls: this.tls }));
    return doors;
  }

  /**
   * Opens every door the options ask for; resolves to the telnet door's address.
   * If one cannot listen, the ones opened are closed again and it rejects.
   */
  async listen(): Promise<Deno.NetAddr> {
    // Without --unstable-net, Deno ends the process at a reusePort listen: say it first (listenDatagram is unstable too).
    if (this.options.reusePort && !("listenDatagram" in Deno)) {
      throw new Error(`cannot listen for telnet on ${this.options.host}: --reuse-port needs deno run --unstable-net`);
    }
    this.log.info("database", { file: this.store.path || ":memory:" });
    if (!this.#polling) {
      this.#polling = true;
      if (!await pollTurn.open()) {
        this.log.info("flushes go on without polling sockets between turns (no loopback socket)");
      }
      fdReserve.open(); // a descriptor to answer a client with when there are none left
    }
    for (const door of this.#plannedDoors()) {
      try {
        await door.listen();
      } catch (error) {
        await Promise.all(this.doors.map((d) => d.close()));
        this.doors.length = 0;
        this.#polling = false;
        pollTurn.close();
        fdReserve.close();
        const { host } = this.options;
        throw new Error(`cannot listen for ${door.scheme} on ${host}: ${listenProblem(error, this.options)}`);
      }
      this.doors.push(door);
      this.log.info("listening", { door: door.scheme, url: door.url });
      this.#emit("listening", { addr: door.addr, url: door.url, door: door.scheme });
    }
    return this.doors[0].addr;
  }

  /**
   * In cluster mode (`--redis`), connects to Redis and joins the cluster
   * (call it before {@linkcode ChatServer.listen}); otherwise does nothing.
   * Rejects with a one-line reason if Redis cannot be reached.
   */
  async connect(): Promise<void> {
    if (!this.options.redis || this.cluster) return;
    const store = this.store instanceof RedisStore ? this.store : undefined;
    if (store) {
      await store.load();
      this.chat.reload();
    }
    const { ClusterNode } = await import("./cluster/node.ts");
    const cluster = this.cluster = await ClusterNode.start(this.chat, {
      url: this.options.redis,
      log: this.log,
      store,
    });
    this.metrics.gauge(
      "teaparty_cluster_rooms_remembered",
      "Rooms whose recent lines this node remembers, so as not to show one twice (cluster mode).",
      [],
      () => cluster.roomsRemembered,
    );
  }

  /** Resolves when every door can serve (the web client's files are read); rejects with a one-line reason. */
  async ready(): Promise<void> {
    await this.#web;
  }

  /** The telnet door's address. */
  get addr(): Deno.NetAddr {
    if (this.doors.length === 0) throw new Error("the server is not listening; call listen() first");
    return this.doors[0].addr;
  }

  /**
   * Stops accepting, tells every user, waits for their queues to drain (at
   * most `shutdownGrace` ms, capped at 5 s), then closes every connection.
   */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.log.info("shutdown", { sessions: this.chat.sessions.size });
    await Promise.all(this.doors.map((d) => d.close()));
    await this.chat.stop(Math.min(5000, this.options.shutdownGrace));
    await this.cluster?.stop();
    this.store.close();
    if (this.#polling) {
      this.#polling = false;
      pollTurn.close();
      fdReserve.close();
    }
    this.log.tellLeftOut();
  }
}

/** Reads the TLS files named by the options; throws a one-line Error naming the flag and the problem. */
function readTls(options: ServerOptions): TlsFiles | undefined {
  if (!options.tlsCert && !options.tlsKey) return undefined;
  const read = (flag: string, path: string): string => {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound
        ? "no such file"
        : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
        ? `not readable (${(error as Error).message})`
        : (error as Error).message;
      throw new Error(`--${flag} ${path}: ${why}`);
    }
    if (!/-----BEGIN [A-Z ]+-----/.test(text)) throw new Error(`--${flag} ${path}: not a PEM file`);
    return text;
  };
  return { cert: read("tls-cert", options.tlsCert), key: read("tls-key", options.tlsKey) };
}

/** A listen error as the operator needs it. */
function listenProblem(error: unknown, files: { tlsCert?: string; tlsKey?: string }): string {
  const text = (error as Error).message;
  const cert = `the --tls-cert ${files.tlsCert ?? ""}`.trimEnd();
  const key = `the --tls-key ${files.tlsKey ?? ""}`.trimEnd();
  if (/KeyMismatch|keys may not be consistent|key does not match/.test(text)) return `${key} does not match ${cert}`;
  if (/No certificates found/.test(text)) return `${cert} holds no certificate`;
  if (/certificate cannot be read/.test(text)) return `${cert} holds no usable certificate (${text})`;
  if (/private key/i.test(text)) return `${key} is not a usable private key (${text})`;
  return text;
}
