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
import type { Command, CommandContext } from "./dispatch.ts";
import type { Session } from "./session.ts";
import { action, chat, privateFrom, privateTo } from "./format.ts";
import { checkRoomName, roomName } from "./rooms.ts";
import { foldNick } from "./nick.ts";

/** How many names a listing shows before it says "and N more". */
const LIST_LIMIT = 100;

function names(sessions: Iterable<Session>): string {
  const all = [...sessions].map((s) => s.nick).sort((a, b) => a.localeCompare(b));
  const shown = all.slice(0, LIST_LIMIT).join(", ");
  return all.length > LIST_LIMIT ? `${shown} and ${all.length - LIST_LIMIT} more` : shown;
}

function sayToRoom(ctx: CommandContext, line: string): void {
  const { session } = ctx;
  if (session.quiet) {
    return ctx.reply("You are in quiet mode, so you cannot talk in the room; /quiet turns it off.");
  }
  session.room?.chat(session, line);
}

function target(ctx: CommandContext, nick: string): Session | undefined {
  const other = ctx.server.find(nick);
  if (!other) ctx.reply(`No such user: ${nick}.`);
  return other;
}

/** Every built-in command, in the order `/help` lists them. */
export const builtinCommands: Command[] = [
  {
    name: "login",
    bare: "leading",
    where: "guest",
    args: "<nick>",
    help: "log in with a nick (1-32 letters, digits and _-.[]{}|^, starting with a letter)",
    run(ctx, [nick]) {
      const problem = ctx.server.login(ctx.session, nick);
      if (problem) ctx.reply(problem);
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
    args: "<text...>",
    help: "say something to the room (a plain line does the same)",
    run(ctx, [text]) {
      sayToRoom(ctx, chat(ctx.session.nick, text));
    },
  },
  {
    name: "me",
    where: "member",
    args: "<action...>",
    help: "act: /me waves shows * <you> waves",
    run(ctx, [text]) {
      sayToRoom(ctx, action(ctx.session.nick, text));
    },
  },
  {
    name: "msg",
    where: "member",
    args: "<nick> <text...>",
    help: "private message to one user (also @nick <text>)",
    run(ctx, [nick, text]) {
      const { session } = ctx;
      const other = target(ctx, nick);
      if (!other) return;
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
      const other = target(ctx, nick);
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
