/**
 * Splitting text that is too long for one IRC line: a telnet or web user may
 * say up to `--max-line` bytes, an IRC line carries at most 512 bytes with
 * its source and command. The text is cut into pieces of at most `budget`
 * UTF-8 bytes, at the last space that keeps a piece at least half full, else
 * between two characters (never inside one).
 *
 * @example
 * ```ts
 * import { splitText } from "./split.ts";
 * splitText("one two three", 8); // ["one two", "three"]
 * ```
 * @module
 */
import { byteLength } from "./message.ts";

/** Cuts `text` into pieces of at most `budget` bytes (see the module documentation). */
export function splitText(text: string, budget: number): string[] {
  if (budget < 4) budget = 4; // room for one character of any size
  if (text.length <= budget / 3 || byteLength(text) <= budget) return [text];
  const pieces: string[] = [];
  let rest = text;
  while (byteLength(rest) > budget) {
    // The longest prefix that fits, on a character boundary.
    let bytes = 0;
    let cut = 0;
    let space = -1;
    while (cut < rest.length) {
      const c = rest.charCodeAt(cut);
      const wide = c >= 0xd800 && c <= 0xdbff;
      const size = c < 0x80 ? 1 : c < 0x800 ? 2 : wide ? 4 : 3;
      if (bytes + size > budget) break;
      if (c === 32) space = cut;
      bytes += size;
      cut += wide ? 2 : 1;
    }
    if (space > 0 && space >= cut / 2) {
      pieces.push(rest.slice(0, space));
      rest = rest.slice(space + 1);
    } else {
      pieces.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
  }
  if (rest !== "" || pieces.length === 0) pieces.push(rest);
  return pieces;
}
