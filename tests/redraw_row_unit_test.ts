/**
 * The input row model of redraw mode (term/row.ts): the fewest bytes that
 * turn what a terminal shows into the next picture, checked byte by byte for
 * the common edits and, for random edits, by playing them on a terminal
 * emulator: the row always shows the text with the cursor in its column.
 */
import assert from "node:assert/strict";
import { ERASE_ROW, InputRow } from "../term/row.ts";
import { codePointWidth, stringWidth } from "../term/width.ts";
import { FakeTerminal } from "./fake_terminal.ts";

function drawn(steps: [string, number][]): string[] {
  const row = new InputRow();
  return steps.map(([text, cursor]) => row.draw(text, cursor));
}

Deno.test("a typed character echoes itself, and nothing else", () => {
  assert.deepEqual(drawn([["h", 1], ["hi", 2], ["hi!", 3]]), ["h", "i", "!"]);
});

Deno.test("a wide character (CJK, emoji, a flag) echoes itself and moves the cursor two columns", () => {
  assert.deepEqual(drawn([["茶", 2], ["茶🍵", 4], ["茶🍵🇯🇵", 6]]), ["茶", "🍵", "🇯🇵"]);
});

Deno.test("Backspace at the end goes back over the character's columns and erases to the end of the row", () => {
  assert.deepEqual(drawn([["ab", 2], ["a", 1]]), ["ab", "\b\x1b[K"]);
  assert.deepEqual(drawn([["a茶", 3], ["a", 1]]), ["a茶", "\b\b\x1b[K"]);
  assert.deepEqual(drawn([["a🍵", 3], ["a", 1]]), ["a🍵", "\b\b\x1b[K"]);
});

Deno.test("Left and Right over a wide character move two columns, over a narrow one one", () => {
  assert.deepEqual(drawn([["a茶", 3], ["a茶", 1], ["a茶", 0], ["a茶", 3]]), ["a茶", "\b\b", "\b", "\x1b[3C"]);
});

Deno.test("a long jump left is one escape sequence, not many backspaces", () => {
  const text = "x".repeat(30);
  assert.deepEqual(drawn([[text, 30], [text, 0]]), [text, "\x1b[30D"]);
});

Deno.test("an insertion in the middle rewrites from the first changed character and puts the cursor back", () => {
  assert.deepEqual(drawn([["helo", 3], ["hello", 4]]), ["helo\b", "lo\b"]);
});

Deno.test("a deletion in the middle rewrites the rest and erases the column it freed", () => {
  assert.deepEqual(drawn([["hello", 2], ["helo", 2]]), ["hello\b\b\b", "\x1b[1Co\x1b[K\b\b"]);
});

Deno.test("a combining accent typed after its letter rewrites that character", () => {
  assert.deepEqual(drawn([["e", 1], ["e\u0301", 1]]), ["e", "\be\u0301"]);
});

Deno.test("the same picture again sends nothing", () => {
  assert.deepEqual(drawn([["tea", 1], ["tea", 1]]), ["tea\b\b", ""]);
});

Deno.test("after clear() the row is blank and the next draw is the whole text", () => {
  const row = new InputRow();
  row.draw("茶会", 4);
  assert.equal(row.blank, false);
  row.clear();
  assert.equal(row.blank, true);
  assert.equal(row.draw("茶会", 2), "茶会\b\b");
  assert.equal(ERASE_ROW, "\r\x1b[K");
});

Deno.test("random edits of mixed-width text always show the text with the cursor in its column", () => {
  const alphabet = ["a", "b", " ", "茶", "会", "🍵", "é", "ｶ", "🇯🇵", "x"];
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const terminal = new FakeTerminal(80, 4);
  const row = new InputRow();
  let chars: string[] = [];
  for (let step = 0; step < 2000; step++) {
    const at = random(chars.length + 1);
    const what = random(3);
    if (what === 0 && chars.length < 30) chars.splice(at, 0, alphabet[random(alphabet.length)]);
    else if (what === 1 && chars.length > 0) chars.splice(Math.min(at, chars.length - 1), 1);
    else if (chars.length > 40) chars = [];
    const cursorAt = random(chars.length + 1);
    const text = chars.join("");
    const column = stringWidth(chars.slice(0, cursorAt).join(""));
    terminal.write(row.draw(text, column));
    assert.equal(terminal.row(0), text.replace(/ +$/, ""), `step ${step}`); // the emulator trims the row
    assert.deepEqual([terminal.x, terminal.y], [column, 0], `cursor at step ${step}: ${text}`);
  }
  assert.deepEqual(terminal.unknown, []);
});

Deno.test("text whose width terminals disagree on is drawn with autowrap off, so a wider terminal never wraps it", () => {
  const wcswidth = (cluster: string) => [...cluster].reduce((n, c) => n + codePointWidth(c.codePointAt(0)!), 0);
  const terminal = new FakeTerminal(20, 4, wcswidth);
  const row = new InputRow();
  const thumbs = "👍🏽".repeat(9); // 18 columns guessed, 36 drawn by this terminal
  const bytes = row.draw(thumbs, 18);
  assert.ok(bytes.startsWith("\x1b[?7l") && bytes.includes("\x1b[?7h"), JSON.stringify(bytes));
  terminal.write(bytes);
  terminal.write(row.draw(thumbs + "क्ष", 19));
  assert.equal(terminal.wraps, 0);
  assert.equal(terminal.autowrap, true, "autowrap is on again after each draw");
  assert.equal(terminal.y, 0);
  // Text every terminal agrees on is echoed as it is, without the mode change.
  assert.deepEqual(drawn([["tea 茶", 6], ["tea 茶!", 7]]), ["tea 茶", "!"]);
});
