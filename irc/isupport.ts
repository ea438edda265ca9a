/**
 * What teaparty tells IRC clients about itself: the server name, how users
 * look (`nick!nick@teaparty`), and the `005` ISUPPORT tokens, each true to
 * the room engine's rules.
 *
 * - `CASEMAPPING=rfc8265`: teaparty folds nicks and rooms with Unicode case
 *   mapping after NFKC normalisation (nick.ts, rooms.ts), which is the
 *   PRECIS mapping of RFC 8265 in all but a few compatibility characters;
 *   `[`/`{`, `]`/`}` stay distinct (not rfc1459), and `Ä`/`ä` are one nick
 *   (not ascii). Clients that do not know the name fall back to rfc1459.
 * - `NICKLEN=32` and `CHANNELLEN=33` count characters (a nick may be any
 *   script), as teaparty does; `UTF8ONLY` says so.
 *
 * @example
 * ```ts
 * import { isupportLines, hostmask } from "./isupport.ts";
 * hostmask("alice"); // "alice!alice@teaparty"
 * isupportLines("TestChat").length; // 2
 * ```
 * @module
 */
import { MAX_NICK } from "../nick.ts";
import { MAX_ROOM, MAX_TOPIC } from "../room_name.ts";

/** The server name in numerics and server notices. */
export const SERVER = "teaparty";
/** The host part of every user's mask: never an address. */
export const USER_HOST = "teaparty";
/** Version shown in 002, 004 and VERSION. */
export const VERSION = "teaparty-0.1.0";
/** Most bytes of a topic an IRC user may set (longer ones are cut): the line protocol's limit (in characters there). */
export const TOPICLEN = MAX_TOPIC;
/** Most bytes of a kick reason. */
export const KICKLEN = 300;
/** Most bytes of an away message. */
export const AWAYLEN = 200;
/** Most channels one IRC user may be in. */
export const CHANLIMIT = 50;
/** Most mode changes with a parameter (`+b nick`, `-q nick`) one MODE command applies; the rest are ignored. */
export const MODES = 4;
/** Most targets of one PRIVMSG or NOTICE. */
export const MAX_TARGETS = 4;
/** Most messages one CHATHISTORY request returns. */
export const CHATHISTORY_LIMIT = 100;

/** `nick!nick@teaparty`: the same for everyone, whatever door they came through. */
export function hostmask(nick: string): string {
  return `${nick}!${nick}@${USER_HOST}`;
}

/** Escapes an ISUPPORT value (`\x20` for a space, `\x5C`, `\x3D`). */
export function escapeValue(value: string): string {
  return value.replace(/[\\ =]/g, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

/** The ISUPPORT tokens, in order. */
export function isupportTokens(network: string): string[] {
  return [
    `AWAYLEN=${AWAYLEN}`,
    "CASEMAPPING=rfc8265",
    `CHANLIMIT=#:${CHANLIMIT}`,
    "CHANMODES=bq,,,nt",
    `CHANNELLEN=${MAX_ROOM + 1}`,
    "CHANTYPES=#",
    `CHATHISTORY=${CHATHISTORY_LIMIT}`,
    `KICKLEN=${KICKLEN}`,
    `MODES=${MODES}`,
    "MSGREFTYPES=msgid,timestamp",
    `NETWORK=${escapeValue(network)}`,
    `NICKLEN=${MAX_NICK}`,
    "PREFIX=(o)@",
    `TARGMAX=PRIVMSG:${MAX_TARGETS},NOTICE:${MAX_TARGETS},JOIN:,PART:,KICK:,NAMES:1,WHOIS:1,ISON:,USERHOST:5`,
    `TOPICLEN=${TOPICLEN}`,
    "UTF8ONLY",
  ];
}

/** The tokens in `005` lines of at most 12 tokens each (each line ends "are supported by this server"). */
export function isupportLines(network: string): string[][] {
  const tokens = isupportTokens(network);
  const lines: string[][] = [];
  for (let i = 0; i < tokens.length; i += 12) lines.push(tokens.slice(i, i + 12));
  return lines;
}
