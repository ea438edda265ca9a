/**
 * The telnet dialect: one line per event (UTF-8, CRLF), as a telnet, MUD or
 * `nc` user reads it. Server notices start with `*** `; chat lines start with
 * a nick, actions with `* `, private messages, history and mail with `[`, so
 * no user text can pass for a notice.
 *
 * @example
 * ```ts
 * import { telnet } from "./telnet.ts";
 * const bytes = telnet.render({ type: "chat", room: "main", nick: "alice", text: "hi", at: 0 });
 * new TextDecoder().decode(bytes); // "alice: hi\r\n"
 * ```
 * @module
 */
import type { ChatEvent } from "../events.ts";
import { type Dialect, dialectId } from "./dialect.ts";
import { action, chat, countedList, historyLine, mailLine, names, notice, privateFrom, privateTo } from "../format.ts";
import { ECHO_OFF, ECHO_ON } from "../telnet.ts";
import { lineSlab } from "../byte_slab.ts";

/** Encodes a line for the wire (UTF-8, CRLF), in a shared slab (lines encoded one after another lie side by side). */
export function encodeLine(line: string): Uint8Array {
  return lineSlab.encode(line + "\r\n");
}

const EMPTY = new Uint8Array(0);

/** The lines of an event, without line ends ([] when telnet shows nothing for it). */
export function telnetLines(e: ChatEvent): string[] {
  switch (e.type) {
    case "chat":
      return [chat(e.nick, e.text)];
    case "action":
      return [action(e.nick, e.text)];
    case "history":
      return [historyLine(e.at, e.kind, e.nick, e.text)];
    case "private": {
      const text = e.action ? `* ${e.from} ${e.text}` : e.text;
      return [e.echo ? privateTo(e.to, text) : e.action ? `[private] ${text}` : privateFrom(e.from, text)];
    }
    case "mail": // an action as it always read: `[mail …] bob: * bob waves`
      return [mailLine(e.at, e.from, e.action ? action(e.from, e.text) : e.text)];
    case "entered":
      return [notice(`${e.nick} has entered the room.`)];
    case "left":
      return [notice(`${e.nick} has left the room.`)];
    case "crowd": {
      const parts: string[] = [];
      if (e.enteredCount) parts.push(`${countedList(e.entered, e.enteredCount)} entered the room`);
      if (e.leftCount) parts.push(`${countedList(e.left, e.leftCount)} left the room`);
      return parts.length ? [notice(parts.join("; ") + ".")] : [];
    }
    case "topic":
      if (!e.changed) return [notice(`Topic of ${e.room}: ${e.text} (set by ${e.by})`)];
      return [
        notice(e.text ? `${e.by} set the topic of ${e.room}: ${e.text}` : `${e.by} cleared the topic of ${e.room}.`),
      ];
    case "members":
      return [notice(`In ${e.room} (${e.count}): ${names(e.nicks, e.count)}`)];
    case "who":
      return [
        notice(`${e.count} logged in:`),
        ...e.rooms.map((r) => notice(`  ${r.room} (${r.count}): ${names(r.nicks, r.count)}`)),
      ];
    case "rooms": {
      const list = e.rooms.map((r) => `${r.room} (${r.count})`).join(", ");
      return [notice(`Rooms: ${list}${e.more ? ` and ${e.more} more (the biggest are shown)` : ""}`)];
    }
    case "kick":
      return [notice(`${e.nick} was kicked from ${e.room} by ${e.by}${e.reason ? `: ${e.reason}` : "."}`)];
    case "nick":
      return [notice(`${e.old} is now known as ${e.nick}.`)];
    case "welcome":
      return [notice(`Welcome to ${e.server}!`), notice(e.text)];
    case "notice":
    case "error":
    case "goodbye":
    case "password":
      return [notice(e.text)];
    case "login":
    case "password-done":
    case "away":
      return [];
  }
}

/** The telnet dialect (plain TCP and TLS alike). */
export const telnet: Dialect = {
  id: dialectId(),
  name: "telnet",
  render(event: ChatEvent): Uint8Array {
    if (event.type === "password") return join(ECHO_OFF, encodeLine(notice(event.text)));
    if (event.type === "password-done") return join(ECHO_ON, encodeLine(""));
    const lines = telnetLines(event);
    if (lines.length === 0) return EMPTY;
    return encodeLine(lines.length === 1 ? lines[0] : lines.join("\r\n"));
  },
};

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
