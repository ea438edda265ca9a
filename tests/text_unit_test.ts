import assert from "node:assert/strict";
import { cleanLine } from "../text.ts";

Deno.test("plain text is returned unchanged", () => {
  assert.equal(cleanLine("hello, world! 1 + 1 = 2 ~ [x] {y}"), "hello, world! 1 + 1 = 2 ~ [x] {y}");
  assert.equal(cleanLine(""), "");
});

Deno.test("CJK, accented letters and emoji are untouched", () => {
  assert.equal(cleanLine("茶友 こんにちは 안녕하세요 Zoë ñ 🍵👩‍👩‍👧"), "茶友 こんにちは 안녕하세요 Zoë ñ 🍵👩‍👩‍👧");
});

Deno.test("backspace erases the previous character", () => {
  assert.equal(cleanLine("helo\blo"), "hello");
  assert.equal(cleanLine("abc\b\bd"), "ad");
});

Deno.test("DEL erases the previous character", () => {
  assert.equal(cleanLine("abx\x7fc"), "abc");
});

Deno.test("backspace erases a whole emoji written as a surrogate pair", () => {
  assert.equal(cleanLine("tea 🍵\b!"), "tea !");
  assert.equal(cleanLine("a😀\x7fb"), "ab");
});

Deno.test("backspace erases a whole CJK character", () => {
  assert.equal(cleanLine("茶友\b人"), "茶人");
});

Deno.test("backspace at the start of the line erases nothing", () => {
  assert.equal(cleanLine("\b\x7f\bhi"), "hi");
});

Deno.test("Ctrl-U clears the line so far", () => {
  assert.equal(cleanLine("secret\x15hello"), "hello");
  assert.equal(cleanLine("oops\x15"), "");
});

Deno.test("tabs become spaces", () => {
  assert.equal(cleanLine("a\tb\t\tc"), "a b  c");
});

Deno.test("CSI sequences are removed", () => {
  assert.equal(cleanLine("\x1b[2Jhi\x1b[31m!\x1b[0m"), "hi!");
  assert.equal(cleanLine("\x1b[?25lx\x1b[1;2H"), "x");
  assert.equal(cleanLine("a\x1b[2 qb"), "ab"); // with an intermediate byte
});

Deno.test("8-bit CSI sequences are removed", () => {
  assert.equal(cleanLine("\x9b31mred\x9b0m"), "red");
});

Deno.test("OSC sequences ended by BEL or ST are removed", () => {
  assert.equal(cleanLine("\x1b]0;evil title\x07hi"), "hi");
  assert.equal(cleanLine("\x1b]8;;http://x.example/\x1b\\link\x1b]8;;\x1b\\"), "link");
  assert.equal(cleanLine("\x9d0;title\x9chi"), "hi");
});

Deno.test("DCS, APC, PM and SOS strings are removed", () => {
  assert.equal(cleanLine("a\x1bPq#0;2\x1b\\b\x1b_x\x1b\\c\x1b^y\x07d\x1bXz\x1b\\e"), "abcde");
});

Deno.test("other ESC sequences are removed", () => {
  assert.equal(cleanLine("\x1bcreset"), "reset");
  assert.equal(cleanLine("\x1b7x\x1b8"), "x");
  assert.equal(cleanLine("\x1b(Babc\x1b)0"), "abc");
});

Deno.test("an unfinished escape sequence at the end of the line is removed", () => {
  assert.equal(cleanLine("hi\x1b"), "hi");
  assert.equal(cleanLine("hi\x1b[31"), "hi");
  assert.equal(cleanLine("hi\x1b]0;title"), "hi");
  assert.equal(cleanLine("hi\x1b("), "hi");
});

Deno.test("a malformed CSI ends before the character that breaks it", () => {
  assert.equal(cleanLine("a\x1b[12é"), "aé");
  assert.equal(cleanLine("ab\x1b[1\bc"), "ac");
});

Deno.test("a backspace after an escape sequence erases the character before the sequence", () => {
  assert.equal(cleanLine("ab\x1b[31m\bc"), "ac");
});

Deno.test("C0 and C1 control characters are removed", () => {
  assert.equal(cleanLine("a\x00b\x07c\x0bd\x0ce\x1ff\r"), "abcdef");
  assert.equal(cleanLine("a\x80b\x85c\x9fd"), "abcd");
});

Deno.test("bidirectional overrides, embeddings, isolates and marks are removed", () => {
  assert.equal(cleanLine("a\u202eb\u202ac\u2066d\u2069e\u200ef\u200fg\u061ch"), "abcdefgh");
});
