import assert from "node:assert/strict";
import { LineSplitter } from "../client/lines.ts";
import { Roster } from "../client/roster.ts";
import { clockTime, mentions, nickColor, plainText, styleLine } from "../client/style.ts";
import { Screen, wrapSegments } from "../client/screen.ts";
import { Backoff } from "../client/backoff.ts";
import { parseAddress, parseClientArgs } from "../client/args.ts";
import { Connection, type ConnectionEvents, describeError } from "../client/connection.ts";
import type { Link } from "../client/link.ts";
import { LineEditor } from "../term/editor.ts";
import { FakeTerminal } from "./fake_terminal.ts";

const enc = (s: string) => new TextEncoder().encode(s);

// ------------------------------------------------------------------ lines

Deno.test("lines end at LF with or without CR; a character split across chunks arrives whole", () => {
  const lines = new LineSplitter();
  const bytes = enc("茶会\r\nnext\n");
  assert.deepEqual(lines.push(bytes.subarray(0, 2)), []);
  assert.deepEqual(lines.push(bytes.subarray(2)), ["茶会", "next"]);
});

Deno.test("text after the last line end is the partial line (a prompt), without a half character", () => {
  const lines = new LineSplitter();
  assert.deepEqual(lines.push(enc("hi\r\nName: ")), ["hi"]);
  assert.equal(lines.partial, "Name: ");
  const tea = enc("茶");
  lines.push(tea.subarray(0, 1));
  assert.equal(lines.partial, "Name: ");
  lines.push(tea.subarray(1));
  assert.equal(lines.partial, "Name: 茶");
  lines.dropPartial();
  assert.equal(lines.partial, "");
  assert.deepEqual(lines.push(enc("more\r\n")), ["more"]);
  lines.push(enc("last words"));
  assert.equal(lines.end(), "last words");
  assert.equal(lines.end(), undefined);
});

Deno.test("a partial line longer than the limit is cut into lines, never inside a character", () => {
  const lines = new LineSplitter(10);
  // 8 ASCII bytes, then three 3-byte characters: a cut at byte 10 would split the first one.
  assert.deepEqual(lines.push(enc("abcdefgh茶茶茶")), ["abcdefgh"]);
  assert.equal(lines.partial, "茶茶茶");
});

// ------------------------------------------------------------------ roster

Deno.test("nicks are learned from look, who, entries and speakers, and forgotten when they leave", () => {
  const r = new Roster();
  r.learn("*** In main (3): alice, bob, 茶友");
  r.learn("*** 2 logged in:");
  r.learn("***   garden (2): carol, dave");
  r.learn("*** erin has entered the room.");
  r.learn("frank: hello");
  r.learn("* gina waves");
  r.learn("[private] hal: psst");
  assert.deepEqual(r.nicks, ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hal", "茶友"]);
  r.learn("*** bob has left the room.");
  r.learn("*** carol and dave left the room.");
  assert.deepEqual(r.nicks, ["alice", "erin", "frank", "gina", "hal", "茶友"]);
});

Deno.test("crowd summaries and the book server's bare notices are understood", () => {
  const r = new Roster();
  r.learn("*** ann, ben and cat entered the room; dan left the room.");
  r.learn("eve has entered the room.");
  r.learn("*** In main (140): ann, ben and 138 more");
  assert.deepEqual(r.nicks, ["ann", "ben", "cat", "eve"]);
});

Deno.test("/commands and their aliases are learned from help lines, not from who lines", () => {
  const r = new Roster();
  r.learn("*** Commands:");
  r.learn("***   logout                        say goodbye and disconnect (also /quit)");
  r.learn("***   /join <room>                  go to a room (created if it does not exist)");
  r.learn("***   /quiet                        toggle quiet mode (also /i)");
  r.learn("***   /msg <nick> <text...>         private message to one user (also @nick <text>)");
  r.learn("***   main (3): a, b, c");
  assert.deepEqual(r.commands, ["/i", "/join", "/logout", "/msg", "/quiet", "/quit"]);
});

Deno.test("the user's nick is known once the server confirms the login, in the server's spelling", () => {
  const r = new Roster();
  r.loggingIn("ALICE");
  r.learn("*** bob has entered the room.");
  assert.equal(r.me, undefined);
  r.learn("*** Alice has entered the room.");
  assert.equal(r.me, "Alice");
  r.learn("*** Alice has left the room."); // own leave (a /join elsewhere) keeps the nick known
  assert.ok(r.nicks.includes("Alice"));
});

// ------------------------------------------------------------------ style

Deno.test("escape sequences and control characters in received text are removed before display", () => {
  const line = styleLine("bob: \x1b[2Jhi\x1b]0;owned\x07 there\x08\x08\x08\x08\x08\x08", { color: false });
  assert.equal(plainText(line), "bob: hi");
  assert.equal(plainText(styleLine("\x1b[31mred\x1b[0m \u202eevil", { color: false })), "red evil");
});

Deno.test("notices are dimmed, nicks coloured by a stable hash, own lines bold", () => {
  const notice = styleLine("*** bob has entered the room.", { color: true });
  assert.deepEqual(notice.segments, [{ text: "*** bob has entered the room.", sgr: "2" }]);
  const chat = styleLine("bob: hi", { color: true, me: "alice" });
  assert.deepEqual(chat.segments, [{ text: "bob", sgr: nickColor("bob") }, { text: ": hi", sgr: "" }]);
  assert.equal(nickColor("Bob"), nickColor("bob"));
  const colours = new Set(["alice", "bob", "carol", "dave", "erin", "frank", "gina"].map(nickColor));
  assert.ok(colours.size >= 4, "different nicks get different colours");
  const own = styleLine("alice: mine", { color: true, me: "alice" });
  assert.deepEqual(own.segments, [{ text: "alice", sgr: `1;${nickColor("alice")}` }, { text: ": mine", sgr: "1" }]);
  assert.equal(own.bell, false);
});

Deno.test("a mention of the user's nick is highlighted and rings; so does a private message", () => {
  const ctx = { color: true, me: "alice" };
  const mention = styleLine("bob: hi Alice!", ctx);
  assert.equal(mention.bell, true);
  assert.equal(mention.segments[1].sgr, "1;33");
  assert.equal(styleLine("bob: hi malice", ctx).bell, false); // not a word of its own
  assert.equal(styleLine("* bob hugs alice", ctx).bell, true);
  const pm = styleLine("[private] bob: psst", ctx);
  assert.equal(pm.bell, true);
  assert.equal(plainText(pm), "[private] bob: psst");
  assert.equal(styleLine("*** alice has entered the room.", ctx).bell, false);
  assert.equal(styleLine("alice: talking about alice", ctx).bell, false); // own line
  assert.ok(mentions("hey 茶友, tea?", "茶友"));
  // History replayed on entering a room is highlighted but does not ring; offline mail does.
  const old = styleLine("[history 2026-11-23 16:58:10] bob: alice, tea?", ctx);
  assert.equal(old.bell, false);
  assert.equal(old.segments.at(-1)!.sgr, "1;33");
  assert.equal(styleLine("[mail 2026-11-23 16:58:10] bob: see you", ctx).bell, true);
});

Deno.test("without colour the text is the same and carries no attributes; timestamps go first", () => {
  const line = styleLine("bob: hi alice", { color: false, me: "alice", time: clockTime(new Date(2026, 0, 2, 9, 5)) });
  assert.equal(plainText(line), "09:05 bob: hi alice");
  assert.ok(line.segments.every((s) => s.sgr === ""));
  assert.equal(line.bell, true);
});

// ------------------------------------------------------------------ screen

function screenWith(columns = 40, rows = 6) {
  const term = new FakeTerminal(columns, rows);
  const editor = new LineEditor();
  const screen = new Screen(term.output, editor, { color: false });
  return { term, editor, screen };
}
const plain = (text: string) => ({ segments: [{ text, sgr: "" }], bell: false });

Deno.test("the input line stays whole on the bottom row, cursor after it, while lines scroll above", () => {
  const { term, editor, screen } = screenWith();
  screen.start();
  editor.insert("half a li");
  screen.drawInput();
  for (let i = 1; i <= 50; i++) screen.print([plain(`line ${i}`)]);
  assert.equal(term.row(5), "> half a li");
  assert.deepEqual([term.x, term.y], [11, 5]);
  assert.deepEqual(term.screen().slice(0, 5), ["line 46", "line 47", "line 48", "line 49", "line 50"]);
  const all = [...term.scrollback, ...term.screen()].filter((r) => r.startsWith("line"));
  assert.deepEqual(all.slice(-50), Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
  assert.ok(!term.scrollback.some((r) => r.startsWith(">")), "the input line never goes into the scrollback");
  assert.deepEqual(term.unknown, []);
});

Deno.test("a received line wider than the screen wraps above, and the input row is still intact", () => {
  const { term, editor, screen } = screenWith(20, 6);
  screen.start();
  editor.insert("茶会 typed");
  screen.print([plain("x".repeat(45)), plain("茶".repeat(10))]);
  assert.deepEqual(term.screen(), ["", "x".repeat(20), "x".repeat(20), "xxxxx", "茶".repeat(10), "> 茶会 typed"]);
  assert.deepEqual([term.x, term.y], [12, 5]);
});

Deno.test("a long input line scrolls horizontally on its row; the cursor stays on its character", () => {
  const { term, editor, screen } = screenWith(20, 4);
  screen.start();
  editor.insert("0123456789abcdefghijklmnopqrstuvwxyz");
  screen.drawInput();
  assert.equal(term.row(3), "> <klmnopqrstuvwxyz");
  assert.equal(term.x, 19);
  editor.handle({ key: "home" });
  screen.drawInput();
  assert.equal(term.row(3), "> 0123456789abcdefg>");
  assert.equal(term.x, 2);
});

Deno.test("a resize repaints the newest lines and puts the input row at the new bottom", () => {
  const { term, editor, screen } = screenWith(30, 8);
  screen.start();
  for (let i = 1; i <= 10; i++) screen.print([plain(`line ${i}`)]);
  editor.insert("draft");
  screen.drawInput();
  term.resize(12, 5);
  screen.repaint();
  assert.deepEqual(term.screen(), ["line 7", "line 8", "line 9", "line 10", "> draft"]);
  assert.deepEqual([term.x, term.y], [7, 4]);
  // A line wider than the new width is wrapped in the repaint, showing its end.
  screen.print([plain("abcdefghijklmnopqrstuvwxyz")]);
  term.resize(10, 4);
  screen.repaint();
  assert.deepEqual(term.screen(), ["abcdefghij", "klmnopqrst", "uvwxyz", "> draft"]);
});

Deno.test("a hidden (password) input shows no characters, and the server's prompt leads the input row", () => {
  const { term, editor, screen } = screenWith(40, 4);
  screen.start();
  editor.secret = true;
  editor.insert("secret123");
  screen.drawInput();
  assert.equal(term.row(3), "(hidden)");
  assert.ok(!term.screen().join("\n").includes("secret"));
  editor.secret = false;
  editor.set("");
  screen.setServerPrompt("Name: ");
  editor.insert("al");
  screen.drawInput();
  assert.equal(term.row(3), "Name: al");
  assert.equal(term.x, 8);
});

Deno.test("a line that asks for it rings the bell once", () => {
  const { term, screen } = screenWith();
  screen.start();
  screen.print([{ segments: [{ text: "[private] bob: hi", sgr: "" }], bell: true }, plain("x")]);
  assert.equal(term.bells, 1);
});

Deno.test("end() leaves the cursor visible at the start of an empty bottom row", () => {
  const { term, editor, screen } = screenWith(20, 4);
  screen.start();
  editor.insert("unsent");
  screen.print([plain("hello")]);
  screen.end();
  assert.equal(term.row(3), "");
  assert.deepEqual([term.x, term.y], [0, 3]);
  assert.equal(term.cursorVisible, true);
  assert.equal(term.row(2), "hello");
});

Deno.test("wrapSegments keeps each piece's style and moves a wide character to the next row", () => {
  const rows = wrapSegments([{ text: "ab", sgr: "1" }, { text: "茶茶", sgr: "2" }], 5);
  assert.deepEqual(rows, [[{ text: "ab", sgr: "1" }, { text: "茶", sgr: "2" }], [{ text: "茶", sgr: "2" }]]);
});

// ------------------------------------------------------------------ backoff, args

Deno.test("backoff doubles from 1 s to at most 30 s and starts over after a connection that lasted", () => {
  const b = new Backoff();
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next()), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  b.connected(0);
  b.lost(2000); // closed at once: no reset
  assert.equal(b.next(), 30000);
  b.connected(10_000);
  b.lost(25_000);
  assert.equal(b.next(), 1000);
});

Deno.test("the command line takes host[:port] with defaults, flags, and refuses bad input with a reason", () => {
  assert.deepEqual(parseAddress(""), { host: "127.0.0.1", port: 5005 });
  assert.deepEqual(parseAddress("chat.example"), { host: "chat.example", port: 5005 });
  assert.deepEqual(parseAddress("chat.example:6000"), { host: "chat.example", port: 6000 });
  assert.deepEqual(parseAddress(":7000"), { host: "127.0.0.1", port: 7000 });
  assert.deepEqual(parseAddress("[::1]:7000"), { host: "::1", port: 7000 });
  assert.throws(() => parseAddress("host:0"), /bad port "0"/);
  assert.throws(() => parseAddress("host:99999"), /bad port/);
  assert.throws(() => parseAddress("host:12ab"), /bad port/);
  const o = parseClientArgs(["--nick", "alice", "--tls", "--insecure", "--timestamps", "h:1"]);
  assert.equal(o.nick, "alice");
  assert.equal(o.tls && o.insecure && o.timestamps, true);
  assert.equal(parseClientArgs([], { NO_COLOR: "1" }).color, false);
  assert.throws(() => parseClientArgs(["--insecure"]), /need --tls/);
  assert.throws(() => parseClientArgs(["--nick", "two words"]), /one word/);
  assert.throws(() => parseClientArgs(["--bogus"]), /bogus/);
  assert.throws(() => parseClientArgs(["a", "b"]), /one server address/);
});

// ------------------------------------------------------------------ connection

/** A link whose received data and end the test controls. */
class FakeLink implements Link {
  written: number[][] = [];
  closed = false;
  #queue: (Uint8Array | null)[] = [];
  #wake: (() => void) | undefined;
  feed(data: Uint8Array | string | null): void {
    this.#queue.push(typeof data === "string" ? enc(data) : data);
    this.#wake?.();
  }
  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#queue.length === 0 && !this.closed) await new Promise<void>((r) => this.#wake = r);
    const next = this.#queue.shift();
    if (next === undefined || next === null) return null;
    buf.set(next);
    return next.length;
  }
  write(bytes: Uint8Array): Promise<void> {
    this.written.push([...bytes]);
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
    this.#wake?.();
  }
}

function recorder() {
  const log: string[] = [];
  const events: ConnectionEvents = {
    connected: () => log.push("connected"),
    lines: (lines) => log.push(...lines.map((l) => `line ${l}`)),
    partial: (t) => log.push(`partial ${t}`),
    echo: (h) => log.push(`echo ${h}`),
    lost: (why, retry) => log.push(`lost ${why} ${retry}`),
    failed: (why, retry) => log.push(`failed ${why} ${retry}`),
  };
  return { log, events };
}

Deno.test("the connection retries with a growing delay, and reads lines with telnet removed", async () => {
  const { log, events } = recorder();
  const link = new FakeLink();
  const attempts: (() => Promise<Link>)[] = [
    () => Promise.reject(new Error("Connection refused (os error 111)")),
    () => Promise.reject(new Error("Connection refused (os error 111)")),
    () => Promise.resolve(link),
  ];
  const waits: number[] = [];
  let now = 0;
  const connection = new Connection({
    open: () => attempts.shift()!(),
    events,
    reconnect: true,
    now: () => now,
    sleep: (ms) => {
      waits.push(ms);
      now += ms;
      if (attempts.length === 0) connection.stop();
      return Promise.resolve();
    },
  });
  const running = connection.run();
  await new Promise((r) => setTimeout(r, 10));
  link.feed(new Uint8Array([255, 251, 1, ...enc("Pass"), 255, 241, ...enc("word:\r\nName: ")]));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(connection.send("secret"), true);
  link.feed(null);
  await running;
  assert.deepEqual(waits.slice(0, 2), [1000, 2000]);
  assert.deepEqual(log, [
    "failed Connection refused 1000",
    "failed Connection refused 2000",
    "connected",
    "echo true",
    "line Password:",
    "partial Name: ",
    "line Name: ",
    "partial ",
    "echo false",
    "lost the server closed the connection 4000",
  ]);
  assert.deepEqual(link.written, [[255, 253, 1], [...enc("secret\r\n")]]); // DO ECHO, then the line
  assert.equal(connection.connected, false);
});

Deno.test("without reconnect, a failure or a loss ends run(); send() says false when not connected", async () => {
  const { log, events } = recorder();
  const connection = new Connection({
    open: () => Promise.reject(new Error("No route")),
    events,
    reconnect: false,
  });
  await connection.run();
  assert.deepEqual(log, ["failed No route undefined"]);
  assert.equal(connection.send("x"), false);
  assert.equal(describeError(new Error("Connection reset by peer (os error 104)")), "Connection reset by peer");
});
