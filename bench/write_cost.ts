/**
 * What one write to a loopback TCP socket costs, in C and with
 * `Deno.Conn.write`: the floor under teaparty's flushes, apart from
 * everything else teaparty does.
 *
 * A sink (bench/write_cost.c) reads everything; a writer opens CONNS
 * connections and writes BYTES to each in turn, round after round, and
 * reports its own user and system CPU time. The C writer calls `write`; the
 * Deno writer does what an outbox flush does: it starts a write on every
 * connection, then waits for them all before the next round. Each writer
 * runs as a child under the hard open-files limit; the two alternate, and
 * the table shows the median of the repeats. `npm run bench` shows the same
 * cost inside the servers (µs CPU per write in the burst and steady rows).
 *
 * @example
 * ```sh
 * deno run -A bench/write_cost.ts            # 100 and 1,000 connections, 300-byte writes
 * deno run -A bench/write_cost.ts --quick --conns 1000 --bytes 100
 * ```
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { RAISE_AND_EXEC } from "./proc.ts";
import { spread } from "./report.ts";

const HERE = new URL(".", import.meta.url);
const SOURCE = new URL("write_cost.c", HERE).pathname;
const BINARY = new URL("out/write_cost/write_cost", HERE).pathname;

/** One writer's figures: CPU microseconds per write. */
export interface WriteCost {
  userUs: number;
  sysUs: number;
}

/** Parses a writer's report, `user_s=U sys_s=S writes=W`. */
export function parseReport(line: string): WriteCost {
  const m = /user_s=([\d.]+) sys_s=([\d.]+) writes=(\d+)/.exec(line);
  if (!m || Number(m[3]) === 0) throw new Error(`write_cost: the writer reported no writes (it said: ${line.trim()})`);
  const writes = Number(m[3]);
  return { userUs: (1e6 * Number(m[1])) / writes, sysUs: (1e6 * Number(m[2])) / writes };
}

/** The Deno writer (run as a child): what an outbox flush does, round after round. */
async function denoWriter(port: number, conns: number, rounds: number, bytes: number): Promise<string> {
  const sockets: Deno.TcpConn[] = [];
  for (let i = 0; i < conns; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    sockets.push(conn);
  }
  const data = new Uint8Array(bytes);
  const start = cpu();
  for (let r = 0; r < rounds; r++) {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let left = conns;
    const done = (n: number) =>
      n !== bytes ? reject(new Error(`a short write (${n} of ${bytes} bytes)`)) : --left === 0 && resolve();
    for (const conn of sockets) conn.write(data).then(done, reject);
    await promise;
  }
  const end = cpu();
  for (const conn of sockets) conn.close();
  return `user_s=${(end.user - start.user).toFixed(6)} sys_s=${(end.sys - start.sys).toFixed(6)} writes=${
    rounds * conns
  }`;
}

/** This process's CPU time in seconds (user, system). */
function cpu(): { user: number; sys: number } {
  const { user, system } = process.cpuUsage();
  return { user: user / 1e6, sys: system / 1e6 };
}

async function build(): Promise<void> {
  const [src, bin] = await Promise.all([Deno.stat(SOURCE), Deno.stat(BINARY).catch(() => undefined)]);
  if (bin?.mtime && src.mtime && bin.mtime >= src.mtime) return;
  await Deno.mkdir(new URL("out/write_cost/", HERE), { recursive: true });
  const out = await new Deno.Command("gcc", { args: ["-O2", "-Wall", "-o", BINARY, SOURCE] }).output();
  if (!out.success) {
    throw new Error(`write_cost: gcc could not build ${SOURCE}:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Runs a command under the raised open-files limit; resolves with its stdout. */
async function run(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("bash", { args: ["-c", RAISE_AND_EXEC, "write-cost", command, ...args] }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`write_cost: ${command} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
}

const median = (xs: number[]) => spread(xs)!.median;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean" },
      conns: { type: "string", multiple: true },
      bytes: { type: "string", default: "300" },
      repeats: { type: "string", default: "3" },
      "deno-writer": { type: "string" }, // internal: PORT CONNS ROUNDS BYTES, comma separated
    },
  });
  if (values["deno-writer"]) {
    const [port, conns, rounds, bytes] = values["deno-writer"].split(",").map(Number);
    console.log(await denoWriter(port, conns, rounds, bytes));
    Deno.exit(0);
  }
  const bytes = Number(values.bytes);
  const repeats = Number(values.repeats);
  const counts = (values.conns ?? ["100", "1000"]).map(Number);
  const writes = values.quick ? 100_000 : 500_000;
  await build();
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const sink = new Deno.Command("bash", {
    args: ["-c", RAISE_AND_EXEC, "write-cost-sink", BINARY, "sink", String(port)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = sink.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    if (!first.value?.includes("sink listening")) throw new Error("write_cost: the sink did not start");
    reader.releaseLock();
    console.log(`| connections | C user µs | C sys µs | Deno user µs | Deno sys µs | Deno / C |`);
    console.log(`|---|---|---|---|---|---|`);
    for (const conns of counts) {
      const rounds = Math.max(1, Math.round(writes / conns));
      const c: WriteCost[] = [], d: WriteCost[] = [];
      for (let i = 0; i < repeats; i++) {
        const args = [String(port), String(conns), String(rounds), String(bytes)];
        const runC = async () => c.push(parseReport(await run(BINARY, ["write", ...args])));
        const runDeno = async () =>
          d.push(parseReport(
            await run(Deno.execPath(), [
              "run",
              "--allow-net",
              "--allow-read=/proc/self/stat",
              import.meta.filename!,
              "--deno-writer",
              args.join(","),
            ]),
          ));
        if (i % 2 === 0) await runC().then(runDeno);
        else await runDeno().then(runC);
      }
      const [cu, cs] = [median(c.map((x) => x.userUs)), median(c.map((x) => x.sysUs))];
      const [du, ds] = [median(d.map((x) => x.userUs)), median(d.map((x) => x.sysUs))];
      console.log(
        `| ${conns} | ${cu.toFixed(2)} | ${cs.toFixed(2)} | ${du.toFixed(2)} | ${ds.toFixed(2)} | ${
          ((du + ds) / (cu + cs)).toFixed(2)
        }× |`,
      );
    }
    console.log(`(${bytes}-byte writes, ${writes.toLocaleString("en")} per run, median of ${repeats} runs each)`);
  } finally {
    sink.kill("SIGKILL");
    await sink.status;
  }
}

if (import.meta.main) await main();
