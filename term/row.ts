/**
 * The input row as a terminal shows it, for a server that echoes what is
 * typed: what is drawn there (grapheme clusters and their widths) and where
 * the cursor is, and the fewest bytes that turn it into a new picture. A
 * typed character echoes itself, Backspace at the end moves back over the
 * character's columns (two for a wide one) and erases to the end of the row,
 * an arrow moves the cursor, an edit in the middle rewrites from the first
 * changed character on. The row never reaches the terminal's last column
 * (the caller keeps the text narrower), so the terminal never wraps it and
 * the cursor arithmetic holds.
 *
 * That holds as long as the terminal gives each character the columns
 * term/width.ts guesses. For characters terminals disagree on (an emoji with
 * a skin tone, which tmux draws as two emoji; a Devanagari conjunct) the
 * guess may be short, so a row holding one is drawn with autowrap off
 * (DECAWM, {@linkcode AUTOWRAP_OFF} … {@linkcode AUTOWRAP_ON} in the same
 * bytes): a terminal that draws it wider clips it at the last column instead
 * of wrapping it onto a second row that the next erase would leave behind.
 * Text every terminal agrees on is echoed as it is.
 *
 * @example
 * ```ts
 * import { InputRow } from "./row.ts";
 * const row = new InputRow();
 * row.draw("hel", 3); // "hel"
 * row.draw("hell", 4); // "l"
 * row.draw("茶", 2); // "\b\b\b\b茶\x1b[K": from the first changed character on
 * row.draw("", 0); // "\b\b\x1b[K"
 * ```
 * @module
 */
import { graphemes, graphemeWidth, maxGraphemeWidth } from "./width.ts";

/** `CR` and erase to the end of the row: the input row is blank, the cursor in column 0. */
export const ERASE_ROW = "\r\x1b[K";
/** DECAWM off: text reaching the last column stays there instead of going on at the start of the next row. */
export const AUTOWRAP_OFF = "\x1b[?7l";
/** DECAWM on again (the terminal's default). */
export const AUTOWRAP_ON = "\x1b[?7h";

/** What one input row shows, and the bytes (as a string) that change it. */
export class InputRow {
  #cells: string[] = [];
  #widths: number[] = [];
  #width = 0; // columns of #cells
  #cursor = 0; // the cursor's column

  /** True when nothing is drawn and the cursor is in column 0. */
  get blank(): boolean {
    return this.#cells.length === 0 && this.#cursor === 0;
  }

  /** The text drawn. */
  get text(): string {
    return this.#cells.join("");
  }

  /** The cursor's column (0-based). */
  get cursor(): number {
    return this.#cursor;
  }

  /** The row is blank now (an {@linkcode ERASE_ROW} or a line end was sent). */
  clear(): void {
    this.#cells = [];
    this.#widths = [];
    this.#width = 0;
    this.#cursor = 0;
  }

  /**
   * The bytes (text and escape sequences) that change the row to show
   * `text` with the cursor at column `cursor`; "" if nothing changes.
   */
  draw(text: string, cursor: number): string {
    const cells = graphemes(text);
    const old = this.#cells;
    let same = 0;
    let column = 0;
    while (same < cells.length && same < old.length && cells[same] === old[same]) column += this.#widths[same++];
    let out = "";
    let at = this.#cursor;
    let width = column;
    const widths = this.#widths.slice(0, same);
    if (same < cells.length || same < old.length) {
      out += move(at, column);
      for (let i = same; i < cells.length; i++) {
        const w = graphemeWidth(cells[i]);
        widths.push(w);
        width += w;
        out += cells[i];
      }
      at = width;
      if (width < this.#width) out += "\x1b[K";
      if (same < cells.length && cells.some(uncertain)) out = AUTOWRAP_OFF + out + AUTOWRAP_ON;
    } else {
      width = this.#width;
    }
    out += move(at, cursor);
    this.#cells = cells;
    this.#widths = widths;
    this.#width = width;
    this.#cursor = cursor;
    return out;
  }
}

/** True for a character a terminal may draw wider than term/width.ts guesses. */
function uncertain(cell: string): boolean {
  return cell.length > 1 && maxGraphemeWidth(cell) > graphemeWidth(cell);
}

/** Moves the cursor from column `from` to column `to` on its row. */
function move(from: number, to: number): string {
  if (to === from) return "";
  if (to < from) return from - to <= 4 ? "\b".repeat(from - to) : `\x1b[${from - to}D`;
  return `\x1b[${to - from}C`;
}
