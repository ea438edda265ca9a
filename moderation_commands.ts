/**
 * Operator commands: `/kick`, `/ban`, `/unban`, `/mute`, `/unmute` and
 * `/topic`. Every action is announced in the operator's room (and the
 * target's, if different) and logged. Bans, mutes and topics are stored.
 *
 * Kick moves a user from a side room to the main room, and disconnects a
 * user kicked in the main room. Bans are server-wide: a banned nick cannot
 * log in, a banned address cannot connect. A muted nick cannot talk in rooms.
 *
 * @example
 * ```ts
 * import { moderationCommands } from "./moderation_commands.ts";
 * moderationCommands.map((c) => c.name); // ["kick", "ban", "unban", "mute", "unmute", "topic"]
 * ```
 * @module
 */
import { type Command, type CommandContext, findUser } from "./dispatch.ts";
import type { Session } from "./session.ts";
import { checkNick, foldNick } from "./nick.ts";
import { describeBan, describeUntil, isAddress, parseDuration } from "./moderation.ts";

/** Announces an operator action in the operator's room and the targets', and logs it. */
function announce(
  ctx: CommandContext,
  text: string,
  targets: (Session | undefined)[] = [],
  fields: Record<string, string> = {},
): void {
  const { session, server } = ctx;
  const rooms = new Set([session.room, ...targets.map((t) => t?.room)]);
  for (const room of rooms) room?.notice(text);
  server.log.info("moderation", { op: session.nick, action: text, ...fields });
}

function splitDuration(rest: string): { until: number | null; reason: string } | { error: string } {
  const [first, ...more] = rest.split(/\s+/).filter(Boolean);
  if (first === undefined) return { until: null, reason: "" };
  const ms = parseDuration(first);
  if (ms !== undefined) return { until: Date.now() + ms, reason: more.join(" ") };
  if (/^\d+$/.test(first)) return { error: `"${first}" needs a unit: 30s, 10m, 2h, 1d or 1w` };
  return { until: null, reason: rest.trim() };
}

/** The operator commands. */
export const moderationCommands: Command[] = [
  {
    name: "kick",
    where: "member",
    op: true,
    args: "<nick> [reason...]",
    help: "send a user out of their room (out of the server from the main room)",
    run(ctx, [nick, reason]) {
      const { server, session } = ctx;
      const other = findUser(ctx, nick);
      if (!other) return;
      if (other === session) return ctx.reply("You cannot kick yourself.");
      const why = reason ? `: ${reason}` : ".";
      announce(ctx, `${other.nick} was kicked from ${other.room?.name} by ${session.nick}${why}`, [other], {
        target: other.nick,
      });
      if (other.room === server.rooms.main) {
        other.end(`kicked by ${session.nick}`, `You were kicked by ${session.nick}${why}`);
      } else {
        other.notice(`You were kicked from ${other.room?.name} by ${session.nick}${why}`);
        server.move(other, server.rooms.main.name);
      }
    },
  },
  {
    name: "ban",
    where: "member",
    op: true,
    args: "<target> [duration-and-reason...]",
    help: "ban a nick or an address, for a while (30s, 10m, 2h, 1d, 1w) or for good: /ban bob 1h spam",
    run(ctx, [target, rest]) {
      const { server, session } = ctx;
      const parsed = splitDuration(rest);
      if ("error" in parsed) return ctx.reply(`Cannot ban: ${parsed.error}.`);
      const kind = isAddress(target) ? "ip" : "nick";
      if (kind === "nick" && checkNick(target)) return ctx.reply(`"${target}" is neither a nick nor an address.`);
      const value = kind === "nick" ? foldNick(target) : target;
      if (kind === "nick" && value === session.key) return ctx.reply("You cannot ban yourself.");
      if (kind === "ip" && target === session.ip) return ctx.reply("You cannot ban your own address.");
      server.moderation.ban({
        kind,
        value,
        until: parsed.until,
        reason: parsed.reason,
        by: session.nick,
        at: Date.now(),
      });
      const victims = [...server.sessions].filter((s) => kind === "ip" ? s.ip === value : s.key === value);
      const why = parsed.reason ? `: ${parsed.reason}` : ".";
      announce(ctx, `${target} is banned ${describeUntil(parsed.until)} by ${session.nick}${why}`, victims, {
        target,
      });
      for (const v of victims) {
        v.end(`banned by ${session.nick}`, `You are banned ${describeBan(parsed)}`);
      }
    },
  },
  {
    name: "unban",
    where: "member",
    op: true,
    args: "<target>",
    help: "lift the ban on a nick or an address",
    run(ctx, [target]) {
      const kind = isAddress(target) ? "ip" : "nick";
      const value = kind === "nick" ? foldNick(target) : target;
      if (!ctx.server.moderation.unban(kind, value)) return ctx.reply(`${target} is not banned.`);
      announce(ctx, `${target} is no longer banned (by ${ctx.session.nick}).`, [], { target });
    },
  },
  {
    name: "mute",
    where: "member",
    op: true,
    args: "<nick> [duration]",
    help: "stop a nick from talking in rooms, for a while (10m, 2h …) or for good",
    run(ctx, [nick, duration]) {
      const { server, session } = ctx;
      if (checkNick(nick)) return ctx.reply(`"${nick}" is not a nick.`);
      let until: number | null = null;
      if (duration !== "") {
        const ms = parseDuration(duration);
        if (ms === undefined) return ctx.reply(`"${duration}" is not a duration: use 30s, 10m, 2h, 1d or 1w.`);
        until = Date.now() + ms;
      }
      const key = foldNick(nick);
      server.moderation.mute({ key, until, by: session.nick });
      const other = server.nicks.get(key);
      announce(ctx, `${other?.nick ?? nick} is muted ${describeUntil(until)} by ${session.nick}.`, [other], {
        target: nick,
      });
    },
  },
  {
    name: "unmute",
    where: "member",
    op: true,
    args: "<nick>",
    help: "let a muted nick talk again",
    run(ctx, [nick]) {
      const key = foldNick(nick);
      if (!ctx.server.moderation.unmute(key)) return ctx.reply(`${nick} is not muted.`);
      const other = ctx.server.nicks.get(key);
      announce(ctx, `${other?.nick ?? nick} may talk again (unmuted by ${ctx.session.nick}).`, [other], {
        target: nick,
      });
    },
  },
  {
    name: "topic",
    where: "member",
    op: true,
    args: "[text...]",
    help: "set this room's topic, shown to everyone who enters (no text: clear it)",
    run(ctx, [text]) {
      const { server, session } = ctx;
      const room = session.room!;
      server.store.saveTopic({ room: room.key, text, by: session.nick, at: Date.now() });
      announce(
        ctx,
        text
          ? `${session.nick} set the topic of ${room.name}: ${text}`
          : `${session.nick} cleared the topic of ${room.name}.`,
      );
    },
  },
];
