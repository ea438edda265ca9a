/**
 * Opening the byte stream to the server: plain TCP, TLS verified against
 * the system's roots (plus `--ca` certificates: `Deno.connectTls` with
 * `caCerts`), or TLS without any verification (`--insecure`, for a
 * self-signed certificate). Deno's own TLS API cannot skip verification
 * (only the `--unsafely-ignore-certificate-errors` runtime flag can), so the
 * insecure case goes through `node:tls` with `rejectUnauthorized: false`.
 *
 * @example
 * ```ts
 * import { openLink } from "./link.ts";
 * const server = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // stands in for teaparty
 * const link = await openLink({ host: "127.0.0.1", port: server.addr.port, tls: false });
 * const peer = await server.accept();
 * await link.write(new TextEncoder().encode("look\r\n"));
 * link.close();
 * peer.close();
 * server.close();
 * ```
 * @module
 */
import * as tls from "node:tls";

/** A connection: read into a buffer (null at the end), write all bytes, close. */
export interface Link {
  read(buf: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<void>;
  close(): void;
}

/** Where and how to connect. */
export interface LinkOptions {
  host: string;
  port: number;
  tls: boolean;
  /** Skip certificate verification (TLS only). */
  insecure?: boolean;
  /** Extra trusted CA certificates, PEM (TLS only). */
  caCerts?: string[];
}

/** Opens a link; rejects with an error that says what failed. */
export async function openLink(options: LinkOptions): Promise<Link> {
  const { host: hostname, port } = options;
  if (options.tls && options.insecure) return await openInsecure(hostname, port);
  const conn = options.tls
    ? await Deno.connectTls({ hostname, port, caCerts: options.caCerts })
    : await Deno.connect({ hostname, port });
  if (!options.tls) (conn as Deno.TcpConn).setNoDelay(true);
  if (options.tls) await (conn as Deno.TlsConn).handshake();
  return new ConnLink(conn);
}

class ConnLink implements Link {
  readonly #conn: Deno.Conn;
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }
  read(buf: Uint8Array): Promise<number | null> {
    return this.#conn.read(buf);
  }
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}

// node:tls socket as a Link: data is queued until read.
function openInsecure(host: string, port: number): Promise<Link> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: isIp(host) ? undefined : host });
    const chunks: Uint8Array[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    socket.on("data", (d: Uint8Array) => {
      chunks.push(new Uint8Array(d));
      notify();
    });
    socket.on("end", () => {
      ended = true;
      notify();
    });
    socket.on("close", () => {
      ended = true;
      notify();
    });
    socket.on("error", (e: Error) => {
      failure = e;
      ended = true;
      notify();
      reject(e);
    });
    socket.once("secureConnect", () => {
      resolve({
        async read(buf: Uint8Array): Promise<number | null> {
          while (chunks.length === 0) {
            if (ended) {
              if (failure) throw failure;
              return null;
            }
            await new Promise<void>((r) => wake = r);
          }
          const chunk = chunks[0];
          const n = Math.min(buf.length, chunk.length);
          buf.set(chunk.subarray(0, n));
          if (n === chunk.length) chunks.shift();
          else chunks[0] = chunk.subarray(n);
          return n;
        },
        write(bytes: Uint8Array): Promise<void> {
          return new Promise((res, rej) => socket.write(bytes, (e?: Error | null) => e ? rej(e) : res()));
        },
        close(): void {
          socket.destroy();
        },
      });
    });
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
