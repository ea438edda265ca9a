/**
 * A raw WebSocket client for tests: it sends whatever frames a test asks
 * for (masked text, binary, oversize, invalid UTF-8, pings) and records the
 * server's frames as they come, so that close codes, pings and JSON events
 * can be checked byte by byte. For well-behaved clients, tests use Deno's
 * own `WebSocket`.
 *
 * @example
 * ```ts
 * import { RawWebSocket } from "./ws_client.ts";
 * const ws = await RawWebSocket.connect(8080);
 * ws.sendText("login alice");
 * await ws.waitForEvent((e) => e.type === "entered");
 * ```
 * @module
 */
import { WAIT_MS } from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A frame the server sent. */
export interface Frame {
  opcode: number;
  payload: Uint8Array;
}

/** A raw WebSocket connection to 127.0.0.1. */
export class RawWebSocket {
  readonly conn: Deno.TcpConn;
  /** The HTTP response head (status line and headers). */
  readonly response: string;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  #buf: Uint8Array;
  #waiters: (() => void)[] = [];
  #ended = false;
  #seen = 0;
  /** Resolves when the connection has ended. */
  readonly done: Promise<void>;

  private constructor(conn: Deno.TcpConn, response: string, rest: Uint8Array, read: boolean) {
    this.conn = conn;
    this.response = response;
    this.#buf = rest;
    this.#parse();
    this.done = read ? this.#pump() : Promise.resolve();
  }

  /**
   * Opens a WebSocket to `path` with `origin` (null: no Origin header).
   * Throws with the HTTP response if the server does not answer 101.
   * With `read: false` the client never reads after the handshake.
   */
  static async connect(
    port: number,
    options: { path?: string; origin?: string | null; read?: boolean; headers?: Record<string, string> } = {},
  ): Promise<RawWebSocket> {
    const { head, rest, conn } = await RawWebSocket.request(port, options);
    if (!head.startsWith("HTTP/1.1 101")) {
      conn.close();
      throw new Error(`no upgrade: ${head.split("\r\n")[0]}`);
    }
    return new RawWebSocket(conn, head, rest, options.read !== false);
  }

  /** Sends an upgrade request and returns the response head, the bytes after it and the connection. */
  static async request(
    port: number,
    options: { path?: string; origin?: string | null; headers?: Record<string, string> } = {},
  ): Promise<{ head: string; rest: Uint8Array; conn: Deno.TcpConn }> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const headers: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      ...(options.origin === null ? {} : { Origin: options.origin ?? `http://127.0.0.1:${port}` }),
      ...options.headers,
    };
    const text = `GET ${options.path ?? "/ws"} HTTP/1.1\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
    await conn.write(encoder.encode(text));
    let data: Uint8Array = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const end = indexOf(data, encoder.encode("\r\n\r\n"));
      if (end >= 0) return { head: decoder.decode(data.subarray(0, end)), rest: data.slice(end + 4), conn };
      if (Date.now() > deadline) throw new Error("no HTTP response head");
      const n = await conn.read(chunk);
      if (n === null) return { head: decoder.decode(data), rest: new Uint8Array(0), conn };
      data = concat(data, chunk.subarray(0, n));
    }
  }

  async #pump(): Promise<void> {
    const chunk = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        this.#buf = concat(this.#buf, chunk.subarray(0, n));
        this.#parse();
      }
    } catch { /* reset */ }
    this.#ended = true;
    this.#wake();
  }

  #parse(): void {
    while (this.#buf.length >= 2) {
      const b = this.#buf;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = (b[2] << 8) | b[3];
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        at = 10;
      }
      if (b.length < at + len) return;
      this.frames.push({ opcode: b[0] & 0x0f, payload: b.slice(at, at + len) });
      this.#buf = b.slice(at + len);
    }
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Sends one masked frame. */
  async sendFrame(opcode: number, payload: Uint8Array, fin = true): Promise<void> {
    const mask = new Uint8Array([1, 2, 3, 4]);
    const len = payload.length;
    const head = len < 126 ? [0, 0x80 | len] : len < 65536 ? [0, 0x80 | 126, len >> 8, len & 0xff] : [
      0,
      0x80 | 127,
      ...Array.from({ length: 8 }, (_, i) => Number((BigInt(len) >> BigInt(8 * (7 - i))) & 0xffn)),
    ];
    head[0] = (fin ? 0x80 : 0) | opcode;
    const frame = new Uint8Array(head.length + 4 + len);
    frame.set(head);
    frame.set(mask, head.length);
    for (let i = 0; i < len; i++) frame[head.length + 4 + i] = payload[i] ^ mask[i & 3];
    let off = 0;
    while (off < frame.length) off += await this.conn.write(frame.subarray(off));
  }

  /** Sends a text frame (one line of the line protocol). */
  sendText(text: string): Promise<void> {
    return this.sendFrame(1, encoder.encode(text));
  }

  /** Waits for the next frame (after those already waited for) that passes `test`. */
  async waitForFrame(test: (f: Frame) => boolean, ms = WAIT_MS): Promise<Frame> {
    const deadline = Date.now() + ms;
    while (true) {
      while (this.#seen < this.frames.length) {
        const f = this.frames[this.#seen++];
        if (test(f)) return f;
      }
      if (this.#ended) throw new Error(`connection ended; frames: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${this.describe()}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#waiters.push(r)),
        new Promise((r) => timer = setTimeout(r, left)),
      ]);
      clearTimeout(timer);
    }
  }

  /** Waits for the next JSON event that passes `test`; returns it. */
  // deno-lint-ignore no-explicit-any
  async waitForEvent(test: (e: any) => boolean, ms = WAIT_MS): Promise<any> {
    const frame = await this.waitForFrame((f) => f.opcode === 1 && test(JSON.parse(decoder.decode(f.payload))), ms);
    return JSON.parse(decoder.decode(frame.payload));
  }

  /** Waits for the server's close frame; returns its code and reason. */
  async waitForClose(ms = WAIT_MS): Promise<{ code: number; reason: string }> {
    const f = await this.waitForFrame((f) => f.opcode === 8, ms);
    const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : 1005;
    return { code, reason: decoder.decode(f.payload.subarray(2)) };
  }

  /** The frames so far, for error messages. */
  describe(): string {
    return this.frames.map((f) => f.opcode === 1 ? decoder.decode(f.payload) : `<opcode ${f.opcode}>`).join("\n");
  }

  /** Closes the TCP connection. */
  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
