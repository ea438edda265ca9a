/**
 * Room history kept in memory: the in-memory store's lines, in plain arrays
 * rather than an in-memory SQLite table. Each room keeps its newest `keep`
 * lines (trimmed in steps of a quarter, so a trim is rare); ids rise across
 * all rooms, as SQLite's `INTEGER PRIMARY KEY` does, and across restarts: the
 * store starts them at {@linkcode idFloor}, above any id an earlier run gave,
 * so that a client that kept a line's id (a page that reconnects, an IRC
 * client's msgid) never takes a new line for it. Storing a line costs an
 * array push instead of an SQL insert (in the burst benchmark the insert and
 * its trims took a fifth of the server's user time).
 *
 * Also {@linkcode LastSeen}: the last line each nick saw in each room, kept
 * past logout, so that history on entering a room is not shown twice.
 *
 * @example
 * ```ts
 * import { RoomHistory } from "./room_history.ts";
 * const history = new RoomHistory(100);
 * history.add([{ room: "main", at: Date.now(), kind: "chat", nick: "alice", text: "hi" }]);
 * history.recent("main", 20); // [{ id: 1, room: "main", kind: "chat", nick: "alice", text: "hi", at: … }]
 * ```
 * @module
 */

/** A stored room message. */
export interface StoredMessage {
  id?: number;
  room: string;
  at: number;
  kind: "chat" | "action";
  nick: string;
  text: string;
}

/** Bounds of a {@linkcode RoomHistory.within} query: ids and times in ms, each exclusive; a missing one is open. */
export interface HistoryBounds {
  afterId?: number;
  beforeId?: number;
  afterAt?: number;
  beforeAt?: number;
}

/**
 * Where the ids of a history made now start (the first line gets one more):
 * a hundred per millisecond of the clock. Lines are kept in memory only, so a
 * restarted server has no record of the ids it gave before; starting here puts
 * its ids above all of them as long as the earlier run stored fewer than
 * 100,000 lines a second on average over its life (the server stores far
 * fewer) and the clock did not go back. The ids stay within 15 digits (what
 * an IRC `msgid=` reference takes) until the year 2286.
 */
export function idFloor(now: number = Date.now()): number {
  return Math.floor(now) * 100;
}

/** The lines of every room, newest last, each room capped at `keep` lines. */
export class RoomHistory {
  #keep: number;
  #rooms = new Map<string, StoredMessage[]>(); // each room's lines, in id order
  #lastId: number;

  /**
   * @param keep lines kept per room (0: all)
   * @param after the ids start after this one (the store gives {@linkcode idFloor}; 0: from 1, as SQLite)
   */
  constructor(keep: number, after = 0) {
    this.#keep = keep;
    this.#lastId = after;
  }

  /** Stores lines and sets their ids (the objects are kept: they must not change afterwards). */
  add(messages: readonly StoredMessage[]): void {
    for (const m of messages) {
      m.id = ++this.#lastId;
      let lines = this.#rooms.get(m.room);
      if (lines === undefined) this.#rooms.set(m.room, lines = []);
      lines.push(m);
      const keep = this.#keep;
      if (keep > 0 && lines.length >= keep + Math.max(1, keep >> 2)) lines.splice(0, lines.length - keep);
    }
  }

  /** Forgets a room's lines. */
  forget(room: string): void {
    this.#rooms.delete(room);
  }

  /** The newest `limit` lines of a room said before `before` (ms), oldest first. */
  recent(room: string, limit: number, before = Number.MAX_SAFE_INTEGER): StoredMessage[] {
    const lines = this.#rooms.get(room);
    const out: StoredMessage[] = [];
    if (lines === undefined) return out;
    for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
      if (lines[i].at < before) out.push({ ...lines[i] });
    }
    return out.reverse();
  }

  /**
   * Up to `limit` lines of a room strictly inside `bounds`, oldest first:
   * the newest ones inside when `newest`, else the oldest.
   */
  within(room: string, bounds: HistoryBounds, limit: number, newest: boolean): StoredMessage[] {
    const lines = this.#rooms.get(room);
    const out: StoredMessage[] = [];
    if (lines === undefined || limit <= 0) return out;
    const afterAt = bounds.afterAt ?? -Infinity;
    const beforeAt = bounds.beforeAt ?? Infinity;
    const from = firstAbove(lines, bounds.afterId ?? 0); // ids are in order: the range is one slice
    const to = firstAbove(lines, (bounds.beforeId ?? Infinity) - 1);
    const inside = (m: StoredMessage) => m.at > afterAt && m.at < beforeAt;
    if (newest) {
      for (let i = to - 1; i >= from && out.length < limit; i--) if (inside(lines[i])) out.push({ ...lines[i] });
      return out.reverse();
    }
    for (let i = from; i < to && out.length < limit; i++) if (inside(lines[i])) out.push({ ...lines[i] });
    return out;
  }
}

// The index of the first line whose id is above `id` (lines.length if none).
function firstAbove(lines: readonly StoredMessage[], id: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].id! > id) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** How many (nick, room) records {@linkcode LastSeen} keeps at most; past it the oldest go first. */
export const SEEN_LIMIT = 100_000;
/** How long {@linkcode LastSeen} keeps a record (ms): a nick back after a day sees the room's last lines again. */
export const SEEN_MAX_AGE = 24 * 60 * 60 * 1000;

/**
 * The last line each nick saw in each room it left, kept past the user's
 * logout, so that after a reconnect (or a takeover, or on another
 * connection later) the nick is shown only the history it has not seen.
 * Recorded when a user leaves a room, never per line delivered. In memory
 * and bounded: at most `limit` records (the oldest forgotten first), each
 * forgotten after `maxAge` ms; a restart forgets them all.
 *
 * @example
 * ```ts
 * import { LastSeen } from "./room_history.ts";
 * const seen = new LastSeen();
 * seen.set("alice", "main", 42);
 * seen.get("alice", "main"); // 42
 * ```
 */
export class LastSeen {
  #limit: number;
  #maxAge: number;
  // "nick\nroom" → the id seen and when it was recorded; in order of recording (a Map keeps insertion order)
  #records = new Map<string, { id: number; at: number }>();

  /**
   * @param limit records kept at most
   * @param maxAge how long a record is kept (ms)
   */
  constructor(limit: number = SEEN_LIMIT, maxAge: number = SEEN_MAX_AGE) {
    this.#limit = limit;
    this.#maxAge = maxAge;
  }

  /** Records that `nick` (a nick key) has seen up to line `id` in `room` (a room key). */
  set(nick: string, room: string, id: number, now: number = Date.now()): void {
    const key = `${nick}\n${room}`;
    this.#records.delete(key); // to the end: the newest
    this.#records.set(key, { id, at: now });
    for (const [old, record] of this.#records) { // the oldest first: stops at the first one kept
      if (this.#records.size <= this.#limit && now - record.at <= this.#maxAge) break;
      this.#records.delete(old);
    }
  }

  /** The last line `nick` saw in `room`, if recorded within `maxAge`. */
  get(nick: string, room: string, now: number = Date.now()): number | undefined {
    const key = `${nick}\n${room}`;
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    if (now - record.at > this.#maxAge) {
      this.#records.delete(key);
      return undefined;
    }
    return record.id;
  }

  /** How many records are kept. */
  get size(): number {
    return this.#records.size;
  }
}
