/**
 * How every kind of line the server sends looks. Server notices start with
 * `*** `; no user text can produce a line that starts that way, because chat
 * lines start with a nick (which starts with a letter), actions with `* `
 * and a nick, and private messages with `[`.
 *
 * @example
 * ```ts
 * import { notice, chat } from "./format.ts";
 * notice("alice has entered the room."); // "*** alice has entered the room."
 * chat("alice", "hi"); // "alice: hi"
 * ```
 * @module
 */

/** The prefix that marks a server notice. */
export const NOTICE_PREFIX = "*** ";

/** A server notice line. */
export function notice(text: string): string {
  return NOTICE_PREFIX + text;
}

/** A chat line as the room sees it. */
export function chat(nick: string, text: string): string {
  return `${nick}: ${text}`;
}

/** An action line (`/me`). */
export function action(nick: string, text: string): string {
  return `* ${nick} ${text}`;
}

/** A private message as the recipient sees it. */
export function privateFrom(nick: string, text: string): string {
  return `[private] ${nick}: ${text}`;
}

/** The sender's copy of a private message. */
export function privateTo(nick: string, text: string): string {
  return `[private to ${nick}] ${text}`;
}

/**
 * Joins names for a summary: `a`, `a and b`, `a, b and c`,
 * `a, b, c and 35 others`.
 */
export function nameList(names: readonly string[], shown = 3): string {
  return countedList(names.slice(0, shown), names.length);
}

/**
 * Joins the first names of `count` for a summary: `a, b, c and 35 others`
 * for `countedList(["a", "b", "c"], 38)`.
 */
export function countedList(first: readonly string[], count: number): string {
  if (count <= 1) return first.join("");
  if (count <= first.length) {
    return `${first.slice(0, -1).join(", ")} and ${first[first.length - 1]}`;
  }
  const rest = count - first.length;
  return `${first.join(", ")} and ${rest} other${rest === 1 ? "" : "s"}`;
}

/** A listing of (at most a listing's worth of) `count` names: `a, b and 5 more`. */
export function names(shown: readonly string[], count: number): string {
  const list = shown.join(", ");
  return count > shown.length ? `${list} and ${count - shown.length} more` : list;
}

/** Formats a time as `YYYY-MM-DD HH:MM:SS` (UTC); "" for a time no date can show (never throws). */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().slice(0, 19).replace("T", " ");
}

/** A stored room message replayed as history, marked with its time (UTC). */
export function historyLine(at: number, kind: "chat" | "action", nick: string, text: string): string {
  return `[history ${formatTime(at)}] ${kind === "action" ? action(nick, text) : chat(nick, text)}`;
}

/** A stored private message delivered at login. */
export function mailLine(at: number, from: string, text: string): string {
  return `[mail ${formatTime(at)}] ${from}: ${text}`;
}

/**
 * Text a user sent, shortened for quoting in a reply: at most `max` code
 * points, then `…` (a refused 4,000-character nick is not echoed whole).
 *
 * @example
 * ```ts
 * import { clip } from "./format.ts";
 * clip("a".repeat(30)); // "aaaaaaaaaaaaaaaaaaaaaaaa…"
 * clip("short"); // "short"
 * ```
 */
export function clip(text: string, max = 24): string {
  const chars = [...text];
  return chars.length > max ? chars.slice(0, max).join("") + "…" : text;
}

/**
 * Why a user quit when an operator sent it away, as its rooms are told (an
 * IRC QUIT reason).
 *
 * @example
 * ```ts
 * import { sentAway } from "./format.ts";
 * sentAway("Kicked", "opal", "bye"); // "Kicked by opal: bye"
 * sentAway("Banned", "opal"); // "Banned by opal"
 * ```
 */
export function sentAway(how: "Kicked" | "Banned", by: string, reason = ""): string {
  return `${how} by ${by}${reason ? `: ${reason}` : ""}`;
}
