/**
 * How a received line is shown: its text made safe (escape sequences and
 * control characters removed), server notices (`*** …`) dimmed, each nick in
 * a colour of its own (a hash of the nick, so it stays the same), the
 * user's own lines in bold, and a line that mentions the user or is a
 * private message highlighted, with a bell (not for history replayed on
 * entering a room). An optional timestamp goes first.
 *
 * @example
 * ```ts
 * import { styleLine } from "./style.ts";
 * const line = styleLine("bob: hi alice!", { me: "alice", color: true });
 * line.bell; // true: alice is mentioned
 * line.segments; // [{ text: "bob", sgr: "93" }, { text: ": hi alice!", sgr: "1;33" }]: bob's colour, then highlighted
 * ```
 * @module
 */
import { cleanLine } from "../text.ts";

/** A run of text and the SGR parameters it is drawn with ("" for none). */
export interface Segment {
  text: string;
  sgr: string;
}

/** A line ready to draw, and whether it should ring the bell. */
export interface StyledLine {
  segments: Segment[];
  bell: boolean;
}

/** What styling depends on. */
export interface StyleContext {
  /** The user's nick, when logged in. */
  me?: string;
  /** Colours and attributes on (false: plain text, as for NO_COLOR). */
  color: boolean;
  /** A timestamp to put first (already formatted), if any. */
  time?: string;
}

const DIM = "2";
const BOLD = "1";
const HIGHLIGHT = "1;33"; // bold yellow
const PRIVATE = "1;35"; // bold magenta
// Colours for nicks: the six colours and their bright forms (no black, white or grey).
const PALETTE = ["31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96"];

/** The colour (SGR parameter) of a nick: the same nick, in any case, always gets the same one. */
export function nickColor(nick: string): string {
  let h = 0x811c9dc5; // FNV-1a
  for (const ch of nick.toLowerCase()) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return PALETTE[h % PALETTE.length];
}

// [private] bob: text | [private to bob] text | [history …] / [mail …] bob: text | * bob acts | bob: text
const PRIVATE_FROM = /^(\[private\] )([^\s:]+)(: .*)$/s;
const PRIVATE_TO = /^(\[private to )([^\]\s]+)(\] .*)$/s;
const STAMPED = /^(\[(?:history|mail) [^\]]*\] )(.*)$/s;
const ACTION = /^(\* )([^\s*][^\s]{0,31})( .*)?$/s;
const CHAT = /^([^\s:*[\]][^\s:]{0,31})(: .*)$/s;

/**
 * The time as a client shows it before a line: `HH:MM` in local time.
 *
 * @example
 * ```ts
 * clockTime(new Date(2026, 0, 2, 9, 5)); // "09:05"
 * ```
 */
export function clockTime(date: Date): string {
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

/** True if `text` names `nick` as a word of its own (any case). */
export function mentions(text: string, nick: string): boolean {
  if (!nick) return false;
  const t = text.toLowerCase();
  const n = nick.toLowerCase();
  const word = /[\p{L}\p{N}_]/u;
  for (let i = t.indexOf(n); i !== -1; i = t.indexOf(n, i + 1)) {
    const before = i > 0 ? t[i - 1] : "";
    const after = t.slice(i + n.length, i + n.length + 2);
    if ((!before || !word.test(before)) && (!after || !word.test([...after][0]))) return true;
  }
  return false;
}

/** Styles one received line (raw text from the server) for display. */
export function styleLine(raw: string, ctx: StyleContext): StyledLine {
  const line = cleanLine(raw);
  const out: Segment[] = [];
  const add = (text: string, sgr = "") => {
    if (text) out.push({ text, sgr: ctx.color ? sgr : "" });
  };
  if (ctx.time) add(ctx.time + " ", DIM);
  const me = ctx.me;
  const isMe = (nick: string) => me !== undefined && nick.toLowerCase() === me.toLowerCase();
  let bell = false;
  let m: RegExpExecArray | null;
  if (line.startsWith("*** ")) {
    add(line, DIM);
  } else if ((m = PRIVATE_FROM.exec(line))) {
    add(m[1], PRIVATE);
    add(m[2], `1;${nickColor(m[2])}`);
    add(m[3], PRIVATE);
    bell = true;
  } else if ((m = PRIVATE_TO.exec(line))) {
    add(m[1], DIM);
    add(m[2], nickColor(m[2]));
    add(m[3], BOLD);
  } else {
    let rest = line;
    let replayed = false; // history: old news, highlighted but not rung for
    if ((m = STAMPED.exec(line))) {
      add(m[1], DIM);
      rest = m[2];
      if (m[1].startsWith("[mail")) bell = true;
      else replayed = true;
    }
    const act = ACTION.exec(rest);
    const said = act ? undefined : CHAT.exec(rest);
    if (act || said) {
      const [prefix, nick, text] = act ? [act[1], act[2], act[3] ?? ""] : ["", said![1], said![2]];
      const own = isMe(nick);
      const mention = !own && me !== undefined && mentions(text, me);
      if (mention && !replayed) bell = true;
      const textSgr = own ? BOLD : mention ? HIGHLIGHT : "";
      add(prefix, textSgr);
      add(nick, `${own ? "1;" : ""}${nickColor(nick)}`);
      add(text, textSgr);
    } else {
      add(rest);
    }
  }
  if (!out.some((s) => s.text)) out.push({ text: "", sgr: "" });
  return { segments: out, bell };
}

/** A line the client itself says (connection lost, not sent …), marked `-!-` and dimmed. */
export function clientNotice(text: string, ctx: StyleContext): StyledLine {
  const segments: Segment[] = [];
  if (ctx.time) segments.push({ text: ctx.time + " ", sgr: ctx.color ? DIM : "" });
  segments.push({ text: `-!- ${text}`, sgr: ctx.color ? "1;36" : "" });
  return { segments, bell: false };
}

/** A line the user sent, shown by the client itself (`--echo`): `> line`, dimmed. */
export function sentLine(text: string, ctx: StyleContext): StyledLine {
  const segments: Segment[] = [];
  if (ctx.time) segments.push({ text: ctx.time + " ", sgr: ctx.color ? DIM : "" });
  segments.push({ text: `> ${cleanLine(text)}`, sgr: ctx.color ? DIM : "" });
  return { segments, bell: false };
}

/** The plain text of a styled line. */
export function plainText(line: StyledLine): string {
  return line.segments.map((s) => s.text).join("");
}
