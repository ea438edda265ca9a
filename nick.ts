/**
 * Nick rules: 1–32 characters, starting with a letter of any script; letters,
 * digits and `_ - . [ ] { } | ^` after that; unique case-insensitively.
 *
 * @example
 * ```ts
 * import { checkNick, foldNick } from "./nick.ts";
 * checkNick("茶友"); // undefined: fine
 * checkNick("9lives"); // "a nick must start with a letter"
 * foldNick("Alice") === foldNick("alice"); // true
 * ```
 * @module
 */

/** The longest nick, in characters. */
export const MAX_NICK = 32;

const allowed = /^[\p{L}\p{M}\p{N}_\-.\[\]{}|^]$/u;

/**
 * Checks a nick; returns why it is not acceptable, or `undefined` if it is.
 */
export function checkNick(nick: string): string | undefined {
  if (nick === "") return "a nick cannot be empty";
  const chars = [...nick];
  if (chars.length > MAX_NICK) {
    return `a nick has at most ${MAX_NICK} characters; this one has ${chars.length}`;
  }
  if (!/^\p{L}$/u.test(chars[0])) return "a nick must start with a letter";
  for (const c of chars) {
    if (!allowed.test(c)) {
      return `a nick may not contain ${describe(c)}; use letters, digits and _ - . [ ] { } | ^`;
    }
  }
  return undefined;
}

function describe(c: string): string {
  const code = c.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) return "control characters";
  if (/\s/u.test(c)) return "spaces";
  return `"${c}"`;
}

/**
 * The case-insensitive key of a nick: two nicks clash when their keys match.
 * Final sigma (ς) folds to σ as in Unicode case folding: `toLowerCase()`
 * turns a word-final Σ into ς, so without this "ΚΩΣ" and "κωσ" would differ.
 */
export function foldNick(nick: string): string {
  return nick.normalize("NFKC").toLowerCase().replaceAll("ς", "σ");
}
