import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  APPLICATION_ID,
  explain,
  MEMORY_KEEP,
  SCHEMA_VERSION,
  Store,
  type StoredMessage,
  StoreError,
} from "../store.ts";
import { checkPassword, hashPassword, PASSWORD_LENGTH, verifyPassword } from "../accounts.ts";
import { describeUntil, formatDuration, isAddress, Moderation, parseDuration } from "../moderation.ts";

/** A fresh temporary folder, removed (with everything in it) when disposed. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "teaparty_store_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Opens a store that is closed when disposed. */
function open(path: string, options?: { maxPageCount?: number }): Store & Disposable {
  const store = Store.open(path, options);
  return Object.assign(store, { [Symbol.dispose]: () => store.close() });
}

/** Reads one PRAGMA (or any one-value query) through a separate connection. */
function pragma(path: string, sql: string): unknown {
  const db = new DatabaseSync(path);
  try {
    const row = db.prepare(sql).get();
    return row ? Object.values(row)[0] : undefined;
  } finally {
    db.close();
  }
}

/** Runs `fn` and returns the StoreError it throws (failing if it throws anything else or nothing). */
function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${error}`);
    return error;
  }
  assert.fail("expected a StoreError, but nothing was thrown");
}

function message(room: string, at: number, text: string, nick = "alice"): StoredMessage {
  return { room, at, kind: "chat", nick, text };
}

// ---- opening, migrations and refusals

Deno.test("Store.open with an empty path keeps everything in memory with every feature", () => {
  using store = open("");
  assert.equal(store.path, "");
  store.addMessages([message("main", 1000, "hello")]);
  store.saveAccount("alice", "Alice", "scrypt$x");
  store.addMail("bob", "Alice", "hi");
  store.saveTopic({ room: "main", text: "tea", by: "Alice", at: 1 });
  assert.equal(store.recent("main", 10)[0].text, "hello");
  assert.equal(store.account("alice")?.nick, "Alice");
  assert.equal(store.takeMail("bob").length, 1);
  assert.equal(store.topic("main")?.text, "tea");
});

Deno.test("two in-memory stores do not share data", () => {
  using one = open("");
  using two = open("");
  one.addMessages([message("main", 1, "only in one")]);
  assert.deepEqual(two.recent("main", 10), []);
});

Deno.test("Store.open on a new file creates it and sets user_version and application_id", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const store = Store.open(file);
  assert.equal(store.path, file);
  store.close();
  assert.ok((await Deno.stat(file)).isFile);
  assert.equal(Number(pragma(file, "PRAGMA user_version")), SCHEMA_VERSION);
  assert.ok(SCHEMA_VERSION >= 1);
  assert.equal(Number(pragma(file, "PRAGMA application_id")), APPLICATION_ID);
});

Deno.test("migrations create the tables of the schema", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  Store.open(file).close();
  const db = new DatabaseSync(file);
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
      .map((r) => String(r.name));
    for (const t of ["accounts", "bans", "mail", "messages", "mutes", "topics"]) {
      assert.ok(tables.includes(t), `table ${t} missing from ${tables.join(", ")}`);
    }
  } finally {
    db.close();
  }
});

Deno.test("a database file is in WAL mode", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  using store = open(file);
  store.addMessages([message("main", 1, "x")]);
  assert.equal(String(pragma(file, "PRAGMA journal_mode")).toLowerCase(), "wal");
  assert.ok((await Deno.stat(`${file}-wal`)).isFile, "no -wal file next to the database");
});

Deno.test("reopening a database file keeps its data and does not migrate twice", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  {
    using store = open(file);
    store.addMessages([message("main", 1000, "first"), message("main", 2000, "second")]);
    store.saveAccount("alice", "Alice", "scrypt$hash");
    store.addMail("bob", "Alice", "waiting");
    store.saveBan({ kind: "nick", value: "mallory", until: null, reason: "spam", by: "Alice", at: 5 });
    store.saveMute({ key: "eve", until: 99, by: "Alice" });
    store.saveTopic({ room: "main", text: "Tea time", by: "Alice", at: 7 });
  }
  using again = open(file);
  assert.deepEqual(again.recent("main", 10).map((m) => m.text), ["first", "second"]);
  assert.deepEqual(nickAndHash(again.account("alice")), { nick: "Alice", hash: "scrypt$hash" });
  assert.deepEqual(again.takeMail("bob").map((m) => m.text), ["waiting"]);
  assert.deepEqual(again.bans().map((b) => b.value), ["mallory"]);
  assert.deepEqual(again.mutes(), [{ key: "eve", until: 99, by: "Alice" }]);
  assert.equal(again.topic("main")?.text, "Tea time");
  assert.equal(Number(pragma(file, "PRAGMA user_version")), SCHEMA_VERSION);
});

Deno.test("a garbage file is refused with a StoreError saying it is not an SQLite database", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.txt`;
  await Deno.writeTextFile(file, "These are my notes, not a database.\n".repeat(200));
  const error = storeError(() => Store.open(file));
  assert.match(error.message, /not an SQLite database/);
  assert.match(error.message, /notes\.txt/);
  // the file was left alone
  assert.equal(await Deno.readTextFile(file), "These are my notes, not a database.\n".repeat(200));
});

Deno.test("a short garbage file is refused too", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/short`;
  await Deno.writeTextFile(file, "hello");
  assert.match(storeError(() => Store.open(file)).message, /not an SQLite database/);
});

Deno.test("an SQLite database of another program is refused and left untouched", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/other.db`;
  const db = new DatabaseSync(file);
  db.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices (amount) VALUES (9.5);");
  db.close();
  const error = storeError(() => Store.open(file));
  assert.match(error.message, /another program/);
  assert.match(error.message, /invoices/);
  assert.equal(Number(pragma(file, "PRAGMA user_version")), 0);
  assert.equal(Number(pragma(file, "PRAGMA application_id")), 0);
  assert.equal(Number(pragma(file, "SELECT count(*) FROM sqlite_master WHERE name = 'messages'")), 0);
});

Deno.test("an empty SQLite database with another program's user_version is refused", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/other.db`;
  const db = new DatabaseSync(file);
  db.exec("PRAGMA user_version = 7");
  db.close();
  assert.match(storeError(() => Store.open(file)).message, /another program/);
});

Deno.test("a database from a newer teaparty (higher user_version) is refused", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  Store.open(file).close();
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const error = storeError(() => Store.open(file));
  assert.match(error.message, /newer teaparty/);
  assert.match(error.message, new RegExp(`schema version ${SCHEMA_VERSION + 1}`));
  assert.equal(Number(pragma(file, "PRAGMA user_version")), SCHEMA_VERSION + 1);
});

Deno.test("a read-only database file is refused with a StoreError saying it is read-only", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  Store.open(file).close();
  await Deno.chmod(file, 0o444);
  try {
    const error = storeError(() => Store.open(file));
    assert.match(error.message, /read-only/);
    assert.match(error.message, /chat\.db/);
  } finally {
    await Deno.chmod(file, 0o644);
  }
});

Deno.test("a directory given as the database is refused with a StoreError", async () => {
  await using dir = await tempDir();
  assert.match(storeError(() => Store.open(dir.path)).message, /not a file/);
});

// ---- history

Deno.test("recent returns the last messages of one room, oldest first, with their ids", () => {
  using store = open("");
  const batch = [
    message("main", 1000, "one"),
    message("side", 1500, "elsewhere"),
    message("main", 2000, "two"),
    { ...message("main", 3000, "waves"), kind: "action" as const },
  ];
  store.addMessages(batch);
  assert.ok(batch.every((m) => typeof m.id === "number" && m.id > 0));
  assert.deepEqual(store.recent("main", 2), [
    { id: batch[2].id, room: "main", at: 2000, kind: "chat", nick: "alice", text: "two" },
    { id: batch[3].id, room: "main", at: 3000, kind: "action", nick: "alice", text: "waves" },
  ]);
  assert.deepEqual(store.recent("side", 10).map((m) => m.text), ["elsewhere"]);
  assert.deepEqual(store.recent("nowhere", 10), []);
});

Deno.test("recent with before returns only messages said strictly earlier", () => {
  using store = open("");
  store.addMessages([1000, 2000, 3000, 4000, 5000].map((at) => message("main", at, `at ${at}`)));
  assert.deepEqual(store.recent("main", 2, 4000).map((m) => m.text), ["at 2000", "at 3000"]);
  assert.deepEqual(store.recent("main", 10, 1000), []);
});

Deno.test("a failed batch is rolled back as a whole (an SQLite file)", async () => {
  await using dir = await tempDir();
  using store = open(`${dir.path}/chat.db`);
  store.addMessages([message("main", 1, "kept")]);
  const bad = { ...message("main", 2, "lost"), text: null as unknown as string };
  assert.throws(() => store.addMessages([message("main", 2, "also lost"), bad]));
  assert.deepEqual(store.recent("main", 10).map((m) => m.text), ["kept"]);
  store.addMessages([message("main", 3, "after")]);
  assert.deepEqual(store.recent("main", 10).map((m) => m.text), ["kept", "after"]);
});

Deno.test("a full database refuses a write with an error explained as a full disk, and keeps what it had", async () => {
  await using dir = await tempDir();
  using store = open(`${dir.path}/chat.db`, { maxPageCount: 1 });
  let stored = 0;
  let failure: unknown;
  for (let i = 0; i < 1000 && failure === undefined; i++) {
    try {
      store.addMessages([message("main", i, `${i} ${"x".repeat(500)}`)]);
      stored++;
    } catch (error) {
      failure = error;
    }
  }
  assert.ok(failure !== undefined, "the database never filled up");
  assert.equal(explain(failure), "the disk is full");
  assert.equal(store.recent("main", 1000).length, stored);
  // still readable and usable for things that need no new page
  assert.equal(store.account("nobody"), undefined);
});

Deno.test("explain turns SQLite errors into sentences for the operator", () => {
  assert.match(explain(Object.assign(new Error("file is not a database"), { errcode: 26 })), /not an SQLite database/);
  assert.match(explain(Object.assign(new Error("attempt to write a readonly database"), { errcode: 8 })), /read-only/);
  assert.match(explain(Object.assign(new Error("database or disk is full"), { errcode: 13 })), /disk is full/);
  assert.match(explain(new Error("database disk image is malformed")), /corrupt/);
  assert.equal(explain(new Error("something else")), "something else");
});

// ---- accounts, mail, bans, mutes, topics

Deno.test("accounts: saveAccount registers a nick and replaces only the hash later", () => {
  using store = open("");
  assert.equal(store.account("alice"), undefined);
  store.saveAccount("alice", "Alice", "hash1");
  assert.deepEqual(nickAndHash(store.account("alice")), { nick: "Alice", hash: "hash1" });
  const created = store.account("alice")!.created;
  store.saveAccount("alice", "ALICE", "hash2");
  assert.deepEqual(nickAndHash(store.account("alice")), { nick: "Alice", hash: "hash2" });
  assert.equal(store.account("alice")!.created, created, "a new password is the same account");
});

Deno.test("mail: takeMail returns a user's mail oldest first and deletes it", () => {
  using store = open("");
  store.addMail("bob", "alice", "first", 1000);
  store.addMail("carol", "alice", "for carol", 1500);
  store.addMail("bob", "dave", "second", 2000);
  const mail = store.takeMail("bob");
  assert.deepEqual(mail.map(({ to, from, at, text }) => ({ to, from, at, text })), [
    { to: "bob", from: "alice", at: 1000, text: "first" },
    { to: "bob", from: "dave", at: 2000, text: "second" },
  ]);
  assert.ok(mail[0].id < mail[1].id);
  assert.deepEqual(store.takeMail("bob"), []);
  assert.equal(store.takeMail("carol").length, 1);
});

Deno.test("bans: saved, replaced, listed and removed by kind and value", () => {
  using store = open("");
  store.saveBan({ kind: "nick", value: "mallory", until: null, reason: "", by: "alice", at: 1 });
  store.saveBan({ kind: "ip", value: "10.0.0.1", until: 5000, reason: "flood", by: "alice", at: 2 });
  store.saveBan({ kind: "nick", value: "mallory", until: 9000, reason: "spam", by: "bob", at: 3 });
  const bans = store.bans().sort((a, b) => a.at - b.at);
  assert.deepEqual(bans, [
    { kind: "ip", value: "10.0.0.1", until: 5000, reason: "flood", by: "alice", at: 2 },
    { kind: "nick", value: "mallory", until: 9000, reason: "spam", by: "bob", at: 3 },
  ]);
  assert.equal(store.removeBan("ip", "mallory"), false);
  assert.equal(store.removeBan("nick", "mallory"), true);
  assert.equal(store.removeBan("nick", "mallory"), false);
  assert.deepEqual(store.bans().map((b) => b.value), ["10.0.0.1"]);
});

Deno.test("mutes: saved with or without an end, and removed", () => {
  using store = open("");
  store.saveMute({ key: "eve", until: null, by: "alice" });
  store.saveMute({ key: "trudy", until: 1234, by: "bob" });
  assert.deepEqual(store.mutes().sort((a, b) => a.key.localeCompare(b.key)), [
    { key: "eve", until: null, by: "alice" },
    { key: "trudy", until: 1234, by: "bob" },
  ]);
  assert.equal(store.removeMute("eve"), true);
  assert.equal(store.removeMute("eve"), false);
  assert.deepEqual(store.mutes().map((m) => m.key), ["trudy"]);
});

Deno.test("topics: set, replaced, per room, and cleared with an empty text", () => {
  using store = open("");
  store.saveTopic({ room: "main", text: "Tea", by: "alice", at: 1 });
  store.saveTopic({ room: "main", text: "Coffee", by: "bob", at: 2 });
  store.saveTopic({ room: "side", text: "Side talk", by: "alice", at: 3 });
  assert.deepEqual(store.topic("main"), { room: "main", text: "Coffee", by: "bob", at: 2 });
  assert.equal(store.topic("side")?.text, "Side talk");
  store.saveTopic({ room: "main", text: "", by: "alice", at: 4 });
  assert.equal(store.topic("main"), undefined);
  assert.equal(store.topic("side")?.text, "Side talk");
});

Deno.test("transaction commits on success and rolls back when the function throws", () => {
  using store = open("");
  assert.equal(store.transaction(() => (store.saveAccount("a", "a", "h"), 42)), 42);
  assert.throws(() =>
    store.transaction(() => {
      store.saveAccount("b", "b", "h");
      throw new Error("changed my mind");
    }), /changed my mind/);
  assert.ok(store.account("a"));
  assert.equal(store.account("b"), undefined);
});

// ---- accounts.ts

Deno.test("hashPassword makes a salted scrypt hash that verifyPassword accepts", async () => {
  const hash = await hashPassword("correct horse");
  assert.match(hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword("correct horse", hash), true);
});

Deno.test("verifyPassword refuses a wrong password", async () => {
  const hash = await hashPassword("correct horse");
  assert.equal(await verifyPassword("correct horsE", hash), false);
  assert.equal(await verifyPassword("", hash), false);
});

Deno.test("a password hash contains no trace of the plaintext", async () => {
  const password = "plaintext-secret";
  const hash = await hashPassword(password);
  assert.ok(!hash.includes(password));
  assert.ok(!hash.includes(btoa(password)));
  assert.ok(!hash.includes(Array.from(new TextEncoder().encode(password), (b) => b.toString(16)).join("")));
});

Deno.test("two hashes of the same password differ (random salt) and both verify", async () => {
  const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
  assert.notEqual(a, b);
  assert.notEqual(a.split("$")[4], b.split("$")[4]);
  assert.equal(await verifyPassword("same password", a), true);
  assert.equal(await verifyPassword("same password", b), true);
});

Deno.test("verifyPassword returns false for a malformed stored hash", async () => {
  assert.equal(await verifyPassword("x", "not a hash"), false);
  assert.equal(await verifyPassword("x", "bcrypt$1$2$3$4$5"), false);
});

Deno.test("checkPassword refuses too short and too long passwords", () => {
  assert.match(checkPassword("a".repeat(PASSWORD_LENGTH.min - 1)) ?? "", /at least 6/);
  assert.equal(checkPassword("a".repeat(PASSWORD_LENGTH.min)), undefined);
  assert.equal(checkPassword("🍵".repeat(PASSWORD_LENGTH.min)), undefined);
  assert.equal(checkPassword("a".repeat(PASSWORD_LENGTH.max)), undefined);
  assert.match(checkPassword("a".repeat(PASSWORD_LENGTH.max + 1)) ?? "", /at most 128/);
});

Deno.test("parseDuration reads s, m, h, d, w and combinations", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration("1w"), 604_800_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1H30M"), 5_400_000);
});

Deno.test("parseDuration returns undefined for anything that is not a positive duration", () => {
  for (const text of ["", "10", "h", "1x", "1h30", "spam", "0s", "0m0s", "-1h", "1.5h", " 1h"]) {
    assert.equal(parseDuration(text), undefined, `parseDuration(${JSON.stringify(text)})`);
  }
});

Deno.test("formatDuration writes the largest units first and rounds to seconds", () => {
  assert.equal(formatDuration(5_400_000), "1h30m");
  assert.equal(formatDuration(30_000), "30s");
  assert.equal(formatDuration(604_800_000 + 86_400_000 + 3_600_000 + 60_000 + 1000), "1w1d1h1m1s");
  assert.equal(formatDuration(3_599_600), "1h");
  assert.equal(formatDuration(0), "1s");
  for (const text of ["45m", "2h", "1d2h", "1w3d"]) assert.equal(formatDuration(parseDuration(text)!), text);
});

Deno.test("describeUntil says for good, or the end time and how far off it is", () => {
  assert.equal(describeUntil(null), "for good");
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  assert.equal(describeUntil(now + 3_600_000, now), "until 2026-01-02 04:04:05 UTC (1h from now)");
});

Deno.test("isAddress recognises IPv4 and IPv6 addresses but not nicks", () => {
  for (const a of ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::1", "::ffff:127.0.0.1"]) {
    assert.equal(isAddress(a), true, a);
  }
  for (const n of ["alice", "bob.b", "cafe", "dead.beef", "a1.2.3.4", "1.2.3", "x[1]"]) {
    assert.equal(isAddress(n), false, n);
  }
});

Deno.test("Moderation loads stored bans and mutes and drops them once expired", () => {
  using store = open("");
  store.saveBan({ kind: "nick", value: "mallory", until: 5000, reason: "spam", by: "alice", at: 1 });
  store.saveBan({ kind: "ip", value: "10.0.0.1", until: null, reason: "", by: "alice", at: 1 });
  store.saveMute({ key: "eve", until: 5000, by: "alice" });
  const moderation = new Moderation(store);
  assert.equal(moderation.banned("nick", "mallory", 4999)?.reason, "spam");
  assert.equal(moderation.banned("ip", "10.0.0.1", 1e15)?.until, null);
  assert.equal(moderation.banned("ip", "10.0.0.2", 0), undefined);
  assert.equal(moderation.muted("eve", 4999)?.by, "alice");
  assert.equal(moderation.banned("nick", "mallory", 5000), undefined);
  assert.equal(moderation.muted("eve", 5000), undefined);
  assert.deepEqual(store.bans().map((b) => b.value), ["10.0.0.1"]);
  assert.deepEqual(store.mutes(), []);
});

Deno.test("Moderation writes bans and mutes through to the store", () => {
  using store = open("");
  const moderation = new Moderation(store);
  moderation.ban({ kind: "nick", value: "mallory", until: null, reason: "", by: "alice", at: 1 });
  moderation.mute({ key: "eve", until: null, by: "alice" });
  assert.deepEqual(new Moderation(store).banned("nick", "mallory")?.by, "alice");
  assert.ok(new Moderation(store).muted("eve"));
  assert.equal(moderation.unban("nick", "mallory"), true);
  assert.equal(moderation.unban("nick", "mallory"), false);
  assert.equal(moderation.unmute("eve"), true);
  assert.equal(moderation.unmute("eve"), false);
  assert.deepEqual(store.bans(), []);
  assert.deepEqual(store.mutes(), []);
});

Deno.test("a store with keep N trims each room to its newest N lines", () => {
  const store = Store.open("", { keep: 8 });
  try {
    const at = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 50; i++) {
      store.addMessages([
        { room: "busy", at: at + i, kind: "chat", nick: "a", text: `b${i}` },
        ...(i < 3 ? [{ room: "quiet", at: at + i, kind: "chat" as const, nick: "q", text: `q${i}` }] : []),
      ]);
    }
    const busy = store.recent("busy", 100).map((m) => m.text);
    assert.ok(busy.length >= 8 && busy.length < 8 + 2, `kept ${busy.length}`);
    assert.deepEqual(busy.slice(-8), ["b42", "b43", "b44", "b45", "b46", "b47", "b48", "b49"]);
    assert.deepEqual(store.recent("quiet", 100).map((m) => m.text), ["q0", "q1", "q2"]);
  } finally {
    store.close();
  }
});

Deno.test("an in-memory store keeps MEMORY_KEEP lines per room and a file keeps all", async () => {
  const memory = Store.open("");
  const dir = await Deno.makeTempDir();
  const file = Store.open(`${dir}/all.db`);
  try {
    const batch = Array.from(
      { length: 60 },
      (_, i) => ({ room: "r", at: i, kind: "chat" as const, nick: "a", text: `${i}` }),
    );
    for (let n = 0; n < Math.ceil((MEMORY_KEEP + 600) / 60); n++) {
      memory.addMessages(batch.map((m) => ({ ...m })));
      file.addMessages(batch.map((m) => ({ ...m })));
    }
    const total = Math.ceil((MEMORY_KEEP + 600) / 60) * 60;
    assert.ok(memory.recent("r", total).length <= MEMORY_KEEP + MEMORY_KEEP / 4);
    assert.equal(file.recent("r", total).length, total);
  } finally {
    memory.close();
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** An account's nick and hash (its creation time differs from run to run). */
function nickAndHash(account: { nick: string; hash: string } | undefined): { nick: string; hash: string } | undefined {
  return account && { nick: account.nick, hash: account.hash };
}
