/**
 * `npm run cluster -- --nodes 2`: a local Redis and two nodes sharing one
 * port (`--reuse-port`), all stopped by Ctrl-C; and `--reuse-port` itself.
 */
import assert from "node:assert/strict";
import { runCli, TestClient, WAIT_MS } from "./helpers.ts";
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

/** Lines of a child's stdout or stderr as they come, with a wait for one that matches. */
function lineWaiter(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const done = (async () => {
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
    /** Resolves when the stream has ended. */
    done,
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

/** What a command prints. */
async function output(command: string, ...args: string[]): Promise<string> {
  return new TextDecoder().decode((await new Deno.Command(command, { args, stdout: "piped" }).output()).stdout);
}

/** A process's state letter and process group, from /proc (Linux; read with cat: Deno lets only -A read /proc/PID). */
async function procStat(pid: number): Promise<{ state: string; pgid: number }> {
  const fields = (await output("cat", `/proc/${pid}/stat`)).replace(/^.*\) /s, "").split(" ");
  return { state: fields[0], pgid: Number(fields[2]) };
}

/** The signals sent to a process and not yet delivered (its own and its threads' masks), from /proc (Linux). */
async function pendingSignals(pid: number): Promise<bigint> {
  const status = await output("cat", `/proc/${pid}/status`);
  return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].reduce((all, m) => all | BigInt(`0x${m[1]}`), 0n);
}

Deno.test({
  name: "a terminal's Ctrl-C (SIGINT to the whole process group) does not reach Redis: the nodes stop politely first",
  ignore: ignore || Deno.build.os !== "linux",
  async fn() {
    const port = freePort();
    // detached: the tool leads a process group of its own, as a shell runs a command in the foreground.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-run", "--allow-net", "--allow-read", "cluster/run.ts", "--nodes", "2"]
        .concat(["--port", String(port), "--host", "127.0.0.1", "--rate", "0"]),
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      detached: true,
    }).spawn();
    const out = lineWaiter(child.stdout);
    const err = lineWaiter(child.stderr);
    try {
      const ready = await out.waitFor(/^cluster ready: 2 nodes on port \d+ \(Redis at redis:\/\/127\.0\.0\.1:\d+/);
      const redisPort = Number(/127\.0\.0\.1:(\d+)/.exec(ready)![1]);
      assert.equal((await procStat(child.pid)).pgid, child.pid);
      const client = await TestClient.connect(port);
      await client.waitFor(/Log in with/);
      await client.send("login ann");
      await client.waitFor("*** ann has entered the room.");
      const info = await output("redis-cli", "-p", String(redisPort), "INFO", "server");
      const redisPid = Number(/^process_id:(\d+)/m.exec(info)![1]);
      // Redis is held still for a moment, so that a signal sent to it stays pending, to be seen.
      Deno.kill(redisPid, "SIGSTOP");
      let pending: bigint;
      try {
        // Until it has stopped a signal could still be delivered (SIGINT before the SIGSTOP).
        for (const deadline = Date.now() + WAIT_MS; (await procStat(redisPid)).state !== "T";) {
          assert.ok(Date.now() < deadline, "redis-server did not stop on SIGSTOP");
          await new Promise((resolve) => setTimeout(resolve, 1)); // no event says it: the state is read again
        }
        Deno.kill(-child.pid, "SIGINT"); // what the terminal does on Ctrl-C
        pending = await pendingSignals(redisPid);
      } finally {
        Deno.kill(redisPid, "SIGCONT");
      }
      // SIGINT, signal 2, is bit 1 of the mask: Redis must not have been sent it, only the tool and the nodes.
      assert.equal(pending & 2n, 0n, `redis-server got the SIGINT (pending signals 0x${pending.toString(16)})`);
      await out.waitFor(/^cluster: stopping \(Ctrl-C\); stopping every node and Redis$/);
      await client.closed();
      assert.equal((await child.status).code, 0);
      await err.done;
      // Each node left the cluster itself, Redis still there.
      const log = err.lines.filter((l) => l !== "");
      assert.ok(!log.some((l) => /redis down/.test(l)), log.join("\n"));
      assert.equal(log.filter((l) => / INFO redis closed node=/.test(l)).length, 2, log.join("\n"));
      assert.ok(await refused(port), "the nodes are gone");
      assert.ok(await refused(redisPort), "Redis is gone");
    } finally {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch { /* exited */ }
      await child.status;
    }
  },
});
