/**
 * The HTTP door (`--http-port`; HTTPS with the TLS files): the web client
 * (`GET /` and its files from `web/`, loaded once at start-up), `/healthz`,
 * `/metrics` (Prometheus text format) and the WebSocket endpoint `GET /ws`.
 *
 * Only WebSocket sessions count against the connection limits (a page load
 * is a few short requests); address bans apply to every request. By default
 * only the page's own origin may open the WebSocket (`--allow-origin` adds
 * others), which stops cross-site WebSocket hijacking. Behind a reverse
 * proxy named with `--trust-proxy`, the client's address is taken from
 * `X-Forwarded-For`; from anyone else that header is ignored.
 *
 * @example
 * ```ts
 * import { ChatServer } from "../server.ts";
 * const server = new ChatServer({ host: "127.0.0.1", port: 0, httpPort: 0 });
 * await server.listen();
 * console.log(server.doors.map((d) => d.url)); // ["telnet://127.0.0.1:…", "http://127.0.0.1:…"]
 * await server.shutdown();
 * ```
 * @module
 */
import {
  type AcceptedConn,
  answerAndClose,
  type Door,
  type DoorHost,
  DoorListener,
  type TlsFiles,
  writeWhole,
} from "./door.ts";
import { WebSocketSession } from "./websocket.ts";
import { clientAddress as socketAddress } from "../session.ts";
import {
  clientAddress,
  hostAllowed,
  HttpError,
  httpResponse,
  originAllowed,
  readRequest,
  securityHeaders,
  StaticFiles,
} from "../wire/http.ts";
import { closeFrame, textFrame, upgradeResponse } from "../wire/websocket.ts";
import { eventJson } from "../dialects/json.ts";
import { type AddressRange, coveredBy, inRange, parseAddress } from "../moderation.ts";

/** How long a client may take to send its request headers. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** HTTP requests (WebSocket upgrades included) handled at once; further connections wait in the listener's backlog. */
export const MAX_REQUESTS = 256;
/**
 * How long a request head may have been coming since its first bytes
 * (unfinished) before, with every slot taken, it may be closed to make room:
 * that of the address with the most such heads, the one stalled longest
 * first. So one address that holds every slot with half-sent requests
 * (slowloris) cannot shut out the others, while a crowd from one address
 * whose heads come whole (a load test, clients behind one proxy
 * reconnecting) still waits its turn and is served.
 */
export const STALLED_HEAD_MS = 1000;
/**
 * How long a connection may have sent nothing at all before its head counts
 * as stalled (as above). Longer than {@linkcode STALLED_HEAD_MS}: a client
 * that has sent nothing yet may only be slow to start, as each of ten
 * thousand WebSocket clients connecting at once from one load generator is
 * (up to 2.7 s measured here), and its head then comes whole.
 */
export const SILENT_HEAD_MS = 5000;

/** Options of {@linkcode HttpDoor}. */
export interface HttpDoorOptions {
  hostname: string;
  port: number;
  /** Certificate and key: the door speaks HTTPS and WSS. */
  tls?: TlsFiles;
  /** The web client's files (loaded at start-up; requests wait for them). */
  web: Promise<StaticFiles>;
  /** The `/metrics` text, made when asked. */
  metrics: () => string;
}

const encoder = new TextEncoder();

/** The HTTP(S) door. */
export class HttpDoor implements Door {
  /** The server. */
  readonly host: DoorHost;
  #options: HttpDoorOptions;
  #socket: DoorListener;
  #requests = 0;
  // Requests whose head is still coming: from where, when accepted, when its first bytes came (-1: none yet).
  #heads = new Map<AcceptedConn, { from: string; at: number; started: number }>();
  #evicted = new WeakSet<AcceptedConn>(); // closed to make room (see STALLED_HEAD_MS)
  #evictTimer: ReturnType<typeof setTimeout> | undefined;
  #free: (() => void) | undefined; // wakes the accept loop when a request slot frees up
  #proxies: AddressRange[]; // --trust-proxy

  /**
   * A door on `options.hostname:options.port`; call `listen` to open it.
   * Throws if a `trustProxy` entry is not an address or a range.
   */
  constructor(host: DoorHost, options: HttpDoorOptions) {
    this.host = host;
    this.#options = options;
    this.#socket = new DoorListener(this.scheme, host.log, (conn, why) => { // before its request was read
      this.host.refused(socketAddress(conn), this.scheme, why);
      const headers = { "Content-Type": "text/plain; charset=utf-8", "Retry-After": "10" };
      return answerAndClose(conn, httpResponse(503, headers, `${why}\n`));
    });
    this.#proxies = host.options.trustProxy.map((text) => {
      const range = parseAddress(text);
      if ("error" in range) throw new Error(`trustProxy "${text}": ${range.error}`);
      return range;
    });
  }

  /** Whether `ip` is a reverse proxy named with `--trust-proxy`. */
  #trusted = (ip: string): boolean => coveredBy(this.#proxies, ip);

  get scheme(): string {
    return this.#options.tls ? "https" : "http";
  }

  /** HTTP requests (WebSocket upgrades included) under way now. */
  get requests(): number {
    return this.#requests;
  }

  /** The chat (for WebSocket sessions). */
  get chat(): DoorHost["chat"] {
    return this.host.chat;
  }

  /** The command table (for WebSocket sessions). */
  get commands(): DoorHost["commands"] {
    return this.host.commands;
  }

  async listen(): Promise<Deno.NetAddr> {
    await this.#socket.open(
      this.#options,
      this.host.options.reusePort,
      (conn) => this.#serve(conn),
      () => this.#slot(),
    );
    return this.addr;
  }

  get addr(): Deno.NetAddr {
    return this.#socket.addr;
  }

  get url(): string {
    return this.#socket.url;
  }

  async close(): Promise<void> {
    await this.#socket.close(() => this.#wakeAccept());
  }

  #wakeAccept(): void {
    const free = this.#free;
    this.#free = undefined;
    clearTimeout(this.#evictTimer);
    this.#evictTimer = undefined;
    free?.();
  }

  // Undefined while a slot is free; else a promise of one (see STALLED_HEAD_MS).
  #slot(): Promise<void> | undefined {
    if (this.#requests < MAX_REQUESTS) return undefined;
    const slot = new Promise<void>((resolve) => this.#free = resolve);
    this.#evict();
    return slot;
  }

  // Every slot is taken: closes an unfinished head of the address with the most, once it is stalled
  // (STALLED_HEAD_MS after its first bytes, SILENT_HEAD_MS without any; a timer until then); none at all: a slot
  // frees when a request ends.
  #evict(): void {
    clearTimeout(this.#evictTimer);
    this.#evictTimer = undefined;
    if (!this.#free) return;
    const counts = new Map<string, number>();
    for (const { from } of this.#heads.values()) counts.set(from, (counts.get(from) ?? 0) + 1);
    let most: string | undefined;
    for (const [from, n] of counts) if (most === undefined || n > counts.get(most)!) most = from;
    let victim: [AcceptedConn, number] | undefined; // the head of that address that is (or will be) stalled first
    for (const [conn, { from, at, started }] of this.#heads) {
      if (from !== most) continue;
      const stalled = started < 0 ? at + SILENT_HEAD_MS : started + STALLED_HEAD_MS;
      if (!victim || stalled < victim[1]) victim = [conn, stalled];
    }
    if (!victim) return;
    const wait = victim[1] - Date.now();
    if (wait > 0) {
      this.#evictTimer = setTimeout(() => {
        this.#evictTimer = undefined;
        this.#evict();
      }, wait);
      return;
    }
    this.#heads.delete(victim[0]);
    this.#evicted.add(victim[0]);
    this.host.log.often("info", "http request closed to make room", { ip: most, reason: "head unfinished" });
    closeQuietly(victim[0]); // its request ends: the slot is free
  }

  async #serve(conn: AcceptedConn): Promise<void> {
    this.#requests++; // the accept loop waits while MAX_REQUESTS are under way
    const coming = { from: socketAddress(conn), at: Date.now(), started: -1 };
    this.#heads.set(conn, coming);
    const source = { // notes when the head's first bytes came
      read: async (p: Uint8Array) => {
        const n = await conn.read(p);
        if (coming.started < 0 && n) {
          coming.started = Date.now();
          if (this.#free) this.#evict(); // it may be the one to close first now
        }
        return n;
      },
    };

    let upgraded = false;
    try {
      if (!this.#options.tls) {
        try {
          (conn as Deno.TcpConn).setNoDelay(true);
        } catch { /* gone */ }
      }
      const request = await readRequest(source, { maxHeaderBytes: 8192, timeoutMs: REQUEST_TIMEOUT_MS })
        .finally(() => this.#heads.delete(conn));
      const ip = normalAddress(clientAddress(socketAddress(conn), request.headers, this.#trusted));
      const head = request.method === "HEAD";
      if (request.method !== "GET" && !head) {
        return void await writeWhole(conn, httpResponse(405, { Allow: "GET, HEAD" }, "only GET and HEAD\n"));
      }
      const ban = request.path === "/ws" ? undefined : this.#banned(ip); // a WebSocket is told in the protocol
      if (ban) return void await writeWhole(conn, httpResponse(403, {}, `${ban}\n`, head));
      switch (request.path) {
        case "/healthz":
          return void await writeWhole(conn, httpResponse(200, { "Cache-Control": "no-store" }, "ok\n", head));
        case "/metrics":
          return void await writeWhole(
            conn,
            httpResponse(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }, this.#metrics(), head),
          );
        case "/ws":
          if (head) { // a WebSocket handshake is a GET (RFC 6455 section 4.1)
            return void await writeWhole(
              conn,
              httpResponse(405, { Allow: "GET" }, "the WebSocket is opened with GET\n", head),
            );
          }
          if (request.version !== "HTTP/1.1") {
            return void await writeWhole(
              conn,
              httpResponse(400, {}, "a WebSocket handshake needs HTTP/1.1 (RFC 6455)\n"),
            );
          }
          upgraded = await this.#upgrade(conn, ip, request.headers, request.rest);
          return;
        default: {
          const response = (await this.#options.web).respond(request);
          const headers = securityHeaders(request.headers.get("host"));
          return void await writeWhole(conn, response ?? httpResponse(404, headers, "not found\n", head));
        }
      }
    } catch (error) {
      if (this.#evicted.has(conn)) {
        // closed to make room: nothing to answer
      } else if (error instanceof HttpError) {
        await writeWhole(conn, httpResponse(error.status, {}, `${error.reason}\n`, error.method === "HEAD"));
      } else if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset)) {
        this.host.log.warn("http request failed", { error: String(error) });
      }
    } finally {
      this.#requests--;
      this.#heads.delete(conn);
      this.#wakeAccept();
      if (!upgraded) closeQuietly(conn);
    }
  }

  #banned(ip: string): string | undefined {
    try {
      const ban = this.host.chat.moderation.banned("ip", ip);
      return ban ? "Your address is banned." : undefined;
    } catch {
      return undefined;
    }
  }

  #metrics(): string {
    return this.#options.metrics();
  }

  /** Upgrades to a WebSocket session; returns whether the connection now belongs to one. */
  async #upgrade(conn: AcceptedConn, ip: string, headers: Map<string, string>, rest: Uint8Array): Promise<boolean> {
    const { options, gate, chat } = this.host;
    if (reachedPrivately(conn, this.#trusted) && !hostAllowed(headers.get("host"), options.allowOrigin)) {
      this.host.refused(ip, "websocket", `host name ${headers.get("host")} not allowed`);
      await writeWhole(
        conn,
        httpResponse(403, {}, "this host name may not open the WebSocket: add its origin with --allow-origin\n"),
      );
      return false;
    }
    if (!originAllowed(headers, { secure: this.#options.tls !== undefined, allowOrigin: options.allowOrigin })) {
      this.host.refused(ip, "websocket", `origin ${headers.get("origin")} not allowed`);
      await writeWhole(conn, httpResponse(403, {}, "this origin may not open the WebSocket (see --allow-origin)\n"));
      return false;
    }
    const upgrade = upgradeResponse(headers);
    if (!upgrade.ok) {
      await writeWhole(conn, httpResponse(upgrade.status, upgrade.headers, `${upgrade.reason}\n`));
      return false;
    }
    const ban = this.#banned(ip);
    const refusal = ban ?? gate.admit(ip); // a banned address never enters the gate
    if (refusal) {
      // Browsers show no HTTP error for a WebSocket: say it in the protocol, then close: 1008 (policy) for a ban,
      // which a page must not retry, 1013 (try again later) for a limit.
      this.host.refused(ip, "websocket", refusal);
      await writeWhole(conn, upgrade.bytes);
      await writeWhole(conn, textFrame(encoder.encode(eventJson({ type: "error", text: refusal }))));
      await writeWhole(conn, closeFrame(ban ? 1008 : 1013, refusal.slice(0, 120)));
      return false;
    }
    await writeWhole(conn, upgrade.bytes);
    let session: WebSocketSession;
    try {
      session = new WebSocketSession(this, chat, conn, ip, rest);
      chat.opened(session);
      this.host.connected(session);
    } catch (error) {
      gate.leave(ip);
      throw error;
    }
    session.run(); // the gate is left when the session closes
    return true;
  }
}

/**
 * An address in the normal form that bans and per-address counts compare
 * (`2001:DB8::7` and `2001:db8:0::7` are one client): a proxy may write
 * X-Forwarded-For in any form.
 */
function normalAddress(ip: string): string {
  const parsed = parseAddress(ip);
  return "error" in parsed ? ip : parsed.text;
}

function closeQuietly(conn: AcceptedConn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}

/** Addresses that a DNS name on the internet should never lead to: loopback, private, link-local. */
const PRIVATE_RANGES = [
  "127.0.0.0/8",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
]
  .map((range) => parseAddress(range) as AddressRange);

/**
 * Whether a connection reached the server at a loopback or private address
 * (not through a trusted proxy): there the WebSocket checks the Host header
 * against DNS rebinding (see `hostAllowed`). On a public address a page
 * gains nothing by rebinding that a program could not do directly.
 */
function reachedPrivately(conn: AcceptedConn, trusted: (ip: string) => boolean): boolean {
  if (trusted(socketAddress(conn))) return false;
  const local = parseAddress((conn.localAddr as Deno.NetAddr).hostname ?? "");
  return !("error" in local) && PRIVATE_RANGES.some((range) => inRange(local.bytes, range));
}
