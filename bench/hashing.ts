/**
 * Password hashing under attack: 20 sessions loop `/password` against a
 * server process while another user measures the round trip of a chat line
 * (sent until it comes back from the room), and the server's resident
 * memory and CPU are sampled from /proc.
 *
 * Modes: `wrong` loops `/password <wrong> <new>` (what an attacker sends;
 * the login throttle stops most of them), `right` loops
 * `/password <right> <right>` (every one hashes twice: this measures the
 * bound on concurrent hashing alone).
 *
 * @example
 * ```sh
 * deno run -A bench/hashing.ts                      # both modes, 15 s each
 * deno run -A bench/hashing.ts --mode right --seconds 10 --root /path/to/other/checkout
 * ```
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string", default: new URL("..", import.meta.url).pathname },
    sessions: { type: "string", default: "20" },
    seconds: { type: "string", default: "15" },
    mode: { type: "string", default: "both" },
  },
});
const ROOT = values.root!;
const SESSIONS = Number(values.sessions);
const SECONDS = Number(values.seconds);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A line client: send lines, wait for one that matches. */
class Client {
  #conn: Deno.TcpConn;
  #buffer = "";
  #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#pump();
  }

  static async connect(port: number): Promise<Client> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new Client(conn);
  }

  async #pump(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#buffer += decoder.decode(buf.subarray(0, n), { stream: true });
        let at;
        while ((at = this.#buffer.indexOf("\r\n")) >= 0) {
          const line = this.#buffer.slice(0, at);
          this.#buffer = this.#buffer.slice(at + 2);
          const i = this.#waiters.findIndex((w) => w.test(line));
          if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(line);
        }
      }
    } catch { /* closed */ }
    this.closed = true;
    for (const w of this.#waiters.splice(0)) w.resolve(""); // nothing more comes
  }

  send(line: string): Promise<number> {
    return this.#conn.write(encoder.encode(line + "\r\n")).catch(() => 0);
  }

  waitFor(test: (line: string) => boolean): Promise<string> {
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

async function procStat(pid: number): Promise<{ rssKb: number; cpuTicks: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
  return { rssKb, cpuTicks: Number(stat[11]) + Number(stat[12]) };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

async function run(mode: "wrong" | "right"): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--v8-flags=--max-semi-space-size=8",
      "main.ts",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--max-per-ip",
      "0",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening on .*:(\d+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server did not start: ${out}`);
    out += value;
  }
  const port = Number(/listening on .*:(\d+)/.exec(out)![1]);
  const clients: Client[] = [];
  try {
    const startStat = await procStat(child.pid);
    // The attackers: registered nicks, then /password in a closed loop.
    const attackers = await Promise.all(Array.from({ length: SESSIONS }, async (_, i) => {
      const c = await Client.connect(port);
      clients.push(c);
      c.send(`login hasher${i}`);
      await c.waitFor((l) => l.endsWith(`hasher${i} has entered the room.`));
      c.send("/register secret123");
      await c.waitFor((l) => l.includes("is now registered") || l.includes("busy") || l.includes("failed"));
      return c;
    }));
    const amy = await Client.connect(port);
    clients.push(amy);
    amy.send("login amy");
    await amy.waitFor((l) => l.endsWith("amy has entered the room."));

    let stop = false;
    let commands = 0, busy = 0, throttled = 0;
    const loops = attackers.map(async (c) => {
      while (!stop && !c.closed) {
        const answer = c.waitFor((l) => l.startsWith("*** ") && !l.includes("has entered") && !l.includes("has left"));
        c.send(mode === "wrong" ? "/password wrongpass1 newpass123" : "/password secret123 secret123");
        const line = await answer;
        if (line === "") break;
        commands++;
        if (/busy/.test(line)) busy++;
        if (/Too many/.test(line)) throttled++;
      }
    });
    const rtts: number[] = [];
    let maxRss = 0;
    const sampler = (async () => {
      while (!stop) {
        maxRss = Math.max(maxRss, (await procStat(child.pid)).rssKb);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const t0 = performance.now();
    const loopStat = await procStat(child.pid);
    for (let n = 0; performance.now() - t0 < SECONDS * 1000; n++) {
      const start = performance.now();
      const echoed = amy.waitFor((l) => l === `amy: ping ${n}`);
      amy.send(`ping ${n}`);
      await echoed;
      rtts.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 250)); // under the default rate limit of 5 lines a second
    }
    const elapsed = (performance.now() - t0) / 1000;
    const endStat = await procStat(child.pid);
    stop = true;
    for (const c of clients) c.close();
    await Promise.all([...loops, sampler]);
    rtts.sort((a, b) => a - b);
    const ticks = 100; // USER_HZ
    const cpu = ((endStat.cpuTicks - loopStat.cpuTicks) / ticks / elapsed) * 100;
    console.log(
      `${ROOT} mode=${mode}: ${commands} /password answered (${busy} busy, ${throttled} throttled) in ${
        elapsed.toFixed(1)
      } s; ` +
        `chat round trip p50 ${percentile(rtts, 0.5).toFixed(1)} ms, p99 ${percentile(rtts, 0.99).toFixed(1)} ms, ` +
        `max ${rtts.at(-1)?.toFixed(1)} ms (${rtts.length} pings); server CPU ${cpu.toFixed(0)}%, ` +
        `RSS ${Math.round(startStat.rssKb / 1024)} MB at start, max ${Math.round(maxRss / 1024)} MB`,
    );
  } finally {
    for (const c of clients) c.close();
    child.kill("SIGTERM");
    await reader.cancel().catch(() => {});
    await child.status;
  }
}

for (const mode of values.mode === "both" ? ["wrong", "right"] as const : [values.mode as "wrong" | "right"]) {
  await run(mode);
}
