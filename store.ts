/**
 * The embedded SQLite store (`node:sqlite`): history, accounts, offline
 * mail, bans, mutes and topics. One file (WAL mode) or, without a path, an
 * in-memory database with the same features (its room history is kept in
 * plain arrays, {@linkcode RoomHistory}, faster than SQLite's in-memory table). The schema is versioned
 * (`PRAGMA user_version`) and migrations run at start-up; a file that is not
 * a database, belongs to another program, comes from a newer teaparty or
 * cannot be written is refused with a {@linkcode StoreError} that says so.
 *
 * @example
 * ```ts
 * import { Store } from "./store.ts";
 * const store = Store.open(""); // in memory
 * store.addMessages([{ room: "main", at: Date.now(), kind: "chat", nick: "alice", text: "hi" }]);
 * store.recent("main", 20); // [{ id: 1, room: "main", ... }]
 * store.close();
 * ```
 * @module
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { type HistoryBounds, idFloor, RoomHistory, type StoredMessage } from "./room_history.ts";

export type { StoredMessage } from "./room_history.ts";

/** A start-up problem with the database, with a message for the operator. */
export class StoreError extends Error {
  override name = "StoreError";
}

/** Marks our files: `PRAGMA application_id` ("TeaP"). */
export const APPLICATION_ID = 0x54656150;

/** A stored private message waiting for its recipient. */
export interface Mail {
  id: number;
  to: string;
  from: string;
  at: number;
  /** What was said: the bare text, without the `* nick` of an action. */
  text: string;
  /** Sent as an action (`/me`, CTCP ACTION): shown as `* nick text`. */
  action: boolean;
}

/** A ban of a nick (folded) or an IP address. */
export interface Ban {
  kind: "nick" | "ip";
  value: string;
  until: number | null;
  reason: string;
  by: string;
  at: number;
  /** A nick ban's nick as typed, when it differs from `value` (`Ivan`: nicks that look like it as shown are banned too). */
  nick?: string;
}

/** A mute of a nick (folded). */
export interface Mute {
  key: string;
  until: number | null;
  by: string;
}

/** A room's topic. */
export interface Topic {
  room: string;
  text: string;
  by: string;
  at: number;
}

/** A value, or a promise of it (SQLite answers at once, Redis later). */
export type Awaitable<T> = T | Promise<T>;

/**
 * What the chat needs of a store: the SQLite {@linkcode Store} of a single
 * server, or the Redis store of a cluster (cluster/store.ts). Reads of
 * accounts, bans, mutes and topics answer at once (a Redis store answers
 * from its copy, kept current); writes, history and mail may answer later.
 */
export interface ChatStore {
  /** The file, "" in memory, or the Redis URL. */
  readonly path: string;
  addMessages(messages: StoredMessage[]): Awaitable<void>;
  roomEmptied(room: string, occupied: (room: string) => boolean): void;
  recent(room: string, limit: number, before?: number): Awaitable<StoredMessage[]>;
  within(
    room: string,
    bounds: { afterId?: number; beforeId?: number; afterAt?: number; beforeAt?: number },
    limit: number,
    newest: boolean,
  ): Awaitable<StoredMessage[]>;
  /** A registered nick (folded): its spelling, password hash, and when it was made (ms; a new account, a new time). */
  account(key: string): { nick: string; hash: string; created: number } | undefined;
  accountList(): { key: string; nick: string }[];
  /**
   * Whether another program (the account tool) may have changed the
   * accounts since the last call; a store that is told of every change
   * (Redis) leaves it out.
   */
  changedElsewhere?(): boolean;
  saveAccount(key: string, nick: string, hash: string): Awaitable<void>;
  removeAccount(key: string): Awaitable<boolean>;
  /** A setting of a registered nick (folded), such as `redraw`; undefined when never set. */
  setting(key: string, name: string): string | undefined;
  /** Keeps a setting of a registered nick; fails with a `StoreError` if the nick is not registered. */
  saveSetting(key: string, name: string, value: string): Awaitable<void>;
  /** Keeps a private message (an action when `action`) for an offline user. */
  addMail(to: string, from: string, text: string, at?: number, action?: boolean): Awaitable<void>;
  mail(to: string, limit: number): Awaitable<Mail[]>;
  mailCount(to: string): Awaitable<number>;
  deleteMail(ids: readonly number[]): Awaitable<void>;
  takeMail(to: string): Awaitable<Mail[]>;
  bans(): Ban[];
  saveBan(ban: Ban): Awaitable<void>;
  removeBan(kind: "nick" | "ip", value: string): Awaitable<boolean>;
  mutes(): Mute[];
  saveMute(mute: Mute): Awaitable<void>;
  removeMute(key: string): Awaitable<boolean>;
  topic(room: string): Topic | undefined;
  saveTopic(topic: Topic): Awaitable<void>;
  close(): void;
}

/** Lines per room an in-memory store keeps (a file keeps all). */
export const MEMORY_KEEP = 5000;

/** Options of {@linkcode Store.open}. */
export interface StoreOptions {
  /** Lines kept per room; older ones are deleted. Default: all for a file, {@linkcode MEMORY_KEEP} in memory. */
  keep?: number;
  /** Caps the database size in pages (tests use it to simulate a full disk). */
  maxPageCount?: number;
  /**
   * Takes the file for this process alone (a lock file beside it, `PATH.lock`,
   * holding the pid): a second server on the same file is refused. The
   * server does this; the account tool does not.
   */
  exclusive?: boolean;
  /**
   * The check of an existing file at start-up: "quick" (SQLite's
   * `quick_check`, the default), "full" (`integrity_check`, slower on a big
   * file) or "off".
   */
  check?: "quick" | "full" | "off";
}

/**
 * Emptied rooms whose history an in-memory store keeps (rooms someone is in
 * keep theirs): past this, the one emptied longest ago is forgotten.
 */
export const MEMORY_ROOMS = 100;

const migrations: string[] = [
  // 1: the first schema
  `CREATE TABLE messages (
     id INTEGER PRIMARY KEY, room TEXT NOT NULL, at INTEGER NOT NULL,
     kind TEXT NOT NULL, nick TEXT NOT NULL, text TEXT NOT NULL);
   CREATE INDEX messages_room ON messages (room, id);
   CREATE TABLE accounts (
     key TEXT PRIMARY KEY, nick TEXT NOT NULL, hash TEXT NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE mail (
     id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, sender TEXT NOT NULL,
     at INTEGER NOT NULL, text TEXT NOT NULL);
   CREATE INDEX mail_recipient ON mail (recipient, id);
   CREATE TABLE bans (
     kind TEXT NOT NULL, value TEXT NOT NULL, until INTEGER, reason TEXT NOT NULL,
     by TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (kind, value));
   CREATE TABLE mutes (key TEXT PRIMARY KEY, until INTEGER, by TEXT NOT NULL);
   CREATE TABLE topics (room TEXT PRIMARY KEY, text TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 2: settings of registered nicks (redraw mode on or off), a JSON object kept with the account
  `ALTER TABLE accounts ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';`,
  // 3: mail has a kind, as room lines do ('chat' or 'action'). An older teaparty kept an action as the text
  // "* <sender> <text>"; such rows become actions with the bare text (see unfoldLegacyMail).
  `ALTER TABLE mail ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat';
   UPDATE mail SET kind = 'action', text = substr(text, length(sender) + 4)
     WHERE substr(text, 1, length(sender) + 3) = '* ' || sender || ' ';`,
  // 4: a nick ban keeps the nick as typed (its look-alikes as shown are kept out too: Ivan, lvan)
  `ALTER TABLE bans ADD COLUMN nick TEXT;`,
];

/** Most rows in one INSERT statement (5 parameters each, well under SQLite's limit). */
export const INSERT_ROWS = 64;

/** The schema version this code writes. */
export const SCHEMA_VERSION = migrations.length;

type Row = Record<string, SQLInputValue>;

/** The database of one server. */
export class Store implements ChatStore {
  /** The file, or "" in memory. */
  readonly path: string;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #keep = 0; // lines kept per room (0: all)
  #added = new Map<string, number>(); // lines added per room since its last trim
  #emptied = new Map<string, (room: string) => boolean>(); // in memory: emptied rooms, the oldest first
  #lock: Deno.FsFile | undefined;
  #history: RoomHistory | undefined; // in memory: the lines, outside SQLite

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /**
   * Opens (creating if needed) and migrates the database at `path`, or an
   * in-memory one for "". Throws {@linkcode StoreError} with a clear reason.
   */
  static open(path: string, options: StoreOptions = {}): Store {
    const where = path ? `database ${path}` : "in-memory database";
    const existed = path ? checkFile(path) : false;
    const lock = path && options.exclusive ? takeLock(path) : undefined;
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path || ":memory:");
    } catch (error) {
      lock?.close();
      throw new StoreError(`cannot open ${where}: ${message(error)}`);
    }
    const store = new Store(path, db);
    store.#lock = lock;
    try {
      if (existed) store.#check(options.check ?? "quick");
      store.#prepare(options);
    } catch (error) {
      store.close();
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot use ${where}: ${explain(error)}`);
    }
    return store;
  }

  // An existing file must be a whole database: SQLite's own check, and our tables where our id is.
  #check(kind: "quick" | "full" | "off"): void {
    if (kind === "off") return;
    const cut = checkLength(this.path);
    if (cut) throw new StoreError(`database ${this.path} is damaged (${cut}); teaparty will not use it${RESTORE}`);
    let result: string;
    try {
      const rows = this.#db.prepare(kind === "full" ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)").all();
      result = rows.map((r) => String(Object.values(r)[0])).join("; ").replace(/\s*\n\s*/g, " ");
    } catch (error) {
      throw new StoreError(`database ${this.path} is damaged (${explain(error)}); teaparty will not use it${RESTORE}`);
    }
    if (result !== "ok") {
      throw new StoreError(
        `database ${this.path} is damaged (${kind} check: ${result}); teaparty will not use it${RESTORE}`,
      );
    }
    if (Number(this.#value("PRAGMA application_id")) !== APPLICATION_ID) return;
    const tables = new Set(
      this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => String(r.name)),
    );
    const missing = TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0) {
      throw new StoreError(
        `database ${this.path} is a teaparty database with tables missing (${missing.join(", ")}); ` +
          `teaparty will not use it${RESTORE}`,
      );
    }
  }

  #prepare(options: StoreOptions): void {
    const db = this.#db;
    const appId = Number(this.#value("PRAGMA application_id"));
    const version = Number(this.#value("PRAGMA user_version"));
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      .map((r) => String(r.name));
    if (appId !== APPLICATION_ID && (tables.length > 0 || version !== 0)) {
      throw new StoreError(
        `${this.path} is an SQLite database of another program (tables: ${tables.join(", ") || "none"}); ` +
          `give --db a new file or teaparty's own`,
      );
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `${this.path} was written by a newer teaparty (schema version ${version}; this one knows up to ${SCHEMA_VERSION})`,
      );
    }
    if (this.path) {
      const mode = String(this.#value("PRAGMA journal_mode = WAL")).toLowerCase();
      if (mode !== "wal") throw new StoreError(`cannot switch ${this.path} to WAL mode (got ${mode})`);
    }
    db.exec("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 2000; PRAGMA foreign_keys = ON;");
    for (let v = version; v < SCHEMA_VERSION; v++) {
      db.exec("BEGIN IMMEDIATE");
      try {
        db.exec(migrations[v]);
        db.exec(`PRAGMA user_version = ${v + 1}; PRAGMA application_id = ${APPLICATION_ID};`);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    }
    // A real write proves the file is writable now, not at the first message.
    this.#run("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_at', ?)", [new Date().toISOString()]);
    if (options.maxPageCount) db.exec(`PRAGMA max_page_count = ${options.maxPageCount}`);
    this.#keep = options.keep ?? (this.path ? 0 : MEMORY_KEEP);
    if (!this.path) this.#history = new RoomHistory(this.#keep, idFloor()); // ids above a previous run's
  }

  #value(sql: string): unknown {
    const row = this.#db.prepare(sql).get();
    return row ? Object.values(row)[0] : undefined;
  }

  #statement(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #run(sql: string, params: SQLInputValue[] = []): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#statement(sql).run(...params);
  }

  #dataVersion: number | undefined;

  #all(sql: string, params: SQLInputValue[] = []): Row[] {
    return this.#statement(sql).all(...params) as Row[];
  }

  /** Runs `fn` in one transaction (IMMEDIATE), rolling back if it throws. */
  transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* no transaction left to roll back */ }
      throw error;
    }
  }

  // ---- history

  /**
   * Stores room messages atomically and sets their ids (in memory: in
   * {@linkcode RoomHistory}). Up to
   * {@linkcode INSERT_ROWS} messages go in one multi-row INSERT (atomic by
   * itself, no transaction needed); more are chunked inside a transaction.
   */
  addMessages(messages: StoredMessage[]): void {
    if (messages.length === 0) return;
    if (this.#history) return this.#history.add(messages);
    if (messages.length <= INSERT_ROWS) return this.#insertMessages(messages, 0, messages.length);
    this.transaction(() => {
      for (let i = 0; i < messages.length; i += INSERT_ROWS) {
        this.#insertMessages(messages, i, Math.min(messages.length, i + INSERT_ROWS));
      }
    });
  }

  #insertMessages(messages: StoredMessage[], from: number, to: number): void {
    const count = to - from;
    const sql = "INSERT INTO messages (room, at, kind, nick, text) VALUES " +
      Array(count).fill("(?, ?, ?, ?, ?)").join(", ");
    const params: SQLInputValue[] = new Array(count * 5);
    for (let i = 0; i < count; i++) {
      const m = messages[from + i];
      params[i * 5] = m.room;
      params[i * 5 + 1] = m.at;
      params[i * 5 + 2] = m.kind;
      params[i * 5 + 3] = m.nick;
      params[i * 5 + 4] = m.text;
    }
    const last = Number(this.#run(sql, params).lastInsertRowid);
    for (let i = 0; i < count; i++) messages[from + i].id = last - count + 1 + i;
    if (this.#keep > 0) this.#trim(messages, from, to);
  }

  // Deletes a room's lines beyond the newest `keep`, once per `keep / 4` added.
  #trim(messages: StoredMessage[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const room = messages[i].room;
      const added = (this.#added.get(room) ?? 0) + 1;
      if (added < Math.max(1, this.#keep >> 2)) {
        this.#added.set(room, added);
        continue;
      }
      this.#added.set(room, 0);
      this.#run(
        "DELETE FROM messages WHERE room = ? AND id < (SELECT id FROM messages WHERE room = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        [room, room, this.#keep - 1],
      );
    }
  }

  /**
   * Tells an in-memory store that a room has emptied. The history of the
   * {@linkcode MEMORY_ROOMS} rooms emptied last is kept; past that, the room
   * emptied longest ago loses its history, unless `occupied(room)` says
   * someone is in it again (it is then kept until it empties again). Lines
   * stored after this call do not save the room. A file keeps everything.
   *
   * @example
   * ```ts
   * import { Store } from "./store.ts";
   * const store = Store.open("");
   * store.roomEmptied("garden", (room) => false);
   * ```
   */
  roomEmptied(room: string, occupied: (room: string) => boolean): void {
    if (this.path) return;
    this.#emptied.delete(room);
    this.#emptied.set(room, occupied);
    while (this.#emptied.size > MEMORY_ROOMS) {
      const [oldest, inUse] = this.#emptied.entries().next().value!;
      this.#emptied.delete(oldest);
      if (inUse(oldest)) continue;
      this.#history?.forget(oldest);
    }
  }

  /** The last `limit` messages of a room before `before` (ms), oldest first. */
  recent(room: string, limit: number, before = Number.MAX_SAFE_INTEGER): StoredMessage[] {
    if (this.#history) return this.#history.recent(room, limit, before);
    const rows = this.#all(
      "SELECT id, room, at, kind, nick, text FROM messages WHERE room = ? AND at < ? ORDER BY id DESC LIMIT ?",
      [room, before, limit],
    );
    return rows.reverse().map((r) => ({
      id: Number(r.id),
      room: String(r.room),
      at: Number(r.at),
      kind: r.kind === "action" ? "action" : "chat",
      nick: String(r.nick),
      text: String(r.text),
    }));
  }

  /**
   * Up to `limit` messages of a room strictly inside `bounds` (ids and
   * times in ms; a missing bound is open), oldest first: the newest ones inside when `newest`, else
   * the oldest (the queries of IRC CHATHISTORY).
   */
  within(
    room: string,
    bounds: HistoryBounds,
    limit: number,
    newest: boolean,
  ): StoredMessage[] {
    if (this.#history) return this.#history.within(room, bounds, limit, newest);
    const rows = this.#all(
      "SELECT id, room, at, kind, nick, text FROM messages WHERE room = ? AND id > ? AND id < ? AND at > ? AND at < ? " +
        `ORDER BY id ${newest ? "DESC" : "ASC"} LIMIT ?`,
      [
        room,
        bounds.afterId ?? 0,
        bounds.beforeId ?? Number.MAX_SAFE_INTEGER,
        bounds.afterAt ?? Number.MIN_SAFE_INTEGER,
        bounds.beforeAt ?? Number.MAX_SAFE_INTEGER,
        limit,
      ],
    );
    if (newest) rows.reverse();
    return rows.map((r) => ({
      id: Number(r.id),
      room: String(r.room),
      at: Number(r.at),
      kind: r.kind === "action" ? "action" : "chat",
      nick: String(r.nick),
      text: String(r.text),
    }));
  }

  // ---- accounts

  /** The password hash of a registered nick (folded), if any. */
  account(key: string): { nick: string; hash: string; created: number } | undefined {
    const row = this.#all("SELECT nick, hash, created FROM accounts WHERE key = ?", [key])[0];
    return row ? { nick: String(row.nick), hash: String(row.hash), created: Number(row.created) } : undefined;
  }

  /** Every registered nick with its key, in the order registered (to index look-alike nicks at start-up). */
  /** Whether another connection wrote to the database file since the last call (`PRAGMA data_version`). */
  changedElsewhere(): boolean {
    const version = Number(this.#all("PRAGMA data_version")[0]?.data_version);
    const changed = this.#dataVersion !== undefined && version !== this.#dataVersion;
    this.#dataVersion = version;
    return changed;
  }

  accountList(): { key: string; nick: string }[] {
    return this.#all("SELECT key, nick FROM accounts ORDER BY created").map((r) => ({
      key: String(r.key),
      nick: String(r.nick),
    }));
  }

  /** Registers a nick (made at `created`, now unless given), or replaces its password hash. */
  saveAccount(key: string, nick: string, hash: string, created = Date.now()): void {
    this.#run(
      "INSERT INTO accounts (key, nick, hash, created) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET hash = excluded.hash",
      [key, nick, hash, created],
    );
  }

  /** Removes an account; returns whether there was one. */
  removeAccount(key: string): boolean {
    return Number(this.#run("DELETE FROM accounts WHERE key = ?", [key]).changes) > 0;
  }

  // ---- settings of registered nicks

  /** A setting of a registered nick (folded), such as `redraw`; undefined when never set. */
  setting(key: string, name: string): string | undefined {
    const row = this.#all("SELECT json_extract(settings, ?) AS value FROM accounts WHERE key = ?", [
      settingPath(name),
      key,
    ])[0];
    return row && row.value !== null ? String(row.value) : undefined;
  }

  /** Keeps a setting of a registered nick (folded); throws a {@linkcode StoreError} if the nick is not registered. */
  saveSetting(key: string, name: string, value: string): void {
    const changed = this.#run("UPDATE accounts SET settings = json_set(settings, ?, ?) WHERE key = ?", [
      settingPath(name),
      value,
      key,
    ]).changes;
    if (Number(changed) === 0) throw new StoreError(`${key} is not a registered nick`);
  }

  // ---- offline mail

  /** Stores a private message (an action when `action`) for an offline user. */
  addMail(to: string, from: string, text: string, at = Date.now(), action = false): void {
    this.#run("INSERT INTO mail (recipient, sender, at, kind, text) VALUES (?, ?, ?, ?, ?)", [
      to,
      from,
      at,
      action ? "action" : "chat",
      text,
    ]);
  }

  /** A user's waiting mail, oldest first, at most `limit` (nothing is deleted). */
  mail(to: string, limit: number): Mail[] {
    return this.#all(`${SELECT_MAIL} WHERE recipient = ? ORDER BY id LIMIT ?`, [to, limit]).map(mailOfRow);
  }

  /** How many messages wait for a user. */
  mailCount(to: string): number {
    return Number(this.#all("SELECT count(*) AS n FROM mail WHERE recipient = ?", [to])[0].n);
  }

  /** Deletes delivered mail by id. */
  deleteMail(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.transaction(() => {
      for (const id of ids) this.#run("DELETE FROM mail WHERE id = ?", [id]);
    });
  }

  /** Returns and deletes a user's waiting mail, oldest first. */
  takeMail(to: string): Mail[] {
    return this.transaction(() => {
      const rows = this.#all(`${SELECT_MAIL} WHERE recipient = ? ORDER BY id`, [to]);
      this.#run("DELETE FROM mail WHERE recipient = ?", [to]);
      return rows.map(mailOfRow);
    });
  }

  // ---- moderation

  /** Every ban, expired ones included. */
  bans(): Ban[] {
    return this.#all("SELECT kind, value, until, reason, by, at, nick FROM bans").map((r) => ({
      kind: r.kind === "ip" ? "ip" : "nick",
      value: String(r.value),
      until: r.until === null ? null : Number(r.until),
      reason: String(r.reason),
      by: String(r.by),
      at: Number(r.at),
      ...(r.nick === null ? {} : { nick: String(r.nick) }),
    }));
  }

  /** Adds or replaces a ban. */
  saveBan(ban: Ban): void {
    this.#run("INSERT OR REPLACE INTO bans (kind, value, until, reason, by, at, nick) VALUES (?, ?, ?, ?, ?, ?, ?)", [
      ban.kind,
      ban.value,
      ban.until,
      ban.reason,
      ban.by,
      ban.at,
      ban.nick ?? null,
    ]);
  }

  /** Removes a ban; returns whether there was one. */
  removeBan(kind: "nick" | "ip", value: string): boolean {
    return Number(this.#run("DELETE FROM bans WHERE kind = ? AND value = ?", [kind, value]).changes) > 0;
  }

  /** Every mute. */
  mutes(): Mute[] {
    return this.#all("SELECT key, until, by FROM mutes").map((r) => ({
      key: String(r.key),
      until: r.until === null ? null : Number(r.until),
      by: String(r.by),
    }));
  }

  /** Adds or replaces a mute. */
  saveMute(mute: Mute): void {
    this.#run("INSERT OR REPLACE INTO mutes (key, until, by) VALUES (?, ?, ?)", [mute.key, mute.until, mute.by]);
  }

  /** Removes a mute; returns whether there was one. */
  removeMute(key: string): boolean {
    return Number(this.#run("DELETE FROM mutes WHERE key = ?", [key]).changes) > 0;
  }

  /** The topic of a room (by key). */
  topic(room: string): Topic | undefined {
    const r = this.#all("SELECT room, text, by, at FROM topics WHERE room = ?", [room])[0];
    return r ? { room: String(r.room), text: String(r.text), by: String(r.by), at: Number(r.at) } : undefined;
  }

  /** Sets (or with "" clears) a room's topic. */
  saveTopic(topic: Topic): void {
    if (topic.text === "") this.#run("DELETE FROM topics WHERE room = ?", [topic.room]);
    else {
      this.#run("INSERT OR REPLACE INTO topics (room, text, by, at) VALUES (?, ?, ?, ?)", [
        topic.room,
        topic.text,
        topic.by,
        topic.at,
      ]);
    }
  }

  /** Closes the database (checkpointing the WAL) and lets go of the file. */
  close(): void {
    try {
      this.#db.close();
    } catch { /* already closed */ }
    if (this.#lock) {
      try {
        this.#lock.close(); // also releases the lock (the file stays: removing it could race a new server)
      } catch { /* gone already */ }
      this.#lock = undefined;
    }
  }
}

const SELECT_MAIL = "SELECT id, recipient, sender, at, kind, text FROM mail";

/** A row of the `mail` table as {@linkcode Mail}. */
function mailOfRow(r: Row): Mail {
  return {
    id: Number(r.id),
    to: String(r.recipient),
    from: String(r.sender),
    at: Number(r.at),
    text: String(r.text),
    action: r.kind === "action",
  };
}

/**
 * Mail as a teaparty without mail kinds kept it: an action was folded into
 * the text as `* <sender> <text>`. Returns the bare text and whether it was
 * an action. Only for mail stored that way (the SQLite migration to schema
 * version 3 does the same in SQL; the Redis store, for rows without an
 * `action` field); mail with a kind is never guessed at.
 *
 * @example
 * ```ts
 * import { unfoldLegacyMail } from "./store.ts";
 * unfoldLegacyMail("bob", "* bob waves"); // { text: "waves", action: true }
 * unfoldLegacyMail("bob", "hi"); // { text: "hi", action: false }
 * ```
 */
export function unfoldLegacyMail(from: string, text: string): { text: string; action: boolean } {
  const mark = `* ${from} `;
  return text.startsWith(mark) ? { text: text.slice(mark.length), action: true } : { text, action: false };
}

/** The tables every teaparty database has. */
const TABLES = ["messages", "accounts", "mail", "bans", "mutes", "topics", "meta"];
const RESTORE = " (restore it from a backup, or move it away to start afresh)";

/** Checks the database file; returns whether it exists (a new one is created on open). */
function checkFile(path: string): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false; // created on open
    throw new StoreError(`cannot open database ${path}: ${message(error)}`);
  }
  if (!info.isFile) throw new StoreError(`cannot open database ${path}: it is not a file`);
  if (info.size === 0) {
    throw new StoreError(
      `database ${path} is an empty file (0 bytes), not a new database: teaparty will not start with every ` +
        `account and ban gone${RESTORE}`,
    );
  }
  if (info.mode !== null && (info.mode & 0o222) === 0) {
    throw new StoreError(
      `database ${path} is read-only (mode ${(info.mode & 0o777).toString(8)}); teaparty must write to it (chmod u+w)`,
    );
  }
  return true;
}

/** The SQLite file header, and what teaparty reads of it. */
const HEADER = { bytes: 100, magic: "SQLite format 3\0" } as const;

/**
 * Compares the file's length with its header: SQLite writes whole pages, and
 * its header counts them. Returns what is wrong (the end was cut off), or
 * undefined. A file that does not start like an SQLite database is left to
 * SQLite to refuse. The count is compared only without a write-ahead log
 * (`PATH-wal`), since until a checkpoint the newest pages live there.
 */
function checkLength(path: string): string | undefined {
  let header: Uint8Array;
  let size: number;
  try {
    using file = Deno.openSync(path, { read: true });
    size = file.statSync().size;
    header = new Uint8Array(HEADER.bytes);
    let got = 0;
    while (got < HEADER.bytes) {
      const n = file.readSync(header.subarray(got));
      if (n === null) break;
      got += n;
    }
    if (got < HEADER.bytes) return undefined;
  } catch {
    return undefined; // unreadable: opening it says why
  }
  if (new TextDecoder().decode(header.subarray(0, 16)) !== HEADER.magic) return undefined;
  const view = new DataView(header.buffer);
  const raw = view.getUint16(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return undefined; // SQLite says "not a database"
  if (size % pageSize !== 0) {
    return `its length (${size} bytes) is not a whole number of ${pageSize}-byte pages: the end was cut off`;
  }
  const pages = view.getUint32(28);
  const valid = view.getUint32(24) === view.getUint32(92);
  if (!valid || pages === 0 || hasLog(path)) return undefined;
  if (pages * pageSize > size) {
    return `its header counts ${pages} pages, the file holds ${size / pageSize}: the end was cut off`;
  }
  return undefined;
}

/** Whether a database has a non-empty write-ahead log beside it. */
function hasLog(path: string): boolean {
  try {
    return Deno.statSync(`${path}-wal`).size > 0;
  } catch {
    return false;
  }
}

/**
 * Takes the lock file `PATH.lock` for this process (an exclusive flock, let
 * go by the kernel when the process dies, even by SIGKILL) and writes the pid
 * into it. Throws a StoreError naming the holder if another process has it.
 */
function takeLock(path: string): Deno.FsFile {
  const lockPath = `${path}.lock`;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockPath, { read: true, write: true, create: true });
  } catch (error) {
    throw new StoreError(`cannot create the lock file ${lockPath}: ${explain(error)}`);
  }
  if (!file.tryLockSync(true)) {
    let holder = "";
    try {
      const text = new TextDecoder().decode(Deno.readFileSync(lockPath)).trim();
      const [pid, since] = text.split(" ");
      if (pid) holder = ` (pid ${pid}${since ? `, since ${since}` : ""})`;
    } catch { /* unreadable: say what we know */ }
    file.close();
    throw new StoreError(
      `database ${path} is in use by another teaparty${holder}; stop it first, or give --db another file`,
    );
  }
  file.truncateSync(0);
  file.writeSync(new TextEncoder().encode(`${Deno.pid} ${new Date().toISOString()}\n`));
  return file;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// A setting's JSON path; names are words of our own (`redraw`), never user text.
function settingPath(name: string): string {
  checkSettingName(name);
  return `$.${name}`;
}

/** Throws unless `name` is a plain lower-case word (a setting name is a JSON path in the file store). */
export function checkSettingName(name: string): void {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`bad setting name "${name}"`);
}

/** Why a store call failed when the cluster's Redis is down. */
export const UNREACHABLE = "the chat store (Redis) cannot be reached";

/**
 * What a user may be told of a failure: {@linkcode explain}'s words when it
 * knows the error (a full disk, Redis unreachable …; never a file's path)
 * or a {@linkcode StoreError}'s own, else "an unexpected error" (a bug's
 * words, such as a TypeError's, go to the log, not to users).
 *
 * @example
 * ```ts
 * import { explainToUser } from "./store.ts";
 * explainToUser(new TypeError("cannot read properties of undefined")); // "an unexpected error"
 * ```
 */
export function explainToUser(error: unknown): string {
  const why = explain(error);
  if (why === message(error) && why !== UNREACHABLE && !(error instanceof StoreError)) return "an unexpected error";
  if (why.startsWith("Deno may not")) return "the server may not use its database files";
  return why;
}

/** Turns an SQLite error into a sentence for the operator. */
export function explain(error: unknown): string {
  const text = message(error);
  const code = (error as { errcode?: number }).errcode;
  if (code === 26 || /not a database/.test(text)) return "the file is not an SQLite database (is --db the right file?)";
  if (code === 11 || /malformed/.test(text)) return "the database file is corrupt (database disk image is malformed)";
  if (code === 8 || /readonly/.test(text)) return "the database is read-only; teaparty must be able to write to it";
  if (code === 13 || /disk is full/.test(text)) return "the disk is full";
  const denied = /Requires (read|write) access to "([^"]*)"/.exec(text);
  if (denied) {
    return `Deno may not ${denied[1]} ${denied[2]}: run it with --allow-read and --allow-write for that folder ` +
      `(the npm tasks allow only data/)`;
  }
  // The Redis client's own words for a connection that is down (cluster mode).
  if (/client is offline|socket closed unexpectedly|ECONNREFUSED/i.test(text)) return UNREACHABLE;
  return text;
}
