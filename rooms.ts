/**
 * Rooms: who is in each, and the entry and leave announcements, which a
 * crowded room (more than `crowd` members) gathers into one summary per
 * second so that filling a room of N people does not cost N² notices.
 *
 * The room engine sees its members through the small {@linkcode Member}
 * interface (a nick, a key, quiet mode, ignores, and a way to receive a
 * delivery), never through connections. It delivers nothing itself: every
 * announcement goes through a {@linkcode Post} (the journal), which keeps each
 * user's lines in order behind what is still being stored.
 *
 * @example
 * ```ts
 * import { Rooms } from "./rooms.ts";
 * const rooms = new Rooms({ main: "main", crowd: 200, post: { announce() {}, tell() {} } });
 * rooms.main.name; // "main"
 * ```
 * @module
 */
import type { ChatEvent } from "./events.ts";
import type { Receiver } from "./dialects/dialect.ts";
import { checkRoomName, roomKey, roomName } from "./room_name.ts";
import { LookAlikes } from "./nick.ts";

/** What the room engine knows of a member. */
export interface Member extends Receiver {
  /** The nick as shown. */
  readonly nick: string;
  /** The nick's key (two nicks clash when their keys match). */
  readonly key: string;
  /** Quiet mode: no room chat is received. */
  readonly quiet: boolean;
  /** Keys of members whose chat this one does not see. */
  readonly ignores: ReadonlySet<string> | undefined;
  /** Whether the member is sent its own room lines back (IRC without `echo-message` is not). */
  readonly echo: boolean;
}

/** Where the room engine hands its announcements (the journal). */
export interface Post {
  /** Sends an event to every member of a room. */
  announce(room: Room, event: ChatEvent): void;
  /** Sends an event to one receiver. */
  tell(to: Receiver, event: ChatEvent): void;
}

/** How many names of each kind a crowd summary shows. */
export const CROWD_NAMES = 3;

/** One room and its members. */
export class Room {
  /** The name as first written. */
  readonly name: string;
  /** The case-insensitive key. */
  readonly key: string;
  /** Who is in the room. */
  readonly members: Set<Member> = new Set();
  /** The id of the last stored line delivered here. */
  lastId = 0;
  #entered: string[] = [];
  #enteredCount = 0;
  #left: string[] = [];
  #leftCount = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #post: Post | undefined;

  /** Creates an empty room. */
  constructor(name: string) {
    this.name = roomName(name);
    this.key = roomKey(name);
  }

  /** Gathers an entry or leave for the next summary, sent through `post` within a second. */
  gather(kind: "entered" | "left", nick: string, post: Post): void {
    if (kind === "entered") {
      if (this.#entered.length < CROWD_NAMES) this.#entered.push(nick);
      this.#enteredCount++;
    } else {
      if (this.#left.length < CROWD_NAMES) this.#left.push(nick);
      this.#leftCount++;
    }
    this.#post = post;
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.summarise(), 1000);
      Deno.unrefTimer(this.#timer as unknown as number);
    }
  }

  /** Sends the gathered summary now (called by the once-a-second timer). */
  summarise(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#enteredCount + this.#leftCount === 0 || !this.#post) return;
    const event: ChatEvent = {
      type: "crowd",
      room: this.name,
      entered: this.#entered,
      enteredCount: this.#enteredCount,
      left: this.#left,
      leftCount: this.#leftCount,
      at: Date.now(),
    };
    this.#entered = [];
    this.#left = [];
    this.#enteredCount = this.#leftCount = 0;
    this.#post.announce(this, event);
  }

  /** Cancels a pending summary (the room is going away). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Options of {@linkcode Rooms}. */
export interface RoomsOptions {
  /** Name of the main room, which always exists. */
  main: string;
  /** Size above which announcements are summarised. */
  crowd: number;
  /** Where announcements go. */
  post: Post;
  /** Called when a room other than the main room empties and is removed. */
  emptied?: (room: Room) => void;
}

/** How a member leaves a room. */
export interface Leaving {
  /** Say nothing (the server is shutting down). */
  silent?: boolean;
  /** The member is leaving the server, not only the room. */
  quit?: boolean;
  /** Why, in the member's words (an IRC PART or QUIT message). */
  reason?: string;
}

/** All rooms of a server. */
export class Rooms {
  #rooms = new Map<string, Room>();
  #lookAlikes = new LookAlikes();
  #crowd: number;
  #post: Post;
  #emptied: ((room: Room) => void) | undefined;
  /** The main room. */
  readonly main: Room;

  /** Creates the registry with its main room. */
  constructor(options: RoomsOptions) {
    this.#crowd = options.crowd;
    this.#post = options.post;
    this.#emptied = options.emptied;
    this.main = new Room(options.main);
    this.#rooms.set(this.main.key, this.main);
    this.#lookAlikes.add(this.main.name, this.main.key);
  }

  /** Finds a room by name. */
  get(name: string): Room | undefined {
    return this.#rooms.get(roomKey(name));
  }

  /**
   * The name of another room that `name` looks like (`gаrden` with a Cyrillic
   * а, `room1` beside `rooml`), if any; a name that is the same room as an
   * existing one is not a look-alike of it.
   */
  lookAlike(name: string): string | undefined {
    return this.#lookAlikes.find(roomName(name), roomKey(name));
  }

  /**
   * Why nobody may go to a room of this name, or undefined: the name is not
   * acceptable ({@linkcode checkRoomName}), or it would make a new room that
   * looks like one that exists.
   */
  checkName(name: string): string | undefined {
    const problem = checkRoomName(name);
    if (problem || this.get(name)) return problem;
    const like = this.lookAlike(name);
    return like === undefined ? undefined : `it looks like the room ${like}`;
  }

  /** Every room, main room first. */
  list(): Room[] {
    return [...this.#rooms.values()];
  }

  /** How many rooms there are. */
  get size(): number {
    return this.#rooms.size;
  }

  /** Puts a member in a room (creating it) and announces it. */
  enter(member: Member, name: string): Room {
    const key = roomKey(name);
    let room = this.#rooms.get(key);
    if (!room) {
      room = new Room(name);
      this.#rooms.set(key, room);
      this.#lookAlikes.add(room.name, key);
    }
    room.members.add(member);
    const event: ChatEvent = { type: "entered", room: room.name, nick: member.nick, at: Date.now() };
    if (room.members.size > this.#crowd) {
      this.#post.tell(member, event);
      room.gather("entered", member.nick, this.#post);
    } else {
      this.#post.announce(room, event);
    }
    return room;
  }

  /** Takes a member out of a room, announces it (unless silent), and removes an emptied side room. */
  leave(member: Member, room: Room, how: Leaving = {}): void {
    const crowded = room.members.size > this.#crowd;
    if (!room.members.delete(member)) return;
    if (how.silent) { /* nothing to say */ }
    else if (crowded) room.gather("left", member.nick, this.#post);
    else {
      const event: ChatEvent = { type: "left", room: room.name, nick: member.nick, at: Date.now() };
      if (how.quit) event.quit = true;
      if (how.reason) event.reason = how.reason;
      this.#post.announce(room, event);
    }
    if (room.members.size === 0 && room !== this.main) {
      room.dispose();
      this.#rooms.delete(room.key);
      this.#lookAlikes.delete(room.key);
      this.#emptied?.(room);
    }
  }

  /** Stops all summary timers. */
  dispose(): void {
    for (const room of this.#rooms.values()) room.dispose();
  }
}
