/**
 * The IRC command table: one entry per command with its least number of
 * parameters, whether it is allowed before registration, a help line and
 * its handler. The session (doors/irc/session.ts) checks the rest: 451 before
 * registration, 461 for missing parameters, 421 for unknown commands.
 * `HELP` is made from the table.
 *
 * @example
 * ```ts
 * import { ircCommands } from "./commands.ts";
 * ircCommands.get("PRIVMSG")?.help; // "PRIVMSG <#room|nick>[,…] :<text>: …"
 * ```
 * @module
 */
import type { IrcCommand, IrcSession } from "./session.ts";
import { ERR, RPL } from "../../irc/numerics.ts";
import { hostmask, SERVER, VERSION } from "../../irc/isupport.ts";
import { lusers, motd, registrationCommands } from "./registration.ts";
import { channelCommands } from "./channels.ts";
import { userCommands } from "./users.ts";
import { type HistoryQuery, parseHistoryRequest, readHistory } from "../../irc/history.ts";
import { channel, messageLines } from "../../dialects/irc.ts";
import { checkRoomName, roomKey } from "../../room_name.ts";
import { checkNick } from "../../nick.ts";
import { cleanIrcText } from "../../irc/formatting.ts";
import { splitText } from "../../irc/split.ts";

function quit(s: IrcSession, params: string[]): void {
  const said = params[0] ? splitText(cleanIrcText(params[0]).trim(), 300)[0] : "";
  const reason = said ? `Quit: ${said}` : "Quit";
  s.flush();
  s.quit(reason, `Closing link (${reason})`, "quit");
}

async function chathistory(s: IrcSession, params: string[]): Promise<void> {
  const q = parseHistoryRequest(params);
  if ("code" in q) return s.reply("FAIL", "CHATHISTORY", q.code, ...q.context, q.text);
  const batch = s.caps.has("batch") ? s.batchRef() : undefined;
  if (q.sub === "TARGETS") {
    // Private messages are not kept as history, and clients know their channels.
    if (batch) s.line(`:${SERVER} BATCH +${batch} draft/chathistory-targets`), s.line(`:${SERVER} BATCH -${batch}`);
    return;
  }
  const target = q.target;
  const chan = target.startsWith("#");
  if (chan ? checkRoomName(target) : checkNick(target)) {
    return s.reply("FAIL", "CHATHISTORY", "INVALID_TARGET", q.sub, target, "No such channel or nick");
  }
  const messages = chan ? await readHistory(s.chat.store, roomKey(target), q) : [];
  const name = chan ? channel(s.chat.rooms.get(target)?.name ?? target.slice(1)) : target;
  if (batch) s.line(`:${SERVER} BATCH +${batch} chathistory ${name}`);
  sendHistory(s, q, messages, name, batch);
  if (batch) s.line(`:${SERVER} BATCH -${batch}`);
}

function sendHistory(
  s: IrcSession,
  _q: HistoryQuery,
  messages: { id?: number; at: number; nick: string; kind: "chat" | "action"; text: string }[],
  chan: string,
  batch: string | undefined,
): void {
  const flags = s.flags;
  for (const m of messages) {
    const id = m.id === undefined ? undefined : String(m.id);
    s.line(
      messageLines(flags, m.at, id, undefined, hostmask(m.nick), chan, m.kind, m.text, "PRIVMSG", batch).slice(0, -2),
    );
  }
}

function help(s: IrcSession, params: string[]): void {
  const topic = (params[0] ?? "").toUpperCase();
  const list = [...ircCommands.values()];
  if (topic) {
    const c = ircCommands.get(topic);
    if (!c) return s.numeric(ERR.HELPNOTFOUND, topic, "No help for that topic");
    s.numeric(RPL.HELPSTART, topic, c.help);
    return s.numeric(RPL.ENDOFHELP, topic, "End of /HELP");
  }
  s.numeric(RPL.HELPSTART, "*", "teaparty IRC commands (HELP <command> for one):");
  for (const c of list) s.numeric(RPL.HELPTXT, "*", c.help);
  s.numeric(RPL.ENDOFHELP, "*", "End of /HELP");
}

const serverCommands: IrcCommand[] = [
  {
    name: "PING",
    params: 0, // checked here: an empty token (`PING :`) is a token, answered `PONG teaparty :`
    before: true,
    help: "PING <token>: the server answers PONG",
    run: (s, m) => {
      if (m.params.length === 0) return s.numeric(ERR.NEEDMOREPARAMS, "PING", "Not enough parameters");
      s.reply("PONG", SERVER, m.params[0]);
    },
  },
  { name: "PONG", params: 0, before: true, help: "PONG <token>: the answer to the server's PING", run: () => {} },
  { name: "QUIT", params: 0, before: true, help: "QUIT [:reason]: leave the server", run: (s, m) => quit(s, m.params) },
  { name: "LUSERS", params: 0, help: "LUSERS: how many are here", run: (s) => lusers(s) },
  { name: "MOTD", params: 0, help: "MOTD: the message of the day", run: (s) => motd(s) },
  {
    name: "VERSION",
    params: 0,
    help: "VERSION: the server's version",
    run: (s) => s.numeric(RPL.VERSION, VERSION, SERVER, "teaparty: one room engine for IRC, telnet and the web"),
  },
  {
    name: "TIME",
    params: 0,
    help: "TIME: the server's time (UTC)",
    run: (s) => s.numeric(RPL.TIME, SERVER, new Date().toUTCString()),
  },
  {
    name: "OPER",
    params: 2,
    help: "OPER: not used; operators are registered --op nicks, logged in with SASL or PASS",
    run: (s) =>
      s.numeric(ERR.NOOPERHOST, "No O-lines here: operators are registered --op nicks, logged in with their password"),
  },
  {
    name: "CHATHISTORY",
    params: 1,
    help: "CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN #room <msgid=…|timestamp=…> … <limit>: room history",
    run: (s, m) => chathistory(s, m.params),
  },
  { name: "HELP", params: 0, help: "HELP [command]: this list", run: (s, m) => help(s, m.params) },
];

/** Every IRC command by name. */
export const ircCommands: ReadonlyMap<string, IrcCommand> = new Map(
  [...registrationCommands, ...channelCommands, ...userCommands, ...serverCommands].map((c) => [c.name, c]),
);
