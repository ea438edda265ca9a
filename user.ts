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

  /** Passes a delivery on to the user's session. */
  receive(delivery: Delivery): void {
    this.link.receive(delivery);
  }
}
