/**
 * Cluster mode: message ids across a restart of the whole cluster. Ids come
 * from one counter in Redis; like the in-memory store's, it starts no lower
 * than `idFloor()` (a hundred per millisecond of the clock), so that when
 * Redis and every node restart empty together the ids still go on above the
 * ones clients kept (a page's seen lines, an IRC client's msgid). Such ids
 * have 15 digits: they must reach Redis (the counter, the stream ids) and
 * come back from it exactly, not as Lua's "1.8e+14".
 */
import assert from "node:assert/strict";
import { RedisStore } from "../cluster/store.ts";
import { idFloor } from "../room_history.ts";
import type { StoredMessage } from "../store.ts";
import { TestClient } from "./helpers.ts";
import { clusterNode, type ClusterNodeProcess, redisMissing, RedisServer } from "./redis_helpers.ts";

const ignore = redisMissing;

/** An IRC client on a node with `caps`, registered as `nick` and in #main. */
async function ircWith(node: ClusterNodeProcess, nick: string, caps: string[]): Promise<TestClient> {
  const client = await TestClient.connect(node.ircPort);
  await client.send("CAP LS 302");
  await client.send(`CAP REQ :${caps.join(" ")}`);
  await client.send(`NICK ${nick}`);
  await client.send(`USER ${nick} 0 * :${nick}`);
  await client.waitFor(/ CAP \* ACK /);
  await client.send("CAP END");
  await client.waitFor(new RegExp(` 001 ${nick} `));
  await client.send("JOIN #main");
  await client.waitFor(new RegExp(` 366 ${nick} #main `));
  return client;
}

/** Says a line in #main (the client has echo-message) and returns its msgid as it came. */
async function say(client: TestClient, text: string): Promise<string> {
  await client.send(`PRIVMSG #main :${text}`);
  const echo = await client.waitFor((l) => l.endsWith(` PRIVMSG #main :${text}`));
  const id = /[@;]msgid=([^; ]+)/.exec(echo)?.[1];
  assert.ok(id, echo);
  return id;
}

/** The msgid and text of each PRIVMSG among `lines`. */
function said(lines: string[]): [string, string][] {
  return lines.filter((l) => l.includes(" PRIVMSG #main :")).map((l) => [
    /[@;]msgid=([^; ]+)/.exec(l)?.[1] ?? "(none)",
    l.slice(l.indexOf(" PRIVMSG #main :") + " PRIVMSG #main :".length),
  ]);
}

/** The ids of a stream as Redis holds them (`XRANGE key - +` through redis-cli: ids and fields, one a line). */
async function streamIds(redis: RedisServer, key: string): Promise<string[]> {
  return (await redis.cli("XRANGE", key, "-", "+")).split("\n").filter((l) => /^\d+-\d+$/.test(l));
}

const WRITER_CAPS = ["echo-message", "message-tags"];

Deno.test({
  name: "cluster: when Redis and every node restart empty together, the first line after gets a higher id than " +
    "the lines before (the id counter starts at the clock's floor, as in the in-memory store)",
  ignore,
  async fn() {
    let first: string;
    {
      await using redis = await RedisServer.start();
      await using a = await clusterNode(redis);
      const alice = await ircWith(a, "alice", WRITER_CAPS);
      first = await say(alice, "before the restart");
      alice.close();
      await alice.done;
    } // node and Redis stopped: nothing of them is left
    await using redis = await RedisServer.start(); // empty: a new counter
    await using b = await clusterNode(redis);
    const bob = await ircWith(b, "bob", WRITER_CAPS);
    const second = await say(bob, "after the restart");
    assert.match(first, /^\d+$/);
    assert.match(second, /^\d+$/);
    assert.ok(Number(second) > Number(first), `id after the restart ${second}, before ${first}`);
    // The id is exact everywhere: the counter and the stream id in Redis are its digits, not "1.8e+14".
    assert.equal((await redis.cli("GET", "tp:message-id")).trim(), second);
    assert.deepEqual(await streamIds(redis, "tp:history:main"), [`${second}-0`]);
    bob.close();
    await bob.done;
  },
});

Deno.test({
  name: "cluster: lines stored above the id floor read back from Redis with their exact ids, in order, on a " +
    "node that joins later (the history on JOIN and CHATHISTORY by msgid)",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    const alice = await ircWith(a, "alice", WRITER_CAPS);
    const ids: string[] = [];
    for (let i = 1; i <= 6; i++) ids.push(await say(alice, `line ${i}`));
    const floor = idFloor(Date.now() - 60_000);
    for (const id of ids) {
      assert.match(id, /^\d{15}$/);
      assert.ok(Number(id) > floor && Number.isSafeInteger(Number(id)), id);
    }
    assert.ok(ids.every((id, i) => i === 0 || Number(id) > Number(ids[i - 1])), `ids ${ids}`);
    assert.deepEqual(await streamIds(redis, "tp:history:main"), ids.map((id) => `${id}-0`));
    const lines = ids.map((id, i): [string, string] => [id, `line ${i + 1}`]);
    // A second node, started after the lines were said, reads them from Redis.
    await using b = await clusterNode(redis);
    const bob = await ircWith(b, "bob", ["message-tags"]); // the history on JOIN, with msgids
    assert.deepEqual(said(await bob.until(/ PRIVMSG #main :line 6$/)), lines);
    const carol = await ircWith(b, "carol", ["draft/chathistory", "batch", "message-tags", "server-time"]);
    const history = async (request: string) => {
      await carol.send(`CHATHISTORY ${request}`);
      return said(await carol.until(/ BATCH -| FAIL /));
    };
    assert.deepEqual(await history("LATEST #main * 10"), lines);
    assert.deepEqual(await history(`BEFORE #main msgid=${ids[4]} 2`), lines.slice(2, 4));
    assert.deepEqual(await history(`AFTER #main msgid=${ids[1]} 2`), lines.slice(2, 4));
    assert.deepEqual(await history(`BETWEEN #main msgid=${ids[0]} msgid=${ids[5]} 10`), lines.slice(1, 5));
    assert.deepEqual(await history(`AROUND #main msgid=${ids[3]} 3`), lines.slice(2, 5));
    // New lines on the second node go on above them.
    const dave = await ircWith(b, "dave", WRITER_CAPS);
    const more = await say(dave, "line 7");
    assert.ok(Number(more) > Number(ids[5]), `${more} after ${ids[5]}`);
    assert.deepEqual(said(await alice.until(/ PRIVMSG #main :line 7$/)), [[more, "line 7"]]);
    for (const x of [alice, bob, carol, dave]) x.close();
    await Promise.all([alice.done, bob.done, carol.done, dave.done]);
  },
});

Deno.test({
  name: "store (Redis): the id counter is raised to the clock's floor on connecting but never lowered, and ids " +
    "far above it (2^52) round-trip exactly through the counter, the stream and its bounds",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    const high = 2 ** 52 + 1; // 16 digits: what %.14g would round
    await redis.cli("SET", "tp:message-id", String(high));
    const store = new RedisStore(redis.url);
    try {
      await store.load();
      assert.equal((await redis.cli("GET", "tp:message-id")).trim(), String(high), "not lowered to the floor");
      const lines: StoredMessage[] = [1, 2, 3].map((i) => ({
        room: "main",
        at: 1000 + i,
        kind: "chat",
        nick: "alice",
        text: `line ${i}`,
      }));
      await store.addMessages(lines);
      assert.deepEqual(lines.map((m) => m.id), [high + 1, high + 2, high + 3]);
      assert.deepEqual(await streamIds(redis, "tp:history:main"), lines.map((m) => `${m.id}-0`));
      assert.deepEqual((await store.recent("main", 10)).map((m) => m.id), [high + 1, high + 2, high + 3]);
      const inside = await store.within("main", { afterId: high + 1, beforeId: high + 3 }, 10, false);
      assert.deepEqual(inside.map((m) => [m.id, m.text]), [[high + 2, "line 2"]]);
      assert.equal(store.highestId, high + 3);
    } finally {
      store.close();
    }
    // An empty Redis: connecting raises the counter to the floor, as digits.
    await using empty = await RedisServer.start();
    const before = idFloor();
    const fresh = new RedisStore(empty.url);
    try {
      await fresh.load();
      const counter = (await empty.cli("GET", "tp:message-id")).trim();
      assert.match(counter, /^\d+$/);
      assert.ok(Number(counter) >= before && Number(counter) <= idFloor(), counter);
      const line: StoredMessage = { room: "main", at: 1, kind: "action", nick: "bob", text: "waves" };
      await fresh.addMessages([line]);
      assert.equal(line.id, Number(counter) + 1);
      assert.deepEqual(await fresh.recent("main", 1), [{ ...line }]);
    } finally {
      fresh.close();
    }
  },
});
