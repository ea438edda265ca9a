/**
 * Tab completion of the word before the cursor: `/commands` at the start of
 * the line, nicks anywhere (after `@` too). The first Tab puts in the first
 * match; each further Tab (with nothing typed in between) puts in the next,
 * and after the last comes back to what was typed. A nick completed at the
 * start of the line gets `: ` after it (addressing someone), elsewhere a
 * space.
 *
 * @example
 * ```ts
 * import { Completer } from "./complete.ts";
 * const c = new Completer();
 * const sources = { nicks: ["bob", "bea"], commands: ["/join", "/leave"] };
 * c.complete("hi b", 4, sources); // { text: "hi bea ", cursor: 7 }
 * c.complete("hi bea ", 7, sources); // { text: "hi bob ", cursor: 7 }
 * c.complete("/jo", 3, sources); // { text: "/join ", cursor: 6 }
 * ```
 * @module
 */

/** What can be completed. */
export interface CompletionSources {
  nicks: readonly string[];
  commands: readonly string[];
}

/** A line after completion and the cursor position in it (UTF-16 offsets). */
export interface Completed {
  text: string;
  cursor: number;
}

interface Cycle {
  before: string; // the line before the word
  after: string; // the line after the cursor
  word: string; // what was typed
  choices: string[]; // full replacements (with their suffix)
  index: number; // the choice shown; choices.length = the typed word
  shown: string; // the line as last completed, to know a Tab continues the cycle
}

/** Completes words, cycling through the matches on repeated calls. */
export class Completer {
  #cycle: Cycle | undefined;

  /**
   * Completes the word that ends at `cursor` (an offset into `text`).
   * Returns the new line, or undefined when nothing matches.
   */
  complete(text: string, cursor: number, sources: CompletionSources): Completed | undefined {
    const c = this.#cycle;
    if (c && c.shown === text && c.before.length + (c.choices[c.index] ?? c.word).length === cursor) {
      c.index = (c.index + 1) % (c.choices.length + 1);
      return this.#show(c);
    }
    this.#cycle = undefined;
    const head = text.slice(0, cursor);
    const start = head.search(/\S*$/);
    const word = head.slice(start);
    const before = text.slice(0, start);
    const choices = candidates(word, before.trim() === "", sources);
    if (choices.length === 0) return undefined;
    const cycle: Cycle = { before, after: text.slice(cursor), word, choices, index: 0, shown: "" };
    this.#cycle = cycle;
    return this.#show(cycle);
  }

  /** Forgets the cycle (any key other than Tab). */
  reset(): void {
    this.#cycle = undefined;
  }

  #show(c: Cycle): Completed {
    const put = c.index < c.choices.length ? c.choices[c.index] : c.word;
    // A suffix is not doubled if the rest of the line starts with it already.
    const after = put.endsWith(" ") && c.after.startsWith(" ") ? c.after.slice(1) : c.after;
    c.shown = c.before + put + after;
    return { text: c.shown, cursor: c.before.length + put.length };
  }
}

function candidates(word: string, firstWord: boolean, sources: CompletionSources): string[] {
  const fold = (s: string) => s.toLowerCase();
  if (firstWord && word.startsWith("/")) {
    const w = fold(word);
    return unique(sources.commands.filter((c) => fold(c).startsWith(w) && c.length > 0)).sort().map((c) => c + " ");
  }
  const at = word.startsWith("@") ? "@" : "";
  const prefix = fold(word.slice(at.length));
  if (prefix === "" && !at) return [];
  const suffix = firstWord && !at ? ": " : " ";
  return unique(sources.nicks.filter((n) => fold(n).startsWith(prefix)))
    .sort((a, b) => fold(a).localeCompare(fold(b)))
    .map((n) => at + n + suffix);
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
