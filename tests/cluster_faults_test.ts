/**
 * Cluster mode under faults: Redis going away while users chat and coming
 * back empty, and a node too slow to read its subscription (cut by Redis's
 * `client-output-buffer-limit pubsub`).
 */
import assert from "node:assert/strict";
import { clusterNode, ircOn, redisMissing, RedisServer, telnetOn } from "./redis_helpers.ts";

const ignore = redisMissing;

Deno.test({
  name: "cluster: Redis gone while users chat: they are told, a line then is refused (never lost unseen), " +
    "and when Redis is back (empty) presence and nicks are rebuilt and said",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    const carol = await ircOn(b, "carol");
    await alice.waitFor("*** carol has entered the room.");
    await redis.stop();
    await alice.waitFor(/^\*\*\* Chat between servers is interrupted \(the cluster's Redis cannot be reached\)/);
    await carol.waitFor(/NOTICE carol :Chat between servers is interrupted/);
    await alice.send("/msg carol psst");
    await alice.waitFor("*** carol is on another server that cannot be reached now; your message was not delivered.");
    await alice.send("said while Redis is away");
    await alice.waitFor(
      "*** Your message could not be stored (the chat store (Redis) cannot be reached), so it was not delivered; " +
        "please try again later.",
    );
    await redis.resume(); // the same port, nothing kept
    await alice.waitFor(/^\*\*\* Chat between servers is back \(1 user on 1 other server\)\./, 10_000);
    await carol.waitFor(/NOTICE carol :Chat between servers is back \(1 user on 1 other server\)\./, 10_000);
    // Chat goes both ways again; the line refused was never delivered anywhere.
    await alice.send("after the outage");
    const seen = await carol.until(/PRIVMSG #main :after the outage$/);
    assert.ok(!seen.some((l) => l.includes("said while Redis is away")), seen.join("\n"));
    await carol.send("PRIVMSG #main :welcome back");
    await alice.waitFor("carol: welcome back");
    // Presence and nick claims were written again: a new node sees both, and neither nick is free.
    await using c = await clusterNode(redis);
    const dave = await c.connect();
    await dave.waitFor(/Log in with/);
    await dave.send("login carol");
    await dave.waitFor("*** The nick carol is taken; please choose another.");
    await dave.send("login dave");
    await dave.waitFor("*** dave has entered the room.");
    await dave.send("look");
    await dave.waitFor("*** In main (3): alice, carol, dave");
    for (const x of [alice, carol, dave]) x.close();
    await Promise.all([alice.done, carol.done, dave.done]);
  },
});

Deno.test({
  name: "cluster: after Redis comes back empty, a new node's lines are delivered everywhere, and none is taken " +
    "for a line delivered before the outage (the nodes raise the id counter again)",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    const bob = await telnetOn(b, "bob");
    await alice.waitFor("*** bob has entered the room.");
    for (let i = 1; i <= 3; i++) await alice.send(`before ${i}`); // ids 1-3, remembered on both nodes
    await bob.waitFor("alice: before 3");
    await redis.stop();
    await alice.waitFor(/^\*\*\* Chat between servers is interrupted/);
    await redis.resume(); // empty: the id counter starts again
    await alice.waitFor(/^\*\*\* Chat between servers is back/, 10_000);
    await bob.waitFor(/^\*\*\* Chat between servers is back/, 10_000);
    await using c = await clusterNode(redis); // knows no ids: without the raise, its first lines would be 1, 2, 3 again
    const dave = await telnetOn(c, "dave");
    await alice.waitFor("*** dave has entered the room.");
    for (let i = 1; i <= 3; i++) await dave.send(`after ${i}`);
    for (const x of [alice, bob]) {
      for (let i = 1; i <= 3; i++) await x.waitFor(`dave: after ${i}`);
    }
    await bob.send("and from b");
    await alice.waitFor("bob: and from b");
    await dave.waitFor("bob: and from b");
    for (const x of [alice, bob, dave]) x.close();
    await Promise.all([alice.done, bob.done, dave.done]);
  },
});

Deno.test({
  name: "cluster: a stopped node whose subscription Redis cuts (as client-output-buffer-limit pubsub does to a " +
    "slow node) resynchronises, fetches the lines it missed from the history and tells its users",
  ignore,
  async fn() {
    // The real limit cuts a slow subscriber only once the kernel's socket buffers (megabytes, sized by the
    // kernel) are full too, so the test cuts the connection itself, the way the limit does: CLIENT KILL.
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    const bob = await telnetOn(b, "bob");
    await alice.waitFor("*** bob has entered the room.");
    const id = /node=(\S+)/.exec(await b.waitForLog(/INFO cluster node=/))![1];
    b.kill("SIGSTOP"); // its event loop stands still: nothing read from Redis, no reconnection
    try {
      for (let i = 1; i <= 20; i++) await alice.send(`line ${i}`);
      await alice.waitFor("alice: line 20");
      const list = await redis.cli("CLIENT", "LIST", "TYPE", "pubsub");
      const victim = list.split("\n").find((l) => l.includes(`name=teaparty-subscriptions-${id}`));
      assert.ok(victim, list);
      const clientId = /\bid=(\d+)/.exec(victim)![1];
      assert.equal((await redis.cli("CLIENT", "KILL", "ID", clientId)).trim(), "1");
      for (let i = 21; i <= 40; i++) await alice.send(`line ${i}`); // published while B has no subscription
      await alice.waitFor("alice: line 40");
    } finally {
      b.kill("SIGCONT");
    }
    // Lines said while B reconnects and resynchronises come after the ones it fetches, never before.
    for (let i = 41; i <= 50; i++) await alice.send(`line ${i}`);
    // What was in the socket before the cut, the notice, the lines fetched from the history, the notice.
    const before = await bob.until(/^\*\*\* Chat between servers is interrupted/);
    const fetched = await bob.until(
      /^\*\*\* Chat between servers is back \(1 user on 1 other server\)\. (\d+) room lines said meanwhile on other servers were fetched from the history; private messages sent to you meanwhile may have been missed\.$/,
      10_000,
    );
    await alice.send("marker");
    const after = await bob.until("alice: marker");
    const got = [...before, ...fetched, ...after].filter((l) => l.startsWith("alice: line ")).map((l) =>
      Number(l.split(" ")[2])
    );
    const count = fetched.filter((l) => l.startsWith("alice: line ")).length;
    assert.ok(count >= 20, `${count} lines fetched:\n${fetched.join("\n")}`); // 21-40 at least (20 may have been in flight)
    assert.equal(fetched[fetched.length - 1].match(/ (\d+) room lines/)![1], String(count));
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i + 1), "every line once, in order");
    for (const x of [alice, bob]) x.close();
    await Promise.all([alice.done, bob.done]);
  },
});

Deno.test({
  name: "cluster: a rolling restart (each node stopped politely and started again in turn) never stops the chat " +
    "of the users on the other node",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    let a = await clusterNode(redis);
    let b = await clusterNode(redis);
    try {
      let alice = await telnetOn(a, "alice");
      let carol = await telnetOn(b, "carol");
      await alice.waitFor("*** carol has entered the room.");
      for (const turn of ["b", "a"] as const) {
        // Stop one node: its users are told and leave; the other node's users see them go and keep chatting.
        const [stopping, staying] = turn === "b" ? [b, a] : [a, b];
        const [gone, left] = turn === "b" ? [carol, alice] : [alice, carol];
        stopping.kill("SIGTERM");
        await gone.waitFor("*** The server is shutting down. Goodbye!");
        assert.equal((await stopping.exited()).code, 0);
        await left.waitFor(`*** ${turn === "b" ? "carol" : "alice"} has left the room.`);
        const dave = await telnetOn(staying, `dave${turn}`);
        await left.send(`still here ${turn}`);
        await dave.waitFor(`${turn === "b" ? "alice" : "carol"}: still here ${turn}`);
        dave.close();
        await dave.done;
        // Start it again; its user comes back under the same nick and chats across nodes again.
        const again = await clusterNode(redis);
        if (turn === "b") b = again;
        else a = again;
        const back = await telnetOn(again, turn === "b" ? "carol" : "alice");
        await left.waitFor(`*** ${turn === "b" ? "carol" : "alice"} has entered the room.`);
        await back.send(`back ${turn}`);
        await left.waitFor(`${turn === "b" ? "carol" : "alice"}: back ${turn}`);
        if (turn === "b") carol = back;
        else alice = back;
      }
      for (const c of [alice, carol]) c.close();
      await Promise.all([alice.done, carol.done]);
    } finally {
      await a[Symbol.asyncDispose]();
      await b[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name: "cluster: a ban given while a node's store connection was cut takes effect there once it is back",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    const boss = await telnetOn(a, "boss");
    await boss.send("/register correct-horse-battery");
    await boss.waitFor(/^\*\*\* boss is now registered\./);
    await boss.send("/quit");
    await boss.closed();
    await using b = await clusterNode(redis, ["--op", "boss"]);
    const mallory = await telnetOn(a, "mallory");
    const op = await b.connect();
    await op.waitFor(/Log in with/);
    await op.send("login boss correct-horse-battery");
    await op.waitFor("*** You are an operator here.");
    a.kill("SIGSTOP"); // A reads nothing and cannot reconnect: the change the ban sends is lost to it
    try {
      const list = await redis.cli("CLIENT", "LIST", "TYPE", "pubsub");
      // A's store-changes connection: the one of that name whose node is not B (B's answers at once, A's cannot).
      const ids = list.split("\n").filter((l) => l.includes("name=teaparty-store-changes")).map((l) =>
        /\bid=(\d+)/.exec(l)![1]
      );
      assert.equal(ids.length, 2, list);
      for (const id of ids) await redis.cli("CLIENT", "KILL", "ID", id); // B reconnects and rereads too: harmless
      await op.send("/ban mallory 1h spam"); // told on the channel while A is not listening: A never hears it
      await op.waitFor(/^\*\*\* mallory is banned until /);
    } finally {
      a.kill("SIGCONT");
    }
    await mallory.waitFor(/^\*\*\* You are banned until .*: spam$/, 10_000);
    await mallory.closed();
    const again = await a.connect();
    await again.waitFor(/Log in with/);
    await again.send("login mallory");
    await again.waitFor(/^\*\*\* The nick mallory is banned until .*: spam$/);
    for (const c of [op, again]) c.close();
    await Promise.all([op.done, again.done, mallory.done]);
  },
});
