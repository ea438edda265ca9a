/**
 * Bad and unusual input: telnet commands, line editing keys, escape
 * sequences, control characters, invalid UTF-8, long and endless lines,
 * every kind of line end and lines split across TCP writes.
 */
import assert from "node:assert/strict";
import { startServer, type TestClient } from "./helpers.ts";

const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, GA = 249, EL = 248, EC = 247, NOP = 241;
const SE = 240;
const NAWS = 31, TTYPE = 24, SGA = 3, ECHO = 1;
const encoder = new TextEncoder();

/** Concatenates strings (UTF-8) and bytes. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((p) => typeof p === "string" ? encoder.encode(p) : new Uint8Array(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Whether `haystack` holds the byte sequence `needle`. */
function hasBytes(haystack: number[], needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Every byte that is a control character other than the CR LF line ends. */
function strayControls(client: TestClient): number[] {
  return client.raw.filter((b, i, all) =>
    (b < 0x20 && !(b === 13 && all[i + 1] === 10) && !(b === 10 && all[i - 1] === 13)) || b === 0x7f
  );
}

Deno.test("telnet negotiation and sub-negotiation are removed and never reach others", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.sendRaw(bytes(
    "he",
    [IAC, WILL, NAWS],
    "l",
    [IAC, DO, ECHO],
    "lo",
    [IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE],
    " wor",
    [IAC, NOP],
    "ld",
    [IAC, GA, IAC, SB, TTYPE, 0, ...encoder.encode("xterm"), IAC, SE],
    "\r\n",
  ));
  assert.equal(await bob.waitFor(/^alice: /), "alice: hello world");
  assert.ok(!bob.raw.includes(IAC), "an IAC byte reached another user");
});

Deno.test("the server answers IAC WILL x with IAC DONT x and IAC DO x with IAC WONT x", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  await alice.sendRaw(
    bytes([IAC, WILL, NAWS, IAC, WILL, TTYPE, IAC, DO, SGA, IAC, WONT, 5, IAC, DONT, 6], "marker\r\n"),
  );
  await alice.waitFor((l) => l.endsWith("alice: marker"));
  assert.ok(hasBytes(alice.raw, [IAC, DONT, NAWS]), "no IAC DONT NAWS");
  assert.ok(hasBytes(alice.raw, [IAC, DONT, TTYPE]), "no IAC DONT TTYPE");
  assert.ok(hasBytes(alice.raw, [IAC, WONT, SGA]), "no IAC WONT SGA");
  // WONT and DONT are not answered (answering them could loop forever).
  assert.ok(!alice.raw.some((b, i) => b === IAC && (alice.raw[i + 2] === 5 || alice.raw[i + 2] === 6)));
});

Deno.test("telnet commands split across TCP writes are still removed", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.sendSlowly(bytes(
    "sp",
    [IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE],
    "li",
    [IAC, WILL, NAWS],
    "t\r\n",
  ));
  assert.equal(await bob.waitFor(/^alice: /), "alice: split");
  await alice.waitFor((l) => l.endsWith("alice: split"));
  assert.ok(hasBytes(alice.raw, [IAC, DONT, NAWS]));
  assert.ok(!bob.raw.includes(IAC));
});

Deno.test("a telnet command inside a multi-byte character leaves the character intact", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const tea = [...encoder.encode("茶")];
  await alice.sendRaw(bytes([tea[0], IAC, WILL, NAWS, tea[1], IAC, NOP, tea[2]], "!\r\n"));
  assert.equal(await bob.waitFor(/^alice: /), "alice: 茶!");
});

Deno.test("IAC IAC is one data byte 255, which is not UTF-8 and becomes U+FFFD", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.sendRaw(bytes("a", [IAC, IAC], "b\r\n"));
  assert.equal(await bob.waitFor(/^alice: /), "alice: a\uFFFDb");
  assert.ok(!bob.raw.includes(IAC), "byte 255 reached another user");
  alice.send("still here");
  await bob.waitFor("alice: still here");
});

Deno.test("backspace and DEL erase the previous character", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("hellp\bo");
  assert.equal(await bob.waitFor(/^alice: /), "alice: hello");
  alice.send("worlx\x7fd");
  assert.equal(await bob.waitFor(/^alice: /), "alice: world");
  alice.send("茶x\b友 🍵?\x7f!");
  assert.equal(await bob.waitFor(/^alice: /), "alice: 茶友 🍵!");
  await alice.sendRaw(bytes("abx", [IAC, EC], "c ", "junk", [IAC, EL], "clean\r\n"));
  assert.equal(await bob.waitFor(/^alice: /), "alice: clean");
  alice.send("ab\b\b\b\b\bc");
  assert.equal(await bob.waitFor(/^alice: /), "alice: c");
  assert.deepEqual(strayControls(bob), []);
});

Deno.test("ANSI escapes and control characters are removed before relaying", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const cases: [string, string][] = [
    ["\x1b[31mred\x1b[0m text", "red text"],
    ["\x1b]0;owned\x07title", "title"],
    ["\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"],
    ["\x1b[2J\x1b[H\x1b[?25lclear", "clear"],
    ["a\x01b\x02c\x07d\x0be\x0cf\x00g", "abcdefg"],
    ["\x1b(Bcharset \x1bcreset", "charset reset"],
    ["c1\u009b31m csi\u0085 nel", "c1 csi nel"],
    ["tab\there", "tab here"],
    ["\u202eevil\u202c rtl", "evil rtl"],
  ];
  for (const [sent] of cases) alice.send(sent);
  for (const [sent, seen] of cases) {
    assert.equal(await bob.waitFor(/^alice: /), `alice: ${seen}`, JSON.stringify(sent));
  }
  assert.deepEqual(strayControls(bob), []);
  assert.ok(!bob.raw.includes(0x1b));
});

Deno.test("invalid UTF-8 becomes U+FFFD and the session survives", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  // (A lone 0xFF would be telnet's IAC: see the IAC IAC test.)
  await alice.sendRaw(bytes("bad ", [0xc3, 0x28], " ", [0x80], " ", [0xc0, 0x80], " ", [0xed, 0xa0, 0x80], "\r\n"));
  assert.equal(
    await bob.waitFor(/^alice: /),
    "alice: bad \uFFFD( \uFFFD \uFFFD\uFFFD \uFFFD\uFFFD\uFFFD",
  );
  // A character cut short at the end of a line does not swallow the next line.
  await alice.sendRaw(bytes("cut ", [0xe8, 0x8c], "\r\nnext\r\n"));
  assert.equal(await bob.waitFor(/^alice: /), "alice: cut \uFFFD");
  assert.equal(await bob.waitFor(/^alice: /), "alice: next");
  // Invalid UTF-8 in a command word or a nick is only a bad word.
  await alice.sendRaw(bytes("/", [0xff], "\r\n"));
  assert.match(await alice.waitFor(/^\*\*\* Unknown/), /Unknown command/);
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  await guest.sendRaw(bytes("login x", [0xfe], "\r\n"));
  assert.match(await guest.waitFor(/^\*\*\* /), /^\*\*\* Cannot log in/);
  guest.send("login carol");
  await guest.waitFor("*** carol has entered the room.");
  alice.send("still here");
  await bob.waitFor("alice: still here");
});

Deno.test("a line of max-line bytes is accepted and a longer one is refused with a message", async () => {
  await using chat = await startServer({ maxLine: 64, rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("a".repeat(64));
  assert.equal(await bob.waitFor(/^alice: /), `alice: ${"a".repeat(64)}`);
  alice.send("b".repeat(65));
  assert.match(await alice.waitFor(/^\*\*\* Line/), /^\*\*\* Line too long: at most 64 bytes/);
  alice.send("茶".repeat(21)); // 63 bytes
  assert.equal(await bob.waitFor(/^alice: /), `alice: ${"茶".repeat(21)}`);
  alice.send("茶".repeat(22)); // 66 bytes, though only 22 characters
  await alice.waitFor(/^\*\*\* Line too long/);
  alice.send("after");
  const seen = await bob.until("alice: after");
  assert.ok(!seen.some((l) => l.includes("bbb") || l === `alice: ${"茶".repeat(22)}`), seen.join("\n"));
});

Deno.test("an endless line does not end the session, which works again after the newline", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const chunk = encoder.encode("z".repeat(64 * 1024));
  for (let sent = 0; sent < 6 * 1024 * 1024; sent += chunk.length) await alice.sendRaw(chunk);
  await alice.sendRaw("\r\n");
  alice.send("still here");
  const seen = await alice.until("alice: still here");
  assert.equal(seen.filter((l) => l.startsWith("*** Line too long")).length, 1, seen.join("\n"));
  const seenByBob = await bob.until("alice: still here");
  assert.ok(!seenByBob.some((l) => l.includes("zzz")), "part of the endless line was relayed");
});

Deno.test("the line after a too-long line ending in CR NUL is not lost", async () => {
  await using chat = await startServer({ maxLine: 64 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.sendRaw("y".repeat(100) + "\r");
  await alice.waitFor(/^\*\*\* Line too long/);
  await alice.sendRaw("\0next\r\0");
  assert.equal(await bob.waitFor(/^alice: /), "alice: next");
});

Deno.test("CR LF, LF and CR NUL line ends are all accepted", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.sendRaw("one\r\ntwo\nthree\r\0four\r\n");
  await alice.sendRaw("five\n");
  await alice.sendRaw("six\r\0");
  await alice.sendRaw("seven\r\n");
  alice.send("end");
  const seen = (await bob.until("alice: end")).filter((l) => l.startsWith("alice:"));
  assert.deepEqual(seen, [
    "alice: one",
    "alice: two",
    "alice: three",
    "alice: four",
    "alice: five",
    "alice: six",
    "alice: seven",
    "alice: end",
  ]);
  assert.deepEqual(strayControls(bob), []);
});

Deno.test("a line end split across TCP writes is one line end", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.sendSlowly("a\r\nb\r\0c\n");
  alice.send("end");
  const seen = (await bob.until("alice: end")).filter((l) => l.startsWith("alice:"));
  assert.deepEqual(seen, ["alice: a", "alice: b", "alice: c", "alice: end"]);
});

Deno.test("lines sent byte by byte are reassembled", async () => {
  await using chat = await startServer();
  const bob = await chat.login("bob");
  const alice = await chat.connect();
  await alice.waitFor(/Log in with/);
  await alice.sendSlowly("login 茶友\r\n");
  await alice.waitFor("*** 茶友 has entered the room.");
  await alice.sendSlowly("hello 茶 🍵 👨‍👩‍👧 byte by byte\r\n");
  assert.equal(await bob.waitFor(/^茶友: /), "茶友: hello 茶 🍵 👨‍👩‍👧 byte by byte");
  await alice.sendSlowly("@bob 私信\r\n");
  assert.equal(await bob.waitFor(/^\[private\]/), "[private] 茶友: 私信");
});
