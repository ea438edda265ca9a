/**
 * Redraw mode: line editing on the server for a plain terminal in telnet
 * character mode, the way talkers and MUDs do it. The client sends every key
 * as it is pressed and shows only what the server sends, so the server keeps
 * the partial line, echoes each edit with the fewest bytes (a typed character
 * echoes itself; Backspace over a wide character goes back two columns), and
 * when other lines arrive it erases the partial line, lets them print, and
 * draws the partial line again with the cursor where it was.
 *
 * Lines arriving in one turn of the event loop cost one erase and one redraw
 * in all: the erase is queued before the first of them (`output`), the
 * redraw when the session's outbox is written (`flushing`), so the shared
 * bytes of a broadcast go out as they are. A session in line mode has no
 * `Redraw` at all.
 *
 * Keys: Backspace/DEL, Delete, Left/Right, Home/End, Ctrl-A/E/B/F, Alt-B/F,
 * Ctrl-W, Ctrl-U, Ctrl-K, Ctrl-Y, Ctrl-T, Up/Down through the lines sent
 * (not those that may hold a password: `login`, `/register`, `/password`, `/nick`),
 * Tab to complete nicks and /commands, Ctrl-L to redraw, Ctrl-C to drop the
 * line (see term/editor.ts). UTF-8 is assembled from single bytes; a line
 * longer than `maxLine` bytes is not taken past that (a bell, and one notice).
 * While a password is typed (`secret`) nothing is echoed.
 *
 * @example
 * ```ts
 * import { Redraw } from "./redraw.ts";
 * const sent: string[] = [];
 * const redraw = new Redraw({ columns: 80, maxLine: 4096, send: (b) => sent.push(new TextDecoder().decode(b)) });
 * redraw.type(new TextEncoder().encode("hi"));
 * redraw.type(new TextEncoder().encode("\x7f")); // Backspace
 * sent; // ["hi", "\b\x1b[K"]: one echo per read
 * ```
 * @module
 */
import { LineEditor } from "../term/editor.ts";
import { type Key, KeyDecoder } from "../term/keys.ts";
import { ERASE_ROW, InputRow } from "../term/row.ts";
import type { CompletionSources } from "../term/complete.ts";
import { stringWidth } from "../term/width.ts";

const encoder = new TextEncoder();
const ERASE = encoder.encode(ERASE_ROW);
const BELL = 7;
const ESC = 0x1b;
/** Width assumed until the client tells its own (NAWS). */
export const DEFAULT_COLUMNS = 80;
/** Lines the Up key goes back through. */
export const REDRAW_HISTORY = 100;
/**
 * Reads of keys that cost one token of the rate limit (a typist's 10 keys a
 * second, even a held key's 30, stay below the pace this sets, `--rate`
 * times this a second; a flood of one-byte packets is slowed like a flood
 * of lines).
 */
export const KEY_READS_PER_TOKEN = 8;
/** Bytes of keys that cost one token, on top of the reads (a paste of 4 KiB costs 8). */
export const KEY_BYTES_PER_TOKEN = 512;
const READ_UNITS = KEY_BYTES_PER_TOKEN / KEY_READS_PER_TOKEN; // a read costs as much as this many bytes

/** Options of a {@linkcode Redraw}. */
export interface RedrawOptions {
  /** The terminal's width in columns (0: unknown, {@linkcode DEFAULT_COLUMNS}). */
  columns: number;
  /** Longest line in bytes (UTF-8). */
  maxLine: number;
  /** Queues bytes for the terminal (the session's outbox). */
  send(bytes: Uint8Array): void;
  /** Called once per line when typing went past `maxLine`. */
  tooLong?(): void;
  /** What Tab completes from. */
  completions?(): CompletionSources;
}

/** The server's side of one terminal in redraw mode: its partial line, and what the terminal shows of it. */
export class Redraw {
  readonly #editor: LineEditor;
  readonly #keys = new KeyDecoder();
  readonly #decoder = new TextDecoder();
  readonly #row = new InputRow();
  readonly #options: RedrawOptions;
  #columns: number;
  #erased = false; // an erase is queued: the partial line is drawn again when the outbox is written
  #stopped = false;
  #warned = false; // the too-long notice was given for this line
  #lines: Uint8Array[] = []; // lines typed, each with "\n", for the line reader
  #taken = 0; // bytes of #lines[0] already handed on
  #units = 0; // rate-limit cost of keys not yet charged, in bytes

  /** Starts with an empty line; nothing is drawn. */
  constructor(options: RedrawOptions) {
    this.#options = options;
    this.#columns = options.columns > 0 ? options.columns : DEFAULT_COLUMNS;
    this.#editor = new LineEditor({ historySize: REDRAW_HISTORY, completions: options.completions });
  }

  /** The partial line. */
  get text(): string {
    return this.#editor.text;
  }

  /** True while a password is typed: nothing is echoed or remembered. */
  get secret(): boolean {
    return this.#editor.secret;
  }

  set secret(on: boolean) {
    if (on === this.#editor.secret) return;
    this.#editor.secret = on;
    this.#show();
  }

  /** Bytes of typed lines waiting for the line reader. */
  get pending(): number {
    let n = 0;
    for (const line of this.#lines) n += line.length;
    return n - this.#taken;
  }

  /** Moves typed lines (UTF-8, each ending with LF) into `p`; returns the bytes moved. */
  take(p: Uint8Array): number {
    let n = 0;
    while (n < p.length && this.#lines.length > 0) {
      const line = this.#lines[0];
      const part = line.subarray(this.#taken, this.#taken + p.length - n);
      p.set(part, n);
      n += part.length;
      this.#taken += part.length;
      if (this.#taken === line.length) {
        this.#lines.shift();
        this.#taken = 0;
      }
    }
    return n;
  }

  /** Tokens of the rate limit that a read of `bytes` bytes of keys costs (fractions are carried to the next). */
  tokensFor(bytes: number): number {
    this.#units += READ_UNITS + bytes;
    const due = Math.floor(this.#units / KEY_BYTES_PER_TOKEN);
    this.#units -= due * KEY_BYTES_PER_TOKEN;
    return due;
  }

  /** Handles bytes the client sent (telnet commands already removed): keys, possibly split anywhere. */
  type(bytes: Uint8Array): void {
    const keys = this.#keys.feed(this.#decoder.decode(bytes, { stream: true }));
    // A terminal sends a whole escape sequence at once: an ESC that ends a read is the Escape key.
    if (bytes.length > 0 && bytes[bytes.length - 1] === ESC && this.#keys.pending) keys.push(...this.#keys.flush());
    for (const key of keys) this.#key(key);
    this.#show();
  }

  /** Other output is about to be queued: the partial line is erased first (once until the next write). */
  output(): void {
    if (this.#erased || this.#stopped || this.#row.blank) return;
    this.#options.send(ERASE);
    this.#row.clear();
    this.#erased = true;
  }

  /** The outbox is about to write: the partial line, erased for other output, is drawn again after it. */
  flushing(): void {
    if (!this.#erased) return;
    this.#erased = false;
    this.#show();
  }

  /** The terminal's width changed. */
  resize(columns: number): void {
    if (columns <= 0 || columns === this.#columns) return;
    this.#columns = columns;
    if (this.#erased || this.#stopped || this.#row.blank) return;
    this.#row.clear();
    this.#options.send(ERASE);
    this.#show();
  }

  /** No more echo or redraw (the session is saying goodbye). */
  stop(): void {
    this.#stopped = true;
  }

  #key(key: Key): void {
    const editor = this.#editor;
    if ("text" in key) {
      const text = this.#fit(key.text);
      if (text !== "") editor.handle({ text });
      return;
    }
    switch (key.key) {
      case "enter":
        return this.#enter();
      case "interrupt":
        return this.#drop();
      case "redraw":
        if (!this.#erased && !this.#stopped) {
          this.#row.clear();
          this.#options.send(ERASE);
        }
        return;
      case "eof":
        if (editor.text !== "") editor.handle(key);
        return;
    }
    const before = editor.text;
    const cursor = editor.cursor;
    editor.handle(key);
    if (editor.text.length > before.length && !this.#fits(editor.text)) { // a yank, completion or recall too long
      editor.set(before, cursor);
      this.#tooLong();
    }
  }

  // The line is done: it stays on screen as typed, the cursor goes to the next row.
  #enter(): void {
    this.#show(true);
    const result = this.#editor.handle({ key: "enter" }); // a line that may hold a password is not kept for Up
    if (result.action === "submit") this.#lines.push(encoder.encode(result.line + "\n"));
    this.#warned = false;
  }

  // Ctrl-C: the line is given up (shown with ^C, as a shell does).
  #drop(): void {
    if (this.#editor.text === "") return;
    this.#show(true, "^C");
    this.#editor.set("");
    this.#warned = false;
  }

  // Sends what changes the row into the editor's view (nothing while an erase waits for the write).
  // `end`: the line is finished, and `mark` and a line end follow it.
  #show(end = false, mark = ""): void {
    if (this.#stopped) return;
    if (this.#erased) {
      if (!end) return;
      this.#erased = false; // the row is blank after the output queued: the line is drawn there now
    }
    const view = this.#editor.view(Math.max(4, this.#columns - 1));
    let out = this.#row.draw(view.text, view.cursorColumn);
    if (end) {
      out += this.#row.draw(view.text, stringWidth(view.text)) + mark + "\r\n";
      this.#row.clear();
    }
    if (out !== "") this.#options.send(encoder.encode(out));
  }

  // What of `text` still fits in the line (whole code points); a bell and a notice for the rest.
  #fit(text: string): string {
    const line = this.#editor.text;
    if ((line.length + text.length) * 3 <= this.#options.maxLine) return text;
    const room = this.#options.maxLine - utf8Length(line);
    if (utf8Length(text) <= room) return text;
    let used = 0;
    let cut = 0;
    for (const ch of text) {
      const n = utf8Length(ch);
      if (used + n > room) break;
      used += n;
      cut += ch.length;
    }
    this.#tooLong();
    return text.slice(0, cut);
  }

  #fits(text: string): boolean {
    return text.length * 3 <= this.#options.maxLine || utf8Length(text) <= this.#options.maxLine;
  }

  #tooLong(): void {
    this.#options.send(new Uint8Array([BELL]));
    if (this.#warned) return;
    this.#warned = true;
    this.#options.tooLong?.();
  }
}

/** Bytes of `text` in UTF-8 (without encoding it). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
