/**
 * Look-alike and invisible nicks over sockets: they cannot impersonate a
 * registered or logged-in user, nor evade a nick ban; ordinary nicks in
 * any script behave as before.
 */
import assert from "node:assert/strict";
import type { TestServer } from "./helpers.ts";
import { loginWithPassword, logout, register, startDbServer, startOpServer, tempDir } from "./db_helpers.ts";

/** Tries `login <nick>` on a new connection and returns the server's answer. */
async function tryLogin(chat: TestServer, nick: string): Promise<string> {
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  client.send(`login ${nick}`);
  const answer = await client.waitFor(/\*\*\* (?!Welcome|Log in)/); // a password prompt starts with IAC WILL ECHO
  client.close();
  return answer;
}

Deno.test("alice with an invisible character after it never gets in as a second alice", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  for (const c of ["\u034f", "\ufe0f", "\ufe00", "\u180b", "\u17b4"]) {
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    const answer = await tryLogin(chat, `alice${c}`);
    // Refused by the nick rules, or (where chat cleaning already removed the character) asked for alice's password.
    const refusal = `*** Cannot log in as "alice${c}": a nick may not contain ${code}: it is invisible.`;
    assert.ok(answer === refusal || answer.endsWith("*** alice is a registered nick. Password:"), `${code}: ${answer}`);
  }
  for (const c of ["\ufe0f", "\ufe00", "\u180b"]) { // kept in chat (emoji and Mongolian need them), refused in nicks
    assert.match(await tryLogin(chat, `alice${c}`), /: it is invisible\.$/);
  }
  assert.equal(chat.server.nicks.size, 0);
});

Deno.test("nicks that look like a registered one are refused while it is offline", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  for (const nick of ["alice\u0307", "al\u0131ce", "a1ice", "ALICE\u0301"]) {
    assert.equal(
      await tryLogin(chat, nick),
      `*** Cannot log in as "${nick}": it looks like alice, a registered or logged-in nick.`,
      JSON.stringify(nick),
    );
  }
  assert.equal(chat.server.nicks.size, 0);
  // The owner still logs in.
  await loginWithPassword(chat, "alice", "secret123");
});

Deno.test("a nick mixing Cyrillic and Latin is refused with the two scripts", async () => {
  await using chat = await startDbServer();
  assert.equal(
    await tryLogin(chat, "\u0430lice"),
    `*** Cannot log in as "\u0430lice": a nick may not mix scripts: "\u0430" (U+0430) is Cyrillic, "l" (U+006C) Latin.`,
  );
});

Deno.test("blank-looking nicks made of Hangul fillers are refused", async () => {
  await using chat = await startDbServer();
  for (const nick of ["\u3164", "\uffa0", "\u3164\u3164", "a\u3164"]) {
    const answer = await tryLogin(chat, nick);
    // Chat cleaning removes the fillers before the nick is read (leaving no nick, or "a"), or the nick rules refuse them.
    assert.ok(
      /^\*\*\* (Cannot log in as ".*": a nick may not contain U\+(3164|FFA0): it is invisible|Usage: login <nick>)/
        .test(answer) ||
        answer === "*** a has entered the room.",
      `${JSON.stringify(nick)}: ${answer}`,
    );
  }
  for (const nick of chat.server.nicks.keys()) assert.doesNotMatch(nick, /[\u3164\uffa0]/);
});

Deno.test("a nick that looks like a logged-in guest's is refused until the guest leaves", async () => {
  await using chat = await startDbServer();
  const bob = await chat.login("bob");
  assert.equal(
    await tryLogin(chat, "b0b"),
    `*** Cannot log in as "b0b": it looks like bob, a registered or logged-in nick.`,
  );
  await logout(bob);
  await chat.login("b0b");
});

Deno.test("a capital I passes for a small l: aIice, wilI and /nick maiIee are refused as look-alikes", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  await logout(await register(chat, "mailee", "secret123"));
  await chat.login("will");
  for (const [nick, like] of [["aIice", "alice"], ["wilI", "will"], ["wiII", "will"]]) {
    assert.equal(
      await tryLogin(chat, nick),
      `*** Cannot log in as "${nick}": it looks like ${like}, a registered or logged-in nick.`,
    );
  }
  const guest = await chat.login("zed");
  guest.send("/nick maiIee");
  assert.match(await guest.waitFor(/^\*\*\* Cannot change nick/), /it looks like mailee/);
  await chat.login("Iris"); // a capital I that imitates nobody is a nick like any other
});

Deno.test("a banned nick cannot come back with a capital I for its l", async () => {
  await using chat = await startOpServer({ op: ["alice"] }, { alice: "secret123" });
  const alice = await loginWithPassword(chat, "alice", "secret123");
  await alice.waitFor("*** You are an operator here.");
  alice.send("/ban mallory");
  await alice.waitFor("*** mallory is banned for good by alice.");
  assert.equal(await tryLogin(chat, "maIlory"), "*** The nick maIlory is banned for good.");
});

Deno.test("a whole-script look-alike (all Cyrillic) of a registered nick is refused", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "pop", "secret123"));
  assert.equal(
    await tryLogin(chat, "\u0440\u043e\u0440"),
    `*** Cannot log in as "\u0440\u043e\u0440": it looks like pop, a registered or logged-in nick.`,
  );
});

Deno.test("a banned nick cannot come back as a look-alike", async () => {
  await using chat = await startOpServer({ op: ["alice"] }, { alice: "secret123" });
  const alice = await loginWithPassword(chat, "alice", "secret123");
  await alice.waitFor("*** You are an operator here.");
  alice.send("/ban mallory");
  await alice.waitFor("*** mallory is banned for good by alice.");
  // Chat cleaning removes U+034F, leaving mallory (banned); U+FE0F stays and the nick rules refuse it.
  assert.equal(await tryLogin(chat, "mallory\u034f"), "*** The nick mallory is banned for good.");
  assert.match(await tryLogin(chat, "mallory\ufe0f"), /: a nick may not contain U\+FE0F: it is invisible\.$/);
  assert.equal(await tryLogin(chat, "ma11ory"), "*** The nick ma11ory is banned for good.");
  assert.equal(await tryLogin(chat, "rnallory"), "*** The nick rnallory is banned for good.");
  assert.equal(await tryLogin(chat, "mallöry"), "*** The nick mallöry is banned for good.");
});

Deno.test("nicks registered before a restart are known as look-alikes after it", async () => {
  await using dir = await tempDir();
  const options = { db: `${dir.path}/chat.db` };
  {
    await using first = await startDbServer(options);
    await logout(await register(first, "alice", "secret123"));
  }
  await using chat = await startDbServer(options);
  assert.equal(
    await tryLogin(chat, "al\u0131ce"),
    `*** Cannot log in as "al\u0131ce": it looks like alice, a registered or logged-in nick.`,
  );
});

Deno.test("茶友, Zoë, Дмитрий and fullwidth ａｌｉｃｅ log in as before", async () => {
  await using chat = await startDbServer();
  for (const nick of ["茶友", "Zoë", "Дмитрий", "tanaka田中", "さくらサクラ桜"]) {
    assert.equal(await tryLogin(chat, nick), `*** ${nick} has entered the room.`, nick);
  }
  assert.equal(await tryLogin(chat, "ａｌｉｃｅ"), "*** ａｌｉｃｅ has entered the room.");
});

Deno.test("fullwidth ａｌｉｃｅ is alice: taken while alice is online, as before", async () => {
  await using chat = await startDbServer();
  await chat.login("alice");
  assert.equal(await tryLogin(chat, "ａｌｉｃｅ"), "*** The nick alice is taken; please choose another.");
});
