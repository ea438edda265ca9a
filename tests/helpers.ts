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
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 and a free port, logging into `logs`. */
export function startServer(options: ChatServerOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const server = new ChatServer({
    host: "127.0.0.1",
    port: 0,
    logger: new Logger("debug", (line) => logs.push(line)),
    ...options,
  });
  const { port } = server.listen();
  const clients: TestClient[] = [];
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
    async close() {
      for (const c of clients) c.close();
      await server.shutdown();
    },
    async [Symbol.asyncDispose]() {
      await test.close();
    },
  };
  return Promise.resolve(test);
}

/** A line-based TCP client for tests. */
export class TestClient {
  readonly conn: Deno.TcpConn;
  /** Every line received so far, in order. */
  readonly lines: string[] = [];
  #read = 0; // index of the next line waitFor looks at
  #pending = new Uint8Array(0);
  #waiters: (() => void)[] = [];
  #ended = false;
  /** Raw bytes received (for byte-level checks such as telnet negotiation). */
  readonly raw: number[] = [];
  readonly done: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.done = this.#pump();
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<TestClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new TestClient(conn);
  }

  async #pump(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        for (let i = 0; i < n; i++) this.raw.push(buf[i]);
        const all = new Uint8Array(this.#pending.length + n);
        all.set(this.#pending);
        all.set(buf.subarray(0, n), this.#pending.length);
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
    } catch {
      // reset or closed: treated as the end
    }
    this.#ended = true;
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
