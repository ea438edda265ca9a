/**
 * Just enough HTTP/1.1 for the HTTP door, over any byte source: reading a
 * request head ({@linkcode readRequest}), writing a whole response
 * ({@linkcode httpResponse}; one request per connection, then
 * `Connection: close`), static files loaded once at start-up
 * ({@linkcode StaticFiles}, with ETags and gzip), the security headers of
 * every page ({@linkcode securityHeaders}), the client's address behind a
 * trusted reverse proxy ({@linkcode clientAddress}) and the WebSocket origin
 * check ({@linkcode originAllowed}).
 *
 * Request bodies are never read: the door serves GET and HEAD only.
 *
 * @example
 * ```ts
 * import { HttpError, httpResponse, readRequest, securityHeaders } from "./http.ts";
 * export async function answer(conn: Deno.Conn): Promise<void> { // an accepted connection
 *   try {
 *     const request = await readRequest(conn);
 *     await conn.write(httpResponse(200, { "Content-Type": "text/plain", ...securityHeaders() }, `tea for ${request.path}\n`));
 *   } catch (error) {
 *     if (error instanceof HttpError) await conn.write(httpResponse(error.status, {}, error.reason + "\n"));
 *   }
 * }
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { gzipSync } from "node:zlib";

/**
 * A request that cannot be served: `status` to answer with, `reason` a
 * one-line explanation (also the message), `method` the request's method
 * when it was read before the error (the answer to a HEAD has no body).
 */
export class HttpError extends Error {
  /** The status code to answer with (400, 431, 505 …). */
  readonly status: number;
  /** One line saying what was wrong. */
  readonly reason: string;
  /** The method of the request refused ("HEAD" …), if it got that far; else undefined. */
  readonly method: string | undefined;
  constructor(status: number, reason: string, method?: string) {
    super(reason);
    this.name = "HttpError";
    this.status = status;
    this.reason = reason;
    this.method = method;
  }
}

/** Something to read bytes from, like a `Deno.Conn`. */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** A request head, as {@linkcode readRequest} read it. */
export interface HttpRequest {
  /** The method, as sent (methods are case-sensitive): "GET", "HEAD" … */
  method: string;
  /** The request target as sent, e.g. "/ws?x=1". */
  target: string;
  /** The target's path, percent-decoded, e.g. "/app.js". */
  path: string;
  /** The target's query ("" when none), parsed. */
  query: URLSearchParams;
  /** "HTTP/1.1" or "HTTP/1.0". */
  version: string;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  headers: Map<string, string>;
  /** Bytes read past the head (e.g. the first WebSocket frames). */
  rest: Uint8Array;
}

/** Options of {@linkcode readRequest}. */
export interface ReadRequestOptions {
  /** Longest request head in bytes, request line and blank line included; longer is refused with 431. */
  maxHeaderBytes?: number;
  /** Milliseconds the whole head may take to come; later is refused with 408 (default: no limit). */
  timeoutMs?: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const LF = 10;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const TARGET = /^\/[\x21-\x7e]*$/; // origin-form: a path, then maybe a query; visible ASCII only
// deno-lint-ignore no-control-regex -- control characters are what it finds
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/; // control characters other than tab

/** Where the head ends in `buf[0, end)` (the index after its blank line), or -1. */
function headEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = buf.indexOf(LF, from); i !== -1 && i < end; i = buf.indexOf(LF, i + 1)) {
    if (i + 1 < end && buf[i + 1] === LF) return i + 2;
    if (i + 2 < end && buf[i + 1] === 13 && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/**
 * Reads one request head from `source`. Throws {@linkcode HttpError} for a
 * request to refuse: 400 for a malformed one (or one that ends early, or a
 * GET or HEAD with a body, or a path with `..` segments or NUL), 431 for a
 * head longer than `maxHeaderBytes` (default 8192), 408 for one not whole
 * within `timeoutMs`, 505 for an HTTP version other than 1.x; the error
 * carries the method when the request line had got that far. Lines may end
 * with CRLF or LF.
 *
 * @example
 * ```ts
 * import { readRequest } from "./http.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new TextEncoder().encode("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"));
 * const conn = await listener.accept();
 * const request = await readRequest(conn, { maxHeaderBytes: 4096 });
 * request.path; // "/index.html"
 * request.headers.get("host"); // "127.0.0.1:8080"
 * for (const c of [client, conn, listener]) c.close();
 * ```
 */
export async function readRequest(source: ByteSource, options: ReadRequestOptions = {}): Promise<HttpRequest> {
  const max = options.maxHeaderBytes ?? 8192;
  let buf = new Uint8Array(Math.min(1024, max + 3));
  let end = 0;
  let head = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let over = false; // timed out: the reading stops at its next read
  const reading = (async () => {
    while (head === -1 && !over) {
      if (end === buf.length) {
        if (buf.length >= max + 3) throw new HttpError(431, `request head too big: at most ${max} bytes`);
        const bigger = new Uint8Array(Math.min(buf.length * 2, max + 3)); // + 3: room to see the blank line
        bigger.set(buf);
        buf = bigger;
      }
      const n = await source.read(buf.subarray(end));
      if (n === null) {
        throw new HttpError(
          400,
          end === 0 ? "no request: the connection closed" : "the connection closed inside the request head",
        );
      }
      const from = Math.max(0, end - 2);
      end += n;
      // Empty lines before the request line are ignored (RFC 9112 section 2.2).
      let skip = 0;
      while (skip < end && (buf[skip] === 13 || buf[skip] === LF)) skip++;
      if (skip > 0) {
        buf.copyWithin(0, skip, end);
        end -= skip;
        if (end === 0) continue;
      }
      head = headEnd(buf, skip > 0 ? 0 : from, end);
      if (head > max || (head === -1 && end > max)) {
        throw new HttpError(431, `request head too big: at most ${max} bytes`);
      }
    }
  })();
  try {
    if (options.timeoutMs === undefined) await reading;
    else {
      // One race for the whole head (not one per read, which would leave a handler per read on the timer).
      reading.catch(() => {}); // after a timeout its read fails when the connection is closed
      await Promise.race([
        reading,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            over = true;
            reject(new HttpError(408, "request timeout"));
          }, options.timeoutMs);
        }),
      ]);
    }
    const request = parseHead(decoder.decode(buf.subarray(0, head)));
    request.rest = buf.slice(head, end);
    return request;
  } catch (error) {
    if (!(error instanceof HttpError) || error.method !== undefined) throw error;
    const method = methodOf(buf, end);
    throw method === undefined ? error : new HttpError(error.status, error.reason, method);
  } finally {
    clearTimeout(timer);
  }
}

/** The method at the start of `buf[0, end)`, if the request line has come as far as the space after it. */
function methodOf(buf: Uint8Array, end: number): string | undefined {
  const space = buf.subarray(0, Math.min(end, 33)).indexOf(32);
  if (space <= 0) return undefined;
  const method = decoder.decode(buf.subarray(0, space));
  return TOKEN.test(method) ? method : undefined;
}

function parseHead(text: string): HttpRequest {
  const lines = text.split("\n");
  lines.length -= 2; // the blank line, and what follows its LF
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    lines[i] = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (lines[i].includes("\r")) throw new HttpError(400, "malformed request: a bare CR in the head");
  }
  const parts = lines[0].split(" ");
  if (parts.length !== 3) throw new HttpError(400, "malformed request line: expected METHOD TARGET HTTP/1.1");
  const [method, target, version] = parts;
  if (!TOKEN.test(method)) throw new HttpError(400, "malformed request line: bad method");
  const v = VERSION.exec(version);
  if (!v) throw new HttpError(400, "malformed request line: bad HTTP version");
  if (v[1] !== "1") throw new HttpError(505, `HTTP version ${version.slice(5)} is not supported: use HTTP/1.1`);
  if (!TARGET.test(target)) throw new HttpError(400, "malformed request target: expected a path starting with /");

  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line[0] === " " || line[0] === "\t") {
      throw new HttpError(400, "malformed header: folded lines are not accepted");
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new HttpError(400, `malformed header line ${i}: expected Name: value`);
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw new HttpError(400, `malformed header ${name}: control characters`);
    const key = name.toLowerCase();
    const before = headers.get(key);
    if (before === undefined) headers.set(key, value);
    else if (key === "host" || key === "content-length") throw new HttpError(400, `more than one ${name} header`);
    else headers.set(key, `${before}, ${value}`);
  }
  if (version === "HTTP/1.1" && !headers.has("host")) {
    throw new HttpError(400, "an HTTP/1.1 request needs a Host header");
  }
  if (method === "GET" || method === "HEAD") {
    const length = headers.get("content-length");
    if ((length !== undefined && length !== "0") || headers.has("transfer-encoding")) {
      throw new HttpError(400, `a ${method} request has no body`);
    }
  }

  const mark = target.indexOf("?");
  const rawPath = mark === -1 ? target : target.slice(0, mark);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new HttpError(400, "malformed request target: bad percent-encoding");
  }
  if (path.includes("\0")) throw new HttpError(400, "malformed request target: NUL in the path");
  if (path.split("/").includes("..")) throw new HttpError(400, "malformed request target: .. in the path");
  return {
    method,
    target,
    path,
    query: new URLSearchParams(mark === -1 ? "" : target.slice(mark + 1)),
    version,
    headers,
    rest: new Uint8Array(0),
  };
}

/** Reason phrases of the statuses the door sends. */
const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  204: "No Content",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/**
 * The bytes of a whole response: status line, `headers`, `Content-Length`
 * and `Connection: close`, then `body` (a string is sent as UTF-8) unless
 * `head` (the answer to a HEAD request, which keeps the Content-Length). A
 * 204 or 304 has neither body nor Content-Length. A header value with CR or
 * LF is refused (RangeError), so nothing can inject headers.
 *
 * @example
 * ```ts
 * import { httpResponse } from "./http.ts";
 * httpResponse(404, { "Content-Type": "text/plain; charset=utf-8" }, "no such page: /x\n");
 * ```
 */
export function httpResponse(
  status: number,
  headers: Record<string, string>,
  body: Uint8Array | string = new Uint8Array(0),
  head = false,
): Uint8Array {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const bodiless = status === 204 || status === 304 || status < 200;
  let text = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || /[\r\n]/.test(value)) throw new RangeError(`bad response header ${JSON.stringify(name)}`);
    text += `${name}: ${value}\r\n`;
  }
  if (!bodiless) text += `Content-Length: ${bytes.length}\r\n`;
  text += "Connection: close\r\n\r\n";
  const start = encoder.encode(text);
  if (bodiless || head || bytes.length === 0) return start;
  const out = new Uint8Array(start.length + bytes.length);
  out.set(start);
  out.set(bytes, start.length);
  return out;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/vnd.microsoft.icon",
  woff2: "font/woff2",
  wasm: "application/wasm",
};

/** The Content-Type for a file name by its extension; `application/octet-stream` when unknown. */
export function contentType(path: string): string {
  const dot = path.lastIndexOf(".");
  const slash = path.lastIndexOf("/");
  if (dot <= slash + 1) return "application/octet-stream";
  return TYPES[path.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

// A Host header fit to write into a CSP host-source: a DNS name or IPv4 address, maybe a port (CSP has no IPv6).
const CSP_HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/;

/**
 * Headers for every page and file: a strict Content-Security-Policy (only
 * the server's own scripts, styles and WebSocket; no framing), no MIME
 * sniffing, no Referer. The page connects only to its own `/ws`:
 * `connect-src 'self'` allows that in CSP Level 3 browsers; for older
 * ones that do not count ws: and wss: as 'self', `ws://HOST wss://HOST`
 * are added for `host` (the request's Host header) when it is a plain
 * `name[:port]` (not IPv6, which CSP cannot name), never any other host.
 *
 * @example
 * ```ts
 * import { securityHeaders } from "./http.ts";
 * securityHeaders("chat.lan:8080")["Content-Security-Policy"]; // "… connect-src 'self' ws://chat.lan:8080 wss://chat.lan:8080; …"
 * ```
 */
export function securityHeaders(host?: string): Record<string, string> {
  const name = host?.trim().toLowerCase();
  const own = name !== undefined && CSP_HOST.test(name) ? ` ws://${name} wss://${name}` : "";
  return {
    "Content-Security-Policy": `default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'${own}; ` +
      "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };
}

/** One file of {@linkcode StaticFiles}. */
export interface StaticFile {
  /** URL path, e.g. "/app.js". */
  path: string;
  /** Content-Type. */
  type: string;
  /** A strong ETag (quoted), from the content's hash. */
  etag: string;
  /** The content. */
  bytes: Uint8Array;
  /** The content gzipped, when that is smaller (text types only). */
  gzip?: Uint8Array;
}

/** Options of {@linkcode StaticFiles.load}. */
export interface StaticFilesOptions {
  /** Headers added to every response, or made for each request (default: {@linkcode securityHeaders} of its Host). */
  headers?: Record<string, string> | ((request: Pick<HttpRequest, "headers">) => Record<string, string>);
  /** Cache-Control of every file (default "no-cache": the browser revalidates with the ETag). */
  cacheControl?: string;
}

/** Whether `accept` (an Accept-Encoding value) lets gzip be sent (`gzip` or `*`, without q=0). */
export function acceptsGzip(accept: string | undefined): boolean {
  if (!accept) return false;
  let star = false;
  for (const part of accept.split(",")) {
    const [coding, ...params] = part.trim().toLowerCase().split(";").map((s) => s.trim());
    const q = params.find((p) => p.startsWith("q="));
    const refused = q !== undefined && Number(q.slice(2)) === 0;
    if (coding === "gzip" || coding === "x-gzip") return !refused;
    if (coding === "*") star = !refused;
  }
  return star;
}

/** Whether an If-None-Match value matches `etag` (weak comparison, `*` matches any). */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || (t.startsWith("W/") ? t.slice(2) : t) === etag;
  });
}

const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json|wasm)|image\/svg\+xml)/;

/**
 * The files of a directory, read once (at start-up) and served from memory:
 * a path is never looked up on disk, so no request can reach a file outside
 * the directory or one added later. Dot files and symbolic links are left
 * out; `/` and `dir/` serve `index.html`.
 *
 * @example
 * ```ts
 * import { readRequest, StaticFiles } from "./http.ts";
 * const files = await StaticFiles.load("web");
 * export async function serve(conn: Deno.Conn) {
 *   return files.respond(await readRequest(conn)); // null: no such file
 * }
 * ```
 */
export class StaticFiles {
  readonly #files: Map<string, StaticFile>;
  readonly #headers: (request: Pick<HttpRequest, "headers">) => Record<string, string>;

  private constructor(
    files: Map<string, StaticFile>,
    headers: (request: Pick<HttpRequest, "headers">) => Record<string, string>,
  ) {
    this.#files = files;
    this.#headers = headers;
  }

  /** Reads every file under `dir` (throws if `dir` cannot be read). */
  static async load(dir: string, options: StaticFilesOptions = {}): Promise<StaticFiles> {
    const files = new Map<string, StaticFile>();
    const walk = async (folder: string, prefix: string) => {
      for await (const entry of Deno.readDir(folder)) {
        if (entry.name.startsWith(".") || entry.isSymlink) continue;
        const full = `${folder}/${entry.name}`;
        const path = `${prefix}/${entry.name}`;
        if (entry.isDirectory) {
          await walk(full, path);
        } else if (entry.isFile) {
          const bytes = await Deno.readFile(full);
          const type = contentType(path);
          const etag = `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 22)}"`;
          const file: StaticFile = { path, type, etag, bytes };
          if (COMPRESSIBLE.test(type) && bytes.length > 0) {
            const gzip = gzipSync(bytes, { level: 9 });
            if (gzip.length < bytes.length) file.gzip = new Uint8Array(gzip.buffer, gzip.byteOffset, gzip.length);
          }
          files.set(path, file);
        }
      }
    };
    await walk(dir.replace(/\/+$/, "") || "/", "");
    const given = options.headers ?? ((request) => securityHeaders(request.headers.get("host")));
    const cacheControl = options.cacheControl ?? "no-cache";
    const headers = typeof given === "function"
      ? (request: Pick<HttpRequest, "headers">) => ({ ...given(request), "Cache-Control": cacheControl })
      : () => ({ ...given, "Cache-Control": cacheControl });
    return new StaticFiles(files, headers);
  }

  /** URL paths of the files, sorted. */
  get paths(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** The file for a URL path (`/` and `…/` mean `index.html`), if there is one. */
  get(path: string): StaticFile | undefined {
    return this.#files.get(path.endsWith("/") ? path + "index.html" : path);
  }

  /**
   * The response to a GET (or HEAD) of `request.path`: 200 with the file
   * (gzipped when Accept-Encoding allows and that is smaller), or 304 when
   * If-None-Match has its ETag; `null` when there is no such file (the
   * caller answers 404). The method is the caller's to check.
   */
  respond(request: Pick<HttpRequest, "method" | "path" | "headers">): Uint8Array | null {
    const file = this.get(request.path);
    if (!file) return null;
    const headers: Record<string, string> = { ...this.#headers(request), "Content-Type": file.type, ETag: file.etag };
    if (file.gzip) headers.Vary = "Accept-Encoding";
    const ifNoneMatch = request.headers.get("if-none-match");
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, file.etag)) return httpResponse(304, headers);
    const gzip = file.gzip && acceptsGzip(request.headers.get("accept-encoding"));
    if (gzip) headers["Content-Encoding"] = "gzip";
    return httpResponse(200, headers, gzip ? file.gzip : file.bytes, request.method === "HEAD");
  }
}

/** An address without an IPv4-mapped IPv6 prefix ("::ffff:1.2.3.4" is "1.2.3.4"). */
function plainAddress(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

/**
 * The client's address: `socketIp` itself, unless `trusted(socketIp)` (a
 * reverse proxy named with `--trust-proxy`); then the right-most hop of
 * X-Forwarded-For that is not itself trusted (the proxies append their
 * peer's address, so hops left of an untrusted one could be forged). A hop
 * that is not an IP address stops the walk at the proxy that passed it on.
 *
 * @example
 * ```ts
 * import { clientAddress } from "./http.ts";
 * const headers = new Map([["x-forwarded-for", "6.6.6.6, 203.0.113.9"]]);
 * const loopback = (ip: string) => ip === "127.0.0.1";
 * clientAddress("127.0.0.1", headers, loopback); // "203.0.113.9"
 * clientAddress("198.51.100.7", headers, loopback); // "198.51.100.7"
 * ```
 */
export function clientAddress(
  socketIp: string,
  headers: Map<string, string>,
  trusted: (ip: string) => boolean,
): string {
  let client = plainAddress(socketIp);
  if (!trusted(client)) return client;
  const hops = (headers.get("x-forwarded-for") ?? "").split(",").map((hop) => plainAddress(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (isIP(hop) === 0) break;
    client = hop;
    if (!trusted(hop)) break;
  }
  return client;
}

/** Options of {@linkcode originAllowed}. */
export interface OriginOptions {
  /** The door speaks HTTPS: the page's own origin is https://HOST. */
  secure: boolean;
  /** Other origins allowed (`*` for any), as `scheme://host[:port]` (see {@linkcode originProblem}). */
  allowOrigin: string[];
}

/**
 * Why `text` is not an http(s) origin for `--allow-origin`, or undefined
 * if it is one: `http(s)://host[:port]`, in any case, with or without a
 * trailing `/` or a default port written out (`*` allows any origin).
 *
 * @example
 * ```ts
 * import { originProblem } from "./http.ts";
 * originProblem("http://chat.lan:8080/"); // undefined
 * originProblem("https://chat.example.org/chat"); // "it has a path (/chat)"
 * ```
 */
export function originProblem(text: string): string | undefined {
  if (text === "*") return undefined;
  const url = readOrigin(text);
  return typeof url === "string" ? url : undefined;
}

/** `text` as a URL if it is an http(s) origin (a trailing "/" allowed), else why not. */
function readOrigin(text: string): URL | string {
  if (!/^\s*https?:\/\//i.test(text)) return "it does not start with http:// or https://";
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return "it is not a URL";
  }
  if (url.username !== "" || url.password !== "" || /^[^/]*\/\/[^/]*@/.test(text)) {
    return "it has a user name or password";
  }
  if (url.pathname !== "/") return `it has a path (${url.pathname})`;
  if (url.search !== "" || text.includes("?")) return "it has a query";
  if (url.hash !== "" || text.includes("#")) return "it has a fragment";
  return url;
}

/** The normal form of an http(s) origin (`URL.origin`: lower case, no default port); undefined if it is not one. */
function originOf(text: string): URL | undefined {
  const url = readOrigin(text);
  return typeof url === "string" ? undefined : url;
}

/**
 * Whether a Host header names the server by address (an IP literal,
 * `localhost` or a name under `.localhost`) or by the host name of one of
 * `allowOrigin` (`*` allows any). A page on an attacker's domain whose DNS
 * name has been rebound to a loopback or private address sends its own name
 * as Host and as Origin, which pass the same-origin check: refusing names the
 * server was not told about stops it (DNS rebinding).
 *
 * @example
 * ```ts
 * import { hostAllowed } from "./http.ts";
 * hostAllowed("127.0.0.1:8080", []); // true
 * hostAllowed("evil.example:8080", []); // false
 * hostAllowed("chat.lan:8080", ["http://chat.lan:8080"]); // true
 * hostAllowed("chat.lan:8080", ["HTTP://Chat.LAN:8080/"]); // true
 * ```
 */
export function hostAllowed(host: string | undefined, allowOrigin: string[]): boolean {
  if (allowOrigin.includes("*")) return true;
  const name = hostNameOf(host);
  if (name === undefined) return false;
  if (name === "localhost" || name.endsWith(".localhost") || name.startsWith("[") || isIP(name) !== 0) return true;
  return allowOrigin.some((origin) => originOf(origin)?.hostname.replace(/\.$/, "") === name);
}

/** The host name of a `host[:port]`, lower case (IPv6 in brackets); undefined if it is not one. */
function hostNameOf(host: string | undefined): string | undefined {
  if (host === undefined || host.trim() === "" || /[\s/?#@\\]/.test(host.trim())) return undefined;
  try {
    return new URL(`http://${host.trim()}`).hostname.replace(/\.$/, "");
  } catch {
    return undefined;
  }
}

/**
 * Whether a WebSocket upgrade may go on, by its Origin header: when it is
 * the page's own origin (`http(s)://` + the Host header), or one of
 * `allowOrigin` (`*` allows any), or missing (clients that are not browsers
 * send none, and are not a cross-site risk). Origins are compared as
 * `URL.origin`: scheme, host and port, in lower case and without a default
 * port.
 *
 * @example
 * ```ts
 * import { originAllowed } from "./http.ts";
 * const headers = new Map([["host", "chat.example.org"], ["origin", "https://chat.example.org"]]);
 * originAllowed(headers, { secure: true, allowOrigin: [] }); // true
 * ```
 */
export function originAllowed(headers: Map<string, string>, options: OriginOptions): boolean {
  const origin = headers.get("origin");
  if (origin === undefined) return true;
  if (options.allowOrigin.includes("*")) return true;
  const given = originOf(origin)?.origin;
  if (given === undefined) return false; // "null" (a sandboxed page) or not an http(s) origin
  const host = headers.get("host");
  if (hostNameOf(host) !== undefined) {
    if (given === originOf(`${options.secure ? "https" : "http"}://${host!.trim()}`)?.origin) return true;
  }
  return options.allowOrigin.some((allowed) => originOf(allowed)?.origin === given);
}
