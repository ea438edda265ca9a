/**
 * A user: who someone is once logged in (nick, rooms, flags), apart from
 * the connection that carries them. Rooms see a user as a `Member`; what a
 * user receives goes to the session it is linked to. {@linkcode Ignores}
 * keeps who ignores whom, so that an ignore stays on one person.
 *
 * @example
 * ```ts
 * import { User } from "./user.ts";
 * const user = new User("alice", "alice", { receive() {} });
 * user.nick; // "alice"
 * ```
 * @module
 */
import type { Member, Room } from "./rooms.ts";
import type { Delivery, Receiver } from "./dialects/dialect.ts";

/** The most registered nicks {@linkcode User.accounts} keeps (the last ones proved). */
const ACCOUNTS_KEPT = 8;

/** One logged-in user. */
export class User implements Member {
  /** The nick as shown. */
  nick: string;
  /** The nick's key. */
  key: string;
  /** Where deliveries go (the user's session). */
  link: Receiver;
  /**
   * Logged in to a registered nick, with its password. Setting it records
   * the nick's key in {@linkcode User.accounts}.
   */
  get registered(): boolean {
    return this.#registered;
  }
  set registered(value: boolean) {
    this.#registered = value;
    if (!value) return;
    const accounts = this.accounts ??= [];
    const at = accounts.indexOf(this.key);
    if (at >= 0) accounts.splice(at, 1);
    else if (accounts.length >= ACCOUNTS_KEPT) accounts.shift();
    accounts.push(this.key); // the last one proved comes last
  }
  /**
   * Keys of the registered nicks this user has proved since logging in
   * (logged in to, registered, or taken with `/nick` and the password), the
   * last one last: an ignore on the user stays on it when the user leaves.
   */
  accounts: string[] | undefined;
  /** Logged in to a registered nick named by `--op`. */
  operator = false;
  /** Quiet mode: no room chat is received. */
  quiet = false;
  /**
   * Keys of users whose room chat and private messages this user does not
   * see (the nicks they have now, or a registered nick that is away). Kept
   * by {@linkcode Ignores} together with `ignoring`.
   */
  ignores: Set<string> | undefined;
  /** Whom this user ignores: users here, and keys of registered nicks away (see {@linkcode Ignores}). */
  ignoring: Set<User | string> | undefined;
  /** Away message; "" while present. */
  away = "";
  /** Whether the user gets its own room lines back. */
  echo = true;
  /** Every room the user is in. */
  readonly rooms: Set<Room> = new Set();
  /** The room a line-protocol user talks to (the last one entered). */
  room: Room | undefined;
  /**
   * The last message id seen in each room left (room key → id), so that
   * history is not shown twice; on entering a room not left yet, what the
   * nick saw before it logged in ({@linkcode LastSeen} in room_history.ts).
   */
  seen: Map<string, number> | undefined;
  /** The id of the cluster node the user is connected to, for a user of another server; undefined here. */
  remote: string | undefined;
  /** When the user logged in (ms). */
  since: number = Date.now();
  /** When the user last said or did something (ms). */
  active: number = this.since;

  /** A user `nick` (key `key`) whose deliveries go to `link`. */
  constructor(nick: string, key: string, link: Receiver) {
    this.nick = nick;
    this.key = key;
    this.link = link;
  }

  /** Notes that the user has seen a room's lines up to id `id` (what it saw never goes down); returns that id. */
  saw(room: string, id: number): number {
    const seen = this.seen ??= new Map();
    const before = seen.get(room);
    if (before !== undefined && before >= id) return before;
    seen.set(room, id);
    return id;
  }

  #registered = false;
  #held: Delivery[] | undefined;
  #holds = 0;

  /**
   * Keeps deliveries back until {@linkcode User.release}: while a room's
   * history is read from a store that answers later (cluster mode), the
   * room's live lines must not come before it.
   */
  hold(): void {
    this.#holds++;
    this.#held ??= [];
  }

  /**
   * Delivers the user's own entry, then `first` (the history read
   * meanwhile), then the rest of what was held, leaving out held room lines
   * that `first` holds already (same id).
   */
  release(first: readonly Delivery[] = []): void {
    const held = this.#held ?? [];
    if (--this.#holds > 0) {
      held.splice(0, 0, ...first);
      return;
    }
    this.#holds = 0;
    this.#held = undefined;
    const shown = new Set<number>();
    const own = held.filter((d) => d.event.type === "entered" && d.event.nick === this.nick);
    for (const d of own) this.link.receive(d); // "you entered" before the history, as without a hold
    for (const d of first) {
      const e = d.event;
      if (e.type === "history" && e.id !== undefined) shown.add(e.id);
      this.link.receive(d);
    }
    for (const d of held) {
      if (own.includes(d)) continue;
      const e = d.event;
      if ((e.type === "chat" || e.type === "action") && e.id !== undefined && shown.has(e.id)) continue;
      this.link.receive(d);
    }
  }

  /** Passes a delivery on to the user's session (or keeps it back while held). */
  receive(delivery: Delivery): void {
    if (this.#held) this.#held.push(delivery);
    else this.link.receive(delivery);
  }
}

/**
 * Who ignores whom, so that an ignore stays on one person and never lands on
 * someone else who takes the nick later. While the ignored person is here,
 * the ignorer's {@linkcode User.ignores} holds their nick's key (renames
 * move it along). When they leave the server, an ignore on a guest ends
 * (anyone may log in as that nick next), and an ignore on someone who
 * proved a registered nick stays on that nick's key (whoever logs in to it
 * again has its password: the same person), and is theirs again at that
 * login.
 *
 * Both sides are indexed, so a logout costs the ignores it touches and
 * nothing for the many users who ignore nobody and whom nobody ignores. The
 * delivery check stays one `Set.has` on a set that exists only for users
 * who ignore someone.
 */
export class Ignores {
  #users = new Map<User, Set<User>>(); // a user here → who ignores them
  #accounts = new Map<string, Set<User>>(); // a registered nick that is away → who keeps an ignore on it
  #gone = new WeakSet<User>();

  /** `by` ignores `target` (a user here). */
  add(by: User, target: User): void {
    (by.ignores ??= new Set()).add(target.key);
    (by.ignoring ??= new Set()).add(target);
    link(this.#users, target, by);
  }

  /**
   * `by` stops ignoring the nick `key`, whose user here is `target` (if it
   * is here); false if `by` was not ignoring it.
   */
  remove(by: User, key: string, target: User | undefined): boolean {
    const had = by.ignores?.delete(key) ?? false;
    if (by.ignores?.size === 0) by.ignores = undefined;
    const records = by.ignoring;
    if (!records || (!had && target === undefined)) return had;
    if (target !== undefined && records.delete(target)) unlink(this.#users, target, by);
    for (const name of [key, ...(target?.accounts ?? [])]) {
      if (records.delete(name)) unlink(this.#accounts, name, by);
    }
    if (records.size === 0) by.ignoring = undefined;
    return had;
  }

  /** Everyone here who ignores `user` (a user here). */
  ignorers(user: User): Set<User> {
    const out = new Set<User>(this.#users.get(user));
    for (const name of user.accounts ?? []) for (const by of this.#accounts.get(name) ?? []) out.add(by);
    return out;
  }

  /**
   * `user` changed nick from `oldKey`: the ignores on them follow. (The same
   * as looking at every user's ignores, at the cost of the ignores on them.)
   */
  renamed(user: User, oldKey: string): void {
    if (oldKey === user.key || (!this.#users.has(user) && user.accounts === undefined)) return;
    for (const by of this.ignorers(user)) if (by.ignores?.delete(oldKey)) by.ignores.add(user.key);
  }

  /**
   * `user` stands for `old` from now on, the same person (another server's
   * user announced again, in cluster mode): ignores on `old` pass to it, and
   * `old` counts as gone without ending them.
   */
  replace(old: User, user: User): void {
    const by = this.#users.get(old);
    this.#users.delete(old);
    for (const other of by ?? []) {
      other.ignoring?.delete(old);
      (other.ignoring ??= new Set()).add(user);
      if (old.key !== user.key && other.ignores?.delete(old.key)) other.ignores.add(user.key);
      link(this.#users, user, other);
    }
    this.#forget(old);
  }

  /**
   * `user` left the server: its own ignores go, and ignores on it end (a
   * guest) or stay on the registered nick it proved last. Idempotent.
   */
  gone(user: User): void {
    if (!this.#forget(user)) return;
    if (!this.#users.has(user) && user.accounts === undefined) return;
    const by = this.ignorers(user);
    this.#users.delete(user);
    const stay = user.registered ? user.key : user.accounts?.at(-1);
    for (const other of by) {
      const records = other.ignoring ??= new Set();
      records.delete(user);
      for (const name of user.accounts ?? []) if (records.delete(name)) unlink(this.#accounts, name, other);
      other.ignores?.delete(user.key);
      if (stay !== undefined) {
        (other.ignores ??= new Set()).add(stay);
        records.add(stay);
        link(this.#accounts, stay, other);
      } else {
        if (other.ignores?.size === 0) other.ignores = undefined;
        if (records.size === 0) other.ignoring = undefined;
      }
    }
  }

  // Marks a user gone and drops its own ignores; false if it was gone already.
  #forget(user: User): boolean {
    if (this.#gone.has(user)) return false;
    this.#gone.add(user);
    if (user.ignoring) {
      for (const t of user.ignoring) {
        if (typeof t === "string") unlink(this.#accounts, t, user);
        else unlink(this.#users, t, user);
      }
      user.ignoring = undefined;
    }
    return true;
  }

  /** How many users and registered nicks are ignored by someone (for tests). */
  get size(): number {
    return this.#users.size + this.#accounts.size;
  }
}

function link<K>(index: Map<K, Set<User>>, key: K, by: User): void {
  let set = index.get(key);
  if (!set) index.set(key, set = new Set());
  set.add(by);
}

function unlink<K>(index: Map<K, Set<User>>, key: K, by: User): void {
  const set = index.get(key);
  if (set?.delete(by) && set.size === 0) index.delete(key);
}
