/**
 * Bans and mutes: durations, and an in-memory view of the stored bans and
 * mutes so that checks on every connection and line need no query.
 *
 * @example
 * ```ts
 * import { parseDuration, formatDuration } from "./moderation.ts";
 * parseDuration("90m"); // 5400000
 * formatDuration(5400000); // "1h30m"
 * ```
 * @module
 */
import type { Ban, Mute, Store } from "./store.ts";
import { formatTime } from "./format.ts";

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `30s`, `10m`, `2h`, `1d`, `1w` or combinations (`1h30m`); undefined if not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(?:\d+[smhdw])+$/i.test(text) ? text.toLowerCase().match(/\d+[smhdw]/g) : null;
  if (!m) return undefined;
  const ms = m.reduce((sum, part) => sum + Number(part.slice(0, -1)) * units[part.slice(-1)], 0);
  return ms > 0 ? ms : undefined;
}

/** Formats milliseconds as `1d2h`, `45m`, `30s`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(1000, Math.round(ms / 1000) * 1000);
  let out = "";
  for (const u of ["w", "d", "h", "m", "s"]) {
    const n = Math.floor(rest / units[u]);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * units[u];
    }
  }
  return out;
}

/** "until <time> (for 1h)" or "for good". */
export function describeUntil(until: number | null, now = Date.now()): string {
  return until === null ? "for good" : `until ${formatTime(until)} UTC (${formatDuration(until - now)} from now)`;
}

/** How long a ban lasts and why: "until … (1h from now): spam" or "for good." */
export function describeBan(ban: Pick<Ban, "until" | "reason">, now = Date.now()): string {
  return `${describeUntil(ban.until, now)}${ban.reason ? `: ${ban.reason}` : "."}`;
}

/** True for an IPv4 or IPv6 address (nicks never look like one). */
export function isAddress(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) || (text.includes(":") && /^[0-9a-f:.]+$/i.test(text));
}

/** The bans and mutes in force, kept in memory and written through to the store. */
export class Moderation {
  #store: Store;
  #bans = new Map<string, Ban>();
  #mutes = new Map<string, Mute>();

  /** Loads the stored bans and mutes. */
  constructor(store: Store) {
    this.#store = store;
    for (const b of store.bans()) this.#bans.set(`${b.kind}:${b.value}`, b);
    for (const m of store.mutes()) this.#mutes.set(m.key, m);
  }

  /** The ban in force on a nick key or address, if any (expired ones are dropped). */
  banned(kind: "nick" | "ip", value: string, now = Date.now()): Ban | undefined {
    const ban = this.#bans.get(`${kind}:${value}`);
    if (!ban) return undefined;
    if (ban.until !== null && ban.until <= now) {
      this.#bans.delete(`${kind}:${value}`);
      this.#store.removeBan(kind, value);
      return undefined;
    }
    return ban;
  }

  /** Stores and applies a ban. */
  ban(ban: Ban): void {
    this.#store.saveBan(ban);
    this.#bans.set(`${ban.kind}:${ban.value}`, ban);
  }

  /** Lifts a ban; returns whether there was one. */
  unban(kind: "nick" | "ip", value: string): boolean {
    const had = this.#bans.delete(`${kind}:${value}`);
    return this.#store.removeBan(kind, value) || had;
  }

  /** The mute in force on a nick key, if any. */
  muted(key: string, now = Date.now()): Mute | undefined {
    const mute = this.#mutes.get(key);
    if (!mute) return undefined;
    if (mute.until !== null && mute.until <= now) {
      this.#mutes.delete(key);
      this.#store.removeMute(key);
      return undefined;
    }
    return mute;
  }

  /** Stores and applies a mute. */
  mute(mute: Mute): void {
    this.#store.saveMute(mute);
    this.#mutes.set(mute.key, mute);
  }

  /** Lifts a mute; returns whether there was one. */
  unmute(key: string): boolean {
    const had = this.#mutes.delete(key);
    return this.#store.removeMute(key) || had;
  }
}
