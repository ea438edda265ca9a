/**
 * IRC messages: parsing a received line into tags, source, command and
 * parameters, and writing a line back (RFC 1459/2812 framing as the modern
 * IRC documentation describes it, with IRCv3 message tags).
 *
 * @example
 * ```ts
 * import { parseMessage, formatMessage } from "./message.ts";
 * const m = parseMessage("@label=1 PRIVMSG #main :hello there");
 * m?.command; // "PRIVMSG"
 * m?.params; // ["#main", "hello there"]
 * formatMessage("teaparty", "001", ["alice", "Welcome"]); // ":teaparty 001 alice Welcome"
 * ```
 * @module
 */

/** The longest line without its tags, CR LF included (RFC 1459). */
export const MAX_LINE = 512;
/** The longest tag section a client may send, `@` and the space included (IRCv3 message tags). */
export const MAX_TAGS = 8191;

/** One received IRC message. */
export interface IrcMessage {
  /** Tags sent by the client (unescaped values; "" when a tag has no value). */
  tags: Map<string, string> | undefined;
  /** The source the client wrote (clients normally send none). */
  source: string;
  /** The command, upper case (`PRIVMSG`, `001`). */
  command: string;
  /** The parameters, the trailing one included without its colon. */
  params: string[];
  /** Bytes of the tag section (`@…` and its space), 0 without tags. */
  tagBytes: number;
}

const encoder = new TextEncoder();

/**
 * Parses one line (without its line end). Returns undefined for a line with
 * no command (empty, or only tags and a source). Never throws.
 */
export function parseMessage(line: string): IrcMessage | undefined {
  let i = 0;
  const n = line.length;
  let tags: Map<string, string> | undefined;
  let tagBytes = 0;
  if (line.charCodeAt(0) === 64 /* @ */) {
    let end = line.indexOf(" ");
    if (end === -1) end = n;
    tags = parseTags(line.slice(1, end));
    tagBytes = byteLength(line.slice(0, end)) + 1;
    i = end;
  }
  while (i < n && line.charCodeAt(i) === 32) i++;
  let source = "";
  if (line.charCodeAt(i) === 58 /* : */) {
    let end = line.indexOf(" ", i);
    if (end === -1) end = n;
    source = line.slice(i + 1, end);
    i = end;
    while (i < n && line.charCodeAt(i) === 32) i++;
  }
  let end = line.indexOf(" ", i);
  if (end === -1) end = n;
  const command = line.slice(i, end).toUpperCase();
  if (command === "") return undefined;
  i = end;
  const params: string[] = [];
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    if (line.charCodeAt(i) === 58) {
      params.push(line.slice(i + 1));
      break;
    }
    end = line.indexOf(" ", i);
    if (end === -1) end = n;
    params.push(line.slice(i, end));
    i = end;
  }
  return { tags, source, command, params, tagBytes };
}

/** Parses the tag section without its `@` (`a=1;+b;c=x\sy`). */
export function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq === -1) tags.set(part, "");
    else tags.set(part.slice(0, eq), unescapeTag(part.slice(eq + 1)));
  }
  return tags;
}

const escapes: Record<string, string> = { ":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n" };

/** Unescapes a tag value (`\:` is `;`, `\s` a space, `\\` a backslash, `\r`, `\n`). */
export function unescapeTag(value: string): string {
  if (!value.includes("\\")) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = value[++i];
    if (next === undefined) break; // a lone trailing backslash is dropped
    out += escapes[next] ?? next;
  }
  return out;
}

/** Escapes a tag value for the wire. */
export function escapeTag(value: string): string {
  return value.replace(
    /[;\s\\]/g,
    (c) => c === ";" ? "\\:" : c === " " ? "\\s" : c === "\\" ? "\\\\" : c === "\r" ? "\\r" : c === "\n" ? "\\n" : c,
  );
}

/**
 * Writes a message without its line end: `:source COMMAND p1 p2 :last`.
 * The last parameter gets a colon when it needs one (empty, has a space or
 * starts with a colon), or always with `trailing`. Parameters must not hold
 * CR, LF or NUL.
 */
export function formatMessage(source: string, command: string, params: readonly string[], trailing = false): string {
  let line = source ? `:${source} ${command}` : command;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const last = i === params.length - 1;
    if (last && (trailing || p === "" || p.includes(" ") || p.charCodeAt(0) === 58)) line += " :" + p;
    else line += " " + p;
  }
  return line;
}

/** `@a=1;b ` (with the trailing space) for some tags, or "" for none. */
export function formatTags(tags: readonly (readonly [string, string])[]): string {
  if (tags.length === 0) return "";
  let out = "@";
  for (let i = 0; i < tags.length; i++) {
    const [key, value] = tags[i];
    if (i > 0) out += ";";
    out += value === "" ? key : `${key}=${escapeTag(value)}`;
  }
  return out + " ";
}

/**
 * Characters never echoed back to a client: C0 controls (NUL, CR and LF
 * among them), DEL and the C1 controls.
 */
// deno-lint-ignore no-control-regex -- control characters are what it finds
const UNSAFE = /[\x00-\x1f\x7f-\x9f]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");
/** Most bytes of a middle parameter: a nick mask (`nick!nick@teaparty`) of 32 characters of 4 bytes each fits. */
export const MAX_TOKEN = 270;
/** Bytes of a line's body (source, command, parameters) without CR LF. */
const BODY = MAX_LINE - 2;

/** `text` without control characters (what a client sent is never echoed with NUL, CR, LF …). */
export function stripControls(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, "") : text;
}

/** The longest start of `text` of at most `max` UTF-8 bytes, never cutting a character. */
export function cutBytes(text: string, max: number): string {
  if (text.length * 3 <= max) return text;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const wide = c >= 0xd800 && c <= 0xdbff;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : wide ? 4 : 3;
    if (bytes + size > max) return text.slice(0, i);
    bytes += size;
    if (wide) i++;
  }
  return text;
}

/**
 * A parameter made safe to send back: no control characters, at most `max`
 * bytes. A middle parameter (`token`) also loses spaces and leading colons,
 * which would break the line apart, and is `*` when nothing is left; it is
 * cut to {@linkcode MAX_TOKEN} bytes unless told otherwise.
 */
export function safeParam(text: string, token: boolean, max: number = token ? MAX_TOKEN : BODY): string {
  let out = stripControls(text);
  if (token) {
    if (out.includes(" ")) out = out.replaceAll(" ", "");
    let i = 0;
    while (out.charCodeAt(i) === 58) i++;
    if (i > 0) out = out.slice(i);
  }
  out = cutBytes(out, max);
  return token && out === "" ? "*" : out;
}

/**
 * Writes a reply that may echo what a client sent (a numeric, PONG, FAIL):
 * like {@linkcode formatMessage}, but every parameter goes through
 * {@linkcode safeParam} and the line is cut to 510 bytes (512 with CR LF),
 * the last parameter first, then the longest middle ones.
 */
export function formatReply(source: string, command: string, params: readonly string[], trailing = false): string {
  const last = params.length - 1;
  const safe = params.map((p, i) => safeParam(p, i < last));
  let line = formatMessage(source, command, safe, trailing);
  for (let over = byteLength(line) - BODY; over > 0 && last >= 0; over = byteLength(line) - BODY) {
    let at = last;
    if (safe[last] === "") { // the text is gone: cut the longest middle parameter
      at = 0;
      for (let i = 1; i < last; i++) if (byteLength(safe[i]) > byteLength(safe[at])) at = i;
      if (at === last || byteLength(safe[at]) <= 1) break;
    }
    const cut = cutBytes(safe[at], Math.max(at === last ? 0 : 1, byteLength(safe[at]) - over));
    safe[at] = at === last || cut !== "" ? cut : "*";
    line = formatMessage(source, command, safe, trailing);
  }
  return line;
}

/** The UTF-8 length of a string. */
export function byteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Encodes a line (or several, each already ended with CR LF) as UTF-8. */
export function encode(text: string): Uint8Array {
  return encoder.encode(text);
}
