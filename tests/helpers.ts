/**
 * Test helpers: an in-process server on a free port and a line-based TCP
 * client that waits for lines (never sleeps).
 *
 * @example
 * ```ts
 * import { startServer } from "./helpers.ts";
 * await using chat = await startServer();
 * const alice = await chat.login("alice");
 * alice.send("hello");
 * await alice.waitFor("alice: hello");
 * ```
 * @module
 */
import { ChatServer, type ChatServerOptions } from "../server.ts";
import { Logger } from "../log.ts";
import { OFFER } from "../telnet.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How long a wait may take before the test fails (generous: CI may be slow). */
export const WAIT_MS = 5000;

/** A running test server with the log lines it wrote. */
export interface TestServer extends AsyncDisposable {
  server: ChatServer;
  port: number;
  logs: string[];
  /** Connects a raw client (not logged in; the greeting is not consumed). */
  connect(): Promise<TestClient>;
  /** Connects, logs in as `nick` and waits for the client's own entry line. */
  login(nick: string): Promise<TestClient>;
  /** Every client made through this server. */
  clients: TestClient[];
  /**
   * Connects a raw TCP connection that the test reads from only if it wants
   * to (e.g. a client that never reads). It is closed by `close()`.
   */
  connectRaw(): Promise<Deno.TcpConn>;
  /**
   * Resolves with the `detail` of the next server event of `type` (`connect`,
   * `refuse`, `login`, `close`) that passes `test`. Call it before the action
   * that causes the event. Rejects after `ms`.
   */
  // deno-lint-ignore no-explicit-any
  event(type: string, test?: (detail: any) => boolean, ms?: number): Promise<any>;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 and a free port, logging into `logs`. */
export async function startServer(options: ChatServerOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const server = new ChatServer({
    host: "127.0.0.1",
    port: 0,
    logger: new Logger("debug", (line) => logs.push(line)),
    ...options,
  });
  const { port } = await server.listen();
  const clients: TestClient[] = [];
  const raws: Deno.TcpConn[] = [];
  const test: TestServer = {
    server,
    port,
    logs,
    clients,
    async connect() {
      const client = await TestClient.connect(port);
      clients.push(client);
      return client;
    },
    async login(nick: string) {
      const client = await test.connect();
      await client.waitFor(/Log in with/);
      client.send(`login ${nick}`);
      await client.waitFor(`*** ${nick} has entered the room.`);
      return client;
    },
    async connectRaw() {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      raws.push(conn);
      return conn;
    },
    event(type, test, ms = WAIT_MS) {
      return new Promise((resolve, reject) => {
        const on = (e: Event) => {
          const detail = (e as CustomEvent).detail;
          if (test && !test(detail)) return;
          clearTimeout(timer);
          server.removeEventListener(type, on);
          resolve(detail);
        };
        const timer = setTimeout(() => {
          server.removeEventListener(type, on);
          reject(new Error(`no "${type}" event within ${ms} ms`));
        }, ms);
        server.addEventListener(type, on);
      });
    },
    async close() {
      for (const c of clients) c.close();
      for (const c of raws) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      await server.shutdown();
      await Promise.all(clients.map((c) => c.done));
    },
    async [Symbol.asyncDispose]() {
      await test.close();
    },
  };
  return test;
}

/** A line-based TCP client for tests. */
export class TestClient {
  readonly conn: Deno.Conn;
  /** Every line received so far, in order. */
  readonly lines: string[] = [];
  #read = 0; // index of the next line waitFor looks at
  #pending = new Uint8Array(0);
  #waiters: (() => void)[] = [];
  #ended = false;
  /** Raw bytes received (for byte-level checks such as telnet negotiation), after the telnet offer. */
  readonly raw: number[] = [];
  /** The server's telnet offer (`OFFER` in telnet.ts) that opened the stream, kept out of `raw` and `lines`. */
  readonly offer: number[] = [];
  #offerDone = false;
  readonly done: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.done = this.#pump();
  }

  /**
   * Connects over TLS to 127.0.0.1:port, trusting the CA certificate `caPem`.
   * TCP_NODELAY is set before the handshake (`Deno.connectTls` cannot: its
   * Finished record would wait 40 ms for the server's delayed ACK, docs/tls.md).
   */
  static async connectTls(port: number, caPem: string): Promise<TestClient> {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    tcp.setNoDelay(true);
    const conn = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [caPem] });
    await conn.handshake();
    return new TestClient(conn);
  }

  /** Connects to `hostname` (127.0.0.1 unless told):port. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<TestClient> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new TestClient(conn);
  }

  async #pump(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.#receive(this.#skipOffer(buf.subarray(0, n)));
      }
    } catch {
      // reset or closed: treated as the end
    }
    this.#ended = true;
    this.#wake();
  }

  // Takes the server's telnet offer off the start of the stream (it may come over several reads).
  #skipOffer(chunk: Uint8Array): Uint8Array {
    if (this.#offerDone) return chunk;
    let i = 0;
    while (i < chunk.length && this.offer.length < OFFER.length && chunk[i] === OFFER[this.offer.length]) {
      this.offer.push(chunk[i++]);
    }
    if (this.offer.length === OFFER.length) this.#offerDone = true;
    if (this.#offerDone || i === chunk.length) return chunk.subarray(i);
    this.#offerDone = true; // not the offer: the bytes taken are data
    const data = new Uint8Array([...this.offer, ...chunk.subarray(i)]);
    this.offer.length = 0;
    return data;
  }

  #receive(chunk: Uint8Array): void {
    const n = chunk.length;
    for (let i = 0; i < n; i++) this.raw.push(chunk[i]);
    const all = new Uint8Array(this.#pending.length + n);
    all.set(this.#pending);
    all.set(chunk, this.#pending.length);
    let start = 0;
    for (let i = 0; i + 1 < all.length; i++) {
      if (all[i] === 13 && all[i + 1] === 10) {
        this.lines.push(decoder.decode(all.subarray(start, i)));
        start = i + 2;
        i++;
      }
    }
    this.#pending = all.slice(start);
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Sends a line with CRLF. */
  send(line: string): Promise<void> {
    return this.sendRaw(encoder.encode(line + "\r\n"));
  }

  /**
   * Sends raw bytes (or a string, UTF-8 encoded, without adding a line end)
   * one byte per write, so the server sees them split across many reads.
   */
  async sendSlowly(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let i = 0; i < bytes.length; i++) await this.sendRaw(bytes.subarray(i, i + 1));
  }

  /** Sends raw bytes (or a string, UTF-8 encoded, without adding a line end). */
  async sendRaw(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /**
   * Waits for the next line (after those already waited for) that matches:
   * equal to a string, matching a RegExp, or passing a predicate. Returns it.
   * Throws with the lines seen if none comes within `ms` or the connection ends.
   */
  async waitFor(match: string | RegExp | ((line: string) => boolean), ms = WAIT_MS): Promise<string> {
    const test = typeof match === "string"
      ? (l: string) => l === match
      : match instanceof RegExp
      ? (l: string) => match.test(l)
      : match;
    const deadline = Date.now() + ms;
    while (true) {
      while (this.#read < this.lines.length) {
        const line = this.lines[this.#read++];
        if (test(line)) return line;
      }
      if (this.#ended) {
        throw new Error(`connection ended while waiting for ${String(match)}; got:\n${this.lines.join("\n")}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(match)}; got:\n${this.lines.join("\n")}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#changed(), new Promise((r) => timer = setTimeout(r, left))]);
      clearTimeout(timer);
    }
  }

  /** Waits until the raw bytes received hold `needle` at or after index `from`; returns where. */
  async waitForBytes(needle: number[], from = 0, ms = WAIT_MS): Promise<number> {
    const deadline = Date.now() + ms;
    while (true) {
      outer: for (let i = from; i + needle.length <= this.raw.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this.raw[i + j] !== needle[j]) continue outer;
        return i;
      }
      if (this.#ended) throw new Error(`connection ended while waiting for bytes ${needle}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for bytes ${needle}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#changed(), new Promise((r) => timer = setTimeout(r, left))]);
      clearTimeout(timer);
    }
  }

  /**
   * Like {@linkcode TestClient.waitFor}, but returns every line consumed on
   * the way, the matching one last. Used to prove that something did not
   * arrive before a later marker line.
   */
  async until(match: string | RegExp | ((line: string) => boolean), ms = WAIT_MS): Promise<string[]> {
    const from = this.#read;
    await this.waitFor(match, ms);
    return this.lines.slice(from, this.#read);
  }

  /** Lines received since the last waitFor position up to now, consuming them. */
  take(): string[] {
    const out = this.lines.slice(this.#read);
    this.#read = this.lines.length;
    return out;
  }

  /** Waits until the server closes the connection. */
  async closed(ms = WAIT_MS): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`connection still open after ${ms} ms; got:\n${this.lines.join("\n")}`)),
        ms,
      )
    );
    try {
      await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once the server closed the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Closes the client side (idempotent). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** The project directory, where main.ts is. */
const ROOT = new URL("..", import.meta.url);

/** What a run of the account tool gave. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Permissions to read and write one folder and nothing else (what the account tool gets in tests). */
export function folderAccess(dir: string): string[] {
  return [`--allow-read=${dir}`, `--allow-write=${dir}`];
}

/**
 * Runs the account tool (`account.ts`) with `permissions` and `args`, with
 * `input` on its standard input (a pipe: the password is one line).
 */
export async function accountTool(permissions: string[], args: string[], input = ""): Promise<ToolResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "account.ts", ...args],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Splits a byte stream into text lines as they come, calling `wake` after each chunk. */
async function pumpLines(stream: ReadableStream<Uint8Array>, into: string[], wake: () => void): Promise<void> {
  let rest = "";
  try {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      into.push(...parts);
      wake();
    }
  } catch {
    // the stream broke: whatever came is all there is
  }
  if (rest !== "") into.push(rest);
  wake();
}

/**
 * The real server as a child process (`deno run --allow-net main.ts ...`,
 * or other permissions), with its stdout and stderr collected line by line.
 */
export class ServerProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Lines written to stdout so far. */
  readonly stdout: string[] = [];
  /** Lines written to stderr (the log) so far. */
  readonly stderr: string[] = [];
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** The port it listens on, once {@linkcode ServerProcess.listening} resolved. */
  port = 0;
  /** The host it printed, once {@linkcode ServerProcess.listening} resolved. */
  hostname = "";
  #output: Promise<void>;
  #stdoutDone: Promise<void>;
  #readingStderr = false;
  #waiters: (() => void)[] = [];
  #exited = false;

  /**
   * Spawns `main.ts` with `args` and `permissions`; does not wait for anything.
   * `openFiles`: the process's open-files limit (`ulimit -n`, soft and hard).
   */
  constructor(
    args: string[],
    permissions: string[] = ["--allow-net"],
    options: { readStderr?: boolean; openFiles?: number } = {},
  ) {
    const run = ["run", ...permissions, "main.ts", ...args];
    const limited = options.openFiles !== undefined;
    this.child = new Deno.Command(limited ? "sh" : Deno.execPath(), {
      args: limited ? ["-c", `ulimit -n ${options.openFiles} && exec "$0" "$@"`, Deno.execPath(), ...run] : run,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const wake = () => this.#wake();
    this.#stdoutDone = pumpLines(this.child.stdout, this.stdout, wake);
    this.#output = this.#stdoutDone;
    if (options.readStderr !== false) this.readStderr();
    this.status = this.child.status.then((s) => {
      this.#exited = true;
      this.#wake();
      return s;
    });
  }

  /** Starts reading stderr (at once, unless the constructor was told `readStderr: false`). */
  readStderr(): void {
    if (this.#readingStderr) return;
    this.#readingStderr = true;
    const stderr = pumpLines(this.child.stderr, this.stderr, () => this.#wake());
    this.#output = Promise.all([this.#stdoutDone, stderr]).then(() => {});
  }

  /** Spawns the server and waits until it prints `listening on HOST:PORT`. */
  static async start(args: string[], permissions?: string[]): Promise<ServerProcess> {
    const proc = new ServerProcess(args, permissions);
    try {
      await proc.listening();
    } catch (error) {
      await proc[Symbol.asyncDispose]();
      throw error;
    }
    return proc;
  }

  /** Waits for the `listening on HOST:PORT` line on stdout and returns the address. */
  async listening(ms = 15000): Promise<{ hostname: string; port: number }> {
    const line = await this.#waitIn(this.stdout, /^listening on /, ms, "stdout");
    const m = /^listening on (.+):(\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected listening line: ${line}`);
    this.hostname = m[1];
    this.port = Number(m[2]);
    return { hostname: this.hostname, port: this.port };
  }

  /** Waits for a stdout line matching `match` and returns it. */
  waitForStdout(match: RegExp, ms = WAIT_MS): Promise<string> {
    return this.#waitIn(this.stdout, match, ms, "stdout");
  }

  /** Waits for a stderr (log) line matching `match` and returns it. */
  waitForLog(match: RegExp, ms = WAIT_MS): Promise<string> {
    return this.#waitIn(this.stderr, match, ms, "stderr");
  }

  /** Connects a {@linkcode TestClient} to the server. */
  connect(): Promise<TestClient> {
    return TestClient.connect(this.port);
  }

  /** Sends a signal. */
  kill(signal: Deno.Signal): void {
    this.child.kill(signal);
  }

  /** Waits (at most `ms`) for the process to exit and for its output to end. */
  async exited(ms = 15000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`the server did not exit within ${ms} ms; stderr:\n${this.stderr.join("\n")}`)),
        ms,
      )
    );
    try {
      const status = await Promise.race([this.status, timeout]);
      await this.#output;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  async #waitIn(lines: string[], match: RegExp, ms: number, what: string): Promise<string> {
    const deadline = Date.now() + ms;
    let seen = 0;
    while (true) {
      for (; seen < lines.length; seen++) if (match.test(lines[seen])) return lines[seen];
      if (this.#exited) {
        await this.#output;
        for (; seen < lines.length; seen++) if (match.test(lines[seen])) return lines[seen];
        throw new Error(
          `the server exited before ${what} matched ${match}; stdout:\n${this.stdout.join("\n")}\nstderr:\n${
            this.stderr.join("\n")
          }`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what} to match ${match}; got:\n${lines.join("\n")}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#waiters.push(resolve)),
        new Promise((r) => timer = setTimeout(r, left)),
      ]);
      clearTimeout(timer);
    }
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Kills the process if it still runs and waits for it and its output. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // it exited meanwhile
      }
    }
    await this.status;
    if (!this.#readingStderr) await this.child.stderr.cancel();
    await this.#output;
  }
}

/**
 * Runs `main.ts` with `args` and returns its exit code and output. If it
 * starts listening (when it should have refused its arguments) or is still
 * running after `ms`, it is killed and `started` or `timedOut` is true.
 */
export async function runCli(
  args: string[],
  ms = 15000,
  permissions?: string[],
): Promise<{ code: number; stdout: string; stderr: string; started: boolean; timedOut: boolean }> {
  await using proc = new ServerProcess(args, permissions);
  let started = false;
  let timedOut = false;
  const ended = proc.status.then(() => {});
  const listening = proc.listening(ms).then(() => {
    started = true;
  }, (error: Error) => {
    if (/timed out/.test(error.message)) timedOut = true;
  });
  await Promise.race([ended, listening]);
  if (started || timedOut) proc.kill("SIGKILL");
  await listening;
  const status = await proc.exited();
  return { code: status.code, stdout: proc.stdout.join("\n"), stderr: proc.stderr.join("\n"), started, timedOut };
}

/**
 * Groups /help lines into one entry per command: a line `***   usage  help`
 * starts an entry, deeper-indented lines continue it (long help is wrapped
 * to 80 columns). Each entry comes back as one line, whitespace collapsed.
 */
export function helpEntries(lines: string[]): string[] {
  const entries: string[] = [];
  for (const line of lines) {
    if (/^\*\*\* {7,}\S/.test(line) && entries.length > 0) {
      entries[entries.length - 1] += " " + line.replace(/^\*\*\* +/, "");
    } else {
      entries.push(line.replace(/^(\*\*\* {3}\S.*?)\s{2,}/, "$1  "));
    }
  }
  return entries;
}

/** The port of a test server's door with this URL scheme ("telnets", "http" …); throws if there is none. */
export function doorPort(chat: TestServer, scheme: string): number {
  const door = chat.server.doors.find((d) => d.scheme === scheme);
  if (!door) throw new Error(`the test server has no ${scheme} door (doors: ${chat.server.doors.map((d) => d.url)})`);
  return door.addr.port;
}
