/**
 * Room names: what a room may be called (letters, digits, `_ - .`, at most
 * {@linkcode MAX_ROOM} characters, an optional leading `#` as IRC writes
 * channels) and the key that makes two names the same room.
 *
 * @example
 * ```ts
 * import { checkRoomName, roomKey } from "./room_name.ts";
 * checkRoomName("../etc"); // "a room name may hold only letters, digits, underscores, hyphens and dots"
 * roomKey("#Garden"); // "garden"
 * ```
 * @module
 */
import { mixedScripts } from "./nick.ts";

/** The longest room name, in characters. */
export const MAX_ROOM = 32;
/** Longest room topic, in characters (the IRC door's `TOPICLEN`). */
export const MAX_TOPIC = 300;

/**
 * Checks a room name (a leading `#` is allowed and dropped by
 * {@linkcode roomName}); returns why it is not acceptable, or undefined.
 */
export function checkRoomName(name: string): string | undefined {
  const bare = roomName(name);
  if (bare === "") return "a room name cannot be empty";
  if ([...bare].length > MAX_ROOM) return `a room name has at most ${MAX_ROOM} characters`;
  if (!/^[\p{L}\p{M}\p{N}_\-.]+$/u.test(bare)) {
    return "a room name may hold only letters, digits, underscores, hyphens and dots";
  }
  if (!/[\p{L}\p{N}]/u.test(bare)) return "a room name needs a letter or a digit (not only _ - .)";
  return mixedScripts(bare, "a room name"); // "mаin" with a Cyrillic а is not main
}

/** A room name without its optional leading `#`. */
export function roomName(name: string): string {
  return name.startsWith("#") ? name.slice(1) : name;
}

/** The case-insensitive key of a room name. */
export function roomKey(name: string): string {
  return roomName(name).normalize("NFKC").toLowerCase();
}
