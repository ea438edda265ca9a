/**
 * Turns what a terminal sends for key presses (text, control characters,
 * escape sequences) into key events. Unknown escape sequences are swallowed
 * whole, so they never end up in the text being edited. A sequence split
 * across reads is kept until the rest arrives; a lone Escape is only known
 * as such when nothing follows, so the caller calls `flush()` after a short
 * pause when `pending` is true.
 *
 * @example
 * ```ts
 * import { KeyDecoder } from "./keys.ts";
 * const keys = new KeyDecoder();
 * keys.feed("hi\x1b[D\x01"); // [{text: "hi"}, {key: "left"}, {key: "home"}]
 * ```
 * @module
 */

/** The editing keys the decoder knows. */
export type KeyName =
  | "enter"
  | "tab"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "word-left"
  | "word-right"
  | "delete-word-back"
  | "delete-word-forward"
  | "kill-to-start"
  | "kill-to-end"
  | "yank"
  | "transpose"
  | "interrupt"
  | "eof"
  | "redraw"
  | "escape";

/** One key event: typed (or pasted) text, or a named key. */
export type Key = { text: string } | { key: KeyName };

const controls: Record<number, KeyName> = {
  0x01: "home", // Ctrl-A
  0x02: "left", // Ctrl-B
  0x03: "interrupt", // Ctrl-C
  0x04: "eof", // Ctrl-D
  0x05: "end", // Ctrl-E
  0x06: "right", // Ctrl-F
  0x08: "backspace", // Ctrl-H
  0x09: "tab",
  0x0a: "enter",
  0x0b: "kill-to-end", // Ctrl-K
  0x0c: "redraw", // Ctrl-L
  0x0d: "enter",
  0x0e: "down", // Ctrl-N
  0x10: "up", // Ctrl-P
  0x14: "transpose", // Ctrl-T
  0x15: "kill-to-start", // Ctrl-U
  0x17: "delete-word-back", // Ctrl-W
  0x19: "yank", // Ctrl-Y
  0x7f: "backspace",
};

// Final byte of CSI / SS3 sequences without parameters (or with modifiers).
const finals: Record<string, KeyName> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
};

// CSI <n> ~ sequences.
const tildes: Record<string, KeyName> = {
  "1": "home",
  "7": "home",
  "4": "end",
  "8": "end",
  "3": "delete",
};

// Alt (Meta) + letter, sent as ESC + letter.
const meta: Record<string, KeyName> = {
  b: "word-left",
  f: "word-right",
  d: "delete-word-forward",
  "\x7f": "delete-word-back",
  "\x08": "delete-word-back",
};

/** Decodes terminal input into {@linkcode Key} events, keeping split sequences. */
export class KeyDecoder {
  #rest = "";
  #lastWasCr = false;

  /** True while an escape sequence has begun but not ended. */
  get pending(): boolean {
    return this.#rest !== "";
  }

  /** Decodes more input (already UTF-8 decoded). */
  feed(input: string): Key[] {
    const s = this.#rest + input;
    this.#rest = "";
    const keys: Key[] = [];
    let text = "";
    const push = (key: Key) => {
      if (text) keys.push({ text });
      text = "";
      keys.push(key);
    };
    let i = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x1b) {
        const end = sequenceEnd(s, i);
        if (end === -1) {
          this.#rest = s.slice(i);
          break;
        }
        const key = escapeKey(s.slice(i, end));
        if (key) push({ key });
        i = end;
        this.#lastWasCr = false;
        continue;
      }
      if (c < 0x20 || c === 0x7f) {
        // CR LF (a pasted line end, or a terminal sending both) is one Enter.
        if (!(c === 0x0a && this.#lastWasCr)) {
          const key = controls[c];
          if (key) push({ key });
        }
        this.#lastWasCr = c === 0x0d;
        i++;
        continue;
      }
      this.#lastWasCr = false;
      const cp = s.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      if (cp < 0x80 || cp > 0x9f) text += s.slice(i, i + n); // C1 controls are dropped
      i += n;
    }
    if (text) keys.push({ text });
    return keys;
  }

  /** Ends a pending sequence after a pause: a lone ESC is the Escape key. */
  flush(): Key[] {
    const rest = this.#rest;
    this.#rest = "";
    if (rest === "") return [];
    if (rest === "\x1b") return [{ key: "escape" }];
    // An incomplete sequence that never finished: drop it.
    return [];
  }
}

// Index just past the escape sequence starting at i, or -1 if it is incomplete.
function sequenceEnd(s: string, i: number): number {
  if (i + 1 >= s.length) return -1;
  const next = s[i + 1];
  if (next === "[") {
    let j = i + 2;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) return j + 1;
      if (c < 0x20 || c > 0x3f) return j; // malformed: end before the odd byte
      j++;
    }
    return -1;
  }
  if (next === "O") return i + 2 < s.length ? i + 3 : -1;
  if (next === "\x1b") return i + 1; // ESC ESC: the first is a lone Escape
  const cp = s.codePointAt(i + 1)!;
  return i + 1 + (cp > 0xffff ? 2 : 1);
}

function escapeKey(seq: string): KeyName | undefined {
  if (seq.startsWith("\x1b[")) {
    const body = seq.slice(2, -1);
    const final = seq[seq.length - 1];
    if (final === "~") return tildes[body.split(";")[0]];
    const key = finals[final];
    if (!key) return undefined;
    const modifier = body.split(";")[1];
    // Ctrl (5) or Alt (3) with Left/Right moves by word.
    if (modifier === "5" || modifier === "3") {
      if (key === "left") return "word-left";
      if (key === "right") return "word-right";
    }
    return key;
  }
  if (seq.startsWith("\x1bO")) return finals[seq[2]];
  if (seq === "\x1b") return "escape";
  return meta[seq.slice(1)];
}
