/**
 * IRC text formatting (colours, bold, italics …), removed from what IRC
 * clients send before anyone else sees it: teaparty's rooms carry plain
 * text, and a telnet user would otherwise read `04red` for a red word. The
 * codes are those of the modern IRC documentation's formatting section:
 *
 * - `\x03` colour, followed by up to two digits (foreground), and optionally
 *   a comma and up to two digits (background); a comma not followed by a
 *   digit is text;
 * - `\x04` hex colour, followed by six hex digits, optionally a comma and six
 *   more;
 * - `\x02` bold, `\x1d` italics, `\x1f` underline, `\x1e` strikethrough,
 *   `\x11` monospace, `\x16` reverse and `\x0f` reset.
 *
 * @example
 * ```ts
 * import { stripFormatting } from "./formatting.ts";
 * stripFormatting("\x0304red\x03 \x02bold\x02"); // "red bold"
 * stripFormatting("\x034,12on blue\x0f 1,2"); // "on blue 1,2"
 * ```
 * @module
 */
import { cleanLine } from "../text.ts";

// deno-lint-ignore no-control-regex -- the format codes are control characters
const FORMATTING = /[\x02-\x04\x0f\x11\x16\x1d-\x1f]/;
// deno-lint-ignore no-control-regex -- the same, with the digits of the colour codes
const CODES = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d-\x1f]/g;

/** `text` without IRC formatting codes (see the module documentation). */
export function stripFormatting(text: string): string {
  return FORMATTING.test(text) ? text.replace(CODES, "") : text;
}

/** Text from an IRC client as everyone else will see it: formatting removed, then cleaned as on every door. */
export function cleanIrcText(text: string): string {
  return cleanLine(stripFormatting(text));
}
