/**
 * Measures the TLS "first bytes stall" and its cause on loopback (see
 * docs/tls.md). Servers greet first, like the telnet door, then echo lines;
 * a `burst` line is answered with two lines 2 ms apart, like two broadcasts
 * to an idle reader. For each server and client kind, over `--runs`
 * connections: connect to first greeting byte, per-line round trips, the
 * time from `burst` to the second line, and, with a server that does not
 * greet (like HTTP), connect and send a line at once to its answer.
 *
 * Servers: `tcp` (Deno.listen + setNoDelay, the baseline), `deno-tls`
 * (Deno.listenTls, greeting written at once), `deno-tls-handshake`
 * (Deno.listenTls, greeting after `await conn.handshake()`), `node-tls`
 * (node:tls createServer, setNoDelay(true) on each socket), `node-tls-conn`
 * (wire/node_tls.ts: the same, read and written like a Deno.Conn). Clients:
 * `connectTls` (Deno.connectTls: Nagle on) and `startTls-nodelay`
 * (Deno.connect + setNoDelay(true) + Deno.startTls).
 *
 * With `--memory N` it also measures the memory of N idle connections for
 * server (`--memory-servers tcp,deno-tls,node-tls,node-tls-conn`), in a
 * child process (with `--max-semi-space-size=8`, as `deno task start` runs
 * the server); `--skip-latency` skips the latency part. With `--fanout`,
 * the time and CPU of 100,000 writes of 60 bytes (200 connections × 500
 * rounds) for `tcp`, `deno-tls` and `node-tls-conn`.
 *
 * @example
 * ```sh
 * deno run -A bench/tls_stall.ts                 # 50 runs of every combination
 * deno run -A bench/tls_stall.ts --runs 20 --memory 2000 --json
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import tls from "node:tls";
import process from "node:process";
import { makeCertificates } from "../tests/tls_helpers.ts";

/** The certificate, key and CA as PEM text. */
interface Pems {
  certPem: string;
  keyPem: string;
  caPem: string;
}

/** Makes test certificates in `dir` and reads them. */
async function makePems(dir: string): Promise<Pems> {
  const files = await makeCertificates(dir);
  return {
    certPem: await Deno.readTextFile(files.cert),
    keyPem: await Deno.readTextFile(files.key),
    caPem: files.caPem,
  };
}
import { listenTls as listenNoDelayTls } from "../wire/node_tls.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Server kinds. */
export const SERVERS = ["tcp", "deno-tls", "deno-tls-handshake", "node-tls", "node-tls-conn"] as const;
/** Client kinds (the TCP baseline uses Deno.connect + setNoDelay). */
export const CLIENTS = ["connectTls", "startTls-nodelay"] as const;
type ServerKind = typeof SERVERS[number];
type ClientKind = typeof CLIENTS[number];

/** What a server does with a line: echo it, or for `burst`, two lines 2 ms apart. */
function answer(line: string, write: (s: string) => void): void {
  if (line === "burst") {
    write("a\r\n");
    setTimeout(() => write("b\r\n"), 2);
  } else write(`echo ${line}\r\n`);
}

/** What serveConn needs of a connection (a Deno.Conn or a TlsConnection). */
interface ServedConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Serves a connection: greeting first (if `greet`), then lines. */
async function serveConn(conn: ServedConn, handshakeFirst: boolean, greet: boolean): Promise<void> {
  try {
    if (handshakeFirst) await (conn as Deno.TlsConn).handshake();
    if (greet) await conn.write(encoder.encode("hello\r\n"));
    const buf = new Uint8Array(1024);
    let pending = "";
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      pending += decoder.decode(buf.subarray(0, n));
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, "");
        pending = pending.slice(nl + 1);
        answer(line, (s) => void conn.write(encoder.encode(s)).catch(() => {}));
      }
    }
  } catch { /* the client went away */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

/** A running server of one kind. */
interface Server {
  port: number;
  close(): Promise<void>;
}

async function startServer(kind: ServerKind, certs: Pems, greet = true): Promise<Server> {
  if (kind === "node-tls") {
    const server = tls.createServer({ cert: certs.certPem, key: certs.keyPem }, (socket) => {
      socket.setNoDelay(true);
      if (greet) socket.write("hello\r\n");
      let pending = "";
      socket.on("data", (data: Uint8Array) => {
        pending += decoder.decode(data);
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl).replace(/\r$/, "");
          pending = pending.slice(nl + 1);
          answer(line, (s) => socket.write(s));
        }
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      port: (server.address() as { port: number }).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
  if (kind === "node-tls-conn") {
    const listener = await listenNoDelayTls({ hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem });
    const served: Promise<void>[] = [];
    const accepting = (async () => {
      try {
        while (true) served.push(serveConn(await listener.accept(), false, greet));
      } catch { /* closed */ }
    })();
    return {
      port: listener.addr.port,
      close: async () => {
        listener.close();
        await accepting;
        await Promise.allSettled(served);
      },
    };
  }
  const listener = kind === "tcp"
    ? Deno.listen({ hostname: "127.0.0.1", port: 0 })
    : Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem });
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      if (kind === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
      served.push(serveConn(conn, kind === "deno-tls-handshake", greet));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      await accepting;
      await Promise.allSettled(served);
    },
  };
}

async function connect(server: ServerKind, client: ClientKind, port: number, caPem: string): Promise<Deno.Conn> {
  if (server === "tcp") {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return conn;
  }
  if (client === "connectTls") return await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caPem] });
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  tcp.setNoDelay(true);
  return await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [caPem] });
}

/** Reads until the text read so far contains `marker`. */
async function readUntil(conn: Deno.Conn, marker: string, buf: Uint8Array): Promise<void> {
  let text = "";
  while (!text.includes(marker)) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`the server closed before sending ${JSON.stringify(marker)}`);
    text += decoder.decode(buf.subarray(0, n));
  }
}

/** Figures of one server and client kind, in milliseconds. */
export interface Figures {
  server: ServerKind;
  client: ClientKind | "tcp";
  /** Connect to the first byte of the greeting. */
  firstByte: number[];
  /** A line and its answer, after the greeting. */
  roundTrip: number[];
  /** `burst` to the second of two lines written 2 ms apart. */
  burstPair: number[];
  /** To a server that does not greet (like HTTP): connect, send a line at once, to its answer. */
  requestFirst: number[];
}

async function measure(server: ServerKind, client: ClientKind, runs: number, certs: Pems) {
  const running = await startServer(server, certs);
  const silent = await startServer(server, certs, false);
  const figures: Figures = {
    server,
    client: server === "tcp" ? "tcp" : client,
    firstByte: [],
    roundTrip: [],
    burstPair: [],
    requestFirst: [],
  };
  const buf = new Uint8Array(4096);
  try {
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const conn = await connect(server, client, running.port, certs.caPem);
      const firstByte = new Uint8Array(1);
      if (await conn.read(firstByte) !== 1) throw new Error("no greeting");
      figures.firstByte.push(performance.now() - start);
      await readUntil(conn, "hello\r\n".slice(1), buf);
      for (let j = 0; j < 5; j++) {
        const t = performance.now();
        await conn.write(encoder.encode(`line ${j}\r\n`));
        await readUntil(conn, `echo line ${j}\r\n`, buf);
        figures.roundTrip.push(performance.now() - t);
      }
      const t = performance.now();
      await conn.write(encoder.encode("burst\r\n"));
      await readUntil(conn, "b\r\n", buf);
      figures.burstPair.push(performance.now() - t);
      conn.close();

      const asked = performance.now();
      const other = await connect(server, client, silent.port, certs.caPem);
      await other.write(encoder.encode("GET / HTTP/1.1\r\n"));
      await readUntil(other, "echo GET / HTTP/1.1\r\n", buf);
      figures.requestFirst.push(performance.now() - asked);
      other.close();
    }
  } finally {
    await running.close();
    await silent.close();
  }
  return figures;
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(values: number[]): string {
  const f = (v: number) => v.toFixed(1).padStart(6);
  return `${f(percentile(values, 50))} ${f(percentile(values, 90))} ${f(percentile(values, 99))} ${
    f(Math.max(...values))
  }`;
}

// ---- memory of idle connections, measured in a child process ----

async function serveForMemory(kind: ServerKind, certDir: string): Promise<void> {
  const certs: Pems = {
    caPem: "",
    certPem: await Deno.readTextFile(`${certDir}/cert.pem`),
    keyPem: await Deno.readTextFile(`${certDir}/key.pem`),
  };
  const server = await startServer(kind, certs);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const rss = () => {
    gc();
    return Deno.memoryUsage().rss;
  };
  console.log(`ready ${server.port} ${rss()}`);
  for await (const _ of Deno.stdin.readable) console.log(`rss ${rss()}`);
}

async function memoryPerConnection(kind: ServerKind, n: number, certs: Pems, certDir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--max-semi-space-size=8,--expose-gc",
      import.meta.filename!,
      "--serve",
      kind,
      "--certs",
      certDir,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const nextLine = async () => {
    while (!pending.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("the server process ended");
      pending += value;
    }
    const line = pending.slice(0, pending.indexOf("\n"));
    pending = pending.slice(pending.indexOf("\n") + 1);
    return line;
  };
  const [, port, before] = (await nextLine()).split(" ").map(Number);
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i += 50) { // 50 at a time: a Deno.listenTls greeting takes 44 ms
    const batch = Array.from({ length: Math.min(50, n - i) }, async () => {
      const conn = await connect(kind, "startTls-nodelay", port, certs.caPem).catch((e) => {
        throw new Error(`connection ${conns.length} to ${kind}: ${e}`);
      });
      await readUntil(conn, "hello\r\n", new Uint8Array(64));
      return conn;
    });
    conns.push(...await Promise.all(batch));
  }
  const stdin = child.stdin.getWriter();
  await stdin.write(encoder.encode("measure\n"));
  const after = Number((await nextLine()).split(" ")[1]);
  for (const c of conns) c.close();
  await stdin.close();
  child.kill();
  await child.status;
  return { kind, connections: n, kibPerConnection: (after - before) / 1024 / n, rssMiB: after / 1048576 };
}

// ---- write cost: one line to each of many connections, round after round ----

/** CPU and time for `rounds` rounds of one 60-byte write to each of `n` connections (clients in this process). */
async function fanout(kind: ServerKind, n: number, rounds: number, certs: Pems) {
  const line = encoder.encode("alice: hello everyone, this is a chat line of sixty bytes\r\n");
  const accepted: ServedConn[] = [];
  let port: number;
  let accept: () => Promise<ServedConn>;
  let close: () => void;
  if (kind === "node-tls-conn") {
    const listener = await listenNoDelayTls({ hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem });
    [port, accept, close] = [listener.addr.port, () => listener.accept(), () => listener.close()];
  } else {
    const listener = kind === "tcp"
      ? Deno.listen({ hostname: "127.0.0.1", port: 0 })
      : Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem });
    [port, accept, close] = [(listener.addr as Deno.NetAddr).port, () => listener.accept(), () => listener.close()];
  }
  let received = 0;
  const readers: Promise<void>[] = [];
  const clients: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    const next = accept();
    const client = await connect(kind, "startTls-nodelay", port, certs.caPem);
    const conn = await next;
    if (kind === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
    accepted.push(conn);
    clients.push(client);
    readers.push((async () => {
      const buf = new Uint8Array(65536);
      while (true) {
        const got = await client.read(buf).catch(() => null);
        if (got === null) break;
        received += got;
      }
    })());
  }
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let r = 0; r < rounds; r++) await Promise.all(accepted.map((c) => c.write(line)));
  while (received < n * rounds * line.length) await new Promise((r) => setTimeout(r, 1));
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  for (const c of accepted) c.close();
  for (const c of clients) c.close();
  await Promise.allSettled(readers);
  close();
  return { kind, writes: n * rounds, ms, cpuMs: (used.user + used.system) / 1000 };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "50" },
      memory: { type: "string" },
      "memory-servers": { type: "string", default: "tcp,deno-tls,node-tls,node-tls-conn" },
      "skip-latency": { type: "boolean", default: false },
      fanout: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      serve: { type: "string" },
      certs: { type: "string" },
    },
  });
  if (values.serve) {
    await serveForMemory(values.serve as ServerKind, values.certs!);
  } else {
    const certDir = await Deno.makeTempDir();
    try {
      const certs = await makePems(certDir);
      const runs = Number(values.runs);
      const results: Figures[] = [];
      for (const server of values["skip-latency"] ? [] : SERVERS) {
        for (const client of server === "tcp" ? [CLIENTS[1]] : CLIENTS) {
          results.push(await measure(server, client, runs, certs));
        }
      }
      const memory = [];
      if (values.memory) {
        for (const kind of values["memory-servers"].split(",") as ServerKind[]) {
          memory.push(await memoryPerConnection(kind, Number(values.memory), certs, certDir));
        }
      }
      const writes = [];
      if (values.fanout) {
        for (const kind of ["tcp", "deno-tls", "node-tls-conn"] as const) {
          writes.push(await fanout(kind, 200, 500, certs));
        }
      }
      if (values.json) {
        console.log(JSON.stringify({ runs, results, memory, writes }, null, 2));
      } else {
        if (results.length) {
          console.log(`${runs} connections each; milliseconds: p50 p90 p99 max`);
          console.log(
            `${"server".padEnd(20)} ${"client".padEnd(17)} ${"connect→first byte".padEnd(27)} ${
              "line round trip".padEnd(27)
            } ${"burst: 2nd line 2 ms later".padEnd(27)} request first (no greeting)`,
          );
        }
        for (const r of results) {
          console.log(
            `${r.server.padEnd(20)} ${r.client.padEnd(17)} ${summary(r.firstByte)}  ${summary(r.roundTrip)}  ${
              summary(r.burstPair)
            }  ${summary(r.requestFirst)}`,
          );
        }
        for (const w of writes) {
          console.log(
            `writes ${w.kind.padEnd(14)} ${w.writes} writes of 60 B (200 connections): ${w.ms.toFixed(0)} ms, ` +
              `CPU ${w.cpuMs.toFixed(0)} ms (server and clients)`,
          );
        }
        for (const m of memory) {
          console.log(
            `memory ${m.kind.padEnd(10)} ${m.connections} idle connections: ${
              m.kibPerConnection.toFixed(1)
            } KiB each ` +
              `(server RSS ${m.rssMiB.toFixed(0)} MiB)`,
          );
        }
      }
    } finally {
      await Deno.remove(certDir, { recursive: true });
    }
  }
}
