/**
 * The IRC dialect: room events as the IRC lines every client understands
 * (`:alice!alice@teaparty PRIVMSG #main :hi`, `JOIN`, `PART`, `QUIT`,
 * `TOPIC`, `KICK`, `NICK`, `AWAY`), with the IRCv3 tags the receiver asked
 * for. There is one dialect per combination of tag capabilities
 * (`message-tags`, `server-time`, `account-tag`, `away-notify`), made when
 * first needed and kept per chat, so a room line is written at most once per
 * combination and every receiver of it shares the same bytes.
 *
 * Only events said to a room are rendered here; what is meant for one
 * receiver (numerics with the receiver's nick, private messages, history
 * replies) is written by the IRC session itself, and renders as nothing here.
 *
 * A crowd summary (`--crowd`) is not an IRC event: it is a server NOTICE to
 * the channel, `:teaparty NOTICE #main :alice, bob and 35 others entered the room.`
 *
 * @example
 * ```ts
 * import { IrcDialect } from "./irc.ts";
 * const irc = new IrcDialect(0, () => undefined);
 * const bytes = irc.render({ type: "chat", room: "main", nick: "alice", text: "hi", at: 0 });
 * new TextDecoder().decode(bytes); // ":alice!alice@teaparty PRIVMSG #main :hi\r\n"
 * ```
 * @module
 */
import type { ChatEvent } from "../events.ts";
import { type Dialect, dialectId } from "./dialect.ts";
import { telnetLines } from "./telnet.ts";
import { NOTICE_PREFIX } from "../format.ts";
import { byteLength, formatTags, MAX_LINE } from "../irc/message.ts";
import { lineSlab } from "../byte_slab.ts";
import { FLAG, type RenderFlags } from "../irc/caps.ts";
import { hostmask, SERVER } from "../irc/isupport.ts";
import { splitText } from "../irc/split.ts";

const EMPTY = new Uint8Array(0);
/** Bytes of a line's body (source, command, parameters) without CR LF. */
const BODY = MAX_LINE - 2;

/** Finds the account a nick is logged in to (its nick when registered), for `account` tags. */
export type AccountOf = (nick: string) => string | undefined;

/** `#room` for a room name. */
export function channel(room: string): string {
  return "#" + room;
}

/** ISO 8601 UTC with milliseconds, as `server-time` writes it. */
export function isoTime(at: number): string {
  return new Date(at).toISOString();
}

/** Tags of a line for a receiver with `flags` (with the trailing space), or "". */
export function lineTags(
  flags: RenderFlags,
  at: number,
  msgid?: string,
  account?: string,
  batch?: string,
): string {
  const tags: [string, string][] = [];
  if (batch !== undefined) tags.push(["batch", batch]);
  if (flags & FLAG.time) tags.push(["time", isoTime(at)]);
  if (msgid !== undefined && flags & FLAG.tags) tags.push(["msgid", msgid]);
  if (account !== undefined && flags & FLAG.account) tags.push(["account", account]);
  return formatTags(tags);
}

/** Cuts `text` so that `head` + `text` fits in one line body. */
export function fit(head: string, text: string): string {
  const budget = BODY - byteLength(head);
  return byteLength(text) <= budget ? text : splitText(text, budget)[0];
}

/**
 * The PRIVMSG lines (each ending CR LF) of a room or private message: an
 * action as CTCP ACTION, a long text cut into several lines; the pieces
 * after the first get the msgids `N.2`, `N.3` …
 */
export function messageLines(
  flags: RenderFlags,
  at: number,
  msgid: string | undefined,
  account: string | undefined,
  source: string,
  target: string,
  kind: "chat" | "action",
  text: string,
  command = "PRIVMSG",
  batch?: string,
): string {
  const head = `:${source} ${command} ${target} :`;
  const action = kind === "action";
  const budget = BODY - byteLength(head) - (action ? 9 : 0);
  const pieces = text.length * 3 <= budget || byteLength(text) <= budget ? [text] : splitText(text, budget);
  let out = "";
  for (let i = 0; i < pieces.length; i++) {
    const id = msgid === undefined || i === 0 ? msgid : `${msgid}.${i + 1}`;
    const body = action ? `\x01ACTION ${pieces[i]}\x01` : pieces[i];
    out += `${lineTags(flags, at, id, account, batch)}${head}${body}\r\n`;
  }
  return out;
}

/** The text of an event as a telnet user reads it, without the `*** ` of a notice. */
function noticeText(event: ChatEvent): string {
  const line = telnetLines(event).join(" ");
  return line.startsWith(NOTICE_PREFIX) ? line.slice(NOTICE_PREFIX.length) : line;
}

/** The IRC dialect for one combination of tag capabilities. */
export class IrcDialect implements Dialect {
  readonly id: number = dialectId();
  readonly name: string;
  /** The capabilities it writes tags for. */
  readonly flags: RenderFlags;
  #accountOf: AccountOf;

  /** A dialect writing the tags `flags` asks for; `accountOf` names accounts for `account` tags. */
  constructor(flags: RenderFlags, accountOf: AccountOf) {
    this.flags = flags;
    this.name = flags === 0 ? "irc" : `irc+${flags}`;
    this.#accountOf = accountOf;
  }

  render(event: ChatEvent): Uint8Array {
    const text = this.lines(event);
    return text === "" ? EMPTY : lineSlab.encode(text);
  }

  /** The lines of a room event, each ending CR LF ("" for events meant for one receiver). */
  lines(e: ChatEvent): string {
    const flags = this.flags;
    const account = (nick: string) => flags & FLAG.account ? this.#accountOf(nick) : undefined;
    switch (e.type) {
      case "chat":
      case "action":
        return messageLines(
          flags,
          e.at,
          e.id === undefined ? undefined : String(e.id),
          account(e.nick),
          hostmask(e.nick),
          channel(e.room),
          e.type,
          e.text,
          e.notice ? "NOTICE" : "PRIVMSG",
        );
      case "entered":
        return `${lineTags(flags, e.at, undefined, account(e.nick))}:${hostmask(e.nick)} JOIN ${channel(e.room)}\r\n`;
      case "left": {
        const tags = lineTags(flags, e.at, undefined, account(e.nick));
        const head = `${tags}:${hostmask(e.nick)} `;
        if (e.quit) return `${head}QUIT :${fit(head + "QUIT :", e.reason || "Quit")}\r\n`;
        const part = `${head}PART ${channel(e.room)}`;
        return e.reason ? `${part} :${fit(part + " :", e.reason)}\r\n` : `${part}\r\n`;
      }
      case "crowd": {
        const head = `${lineTags(flags, e.at)}:${SERVER} NOTICE ${channel(e.room)} :`;
        return `${head}${fit(head, noticeText(e))}\r\n`;
      }
      case "topic": {
        if (!e.changed) return "";
        const head = `${lineTags(flags, e.at, undefined, account(e.by))}:${hostmask(e.by)} TOPIC ${channel(e.room)} :`;
        return `${head}${fit(head, e.text)}\r\n`;
      }
      case "kick": {
        const head = `${lineTags(flags, Date.now(), undefined, account(e.by))}:${hostmask(e.by)} KICK ${
          channel(e.room)
        } ${e.nick} :`;
        return `${head}${fit(head, e.reason || e.by)}\r\n`;
      }
      case "nick":
        return `${lineTags(flags, e.at, undefined, account(e.nick))}:${hostmask(e.old)} NICK ${e.nick}\r\n`;
      case "notice": {
        if (e.room === undefined) return "";
        const head = `${lineTags(flags, Date.now())}:${SERVER} NOTICE ${channel(e.room)} :`;
        return `${head}${fit(head, e.text)}\r\n`;
      }
      case "away": {
        if (!(flags & FLAG.away)) return "";
        const head = `${lineTags(flags, e.at, undefined, account(e.nick))}:${hostmask(e.nick)} AWAY`;
        return e.text ? `${head} :${fit(head + " :", e.text)}\r\n` : `${head}\r\n`;
      }
      default:
        return "";
    }
  }
}

/** What the IRC dialects need of the chat: who is logged in to a registered nick (for `account-tag`). */
export interface UserFinder {
  find(nick: string): { readonly nick: string; readonly registered: boolean } | undefined;
}

const cache = new WeakMap<UserFinder, IrcDialect[]>();

/** The IRC dialects made so far for a chat (one per tag-capability combination in use), for metrics. */
export function ircDialects(chat: UserFinder): IrcDialect[] {
  return (cache.get(chat) ?? []).filter((d) => d !== undefined);
}

/** The IRC dialect of a chat for some render flags: made on first use, then shared by every receiver with them. */
export function ircDialect(chat: UserFinder, flags: RenderFlags): IrcDialect {
  let list = cache.get(chat);
  if (!list) cache.set(chat, list = []);
  return list[flags] ??= new IrcDialect(flags, (nick) => {
    const user = chat.find(nick);
    return user?.registered ? user.nick : undefined;
  });
}
