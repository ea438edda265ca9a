/**
 * Which part of a long input line fits on one terminal row, scrolled
 * horizontally so the cursor stays visible. When text is hidden on the left
 * a `<` takes the first column, when text is hidden on the right a `>` takes
 * the last. The window only scrolls when the cursor would leave it, and
 * comes back left when the text shrinks, so it does not jump while typing.
 *
 * @example
 * ```ts
 * import { visibleWindow } from "./window.ts";
 * // 20 one-column characters, room for 10 columns, cursor at the end:
 * const w = visibleWindow(new Array(20).fill(1), 20, 10, 0);
 * // w.start is 12: "<", 8 characters, then the cursor in the last column
 * ```
 * @module
 */

/** The visible part of a line: characters [start, end), and where the cursor goes. */
export interface Window {
  /** First visible character (grapheme index). */
  start: number;
  /** One past the last visible character. */
  end: number;
  /** True when a `<` marks hidden text on the left (it takes column 0). */
  leftMark: boolean;
  /** True when a `>` marks hidden text on the right (it takes the last column). */
  rightMark: boolean;
  /** Column of the cursor, counted from the start of the window. */
  cursorColumn: number;
}

/**
 * Computes the window for characters of the given `widths` (columns per
 * grapheme), the `cursor` (a grapheme index, 0..widths.length), `columns`
 * available (at least 4 for sensible output) and the previous window's start.
 */
export function visibleWindow(widths: readonly number[], cursor: number, columns: number, previousStart = 0): Window {
  const n = widths.length;
  const span = (from: number, to: number) => {
    let sum = 0;
    for (let i = from; i < to; i++) sum += widths[i];
    return sum;
  };
  const mark = (start: number) => (start > 0 ? 1 : 0);
  // The character under the cursor must be whole and left of the last column (kept for `>`);
  // at the end of the line the cursor may sit in the last column itself.
  const cell = cursor < n ? widths[cursor] : 1;
  const limit = cursor < n ? columns - 1 : columns;
  const cursorFits = (start: number) => mark(start) + span(start, cursor) + cell <= limit;
  // Everything from `start` to the end fits, with the cursor cell after it.
  const tailFits = (start: number) => mark(start) + span(start, n) + 1 <= columns;
  let start = Math.min(Math.max(0, previousStart), cursor);
  while (start < cursor && !cursorFits(start)) start++;
  while (start > 0 && tailFits(start - 1)) start--;
  let end = start;
  let used = mark(start);
  while (end < n && used + widths[end] <= columns - 1) used += widths[end++];
  return {
    start,
    end,
    leftMark: start > 0,
    rightMark: end < n,
    cursorColumn: mark(start) + span(start, cursor),
  };
}
