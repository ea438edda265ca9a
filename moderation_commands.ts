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
import {
  covers,
  describeBan,
  describeUntil,
  isAddressTarget,
  parseAddress,
  parseBanArgs,
  parseMuteArgs,
} from "./moderation.ts";

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
      const parsed = parseBanArgs(rest);
      if ("error" in parsed) return ctx.reply(`Cannot ban: ${parsed.error}.`);
      const kind = isAddressTarget(target) ? "ip" : "nick";
      if (kind === "nick" && checkNick(target)) return ctx.reply(`"${target}" is neither a nick nor an address.`);
      const range = kind === "ip" ? parseAddress(target) : undefined;
      if (range && "error" in range) return ctx.reply(`Cannot ban: ${range.error}.`);
      const value = range ? range.text : foldNick(target);
      if (kind === "nick" && value === session.key) return ctx.reply("You cannot ban yourself.");
      if (range && covers(range, session.ip)) return ctx.reply("You cannot ban your own address.");
      server.moderation.ban({
        kind,
        value,
        until: parsed.until,
        reason: parsed.reason,
        by: session.nick,
        at: Date.now(),
      });
      const victims = [...server.sessions].filter((s) => range ? covers(range, s.ip) : s.key === value);
      const why = parsed.reason ? `: ${parsed.reason}` : ".";
      const shown = range ? value : target;
      announce(ctx, `${shown} is banned ${describeUntil(parsed.until)} by ${session.nick}${why}`, victims, { target });
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
      const kind = isAddressTarget(target) ? "ip" : "nick";
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
      const parsed = parseMuteArgs(duration);
      if ("error" in parsed) return ctx.reply(`${parsed.error}.`);
      const { until } = parsed;
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
