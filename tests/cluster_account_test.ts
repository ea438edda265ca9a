/**
 * The account tool in cluster mode (`account.ts … --redis URL`): an operator
 * account made on the server machine before any node starts, so `--op`
 * never waits for someone to `/register` the nick first.
 */
import assert from "node:assert/strict";
import { accountTool, runCli } from "./helpers.ts";
import { MESSAGE_ID_KEY } from "../cluster/store.ts";
import { CLUSTER_PERMISSIONS, clusterNode, freePort, redisMissing, RedisServer } from "./redis_helpers.ts";

const ignore = redisMissing;
const REDIS_ENV = "--allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS";

Deno.test({
  name: "cluster: the account tool makes an operator account in Redis; a node started with --op takes it",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    const made = await accountTool(
      ["--allow-net", REDIS_ENV],
      ["add", "root", "--redis", redis.url],
      "correct-horse-battery\n",
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^account root created/);
    const listed = await accountTool(["--allow-net", REDIS_ENV], ["list", "--redis", redis.url]);
    assert.equal(listed.stdout.trim(), "root");
    // The tool stores no lines: it leaves the message id counter alone (a node raises it to the clock's floor).
    assert.equal((await redis.cli("EXISTS", MESSAGE_ID_KEY)).trim(), "0");
    await using node = await clusterNode(redis, ["--op", "root"]);
    const op = await node.connect();
    await op.waitFor(/Log in with/);
    await op.send("login root correct-horse-battery");
    await op.waitFor("*** You are an operator here.");
    // Removed again: it is gone for every node.
    const removed = await accountTool(["--allow-net", REDIS_ENV], ["remove", "root", "--redis", redis.url]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await accountTool(["--allow-net", REDIS_ENV], ["list", "--redis", redis.url])).stdout, "");
  },
});

Deno.test({
  name: "cluster: --op without an account in Redis refuses to start and names the account tool's --redis command",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    const result = await runCli(
      ["--port", "0", "--redis", redis.url, "--op", "root"],
      15000,
      CLUSTER_PERMISSIONS,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`account\\.ts add root --redis ${redis.url.replace(/\//g, "\\/")}$`, "m"));
  },
});

Deno.test("the account tool: --redis without leave to read the client's variables, a bad URL, or with --db is refused in one line", async () => {
  const port = freePort();
  const noEnv = await accountTool(["--allow-net"], ["list", "--redis", `redis://127.0.0.1:${port}/0`]);
  assert.equal(noEnv.code, 1);
  assert.match(noEnv.stderr, /^account: --redis needs --allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS/);
  const unreachable = await accountTool(["--allow-net", REDIS_ENV], ["list", "--redis", `redis://127.0.0.1:${port}/0`]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /^account: cannot reach Redis at/);
  const bad = await accountTool(["--allow-net", REDIS_ENV], ["list", "--redis", "http://x"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^account: --redis must be a redis:\/\/ URL/);
  const both = await accountTool(["--allow-net", REDIS_ENV], [
    "list",
    "--redis",
    "redis://127.0.0.1:1/0",
    "--db",
    "x.db",
  ]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^account: --db and --redis do not go together/);
});
