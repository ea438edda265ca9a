/**
 * The cluster scenarios of the benchmark (bench/run.ts runs them after the
 * single-node ones and compares in the same run):
 *
 * - `cluster-crowd`: the crowd (10,000 clients in one room, 2,000 with
 *   `--quick`) over 2 nodes sharing one port with `--reuse-port`, so the
 *   kernel spreads the connections and both cores work. Goals: every
 *   message reaches all; p99 at most 0.8× the single node's crowd p99 and
 *   below limit_server's, both from the same run.
 * - `cluster-burst`: the burst (100 clients, 4 senders, closed loop) over the
 *   same 2 nodes: about half of the deliveries cross nodes. Deliveries/s
 *   and the ratio to the single node's burst.
 * - `cluster-latency`: one sender on node A, one receiver on A and one on B,
 *   500 timestamped lines at 100/s, timed in one process: the extra latency
 *   a cross-node line pays (goal: p50 at most 1 ms more than same-node).
 *
 * Each scenario starts its own `redis-server` (no persistence) on a free
 * loopback port.
 * @module
 */
import type { Goal, Row, Scenario, ScenarioName, Tools } from "./scenario.ts";
import { cpuSeconds, RAISE_AND_EXEC } from "./proc.ts";

/** What the runner lends these scenarios. */
export interface ClusterHelpers {
  /** A table row from a loadgen result. */
  rowFrom(scenario: ScenarioName, server: "teaparty", json: Record<string, unknown>): Row;
  /** Clients of the crowd (quick or not). */
  crowdClients(quick: boolean): number;
}

const ROOT = new URL("../", import.meta.url);
const MAIN_TS = decodeURIComponent(new URL("main.ts", ROOT).pathname);
const NODE_FLAGS = [
  "--host",
  "127.0.0.1",
  "--rate",
  "0",
  "--max-per-ip",
  "0",
  "--max-clients",
  "0",
  "--log-level",
  "warn",
];

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A child process with its output lines. */
class Child {
  readonly process: Deno.ChildProcess;
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];
  #ended = false;

  constructor(command: string, args: string[]) {
    this.process = new Deno.Command("bash", {
      args: ["-c", RAISE_AND_EXEC, "bench-cluster", command, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop()!;
        this.lines.push(...parts);
        if (this.lines.length > 200) this.lines.splice(0, this.lines.length - 200);
        for (const w of this.#waiters.splice(0)) w();
      }
    };
    Promise.all([pump(this.process.stdout), pump(this.process.stderr)]).finally(() => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  async waitFor(pattern: RegExp, ms: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    while (true) {
      for (const line of this.lines) {
        const m = pattern.exec(line);
        if (m) return m;
      }
      if (this.#ended || Date.now() > deadline) {
        throw new Error(`no output matching ${pattern}; last output:\n    ${this.lines.slice(-8).join("\n    ")}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        timer = setTimeout(r, deadline - Date.now());
      });
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    try {
      this.process.kill("SIGTERM");
    } catch { /* gone */ }
    const done = await Promise.race([this.process.status.then(() => true), sleep(7000).then(() => false)]);
    if (!done) {
      try {
        this.process.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await this.process.status;
  }
}

/** A redis-server and N teaparty nodes on it. */
class Cluster {
  readonly redis: Child;
  readonly nodes: Child[] = [];
  readonly ports: number[] = [];

  private constructor(redis: Child) {
    this.redis = redis;
  }

  /** Starts Redis and `count` nodes: all on `port` with --reuse-port, or each on a port of its own. */
  static async start(count: number, shared: boolean): Promise<Cluster> {
    const redisPort = freePort();
    const redis = new Child("redis-server", [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    const cluster = new Cluster(redis);
    try {
      await redis.waitFor(/Ready to accept connections/, 10_000);
      const port = freePort();
      for (let i = 0; i < count; i++) {
        const own = shared ? port : freePort();
        const node = new Child(Deno.execPath(), [
          "run",
          "--allow-net",
          "--allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS",
          "--unstable-net",
          "--v8-flags=--max-semi-space-size=8",
          MAIN_TS,
          ...NODE_FLAGS,
          "--port",
          String(own),
          ...(shared ? ["--reuse-port"] : []),
          "--redis",
          `redis://127.0.0.1:${redisPort}`,
        ]);
        cluster.nodes.push(node);
        await node.waitFor(/^listening on \S+:\d+\s*$/, 20_000);
        cluster.ports.push(own);
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  async cpu(): Promise<number> {
    let total = 0;
    for (const c of [this.redis, ...this.nodes]) total += await cpuSeconds(c.pid);
    return total;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n.stop();
    await this.redis.stop();
  }
}

/** Runs loadgen against a port; returns its JSON result. */
async function loadgen(tools: Tools, port: number, pid: number, args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(tools.loadgen, {
    args: ["--port", String(port), "--json", "--quiet", "--pid", String(pid), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const last = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`loadgen gave no result: ${new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3)}`);
  }
}

const num = (json: Record<string, unknown>, key: string) =>
  typeof json[key] === "number" ? json[key] as number : undefined;
const ms = (n: number | undefined) => n === undefined ? "—" : n < 10 ? n.toFixed(2) : n.toFixed(1);

/** The same-run row of a scenario on a server, if it ran. */
function earlierRow(earlier: readonly Row[], scenario: ScenarioName, server: string): Row | undefined {
  return earlier.find((r) => r.scenario === scenario && r.server === server && !r.error);
}

/** Runs loadgen on a fresh 2-node cluster sharing one port; the row notes the CPU of both nodes and Redis. */
async function onSharedPort(
  helpers: ClusterHelpers,
  tools: Tools,
  scenario: ScenarioName,
  args: string[],
): Promise<Row> {
  const cluster = await Cluster.start(2, true);
  try {
    const before = await cluster.cpu();
    const started = performance.now();
    const json = await loadgen(tools, cluster.ports[0], cluster.nodes[0].pid, args);
    const seconds = (performance.now() - started) / 1000;
    const used = (await cluster.cpu()) - before;
    const row = helpers.rowFrom(scenario, "teaparty", json);
    row.server = "teaparty" as Row["server"];
    row.notes.push(
      `2 nodes + Redis used ${
        (100 * used / seconds).toFixed(0)
      }% of a core over the whole run (CPU % column: node A only)`,
    );
    return row;
  } finally {
    await cluster.stop();
  }
}

/** Sends timestamped lines from a client on node A; times their arrival at a client on A and one on B. */
async function crossNodeLatency(count: number, perSecond: number): Promise<{ same: number[]; cross: number[] }> {
  const cluster = await Cluster.start(2, false);
  const conns: Deno.TcpConn[] = [];
  try {
    const sent = new Map<string, number>();
    const same: number[] = [];
    const cross: number[] = [];
    const login = async (port: number, nick: string, into?: number[]) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.setNoDelay(true);
      conns.push(conn);
      const entered = Promise.withResolvers<void>();
      (async () => {
        let rest = "";
        const buf = new Uint8Array(65536);
        const decoder = new TextDecoder();
        while (true) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          const now = performance.now();
          rest += decoder.decode(buf.subarray(0, n), { stream: true });
          const lines = rest.split("\r\n");
          rest = lines.pop()!;
          for (const line of lines) {
            if (line === `*** ${nick} has entered the room.`) entered.resolve();
            const m = /#L(\d+)#/.exec(line);
            if (m && into && sent.has(m[1])) into.push(now - sent.get(m[1])!);
          }
        }
      })();
      await conn.write(new TextEncoder().encode(`login ${nick}\r\n`));
      await Promise.race([
        entered.promise,
        sleep(10_000).then(() => Promise.reject(new Error(`${nick} did not log in`))),
      ]);
      return conn;
    };
    const sender = await login(cluster.ports[0], "sender");
    await login(cluster.ports[0], "near", same);
    await login(cluster.ports[1], "far", cross);
    await sleep(300); // presence settles
    const encoder = new TextEncoder();
    for (let i = 0; i < count; i++) {
      const id = String(i);
      sent.set(id, performance.now());
      await sender.write(encoder.encode(`#L${id}# latency probe\r\n`));
      await sleep(1000 / perSecond);
    }
    await sleep(500);
    return { same, cross };
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await cluster.stop();
  }
}

function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The cluster scenarios, in the shape bench/run.ts runs. */
export function clusterScenarios(helpers: ClusterHelpers): Scenario[] {
  const teapartyOnly = () => ["teaparty"] as Row["server"][];
  return [
    {
      name: "cluster-crowd",
      servers: teapartyOnly,
      run: (ctx) => {
        const clients = helpers.crowdClients(ctx.quick);
        return onSharedPort(helpers, ctx.tools, "cluster-crowd", [
          "--clients",
          String(clients),
          "--senders",
          "1",
          "--rate",
          "2",
          "--sender-thread",
          "--login-probe",
          "none",
          "--duration",
          ctx.quick ? "2" : "10",
          "--warmup",
          ctx.quick ? "0.5" : "2",
          "--login-timeout",
          "60",
        ]);
      },
      goals: (tp, _limit, quick, earlier) => {
        const clients = helpers.crowdClients(quick);
        const json = tp.loadgen ?? {};
        const ready = num(json, "ready") ?? 0;
        const expected = num(json, "expected") ?? 0;
        const delivered = num(json, "delivered") ?? 0;
        const single = earlierRow(earlier, "crowd", "teaparty");
        const limit = earlierRow(earlier, "crowd", "limit");
        const goals: Goal[] = [{
          name: `all ${clients} get every message`,
          pass: ready === clients && expected > 0 && delivered === expected && (num(json, "lost") ?? 1) === 0,
          measured: `${ready} in, ${delivered}/${expected}`,
        }];
        goals.push(
          single?.p99Ms !== undefined
            ? {
              name: `p99 ≤ 0.8× one node's (${ms(single.p99Ms)} ms)`,
              pass: tp.p99Ms !== undefined && tp.p99Ms <= 0.8 * single.p99Ms,
              measured: `${ms(tp.p99Ms)} ms`,
            }
            : { name: "p99 ≤ 0.8× one node's (run crowd too)", pass: false, measured: "no crowd run" },
          limit?.p99Ms !== undefined
            ? {
              name: `p99 < limit_server's (${ms(limit.p99Ms)} ms)`,
              pass: tp.p99Ms !== undefined && tp.p99Ms < limit.p99Ms,
              measured: `${ms(tp.p99Ms)} ms`,
            }
            : { name: "p99 < limit_server's (run crowd too)", pass: false, measured: "no crowd run" },
        );
        return goals;
      },
    },
    {
      name: "cluster-burst",
      servers: teapartyOnly,
      run: (ctx) =>
        onSharedPort(helpers, ctx.tools, "cluster-burst", [
          "--clients",
          "100",
          "--senders",
          "4",
          "--rate",
          "0",
          "--window",
          "8",
          "--duration",
          ctx.quick ? "2" : "10",
          "--warmup",
          ctx.quick ? "0.5" : "2",
        ]),
      goals: (tp, _limit, _quick, earlier) => {
        const single = earlierRow(earlier, "burst", "teaparty");
        const ratio = single?.deliveriesPerS && tp.deliveriesPerS
          ? tp.deliveriesPerS / single.deliveriesPerS
          : undefined;
        if (ratio !== undefined) tp.notes.push(`${ratio.toFixed(2)}× one node's burst in this run`);
        return [
          {
            name: "zero loss",
            pass: tp.lost === 0 && (tp.deliveriesPerS ?? 0) > 0,
            measured: tp.lost === undefined ? "—" : String(tp.lost),
          },
          {
            name: "ratio to one node reported",
            pass: ratio !== undefined,
            measured: ratio === undefined ? "no burst run" : `${ratio.toFixed(2)}×`,
          },
        ];
      },
    },
    {
      name: "cluster-latency",
      servers: teapartyOnly,
      run: async (ctx) => {
        const count = ctx.quick ? 200 : 500;
        const { same, cross } = await crossNodeLatency(count, 100);
        const p50Same = percentile(same, 0.5), p50Cross = percentile(cross, 0.5);
        const row: Row = {
          scenario: "cluster-latency",
          server: "teaparty",
          p50Ms: p50Cross,
          p99Ms: percentile(cross, 0.99),
          lost: 2 * count - same.length - cross.length,
          notes: [
            `cross-node p50/p99 ${ms(p50Cross)}/${ms(percentile(cross, 0.99))} ms, same-node ${ms(p50Same)}/${
              ms(percentile(same, 0.99))
            } ms, ${count} lines at 100/s`,
          ],
          goals: [],
          extra: { sameP50Ms: p50Same, crossP50Ms: p50Cross, received: { same: same.length, cross: cross.length } },
        };
        return row;
      },
      goals: (tp) => {
        const same = tp.extra.sameP50Ms as number | undefined;
        const cross = tp.extra.crossP50Ms as number | undefined;
        const extra = same !== undefined && cross !== undefined ? cross - same : undefined;
        return [
          {
            name: "cross-node p50 ≤ same-node + 1 ms",
            pass: extra !== undefined && extra <= 1,
            measured: extra === undefined ? "—" : `+${ms(extra)} ms`,
          },
          { name: "zero loss", pass: tp.lost === 0, measured: String(tp.lost ?? "—") },
        ];
      },
    },
  ];
}
