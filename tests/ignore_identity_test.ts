/**
 * /ignore stays on one person: it follows them across nick changes, ends
 * when a guest leaves the server (so it never lands on a stranger who takes
 * the nick next), and stays on a registered nick for whoever logs in to it
 * again with its password.
 * @module
 */
import assert from "node:assert/strict";
import { startServer, type TestClient, type TestServer } from "./helpers.ts";
import { loginWithPassword, logout, register } from "./db_helpers.ts";
import { Ignores, User } from "../user.ts";
import { amyGetsPrivate, amySees } from "./ignore_helpers.ts";

async function ignoring(amy: TestClient, nick: string): Promise<string> {
  amy.send(`/ignore ${nick}`);
  return await amy.waitFor(/^\*\*\* You now ignore /);
}

async function server(): Promise<[TestServer, TestClient, TestClient]> {
  const chat = await startServer({ rate: 0 });
  return [chat, await chat.login("amy"), await chat.login("carol")];
}

Deno.test("an ignore follows a guest to a new nick, and does not land on a stranger who takes that nick later", async () => {
  const [chat, amy, carol] = await server();
  await using _ = chat;
  const bill = await chat.login("bill");
  assert.match(await ignoring(amy, "bill"), /bill is a guest: it ends when they leave the server/);
  bill.send("/nick bill2");
  await amy.waitFor("*** bill is now known as bill2.");
  assert.equal(await amySees(amy, bill, "bill2", carol, "still me"), false, "follows the nick change");
  await logout(bill);
  const stranger = await chat.login("bill2");
  assert.equal(await amySees(amy, stranger, "bill2", carol, "I am someone else"), true);
  assert.equal(await amyGetsPrivate(amy, stranger, "bill2", carol, "hello amy"), true);
  amy.send("/ignore");
  assert.equal(await amy.waitFor(/^\*\*\* You ignore/), "*** You ignore nobody.");
});

Deno.test("an ignore on a guest ends when they leave: the next guest with that nick is seen", async () => {
  const [chat, amy, carol] = await server();
  await using _ = chat;
  const bill = await chat.login("bill");
  await ignoring(amy, "bill");
  assert.equal(await amySees(amy, bill, "bill", carol, "ignored"), false);
  bill.close(); // dropped, no logout
  await amy.waitFor("*** bill has left the room.");
  const next = await chat.login("bill");
  assert.equal(await amySees(amy, next, "bill", carol, "a new bill"), true);
});

Deno.test("an ignore on a registered nick stays on it: the same person logging in again with the password", async () => {
  const [chat, amy, carol] = await server();
  await using _ = chat;
  const bill = await register(chat, "bill", "bill-password");
  assert.match(await ignoring(amy, "bill"), /it stays on the registered nick bill/);
  await logout(bill);
  const again = await loginWithPassword(chat, "bill", "bill-password");
  assert.equal(await amySees(amy, again, "bill", carol, "back again"), false);
  assert.equal(await amyGetsPrivate(amy, again, "bill", carol, "psst"), false);
});

Deno.test("a registered person who leaves under a guest nick: the guest nick goes free, the ignore stays on the account", async () => {
  const [chat, amy, carol] = await server();
  await using _ = chat;
  const bill = await register(chat, "bill", "bill-password");
  await ignoring(amy, "bill");
  bill.send("/nick billy");
  await amy.waitFor("*** bill is now known as billy.");
  assert.equal(await amySees(amy, bill, "billy", carol, "as billy"), false);
  await logout(bill);
  const stranger = await chat.login("billy");
  assert.equal(await amySees(amy, stranger, "billy", carol, "a stranger"), true);
  const back = await loginWithPassword(chat, "bill", "bill-password");
  assert.equal(await amySees(amy, back, "bill", carol, "bill is back"), false);
  // Taking the nick over from another connection is the same person too.
  const takeover = await loginWithPassword(chat, "bill", "bill-password");
  await back.closed();
  assert.equal(await amySees(amy, takeover, "bill", carol, "from elsewhere"), false);
});

Deno.test("/unignore of the nick someone has now ends the ignore for good", async () => {
  const [chat, amy, carol] = await server();
  await using _ = chat;
  const bill = await register(chat, "bill", "bill-password");
  await ignoring(amy, "bill");
  await logout(bill);
  const again = await loginWithPassword(chat, "bill", "bill-password");
  again.send("/nick billy");
  await amy.waitFor("*** bill is now known as billy.");
  amy.send("/unignore billy");
  await amy.waitFor("*** You no longer ignore billy.");
  await logout(again);
  const back = await loginWithPassword(chat, "bill", "bill-password");
  assert.equal(await amySees(amy, back, "bill", carol, "not ignored any more"), true);
});

Deno.test("whoever leaves, the ignore index keeps nothing of them", async () => {
  const [chat, amy, carol] = await server();
  await using _ = chat;
  const ignores = chat.server.chat.ignores;
  const bill = await chat.login("bill");
  const dan = await register(chat, "dan", "dan-password");
  await ignoring(amy, "bill");
  await ignoring(amy, "dan");
  await ignoring(carol, "amy");
  assert.equal(ignores.size, 3);
  await logout(bill);
  await logout(dan);
  assert.equal(ignores.size, 2); // amy (by carol) and dan's account (by amy)
  await logout(amy);
  assert.equal(ignores.size, 0);
});

const user = (nick: string, registered = false) => {
  const u = new User(nick, nick, { receive() {} });
  u.registered = registered;
  return u;
};

Deno.test("Ignores.renamed moves the ignores on a user to its new nick, looking only at who ignores it", () => {
  const ignores = new Ignores();
  const amy = user("amy");
  const bill = user("bill", true);
  const other = user("other");
  other.ignores = new Set(["bill"]); // not through the index: left alone
  ignores.add(amy, bill);
  bill.key = "billy";
  bill.registered = false;
  ignores.renamed(bill, "bill");
  assert.deepEqual([...amy.ignores!], ["billy"]);
  assert.deepEqual([...other.ignores], ["bill"]);
  ignores.gone(bill);
  assert.deepEqual([...amy.ignores!], ["bill"], "back on the registered nick bill proved");
});

Deno.test("Ignores.replace passes the ignores on a user to the one that stands for it, and gone() of a guest ends them", () => {
  const ignores = new Ignores();
  const amy = user("amy");
  const old = user("bill");
  ignores.add(amy, old);
  const again = user("bill");
  ignores.replace(old, again);
  ignores.gone(old); // gone already: nothing more happens
  assert.deepEqual([...amy.ignores!], ["bill"]);
  ignores.gone(again);
  assert.equal(amy.ignores, undefined);
  assert.equal(amy.ignoring, undefined);
  assert.equal(ignores.size, 0);
});

Deno.test("10,000 logouts of users who ignore nobody and whom nobody ignores leave the index untouched, quickly", () => {
  const ignores = new Ignores();
  const amy = user("amy");
  const bill = user("bill");
  ignores.add(amy, bill);
  const users = Array.from({ length: 10_000 }, (_, i) => user(`guest${i}`, i % 2 === 0));
  const started = performance.now();
  for (const u of users) ignores.gone(u);
  const ms = performance.now() - started;
  assert.equal(ignores.size, 1);
  assert.ok(ms < 200, `${ms} ms`);
});
