/**
 * Operator commands: `/kick`, `/ban`, `/unban`, `/mute`, `/unmute`,
 * `/bans`, `/mutes` and `/topic`. Every action is announced in the operator's room (and the
 * target's, if different) and logged. Bans, mutes and topics are stored.
 *
 * Kick moves a user from a side room to the main room, and disconnects a
 * user kicked in the main room. Bans are server-wide: a banned nick cannot
 * log in, a banned address cannot connect. A muted nick cannot talk in rooms.
 *
 * @example
 * ```ts
 * import { moderationCommands } from "./moderation.ts";
 * moderationCommands.map((c) => c.name); // ["kick", "ban", "unban", "mute", "unmute", "bans", "mutes", "topic"]
 * ```
 * @module
 */
import { type Command, type CommandContext, findUser } from "./table.ts";
import type { Room } from "../rooms.ts";
import { sentAway } from "../format.ts";
import { MAX_TOPIC } from "../room_name.ts";
import type { User } from "../user.ts";
import type { ChatEvent } from "../events.ts";
import { telnetLines } from "../dialects/telnet.ts";
import { checkNick, foldNick } from "../nick.ts";
import {
  type AddressRange,
  covers,
  describeBan,
  describeUntil,
  formatDuration,
  isAddressTarget,
  parseAddress,
  parseBanArgs,
  parseMuteArgs,
} from "../moderation.ts";

/** Announces an operator action in the operator's room and the targets' rooms, and logs it. */
function announce(
  ctx: CommandContext,
  event: ChatEvent | string,
  targets: (User | undefined)[] = [],
  fields: Record<string, string> = {},
  full?: string, // what the operator is told and the log says, when the room is told less (no address)
): void {
  const { user, chat } = ctx;
  const rooms = new Set<Room | undefined>([ctx.room ?? user.room, ...targets.map((t) => t?.room)]);
  for (const room of rooms) {
    if (!room) continue;
    chat.journal.announce(room, typeof event === "string" ? { type: "notice", text: event, room: room.name } : event);
  }
  const text = full ?? (typeof event === "string" ? event : telnetLines(event).join(" ").replace(/^\*\*\* /, ""));
  if (full !== undefined) ctx.reply(full);
  chat.log.info("moderation", { op: user.nick, action: text, ...fields });
}

/** How the room is told of a ban on `range` (no address reaches other users): "An address", "A range of addresses". */
function someAddress(range: AddressRange): string {
  return range.bits === 128 ? "An address" : "A range of addresses";
}

/** The operator commands. */
export const moderationCommands: Command[] = [
  {
    name: "kick",
    where: "member",
    op: true,
    args: "<nick> [reason...]",
    help: "send a user out of their room (out of the server from the main room)",
    async run(ctx, [nick, reason]) {
      const { chat, user } = ctx;
      const other = findUser(ctx, nick);
      if (!other) return;
      if (other === user) return ctx.fail("You cannot kick yourself.");
      const room = other.room ?? chat.rooms.main;
      const why = reason ? `: ${reason}` : ".";
      announce(ctx, { type: "kick", room: room.name, nick: other.nick, by: user.nick, reason }, [other], {
        target: other.nick,
      });
      if (other.remote) return chat.peers.kick(other, room, user.nick, reason, false); // its server does the rest
      if (room === chat.rooms.main) {
        const quit = sentAway("Kicked", user.nick, reason);
        chat.sessionOf(other)?.end(`kicked by ${user.nick}`, `You were kicked by ${user.nick}${why}`, undefined, quit);
      } else {
        chat.journal.tell(other, { type: "notice", text: `You were kicked from ${room.name} by ${user.nick}${why}` });
        await chat.move(other, chat.rooms.main.name);
      }
    },
  },
  {
    name: "ban",
    where: "member",
    op: true,
    args: "<target> [duration-and-reason...]",
    help: "ban a nick or an address, for a while (30s, 10m, 2h, 1d, 1w) or for good: /ban bob 1h spam",
    async run(ctx, [target, rest]) {
      const { chat, user, session } = ctx;
      const parsed = parseBanArgs(rest);
      if ("error" in parsed) return ctx.fail(`Cannot ban: ${parsed.error}.`);
      const kind = isAddressTarget(target) ? "ip" : "nick";
      if (kind === "nick" && checkNick(target)) return ctx.fail(`"${target}" is neither a nick nor an address.`);
      const range = kind === "ip" ? parseAddress(target) : undefined;
      if (range && "error" in range) return ctx.fail(`Cannot ban: ${range.error}.`);
      const value = range ? range.text : foldNick(target);
      if (kind === "nick" && value === user.key) return ctx.fail("You cannot ban yourself.");
      if (range && covers(range, session.ip)) return ctx.fail("You cannot ban your own address.");
      await chat.moderation.ban({
        kind,
        value: range ? value : target, // a nick as typed: its look-alikes as shown are kept out too (Ivan, lvan)
        until: parsed.until,
        reason: parsed.reason,
        by: user.nick,
        at: Date.now(),
      });
      // A nick ban also sends away the look-alikes online that it keeps from logging in (b0b for bob; not an
      // account b0b made before the ban).
      const victims = [...chat.sessions].filter((s) =>
        range
          ? covers(range, s.ip)
          : s.key === value || (s !== session && s.user !== undefined && chat.bannedNick(s.user.nick) !== undefined)
      );
      const why = parsed.reason ? `: ${parsed.reason}` : ".";
      const banned = (who: string) => `${who} is banned ${describeUntil(parsed.until)} by ${user.nick}${why}`;
      announce(
        ctx,
        banned(range ? someAddress(range) : target),
        victims.map((v) => v.user),
        { target },
        range ? banned(value) : undefined,
      );
      for (const v of victims) {
        v.end(
          `banned by ${user.nick}`,
          `You are banned ${describeBan(parsed)}`,
          undefined,
          sentAway("Banned", user.nick),
        );
      }
    },
  },
  {
    name: "unban",
    where: "member",
    op: true,
    args: "<target>",
    help: "lift the ban on a nick or an address",
    async run(ctx, [target]) {
      const kind = isAddressTarget(target) ? "ip" : "nick";
      const range = kind === "ip" ? parseAddress(target) : undefined;
      if (range && "error" in range) return ctx.fail(`Cannot unban: ${range.error}.`);
      const value = range ? range.text : foldNick(target);
      if (!(await ctx.chat.moderation.unban(kind, value))) return ctx.fail(`${target} is not banned.`);
      const lifted = (who: string) => `${who} is no longer banned (by ${ctx.user.nick}).`;
      announce(ctx, lifted(range ? someAddress(range) : target), [], { target }, range ? lifted(value) : undefined);
    },
  },
  {
    name: "mute",
    where: "member",
    op: true,
    args: "<nick> [duration]",
    help: "stop a nick from talking in rooms, for a while (10m, 2h …) or for good",
    async run(ctx, [nick, duration]) {
      const { chat, user } = ctx;
      if (checkNick(nick)) return ctx.fail(`"${nick}" is not a nick.`);
      const parsed = parseMuteArgs(duration);
      if ("error" in parsed) return ctx.fail(`${parsed.error}.`);
      const { until } = parsed;
      const key = foldNick(nick);
      if (key === user.key) return ctx.fail("You cannot mute yourself.");
      await chat.moderation.mute({ key, until, by: user.nick });
      const other = chat.nicks.get(key);
      announce(ctx, `${other?.nick ?? nick} is muted ${describeUntil(until)} by ${user.nick}.`, [other], {
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
    async run(ctx, [nick]) {
      const key = foldNick(nick);
      if (!(await ctx.chat.moderation.unmute(key))) return ctx.fail(`${nick} is not muted.`);
      const other = ctx.chat.nicks.get(key);
      announce(ctx, `${other?.nick ?? nick} may talk again (unmuted by ${ctx.user.nick}).`, [other], {
        target: nick,
      });
    },
  },
  {
    name: "bans",
    where: "member",
    op: true,
    args: "",
    help: "the bans in force, with the time left",
    run({ chat, reply }) {
      const bans = chat.moderation.bans();
      if (bans.length === 0) return reply("No bans in force.");
      reply(`${bans.length} ban${bans.length === 1 ? "" : "s"} in force:`);
      for (const b of bans) {
        const left = b.left === null ? "for good" : `${formatDuration(b.left)} left`;
        reply(
          `  ${b.value} (${b.kind === "ip" ? "address" : "nick"}), ${left}, by ${b.by}${
            b.reason ? `: ${b.reason}` : ""
          }`,
        );
      }
    },
  },
  {
    name: "mutes",
    where: "member",
    op: true,
    args: "",
    help: "the mutes in force, with the time left",
    run({ chat, reply }) {
      const mutes = chat.moderation.mutes();
      if (mutes.length === 0) return reply("No mutes in force.");
      reply(`${mutes.length} mute${mutes.length === 1 ? "" : "s"} in force:`);
      for (const m of mutes) {
        reply(`  ${m.key}, ${m.left === null ? "for good" : `${formatDuration(m.left)} left`}, by ${m.by}`);
      }
    },
  },
  {
    name: "topic",
    where: "member",
    op: true,
    args: "[text...]",
    help: "set this room's topic, shown to everyone who enters (no text: clear it)",
    async run(ctx, [text]) {
      const { chat, user } = ctx;
      const room = user.room;
      if (!room) return ctx.fail("You are not in a room; /join one first.");
      const length = [...text].length;
      if (length > MAX_TOPIC) {
        return ctx.fail(`A topic has at most ${MAX_TOPIC} characters; this one has ${length}. It was not set.`);
      }
      const at = Date.now();
      await chat.store.saveTopic({ room: room.key, text, by: user.nick, at });
      announce(ctx, { type: "topic", room: room.name, text, by: user.nick, at, changed: true });
    },
  },
];
