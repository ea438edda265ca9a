/**
 * The chat: rooms, users, history and moderation, whatever door people come
 * through. It keeps the sessions and the logged-in users, seats users in
 * rooms (with topic and history), carries room lines, private messages and
 * offline mail, and lets sessions go. Doors, the command table and
 * connection limits live elsewhere and use it.
 *
 * Lifecycle events, as `CustomEvent`s with a `detail`, go to the `events`
 * target given in the options: `login` (`{ session }`), `close`
 * (`{ session, reason }`).
 *
 * @example
 * ```ts
 * import { Chat } from "./chat.ts";
 * import { Store } from "./store.ts";
 * import { Logger } from "./log.ts";
 * import { defaults } from "./config.ts";
 * const chat = new Chat({ ...defaults, op: [] }, Store.open(""), new Logger("silent"));
 * chat.rooms.main.name; // "main"
 * ```
 * @module
 */
import type { ServerOptions } from "./config.ts";
import type { Logger } from "./log.ts";
import { type Room, Rooms } from "./rooms.ts";
import { Journal, type JournalWatcher } from "./journal.ts";
import { type Ban, type ChatStore, explain, explainToUser } from "./store.ts";
import { Moderation } from "./moderation.ts";
import { describeUntil } from "./moderation.ts";
import { foldNick, LookAlikes } from "./nick.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { Ignores, User } from "./user.ts";
import { LastSeen } from "./room_history.ts";
import type { Session, SessionHost } from "./session.ts";
import type { ChatEvent, PrivateEvent } from "./events.ts";
import { Delivery } from "./dialects/dialect.ts";

/** The most messages kept for one offline user; past it senders are told the mailbox is full. */
export const MAILBOX_LIMIT = 100;
/** Messages a guest (unregistered sender) may leave for offline users, per address and period. */
export const GUEST_MAIL = { burst: 5, perSeconds: 600 } as const;
/** Mail fetched from the store at a time while delivering. */
const MAIL_BATCH = 50;

/** At most `count` uses per key in `windowMs` (a small sliding window for rare actions). */
class Allowance {
  #count: number;
  #window: number;
  #uses = new Map<string, number[]>();
  constructor(count: number, windowMs: number) {
    this.#count = count;
    this.#window = windowMs;
  }
  /** Uses one allowance of `key`; false when none is left. */
  take(key: string, now = Date.now()): boolean {
    const uses = (this.#uses.get(key) ?? []).filter((t) => t > now - this.#window);
    if (uses.length >= this.#count) {
      this.#uses.set(key, uses);
      return false;
    }
    uses.push(now);
    this.#uses.set(key, uses);
    return true;
  }
}

/** Emits a lifecycle event (made only when someone listens). */
export type Emit = (type: string, detail: unknown) => void;

/** Why a room line or private message was not sent, as a sentence for the sender. */
export type Refusal = string;

/**
 * The other servers of a cluster, as the chat engine sees them (cluster
 * mode; see cluster/node.ts). A single server has {@linkcode alonePeers},
 * which does nothing. The engine tells them what its own users do; they
 * bring the other servers' users in as {@linkcode User}s marked `remote`.
 */
export interface Peers {
  /**
   * Claims a nick key for a user of this server; false if another server's
   * user has it, or (given the `nick` as shown) a look-alike of it is being
   * claimed at this moment on another server. `force` takes it over.
   */
  claim(key: string, force?: boolean, nick?: string): Promise<boolean>;
  /** Lets go of a claimed nick key that no user of this server took after all. */
  unclaim(key: string): void;
  /** A user of this server logged in. */
  loggedIn(user: User): void;
  /** A user of this server logged out (after leaving its rooms). */
  loggedOut(user: User): void;
  /** A user of this server changed nick (the new one was claimed). */
  renamed(user: User, oldKey: string, oldNick: string): void;
  /** A user of this server entered a room; resolves once the room's lines from other servers reach this one. */
  entered(user: User, room: Room): void | Promise<void>;
  /** A user of this server left a room. */
  left(user: User, room: Room, quit: boolean, reason?: string): void;
  /** An event was delivered to a room's members here (`from`: the sender of a room line). */
  roomEvent(room: Room, event: ChatEvent, from?: string): void;
  /** Sends an event to a user of another server (an invitation, a notice). */
  direct(user: User, event: ChatEvent): void;
  /** Sends a private message to a user of another server; resolves false if its server did not get it. */
  deliver(user: User, event: ChatEvent): Promise<boolean>;
  /** Ends the session of another server's user who logged in here again with the password. */
  evict(user: User): void;
  /** An operator here kicked another server's user out of a room (`irc`: IRC KICK, which only parts). */
  kick(user: User, room: Room, by: string, reason: string, irc: boolean): void;
}

/** The peers of a server that is not in a cluster: nothing to tell, every claim granted. */
export const alonePeers: Peers = {
  claim: () => Promise.resolve(true),
  unclaim() {},
  loggedIn() {},
  loggedOut() {},
  renamed() {},
  entered() {},
  left() {},
  roomEvent() {},
  direct() {},
  deliver: () => Promise.resolve(false),
  evict() {},
  kick() {},
};

/** The chat engine of one server. */
export class Chat implements SessionHost {
  /** The options in force. */
  readonly options: ServerOptions;
  /** The logger. */
  readonly log: Logger;
  /** The database. */
  readonly store: ChatStore;
  /** The one way out for everything sent; stores room lines before delivering them. */
  readonly journal: Journal;
  /** The rooms. */
  readonly rooms: Rooms;
  /** Bans and mutes in force. */
  readonly moderation: Moderation;
  /** Every connected session, on every door. */
  readonly sessions: Set<Session> = new Set();
  /** Logged-in users by nick key. */
  readonly nicks: Map<string, User> = new Map();
  /** Operator nicks (keys). */
  /** The `--op` nicks with an account at the start: key → when that account was made. */
  readonly ops: Map<string, number>;
  /** `--op` nicks that had no account at the start (they are not operators; main refuses to start). */
  readonly operatorsWithoutAccount: string[] = [];
  /**
   * Registered and logged-in nicks by how they look, to refuse look-alikes:
   * each user in {@linkcode Chat.nicks} is added once as spelled, each
   * account once more (at start-up, by `/register`, or when another program
   * made it).
   */
  readonly lookAlikes: LookAlikes = new LookAlikes();
  /** Failed password checks (logins, /nick and /password), per address and per nick. */
  readonly logins: LoginThrottle = new LoginThrottle();
  /** The other servers of the cluster ({@linkcode alonePeers} for a single server). */
  peers: Peers = alonePeers;
  /** Who ignores whom (`/ignore`), so that an ignore stays on one person. */
  readonly ignores: Ignores = new Ignores((key) => this.store.account(key)?.created);
  /** The last line each nick saw in each room it left, kept past logout (bounded). */
  readonly lastSeen: LastSeen = new LastSeen();
  #emit: Emit;
  #stopping = false;
  #guestMail = new Allowance(GUEST_MAIL.burst, GUEST_MAIL.perSeconds * 1000);

  /** A chat on `store`, logging to `log`; `emit` sends lifecycle events. */
  constructor(
    options: ServerOptions,
    store: ChatStore,
    log: Logger,
    emit: Emit = () => {},
    watcher: JournalWatcher = {},
  ) {
    this.options = options;
    this.store = store;
    this.log = log;
    this.#emit = emit;
    this.journal = new Journal(store, log, explain, {
      ...watcher,
      sent: (room, event, from) => this.peers.roomEvent(room, event, from),
      direct: (to, event) => this.peers.direct(to as User, event),
    }, explainToUser);
    this.rooms = new Rooms({
      main: options.room,
      crowd: options.crowd,
      post: this.journal,
      emptied: (room) => store.roomEmptied(room.key, (key) => this.rooms.get(key) !== undefined),
    });
    this.moderation = new Moderation(store, {
      onError: (action, error) => log.error("store failed", { action, error: explain(error) }),
    });
    this.ops = new Map();
    this.reload();
  }

  /**
   * Reads what the chat keeps from the store: registered nicks (for
   * look-alikes), operators, bans and mutes. Done at construction, and again
   * by cluster mode once the Redis store has been read.
   */
  reload(): void {
    this.store.changedElsewhere?.(); // from here on, refreshAccounts sees what the account tool adds
    this.#syncAccounts();
    // Operators are --op nicks whose accounts exist now: an account made
    // after the start (by anyone who thought of the nick first) never is one.
    // The first account seen for each stays the operator's, whatever is read later.
    this.operatorsWithoutAccount.length = 0;
    for (const nick of this.options.op) {
      const key = foldNick(nick);
      if (this.ops.has(key)) continue;
      const account = this.store.account(key);
      if (account) this.ops.set(key, account.created);
      else this.operatorsWithoutAccount.push(nick);
    }
    this.moderation.reload();
  }

  /**
   * Learns of accounts made or removed by another program (the account tool)
   * while the server runs: look-alikes of new ones are refused too, and a
   * user online on a removed account is no longer registered. Cheap: the
   * store says whether anything changed (SQLite's data version).
   */
  refreshAccounts(): void {
    if (!this.store.changedElsewhere?.()) return;
    const keys = this.#syncAccounts();
    for (const user of this.nicks.values()) if (user.registered && !keys.has(user.key)) user.registered = false;
  }

  /**
   * Makes lookAlikes hold the accounts in the store: one missing (made by
   * another program) is added; the adds of one no longer there (removed by
   * the account tool) are taken back. Returns the keys of the accounts.
   */
  #syncAccounts(): Set<string> {
    const accounts = new Map(this.store.accountList().map((a) => [a.key, a.nick]));
    for (const key of this.lookAlikes.keys()) if (!accounts.has(key)) this.holdAccount(key, undefined);
    for (const [key, nick] of accounts) this.holdAccount(key, nick);
    return new Set(accounts.keys());
  }

  /**
   * Makes lookAlikes hold `key` as an account spelled `nick` (once, however
   * often it is told), or with `nick` undefined no longer as an account: its
   * adds are taken back, but not that of its user online, who stays held as
   * spelled. For an account made, changed or removed elsewhere (the account
   * tool, another server of the cluster).
   */
  holdAccount(key: string, nick: string | undefined): void {
    const user = this.nicks.get(key);
    if (nick !== undefined) {
      if (this.lookAlikes.spellings(key).length <= (user ? 1 : 0)) this.lookAlikes.add(nick, key);
      return;
    }
    const stale = this.lookAlikes.spellings(key);
    if (user) stale.splice(Math.max(stale.lastIndexOf(user.nick), 0), 1); // the user's own add
    for (const spelling of stale) this.lookAlikes.delete(key, spelling);
  }

  /** Emits a lifecycle event. */
  emit(type: string, detail: unknown): void {
    this.#emit(type, detail);
  }

  /** True once shutdown has begun. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Finds a logged-in user by nick (case-insensitive). */
  find(nick: string): User | undefined {
    return this.nicks.get(foldNick(nick));
  }

  /** Every session from an address. */
  sessionsFrom(ip: string): Session[] {
    return [...this.sessions].filter((s) => s.ip === ip);
  }

  /** The session of a logged-in user. */
  sessionOf(user: User): Session | undefined {
    for (const s of this.sessions) if (s.user === user) return s;
    return undefined;
  }

  /**
   * Whether `key` is an operator's account: an `--op` nick whose account is
   * the very one that existed at the start (removed and made again by
   * someone else, it is not).
   */
  opAccount(key: string): boolean {
    const created = this.ops.get(key);
    return created !== undefined && this.store.account(key)?.created === created;
  }

  /**
   * The ban in force on a nick, if any (see {@linkcode Moderation.banned}):
   * a registered nick made before a look-alike's ban is not kept out by it.
   */
  bannedNick(nick: string): Ban | undefined {
    return this.moderation.banned("nick", nick, Date.now(), this.store.account(foldNick(nick))?.created);
  }

  /** Whether a user may use operator commands. */
  isOperator(user: User | undefined): boolean {
    if (user?.operator !== true) return false;
    if (this.opAccount(user.key)) return true;
    user.operator = false; // the account was removed (or made again) since: no longer an operator
    return false;
  }

  // ---- rooms

  /**
   * Puts a user in a room (created if needed), announces it, and shows the
   * topic and up to `history` lines the user has not seen. It becomes the
   * user's room. A user already in the room stays, unannounced.
   */
  async join(user: User, name: string, history = this.options.history): Promise<Room> {
    const present = this.rooms.get(name);
    if (present && user.rooms.has(present)) return user.room = present;
    const room = this.rooms.enter(user, name);
    user.rooms.add(room);
    user.room = room;
    // With a store that answers later (cluster mode), live lines wait behind the topic and history read meanwhile.
    const late = this.peers !== alonePeers;
    if (late) user.hold();
    const first: ChatEvent[] = [];
    let newest = 0;
    const show = (event: ChatEvent) => {
      if (event.type === "history" && event.id !== undefined && event.id > newest) newest = event.id;
      if (late) first.push(event);
      else this.journal.tell(user, event);
    };
    try {
      const seen = this.#seen(user, room);
      await this.peers.entered(user, room);
      const topic = await this.store.topic(room.key);
      if (topic) {
        show({ type: "topic", room: room.name, text: topic.text, by: topic.by, at: topic.at, changed: false });
      }
      if (history > 0) await this.#history(room, history, undefined, seen, show);
      // Seen now, even if the room was made afresh (its lastId starts at 0) and nothing more is said.
      if (newest > 0) user.saw(room.key, newest);
    } finally {
      if (late) user.release(first.map((e) => new Delivery(e)));
    }
    return room;
  }

  /**
   * The id of the last line a user saw in a room it is entering: from its
   * own visits since it logged in, else what its nick saw before (a
   * reconnect, a takeover), which becomes the user's own so that the IRC
   * door's replay (`user.seen`) finds it too.
   */
  #seen(user: User, room: Room): number | undefined {
    let seen = user.seen?.get(room.key);
    if (seen === undefined && !user.remote && !user.link.forgetful) {
      seen = this.lastSeen.get(user.key, room.key);
      if (seen !== undefined) user.saw(room.key, seen);
    }
    return seen;
  }

  /**
   * Takes a user out of one room; `reason` is the user's own parting word
   * (IRC). What the user saw there is recorded, for the user and past its
   * logout for its nick ({@linkcode Chat.lastSeen}).
   */
  part(user: User, room: Room, quit = false, reason?: string): void {
    if (!user.rooms.delete(room)) return;
    const seen = user.saw(room.key, room.lastId);
    if (!user.remote) this.lastSeen.set(user.key, room.key, seen);
    // Still in other rooms (IRC channels): the last one entered is the room it talks to now.
    if (user.room === room) user.room = [...user.rooms].at(-1);
    this.rooms.leave(user, room, { quit, silent: this.#stopping, reason });
    if (!user.remote) this.peers.left(user, room, quit, reason);
  }

  /** Moves a user from its room to another (created if needed): a line-protocol `/join`. */
  async move(user: User, name: string): Promise<Room> {
    if (user.room) this.part(user, user.room);
    return await this.join(user, name);
  }

  /**
   * Sends a user up to `count` stored lines of a room before `before` (ms),
   * leaving out those up to id `seen` (already seen there). Returns how many
   * were sent.
   */
  async showHistory(user: User, room: Room, count: number, before?: number, seen = 0): Promise<number> {
    return await this.#history(room, count, before, seen, (event) => this.journal.tell(user, event));
  }

  async #history(
    room: Room,
    count: number,
    before: number | undefined,
    seen = 0,
    show: (event: ChatEvent) => void,
  ): Promise<number> {
    const messages = (await this.store.recent(room.key, count, before)).filter((m) => (m.id ?? 0) > seen);
    for (const m of messages) {
      show({ type: "history", room: room.name, kind: m.kind, nick: m.nick, text: m.text, at: m.at, id: m.id });
    }
    return messages.length;
  }

  // ---- talking

  /** Says a line in the user's room (`notice`: sent as an IRC NOTICE); returns why it was refused, if it was. */
  say(user: User, kind: "chat" | "action", text: string, room = user.room, notice = false): Refusal | undefined {
    if (!room) return "You are not in a room; /join one first.";
    if (user.quiet) return "You are in quiet mode, so you cannot talk in the room; /quiet turns it off.";
    const mute = this.moderation.muted(user.key);
    if (mute) return `You are muted ${describeUntil(mute.until)}, so you cannot talk in rooms.`;
    user.active = Date.now();
    this.journal.say(room, user, kind, text, Date.now(), notice);
    return undefined;
  }

  /**
   * Sends a private message to a nick: to the user if online (unless they
   * ignore the sender), else kept as mail for a registered nick. The sender
   * gets its own copy (`echo`) whenever the message was sent or kept.
   * Returns a notice for the sender when it was not delivered at once, or a
   * refusal.
   */
  async tell(
    from: User,
    nick: string,
    text: string,
    action = false,
    sender = from.key,
    notice = false,
  ): Promise<{ sent: true; to: string } | { sent: false; reply: string; error?: boolean }> {
    from.active = Date.now();
    const other = this.find(nick);
    if (!other) {
      const key = foldNick(nick);
      const account = await this.store.account(key);
      if (!account) return { sent: false, reply: `No such user: ${nick}.`, error: true };
      if (!from.registered && !this.#guestMail.take(sender)) {
        return {
          sent: false,
          error: true,
          reply: `Guests may leave at most ${GUEST_MAIL.burst} messages for offline users every ${
            GUEST_MAIL.perSeconds / 60
          } minutes; register your nick (/register) to leave more.`,
        };
      }
      if (await this.store.mailCount(key) >= MAILBOX_LIMIT) {
        return {
          sent: false,
          error: true,
          reply: `${account.nick}'s mailbox is full (${MAILBOX_LIMIT} messages); your message was not kept.`,
        };
      }
      const at = Date.now();
      await this.store.addMail(key, from.nick, text, at, action);
      // The sender's own copy, as for a message delivered at once (IRC echo-message, telnet, web).
      this.journal.tell(from, privateEvent(from.nick, account.nick, text, at, true, action, notice));
      return {
        sent: false,
        reply: `${account.nick} is offline; your message will be delivered when they next log in.`,
      };
    }
    const at = Date.now();
    const message = (echo: boolean) => privateEvent(from.nick, other.nick, text, at, echo, action, notice);
    if (other.remote) { // another server's user: its server knows its ignores
      if (!(await this.peers.deliver(other, message(false)))) {
        return {
          sent: false,
          error: true,
          reply: `${other.nick} is on another server that cannot be reached now; your message was not delivered.`,
        };
      }
    } else if (!other.ignores?.has(from.key)) {
      this.journal.tell(other, message(false));
    }
    this.journal.tell(from, message(true));
    return { sent: true, to: other.nick };
  }

  /**
   * Delivers the private messages stored for a user, paced: a batch at a
   * time (a quarter of `--max-queue` at most), each deleted only once it has
   * been written to the connection (taken by the kernel), so a reading client
   * is never dropped for its own mailbox and what was never written stays
   * kept when the connection breaks halfway. (A client that closes without
   * reading what its socket took loses that: TCP does not say.)
   */
  async deliverMail(user: User, session: Session): Promise<void> {
    let count = await this.store.mailCount(user.key);
    if (count === 0) return;
    this.journal.tell(user, {
      type: "notice",
      text: `You have ${count} message${count === 1 ? "" : "s"} from while you were away:`,
    });
    const budget = Math.max(1, this.options.maxQueue >> 2);
    while (count > 0 && !session.closed && session.user === user) {
      const batch = await this.store.mail(user.key, MAIL_BATCH);
      if (batch.length === 0) break;
      const sent: number[] = [];
      let bytes = 0;
      for (const m of batch) {
        bytes += m.text.length * 3 + m.from.length * (m.action ? 2 : 1) + 40; // at most, in UTF-8 with its frame
        if (sent.length > 0 && bytes > budget) break;
        this.journal.tell(user, {
          type: "mail",
          from: m.from,
          text: m.text,
          at: m.at,
          ...(m.action ? { action: true } : {}),
        });
        sent.push(m.id);
      }
      await this.journal.settled();
      await session.outbox.drained();
      if (session.closed) break; // not written: kept for the next login
      await this.store.deleteMail(sent);
      count -= sent.length;
    }
  }

  /** Sends an event to every room a user is in (and the user, if in none). */
  announceAround(user: User, event: ChatEvent): void {
    if (user.rooms.size === 0) this.journal.tell(user, event);
    for (const room of user.rooms) this.journal.announce(room, event);
  }

  // ---- sessions

  /** Adds a session that has just been accepted. */
  opened(session: Session): void {
    this.sessions.add(session);
  }

  /**
   * A session is ending: its user leaves every room (`quit`: why the server
   * sent it away, as its rooms are told; what it saw there is
   * remembered for its nick), frees its nick, and ignores on it end or stay
   * on its registered nick ({@linkcode Ignores.gone}). Idempotent.
   */
  release(session: Session, quit?: string): void {
    const user = session.user;
    if (!user) return;
    for (const room of [...user.rooms]) this.part(user, room, true, quit);
    this.ignores.gone(user);
    if (this.nicks.get(user.key) === user) {
      this.nicks.delete(user.key);
      this.lookAlikes.delete(user.key, user.nick);
      this.log.info("logout", { id: session.id, nick: user.nick });
      this.peers.loggedOut(user);
    }
  }

  /** Called once by a session when its connection is closed. */
  closed(session: Session, reason: string, level: "info" | "warn"): void {
    if (!this.sessions.delete(session)) return;
    this.log[level]("disconnect", {
      id: session.id,
      door: session.door,
      nick: session.nick || undefined,
      ip: session.ip,
      reason,
    });
    this.emit("close", { session, reason });
  }

  /** Tells every user, ends every session (waiting up to `graceMs` for their queues), stops the rooms. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const sessions = [...this.sessions];
    this.journal.flush(); // what was said before the signal is stored and delivered
    await Promise.all(
      sessions.map((s) => s.end("server shutting down", "The server is shutting down. Goodbye!", graceMs)),
    );
    this.rooms.dispose();
  }
}

/** A private message event; `action` and `notice` appear only when set. */
function privateEvent(
  from: string,
  to: string,
  text: string,
  at: number,
  echo: boolean,
  action: boolean,
  notice: boolean,
): PrivateEvent {
  const event: PrivateEvent = { type: "private", from, to, text, at, echo };
  if (notice) event.notice = true;
  if (action) event.action = true;
  return event;
}
