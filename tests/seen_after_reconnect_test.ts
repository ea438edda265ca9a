/**
 * History on entering a room after a reconnect: a nick is shown only the
 * lines it has not seen, after a logout, a dropped connection or a takeover
 * (the last line seen in each room is kept past the user's logout, bounded),
 * on the telnet and the IRC door alike.
 * @module
 */
import assert from "node:assert/strict";
import { doorPort, startServer, type TestClient, type TestServer } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";
import { loginWithPassword, logout, register } from "./db_helpers.ts";
import { ircJoin, ircLogin, startIrcServer } from "./irc_helpers.ts";
import { LastSeen, SEEN_LIMIT, SEEN_MAX_AGE } from "../room_history.ts";

const HISTORY = /^\[history [^\]]+\] (.*)$/;

/** Sends /look and returns the history lines that came before its answer. */
async function historyBeforeLook(client: TestClient): Promise<string[]> {
  client.send("/look");
  const got = await client.until(/^\*\*\* In /);
  return got.filter((l) => HISTORY.test(l)).map((l) => l.replace(HISTORY, "$1"));
}

/** `who` says lines `from`..`to` ("line N") in its room and waits for the last one. */
async function say(who: TestClient, nick: string, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) who.send(`line ${i}`);
  await who.waitFor(`${nick}: line ${to}`);
}

const said = (nick: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${nick}: line ${from + i}`);

/** Logs in as `nick` and returns the client with the history it was shown on entering. */
async function loginSeeing(chat: TestServer, nick: string): Promise<[TestClient, string[]]> {
  const client = await chat.login(nick);
  return [client, await historyBeforeLook(client)];
}

Deno.test("after logout and a new login to the same nick only the lines not seen yet are shown", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  await say(bob, "bob", 1, 20);
  let [alice, shown] = await loginSeeing(chat, "alice");
  assert.deepEqual(shown, said("bob", 1, 20));
  await logout(alice);
  [alice, shown] = await loginSeeing(chat, "alice");
  assert.deepEqual(shown, [], "the same 20 lines again");
  await logout(alice);
  await say(bob, "bob", 21, 22);
  [alice, shown] = await loginSeeing(chat, "ALICE"); // the nick's key: any spelling
  assert.deepEqual(shown, said("bob", 21, 22));
  // Someone who never was here still gets the room's last lines.
  const [, carols] = await loginSeeing(chat, "carol");
  assert.equal(carols.length, 20);
});

Deno.test("after a dropped connection (no logout) only the lines not seen yet are shown", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  await say(bob, "bob", 1, 20);
  const [alice, shown] = await loginSeeing(chat, "alice");
  assert.equal(shown.length, 20);
  alice.close();
  await bob.waitFor("*** alice has left the room.");
  await say(bob, "bob", 21, 21);
  const [, again] = await loginSeeing(chat, "alice");
  assert.deepEqual(again, ["bob: line 21"]);
});

Deno.test("the new connection of a takeover (login with the password from elsewhere) is not shown seen lines", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  await say(bob, "bob", 1, 20);
  const alice = await register(chat, "alice", "alice-password"); // shown the 20 lines on entering
  await say(bob, "bob", 21, 21);
  await alice.waitFor("bob: line 21");
  const second = await loginWithPassword(chat, "alice", "alice-password");
  await alice.closed();
  assert.deepEqual(await historyBeforeLook(second), []);
  await logout(second);
  await say(bob, "bob", 22, 22);
  const third = await loginWithPassword(chat, "alice", "alice-password");
  assert.deepEqual(await historyBeforeLook(third), ["bob: line 22"]);
});

Deno.test("a side room that was emptied and made again is not shown twice", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  alice.send("/join garden");
  await alice.waitFor("*** You are now in garden, alone.");
  await say(alice, "alice", 1, 3);
  for (let round = 0; round < 2; round++) {
    alice.send("/leave");
    await alice.waitFor(/^\*\*\* You are now in main/);
    alice.send("/join garden"); // garden emptied and went: this is a new room, with the old history
    const got = await alice.until("*** You are now in garden, alone.");
    assert.deepEqual(got.filter((l) => HISTORY.test(l)), [], `round ${round}`);
  }
  await logout(alice);
  const [again] = await loginSeeing(chat, "alice");
  again.send("/join garden");
  const got = await again.until("*** You are now in garden, alone.");
  assert.deepEqual(got.filter((l) => HISTORY.test(l)), []);
});

Deno.test("the IRC door's replay on JOIN also leaves out what the nick saw before (here on telnet)", async () => {
  await using chat = await startIrcServer();
  const bob = await chat.login("bob");
  await say(bob, "bob", 1, 5);
  const [alice, shown] = await loginSeeing(chat, "alice");
  assert.equal(shown.length, 5);
  await logout(alice);
  await say(bob, "bob", 6, 6);
  const irc = await ircLogin(chat, "alice");
  await ircJoin(irc, "alice", "#main");
  irc.send("PING :after-replay");
  const lines = await irc.until(/PONG/);
  const replayed = lines.filter((l) => / PRIVMSG #main :/.test(l)).map((l) => l.slice(l.indexOf(" :") + 2));
  assert.deepEqual(replayed, ["line 6"]);
});

Deno.test("an IRC user who joins a room made afresh, parts and joins again is not replayed the same lines", async () => {
  await using chat = await startIrcServer();
  const bob = await chat.login("bob");
  bob.send("/join garden");
  await bob.waitFor("*** You are now in garden, alone.");
  await say(bob, "bob", 1, 3);
  bob.send("/leave"); // garden empties and goes; its history stays
  await bob.waitFor(/^\*\*\* You are now in main/);
  const irc = await ircLogin(chat, "eve");
  for (const round of [1, 2]) {
    await ircJoin(irc, "eve", "#garden");
    irc.send(`PING :round-${round}`);
    const lines = await irc.until(new RegExp(`PONG .*round-${round}`));
    const replayed = lines.filter((l) => / PRIVMSG #garden :/.test(l)).length;
    assert.equal(replayed, round === 1 ? 3 : 0, `round ${round}`);
    irc.send("PART #garden");
    await irc.waitFor(/ PART #garden/);
  }
});

Deno.test("LastSeen keeps at most its limit of records, the newest, each for at most its age", () => {
  assert.equal(SEEN_LIMIT, 100_000);
  assert.equal(SEEN_MAX_AGE, 24 * 60 * 60 * 1000);
  const seen = new LastSeen(3, 1000);
  seen.set("a", "main", 1, 0);
  seen.set("b", "main", 2, 0);
  seen.set("c", "main", 3, 0);
  seen.set("a", "main", 4, 0); // recorded again: now the newest
  seen.set("d", "main", 5, 0);
  assert.equal(seen.size, 3);
  assert.equal(seen.get("b", "main", 0), undefined, "the oldest went first");
  assert.equal(seen.get("a", "main", 0), 4);
  assert.equal(seen.get("a", "garden", 0), undefined);
  assert.equal(seen.get("c", "main", 1000), 3);
  assert.equal(seen.get("c", "main", 1001), undefined, "forgotten after maxAge");
  seen.set("e", "main", 6, 2000); // recording drops the records past their age
  assert.equal(seen.size, 1);
  assert.equal(seen.get("e", "main", 2000), 6);
});

Deno.test("10,000 logins and logouts keep at most one record per nick and room, quickly", () => {
  const seen = new LastSeen();
  const started = performance.now();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 10_000; i++) {
      seen.get(`guest${i}`, "main");
      seen.set(`guest${i}`, "main", round * 10_000 + i);
    }
  }
  assert.equal(seen.size, 10_000);
  assert.equal(seen.get("guest9999", "main"), 19_999);
  assert.ok(performance.now() - started < 1000, `${performance.now() - started} ms`);
});

Deno.test("a web page (WebSocket) that logs in again is shown the room's last lines again: its log may be gone", async () => {
  await using chat = await startServer({ rate: 0, httpPort: 0 });
  const bob = await chat.login("bob");
  await say(bob, "bob", 1, 5);
  const port = doorPort(chat, "http");
  for (let visit = 0; visit < 2; visit++) {
    const page = await RawWebSocket.connect(port);
    await page.waitForEvent((e) => e.type === "welcome");
    page.sendText("login alice");
    const last = await page.waitForEvent((e) => e.type === "history" && e.text === "line 5");
    assert.equal(last.nick, "bob", `visit ${visit + 1}`);
    page.sendText("logout");
    await page.done;
  }
});
