import assert from "node:assert/strict";
import { codePointWidth, graphemes, graphemeWidth, stringWidth, wrapText } from "../term/width.ts";
import { eastAsianWidth } from "get-east-asian-width";

Deno.test("CJK, Hangul, kana and fullwidth forms take two columns; ASCII and Latin one", () => {
  assert.deepEqual(stringWidth("tea"), 3);
  assert.deepEqual(stringWidth("茶会"), 4);
  assert.deepEqual(stringWidth("한국어"), 6);
  assert.deepEqual(stringWidth("カタカナ"), 8);
  assert.deepEqual(stringWidth("ＡＢ"), 4); // fullwidth Latin
  assert.deepEqual(stringWidth("café"), 4);
  assert.deepEqual(stringWidth("Ωμέγα"), 5);
});

Deno.test("emoji take two columns, also with a skin tone, as a ZWJ sequence, a flag or with VS16", () => {
  assert.deepEqual(stringWidth("🍵"), 2);
  assert.deepEqual(stringWidth("👍🏽"), 2); // thumbs up + skin tone modifier
  assert.deepEqual(stringWidth("👨‍👩‍👧"), 2); // family: three emoji joined by ZWJ
  assert.deepEqual(stringWidth("🇯🇵"), 2); // a flag: two regional indicators
  assert.deepEqual(stringWidth("❤️"), 2); // a text-default heart with the emoji selector
  assert.deepEqual(stringWidth("❤"), 1); // and without it
  assert.deepEqual(stringWidth("tea 🍵!"), 7);
});

Deno.test("combining marks and zero-width characters take no column of their own", () => {
  assert.deepEqual(stringWidth("e\u0301"), 1);
  assert.deepEqual(stringWidth("a\u200bb"), 2); // zero-width space
  assert.deepEqual(codePointWidth(0x0301), 0);
  assert.deepEqual(codePointWidth(0x200d), 0); // ZWJ
  assert.deepEqual(codePointWidth(0x3099), 0); // a combining kana voicing mark, inside a wide block
  assert.deepEqual(codePointWidth(0x1160), 0); // Hangul medial vowel (jamo)
  assert.deepEqual(codePointWidth(0x1b), 0);
  assert.deepEqual(codePointWidth(0x85), 0);
});

Deno.test("the wide table agrees with Unicode's East_Asian_Width (W and F) for every code point", () => {
  const wrong: string[] = [];
  for (let cp = 0xa0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const w = codePointWidth(cp);
    if (w === 0) continue; // marks and format characters are zero-width whatever their class
    if (w !== eastAsianWidth(cp)) wrong.push(cp.toString(16));
  }
  assert.deepEqual(wrong.slice(0, 20), []);
});

Deno.test("graphemes keeps a letter and its accent, an emoji and its modifiers together", () => {
  assert.deepEqual(graphemes("e\u0301a"), ["e\u0301", "a"]);
  assert.deepEqual(graphemes("a👍🏽b"), ["a", "👍🏽", "b"]);
  assert.deepEqual(graphemes("茶🇯🇵"), ["茶", "🇯🇵"]);
  assert.deepEqual(graphemes("plain"), ["p", "l", "a", "i", "n"]);
  assert.deepEqual(graphemeWidth("👨‍👩‍👧"), 2);
  assert.deepEqual(graphemeWidth(""), 0);
});

Deno.test("wrapText cuts rows by columns and moves a wide character that does not fit to the next row", () => {
  assert.deepEqual(wrapText("abcdef", 4), ["abcd", "ef"]);
  assert.deepEqual(wrapText("茶茶茶", 5), ["茶茶", "茶"]);
  assert.deepEqual(wrapText("a茶茶", 4), ["a茶", "茶"]);
  assert.deepEqual(wrapText("", 10), [""]);
  assert.deepEqual(wrapText("e\u0301e\u0301", 1), ["e\u0301", "e\u0301"]);
});

Deno.test("an emoji modifier makes one emoji of a modifier base, and is a swatch of its own after anything else", () => {
  assert.equal(graphemeWidth("👍🏽"), 2); // an emoji modifier sequence (tmux 3.3a draws the two apart: 4)
  assert.equal(graphemeWidth("☝🏽"), 2); // the base is text by default, but a modifier sequence is an emoji
  assert.equal(graphemeWidth("👩🏽‍💻"), 2);
  assert.equal(graphemeWidth("🏽"), 2); // a lone modifier: its swatch
  assert.equal(graphemeWidth("a🏽"), 3); // not a base: the letter, then the swatch (one cluster all the same)
  assert.equal(graphemeWidth("茶🏽"), 4);
  assert.equal(graphemes("a🏽").length, 1);
});
