/**
 * Rooms: who is in each, broadcasting to them, and the entry and leave
 * announcements, which a crowded room (more than `crowd` members) gathers
 * into one summary line per second so that filling a room of N people does
 * not cost N² notices.
 *
 * @example
 * ```ts
 * import { Rooms } from "./rooms.ts";
 * const rooms = new Rooms({ main: "main", crowd: 200 });
 * rooms.main.name; // "main"
 * ```
 * @module
 */
import type { Session } from "./session.ts";
import { nameList, notice } from "./format.ts";

const encoder = new TextEncoder();

/** Encodes a line for the wire (UTF-8, CRLF). */
export function encodeLine(line: string): Uint8Array {
  return encoder.encode(line + "\r\n");
}

/** The longest room name, in characters. */
export const MAX_ROOM = 32;

/**
 * Checks a room name (a leading `#` is allowed and dropped by
 * {@linkcode roomName}); returns why it is not acceptable, or undefined.
 */
export function checkRoomName(name: string): string | undefined {
  const bare = roomName(name);
  if (bare === "") return "a room name cannot be empty";
  if ([...bare].length > MAX_ROOM) return `a room name has at most ${MAX_ROOM} characters`;
  if (!/^[\p{L}\p{M}\p{N}_\-.]+$/u.test(bare)) {
    return "a room name may hold only letters, digits and _ - .";
  }
  return undefined;
}

/** A room name without its optional leading `#`. */
export function roomName(name: string): string {
  return name.startsWith("#") ? name.slice(1) : name;
}

/** The case-insensitive key of a room name. */
export function roomKey(name: string): string {
  return roomName(name).normalize("NFKC").toLowerCase();
}

/** One room and its members. */
export class Room {
  /** The name as first written. */
  readonly name: string;
  /** The case-insensitive key. */
  readonly key: string;
  /** Who is in the room. */
  readonly members: Set<Session> = new Set();
  #entered: string[] = [];
  #left: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Creates an empty room. */
  constructor(name: string) {
    this.name = roomName(name);
    this.key = roomKey(name);
  }

  /** Sends a server notice to every member, quiet or not. */
  notice(text: string): void {
    const bytes = encodeLine(notice(text));
    for (const m of this.members) m.sendBytes(bytes);
  }

  /**
   * Sends a chat line from `from` to every member who is not in quiet mode
   * and does not ignore `from`. The line is encoded once.
   */
  chat(from: Session, line: string): void {
    const bytes = encodeLine(line);
    const key = from.key;
    for (const m of this.members) {
      if (m.quiet) continue;
      if (m.ignores !== undefined && m.ignores.has(key)) continue;
      m.sendBytes(bytes);
    }
  }

  /** Gathers an entry or leave for the next summary line. */
  gather(kind: "entered" | "left", nick: string): void {
    (kind === "entered" ? this.#entered : this.#left).push(nick);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.summarise(), 1000);
      Deno.unrefTimer(this.#timer as unknown as number);
    }
  }

  /** Sends the gathered summary now (called by the once-a-second timer). */
  summarise(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const parts: string[] = [];
    if (this.#entered.length) parts.push(`${nameList(this.#entered)} entered the room`);
    if (this.#left.length) parts.push(`${nameList(this.#left)} left the room`);
    this.#entered = [];
    this.#left = [];
    if (parts.length) this.notice(parts.join("; ") + ".");
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
}

/** All rooms of a server. */
export class Rooms {
  #rooms = new Map<string, Room>();
  #crowd: number;
  /** The main room. */
  readonly main: Room;

  /** Creates the registry with its main room. */
  constructor(options: RoomsOptions) {
    this.#crowd = options.crowd;
    this.main = new Room(options.main);
    this.#rooms.set(this.main.key, this.main);
  }

  /** Finds a room by name. */
  get(name: string): Room | undefined {
    return this.#rooms.get(roomKey(name));
  }

  /** Every room, main room first. */
  list(): Room[] {
    return [...this.#rooms.values()];
  }

  /** Puts a session in a room (creating it) and announces it. */
  enter(session: Session, name: string): Room {
    const key = roomKey(name);
    let room = this.#rooms.get(key);
    if (!room) {
      room = new Room(name);
      this.#rooms.set(key, room);
    }
    room.members.add(session);
    session.room = room;
    const line = `${session.nick} has entered the room.`;
    if (room.members.size > this.#crowd) {
      session.notice(line);
      room.gather("entered", session.nick);
    } else {
      room.notice(line);
    }
    return room;
  }

  /**
   * Takes a session out of its room, announces it (unless `silent`), and
   * removes an empty room.
   */
  leave(session: Session, silent = false): void {
    const room = session.room;
    if (!room) return;
    session.room = undefined;
    const crowded = room.members.size > this.#crowd;
    room.members.delete(session);
    if (silent) { /* nothing to say */ }
    else if (crowded) room.gather("left", session.nick);
    else room.notice(`${session.nick} has left the room.`);
    if (room.members.size === 0 && room !== this.main) {
      room.dispose();
      this.#rooms.delete(room.key);
    }
  }

  /** Stops all summary timers. */
  dispose(): void {
    for (const room of this.#rooms.values()) room.dispose();
  }
}
