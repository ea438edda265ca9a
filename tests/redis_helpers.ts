/**
 * Test helpers for cluster mode: a real `redis-server` (Debian's package)
 * on a free loopback port, without persistence, and cluster nodes as real
 * server processes on it.
 *
 * Tests that need Redis skip with a message when `redis-server` is missing,
 * and fail under CI (`CI` set), where it must be installed:
 *
 * @example
 * ```ts
 * import { clusterNode, RedisServer, redisMissing } from "./redis_helpers.ts";
 * Deno.test({ name: "…", ignore: redisMissing, async fn() {
 *   await using redis = await RedisServer.start();
 *   await using a = await clusterNode(redis);
 * } });
 * ```
 * @module
 */
import { ServerProcess, TestClient } from "./helpers.ts";

/** Whether `redis-server` can be run here. */
export async function hasRedisServer(): Promise<boolean> {
  try {
    const out = await new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const available = await hasRedisServer();
if (!available) {
  const message = "redis-server is not installed: the cluster tests cannot run (apt-get install redis-server)";
  if (Deno.env.get("CI")) throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
}
/** True when the cluster tests must be skipped (no `redis-server`, outside CI). */
export const redisMissing = !available;

/** The permissions a cluster node needs besides the usual ones. */
export const CLUSTER_PERMISSIONS = [
  "--allow-net",
  "--allow-read=web",
  "--allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS",
];

/** A free TCP port on 127.0.0.1 (taken and let go at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A `redis-server` child process on 127.0.0.1. */
export class RedisServer implements AsyncDisposable {
  readonly port: number;
  #child: Deno.ChildProcess | undefined;
  #args: string[];

  private constructor(port: number, args: string[]) {
    this.port = port;
    this.#args = args;
  }

  /** The URL nodes are given. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts `redis-server` on a free port with no persistence (plus `extra` settings) and waits until it answers. */
  static async start(extra: string[] = []): Promise<RedisServer> {
    const port = freePort();
    const server = new RedisServer(port, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      ...extra,
    ]);
    await server.resume();
    return server;
  }

  /** Starts (again) on the same port, e.g. after {@linkcode RedisServer.stop}. */
  async resume(): Promise<void> {
    this.#child = new Deno.Command("redis-server", { args: this.#args, stdout: "null", stderr: "null" }).spawn();
    const deadline = Date.now() + 5000;
    while (true) {
      if ((await this.cli("PING")).trim() === "PONG") return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port}`);
      await new Promise((r) => setTimeout(r, 20)); // no event tells when it accepts: poll its port
    }
  }

  /** Runs `redis-cli` against this server; returns its output. */
  async cli(...args: string[]): Promise<string> {
    const out = await new Deno.Command("redis-cli", {
      args: ["-h", "127.0.0.1", "-p", String(this.port), ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout);
  }

  /** Kills the server (SIGKILL: as if it crashed) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
  }

  /** Stops the server. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts a cluster node (the real server process) on `redis` with free ports for telnet, IRC and HTTP. */
export async function clusterNode(
  redis: RedisServer,
  extra: string[] = [],
  permissions: string[] = CLUSTER_PERMISSIONS,
): Promise<ClusterNodeProcess> {
  const proc = new ServerProcess(
    [
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--irc-port",
      "0",
      "--http-port",
      "0",
      "--rate",
      "0",
      "--redis",
      redis.url,
      ...extra,
    ],
    permissions,
  ) as ClusterNodeProcess;
  try {
    await proc.listening();
    const irc = await proc.waitForStdout(/^listening on irc:\/\//);
    proc.ircPort = Number(/:(\d+)$/.exec(irc)![1]);
    const http = await proc.waitForStdout(/^listening on http:\/\//);
    proc.httpPort = Number(/:(\d+)\/?$/.exec(http)![1]);
  } catch (error) {
    await proc[Symbol.asyncDispose]();
    throw error;
  }
  return proc;
}

/** A cluster node process with its door ports. */
export interface ClusterNodeProcess extends ServerProcess {
  ircPort: number;
  httpPort: number;
}

/** Logs in over telnet on a node (with the password of a registered nick) and waits for the entry line. */
export async function telnetOn(node: ClusterNodeProcess, nick: string, password?: string): Promise<TestClient> {
  const client = await node.connect();
  await client.waitFor(/Log in with/);
  await client.send(password === undefined ? `login ${nick}` : `login ${nick} ${password}`);
  await client.waitFor(`*** ${nick} has entered the room.`);
  return client;
}

/** Registers over IRC on a node and joins #main; waits for the end of NAMES. */
export async function ircOn(node: ClusterNodeProcess, nick: string): Promise<TestClient> {
  const client = await TestClient.connect(node.ircPort);
  await client.send(`NICK ${nick}`);
  await client.send(`USER ${nick} 0 * :${nick}`);
  await client.waitFor(new RegExp(` 001 ${nick} `));
  await client.send("JOIN #main");
  await client.waitFor(new RegExp(` 366 ${nick} #main `));
  return client;
}
