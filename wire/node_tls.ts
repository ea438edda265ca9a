/**
 * A TLS listener whose connections send at once (TCP_NODELAY) and keep TCP
 * keepalive on, for the TLS doors. `Deno.listenTls` leaves Nagle's algorithm
 * on and offers no way to turn it off (a `TlsConn` has no `setNoDelay`), so
 * its first bytes after the handshake, and any line written while an earlier
 * one is unacknowledged, wait for the client's delayed ACK: 40 ms and more
 * (docs/tls.md has the cause and the figures). This listener uses `node:tls`
 * with `setNoDelay(true)` on every socket, and gives connections with the
 * `read`/`write`/`close` of a `Deno.Conn`, so `readLines`, `readRequest`,
 * `readMessages` and `Outbox` work on them unchanged. The price: about twice
 * the memory of a `Deno.listenTls` connection, and more CPU per write.
 *
 * @example
 * ```ts
 * import { listenTls } from "./node_tls.ts";
 * export async function welcome(cert: string, key: string): Promise<void> { // PEM texts
 *   const listener = await listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
 *   const conn = await listener.accept(); // the handshake is done
 *   await conn.write(new TextEncoder().encode("*** Welcome!\r\n")); // goes out at once
 *   conn.close();
 *   listener.close();
 * }
 * ```
 * @module
 */
import tls from "node:tls";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { Buffer } from "node:buffer";

/** Options of {@linkcode listenTls}. */
export interface TlsListenOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Certificate chain, PEM (leaf first). */
  cert: string;
  /** Private key of the leaf certificate, PEM. */
  key: string;
  /** Longest time a client may take over its handshake (ms); then it is dropped. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Told about connections whose handshake failed or timed out (they are closed, never accepted). */
  onHandshakeError?(error: Error, remote: Deno.NetAddr): void;
  /**
   * Most connections kept waiting for `accept` (handshake done, nobody
   * accepting yet: `Deno.listen` would leave them in the kernel's backlog);
   * more are closed at once. Default {@linkcode MAX_PENDING}.
   */
  maxPending?: number;
  /** Let other processes listen on the same port (Linux `SO_REUSEPORT`); the kernel spreads connections. */
  reusePort?: boolean;
}

/** Default of {@linkcode TlsListenOptions.maxPending}: about the kernel's default listen backlog. */
export const MAX_PENDING = 4096;

/** Longest wait in {@linkcode TlsConnection.close} for the TLS close_notify to go out. */
export const CLOSE_NOTIFY_MS = 1000;

function netAddr(hostname: string | undefined, port: number | undefined): Deno.NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/** One accepted TLS connection (handshake done, TCP_NODELAY on), read and written like a `Deno.Conn`. */
export class TlsConnection {
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** The local address. */
  readonly localAddr: Deno.NetAddr;
  #socket: tls.TLSSocket;
  #left: Uint8Array | undefined; // the unread rest of the last chunk
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  /** Wraps a server-side socket whose handshake is done. */
  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    // Paused mode: bytes wait in the socket (up to its high-water mark) until read() takes them.
    socket.on("readable", () => this.#notify());
    const ended = () => {
      this.#ended = true;
      this.#notify();
    };
    socket.on("end", ended);
    socket.on("close", ended);
    socket.on("error", (error: Error) => {
      this.#error ??= error;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Reads into `p`: the number of bytes read, or `null` at the end. Rejects if the connection failed. */
  async read(p: Uint8Array): Promise<number | null> {
    while (true) {
      const chunk = this.#left ?? (this.#socket.read() as Buffer | null) ?? undefined;
      this.#left = undefined;
      if (chunk) {
        const n = Math.min(p.length, chunk.length);
        p.set(chunk.subarray(0, n));
        if (n < chunk.length) this.#left = chunk.subarray(n);
        return n;
      }
      if (this.#error) throw this.#error;
      if (this.#ended || this.#socket.destroyed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** Writes all of `p`; resolves to its length once the socket took it. Rejects if the connection failed. */
  write(p: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#socket.destroyed) return reject(new Deno.errors.BadResource("the connection is closed"));
      this.#socket.write(p, (error) => error ? reject(error) : resolve(p.length));
    });
  }

  /**
   * Closes the connection; a pending read resolves to `null`. With nothing
   * left unsent it sends the TLS close_notify first (clients expect it) and
   * is gone within {@linkcode CLOSE_NOTIFY_MS}; with bytes still unsent (a
   * client that does not read) it is cut at once.
   */
  close(): void {
    const socket = this.#socket;
    if (!socket.destroyed) {
      if (socket.writableLength === 0 && !socket.writableEnded) {
        const timer = setTimeout(() => socket.destroy(), CLOSE_NOTIFY_MS);
        Deno.unrefTimer(timer);
        socket.end(() => {
          clearTimeout(timer);
          socket.destroy();
        });
      } else socket.destroy();
    }
    this.#ended = true;
    this.#notify();
  }
}

/** A listening TLS server made by {@linkcode listenTls}. */
export class TlsListener {
  #server: tls.Server;
  #ready: TlsConnection[] = [];
  #waiting: ((conn: TlsConnection | undefined) => void)[] = [];
  #closed = false;

  constructor(server: tls.Server, options: TlsListenOptions) {
    this.#server = server;
    // On the TCP socket itself, before the handshake, so that the handshake's own records do not wait either.
    server.on("connection", (socket) => {
      socket.setNoDelay(true);
      socket.setKeepAlive(true); // a vanished peer is noticed even if nobody writes to it
    });
    const maxPending = options.maxPending ?? MAX_PENDING;
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      const waiter = this.#waiting.shift();
      if (!waiter && this.#ready.length >= maxPending) return void socket.destroy(); // a full backlog
      const conn = new TlsConnection(socket);
      if (waiter) waiter(conn);
      else this.#ready.push(conn);
    });
    server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
      options.onHandshakeError?.(error, netAddr(socket.remoteAddress, socket.remotePort));
      socket.destroy();
    });
  }

  /** The address the listener is bound to. */
  get addr(): Deno.NetAddr {
    const a = this.#server.address();
    return typeof a === "object" && a ? netAddr(a.address, a.port) : netAddr(undefined, undefined);
  }

  /** The next connection whose handshake is done; rejects with `BadResource` once the listener is closed. */
  async accept(): Promise<TlsConnection> {
    const conn = this.#ready.shift() ??
      (this.#closed ? undefined : await new Promise<TlsConnection | undefined>((r) => this.#waiting.push(r)));
    if (!conn) throw new Deno.errors.BadResource("the listener is closed");
    return conn;
  }

  /** Stops listening; open connections stay open; waiting `accept`s reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const conn of this.#ready.splice(0)) conn.close();
    for (const w of this.#waiting.splice(0)) w(undefined);
  }
}

/**
 * Why `cert` (PEM, leaf first) and `key` (PEM) cannot serve TLS, or
 * `undefined` if they can. (`node:tls` would only find out at the first
 * handshake.)
 */
export function certificateProblem(cert: string, key: string): string | undefined {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    return `the certificate cannot be read (${(error as Error).message})`;
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    return `the private key cannot be read (${(error as Error).message})`;
  }
  return leaf.checkPrivateKey(privateKey) ? undefined : "the private key does not match the certificate";
}

/**
 * Listens for TLS connections with TCP_NODELAY (see the module
 * documentation). Rejects with a one-line reason if the certificate or key
 * cannot be used ({@linkcode certificateProblem}) or the address is taken.
 */
export function listenTls(options: TlsListenOptions): Promise<TlsListener> {
  return new Promise((resolve, reject) => {
    const problem = certificateProblem(options.cert, options.key);
    if (problem) return reject(new Error(problem));
    let server: tls.Server;
    try {
      server = tls.createServer({
        cert: options.cert,
        key: options.key,
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      });
    } catch (error) {
      return reject(error);
    }
    const listener = new TlsListener(server, options);
    server.once("error", reject);
    const at = { port: options.port, host: options.hostname, reusePort: options.reusePort ?? false };
    server.listen(at, () => {
      server.off("error", reject);
      resolve(listener);
    });
  });
}
