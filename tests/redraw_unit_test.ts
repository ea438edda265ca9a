/**
 * The server-side line editor of redraw mode (doors/redraw.ts), driven with
 * the bytes a terminal sends and played on a terminal emulator: echo, the
 * editing keys, UTF-8 from single bytes, wide characters, long lines,
 * history, passwords, the line limit, and the erase-and-redraw around other
 * output, coalesced per write.
 */
import assert from "node:assert/strict";
import { DEFAULT_COLUMNS, KEY_BYTES_PER_TOKEN, KEY_READS_PER_TOKEN, Redraw, utf8Length } from "../doors/redraw.ts";
import { FakeTerminal } from "./fake_terminal.ts";
import { codePointWidth } from "../term/width.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function setup(options: { columns?: number; maxLine?: number; widthOf?: (cluster: string) => number } = {}) {
  const terminal = new FakeTerminal(options.columns ?? 80, 24, options.widthOf);
  const sent: string[] = [];
  let tooLong = 0;
  const redraw = new Redraw({
    columns: options.columns ?? 80,
    maxLine: options.maxLine ?? 4096,
    send: (bytes) => {
      const text = decoder.decode(bytes);
      sent.push(text);
      terminal.write(text);
    },
    tooLong: () => tooLong++,
    completions: () => ({ nicks: ["bob", "beatrice"], commands: ["/join", "/redraw"] }),
  });
  const type = (keys: string | number[]) =>
    redraw.type(typeof keys === "string" ? encoder.encode(keys) : new Uint8Array(keys));
  const lines = () => {
    const p = new Uint8Array(redraw.pending);
    redraw.take(p);
    return decoder.decode(p);
  };
  /** Other output: erase (once), then the line, as the session does; `write` is the outbox's write. */
  const print = (line: string) => {
    redraw.output();
    sent.push(line);
    terminal.write(line + "\r\n");
  };
  const write = () => redraw.flushing();
  return { redraw, terminal, sent, type, lines, print, write, tooLong: () => tooLong };
}

/** The row the cursor is on, and the cursor's column. */
function at(terminal: FakeTerminal): [string, number] {
  return [terminal.row(terminal.y), terminal.x];
}

Deno.test("each typed character is echoed as itself, one read at a time", () => {
  const { type, sent, terminal } = setup();
  for (const c of "hello") type(c);
  assert.deepEqual(sent, ["h", "e", "l", "l", "o"]);
  assert.deepEqual(at(terminal), ["hello", 5]);
});

Deno.test("Backspace (DEL or Ctrl-H) removes the character before the cursor", () => {
  const { type, terminal, redraw } = setup();
  type("tea!");
  type([0x7f]);
  assert.deepEqual(at(terminal), ["tea", 3]);
  type([0x08]);
  assert.deepEqual(at(terminal), ["te", 2]);
  assert.equal(redraw.text, "te");
});

Deno.test("Backspace over a wide character goes back two columns", () => {
  const { type, sent, terminal } = setup();
  type("茶会");
  assert.deepEqual(at(terminal), ["茶会", 4]);
  type([0x7f]);
  assert.equal(sent.at(-1), "\b\b\x1b[K");
  assert.deepEqual(at(terminal), ["茶", 2]);
});

Deno.test("Ctrl-U removes the line before the cursor and Ctrl-W the word before it", () => {
  const { type, terminal, redraw } = setup();
  type("tea at five");
  type([0x17]); // Ctrl-W
  assert.deepEqual(at(terminal), ["tea at", 7]); // "tea at ": the space stays
  type([0x15]); // Ctrl-U
  assert.deepEqual(at(terminal), ["", 0]);
  assert.equal(redraw.text, "");
});

Deno.test("Left and Right (CSI and SS3 forms) move over wide characters, and typing inserts there", () => {
  const { type, terminal, redraw } = setup();
  type("a茶b");
  type("\x1b[D\x1bOD"); // Left twice: before 茶
  assert.deepEqual(at(terminal), ["a茶b", 1]);
  type("x");
  assert.deepEqual(at(terminal), ["ax茶b", 2]);
  type("\x1b[C"); // Right over 茶
  assert.deepEqual(at(terminal), ["ax茶b", 4]);
  assert.equal(redraw.text, "ax茶b");
});

Deno.test("UTF-8 sent one byte per read is put together: nothing is echoed until the character is whole", () => {
  const { type, sent, terminal } = setup();
  for (const b of encoder.encode("茶")) type([b]);
  assert.deepEqual(sent, ["茶"]);
  assert.deepEqual(at(terminal), ["茶", 2]);
});

Deno.test("invalid UTF-8 becomes U+FFFD and editing goes on", () => {
  const { type, redraw } = setup();
  type([0x61, 0xc3, 0x28, 0x62]);
  assert.equal(redraw.text, "a\uFFFD(b");
});

Deno.test("Enter hands the line on with a line end, leaves it on screen and starts a new row", () => {
  const { type, lines, terminal } = setup();
  type("hello 茶\r");
  assert.equal(lines(), "hello 茶\n");
  assert.equal(terminal.row(0), "hello 茶");
  assert.deepEqual([terminal.x, terminal.y], [0, 1]);
});

Deno.test("CR LF and CR NUL are one Enter; several lines in one read are all handed on, in order", () => {
  const { type, lines } = setup();
  type("one\r\ntwo\r\0three\r");
  assert.equal(lines(), "one\ntwo\nthree\n");
});

Deno.test("take() hands lines on in pieces as small as the reader's buffer", () => {
  const { type, redraw } = setup();
  type("abcdef\r");
  const p = new Uint8Array(4);
  assert.equal(redraw.take(p), 4);
  assert.equal(decoder.decode(p), "abcd");
  assert.equal(redraw.take(p), 3);
  assert.equal(decoder.decode(p.subarray(0, 3)), "ef\n");
  assert.equal(redraw.pending, 0);
});

Deno.test("Up brings back the lines sent before, newest first; Down goes forward again", () => {
  const { type, terminal } = setup();
  type("first\rsecond\r");
  type("\x1b[A");
  assert.deepEqual(at(terminal), ["second", 6]);
  type("\x1b[A");
  assert.deepEqual(at(terminal), ["first", 5]);
  type("\x1b[B");
  assert.deepEqual(at(terminal), ["second", 6]);
});

Deno.test("lines that may hold a password (login, /register, /password, /nick) are not kept for Up", () => {
  const { type, redraw } = setup();
  type("kept\r");
  for (const line of ["login dora secret", "/register secret", "/password old new", "/NICK dora secret"]) {
    type(line + "\r");
  }
  type("\x1b[A");
  assert.equal(redraw.text, "kept");
});

Deno.test("Tab completes a nick", () => {
  const { type, terminal } = setup();
  type("hi bo\t");
  assert.deepEqual(at(terminal), ["hi bob", 7]);
});

Deno.test("a line longer than the terminal scrolls sideways on one row: the terminal never wraps or scrolls", () => {
  const { type, terminal, redraw } = setup({ columns: 40 });
  const text = "茶".repeat(30) + "x".repeat(30); // 90 columns
  for (const c of text) type(c);
  assert.equal(redraw.text, text);
  assert.equal(terminal.y, 0);
  assert.deepEqual(terminal.scrollback, []);
  const [row, x] = at(terminal);
  assert.ok(row.startsWith("<"), row);
  assert.ok(row.length <= 39 && x <= 39, `${row} ${x}`);
  type("\x1b[H"); // Home
  assert.ok(at(terminal)[0].startsWith("茶") && at(terminal)[0].endsWith(">"), at(terminal)[0]);
  assert.equal(terminal.x, 0);
});

Deno.test(`the width is ${DEFAULT_COLUMNS} columns until the terminal tells its own, and a resize draws the row again`, () => {
  const { redraw, type, terminal } = setup({ columns: 0 });
  for (let i = 0; i < 100; i++) type("y");
  assert.ok(terminal.x <= DEFAULT_COLUMNS - 1);
  terminal.resize(30, 24);
  redraw.resize(30);
  const [row, x] = at(terminal);
  assert.ok(row.length <= 29 && row.startsWith("<") && x <= 29, `${row} ${x}`);
});

Deno.test("while a password is typed nothing is echoed; Enter ends the row", () => {
  const { redraw, type, sent, lines, terminal } = setup();
  redraw.secret = true;
  type("s3cret pass");
  assert.deepEqual(sent, []);
  type("\r");
  assert.deepEqual(sent, ["\r\n"]);
  assert.equal(lines(), "s3cret pass\n");
  assert.equal(terminal.screen().join(""), "");
  redraw.secret = false;
  type("\x1b[A"); // the password is not in history
  assert.equal(redraw.text, "");
});

Deno.test("text typed before a password prompt is hidden when the prompt comes", () => {
  const { redraw, type, terminal } = setup();
  type("abc");
  redraw.secret = true;
  assert.deepEqual(at(terminal), ["", 0]);
});

Deno.test("a password cut with Ctrl-U or Ctrl-W is not kept: Ctrl-Y after the login puts nothing back", () => {
  const { redraw, type, lines, terminal, sent } = setup();
  redraw.secret = true;
  type("hunter2");
  type([0x15]); // Ctrl-U
  type("tea for two");
  type([0x17]); // Ctrl-W
  type("two\r");
  assert.equal(lines(), "tea for two\n");
  redraw.secret = false; // the server's password-done
  type([0x19]); // Ctrl-Y
  assert.equal(redraw.text, "");
  const shown = sent.join("") + terminal.screen().join("\n");
  assert.ok(!/hunter|two/.test(shown), JSON.stringify(shown));
});

Deno.test("a password typed on the command line (login bob pw, /password old new) is drawn as stars, and stays so", () => {
  const { type, lines, terminal, sent } = setup();
  type("login bob hunter2\r");
  assert.equal(lines(), "login bob hunter2\n", "the line itself is sent as typed");
  type("/password hunter2 tea4two");
  const shown = sent.join("") + terminal.screen().join("\n");
  assert.ok(!/hunter|tea4two/.test(shown), JSON.stringify(shown));
  assert.match(terminal.screen().join("\n"), /login bob \*{7}/);
  assert.match(terminal.screen().join("\n"), /\/password \*{7} \*{7}/);
});

Deno.test("a password half typed when echo comes back is dropped, never shown", () => {
  const { redraw, type, terminal, sent } = setup();
  redraw.secret = true;
  type("hunter2");
  redraw.secret = false;
  assert.equal(redraw.text, "");
  type("x");
  assert.deepEqual(at(terminal), ["x", 1]);
  assert.ok(!sent.join("").includes("hunter"), JSON.stringify(sent));
});

Deno.test("a row the terminal draws wider than guessed (skin tones as two emoji) never wraps into other lines", () => {
  const wcswidth = (cluster: string) => [...cluster].reduce((n, c) => n + codePointWidth(c.codePointAt(0)!), 0);
  const { type, print, write, terminal } = setup({ columns: 40, widthOf: wcswidth });
  for (let i = 0; i < 30; i++) type("👍🏽");
  print("bob: hi");
  write();
  type("\x1b[H"); // Home: the row is drawn again from its start
  print("bob: again");
  write();
  assert.equal(terminal.wraps, 0);
  assert.equal(terminal.autowrap, true);
  assert.deepEqual(terminal.screen().slice(0, 3), ["bob: hi", "bob: again", terminal.row(2)]);
  assert.ok(terminal.row(2).startsWith("👍🏽"), terminal.row(2));
  assert.equal(terminal.y, 2);
});

Deno.test("the line limit is kept: what goes past it is not taken, with a bell, and the notice comes once per line", () => {
  const { type, redraw, terminal, tooLong, lines } = setup({ maxLine: 10 });
  type("abcdefgh");
  type("ijklmn"); // 4 too many
  assert.equal(redraw.text, "abcdefghij");
  type("x");
  assert.equal(redraw.text, "abcdefghij");
  assert.equal(terminal.bells, 2);
  assert.equal(tooLong(), 1);
  type("\r");
  assert.equal(lines(), "abcdefghij\n");
  type("12345678901");
  assert.equal(tooLong(), 2);
});

Deno.test("the line limit counts UTF-8 bytes and never cuts a character", () => {
  const { type, redraw } = setup({ maxLine: 10 });
  type("茶茶茶茶"); // 12 bytes
  assert.equal(redraw.text, "茶茶茶");
  assert.equal(utf8Length(redraw.text), 9);
  type("🍵"); // 4 bytes: does not fit
  assert.equal(redraw.text, "茶茶茶");
  type("a");
  assert.equal(redraw.text, "茶茶茶a");
});

Deno.test("a yank that would pass the line limit is refused whole", () => {
  const { type, redraw, terminal } = setup({ maxLine: 10 });
  type("abcdefg");
  type([0x15]); // Ctrl-U cuts it
  type("xyz");
  type([0x19]); // Ctrl-Y: 10 bytes would be fine
  assert.equal(redraw.text, "xyzabcdefg");
  type([0x01, 0x19]); // Home, Ctrl-Y again: 17 bytes
  assert.equal(redraw.text, "xyzabcdefg");
  assert.equal(terminal.bells, 1);
});

Deno.test("50 lines arriving in one turn cost one erase before them and one redraw after them", () => {
  const { type, print, write, sent, terminal } = setup();
  type("half a li");
  type("\x1b[D");
  sent.length = 0;
  for (let i = 1; i <= 50; i++) print(`bob: line ${i}`);
  write();
  assert.equal(sent.filter((s) => s === "\r\x1b[K").length, 1);
  assert.equal(sent[0], "\r\x1b[K");
  assert.equal(sent.length, 52, "erase, 50 lines, redraw");
  assert.equal(sent[51], "half a li\b");
  assert.deepEqual(at(terminal), ["half a li", 8]);
  assert.equal(terminal.y, 23);
  assert.deepEqual(terminal.screen().slice(-4, -1), ["bob: line 48", "bob: line 49", "bob: line 50"]);
  assert.deepEqual(terminal.scrollback.slice(-27, -26), ["bob: line 1"]);
});

Deno.test("keys typed while an erase waits are shown by the redraw, not echoed before it", () => {
  const { type, print, write, sent, terminal } = setup();
  type("ab");
  print("bob: hi");
  sent.length = 0;
  type("c");
  type([0x7f, 0x7f]);
  type("Z");
  assert.deepEqual(sent, []);
  write();
  assert.deepEqual(sent, ["aZ"]);
  assert.deepEqual(at(terminal), ["aZ", 2]);
});

Deno.test("a line finished while an erase waits is shown after the arriving lines, and nothing is redrawn", () => {
  const { type, print, write, sent, lines, terminal } = setup();
  type("ab");
  print("bob: hi");
  type("c\r");
  assert.equal(lines(), "abc\n");
  sent.length = 0;
  write();
  assert.deepEqual(sent, []);
  assert.deepEqual(terminal.screen().slice(0, 3), ["bob: hi", "abc", ""]);
  assert.deepEqual([terminal.x, terminal.y], [0, 2]);
});

Deno.test("output with nothing typed is not wrapped at all", () => {
  const { print, write, sent } = setup();
  print("bob: hi");
  write();
  assert.deepEqual(sent, ["bob: hi"]);
});

Deno.test("after stop() (goodbye) nothing is echoed or redrawn", () => {
  const { redraw, type, print, write, sent } = setup();
  type("ab");
  print("*** Goodbye");
  redraw.stop();
  sent.length = 0;
  write();
  type("cd");
  assert.deepEqual(sent, []);
});

Deno.test("Ctrl-C gives the line up, marked ^C; Ctrl-D on an empty line does nothing", () => {
  const { type, redraw, terminal, lines } = setup();
  type("oops");
  type([0x03]);
  assert.equal(redraw.text, "");
  assert.equal(terminal.row(0), "oops^C");
  assert.deepEqual([terminal.x, terminal.y], [0, 1]);
  type([0x04]);
  assert.equal(lines(), "");
});

Deno.test("Ctrl-L draws the line again", () => {
  const { type, terminal } = setup();
  type("abc");
  terminal.write("\rjunk over it");
  type([0x0c]);
  assert.deepEqual(at(terminal), ["abc", 3]);
});

Deno.test("an Escape that ends a read is the Escape key: the next letter is typed, not taken as Alt", () => {
  const { type, redraw } = setup();
  type("a\x1b");
  type("b");
  assert.equal(redraw.text, "ab");
  type("\x1bb"); // Alt-B in one read: a word left
  type("X");
  assert.equal(redraw.text, "Xab");
});

Deno.test("an escape sequence split across reads is kept until it is whole", () => {
  const { type, redraw } = setup();
  type("ab\x1b[");
  type("D");
  type("X");
  assert.equal(redraw.text, "aXb");
});

Deno.test(`keys are charged ${KEY_READS_PER_TOKEN} reads or ${KEY_BYTES_PER_TOKEN} bytes to a token`, () => {
  const { redraw } = setup();
  let tokens = 0;
  for (let i = 0; i < 8 * KEY_READS_PER_TOKEN; i++) tokens += redraw.tokensFor(1);
  assert.ok(tokens >= 7 && tokens <= 8, `${tokens}`);
  const paste = setup().redraw;
  assert.equal(paste.tokensFor(4096), 8);
});
