/**
 * A user: who someone is once logged in (nick, rooms, flags), apart from
 * the connection that carries them. Rooms see a user as a `Member`; what a
 * user receives goes to the session it is linked to.
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

/** One logged-in user. */
export class User implements Member {
  /** The nick as shown. */
  nick: string;
  /** The nick's key. */
  key: string;
  /** Where deliveries go (the user's session). */
  link: Receiver;
  /** Logged in to a registered nick, with its password. */
  registered = false;
  /** Logged in to a registered nick named by `--op`. */
  operator = false;
  /** Quiet mode: no room chat is received. */
  quiet = false;
  /** Keys of users whose room chat and private messages this user does not see. */
  ignores: Set<string> | undefined;
  /** Away message; "" while present. */
  away = "";
  /** Whether the user gets its own room lines back. */
  echo = true;
  /** Every room the user is in. */
  readonly rooms: Set<Room> = new Set();
  /** The room a line-protocol user talks to (the last one entered). */
  room: Room | undefined;
  /** The last message id seen in each room left (room key → id), so that history is not shown twice. */
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
