/**
 * Room history kept in memory: the in-memory store's lines, in plain arrays
 * rather than an in-memory SQLite table. Each room keeps its newest `keep`
 * lines (trimmed in steps of a quarter, so a trim is rare); ids rise across
 * all rooms, as SQLite's `INTEGER PRIMARY KEY` does. Storing a line costs an
 * array push instead of an SQL insert (in the burst benchmark the insert and
 * its trims took a fifth of the server's user time).
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

/** The lines of every room, newest last, each room capped at `keep` lines. */
export class RoomHistory {
  #keep: number;
  #rooms = new Map<string, StoredMessage[]>(); // each room's lines, in id order
  #lastId = 0;

  /** @param keep lines kept per room (0: all) */
  constructor(keep: number) {
    this.#keep = keep;
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
