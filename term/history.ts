/**
 * Input history: the lines entered, browsed with Up and Down. Browsing keeps
 * the line that was being typed (the draft) and gives it back past the
 * newest entry. Empty lines and a repeat of the newest entry are not stored.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * const h = new History();
 * h.add("hello");
 * h.add("look");
 * h.up("dra"); // "look"
 * h.up("look"); // "hello"
 * h.down("hello"); // "look"
 * h.down("look"); // "dra" (the draft)
 * ```
 * @module
 */

/**
 * True for a line that may carry a password, never to be kept for recall:
 * a command whose arguments are secret in teaparty's command table (`login
 * nick pw`, `/register pw`, `/password old new`, `/nick nick pw`), with or
 * without the slash, in any case. The client and the server's redraw mode
 * both leave these out of their history.
 *
 * @example
 * ```ts
 * mayHoldPassword("/register tea-for-two"); // true
 * mayHoldPassword("hello"); // false
 * ```
 */
export function mayHoldPassword(line: string): boolean {
  return MAY_HOLD_PASSWORD.test(line);
}
const MAY_HOLD_PASSWORD = /^\s*\/?(login|register|password|nick)\s/i;

/**
 * Where the password of such a line starts (a UTF-16 offset), or -1: after
 * the nick of `login` and `/nick`, after the command of `/register` and
 * `/password`. An editor draws what follows as `*`, so that a password
 * typed on the command line is never shown.
 *
 * @example
 * ```ts
 * import { passwordStart } from "./history.ts";
 * passwordStart("login bob tea-for-two"); // 10
 * passwordStart("/password old new"); // 10
 * passwordStart("login bob"); // -1
 * ```
 */
export function passwordStart(line: string): number {
  const m = /^(\s*\/?(?:(login|nick)\s+\S+|register|password)\s+)\S/i.exec(line);
  return m ? m[1].length : -1;
}

/** A bounded list of entered lines with a browsing position. */
export class History {
  readonly #entries: string[] = [];
  readonly #max: number;
  #pos = -1; // -1: not browsing; else an index into entries
  #draft = "";

  /** @param max how many lines to keep (the oldest are dropped) */
  constructor(max = 500) {
    this.#max = max;
  }

  /** The stored lines, oldest first. */
  get entries(): readonly string[] {
    return this.#entries;
  }

  /** Stores an entered line and ends browsing. */
  add(line: string): void {
    this.#pos = -1;
    if (line.trim() === "" || this.#entries[this.#entries.length - 1] === line) return;
    this.#entries.push(line);
    if (this.#entries.length > this.#max) this.#entries.shift();
  }

  /** The previous (older) line, or undefined at the oldest. `current` is kept as the draft. */
  up(current: string): string | undefined {
    if (this.#entries.length === 0) return undefined;
    if (this.#pos === -1) {
      this.#draft = current;
      this.#pos = this.#entries.length;
    }
    if (this.#pos === 0) return undefined;
    return this.#entries[--this.#pos];
  }

  /** The next (newer) line; past the newest, the draft; undefined when not browsing. */
  down(_current: string): string | undefined {
    if (this.#pos === -1) return undefined;
    if (++this.#pos >= this.#entries.length) {
      this.#pos = -1;
      return this.#draft;
    }
    return this.#entries[this.#pos];
  }

  /** Ends browsing without changing anything (after an edit, the line is the new draft). */
  reset(): void {
    this.#pos = -1;
  }
}
