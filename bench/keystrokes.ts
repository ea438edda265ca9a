/**
 * What redraw mode costs the server per keystroke. N typists are in one
 * room with a talker who says a line every 200 ms; a probe (line mode)
 * measures how long its own lines take to come back. Each typist types 10
 * keys a second and ends a line every 40 keys; the run is made twice:
 *
 * - line mode: the typists send each finished line whole (as telnet in line
 *   mode, TinyFugue or nc do), so the server sees one read per line;
 * - redraw mode: the typists are telnet terminals (TERMINAL-TYPE XTERM,
 *   character mode agreed) that send every key in its own write; the server
 *   echoes each, and erases and redraws the partial line around the talker's
 *   lines.
 *
 * The same lines reach the room in both runs, so the difference in the
 * server's CPU time (utime + stime from /proc), divided by the keys typed,
 * is the cost of a keystroke in redraw mode. The server runs as its own
 * process, as `npm start` runs it.
 *
 * ```sh
 * deno run -A bench/keystrokes.ts [--typists 200] [--seconds 10] [--quick]
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { cpuSeconds } from "./proc.ts";

const IAC = 255, DO = 253, WILL = 251, SB = 250, SE = 240;
const BINARY = 0, ECHO = 1, SGA = 3, TTYPE = 24, NAWS = 31;
const KEYS_PER_SECOND = 10;
const KEYS_PER_LINE = 40;
const TALK_MS = 200;
const ROOT = new URL("..", import.meta.url).pathname;
const encoder = new TextEncoder();

/** One connection of the bench, with everything it received kept as text (latin1) until drained. */
class Peer {
  conn: Deno.TcpConn;
  seen = "";
  keep = true; // keep what arrives (during set-up); after it, only count
  bytes = 0;
  #waiters: (() => void)[] = [];
  done: Promise<void>;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.done = this.#pump();
  }

  static async open(port: number): Promise<Peer> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new Peer(conn);
  }

  async #pump(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.bytes += n;
        if (this.keep) {
          for (let i = 0; i < n; i++) this.seen += String.fromCharCode(buf[i]);
        }
        for (const w of this.#waiters.splice(0)) w();
      }
    } catch { /* closed */ }
  }

  /** Waits until what arrived holds `text` (latin1) after `from`; returns the index after it. */
  async waitFor(text: string | number[], from = 0): Promise<number> {
    const needle = typeof text === "string" ? text : String.fromCharCode(...text);
    const deadline = Date.now() + 10_000;
    while (true) {
      const at = this.seen.indexOf(needle, from);
      if (at >= 0) return at + needle.length;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(needle)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  write(data: Uint8Array | string): Promise<number> {
    return this.conn.write(typeof data === "string" ? encoder.encode(data) : data);
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** A telnet terminal's set-up: BINARY, TERMINAL-TYPE XTERM, character mode and NAWS. */
async function negotiate(peer: Peer): Promise<void> {
  await peer.waitFor("Log in with");
  await peer.write(new Uint8Array([IAC, WILL, BINARY]));
  await peer.waitFor([IAC, DO, TTYPE]);
  await peer.write(new Uint8Array([IAC, WILL, TTYPE]));
  await peer.waitFor([IAC, SB, TTYPE, 1, IAC, SE]);
  await peer.write(new Uint8Array([IAC, SB, TTYPE, 0, ...encoder.encode("XTERM"), IAC, SE]));
  await peer.waitFor([IAC, WILL, SGA]);
  await peer.write(
    new Uint8Array([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]),
  );
  await peer.waitFor("Redraw mode:");
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Result {
  mode: "line" | "redraw";
  typists: number;
  seconds: number;
  keys: number;
  lines: number;
  cpu: number;
  probeP50: number;
  probeP99: number;
}

async function run(mode: "line" | "redraw", typists: number, seconds: number): Promise<Result> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--v8-flags=--max-semi-space-size=8",
      "main.ts",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--rate",
      "0",
      "--max-per-ip",
      "0",
      "--log-level",
      "warn",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening on \S+:(\d+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server did not start: ${out}`);
    out += value;
  }
  const port = Number(/listening on \S+:(\d+)/.exec(out)![1]);
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const peers: Peer[] = [];
  try {
    const join = async (nick: string, terminal: boolean) => {
      const peer = await Peer.open(port);
      peers.push(peer);
      if (terminal) await negotiate(peer);
      else await peer.waitFor("Log in with");
      if (terminal) { for (const ch of `login ${nick}\r`) await peer.write(ch); }
      else await peer.write(`login ${nick}\r\n`);
      await peer.waitFor(`${nick} has entered the room.`);
      return peer;
    };
    const typing: Peer[] = [];
    for (let i = 0; i < typists; i++) typing.push(await join(`typist${i}`, mode === "redraw"));
    const talker = await join("talker", false);
    const probe = await join("probe", false);
    for (const p of peers) {
      p.keep = p === probe;
      p.seen = "";
    }
    // Each typist starts at its own point of its line, so keys and lines are spread evenly.
    const position = typing.map((_, i) => Math.floor((i * KEYS_PER_LINE) / typists));
    const text = "the quick brown fox jumps over the lazy ";
    let keys = 0;
    let lines = 0;
    let talk = 0;
    const latencies: number[] = [];
    let probing = false;
    const cpuStart = await cpuSeconds(child.pid);
    const start = performance.now();
    const end = start + seconds * 1000;
    let nextKey = start;
    let nextTalk = start;
    let nextProbe = start;
    while (performance.now() < end) {
      const now = performance.now();
      if (now >= nextKey) {
        nextKey += 1000 / KEYS_PER_SECOND;
        for (let i = 0; i < typing.length; i++) {
          const at = position[i]++;
          if (mode === "redraw") {
            typing[i].write(at === KEYS_PER_LINE - 1 ? "\r" : text[at]).catch(() => {});
            keys++;
          }
          if (at === KEYS_PER_LINE - 1) {
            position[i] = 0;
            lines++;
            if (mode === "line") typing[i].write(text.slice(0, KEYS_PER_LINE - 1) + "\r\n").catch(() => {});
          }
        }
      }
      if (now >= nextTalk) {
        nextTalk += TALK_MS;
        talker.write(`talk ${talk++}\r\n`).catch(() => {});
      }
      if (now >= nextProbe && !probing) {
        nextProbe = now + 100;
        probing = true;
        const sent = performance.now();
        const marker = `probe ${sent.toFixed(3)}`;
        const from = probe.seen.length;
        probe.write(marker + "\r\n").then(() => probe.waitFor(`probe: ${marker}`, from)).then(() => {
          latencies.push(performance.now() - sent);
          probe.seen = "";
          probing = false;
        }).catch(() => probing = false);
      }
      const wait = Math.min(nextKey, nextTalk, nextProbe) - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
    const elapsed = (performance.now() - start) / 1000;
    const cpu = (await cpuSeconds(child.pid)) - cpuStart;
    return {
      mode,
      typists,
      seconds: elapsed,
      keys,
      lines,
      cpu,
      probeP50: percentile(latencies, 50),
      probeP99: percentile(latencies, 99),
    };
  } finally {
    for (const p of peers) p.close();
    child.kill("SIGTERM");
    await child.status;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { typists: { type: "string" }, seconds: { type: "string" }, quick: { type: "boolean" } },
  });
  const typists = Number(values.typists ?? (values.quick ? 50 : 200));
  const seconds = Number(values.seconds ?? (values.quick ? 4 : 10));
  if (!(typists > 0) || !(seconds > 0)) {
    console.error("bench/keystrokes.ts: --typists and --seconds take positive numbers");
    Deno.exit(2);
  }
  const results: Result[] = [];
  for (const mode of ["line", "redraw"] as const) {
    results.push(await run(mode, typists, seconds));
    const r = results.at(-1)!;
    console.log(
      `${mode.padEnd(6)} ${r.typists} typists, ${r.seconds.toFixed(1)} s: ${r.keys} keys, ${r.lines} lines; ` +
        `server CPU ${r.cpu.toFixed(2)} s (${((100 * r.cpu) / r.seconds).toFixed(1)}%); ` +
        `probe round trip p50 ${r.probeP50.toFixed(1)} ms, p99 ${r.probeP99.toFixed(1)} ms`,
    );
  }
  const [line, redraw] = results;
  const perKey = ((redraw.cpu / redraw.seconds - line.cpu / line.seconds) * redraw.seconds) / redraw.keys;
  console.log(
    `redraw mode: ${(perKey * 1e6).toFixed(1)} µs of server CPU per keystroke ` +
      `(${((redraw.keys / redraw.seconds) | 0)} keys/s, ${((redraw.lines / redraw.seconds) | 0)} lines/s in both)`,
  );
  console.log(JSON.stringify({ results, perKeyMicroseconds: perKey * 1e6 }));
}
