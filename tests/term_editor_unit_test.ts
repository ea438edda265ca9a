import assert from "node:assert/strict";
import { type EditResult, LineEditor } from "../term/editor.ts";
import { History, mayHoldPassword, passwordStart } from "../term/history.ts";
import { chatCommands } from "../commands/chat.ts";
import { accountCommands } from "../commands/account.ts";
import { Completer } from "../term/complete.ts";
import { visibleWindow } from "../term/window.ts";
import { type Key, KeyDecoder, type KeyName } from "../term/keys.ts";
import { graphemes, stringWidth } from "../term/width.ts";

/** Types text and named keys into an editor; returns the last result. */
function type(ed: LineEditor, ...keys: (string | { key: KeyName })[]): EditResult {
  let last: EditResult = { action: "none" };
  for (const k of keys) last = ed.handle(typeof k === "string" ? { text: k } : k);
  return last;
}
const k = (key: KeyName) => ({ key });

// ------------------------------------------------------------------ editing

Deno.test("typing inserts at the cursor; Left/Right and Ctrl-B/F move it one character", () => {
  const ed = new LineEditor();
  type(ed, "helo", k("left"), "l");
  assert.equal(ed.text, "hello");
  assert.equal(ed.cursor, 4);
  type(ed, k("right"), k("right"));
  assert.equal(ed.cursor, 5); // stops at the end
  assert.equal(type(ed, k("right")).action, "none");
});

Deno.test("Home/End and Ctrl-A/E go to the ends of the line", () => {
  const ed = new LineEditor();
  type(ed, "tea time", k("home"));
  assert.equal(ed.cursor, 0);
  type(ed, ">");
  assert.equal(ed.text, ">tea time");
  type(ed, k("end"), "!");
  assert.equal(ed.text, ">tea time!");
});

Deno.test("the cursor moves over CJK characters, emoji and accented letters one whole character at a time", () => {
  const ed = new LineEditor();
  type(ed, "茶👍🏽e\u0301");
  assert.equal(ed.cursor, 3);
  type(ed, k("left"), k("backspace"));
  assert.equal(ed.text, "茶e\u0301"); // the emoji with its skin tone went as one
  type(ed, k("home"), k("delete"));
  assert.equal(ed.text, "e\u0301");
});

Deno.test("a combining mark typed after a letter joins it", () => {
  const ed = new LineEditor();
  type(ed, "e", "\u0301", "x");
  assert.equal(ed.cursor, 2);
  assert.equal(ed.text, "e\u0301x");
});

Deno.test("Backspace deletes before the cursor, Delete under it, and both do nothing at the edges", () => {
  const ed = new LineEditor();
  assert.equal(type(ed, k("backspace")).action, "none");
  type(ed, "abc", k("left"), k("backspace"));
  assert.equal(ed.text, "ac");
  assert.equal(ed.cursor, 1);
  type(ed, k("delete"));
  assert.equal(ed.text, "a");
  assert.equal(type(ed, k("delete")).action, "none");
});

Deno.test("Ctrl-W deletes the word before the cursor (and the spaces after it), Ctrl-Y puts it back", () => {
  const ed = new LineEditor();
  type(ed, "say hello there  ", k("delete-word-back"));
  assert.equal(ed.text, "say hello ");
  type(ed, k("delete-word-back"));
  assert.equal(ed.text, "say ");
  type(ed, k("yank"));
  assert.equal(ed.text, "say hello ");
});

Deno.test("Ctrl-U cuts to the start of the line, Ctrl-K to the end", () => {
  const ed = new LineEditor();
  type(ed, "one two three", k("word-left"), k("kill-to-start"));
  assert.equal(ed.text, "three");
  assert.equal(ed.cursor, 0);
  type(ed, k("right"), k("kill-to-end"));
  assert.equal(ed.text, "t");
  type(ed, k("yank"));
  assert.equal(ed.text, "three");
});

Deno.test("word moves (Alt-B/F, Ctrl-Left/Right) and Alt-D stop at word boundaries", () => {
  const ed = new LineEditor();
  type(ed, "alpha beta gamma", k("word-left"));
  assert.equal(ed.cursor, 11);
  type(ed, k("word-left"), k("word-left"));
  assert.equal(ed.cursor, 0);
  type(ed, k("word-right"));
  assert.equal(ed.cursor, 5);
  type(ed, k("delete-word-forward"));
  assert.equal(ed.text, "alpha gamma");
});

Deno.test("Ctrl-T swaps the characters around the cursor (at the end, the last two)", () => {
  const ed = new LineEditor();
  type(ed, "teh", k("transpose"));
  assert.equal(ed.text, "the");
  type(ed, k("home"), k("transpose"));
  assert.equal(ed.text, "the");
});

Deno.test("Enter submits the line and empties the editor; Ctrl-D quits only on an empty line", () => {
  const ed = new LineEditor();
  assert.deepEqual(type(ed, "hi 茶", k("enter")), { action: "submit", line: "hi 茶" });
  assert.equal(ed.text, "");
  type(ed, "ab", k("home"));
  assert.equal(type(ed, k("eof")).action, "changed");
  assert.equal(ed.text, "b");
  type(ed, k("delete"));
  assert.equal(type(ed, k("eof")).action, "eof");
  assert.equal(type(ed, k("interrupt")).action, "interrupt");
});

// ------------------------------------------------------------------ history

Deno.test("Up and Down browse the lines entered, and Down past the newest gives back the draft", () => {
  const ed = new LineEditor();
  type(ed, "first", k("enter"), "second", k("enter"), "dra");
  type(ed, k("up"));
  assert.equal(ed.text, "second");
  type(ed, k("up"));
  assert.equal(ed.text, "first");
  assert.equal(type(ed, k("up")).action, "none"); // the oldest
  type(ed, k("down"), k("down"));
  assert.equal(ed.text, "dra");
  assert.equal(type(ed, k("down")).action, "none");
});

Deno.test("history skips empty lines and a repeat of the newest, and keeps at most its size", () => {
  const h = new History(3);
  for (const line of ["a", "", "  ", "b", "b", "c", "d"]) h.add(line);
  assert.deepEqual(h.entries, ["b", "c", "d"]);
});

Deno.test("in secret mode nothing is shown, nothing goes to history, and Up and Tab do nothing", () => {
  const ed = new LineEditor({ completions: () => ({ nicks: ["secretive"], commands: [] }) });
  type(ed, "visible", k("enter"));
  ed.secret = true;
  type(ed, "secret123");
  assert.deepEqual(ed.view(80), { text: "", cursorColumn: 0, leftMark: false, rightMark: false });
  assert.equal(type(ed, k("up")).action, "none");
  assert.deepEqual(type(ed, k("enter")), { action: "submit", line: "secret123" });
  ed.secret = false;
  assert.deepEqual(ed.history.entries, ["visible"]);
  type(ed, "se", k("tab"));
  assert.equal(ed.text, "secretive: ");
});

Deno.test("nothing cut in secret mode is kept: Ctrl-Y after leaving it (or in it) puts back no password", () => {
  for (const cut of ["kill-to-start", "delete-word-back", "kill-to-end", "delete-word-forward"] as const) {
    const ed = new LineEditor();
    type(ed, "visible words", k("delete-word-back")); // "words" is in the cut buffer
    ed.secret = true;
    type(ed, "hunter2 pw");
    if (cut === "kill-to-end" || cut === "delete-word-forward") type(ed, k("home"));
    type(ed, k(cut));
    assert.notEqual(ed.text, "hunter2 pw", cut);
    type(ed, k("kill-to-start"), k("kill-to-end"), k("yank"));
    assert.equal(ed.text, "words", `${cut}: only what was cut before secret mode comes back`);
    type(ed, k("enter"));
    ed.secret = false;
    type(ed, k("yank"));
    assert.equal(ed.text, "words", cut);
    assert.deepEqual(ed.history.entries, [], cut);
  }
});

Deno.test("leaving secret mode leaves nothing of what was typed in it on the line", () => {
  const ed = new LineEditor();
  ed.secret = true;
  type(ed, "half a passw");
  ed.secret = false;
  assert.equal(ed.text, "");
  assert.equal(ed.cursor, 0);
  assert.deepEqual(ed.view(80).text, "");
  assert.equal(type(ed, k("up")).action, "none");
  // Text typed before secret mode stays while it is on (the caller decides what to do with it).
  type(ed, "draft");
  ed.secret = true;
  assert.equal(ed.text, "draft");
});

Deno.test("lines that may hold a password are not kept in history: login, /register, /password, /nick", () => {
  const ed = new LineEditor();
  const secret = [
    "login alice pw",
    "/login alice pw",
    "/register pw",
    "/password old new",
    "/NICK bob pw",
    "  login x y",
  ];
  for (const line of ["kept", ...secret, "loginx", "/registered is chat"]) type(ed, line, k("enter"));
  assert.deepEqual(ed.history.entries, ["kept", "loginx", "/registered is chat"]);
});

Deno.test("every command whose arguments are secret in the command table is one mayHoldPassword knows", () => {
  const secret = [...chatCommands, ...accountCommands].filter((c) => c.secret);
  assert.deepEqual(secret.map((c) => c.name).sort(), ["login", "nick", "password", "register"]);
  for (const command of secret) {
    for (const name of [command.name, ...(command.aliases ?? [])]) {
      assert.ok(mayHoldPassword(`/${name} a b`), name);
      assert.ok(mayHoldPassword(`/${name.toUpperCase()}\ta b`), name);
      if (command.bare) assert.ok(mayHoldPassword(`${name} a b`), name);
    }
  }
  assert.ok(!mayHoldPassword("hello"));
  assert.ok(!mayHoldPassword("//login is chat"));
});

// ------------------------------------------------------------------ completion

Deno.test("Tab completes a nick at the start of the line with ': ', elsewhere with a space, after @ too", () => {
  const sources = { nicks: ["bob", "Carol"], commands: [] };
  const ed = new LineEditor({ completions: () => sources });
  type(ed, "ca", k("tab"));
  assert.equal(ed.text, "Carol: ");
  type(ed, "hi b", k("tab"));
  assert.equal(ed.text, "Carol: hi bob ");
  ed.set("");
  type(ed, "@b", k("tab"), "see you");
  assert.equal(ed.text, "@bob see you");
});

Deno.test("repeated Tabs cycle through the matches and back to what was typed", () => {
  const c = new Completer();
  const sources = { nicks: ["bob", "bea", "bill"], commands: [] };
  let r = c.complete("hi b", 4, sources)!;
  assert.equal(r.text, "hi bea ");
  r = c.complete(r.text, r.cursor, sources)!;
  assert.equal(r.text, "hi bill ");
  r = c.complete(r.text, r.cursor, sources)!;
  assert.equal(r.text, "hi bob ");
  r = c.complete(r.text, r.cursor, sources)!;
  assert.deepEqual(r, { text: "hi b", cursor: 4 });
  assert.equal(c.complete("hi x", 4, sources), undefined);
});

Deno.test("Tab completes /commands only as the first word, and completes in the middle of a line", () => {
  const sources = { nicks: ["joan"], commands: ["/join", "/leave", "/look"] };
  const c = new Completer();
  assert.deepEqual(c.complete("/jo", 3, sources), { text: "/join ", cursor: 6 });
  c.reset();
  assert.deepEqual(c.complete("/l", 2, sources), { text: "/leave ", cursor: 7 });
  c.reset();
  assert.deepEqual(c.complete("say /jo", 7, sources), undefined);
  c.reset();
  // Completing "jo" before " there": the space already there is not doubled.
  assert.deepEqual(c.complete("hi jo there", 5, sources), { text: "hi joan there", cursor: 8 });
});

// ------------------------------------------------------------------ the visible window

Deno.test("a line that fits is shown whole, with the cursor at its column (wide characters count two)", () => {
  const ed = new LineEditor();
  type(ed, "hi 茶会!");
  assert.deepEqual(ed.view(20), { text: "hi 茶会!", cursorColumn: 8, leftMark: false, rightMark: false });
  type(ed, k("left"), k("left"));
  assert.equal(ed.view(20).cursorColumn, 5);
});

Deno.test("a long line scrolls horizontally: the cursor stays visible and marks show hidden text", () => {
  const ed = new LineEditor();
  const text = "abcdefghijklmnopqrstuvwxyz";
  type(ed, text);
  let v = ed.view(10);
  assert.equal(v.text, "<stuvwxyz");
  assert.equal(v.cursorColumn, 9); // after z, in the last column
  type(ed, k("home"));
  v = ed.view(10);
  assert.equal(v.text, "abcdefghi>");
  assert.equal(v.cursorColumn, 0);
  // Moving right inside the window does not scroll it.
  for (let i = 0; i < 5; i++) type(ed, k("right"));
  assert.equal(ed.view(10).text, "abcdefghi>");
  assert.equal(ed.view(10).cursorColumn, 5);
});

Deno.test("every cursor position of a long CJK line is inside the window, on the character it is at", () => {
  const ed = new LineEditor();
  const line = "茶会a茶b会茶茶xy会".repeat(3);
  const chars = graphemes(line);
  const check = (c: number) => {
    ed.set(line, c);
    const v = ed.view(11);
    assert.ok(stringWidth(v.text) <= 11, `row too wide at ${c}: ${v.text}`);
    assert.ok(v.cursorColumn < 11, `cursor outside the row at ${c}`);
    // The character drawn at the cursor column is the one the cursor is at.
    let column = 0;
    let under: string | undefined;
    for (const g of graphemes(v.text)) {
      if (column === v.cursorColumn) under = g;
      column += stringWidth(g);
    }
    if (c < chars.length) assert.equal(under, chars[c], `at ${c}: ${v.text} column ${v.cursorColumn}`);
    else assert.equal(v.cursorColumn, stringWidth(v.text), "at the end the cursor follows the text");
  };
  for (let c = chars.length; c >= 0; c--) check(c); // scrolling left
  for (let c = 0; c <= chars.length; c++) check(c); // and right
});

Deno.test("visibleWindow keeps the cursor cell free at the end and pulls back left when the text shrinks", () => {
  const widths = new Array(20).fill(1);
  const w = visibleWindow(widths, 20, 10, 0);
  assert.deepEqual(w, { start: 12, end: 20, leftMark: true, rightMark: false, cursorColumn: 9 });
  // After deleting down to 8 characters, everything fits again from the start.
  assert.equal(visibleWindow(new Array(8).fill(1), 8, 10, 12).start, 0);
  // A wide character under the cursor is shown whole.
  const wide = [1, 1, 1, 1, 1, 1, 1, 1, 2, 1];
  const v = visibleWindow(wide, 8, 10, 0);
  assert.ok(v.start <= 8 && v.end > 8);
  assert.ok(v.cursorColumn + 2 <= 9);
});

// ------------------------------------------------------------------ keys

Deno.test("the key decoder knows arrows and Home/End in both CSI and SS3 forms, and Delete", () => {
  const keys = new KeyDecoder();
  const names = (input: string) => keys.feed(input).map((x: Key) => "key" in x ? x.key : `text:${x.text}`);
  assert.deepEqual(names("\x1b[A\x1b[B\x1b[C\x1b[D"), ["up", "down", "right", "left"]);
  assert.deepEqual(names("\x1bOH\x1bOF\x1b[H\x1b[F"), ["home", "end", "home", "end"]);
  assert.deepEqual(names("\x1b[1~\x1b[4~\x1b[7~\x1b[8~\x1b[3~"), ["home", "end", "home", "end", "delete"]);
  assert.deepEqual(names("\x1b[1;5D\x1b[1;5C\x1bb\x1bf"), ["word-left", "word-right", "word-left", "word-right"]);
});

Deno.test("the key decoder maps control keys and keeps typed text together", () => {
  const keys = new KeyDecoder();
  const names = (input: string) => keys.feed(input).map((x: Key) => "key" in x ? x.key : `text:${x.text}`);
  assert.deepEqual(names("ab\x01\x05\x02\x06c"), ["text:ab", "home", "end", "left", "right", "text:c"]);
  assert.deepEqual(names("\x17\x15\x0b\x7f\x08\x09"), [
    "delete-word-back",
    "kill-to-start",
    "kill-to-end",
    "backspace",
    "backspace",
    "tab",
  ]);
  assert.deepEqual(names("茶🍵\r"), ["text:茶🍵", "enter"]);
  assert.deepEqual(names("a\r\nb\n"), ["text:a", "enter", "text:b", "enter"]); // CR LF is one Enter
  assert.deepEqual(names("\x03\x04\x0c"), ["interrupt", "eof", "redraw"]);
});

Deno.test("an escape sequence split across reads is kept until it is complete; unknown ones vanish", () => {
  const keys = new KeyDecoder();
  assert.deepEqual(keys.feed("x\x1b["), [{ text: "x" }]);
  assert.equal(keys.pending, true);
  assert.deepEqual(keys.feed("D"), [{ key: "left" }]);
  assert.deepEqual(keys.feed("\x1b[2J\x1b[200~y"), [{ text: "y" }]); // never inserted as text
  assert.deepEqual(keys.feed("\x1b"), []);
  assert.deepEqual(keys.flush(), [{ key: "escape" }]);
  assert.equal(keys.pending, false);
  assert.deepEqual(keys.feed("\x9b"), []); // a C1 control is not text
});

Deno.test("the password part of login, /nick, /register and /password lines is drawn as stars; the text is kept", () => {
  const cases: [string, string][] = [
    ["login bob tea-for-two", "login bob ***********"],
    ["/nick alice pw1", "/nick alice ***"],
    ["/REGISTER 茶茶茶茶", "/REGISTER ****"],
    ["/password old new", "/password *** ***"],
    ["login bob", "login bob"],
    ["hello login bob x", "hello login bob x"],
  ];
  for (const [typed, drawn] of cases) {
    const ed = new LineEditor();
    type(ed, typed);
    assert.equal(ed.view(80).text, drawn, typed);
    assert.equal(ed.text, typed);
  }
  assert.equal(passwordStart("login bob"), -1);
});
