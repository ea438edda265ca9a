/**
 * One node of a cluster: several teaparty processes on one Redis acting as
 * one chat server. The node is the chat engine's {@linkcode Peers}: it tells
 * the other nodes what its users do (presence, room lines, private
 * messages) and brings their users in as {@linkcode User}s marked `remote`,
 * members of the rooms they are in, so that `look`, `who`, `/rooms`, IRC
 * `NAMES` and `WHO` show everyone, and `/msg` reaches them.
 *
 * - A room event is published once per room; each node renders it once per
 *   dialect for its own members (through the journal, behind what waits
 *   there, so every user's lines stay in order).
 * - A node listens to a room's channel only while one of its users is in
 *   the room: a room held on one node costs the others nothing.
 * - A nick is claimed atomically (`SET NX PX`) with a lease that the node
 *   renews; a node's own lease (`tp:alive:<id>`) tells the others it lives.
 *   When it lapses (the node was killed), the others announce its users as
 *   gone, and its nicks are free once their leases lapse too.
 *
 * @example
 * ```ts
 * // In cluster mode the server does this:
 * // const node = await ClusterNode.start(chat, { url: "redis://127.0.0.1:6379/0" });
 * // ... await node.stop();
 * ```
 * @module
 */
import type { Chat, Peers } from "../chat.ts";
import type { Member, Room } from "../rooms.ts";
import { User } from "../user.ts";
import type { ChatEvent } from "../events.ts";
import type { Logger } from "../log.ts";
import { foldNick, nickSkeleton, shownSkeleton } from "../nick.ts";
import { covers, describeBan, parseAddress } from "../moderation.ts";
import { sentAway } from "../format.ts";
import { openRedis, type Redis } from "./redis.ts";
import { MESSAGE_ID_KEY, RAISE_IDS, type RedisStore, type StoreChange } from "./store.ts";
import {
  aliveKey,
  NICK_PREFIX,
  nicksKey,
  nodeChannel,
  type NodeMessage,
  NODES,
  PRESENCE,
  PRESENCE_EVENTS,
  type PresenceMessage,
  roomChannel,
  type RoomMessage,
  type UserRecord,
  usersKey,
} from "./protocol.ts";

/** How long a node's lease and its nick claims last without renewal (ms). */
export const LEASE_MS = 5000;

/** The most lines of one room fetched from the history after an outage (the newest). */
export const GAP_LIMIT = 500;

/** The most room messages held back while a node resynchronises. */
const HELD_LIMIT = 10_000;

/** Options of {@linkcode ClusterNode.start}. */
export interface ClusterOptions {
  /** The Redis URL. */
  url: string;
  /** Where problems are logged (default: the chat's logger). */
  log?: Logger;
  /** Lease time in ms (default {@linkcode LEASE_MS}); renewed three times per lease. */
  leaseMs?: number;
  /** The cluster's store, whose changes by other nodes take effect here. */
  store?: RedisStore;
}

// Claims a nick key for this node: granted if free or already ours, and unless a look-alike is being
// claimed at this moment (KEYS[3…]: its skeletons, each marked for LOOK_MS by the key that claims it).
const CLAIM = `
for i = 3, #KEYS do
  local by = redis.call('GET', KEYS[i])
  if by and by ~= ARGV[3] then return 0 end
end
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if not ok and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[3], 'PX', ARGV[4]) end
redis.call('SADD', KEYS[2], ARGV[3])
return 1`;

/**
 * How long a claimed nick's skeletons stay marked (ms): long enough for the
 * login to reach every node's look-alike list, so that two look-alikes
 * (Zoe, Zoë) claimed at once on two nodes are not both granted.
 */
const LOOK_MS = 3000;
/** The prefix of those marks (`tp:look:<skeleton>` holds the nick key). */
const LOOK_PREFIX = "tp:look:";

// Lets go of a nick key if this node holds it, and of the look-alike marks its claim set (KEYS[3…]) that are
// still its own: a look-alike logging in just after this nick left is not refused for a claim that is gone.
const UNCLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
return 1`;

// Renews the node's lease and the leases of the nicks it still holds.
const RENEW = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
local keys = redis.call('SMEMBERS', KEYS[3])
for _, k in ipairs(keys) do
  local nick = ARGV[3] .. k
  if redis.call('GET', nick) == ARGV[2] then redis.call('PEXPIRE', nick, ARGV[1])
  else redis.call('SREM', KEYS[3], k) end
end
return #keys`;

/** The cluster node of one server. */
export class ClusterNode implements Peers {
  /** This node's id. */
  readonly id: string;
  #chat: Chat;
  #log: Logger;
  #cmd: Redis;
  #sub: Redis;
  #lease: number;
  #remote = new Map<string, User>(); // nick key → a remote user
  #nodes = new Map<string, Set<User>>(); // node id → its users known here
  #local = new Map<string, number>(); // room key → users of this node in it (the channel is listened to while > 0)
  #ready = false;
  #early: [string, string][] = []; // messages that came before the snapshot was read
  #timer: ReturnType<typeof setInterval> | undefined;
  #inflight = new Set<Promise<unknown>>();
  #stopped = false;
  #store: RedisStore | undefined;
  #listener = (message: string, channel: string) => this.#message(message, channel);
  #own: string; // how this node's own messages start
  #seen = new Map<string, Set<string>>(); // room key → the stored lines delivered here lately (see line())
  #broken = new Set<string>(); // connections that are down
  #missing = new Set<string>(); // nodes whose lease was missing at the last check
  #subscribing = new Map<string, Promise<void>>(); // room key → its SUBSCRIBE, until Redis confirms it
  #marks = new Map<string, { keys: string[]; at: number }>(); // nick key → the look-alike marks its claim set, lately
  #outage:
    | {
      since: number;
      lastIds: Map<string, number>;
      subscriptions: boolean;
      /** Room messages that came after the subscription was back, delivered once the missed lines are. */
      held: RoomMessage[];
    }
    | undefined;
  #resyncTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(id: string, chat: Chat, cmd: Redis, sub: Redis, options: ClusterOptions) {
    this.id = id;
    this.#own = `{"n":${JSON.stringify(id)},`;
    this.#chat = chat;
    this.#log = options.log ?? chat.log;
    this.#cmd = cmd;
    this.#sub = sub;
    this.#lease = options.leaseMs ?? LEASE_MS;
    this.#store = options.store;
  }

  /**
   * Connects to Redis (two connections: commands and subscriptions), takes
   * the node's lease, reads the other nodes' users and becomes the chat's
   * peers. Throws a one-line Error if Redis cannot be reached.
   */
  static async start(chat: Chat, options: ClusterOptions): Promise<ClusterNode> {
    const made: { node?: ClusterNode } = {}; // the watchers are made before the node
    const watch = (connection: string) => ({
      down: (why: string) => made.node && made.node.#down(connection, why),
      up: () => made.node && made.node.#up(connection),
    });
    // The connections are named after the node, so that CLIENT LIST tells whose they are.
    const id = crypto.randomUUID();
    const cmd = await openRedis(options.url, watch("commands"), `teaparty-commands-${id}`);
    let sub: Redis;
    try {
      sub = await openRedis(options.url, watch("subscriptions"), `teaparty-subscriptions-${id}`);
    } catch (error) {
      cmd.destroy();
      throw error;
    }
    const node = made.node = new ClusterNode(id, chat, cmd, sub, options);
    const log = node.#log;
    try {
      await node.#join();
    } catch (error) {
      cmd.destroy();
      sub.destroy();
      throw new Error(`cannot join the cluster on ${options.url}: ${(error as Error).message}`);
    }
    chat.peers = node;
    if (options.store) {
      options.store.onChange = (change) => node.#storeChanged(change);
      options.store.onReread = () => node.#reread(); // bans, mutes and accounts changed while Redis was away
    }
    log.info("cluster", { node: node.id, nodes: node.#nodes.size + 1, users: node.#remote.size });
    return node;
  }

  async #join(): Promise<void> {
    await this.#renew();
    await this.#sub.subscribe([PRESENCE, nodeChannel(this.id)], this.#listener);
    for (const id of await this.#cmd.sMembers(NODES)) {
      if (id === this.id) continue;
      if (await this.#cmd.exists(aliveKey(id)) === 0) {
        await this.#forget(id);
        continue;
      }
      const users = await this.#cmd.hGetAll(usersKey(id));
      for (const text of Object.values(users)) this.#arrive(id, JSON.parse(text) as UserRecord);
    }
    this.#ready = true;
    for (const [message, channel] of this.#early.splice(0)) this.#message(message, channel);
    this.#timer = setInterval(() => this.#tick(), Math.max(100, Math.floor(this.#lease / 3)));
  }

  /** The other nodes this one knows users of. */
  get nodes(): string[] {
    return [...this.#nodes.keys()];
  }

  // ---- Peers: what this node's users do

  /** Claims a nick key across the cluster. */
  async claim(key: string, force = false, nick?: string): Promise<boolean> {
    if (force) {
      await this.#cmd.multi().set(NICK_PREFIX + key, this.id, { PX: this.#lease }).sAdd(nicksKey(this.id), key).exec();
      return true;
    }
    const looks = nick === undefined ? [] : [...new Set([nickSkeleton(key), shownSkeleton(nick)])];
    const marks = looks.map((s) => LOOK_PREFIX + s);
    const got = await this.#cmd.eval(CLAIM, {
      keys: [NICK_PREFIX + key, nicksKey(this.id), ...marks],
      arguments: [this.id, String(this.#lease), key, String(LOOK_MS)],
    });
    if (Number(got) !== 1) return false;
    if (marks.length > 0) this.#marked(key, marks);
    return true;
  }

  /** Remembers the look-alike marks a claim set, while they may last (the unclaim lets them go). */
  #marked(key: string, keys: string[]): void {
    const now = Date.now();
    for (const [k, m] of this.#marks) { // oldest first: those past their time are gone from Redis too
      if (now - m.at < 2 * LOOK_MS) break;
      this.#marks.delete(k);
    }
    this.#marks.delete(key);
    this.#marks.set(key, { keys, at: now });
  }

  /** What lets go of a nick key this node holds, with the look-alike marks its claim set (see UNCLAIM). */
  #unclaimArgs(key: string): { keys: string[]; arguments: string[] } {
    const marks = this.#marks.get(key)?.keys ?? [];
    this.#marks.delete(key);
    return { keys: [NICK_PREFIX + key, nicksKey(this.id), ...marks], arguments: [this.id, key] };
  }

  /** Rooms whose recent stored lines this node remembers (those with a member here; /metrics shows it). */
  get roomsRemembered(): number {
    return this.#seen.size;
  }

  /** Lets go of a nick key this node holds. */
  unclaim(key: string): void {
    this.#send(this.#cmd.eval(UNCLAIM, this.#unclaimArgs(key)));
  }

  /** A user of this node logged in: recorded and told. */
  loggedIn(user: User): void {
    this.#publishPresence(user, { t: "in", n: this.id, u: record(user) });
  }

  /** A user of this node logged out: its record and nick go (before the others are told, who may take it at once). */
  loggedOut(user: User): void {
    this.#send(
      this.#cmd.multi().hDel(usersKey(this.id), user.key).eval(UNCLAIM, this.#unclaimArgs(user.key))
        .publish(PRESENCE, json({ t: "out", n: this.id, k: user.key })).exec(),
    );
  }

  /** A user of this node changed nick (the old one is let go before the others are told). */
  renamed(user: User, oldKey: string, _oldNick: string): void {
    const m = this.#cmd.multi();
    if (oldKey !== user.key) m.hDel(usersKey(this.id), oldKey).eval(UNCLAIM, this.#unclaimArgs(oldKey));
    m.hSet(usersKey(this.id), user.key, json(record(user)));
    m.publish(PRESENCE, json({ t: "nick", n: this.id, k: oldKey, u: record(user) }));
    this.#send(m.exec());
  }

  /**
   * A user of this node entered a room: the room's channel is listened to
   * (resolves once Redis has confirmed it, so that the history shown next
   * and the lines relayed after it leave no gap).
   */
  entered(user: User, room: Room): Promise<void> {
    // Others are told only once the room's lines reach this node: a line said after they saw the entry is not missed.
    return this.#listen(room.key, +1).then(() => {
      if (user.rooms.has(room)) this.#publishPresence(user, { t: "join", n: this.id, k: user.key, r: room.name });
    });
  }

  /** A user of this node left a room. */
  left(user: User, room: Room, quit: boolean, reason?: string): void {
    this.#listen(room.key, -1);
    const message: PresenceMessage = { t: "part", n: this.id, k: user.key, r: room.name, q: quit };
    if (reason) message.why = reason;
    this.#publishPresence(user, message);
  }

  /** An event was delivered to a room here: published once for the other nodes. */
  roomEvent(room: Room, event: ChatEvent, from?: string): void {
    if (PRESENCE_EVENTS.has(event.type) || this.#stopped) return;
    if ((event.type === "chat" || event.type === "action") && event.id !== undefined) {
      this.#saw(room.key, line(event.id, event.nick, event.text));
    }
    const message: RoomMessage = { n: this.id, r: room.key, e: event };
    if (from !== undefined) message.f = from;
    this.#send(this.#cmd.publish(roomChannel(room.key), json(message)));
  }

  /** Sends an event to a user of another node. */
  direct(user: User, event: ChatEvent): void {
    if (!user.remote || PRESENCE_EVENTS.has(event.type)) return; // its own server shows it entries and leaves
    const message: NodeMessage = { t: "tell", n: this.id, k: user.key, e: event };
    this.#send(this.#cmd.publish(nodeChannel(user.remote), json(message)));
  }

  /** Sends a private message to a user of another node: true once its node's subscription got it. */
  async deliver(user: User, event: ChatEvent): Promise<boolean> {
    if (!user.remote) return false;
    const message: NodeMessage = { t: "tell", n: this.id, k: user.key, e: event };
    try {
      return await this.#cmd.publish(nodeChannel(user.remote), json(message)) > 0;
    } catch {
      return false; // Redis is away
    }
  }

  /** Asks a user's node to end its session (its nick was taken back with the password here). */
  evict(user: User): void {
    if (!user.remote) return;
    const message: NodeMessage = { t: "evict", n: this.id, k: user.key };
    this.#send(this.#cmd.publish(nodeChannel(user.remote), json(message)));
  }

  /** Asks a user's node to carry out a kick given here (the kick was announced here already). */
  kick(user: User, room: Room, by: string, reason: string, irc: boolean): void {
    if (!user.remote) return;
    const message: NodeMessage = { t: "kick", n: this.id, k: user.key, r: room.name, by, why: reason, irc };
    this.#send(this.#cmd.publish(nodeChannel(user.remote), json(message)));
  }

  // ---- what the other nodes say

  #message(text: string, channel: string): void {
    if (!this.#ready) {
      this.#early.push([text, channel]);
      return;
    }
    // Redis sends a node its own publications back: skip its room messages unread (they start with the sender).
    if (text.startsWith(this.#own)) return;
    let message: { n?: string };
    try {
      message = JSON.parse(text);
    } catch {
      this.#log.warn("cluster message unreadable", { channel, text: text.slice(0, 80) });
      return;
    }
    if (message.n === this.id) return;
    try {
      if (channel === PRESENCE) this.#presence(message as PresenceMessage);
      else if (channel === nodeChannel(this.id)) this.#forMe(message as NodeMessage);
      else if (this.#outage) this.#hold(message as RoomMessage); // after the lines missed, which come first
      else this.#roomMessage(message as RoomMessage);
    } catch (error) {
      this.#log.error("cluster message failed", { channel, error: String((error as Error).stack ?? error) });
    }
  }

  #presence(m: PresenceMessage): void {
    switch (m.t) {
      case "in":
        this.#arrive(m.n, m.u);
        return;
      case "join": {
        const user = this.#remote.get(m.k);
        if (!user) return;
        this.#seat(user, m.r);
        return;
      }
      case "part": {
        const user = this.#remote.get(m.k);
        const room = this.#chat.rooms.get(m.r);
        if (!user || !room || !user.rooms.delete(room)) return;
        if (user.room === room) user.room = [...user.rooms].at(-1);
        this.#chat.rooms.leave(user, room, { quit: m.q, reason: m.why });
        return;
      }
      case "out": {
        const user = this.#remote.get(m.k);
        if (user && user.remote === m.n) this.#depart(user, "logged out");
        return;
      }
      case "nick": {
        const user = this.#remote.get(m.k);
        if (!user || user.remote !== m.n) return this.#arrive(m.n, m.u);
        const old = user.nick;
        this.#unlist(user);
        user.nick = m.u.nick;
        user.key = m.u.key;
        user.registered = m.u.registered;
        user.operator = m.u.operator;
        this.#list(user);
        this.#chat.ignores.renamed(user, m.k); // the ignores on them follow
        if (old !== user.nick) this.#chat.announceAround(user, { type: "nick", old, nick: user.nick, at: Date.now() });
        return;
      }
      case "bye":
        this.#nodeGone(m.n, "server shutting down", false);
        return;
      case "sync":
        this.#send(this.#syncNode(m.n));
        return;
    }
  }

  #forMe(m: NodeMessage): void {
    const user = this.#chat.nicks.get(m.k);
    if (!user || user.remote) return;
    if (m.t === "tell") {
      const e = m.e;
      if (e.type === "private" && !e.echo && user.ignores?.has(foldNick(e.from))) return;
      this.#chat.journal.tell(user, e);
    } else if (m.t === "kick") {
      this.#send(this.#kicked(user, m));
    } else if (m.t === "evict") {
      this.#chat.sessionOf(user)?.end(
        `${user.nick} logged in again on another server`,
        `You (${user.nick}) logged in from another connection; this one is closed.`,
      );
    }
  }

  /** A kick given on another node, carried out here as the command would have (see commands/moderation.ts, doors/irc/channels.ts). */
  async #kicked(user: User, m: Extract<NodeMessage, { t: "kick" }>): Promise<void> {
    const chat = this.#chat;
    const room = chat.rooms.get(m.r);
    if (!room || !user.rooms.has(room)) return;
    const why = m.why ? `: ${m.why}` : ".";
    const irc = (user.link as { door?: string }).door?.startsWith("irc") === true;
    if (room === chat.rooms.main) {
      chat.sessionOf(user)?.end(
        `kicked by ${m.by}`,
        `You were kicked by ${m.by}${why}`,
        undefined,
        sentAway("Kicked", m.by, m.why),
      );
    } else if (m.irc && (user.rooms.size > 1 || irc)) {
      chat.part(user, room);
    } else {
      chat.journal.tell(user, { type: "notice", text: `You were kicked from ${room.name} by ${m.by}${why}` });
      await chat.move(user, chat.rooms.main.name);
    }
  }

  #roomMessage(m: RoomMessage): void {
    const e = m.e;
    const room = this.#chat.rooms.get(m.r);
    if (!room) return;
    if (e.type === "away") {
      const user = this.#chat.find(e.nick);
      if (user?.remote) user.away = e.text;
    }
    let from: Member | undefined;
    if (m.f !== undefined) from = this.#remote.get(m.f) ?? stranger(e, m.f);
    if ((e.type === "chat" || e.type === "action") && e.id !== undefined) {
      const seen = line(e.id, e.nick, e.text);
      if (this.#seen.get(room.key)?.has(seen)) return; // fetched from the history already
      this.#saw(room.key, seen);
      this.#store?.sawId(e.id);
      if (e.id > room.lastId) room.lastId = e.id;
    }
    this.#chat.journal.relay(room, e, from);
  }

  /** Keeps a room message until the resynchronisation has delivered the lines missed before it (the last 10,000). */
  #hold(m: RoomMessage): void {
    const held = this.#outage!.held;
    held.push(m);
    if (held.length > HELD_LIMIT) held.shift(); // a room line among them is in the history: fetched instead
  }

  /** Remembers that a stored line was delivered here (the last 2000 per room). */
  #saw(room: string, id: string): void {
    let ids = this.#seen.get(room);
    if (!ids) this.#seen.set(room, ids = new Set());
    ids.add(id);
    if (ids.size > 2000) ids.delete(ids.values().next().value!);
  }

  // ---- faults: Redis away, a subscription cut

  /** A connection to Redis broke: the users here are told once per outage. While stopping it is no fault. */
  #down(connection: string, why: string): void {
    if (this.#stopped) return; // the node is closing the connections itself (see stop)
    this.#log.warn("redis down", { connection, error: why });
    this.#broken.add(connection);
    if (this.#outage) {
      if (connection === "subscriptions") this.#outage.subscriptions = true;
      return;
    }
    const lastIds = new Map<string, number>();
    for (const key of this.#local.keys()) lastIds.set(key, this.#chat.rooms.get(key)?.lastId ?? 0);
    this.#outage = { since: Date.now(), lastIds, subscriptions: connection === "subscriptions", held: [] };
    this.#tellLocal(
      "Chat between servers is interrupted (the cluster's Redis cannot be reached); lines cannot be stored or " +
        "passed on until it is back, and you are told of each one that was not delivered.",
    );
  }

  /** A connection is back; once both are, the node resynchronises. */
  #up(connection: string): void {
    this.#log.info("redis back", { connection });
    this.#broken.delete(connection);
    if (this.#broken.size === 0 && this.#outage && !this.#stopped) this.#resync();
  }

  /**
   * After an outage: the lease, nick claims and user records are written
   * again (Redis may have restarted empty), the room channels listened to
   * again, the other nodes' users read again (announcing who came and
   * went), and the room lines missed meanwhile fetched from the history.
   */
  async #resync(): Promise<void> {
    clearTimeout(this.#resyncTimer);
    const outage = this.#outage;
    if (!outage) return;
    try {
      // One transaction: whoever sees this node alive again sees its users too.
      const m = this.#cmd.multi().set(aliveKey(this.id), "1", { PX: this.#lease }).sAdd(NODES, this.id);
      // Redis may have restarted empty: ids go on above the highest seen here, before any other node is told
      // this one is back (a node that saw none of the lines before would give ids from 1 again, and users
      // here, who saw higher ones, would take its new lines for old ones).
      const highest = this.#store?.highestId ?? 0;
      if (highest > 0) m.eval(RAISE_IDS, { keys: [MESSAGE_ID_KEY], arguments: [String(highest)] });
      for (const user of this.#localUsers()) {
        m.set(NICK_PREFIX + user.key, this.id, { PX: this.#lease }).sAdd(nicksKey(this.id), user.key);
        m.hSet(usersKey(this.id), user.key, json(record(user)));
      }
      m.publish(PRESENCE, json({ t: "sync", n: this.id }));
      await m.exec();
      const channels = [PRESENCE, nodeChannel(this.id), ...[...this.#local.keys()].map(roomChannel)];
      await this.#sub.subscribe(channels, this.#listener);
      // Nodes not back yet are left to the lease checks: they may be resynchronising too.
      for (const id of await this.#cmd.sMembers(NODES)) {
        if (id !== this.id && await this.#cmd.exists(aliveKey(id)) === 1) await this.#syncNode(id);
      }
      const fetched = await this.#fillGaps(outage.lastIds);
      this.#outage = undefined;
      for (const m of outage.held.splice(0)) this.#roomMessage(m);
      const others = [...this.#nodes.values()].reduce((n, users) => n + users.size, 0);
      this.#log.info("cluster resynchronised", { nodes: this.#nodes.size, users: others, fetched });
      this.#tellLocal(
        `Chat between servers is back (${others} user${others === 1 ? "" : "s"} on ${this.#nodes.size} other ` +
          `server${this.#nodes.size === 1 ? "" : "s"}). ` +
          (fetched > 0
            ? `${fetched} room line${fetched === 1 ? "" : "s"} said meanwhile on other servers ${
              fetched === 1 ? "was" : "were"
            } fetched from the history; private messages sent to you meanwhile may have been missed.`
            : "Private messages sent to you meanwhile from other servers may have been missed."),
      );
    } catch (error) {
      this.#log.warn("cluster resync failed", { error: (error as Error).message });
      this.#resyncTimer = setTimeout(() => this.#resync(), 500);
    }
  }

  /** Reads one node's users again and brings the picture here in line with it. */
  async #syncNode(node: string): Promise<void> {
    const records = new Map<string, UserRecord>();
    for (const text of Object.values(await this.#cmd.hGetAll(usersKey(node)))) {
      const u = JSON.parse(text) as UserRecord;
      records.set(u.key, u);
    }
    for (const user of [...(this.#nodes.get(node) ?? [])]) {
      const u = records.get(user.key);
      if (!u || u.since !== user.since) { // gone, or gone and the nick taken again (another login) meanwhile
        this.#depart(user, u ? "logged out" : "server lost");
        continue;
      }
      records.delete(user.key);
      const rooms = new Set(u.rooms.map((r) => this.#chat.rooms.get(r)?.key ?? r));
      for (const room of [...user.rooms]) {
        if (rooms.has(room.key)) continue;
        user.rooms.delete(room);
        if (user.room === room) user.room = [...user.rooms].at(-1);
        this.#chat.rooms.leave(user, room, {});
      }
      for (const name of u.rooms) this.#seat(user, name);
    }
    for (const u of records.values()) this.#arrive(node, u);
  }

  /** Delivers the stored lines of the rooms here that came after `lastIds` and were not delivered; returns how many. */
  async #fillGaps(lastIds: Map<string, number>): Promise<number> {
    if (!this.#store) return 0;
    let count = 0;
    for (const [key, after] of lastIds) {
      const room = this.#chat.rooms.get(key);
      if (!room || !this.#local.has(key)) continue;
      const missed = await this.#store.within(key, { afterId: after }, GAP_LIMIT + 1, false);
      if (missed.length > GAP_LIMIT) {
        missed.splice(0, missed.length - GAP_LIMIT); // the newest; /history shows the rest
        for (const user of room.members) {
          if (user instanceof User && !user.remote) {
            this.#chat.journal.tell(user, {
              type: "notice",
              text: `More than ${GAP_LIMIT} lines were said in ${room.name} meanwhile; the last ${GAP_LIMIT} follow ` +
                `(/history shows more).`,
            });
          }
        }
      }
      for (const m of missed) {
        if (m.id === undefined) continue;
        const seen = line(m.id, m.nick, m.text);
        if (this.#seen.get(key)?.has(seen)) continue;
        this.#saw(key, seen);
        this.#store?.sawId(m.id);
        if (m.id > room.lastId) room.lastId = m.id;
        const from = this.#remote.get(foldNick(m.nick)) ??
          { nick: m.nick, key: foldNick(m.nick), quiet: false, ignores: undefined, echo: false, receive() {} };
        this.#chat.journal.relay(room, {
          type: m.kind,
          room: room.name,
          nick: m.nick,
          text: m.text,
          at: m.at,
          id: m.id,
        }, from);
        count++;
      }
    }
    return count;
  }

  #localUsers(): User[] {
    return [...this.#chat.nicks.values()].filter((u) => !u.remote);
  }

  /** A notice to every user of this node. */
  #tellLocal(text: string): void {
    for (const user of this.#localUsers()) this.#chat.journal.tell(user, { type: "notice", text });
  }

  /** Another node changed an account, ban or mute: it takes effect here at once. */
  #storeChanged(c: StoreChange): void {
    const chat = this.#chat;
    if (c.w === "account") {
      return chat.holdAccount(c.k, c.v?.nick);
    }
    if (c.w === "mute") return chat.moderation.reload();
    if (c.w !== "ban") return;
    chat.moderation.reload();
    const ban = c.v;
    if (!ban) return;
    const range = ban.kind === "ip" ? parseAddress(ban.value) : undefined;
    for (const s of [...chat.sessions]) {
      const hit = range ? !("error" in range) && covers(range, s.ip) : s.user && chat.bannedNick(s.user.nick);
      if (hit) s.end(`banned by ${ban.by}`, `You are banned ${describeBan(ban)}`);
    }
  }

  /** The store was read again whole: what changed meanwhile takes effect, and users banned meanwhile go. */
  #reread(): void {
    const chat = this.#chat;
    chat.reload();
    for (const s of [...chat.sessions]) {
      const ban = (s.user && chat.bannedNick(s.user.nick)) || chat.moderation.banned("ip", s.ip);
      if (ban) {
        s.end(`banned by ${ban.by}`, `You are banned ${describeBan(ban)}`, undefined, sentAway("Banned", ban.by));
      }
    }
  }

  // ---- remote users

  /** Brings in a user of another node (and seats it in its rooms). */
  #arrive(node: string, u: UserRecord): void {
    const held = this.#chat.nicks.get(u.key);
    if (held && !held.remote) {
      this.#log.warn("cluster nick clash", { nick: u.nick, node });
      return;
    }
    const old = this.#remote.get(u.key);
    if (old) this.#depart(old, "", true);
    const link = { receive() {}, door: u.door }; // its own server delivers to it; the door is for WHOIS
    const user = new User(u.nick, u.key, link);
    user.remote = node;
    user.echo = false;
    user.registered = u.registered;
    user.operator = u.operator;
    user.away = u.away;
    user.since = u.since;
    user.active = Date.now();
    this.#list(user);
    let users = this.#nodes.get(node);
    if (!users) this.#nodes.set(node, users = new Set());
    users.add(user);
    if (old) {
      // The same person announced again (same node, same login), or someone who took the nick while
      // this node missed the first one leaving: ignores on that one end (or stay on its registered nick).
      if (old.remote === node && old.since === u.since) this.#chat.ignores.replace(old, user);
      else this.#chat.ignores.gone(old);
    }
    for (const name of u.rooms) this.#seat(user, name);
  }

  #seat(user: User, name: string): void {
    const present = this.#chat.rooms.get(name);
    if (present && user.rooms.has(present)) return;
    const room = this.#chat.rooms.enter(user, name);
    user.rooms.add(room);
    user.room = room; // the last room entered, as for a user here
  }

  /**
   * Takes a remote user out of every room (announced as quitting unless
   * `silent`: then it is announced again at once) and out of the nick lists.
   */
  #depart(user: User, reason: string, silent = false): void {
    user.room = undefined;
    for (const room of [...user.rooms]) {
      user.rooms.delete(room);
      this.#chat.rooms.leave(user, room, { quit: true, silent, reason: reason || undefined });
    }
    this.#unlist(user);
    this.#nodes.get(user.remote!)?.delete(user);
    if (!silent) this.#chat.ignores.gone(user); // left: ignores on a guest end, on a registered nick stay
  }

  #list(user: User): void {
    this.#remote.set(user.key, user);
    if (!this.#chat.nicks.has(user.key)) {
      this.#chat.nicks.set(user.key, user);
      this.#chat.lookAlikes.add(user.nick, user.key);
    }
  }

  #unlist(user: User): void {
    if (this.#remote.get(user.key) === user) this.#remote.delete(user.key);
    if (this.#chat.nicks.get(user.key) === user) {
      this.#chat.nicks.delete(user.key);
      this.#chat.lookAlikes.delete(user.key);
    }
  }

  /** A node left (said goodbye) or died (its lease lapsed): its users are gone. */
  #nodeGone(node: string, reason: string, dead: boolean): void {
    const users = this.#nodes.get(node);
    this.#nodes.delete(node);
    if (users) { for (const user of [...users]) this.#depart(user, reason); }
    if (dead) {
      this.#log.warn("cluster node lost", { node, users: users?.size ?? 0 });
      this.#send(this.#forget(node));
    }
  }

  async #forget(node: string): Promise<void> {
    await this.#cmd.multi().del(usersKey(node)).del(nicksKey(node)).sRem(NODES, node).exec();
  }

  // ---- leases

  async #renew(): Promise<void> {
    await this.#cmd.eval(RENEW, {
      keys: [aliveKey(this.id), NODES, nicksKey(this.id)],
      arguments: [String(this.#lease), this.id, NICK_PREFIX],
    });
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#renew();
      // A node whose lease is missing at two checks in a row is gone (one miss may be Redis restarting empty).
      for (const node of [...this.#nodes.keys()]) {
        if (await this.#cmd.exists(aliveKey(node)) === 1) this.#missing.delete(node);
        else if (!this.#missing.has(node)) this.#missing.add(node);
        else {
          this.#missing.delete(node);
          this.#nodeGone(node, "server lost", true);
        }
      }
    } catch (error) {
      this.#log.warn("cluster lease renewal failed", { error: (error as Error).message });
    }
  }

  // ---- helpers

  #publishPresence(user: User, message: PresenceMessage): void {
    this.#send(
      this.#cmd.multi().hSet(usersKey(this.id), user.key, json(record(user))).publish(PRESENCE, json(message)).exec(),
    );
  }

  /** Counts this node's users in a room; listens to its channel while there are any. Resolves once listening. */
  #listen(room: string, change: number): Promise<void> {
    const before = this.#local.get(room) ?? 0;
    const now = Math.max(0, before + change);
    if (now === 0) this.#local.delete(room);
    else this.#local.set(room, now);
    if (before === 0 && now > 0) {
      const subscribed = this.#sub.subscribe(roomChannel(room), this.#listener).then(
        () => {},
        (error) => this.#log.warn("cluster subscribe failed", { room, error: (error as Error).message }),
      );
      this.#subscribing.set(room, subscribed);
      subscribed.finally(() => {
        if (this.#subscribing.get(room) === subscribed) this.#subscribing.delete(room);
      });
      return subscribed;
    }
    if (before > 0 && now === 0 && !this.#stopped) {
      this.#subscribing.delete(room);
      this.#seen.delete(room); // its lines no longer come here: what was seen of them is no more needed
      this.#send(this.#sub.unsubscribe(roomChannel(room)));
    }
    return this.#subscribing.get(room) ?? Promise.resolve();
  }

  #send(p: Promise<unknown>): void {
    this.#inflight.add(p);
    p.then(
      () => this.#inflight.delete(p),
      (error) => {
        this.#inflight.delete(p);
        if (!this.#stopped) this.#log.warn("cluster write failed", { error: (error as Error).message });
      },
    );
  }

  /**
   * Leaves the cluster (after the chat has let its users go): waits for
   * what is being sent (a second at most), gives up the lease, says goodbye
   * and closes the connections, which logs one `redis closed` line (no
   * `redis down`: that is for a Redis lost while the node runs).
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    clearInterval(this.#timer);
    clearTimeout(this.#resyncTimer);
    const bounded = <T>(p: Promise<T>) =>
      Promise.race([p, new Promise<void>((r) => setTimeout(r, 1000))]).catch(() => {});
    await bounded(Promise.allSettled([...this.#inflight]));
    this.#stopped = true;
    await bounded(
      this.#cmd.multi().del(usersKey(this.id)).del(aliveKey(this.id)).sRem(NODES, this.id)
        .publish(PRESENCE, json({ t: "bye", n: this.id })).exec(),
    );
    for (const client of [this.#sub, this.#cmd]) {
      try {
        await bounded(client.close());
      } catch { /* gone */ }
      try {
        client.destroy();
      } catch { /* closed */ }
    }
    this.#log.info("redis closed", { node: this.id });
  }
}

/** What other nodes are told of a user. */
function record(user: User): UserRecord {
  return {
    nick: user.nick,
    key: user.key,
    registered: user.registered,
    operator: user.operator,
    away: user.away,
    since: user.since,
    door: (user.link as { door?: string }).door ?? "",
    rooms: [...user.rooms].map((r) => r.name),
  };
}

/** The sender of a room line not known here (it left meanwhile): enough to deliver by. */
function stranger(e: ChatEvent, key: string): Member {
  const nick = "nick" in e && typeof e.nick === "string" ? e.nick : key;
  return { nick, key, quiet: false, ignores: undefined, echo: false, receive() {} };
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * A stored line as remembered for telling duplicates apart: its id with its
 * sender and text, so that a line with an id given again (a Redis that
 * restarted empty counts from 1) is never taken for one delivered already.
 */
function line(id: number, nick: string, text: string): string {
  let hash = 0x811c9dc5; // FNV-1a over the sender and the text: a few bytes kept, not the line
  const s = nick + "\0" + text;
  for (let i = 0; i < s.length; i++) hash = Math.imul(hash ^ s.charCodeAt(i), 0x01000193);
  return `${id}:${(hash >>> 0).toString(36)}`;
}
