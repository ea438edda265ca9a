/**
 * What a new user and an attacker found (the hardening issue), over real
 * sockets: offline mail that is never lost, control characters in nicks,
 * password arguments never repeated, room moves that say where you are,
 * history not replayed twice, /nick, /whois, /away, invisible ignoring, and
 * consistent refusals.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";
import { loginWithPassword, logout, register, startDbServer, startOpServer } from "./db_helpers.ts";
import { GUEST_MAIL, MAILBOX_LIMIT } from "../chat.ts";

// ---- offline mail (item 4)

Deno.test("a big mailbox (270 messages of 3.9 KB) is delivered whole to a reading client, then deleted", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  const text = "x".repeat(3900);
  for (let i = 0; i < 270; i++) chat.server.store.addMail("alice", `guest${i % 18}`, `${i} ${text}`);
  const alice = await loginWithPassword(chat, "alice", "secret123");
  await alice.waitFor("*** You have 270 messages from while you were away:");
  for (let i = 0; i < 270; i++) {
    assert.match(await alice.waitFor(/^\[mail /), new RegExp(`^\\[mail [^\\]]+\\] guest${i % 18}: ${i} x{3900}$`));
  }
  alice.send("/look"); // by its answer, every message has been written and deleted
  await alice.waitFor(/^\*\*\* In main/);
  assert.equal(chat.server.store.mailCount("alice"), 0);
  assert.equal(alice.ended, false);
});

Deno.test(`a full mailbox (${MAILBOX_LIMIT} messages) refuses more, and the sender is told`, async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "alice", "secret123"));
  for (let i = 0; i < MAILBOX_LIMIT; i++) chat.server.store.addMail("alice", "bob", `note ${i}`);
  const bob = await register(chat, "bob", "bobpass99");
  bob.send("/msg alice one more");
  assert.equal(
    await bob.waitFor(/^\*\*\* /),
    `*** alice's mailbox is full (${MAILBOX_LIMIT} messages); your message was not kept.`,
  );
  assert.equal(chat.server.store.mailCount("alice"), MAILBOX_LIMIT);
});

Deno.test(`guests may leave at most ${GUEST_MAIL.burst} offline messages per period; registered users more`, async () => {
  await using chat = await startDbServer({ rate: 0 });
  await logout(await register(chat, "alice", "secret123"));
  const guest = await chat.login("eve");
  for (let i = 0; i < GUEST_MAIL.burst; i++) {
    guest.send(`/msg alice spam ${i}`);
    await guest.waitFor("*** alice is offline; your message will be delivered when they next log in.");
  }
  guest.send("/msg alice one too many");
  assert.match(await guest.waitFor(/^\*\*\* /), /^\*\*\* Guests may leave at most 5 messages/);
  // A second guest nick from the same address shares the allowance.
  const other = await chat.login("mallory");
  other.send("/msg alice again");
  assert.match(await other.waitFor(/^\*\*\* /), /^\*\*\* Guests may leave at most/);
  const bob = await register(chat, "bob", "bobpass99");
  bob.send("/msg alice from a registered user");
  await bob.waitFor("*** alice is offline; your message will be delivered when they next log in.");
  assert.equal(chat.server.store.mailCount("alice"), GUEST_MAIL.burst + 1);
});

// ---- nicks with control characters (item 16)

Deno.test("a nick with control characters is refused with the reason, not silently changed", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("login a\x01b\x0cc");
  assert.equal(
    await guest.waitFor(/^\*\*\* /),
    "*** Cannot log in: a nick may not contain control characters (U+0001, U+000C).",
  );
  assert.equal(chat.server.find("abc"), undefined);
  guest.send("login abc");
  await guest.waitFor("*** abc has entered the room.");
});

Deno.test("backspace editing in a login line is still the user's own editing", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("login alix\bce");
  await guest.waitFor("*** alice has entered the room.");
});

// ---- password arguments are never repeated (item 17)

Deno.test("/register with two words refuses without repeating either word", async () => {
  await using chat = await startDbServer();
  const alice = await chat.login("alice");
  alice.send("/register two words");
  const reply = await alice.waitFor(/^\*\*\* Usage/);
  assert.equal(reply, "*** Usage: /register <password> (too many arguments)");
  alice.send("/password a b c");
  const again = await alice.waitFor(/^\*\*\* Usage/);
  assert.doesNotMatch(again, /"c"|\bc\b"/);
  alice.send("login x y z");
  const third = await alice.until(/^\*\*\* /);
  assert.ok(!third.some((l) => l.includes('"z"')), third.join("\n"));
});

// ---- moving between rooms (item 18)

Deno.test("/join names the room and how many are there; /leave too", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  bob.send("/join garden");
  assert.equal(await bob.waitFor(/^\*\*\* You are now/), "*** You are now in garden, alone.");
  alice.send("/join garden");
  assert.equal(await alice.waitFor(/^\*\*\* You are now/), "*** You are now in garden, with 1 other.");
  alice.send("/leave");
  assert.equal(await alice.waitFor(/^\*\*\* You are now/), "*** You are now in main, alone.");
});

Deno.test("/leave does not replay lines the user has already seen, not even its own paste", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  for (let i = 0; i < 50; i++) alice.send(`paste line ${i}`);
  await alice.waitFor("alice: paste line 49");
  alice.send("/join garden");
  await alice.waitFor("*** You are now in garden, alone.");
  const bob = await chat.login("bob");
  bob.send("in main while alice is away");
  await bob.waitFor("bob: in main while alice is away");
  alice.send("/leave");
  const seen = await alice.until("*** You are now in main, with 1 other.");
  const history = seen.filter((l) => l.startsWith("[history "));
  assert.deepEqual(history.map((l) => l.replace(/^\[history [^\]]+\] /, "")), ["bob: in main while alice is away"]);
});

// ---- /nick, /whois, /away (item 19)

Deno.test("/nick changes a guest's nick, announced in the room; a taken nick is refused", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/nick alicia");
  await bob.waitFor("*** alice is now known as alicia.");
  await alice.waitFor("*** alice is now known as alicia.");
  assert.equal(chat.server.find("alicia")?.nick, "alicia");
  assert.equal(chat.server.find("alice"), undefined);
  alice.send("/nick BOB");
  assert.equal(await alice.waitFor(/^\*\*\* The nick/), "*** The nick bob is taken; please choose another.");
  alice.send("hello");
  await bob.waitFor("alicia: hello");
});

Deno.test("/nick to a registered nick needs its password", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "carol", "carolpass"));
  const alice = await chat.login("alice");
  alice.send("/nick carol");
  assert.equal(await alice.waitFor(/^\*\*\* /), "*** carol is a registered nick: /nick carol <password>");
  alice.send("/nick carol wrongpass");
  assert.equal(await alice.waitFor(/^\*\*\* /), "*** Wrong password for carol; your nick is unchanged.");
  alice.send("/nick carol carolpass");
  await alice.waitFor("*** alice is now known as carol.");
  alice.send("/whois carol");
  assert.match(await alice.waitFor(/^\*\*\* carol: /), /, registered[,;]/);
});

Deno.test("a muted user cannot shed the mute with /nick", async () => {
  await using chat = await startOpServer({ op: ["op"] }, { op: "oppass99" });
  const op = await loginWithPassword(chat, "op", "oppass99");
  const eve = await chat.login("eve");
  op.send("/mute eve");
  await op.waitFor("*** eve is muted for good by op.");
  eve.send("/nick eve2");
  assert.equal(await eve.waitFor(/^\*\*\* You are muted/), "*** You are muted, so you cannot change nick.");
});

Deno.test("ignoring follows the ignored user to a new nick", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/ignore bob");
  await alice.waitFor(/^\*\*\* You now ignore bob/);
  bob.send("/nick bobby");
  await bob.waitFor("*** bob is now known as bobby.");
  bob.send("still me");
  await bob.waitFor("bobby: still me");
  alice.send("marker");
  const seen = await alice.until("alice: marker");
  assert.ok(!seen.includes("bobby: still me"), seen.join("\n"));
});

Deno.test("/whois tells the room, idle time, registration and operator status", async () => {
  await using chat = await startOpServer({ op: ["op"] }, { op: "oppass99" });
  const op = await loginWithPassword(chat, "op", "oppass99");
  const bob = await chat.login("bob");
  bob.send("/join garden");
  await bob.waitFor(/^\*\*\* You are now in garden/);
  bob.send("/whois op");
  assert.match(
    await bob.waitFor(/^\*\*\* op: /),
    /^\*\*\* op: in main, idle \d+s, registered, operator; logged in \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/,
  );
  op.send("/whois bob");
  const line = await op.waitFor(/^\*\*\* bob: /);
  assert.match(line, /^\*\*\* bob: in garden, idle \d+s, not registered, from 127\.0\.0\.1 \(telnet\);/);
  bob.send("/whois op");
  assert.doesNotMatch(await bob.waitFor(/^\*\*\* op: /), /127\.0\.0\.1/, "an address was shown to a non-operator");
  bob.send("/whois nobody");
  assert.equal(await bob.waitFor(/^\*\*\* /), "*** No such user: nobody.");
});

Deno.test("/away is shown in /whois and to senders of private messages; /away alone comes back", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/away");
  assert.equal(await alice.waitFor(/^\*\*\* You/), "*** You were not marked as away; /away <message> marks you.");
  alice.send("/away gone for tea");
  assert.equal(await alice.waitFor(/^\*\*\* You are/), "*** You are marked as away: gone for tea");
  bob.send("@alice are you there?");
  await bob.waitFor("[private to alice] are you there?");
  assert.equal(await bob.waitFor(/^\*\*\* alice is away/), "*** alice is away: gone for tea");
  await alice.waitFor("[private] bob: are you there?");
  bob.send("/whois alice");
  assert.match(await bob.waitFor(/^\*\*\* alice: /), /away: gone for tea/);
  alice.send("/away");
  assert.equal(await alice.waitFor(/^\*\*\* You are/), "*** You are back (no longer marked as away).");
  bob.send("@alice back?");
  await bob.waitFor("[private to alice] back?");
  bob.send("/whois alice");
  assert.doesNotMatch(await bob.waitFor(/^\*\*\* alice: /), /away/);
});

// ---- ignoring is invisible (item 20)

Deno.test("an ignored user is not told: their private message echoes as usual and is not delivered", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const mallory = await chat.login("mallory");
  alice.send("/ignore mallory");
  await alice.waitFor(/^\*\*\* You now ignore mallory/);
  mallory.send("@alice hello?");
  assert.equal(await mallory.waitFor(/^\[private|^\*\*\* /), "[private to alice] hello?");
  mallory.send("/look");
  const seen = await mallory.until(/^\*\*\* In main/);
  assert.ok(!seen.some((l) => /not accepting|ignor/i.test(l)), seen.join("\n"));
  alice.send("marker");
  const got = await alice.until("alice: marker");
  assert.ok(!got.includes("[private] mallory: hello?"), got.join("\n"));
});

// ---- consistent refusals (item 21)

Deno.test("refusals are consistent: room names, muting yourself, /history past the cap", async () => {
  await using chat = await startOpServer({ op: ["op"] }, { op: "oppass99" });
  const op = await loginWithPassword(chat, "op", "oppass99");
  op.send("/join ../etc");
  const reply = await op.waitFor(/^\*\*\* Cannot join/);
  assert.doesNotMatch(reply, /\.\.$/);
  assert.match(reply, /\.$/);
  op.send("/mute op");
  assert.equal(await op.waitFor(/^\*\*\* /), "*** You cannot mute yourself.");
  op.send("/history 201");
  assert.equal(await op.waitFor(/^\*\*\* /), "*** At most 200 lines at a time; showing 200.");
});

// ---- dead connections and reclaiming a nick (item 10)

Deno.test("a telnet client that stops answering is closed after two keepalive periods; one that answers stays", async () => {
  await using chat = await startServer({ keepalive: 0.2 });
  const alive = await chat.login("alive");
  const silent = await chat.login("silent");
  // Both are telnet clients: they answer the server's DO BINARY.
  await alive.sendRaw(new Uint8Array([255, 251, 0]));
  await silent.sendRaw(new Uint8Array([255, 251, 0]));
  const closed = chat.event("close", (d) => d.session.nick === "silent");
  // `alive` answers every timing mark, as telnet does; `silent` never reads or answers again.
  let done = false;
  let from = 0;
  const answering = (async () => {
    while (!done) {
      from = 3 + await alive.waitForBytes([255, 253, 6], from).catch(() => Infinity);
      if (from === Infinity) break;
      await alive.sendRaw(new Uint8Array([255, 252, 6]));
    }
  })();
  const { reason } = await closed;
  assert.match(reason, /^no answer to keepalive/);
  assert.equal(alive.ended, false);
  alive.send("still here");
  await alive.waitFor("alive: still here");
  done = true;
  alive.close();
  await answering;
});

Deno.test("a telnet client whose lines wait on the rate limit is not taken for dead by the keepalive", async () => {
  await using chat = await startServer({ keepalive: 0.2, rate: 5, burst: 2 });
  const alive = await chat.login("alive");
  const watcher = await chat.login("watcher");
  await alive.sendRaw(new Uint8Array([255, 251, 0])); // a telnet client
  let done = false;
  let from = 0;
  const answering = (async () => { // every timing mark answered, behind the lines still waiting
    while (!done) {
      from = 3 + await alive.waitForBytes([255, 253, 6], from).catch(() => Infinity);
      if (from === Infinity) break;
      await alive.sendRaw(new Uint8Array([255, 252, 6]));
    }
  })();
  // Twelve lines at once: about two seconds at 5 a second, ten keepalive periods.
  await alive.sendRaw(Array.from({ length: 12 }, (_, i) => `paced ${i}\r\n`).join(""));
  const seen = await watcher.until("alive: paced 11", 10_000);
  assert.equal(seen.filter((l) => l.startsWith("alive: paced ")).length, 12);
  assert.equal(alive.ended, false);
  done = true;
  alive.close();
  await answering;
});

Deno.test("a client that never spoke telnet (nc) is never sent keepalive probes", async () => {
  await using chat = await startServer({ keepalive: 0.1 });
  const nc = await chat.login("nc");
  const silent = await chat.login("silent");
  await silent.sendRaw(new Uint8Array([255, 251, 0])); // a telnet client, which then goes silent
  const closed = chat.event("close", (d) => d.session.nick === "silent");
  await closed; // two keepalive periods have passed
  assert.equal(nc.ended, false);
  assert.equal(indexOf(nc.raw, [255, 253, 6]), -1, "a probe was sent to a client that never negotiated");
  nc.send("still here");
  await nc.waitFor("nc: still here");
});

function indexOf(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// ---- operator listings (item 19)

Deno.test("/bans and /mutes list what is in force with the time left; address ranges can be banned", async () => {
  await using chat = await startOpServer({ op: ["op"] }, { op: "oppass99" });
  const op = await loginWithPassword(chat, "op", "oppass99");
  await op.waitFor("*** You are an operator here.");
  op.send("/bans");
  assert.equal(await op.waitFor(/^\*\*\* /), "*** No bans in force.");
  op.send("/ban mallory 2h spam");
  await op.waitFor(/^\*\*\* mallory is banned until/);
  op.send("/ban 10.0.0.0/8");
  await op.waitFor(/^\*\*\* 10\.0\.0\.0\/8 is banned for good/);
  op.send("/mute eve 30m");
  await op.waitFor(/^\*\*\* eve is muted until/);
  op.send("/bans");
  await op.waitFor("*** 2 bans in force:");
  const bans = [await op.waitFor(/^\*\*\* {3}/), await op.waitFor(/^\*\*\* {3}/)].sort();
  assert.equal(bans[0], "***   10.0.0.0/8 (address), for good, by op");
  assert.match(bans[1], /^\*\*\* {3}mallory \(nick\), (1h59m\d+s|2h) left, by op: spam$/);
  op.send("/mutes");
  await op.waitFor("*** 1 mute in force:");
  assert.match(await op.waitFor(/^\*\*\* {3}/), /^\*\*\* {3}eve, (29m\d+s|30m) left, by op$/);
  const bob = await chat.login("bob");
  bob.send("/bans");
  assert.equal(await bob.waitFor(/^\*\*\* /), "*** Only operators may use /bans.");
});

// ---- bounded listings (item 14) and a way around TinyFugue's /commands (item 23)

Deno.test("/rooms lists at most 50 rooms, the biggest, and says how many more there are", async () => {
  await using chat = await startServer({ rate: 0, maxPerIp: 0 });
  const alice = await chat.login("alice");
  const clients = [];
  for (let i = 0; i < 60; i++) {
    const c = await chat.login(`u${i}`);
    c.send(`/join room${i}`);
    await c.waitFor(/^\*\*\* You are now in room/);
    clients.push(c);
  }
  alice.send("/rooms");
  const line = await alice.waitFor(/^\*\*\* Rooms: /);
  assert.equal(line.split(", ").length, 50, line);
  assert.match(line, /^\*\*\* Rooms: main \(1\), .* and 11 more \(the biggest are shown\)$/);
});

Deno.test("emote <action> works like /me, for clients that keep lines starting with a slash", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("emote pours the tea");
  assert.equal(await bob.waitFor(/^\* /), "* alice pours the tea");
  alice.send("emotional support");
  assert.equal(await bob.waitFor(/^alice: /), "alice: emotional support");
});
