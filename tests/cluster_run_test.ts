/**
 * `npm run cluster -- --nodes 2`: a local Redis and two nodes sharing one
 * port (`--reuse-port`), all stopped by Ctrl-C; and `--reuse-port` itself.
 */
import assert from "node:assert/strict";
import { runCli, TestClient } from "./helpers.ts";
import { CLUSTER_PERMISSIONS, clusterNode, freePort, redisMissing, RedisServer } from "./redis_helpers.ts";
import { parseRunArgs } from "../cluster/run.ts";

const ignore = redisMissing;
const ROOT = new URL("..", import.meta.url);

Deno.test("the cluster tool reads --nodes and --port and passes every other flag to the nodes", () => {
  assert.deepEqual(parseRunArgs([]), { nodes: 2, port: 5005, rest: [] });
  assert.deepEqual(parseRunArgs(["--nodes", "3", "--http-port", "8080", "--port=7000", "--name", "Tea"]), {
    nodes: 3,
    port: 7000,
    rest: ["--http-port", "8080", "--name", "Tea"],
  });
  assert.throws(() => parseRunArgs(["--nodes", "0"]), {
    message: '--nodes needs a whole number from 1 to 64, not "0"',
  });
  assert.throws(() => parseRunArgs(["--nodes", "two"]), {
    message: '--nodes needs a whole number from 1 to 64, not "two"',
  });
  assert.throws(() => parseRunArgs(["--port", "70000"]), {
    message: '--port needs a port from 1 to 65535, not "70000"',
  });
  assert.throws(() => parseRunArgs(["--nodes"]), { message: "--nodes needs a value" });
});

/** Lines of a child's stdout as they come, with a wait for one that matches. */
function lineWaiter(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  (async () => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  return {
    lines,
    async waitFor(match: RegExp, ms = 20_000): Promise<string> {
      const deadline = Date.now() + ms;
      for (let seen = 0;;) {
        for (; seen < lines.length; seen++) if (match.test(lines[seen])) return lines[seen];
        if (ended) throw new Error(`ended before ${match}; got:\n${lines.join("\n")}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${match}; got:\n${lines.join("\n")}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          wake = r;
          timer = setTimeout(r, deadline - Date.now());
        });
        clearTimeout(timer);
      }
    },
  };
}

async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch {
    return true;
  }
}

Deno.test({
  name: "npm run cluster -- --nodes 2 starts Redis and two nodes on one port, and Ctrl-C stops them all",
  ignore,
  async fn() {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-run",
        "--allow-net",
        "--allow-read",
        "cluster/run.ts",
        "--nodes",
        "2",
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
        "--rate",
        "0",
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    const out = lineWaiter(child.stdout);
    try {
      const ready = await out.waitFor(/^cluster ready: 2 nodes on port \d+ \(Redis at redis:\/\/127\.0\.0\.1:\d+/);
      const redisPort = Number(/127\.0\.0\.1:(\d+)/.exec(ready)![1]);
      await out.waitFor(new RegExp(`^\\[node 2\\] listening on 127\\.0\\.0\\.1:${port}$`));
      const nodes = await new Deno.Command("redis-cli", {
        args: ["-p", String(redisPort), "SCARD", "tp:nodes"],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(nodes.stdout).trim(), "2");
      // Users connecting to the one port are in one chat, whichever node the kernel gave them.
      const clients: TestClient[] = [];
      for (const nick of ["ann", "ben", "cat", "dan"]) {
        const c = await TestClient.connect(port);
        await c.waitFor(/Log in with/);
        await c.send(`login ${nick}`);
        await c.waitFor(`*** ${nick} has entered the room.`);
        clients.push(c);
      }
      await clients[3].send("look");
      await clients[3].waitFor("*** In main (4): ann, ben, cat, dan");
      await clients[0].send("hello all");
      for (const c of clients.slice(1)) await c.waitFor("ann: hello all");
      child.kill("SIGINT");
      await out.waitFor(/^cluster: stopping \(Ctrl-C\); stopping every node and Redis$/);
      const status = await child.status;
      assert.equal(status.code, 0);
      for (const c of clients) await c.closed();
      assert.ok(await refused(port), "the nodes are gone");
      assert.ok(await refused(redisPort), "Redis is gone");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
    }
  },
});

Deno.test({
  name: "--reuse-port: two nodes listen on the same ports; without --unstable-net it is one line, exit 1",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    const port = freePort();
    const shared = ["--reuse-port", "--port", String(port)];
    const permissions = [...CLUSTER_PERMISSIONS, "--unstable-net"];
    await using a = await clusterNode(redis, shared, permissions);
    await using b = await clusterNode(redis, shared, permissions);
    assert.equal(a.port, port);
    assert.equal(b.port, port);
    const result = await runCli(
      ["--host", "127.0.0.1", "--port", String(port), "--reuse-port", "--redis", redis.url],
      20_000,
      CLUSTER_PERMISSIONS,
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^teaparty: cannot listen for telnet on 127\.0\.0\.1: --reuse-port needs deno run --unstable-net$/m,
    );
  },
});
