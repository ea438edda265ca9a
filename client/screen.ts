/**
 * The client's screen: received lines scroll up above, the input line stays
 * on the bottom row. Every update is one write that erases the input row,
 * prints the new lines (they scroll the whole screen, so the terminal keeps
 * them in its scrollback) and draws the input row again with the cursor
 * where it belongs, so what the user is typing is never overwritten. No
 * scroll region is needed. On a resize (or Ctrl-L) the screen is repainted
 * from the lines it keeps.
 *
 * The input row is drawn with autowrap off (DECAWM, `ESC[?7l` … `ESC[?7h`
 * within the same write) and leaves the last column free: when the terminal
 * gives a character more columns than term/width.ts guessed (terminals
 * disagree on emoji with skin tones, VS16 emoji, conjuncts), the row is
 * clipped at the right edge instead of wrapping onto a second row that the
 * next erase would leave behind in the chat. Received lines wrap as usual.
 *
 * It writes to an injected {@linkcode TerminalOutput}, so tests read exactly
 * what a terminal would get.
 *
 * @example
 * ```ts
 * import { Screen } from "./screen.ts";
 * import { LineEditor } from "../term/editor.ts";
 * let written = "";
 * const screen = new Screen({ write: (s) => written += s, size: () => ({ columns: 80, rows: 24 }) }, new LineEditor());
 * screen.start();
 * screen.print([{ segments: [{ text: "bob: hi", sgr: "" }], bell: false }]);
 * ```
 * @module
 */
import type { LineEditor } from "../term/editor.ts";
import { AUTOWRAP_OFF, AUTOWRAP_ON } from "../term/row.ts";
import { graphemes, graphemeWidth, stringWidth } from "../term/width.ts";
import type { Segment, StyledLine } from "./style.ts";
import { cleanLine } from "../text.ts";

/** Where the screen writes, and the terminal's size. */
export interface TerminalOutput {
  write(text: string): void;
  size(): { columns: number; rows: number };
}

/** Options of a {@linkcode Screen}. */
export interface ScreenOptions {
  /** Colours and attributes on. */
  color?: boolean;
  /** Lines kept for repainting (default 1000). */
  keep?: number;
}

const ESC = "\x1b[";
const HIDE_CURSOR = ESC + "?25l";
const SHOW_CURSOR = ESC + "?25h";
const RESET = ESC + "0m";
const ERASE_LINE = "\r" + ESC + "2K";

/** The prompt before the input: `> `, or `(hidden) ` while a password is typed. */
export const PROMPT = "> ";
/** The prompt while input is hidden. */
export const SECRET_PROMPT = "(hidden) ";

/** Received lines above, the input row at the bottom. */
export class Screen {
  readonly #out: TerminalOutput;
  readonly #editor: LineEditor;
  readonly #color: boolean;
  readonly #keep: number;
  readonly #lines: StyledLine[] = [];
  #serverPrompt = "";
  #started = false;

  constructor(out: TerminalOutput, editor: LineEditor, options: ScreenOptions = {}) {
    this.#out = out;
    this.#editor = editor;
    this.#color = options.color ?? true;
    this.#keep = options.keep ?? 1000;
  }

  /** The terminal size (80x24 when it is not known). */
  #size(): { columns: number; rows: number } {
    const { columns, rows } = this.#out.size();
    return { columns: Math.max(columns || 80, 1), rows: Math.max(rows || 24, 1) };
  }

  /** Lines kept for repainting, oldest first. */
  get lines(): readonly StyledLine[] {
    return this.#lines;
  }

  /** Takes over the terminal: the cursor goes to the bottom row and the input row is drawn there. */
  start(): void {
    this.#started = true;
    const { rows } = this.#size();
    this.#out.write(HIDE_CURSOR + `${ESC}${rows};1H` + this.#inputRow() + SHOW_CURSOR);
  }

  /** Prints lines above the input row (one write), ringing the bell if one of them asks for it. */
  print(lines: readonly StyledLine[]): void {
    if (lines.length === 0) return;
    for (const line of lines) this.#lines.push(line);
    if (this.#lines.length > this.#keep) this.#lines.splice(0, this.#lines.length - this.#keep);
    if (!this.#started) return;
    let text = HIDE_CURSOR + ERASE_LINE;
    for (const line of lines) text += this.#render(line.segments) + "\r\n";
    if (lines.some((l) => l.bell)) text += "\x07";
    this.#out.write(text + this.#inputRow() + SHOW_CURSOR);
  }

  /**
   * Sets the server's prompt: text that came without a line end (`Name: `),
   * shown at the start of the input row instead of `> `. "" for none.
   */
  setServerPrompt(text: string): void {
    const clean = cleanLine(text);
    if (clean === this.#serverPrompt) return;
    this.#serverPrompt = clean;
    this.drawInput();
  }

  /** The server prompt shown now ("" if none). */
  get serverPrompt(): string {
    return this.#serverPrompt;
  }

  /** Draws the input row again (after an edit). */
  drawInput(): void {
    if (!this.#started) return;
    this.#out.write(HIDE_CURSOR + this.#inputRow() + SHOW_CURSOR);
  }

  /** Clears the screen and draws the newest lines and the input row again (resize, Ctrl-L). */
  repaint(): void {
    if (!this.#started) return;
    const { columns, rows } = this.#size();
    const room = rows - 1;
    const shown: Segment[][] = [];
    for (let i = this.#lines.length - 1; i >= 0 && shown.length < room; i--) {
      const wrapped = wrapSegments(this.#lines[i].segments, columns);
      shown.unshift(...wrapped.slice(Math.max(0, wrapped.length - (room - shown.length))));
    }
    let text = HIDE_CURSOR + ESC + "H" + ESC + "2J";
    const top = room - shown.length + 1;
    shown.forEach((row, i) => text += `${ESC}${top + i};1H` + this.#render(row));
    text += `${ESC}${rows};1H` + this.#inputRow() + SHOW_CURSOR;
    this.#out.write(text);
  }

  /**
   * Gives the terminal back: the input row is erased and the cursor left at
   * its start, visible, with attributes and any scroll region reset.
   */
  end(): void {
    if (!this.#started) return;
    this.#started = false;
    const { rows } = this.#size();
    // DECSTBM (ESC [ r) moves the cursor home, so the bottom row is found again after it.
    this.#out.write(ERASE_LINE + RESET + ESC + "r" + AUTOWRAP_ON + `${ESC}${rows};1H` + SHOW_CURSOR);
  }

  // Erases the input row and draws prompt, text and cursor, all within the
  // row, with autowrap off and the last column left free.
  #inputRow(): string {
    const room = Math.max(1, this.#size().columns - 1);
    const secret = this.#editor.secret;
    let prompt = this.#serverPrompt || (secret ? SECRET_PROMPT : PROMPT);
    if (this.#serverPrompt && secret) prompt += SECRET_PROMPT;
    // A prompt may take at most half the row; its end is what matters.
    let promptWidth = stringWidth(prompt);
    const maxPrompt = Math.floor(room / 2);
    if (promptWidth > maxPrompt) {
      const g = graphemes(prompt);
      while (g.length && promptWidth > maxPrompt) promptWidth -= graphemeWidth(g.shift()!);
      prompt = g.join("");
    }
    const view = this.#editor.view(room - promptWidth);
    const sgr = (code: string, text: string) => this.#color && text ? `${ESC}${code}m${text}${RESET}` : text;
    let text = view.text;
    if (this.#color && (view.leftMark || view.rightMark)) {
      // The scroll marks are drawn dimmed.
      const body = text.slice(view.leftMark ? 1 : 0, view.rightMark ? text.length - 1 : text.length);
      text = (view.leftMark ? sgr("2", "<") : "") + body + (view.rightMark ? sgr("2", ">") : "");
    }
    const column = promptWidth + view.cursorColumn;
    return AUTOWRAP_OFF + ERASE_LINE + sgr(this.#serverPrompt ? "" : "2", prompt) + text + "\r" +
      (column ? `${ESC}${column}C` : "") + AUTOWRAP_ON;
  }

  #render(segments: readonly Segment[]): string {
    let text = "";
    for (const s of segments) text += this.#color && s.sgr ? `${ESC}${s.sgr}m${s.text}${RESET}` : s.text;
    return text;
  }
}

/** Cuts styled text into terminal rows of at most `columns` columns, as the terminal wraps it. */
export function wrapSegments(segments: readonly Segment[], columns: number): Segment[][] {
  const rows: Segment[][] = [[]];
  let used = 0;
  for (const s of segments) {
    let piece = "";
    for (const g of graphemes(s.text)) {
      const w = graphemeWidth(g);
      if (used + w > columns && used > 0) {
        if (piece) rows[rows.length - 1].push({ text: piece, sgr: s.sgr });
        rows.push([]);
        piece = "";
        used = 0;
      }
      piece += g;
      used += w;
    }
    if (piece) rows[rows.length - 1].push({ text: piece, sgr: s.sgr });
  }
  return rows;
}
