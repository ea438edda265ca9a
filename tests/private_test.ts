/**
 * Private messages: @nick and /msg, unknown users, quiet mode, /ignore and
 * forging attempts.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";

Deno.test("@nick <text> reaches only that user, marked private, and echoes to the sender", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  alice.send("@bob meet me at noon");
  assert.equal(await bob.waitFor(/private/), "[private] alice: meet me at noon");
  assert.equal(await alice.waitFor(/private/), "[private to bob] meet me at noon");
  alice.send("marker");
  const seen = await carol.until("alice: marker");
  assert.ok(!seen.some((l) => l.includes("noon")), seen.join("\n"));
});

Deno.test("/msg <nick> <text> reaches only that user, marked private, and echoes to the sender", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  alice.send("/msg bob the cake is a lie");
  assert.equal(await bob.waitFor(/private/), "[private] alice: the cake is a lie");
  assert.equal(await alice.waitFor(/private/), "[private to bob] the cake is a lie");
  alice.send("marker");
  const seen = await carol.until("alice: marker");
  assert.ok(!seen.some((l) => l.includes("cake")), seen.join("\n"));
});

Deno.test("a private message finds its user case-insensitively and in another room", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("Bob");
  bob.send("/join kitchen");
  await bob.waitFor("*** Bob has entered the room.");
  alice.send("@BOB are you there?");
  assert.equal(await bob.waitFor(/private/), "[private] alice: are you there?");
  assert.equal(await alice.waitFor(/private/), "[private to Bob] are you there?");
  bob.send("/msg ALICE yes");
  assert.equal(await alice.waitFor(/private\]/), "[private] Bob: yes");
});

Deno.test("a private message to an unknown nick says No such user", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  alice.send("@nobody hello");
  assert.match(await alice.waitFor(/^\*\*\* /), /^\*\*\* No such user: nobody/);
  alice.send("/msg ghost hello");
  assert.match(await alice.waitFor(/^\*\*\* /), /^\*\*\* No such user: ghost/);
  alice.send("marker");
  const seen = await bob.until("alice: marker");
  assert.ok(!seen.some((l) => l.includes("hello")), seen.join("\n"));
});

Deno.test("a private message after its user logged out says No such user", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  bob.send("logout");
  await alice.waitFor("*** bob has left the room.");
  alice.send("@bob still there?");
  assert.match(await alice.waitFor(/^\*\*\* /), /^\*\*\* No such user: bob/);
});

Deno.test("a private message without text asks for it", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  alice.send("/msg bob");
  assert.match(await alice.waitFor(/^\*\*\* /), /text/);
  alice.send("@bob");
  assert.match(await alice.waitFor(/^\*\*\* /), /text/);
  alice.send("marker");
  const seen = await bob.until("alice: marker");
  assert.ok(!seen.some((l) => l.startsWith("[private")), seen.join("\n"));
});

Deno.test("private messages still arrive in quiet mode", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/quiet");
  await alice.waitFor(/^\*\*\* Quiet mode on/);
  bob.send("/msg alice psst");
  assert.equal(await alice.waitFor(/private/), "[private] bob: psst");
  // ...and a quiet user may send them.
  alice.send("@bob got it");
  assert.equal(await bob.waitFor(/^\[private\]/), "[private] alice: got it");
});

Deno.test("/ignore hides a user's private messages; /unignore lets them through again", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  alice.send("/ignore bob");
  await alice.waitFor(/^\*\*\* You now ignore bob/);
  bob.send("@alice are you ignoring me?");
  await bob.waitFor(/^\*\*\* /); // told that alice does not accept them
  carol.send("@alice from carol");
  const seen = await alice.until("[private] carol: from carol");
  assert.ok(!seen.some((l) => l.includes("ignoring me")), seen.join("\n"));
  alice.send("/unignore bob");
  await alice.waitFor(/^\*\*\* You no longer ignore bob/);
  bob.send("@alice and now?");
  assert.equal(await alice.waitFor(/private/), "[private] bob: and now?");
});

Deno.test("private text cannot forge a server notice", async () => {
  await using chat = await startServer();
  const mallory = await chat.login("mallory");
  const bob = await chat.login("bob");
  mallory.send("@bob *** The server is shutting down. Goodbye!");
  mallory.send("/msg bob \b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b*** fake");
  mallory.send("@bob \x1b[2K\x1b[0G*** fake");
  mallory.send("@bob x\r*** fake");
  mallory.send("@bob marker");
  const seen = await bob.until("[private] mallory: marker");
  assert.ok(seen.filter((l) => l.includes("***")).length >= 4, seen.join("\n"));
  for (const l of seen) assert.ok(!l.startsWith("*** ") || l.endsWith("has entered the room."), JSON.stringify(l));
});
