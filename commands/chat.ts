/**
 * The built-in command table. Each entry is a whole command: name, aliases,
 * bare form, where it is allowed, argument shape, help text and handler.
 * To add a command, add an entry here (or pass one to the server's
 * `commands` option).
 *
 * @example
 * ```ts
 * import { builtinCommands } from "./chat.ts";
 * builtinCommands.map((c) => c.name); // ["login", "logout", "help", "say", ...]
 * ```
 * @module
 */
import { type Command, type CommandContext, type CommandTable, findUser } from "./table.ts";
import type { User } from "../user.ts";
import { formatDuration } from "../moderation.ts";
import { formatTime } from "../format.ts";
import type { Room } from "../rooms.ts";
import { roomName } from "../room_name.ts";
import { foldNick } from "../nick.ts";
import { changeNick, login } from "../login.ts";
import { accountCommands } from "./account.ts";
import { moderationCommands } from "./moderation.ts";
import { redrawCommand } from "./redraw.ts";

/** The most lines one /history shows. */
export const HISTORY_LIMIT = 200;
/** How many names a listing shows before it says "and N more". */
export const LIST_LIMIT = 100;
/** How many rooms /rooms lists (the biggest) before it says "and N more". */
export const ROOMS_LIMIT = 50;
/** The widest line /help writes. */
export const HELP_WIDTH = 80;

/**
 * Reads `YYYY-MM-DD HH:MM[:SS]` (UTC) or an ISO time; undefined if
 * unreadable or impossible (February 30th, 24:00), never rolled over.
 *
 * @example
 * ```ts
 * import { parseTime } from "./chat.ts";
 * parseTime("2026-11-23 12:00"); // Date.UTC(2026, 10, 23, 12)
 * parseTime("2026-02-30 00:00"); // undefined
 * ```
 */
export function parseTime(text: string): number | undefined {
  const t = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(t);
  if (!m) return undefined;
  const [year, month, day] = m[1].split("-").map(Number);
  const [hour, minute, second = 0] = (m[2] ?? "00:00").split(":").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined; // no such day
  if (hour > 23 || minute > 59 || second >= 60) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2] ?? "00:00"}${m[3] ?? "Z"}`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The first {@linkcode LIST_LIMIT} nicks of some members, sorted. */
export function listing(members: Iterable<{ nick: string }>): string[] {
  const all = [...members].map((m) => m.nick).sort((a, b) => a.localeCompare(b));
  return all.slice(0, LIST_LIMIT);
}

function say(ctx: CommandContext, kind: "chat" | "action", text: string): void {
  const refusal = ctx.chat.say(ctx.user, kind, text);
  if (refusal) ctx.fail(refusal);
}

// Control characters that cleaning would remove from a nick (the line
// editing keys Backspace, DEL and Ctrl-U are the user's own editing).
// deno-lint-ignore no-control-regex
const controls = /[\x00-\x07\x0a-\x14\x16-\x1f\x80-\x9f]/gu;

/** Refuses a nick argument that held control characters before the line was cleaned. */
function controlsIn(ctx: CommandContext, what: string): boolean {
  const found = ctx.raw.match(controls);
  if (!found) return false;
  const codes = [...new Set(found)].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`);
  ctx.fail(`Cannot ${what}: a nick may not contain control characters (${codes.join(", ")}).`);
  return true;
}

/** Wraps `text` into lines of at most `width` columns. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** The /help lines for some commands: usage and help on one line when it fits in {@linkcode HELP_WIDTH}. */
export function helpLines(table: CommandTable, usable: readonly Command[]): string[] {
  const prefix = "***   ";
  const width = Math.min(24, Math.max(...usable.map((c) => table.usage(c).length)));
  const out: string[] = [];
  for (const c of usable) {
    const usage = table.usage(c);
    const aliases = c.aliases?.length ? ` (also ${c.aliases.map((a) => "/" + a).join(", ")})` : "";
    const help = c.help + aliases;
    const line = `${prefix}${usage.padEnd(width)}  ${help}`;
    if (line.length <= HELP_WIDTH && usage.length <= width) {
      out.push(line);
      continue;
    }
    const indent = " ".repeat(prefix.length + 4);
    out.push(`${prefix}${usage}`);
    for (const part of wrap(help, HELP_WIDTH - indent.length - 3)) out.push(`***${indent}${part}`);
  }
  return out.map((l) => l.slice(4)); // the session adds "*** " back as a notice
}

function idle(user: User, now = Date.now()): string {
  const seconds = Math.floor((now - user.active) / 1000);
  return seconds < 60 ? `${seconds}s` : formatDuration(seconds * 1000);
}

/** The chat commands, in the order `/help` lists them. */
export const chatCommands: Command[] = [
  {
    name: "login",
    bare: "leading",
    where: "guest",
    secret: true,
    args: "<nick> [password]",
    help: "log in with a nick (1-32 letters, digits and _-.[]{}|^, starting with a letter)",
    async run(ctx, [nick, password]) {
      if (controlsIn(ctx, "log in")) return;
      await login(ctx.chat, ctx.session, nick, password);
    },
  },
  {
    name: "logout",
    aliases: ["quit"],
    bare: "alone",
    where: "any",
    args: "",
    help: "say goodbye and disconnect",
    run({ session }) {
      const farewell = session.loggedIn ? `Goodbye, ${session.nick}!` : "Goodbye!";
      session.end("logout", farewell);
    },
  },
  {
    name: "help",
    aliases: ["h"],
    bare: "alone",
    where: "any",
    args: "",
    help: "list the commands you can use here",
    run({ session, chat, commands, reply }) {
      const usable = commands.all.filter((c) =>
        (c.where === "any" || (c.where === "member") === session.loggedIn) &&
        (!c.op || chat.isOperator(session.user))
      );
      reply(session.loggedIn ? "Commands:" : "Commands before you log in:");
      for (const line of helpLines(commands, usable)) reply(line);
      if (session.loggedIn) {
        reply("Any other line is said to the room. @nick <text> sends a private message.");
      }
    },
  },
  {
    name: "say",
    bare: "leading",
    where: "member",
    talk: true,
    args: "<text...>",
    help: "say something to the room (a plain line does the same)",
    run(ctx, [text]) {
      say(ctx, "chat", text);
    },
  },
  {
    name: "me",
    where: "member",
    talk: true,
    args: "<action...>",
    help: "act: /me waves shows * <you> waves",
    run(ctx, [text]) {
      say(ctx, "action", text);
    },
  },
  {
    name: "emote",
    bare: "leading",
    where: "member",
    talk: true,
    args: "<action...>",
    help: "the same as /me, without a slash (for clients such as TinyFugue that keep /commands)",
    run(ctx, [text]) {
      say(ctx, "action", text);
    },
  },
  {
    name: "msg",
    where: "member",
    args: "<nick> <text...>",
    help: "private message to one user (also @nick <text>)",
    async run(ctx, [nick, text]) {
      const sender = ctx.user.registered ? ctx.user.key : `address ${ctx.session.ip}`;
      const result = await ctx.chat.tell(ctx.user, nick, text, false, sender);
      if (!result.sent) return result.error ? ctx.fail(result.reply) : ctx.reply(result.reply);
      const other = ctx.chat.find(result.to);
      if (other?.away) ctx.reply(`${other.nick} is away: ${other.away}`);
    },
  },
  {
    name: "look",
    bare: "alone",
    where: "member",
    args: "",
    help: "who is in this room",
    run({ user, send, fail }) {
      const room = user.room;
      if (!room) return fail("You are not in a room; /join one first.");
      send({ type: "members", room: room.name, nicks: listing(room.members), count: room.members.size });
    },
  },
  {
    name: "who",
    bare: "alone",
    where: "member",
    args: "",
    help: "who is logged in, room by room",
    run({ chat, send }) {
      const rooms = chat.rooms.list().filter((r) => r.members.size > 0).map((r) => ({
        room: r.name,
        nicks: listing(r.members),
        count: r.members.size,
      }));
      send({ type: "who", count: chat.nicks.size, rooms });
    },
  },
  {
    name: "whois",
    where: "member",
    args: "<nick>",
    help: "about a user: room, idle time, registered, operator, away",
    run(ctx, [nick]) {
      const other = findUser(ctx, nick);
      if (!other) return;
      const parts = [`in ${[...other.rooms].map((r) => r.name).join(", ") || "no room"}`, `idle ${idle(other)}`];
      parts.push(other.registered ? "registered" : "not registered");
      if (ctx.chat.isOperator(other)) parts.push("operator");
      if (ctx.chat.isOperator(ctx.user)) {
        const s = ctx.chat.sessionOf(other);
        if (s) parts.push(`from ${s.ip} (${s.door})`);
      }
      if (other.away) parts.push(`away: ${other.away}`);
      ctx.reply(`${other.nick}: ${parts.join(", ")}; logged in ${formatTime(other.since)} UTC.`);
    },
  },
  {
    name: "away",
    where: "member",
    args: "[message...]",
    help: "mark yourself away (shown in /whois and to those who message you); no message: back",
    run({ user, chat, reply, fail }, [message]) {
      if (!message && !user.away) return fail("You were not marked as away; /away <message> marks you.");
      user.away = message;
      chat.announceAround(user, { type: "away", nick: user.nick, text: message, at: Date.now() });
      reply(message ? `You are marked as away: ${message}` : "You are back (no longer marked as away).");
    },
  },
  {
    name: "nick",
    where: "member",
    secret: true,
    args: "<nick> [password]",
    help: "change your nick (a registered nick needs its password)",
    async run(ctx, [nick, password]) {
      if (controlsIn(ctx, "change nick")) return;
      await changeNick(ctx.chat, ctx.session, nick, password);
    },
  },
  {
    name: "join",
    where: "member",
    args: "<room>",
    help: "go to a room (created if it does not exist)",
    async run({ user, chat, reply, fail }, [name]) {
      const problem = chat.rooms.checkName(name);
      if (problem) return fail(`Cannot join "${name}": ${problem}.`);
      if (user.room && user.room === chat.rooms.get(name)) {
        return fail(`You are already in ${user.room.name}.`);
      }
      const room = await chat.move(user, roomName(name));
      reply(where(room));
    },
  },
  {
    name: "leave",
    where: "member",
    args: "",
    help: "go back to the main room",
    async run({ user, chat, reply, fail }) {
      if (user.room === chat.rooms.main) {
        return fail(`You are already in ${chat.rooms.main.name}, the main room.`);
      }
      const room = await chat.move(user, chat.rooms.main.name);
      reply(where(room));
    },
  },
  {
    name: "rooms",
    where: "member",
    args: "",
    help: "list the rooms and how many are in each",
    run({ chat, send }) {
      const [main, ...others] = chat.rooms.list();
      others.sort((a, b) => b.members.size - a.members.size); // stable: rooms of one size keep their order
      const shown = [main, ...others.slice(0, ROOMS_LIMIT - 1)];
      send({
        type: "rooms",
        rooms: shown.map((r) => ({ room: r.name, count: r.members.size })),
        more: chat.rooms.size - shown.length,
      });
    },
  },
  {
    name: "history",
    where: "member",
    args: "[count] [before...]",
    help: `more of this room's history: /history 50, or /history 50 before 2026-11-23 12:00 (UTC)`,
    async run({ user, chat, reply, fail }, [count, rest]) {
      const n = count === "" ? chat.options.history || 20 : /^\d{1,6}$/.test(count) ? Number(count) : NaN; // not 0x10, 1e3
      if (!Number.isInteger(n) || n < 1) return fail(`"${count}" is not a number of lines (1-${HISTORY_LIMIT}).`);
      let before: number | undefined;
      if (rest !== "") {
        const m = /^before\s+(.+)$/i.exec(rest);
        before = m ? parseTime(m[1]) : undefined;
        if (before === undefined) {
          return fail(`Cannot read "${rest}": write before YYYY-MM-DD HH:MM[:SS] (UTC), as shown in history lines.`);
        }
      }
      const room = user.room;
      if (!room) return fail("You are not in a room; /join one first.");
      const shown = Math.min(n, HISTORY_LIMIT);
      if (n > HISTORY_LIMIT) reply(`At most ${HISTORY_LIMIT} lines at a time; showing ${HISTORY_LIMIT}.`);
      reply(`History of ${room.name}${before !== undefined ? ` before ${formatTime(before)} UTC` : ""}:`);
      const sent = await chat.showHistory(user, room, shown, before);
      reply(sent === 0 ? "No history there." : `End of history (${sent} line${sent === 1 ? "" : "s"}).`);
    },
  },
  {
    name: "quiet",
    aliases: ["i"],
    where: "member",
    args: "",
    help: "toggle quiet mode: no room chat (private messages and notices still come)",
    run({ user, reply }) {
      user.quiet = !user.quiet;
      reply(
        user.quiet
          ? "Quiet mode on: you will not see room chat. /quiet turns it off."
          : "Quiet mode off: you see room chat again.",
      );
    },
  },
  {
    name: "ignore",
    where: "member",
    args: "[nick]",
    help: "hide a user's chat and private messages, without telling them (no nick: list); " +
      "for a guest, until they leave the server",
    run(ctx, [nick]) {
      const { user, reply } = ctx;
      if (nick === "") {
        const list = [...(user.ignores ?? [])];
        return reply(list.length ? `You ignore: ${list.join(", ")}` : "You ignore nobody.");
      }
      const other = findUser(ctx, nick);
      if (!other) return;
      if (other === user) return ctx.fail("You cannot ignore yourself.");
      ctx.chat.ignores.add(user, other);
      const until = other.registered
        ? `it stays on the registered nick ${other.nick}`
        : `${other.nick} is a guest: it ends when they leave the server`;
      reply(`You now ignore ${other.nick} (they are not told; ${until}). /unignore ${other.nick} undoes it.`);
    },
  },
  {
    name: "unignore",
    where: "member",
    args: "<nick>",
    help: "stop ignoring a user",
    run({ user, chat, reply, fail }, [nick]) {
      const key = foldNick(nick);
      if (!chat.ignores.remove(user, key, chat.nicks.get(key))) return fail(`You were not ignoring ${nick}.`);
      reply(`You no longer ignore ${nick}.`);
    },
  },
  redrawCommand,
];

/** "You are now in garden, with 3 others." */
function where(room: Room): string {
  const others = room.members.size - 1;
  const company = others === 0 ? "alone" : `with ${others} other${others === 1 ? "" : "s"}`;
  return `You are now in ${room.name}, ${company}.`;
}

/** Every built-in command, in the order `/help` lists them. */
export const builtinCommands: Command[] = [...chatCommands, ...accountCommands, ...moderationCommands];
