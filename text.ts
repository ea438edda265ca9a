/**
 * Cleaning a user's line before anyone else sees it: backspace and DEL
 * erase the previous character, Ctrl-U erases the line, ANSI escape
 * sequences and other control characters (and bidirectional overrides) are
 * removed, tabs (and the line and paragraph separators U+2028 and U+2029)
 * become spaces. Invisible characters go too: zero-width space U+200B, word
 * joiner and invisible operators U+2060–U+2064, U+FEFF, soft hyphen U+00AD,
 * U+034F, U+180E, U+17B4/U+17B5, the Hangul fillers (U+115F, U+1160,
 * U+3164, U+FFA0), the deprecated format characters U+206A–U+206F, the
 * interlinear annotation marks U+FFF9–U+FFFB and the tag characters
 * U+E0000–U+E007F, except a flag's tag sequence: right after the black
 * flag 🏴, 1 to 6 tag digits or small letters and the cancel tag U+E007F
 * stay (Scotland is 🏴 + the tags g b s c t + cancel); any other run of
 * tags is removed whole, the 🏴 staying. Zero-width (non-)joiners U+200C and U+200D stay only
 * between two visible characters, where they shape Persian and Indic words
 * and emoji sequences (👩‍💻); anywhere else they are removed.
 *
 * @example
 * ```ts
 * import { cleanLine } from "./text.ts";
 * cleanLine("helo\blo"); // "hello"
 * cleanLine("\x1b[2Jhi\x1b[31m!"); // "hi!"
 * ```
 * @module
 */

// Controls (C0, DEL, C1), the invisible direction overrides, and invisible characters.
const hidden = "\\x00-\\x1f\\x7f-\\x9f\\xad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180e\\u200b-\\u200f" +
  "\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\u3164\\ufeff\\uffa0\\ufff9-\\ufffb";
// Tag characters (U+E0000–U+E007F): invisible, except in an emoji flag's tag sequence after U+1F3F4 (the flag of Scotland).
const tag = /^[\u{e0000}-\u{e007f}]$/u;
const BLACK_FLAG = "\u{1f3f4}";
// A flag's tag sequence (Unicode TS 51 emoji_tag_sequence): 1 to 6 tag digits or small letters, then CANCEL TAG.
const flagTags = /^[\u{e0030}-\u{e0039}\u{e0061}-\u{e007a}]{1,6}\u{e007f}$/u;
const suspicious = new RegExp(`[${hidden}\\u{e0000}-\\u{e007f}]`, "u");
const joiner = /^[\u200c\u200d]$/;
const blank = new RegExp(`^[\\s${hidden}]$`);

// What does not show on its own: spaces, combining marks and variation selectors, default-ignorable
// characters, the Braille blank and the Hangul fillers.
const unseen = /^[\s\p{M}\p{Default_Ignorable_Code_Point}\u2800\u115f\u1160\u3164\uffa0]*$/u;

/**
 * Whether a (cleaned) text has anything visible: a line of only spaces,
 * combining marks, variation selectors or the Braille blank U+2800 looks
 * empty, and is not sent.
 *
 * @example
 * ```ts
 * import { hasVisible } from "./text.ts";
 * hasVisible("hi"); // true
 * hasVisible("\u2800 \u0301\ufe0f"); // false
 * ```
 */
export function hasVisible(text: string): boolean {
  return !unseen.test(text);
}

/** Cleans one received line; see the module documentation. */
export function cleanLine(line: string): string {
  if (!suspicious.test(line)) return line;
  const out: string[] = [];
  const chars = [...line];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const code = c.codePointAt(0)!;
    if (code === 8 || code === 0x7f) {
      out.pop();
    } else if (code === 21) {
      out.length = 0;
    } else if (code === 9 || code === 0x2028 || code === 0x2029) {
      out.push(" ");
    } else if (code === 0x1b) {
      i = skipEscape(chars, i);
    } else if (code === 0x9b) {
      i = skipCsi(chars, i + 1);
    } else if (code === 0x9d) {
      i = skipString(chars, i + 1);
    } else if (code >= 0xe0000 && code <= 0xe007f) {
      // The whole run of tag characters: kept only as a flag's tag sequence, joined to its 🏴 (so a
      // backspace erases the flag whole); any other run is dropped.
      let end = i + 1;
      while (end < chars.length && tag.test(chars[end])) end++;
      const run = chars.slice(i, end).join("");
      if (out[out.length - 1] === BLACK_FLAG && flagTags.test(run)) out[out.length - 1] += run;
      i = end - 1;
    } else if (joiner.test(c)) {
      const before = out[out.length - 1];
      const after = chars[i + 1];
      if (before !== undefined && after !== undefined && !blank.test(before) && !blank.test(after)) out.push(c);
    } else if (!suspicious.test(c)) {
      out.push(c);
    }
  }
  return out.join("");
}

// Returns the index of the last character of the escape sequence at i.
function skipEscape(chars: string[], i: number): number {
  const next = chars[i + 1];
  if (next === undefined) return i;
  if (next === "[") return skipCsi(chars, i + 2);
  if (next === "]" || next === "P" || next === "_" || next === "^" || next === "X") {
    return skipString(chars, i + 2);
  }
  // Two-character escapes (ESC c, ESC 7 …), with intermediate bytes (ESC ( B).
  let j = i + 1;
  while (j < chars.length && chars[j] >= " " && chars[j] <= "/") j++;
  return j < chars.length ? j : chars.length - 1;
}

// CSI: parameter bytes 0x30-0x3F, intermediate 0x20-0x2F, final 0x40-0x7E.
function skipCsi(chars: string[], j: number): number {
  while (j < chars.length) {
    const code = chars[j].codePointAt(0)!;
    if (code >= 0x40 && code <= 0x7e) return j;
    if (code < 0x20 || code > 0x3f) return j - 1; // malformed: stop before it
    j++;
  }
  return chars.length - 1;
}

// OSC, DCS and friends run to BEL or ST (ESC \ or 0x9C).
function skipString(chars: string[], j: number): number {
  while (j < chars.length) {
    const c = chars[j];
    if (c === "\x07" || c === "\x9c") return j;
    if (c === "\x1b" && chars[j + 1] === "\\") return j + 1;
    j++;
  }
  return chars.length - 1;
}
