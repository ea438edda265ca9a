/**
 * IRC registration: `CAP` negotiation (302), `NICK`, `USER`, `PASS` and SASL
 * `PLAIN` (`AUTHENTICATE`) against teaparty's accounts, then the login
 * (login.ts, the same rules as every door) and the welcome: 001–005, LUSERS
 * and the MOTD.
 *
 * A registered nick needs its password: with SASL PLAIN (account = nick),
 * or with PASS. Without one it is refused with 433, so clients move on to
 * their alternative nick, with a notice that says why. After registration
 * `NICK nick <password>` changes to a registered nick, taking it back from
 * another connection as a login would. login.ts says nothing to an IRC
 * client: it reports how a login or nick change ended as facts
 * ({@linkcode LoginOutcome}, {@linkcode NickOutcome}), and the numerics here
 * are worded from them.
 *
 * @example
 * ```ts
 * import { registrationCommands } from "./registration.ts";
 * registrationCommands.map((c) => c.name); // ["CAP", "NICK", "USER", "PASS", "AUTHENTICATE"]
 * ```
 * @module
 */
import type { IrcSession } from "./session.ts";
import type { IrcCommand } from "./session.ts";
import { capList, CAPS } from "../../irc/caps.ts";
import { ERR, RPL } from "../../irc/numerics.ts";
import { hostmask, isupportLines, SERVER, VERSION } from "../../irc/isupport.ts";
import {
  type AccountCheck,
  attemptLogin,
  attemptNickChange,
  loginChecked,
  type LoginOutcome,
  type NickOutcome,
  type RefusalOf,
  verifyAccount,
} from "../../login.ts";
import { describeBan } from "../../moderation.ts";
import { checkNewNick, foldNick } from "../../nick.ts";
import { cleanIrcText } from "../../irc/formatting.ts";
import { cutBytes } from "../../irc/message.ts";

/** The longest SASL response accepted, in base64 characters. */
export const SASL_MAX = 1200;
/** Most bytes of a real name (USER) kept. */
export const REALNAME_MAX = 100;

function cap(s: IrcSession, params: string[]): Promise<void> | void {
  const sub = params[0].toUpperCase();
  const reg = s.registration;
  const me = s.registered ? s.me : "*";
  switch (sub) {
    case "LS": {
      if (!s.registered) reg.capHold = true;
      reg.capVersion = Math.max(reg.capVersion, Number(params[1]) || 0);
      s.line(`:${SERVER} CAP ${me} LS :${capList(reg.capVersion)}`);
      return;
    }
    case "LIST":
      s.line(`:${SERVER} CAP ${me} LIST :${[...s.caps].join(" ")}`);
      return;
    case "REQ": {
      if (!s.registered) reg.capHold = true;
      const asked = (params[1] ?? "").split(" ").filter((c) => c !== "");
      const known = asked.every((c) => CAPS.has(c.startsWith("-") ? c.slice(1) : c));
      if (!known || asked.length === 0) return s.reply("CAP", me, "NAK", asked.join(" "));
      for (const c of asked) {
        if (c.startsWith("-")) s.caps.delete(c.slice(1));
        else s.caps.add(c);
      }
      s.capsChanged();
      s.reply("CAP", me, "ACK", asked.join(" "));
      return;
    }
    case "END":
      if (s.registered) return;
      reg.capHold = false;
      return register(s);
    default:
      s.numeric("410", sub, "Invalid CAP subcommand: use LS, LIST, REQ or END");
  }
}

async function nick(s: IrcSession, params: string[]): Promise<void> {
  const wanted = params[0] ?? "";
  if (wanted === "") return s.numeric(ERR.NONICKNAMEGIVEN, "No nickname given");
  const problem = checkNewNick(wanted);
  if (problem) return s.numeric(ERR.ERRONEUSNICKNAME, wanted, `Erroneous nickname: ${problem}`);
  if (!s.registered) {
    // While CAP negotiation is open, SASL may still prove the account: the login decides.
    const reg = s.registration;
    const holder = s.chat.find(wanted);
    if (holder && !reg.pass && !reg.capHold && foldNick(reg.account) !== holder.key) {
      return s.numeric(ERR.NICKNAMEINUSE, wanted, "Nickname is already in use");
    }
    s.registration.nick = wanted;
    return await register(s);
  }
  // login.ts decides, as at login: the right password takes a registered nick back from another connection.
  s.flush();
  answerNickChange(s, wanted, await attemptNickChange(s.chat, s, wanted, params[1]));
}

/** Answers a NICK change after registration: nothing when it happened, else 432 or 433 (a notice where IRC has none). */
function answerNickChange(s: IrcSession, wanted: string, result: NickOutcome): void {
  switch (result.kind) {
    case "in":
    case "same": // NICK to one's own nick: nothing to do
    case "gone":
      return;
    case "password":
      return s.numeric(ERR.NICKNAMEINUSE, wanted, `Nickname is registered: NICK ${wanted} <password>`);
    case "wrong-password":
      return s.numeric(ERR.NICKNAMEINUSE, wanted, "Password incorrect: your nick is unchanged");
    case "taken":
      return s.numeric(ERR.NICKNAMEINUSE, wanted, "Nickname is already in use");
    case "throttled":
      return s.numeric(ERR.NICKNAMEINUSE, wanted, throttledText(result));
    case "invalid":
    case "lookalike":
      return s.numeric(ERR.ERRONEUSNICKNAME, wanted, `Erroneous nickname: ${nickProblem(result)}`);
    case "banned":
      return s.numeric(ERR.ERRONEUSNICKNAME, wanted, bannedText(result));
    case "muted":
      return s.serverNotice("You are muted, so you cannot change nick.");
    case "not-registered":
      return s.serverNotice(`${result.nick} is not a registered nick, so it takes no password.`);
    case "busy":
      return s.serverNotice(`Cannot check the password now: ${result.why}.`);
  }
}

/** What is wrong with a nick, after `Erroneous nickname: ` (432). */
function nickProblem(result: RefusalOf<"invalid" | "lookalike">): string {
  return result.kind === "invalid" ? result.problem : `it looks like ${result.like}, a registered or logged-in nick`;
}

/** A ban's text: `The nick mallory is banned for good.` */
function bannedText(result: RefusalOf<"banned">): string {
  return `The nick ${result.nick} is banned ${describeBan(result)}`;
}

/** The throttle's text, with the wait. */
function throttledText(result: RefusalOf<"throttled">): string {
  return `Too many failed logins for ${result.nick} or from your address; try again in ${seconds(result.waitMs)} s.`;
}

/** Whole seconds to wait, rounded up. */
function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

function user(s: IrcSession, params: string[]): Promise<void> | void {
  if (s.registered) return s.numeric(ERR.ALREADYREGISTERED, "You may not reregister");
  s.registration.username = params[0];
  s.realname = cutBytes(cleanIrcText(params[3]).trim(), REALNAME_MAX);
  return register(s);
}

function pass(s: IrcSession, params: string[]): void {
  if (s.registered) return s.numeric(ERR.ALREADYREGISTERED, "You may not reregister");
  s.registration.pass = params[0];
}

async function authenticate(s: IrcSession, params: string[]): Promise<void> {
  const reg = s.registration;
  const data = params[0];
  if (!s.caps.has("sasl")) {
    return s.numeric(ERR.SASLFAIL, "SASL authentication failed: enable the sasl capability first");
  }
  if (s.registered || reg.account) return s.numeric(ERR.SASLALREADY, "You have already authenticated using SASL");
  if (data === "*") {
    reg.sasl = undefined;
    return s.numeric(ERR.SASLABORTED, "SASL authentication aborted");
  }
  if (reg.sasl === undefined) {
    if (data.toUpperCase() !== "PLAIN") {
      s.numeric(RPL.SASLMECHS, "PLAIN", "are available SASL mechanisms");
      return s.numeric(ERR.SASLFAIL, "SASL authentication failed");
    }
    reg.sasl = "";
    s.line("AUTHENTICATE +");
    return;
  }
  if (data !== "+") reg.sasl += data;
  if (reg.sasl.length > SASL_MAX) {
    reg.sasl = undefined;
    return s.numeric(ERR.SASLTOOLONG, "SASL message too long");
  }
  if (data.length === 400) return; // more follows
  const response = reg.sasl;
  reg.sasl = undefined;
  let fields: string[];
  try {
    fields = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(response), (c) => c.charCodeAt(0)))
      .split("\0");
  } catch {
    return s.numeric(ERR.SASLFAIL, "SASL authentication failed: the response is not base64 of UTF-8");
  }
  if (fields.length !== 3) {
    return s.numeric(ERR.SASLFAIL, "SASL authentication failed: PLAIN is authzid\\0authcid\\0password");
  }
  const [authzid, authcid, password] = fields;
  if (authzid !== "" && foldNick(authzid) !== foldNick(authcid)) {
    return s.numeric(ERR.SASLFAIL, "SASL authentication failed: the account and the authorisation name differ");
  }
  s.flush();
  const checked = await verifyAccount(s.chat, s, authcid, password);
  if (checked.kind !== "ok") {
    return s.numeric(ERR.SASLFAIL, `SASL authentication failed: ${saslProblem(checked, authcid)}`);
  }
  reg.account = checked.nick;
  const mask = hostmask(reg.nick || checked.nick);
  s.numeric(RPL.LOGGEDIN, mask, checked.nick, `You are now logged in as ${checked.nick}`);
  s.numeric(RPL.SASLSUCCESS, "SASL authentication successful");
}

/** Why SASL failed, after `SASL authentication failed: ` (904). */
function saslProblem(checked: Exclude<AccountCheck, { kind: "ok" }>, account: string): string {
  switch (checked.kind) {
    case "unknown":
      return `${account} is not a registered nick`;
    case "wrong-password":
      return "wrong password";
    case "throttled":
      return `too many failed logins; try again in ${seconds(checked.waitMs)} s`;
    case "banned":
      return "the nick is banned";
    case "busy":
      return "the server cannot check passwords just now; try again shortly";
    case "gone":
      return "closed";
  }
}

/** Registers the connection once NICK and USER are in and CAP negotiation is over. */
export async function register(s: IrcSession): Promise<void> {
  const reg = s.registration;
  if (s.registered || reg.busy || reg.capHold || (reg.nick === "" && !reg.account) || reg.username === "") return;
  reg.busy = true;
  s.flush();
  const nick = reg.account || reg.nick;
  let result: LoginOutcome;
  try {
    result = await logIn(s, nick);
  } finally {
    reg.busy = false;
  }
  reg.pass = "";
  if (s.closed) return;
  answerRegistration(s, nick, result);
}

/** The login of registration: to the account SASL proved, or to the nick with PASS if it is registered. */
async function logIn(s: IrcSession, nick: string): Promise<LoginOutcome> {
  const reg = s.registration;
  if (reg.account) return loginChecked(s.chat, s, reg.account, { seat: false });
  const account = await s.chat.store.account(foldNick(nick));
  return await attemptLogin(s.chat, s, nick, account && reg.pass ? reg.pass : undefined, { seat: false });
}

/** Answers registration's login: the welcome, or a numeric that says why not (465 ends the connection). */
function answerRegistration(s: IrcSession, nick: string, result: LoginOutcome): void {
  const reg = s.registration;
  // Refused: the client tries another nick (a ban or a busy server ends the connection instead).
  if (result.kind !== "in" && result.kind !== "banned" && result.kind !== "busy") reg.nick = "";
  switch (result.kind) {
    case "in":
      return welcome(s);
    case "invalid":
    case "lookalike":
      return s.numeric(ERR.ERRONEUSNICKNAME, nick, `Erroneous nickname: ${nickProblem(result)}`);
    case "taken":
      return s.numeric(ERR.NICKNAMEINUSE, nick, "Nickname is already in use");
    case "password":
      s.serverNotice(
        `${nick} is a registered nick: log in with SASL PLAIN (account ${nick}) or PASS, or choose another.`,
      );
      return s.numeric(ERR.NICKNAMEINUSE, nick, "Nickname is registered");
    case "busy":
      s.flush();
      s.end("password checks busy", "Cannot check the password now; please try again shortly.");
      return;
    case "banned":
      s.numeric(ERR.YOUREBANNEDCREEP, bannedText(result));
      s.flush();
      s.end(`nick ${nick} banned`, `Closing link: the nick ${nick} is banned`);
      return;
    case "throttled":
      return s.numeric(ERR.PASSWDMISMATCH, throttledText(result));
    case "wrong-password":
    case "not-registered":
    case "gone":
      return s.numeric(ERR.PASSWDMISMATCH, `Password incorrect for ${nick}`);
  }
}

/** The welcome: 001–005, LUSERS, the MOTD, then waiting mail. */
function welcome(s: IrcSession): void {
  const user = s.user!;
  const chat = s.chat;
  const { name } = chat.options;
  s.capsChanged();
  // The nick asked for may not be the one logged in to (SASL to another account, another spelling): say so first.
  const asked = s.registration.nick;
  if (asked && asked !== user.nick) s.line(`:${hostmask(asked)} NICK ${user.nick}`);
  s.numeric(RPL.WELCOME, `Welcome to the ${name} IRC network, ${user.nick}`);
  s.numeric(RPL.YOURHOST, `Your host is ${SERVER}, running version ${VERSION}`);
  s.numeric(RPL.CREATED, `This server was created ${new Date(s.server.created).toISOString()}`);
  s.numeric(RPL.MYINFO, SERVER, VERSION, "o", "bnqt", "bq");
  for (const tokens of isupportLines(name)) s.numeric(RPL.ISUPPORT, ...tokens, "are supported by this server");
  lusers(s);
  motd(s);
  if (user.operator) {
    s.line(`:${hostmask(user.nick)} MODE ${user.nick} :+o`);
    s.serverNotice("You are an operator here.");
  }
  s.flush();
  chat.deliverMail(user, s).catch((error) => {
    chat.log.error("mail delivery failed", { id: s.id, nick: user.nick, error: String(error) });
  });
}

/** LUSERS: 251, 252, 254, 255, 265, 266. */
export function lusers(s: IrcSession): void {
  const chat = s.chat;
  const users = chat.nicks.size;
  let ops = 0;
  for (const key of chat.ops.keys()) if (chat.nicks.get(key)?.operator) ops++; // a few, not every user
  let rooms = 0;
  for (const r of chat.rooms.list()) if (r.members.size > 0) rooms++;
  s.numeric(RPL.LUSERCLIENT, `There are ${users} users and 0 invisible on 1 server`);
  s.numeric(RPL.LUSEROP, String(ops), "operator(s) online");
  s.numeric(RPL.LUSERCHANNELS, String(rooms), "channels formed");
  s.numeric(RPL.LUSERME, `I have ${chat.sessions.size} clients and 0 servers`);
  s.numeric(RPL.LOCALUSERS, String(users), String(users), `Current local users ${users}`);
  s.numeric(RPL.GLOBALUSERS, String(users), String(users), `Current global users ${users}`);
}

/** The MOTD: what teaparty is and how its rooms work. */
export function motd(s: IrcSession): void {
  const { name, room } = s.chat.options;
  s.numeric(RPL.MOTDSTART, `- ${SERVER} message of the day -`);
  for (
    const line of [
      `Welcome to ${name}!`,
      "Here IRC, telnet and web users share the same rooms: channels are rooms.",
      `#${room} is the main room. /list shows the others; /join #name makes one.`,
      "Registered nicks log in with SASL PLAIN (or PASS); history: draft/chathistory.",
    ]
  ) s.numeric(RPL.MOTD, `- ${line}`);
  s.numeric(RPL.ENDOFMOTD, "End of /MOTD command");
}

/** The registration commands. */
export const registrationCommands: IrcCommand[] = [
  {
    name: "CAP",
    params: 1,
    before: true,
    help: "CAP LS [302] | REQ :<caps> | LIST | END: capability negotiation",
    run: (s, m) => cap(s, m.params),
  },
  {
    name: "NICK",
    params: 0, // no nick: 431, not 461
    before: true,
    help: "NICK <nick> [password]: choose or change your nick",
    run: (s, m) => nick(s, m.params),
  },
  {
    name: "USER",
    params: 4,
    before: true,
    help: "USER <user> 0 * :<real name>: part of registration",
    run: (s, m) => user(s, m.params),
  },
  {
    name: "PASS",
    params: 1,
    before: true,
    help: "PASS <password>: the password of a registered nick (before NICK/USER)",
    run: (s, m) => pass(s, m.params),
  },
  {
    name: "AUTHENTICATE",
    params: 1,
    before: true,
    help: "AUTHENTICATE PLAIN: SASL login to a registered nick",
    run: (s, m) => authenticate(s, m.params),
  },
];
