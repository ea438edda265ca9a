import assert from "node:assert/strict";
import { LineSplitter } from "../client/lines.ts";
import { Roster } from "../client/roster.ts";
import { clockTime, mentions, nickColor, plainText, styleLine } from "../client/style.ts";
import { Screen, wrapSegments } from "../client/screen.ts";
import { Backoff } from "../client/backoff.ts";
import { CLIENT_HELP, formatAddress, parseAddress, parseClientArgs } from "../client/args.ts";
import { Connection, type ConnectionEvents, describeError, isFinal } from "../client/connection.ts";
import { runInteractive, stayAway, type Tty } from "../client/interactive.ts";
import { type Link, tlsReason, TlsRefused } from "../client/link.ts";
import { LineEditor } from "../term/editor.ts";
import { codePointWidth } from "../term/width.ts";
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
  assert.equal(lines.partialBytes, 9);
  lines.consume(6); // "Name: " was answered
  assert.equal(lines.partial, "茶");
  lines.consume();
  assert.equal(lines.partial, "");
  lines.push(enc("Pass\r"));
  assert.equal(lines.partial, "Pass"); // the CR of a CR LF on its way is not shown
  assert.equal(lines.partialBytes, 4);
  assert.deepEqual(lines.push(enc("\n")), ["Pass"]);
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
  assert.equal(term.row(3), "> <lmnopqrstuvwxyz"); // the last column is left free
  assert.equal(term.x, 18);
  editor.handle({ key: "home" });
  screen.drawInput();
  assert.equal(term.row(3), "> 0123456789abcdef>");
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

/** Resolves when `test` holds, checked now and each time `changes` calls back; rejects after WAIT_MS. */
function until(test: () => boolean, what: string, changes: (wake: () => void) => () => void): Promise<void> {
  if (test()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT_MS);
    const stop = changes(() => {
      if (!test()) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}
const WAIT_MS = 5000;

/** Callbacks to call on a change, each with a function that removes it. */
class Watchers {
  #list = new Set<() => void>();
  add = (wake: () => void): () => void => {
    this.#list.add(wake);
    return () => this.#list.delete(wake);
  };
  wake(): void {
    for (const f of [...this.#list]) f();
  }
}

/** A link whose received data and end the test controls. */
class FakeLink implements Link {
  written: number[][] = [];
  closed = false;
  #queue: (Uint8Array | null)[] = [];
  #wake: (() => void) | undefined;
  #reading = false;
  readonly #changes = new Watchers();
  feed(data: Uint8Array | string | null): void {
    this.#queue.push(typeof data === "string" ? enc(data) : data);
    this.#wake?.();
  }
  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#queue.length === 0 && !this.closed) {
      this.#reading = true;
      this.#changes.wake();
      await new Promise<void>((r) => this.#wake = r);
      this.#reading = false;
    }
    const next = this.#queue.shift();
    if (next === undefined || next === null) return null;
    buf.set(next);
    return next.length;
  }
  write(bytes: Uint8Array): Promise<void> {
    this.written.push([...bytes]);
    this.#changes.wake();
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
    this.#wake?.();
  }
  /** Everything written so far, as text. */
  get text(): string {
    return new TextDecoder().decode(new Uint8Array(this.written.flat()));
  }
  /** Resolves once the reader has taken everything fed and asks for more (so it has handled it). */
  idle(): Promise<void> {
    return until(() => this.#reading && this.#queue.length === 0, "the reader to ask for more", this.#changes.add);
  }
  /** Resolves once `text` has been written. */
  waitWritten(text: string): Promise<void> {
    return until(() => this.text.includes(text), JSON.stringify(text), this.#changes.add);
  }
}

function recorder() {
  const log: string[] = [];
  const changes = new Watchers();
  const push = (...entries: string[]) => {
    log.push(...entries);
    changes.wake();
  };
  const events: ConnectionEvents = {
    connected: () => push("connected"),
    lines: (lines) => push(...lines.map((l) => `line ${l}`)),
    partial: (t) => push(`partial ${t}`),
    echo: (h) => push(`echo ${h}`),
    lost: (why, retry) => push(`lost ${why} ${retry}`),
    failed: (why, retry) => push(`failed ${why} ${retry}`),
  };
  /** Resolves once `entry` is in the log. */
  const logged = (entry: string) => until(() => log.includes(entry), JSON.stringify(entry), changes.add);
  return { log, events, logged };
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
    "line Name: ", // the connection ended before the partial line was quiet long enough to be a prompt
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

Deno.test("TLS errors of Deno's TLS stack are put in plain words; others are left as they are", () => {
  const none = { host: "localhost", ca: false };
  const unverified = "or use --insecure to connect without verifying it";
  // What `--tls --ca c.pem` said for a server whose certificate is self-signed (c.pem is also the CA).
  assert.equal(
    tlsReason("invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))", { host: "localhost", ca: true }),
    "the server's certificate is a CA certificate used as its own (self-signed); sign the server's certificate " +
      "with a separate CA and give that CA with --ca, or use --insecure",
  );
  assert.equal(
    tlsReason("invalid peer certificate: UnknownIssuer", none),
    "the server's certificate is not signed by a CA this computer trusts (a private CA, or self-signed?); " +
      `give that CA with --ca FILE, ${unverified}`,
  );
  assert.match(tlsReason("invalid peer certificate: UnknownIssuer", { ...none, ca: true }), /the CA given with --ca/);
  assert.equal(
    tlsReason(
      'invalid peer certificate: certificate not valid for name "127.0.0.2"; certificate is only valid for ' +
        'IpAddress(127.0.0.1) or DnsName("localhost")',
      { host: "127.0.0.2", ca: true },
    ),
    `the server's certificate is not valid for the name 127.0.0.2 (it is for 127.0.0.1, localhost); ` +
      `connect with a name it is for, ${unverified}`,
  );
  assert.equal(
    tlsReason("invalid peer certificate: NotValidForName", { host: "chat.example", ca: false }),
    `the server's certificate is not valid for the name chat.example; connect with a name it is for, ${unverified}`,
  );
  for (
    const expired of [
      "invalid peer certificate: Expired",
      "invalid peer certificate: certificate expired: verification time 1700000000 (UNIX), but certificate is not " +
      "valid after 1600000000 (100000000 seconds ago)",
    ]
  ) assert.match(tlsReason(expired, none), /^the server's certificate has expired/);
  assert.match(tlsReason("invalid peer certificate: NotValidYet", none), /^the server's certificate is not valid yet/);
  assert.equal(
    tlsReason("invalid peer certificate: BadSignature", none),
    "the server's certificate was refused: BadSignature",
  );
  assert.equal(
    tlsReason("received corrupt message of type InvalidContentType", none),
    "the server did not answer in TLS (is this a plain port? leave out --tls for it)",
  );
  assert.equal(tlsReason("Connection refused (os error 111)", none), "Connection refused (os error 111)");
});

Deno.test("a TLS refusal is final: told once, not retried even with reconnect; other failures are retried", async () => {
  const refusal = "the server's certificate is not signed by a CA this computer trusts (a private CA, or self-signed?)";
  assert.equal(isFinal(new TlsRefused(refusal)), true);
  assert.equal(isFinal(new Error("Connection refused (os error 111)")), false);
  assert.equal(isFinal("final"), false);
  const { log, events } = recorder();
  const failures = [new Error("Connection refused (os error 111)"), new TlsRefused(refusal)];
  const waits: number[] = [];
  const connection = new Connection({
    open: () => Promise.reject(failures.shift() ?? new Error("tried a third time")),
    events,
    reconnect: true,
    sleep: (ms) => {
      waits.push(ms);
      if (waits.length > 2) connection.stop(); // (it would try for ever)
      return Promise.resolve();
    },
  });
  await connection.run();
  assert.deepEqual(log, ["failed Connection refused 1000", `failed ${refusal} undefined`]);
  assert.deepEqual(waits, [1000]);
});

Deno.test("the server's last words after which the client stays away, and the lines that are not such", () => {
  const taken = { why: "you are logged in from another connection.", code: 0 };
  assert.deepEqual(stayAway("*** You (dave) logged in from another connection; this one is closed."), taken);
  assert.deepEqual(stayAway("*** You are banned for good."), { why: "you are banned for good.", code: 1 });
  assert.deepEqual(stayAway("*** You are banned for good: spam"), { why: "you are banned for good.", code: 1 });
  assert.deepEqual(stayAway("*** You are banned until 2031-05-06 07:08:09 UTC (1h from now): see: UTC rules"), {
    why: "you are banned until 2031-05-06 07:08:09 UTC.",
    code: 1,
  });
  assert.deepEqual(stayAway("*** Your address is banned until 2031-05-06 07:08:09 UTC (30m from now)."), {
    why: "your address is banned until 2031-05-06 07:08:09 UTC.",
    code: 1,
  });
  assert.deepEqual(stayAway("*** Your address is banned for good."), {
    why: "your address is banned for good.",
    code: 1,
  });
  const kicked = { why: "you were kicked out of the server by opal.", code: 1 };
  assert.deepEqual(stayAway("*** You were kicked by opal."), kicked);
  assert.deepEqual(stayAway("*** You were kicked by opal: too loud: really."), kicked);
  assert.deepEqual(stayAway("*** You were kicked by o.pal."), { ...kicked, why: kicked.why.replace("opal", "o.pal") });
  for (
    const line of [
      "*** You were kicked from den by opal.", // a side room: moved to the main room, still connected
      "*** You were kicked from den by opal: too loud",
      "*** bob was kicked from main by opal.", // what the room sees
      "*** bob is banned for good by opal.",
      "*** The nick bob is banned for good.", // a login refused: the connection stays
      "*** The server is full (100 connections); please try again later.",
      "*** The server is shutting down. Goodbye!",
      "*** Goodbye!",
      "bob: *** You are banned for good.",
      "[private] bob: *** You were kicked by opal.",
    ]
  ) assert.equal(stayAway(line), undefined, line);
});

Deno.test("sent away by the server: said once, not connected again, exit 1 (0 when logged in elsewhere)", async () => {
  const cases: [string, string, number][] = [
    ["*** You are banned for good.", "-!- Not connecting again: you are banned for good.", 1],
    ["*** You were kicked by opal: spam", "-!- Not connecting again: you were kicked out of the server by opal.", 1],
    ["*** Your address is banned for good.", "-!- Not connecting again: your address is banned for good.", 1],
    ["*** Login timed out after 60 seconds. Goodbye!", "-!- Not connecting again: you did not log in in time.", 1],
    [
      "*** You (bob) logged in from another connection; this one is closed.",
      "-!- Not connecting again: you are logged in from another connection.",
      0,
    ],
  ];
  for (const [last, said, code] of cases) {
    const tty = new FakeTty(100, 8);
    let opened = 0;
    const link = new FakeLink();
    const running = runInteractive(parseClientArgs(["--no-color"]), tty, () => {
      if (opened++ === 0) return Promise.resolve(link);
      tty.close(); // it connects again: the terminal goes away, so the test ends (and fails)
      return new Promise<Link>(() => {});
    });
    link.feed(`*** Welcome to TestChat!\r\n${last}\r\n`);
    link.feed(null);
    assert.equal(await running, code, last);
    assert.deepEqual(tty.term.screen().filter((r) => r !== ""), [
      "-!- Connected to 127.0.0.1:5005.",
      "*** Welcome to TestChat!",
      last,
      said,
    ]);
    assert.equal(opened, 1, last);
  }
});

Deno.test("a kick from a side room only moves the user: the connection is lost later, and connected again", async () => {
  const tty = new FakeTty(140, 8);
  const [first, second] = [new FakeLink(), new FakeLink()];
  const links = [first, second];
  const opened: FakeLink[] = [];
  const running = runInteractive(parseClientArgs(["--no-color"]), tty, () => {
    const link = links.shift();
    if (!link) return new Promise<Link>(() => {}); // a third attempt waits for ever
    opened.push(link);
    return Promise.resolve(link);
  });
  first.feed("*** You were kicked from den by opal.\r\n*** bob has entered the room.\r\n");
  first.feed(null);
  await tty.until(
    (rows) => rows.some((r) => /^-!- Connection to .* lost: .*Connecting again in 1 s/.test(r)),
    "a retry",
  );
  await tty.until(() => opened.length === 2, "the second connection");
  second.feed("*** Welcome back\r\n");
  await tty.until((rows) => rows.includes("*** Welcome back"), "the second connection's line");
  tty.close();
  assert.equal(await running, 0);
});

// ------------------------------------------------------------------ partial lines: prompts or not

/** A connection on a fake link, with its events logged; `promptDelayMs` is how long a partial line must be quiet. */
function connectionOn(promptDelayMs: number) {
  const { log, events, logged } = recorder();
  const link = new FakeLink();
  const connection = new Connection({ open: () => Promise.resolve(link), events, reconnect: false, promptDelayMs });
  const running = connection.run();
  const end = async () => {
    link.feed(null);
    await running;
  };
  return { log, logged, link, connection, end };
}

Deno.test("a chat line split across two reads comes out whole and is never shown as a prompt", async () => {
  const { log, link, end } = connectionOn(60_000);
  link.feed("bob: this message arrives in two TCP rea");
  await link.idle();
  link.feed("ds and should be one line\r\n");
  await link.idle();
  await end();
  assert.deepEqual(log.filter((l) => !l.startsWith("lost")), [
    "connected",
    "line bob: this message arrives in two TCP reads and should be one line",
  ]);
});

Deno.test("a partial line is a prompt once it has been quiet for a while; a line end takes it away at once", async () => {
  const { log, logged, link, end } = connectionOn(20);
  link.feed("Name: ");
  await logged("partial Name: ");
  link.feed("\r\nnext\r\n");
  await link.idle();
  await end();
  assert.deepEqual(log.slice(1, -1), ["partial Name: ", "partial ", "line Name: ", "line next"]);
});

Deno.test("a prompt marked with telnet GA or EOR is shown at once", async () => {
  const { log, logged, link, end } = connectionOn(60_000);
  link.feed(new Uint8Array([...enc("Name: "), 255, 249])); // IAC GA
  await logged("partial Name: ");
  link.feed(new Uint8Array([...enc("ok\r\nPassword: "), 255, 239])); // IAC EOR
  await logged("partial Password: ");
  await end();
  assert.deepEqual(log.slice(1, 5), ["partial Name: ", "partial ", "line Name: ok", "partial Password: "]);
});

Deno.test("answering a prompt uses up only the text shown; what came after it is kept, and nothing is lost", async () => {
  const { log, logged, link, connection, end } = connectionOn(20);
  link.feed("Name: ");
  await logged("partial Name: ");
  link.feed("Hel"); // arrives before the answer, not shown yet
  await link.idle();
  connection.answerPrompt(); // the user answered "Name: " (the client shows "Name: bob" itself)
  link.feed("lo bob\r\n");
  await link.idle();
  link.feed("Age: ");
  await logged("partial Age: ");
  connection.answerPrompt();
  link.feed("\r\nThanks\r\n"); // the line end of the answered prompt is not an empty line of its own
  await link.idle();
  await end();
  const lines = log.filter((l) => l.startsWith("line "));
  assert.deepEqual(lines, ["line Hello bob", "line Thanks"]);
});

/** A terminal for runInteractive: keys the test presses, a FakeTerminal for what is drawn. */
class FakeTty implements Tty {
  readonly term: FakeTerminal;
  /** The bottom row after each write. */
  readonly bottoms: string[] = [];
  #keys: (Uint8Array | null)[] = [];
  #wake: (() => void) | undefined;
  readonly #changes = new Watchers();
  readonly output;

  constructor(columns = 80, rows = 8) {
    const term = this.term = new FakeTerminal(columns, rows);
    this.output = {
      write: (text: string) => {
        term.write(text);
        this.bottoms.push(term.row(term.rows - 1));
        this.#changes.wake();
      },
      size: () => ({ columns: term.columns, rows: term.rows }),
    };
  }
  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#keys.length === 0) await new Promise<void>((r) => this.#wake = r);
    const next = this.#keys.shift()!;
    if (next === null) return null;
    buf.set(next);
    return next.length;
  }
  setRaw(): void {}
  onResize(): () => void {
    return () => {};
  }
  onTerminate(): () => void {
    return () => {};
  }
  /** Types keys (as bytes a terminal sends). */
  press(text: string): void {
    this.#keys.push(enc(text));
    this.#wake?.();
  }
  /** The terminal goes away: the client ends. */
  close(): void {
    this.#keys.push(null);
    this.#wake?.();
  }
  /** Resolves once the screen passes `test`. */
  until(test: (rows: string[]) => boolean, what: string): Promise<void> {
    return until(() => test(this.term.screen()), what, this.#changes.add);
  }
}

/** The client on a fake terminal and a fake link. */
function interactive(columns = 80, rows = 8) {
  const tty = new FakeTty(columns, rows);
  const link = new FakeLink();
  const running = runInteractive(parseClientArgs(["--no-color", "--no-reconnect"]), tty, () => Promise.resolve(link));
  const end = async () => {
    tty.close();
    assert.equal(await running, 0);
  };
  return { tty, link, end };
}

Deno.test("Enter while a chat line is half received: the line still comes out whole, not glued to what was typed", async () => {
  const { tty, link, end } = interactive();
  link.feed("*** Welcome to TestChat!\r\n");
  tty.press("hello");
  await tty.until((rows) => rows.at(-1) === "> hello", "the typed text");
  link.feed("bob: this message arrives in two TCP rea");
  await link.idle();
  tty.press("\r");
  await link.waitWritten("hello\r\n");
  link.feed("ds and should be one line\r\n");
  await tty.until((rows) => rows.some((r) => r.endsWith("should be one line")), "the rest of bob's line");
  const whole = "bob: this message arrives in two TCP reads and should be one line";
  assert.deepEqual(tty.term.screen().filter((r) => r !== ""), [
    "-!- Connected to 127.0.0.1:5005.",
    "*** Welcome to TestChat!",
    whole,
    ">",
  ]);
  assert.ok(tty.bottoms.every((r) => r.startsWith(">")), `the input row showed a prompt: ${tty.bottoms.join(" | ")}`);
  await end();
});

Deno.test("a real prompt (quiet, no line end) leads the input row, and the answer goes on its line", async () => {
  const { tty, link, end } = interactive();
  link.feed("Name: ");
  await tty.until((rows) => rows.at(-1) === "Name:", "the prompt on the input row");
  tty.press("bob\r");
  await link.waitWritten("bob\r\n");
  await tty.until((rows) => rows.includes("Name: bob"), "the answer on the prompt's line");
  link.feed("Hello bob\r\n");
  await tty.until((rows) => rows.includes("Hello bob"), "the server's next line");
  assert.deepEqual(tty.term.screen().filter((r) => r !== ""), [
    "-!- Connected to 127.0.0.1:5005.",
    "Name: bob",
    "Hello bob",
    ">",
  ]);
  await end();
});

// ------------------------------------------------------------------ widths guessed wrong, tiny terminals

/** Columns as a terminal that measures code point by code point draws them (tmux: 👍🏽 is 4, क्ष is 2). */
const wcswidth = (cluster: string) => [...cluster].reduce((n, c) => n + codePointWidth(c.codePointAt(0)!), 0);

Deno.test("an input row the terminal draws wider than guessed (skin tones, conjuncts) never wraps into the chat", () => {
  const term = new FakeTerminal(40, 6, wcswidth);
  const editor = new LineEditor();
  const screen = new Screen(term.output, editor, { color: false });
  screen.start();
  editor.insert("👍🏽".repeat(15) + "क्ष".repeat(10));
  screen.drawInput();
  screen.print([plain("line 1")]);
  editor.handle({ key: "home" });
  screen.drawInput();
  screen.print([plain("line 2"), plain("line 3")]);
  assert.equal(term.wraps, 0);
  assert.equal(term.autowrap, true, "autowrap is given back after each draw of the input row");
  assert.deepEqual(term.screen().slice(0, 5), ["", "", "line 1", "line 2", "line 3"]);
  assert.ok(term.row(5).startsWith("> 👍🏽"), term.row(5));
  assert.ok(term.scrollback.every((r) => r === ""), term.scrollback.join("\n")); // the blank rows above, scrolled
  // Text the terminal wraps on purpose (a long received line) still wraps.
  screen.print([plain("x".repeat(50))]);
  assert.deepEqual(term.screen().slice(3, 5), ["x".repeat(40), "x".repeat(10)]);
});

Deno.test("on a 5x5 terminal the input row stays on the bottom row and lines wrap above it", () => {
  const term = new FakeTerminal(5, 5);
  const editor = new LineEditor();
  const screen = new Screen(term.output, editor, { color: false });
  screen.start();
  editor.insert("hello 茶会 world");
  screen.drawInput();
  screen.print([plain("ab"), plain("abcdefg")]);
  editor.handle({ key: "home" });
  screen.drawInput();
  editor.handle({ key: "right" });
  editor.handle({ key: "right" });
  screen.drawInput();
  assert.equal(term.wraps, 1, "only the received line wider than the terminal wraps");
  assert.deepEqual(term.screen().slice(0, 4), ["", "ab", "abcde", "fg"]);
  assert.ok(term.row(4).startsWith(">"), term.row(4));
  assert.equal(term.y, 4);
  screen.repaint();
  assert.deepEqual(term.screen().slice(0, 4), ["", "ab", "abcde", "fg"]);
  assert.ok(term.row(4).startsWith(">"), term.row(4));
});

// ------------------------------------------------------------------ addresses, --help

Deno.test("an IPv6 address is shown in brackets with its port", () => {
  assert.equal(formatAddress("::1", 5331), "[::1]:5331");
  assert.equal(formatAddress("127.0.0.1", 5005), "127.0.0.1:5005");
  assert.equal(formatAddress("chat.example", 6000), "chat.example:6000");
});

Deno.test("--help fits 80 columns and names the same keys as the README's Keys table", async () => {
  const long = CLIENT_HELP.split("\n").filter((l) => [...l].length > 80);
  assert.deepEqual(long, []);
  const KEY = /\b(?:Ctrl|Alt)-(?:Left|Right|[A-Z])\b|\b(?:Left|Right|Up|Down|Home|End|Backspace|Delete|Tab|Enter)\b/g;
  const keysIn = (texts: string[]) => [...new Set(texts.flatMap((t) => t.match(KEY) ?? []))].sort();
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.split("\n## The terminal client\n")[1].split("\n### Keys\n")[1].split("\n### ")[0];
  const readmeKeys = keysIn(section.split("\n").filter((l) => l.startsWith("| ")).slice(2).map((l) => l.split("|")[1]));
  const helpSection = CLIENT_HELP.split("\nKeys:\n")[1] ?? "";
  const helpKeys = keysIn(helpSection.split("\n").map((l) => l.trim().split(/\s{2,}/)[0]));
  assert.ok(readmeKeys.length > 20, readmeKeys.join(" "));
  assert.deepEqual(helpKeys, readmeKeys);
});
