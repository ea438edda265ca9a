/**
 * Which received lines are not valid UTF-8. teaparty advertises `UTF8ONLY`,
 * so a line with invalid UTF-8 must not be relayed; but the line reader
 * (line_reader.ts) hands lines over decoded, each bad byte already turned
 * into U+FFFD (which a client may also send on purpose, as valid UTF-8).
 * {@linkcode Utf8Check} is a byte filter for the reader: it sees the bytes
 * as they are read, splits them into lines with the reader's own line-end
 * rule (`findLineEnd`, `lineEndSize` and `crTail` of line_reader.ts: LF,
 * CR LF, CR NUL or a lone CR, also across reads), checks each line's UTF-8
 * (no overlong forms, surrogates or code points past U+10FFFF) and keeps,
 * for the lines that fail, their number and their length in bytes as
 * received. The session asks about each line in turn with
 * {@linkcode Utf8Check.invalid}.
 *
 * @example
 * ```ts
 * import { Utf8Check } from "./utf8.ts";
 * const check = new Utf8Check();
 * const bytes = new Uint8Array([0x68, 0x69, 0x0a, 0xe9, 0x0a]); // "hi\n", then a lone 0xE9
 * check.filter(bytes, 0, bytes.length); // the bytes are left as they are
 * check.invalid(0); // -1: valid
 * check.invalid(1); // 1: invalid, 1 byte long
 * ```
 * @module
 */
import { type ByteFilter, crTail, findLineEnd, lineEndSize } from "../line_reader.ts";

/** Finds the lines that are not valid UTF-8 (see the module documentation). */
export class Utf8Check implements ByteFilter {
  #line = 0; // number of the line being read
  #bytes = 0; // its bytes so far
  #bad = false; // it has invalid UTF-8
  #need = 0; // continuation bytes the current character still needs
  #lo = 0x80; // bounds of the next continuation byte (tighter after E0, ED, F0, F4)
  #hi = 0xbf;
  #afterCr = false; // the last line ended with CR: an LF or NUL next belongs to its end
  #invalid: number[] = []; // pairs (line number, bytes) of invalid lines not yet asked about, from #head on
  #head = 0;

  /** Looks at `buf[start, end)` as it was read; changes nothing and returns `end`. */
  filter(buf: Uint8Array, start: number, end: number): number {
    // The line ends are the line reader's own (line_reader.ts), so the lines are numbered as it gives them.
    let i = start;
    if (this.#afterCr && i < end) {
      this.#afterCr = false;
      if (crTail(buf[i])) i++;
    }
    while (i < end) {
      const at = findLineEnd(buf, i, end);
      this.#check(buf, i, at);
      if (at === end) break;
      this.#endLine();
      const size = lineEndSize(buf, at, end);
      if (size === 0) this.#afterCr = true; // a CR last: an LF or NUL at the start of the next read is its end
      i = at + (size || 1);
    }
    return end;
  }

  /** Checks `buf[from, to)`, bytes of the line being read (no line end among them). */
  #check(buf: Uint8Array, from: number, to: number): void {
    this.#bytes += to - from;
    for (let i = from; i < to && !this.#bad; i++) {
      const b = buf[i];
      if (this.#need > 0) {
        if (b < this.#lo || b > this.#hi) {
          this.#bad = true;
          continue;
        }
        this.#need--;
        this.#lo = 0x80;
        this.#hi = 0xbf;
      } else if (b >= 0x80) {
        if (b >= 0xc2 && b <= 0xdf) this.#need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          this.#need = 2;
          if (b === 0xe0) this.#lo = 0xa0; // no overlong form
          else if (b === 0xed) this.#hi = 0x9f; // no surrogate
        } else if (b >= 0xf0 && b <= 0xf4) {
          this.#need = 3;
          if (b === 0xf0) this.#lo = 0x90; // no overlong form
          else if (b === 0xf4) this.#hi = 0x8f; // nothing past U+10FFFF
        } else this.#bad = true;
      }
    }
  }

  #endLine(): void {
    // Kept until asked about: at most as many as the reader's buffer holds lines.
    if (this.#bad || this.#need > 0) this.#invalid.push(this.#line, this.#bytes);
    this.#line++;
    this.#bytes = 0;
    this.#bad = false;
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  /**
   * Whether line `n` (counting from 0, every line the reader gave, a
   * too-long one included) was invalid UTF-8: its length in bytes as
   * received if it was, else -1. Lines are asked about in order; the
   * answers about earlier lines are forgotten. A last line without its end
   * (the connection closed after it) is answered too.
   */
  invalid(n: number): number {
    const list = this.#invalid;
    let head = this.#head;
    while (head < list.length && list[head] < n) head += 2;
    let bytes = -1;
    if (head < list.length && list[head] === n) {
      bytes = list[head + 1];
      head += 2;
    } else if (n === this.#line && (this.#bad || this.#need > 0)) {
      bytes = this.#bytes;
    }
    if (head === list.length) {
      list.length = 0;
      head = 0;
    } else if (head > 256) {
      list.splice(0, head);
      head = 0;
    }
    this.#head = head;
    return bytes;
  }
}
