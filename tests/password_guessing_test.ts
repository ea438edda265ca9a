/**
 * Password guessing over sockets: a stranger cannot lock the owner out,
 * delays grow instead of a fixed lock, and wrong /password attempts count
 * like wrong logins.
 */
import assert from "node:assert/strict";
import { connectTo, logout, register, startDbServer } from "./db_helpers.ts";
import { LOGIN_LIMITS } from "../login_throttle.ts";

Deno.test("after a stranger's failures the owner logs in at once from another address, and the stranger waits", async () => {
  await using chat = await startDbServer({ host: "::" });
  await logout(await register(chat, "alice", "secret123"));
  const stranger = await chat.connect(); // 127.0.0.1
  await stranger.waitFor(/Log in with/);
  for (let i = 0; i < LOGIN_LIMITS.perNickAddress + 3; i++) {
    stranger.send(`login alice guess${i}xx`);
    await stranger.waitFor(/^\*\*\* (Wrong password for alice|Too many failed logins for alice)/);
  }
  stranger.send("login alice secret123");
  await stranger.waitFor(/^\*\*\* Too many failed logins for alice or from your address; try again in \d+ s\.$/);
  const owner = await connectTo("::1", chat.port);
  try {
    await owner.waitFor(/Log in with/);
    owner.send("login alice secret123");
    await owner.waitFor("*** alice has entered the room.");
  } finally {
    owner.close();
    await owner.done;
  }
});

Deno.test("the wait after the free failures grows with each further failure", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const throttle = chat.server.logins;
  for (let i = 0; i < LOGIN_LIMITS.perNickAddress; i++) throttle.begin("alice", "127.0.0.1");
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  client.send("login alice secret123");
  const first = Number(/try again in (\d+) s\./.exec(await client.waitFor(/try again in/))![1]);
  throttle.begin("alice", "127.0.0.1");
  throttle.begin("alice", "127.0.0.1");
  client.send("login alice secret123");
  const later = Number(/try again in (\d+) s\./.exec(await client.waitFor(/try again in/))![1]);
  assert.ok(first >= 1 && first <= 2, `first wait ${first} s`);
  assert.ok(later >= 7 && later <= 8, `after two more failures ${later} s (four times as long)`);
});

Deno.test("wrong old passwords in /password count like failed logins", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "secret123");
  for (let i = 0; i < LOGIN_LIMITS.perNickAddress; i++) {
    alice.send(`/password wrong${i}xx newpass123`);
    await alice.waitFor("*** The old password is wrong; the password was not changed.");
  }
  alice.send("/password secret123 newpass123");
  await alice.waitFor(/^\*\*\* Too many wrong passwords; try again in \d+ s\.$/);
  await logout(alice);
  const again = await chat.connect(); // and logins to alice from this address wait too
  await again.waitFor(/Log in with/);
  again.send("login alice secret123");
  await again.waitFor(/^\*\*\* Too many failed logins for alice or from your address; try again in \d+ s\.$/);
});

Deno.test("a right old password in /password takes back its count", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "secret123");
  for (let i = 0; i < LOGIN_LIMITS.perNickAddress - 1; i++) {
    alice.send(`/password wrong${i}xx newpass123`);
    await alice.waitFor("*** The old password is wrong; the password was not changed.");
  }
  alice.send("/password secret123 newpass123");
  await alice.waitFor("*** Your password has been changed.");
  alice.send("/password wrongagain other12345");
  await alice.waitFor("*** The old password is wrong; the password was not changed.");
  alice.send("/password newpass123 other12345");
  await alice.waitFor("*** Your password has been changed.");
});
