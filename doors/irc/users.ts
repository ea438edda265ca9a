/**
 * IRC messaging and user commands: `PRIVMSG` and `NOTICE` to channels and
 * nicks (CTCP ACTION is `/me`; other CTCP requests are not passed on, since
 * only IRC clients could answer them), `TAGMSG` (accepted, not relayed),
 * `AWAY`, `WHO`, `WHOIS`, `ISON` and `USERHOST`.
 *
 * Text is cleaned as on every door, IRC formatting first: colour codes
 * with their numbers (`\x0304,12`), hex colours, bold, italics and the
 * rest are removed (irc/formatting.ts), then control characters. Text
 * with nothing visible left (a Braille blank, a lone combining mark) is
 * no text: 412 for a PRIVMSG or a CTCP ACTION, as /me on telnet is
 * refused. A NOTICE reaches IRC users as a NOTICE (its events carry `notice`) and
 * other users as any line, and is never answered with an error. Private
 * messages to an offline registered nick are kept as mail, as on the
 * other doors. Addresses appear only to operators.
 *
 * @example
 * ```ts
 * import { userCommands } from "./users.ts";
 * userCommands.map((c) => c.name); // ["PRIVMSG", "NOTICE", "TAGMSG", "AWAY", ...]
 * ```
 * @module
 */
import type { IrcSession } from "./session.ts";
import { Session } from "../../session.ts";
import type { IrcCommand } from "./session.ts";
import type { User } from "../../user.ts";
import { ERR, RPL } from "../../irc/numerics.ts";
import { AWAYLEN, MAX_TARGETS, SERVER, USER_HOST } from "../../irc/isupport.ts";
import { channel } from "../../dialects/irc.ts";
import { roomKey } from "../../room_name.ts";
import { checkNick, foldNick } from "../../nick.ts";
import { splitText } from "../../irc/split.ts";
import { nickMask } from "../../irc/mask.ts";
import { cleanIrcText } from "../../irc/formatting.ts";
import { hasVisible } from "../../text.ts";
import { clip } from "../../format.ts";

/** The realname shown for a user: an IRC user's own, else the door it came through (`telnet user`). */
export function realnameOf(user: User): string {
  const link = user.link as Session & { realname?: string };
  if (typeof link.realname === "string") return link.realname || user.nick;
  if (link instanceof Session) return `${link.door} user`;
  return "teaparty user";
}

/**
 * A message's kind and text, from CTCP: ACTION is an action (its verb ends
 * at a space or a \x01); another CTCP request (`VERSION`, or none at all) is
 * `{ kind: "ctcp", verb }`, which is not relayed.
 */
export function ctcp(
  text: string,
): { kind: "chat" | "action"; text: string } | { kind: "ctcp"; verb: string } {
  if (text.charCodeAt(0) !== 1) return { kind: "chat", text };
  const body = text.slice(1, text.endsWith("\x01") ? -1 : undefined);
  const space = body.indexOf(" ");
  const stop = body.indexOf("\x01"); // a CTCP that ends before the text does
  const end = stop !== -1 && (space === -1 || stop < space) ? stop : space;
  const verb = (end === -1 ? body : body.slice(0, end)).toUpperCase();
  if (verb !== "ACTION") return { kind: "ctcp", verb };
  return { kind: "action", text: end === -1 ? "" : body.slice(end + 1) };
}

async function message(s: IrcSession, params: string[], notice: boolean): Promise<void> {
  const user = s.user!;
  const chat = s.chat;
  const command = notice ? "NOTICE" : "PRIVMSG";
  if (params.length === 0 || params[0] === "") {
    if (!notice) s.numeric(ERR.NORECIPIENT, `No recipient given (${command})`);
    return;
  }
  if (params.length < 2 || params[1] === "") {
    if (!notice) s.numeric(ERR.NOTEXTTOSEND, "No text to send");
    return;
  }
  const said = ctcp(params[1]);
  if (said.kind === "ctcp") { // CTCP other than ACTION: not passed on, and said so
    if (notice) return;
    const verb = cleanIrcText(said.verb);
    if (!hasVisible(verb)) return s.numeric(ERR.NOTEXTTOSEND, "No text to send");
    return s.serverNotice(`CTCP ${clip(verb, 20)} is not passed on here: only ACTION (/me) is.`);
  }
  const text = cleanIrcText(said.text).trim(); // colours and bold go, as every control character
  if (!hasVisible(text)) { // nothing that shows (a Braille blank, a lone mark): as no text, on every door
    if (!notice) s.numeric(ERR.NOTEXTTOSEND, "No text to send");
    return;
  }
  // Each target once (`#main,#MAIN` or `bob,Bob` is one), named as first given.
  const seen = new Set<string>();
  const targets = params[0].split(",").filter((t) => {
    if (t === "") return false;
    const key = t.startsWith("#") ? `#${roomKey(t)}` : foldNick(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  for (const target of targets.slice(0, MAX_TARGETS)) {
    if (target.startsWith("#")) {
      const room = chat.rooms.get(target);
      if (!room) {
        if (!notice) s.numeric(ERR.NOSUCHCHANNEL, target, "No such channel");
        continue;
      }
      if (!user.rooms.has(room)) {
        if (!notice) s.numeric(ERR.CANNOTSENDTOCHAN, channel(room.name), "Cannot send to channel: JOIN it first");
        continue;
      }
      const refusal = chat.say(user, said.kind, text, room, notice);
      if (refusal && !notice) s.numeric(ERR.CANNOTSENDTOCHAN, channel(room.name), refusal);
      continue;
    }
    if (checkNick(target) || (!chat.find(target) && !(await chat.store.account(foldNick(target))))) {
      if (!notice) s.numeric(ERR.NOSUCHNICK, target, "No such nick/channel");
      continue;
    }
    s.flush();
    const sender = user.registered ? user.key : `address ${s.ip}`;
    const result = await chat.tell(user, target, text, said.kind === "action", sender, notice);
    if (!result.sent) {
      if (!notice || !result.error) s.serverNotice(result.reply);
      continue;
    }
    const other = chat.find(result.to);
    if (other?.away && !notice) s.numeric(RPL.AWAY, other.nick, other.away);
  }
  if (targets.length > MAX_TARGETS && !notice) {
    s.numeric("407", targets[MAX_TARGETS], `Too many targets: at most ${MAX_TARGETS} per message`);
  }
}

function away(s: IrcSession, params: string[]): void {
  const user = s.user!;
  const text = params[0] ? splitText(cleanIrcText(params[0]).trim(), AWAYLEN)[0] : "";
  if (text === user.away) {
    return text
      ? s.numeric(RPL.NOWAWAY, "You have been marked as being away")
      : s.numeric(RPL.UNAWAY, "You are no longer marked as being away");
  }
  user.away = text;
  if (text) s.numeric(RPL.NOWAWAY, "You have been marked as being away");
  else s.numeric(RPL.UNAWAY, "You are no longer marked as being away");
  s.flush();
  s.chat.announceAround(user, { type: "away", nick: user.nick, text, at: Date.now() });
}

/** WHO flags: H(ere) or G(one), `*` for operators, and `@` for channel operators. */
function whoFlags(user: User): string {
  return (user.away ? "G" : "H") + (user.operator ? "*@" : "");
}

function whoLine(s: IrcSession, chan: string, user: User): void {
  s.numeric(RPL.WHOREPLY, chan, user.nick, USER_HOST, SERVER, user.nick, whoFlags(user), `0 ${realnameOf(user)}`);
}

/** Most users one WHO with a mask lists. */
export const WHO_LIMIT = 200;

function who(s: IrcSession, params: string[]): void {
  const chat = s.chat;
  const mask = params[0] ?? "*";
  if (mask.startsWith("#")) {
    const room = chat.rooms.get(mask);
    if (room) { for (const m of room.members) whoLine(s, channel(room.name), m as User); }
    return s.numeric(RPL.ENDOFWHO, mask, "End of WHO list");
  }
  const exact = chat.find(mask);
  if (exact) {
    const first = [...exact.rooms][0];
    whoLine(s, first ? channel(first.name) : "*", exact);
  } else if (mask === "0" || /[*?]/.test(mask)) { // RFC 2812: "0" is everyone, as "*" is
    const test = nickMask(mask === "0" ? "*" : mask);
    let n = 0;
    for (const u of chat.nicks.values()) {
      if (!test(u.key)) continue;
      if (++n > WHO_LIMIT) break;
      whoLine(s, "*", u);
    }
  }
  s.numeric(RPL.ENDOFWHO, mask, "End of WHO list");
}

function whois(s: IrcSession, params: string[]): void {
  const chat = s.chat;
  const nick = params[params.length - 1].split(",")[0];
  const other = chat.find(nick);
  if (!other) {
    s.numeric(ERR.NOSUCHNICK, nick, "No such nick/channel");
    return s.numeric(RPL.ENDOFWHOIS, nick, "End of /WHOIS list");
  }
  const n = other.nick;
  s.numeric(RPL.WHOISUSER, n, n, USER_HOST, "*", realnameOf(other));
  const rooms = [...other.rooms].map((r) => (other.operator ? "@" : "") + channel(r.name));
  s.numericList(RPL.WHOISCHANNELS, [n], rooms);
  const link = other.link as { door?: string; ip?: string };
  s.numeric(RPL.WHOISSERVER, n, SERVER, `${chat.options.name} (through the ${link.door ?? "?"} door)`);
  if (other.operator) s.numeric(RPL.WHOISOPERATOR, n, "is a teaparty operator");
  if (other.away) s.numeric(RPL.AWAY, n, other.away);
  if (other.registered) s.numeric(RPL.WHOISACCOUNT, n, n, "is logged in as");
  if (s.user!.operator && link.ip) s.numeric(RPL.WHOISHOST, n, `is connecting from *@${link.ip} ${link.ip}`);
  const idle = Math.max(0, Math.floor((Date.now() - other.active) / 1000));
  s.numeric(RPL.WHOISIDLE, n, String(idle), String(Math.floor(other.since / 1000)), "seconds idle, signon time");
  s.numeric(RPL.ENDOFWHOIS, n, "End of /WHOIS list");
}

function ison(s: IrcSession, params: string[]): void {
  const present: string[] = [];
  for (const p of params) {
    for (const nick of p.split(" ")) {
      if (nick) {
        const u = s.chat.find(nick);
        if (u) present.push(u.nick);
      }
    }
  }
  s.numericList(RPL.ISON, [], present, true);
}

function userhost(s: IrcSession, params: string[]): void {
  const out: string[] = [];
  for (const nick of params.slice(0, 5)) {
    const u = s.chat.find(nick);
    if (u) out.push(`${u.nick}${u.operator ? "*" : ""}=${u.away ? "-" : "+"}${u.nick}@${USER_HOST}`);
  }
  s.numericList(RPL.USERHOST, [], out, true);
}

/** The messaging and user commands. */
export const userCommands: IrcCommand[] = [
  {
    name: "PRIVMSG",
    params: 0,
    help: "PRIVMSG <#room|nick>[,…] :<text>: say something (\\x01ACTION …\\x01 acts)",
    run: (s, m) => message(s, m.params, false),
  },
  {
    name: "NOTICE",
    params: 0,
    help: "NOTICE <#room|nick> :<text>: like PRIVMSG, never answered with an error",
    run: (s, m) => message(s, m.params, true),
  },
  {
    name: "TAGMSG",
    params: 0,
    help: "TAGMSG <target>: accepted and not passed on (teaparty relays no client tags)",
    run: () => {},
  },
  {
    name: "AWAY",
    params: 0,
    help: "AWAY [:message]: mark yourself away; no message: back",
    run: (s, m) => away(s, m.params),
  },
  { name: "WHO", params: 0, help: "WHO <#room|nick|mask>: who is there", run: (s, m) => who(s, m.params) },
  { name: "WHOIS", params: 1, help: "WHOIS <nick>: about a user", run: (s, m) => whois(s, m.params) },
  { name: "ISON", params: 1, help: "ISON <nick> …: which of these are online", run: (s, m) => ison(s, m.params) },
  {
    name: "USERHOST",
    params: 1,
    help: "USERHOST <nick> …: masks of up to five users",
    run: (s, m) => userhost(s, m.params),
  },
];
