/**
 * IRC channel commands on teaparty's rooms: `JOIN` (several at once, and
 * `JOIN 0`), `PART`, `NAMES` (with no channel: each channel the client is
 * in, then `366 nick *`), `TOPIC`, `LIST`, `KICK`, `MODE` and `INVITE`.
 *
 * - A JOIN reply lists at most `--crowd` names: in a crowded room entries
 *   and leaves are summed up once a second rather than sent one by one, so
 *   clients cannot keep a live list anyway; `NAMES #room` lists everyone.
 * - Clients without `draft/chathistory` get the room's last `--history`
 *   lines after the JOIN (in a `chathistory` batch with `batch`).
 * - Modes: every room is `+nt` (members talk, operators set the topic).
 *   `+b`/`-b` ban or unban a nick (`nick`, `nick!*@*`) or an address
 *   (`*!*@1.2.3.4`) server-wide, as /ban does; `+q`/`-q` mute or unmute a
 *   nick, as /mute does. Other modes are refused with the reason. One
 *   MODE command applies at most `MODES` (4) changes with a parameter.
 * - KICK takes one channel and several nicks, or as many channels as nicks
 *   (pairwise, RFC 2812). Each kick follows teaparty's rule: out of a side
 *   room, out of the server from the main room (its channels see it QUIT
 *   with the kick's reason); a line-protocol user kicked out of a side room
 *   is moved to the main room.
 * - INVITE tells the invited user (IRC users get an INVITE line); rooms are
 *   open to all, so it only points the way.
 *
 * @example
 * ```ts
 * import { channelCommands } from "./channels.ts";
 * channelCommands.map((c) => c.name); // ["JOIN", "PART", "NAMES", ...]
 * ```
 * @module
 */
import type { IrcSession } from "./session.ts";
import type { IrcCommand } from "./session.ts";
import type { Room } from "../../rooms.ts";
import type { User } from "../../user.ts";
import type { CommandContext } from "../../commands/table.ts";
import { roomName } from "../../room_name.ts";
import { ERR, RPL } from "../../irc/numerics.ts";
import { CHANLIMIT, hostmask, KICKLEN, MODES, SERVER, TOPICLEN } from "../../irc/isupport.ts";
import { channel, fit, lineTags, messageLines } from "../../dialects/irc.ts";
import { telnetLines } from "../../dialects/telnet.ts";
import { cleanIrcText } from "../../irc/formatting.ts";
import { splitText } from "../../irc/split.ts";
import { checkNick, foldNick } from "../../nick.ts";
import { isAddress } from "../../moderation.ts";
import { sentAway } from "../../format.ts";

/** The room a `#name` parameter names, or undefined after replying 403. */
export function roomFor(s: IrcSession, name: string): Room | undefined {
  const room = name.startsWith("#") ? s.chat.rooms.get(name) : undefined;
  if (!room) s.numeric(ERR.NOSUCHCHANNEL, name, "No such channel");
  return room;
}

/** `@nick` for operators, `nick` for the rest. */
function prefixed(user: { nick: string; operator?: boolean }): string {
  return user.operator ? "@" + user.nick : user.nick;
}

/** 353 lines for some members (you first, when not all are listed), then 366. */
export function namesReply(s: IrcSession, room: Room, limit = Infinity): void {
  const chan = channel(room.name);
  const names: string[] = [];
  const me = s.user;
  const some = limit < room.members.size;
  if (me && room.members.has(me) && some) names.push(prefixed(me));
  for (const m of room.members) {
    if (names.length >= limit) break;
    if (m === me && some) continue;
    names.push(prefixed(m as User));
  }
  s.numericList(RPL.NAMREPLY, ["=", chan], names);
  s.numeric(RPL.ENDOFNAMES, chan, "End of /NAMES list");
}

async function join(s: IrcSession, params: string[]): Promise<void> {
  const user = s.user!;
  const chat = s.chat;
  if (params[0] === "0") {
    for (const room of [...user.rooms]) leave(s, room);
    return;
  }
  for (const name of params[0].split(",")) {
    if (name === "") continue;
    const problem = name.startsWith("#") ? chat.rooms.checkName(name) : "channel names start with #";
    if (problem) {
      s.numeric(ERR.NOSUCHCHANNEL, name, `No such channel: ${problem}`);
      continue;
    }
    const present = chat.rooms.get(name);
    if (present && user.rooms.has(present)) continue;
    if (user.rooms.size >= CHANLIMIT) {
      s.numeric(ERR.TOOMANYCHANNELS, name, `You have joined too many channels (at most ${CHANLIMIT})`);
      continue;
    }
    s.flush();
    const room = await chat.join(user, roomName(name), 0);
    if (s.closed || !user.rooms.has(room)) return;
    const crowd = chat.options.crowd;
    namesReply(s, room, crowd);
    if (room.members.size > crowd) {
      s.serverNotice(
        `${channel(room.name)} has ${room.members.size} members; the list shows ${crowd}, and entries and ` +
          `leaves are summed up once a second. NAMES ${channel(room.name)} lists everyone.`,
      );
    }
    if (!s.caps.has("draft/chathistory") && chat.options.history > 0) await replay(s, room);
    s.flush();
  }
}

/** The last `--history` lines of a room the user has not seen, after a JOIN. */
async function replay(s: IrcSession, room: Room): Promise<void> {
  const seen = s.user?.seen?.get(room.key) ?? 0;
  const messages = (await s.chat.store.recent(room.key, s.chat.options.history)).filter((m) => (m.id ?? 0) > seen);
  if (messages.length === 0) return;
  const batch = s.caps.has("batch") ? s.batchRef() : undefined;
  if (batch) s.line(`:${SERVER} BATCH +${batch} chathistory ${channel(room.name)}`);
  const flags = s.flags;
  const chan = channel(room.name);
  for (const m of messages) {
    s.line(
      messageLines(flags, m.at, idText(m.id), undefined, hostmask(m.nick), chan, m.kind, m.text, "PRIVMSG", batch)
        .slice(0, -2),
    );
  }
  if (batch) s.line(`:${SERVER} BATCH -${batch}`);
  // Seen now, even in a room made afresh (its lastId starts at 0) where nothing more is said.
  const newest = messages.at(-1)?.id;
  if (newest !== undefined) s.user?.saw(room.key, newest);
}

const idText = (id: number | undefined) => id === undefined ? undefined : String(id);

function part(s: IrcSession, params: string[]): void {
  const user = s.user!;
  const reason = params[1] ? splitText(cleanIrcText(params[1]).trim(), 300)[0] || undefined : undefined;
  for (const name of params[0].split(",")) {
    if (name === "") continue;
    const room = roomFor(s, name);
    if (!room) continue;
    if (!user.rooms.has(room)) {
      s.numeric(ERR.NOTONCHANNEL, name, "You're not on that channel");
      continue;
    }
    leave(s, room, reason);
  }
}

/** Takes the user out of a room: the others see the PART from the room, the user its own. */
function leave(s: IrcSession, room: Room, reason?: string): void {
  const user = s.user!;
  s.flush();
  s.chat.part(user, room, false, reason);
  const head = `${lineTags(s.flags, Date.now())}:${hostmask(user.nick)} PART ${channel(room.name)}`;
  s.line(reason ? `${head} :${fit(head + " :", reason)}` : head);
  s.flush();
}

function names(s: IrcSession, params: string[]): void {
  if (params.length === 0 || params[0] === "") {
    // No channel: the lists of the channels the client is in (what irssi and WeeChat show), then the end of all.
    for (const room of s.user!.rooms) namesReply(s, room);
    return s.numeric(RPL.ENDOFNAMES, "*", "End of /NAMES list");
  }
  const name = params[0].split(",")[0];
  const room = name.startsWith("#") ? s.chat.rooms.get(name) : undefined;
  if (!room) return s.numeric(RPL.ENDOFNAMES, name, "End of /NAMES list");
  namesReply(s, room);
}

async function topic(s: IrcSession, params: string[]): Promise<void> {
  const user = s.user!;
  const chat = s.chat;
  const room = roomFor(s, params[0]);
  if (!room) return;
  const chan = channel(room.name);
  if (params.length < 2) {
    const current = await chat.store.topic(room.key);
    if (!current) return s.numeric(RPL.NOTOPIC, chan, "No topic is set");
    s.numeric(RPL.TOPIC, chan, fit(`:${SERVER} 332 ${s.me} ${chan} :`, current.text));
    s.numeric(RPL.TOPICWHOTIME, chan, current.by, String(Math.floor(current.at / 1000)));
    return;
  }
  if (!user.rooms.has(room)) return s.numeric(ERR.NOTONCHANNEL, chan, "You're not on that channel");
  if (!s.chat.isOperator(user)) {
    return s.numeric(ERR.CHANOPRIVSNEEDED, chan, "You're not a channel operator (teaparty operators are --op nicks)");
  }
  const text = splitText(cleanIrcText(params[1]).trim(), TOPICLEN)[0];
  const at = Date.now();
  await chat.store.saveTopic({ room: room.key, text, by: user.nick, at });
  s.flush();
  const event = { type: "topic", room: room.name, text, by: user.nick, at, changed: true } as const;
  chat.journal.announce(room, event);
  chat.log.info("moderation", { op: user.nick, action: telnetLines(event).join(" ").replace(/^\*\*\* /, "") });
}

async function list(s: IrcSession, params: string[]): Promise<void> {
  const chat = s.chat;
  const wanted = params[0] ? new Set(params[0].split(",").map((n) => n.toLowerCase())) : undefined;
  s.numeric(RPL.LISTSTART, "Channel", "Users  Name");
  for (const room of chat.rooms.list()) {
    if (room.members.size === 0 && room !== chat.rooms.main) continue;
    const chan = channel(room.name);
    if (wanted && !wanted.has(chan.toLowerCase())) continue;
    const current = await chat.store.topic(room.key);
    s.numeric(
      RPL.LIST,
      chan,
      String(room.members.size),
      fit(`:${SERVER} 322 ${s.me} ${chan} 99999 :`, current?.text ?? ""),
    );
  }
  s.numeric(RPL.LISTEND, "End of /LIST");
}

/**
 * `KICK #a nick1,nick2` (one channel, several users) or `KICK #a,#b nick1,nick2`
 * (as many channels as users, taken pairwise: RFC 2812 3.2.8); other counts
 * get 461. Each pair goes the way of a single KICK ({@linkcode kickFrom}).
 */
async function kick(s: IrcSession, params: string[]): Promise<void> {
  const chans = params[0].split(",").filter((c) => c !== "");
  const nicks = params[1].split(",").filter((n) => n !== "");
  const reason = params[2] ? splitText(cleanIrcText(params[2]).trim(), KICKLEN)[0] : "";
  if (chans.length === 0 || nicks.length === 0) {
    return s.numeric(ERR.NEEDMOREPARAMS, "KICK", `Not enough parameters (no ${chans.length ? "nick" : "channel"})`);
  }
  if (chans.length === 1) return kickFrom(s, chans[0], nicks, reason);
  if (chans.length !== nicks.length) {
    return s.numeric(
      ERR.NEEDMOREPARAMS,
      "KICK",
      `Give one channel, or as many channels as nicks (${chans.length} channels, ${nicks.length} nick${
        nicks.length === 1 ? "" : "s"
      })`,
    );
  }
  for (let i = 0; i < chans.length && !s.closed; i++) await kickFrom(s, chans[i], [nicks[i]], reason);
}

/** Kicks `nicks` out of the channel `name`: 403, 442 or 482 once for the channel, 441 for each nick not in it. */
async function kickFrom(s: IrcSession, name: string, nicks: string[], reason: string): Promise<void> {
  const user = s.user!;
  const chat = s.chat;
  const room = roomFor(s, name);
  if (!room) return;
  const chan = channel(room.name);
  if (!user.rooms.has(room)) return s.numeric(ERR.NOTONCHANNEL, chan, "You're not on that channel");
  if (!s.chat.isOperator(user)) {
    return s.numeric(ERR.CHANOPRIVSNEEDED, chan, "You're not a channel operator (teaparty operators are --op nicks)");
  }
  for (const nick of nicks) {
    const other = chat.find(nick);
    if (!other || !other.rooms.has(room)) {
      s.numeric(ERR.USERNOTINCHANNEL, nick, chan, "They aren't on that channel");
      continue;
    }
    if (other === user) {
      s.serverNotice("You cannot kick yourself.");
      continue;
    }
    s.flush();
    const event = { type: "kick", room: room.name, nick: other.nick, by: user.nick, reason } as const;
    chat.journal.announce(room, event);
    chat.log.info("moderation", {
      op: user.nick,
      action: telnetLines(event).join(" ").replace(/^\*\*\* /, ""),
      target: other.nick,
    });
    if (other.remote) {
      chat.peers.kick(other, room, user.nick, reason, true); // its server does the rest
      continue;
    }
    const why = reason ? `: ${reason}` : ".";
    const session = chat.sessionOf(other);
    if (room === chat.rooms.main) {
      // Out of the server: its channels see it QUIT with the kick's reason, not a plain "Quit".
      const quit = sentAway("Kicked", user.nick, reason);
      session?.end(`kicked by ${user.nick}`, `You were kicked by ${user.nick}${why}`, undefined, quit);
    } else if (other.rooms.size > 1 || isIrc(other)) {
      chat.part(other, room);
    } else {
      chat.journal.tell(other, { type: "notice", text: `You were kicked from ${room.name} by ${user.nick}${why}` });
      await chat.move(other, chat.rooms.main.name);
    }
  }
}

/** An IRC user stays out of the room it was kicked from; it is not moved elsewhere. */
function isIrc(user: User): boolean {
  return (user.link as { door?: string }).door?.startsWith("irc") === true;
}

/** Runs a line-protocol operator command (`ban`, `mute` …) for an IRC user, with its replies as notices. */
async function runCommand(s: IrcSession, name: string, args: string[], room?: Room): Promise<void> {
  const { commands } = s.server;
  const command = commands.find(name);
  if (!command) return s.serverNotice(`This server has no ${name} command.`);
  s.flush();
  const ctx: CommandContext = {
    session: s,
    get user(): User {
      return s.user!;
    },
    chat: s.chat,
    commands,
    raw: args.join(" "),
    reply: (text) => s.notice(text),
    fail: (text) => s.fail(text),
    send: (event) => s.send(event),
    room,
  };
  await command.run(ctx, args);
}

/** What a ban mask names: a nick (`nick`, `nick!*@*`, `nick!*`), an address (`*!*@1.2.3.4`), or nothing teaparty bans. */
export function banTarget(mask: string): string | undefined {
  const m = /^([^!@]+)(?:!\*(?:@\*)?)?$/.exec(mask);
  if (m && m[1] !== "*" && !checkNick(m[1])) return m[1];
  const a = /^(?:\*!)?\*@(.+)$/.exec(mask);
  if (a && isAddress(a[1])) return a[1];
  return undefined;
}

async function mode(s: IrcSession, params: string[]): Promise<void> {
  const user = s.user!;
  const chat = s.chat;
  const target = params[0];
  if (!target.startsWith("#")) {
    if (foldNick(target) !== user.key) {
      if (!chat.find(target)) return s.numeric(ERR.NOSUCHNICK, target, "No such nick/channel");
      return s.numeric(ERR.USERSDONTMATCH, "Can't change mode for other users");
    }
    if (params.length < 2) return s.numeric(RPL.UMODEIS, user.operator ? "+o" : "+");
    // +i and +w, which clients send on connecting, change nothing and need no answer.
    const changes = params[1].replace(/[+\-iw]/g, "");
    if (changes !== "") {
      s.numeric(ERR.UMODEUNKNOWNFLAG, `Unknown MODE flag: teaparty has no user modes to set (o comes from --op)`);
    }
    return;
  }
  const room = roomFor(s, target);
  if (!room) return;
  const chan = channel(room.name);
  if (params.length < 2) return s.numeric(RPL.CHANNELMODEIS, chan, "+nt");
  let sign = "+";
  let arg = 2;
  let changes = 0; // with a parameter: at most MODES of them, the rest ignored (as other servers do)
  const listed = new Set<string>(); // each list once: "MODE #room bbbb…" must not send the ban list hundreds of times
  for (const c of params[1]) {
    if (c === "+" || c === "-") {
      sign = c;
      continue;
    }
    if (c === "b" || c === "q") {
      const value = params[arg++];
      if (value === undefined) {
        if (!listed.has(c)) await listMode(s, room, c);
        listed.add(c);
        continue;
      }
      if (++changes > MODES) break;
      if (!s.chat.isOperator(user)) {
        s.numeric(ERR.CHANOPRIVSNEEDED, chan, "You're not a channel operator (teaparty operators are --op nicks)");
        continue;
      }
      const who = banTarget(value);
      if (!who || (c === "q" && isAddress(who))) {
        s.numeric(
          "696",
          chan,
          c,
          value,
          c === "b"
            ? "teaparty bans a nick (nick!*@*) or an address (*!*@1.2.3.4), not a pattern"
            : "teaparty mutes a nick (nick!*@*), not a pattern or an address",
        );
        continue;
      }
      const name = c === "b" ? (sign === "+" ? "ban" : "unban") : (sign === "+" ? "mute" : "unmute");
      await runCommand(s, name, name === "ban" || name === "mute" ? [who, ""] : [who], room);
      continue;
    }
    // A mode with a parameter (o, in PREFIX; k, l to set, v, e, I as RFC 2812 has them) takes its parameter
    // with it, even refused: "+ob alice bob" must not ban alice.
    if (c === "o" || c === "v" || c === "k" || c === "e" || c === "I" || (c === "l" && sign === "+")) arg++;
    if ((c === "n" || c === "t") && sign === "+") continue; // so they are
    const why = c === "n" || c === "t"
      ? "every teaparty room is +nt"
      : c === "o" || c === "v"
      ? "operators are the server's --op nicks, in every room"
      : c === "m"
      ? "teaparty mutes people, not rooms: MODE #room +q nick"
      : "teaparty rooms have no such mode";
    s.numeric(ERR.UNKNOWNMODE, c, `is not a mode here: ${why}`);
  }
}

async function listMode(s: IrcSession, room: Room, c: "b" | "q"): Promise<void> {
  const chat = s.chat;
  const chan = channel(room.name);
  const op = chat.isOperator(s.user);
  if (c === "b") {
    for (const ban of await chat.store.bans()) {
      if (ban.kind === "ip" && !op) continue;
      if (!chat.moderation.banned(ban.kind, ban.value)) continue;
      const mask = ban.kind === "ip" ? `*!*@${ban.value}` : `${ban.value}!*@*`;
      s.numeric(RPL.BANLIST, chan, mask, ban.by, String(Math.floor(ban.at / 1000)));
    }
    return s.numeric(RPL.ENDOFBANLIST, chan, "End of channel ban list");
  }
  for (const mute of await chat.store.mutes()) {
    if (!chat.moderation.muted(mute.key)) continue;
    s.numeric(RPL.QUIETLIST, chan, "q", `${mute.key}!*@*`, mute.by, "0");
  }
  s.numeric(RPL.ENDOFQUIETLIST, chan, "q", "End of channel quiet list");
}

function invite(s: IrcSession, params: string[]): void {
  const user = s.user!;
  const chat = s.chat;
  const [nick, name] = params;
  const other = chat.find(nick);
  if (!other) return s.numeric(ERR.NOSUCHNICK, nick, "No such nick/channel");
  const room = roomFor(s, name);
  if (!room) return;
  const chan = channel(room.name);
  if (!user.rooms.has(room)) return s.numeric(ERR.NOTONCHANNEL, chan, "You're not on that channel");
  if (other.rooms.has(room)) return s.numeric("443", other.nick, chan, "is already on channel");
  s.numeric(RPL.INVITING, other.nick, chan);
  s.flush();
  if (other.ignores?.has(user.key)) return; // as a private message to someone who ignores you: not delivered
  const link = other.link as Partial<IrcSession>;
  if (typeof link.line === "function" && typeof link.flush === "function") {
    const head = `${lineTags(link.flags ?? 0, Date.now())}:${hostmask(user.nick)} INVITE ${other.nick} ${chan}`;
    link.line(head);
    link.flush();
  } else {
    chat.journal.tell(other, { type: "notice", text: `${user.nick} invites you to ${room.name}: /join ${room.name}` });
  }
}

/** The channel commands. */
export const channelCommands: IrcCommand[] = [
  {
    name: "JOIN",
    params: 1,
    help: "JOIN #a,#b | JOIN 0: enter rooms (made if needed), or leave them all",
    run: (s, m) => join(s, m.params),
  },
  { name: "PART", params: 1, help: "PART #a,#b [:reason]: leave rooms", run: (s, m) => part(s, m.params) },
  {
    name: "NAMES",
    params: 0,
    help: "NAMES [#room]: who is in a room (no room: each you are in)",
    run: (s, m) => names(s, m.params),
  },
  {
    name: "TOPIC",
    params: 1,
    help: "TOPIC #room [:text]: show, or (operators) set, a room's topic",
    run: (s, m) => topic(s, m.params),
  },
  {
    name: "LIST",
    params: 0,
    help: "LIST [#a,#b]: the rooms, their sizes and topics",
    run: (s, m) => list(s, m.params),
  },
  {
    name: "KICK",
    params: 2,
    help: "KICK #room nick[,nick] [:reason] | KICK #a,#b nick1,nick2: (operators) send someone out",
    run: (s, m) => kick(s, m.params),
  },
  {
    name: "MODE",
    params: 1,
    help: "MODE #room [+b|-b|+q|-q mask]: room modes, bans, mutes; MODE nick",
    run: (s, m) => mode(s, m.params),
  },
  { name: "INVITE", params: 2, help: "INVITE nick #room: point someone to a room", run: (s, m) => invite(s, m.params) },
];
