/**
 * Wildcard masks, as IRC commands take them (`WHO al*`): `*` stands for any
 * run of characters (none too), `?` for exactly one character (a code
 * point, so `?` is one emoji or one CJK character), and everything else
 * for itself. Matching is the greedy two-pointer walk that goes back to
 * the last `*` on a mismatch: at most (mask length × text length) steps,
 * never the exponential backtracking of a RegExp made from the mask
 * (`**********z` against a long nick froze the server for seconds).
 *
 * {@linkcode matchMask} compares characters exactly; {@linkcode nickMask}
 * folds the mask as nicks are folded ({@linkcode foldNick}), for testing
 * the folded keys of nicks.
 *
 * @example
 * ```ts
 * import { matchMask, nickMask } from "./mask.ts";
 * matchMask("al*e", "alice"); // true
 * matchMask("b?b", "bob"); // true
 * matchMask("a*", "bob"); // false
 * nickMask("AL*")("alice"); // true: the mask is folded, "alice" is a folded key
 * ```
 * @module
 */
import { foldNick } from "../nick.ts";

/** Whether `text` matches the wildcard `mask` as a whole (`*`: any run, `?`: one character), case-sensitively. */
export function matchMask(mask: string, text: string): boolean {
  return matchChars([...mask], [...text]);
}

/** A test of folded nick keys (`User.key`) against `mask`, folded once as nicks are (IRC's case-insensitive nicks). */
export function nickMask(mask: string): (key: string) => boolean {
  const pattern = [...foldNick(mask)];
  return (key) => matchChars(pattern, [...key]);
}

function matchChars(p: readonly string[], t: readonly string[]): boolean {
  let i = 0; // in the mask
  let j = 0; // in the text
  let star = -1; // the mask's last `*` seen
  let from = 0; // where in the text that `*` began to match
  while (j < t.length) {
    if (i < p.length && p[i] === "*") {
      star = i++;
      from = j;
    } else if (i < p.length && (p[i] === "?" || p[i] === t[j])) {
      i++;
      j++;
    } else if (star !== -1) { // let the last `*` take one more character, and try again after it
      i = star + 1;
      j = ++from;
    } else {
      return false;
    }
  }
  while (i < p.length && p[i] === "*") i++;
  return i === p.length;
}
