/**
 * A one-line editor over grapheme clusters, with Emacs-style keys, history
 * and Tab completion, and the horizontal window that shows it on one row.
 * It knows nothing about terminals: it takes {@linkcode Key} events and
 * answers what happened; `view()` says what to draw.
 *
 * Keys: Left/Right (Ctrl-B/F), Home/End (Ctrl-A/E), Alt-B/F or Ctrl-Left/Right
 * by word, Backspace, Delete (Ctrl-D on a non-empty line), Ctrl-W (word
 * before the cursor), Alt-D (word after), Ctrl-U (to the start), Ctrl-K (to
 * the end), Ctrl-Y (put back what was cut), Ctrl-T (swap two characters),
 * Up/Down (Ctrl-P/N) through history, Tab to complete.
 *
 * In secret mode (a password) nothing is shown, nothing goes to history or
 * the cut buffer (Ctrl-U, Ctrl-W, Ctrl-K and Alt-D only delete), Tab and
 * history are off, and leaving it empties the line: nothing typed in it stays
 * anywhere. Lines that may carry a password (`login nick pw`, `/register pw`,
 * see {@linkcode mayHoldPassword}) are not kept in history either.
 *
 * @example
 * ```ts
 * import { LineEditor } from "./editor.ts";
 * const ed = new LineEditor();
 * ed.handle({ text: "helo" });
 * ed.handle({ key: "left" });
 * ed.handle({ text: "l" });
 * ed.handle({ key: "enter" }); // { action: "submit", line: "hello" }
 * ```
 * @module
 */
import type { Key } from "./keys.ts";
import { graphemes, graphemeWidth } from "./width.ts";
import { History, mayHoldPassword, passwordStart } from "./history.ts";
import { Completer, type CompletionSources } from "./complete.ts";
import { visibleWindow } from "./window.ts";

/** What a key did: nothing visible, a change to redraw, or an action for the caller. */
export type EditResult =
  | { action: "none" }
  | { action: "changed" }
  | { action: "submit"; line: string }
  | { action: "interrupt" }
  | { action: "eof" }
  | { action: "redraw" };

/** What to draw on the input row. */
export interface EditorView {
  /** The visible text, marks included. */
  text: string;
  /** Column of the cursor within `text` (0-based). */
  cursorColumn: number;
  /** True when a `<` starts `text` (hidden text on the left). */
  leftMark: boolean;
  /** True when a `>` ends `text` (hidden text on the right). */
  rightMark: boolean;
}

/** Options of a {@linkcode LineEditor}. */
export interface LineEditorOptions {
  /** Lines kept in history (default 500). */
  historySize?: number;
  /** What Tab completes from; asked at each Tab. */
  completions?: () => CompletionSources;
  /** Which entered lines history keeps (default: all but those that may hold a password). */
  keep?: (line: string) => boolean;
}

const isSpace = (g: string) => /^\s+$/u.test(g);

/** A line being edited: graphemes, a cursor between them, history and completion. */
export class LineEditor {
  #chars: string[] = [];
  #cursor = 0;
  #windowStart = 0;
  #cut = "";
  #secret = false;
  readonly history: History;
  readonly #completer = new Completer();
  readonly #completions: () => CompletionSources;
  readonly #keep: (line: string) => boolean;

  constructor(options: LineEditorOptions = {}) {
    this.history = new History(options.historySize);
    this.#completions = options.completions ?? (() => ({ nicks: [], commands: [] }));
    this.#keep = options.keep ?? ((line) => !mayHoldPassword(line));
  }

  /**
   * True while a password is typed: nothing is shown or remembered. Turning
   * it off empties the line (what was typed in secret mode is gone); text on
   * the line when it is turned on stays (hidden).
   */
  get secret(): boolean {
    return this.#secret;
  }

  set secret(on: boolean) {
    if (on === this.#secret) return;
    this.#secret = on;
    this.history.reset();
    this.#completer.reset();
    if (!on) this.set("");
  }

  /** The whole line. */
  get text(): string {
    return this.#chars.join("");
  }

  /** The cursor, as a grapheme index (0 = before the first character). */
  get cursor(): number {
    return this.#cursor;
  }

  /** Replaces the line; the cursor goes to `cursor` (a grapheme index) or the end. */
  set(text: string, cursor?: number): void {
    this.#chars = graphemes(text);
    this.#cursor = cursor === undefined ? this.#chars.length : Math.max(0, Math.min(cursor, this.#chars.length));
  }

  /** Inserts text at the cursor (a combining mark joins the character before it). */
  insert(text: string): void {
    const before = this.#chars.slice(0, this.#cursor).join("") + text;
    this.#reshape(before + this.#chars.slice(this.#cursor).join(""), before.length);
  }

  // Splits the line into clusters anew and puts the cursor at a UTF-16
  // offset (at the end of the cluster it falls in).
  #reshape(text: string, offset: number): void {
    this.#chars = graphemes(text);
    let at = 0;
    let i = 0;
    while (i < this.#chars.length && at < offset) at += this.#chars[i++].length;
    this.#cursor = i;
  }

  /** Handles one key. */
  handle(key: Key): EditResult {
    if ("text" in key) {
      this.#completer.reset();
      this.history.reset();
      this.insert(key.text);
      return changed;
    }
    if (key.key !== "tab") this.#completer.reset();
    switch (key.key) {
      case "enter":
        return this.#submit();
      case "interrupt":
        return { action: "interrupt" };
      case "eof":
        if (this.#chars.length === 0) return { action: "eof" };
        return this.#delete(this.#cursor, this.#cursor + 1);
      case "redraw":
        return { action: "redraw" };
      case "left":
        return this.#move(this.#cursor - 1);
      case "right":
        return this.#move(this.#cursor + 1);
      case "home":
        return this.#move(0);
      case "end":
        return this.#move(this.#chars.length);
      case "word-left":
        return this.#move(this.#wordStart());
      case "word-right":
        return this.#move(this.#wordEnd());
      case "backspace":
        return this.#delete(this.#cursor - 1, this.#cursor);
      case "delete":
        return this.#delete(this.#cursor, this.#cursor + 1);
      case "delete-word-back":
        return this.#cutRange(this.#wordStart(), this.#cursor);
      case "delete-word-forward":
        return this.#cutRange(this.#cursor, this.#wordEnd());
      case "kill-to-start":
        return this.#cutRange(0, this.#cursor);
      case "kill-to-end":
        return this.#cutRange(this.#cursor, this.#chars.length);
      case "yank":
        if (!this.#cut) return none;
        this.insert(this.#cut);
        return changed;
      case "transpose":
        return this.#transpose();
      case "up":
        return this.#recall(this.secret ? undefined : this.history.up(this.text));
      case "down":
        return this.#recall(this.secret ? undefined : this.history.down(this.text));
      case "tab":
        return this.#complete();
      case "escape":
        return none;
    }
  }

  /**
   * What the input row shows in `columns` columns: the visible part of the
   * line and the cursor column. Remembers the scroll position for the next call.
   */
  view(columns: number): EditorView {
    if (this.secret) return { text: "", cursorColumn: 0, leftMark: false, rightMark: false };
    const chars = this.#shown();
    const widths = chars.map(graphemeWidth);
    const w = visibleWindow(widths, this.#cursor, Math.max(1, columns), this.#windowStart);
    this.#windowStart = w.start;
    const text = (w.leftMark ? "<" : "") + chars.slice(w.start, w.end).join("") + (w.rightMark ? ">" : "");
    return { text, cursorColumn: w.cursorColumn, leftMark: w.leftMark, rightMark: w.rightMark };
  }

  // The characters as drawn: a password typed on the command line (`login bob pw`) shows as `*`.
  #shown(): string[] {
    const chars = this.#chars;
    if (chars.length < 6 || !mayHoldPassword(chars.slice(0, 12).join(""))) return chars;
    const start = passwordStart(chars.join(""));
    if (start < 0) return chars;
    let at = 0;
    return chars.map((c) => {
      const masked = at >= start && !/^\s$/u.test(c);
      at += c.length;
      return masked ? "*" : c;
    });
  }

  #submit(): EditResult {
    const line = this.text;
    if (!this.secret && this.#keep(line)) this.history.add(line);
    else this.history.reset();
    this.#chars = [];
    this.#cursor = 0;
    this.#windowStart = 0;
    return { action: "submit", line };
  }

  #move(to: number): EditResult {
    const c = Math.max(0, Math.min(to, this.#chars.length));
    if (c === this.#cursor) return none;
    this.#cursor = c;
    return changed;
  }

  #delete(from: number, to: number): EditResult {
    from = Math.max(0, from);
    to = Math.min(this.#chars.length, to);
    if (from >= to) return none;
    this.history.reset();
    // Removing a character can let two neighbours form one cluster (a mark after a letter).
    const before = this.#chars.slice(0, from).join("");
    this.#reshape(before + this.#chars.slice(to).join(""), before.length);
    return changed;
  }

  // Cuts into the cut buffer, or in secret mode only deletes: a password is never kept.
  #cutRange(from: number, to: number): EditResult {
    if (from >= to) return none;
    if (!this.secret) this.#cut = this.#chars.slice(from, to).join("");
    return this.#delete(from, to);
  }

  #transpose(): EditResult {
    const n = this.#chars.length;
    if (n < 2 || this.#cursor === 0) return none;
    const at = this.#cursor === n ? n - 1 : this.#cursor; // at the end, swap the last two
    const chars = this.#chars;
    [chars[at - 1], chars[at]] = [chars[at], chars[at - 1]];
    this.#cursor = at + 1;
    return changed;
  }

  // Start of the word before the cursor (spaces right before it are skipped first).
  #wordStart(): number {
    let i = this.#cursor;
    while (i > 0 && isSpace(this.#chars[i - 1])) i--;
    while (i > 0 && !isSpace(this.#chars[i - 1])) i--;
    return i;
  }

  // End of the word after the cursor.
  #wordEnd(): number {
    let i = this.#cursor;
    const n = this.#chars.length;
    while (i < n && isSpace(this.#chars[i])) i++;
    while (i < n && !isSpace(this.#chars[i])) i++;
    return i;
  }

  #recall(line: string | undefined): EditResult {
    if (line === undefined) return none;
    this.set(line);
    return changed;
  }

  #complete(): EditResult {
    if (this.secret) return none;
    const offset = this.#chars.slice(0, this.#cursor).join("").length;
    const done = this.#completer.complete(this.text, offset, this.#completions());
    if (!done) return none;
    this.#reshape(done.text, done.cursor);
    return changed;
  }
}

const none: EditResult = { action: "none" };
const changed: EditResult = { action: "changed" };
