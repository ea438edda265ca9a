/**
 * Splitting text that is too long for one IRC line: a telnet or web user may
 * say up to `--max-line` bytes, an IRC line carries at most 512 bytes with
 * its source and command. The text is cut into pieces of at most `budget`
 * UTF-8 bytes, at the last space that keeps a piece at least half full, else
 * between two characters (never inside one). A list of words (the nicks of
 * a NAMES or ISON reply, the channels of a WHOIS) is cut between words
 * instead, by {@linkcode splitWords}.
 *
 * @example
 * ```ts
 * import { splitText, splitWords } from "./split.ts";
 * splitText("one two three", 8); // ["one two", "three"]
 * splitWords(["#a", "#bb", "#c"], 6); // ["#a #bb", "#c"]
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

/**
 * Joins `words` with spaces into lines of at most `budget` UTF-8 bytes, in
 * order, never cutting a word (a word longer than `budget` has a line of
 * its own). No words: no lines.
 */
export function splitWords(words: Iterable<string>, budget: number): string[] {
  const lines: string[] = [];
  let line = "";
  let bytes = 0;
  for (const word of words) {
    const size = byteLength(word);
    if (line !== "" && bytes + 1 + size > budget) {
      lines.push(line);
      line = "";
    }
    if (line === "") {
      line = word;
      bytes = size;
    } else {
      line += " " + word;
      bytes += 1 + size;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
