/**
 * The store of a cluster: Redis is the one source of truth. Accounts, bans,
 * mutes and topics live in Redis hashes, and each node keeps a copy in
 * memory (read at start, kept current through the `tp:store` channel), so
 * the chat reads them at once as it does from SQLite; a write goes to Redis
 * first and then to the copy. Room history is a capped stream per room
 * (`XADD … MAXLEN ~ keep`), with ids from one cluster-wide counter, so a line
 * has the same id on every node; the counter is kept no lower than the
 * in-memory store's `idFloor()`, so ids go on rising even after Redis and
 * every node restarted empty together. Offline mail is a hash of messages (JSON:
 * sender, time, the bare text and whether it is an action) and a sorted set
 * of ids per recipient.
 *
 * Run Redis with persistence for this: `appendonly yes` and
 * `appendfsync everysec` (at most a second of writes lost in a power cut).
 *
 * @example
 * ```ts
 * import { RedisStore } from "./store.ts";
 * export async function remember(url = "redis://127.0.0.1:6379/0"): Promise<void> {
 *   const store = new RedisStore(url);
 *   await store.load();
 *   await store.addMessages([{ room: "main", at: Date.now(), kind: "chat", nick: "alice", text: "hi" }]);
 *   store.close();
 * }
 * ```
 * @module
 */
import {
  type Ban,
  type ChatStore,
  checkSettingName,
  type Mail,
  type Mute,
  Store,
  type StoredMessage,
  StoreError,
  type Topic,
  unfoldLegacyMail,
  UNREACHABLE,
} from "../store.ts";
import { idFloor } from "../room_history.ts";
import type { Redis, RedisWatcher } from "./redis.ts";

/** Lines kept per room by default (the stream is trimmed near this). */
export const CLUSTER_KEEP = 10_000;

/** The channel of store changes. */
export const STORE_CHANNEL = "tp:store";

const ACCOUNTS = "tp:accounts";
const BANS = "tp:bans";
const MUTES = "tp:mutes";
const TOPICS = "tp:topics";
const MESSAGE_ID = "tp:message-id";
const MAIL = "tp:mail";
const MAIL_ID = "tp:mail-id";
const history = (room: string) => `tp:history:${room}`;
const mailbox = (to: string) => `tp:mailbox:${to}`;

/** Why a write or read failed while Redis is away (shown to the user whose line was not stored). */
export { UNREACHABLE };

/**
 * A mail as kept in the `tp:mail` hash. A row without `action` was written
 * by a teaparty whose mail had no kind, with an action folded into its text
 * (`* nick text`): it is read as that teaparty meant it.
 */
function mailOfJson(json: string): Mail {
  const row = JSON.parse(json) as Omit<Mail, "action"> & { action?: boolean };
  if (typeof row.action === "boolean") return { ...row, action: row.action };
  return { ...row, ...unfoldLegacyMail(row.from, row.text) };
}

/** Runs a Redis call; a failure of the connection becomes {@linkcode UNREACHABLE}. */
async function reach<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const text = (error as Error).message ?? "";
    if (/offline|closed|socket|ECONNRE|connection|reach/i.test(text)) throw new Error(UNREACHABLE);
    throw error;
  }
}

/** What changed, as told on {@linkcode STORE_CHANNEL}. */
export type StoreChange =
  | {
    w: "account";
    k: string;
    v: { nick: string; hash: string; created: number; settings?: Record<string, string> } | null;
  }
  | { w: "ban"; k: string; v: Ban | null }
  | { w: "mute"; k: string; v: Mute | null }
  | { w: "topic"; k: string; v: Topic | null };

// Ids in the scripts: Lua 5.1 turns a number into a string with %.14g, so an id of 15 digits (they start
// at idFloor(), about 1.8e14) would become "1.8e+14". So a floor comes in as a string of digits (ARGV),
// is compared with tonumber (exact: doubles hold every integer below 2^53) and stored as that string;
// an id from INCR is written with string.format('%d') (exact to 2^53 in Redis 7's Lua) and returned as
// that string. No number is ever joined with `..` or stored as it is.

// Stores room lines: each gets the next cluster-wide id, which is also its stream id. ARGV[3] is the floor
// (see RedisStore.idsAbove): a Redis that came back empty counts on from above it, never from 1 again.
const ADD = `
local out = {}
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[3]) then redis.call('SET', KEYS[1], ARGV[3]) end
for i = 4, #ARGV, 5 do
  local id = string.format('%d', redis.call('INCR', KEYS[1]))
  redis.call('XADD', ARGV[1] .. ARGV[i], 'MAXLEN', '~', ARGV[2], id .. '-0',
    'at', ARGV[i + 1], 'kind', ARGV[i + 2], 'nick', ARGV[i + 3], 'text', ARGV[i + 4])
  out[#out + 1] = id
end
return out`;

/**
 * Raises the cluster-wide id counter (KEYS[1]) to at least ARGV[1] (a string
 * of digits, stored as it is), never lowering it: what a node runs as soon
 * as Redis is back (it may have restarted empty), so that a node which saw
 * none of the lines before does not give ids again from 1, lower than what
 * users elsewhere have seen.
 */
export const RAISE_IDS = `
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/** The key of the cluster-wide message id counter. */
export const MESSAGE_ID_KEY = MESSAGE_ID;

// Deletes delivered mail by id.
const DELETE_MAIL = `
for i = 1, #ARGV do
  local m = redis.call('HGET', KEYS[1], ARGV[i])
  if m then
    redis.call('ZREM', KEYS[2] .. cjson.decode(m).to, ARGV[i])
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return 1`;

/** A cluster's store on Redis, with a copy of the small tables in memory. */
export class RedisStore implements ChatStore {
  /** The Redis URL. */
  readonly path: string;
  /** Told after another node changed an account, ban, mute or topic (the copy is current). */
  onChange: (change: StoreChange) => void = () => {};
  /** Told after the copy was read again whole (after Redis was away: changes may have been missed). */
  onReread: () => void = () => {};
  #rereading: StoreChange[] | undefined; // changes told while the copy is being read again
  readonly #id = crypto.randomUUID();
  #copy: Store = Store.open("");
  #keep: number;
  #highestId = 0; // the highest message id seen here (see sawId)
  #floor = 0; // the idFloor() of the last raise: ids given here are above it (see idsAbove)
  #cmd: Redis | undefined;
  #sub: Redis | undefined;
  #watcher: RedisWatcher;
  #givesIds: boolean;

  /**
   * A store on `url`; {@linkcode RedisStore.load} connects and reads it.
   * `givesIds: false` for a store that never stores lines (the account
   * tool): it leaves the cluster's message id counter as it is, where a
   * node raises it to the clock's floor at connecting.
   */
  constructor(url: string, options: { keep?: number; watcher?: RedisWatcher; givesIds?: boolean } = {}) {
    this.path = url;
    this.#keep = options.keep ?? CLUSTER_KEEP;
    this.#watcher = options.watcher ?? {};
    this.#givesIds = options.givesIds ?? true;
  }

  /** Connects (a one-line Error if Redis cannot be reached) and reads accounts, bans, mutes and topics. */
  async load(): Promise<void> {
    const { openRedis } = await import("./redis.ts");
    this.#cmd = await openRedis(this.path, {
      down: this.#watcher.down,
      up: () => {
        this.#watcher.up?.();
        if (this.#givesIds) this.raiseIds().catch(() => {}); // Redis may have come back empty: ids go on above the highest seen here
      },
    }, "teaparty-store");
    try {
      this.#sub = await openRedis(this.path, {
        down: this.#watcher.down,
        up: () => {
          this.#watcher.up?.();
          this.reread().then(() => this.onReread(), () => {}); // changes while away were missed
        },
      }, "teaparty-store-changes");
    } catch (error) {
      this.#cmd.destroy();
      throw error;
    }
    await this.#sub.subscribe(STORE_CHANNEL, (message: string) => this.#changed(message));
    await this.reread();
    if (this.#givesIds) await this.raiseIds(); // Redis and every node may have restarted empty together: ids above any given before
  }

  /** Reads accounts, bans, mutes and topics from Redis into the copy again. */
  async reread(): Promise<void> {
    const redis = this.#redis;
    const told: StoreChange[] = this.#rereading = [];
    let read;
    try {
      read = await Promise.all([
        redis.hGetAll(ACCOUNTS),
        redis.hGetAll(BANS),
        redis.hGetAll(MUTES),
        redis.hGetAll(TOPICS),
      ]);
    } finally {
      if (this.#rereading === told) this.#rereading = undefined;
    }
    const [accounts, bans, mutes, topics] = read;
    const copy = Store.open("");
    const rows = Object.entries(accounts).map(([k, v]) => ({ k, ...JSON.parse(v) }));
    rows.sort((a, b) => a.created - b.created);
    for (const a of rows) {
      copy.saveAccount(a.k, a.nick, a.hash, a.created);
      for (const [name, value] of Object.entries(a.settings ?? {})) copy.saveSetting(a.k, name, String(value));
    }
    for (const v of Object.values(bans)) copy.saveBan(JSON.parse(v));
    for (const v of Object.values(mutes)) copy.saveMute(JSON.parse(v));
    for (const v of Object.values(topics)) copy.saveTopic(JSON.parse(v));
    const old = this.#copy;
    this.#copy = copy;
    old.close();
    for (const change of told) this.#apply(change); // told while reading: perhaps not in what was read
  }

  get #redis(): Redis {
    if (!this.#cmd?.isReady) throw new Error(UNREACHABLE);
    return this.#cmd;
  }

  #changed(text: string): void {
    let message: StoreChange & { n: string };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const { n, ...change } = message;
    if (n === this.#id) return;
    this.#rereading?.push(change);
    this.#apply(change);
    this.onChange(change);
  }

  #apply(c: StoreChange): void {
    if (c.w === "account") {
      if (c.v) {
        this.#copy.saveAccount(c.k, c.v.nick, c.v.hash, c.v.created);
        for (const [name, value] of Object.entries(c.v.settings ?? {})) this.#copy.saveSetting(c.k, name, value);
      } else this.#copy.removeAccount(c.k);
    } else if (c.w === "ban") {
      if (c.v) this.#copy.saveBan(c.v);
      else {
        const [kind, ...value] = c.k.split(":");
        this.#copy.removeBan(kind === "ip" ? "ip" : "nick", value.join(":"));
      }
    } else if (c.w === "mute") {
      if (c.v) this.#copy.saveMute(c.v);
      else this.#copy.removeMute(c.k);
    } else {
      this.#copy.saveTopic(c.v ?? { room: c.k, text: "", by: "", at: 0 });
    }
  }

  /** Writes a change to its hash and tells the other nodes, in one transaction; then applies it here. */
  async #write(hash: string, change: StoreChange): Promise<boolean> {
    const [result] = await reach(() => {
      const m = this.#redis.multi();
      if (change.v) m.hSet(hash, change.k, JSON.stringify(change.v));
      else m.hDel(hash, change.k);
      m.publish(STORE_CHANNEL, JSON.stringify({ ...change, n: this.#id }));
      return m.exec();
    });
    this.#apply(change);
    return Number(result) > 0;
  }

  // ---- history

  /** Stores room lines (one script: atomic, ids in order) and sets their ids. */
  async addMessages(messages: StoredMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const args: string[] = [history(""), String(this.#keep), digits(this.idsAbove)];
    for (const m of messages) args.push(m.room, String(m.at), m.kind, m.nick, m.text);
    const ids = await reach(() => this.#redis.eval(ADD, { keys: [MESSAGE_ID], arguments: args })) as number[];
    messages.forEach((m, i) => m.id = Number(ids[i]));
    this.sawId(Number(ids.at(-1)));
  }

  /** The highest message id seen here (stored here, or relayed from another node). */
  get highestId(): number {
    return this.#highestId;
  }

  /**
   * What the ids given here start above: the highest id seen here, or the
   * {@linkcode idFloor} of the clock at the last raise (at connecting, and
   * whenever the connection is back) if higher, as in the in-memory store:
   * even when Redis and every node restarted empty together, ids go on above
   * the ones clients kept (a page's seen lines, an IRC client's msgid).
   */
  get idsAbove(): number {
    return Math.max(this.#highestId, this.#floor);
  }

  /**
   * Raises the cluster-wide id counter (never lowering it) to at least
   * {@linkcode RedisStore.idsAbove}, with the floor taken from the clock now
   * (done by itself at connecting and whenever the connection is back):
   * lines stored anywhere after a Redis that restarted empty get higher ids
   * than any seen here, or given before by a cluster that restarted whole.
   */
  async raiseIds(): Promise<void> {
    this.#floor = Math.max(this.#floor, idFloor());
    const floor = digits(this.idsAbove);
    await reach(() => this.#redis.eval(RAISE_IDS, { keys: [MESSAGE_ID], arguments: [floor] }));
  }

  /**
   * Notes a message id seen here (stored here, or relayed from another
   * node): ids this node gives later are higher, even from a Redis that
   * restarted empty, so no line is taken for one delivered already.
   */
  sawId(id: number): void {
    if (id > this.#highestId) this.#highestId = id;
  }

  /** Nothing to do: streams are capped, not dropped when a room empties. */
  roomEmptied(): void {}

  /** The last `limit` lines of a room before `before` (ms), oldest first. */
  async recent(room: string, limit: number, before = Number.MAX_SAFE_INTEGER): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let end = "+";
    while (out.length < limit) {
      const batch = await this.#redis.xRevRange(history(room), end, "-", { COUNT: Math.max(limit, 50) }) ?? [];
      for (const entry of batch) {
        const m = message(room, entry);
        if (m.at < before) out.push(m);
        if (out.length >= limit) break;
      }
      if (batch.length === 0 || out.length >= limit) break;
      end = `(${batch[batch.length - 1].id}`;
    }
    return out.reverse();
  }

  /** Up to `limit` lines strictly inside `bounds`, oldest first (the newest inside when `newest`). */
  async within(
    room: string,
    bounds: { afterId?: number; beforeId?: number; afterAt?: number; beforeAt?: number },
    limit: number,
    newest: boolean,
  ): Promise<StoredMessage[]> {
    const low = bounds.afterId !== undefined ? `(${bounds.afterId}-0` : "-";
    const high = bounds.beforeId !== undefined ? `(${bounds.beforeId}-0` : "+";
    const inside = (m: StoredMessage) =>
      m.at > (bounds.afterAt ?? Number.MIN_SAFE_INTEGER) && m.at < (bounds.beforeAt ?? Number.MAX_SAFE_INTEGER);
    const out: StoredMessage[] = [];
    let from = newest ? high : low;
    while (out.length < limit) {
      const count = { COUNT: Math.max(limit, 50) };
      const batch = (newest
        ? await this.#redis.xRevRange(history(room), from, low, count)
        : await this.#redis.xRange(history(room), from, high, count)) ?? [];
      for (const entry of batch) {
        const m = message(room, entry);
        if (inside(m)) {
          out.push(m);
        }
        if (out.length >= limit) {
          break;
        }
      }
      if (batch.length === 0 || out.length >= limit) {
        break;
      }
      from = `(${batch[batch.length - 1].id}`;
    }
    return newest ? out.reverse() : out;
  }

  // ---- accounts

  /** The password hash of a registered nick, from the copy. */
  account(key: string): { nick: string; hash: string; created: number } | undefined {
    return this.#copy.account(key);
  }

  /** Every registered nick, from the copy. */
  accountList(): { key: string; nick: string }[] {
    return this.#copy.accountList();
  }

  /** Registers a nick or replaces its hash (keeping the first spelling and time). */
  async saveAccount(key: string, nick: string, hash: string): Promise<void> {
    const old = await this.#redis.hGet(ACCOUNTS, key);
    const before = old ? JSON.parse(old) : undefined;
    await this.#write(ACCOUNTS, {
      w: "account",
      k: key,
      v: { nick: before?.nick ?? nick, hash, created: before?.created ?? Date.now(), settings: before?.settings },
    });
  }

  /** A setting of a registered nick (such as `redraw`), from the copy. */
  setting(key: string, name: string): string | undefined {
    return this.#copy.setting(key, name);
  }

  /** Keeps a setting of a registered nick; rejects with a {@linkcode StoreError} if the nick is not registered. */
  async saveSetting(key: string, name: string, value: string): Promise<void> {
    checkSettingName(name);
    const old = await reach(() => this.#redis.hGet(ACCOUNTS, key));
    if (!old) throw new StoreError(`${key} is not a registered nick`);
    const account = JSON.parse(old);
    await this.#write(ACCOUNTS, {
      w: "account",
      k: key,
      v: { ...account, settings: { ...account.settings, [name]: value } },
    });
  }

  /** Removes an account; returns whether there was one. */
  removeAccount(key: string): Promise<boolean> {
    return this.#write(ACCOUNTS, { w: "account", k: key, v: null });
  }

  // ---- offline mail

  /** Keeps a private message (an action when `action`) for an offline user. */
  async addMail(to: string, from: string, text: string, at = Date.now(), action = false): Promise<void> {
    const id = await reach(() => this.#redis.incr(MAIL_ID));
    const mail: Mail = { id, to, from, at, text, action };
    await reach(() =>
      this.#redis.multi()
        .hSet(MAIL, String(id), JSON.stringify(mail))
        .zAdd(mailbox(to), { score: id, value: String(id) })
        .exec()
    );
  }

  /** A user's waiting mail, oldest first, at most `limit`. */
  async mail(to: string, limit: number): Promise<Mail[]> {
    const ids = await this.#redis.zRange(mailbox(to), 0, limit - 1);
    if (ids.length === 0) return [];
    const rows = await this.#redis.hmGet(MAIL, ids);
    return rows.filter((r): r is string => typeof r === "string").map(mailOfJson);
  }

  /** How many messages wait for a user. */
  mailCount(to: string): Promise<number> {
    return this.#redis.zCard(mailbox(to));
  }

  /** Deletes delivered mail by id. */
  async deleteMail(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#redis.eval(DELETE_MAIL, { keys: [MAIL, mailbox("")], arguments: ids.map(String) });
  }

  /** Returns and deletes a user's waiting mail, oldest first. */
  async takeMail(to: string): Promise<Mail[]> {
    const all = await this.mail(to, Number.MAX_SAFE_INTEGER);
    await this.deleteMail(all.map((m) => m.id));
    return all;
  }

  // ---- moderation and topics

  /** Every ban, from the copy. */
  bans(): Ban[] {
    return this.#copy.bans();
  }

  /** Adds or replaces a ban, on every node. */
  async saveBan(ban: Ban): Promise<void> {
    await this.#write(BANS, { w: "ban", k: `${ban.kind}:${ban.value}`, v: ban });
  }

  /** Removes a ban; returns whether there was one. */
  removeBan(kind: "nick" | "ip", value: string): Promise<boolean> {
    return this.#write(BANS, { w: "ban", k: `${kind}:${value}`, v: null });
  }

  /** Every mute, from the copy. */
  mutes(): Mute[] {
    return this.#copy.mutes();
  }

  /** Adds or replaces a mute, on every node. */
  async saveMute(mute: Mute): Promise<void> {
    await this.#write(MUTES, { w: "mute", k: mute.key, v: mute });
  }

  /** Removes a mute; returns whether there was one. */
  removeMute(key: string): Promise<boolean> {
    return this.#write(MUTES, { w: "mute", k: key, v: null });
  }

  /** A room's topic, from the copy. */
  topic(room: string): Topic | undefined {
    return this.#copy.topic(room);
  }

  /** Sets (or with "" clears) a room's topic, on every node. */
  async saveTopic(topic: Topic): Promise<void> {
    await this.#write(TOPICS, { w: "topic", k: topic.room, v: topic.text === "" ? null : topic });
  }

  /** Closes the connections and the copy. */
  close(): void {
    for (const client of [this.#sub, this.#cmd]) {
      try {
        client?.destroy();
      } catch { /* closed */ }
    }
    this.#cmd = this.#sub = undefined;
    this.#copy.close();
  }
}

/** An id as the Lua scripts take it: the digits of a whole number (String() has no exponent below 1e21). */
function digits(id: number): string {
  return String(Math.floor(id));
}

function message(room: string, entry: { id: string; message: Record<string, string> }): StoredMessage {
  const f = entry.message;
  return {
    id: Number(entry.id.split("-")[0]),
    room,
    at: Number(f.at),
    kind: f.kind === "action" ? "action" : "chat",
    nick: f.nick,
    text: f.text,
  };
}
