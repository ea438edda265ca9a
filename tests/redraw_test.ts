/**
 * Redraw mode over real sockets: a test client plays a telnet terminal
 * (answers the BINARY offer, names its TERMINAL-TYPE, agrees to character
 * mode) and sends keys; what the server sends it is played on a terminal
 * emulator, so the tests check what its user would see.
 */
import assert from "node:assert/strict";
import { startServer, type TestClient, type TestServer } from "./helpers.ts";
import { BINARY, ECHO, IAC, NAWS, SGA, TTYPE, TTYPE_SEND } from "../telnet.ts";
import { TelnetClient } from "../client/telnet.ts";
import { FakeTerminal } from "./fake_terminal.ts";

const DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
const encoder = new TextEncoder();
const text = (s: string) => [...encoder.encode(s)];

/** Connects a client that answers the offer and names its terminal; returns once the name is sent. */
async function named(chat: TestServer, name: string): Promise<TestClient> {
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  await client.sendRaw(new Uint8Array([IAC, WILL, BINARY, IAC, DO, BINARY]));
  await client.waitForBytes([IAC, DO, TTYPE]);
  await client.sendRaw(new Uint8Array([IAC, WILL, TTYPE]));
  await client.waitForBytes([...TTYPE_SEND]);
  await client.sendRaw(new Uint8Array([IAC, SB, TTYPE, 0, ...text(name), IAC, SE]));
  return client;
}

/** Agrees to the character mode the server asked for (80x24), and waits until the server says so. */
async function agree(client: TestClient, notice = /Redraw mode/): Promise<void> {
  await client.waitForBytes([IAC, WILL, ECHO]);
  await client.waitForBytes([IAC, WILL, SGA]);
  await client.sendRaw(
    new Uint8Array([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]),
  );
  await client.waitFor(notice);
}

/** A terminal (XTERM) in redraw mode, logged in as `nick`. */
async function terminal(chat: TestServer, nick: string): Promise<TestClient> {
  const client = await named(chat, "XTERM");
  await agree(client);
  await keys(client, `login ${nick}\r`);
  await client.waitFor((l) => l.endsWith(`*** ${nick} has entered the room.`));
  return client;
}

/** Sends keys one write per key, as a terminal does. */
async function keys(client: TestClient, typed: string | number[]): Promise<void> {
  const bytes = typeof typed === "string" ? encoder.encode(typed) : new Uint8Array(typed);
  if (typeof typed === "string") {
    for (const ch of typed) await client.sendRaw(ch);
  } else await client.sendRaw(bytes);
}

/** What the client's user sees: everything received, telnet commands removed, played on an 80x24 terminal. */
function screen(client: TestClient): FakeTerminal {
  const terminal = new FakeTerminal(80, 24);
  const telnet = new TelnetClient(() => {});
  terminal.write(new TextDecoder().decode(telnet.filter(new Uint8Array(client.raw))));
  return terminal;
}

function count(haystack: number[], needle: number[]): number {
  let n = 0;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    n++;
  }
  return n;
}

const ERASE = [13, 0x1b, 0x5b, 0x4b]; // CR ESC [ K

Deno.test("a plain terminal is asked for character mode and NAWS, and told that redraw mode is on", async () => {
  await using chat = await startServer();
  const alice = await named(chat, "XTERM-256COLOR");
  await alice.waitForBytes([IAC, WILL, ECHO]);
  await alice.waitForBytes([IAC, WILL, SGA]);
  await alice.waitForBytes([IAC, DO, NAWS]);
  await agree(alice);
});

Deno.test("keys sent one at a time are echoed and edited on the server, and the line arrives whole", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  const alice = await terminal(chat, "alice");
  await keys(alice, "hellp");
  await keys(alice, [0x7f]);
  await keys(alice, "o wrld");
  await keys(alice, "\x1b[D\x1b[D\x1b[D");
  await keys(alice, "o\r");
  assert.equal(await bob.waitFor(/^alice: /), "alice: hello world");
  await alice.waitFor((l) => l.endsWith("alice: hello world"));
  const rows = screen(alice).screen();
  assert.ok(rows.includes("hello world"), rows.join("\n")); // the typed line stays as typed
});

Deno.test("50 lines said while a line is half typed arrive above it in order; it stays on the bottom row", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  const alice = await terminal(chat, "alice");
  await keys(alice, "half a li");
  await alice.waitForBytes(text("half a li"));
  const before = alice.raw.length;
  await bob.sendRaw(Array.from({ length: 50 }, (_, i) => `line ${i + 1}\r\n`).join(""));
  await alice.waitFor((l) => l.endsWith("bob: line 50"));
  await alice.waitForBytes(text("half a li"), before);
  const seen = screen(alice);
  assert.equal(seen.row(23), "half a li");
  assert.deepEqual([seen.x, seen.y], [9, 23]);
  const all = [...seen.scrollback, ...seen.screen()];
  const said = all.filter((r) => r.startsWith("bob: "));
  assert.deepEqual(said, Array.from({ length: 50 }, (_, i) => `bob: line ${i + 1}`));
  const erases = count(alice.raw.slice(before), ERASE);
  assert.ok(erases >= 1 && erases <= 3, `${erases} erases for 50 lines`); // one per write, not one per line
  await keys(alice, "ne\r");
  assert.equal(await bob.waitFor(/^alice: /), "alice: half a line");
});

Deno.test("a CJK and emoji line typed byte by byte arrives byte for byte", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  const alice = await terminal(chat, "alice");
  const line = "你好，茶话会 🍵 日本語";
  for (const b of encoder.encode(line)) await alice.sendRaw(new Uint8Array([b]));
  await keys(alice, "\r");
  const got = await bob.waitFor(/^alice: /);
  assert.deepEqual(text(got), text(`alice: ${line}`));
});

Deno.test("a password typed in redraw mode is not echoed, and the login works", async () => {
  await using chat = await startServer({ rate: 0 });
  const dora = await chat.login("dora");
  dora.send("/register tea-for-two");
  await dora.waitFor(/registered/i);
  dora.send("/quit");
  await dora.closed();
  const alice = await named(chat, "XTERM");
  await agree(alice);
  await keys(alice, "login dora\r");
  await alice.waitFor((l) => l.endsWith("dora is a registered nick. Password:"));
  const from = alice.raw.length;
  await keys(alice, "tea-for-two\r");
  await alice.waitFor((l) => l.endsWith("*** dora has entered the room."));
  const after = new TextDecoder().decode(new Uint8Array(alice.raw.slice(from)));
  assert.ok(!after.includes("tea"), JSON.stringify(after));
  assert.equal(count(alice.raw.slice(from), [IAC, WONT, ECHO]), 0, "echo was handed back to the client");
  await keys(alice, "visible\r"); // echo is back
  await alice.waitFor((l) => l.endsWith("dora: visible"));
  assert.ok(screen(alice).screen().includes("visible"));
});

Deno.test("TinyFugue's terminal type keeps line mode: it is never asked for ECHO or SUPPRESS-GO-AHEAD", async () => {
  await using chat = await startServer();
  const tf = await named(chat, "TINYFUGUE");
  tf.send("login tf");
  await tf.waitFor((l) => l.endsWith("*** tf has entered the room."));
  tf.send("/redraw on");
  assert.match(await tf.waitFor(/^\*\*\* /), /TINYFUGUE\) edits its lines itself/);
  tf.send("still lines");
  await tf.waitFor((l) => l.endsWith("tf: still lines"));
  assert.equal(count(tf.raw, [IAC, WILL, ECHO]), 0);
  assert.equal(count(tf.raw, [IAC, WILL, SGA]), 0);
});

Deno.test("a client that sends no telnet at all (nc) is sent only the offer, and /redraw on says why not", async () => {
  await using chat = await startServer();
  const nc = await chat.login("nc");
  nc.send("/redraw on");
  assert.match(await nc.waitFor(/^\*\*\* /), /needs a telnet client: yours sent no telnet negotiation/);
  nc.send("/redraw");
  assert.match(await nc.waitFor(/^\*\*\* /), /^\*\*\* Redraw mode off/);
  assert.ok(!nc.raw.includes(IAC), "nc was sent telnet commands");
});

Deno.test("/redraw on with a client that refuses character mode says so, and line mode goes on", async () => {
  await using chat = await startServer();
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  await client.sendRaw(new Uint8Array([IAC, WILL, BINARY]));
  await client.waitForBytes([IAC, DO, TTYPE]);
  await client.sendRaw(new Uint8Array([IAC, WONT, TTYPE]));
  client.send("login carol");
  await client.waitFor((l) => l.endsWith("*** carol has entered the room."));
  assert.equal(count(client.raw, [IAC, WILL, SGA]), 0);
  client.send("/redraw on");
  await client.waitForBytes([IAC, WILL, SGA]);
  await client.sendRaw(new Uint8Array([IAC, DO, ECHO, IAC, DONT, SGA]));
  assert.match(await client.waitFor(/refused character mode/), /redraw mode is off/);
  await client.waitForBytes([IAC, WONT, ECHO]);
  client.send("whole lines");
  await client.waitFor((l) => l.endsWith("carol: whole lines"));
});

Deno.test("/redraw off gives line mode back (WONT both), keeping what was half typed", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  const alice = await terminal(chat, "alice");
  await keys(alice, "/redraw off\r");
  await alice.waitFor(/Redraw mode off/);
  await alice.waitForBytes([IAC, WONT, SGA]);
  await alice.waitForBytes([IAC, WONT, ECHO]);
  await keys(alice, "half "); // typed before the client switched: still keys
  await alice.waitForBytes(text("half "));
  await alice.sendRaw(new Uint8Array([IAC, DONT, SGA, IAC, DONT, ECHO, ...text("and whole\r\n")]));
  assert.equal(await bob.waitFor(/^alice: /), "alice: half and whole");
  alice.send("/redraw");
  assert.match(await alice.waitFor(/Redraw mode/), /Redraw mode off/);
});

Deno.test("the choice is kept for a registered nick: redraw mode off at the next login, on again after /redraw on", async () => {
  await using chat = await startServer({ rate: 0 });
  const first = await terminal(chat, "dora");
  await keys(first, "/register tea-for-two\r");
  await first.waitFor(/registered/i);
  await keys(first, "/redraw off\r");
  assert.match(await first.waitFor(/Redraw mode off/), /Kept for dora\.$/);
  assert.equal(chat.server.chat.store.setting("dora", "redraw"), "off");
  await first.sendRaw(new Uint8Array([IAC, DONT, SGA, IAC, DONT, ECHO]));
  first.send("/quit");
  await first.closed();

  const second = await named(chat, "XTERM");
  await agree(second); // plain terminals start in redraw mode
  await keys(second, "login dora tea-for-two\r");
  await second.waitFor((l) => l.endsWith("*** dora has entered the room."));
  const at = await second.waitForBytes([IAC, WONT, SGA]);
  await second.waitForBytes([IAC, WONT, ECHO], at);
  await second.sendRaw(new Uint8Array([IAC, DONT, SGA, IAC, DONT, ECHO]));
  second.send("/redraw on");
  assert.match(await second.waitFor(/Redraw mode on/), /Kept for dora\.$/);
  assert.equal(chat.server.chat.store.setting("dora", "redraw"), "on");
});

Deno.test("an unregistered nick's choice is not kept", async () => {
  await using chat = await startServer();
  const alice = await terminal(chat, "alice");
  await keys(alice, "/redraw off\r");
  const reply = await alice.waitFor(/Redraw mode off/);
  assert.ok(!reply.includes("Kept"), reply);
});

Deno.test("in redraw mode a line is not taken past --max-line: the rest is dropped with one notice", async () => {
  await using chat = await startServer({ rate: 0, maxLine: 100 });
  const bob = await chat.login("bob");
  const alice = await terminal(chat, "alice");
  await alice.sendRaw("x".repeat(150));
  await alice.waitFor(/Line too long: at most 100 bytes/);
  await alice.sendRaw("y".repeat(10) + "\r");
  assert.equal(await bob.waitFor(/^alice: /), `alice: ${"x".repeat(100)}`);
});

Deno.test("a flood of keys is paced like lines: 8 KiB of keys cost 16 tokens of the rate limit", async () => {
  await using chat = await startServer({ rate: 10, burst: 1 });
  const bob = await chat.login("bob");
  const alice = await terminal(chat, "alice");
  await alice.sendRaw("/quiet\r"); // takes the one token of the burst, so the next must wait for the keys' cost
  await alice.waitFor(/Quiet mode on/);
  await alice.sendRaw("/quiet\r");
  await alice.waitFor(/Quiet mode off/);
  const start = Date.now();
  await alice.sendRaw("k".repeat(8192) + "\r");
  await bob.waitFor(/^alice: k+$/, 10_000);
  const ms = Date.now() - start;
  assert.ok(ms >= 1200, `the line came after ${ms} ms; 16 tokens at 10 a second take 1.6 s`);
});
