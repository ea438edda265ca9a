/**
 * How many terminal columns text takes: East Asian wide and fullwidth
 * characters (CJK, Hangul, kana, fullwidth forms) and emoji take two,
 * combining marks and other zero-width characters none, everything else one.
 * Text is measured by grapheme cluster (what a user sees as one character:
 * `e` + a combining accent, a flag, an emoji with a skin tone or a ZWJ
 * family), because the cursor moves over those as a whole.
 *
 * The wide ranges are Unicode 17's East_Asian_Width W and F classes (the
 * unit test checks them against the `get-east-asian-width` package).
 *
 * @example
 * ```ts
 * import { stringWidth, graphemes } from "./width.ts";
 * stringWidth("tea"); // 3
 * stringWidth("茶会"); // 4
 * stringWidth("🍵!"); // 3
 * graphemes("e\u0301a"); // ["e\u0301", "a"]: the accent belongs to its letter
 * ```
 * @module
 */

// Unicode 17 East_Asian_Width W and F, as hex code point ranges.
const WIDE_RANGES = "1100-115f 231a-231b 2329-232a 23e9-23ec 23f0 23f3 25fd-25fe 2614-2615 2630-2637 2648-2653 267f " +
  "268a-268f 2693 26a1 26aa-26ab 26bd-26be 26c4-26c5 26ce 26d4 26ea 26f2-26f3 26f5 26fa 26fd 2705 " +
  "270a-270b 2728 274c 274e 2753-2755 2757 2795-2797 27b0 27bf 2b1b-2b1c 2b50 2b55 2e80-2e99 2e9b-2ef3 " +
  "2f00-2fd5 2ff0-303e 3041-3096 3099-30ff 3105-312f 3131-318e 3190-31e5 31ef-321e 3220-3247 3250-a48c " +
  "a490-a4c6 a960-a97c ac00-d7a3 f900-faff fe10-fe19 fe30-fe52 fe54-fe66 fe68-fe6b ff01-ff60 ffe0-ffe6 " +
  "16fe0-16fe4 16ff0-16ff6 17000-18cda 18cff-18d20 18d80-18df2 18e00-19191 191a0-191d2 1aff0-1aff3 " +
  "1aff5-1affb 1affd-1affe 1b000-1b128 1b132 1b150-1b152 1b155 1b164-1b168 1b170-1b2fb 1d300-1d356 " +
  "1d360-1d376 1f004 1f0cf 1f18e 1f191-1f19a 1f1ae 1f200-1f202 1f210-1f23b 1f240-1f248 1f250-1f251 " +
  "1f260-1f265 1f300-1f320 1f32d-1f335 1f337-1f37c 1f37e-1f393 1f3a0-1f3ca 1f3cf-1f3d3 1f3e0-1f3f0 " +
  "1f3f4 1f3f8-1f43e 1f440 1f442-1f4fc 1f4ff-1f53d 1f54b-1f54e 1f550-1f567 1f57a 1f595-1f596 1f5a4 " +
  "1f5fb-1f64f 1f680-1f6c5 1f6cc 1f6d0-1f6d2 1f6d5-1f6d9 1f6dc-1f6df 1f6eb-1f6ec 1f6f4-1f6fc 1f7da " +
  "1f7e0-1f7eb 1f7f0 1f90c-1f93a 1f93c-1f945 1f947-1f9ff 1fa70-1fa7c 1fa80-1fac6 1fac8 1facc-1fadd " +
  "1fadf-1faeb 1faef-1fafa 20000-2fffd 30000-3fffd";

// Range starts and ends, interleaved and sorted, for a binary search.
const wide: Uint32Array = (() => {
  const parts = WIDE_RANGES.split(" ");
  const out = new Uint32Array(parts.length * 2);
  parts.forEach((part, i) => {
    const [from, to = from] = part.split("-");
    out[2 * i] = parseInt(from, 16);
    out[2 * i + 1] = parseInt(to, 16);
  });
  return out;
})();

function isWide(cp: number): boolean {
  let lo = 0;
  let hi = wide.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < wide[2 * mid]) hi = mid - 1;
    else if (cp > wide[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

// Combining marks, format characters (ZWJ, ZWSP, bidi marks), variation
// selectors and Hangul medial vowels and final consonants: no column of their own.
const zeroWidth = /^[\p{Mn}\p{Me}\p{Cf}\u1160-\u11ff\ufe00-\ufe0f]$/u;
const pictographic = /\p{Extended_Pictographic}/u;
const modifierBase = /^\p{Emoji_Modifier_Base}$/u;
// The skin tones U+1F3FB-U+1F3FF (surrogates D83C DFFB-DFFF), which join whatever comes before them into one cluster.
const modifier = /\ud83c[\udffb-\udfff]/;

/**
 * Columns one code point takes on its own: 0 for controls, combining marks
 * and other zero-width characters, 2 for wide and fullwidth ones, else 1.
 */
export function codePointWidth(cp: number): 0 | 1 | 2 {
  if (cp >= 0x20 && cp < 0x7f) return 1;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp === 0xad) return 1; // soft hyphen: shown by terminals
  if (cp >= 0x300 && zeroWidth.test(String.fromCodePoint(cp))) return 0;
  return isWide(cp) ? 2 : 1;
}

/**
 * Columns one grapheme cluster takes: the width of its first visible code
 * point, and 2 for an emoji shown as emoji (a pictograph followed by the
 * emoji variation selector U+FE0F, a pair of regional indicators: a flag, or
 * an emoji modifier sequence: a modifier base with a skin tone, 👍🏽 or ☝🏽).
 * A skin tone after anything else is not part of an emoji: it is shown as a
 * swatch of its own, two more columns (`a🏽` is 3).
 *
 * Terminals disagree on some clusters (tmux 3.3a draws 👍🏽 as two emoji, 4
 * columns; kitty and WezTerm as one, 2; VS16 emoji such as ❤️ are 1 or 2,
 * Devanagari conjuncts such as क्ष 1 or 2). This table follows Unicode (UTS #51),
 * so its guess can be wrong for a given terminal: whoever draws an input row
 * with it draws with autowrap off and a margin, so a wrong guess cannot make
 * the row wrap.
 */
export function graphemeWidth(cluster: string): number {
  const first = cluster.codePointAt(0);
  if (first === undefined) return 0;
  if (cluster.length === 1) return codePointWidth(first);
  if (first >= 0x1f1e6 && first <= 0x1f1ff) return cluster.length >= 4 ? 2 : 1; // flag, or a lone indicator
  const firstLength = first > 0xffff ? 2 : 1;
  if (modifier.test(cluster.slice(firstLength))) return modifiedWidth(cluster);
  if (cluster.includes("\ufe0f") && pictographic.test(cluster)) return 2;
  return baseWidth(cluster);
}

// The width of the first visible code point.
function baseWidth(cluster: string): number {
  for (const ch of cluster) {
    const w = codePointWidth(ch.codePointAt(0)!);
    if (w > 0) return w;
  }
  return 0;
}

// A cluster with a skin tone after its first code point: a modifier right
// after a modifier base makes an emoji (2); any other one is a swatch (2 more).
function modifiedWidth(cluster: string): number {
  const points = [...cluster];
  let emoji = false;
  let swatches = 0;
  for (let i = 1; i < points.length; i++) {
    if (!modifier.test(points[i])) continue;
    if (modifierBase.test(points[i - 1])) emoji = true;
    else swatches++;
  }
  if (emoji) return 2 + 2 * swatches;
  return baseWidth(points.filter((p, i) => i === 0 || !modifier.test(p)).join("")) + 2 * swatches;
}

/**
 * The most columns a terminal may give a grapheme cluster: its width by
 * {@linkcode graphemeWidth}, or, when more, the sum of its code points' own
 * widths (what a terminal that does not join clusters draws: 👍🏽 is 4, क्ष
 * is 2). When this is more than `graphemeWidth`, terminals disagree on the
 * cluster and a row holding it may come out wider than guessed.
 *
 * @example
 * ```ts
 * maxGraphemeWidth("👍🏽"); // 4 (graphemeWidth says 2)
 * maxGraphemeWidth("茶"); // 2, as graphemeWidth: no doubt
 * ```
 */
export function maxGraphemeWidth(cluster: string): number {
  const guess = graphemeWidth(cluster);
  const first = cluster.codePointAt(0);
  if (first === undefined || cluster.length === 1 || (cluster.length === 2 && first > 0xffff)) return guess;
  let sum = 0;
  for (const ch of cluster) sum += codePointWidth(ch.codePointAt(0)!);
  return Math.max(guess, sum);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

const simple = /^[\x20-\x7e]*$/;

/** Splits text into grapheme clusters (user-perceived characters). */
export function graphemes(text: string): string[] {
  if (simple.test(text)) return text.split("");
  const out: string[] = [];
  for (const { segment } of segmenter.segment(text)) out.push(segment);
  return out;
}

/** Columns the text takes on a terminal (no line breaks or controls expected). */
export function stringWidth(text: string): number {
  if (simple.test(text)) return text.length;
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += graphemeWidth(segment);
  return width;
}

/**
 * Cuts text into pieces of at most `columns` columns each (a wide character
 * that does not fit at the end of a row starts the next one), as a terminal
 * wraps a long line. Empty text gives one empty row.
 *
 * @example
 * ```ts
 * wrapText("茶茶茶", 5); // ["茶茶", "茶"]
 * ```
 */
export function wrapText(text: string, columns: number): string[] {
  const rows: string[] = [];
  let row = "";
  let used = 0;
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (used + w > columns && used > 0) {
      rows.push(row);
      row = "";
      used = 0;
    }
    row += g;
    used += w;
  }
  rows.push(row);
  return rows;
}
