/**
 * The store interface's contract, run against every store: a single
 * server's in memory (history in `RoomHistory`) and in an SQLite
 * file, and Redis (cluster mode, on a real
 * `redis-server`). Then what only the Redis store does: two nodes' stores
 * on one Redis see each other's writes.
 */
import assert from "node:assert/strict";
import { type ChatStore, Store, type StoredMessage } from "../store.ts";
import { RedisStore, type StoreChange } from "../cluster/store.ts";
import { redisMissing, RedisServer } from "./redis_helpers.ts";

type Case = [string, (store: ChatStore) => Promise<void>];

const cases: Case[] = [
  ["room lines get increasing ids; recent gives the last ones of one room, oldest first", async (store) => {
    const lines: StoredMessage[] = Array.from({ length: 5 }, (_, i) => ({
      room: i % 2 ? "side" : "main",
      at: 1000 + i,
      kind: "chat" as const,
      nick: "alice",
      text: `line ${i}`,
    }));
    await store.addMessages(lines);
    const ids = lines.map((m) => m.id!);
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), `ids ${ids}`);
    const recent = await store.recent("main", 2);
    assert.deepEqual(recent.map((m) => m.text), ["line 2", "line 4"]);
    assert.deepEqual(recent.map((m) => m.id), [ids[2], ids[4]]);
    assert.deepEqual(recent[0], { id: ids[2], room: "main", at: 1002, kind: "chat", nick: "alice", text: "line 2" });
    assert.deepEqual((await store.recent("side", 10)).map((m) => m.text), ["line 1", "line 3"]);
    assert.deepEqual(await store.recent("nowhere", 10), []);
  }],
  ["recent with before gives only lines said strictly earlier", async (store) => {
    await store.addMessages(
      [1000, 2000, 3000].map((at) => ({ room: "main", at, kind: "action", nick: "bob", text: `${at}` })),
    );
    assert.deepEqual((await store.recent("main", 10, 3000)).map((m) => m.text), ["1000", "2000"]);
    assert.deepEqual((await store.recent("main", 1, 3000)).map((m) => [m.text, m.kind]), [["2000", "action"]]);
  }],
  ["within gives the lines strictly inside id and time bounds, the oldest or the newest", async (store) => {
    const lines: StoredMessage[] = Array.from({ length: 6 }, (_, i) => ({
      room: "main",
      at: 100 * (i + 1),
      kind: "chat" as const,
      nick: "carol",
      text: `${i}`,
    }));
    await store.addMessages(lines);
    const id = (i: number) => lines[i].id!;
    const texts = (ms: { text: string }[]) => ms.map((m) => m.text);
    assert.deepEqual(texts(await store.within("main", { afterId: id(0), beforeId: id(5) }, 10, false)), [
      "1",
      "2",
      "3",
      "4",
    ]);
    assert.deepEqual(texts(await store.within("main", { afterId: id(0) }, 2, false)), ["1", "2"]);
    assert.deepEqual(texts(await store.within("main", { beforeId: id(5) }, 2, true)), ["3", "4"]);
    assert.deepEqual(texts(await store.within("main", { afterAt: 200, beforeAt: 500 }, 10, false)), ["2", "3"]);
  }],
  ["accounts: registered, listed in order, the hash replaced (the first spelling kept), removed", async (store) => {
    assert.equal(store.account("alice"), undefined);
    await store.saveAccount("alice", "Alice", "hash1");
    await store.saveAccount("bob", "Bob", "hashb");
    assert.deepEqual(nickAndHash(store.account("alice")), { nick: "Alice", hash: "hash1" });
    await store.saveAccount("alice", "ALICE", "hash2");
    assert.deepEqual(nickAndHash(store.account("alice")), { nick: "Alice", hash: "hash2" });
    assert.deepEqual(store.accountList(), [{ key: "alice", nick: "Alice" }, { key: "bob", nick: "Bob" }]);
    assert.equal(await store.removeAccount("bob"), true);
    assert.equal(await store.removeAccount("bob"), false);
    assert.equal(store.account("bob"), undefined);
  }],
  [
    "settings of a registered nick: kept, replaced, kept across a new password, refused for an unregistered nick",
    async (store) => {
      await store.saveAccount("alice", "Alice", "hash1");
      assert.equal(store.setting("alice", "redraw"), undefined);
      await store.saveSetting("alice", "redraw", "off");
      assert.equal(store.setting("alice", "redraw"), "off");
      await store.saveSetting("alice", "redraw", "on");
      await store.saveAccount("alice", "Alice", "hash2");
      assert.equal(store.setting("alice", "redraw"), "on");
      await assert.rejects(async () => await store.saveSetting("nobody", "redraw", "on"), /not a registered nick/);
      assert.equal(store.setting("nobody", "redraw"), undefined);
    },
  ],
  ["mail: kept per recipient, counted, listed oldest first, deleted by id, taken", async (store) => {
    await store.addMail("bob", "alice", "first", 1000);
    await store.addMail("carol", "alice", "for carol", 1500);
    await store.addMail("bob", "dave", "second", 2000);
    await store.addMail("bob", "dave", "third", 3000);
    assert.equal(await store.mailCount("bob"), 3);
    const two = await store.mail("bob", 2);
    assert.deepEqual(two.map(({ to, from, at, text }) => ({ to, from, at, text })), [
      { to: "bob", from: "alice", at: 1000, text: "first" },
      { to: "bob", from: "dave", at: 2000, text: "second" },
    ]);
    assert.ok(two[0].id < two[1].id);
    await store.deleteMail(two.map((m) => m.id));
    assert.equal(await store.mailCount("bob"), 1);
    assert.deepEqual((await store.takeMail("bob")).map((m) => m.text), ["third"]);
    assert.deepEqual(await store.takeMail("bob"), []);
    assert.equal(await store.mailCount("carol"), 1);
  }],
  ["mail: an action keeps its flag and its bare text; plain mail that looks like one stays plain", async (store) => {
    await store.addMail("bob", "alice", "waves", 1000, true);
    await store.addMail("bob", "alice", "* alice waves", 2000);
    await store.addMail("bob", "alice", "hi", 3000, false);
    const said = ({ from, text, action }: { from: string; text: string; action: boolean }) => ({ from, text, action });
    assert.deepEqual((await store.mail("bob", 10)).map(said), [
      { from: "alice", text: "waves", action: true },
      { from: "alice", text: "* alice waves", action: false },
      { from: "alice", text: "hi", action: false },
    ]);
    assert.deepEqual((await store.takeMail("bob")).map((m) => m.action), [true, false, false]);
  }],
  ["bans: saved, replaced, listed and removed by kind and value", async (store) => {
    await store.saveBan({ kind: "nick", value: "mallory", until: null, reason: "", by: "alice", at: 1 });
    await store.saveBan({ kind: "ip", value: "10.0.0.1", until: 5000, reason: "flood", by: "alice", at: 2 });
    await store.saveBan({ kind: "nick", value: "mallory", until: 9000, reason: "spam", by: "bob", at: 3 });
    assert.deepEqual(store.bans().sort((a, b) => a.at - b.at), [
      { kind: "ip", value: "10.0.0.1", until: 5000, reason: "flood", by: "alice", at: 2 },
      { kind: "nick", value: "mallory", until: 9000, reason: "spam", by: "bob", at: 3 },
    ]);
    assert.equal(await store.removeBan("ip", "mallory"), false);
    assert.equal(await store.removeBan("nick", "mallory"), true);
    assert.equal(await store.removeBan("nick", "mallory"), false);
    assert.deepEqual(store.bans().map((b) => b.value), ["10.0.0.1"]);
    // A nick ban keeps the nick as typed when it is given.
    await store.saveBan({ kind: "nick", value: "ivan", nick: "Ivan", until: null, reason: "", by: "bob", at: 4 });
    assert.deepEqual(store.bans().find((b) => b.value === "ivan"), {
      kind: "nick",
      value: "ivan",
      nick: "Ivan",
      until: null,
      reason: "",
      by: "bob",
      at: 4,
    });
  }],
  ["mutes: saved with or without an end, and removed", async (store) => {
    await store.saveMute({ key: "eve", until: null, by: "alice" });
    await store.saveMute({ key: "trudy", until: 1234, by: "bob" });
    assert.deepEqual(store.mutes().sort((a, b) => a.key.localeCompare(b.key)), [
      { key: "eve", until: null, by: "alice" },
      { key: "trudy", until: 1234, by: "bob" },
    ]);
    assert.equal(await store.removeMute("eve"), true);
    assert.equal(await store.removeMute("eve"), false);
    assert.deepEqual(store.mutes().map((m) => m.key), ["trudy"]);
  }],
  ["topics: set, replaced, per room, and cleared with an empty text", async (store) => {
    await store.saveTopic({ room: "main", text: "Tea", by: "alice", at: 1 });
    await store.saveTopic({ room: "main", text: "Coffee", by: "bob", at: 2 });
    await store.saveTopic({ room: "side", text: "Side talk", by: "alice", at: 3 });
    assert.deepEqual(store.topic("main"), { room: "main", text: "Coffee", by: "bob", at: 2 });
    await store.saveTopic({ room: "main", text: "", by: "alice", at: 4 });
    assert.equal(store.topic("main"), undefined);
    assert.equal(store.topic("side")?.text, "Side talk");
  }],
];

for (const [name, run] of cases) {
  Deno.test(`store (in memory): ${name}`, async () => {
    const store = Store.open("");
    try {
      await run(store);
    } finally {
      store.close();
    }
  });
  Deno.test(`store (SQLite file): ${name}`, async () => {
    const dir = await Deno.makeTempDir();
    const store = Store.open(`${dir}/contract.db`);
    try {
      await run(store);
    } finally {
      store.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
  Deno.test({
    name: `store (Redis): ${name}`,
    ignore: redisMissing,
    async fn() {
      await using redis = await RedisServer.start();
      const store = new RedisStore(redis.url);
      await store.load();
      try {
        await run(store);
      } finally {
        store.close();
      }
    },
  });
}

/** Resolves with the next change another store told `store` of. */
function nextChange(store: RedisStore): Promise<StoreChange> {
  return new Promise((resolve) => store.onChange = resolve);
}

Deno.test({
  name: "store (Redis): a write on one node's store is in another's copy once told, and in a store opened later",
  ignore: redisMissing,
  async fn() {
    await using redis = await RedisServer.start();
    const a = new RedisStore(redis.url);
    const b = new RedisStore(redis.url);
    await a.load();
    await b.load();
    try {
      let told = nextChange(b);
      await a.saveAccount("alice", "Alice", "h");
      const change = await told;
      assert.deepEqual([change.w, change.k, change.v && "nick" in change.v && change.v.nick], [
        "account",
        "alice",
        "Alice",
      ]);
      assert.deepEqual(nickAndHash(b.account("alice")), { nick: "Alice", hash: "h" });
      told = nextChange(b);
      await a.saveBan({ kind: "ip", value: "10.0.0.0/8", until: null, reason: "spam", by: "op", at: 5 });
      await told;
      assert.deepEqual(b.bans().map((x) => x.value), ["10.0.0.0/8"]);
      told = nextChange(b);
      await a.removeBan("ip", "10.0.0.0/8");
      await told;
      assert.deepEqual(b.bans(), []);
      told = nextChange(b);
      await a.saveTopic({ room: "main", text: "Tea", by: "op", at: 6 });
      await told;
      assert.equal(b.topic("main")?.text, "Tea");
      told = nextChange(b);
      await a.saveSetting("alice", "redraw", "off");
      await told;
      assert.equal(b.setting("alice", "redraw"), "off");
      // History and mail are read from Redis: the same on both at once.
      await a.addMessages([{ room: "main", at: 1, kind: "chat", nick: "alice", text: "shared" }]);
      assert.deepEqual((await b.recent("main", 5)).map((m) => m.text), ["shared"]);
      const c = new RedisStore(redis.url);
      await c.load();
      assert.deepEqual(nickAndHash(c.account("alice")), { nick: "Alice", hash: "h" });
      assert.equal(c.topic("main")?.text, "Tea");
      assert.equal(c.setting("alice", "redraw"), "off");
      c.close();
    } finally {
      a.close();
      b.close();
    }
  },
});

Deno.test({
  name: "store (Redis): mail kept by an older teaparty (no action field, an action as `* nick text`) reads as it meant",
  ignore: redisMissing,
  async fn() {
    await using redis = await RedisServer.start();
    const old = [
      { id: 1, to: "bob", from: "alice", at: 1000, text: "* alice waves" },
      { id: 2, to: "bob", from: "alice", at: 2000, text: "* carol waves" },
      { id: 3, to: "bob", from: "alice", at: 3000, text: "hi" },
    ];
    for (const m of old) {
      await redis.cli("HSET", "tp:mail", String(m.id), JSON.stringify(m));
      await redis.cli("ZADD", "tp:mailbox:bob", String(m.id), String(m.id));
    }
    await redis.cli("SET", "tp:mail-id", "3");
    const store = new RedisStore(redis.url);
    await store.load();
    try {
      await store.addMail("bob", "alice", "* alice waves", 4000, false);
      assert.deepEqual((await store.takeMail("bob")).map((m) => [m.id, m.text, m.action]), [
        [1, "waves", true],
        [2, "* carol waves", false],
        [3, "hi", false],
        [4, "* alice waves", false],
      ]);
    } finally {
      store.close();
    }
  },
});

Deno.test({
  name: "store (Redis): a room's history is a stream capped near the number of lines kept",
  ignore: redisMissing,
  async fn() {
    await using redis = await RedisServer.start();
    const store = new RedisStore(redis.url, { keep: 100 });
    await store.load();
    try {
      for (let batch = 0; batch < 10; batch++) {
        await store.addMessages(
          Array.from(
            { length: 100 },
            (_, i) => ({ room: "main", at: batch * 100 + i, kind: "chat" as const, nick: "a", text: `${batch}.${i}` }),
          ),
        );
      }
      const length = Number((await redis.cli("XLEN", "tp:history:main")).trim());
      assert.ok(length >= 100 && length < 300, `the stream holds ${length} lines`);
      assert.equal((await store.recent("main", 1))[0].text, "9.99");
    } finally {
      store.close();
    }
  },
});

/** An account's nick and hash (its creation time differs from run to run). */
function nickAndHash(account: { nick: string; hash: string } | undefined): { nick: string; hash: string } | undefined {
  return account && { nick: account.nick, hash: account.hash };
}
