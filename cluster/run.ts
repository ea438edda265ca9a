/**
 * Tries cluster mode on one machine in one command: starts a local
 * `redis-server` on a free loopback port (no persistence: a trial) and N
 * teaparty nodes sharing the same ports (`--reuse-port`, so the kernel
 * spreads connections over them and every core is used), prints where to
 * connect, and stops them all on Ctrl-C (or when one node stops).
 *
 * ```sh
 * npm run cluster -- --nodes 2                       # telnet on 5005
 * npm run cluster -- --nodes 3 --port 7000 --http-port 8080 --irc-port 6667
 * ```
 *
 * Other flags are passed to every node.
 * @module
 */
import { REDIS_ENV } from "./redis.ts";

/** What the tool was asked for. */
export interface RunOptions {
  nodes: number;
  port: number;
  /** Flags passed to every node. */
  rest: string[];
}

/** Reads the tool's arguments (`--nodes N`, `--port P`, the rest for the nodes); throws a one-line Error. */
export function parseRunArgs(args: string[]): RunOptions {
  let nodes = "2";
  let port = "5005";
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--(nodes|port)(?:=(.*))?$/.exec(args[i]);
    if (!m) {
      rest.push(args[i]);
      continue;
    }
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    if (m[1] === "nodes") nodes = value;
    else port = value;
  }
  const n = Number(nodes);
  if (!/^\d+$/.test(nodes) || n < 1 || n > 64) {
    throw new Error(`--nodes needs a whole number from 1 to 64, not "${nodes}"`);
  }
  const p = Number(port);
  if (!/^\d+$/.test(port) || p < 1 || p > 65535) throw new Error(`--port needs a port from 1 to 65535, not "${port}"`);
  return { nodes: n, port: p, rest };
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** Prints every line of a stream with a prefix; resolves with the first that matches (undefined if none came). */
function watchLines(stream: ReadableStream<Uint8Array>, prefix: string, match: RegExp): Promise<string | undefined> {
  const found = Promise.withResolvers<string | undefined>();
  (async () => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        console.log(`${prefix}${line}`);
        if (match.test(line)) found.resolve(line);
      }
    }
    found.resolve(undefined);
  })().catch(() => found.resolve(undefined));
  return found.promise;
}

/** Waits (at most `ms`, or until `gone` resolves) until something accepts connections on 127.0.0.1:`port`. */
async function accepting(port: number, ms: number, gone: Promise<unknown>): Promise<boolean> {
  let over = false;
  gone.then(() => over = true);
  const deadline = Date.now() + ms;
  while (!over && Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 20)); // a starting server gives no other sign
    }
  }
  return false;
}

/**
 * Starts `redis-server` in a session of its own (`detached`: setsid), out of
 * the terminal's foreground process group: a Ctrl-C there reaches this tool
 * and the nodes but not Redis, which this tool stops once the nodes have let
 * their users go and left the cluster (they need Redis for that). As nothing
 * else would stop it should this tool be killed, on Linux it is started
 * through util-linux's `setpriv --pdeathsig TERM` where that is installed:
 * it is sent SIGTERM when its parent dies.
 */
function startRedis(args: string[]): Deno.ChildProcess {
  const options = { stdin: "null", stdout: "null", stderr: "inherit", detached: true } as const;
  if (Deno.build.os === "linux") {
    try {
      return new Deno.Command("setpriv", { args: ["--pdeathsig", "TERM", "--", "redis-server", ...args], ...options })
        .spawn();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return new Deno.Command("redis-server", { args, ...options }).spawn();
}

/** Runs the cluster until Ctrl-C; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  let options: RunOptions;
  try {
    options = parseRunArgs(args);
  } catch (error) {
    console.error(`cluster: ${(error as Error).message}`);
    return 2;
  }
  const redisPort = freePort();
  const url = `redis://127.0.0.1:${redisPort}`;
  let redis: Deno.ChildProcess;
  const install = "install it: apt-get install redis-server";
  try {
    redis = startRedis(["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  } catch (error) {
    console.error(`cluster: cannot start redis-server (${(error as Error).message}); ${install}`);
    return 1;
  }
  let exit: number | undefined;
  const exited = redis.status.then((s) => exit = s.code);
  if (!(await accepting(redisPort, 5000, exited))) {
    // 127: setpriv found no redis-server to run.
    if (exit === 127) console.error(`cluster: cannot start redis-server (not found); ${install}`);
    else console.error(`cluster: redis-server did not start on port ${redisPort}`);
    try {
      redis.kill("SIGTERM");
    } catch { /* exited */ }
    await redis.status;
    return 1;
  }
  const root = new URL("..", import.meta.url);
  const nodes: Deno.ChildProcess[] = [];
  const stopAll = async () => {
    for (const n of nodes) {
      try {
        n.kill("SIGTERM");
      } catch { /* exited */ }
    }
    await Promise.all(nodes.map((n) => n.status));
    try {
      redis.kill("SIGTERM");
    } catch { /* exited */ }
    await redis.status;
  };
  const stopped = Promise.withResolvers<string>();
  const onSignal = () => stopped.resolve("stopping (Ctrl-C)");
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  redis.status.then((s) => stopped.resolve(`redis-server stopped (exit ${s.code})`));
  try {
    for (let i = 1; i <= options.nodes; i++) {
      const node = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-net",
          "--allow-read=web",
          `--allow-env=${REDIS_ENV.join(",")}`,
          "--unstable-net",
          "main.ts",
          "--reuse-port",
          "--port",
          String(options.port),
          "--redis",
          url,
          ...options.rest,
        ],
        cwd: root,
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      nodes.push(node);
      node.status.then((s) => stopped.resolve(`node ${i} stopped (exit ${s.code})`));
      const ready = watchLines(node.stdout, `[node ${i}] `, /^listening on /);
      const line = await Promise.race([ready, stopped.promise.then(() => undefined)]);
      if (line === undefined) break;
    }
    if (nodes.length === options.nodes) {
      console.log(
        `cluster ready: ${options.nodes} node${options.nodes === 1 ? "" : "s"} on port ${options.port} ` +
          `(Redis at ${url}, nothing kept); Ctrl-C stops them all`,
      );
    }
    const why = await stopped.promise;
    console.log(`cluster: ${why}; stopping every node and Redis`);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await stopAll();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await run(Deno.args));
