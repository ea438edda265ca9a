/**
 * A small terminal emulator for unit tests of what the client writes: a
 * grid of cells with a cursor, auto-wrap (with the pending-wrap state of
 * real terminals, and DECAWM to turn it off), scrolling into a scrollback,
 * wide characters taking two cells, and the few control sequences the client
 * uses (CR, LF, BS, BEL, CUF, CUB, CUP, ED, EL, DECSTBM reset, cursor
 * show/hide, DECAWM, SGR, which is ignored). Anything else it meets is
 * recorded in `unknown`, so a test can assert the client sent nothing
 * unexpected.
 *
 * Its columns per character are term/width.ts's unless `widthOf` says
 * otherwise: a test can play a terminal that disagrees with the table (as
 * tmux does for an emoji with a skin tone, drawn as two emoji).
 *
 * @module
 */
import { graphemes, graphemeWidth } from "../term/width.ts";

/** A terminal screen that interprets written text. */
export class FakeTerminal {
  columns: number;
  rows: number;
  grid: string[][];
  /** Rows scrolled off the top, oldest first (as text). */
  readonly scrollback: string[] = [];
  x = 0;
  y = 0;
  cursorVisible = true;
  bells = 0;
  /** Sequences this emulator does not know. */
  readonly unknown: string[] = [];
  /** DECAWM: text reaching the last column goes on at the start of the next row (else it stays in the last column). */
  autowrap = true;
  /** Times text went on at the start of the next row because the row was full. */
  wraps = 0;
  #pendingWrap = false;
  readonly #widthOf: (cluster: string) => number;

  /** @param widthOf columns this terminal gives a grapheme cluster (default: term/width.ts's guess) */
  constructor(columns = 80, rows = 24, widthOf: (cluster: string) => number = graphemeWidth) {
    this.columns = columns;
    this.rows = rows;
    this.grid = Array.from({ length: rows }, () => this.#blank());
    this.#widthOf = widthOf;
  }

  #blank(): string[] {
    return new Array(this.columns).fill(" ");
  }

  /** The TerminalOutput interface the client's Screen writes to. */
  get output(): { write(text: string): void; size(): { columns: number; rows: number } } {
    return { write: (t) => this.write(t), size: () => ({ columns: this.columns, rows: this.rows }) };
  }

  /** Resizes (content is kept where it fits, as many terminals do without reflow). */
  resize(columns: number, rows: number): void {
    const old = this.grid;
    this.columns = columns;
    this.rows = rows;
    this.grid = Array.from({ length: rows }, (_, r) => {
      const row = this.#blank();
      const from = old[old.length - rows + r];
      if (from) { for (let c = 0; c < columns && c < from.length; c++) row[c] = from[c]; }
      return row;
    });
    this.y = Math.min(this.y, rows - 1);
    this.x = Math.min(this.x, columns - 1);
  }

  /** One row as text (wide characters once, trailing spaces trimmed). */
  row(r: number): string {
    return this.grid[r].filter((c) => c !== "").join("").replace(/ +$/, "");
  }

  /** All rows as text. */
  screen(): string[] {
    return this.grid.map((_, r) => this.row(r));
  }

  #lineFeed(): void {
    if (this.y === this.rows - 1) {
      this.scrollback.push(this.row(0));
      this.grid.shift();
      this.grid.push(this.#blank());
    } else {
      this.y++;
    }
  }

  #put(g: string): void {
    const w = Math.min(this.#widthOf(g), this.columns);
    if (w === 0) {
      // A combining mark joins the cell before it.
      const x = Math.max(0, this.x - 1);
      this.grid[this.y][x] += g;
      return;
    }
    if (!this.autowrap) {
      // No wrap: what does not fit is drawn over the last columns, and the cursor stays there.
      this.x = Math.min(this.x, this.columns - w);
      this.#cell(g, w);
      this.x = Math.min(this.columns - 1, this.x + w);
      return;
    }
    if (this.#pendingWrap || this.x + w > this.columns) {
      this.x = 0;
      this.#lineFeed();
      this.#pendingWrap = false;
      this.wraps++;
    }
    this.#cell(g, w);
    if (this.x + w >= this.columns) {
      this.x = this.columns - 1;
      this.#pendingWrap = true;
    } else {
      this.x += w;
    }
  }

  // Puts a character of `w` columns at the cursor; a wide character cut in half by it is blanked.
  #cell(g: string, w: number): void {
    const row = this.grid[this.y];
    const x = this.x;
    if (row[x] === "" && x > 0) row[x - 1] = " ";
    if (row[x + w] === "") row[x + w] = " ";
    row[x] = g;
    for (let i = 1; i < w; i++) row[x + i] = "";
  }

  /** Interprets text as a terminal would. */
  write(text: string): void {
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "\x1b") {
        // deno-lint-ignore no-control-regex
        const m = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(text.slice(i));
        if (!m) {
          this.unknown.push(JSON.stringify(text.slice(i, i + 4)));
          i++;
          continue;
        }
        this.#csi(m[1], m[2]);
        i += m[0].length;
        continue;
      }
      if (c === "\r") {
        this.x = 0;
        this.#pendingWrap = false;
        i++;
        continue;
      }
      if (c === "\n") {
        this.#lineFeed();
        this.#pendingWrap = false;
        i++;
        continue;
      }
      if (c === "\b") {
        this.x = Math.max(0, this.x - 1);
        this.#pendingWrap = false;
        i++;
        continue;
      }
      if (c === "\x07") {
        this.bells++;
        i++;
        continue;
      }
      if (c < " ") {
        this.unknown.push(JSON.stringify(c));
        i++;
        continue;
      }
      // One grapheme at a time (up to the next control character).
      let j = i;
      while (j < text.length && text[j] >= " " && text[j] !== "\x7f") j++;
      for (const g of graphemes(text.slice(i, j))) this.#put(g);
      i = j;
    }
  }

  #csi(params: string, final: string): void {
    const nums = params.replace("?", "").split(";").map((p) => (p === "" ? 0 : Number(p)));
    this.#pendingWrap = false;
    switch (final) {
      case "C":
        this.x = Math.min(this.columns - 1, this.x + (nums[0] || 1));
        return;
      case "D":
        this.x = Math.max(0, this.x - (nums[0] || 1));
        return;
      case "H":
        this.y = Math.min(this.rows - 1, Math.max(0, (nums[0] || 1) - 1));
        this.x = Math.min(this.columns - 1, Math.max(0, (nums[1] || 1) - 1));
        return;
      case "J":
        if (nums[0] === 2) this.grid = Array.from({ length: this.rows }, () => this.#blank());
        else this.unknown.push(`ESC[${params}J`);
        return;
      case "K":
        if (nums[0] === 2) this.grid[this.y] = this.#blank();
        else if (nums[0] === 0) { for (let x = this.x; x < this.columns; x++) this.grid[this.y][x] = " "; }
        else this.unknown.push(`ESC[${params}K`);
        return;
      case "m":
        return;
      case "r":
        this.x = 0;
        this.y = 0;
        return;
      case "h":
      case "l":
        if (params === "?25") this.cursorVisible = final === "h";
        else if (params === "?7") this.autowrap = final === "h";
        else this.unknown.push(`ESC[${params}${final}`);
        return;
      default:
        this.unknown.push(`ESC[${params}${final}`);
    }
  }
}
