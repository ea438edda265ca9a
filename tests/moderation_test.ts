import assert from "node:assert/strict";
import type { TestClient, TestServer } from "./helpers.ts";
import { connectTo, loginWithPassword, logout, register, startDbServer, startOpServer } from "./db_helpers.ts";
import { hashPassword } from "../accounts.ts";

const UNTIL = "until \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC";

/** A server with --op alice, alice's account made beforehand (so an operator), and bob and carol logged in. */
async function room(): Promise<{ chat: TestServer; alice: TestClient; bob: TestClient; carol: TestClient }> {
  const chat = await startOpServer({ op: ["alice"] }, { alice: "secret123" });
  const alice = await loginWithPassword(chat, "alice", "secret123");
  await alice.waitFor("*** You are an operator here.");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  await alice.waitFor("*** carol has entered the room.");
  await bob.waitFor("*** carol has entered the room.");
  return { chat, alice, bob, carol };
}

/** The log has a moderation line by `op` whose action matches `action`. */
function logged(chat: TestServer, op: string, action: RegExp): boolean {
  return chat.logs.some((l) => {
    const m = / INFO moderation op=(\S+) action="([^"]*)"/.exec(l);
    return m !== null && m[1] === op && action.test(m[2]);
  });
}

/** Sends /look as a marker and returns the lines that came before its answer. */
async function beforeMarker(client: TestClient): Promise<string[]> {
  client.send("/look");
  return (await client.until(/^\*\*\* In /)).slice(0, -1);
}

// ---- who is an operator

Deno.test("registering a nick named by --op does not make an operator, not even after logging in again", async () => {
  await using chat = await startDbServer({ op: ["alice"] });
  const alice = await chat.login("alice");
  alice.send("/register secret123");
  await alice.waitFor(/^\*\*\* alice is now registered/);
  await chat.login("bob");
  alice.send("/mute bob");
  await alice.waitFor("*** Only operators may use /mute.");
  await logout(alice);
  const again = await loginWithPassword(chat, "alice", "secret123");
  again.send("/mute bob");
  const seen = await again.until(/^\*\*\* Only operators/);
  assert.ok(!seen.includes("*** You are an operator here."), seen.join("\n"));
});

Deno.test("a registered --op nick is an operator after logging in with the password", async () => {
  await using chat = await startOpServer({ op: ["Alice"] }, { alice: "secret123" });
  const alice = await loginWithPassword(chat, "alice", "secret123");
  await alice.waitFor("*** You are an operator here.");
  alice.send("/topic Operators welcome");
  await alice.waitFor("*** alice set the topic of main: Operators welcome");
});

Deno.test("an --op nick that is not registered is not an operator", async () => {
  await using chat = await startDbServer({ op: ["alice"] });
  const alice = await chat.login("alice");
  await chat.login("bob");
  alice.send("/kick bob");
  await alice.waitFor("*** Only operators may use /kick.");
  alice.send("/topic not mine to set");
  await alice.waitFor("*** Only operators may use /topic.");
  assert.ok(!alice.lines.includes("*** You are an operator here."));
  assert.equal(chat.server.store.topic("main"), undefined);
});

Deno.test("a registered nick not named by --op is not an operator", async () => {
  await using chat = await startDbServer({ op: ["alice"] });
  const bob = await register(chat, "bob", "secret123");
  await chat.login("carol");
  bob.send("/ban carol");
  await bob.waitFor("*** Only operators may use /ban.");
  bob.send("/look");
  await bob.waitFor(/^\*\*\* In main \(2\)/);
  assert.ok(!bob.lines.includes("*** You are an operator here."));
});

Deno.test("a non-operator gets a refusal for every operator command and nothing happens", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  const refusals: [string, string][] = [
    ["/kick alice", "kick"],
    ["/ban alice 1h", "ban"],
    ["/unban carol", "unban"],
    ["/mute alice", "mute"],
    ["/unmute alice", "unmute"],
    ["/topic mine now", "topic"],
  ];
  for (const [line, name] of refusals) {
    bob.send(line);
    await bob.waitFor(`*** Only operators may use /${name}.`);
  }
  const seen = await beforeMarker(alice);
  assert.ok(!seen.some((l) => /kicked|banned|muted|topic/.test(l)), seen.join("\n"));
  assert.ok(!chat.logs.some((l) => / moderation /.test(l)));
  assert.deepEqual(chat.server.store.bans(), []);
  assert.deepEqual(chat.server.store.mutes(), []);
});

Deno.test("/help lists the operator commands only to operators", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send("/help");
  await alice.waitFor(/^\*\*\*\s+\/kick <nick>/);
  bob.send("/help");
  const help = await bob.until(/^\*\*\* Any other line/);
  assert.ok(!help.some((l) => /\/kick|\/ban|\/mute|\/topic/.test(l)), help.join("\n"));
});

// ---- kick

Deno.test("/kick in a side room sends the user back to the main room, announced and logged", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  for (const c of [alice, bob, carol]) {
    c.send("/join side");
    await c.waitFor(`*** ${c === alice ? "alice" : c === bob ? "bob" : "carol"} has entered the room.`);
  }
  await alice.waitFor("*** carol has entered the room.");
  alice.send("/kick bob too loud");
  const announcement = "*** bob was kicked from side by alice: too loud";
  await alice.waitFor(announcement);
  await carol.waitFor(announcement);
  await bob.waitFor(announcement);
  await bob.waitFor("*** You were kicked from side by alice: too loud");
  await bob.waitFor("*** bob has entered the room.");
  bob.send("/look");
  await bob.waitFor(/^\*\*\* In main \(1\): bob$/);
  assert.equal(bob.ended, false);
  await carol.waitFor("*** bob has left the room.");
  assert.ok(logged(chat, "alice", /^bob was kicked from side by alice: too loud$/));
});

Deno.test("/kick in the main room disconnects the user", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  const closed = chat.event("close", (d) => d.session.nick === "bob");
  alice.send("/kick bob");
  await carol.waitFor("*** bob was kicked from main by alice.");
  await bob.waitFor("*** You were kicked by alice.");
  await bob.closed();
  assert.equal((await closed).reason, "kicked by alice");
  await carol.waitFor("*** bob has left the room.");
  assert.ok(logged(chat, "alice", /^bob was kicked from main by alice\.$/));
  carol.send("/who");
  await carol.waitFor("*** 2 logged in:");
});

Deno.test("/kick of a user in another room is announced in both rooms", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  bob.send("/join side");
  await bob.waitFor("*** bob has entered the room.");
  alice.send("/kick bob enough");
  await alice.waitFor("*** bob was kicked from side by alice: enough");
  await carol.waitFor("*** bob was kicked from side by alice: enough");
  await bob.waitFor("*** bob was kicked from side by alice: enough");
  await carol.waitFor("*** bob has entered the room.");
});

Deno.test("/kick refuses yourself and unknown nicks", async () => {
  const { chat, alice } = await room();
  await using _ = chat;
  alice.send("/kick alice");
  await alice.waitFor("*** You cannot kick yourself.");
  alice.send("/kick nobody");
  await alice.waitFor("*** No such user: nobody.");
  alice.send("/kick");
  await alice.waitFor(/^\*\*\* Usage: \/kick <nick> \[reason\.\.\.\]/);
});

// ---- ban and unban

Deno.test("/ban <nick> <duration> <reason> disconnects the user and refuses their login; /unban lifts it", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  alice.send("/ban Bob 2h spamming links");
  const announcement = new RegExp(`^\\*\\*\\* Bob is banned ${UNTIL} \\(2h from now\\) by alice: spamming links$`);
  await alice.waitFor(announcement);
  await carol.waitFor(announcement);
  await bob.waitFor(new RegExp(`^\\*\\*\\* You are banned ${UNTIL} \\(2h from now\\): spamming links$`));
  await bob.closed();
  assert.ok(logged(chat, "alice", /^Bob is banned until .* by alice: spamming links$/));
  const again = await chat.connect();
  again.send("login BOB");
  await again.waitFor(
    new RegExp(`^\\*\\*\\* The nick BOB is banned ${UNTIL} \\(2h from now\\): spamming links$`),
  );
  alice.send("/unban bob");
  await alice.waitFor("*** bob is no longer banned (by alice).");
  await carol.waitFor("*** bob is no longer banned (by alice).");
  assert.ok(logged(chat, "alice", /^bob is no longer banned \(by alice\)\.$/));
  again.send("login bob");
  await again.waitFor("*** bob has entered the room.");
});

Deno.test("/ban without a duration bans for good", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send("/ban bob");
  await alice.waitFor("*** bob is banned for good by alice.");
  await bob.waitFor("*** You are banned for good.");
  await bob.closed();
  const [ban] = chat.server.store.bans();
  assert.equal(ban.until, null);
  assert.equal(ban.reason, "");
});

Deno.test("a nick banned while its user is typing the password is still kept out", async () => {
  const { chat, alice } = await room();
  await using _ = chat;
  chat.server.store.saveAccount("dave", "dave", await hashPassword("davepass1"));
  const dave = await chat.connect();
  dave.send("login dave");
  await dave.waitFor(/\*\*\* dave is a registered nick\. Password:$/);
  alice.send("/ban dave 1h");
  await alice.waitFor(/^\*\*\* dave is banned until /);
  dave.send("davepass1");
  const answer = await dave.waitFor(/^\*\*\* (The nick dave is banned|dave has entered the room)/);
  assert.match(answer, /^\*\*\* The nick dave is banned until /);
});

Deno.test("/ban with a reason but no duration bans for good with that reason", async () => {
  const { chat, alice } = await room();
  await using _ = chat;
  alice.send("/ban mallory repeated abuse");
  await alice.waitFor("*** mallory is banned for good by alice: repeated abuse");
  const stranger = await chat.connect();
  stranger.send("login mallory");
  await stranger.waitFor("*** The nick mallory is banned for good: repeated abuse");
});

Deno.test("/ban refuses a number without a unit, yourself, and your own address", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send("/ban bob 10 spam");
  await alice.waitFor(`*** Cannot ban: "10" needs a unit: 30s, 10m, 2h, 1d or 1w.`);
  alice.send("/ban ALICE");
  await alice.waitFor("*** You cannot ban yourself.");
  alice.send("/ban 127.0.0.1");
  await alice.waitFor("*** You cannot ban your own address.");
  assert.deepEqual(chat.server.store.bans(), []);
  assert.equal(bob.ended, false);
});

Deno.test("/unban of a nick that is not banned says so", async () => {
  const { chat, alice } = await room();
  await using _ = chat;
  alice.send("/unban bob");
  await alice.waitFor("*** bob is not banned.");
});

Deno.test("/ban of an address disconnects everyone from it and refuses new connections from it", async () => {
  // dual-stack: the operator comes over IPv6 (::1), the others over IPv4 (::ffff:127.0.0.1)
  await using chat = await startOpServer({ op: ["alice"], host: "::" }, { alice: "secret123" });
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  const v4 = [...chat.server.sessions].find((s) => s.nick === "bob")!.ip;
  const alice = await connectTo("::1", chat.port);
  try {
    alice.send("login alice secret123");
    await alice.waitFor("*** You are an operator here.");
    alice.send(`/ban ${v4} 30m flood`);
    const announcement = new RegExp(`^\\*\\*\\* ${v4.replaceAll(".", "\\.")} is banned ${UNTIL} \\(30m from now\\)`);
    await alice.waitFor(announcement);
    for (const c of [bob, carol]) {
      await c.waitFor(new RegExp(`^\\*\\*\\* You are banned ${UNTIL} \\(30m from now\\): flood$`));
      await c.closed();
    }
    assert.ok(logged(chat, "alice", /is banned until .* by alice: flood$/));
    const refused = await chat.connect();
    await refused.waitFor(/^\*\*\* Your address is banned until .*: flood$/);
    await refused.closed();
    alice.send(`/unban ${v4}`);
    await alice.waitFor(`*** ${v4} is no longer banned (by alice).`);
    await chat.login("dave");
  } finally {
    alice.close();
    await alice.done;
  }
});

Deno.test("an address ban tells the room that an address was banned, never which: the operator and the log get it", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  alice.send("/ban 203.0.113.7 1h spam");
  const told = new RegExp(`^\\*\\*\\* An address is banned ${UNTIL} \\(1h from now\\) by alice: spam$`);
  for (const c of [bob, carol]) await c.waitFor(told);
  await alice.waitFor(new RegExp(`^\\*\\*\\* 203\\.0\\.113\\.7 is banned ${UNTIL} \\(1h from now\\) by alice: spam$`));
  alice.send("/ban 198.51.100.0/24");
  await bob.waitFor("*** A range of addresses is banned for good by alice.");
  await alice.waitFor("*** 198.51.100.0/24 is banned for good by alice.");
  alice.send("/unban 203.0.113.7");
  await bob.waitFor("*** An address is no longer banned (by alice).");
  await alice.waitFor("*** 203.0.113.7 is no longer banned (by alice).");
  for (const c of [bob, carol]) {
    const seen = await beforeMarker(c);
    assert.ok(!seen.some((l) => /203\.0\.113|198\.51\.100/.test(l)), seen.join("\n"));
  }
  assert.ok(logged(chat, "alice", /^203\.0\.113\.7 is banned until .* by alice: spam$/));
  assert.ok(logged(chat, "alice", /^198\.51\.100\.0\/24 is banned for good by alice\.$/));
  assert.ok(logged(chat, "alice", /^203\.0\.113\.7 is no longer banned \(by alice\)\.$/));
});

// ---- mute and unmute

Deno.test("a muted user's chat is refused with a message and nobody sees it; /unmute lets them talk again", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  alice.send("/mute bob");
  await alice.waitFor("*** bob is muted for good by alice.");
  await bob.waitFor("*** bob is muted for good by alice.");
  await carol.waitFor("*** bob is muted for good by alice.");
  assert.ok(logged(chat, "alice", /^bob is muted for good by alice\.$/));
  bob.send("anyone there?");
  await bob.waitFor("*** You are muted for good, so you cannot talk in rooms.");
  bob.send("/me shouts");
  await bob.waitFor("*** You are muted for good, so you cannot talk in rooms.");
  bob.send("/msg carol marker");
  const seen = await carol.until("[private] bob: marker");
  assert.ok(!seen.includes("bob: anyone there?"));
  assert.ok(!seen.includes("* bob shouts"));
  assert.deepEqual(chat.server.store.recent("main", 10), []);
  alice.send("/unmute BOB");
  await alice.waitFor("*** bob may talk again (unmuted by alice).");
  await bob.waitFor("*** bob may talk again (unmuted by alice).");
  assert.ok(logged(chat, "alice", /^bob may talk again \(unmuted by alice\)\.$/));
  bob.send("thanks");
  await carol.waitFor("bob: thanks");
});

Deno.test("/mute with a duration says until when, and a bad duration is refused", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send("/mute bob 10");
  await alice.waitFor(`*** "10" is not a duration: use 30s, 10m, 2h, 1d or 1w.`);
  alice.send("/mute bob 10m");
  await alice.waitFor(new RegExp(`^\\*\\*\\* bob is muted ${UNTIL} \\(10m from now\\) by alice\\.$`));
  bob.send("hello");
  await bob.waitFor(
    new RegExp(`^\\*\\*\\* You are muted ${UNTIL} \\(10m from now\\), so you cannot talk in rooms\\.$`),
  );
});

Deno.test("a muted user can still send private messages and use commands", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  alice.send("/mute bob");
  await bob.waitFor("*** bob is muted for good by alice.");
  bob.send("/msg carol psst");
  await carol.waitFor("[private] bob: psst");
  bob.send("/join side");
  await bob.waitFor("*** bob has entered the room.");
});

Deno.test("/unmute of a nick that is not muted says so", async () => {
  const { chat, alice } = await room();
  await using _ = chat;
  alice.send("/unmute bob");
  await alice.waitFor("*** bob is not muted.");
});

// ---- topic

Deno.test("/topic sets the room's topic, announced, logged and shown on entry; /topic alone clears it", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send("/topic Tea at five");
  await alice.waitFor("*** alice set the topic of main: Tea at five");
  await bob.waitFor("*** alice set the topic of main: Tea at five");
  assert.ok(logged(chat, "alice", /^alice set the topic of main: Tea at five$/));
  const dave = await chat.login("dave");
  await dave.waitFor("*** Topic of main: Tea at five (set by alice)");
  alice.send("/topic");
  await alice.waitFor("*** alice cleared the topic of main.");
  assert.ok(logged(chat, "alice", /^alice cleared the topic of main\.$/));
  const erin = await chat.login("erin");
  const seen = await beforeMarker(erin);
  assert.ok(!seen.some((l) => l.startsWith("*** Topic of")), seen.join("\n"));
});

Deno.test("a topic longer than 300 characters (the IRC door's TOPICLEN) is refused with both lengths, and not set", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send(`/topic ${"t".repeat(1000)}`);
  await alice.waitFor("*** A topic has at most 300 characters; this one has 1000. It was not set.");
  alice.send(`/topic ${"t".repeat(300)}`);
  await bob.waitFor(`*** alice set the topic of main: ${"t".repeat(300)}`);
});

Deno.test("topics are per room", async () => {
  const { chat, alice, bob } = await room();
  await using _ = chat;
  alice.send("/join side");
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/topic Side business");
  await alice.waitFor("*** alice set the topic of side: Side business");
  bob.send("/join side");
  await bob.waitFor("*** Topic of side: Side business (set by alice)");
  const dave = await chat.login("dave");
  const seen = await beforeMarker(dave);
  assert.ok(!seen.some((l) => l.startsWith("*** Topic of")), seen.join("\n"));
});

// ---- everything announced and logged

Deno.test("every operator action is announced in the room and logged", async () => {
  const { chat, alice, bob, carol } = await room();
  await using _ = chat;
  const actions: [string, string][] = [
    ["/topic Be nice", "alice set the topic of main: Be nice"],
    ["/mute carol 5m", "carol is muted until"],
    ["/unmute carol", "carol may talk again (unmuted by alice)."],
    ["/ban mallory 1d", "mallory is banned until"],
    ["/unban mallory", "mallory is no longer banned (by alice)."],
    ["/kick bob bye", "bob was kicked from main by alice: bye"],
  ];
  for (const [command, text] of actions) {
    alice.send(command);
    await carol.waitFor((l) => l.startsWith(`*** ${text}`));
    assert.ok(
      chat.logs.some((l) => / INFO moderation op=alice action="/.test(l) && l.includes(text)),
      `${command} is not in the log`,
    );
  }
  await bob.closed();
});
