import assert from "node:assert/strict";
import type { TestClient, TestServer } from "./helpers.ts";
import { connectTo, indexOfBytes, loginWithPassword, logout, register, startDbServer } from "./db_helpers.ts";
import { THROTTLE } from "../login.ts";
import { hashPassword } from "../accounts.ts";

const WILL_ECHO = [255, 251, 1];
const WONT_ECHO = [255, 252, 1];
/** The password prompt (the line starts with the IAC WILL ECHO bytes, decoded as text). */
const PROMPT = /\*\*\* alice is a registered nick\. Password:$/;
const encoder = new TextEncoder();

/** Connects a guest and waits for the greeting. */
async function guest(chat: TestServer): Promise<TestClient> {
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  return client;
}

/** Registers a nick directly in the store (for tests about logging in, not registering). */
async function account(chat: TestServer, nick: string, password: string): Promise<void> {
  chat.server.store.saveAccount(nick.toLowerCase(), nick, await hashPassword(password));
}

Deno.test("after /register, login <nick> asks for the password and lets the user in once it is given", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const alice = await guest(chat);
  alice.send("login alice");
  await alice.waitFor(PROMPT);
  alice.send("secret123");
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/look");
  await alice.waitFor("*** In main (1): alice");
});

Deno.test("the client gets IAC WILL ECHO before the password prompt and IAC WONT ECHO only after the password line", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const alice = await guest(chat);
  const start = alice.raw.length;
  alice.send("login alice");
  await alice.waitFor(PROMPT);
  const willEcho = indexOfBytes(alice.raw, WILL_ECHO, start);
  const prompt = indexOfBytes(alice.raw, encoder.encode("*** alice is a registered nick. Password:"), start);
  assert.ok(willEcho >= 0, "no IAC WILL ECHO before the password prompt");
  assert.ok(willEcho < prompt, "IAC WILL ECHO came after the prompt");
  assert.equal(indexOfBytes(alice.raw, WONT_ECHO, start), -1, "echo was given back before the password was typed");
  const beforePassword = alice.raw.length;
  alice.send("secret123");
  await alice.waitFor("*** alice has entered the room.");
  const wontEcho = indexOfBytes(alice.raw, WONT_ECHO, start);
  assert.ok(wontEcho >= beforePassword, "IAC WONT ECHO did not come after the password line");
  const entered = indexOfBytes(alice.raw, encoder.encode("*** alice has entered the room."), start);
  assert.ok(wontEcho < entered, "echo was given back only after the user entered the room");
});

Deno.test("the password is not echoed back or shown to anyone", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const bob = await chat.login("bob");
  const alice = await guest(chat);
  alice.send("login alice");
  await alice.waitFor(PROMPT);
  alice.send("secret123");
  await alice.waitFor("*** alice has entered the room.");
  bob.send("/msg alice marker");
  await alice.waitFor("[private] bob: marker");
  await bob.waitFor("[private to alice] marker");
  for (const line of [...alice.lines, ...bob.lines]) assert.ok(!line.includes("secret123"), line);
});

Deno.test("passwords never appear in the server log", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "firstpass1");
  alice.send("/password firstpass1 secondpass2");
  await alice.waitFor("*** Your password has been changed.");
  await logout(alice);
  const again = await guest(chat);
  again.send("login alice wrongpass3");
  await again.waitFor(/^\*\*\* Wrong password for alice/);
  again.send("login alice");
  await again.waitFor(PROMPT);
  again.send("secondpass2");
  await again.waitFor("*** alice has entered the room.");
  assert.ok(chat.logs.some((l) => / login .*nick=alice/.test(l)), "no login in the log");
  for (const secret of ["firstpass1", "secondpass2", "wrongpass3"]) {
    assert.ok(!chat.logs.some((l) => l.includes(secret)), `${secret} is in the log`);
  }
});

Deno.test("the store keeps only a salted scrypt hash of the password", async () => {
  await using chat = await startDbServer();
  await register(chat, "alice", "secret123");
  const stored = chat.server.store.account("alice");
  assert.ok(stored);
  assert.match(stored.hash, /^scrypt\$/);
  assert.ok(!stored.hash.includes("secret123"));
});

Deno.test("a wrong password is refused with a clear message and the user may try again", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const alice = await guest(chat);
  alice.send("login alice");
  await alice.waitFor(PROMPT);
  const prompted = alice.raw.length;
  alice.send("not-the-password");
  await alice.waitFor(/^\*\*\* Wrong password for alice; try again/);
  assert.ok(chat.logs.some((l) => /WARN login failed .*nick=alice/.test(l)), "the failure is not logged");
  assert.equal(indexOfBytes(alice.raw, WONT_ECHO, prompted), -1, "echo came back on before the prompt was over");
  alice.send("secret123");
  await alice.waitFor("*** alice has entered the room.");
  assert.ok(indexOfBytes(alice.raw, WONT_ECHO, prompted) >= 0, "echo never came back on");
});

Deno.test("three wrong passwords end the prompt, give echo back, and the user may log in again", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const alice = await guest(chat);
  alice.send("login alice");
  await alice.waitFor(PROMPT);
  const prompted = alice.raw.length;
  for (const wrong of ["wrong-one", "wrong-two"]) {
    alice.send(wrong);
    await alice.waitFor(/^\*\*\* Wrong password for alice; try again/);
    assert.equal(indexOfBytes(alice.raw, WONT_ECHO, prompted), -1, "echo came back on before the prompt was over");
  }
  alice.send("wrong-three");
  await alice.waitFor("*** Wrong password for alice. Try again with: login alice");
  assert.ok(indexOfBytes(alice.raw, WONT_ECHO, prompted) >= 0, "echo is still off");
  alice.send("/look");
  await alice.waitFor(/^\*\*\* You are not logged in/);
  alice.send("login alice secret123");
  await alice.waitFor("*** alice has entered the room.");
});

Deno.test("login <nick> <password> on one line logs in without a prompt, for scripts", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const alice = await guest(chat);
  const start = alice.raw.length;
  alice.send("login alice secret123");
  const lines = await alice.until("*** alice has entered the room.");
  assert.ok(!lines.some((l) => PROMPT.test(l)), "a password was asked for");
  assert.equal(indexOfBytes(alice.raw, WILL_ECHO, start), -1);
});

Deno.test("login <nick> <wrong password> on one line is refused", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const alice = await guest(chat);
  alice.send("login alice secret124");
  await alice.waitFor("*** Wrong password for alice. Try again with: login alice");
  alice.send("login alice secret123");
  await alice.waitFor("*** alice has entered the room.");
});

Deno.test("an empty password line cancels the login and gives echo back", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const alice = await guest(chat);
  alice.send("login alice");
  await alice.waitFor(PROMPT);
  const beforePassword = alice.raw.length;
  alice.send("");
  await alice.waitFor("*** Login cancelled: no password given.");
  assert.ok(indexOfBytes(alice.raw, WONT_ECHO, beforePassword) >= 0);
  alice.send("login alice secret123");
  await alice.waitFor("*** alice has entered the room.");
});

Deno.test("the line after the prompt is the password even if it looks like a command", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "/logout"));
  const alice = await guest(chat);
  alice.send("login alice");
  await alice.waitFor(PROMPT);
  alice.send("/logout");
  await alice.waitFor("*** alice has entered the room.");
  assert.equal(alice.ended, false);
});

Deno.test("a registered nick that is online is taken back with its password; the old session is told and closed", async () => {
  await using chat = await startDbServer();
  const old = await register(chat, "alice", "secret123");
  const bob = await chat.login("bob");
  const other = await guest(chat);
  other.send("login ALICE wrong-password");
  await other.waitFor("*** Wrong password for alice. Try again with: login alice");
  assert.equal(old.ended, false);
  other.send("login ALICE secret123");
  await other.waitFor("*** alice has entered the room.");
  await old.waitFor("*** You (alice) logged in from another connection; this one is closed.");
  await old.closed();
  await bob.waitFor("*** alice has left the room.");
  await bob.waitFor("*** alice has entered the room.");
  assert.ok(chat.logs.some((l) => /INFO nick regained .*nick=alice/.test(l)), chat.logs.join("\n"));
});

Deno.test("an unregistered nick that is online cannot be taken", async () => {
  await using chat = await startDbServer();
  await chat.login("alice");
  const other = await guest(chat);
  other.send("login alice");
  await other.waitFor("*** The nick alice is taken; please choose another.");
});

Deno.test("/password changes the password: the old one stops working and the new one works", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "oldpass1");
  alice.send("/password oldpass1 newpass2");
  await alice.waitFor("*** Your password has been changed.");
  await logout(alice);
  const again = await guest(chat);
  again.send("login alice oldpass1");
  await again.waitFor("*** Wrong password for alice. Try again with: login alice");
  again.send("login alice newpass2");
  await again.waitFor("*** alice has entered the room.");
});

Deno.test("/password with a wrong old password changes nothing", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "oldpass1");
  alice.send("/password wrongold newpass2");
  await alice.waitFor("*** The old password is wrong; the password was not changed.");
  await logout(alice);
  const again = await guest(chat);
  again.send("login alice newpass2");
  await again.waitFor(/^\*\*\* Wrong password for alice/);
  again.send("login alice oldpass1");
  await again.waitFor("*** alice has entered the room.");
});

Deno.test("/password refuses a too short new password", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "oldpass1");
  alice.send("/password oldpass1 abc");
  await alice.waitFor("*** Cannot change the password: a password needs at least 6 characters.");
  await logout(alice);
  await loginWithPassword(chat, "alice", "oldpass1");
});

Deno.test("/password on an unregistered nick is refused", async () => {
  await using chat = await startDbServer();
  const bob = await chat.login("bob");
  bob.send("/password whatever newpass2");
  await bob.waitFor("*** bob is not registered; /register <password> does that.");
  assert.equal(chat.server.store.account("bob"), undefined);
});

Deno.test("/register twice is refused", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "secret123");
  alice.send("/register other456");
  await alice.waitFor("*** alice is registered already; /password <old> <new> changes the password.");
  await logout(alice);
  const again = await guest(chat);
  again.send("login alice other456");
  await again.waitFor(/^\*\*\* Wrong password for alice/);
  again.send("login alice secret123");
  await again.waitFor("*** alice has entered the room.");
});

Deno.test("a too short password is refused and the nick stays unregistered", async () => {
  await using chat = await startDbServer();
  const alice = await chat.login("alice");
  alice.send("/register abc");
  await alice.waitFor("*** Cannot register: a password needs at least 6 characters.");
  assert.equal(chat.server.store.account("alice"), undefined);
  await logout(alice);
  const again = await guest(chat);
  const start = again.raw.length;
  again.send("login alice");
  await again.waitFor("*** alice has entered the room.");
  assert.equal(indexOfBytes(again.raw, WILL_ECHO, start), -1);
});

Deno.test("/register is only for logged-in users", async () => {
  await using chat = await startDbServer();
  const client = await guest(chat);
  client.send("/register secret123");
  await client.waitFor(/^\*\*\* You are not logged in/);
});

Deno.test("an unregistered nick logs in exactly as before: no prompt, no echo negotiation", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const bob = await guest(chat);
  const start = bob.raw.length;
  bob.send("login bob");
  const lines = await bob.until("*** bob has entered the room.");
  assert.ok(!lines.some((l) => /Password/.test(l)));
  assert.equal(indexOfBytes(bob.raw, WILL_ECHO, start), -1);
  assert.equal(indexOfBytes(bob.raw, WONT_ECHO, start), -1);
  bob.send("hello");
  await bob.waitFor("bob: hello");
});

Deno.test(`after THROTTLE.perNick (${THROTTLE.perNick}) failed logins even the right password is refused with "try again in"`, async () => {
  await using chat = await startDbServer();
  await account(chat, "alice", "secret123");
  const client = await guest(chat);
  for (let i = 0; i < THROTTLE.perNick; i++) {
    client.send(`login alice wrong${i}xx`);
    await client.waitFor("*** Wrong password for alice. Try again with: login alice");
  }
  client.send("login alice secret123");
  await client.waitFor(/^\*\*\* Too many failed logins for alice or from your address; try again in \d+ s\.$/);
  const start = client.raw.length;
  client.send("login alice");
  await client.waitFor(/try again in \d+ s\.$/);
  assert.equal(indexOfBytes(client.raw, WILL_ECHO, start), -1, "a throttled login still asked for the password");
  assert.ok(chat.logs.some((l) => /WARN login throttled .*nick=alice/.test(l)));
  // a new connection does not escape the throttle
  const other = await guest(chat);
  other.send("login alice secret123");
  await other.waitFor(/try again in \d+ s\.$/);
});

Deno.test("a wrong answer at the prompt that reaches the throttle ends the prompt with the wait, not with try again", async () => {
  await using chat = await startDbServer();
  await account(chat, "alice", "secret123");
  const client = await guest(chat);
  for (let i = 0; i < THROTTLE.perNick - 1; i++) {
    client.send(`login alice wrong${i}xx`);
    await client.waitFor("*** Wrong password for alice. Try again with: login alice");
  }
  client.send("login alice");
  await client.waitFor(PROMPT);
  client.send("wrong-at-prompt");
  const answer = await client.waitFor(/^\*\*\* (Too many failed logins|Wrong password)/);
  assert.match(answer, /^\*\*\* Too many failed logins for alice or from your address; try again in \d+ s\.$/);
  client.send("/look");
  await client.waitFor(/^\*\*\* You are not logged in/); // the prompt is over: the line was a command
});

Deno.test("fewer than THROTTLE.perNick failures do not block the right password", async () => {
  await using chat = await startDbServer();
  await account(chat, "alice", "secret123");
  const client = await guest(chat);
  for (let i = 0; i < THROTTLE.perNick - 1; i++) {
    client.send(`login alice wrong${i}xx`);
    await client.waitFor(/^\*\*\* Wrong password for alice/);
  }
  client.send("login alice secret123");
  await client.waitFor("*** alice has entered the room.");
});

Deno.test("failures from one address do not stop the owner from logging in from another", async () => {
  await using chat = await startDbServer({ host: "::" });
  await account(chat, "alice", "secret123");
  const v4 = await guest(chat);
  for (let i = 0; i < THROTTLE.perNick; i++) {
    v4.send(`login alice wrong${i}xx`);
    await v4.waitFor(/^\*\*\* Wrong password for alice/);
  }
  const v6 = await connectTo("::1", chat.port);
  try {
    await v6.waitFor(/Log in with/);
    v6.send("login alice secret123");
    await v6.waitFor("*** alice has entered the room.");
  } finally {
    v6.close();
    await v6.done;
  }
});

Deno.test(`after THROTTLE.perAddress (${THROTTLE.perAddress}) failures from one address, logins to other registered nicks are refused`, async () => {
  await using chat = await startDbServer();
  const nicks = ["anna", "bert", "cleo", "dora"];
  for (const nick of [...nicks, "fresh"]) await account(chat, nick, "secret123");
  const client = await guest(chat);
  for (let i = 0; i < THROTTLE.perAddress; i++) {
    const nick = nicks[i % nicks.length]; // fewer than perNick failures for each nick
    client.send(`login ${nick} wrong${i}xx`);
    await client.waitFor(`*** Wrong password for ${nick}. Try again with: login ${nick}`);
  }
  client.send("login fresh secret123");
  await client.waitFor(/^\*\*\* Too many failed logins for fresh or from your address; try again in \d+ s\.$/);
});

Deno.test("a password typed at a prompt opened before the nick was throttled is refused too", async () => {
  await using chat = await startDbServer();
  await account(chat, "alice", "secret123");
  const early = await guest(chat);
  early.send("login alice");
  await early.waitFor(PROMPT);
  const attacker = await guest(chat);
  for (let i = 0; i < THROTTLE.perNick; i++) {
    attacker.send(`login alice wrong${i}xx`);
    await attacker.waitFor(/^\*\*\* Wrong password for alice/);
  }
  early.send("secret123");
  const answer = await early.waitFor(/^\*\*\* (Too many failed logins|alice has entered)/);
  assert.match(answer, /try again in \d+ s\.$/);
});

Deno.test("wrong passwords sent at once on many connections are throttled as if sent one after another", async () => {
  await using chat = await startDbServer();
  await account(chat, "alice", "secret123");
  const tries = THROTTLE.perNick * 2;
  const clients = await Promise.all(Array.from({ length: tries }, () => guest(chat)));
  await Promise.all(clients.map((c, i) => c.send(`login alice wrong${i}xx`)));
  const answers = await Promise.all(
    clients.map((c) => c.waitFor(/^\*\*\* (Wrong password for alice|Too many failed logins for alice)/)),
  );
  const checked = answers.filter((a) => a.startsWith("*** Wrong password")).length;
  assert.ok(checked <= THROTTLE.perNick, `${checked} guesses were checked; at most ${THROTTLE.perNick} may be`);
});

Deno.test("a throttled address can still log in to unregistered nicks", async () => {
  await using chat = await startDbServer();
  const nicks = ["anna", "bert", "cleo", "dora"];
  for (const nick of [...nicks, "fresh"]) await account(chat, nick, "secret123");
  const client = await guest(chat);
  for (let i = 0; i < THROTTLE.perAddress; i++) {
    const nick = nicks[i % nicks.length];
    client.send(`login ${nick} wrong${i}xx`);
    await client.waitFor(`*** Wrong password for ${nick}. Try again with: login ${nick}`);
  }
  client.send("login fresh secret123");
  await client.waitFor(/try again in \d+ s\.$/);
  client.send("login bob");
  await client.waitFor("*** bob has entered the room.");
});

Deno.test("a successful login clears the nick's failures", async () => {
  await using chat = await startDbServer();
  await account(chat, "alice", "secret123");
  const first = await guest(chat);
  for (let i = 0; i < THROTTLE.perNick - 1; i++) {
    first.send(`login alice wrong${i}xx`);
    await first.waitFor(/^\*\*\* Wrong password for alice/);
  }
  first.send("login alice secret123");
  await first.waitFor("*** alice has entered the room.");
  await logout(first);
  const second = await guest(chat);
  second.send("login alice wrongagain");
  await second.waitFor(/^\*\*\* Wrong password for alice/);
  second.send("login alice secret123");
  await second.waitFor("*** alice has entered the room.");
});
