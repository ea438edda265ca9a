/**
 * The built-in command table. Each entry is a whole command: name, aliases,
 * bare form, where it is allowed, argument shape, help text and handler.
 * To add a command, add an entry here (or pass one to the server's
 * `commands` option).
 *
 * @example
 * ```ts
 * import { builtinCommands } from "./commands.ts";
 * builtinCommands.map((c) => c.name); // ["login", "logout", "help", "say", ...]
 * ```
 * @module
 */
import { type Command, type CommandContext, findUser } from "./dispatch.ts";
import type { Session } from "./session.ts";
import { action, chat, formatTime, privateFrom, privateTo } from "./format.ts";
import { checkRoomName, roomName } from "./rooms.ts";
import { foldNick } from "./nick.ts";
import { describeUntil } from "./moderation.ts";
import { accountCommands } from "./account_commands.ts";
import { moderationCommands } from "./moderation_commands.ts";

/** The most lines one /history shows. */
export const HISTORY_LIMIT = 200;

/** Reads `YYYY-MM-DD HH:MM[:SS]` (UTC) or an ISO time; undefined if unreadable. */
export function parseTime(text: string): number | undefined {
  const t = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  const ms = m ? Date.parse(`${m[1]}T${m[2]}${m[3] ?? "Z"}`) : /^\d{4}-\d{2}-\d{2}$/.test(t) ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** How many names a listing shows before it says "and N more". */
const LIST_LIMIT = 100;

function names(sessions: Iterable<Session>): string {
  const all = [...sessions].map((s) => s.nick).sort((a, b) => a.localeCompare(b));
  const shown = all.slice(0, LIST_LIMIT).join(", ");
  return all.length > LIST_LIMIT ? `${shown} and ${all.length - LIST_LIMIT} more` : shown;
}

function sayToRoom(ctx: CommandContext, kind: "chat" | "action", text: string): void {
  const { session, server } = ctx;
  if (session.quiet) {
    return ctx.reply("You are in quiet mode, so you cannot talk in the room; /quiet turns it off.");
  }
  const mute = server.moderation.muted(session.key);
  if (mute) return ctx.reply(`You are muted ${describeUntil(mute.until)}, so you cannot talk in rooms.`);
  const line = kind === "action" ? action(session.nick, text) : chat(session.nick, text);
  if (session.room) server.journal.record(session.room, session, kind, text, line);
}

/** The chat commands, in the order `/help` lists them. */
export const chatCommands: Command[] = [
  {
    name: "login",
    bare: "leading",
    where: "guest",
    args: "<nick> [password]",
    help: "log in with a nick (1-32 letters, digits and _-.[]{}|^, starting with a letter)",
    run(ctx, [nick, password]) {
      return ctx.server.login(ctx.session, nick, password);
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
    run({ session, server, reply }) {
      const usable = server.commands.all.filter((c) =>
        (c.where === "any" || (c.where === "member") === session.loggedIn) &&
        (!c.op || server.isOperator(session))
      );
      const width = Math.max(...usable.map((c) => server.commands.usage(c).length));
      reply(session.loggedIn ? "Commands:" : "Commands before you log in:");
      for (const c of usable) {
        const aliases = c.aliases?.length ? ` (also ${c.aliases.map((a) => "/" + a).join(", ")})` : "";
        reply(`  ${server.commands.usage(c).padEnd(width)}  ${c.help}${aliases}`);
      }
      if (session.loggedIn) {
        reply("Any other line is said to the room. @nick <text> sends a private message.");
      }
    },
  },
  {
    name: "say",
    bare: "leading",
    where: "member",
    journaled: true,
    args: "<text...>",
    help: "say something to the room (a plain line does the same)",
    run(ctx, [text]) {
      sayToRoom(ctx, "chat", text);
    },
  },
  {
    name: "me",
    where: "member",
    journaled: true,
    args: "<action...>",
    help: "act: /me waves shows * <you> waves",
    run(ctx, [text]) {
      sayToRoom(ctx, "action", text);
    },
  },
  {
    name: "msg",
    where: "member",
    args: "<nick> <text...>",
    help: "private message to one user (also @nick <text>)",
    run(ctx, [nick, text]) {
      const { session, server } = ctx;
      const other = server.find(nick);
      if (!other) {
        const account = server.store.account(foldNick(nick));
        if (!account) return ctx.reply(`No such user: ${nick}.`);
        server.store.addMail(foldNick(nick), session.nick, text);
        return ctx.reply(`${account.nick} is offline; your message will be delivered when they next log in.`);
      }
      if (other.ignores?.has(session.key)) {
        return ctx.reply(`${other.nick} is not accepting your private messages.`);
      }
      other.send(privateFrom(session.nick, text));
      session.send(privateTo(other.nick, text));
    },
  },
  {
    name: "look",
    bare: "alone",
    where: "member",
    args: "",
    help: "who is in this room",
    run({ session, reply }) {
      const room = session.room!;
      reply(`In ${room.name} (${room.members.size}): ${names(room.members)}`);
    },
  },
  {
    name: "who",
    bare: "alone",
    where: "member",
    args: "",
    help: "who is logged in, room by room",
    run({ server, reply }) {
      reply(`${server.nicks.size} logged in:`);
      for (const room of server.rooms.list()) {
        if (room.members.size) reply(`  ${room.name} (${room.members.size}): ${names(room.members)}`);
      }
    },
  },
  {
    name: "join",
    where: "member",
    args: "<room>",
    help: "go to a room (created if it does not exist)",
    run({ session, server, reply }, [name]) {
      const problem = checkRoomName(name);
      if (problem) return reply(`Cannot join "${name}": ${problem}.`);
      if (session.room?.key === server.rooms.get(name)?.key) {
        return reply(`You are already in ${session.room!.name}.`);
      }
      server.move(session, roomName(name));
    },
  },
  {
    name: "leave",
    where: "member",
    args: "",
    help: "go back to the main room",
    run({ session, server, reply }) {
      if (session.room === server.rooms.main) {
        return reply(`You are already in ${server.rooms.main.name}, the main room.`);
      }
      server.move(session, server.rooms.main.name);
    },
  },
  {
    name: "rooms",
    where: "member",
    args: "",
    help: "list the rooms and how many are in each",
    run({ server, reply }) {
      const list = server.rooms.list().map((r) => `${r.name} (${r.members.size})`);
      reply(`Rooms: ${list.join(", ")}`);
    },
  },
  {
    name: "history",
    where: "member",
    args: "[count] [before...]",
    help: `more of this room's history: /history 50, or /history 50 before 2026-11-23 12:00 (UTC)`,
    run({ session, server, reply }, [count, rest]) {
      const n = count === "" ? server.options.history || 20 : Number(count);
      if (!Number.isInteger(n) || n < 1) return reply(`"${count}" is not a number of lines (1-${HISTORY_LIMIT}).`);
      let before: number | undefined;
      if (rest !== "") {
        const m = /^before\s+(.+)$/i.exec(rest);
        before = m ? parseTime(m[1]) : undefined;
        if (before === undefined) {
          return reply(`Cannot read "${rest}": write before YYYY-MM-DD HH:MM[:SS] (UTC), as shown in history lines.`);
        }
      }
      const room = session.room!;
      const shown = Math.min(n, HISTORY_LIMIT);
      reply(`History of ${room.name}${before !== undefined ? ` before ${formatTime(before)} UTC` : ""}:`);
      const sent = server.showHistory(session, room.key, shown, before);
      reply(sent === 0 ? "No history there." : `End of history (${sent} line${sent === 1 ? "" : "s"}).`);
    },
  },
  {
    name: "quiet",
    aliases: ["i"],
    where: "member",
    args: "",
    help: "toggle quiet mode: no room chat (private messages and notices still come)",
    run({ session, reply }) {
      session.quiet = !session.quiet;
      reply(
        session.quiet
          ? "Quiet mode on: you will not see room chat. /quiet turns it off."
          : "Quiet mode off: you see room chat again.",
      );
    },
  },
  {
    name: "ignore",
    where: "member",
    args: "[nick]",
    help: "hide a user's chat and private messages (no nick: list whom you ignore)",
    run(ctx, [nick]) {
      const { session, reply } = ctx;
      if (nick === "") {
        const list = [...(session.ignores ?? [])];
        return reply(list.length ? `You ignore: ${list.join(", ")}` : "You ignore nobody.");
      }
      const other = findUser(ctx, nick);
      if (!other) return;
      if (other === session) return reply("You cannot ignore yourself.");
      (session.ignores ??= new Set()).add(other.key);
      reply(`You now ignore ${other.nick}. /unignore ${other.nick} undoes it.`);
    },
  },
  {
    name: "unignore",
    where: "member",
    args: "<nick>",
    help: "stop ignoring a user",
    run({ session, reply }, [nick]) {
      const key = foldNick(nick);
      if (!session.ignores?.delete(key)) return reply(`You were not ignoring ${nick}.`);
      if (session.ignores.size === 0) session.ignores = undefined;
      reply(`You no longer ignore ${nick}.`);
    },
  },
];

/** Every built-in command, in the order `/help` lists them. */
export const builtinCommands: Command[] = [...chatCommands, ...accountCommands, ...moderationCommands];
