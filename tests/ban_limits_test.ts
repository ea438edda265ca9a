/**
 * Bans and mutes over sockets: the longest duration, malformed durations,
 * address ranges, expiry on a failing store, and stored values no date can
 * show.
 */
import assert from "node:assert/strict";
import type { TestClient, TestServer } from "./helpers.ts";
import { connectTo, loginWithPassword, startDbServer, startOpServer } from "./db_helpers.ts";

/** A server with --op alice, alice registered (so an operator), and bob logged in. */
async function room(options = {}): Promise<{ chat: TestServer; alice: TestClient; bob: TestClient }> {
  const chat = await startOpServer({ op: ["alice"], ...options }, { alice: "secret123" });
  const alice = await loginWithPassword(chat, "alice", "secret123");
  await alice.waitFor("*** You are an operator here.");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  return { chat, alice, bob };
}

Deno.test("a ban longer than 52w is refused and stores nothing; the next connection is served", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  for (const duration of ["99999999999w", "9".repeat(400) + "s", "53w"]) {
    alice.send(`/ban bob ${duration} spam`);
    await alice.waitFor(/^\*\*\* Cannot ban: ".*" is longer than 52w, the longest; leave the duration out for good\.$/);
    alice.send(`/ban 10.1.2.3 ${duration}`);
    await alice.waitFor(/^\*\*\* Cannot ban: ".*" is longer than 52w/);
    alice.send(`/mute bob ${duration}`);
    await alice.waitFor(/^\*\*\* ".*" is longer than 52w, the longest; leave the duration out for good\.$/);
  }
  assert.deepEqual(chat.server.store.bans(), []);
  assert.deepEqual(chat.server.store.mutes(), []);
  assert.equal(bob.ended, false);
  await chat.login("carol"); // a new connection from the same address still works
});

Deno.test("a ban of 52w is accepted and announced with its end", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send("/ban bob 52w");
  await alice.waitFor(/^\*\*\* bob is banned until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(52w from now\) by alice\.$/);
  await bob.closed();
});

Deno.test("/ban eve 5x, 0s and 10 are refused with the accepted forms, and nobody is banned", async () => {
  const { chat, alice } = await room();
  await using _ = chat;
  alice.send("/ban eve 5x");
  await alice.waitFor(`*** Cannot ban: "5x" is not a duration: use 30s, 10m, 2h, 1d or 1w, or combined (1h30m).`);
  alice.send("/ban eve 0s");
  await alice.waitFor(`*** Cannot ban: "0s" is no time at all: use 30s, 10m, 2h, 1d or 1w.`);
  alice.send("/ban eve 5x spam");
  await alice.waitFor(/^\*\*\* Cannot ban: "5x" is not a duration: .*\(a reason cannot start with a digit\)\.$/);
  alice.send("/mute bob 0s");
  await alice.waitFor(`*** "0s" is no time at all: use 30s, 10m, 2h, 1d or 1w.`);
  assert.deepEqual(chat.server.store.bans(), []);
  assert.deepEqual(chat.server.store.mutes(), []);
  const eve = await chat.login("eve");
  assert.equal(eve.ended, false);
});

Deno.test("malformed addresses and prefix lengths are refused by /ban with the reason", async () => {
  const { chat, alice } = await room();
  await using _ = chat;
  alice.send("/ban 10.0.0.0/33");
  await alice.waitFor("*** Cannot ban: /33 is not a prefix length of an IPv4 address (0-32).");
  alice.send("/ban 999.1.1.1 1h");
  await alice.waitFor(/^\*\*\* Cannot ban: "999\.1\.1\.1" is not an address: write four numbers 0-255/);
  alice.send("/ban 2001:db8::/200");
  await alice.waitFor("*** Cannot ban: /200 is not a prefix length of an IPv6 address (0-128).");
  assert.deepEqual(chat.server.store.bans(), []);
});

Deno.test("/ban of a range is stored in normal form, disconnects those in it and refuses their connections", async () => {
  // dual-stack: the operator comes over IPv6 (::1), bob over IPv4 (127.0.0.1)
  await using chat = await startOpServer({ op: ["alice"], host: "::" }, { alice: "secret123" });
  const bob = await chat.login("bob");
  const alice = await connectTo("::1", chat.port);
  try {
    alice.send("login alice secret123");
    await alice.waitFor("*** You are an operator here.");
    alice.send("/ban ::1/128");
    await alice.waitFor("*** You cannot ban your own address.");
    alice.send("/ban 127.1.2.3/8 30m flood");
    await alice.waitFor(/^\*\*\* 127\.0\.0\.0\/8 is banned until .* \(30m from now\) by alice: flood$/);
    await bob.waitFor(/^\*\*\* You are banned until .*: flood$/);
    await bob.closed();
    assert.deepEqual(chat.server.store.bans().map((b) => b.value), ["127.0.0.0/8"]);
    const refused = await chat.connect();
    await refused.waitFor(/^\*\*\* Your address is banned until .*: flood$/);
    await refused.closed();
    alice.send("/unban 127.0.0.0/8");
    await alice.waitFor("*** 127.0.0.0/8 is no longer banned (by alice).");
    await chat.login("dave");
  } finally {
    alice.close();
    await alice.done;
  }
});

Deno.test("an IPv6 range ban does not touch IPv4 clients, and an IPv4 range does not touch IPv6 ones", async () => {
  await using chat = await startOpServer({ op: ["alice"], host: "::" }, { alice: "secret123" });
  const alice = await connectTo("::1", chat.port);
  try {
    alice.send("login alice secret123");
    await alice.waitFor("*** You are an operator here.");
    alice.send("/ban 2001:db8::/32");
    await alice.waitFor("*** 2001:db8::/32 is banned for good by alice.");
    await chat.login("bob"); // 127.0.0.1
    alice.send("/ban 10.0.0.0/8");
    await alice.waitFor("*** 10.0.0.0/8 is banned for good by alice.");
    alice.send("/look");
    await alice.waitFor(/^\*\*\* In main \(2\)/);
  } finally {
    alice.close();
    await alice.done;
  }
});

Deno.test("an expired ban that the full disk cannot delete lets the user in, is logged, and the server carries on", async () => {
  const { chat, bob } = await room();
  await using _ = chat;
  const store = chat.server.store;
  const ended = Date.now() - 1; // stored bans and a mute whose time is up
  chat.server.moderation.ban({ kind: "ip", value: "127.0.0.0/8", until: ended, reason: "", by: "t", at: 0 });
  chat.server.moderation.ban({ kind: "nick", value: "mallory", until: ended, reason: "", by: "t", at: 0 });
  chat.server.moderation.mute({ key: "bob", until: ended, by: "t" });
  store.removeBan = store.removeMute = () => {
    throw new Error("database or disk is full");
  };
  const mallory = await chat.login("mallory");
  mallory.send("hello");
  await mallory.waitFor("mallory: hello");
  bob.send("still here");
  await bob.waitFor("bob: still here");
  assert.ok(chat.logs.some((l) => /ERROR store failed action="removing the expired ban of 127\.0\.0\.0\/8"/.test(l)));
  assert.ok(chat.logs.some((l) => /ERROR store failed action="removing the expired ban of mallory"/.test(l)));
  assert.ok(chat.logs.some((l) => /ERROR store failed action="removing the expired mute of bob"/.test(l)));
});

Deno.test("a stored ban whose end no date can show refuses the connection without ending the server", async () => {
  await using chat = await startDbServer();
  chat.server.moderation.ban({ kind: "ip", value: "127.0.0.1", until: 8.64e15 + 1, reason: "old", by: "t", at: 0 });
  const refused = await chat.connect();
  await refused.waitFor("*** Your address is banned for good: old");
  await refused.closed();
  chat.server.moderation.unban("ip", "127.0.0.1");
  await chat.login("alice");
});
