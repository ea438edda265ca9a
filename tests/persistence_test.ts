import assert from "node:assert/strict";
import { startServer, type TestClient, type TestServer } from "./helpers.ts";
import { connectTo, loginWithPassword, logout, register, startDbServer, tempDir } from "./db_helpers.ts";
import { Store, type StoredMessage } from "../store.ts";
import { hashPassword } from "../accounts.ts";
import { HISTORY_LIMIT } from "../commands/chat.ts";
import type { ChatServerOptions } from "../server.ts";

const HISTORY = /^\[history (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\] (.*)$/;

/** Writes messages (and accounts) straight into a database file before a server opens it. */
async function seed(
  file: string,
  messages: StoredMessage[],
  accounts: Record<string, string> = {},
): Promise<void> {
  const store = Store.open(file);
  try {
    store.addMessages(messages);
    for (const [nick, password] of Object.entries(accounts)) {
      store.saveAccount(nick.toLowerCase(), nick, await hashPassword(password));
    }
  } finally {
    store.close();
  }
}

/** `count` chat lines "line 1".."line count" in `room`, one minute apart from `start`. */
function lines(room: string, count: number, start: number): StoredMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    room,
    at: start + i * 60_000,
    kind: "chat" as const,
    nick: "alice",
    text: `line ${i + 1}`,
  }));
}

/** The history lines a client received until (and without) the line matching `marker`. */
async function historyUntil(client: TestClient, marker: string | RegExp): Promise<string[]> {
  const got = await client.until(marker);
  return got.slice(0, -1).filter((l) => HISTORY.test(l)).map((l) => l.replace(HISTORY, "$2"));
}

/** Sends /look and returns the history lines that came before its answer. */
function historyBeforeLook(client: TestClient): Promise<string[]> {
  client.send("/look");
  return historyUntil(client, /^\*\*\* In /);
}

/** Shuts a server down and starts a new one on the same options (same database file). */
async function restart(chat: TestServer, options: ChatServerOptions): Promise<TestServer> {
  await chat.close();
  return await startDbServer(options);
}

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

// ---- history

Deno.test("room history survives a restart and is shown on entry, marked with its time", async () => {
  await using dir = await tempDir();
  const options = { db: `${dir.path}/chat.db` };
  let chat = await startDbServer(options);
  try {
    const alice = await chat.login("alice");
    const before = Date.now();
    alice.send("hello before the restart");
    await alice.waitFor("alice: hello before the restart");
    alice.send("/me pours tea");
    await alice.waitFor("* alice pours tea");
    const after = Date.now();
    chat = await restart(chat, options);
    const bob = await chat.login("bob");
    const first = await bob.waitFor(HISTORY);
    const second = await bob.waitFor(HISTORY);
    assert.match(first, /^\[history \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] alice: hello before the restart$/);
    assert.match(second, /^\[history [^\]]+\] \* alice pours tea$/);
    const at = Date.parse(first.replace(HISTORY, "$1").replace(" ", "T") + "Z");
    assert.ok(at >= Math.floor(before / 1000) * 1000 && at <= after, `history time ${first} is not when it was said`);
  } finally {
    await chat.close();
  }
});

Deno.test("history on entry is shown only to the one who enters", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", 3, T0));
  await using chat = await startDbServer({ db: file });
  const bob = await chat.login("bob");
  assert.deepEqual(await historyBeforeLook(bob), ["alice: line 1", "alice: line 2", "alice: line 3"]);
  await chat.login("carol");
  await bob.waitFor("*** carol has entered the room.");
  assert.deepEqual(await historyBeforeLook(bob), []);
});

Deno.test("without --db the same features work in memory", async () => {
  await using chat = await startDbServer();
  assert.equal(chat.server.store.path, "");
  const alice = await chat.login("alice");
  alice.send("kept in memory");
  await alice.waitFor("alice: kept in memory");
  const bob = await chat.login("bob");
  assert.deepEqual(await historyBeforeLook(bob), ["alice: kept in memory"]);
});

Deno.test("entering a room shows its last --history lines (default 20)", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", 25, T0));
  await using chat = await startDbServer({ db: file });
  const bob = await chat.login("bob");
  const shown = await historyBeforeLook(bob);
  assert.equal(shown.length, 20);
  assert.equal(shown[0], "alice: line 6");
  assert.equal(shown.at(-1), "alice: line 25");
});

Deno.test("with --history N only the last N lines are shown on entry, oldest first", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", 10, T0));
  await using chat = await startDbServer({ db: file, history: 3 });
  const bob = await chat.login("bob");
  assert.deepEqual(await historyBeforeLook(bob), ["alice: line 8", "alice: line 9", "alice: line 10"]);
  assert.ok(bob.lines.includes("[history 2025-01-01 12:09:00] alice: line 10"));
});

Deno.test("with --history 0 no history is shown on entry, but /history still works", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", 25, T0));
  await using chat = await startDbServer({ db: file, history: 0 });
  const bob = await chat.login("bob");
  assert.deepEqual(await historyBeforeLook(bob), []);
  bob.send("/history");
  assert.equal((await historyUntil(bob, /^\*\*\* End of history/)).length, 20);
});

Deno.test("/history n shows the last n lines of the room", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", 30, T0));
  await using chat = await startDbServer({ db: file, history: 2 });
  const bob = await chat.login("bob");
  await historyBeforeLook(bob);
  bob.send("/history 7");
  await bob.waitFor("*** History of main:");
  const shown = await historyUntil(bob, "*** End of history (7 lines).");
  assert.deepEqual(shown, [24, 25, 26, 27, 28, 29, 30].map((n) => `alice: line ${n}`));
});

Deno.test("/history without a count shows --history lines", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", 30, T0));
  await using chat = await startDbServer({ db: file, history: 4 });
  const bob = await chat.login("bob");
  await historyBeforeLook(bob);
  bob.send("/history");
  assert.deepEqual(await historyUntil(bob, "*** End of history (4 lines)."), [
    "alice: line 27",
    "alice: line 28",
    "alice: line 29",
    "alice: line 30",
  ]);
});

Deno.test(`/history shows at most ${HISTORY_LIMIT} lines`, async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", HISTORY_LIMIT + 50, T0));
  await using chat = await startDbServer({ db: file, history: 1 });
  const bob = await chat.login("bob");
  await historyBeforeLook(bob);
  bob.send("/history 1000");
  const shown = await historyUntil(bob, `*** End of history (${HISTORY_LIMIT} lines).`);
  assert.equal(shown.length, HISTORY_LIMIT);
  assert.equal(shown[0], "alice: line 51");
  assert.equal(shown.at(-1), `alice: line ${HISTORY_LIMIT + 50}`);
});

Deno.test("/history n before <time> pages back through older lines", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, lines("main", 30, T0)); // line k at 12:(k-1):00
  await using chat = await startDbServer({ db: file, history: 5 });
  const bob = await chat.login("bob");
  const entry = await historyBeforeLook(bob);
  assert.deepEqual(entry, [26, 27, 28, 29, 30].map((n) => `alice: line ${n}`));
  // page back from the oldest line shown, as a user would copy it from the history line
  const oldest = bob.lines.find((l) => l.endsWith("] alice: line 26"))!.replace(HISTORY, "$1");
  assert.equal(oldest, "2025-01-01 12:25:00");
  bob.send(`/history 10 before ${oldest}`);
  await bob.waitFor("*** History of main before 2025-01-01 12:25:00 UTC:");
  assert.deepEqual(
    await historyUntil(bob, "*** End of history (10 lines)."),
    [16, 17, 18, 19, 20, 21, 22, 23, 24, 25].map((n) => `alice: line ${n}`),
  );
  bob.send("/history 10 before 2025-01-01 12:15:00");
  assert.deepEqual(
    await historyUntil(bob, "*** End of history (10 lines)."),
    [6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((n) => `alice: line ${n}`),
  );
  bob.send("/history 10 before 2025-01-01 12:05");
  assert.deepEqual(
    await historyUntil(bob, "*** End of history (5 lines)."),
    [1, 2, 3, 4, 5].map((n) => `alice: line ${n}`),
  );
  bob.send("/history 10 before 2025-01-01 12:00:00");
  await bob.waitFor("*** No history there.");
});

Deno.test("/history refuses a bad count or an unreadable time", async () => {
  await using chat = await startDbServer();
  const bob = await chat.login("bob");
  bob.send("/history many");
  await bob.waitFor(`*** "many" is not a number of lines (1-${HISTORY_LIMIT}).`);
  bob.send("/history 0");
  await bob.waitFor(`*** "0" is not a number of lines (1-${HISTORY_LIMIT}).`);
  bob.send("/history 5 before yesterday");
  await bob.waitFor(/^\*\*\* Cannot read "before yesterday": write before YYYY-MM-DD HH:MM\[:SS\] \(UTC\)/);
  // A date or time that does not exist is refused, not rolled over into the next month or day.
  for (const time of ["2026-02-30 00:00", "2026-04-31", "2026-01-01 24:00", "2026-01-01 12:60", "2025-02-29 12:00"]) {
    bob.send(`/history 5 before ${time}`);
    await bob.waitFor((l) => l.startsWith(`*** Cannot read "before ${time}"`) || l.startsWith("*** History of main"));
    assert.ok(bob.lines.at(-1)!.startsWith(`*** Cannot read "before ${time}"`), bob.lines.at(-1));
  }
  bob.send("/history 5 before 2024-02-29 12:00"); // a leap day is a day
  await bob.waitFor(/^\*\*\* (No history there\.|History of main before 2024-02-29 12:00:00 UTC:)$/);
});

Deno.test("history is per room: /join shows that room's lines and not the others'", async () => {
  await using dir = await tempDir();
  await using chat = await startDbServer({ db: `${dir.path}/chat.db` });
  const alice = await chat.login("alice");
  alice.send("said in main");
  await alice.waitFor("alice: said in main");
  alice.send("/join side");
  await alice.waitFor("*** alice has entered the room.");
  assert.deepEqual(await historyBeforeLook(alice), []);
  alice.send("said in side");
  await alice.waitFor("alice: said in side");
  const bob = await chat.login("bob");
  assert.deepEqual(await historyBeforeLook(bob), ["alice: said in main"]);
  bob.send("/join Side");
  await bob.waitFor("*** bob has entered the room.");
  assert.deepEqual(await historyBeforeLook(bob), ["alice: said in side"]);
  bob.send("/leave");
  await bob.waitFor("*** bob has entered the room.");
  assert.deepEqual(await historyBeforeLook(bob), [], "lines seen before leaving the room are not replayed");
  bob.send("/history 50");
  assert.deepEqual(await historyUntil(bob, /^\*\*\* End of history/), ["alice: said in main"]);
});

Deno.test("shutdown closes the database (the WAL is checkpointed and removed)", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const chat = await startServer({ db: file });
  let walLeft: boolean;
  try {
    const alice = await chat.login("alice");
    alice.send("hello");
    await alice.waitFor("alice: hello");
    assert.ok((await Deno.stat(`${file}-wal`)).isFile);
  } finally {
    await chat.close();
    walLeft = await Deno.stat(`${file}-wal`).then(() => true, () => false);
    chat.server.store.close();
  }
  assert.equal(walLeft, false, "the database was left open at shutdown");
});

// ---- accounts and mail

Deno.test("a registered nick survives a restart: login asks for the password", async () => {
  await using dir = await tempDir();
  const options = { db: `${dir.path}/chat.db` };
  let chat = await startDbServer(options);
  try {
    await register(chat, "alice", "secret123");
    chat = await restart(chat, options);
    const alice = await chat.connect();
    await alice.waitFor(/Log in with/);
    alice.send("login alice");
    await alice.waitFor(/\*\*\* alice is a registered nick\. Password:$/);
    alice.send("wrongpass");
    await alice.waitFor(/^\*\*\* Wrong password for alice; try again/);
    alice.send("secret123");
    await alice.waitFor("*** alice has entered the room.");
  } finally {
    await chat.close();
  }
});

Deno.test("a private message to an offline registered user is stored and delivered at their next login", async () => {
  await using dir = await tempDir();
  const options = { db: `${dir.path}/chat.db` };
  let chat = await startDbServer(options);
  try {
    await logout(await register(chat, "alice", "secret123"));
    const bob = await chat.login("bob");
    bob.send("/msg alice are you there?");
    await bob.waitFor("*** alice is offline; your message will be delivered when they next log in.");
    bob.send("@ALICE second note");
    await bob.waitFor("*** alice is offline; your message will be delivered when they next log in.");
    chat = await restart(chat, options);
    const alice = await loginWithPassword(chat, "alice", "secret123");
    await alice.waitFor("*** You have 2 messages from while you were away:");
    assert.match(
      await alice.waitFor(/^\[mail /),
      /^\[mail \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] bob: are you there\?$/,
    );
    assert.match(await alice.waitFor(/^\[mail /), /^\[mail [^\]]+\] bob: second note$/);
    await logout(alice);
    const again = await loginWithPassword(chat, "alice", "secret123");
    again.send("/look");
    const got = await again.until(/^\*\*\* In main/);
    assert.ok(!got.some((l) => /while you were away|^\[mail /.test(l)), "mail was delivered twice");
  } finally {
    await chat.close();
  }
});

Deno.test("mail is not delivered to someone who logs in without the password", async () => {
  await using dir = await tempDir();
  await using chat = await startDbServer({ db: `${dir.path}/chat.db` });
  await logout(await register(chat, "alice", "secret123"));
  const bob = await chat.login("bob");
  bob.send("/msg alice private words");
  await bob.waitFor(/^\*\*\* alice is offline/);
  const guest = await chat.connect();
  guest.send("login alice wrongpass");
  await guest.waitFor(/^\*\*\* Wrong password for alice/);
  assert.ok(!guest.lines.some((l) => l.includes("private words")));
  const alice = await loginWithPassword(chat, "alice", "secret123");
  await alice.waitFor(/^\[mail [^\]]+\] bob: private words$/);
});

Deno.test("a private message to an online user is not stored as mail", async () => {
  await using chat = await startDbServer();
  const alice = await register(chat, "alice", "secret123");
  const bob = await chat.login("bob");
  bob.send("/msg alice live");
  await alice.waitFor("[private] bob: live");
  assert.deepEqual(chat.server.store.takeMail("alice"), []);
});

Deno.test("a private message to an offline unregistered nick is refused, not stored", async () => {
  await using chat = await startDbServer();
  const bob = await chat.login("bob");
  bob.send("/msg carol hello?");
  await bob.waitFor("*** No such user: carol.");
  assert.deepEqual(chat.server.store.takeMail("carol"), []);
});

// ---- moderation state

Deno.test("a nick ban survives a restart: the banned nick is refused", async () => {
  await using dir = await tempDir();
  const options = { db: `${dir.path}/chat.db`, op: ["alice"] };
  await seed(options.db, [], { alice: "secret123" });
  let chat = await startDbServer(options);
  try {
    const alice = await loginWithPassword(chat, "alice", "secret123");
    alice.send("/ban bob 2h spamming");
    await alice.waitFor(/^\*\*\* bob is banned until .* by alice: spamming$/);
    chat = await restart(chat, options);
    const bob = await chat.connect();
    bob.send("login bob");
    await bob.waitFor(
      /^\*\*\* The nick bob is banned until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC \(2h from now\): spamming$/,
    );
    const op = await loginWithPassword(chat, "alice", "secret123");
    op.send("/unban bob");
    await op.waitFor("*** bob is no longer banned (by alice).");
    chat = await restart(chat, options);
    await chat.login("bob");
  } finally {
    await chat.close();
  }
});

Deno.test("an IP ban of 127.0.0.1 survives a restart and refuses new connections", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await seed(file, [], { alice: "secret123" });
  // the operator connects over IPv6, so that 127.0.0.1 is not their own address
  const first = await startDbServer({ db: file, op: ["alice"], host: "::1" });
  try {
    const op = await connectTo("::1", first.port);
    try {
      op.send("login alice secret123");
      await op.waitFor("*** You are an operator here.");
      op.send("/ban 127.0.0.1 1d flooding");
      await op.waitFor(/^\*\*\* 127\.0\.0\.1 is banned until .* \(1d from now\) by alice: flooding$/);
    } finally {
      op.close();
      await op.done;
    }
  } finally {
    await first.close();
  }
  await using chat = await startDbServer({ db: file });
  const refused = chat.event("refuse");
  const client = await chat.connect();
  await client.waitFor(/^\*\*\* Your address is banned until .* UTC \(.*\): flooding$/);
  await client.closed();
  assert.equal((await refused).ip, "127.0.0.1");
  assert.ok(chat.logs.some((l) => /WARN refused ip=127\.0\.0\.1/.test(l)));
  assert.equal(chat.server.sessions.size, 0);
});

Deno.test("a mute survives a restart: the muted user's chat is refused and nobody sees it", async () => {
  await using dir = await tempDir();
  const options = { db: `${dir.path}/chat.db`, op: ["alice"] };
  await seed(options.db, [], { alice: "secret123" });
  let chat = await startDbServer(options);
  try {
    const alice = await loginWithPassword(chat, "alice", "secret123");
    alice.send("/mute bob");
    await alice.waitFor("*** bob is muted for good by alice.");
    chat = await restart(chat, options);
    const carol = await chat.login("carol");
    const bob = await chat.login("bob");
    bob.send("can anyone hear me");
    await bob.waitFor("*** You are muted for good, so you cannot talk in rooms.");
    bob.send("/msg carol marker");
    const got = await carol.until("[private] bob: marker");
    assert.ok(!got.includes("bob: can anyone hear me"));
    assert.deepEqual(chat.server.store.recent("main", 10), []);
  } finally {
    await chat.close();
  }
});

Deno.test("a topic survives a restart and is shown on entry", async () => {
  await using dir = await tempDir();
  const options = { db: `${dir.path}/chat.db`, op: ["alice"] };
  await seed(options.db, [], { alice: "secret123" });
  let chat = await startDbServer(options);
  try {
    const alice = await loginWithPassword(chat, "alice", "secret123");
    alice.send("/topic Tea at five");
    await alice.waitFor("*** alice set the topic of main: Tea at five");
    chat = await restart(chat, options);
    const bob = await chat.login("bob");
    await bob.waitFor("*** Topic of main: Tea at five (set by alice)");
  } finally {
    await chat.close();
  }
});
