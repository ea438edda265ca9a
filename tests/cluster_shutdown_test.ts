/**
 * Stopping a cluster node politely (SIGTERM, SIGINT: `npm run cluster` then
 * Ctrl-C) closes its Redis connections itself: that is no fault, and the log
 * says no `redis down`. Redis going away while the node runs still warns.
 */
import assert from "node:assert/strict";
import { clusterNode, redisMissing, RedisServer, telnetOn } from "./redis_helpers.ts";

const ignore = redisMissing;

/** The log lines from `INFO shutdown` on. */
function afterShutdown(stderr: string[]): string[] {
  const at = stderr.findIndex((l) => / INFO shutdown /.test(l));
  assert.ok(at >= 0, `no INFO shutdown line in:\n${stderr.join("\n")}`);
  return stderr.slice(at);
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name: `cluster: a node stopped with ${signal} logs shutdown and no "redis down" (it closed the connections)`,
    ignore,
    async fn() {
      await using redis = await RedisServer.start();
      await using a = await clusterNode(redis);
      await using b = await clusterNode(redis);
      const alice = await telnetOn(a, "alice");
      const bob = await telnetOn(b, "bob");
      await alice.waitFor("*** bob has entered the room.");
      a.kill(signal);
      await alice.closed();
      assert.equal((await a.exited()).code, 0, a.stderr.join("\n"));
      const log = afterShutdown(a.stderr.filter((l) => l !== ""));
      assert.ok(!log.some((l) => /redis down/.test(l)), log.join("\n"));
      assert.ok(!log.some((l) => / (WARN|ERROR) /.test(l)), log.join("\n"));
      assert.equal(log.filter((l) => / INFO redis closed node=/.test(l)).length, 1, log.join("\n"));
      // The node that stays sees alice leave, and has no fault to report either: its Redis is fine.
      await bob.waitFor(/^\*\*\* alice has (left|quit)/);
      bob.close();
      await bob.done;
      b.kill("SIGTERM");
      assert.equal((await b.exited()).code, 0);
      const all = b.stderr.filter((l) => l !== "");
      assert.ok(!all.some((l) => /redis down/.test(l)), all.join("\n"));
    },
  });
}

Deno.test({
  name: 'cluster: Redis going away while the node runs still logs "redis down", and a stop after it is back none',
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    await redis.stop();
    await a.waitForLog(/ WARN redis down connection=\w+ error=/);
    await alice.waitFor(/^\*\*\* Chat between servers is interrupted/);
    await redis.resume();
    await alice.waitFor(/^\*\*\* Chat between servers is back/, 10_000);
    await a.waitForLog(/ INFO redis back connection=commands/);
    await a.waitForLog(/ INFO redis back connection=subscriptions/);
    a.kill("SIGTERM");
    await alice.closed();
    assert.equal((await a.exited()).code, 0);
    const log = afterShutdown(a.stderr.filter((l) => l !== ""));
    assert.ok(!log.some((l) => /redis down/.test(l)), log.join("\n"));
  },
});

Deno.test({
  name: "cluster: a node stopped while Redis is away still exits 0 without a stack trace",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    await redis.stop();
    await a.waitForLog(/ WARN redis down /);
    a.kill("SIGTERM");
    await alice.closed();
    assert.equal((await a.exited()).code, 0, a.stderr.join("\n"));
    const log = a.stderr.filter((l) => l !== "");
    assert.ok(!log.some((l) => /^\s+at /.test(l)), log.join("\n"));
  },
});
