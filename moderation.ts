/**
 * Bans and mutes: durations, addresses and address ranges, and an in-memory
 * view of the stored bans and mutes so that checks on every connection and
 * line need no query.
 *
 * Durations are `30s`, `10m`, `2h`, `1d`, `1w` or combinations (`1h30m`),
 * at most {@linkcode MAX_DURATION_MS} (52 weeks); anything longer is "for
 * good", which is said by leaving the duration out. A word that starts with
 * a digit is read as a duration, so `5x`, `0s` or `10` are refused rather
 * than taken for a reason.
 *
 * @example
 * ```ts
 * import { formatDuration, parseBanArgs, parseDuration } from "./moderation.ts";
 * parseDuration("90m"); // 5400000
 * formatDuration(5400000); // "1h30m"
 * parseBanArgs("2h spam", 0); // { until: 7200000, reason: "spam" }
 * parseBanArgs("5x spam", 0); // { error: '"5x" is not a duration: …' }
 * ```
 * @module
 */
import type { Awaitable, Ban, ChatStore, Mute } from "./store.ts";
import { clip, formatTime } from "./format.ts";
import { foldNick, nickSkeleton, shownSkeleton } from "./nick.ts";

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The longest ban or mute with a duration: 52 weeks. Longer is "for good" (no duration). */
export const MAX_DURATION_MS = 52 * units.w;

/** The accepted duration forms, as told to operators. */
export const DURATION_FORMS = "30s, 10m, 2h, 1d or 1w";

/**
 * Reads one duration word: `{ ms }`, or `{ error }` saying what is wrong
 * (no unit, an unknown unit, zero, longer than 52w).
 */
export function readDuration(word: string): { ms: number } | { error: string } {
  if (/^\d+$/.test(word)) return { error: `"${word}" needs a unit: ${DURATION_FORMS}` };
  if (!/^(?:\d+[smhdw])+$/i.test(word)) {
    return { error: `"${clip(word)}" is not a duration: use ${DURATION_FORMS}, or combined (1h30m)` };
  }
  let ms = 0;
  for (const part of word.toLowerCase().match(/\d+[smhdw]/g)!) ms += Number(part.slice(0, -1)) * units[part.slice(-1)];
  if (ms === 0) return { error: `"${word}" is no time at all: use ${DURATION_FORMS}` };
  if (!(ms <= MAX_DURATION_MS)) { // NaN and Infinity too
    return {
      error: `"${clip(word)}" is longer than ${formatDuration(MAX_DURATION_MS)}, the longest; ` +
        `leave the duration out for good`,
    };
  }
  return { ms };
}

/** Parses a duration word (see {@linkcode readDuration}); undefined if it is not a valid one. */
export function parseDuration(text: string): number | undefined {
  const read = readDuration(text);
  return "ms" in read ? read.ms : undefined;
}

/**
 * Parses the `[duration] [reason...]` of `/ban`. A first word that starts
 * with a digit must be a valid duration; otherwise the whole text is the
 * reason and the ban is for good.
 */
export function parseBanArgs(text: string, now = Date.now()): { until: number | null; reason: string } | {
  error: string;
} {
  const m = /^(\S+)\s*(.*)$/s.exec(text.trim());
  if (!m) return { until: null, reason: "" };
  const [, first, rest] = m;
  if (!/^\d/.test(first)) return { until: null, reason: text.trim() };
  const read = readDuration(first);
  if ("error" in read) {
    const malformed = !/^\d+$/.test(first) && !/^(?:\d+[smhdw])+$/i.test(first);
    return malformed && rest ? { error: `${read.error} (a reason cannot start with a digit)` } : read;
  }
  return { until: now + read.ms, reason: rest.trim() };
}

/** Parses the `[duration]` of `/mute`: empty for good, else a valid duration. */
export function parseMuteArgs(text: string, now = Date.now()): { until: number | null } | { error: string } {
  const word = text.trim();
  if (word === "") return { until: null };
  if (/^\d+$/.test(word)) return { error: `"${word}" is not a duration: use ${DURATION_FORMS}` };
  const read = readDuration(word);
  return "error" in read ? read : { until: now + read.ms };
}

/** Formats milliseconds as `1d2h`, `45m`, `30s`. Never throws (a bad value gives "?"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
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

/**
 * "until <time> UTC (1h from now)" or "for good". Never throws: a stored
 * time that no date can show (from an older version, or a damaged row)
 * reads as "for good".
 */
export function describeUntil(until: number | null, now = Date.now()): string {
  const time = until === null ? "" : formatTime(until);
  if (time === "") return "for good";
  return `until ${time} UTC (${formatDuration(until! - now)} from now)`;
}

/** How long a ban lasts and why: "until … (1h from now): spam" or "for good." Never throws. */
export function describeBan(ban: Pick<Ban, "until" | "reason">, now = Date.now()): string {
  return `${describeUntil(ban.until, now)}${ban.reason ? `: ${ban.reason}` : "."}`;
}

// ---- addresses

/** An address or a range of addresses (`10.0.0.0/8`, `2001:db8::/32`), parsed. */
export interface AddressRange {
  /** The normal form: IPv4 dotted, IPv6 compressed lower case (RFC 5952); `/n` for a range. */
  text: string;
  /** 16 bytes; IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`). */
  bytes: Uint8Array;
  /** Prefix length in bits of the 16 bytes (128 for one address; IPv4 /8 is 104). */
  bits: number;
}

/** True for a valid IPv4 or IPv6 address without a prefix length (nicks never look like one). */
export function isAddress(text: string): boolean {
  const parsed = text.includes("/") ? undefined : parseAddress(text);
  return parsed !== undefined && !("error" in parsed);
}

/**
 * True for a ban target that is meant as an address or a range (it starts
 * with a digit or has a colon): nicks start with a letter and have no colon,
 * so such a target is never taken for a nick, and a malformed one is refused
 * with {@linkcode parseAddress}'s reason.
 */
export function isAddressTarget(text: string): boolean {
  return /^\d/.test(text) || text.includes(":");
}

/**
 * Parses an IPv4 or IPv6 address, optionally with a prefix length. Host
 * bits of a range are cleared (`10.1.2.3/8` is `10.0.0.0/8`), an
 * IPv4-mapped IPv6 address is its IPv4 address, and the text is in normal
 * form. Returns `{ error }` saying what is wrong otherwise.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./moderation.ts";
 * parseAddress("2001:DB8:0:0::1/32"); // { text: "2001:db8::/32", ... }
 * parseAddress("10.0.0.0/33"); // { error: "/33 is not a prefix length of an IPv4 address (0-32)" }
 * ```
 */
export function parseAddress(text: string): AddressRange | { error: string } {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = addr.includes(":") ? parseV6(addr) : parseV4(addr);
  if (typeof bytes === "string") return { error: bytes };
  const v6 = addr.includes(":"); // the prefix counts IPv6 bits
  const max = v6 ? 128 : 32;
  let bits = 128;
  if (slash >= 0) {
    const prefix = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
      return { error: `/${clip(prefix)} is not a prefix length of an IPv${v6 ? 6 : 4} address (0-${max})` };
    }
    bits = Number(prefix) + (v6 ? 0 : 96);
  }
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] &= (0xff00 >> keep) & 0xff;
  }
  const v4 = bits >= 96 && isMapped(bytes); // shown as IPv4
  const shown = v4 ? bytes.subarray(12).join(".") : formatV6(bytes);
  return { text: bits === 128 ? shown : `${shown}/${bits - (v4 ? 96 : 0)}`, bytes, bits };
}

/** True if `address` (16 bytes) is inside `range`. */
export function inRange(address: Uint8Array, range: AddressRange): boolean {
  const full = range.bits >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== range.bytes[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return (address[full] & mask) === range.bytes[full];
}

function parseV4(text: string): Uint8Array | string {
  const parts = text.split(".");
  const why = `"${clip(text)}" is not an address: write four numbers 0-255 (10.0.0.1) or an IPv6 address`;
  if (parts.length !== 4) return why;
  const bytes = new Uint8Array(16);
  bytes[10] = bytes[11] = 0xff;
  for (let i = 0; i < 4; i++) {
    // No leading zeros: 010 is 8 to some programs and 10 to others, so it is refused, not guessed.
    if (!/^(0|[1-9]\d{0,2})$/.test(parts[i]) || Number(parts[i]) > 255) return why;
    bytes[12 + i] = Number(parts[i]);
  }
  return bytes;
}

function parseV6(text: string): Uint8Array | string {
  const why = `"${clip(text)}" is not an IPv6 address`;
  let s = text.toLowerCase();
  const lastColon = s.lastIndexOf(":");
  let tail: Uint8Array | undefined;
  if (s.slice(lastColon + 1).includes(".")) { // ::ffff:1.2.3.4
    const v4 = parseV4(s.slice(lastColon + 1));
    if (typeof v4 === "string") return why;
    tail = v4.subarray(12);
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return `${why} (:: may appear once)`;
  const words = (part: string) => part === "" ? [] : part.split(":");
  const head = words(halves[0]);
  let all = head;
  if (halves.length === 2) {
    const after = words(halves[1]);
    if (head.length + after.length > 7) return why;
    all = [...head, ...Array(8 - head.length - after.length).fill("0"), ...after];
  }
  if (all.length !== 8) return why;
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-f]{1,4}$/.test(all[i])) return why;
    const v = parseInt(all[i], 16);
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  }
  if (tail) bytes.set(tail, 12);
  return bytes;
}

function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

// RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as "::" (the first if tied).
function formatV6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** True if the address `ip` is `range` or inside it (false if `ip` is not an address). */
export function covers(range: AddressRange, ip: string): boolean {
  return coveredBy([range], ip);
}

/** True if the address `ip` is inside any of `ranges` (false if `ip` is not an address); `ip` is read once. */
export function coveredBy(ranges: readonly AddressRange[], ip: string): boolean {
  if (ranges.length === 0) return false;
  const parsed = parseAddress(ip.replace(/%.*$/, ""));
  return !("error" in parsed) && parsed.bits === 128 && ranges.some((range) => inRange(parsed.bytes, range));
}

// ---- the bans and mutes in force

/** Options of {@linkcode Moderation}. */
export interface ModerationOptions {
  /** Told when the store fails (e.g. a full disk while removing an expired ban); moderation carries on. */
  onError?: (action: string, error: unknown) => void;
}

/** A ban in force, with the time it has left (`null`: for good). */
export interface BanInForce extends Ban {
  left: number | null;
}

/** A mute in force, with the time it has left (`null`: for good). */
export interface MuteInForce extends Mute {
  left: number | null;
}

/**
 * The bans and mutes in force, kept in memory and written through to the
 * store. Address bans may be ranges; a nick ban also keeps out nicks that
 * look the same (same {@linkcode nickSkeleton}), and, given as typed, nicks
 * that look like it as shown ({@linkcode shownSkeleton}: `/ban Ivan`, with
 * a capital I, keeps out `lvan`). Checks never throw: a store
 * that fails while an expired entry is removed is reported to `onError`,
 * and the entry is dropped from memory (its row is expired, so it is dropped
 * again at the next start).
 */
export class Moderation {
  #store: ChatStore;
  #onError: (action: string, error: unknown) => void;
  #bans = new Map<string, Ban>(); // "nick:<key>" or "ip:<normal text>"
  #ranges: { range: AddressRange; ban: Ban }[] = []; // address bans that are ranges
  #lookalikes = new Map<string, Ban>(); // nick bans by skeleton, and by skeleton as typed (Ban.nick) if it differs
  #mutes = new Map<string, Mute>();

  /** Loads the stored bans and mutes (expired ones go when they are next looked at). */
  constructor(store: ChatStore, options: ModerationOptions = {}) {
    this.#store = store;
    this.#onError = options.onError ?? (() => {});
    this.reload();
  }

  /** Reads the bans and mutes from the store again (cluster mode: another server changed them). */
  reload(): void {
    this.#bans.clear();
    this.#ranges = [];
    this.#lookalikes.clear();
    this.#mutes.clear();
    for (const b of this.#store.bans()) this.#add(b);
    for (const m of this.#store.mutes()) this.#mutes.set(m.key, m);
  }

  /**
   * The ban in force on a nick (its key, or the nick as shown) or an
   * address, if any (expired ones are dropped). An address is matched
   * against single addresses and ranges; a nick also against nicks that
   * look the same, except the nick of an account made (`made`, its
   * `created` time) before that ban: that account is someone else, and is
   * kept out only by a ban of its own nick. Never throws.
   */
  banned(kind: "nick" | "ip", value: string, now = Date.now(), made?: number): Ban | undefined {
    if (kind === "nick") {
      const key = foldNick(value); // a nick as shown is checked as shown too (a capital I looks like an l)
      const ban = this.#live(this.#bans.get(`nick:${key}`), now);
      if (ban || this.#lookalikes.size === 0) return ban;
      const skeleton = nickSkeleton(key);
      const shown = shownSkeleton(value);
      const like = this.#lookalike(skeleton, now) ?? (shown === skeleton ? undefined : this.#lookalike(shown, now));
      return like && made !== undefined && made < like.at ? undefined : like;
    }
    const exact = this.#live(this.#bans.get(`ip:${value}`), now);
    // Cheap for every connection: a plain IPv4 address is its own normal form, so without ranges that was all.
    if (exact || this.#bans.size === 0 || (this.#ranges.length === 0 && plainIPv4.test(value))) return exact;
    const parsed = parseAddress(value.replace(/%.*$/, "")); // no zone id
    if ("error" in parsed) return undefined;
    if (parsed.text !== value) {
      const same = this.#live(this.#bans.get(`ip:${parsed.text}`), now);
      if (same) return same;
    }
    for (const { range, ban } of this.#ranges) {
      if (inRange(parsed.bytes, range) && this.#live(ban, now)) return ban;
    }
    return undefined;
  }

  /**
   * Stores and applies a ban (an address ban's value is first put in normal
   * form; a nick ban's may be the nick as typed: the key is stored, with
   * the spelling when it looks different as shown, and nicks that look like
   * it as shown are kept out too). Throws if the store
   * fails.
   */
  ban(ban: Ban): Awaitable<void> {
    const value = ban.kind === "ip" ? normalAddress(ban.value) : foldNick(ban.value);
    const { nick: _, ...rest } = ban;
    const stored: Ban = { ...rest, value };
    if (ban.kind === "nick" && shownSkeleton(ban.value) !== nickSkeleton(value)) stored.nick = ban.value;
    const apply = () => {
      this.#drop(stored.kind, value);
      this.#add(stored);
    };
    return then(this.#store.saveBan(stored), apply);
  }

  /**
   * Lifts a ban (an address or range in any form, a nick as typed or its
   * key); returns whether there was one. Throws if the store fails.
   */
  unban(kind: "nick" | "ip", value: string): Awaitable<boolean> {
    const key = kind === "ip" ? normalAddress(value) : foldNick(value);
    const had = this.#drop(kind, key);
    return then(this.#store.removeBan(kind, had?.value ?? key), (removed) => removed || had !== undefined);
  }

  /** The bans in force, soonest to end first (for good last). */
  bans(now = Date.now()): BanInForce[] {
    const out: BanInForce[] = [];
    for (const ban of [...this.#bans.values()]) {
      if (this.#live(ban, now)) out.push({ ...ban, left: ban.until === null ? null : ban.until - now });
    }
    return out.sort((a, b) => (a.left ?? Infinity) - (b.left ?? Infinity));
  }

  /** The mute in force on a nick key, if any (an expired one is dropped). Never throws. */
  muted(key: string, now = Date.now()): Mute | undefined {
    const mute = this.#mutes.get(key);
    if (!mute) return undefined;
    if (mute.until !== null && mute.until <= now) {
      this.#mutes.delete(key);
      this.#removeStoredMute(key);
      return undefined;
    }
    return mute;
  }

  /** Stores and applies a mute. Throws if the store fails. */
  mute(mute: Mute): Awaitable<void> {
    return then(this.#store.saveMute(mute), () => {
      this.#mutes.set(mute.key, mute);
    });
  }

  /** Lifts a mute; returns whether there was one. Throws if the store fails. */
  unmute(key: string): Awaitable<boolean> {
    const had = this.#mutes.delete(key);
    return then(this.#store.removeMute(key), (removed) => removed || had);
  }

  /** The mutes in force, soonest to end first (for good last). */
  mutes(now = Date.now()): MuteInForce[] {
    const out: MuteInForce[] = [];
    for (const key of [...this.#mutes.keys()]) {
      const mute = this.muted(key, now);
      if (mute) out.push({ ...mute, left: mute.until === null ? null : mute.until - now });
    }
    return out.sort((a, b) => (a.left ?? Infinity) - (b.left ?? Infinity));
  }

  #add(ban: Ban): void {
    if (ban.kind === "nick") {
      this.#bans.set(`nick:${ban.value}`, ban);
      for (const skeleton of this.#skeletons(ban)) this.#lookalikes.set(skeleton, ban);
      return;
    }
    const parsed = parseAddress(ban.value.replace(/%.*$/, ""));
    const key = "error" in parsed ? ban.value : parsed.text;
    this.#bans.set(`ip:${key}`, ban);
    if (!("error" in parsed) && parsed.bits < 128) this.#ranges.push({ range: parsed, ban });
  }

  // Takes a ban out of memory (not the store); returns it.
  #drop(kind: "nick" | "ip", key: string): Ban | undefined {
    const ban = this.#bans.get(`${kind}:${key}`);
    if (!ban) return undefined;
    this.#bans.delete(`${kind}:${key}`);
    if (kind === "nick") {
      for (const skeleton of this.#skeletons(ban)) {
        if (this.#lookalikes.get(skeleton) !== ban) continue;
        this.#lookalikes.delete(skeleton);
        // Another ban with the same skeleton (or as typed) takes its place.
        for (const other of this.#bans.values()) {
          if (other.kind === "nick" && this.#skeletons(other).includes(skeleton)) this.#lookalikes.set(skeleton, other);
        }
      }
    } else {
      this.#ranges = this.#ranges.filter((r) => r.ban !== ban);
    }
    return ban;
  }

  // The skeletons a nick ban keeps out: its key's, and its spelling's as shown when that differs.
  #skeletons(ban: Ban): string[] {
    const skeleton = nickSkeleton(ban.value);
    const shown = ban.nick === undefined ? skeleton : shownSkeleton(ban.nick);
    return shown === skeleton ? [skeleton] : [skeleton, shown];
  }

  // The live nick ban for a skeleton: an expired one is dropped, and another ban of the same skeleton
  // (bob for good behind b0b for 30 s) takes its place and is tried in turn.
  #lookalike(skeleton: string, now: number): Ban | undefined {
    for (let ban = this.#lookalikes.get(skeleton); ban;) {
      if (this.#live(ban, now)) return ban;
      const next = this.#lookalikes.get(skeleton);
      if (next === ban) return undefined;
      ban = next;
    }
    return undefined;
  }

  // The ban if it is still in force; an expired one is dropped (and removed from the store if it can be).
  #live(ban: Ban | undefined, now: number): Ban | undefined {
    if (!ban) return undefined;
    if (ban.until === null || ban.until > now) return ban;
    const key = ban.kind === "nick" ? ban.value : normalAddress(ban.value);
    if (this.#bans.get(`${ban.kind}:${key}`) === ban) this.#drop(ban.kind, key);
    this.#removeStored(ban);
    return undefined;
  }

  #removeStored(ban: Ban): void {
    try {
      const done = this.#store.removeBan(ban.kind, ban.value);
      if (done instanceof Promise) {
        done.catch((error) => this.#onError(`removing the expired ban of ${ban.value}`, error));
      }
    } catch (error) {
      this.#onError(`removing the expired ban of ${ban.value}`, error);
    }
  }

  #removeStoredMute(key: string): void {
    try {
      const done = this.#store.removeMute(key);
      if (done instanceof Promise) done.catch((error) => this.#onError(`removing the expired mute of ${key}`, error));
    } catch (error) {
      this.#onError(`removing the expired mute of ${key}`, error);
    }
  }
}

const plainIPv4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function normalAddress(text: string): string {
  const parsed = parseAddress(text.replace(/%.*$/, ""));
  return "error" in parsed ? text : parsed.text;
}

/** Runs `fn` on a value at once, or once its promise resolves (the store's write went through first). */
function then<T, R>(value: Awaitable<T>, fn: (value: T) => R): Awaitable<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}
