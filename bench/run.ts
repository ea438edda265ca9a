/**
 * The benchmark runner: starts teaparty and the C `limit_server` (the
 * "one core, no overhead" ceiling) on loopback, drives each with the shared
 * load generator (`../shared/loadgen`, built into `bench/out/loadgen/`), and
 * prints one table with a PASS/FAIL verdict for every goal.
 *
 * Scenarios: `burst`, `steady-5`, `steady-50`, `crowd`, `idle`, `stuck`,
 * `startup`, for the IRC door `irc-burst` and `irc-crowd` (see
 * {@linkcode SCENARIOS}; ngIRCd joins irc-burst when /usr/sbin/ngircd is installed),
 * for the other doors `ws-burst`, `ws-crowd`, `ws-idle` (loadgen's
 * `--proto ws` on `/ws`), `mixed` (telnet and WebSocket clients in one room,
 * two loadgens at once) and `tls-burst` (the TLS telnet door, through
 * bench/tls_relay.c: loadgen speaks no TLS), and for cluster mode
 * `cluster-crowd`, `cluster-burst` and `cluster-latency` (bench/cluster.ts).
 *
 * @example
 * ```sh
 * deno task bench                      # the full run, several minutes
 * npm run bench -- --quick             # about 3 minutes
 * deno run -A bench/run.ts --only burst,startup --json
 * deno run -A bench/run.ts --out bench/out/table.md
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { formatSummary, summarise } from "./cpuprofile.ts";
import { makeCertificates } from "../tests/tls_helpers.ts";
import { clusterScenarios } from "./cluster.ts";
import {
  type Cli,
  type Context,
  type Goal,
  type Row,
  type Runner,
  type Scenario,
  type ScenarioName,
  SCENARIOS,
  type ServerKind,
  type Tools,
} from "./scenario.ts";
import { cpuSeconds, RAISE_AND_EXEC } from "./proc.ts";
import { waitForQuiet } from "./quiet.ts";
import { figuresOf, medianIndex, ratio, scenarioCharts, type ScenarioRun, spreadNotes } from "./report.ts";

// ---------------------------------------------------------------- paths

function filePath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

const ROOT = new URL("../", import.meta.url);
const MAIN_TS = filePath(new URL("main.ts", ROOT));
const WEB_DIR = filePath(new URL("web/", ROOT));
const RELAY_TS = filePath(new URL("./tls_relay.ts", import.meta.url));

let dbCount = 0;
/**
 * A fresh database file for each server started with `--db PATH`
 * (`PATH.1`, `PATH.2`, …): history replayed from an earlier scenario would
 * reach loadgen's clients as stale messages.
 */
function freshDb(base: string): string {
  const file = `${base}.${++dbCount}`;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      Deno.removeSync(f);
    } catch {
      // not there
    }
  }
  return file;
}
/** The V8 flags of the `start` task (deno.json, package.json): a small young generation. */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=8";
const LOADGEN_SRC = new URL("../../shared/loadgen/", import.meta.url);
const LOADGEN_BUILD = new URL("./out/loadgen/", import.meta.url);
const PROF_DIR = filePath(new URL("./out/prof/", import.meta.url));
const CHART_DIR = filePath(new URL("./out/charts/", import.meta.url));
const LOADGEN_SOURCES = ["Makefile", "loadgen.c", "limit_server.c"];

/** An error with a message meant for the user; printed without a stack. */
class BenchError extends Error {}

// ---------------------------------------------------------------- command line

const HELP = `Usage: deno run -A bench/run.ts [options]    (or: deno task bench, npm run bench -- [options])

Runs every scenario against teaparty and the C limit_server (same run, same machine)
and prints one table with deliveries/s, latency, loss, server CPU and RSS, the
teaparty/limit ratio and a PASS/FAIL verdict for each goal.

Options:
  --quick          shorter runs and fewer clients (2,000 instead of 10,000); about 3 minutes
  --only NAMES     run only these scenarios (comma separated or repeated):
                   ${SCENARIOS.join(", ")}
  --db PATH        start teaparty with an SQLite file (a fresh PATH.N per server) instead of in memory
  --json           print the results as JSON on stdout (the table goes to stderr)
  --out FILE       also write the markdown table (with machine details) to FILE
  --server-flags=FLAGS  extra teaparty flags, split at spaces (e.g. --server-flags="--flush-budget 8")
  --quiet-wait SEC before each server's run, wait up to SEC seconds (default 30; 0: never) for
                   the host to be quiet (under 0.25 cores busy for 3 s): the machine is shared
  --runs N         run each scenario N times (default 1); the table shows the median run, the notes
                   the min/median/max of each figure and of its ratio to limit_server's; every second
                   run starts the servers in the opposite order (limit_server first)
  --charts DIR     write an SVG chart per scenario there (default bench/out/charts; "none": no charts)
  --cpu-prof       run teaparty under 'deno run --cpu-prof' (profiles in bench/out/prof/) and
                   print the functions with the most self time (see bench/cpuprofile.ts)
  -h, --help       show this help

The load generator is built from ../shared/loadgen (beside the project root) into
bench/out/loadgen/. Servers run under 'ulimit -n 65536' (or the hard limit if lower).
Exit status: 0 when every scenario ran (whatever the goals say), 1 on errors.`;

function parseCli(args: string[]): Cli | undefined {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean" },
      only: { type: "string", multiple: true },
      db: { type: "string" },
      json: { type: "boolean" },
      out: { type: "string" },
      "cpu-prof": { type: "boolean" },
      "server-flags": { type: "string", multiple: true },
      "quiet-wait": { type: "string" },
      runs: { type: "string" },
      charts: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  let only: ScenarioName[] = [...SCENARIOS];
  if (values.only) {
    const names = values.only.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
    for (const name of names) {
      if (!(SCENARIOS as readonly string[]).includes(name)) {
        throw new BenchError(`unknown scenario "${name}" for --only; the scenarios are: ${SCENARIOS.join(", ")}`);
      }
    }
    only = SCENARIOS.filter((s) => names.includes(s));
  }
  if (values.db !== undefined && values.db.trim() === "") throw new BenchError("--db needs a file path");
  const quietWait = Number(values["quiet-wait"] ?? 30);
  if (!Number.isFinite(quietWait) || quietWait < 0) {
    throw new BenchError(`--quiet-wait needs seconds (0 or more), not "${values["quiet-wait"]}"`);
  }
  const runs = Number(values.runs ?? 1);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
    throw new BenchError(`--runs needs a whole number from 1 to 20, not "${values.runs}"`);
  }
  return {
    runs,
    charts: values.charts ?? CHART_DIR,
    quick: values.quick === true,
    cpuProf: values["cpu-prof"] === true,
    only,
    db: values.db,
    json: values.json === true,
    out: values.out,
    quietWait,
    serverFlags: (values["server-flags"] ?? []).flatMap((v) => v.split(/\s+/)).filter((v) => v !== ""),
  };
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function progress(text: string): void {
  console.error(`[bench] ${text}`);
}

/** Resolves with the promise's value, or `undefined` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** VmRSS of a process in KiB, from /proc/PID/status. */
async function vmRss(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The soft open-files limit of a process, from /proc/PID/limits. */
async function openFilesLimit(pid: number): Promise<number | undefined> {
  try {
    const limits = await Deno.readTextFile(`/proc/${pid}/limits`);
    const m = /^Max open files\s+(\d+)/m.exec(limits);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function eachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  let buffer = "";
  try {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, nl).replace(/\r$/, ""));
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch { /* the process went away */ }
  if (buffer) onLine(buffer);
}

async function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  await sleep(0);
  return port;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function num(json: Record<string, unknown>, key: string): number | undefined {
  const v = json[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fmtInt = (n: number) => int.format(n);
const fmtMs = (n: number | undefined) => n === undefined ? "—" : n < 10 ? n.toFixed(2) : n.toFixed(1);
const fmtMiB = (kb: number | undefined) => kb === undefined ? "—" : (kb / 1024).toFixed(1);
const fmtRate = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);

// ---------------------------------------------------------------- child processes

/** Every child process still running, so that any exit path can kill it. */
const live = new Set<Deno.ChildProcess>();

function track(child: Deno.ChildProcess): Deno.ChildProcess {
  live.add(child);
  child.status.finally(() => live.delete(child));
  return child;
}

function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}

/** A server started by the benchmark, listening on 127.0.0.1. */
class Server {
  readonly kind: ServerKind;
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  port = 0;
  /** The last lines the server wrote to stderr. */
  readonly tail: string[] = [];
  #watchers = new Set<(line: string) => void>();
  #streams: Promise<void>[];
  #exit: Deno.CommandStatus | undefined;

  private constructor(kind: ServerKind, command: string, args: string[]) {
    this.kind = kind;
    this.child = track(
      new Deno.Command("bash", {
        args: ["-c", RAISE_AND_EXEC, "bench-server", command, ...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    );
    this.pid = this.child.pid; // bash execs the server: same pid
    this.child.status.then((s) => this.#exit = s);
    const onLine = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > 40) this.tail.shift();
      for (const watch of this.#watchers) watch(line);
    };
    this.#streams = [eachLine(this.child.stdout, onLine), eachLine(this.child.stderr, onLine)];
  }

  /** Calls `watch` with every further line of output; returns the unsubscriber. */
  watch(watch: (line: string) => void): () => void {
    this.#watchers.add(watch);
    return () => this.#watchers.delete(watch);
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** Why the server is not usable, with its last output. */
  describeDeath(): string {
    const how = this.#exit
      ? `exited with ${this.#exit.signal ? `signal ${this.#exit.signal}` : `code ${this.#exit.code}`}`
      : "is not responding";
    const tail = this.tail.slice(-8).join("\n    ");
    return `${this.kind} (pid ${this.pid}) ${how}${tail ? `; last output:\n    ${tail}` : ""}`;
  }

  /** Waits for a line matching `pattern`; fails if the server exits first or after `ms`. */
  async waitFor(pattern: RegExp, ms: number): Promise<RegExpExecArray> {
    const found = Promise.withResolvers<RegExpExecArray>();
    for (const line of this.tail) {
      const m = pattern.exec(line);
      if (m) return m;
    }
    const stop = this.watch((line) => {
      const m = pattern.exec(line);
      if (m) found.resolve(m);
    });
    try {
      const result = await within(
        Promise.race([found.promise, this.child.status.then(() => undefined)]),
        ms,
      );
      if (!result) {
        throw new BenchError(`${this.describeDeath()}\n  (waited ${ms} ms for output matching ${pattern})`);
      }
      return result;
    } finally {
      stop();
    }
  }

  /** Starts teaparty with the benchmark flags and waits for `listening on`. */
  static async teaparty(
    cli: Cli,
    profile = cli.cpuProf,
    flags: string[] = [],
    more: string[] = [],
    v8 = true,
  ): Promise<Server> {
    const perms = v8 ? ["--allow-net", V8_FLAGS, ...more] : ["--allow-net", ...more];
    if (profile) perms.push("--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`);
    const extra: string[] = [];
    if (cli.db) {
      perms.push("--allow-read", "--allow-write");
      extra.push("--db", freshDb(cli.db));
    }
    const server = new Server("teaparty", Deno.execPath(), [
      "run",
      ...perms,
      MAIN_TS,
      ...teapartyFlags,
      ...extra,
      ...flags,
    ]);
    try {
      const m = await server.waitFor(/^listening on (\S+):(\d+)\s*$/, 20_000);
      server.port = Number(m[2]);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Starts the C limit_server on a free port and waits for its banner. */
  static async limit(bin: string): Promise<Server> {
    const port = await freePort();
    const server = new Server("limit", bin, ["--port", String(port), "--host", "127.0.0.1"]);
    try {
      await server.waitFor(/^limit_server: \w+ mode on /, 10_000);
      server.port = port;
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Starts ngIRCd (`-n`, in the foreground) with a configuration file and waits until it listens on `port`. */
  static async ngircd(bin: string, conf: string, port: number): Promise<Server> {
    const server = new Server("ngircd", bin, ["-n", "-f", conf]);
    try {
      await server.waitFor(new RegExp(`Now listening on \\[127\\.0\\.0\\.1\\]:${port}\\b`), 10_000);
      server.port = port;
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** SIGTERM, then SIGKILL if it has not exited after a few seconds. */
  async stop(): Promise<void> {
    if (this.alive) {
      try {
        this.child.kill("SIGTERM");
      } catch { /* gone */ }
      if (!(await within(this.child.status, 7000))) {
        try {
          this.child.kill("SIGKILL");
        } catch { /* gone */ }
      }
    }
    await this.child.status;
    await within(Promise.all(this.#streams), 2000);
  }
}

const teapartyFlags = [
  "--port",
  "0",
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

// ---------------------------------------------------------------- the load generator

/** Copies the loadgen sources to bench/out/loadgen/ and builds them there if needed. */
async function buildTools(): Promise<Tools> {
  const src = filePath(LOADGEN_SRC);
  const build = filePath(LOADGEN_BUILD);
  const srcInfo = await Deno.stat(src).catch(() => undefined);
  if (!srcInfo?.isDirectory) {
    throw new BenchError(
      `the load generator is missing: ${src} does not exist.\n` +
        `  bench/run.ts needs the shared loadgen sources (Makefile, loadgen.c, limit_server.c) in ` +
        `../shared/loadgen, beside the project root (${filePath(ROOT)}).`,
    );
  }
  let newest = 0;
  for (const name of LOADGEN_SOURCES) {
    const t = await mtime(src + name);
    if (t === undefined) throw new BenchError(`the load generator is incomplete: ${src}${name} is missing`);
    newest = Math.max(newest, t);
  }
  await Deno.mkdir(build, { recursive: true });
  for (const name of LOADGEN_SOURCES) {
    const copyTime = await mtime(build + name);
    const srcTime = (await mtime(src + name))!;
    if (copyTime === undefined || copyTime < srcTime) await Deno.copyFile(src + name, build + name);
  }
  const tools = { loadgen: build + "loadgen", limit: build + "limit_server" };
  const stale = async (bin: string) => {
    const t = await mtime(bin);
    return t === undefined || t < newest;
  };
  if ((await stale(tools.loadgen)) || (await stale(tools.limit))) {
    progress(`building loadgen and limit_server in ${build}`);
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("make", { args: ["-C", build, "loadgen", "limit_server"], stdin: "null" })
        .output();
    } catch (error) {
      throw new BenchError(`cannot run make to build the load generator: ${(error as Error).message}`);
    }
    if (!out.success) {
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      throw new BenchError(`building the load generator failed (make -C ${build}):\n${text.trim()}`);
    }
  }
  for (const bin of [tools.loadgen, tools.limit]) {
    const info = await Deno.stat(bin).catch(() => undefined);
    if (!info?.isFile || ((info.mode ?? 0o755) & 0o111) === 0) {
      throw new BenchError(`${bin} was not built (or is not executable); try: make -C ${build}`);
    }
  }
  return tools;
}

/** Loadgen settings for one run (the port, --pid, --json and --quiet are added). */
interface LoadgenRun {
  /** loadgen's --proto (default book). */
  proto?: string;
  clients: number;
  senders?: number;
  rate?: number;
  window?: number;
  duration: number;
  warmup?: number;
  idle?: boolean;
  senderThread?: boolean;
  loginProbe?: string;
  connectRate?: number;
  loginTimeout?: number;
  /** Another port than the server's (the HTTP door, a relay). */
  port?: number;
  /** loadgen's --nick-prefix (two loadgens on one server need different ones). */
  nickPrefix?: string;
  /** loadgen's --drain. */
  drain?: number;
}

function loadgenArgs(run: LoadgenRun): string[] {
  const args = ["--clients", String(run.clients), "--duration", String(run.duration)];
  if (run.proto) args.push("--proto", run.proto);
  if (run.idle) args.push("--idle");
  else {
    args.push("--senders", String(run.senders ?? 1), "--rate", String(run.rate ?? 0));
    if (run.window !== undefined) args.push("--window", String(run.window));
    if (run.warmup !== undefined) args.push("--warmup", String(run.warmup));
  }
  if (run.senderThread) args.push("--sender-thread");
  if (run.loginProbe !== undefined) args.push("--login-probe", run.loginProbe);
  if (run.connectRate !== undefined) args.push("--connect-rate", String(run.connectRate));
  if (run.loginTimeout !== undefined) args.push("--login-timeout", String(run.loginTimeout));
  if (run.nickPrefix !== undefined) args.push("--nick-prefix", run.nickPrefix);
  if (run.drain !== undefined) args.push("--drain", String(run.drain));
  return args;
}

/**
 * Runs loadgen against a server and returns its JSON result (the last line
 * of its output). When `stop` resolves, loadgen is interrupted (it still
 * reports what it measured).
 */
async function runLoadgen(
  tools: Tools,
  server: Server,
  run: LoadgenRun,
  stop?: Promise<unknown>,
): Promise<Record<string, unknown>> {
  const port = run.port ?? server.port;
  const args = ["--port", String(port), "--json", "--quiet", "--pid", String(server.pid), ...loadgenArgs(run)];
  const child = track(
    new Deno.Command(tools.loadgen, { args, stdin: "null", stdout: "piped", stderr: "piped" }).spawn(),
  );
  const limitS = (run.loginTimeout ?? 30) + (run.warmup ?? 2) + run.duration + 2 + 30;
  let timedOut = false;
  const soft = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGINT"); // loadgen finishes early and still reports
    } catch { /* gone */ }
  }, limitS * 1000);
  const hard = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, (limitS + 15) * 1000);
  stop?.then(() => {
    try {
      child.kill("SIGINT");
    } catch { /* gone */ }
  });
  let out: Deno.CommandOutput;
  try {
    out = await child.output();
  } finally {
    clearTimeout(soft);
    clearTimeout(hard);
  }
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr).trim();
  const last = stdout.trim().split("\n").pop() ?? "";
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(last);
  } catch {
    const why = out.signal ? `was killed by ${out.signal}` : `exited with code ${out.code}`;
    throw new BenchError(
      `loadgen ${why} without a JSON result (loadgen ${args.join(" ")})` +
        `${stderr ? `\n  stderr: ${stderr.split("\n").slice(-5).join("\n  ")}` : ""}` +
        `${server.alive ? "" : `\n  ${server.describeDeath()}`}`,
    );
  }
  if (timedOut) (json.warnings as string[] | undefined)?.push(`stopped after ${limitS} s (time limit)`);
  if (json.server_alive_at_end === 0 || !server.alive) {
    await sleep(200);
    throw new BenchError(`the server died during the run: ${server.describeDeath()}`);
  }
  return json;
}

/** Scenarios with latency goals: their notes show loadgen's kernel-arrival latency too. */
const LATENCY_SCENARIOS = new Set<ScenarioName>(["steady-5", "steady-50", "crowd", "ws-crowd", "mixed"]);

/** A table row from a loadgen result. */
export function rowFrom(scenario: ScenarioName, server: ServerKind, json: Record<string, unknown>): Row {
  const windowS = num(json, "window_s");
  const cpu = num(json, "server_cpu_s");
  const row: Row = {
    scenario,
    server,
    deliveriesPerS: num(json, "deliveries_per_s"),
    p50Ms: num(json, "lat_ms_p50"),
    p99Ms: num(json, "lat_ms_p99"),
    lossPct: num(json, "loss_pct"),
    lost: num(json, "lost"),
    cpuPct: cpu !== undefined && windowS ? (100 * cpu) / windowS : undefined,
    rssKb: num(json, "server_rss_kb_end"),
    notes: [],
    goals: [],
    extra: {},
    loadgen: json,
  };
  const kp50 = num(json, "klat_ms_p50"), kp99 = num(json, "klat_ms_p99");
  if (kp50 !== undefined && kp99 !== undefined && (num(json, "klat_n") ?? 0) > 0) {
    row.extra.kernelP50Ms = kp50;
    row.extra.kernelP99Ms = kp99;
    if (LATENCY_SCENARIOS.has(scenario)) row.notes.push(`kernel-arrival p50/p99 ${fmtMs(kp50)}/${fmtMs(kp99)} ms`);
  }
  const clients = num(json, "clients") ?? 0;
  const ready = num(json, "ready") ?? 0;
  if (ready < clients) row.notes.push(`only ${fmtInt(ready)} of ${fmtInt(clients)} logged in`);
  const dropped = num(json, "disconnected_after_ready") ?? 0;
  if (dropped) row.notes.push(`${fmtInt(dropped)} clients disconnected`);
  const other = num(json, "host_other_cores");
  if (other !== undefined && other > 0.3) row.notes.push(`other processes used ${other.toFixed(1)} cores`);
  const warnings = Array.isArray(json.warnings) ? json.warnings as string[] : [];
  for (const w of warnings) {
    if (/logged in|lost their connection/.test(w)) continue; // said above
    row.notes.push(`loadgen: ${w.replace(/: results may be a lower bound for the server/, " (lower bound)")}`);
  }
  return row;
}

// ---------------------------------------------------------------- scenarios

async function startServer(ctx: Context, kind: ServerKind): Promise<Server> {
  return kind === "teaparty" ? await Server.teaparty(ctx.cli) : await Server.limit(ctx.tools.limit);
}

async function withServer<T>(ctx: Context, kind: ServerKind, fn: (server: Server) => Promise<T>): Promise<T> {
  const server = await startServer(ctx, kind);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/**
 * A loadgen scenario whose rows also say what a write cost: the server's CPU
 * time per write and the lines per write, from the server's own counters
 * (teaparty's `/metrics`, limit_server's closing line), from just before
 * loadgen connects to its end. Both servers do one write per receiver per
 * flush, so at a given CPU share the time between two writes to a receiver,
 * and with it the latency, follows the cost of a write.
 */
function countedScenario(scenario: ScenarioName, run: (quick: boolean) => LoadgenRun): Runner {
  return async (ctx, kind) => {
    const { server, httpPort } = kind === "teaparty"
      ? await httpServer(ctx)
      : { server: await startServer(ctx, kind), httpPort: 0 };
    const counters = async () =>
      httpPort
        ? await Promise.all(["teaparty_writes_total", "teaparty_deliveries_total"].map((s) => metric(httpPort, s)))
        : [0, 0];
    let row: Row, cpu: number, writes: number, deliveries: number;
    try {
      const [cpu0, [writes0, deliveries0]] = await Promise.all([cpuSeconds(server.pid), counters()]);
      const json = await runLoadgen(ctx.tools, server, run(ctx.quick));
      row = rowFrom(scenario, kind, json);
      const [cpu1, [writes1, deliveries1]] = await Promise.all([cpuSeconds(server.pid), counters()]);
      [cpu, writes, deliveries] = [cpu1 - cpu0, writes1 - writes0, deliveries1 - deliveries0];
    } finally {
      await server.stop();
    }
    if (!httpPort) { // limit_server counts from its start, and says so as it exits
      const m = server.tail.map((l) => /\bdeliveries=(\d+)\b.*\bwrites=(\d+)/.exec(l)).find((x) => x);
      [deliveries, writes] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
    }
    if (writes > 0 && Number.isFinite(cpu)) {
      const [usPerWrite, linesPerWrite] = [(1e6 * cpu) / writes, deliveries / writes];
      row.extra.cpuUsPerWrite = usPerWrite;
      row.extra.linesPerWrite = linesPerWrite;
      row.notes.push(`${usPerWrite.toFixed(1)} µs CPU and ${linesPerWrite.toFixed(1)} lines per write`);
    }
    return row;
  };
}

const burst = countedScenario("burst", (quick) => ({
  clients: 100,
  senders: 4,
  rate: 0,
  window: 8,
  duration: quick ? 2 : 10,
  warmup: quick ? 0.5 : 2,
}));

const steady = (rate: number) =>
  countedScenario(rate === 5 ? "steady-5" : "steady-50", (quick) => ({
    clients: 1000,
    senders: 10,
    rate,
    senderThread: true,
    duration: quick ? 2 : 10,
    warmup: quick ? 0.5 : 2,
  }));

const crowdClients = (quick: boolean) => quick ? 2000 : 10_000;

/** burst's load, for every door: 100 clients, 4 senders, closed loop (`--window 8`). */
const burstLoad = (quick: boolean) => ({
  clients: 100,
  senders: 4,
  rate: 0,
  window: 8,
  duration: quick ? 2 : 10,
  warmup: quick ? 0.5 : 2,
});

/** crowd's load, for every door: everyone in one room, one sender at 2 msg/s. */
const crowdLoad = (quick: boolean) => ({
  clients: crowdClients(quick),
  senders: 1,
  rate: 2,
  senderThread: true,
  loginProbe: "none",
  duration: quick ? 2 : 10,
  warmup: quick ? 0.5 : 2,
  loginTimeout: 60,
});

/** Notes how long the crowd's login took. */
const crowdLoginNote = (row: Row) =>
  row.notes.push(
    `login of ${fmtInt(num(row.loadgen ?? {}, "ready") ?? 0)} took ${
      (num(row.loadgen ?? {}, "login_s") ?? 0).toFixed(1)
    } s`,
  );

const crowd: Runner = (ctx, kind) =>
  withServer(ctx, kind, async (server) => {
    const clients = crowdClients(ctx.quick);
    const json = await runLoadgen(ctx.tools, server, {
      clients,
      senders: 1,
      rate: 2,
      senderThread: true,
      loginProbe: "none",
      duration: ctx.quick ? 2 : 10,
      warmup: ctx.quick ? 0.5 : 2,
      loginTimeout: 60,
    });
    const row = rowFrom("crowd", kind, json);
    row.notes.push(`login of ${fmtInt(clients)} took ${(num(json, "login_s") ?? 0).toFixed(1)} s`);
    return row;
  });

/** Idle connections; `plain`: teaparty as `deno run --allow-net main.ts`, without the start task's V8 flags. */
const idleRunner = (scenario: ScenarioName, plain: boolean): Runner => async (ctx, kind) => {
  const server = plain && kind === "teaparty"
    ? await Server.teaparty(ctx.cli, ctx.cli.cpuProf, [], [], false)
    : await startServer(ctx, kind);
  try {
    return await idleOn(ctx, kind, server, scenario);
  } finally {
    await server.stop();
  }
};

async function idleOn(ctx: Context, kind: ServerKind, server: Server, scenario: ScenarioName): Promise<Row> {
  const clients = crowdClients(ctx.quick);
  await sleep(300);
  const emptyKb = await vmRss(server.pid);
  if (emptyKb === undefined) throw new BenchError(`cannot read /proc/${server.pid}/status`);
  const json = await runLoadgen(ctx.tools, server, {
    clients,
    idle: true,
    loginProbe: "none",
    duration: ctx.quick ? 1.5 : 5,
    loginTimeout: 60,
  });
  const row = rowFrom(scenario, kind, json);
  row.deliveriesPerS =
    row.p50Ms =
    row.p99Ms =
    row.lossPct =
    row.lost =
    row.cpuPct =
      undefined;
  const endKb = num(json, "server_rss_kb_end") ?? 0;
  const alive = num(json, "alive_end") ?? 0;
  const growthKb = endKb - emptyKb;
  const perConnKb = alive > 0 ? growthKb / alive : NaN;
  row.extra = { emptyRssKb: emptyKb, endRssKb: endKb, growthKb, perConnKb, connections: alive };
  row.notes.push(
    `${fmtInt(alive)} idle conns: empty ${fmtMiB(emptyKb)} MiB, +${fmtMiB(growthKb)} MiB, ` +
      `${perConnKb.toFixed(2)} KiB/conn`,
  );
  return row;
}

const idle = idleRunner("idle", false);
const idlePlain = idleRunner("idle-plain", true);

/** A client that logs in and then never reads. */
async function stuckClient(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    conn.setNoDelay(true);
  } catch { /* fine */ }
  await conn.write(new TextEncoder().encode("login stuck\r\n"));
  return conn;
}

/** Reads what the server sent the stuck client; true if the connection was closed by the server. */
async function wasClosed(conn: Deno.TcpConn): Promise<boolean> {
  const buf = new Uint8Array(1 << 16);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const n = await within(conn.read(buf).catch(() => null), 1500);
    if (n === undefined) return false; // quiet and still open
    if (n === null) return true; // EOF or reset
  }
  return false;
}

const stuck: Runner = (ctx, kind) =>
  withServer(ctx, kind, async (server) => {
    const duration = ctx.quick ? 10 : 60;
    const warmup = 2;
    const conn = await stuckClient(server.port);
    let droppedAt: number | undefined;
    const t0 = performance.now();
    const unwatch = server.watch((line) => {
      if (/disconnect/.test(line) && /nick=stuck\b/.test(line)) droppedAt ??= (performance.now() - t0) / 1000;
    });
    const samples: { t: number; kb: number }[] = [];
    const sampler = setInterval(async () => {
      const kb = await vmRss(server.pid);
      if (kb !== undefined) samples.push({ t: (performance.now() - t0) / 1000, kb });
    }, 1000);
    let json: Record<string, unknown>;
    try {
      json = await runLoadgen(ctx.tools, server, { clients: 100, senders: 4, rate: 0, window: 8, duration, warmup });
    } finally {
      clearInterval(sampler);
      unwatch();
    }
    const closed = await wasClosed(conn);
    try {
      conn.close();
    } catch { /* closed */ }
    const row = rowFrom("stuck", kind, json);
    // Flatness over the measured window: from the end of login + warm-up on.
    const start = (num(json, "login_s") ?? 0) + warmup;
    const window = samples.filter((s) => s.t >= start);
    const used = window.length >= 3 ? window : samples;
    const kbs = used.map((s) => s.kb);
    const min = Math.min(...kbs), max = Math.max(...kbs);
    const spread = kbs.length ? (max - min) / (max + min) : NaN; // ±spread around the midpoint
    row.rssKb = max;
    row.extra = {
      rssSamplesKb: samples,
      rssMinKb: min,
      rssMaxKb: max,
      rssSpread: spread,
      stuckDisconnected: closed,
      stuckDroppedAfterS: droppedAt,
    };
    row.notes.push(
      `RSS ${fmtMiB(min)}–${fmtMiB(max)} MiB over ${kbs.length} samples (±${(100 * spread).toFixed(1)}%)`,
      closed
        ? `stuck client disconnected${droppedAt !== undefined ? ` after ${droppedAt.toFixed(1)} s` : ""}`
        : "stuck client still connected",
    );
    return row;
  });

async function startupOnce(cli: Cli): Promise<number> {
  const perms = cli.db ? ["--allow-net", "--allow-read", "--allow-write"] : ["--allow-net"];
  const args = ["run", V8_FLAGS, ...perms, MAIN_TS, ...teapartyFlags, ...(cli.db ? ["--db", freshDb(cli.db)] : [])];
  const t0 = performance.now();
  const child = track(
    new Deno.Command(Deno.execPath(), { args, stdin: "null", stdout: "piped", stderr: "piped" }).spawn(),
  );
  const seen = Promise.withResolvers<number>();
  const lines: string[] = [];
  const onLine = (line: string) => {
    if (/^listening on /.test(line)) seen.resolve(performance.now() - t0);
    lines.push(line);
  };
  const streams = [eachLine(child.stdout, onLine), eachLine(child.stderr, onLine)];
  try {
    const ms = await within(Promise.race([seen.promise, child.status.then(() => undefined)]), 20_000);
    if (ms === undefined) {
      throw new BenchError(`teaparty did not print "listening on" (output: ${lines.slice(-5).join(" | ")})`);
    }
    return ms;
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    if (!(await within(child.status, 7000))) child.kill("SIGKILL");
    await within(Promise.all(streams), 2000);
  }
}

const startup: Runner = async (ctx, kind) => {
  if (kind !== "teaparty") throw new Error("startup is measured for teaparty only");
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await startupOnce(ctx.cli));
  const ms = median(times);
  return {
    scenario: "startup",
    server: "teaparty",
    notes: [
      `spawn → "listening on": median ${ms.toFixed(0)} ms of 5 (${times.map((t) => t.toFixed(0)).join(", ")} ms)`,
    ],
    goals: [],
    extra: { startupMs: times, medianMs: ms },
  };
};

// ---------------------------------------------------------------- IRC door scenarios

/**
 * The IRC door under the same loads as the telnet door: loadgen's `--proto irc`
 * (NICK/USER, JOIN #bench, PRIVMSG; no echo without echo-message) against
 * teaparty's `--irc-port`, and ngIRCd (Debian's, with flood penalties off, like
 * `--rate 0`) when installed; limit_server runs the same load in its own
 * protocol as the ceiling.
 */
const NGIRCD_BIN = "/usr/sbin/ngircd";

async function ircServer(ctx: Context, kind: ServerKind): Promise<Server> {
  if (kind === "limit") return await Server.limit(ctx.tools.limit);
  if (kind === "ngircd") {
    const port = await freePort();
    const dir = filePath(new URL("./out/ngircd/", import.meta.url));
    await Deno.mkdir(dir, { recursive: true });
    const conf = `${dir}ngircd.conf`;
    await Deno.writeTextFile(
      conf,
      `[Global]\nName = bench.ngircd\nInfo = bench\nListen = 127.0.0.1\nPorts = ${port}\n` +
        "[Limits]\nMaxConnections = 0\nMaxConnectionsIP = 0\nMaxJoins = 0\nMaxPenaltyTime = 0\n" +
        "PingTimeout = 600\nPongTimeout = 600\n[Options]\nDNS = no\nIdent = no\nPAM = no\n",
    );
    return await Server.ngircd(NGIRCD_BIN, conf, port);
  }
  const server = await Server.teaparty(ctx.cli, ctx.cli.cpuProf, ["--irc-port", "0"]);
  try {
    server.port = Number((await server.waitFor(/^listening on irc:\/\/\S+:(\d+)\s*$/, 20_000))[1]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

function ircScenario(scenario: ScenarioName, run: (quick: boolean) => LoadgenRun, extra?: (row: Row) => void): Runner {
  return async (ctx, kind) => {
    const server = await ircServer(ctx, kind);
    try {
      const json = await runLoadgen(ctx.tools, server, {
        ...run(ctx.quick),
        proto: kind === "limit" ? undefined : "irc",
      });
      const row = rowFrom(scenario, kind, json);
      if (kind === "limit") row.notes.push("its own line protocol (no IRC), same load");
      extra?.(row);
      return row;
    } finally {
      await server.stop();
    }
  };
}

const ircBurst = ircScenario("irc-burst", burstLoad);

const ircCrowd = ircScenario("irc-crowd", crowdLoad, crowdLoginNote);

const both = () => ["teaparty", "limit"] as ServerKind[];
const lossGoal = (row: Row): Goal => ({
  name: "zero loss",
  pass: row.lost === 0 && (row.deliveriesPerS ?? 0) > 0,
  measured: row.lost === undefined ? "—" : fmtInt(row.lost),
});
const below = (name: string, value: number | undefined, limit: number, unit: string): Goal => ({
  name,
  pass: value !== undefined && value < limit,
  measured: value === undefined ? "—" : `${value < 10 ? value.toFixed(2) : value.toFixed(1)}${unit}`,
});

/**
 * teaparty's figure at most `max` times limit_server's in every run of the
 * scenario (`--runs`; the runs are in `extra.runs`, else the row itself counts).
 */
function ratioInEveryRun(tp: Row, key: "p50" | "p99", max: number): Goal {
  const runs = (tp.extra.runs as ScenarioRun[] | undefined) ?? [];
  const ratios = runs.map((r) => ratio(r, key));
  const name = `${key} ≤ ${max}× limit${runs.length > 1 ? ` in all ${runs.length} runs` : ""}`;
  if (ratios.length === 0 || ratios.some((r) => r === undefined)) {
    return { name, pass: false, measured: "no limit run" };
  }
  return {
    name,
    pass: ratios.every((r) => r! <= max),
    measured: ratios.map((r) => `${r!.toFixed(2)}×`).join(", "),
  };
}

/** ngIRCd's IRC burst figure measured here before (issue 9), for runs without ngIRCd installed. */
const NGIRCD_BURST_BEFORE = 1_800_000;

const ircScenarios: Scenario[] = [
  {
    name: "irc-burst",
    run: ircBurst,
    servers: (quick) => {
      const kinds: ServerKind[] = quick ? ["teaparty", "limit"] : both();
      try {
        if (Deno.statSync(NGIRCD_BIN).isFile) kinds.push("ngircd");
      } catch { /* not installed */ }
      return kinds;
    },
    ratio: { of: "deliveries/s", get: (r) => r.deliveriesPerS },
    goals: (tp, _limit, _quick, earlier) => {
      const ngircd = earlier.find((r) => r.scenario === "irc-burst" && r.server === "ngircd" && !r.error);
      const base = ngircd?.deliveriesPerS ?? NGIRCD_BURST_BEFORE;
      return [
        {
          name: `≥2× ngIRCd (${fmtRate(base)}${ngircd ? ", this run" : ", measured before"})`,
          pass: (tp.deliveriesPerS ?? 0) >= 2 * base,
          measured: tp.deliveriesPerS === undefined
            ? "—"
            : `${fmtRate(tp.deliveriesPerS)} (${((tp.deliveriesPerS) / base).toFixed(2)}×)`,
        },
        lossGoal(tp),
      ];
    },
  },
  {
    name: "irc-crowd",
    run: ircCrowd,
    servers: both,
    ratio: { of: "CPU", get: (r) => r.cpuPct },
    goals: (tp, _limit, quick, earlier) => {
      const clients = crowdClients(quick);
      const json = tp.loadgen ?? {};
      const ready = num(json, "ready") ?? 0;
      const expected = num(json, "expected") ?? 0;
      const delivered = num(json, "delivered") ?? 0;
      const telnet = earlier.find((r) => r.scenario === "crowd" && r.server === "teaparty" && !r.error);
      const loginS = num(json, "login_s");
      return [
        {
          name: `all ${fmtInt(clients)} get every message`,
          pass: ready === clients && expected > 0 && delivered === expected && (num(json, "lost") ?? 1) === 0,
          measured: `${fmtInt(ready)} in, ${fmtInt(delivered)}/${fmtInt(expected)}`,
        },
        telnet?.p99Ms !== undefined
          ? {
            name: `p99 ≤ telnet crowd's (${fmtMs(telnet.p99Ms)} ms)`,
            pass: tp.p99Ms !== undefined && tp.p99Ms <= telnet.p99Ms,
            measured: `${fmtMs(tp.p99Ms)} ms`,
          }
          : below("p99 < 150 ms (no telnet crowd run)", tp.p99Ms, 150, " ms"),
        below(`${fmtInt(clients)} seated < 10 s`, loginS, 10, " s"),
      ];
    },
  },
];

// ---------------------------------------------------------------- WebSocket, mixed and TLS door scenarios

/**
 * The WebSocket door under the telnet door's loads: loadgen's `--proto ws`
 * (masked text frames up, one JSON event per frame down) on teaparty's
 * `/ws`. limit_server has no WebSocket: its rows run the same load in its
 * own line protocol, as the ceiling. `--allow-origin http://127.0.0.1` lets
 * loadgen's Origin header in.
 */
const HTTP_FLAGS = ["--http-port", "0", "--allow-origin", "http://127.0.0.1"];

/** teaparty with the HTTP door open; resolves with the server and the HTTP port. */
async function httpServer(ctx: Context): Promise<{ server: Server; httpPort: number }> {
  const server = await Server.teaparty(ctx.cli, ctx.cli.cpuProf, HTTP_FLAGS, [`--allow-read=${WEB_DIR}`]);
  try {
    const httpPort = Number((await server.waitFor(/^listening on http:\/\/\S+:(\d+)\s*$/, 20_000))[1]);
    return { server, httpPort };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** One value of a `/metrics` series, e.g. `teaparty_chat_renders_total{dialect="json"}`; 0 if absent. */
async function metric(httpPort: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return 0;
}

/** Waits until `/metrics` says at least `users` are logged in; throws after `ms`. */
async function usersLoggedIn(httpPort: number, users: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while ((await metric(httpPort, "teaparty_users")) < users) {
    if (performance.now() > deadline) throw new BenchError(`fewer than ${users} users logged in after ${ms} ms`);
    await sleep(100);
  }
}

function wsScenario(scenario: ScenarioName, run: (quick: boolean) => LoadgenRun, extra?: (row: Row) => void): Runner {
  return async (ctx, kind) => {
    if (kind === "limit") {
      return await withServer(ctx, kind, async (server) => {
        const row = rowFrom(scenario, kind, await runLoadgen(ctx.tools, server, run(ctx.quick)));
        row.notes.push("its own line protocol over TCP (no WebSocket), same load");
        extra?.(row);
        return row;
      });
    }
    const { server, httpPort } = await httpServer(ctx);
    try {
      const row = rowFrom(
        scenario,
        kind,
        await runLoadgen(ctx.tools, server, { ...run(ctx.quick), proto: "ws", port: httpPort }),
      );
      extra?.(row);
      return row;
    } finally {
      await server.stop();
    }
  };
}

const wsBurst = wsScenario("ws-burst", burstLoad);

const wsCrowd = wsScenario("ws-crowd", crowdLoad, crowdLoginNote);

/** Idle connections' memory: RSS growth over the empty server, per connection. */
async function idleMemory(ctx: Context, scenario: ScenarioName, server: Server, run: LoadgenRun): Promise<Row> {
  await sleep(300);
  const emptyKb = await vmRss(server.pid);
  if (emptyKb === undefined) throw new BenchError(`cannot read /proc/${server.pid}/status`);
  const json = await runLoadgen(ctx.tools, server, run);
  const row = rowFrom(scenario, server.kind, json);
  row.deliveriesPerS =
    row.p50Ms =
    row.p99Ms =
    row.lossPct =
    row.lost =
    row.cpuPct =
      undefined;
  const endKb = num(json, "server_rss_kb_end") ?? 0;
  const alive = num(json, "alive_end") ?? 0;
  const growthKb = endKb - emptyKb;
  const perConnKb = alive > 0 ? growthKb / alive : NaN;
  row.extra = { emptyRssKb: emptyKb, endRssKb: endKb, growthKb, perConnKb, connections: alive };
  row.notes.push(
    `${fmtInt(alive)} idle conns: empty ${fmtMiB(emptyKb)} MiB, +${fmtMiB(growthKb)} MiB, ` +
      `${perConnKb.toFixed(2)} KiB/conn`,
  );
  return row;
}

const wsIdle: Runner = async (ctx, kind) => {
  const run: LoadgenRun = {
    clients: crowdClients(ctx.quick),
    idle: true,
    loginProbe: "none",
    duration: ctx.quick ? 1.5 : 5,
    loginTimeout: 60,
  };
  if (kind === "limit") {
    return await withServer(ctx, kind, async (server) => {
      const row = await idleMemory(ctx, "ws-idle", server, run);
      row.notes.push("its own line protocol over TCP (no WebSocket)");
      return row;
    });
  }
  const { server, httpPort } = await httpServer(ctx);
  try {
    return await idleMemory(ctx, "ws-idle", server, { ...run, proto: "ws", port: httpPort });
  } finally {
    await server.stop();
  }
};

/**
 * Mixed: half the crowd over telnet, half over WebSocket, in one room, with
 * one sender (a telnet client) at 2 msg/s. Two loadgens run at once: the
 * WebSocket one only receives (`--senders 0`; every payload it gets is
 * another loadgen's, which it counts as `garbled`), and is logged in before
 * the telnet one starts. Every chat line must reach all of both halves, and
 * `teaparty_chat_renders_total` must grow by exactly one per line in each
 * dialect (a broadcast is rendered once per dialect, whatever the number of
 * receivers). limit_server runs the whole crowd in its own protocol.
 */
const mixed: Runner = async (ctx, kind) => {
  const half = crowdClients(ctx.quick) / 2;
  const telnetRun: LoadgenRun = {
    clients: half,
    senders: 1,
    rate: 2,
    senderThread: true,
    loginProbe: "none",
    duration: ctx.quick ? 2 : 10,
    warmup: ctx.quick ? 0.5 : 2,
    loginTimeout: 60,
    nickPrefix: "t",
  };
  if (kind === "limit") {
    return await withServer(ctx, kind, async (server) => {
      const row = rowFrom("mixed", kind, await runLoadgen(ctx.tools, server, { ...telnetRun, clients: 2 * half }));
      row.notes.push(`${fmtInt(2 * half)} clients of its own line protocol (no WebSocket), same sender`);
      return row;
    });
  }
  const { server, httpPort } = await httpServer(ctx);
  try {
    const telnetDone = Promise.withResolvers<void>();
    const wsResult = runLoadgen(ctx.tools, server, {
      proto: "ws",
      port: httpPort,
      clients: half,
      senders: 0,
      rate: 0,
      duration: 600, // stopped (SIGINT) when the telnet half is done
      warmup: 0,
      loginTimeout: 60,
      nickPrefix: "w",
    }, telnetDone.promise);
    wsResult.catch(() => {});
    let telnet: Record<string, unknown>;
    let before: number[], after: number[];
    const renders = () =>
      Promise.all(["telnet", "json"].map((d) => metric(httpPort, `teaparty_chat_renders_total{dialect="${d}"}`)));
    try {
      await usersLoggedIn(httpPort, half, 90_000);
      before = await renders();
      telnet = await runLoadgen(ctx.tools, server, telnetRun);
      after = await renders();
    } finally {
      telnetDone.resolve();
    }
    const ws = await wsResult;
    const row = rowFrom("mixed", kind, telnet);
    const sent = num(telnet, "sent_total") ?? 0;
    const wsReady = num(ws, "ready") ?? 0;
    const wsExpected = sent * wsReady;
    const wsDelivered = num(ws, "garbled") ?? 0;
    const [telnetRenders, jsonRenders] = [after[0] - before[0], after[1] - before[1]];
    row.extra = { sent, wsReady, wsExpected, wsDelivered, telnetRenders, jsonRenders, wsLoadgen: ws };
    row.notes.push(
      `WebSocket half: ${fmtInt(wsReady)} in, ${fmtInt(wsDelivered)}/${fmtInt(wsExpected)} delivered`,
      `chat renders per line: telnet ${fmtInt(telnetRenders)}/${fmtInt(sent)}, json ${fmtInt(jsonRenders)}/${
        fmtInt(sent)
      }`,
    );
    const dropped = num(ws, "disconnected_after_ready") ?? 0;
    if (dropped) row.notes.push(`${fmtInt(dropped)} WebSocket clients disconnected`);
    return row;
  } finally {
    await server.stop();
  }
};

const RELAY_C = filePath(new URL("./tls_relay.c", import.meta.url));
const RELAY_BIN = filePath(new URL("./out/tls_relay", import.meta.url));

/**
 * The relay program: bench/tls_relay.c (C and OpenSSL, built into
 * bench/out/ when missing or older than its source), or bench/tls_relay.ts
 * when it cannot be built (no C compiler or no OpenSSL headers).
 */
async function relayCommand(): Promise<{ argv: string[]; kind: "C" | "Deno" }> {
  const built = await mtime(RELAY_BIN), source = await mtime(RELAY_C);
  if (source !== undefined && (built === undefined || built < source)) {
    const out = await new Deno.Command("cc", {
      args: ["-O2", "-o", RELAY_BIN, RELAY_C, "-lssl", "-lcrypto"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output().catch(() => undefined);
    if (!out?.success) {
      progress("cannot build bench/tls_relay.c (cc with OpenSSL headers, libssl-dev): using bench/tls_relay.ts");
      return { argv: [Deno.execPath(), "run", "--allow-net", "--allow-read", RELAY_TS], kind: "Deno" };
    }
  }
  return { argv: [RELAY_BIN], kind: "C" };
}

/** A relay process in front of `target` (TLS with `ca`); resolves with it and its port. */
async function startRelay(
  target: number,
  ca?: string,
): Promise<{ child: Deno.ChildProcess; port: number; kind: string }> {
  const { argv, kind } = await relayCommand();
  const args = [...argv, "--target", String(target)];
  if (ca) args.push("--tls", "--ca", ca); // (the C relay does not verify: loopback only)
  const child = track(
    new Deno.Command("bash", {
      args: ["-c", RAISE_AND_EXEC, "bench-relay", ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn(),
  );
  const port = Promise.withResolvers<number>();
  eachLine(child.stdout, (line) => {
    const m = /^relay listening on \S+:(\d+)$/.exec(line);
    if (m) port.resolve(Number(m[1]));
  });
  const found = await within(Promise.race([port.promise, child.status.then(() => undefined)]), 15_000);
  if (found === undefined) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    throw new BenchError(`the ${kind} relay did not start (${args.join(" ")})`);
  }
  return { child, port: found, kind };
}

async function stopRelay(relay: { child: Deno.ChildProcess }): Promise<void> {
  try {
    relay.child.kill("SIGTERM");
  } catch { /* gone */ }
  await relay.child.status;
}

/**
 * The burst load on the TLS telnet door. loadgen speaks no TLS, so each of
 * its connections goes through a relay (bench/tls_relay.c, an epoll +
 * OpenSSL process; bench/tls_relay.ts if it cannot be built) that speaks TLS
 * to the door. A fresh teaparty is first driven the same way through the
 * same relay speaking plain TCP to the telnet door, and the row reports TLS
 * against that; the relay's CPU and the server's CPU per delivery are shown
 * too. limit_server runs through the plain relay.
 */
const tlsBurst: Runner = async (ctx, kind) => {
  const run: LoadgenRun = {
    clients: 100,
    senders: 4,
    rate: 0,
    window: 8,
    duration: ctx.quick ? 2 : 10,
    warmup: ctx.quick ? 0.5 : 2,
  };
  const throughRelay = async (server: Server, target: number, ca?: string) => {
    const relay = await startRelay(target, ca);
    try {
      const cpu0 = await cpuSeconds(relay.child.pid);
      const json = await runLoadgen(ctx.tools, server, { ...run, port: relay.port });
      const cpu1 = await cpuSeconds(relay.child.pid);
      const runS = (num(json, "login_s") ?? 0) + (run.warmup ?? 0) + run.duration;
      const relayCpuPct = Number.isFinite(cpu1 - cpu0) ? (100 * (cpu1 - cpu0)) / runS : undefined;
      return { json, relayCpuPct, relayKind: relay.kind };
    } finally {
      await stopRelay(relay);
    }
  };
  if (kind === "limit") {
    return await withServer(ctx, kind, async (server) => {
      const { json, relayCpuPct, relayKind } = await throughRelay(server, server.port);
      const row = rowFrom("tls-burst", kind, json);
      row.notes.push(`through the plain ${relayKind} relay (relay CPU ${relayCpuPct?.toFixed(0) ?? "?"}%)`);
      return row;
    });
  }
  // A fresh server for each run: history would replay the first run's lines to the second's clients.
  const plain = await withServer(ctx, kind, (server) => throughRelay(server, server.port));
  const dir = await Deno.makeTempDir({ prefix: "teaparty-bench-tls-" });
  try {
    const certs = await makeCertificates(dir);
    const server = await Server.teaparty(
      ctx.cli,
      ctx.cli.cpuProf,
      ["--tls-port", "0", "--tls-cert", certs.cert, "--tls-key", certs.key],
      [`--allow-read=${dir}`],
    );
    try {
      const tlsPort = Number((await server.waitFor(/^listening on telnets:\/\/\S+:(\d+)\s*$/, 20_000))[1]);
      const tls = await throughRelay(server, tlsPort, certs.ca);
      const row = rowFrom("tls-burst", kind, tls.json);
      const plainRate = num(plain.json, "deliveries_per_s");
      const plainCpu = (num(plain.json, "server_cpu_s") ?? NaN) / (num(plain.json, "window_s") ?? NaN);
      const ratio = plainRate && row.deliveriesPerS !== undefined ? row.deliveriesPerS / plainRate : undefined;
      row.extra = {
        plainThroughRelay: plain.json,
        plainRelayCpuPct: plain.relayCpuPct,
        relayCpuPct: tls.relayCpuPct,
        tlsToPlain: ratio,
      };
      row.notes.push(
        `plain telnet through the same relay: ${plainRate === undefined ? "—" : fmtRate(plainRate)} deliveries/s, ` +
          `CPU ${(100 * plainCpu).toFixed(0)}%`,
        `TLS/plain ${ratio === undefined ? "—" : `${(100 * ratio).toFixed(0)}%`}`,
        `server CPU per delivery: TLS ${usPerDelivery(tls.json)} µs, plain ${usPerDelivery(plain.json)} µs`,
        `${tls.relayKind} relay CPU ${tls.relayCpuPct?.toFixed(0) ?? "?"}% (TLS), ${
          plain.relayCpuPct?.toFixed(0) ?? "?"
        }% (plain)`,
      );
      return row;
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

/** The server's CPU time per delivery in the measured window, in µs (a figure the relay's own cost does not set). */
function usPerDelivery(json: Record<string, unknown>): string {
  const cpu = num(json, "server_cpu_s"), windowS = num(json, "window_s"), rate = num(json, "deliveries_per_s");
  return cpu !== undefined && windowS && rate ? ((1e6 * cpu) / (rate * windowS)).toFixed(2) : "?";
}

/** The teaparty row of `scenario` measured earlier in this run, if any. */
function earlierRow(earlier: readonly Row[], scenario: ScenarioName): Row | undefined {
  return earlier.find((r) => r.scenario === scenario && r.server === "teaparty" && !r.error);
}

const doorScenarios: Scenario[] = [
  {
    name: "ws-burst",
    run: wsBurst,
    servers: both,
    ratio: { of: "deliveries/s", get: (r) => r.deliveriesPerS },
    goals: (tp, _limit, _quick, earlier) => {
      const telnet = earlierRow(earlier, "burst");
      const share = telnet?.deliveriesPerS && tp.deliveriesPerS !== undefined
        ? tp.deliveriesPerS / telnet.deliveriesPerS
        : undefined;
      return [
        {
          name: telnet?.deliveriesPerS
            ? `≥60% of telnet burst (${fmtRate(telnet.deliveriesPerS)})`
            : "≥60% of telnet burst (not run: add burst)",
          pass: share !== undefined && share >= 0.6,
          measured: share === undefined ? "—" : `${(100 * share).toFixed(0)}%`,
        },
        lossGoal(tp),
      ];
    },
  },
  {
    name: "ws-crowd",
    run: wsCrowd,
    servers: both,
    ratio: { of: "CPU", get: (r) => r.cpuPct },
    goals: (tp, _limit, quick, earlier) => {
      const clients = crowdClients(quick);
      const json = tp.loadgen ?? {};
      const ready = num(json, "ready") ?? 0;
      const expected = num(json, "expected") ?? 0;
      const delivered = num(json, "delivered") ?? 0;
      const telnet = earlierRow(earlier, "crowd");
      return [
        {
          name: `all ${fmtInt(clients)} get every message`,
          pass: ready === clients && expected > 0 && delivered === expected && (num(json, "lost") ?? 1) === 0,
          measured: `${fmtInt(ready)} in, ${fmtInt(delivered)}/${fmtInt(expected)}`,
        },
        telnet?.p99Ms !== undefined
          ? {
            name: `p99 ≤ 1.3× telnet crowd's (${fmtMs(telnet.p99Ms)} ms)`,
            pass: tp.p99Ms !== undefined && tp.p99Ms <= 1.3 * telnet.p99Ms,
            measured: `${fmtMs(tp.p99Ms)} ms (${tp.p99Ms === undefined ? "—" : (tp.p99Ms / telnet.p99Ms).toFixed(2)}×)`,
          }
          : { name: "p99 ≤ 1.3× telnet crowd's (not run: add crowd)", pass: false, measured: `${fmtMs(tp.p99Ms)} ms` },
      ];
    },
  },
  {
    name: "ws-idle",
    run: wsIdle,
    servers: both,
    ratio: { of: "KiB/conn", get: (r) => r.extra.perConnKb as number | undefined },
    goals: (tp) => [{
      name: "≤ 16 KiB/conn",
      pass: (tp.extra.perConnKb as number | undefined ?? Infinity) <= 16,
      measured: `${(tp.extra.perConnKb as number | undefined)?.toFixed(2) ?? "—"} KiB`,
    }],
  },
  {
    name: "mixed",
    run: mixed,
    servers: both,
    ratio: { of: "CPU", get: (r) => r.cpuPct },
    goals: (tp) => {
      const x = tp.extra as Record<string, number>;
      const json = tp.loadgen ?? {};
      const telnetOk = (num(json, "lost") ?? 1) === 0 && (num(json, "expected") ?? 0) > 0 &&
        num(json, "delivered") === num(json, "expected");
      return [
        {
          name: "zero loss (both halves)",
          pass: telnetOk && x.wsExpected > 0 && x.wsDelivered === x.wsExpected,
          measured: `telnet ${fmtInt(num(json, "lost") ?? NaN)} lost, WebSocket ${
            fmtInt(x.wsExpected - x.wsDelivered)
          } lost`,
        },
        {
          name: "rendered once per line per dialect",
          pass: x.sent > 0 && x.telnetRenders === x.sent && x.jsonRenders === x.sent,
          measured: `telnet ${fmtInt(x.telnetRenders)}, json ${fmtInt(x.jsonRenders)} for ${fmtInt(x.sent)} lines`,
        },
      ];
    },
  },
  {
    name: "tls-burst",
    run: tlsBurst,
    servers: both,
    ratio: { of: "deliveries/s", get: (r) => r.deliveriesPerS },
    goals: (tp) => [lossGoal(tp)],
  },
];

/** Every scenario, its servers, ratio and goals. */
const scenarios: Scenario[] = [
  {
    name: "burst",
    run: burst,
    servers: both,
    ratio: { of: "deliveries/s", get: (r) => r.deliveriesPerS },
    goals: (tp, limit) => [
      {
        name: "≥1.5M deliveries/s",
        pass: (tp.deliveriesPerS ?? 0) >= 1_500_000,
        measured: tp.deliveriesPerS === undefined ? "—" : fmtRate(tp.deliveriesPerS),
      },
      {
        name: "≥80% of limit",
        pass: tp.ratio !== undefined && tp.ratio >= 0.8,
        measured: tp.ratio === undefined ? (limit ? "—" : "no limit run") : `${(100 * tp.ratio).toFixed(0)}%`,
      },
      lossGoal(tp),
    ],
  },
  {
    name: "steady-5",
    run: steady(5),
    servers: both,
    ratio: { of: "CPU", get: (r) => r.cpuPct },
    goals: (tp) => [ratioInEveryRun(tp, "p50", 1.15), ratioInEveryRun(tp, "p99", 1.3)],
  },
  {
    name: "steady-50",
    run: steady(50),
    servers: both,
    ratio: { of: "CPU", get: (r) => r.cpuPct },
    goals: (tp) => [ratioInEveryRun(tp, "p99", 1.5), below("CPU ≤ 80%", tp.cpuPct, 80.0001, "%")],
  },
  {
    name: "crowd",
    run: crowd,
    servers: both,
    ratio: { of: "CPU", get: (r) => r.cpuPct },
    goals: (tp, _limit, quick) => {
      const clients = crowdClients(quick);
      const json = tp.loadgen ?? {};
      const ready = num(json, "ready") ?? 0;
      const expected = num(json, "expected") ?? 0;
      const delivered = num(json, "delivered") ?? 0;
      return [
        {
          name: `all ${fmtInt(clients)} get every message`,
          pass: ready === clients && expected > 0 && delivered === expected && (num(json, "lost") ?? 1) === 0,
          measured: `${fmtInt(ready)} in, ${fmtInt(delivered)}/${fmtInt(expected)}`,
        },
        below("p99 < 150 ms", tp.p99Ms, 150, " ms"),
      ];
    },
  },
  {
    name: "idle",
    run: idle,
    servers: both,
    ratio: { of: "KiB/conn", get: (r) => r.extra.perConnKb as number | undefined },
    goals: (tp) => [
      below("≤ 6 KiB/conn", tp.extra.perConnKb as number | undefined, 6.0001, " KiB"),
      below("< 100 MiB above empty", (tp.extra.growthKb as number | undefined ?? NaN) / 1024, 100, " MiB"),
    ],
  },
  {
    name: "idle-plain",
    run: idlePlain,
    servers: (quick) => quick ? ["teaparty"] : both(),
    ratio: { of: "KiB/conn", get: (r) => r.extra.perConnKb as number | undefined },
    goals: (tp) => [below("≤ 8 KiB/conn (plain deno run)", tp.extra.perConnKb as number | undefined, 8.0001, " KiB")],
  },
  {
    name: "stuck",
    run: stuck,
    servers: (quick) => quick ? ["teaparty"] : both(),
    ratio: { of: "deliveries/s", get: (r) => r.deliveriesPerS },
    goals: (tp) => {
      const spread = tp.extra.rssSpread as number | undefined;
      return [{
        name: "RSS flat ±10%",
        pass: spread !== undefined && spread <= 0.1,
        measured: spread === undefined || Number.isNaN(spread) ? "—" : `±${(100 * spread).toFixed(1)}%`,
      }];
    },
  },
  {
    name: "startup",
    run: startup,
    servers: () => ["teaparty"],
    goals: (tp) => [below("< 300 ms", tp.extra.medianMs as number | undefined, 300, " ms")],
  },
  ...ircScenarios,
  ...doorScenarios,
  ...clusterScenarios({ rowFrom, crowdClients }),
];

// ---------------------------------------------------------------- the table

const COLUMNS = [
  "scenario",
  "server",
  "deliveries/s",
  "p50 ms",
  "p99 ms",
  "loss",
  "CPU %",
  "RSS MiB",
  "teaparty/limit",
  "goals",
  "result",
  "notes",
];

function cells(row: Row): string[] {
  const loss = row.error
    ? "—"
    : row.lost === undefined
    ? "—"
    : row.lost === 0
    ? "0"
    : `${fmtInt(row.lost)} (${(row.lossPct ?? 0).toFixed(3)}%)`;
  const goals = row.goals.map((g) => `${g.pass ? "PASS" : "FAIL"} ${g.name} (${g.measured})`).join("; ");
  const failed = row.goals.filter((g) => !g.pass).length;
  const result = row.server !== "teaparty"
    ? ""
    : row.error
    ? "FAIL (error)"
    : row.goals.length === 0
    ? ""
    : failed === 0
    ? "PASS"
    : `FAIL (${failed}/${row.goals.length})`;
  const notes = row.error ? `error: ${row.error.split("\n")[0]}` : row.notes.join("; ");
  return [
    row.scenario,
    row.server,
    row.deliveriesPerS === undefined ? "—" : fmtInt(row.deliveriesPerS),
    fmtMs(row.p50Ms),
    fmtMs(row.p99Ms),
    loss,
    row.cpuPct === undefined ? "—" : row.cpuPct.toFixed(0),
    fmtMiB(row.rssKb),
    row.ratio === undefined ? "—" : `${row.ratio.toFixed(2)} (${row.ratioOf})`,
    goals || "—",
    result || "—",
    notes.replaceAll("|", "\\|") || "",
  ];
}

function markdownTable(rows: Row[]): string {
  const body = rows.map(cells);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(COLUMNS), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

function failures(rows: Row[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    if (row.server !== "teaparty") continue;
    if (row.error) out.push(`${row.scenario}: error: ${row.error.split("\n")[0]}`);
    for (const g of row.goals) if (!g.pass) out.push(`${row.scenario}: ${g.name} (measured ${g.measured})`);
  }
  return out;
}

// ---------------------------------------------------------------- machine

interface Machine {
  cpus: number;
  cpuModel: string;
  memTotalMiB: number;
  deno: string;
  v8: string;
  kernel: string;
}

async function machine(): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  return {
    cpus: navigator.hardwareConcurrency,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() ?? "unknown",
    memTotalMiB: Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    kernel: Deno.osRelease(),
  };
}

function machineLine(m: Machine): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${fmtInt(m.memTotalMiB)} MiB RAM, Linux ${m.kernel}, ` +
    `deno ${m.deno} (V8 ${m.v8})`;
}

// ---------------------------------------------------------------- main

/**
 * Runs each of the scenario's servers once, one after the other; `reversed`:
 * in the opposite order (every second run of `--runs`, so that a host whose
 * speed drifts during the runs favours neither server).
 */
async function runScenarioOnce(
  ctx: Context,
  scenario: Scenario,
  reversed = false,
): Promise<{ byServer: Map<ServerKind, Row>; errors: number }> {
  const { cli } = ctx;
  const byServer = new Map<ServerKind, Row>();
  let errors = 0;
  const kinds = [...scenario.servers(cli.quick)];
  if (reversed) kinds.reverse();
  for (const kind of kinds) {
    progress(`${scenario.name}: ${kind} ...`);
    const calm = await quietHost(cli);
    let row: Row;
    try {
      row = await scenario.run(ctx, kind);
      if (calm) row.notes.push(calm);
    } catch (error) {
      errors++;
      const message = error instanceof BenchError ? error.message : (error as Error).stack ?? String(error);
      progress(`${scenario.name}: ${kind} failed: ${message}`);
      row = { scenario: scenario.name, server: kind, notes: [], goals: [], extra: {}, error: message };
    }
    byServer.set(kind, row);
    const brief = [
      row.deliveriesPerS !== undefined ? `${fmtRate(row.deliveriesPerS)} deliveries/s` : "",
      row.p99Ms !== undefined ? `p99 ${fmtMs(row.p99Ms)} ms` : "",
      row.cpuPct !== undefined ? `CPU ${row.cpuPct.toFixed(0)}%` : "",
      ...row.notes,
    ].filter((s) => s).join(", ");
    if (!row.error) progress(`${scenario.name}: ${kind}: ${brief}`);
  }
  return { byServer, errors };
}

/**
 * The median of several runs, its teaparty row carrying every run's figures
 * (`extra.runs`) and their spread in its notes. Runs are ranked by teaparty's
 * share of `limit_server`'s figure in the same run (the scenario's ratio), so
 * that a goal on the ratio is judged on the median ratio, not on whichever
 * ratio the run with the median teaparty figure had; without a limit run, by
 * teaparty's figure, else its p99.
 */
function pickMedianRun(scenario: Scenario, runs: Map<ServerKind, Row>[]): Map<ServerKind, Row> {
  const figures: ScenarioRun[] = runs.map((run) => {
    const tp = run.get("teaparty"), limit = run.get("limit");
    return {
      teaparty: tp && !tp.error ? figuresOf(tp) : undefined,
      limit: limit && !limit.error ? figuresOf(limit) : undefined,
    };
  });
  const ok = (row: Row | undefined) => row && !row.error ? row : undefined;
  const ratios = runs.map((run) => {
    const tp = ok(run.get("teaparty")), limit = ok(run.get("limit"));
    const a = tp && scenario.ratio?.get(tp), b = limit && scenario.ratio?.get(limit);
    return a !== undefined && b !== undefined && b > 0 && Number.isFinite(a / b) ? a / b : undefined;
  });
  const byRatio = ratios.every((r, i) => r !== undefined || !ok(runs[i].get("teaparty")));
  const rank = (i: number) => {
    const tp = ok(runs[i].get("teaparty"));
    if (!tp) return undefined;
    return byRatio ? ratios[i] : scenario.ratio?.get(tp) ?? tp.p99Ms;
  };
  const chosen = runs[medianIndex(runs.map((_, i) => rank(i)))];
  const tp = chosen.get("teaparty");
  if (tp && !tp.error) {
    tp.extra.runs = figures;
    if (runs.length > 1) tp.notes.push(...spreadNotes(figures));
  }
  return chosen;
}

/** Writes the scenario's SVG charts (bench/report.ts) from its median run into --charts. */
async function writeCharts(cli: Cli, scenario: ScenarioName, byServer: Map<ServerKind, Row>): Promise<void> {
  if (cli.charts === "none") return;
  const tp = byServer.get("teaparty"), limit = byServer.get("limit");
  const run: ScenarioRun = {
    teaparty: tp && !tp.error ? figuresOf(tp) : undefined,
    limit: limit && !limit.error ? figuresOf(limit) : undefined,
  };
  const runs = (tp?.extra.runs as ScenarioRun[] | undefined)?.length ?? 1;
  const subtitle = `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, median of ${runs} run` +
    `${runs === 1 ? "" : "s"}${cli.quick ? " (--quick)" : ""}, ${navigator.hardwareConcurrency} CPUs shared`;
  const dir = cli.charts.endsWith("/") ? cli.charts : `${cli.charts}/`;
  for (const [name, svg] of scenarioCharts(scenario, run, subtitle)) {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(dir + name, svg);
    progress(`wrote ${dir}${name}`);
  }
}

/** Waits (up to --quiet-wait) for the shared host to be quiet; returns a note if it was not. */
async function quietHost(cli: Cli): Promise<string | undefined> {
  if (cli.quietWait <= 0) return undefined;
  const waited = await waitForQuiet({ maxCores: 0.25, forS: 3, timeoutS: cli.quietWait });
  if (waited.quiet) return undefined;
  return `host still busy (${waited.cores.toFixed(1)} cores) after waiting ${waited.waitedS.toFixed(0)} s`;
}

async function runAll(cli: Cli): Promise<{ rows: Row[]; errors: number; fdLimit?: number }> {
  const tools = await buildTools();
  const ctx: Context = { cli, tools, quick: cli.quick };
  const rows: Row[] = [];
  let errors = 0;
  let fdLimit: number | undefined;

  // One check up front, so that a broken teaparty fails fast and clearly.
  {
    const server = await Server.teaparty(cli, false);
    fdLimit = await openFilesLimit(server.pid);
    await server.stop();
    if (
      fdLimit !== undefined && fdLimit < crowdClients(cli.quick) + 100 &&
      cli.only.some((s) => s === "crowd" || s === "idle")
    ) {
      progress(`warning: the servers get only ${fdLimit} open files (ulimit -Hn); the crowd runs may fail`);
    }
  }

  for (const scenario of scenarios) {
    if (!cli.only.includes(scenario.name)) continue;
    const started = performance.now();
    const runs: Map<ServerKind, Row>[] = [];
    for (let r = 0; r < cli.runs; r++) {
      if (cli.runs > 1) progress(`${scenario.name}: run ${r + 1} of ${cli.runs}`);
      const once = await runScenarioOnce(ctx, scenario, r % 2 === 1);
      errors += once.errors;
      runs.push(once.byServer);
    }
    const byServer = pickMedianRun(scenario, runs);
    await writeCharts(cli, scenario.name, byServer);
    const tp = byServer.get("teaparty");
    const limit = byServer.get("limit");
    if (tp && !tp.error) {
      if (scenario.ratio && limit && !limit.error) {
        const a = scenario.ratio.get(tp), b = scenario.ratio.get(limit);
        if (a !== undefined && b !== undefined && b > 0 && Number.isFinite(a / b)) {
          tp.ratio = a / b;
          tp.ratioOf = scenario.ratio.of;
        }
      }
      tp.goals = scenario.goals(tp, limit && !limit.error ? limit : undefined, cli.quick, [
        ...rows,
        ...byServer.values(),
      ]);
    } else if (tp) {
      tp.goals = [];
    }
    if (tp) rows.push(tp);
    if (limit) rows.push(limit);
    for (const [kind, row] of byServer) if (kind !== "teaparty" && kind !== "limit") rows.push(row);
    progress(`${scenario.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return { rows, errors, fdLimit };
}

async function main(args: string[]): Promise<number> {
  let cli: Cli | undefined;
  try {
    cli = parseCli(args);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\nTry --help.`);
    return 2;
  }
  if (!cli) {
    console.log(HELP);
    return 0;
  }
  const onSignal = () => {
    killAll();
    console.error("\nbench: interrupted; servers stopped");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  globalThis.addEventListener("unload", killAll);

  teapartyFlags.push(...cli.serverFlags);
  const began = performance.now();
  const started = new Date();
  const profilesBefore = cli.cpuProf ? await listProfiles() : new Set<string>();
  const info = await machine();
  progress(`${cli.quick ? "quick" : "full"} run: ${cli.only.join(", ")}`);
  progress(machineLine(info));
  let result;
  try {
    result = await runAll(cli);
  } catch (error) {
    killAll();
    console.error(`bench: ${error instanceof BenchError ? error.message : (error as Error).stack ?? error}`);
    return 1;
  }
  const { rows, errors, fdLimit } = result;
  const seconds = (performance.now() - began) / 1000;
  const table = markdownTable(rows);
  const failed = failures(rows);
  const goalCount = rows.reduce((n, r) => n + r.goals.length, 0);
  const summary = failed.length === 0
    ? `All ${goalCount} goal${goalCount === 1 ? "" : "s"} pass.`
    : `${goalCount - failed.length} of ${goalCount} goals pass. Failed:\n${failed.map((f) => `- ${f}`).join("\n")}`;
  const header = `teaparty benchmark (${cli.quick ? "--quick" : "full"}), ${started.toISOString()}, ` +
    `${seconds.toFixed(0)} s\nMachine: ${machineLine(info)}; server open-files limit ${fdLimit ?? "?"}`;
  const text = `${header}\n\n${table}\n\n${summary}`;
  if (cli.json) {
    console.error(text);
    console.log(JSON.stringify(
      {
        quick: cli.quick,
        startedAt: started.toISOString(),
        seconds,
        machine: info,
        serverOpenFiles: fdLimit,
        teapartyFlags,
        rows,
        failedGoals: failed,
        errors,
      },
      null,
      2,
    ));
  } else {
    console.log(text);
  }
  if (cli.out) {
    const markdown = `# teaparty benchmark\n\n${header.replace("\n", "  \n")}\n\n${table}\n\n${summary}\n`;
    const dir = cli.out.includes("/") ? cli.out.slice(0, cli.out.lastIndexOf("/")) : "";
    if (dir) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(cli.out, markdown);
    progress(`wrote ${cli.out}`);
  }
  if (cli.cpuProf) {
    const fresh = [...await listProfiles()].filter((p) => !profilesBefore.has(p)).sort();
    if (fresh.length === 0) progress(`--cpu-prof: no profile was written to ${PROF_DIR}`);
    for (const path of fresh) {
      try {
        const summary = summarise(JSON.parse(await Deno.readTextFile(path)));
        console.error(`\n== ${path}\n${formatSummary(summary, 20)}`);
      } catch (error) {
        progress(`cannot read ${path}: ${(error as Error).message}`);
      }
    }
  }
  return errors > 0 ? 1 : 0;
}

async function listProfiles(): Promise<Set<string>> {
  const found = new Set<string>();
  try {
    for await (const entry of Deno.readDir(PROF_DIR)) {
      if (entry.isFile && entry.name.endsWith(".cpuprofile")) found.add(PROF_DIR + entry.name);
    }
  } catch { /* no directory yet */ }
  return found;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main(Deno.args);
  } finally {
    killAll();
  }
  Deno.exit(code);
}
