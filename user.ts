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
import type { ChatEvent } from "./events.ts";

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
   * by {@linkcode Ignores} together with `ignoring` (with account times, its
   * `has` also checks that a registered nick kept is on the same account).
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
   * meanwhile), then the rest of what was held. A room line both held and
   * in the history (same id) is shown once: as history if it came before
   * the user's entry, else live, in its place (said after the user entered,
   * it is not history to them).
   */
  release(first: readonly Delivery[] = []): void {
    const held = this.#held ?? [];
    if (--this.#holds > 0) {
      held.splice(0, 0, ...first);
      return;
    }
    this.#holds = 0;
    this.#held = undefined;
    const entry = held.findIndex((d) => d.event.type === "entered" && d.event.nick === this.nick);
    const live = new Set<number>(); // room lines held after the entry
    for (const d of entry >= 0 ? held.slice(entry) : []) {
      const id = lineId(d.event);
      if (id !== undefined) live.add(id);
    }
    const shown = new Set<number>(); // history lines delivered
    const give = (d: Delivery) => {
      const e = d.event;
      if (e.type === "history" && e.id !== undefined) {
        if (live.has(e.id)) return;
        shown.add(e.id);
      } else if (shown.has(lineId(e) ?? -1)) return;
      this.link.receive(d);
    };
    const own = held.filter((d) => d.event.type === "entered" && d.event.nick === this.nick);
    for (const d of own) this.link.receive(d); // "you entered" before the history, as without a hold
    for (const d of first) give(d);
    for (const d of held) if (!own.includes(d)) give(d);
  }

  /** Passes a delivery on to the user's session (or keeps it back while held). */
  receive(delivery: Delivery): void {
    if (this.#held) this.#held.push(delivery);
    else this.link.receive(delivery);
  }
}

/**
 * When the account of the registered nick `key` (folded) was made (ms), or
 * undefined when the nick has no account now: the identity of an account,
 * since a removed account made again (by anyone) gets a new time.
 */
export type AccountMade = (key: string) => number | undefined;

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
 * Given `made` (see {@linkcode AccountMade}), an ignore kept on a registered
 * nick is kept on that one account: if the account is removed (with the
 * account tool, say) it ends, like an ignore on a guest, so it passes
 * neither to a guest who takes the nick next nor to an account made again
 * with it. That is checked when it would apply (a line of that nick to
 * deliver, that nick logging in or leaving again), not on every removal.
 * Without `made`, an ignore stays on the registered nick's key.
 *
 * Both sides are indexed, so a logout costs the ignores it touches and
 * nothing for the many users who ignore nobody and whom nobody ignores. The
 * delivery check stays one `Set.has` on a set that exists only for users
 * who ignore someone (with `made`, and a hit on a nick kept, one account
 * look-up more).
 */
export class Ignores {
  #users = new Map<User, Set<User>>(); // a user here → who ignores them
  // A registered nick that is away → who keeps an ignore on it → when the account they ignored was made (without #made: undefined).
  #accounts = new Map<string, Map<User, number | undefined>>();
  #gone = new WeakSet<User>();
  readonly #made: AccountMade | undefined;

  /** The ignores of one server; `made` binds an ignore kept on a registered nick to its account. */
  constructor(made?: AccountMade) {
    this.#made = made;
  }

  /** `by` ignores `target` (a user here). */
  add(by: User, target: User): void {
    // One kept on the nick before, on this person or on an account gone: the ignore on the user here stands for it.
    if (this.#accounts.get(target.key)?.has(by)) this.#unkeep(by, target.key);
    this.#keys(by).add(target.key);
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
    for (const name of [key, ...(target?.accounts ?? [])]) if (records.has(name)) this.#unkeep(by, name);
    if (by.ignoring?.size === 0) by.ignoring = undefined;
    return had;
  }

  /**
   * Everyone here who ignores `user` (a user here). An ignore kept on a
   * registered nick it proved whose account has changed since ends here.
   */
  ignorers(user: User): Set<User> {
    return this.#ignorers(user, user.key);
  }

  /**
   * `user` changed nick from `oldKey`: the ignores on them follow. (The same
   * as looking at every user's ignores, at the cost of the ignores on them.)
   */
  renamed(user: User, oldKey: string): void {
    if (oldKey === user.key || (!this.#users.has(user) && user.accounts === undefined)) return;
    for (const by of this.#ignorers(user, oldKey)) if (by.ignores?.delete(oldKey)) by.ignores.add(user.key);
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
   * guest, or an account that is no more) or stay on the registered nick
   * it proved last. Idempotent.
   */
  gone(user: User): void {
    if (!this.#forget(user)) return;
    if (!this.#users.has(user) && user.accounts === undefined) return;
    const by = this.ignorers(user);
    this.#users.delete(user);
    let stay = user.registered ? user.key : user.accounts?.at(-1);
    const made = stay !== undefined && this.#made ? this.#made(stay) : undefined;
    if (this.#made && made === undefined) stay = undefined; // its account is gone: as for a guest
    for (const other of by) {
      const records = other.ignoring ??= new Set();
      records.delete(user);
      for (const name of user.accounts ?? []) if (records.has(name)) this.#unkeep(other, name);
      other.ignores?.delete(user.key);
      if (stay !== undefined) {
        this.#keys(other).add(stay);
        (other.ignoring ??= new Set()).add(stay);
        let keeping = this.#accounts.get(stay);
        if (!keeping) this.#accounts.set(stay, keeping = new Map());
        keeping.set(other, made);
      } else {
        if (other.ignores?.size === 0) other.ignores = undefined;
        if (other.ignoring?.size === 0) other.ignoring = undefined;
      }
    }
  }

  // Who ignores `user`; a stale kept ignore ends, taking `held` (the key it has in the ignorer's set) with it.
  #ignorers(user: User, held: string): Set<User> {
    const out = new Set<User>(this.#users.get(user));
    const stale: [User, string][] = [];
    for (const name of user.accounts ?? []) {
      for (const [by, made] of this.#accounts.get(name) ?? []) {
        if (this.#current(name, made)) out.add(by);
        else stale.push([by, name]);
      }
    }
    for (const [by, name] of stale) {
      this.#unkeep(by, name);
      if (!out.has(by)) this.#drop(by, held);
    }
    return out;
  }

  // Whether an ignore kept on the registered nick `name` since its account was made at `made` is on the account it has now.
  #current(name: string, made: number | undefined): boolean {
    return made === undefined || this.#made?.(name) === made;
  }

  // Whether `by`'s ignore of the nick `key` holds (User.ignores.has): one kept on a registered nick whose account changed ends.
  #holds(by: User, key: string): boolean {
    const keeping = this.#accounts.get(key);
    if (keeping === undefined || this.#current(key, keeping.get(by))) return true;
    this.#unkeep(by, key);
    this.#drop(by, key);
    return false;
  }

  // The ignorer's User.ignores, made if it has none (one that checks kept ignores, given #made).
  #keys(by: User): Set<string> {
    if (!this.#made) return by.ignores ??= new Set();
    if (by.ignores instanceof IgnoredKeys) return by.ignores;
    return by.ignores = new IgnoredKeys((key) => this.#holds(by, key), by.ignores);
  }

  // `by` no longer keeps an ignore on the registered nick `name`.
  #unkeep(by: User, name: string): void {
    const keeping = this.#accounts.get(name);
    if (keeping?.delete(by) && keeping.size === 0) this.#accounts.delete(name);
    by.ignoring?.delete(name);
    if (by.ignoring?.size === 0) by.ignoring = undefined;
  }

  // Takes `key` out of `by`'s ignored nicks.
  #drop(by: User, key: string): void {
    by.ignores?.delete(key);
    if (by.ignores?.size === 0) by.ignores = undefined;
  }

  // Marks a user gone and drops its own ignores; false if it was gone already.
  #forget(user: User): boolean {
    if (this.#gone.has(user)) return false;
    this.#gone.add(user);
    if (user.ignoring) {
      for (const t of user.ignoring) {
        if (typeof t !== "string") unlink(this.#users, t, user);
        else {
          const keeping = this.#accounts.get(t);
          if (keeping?.delete(user) && keeping.size === 0) this.#accounts.delete(t);
        }
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

/**
 * A user's ignored nicks ({@linkcode User.ignores}) whose `has` also asks
 * {@linkcode Ignores} whether an ignore kept on a registered nick is still
 * on its account (and drops it if not).
 */
class IgnoredKeys extends Set<string> {
  readonly #holds: (key: string) => boolean;

  constructor(holds: (key: string) => boolean, keys?: Iterable<string>) {
    super(keys);
    this.#holds = holds;
  }

  override has(key: string): boolean {
    return super.has(key) && this.#holds(key);
  }
}

// The stored id of a room line (chat or action), else undefined.
function lineId(e: ChatEvent): number | undefined {
  return e.type === "chat" || e.type === "action" ? e.id : undefined;
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
