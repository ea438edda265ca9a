/**
 * Opening the byte stream to the server: plain TCP, TLS verified against
 * the system's roots (plus `--ca` certificates: `Deno.connectTls` with
 * `caCerts`), or TLS without any verification (`--insecure`, for a
 * self-signed certificate). Deno's own TLS API cannot skip verification
 * (only the `--unsafely-ignore-certificate-errors` runtime flag can), so the
 * insecure case goes through `node:tls` with `rejectUnauthorized: false`.
 * A refused certificate is told in plain words, with what to do
 * ({@linkcode tlsReason}), and is final: not tried again ({@linkcode TlsRefused}).
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
  const plain = (error: unknown) => plainTlsError(error, { host: hostname, ca: (options.caCerts?.length ?? 0) > 0 });
  if (options.tls && options.insecure) {
    return await openInsecure(hostname, port).catch((error) => Promise.reject(plain(error)));
  }
  if (!options.tls) {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new ConnLink(conn);
  }
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({ hostname, port, caCerts: options.caCerts });
    await conn.handshake();
  } catch (error) {
    try {
      conn?.close();
    } catch {
      // closed already
    }
    throw plain(error);
  }
  return new ConnLink(conn);
}

/**
 * A TLS connection refused for a reason that connecting again cannot
 * change (one of {@linkcode tlsReason}'s: a certificate refused, a port that
 * does not speak TLS): its `final` tells the connection (connection.ts) not
 * to try again, as it would be refused the same way until someone changes the
 * certificate or the command line.
 */
export class TlsRefused extends Error {
  /** Connecting again would be refused the same way (see `isFinal` in connection.ts). */
  readonly final = true;
}

/**
 * The error of a TLS connection that failed: one {@linkcode tlsReason} puts
 * in plain words is a {@linkcode TlsRefused}; any other is left as it is
 * (a refused or reset connection may well work the next time).
 */
function plainTlsError(error: unknown, context: { host: string; ca: boolean }): unknown {
  if (!(error instanceof Error)) return error;
  const reason = tlsReason(error.message, context);
  return reason === error.message ? error : new TlsRefused(reason, { cause: error });
}

/**
 * A TLS failure in plain words: the errors of Deno's TLS stack (rustls)
 * that a user meets most (a self-signed certificate, a CA not trusted, a
 * certificate for another name, an expired one, a port that does not speak
 * TLS) say what is wrong and what to do; any other message is returned as
 * it is. `host` is the name connected to; `ca` whether `--ca` was given.
 *
 * @example
 * ```ts
 * import { tlsReason } from "./link.ts";
 * tlsReason("invalid peer certificate: UnknownIssuer", { host: "chat.example", ca: false });
 * // "the server's certificate is not signed by a CA this computer trusts (a private CA, or self-signed?); ..."
 * ```
 */
export function tlsReason(message: string, { host, ca }: { host: string; ca: boolean }): string {
  const peer = /^invalid peer certificate: (.*)$/s.exec(message.trim());
  if (!peer) {
    if (/received corrupt message|InvalidContentType|WrongVersion|corrupt message of type/i.test(message)) {
      return "the server did not answer in TLS (is this a plain port? leave out --tls for it)";
    }
    return message;
  }
  const what = peer[1];
  const unverified = "or use --insecure to connect without verifying it";
  if (/CaUsedAsEndEntity/.test(what)) {
    return "the server's certificate is a CA certificate used as its own (self-signed); sign the server's " +
      "certificate with a separate CA and give that CA with --ca, or use --insecure";
  }
  if (/UnknownIssuer/.test(what)) {
    return ca
      ? "the server's certificate is signed neither by the CA given with --ca nor by one this computer trusts; " +
        `give the CA that signed it with --ca, ${unverified}`
      : "the server's certificate is not signed by a CA this computer trusts (a private CA, or self-signed?); " +
        `give that CA with --ca FILE, ${unverified}`;
  }
  if (/NotValidForName|not valid for name/.test(what)) {
    const names = [...what.matchAll(/(?:DnsName|IpAddress)\("?([^")]*)"?\)/g)].map((m) => m[1]);
    const only = names.length ? ` (it is for ${names.join(", ")})` : "";
    return `the server's certificate is not valid for the name ${host}${only}; ` +
      `connect with a name it is for, ${unverified}`;
  }
  if (/^(Expired|ExpiredContext)\b|^certificate expired/i.test(what)) {
    return `the server's certificate has expired (or this computer's clock is wrong); ` +
      `the server needs a new certificate, ${unverified}`;
  }
  if (/^(NotValidYet|NotValidYetContext)\b|^certificate not valid yet/i.test(what)) {
    return `the server's certificate is not valid yet (is this computer's clock right?), ${unverified}`;
  }
  return `the server's certificate was refused: ${what}`;
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
