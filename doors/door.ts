/**
 * Doors: how people come in. A door owns a listener (plain TCP or TLS),
 * accepts connections, lets the gate decide on each, and makes a session of
 * every connection let in. This module holds what all doors share: the
 * {@linkcode Door} interface, what a door needs from its server
 * ({@linkcode DoorHost}), and the accept loop.
 *
 * @example
 * ```ts
 * import type { Door } from "./door.ts";
 * function describe(door: Door): string {
 *   return door.url; // e.g. "telnets://127.0.0.1:40126"
 * }
 * ```
 * @module
 */
import type { ServerOptions } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Chat } from "../chat.ts";
import type { CommandTable } from "../commands/table.ts";
import type { Gate } from "../gate.ts";
import type { Connection, Session } from "../session.ts";
import { listenTls } from "../wire/node_tls.ts";
import { fdReserve, outOfDescriptors } from "../fd_reserve.ts";

/** A listener for one kind of client. */
export interface Door {
  /** The URL scheme of the door: "telnet", "telnets", "http", "https", "irc", "ircs". */
  readonly scheme: string;
  /** Starts listening; resolves to the address actually bound. Rejects if it cannot. */
  listen(): Promise<Deno.NetAddr>;
  /** The address bound (after `listen`). */
  readonly addr: Deno.NetAddr;
  /** `scheme://host:port` of the bound address. */
  readonly url: string;
  /** Stops accepting; resolves when the accept loop has ended. */
  close(): Promise<void>;
}

/** What a door needs from the server it belongs to. */
export interface DoorHost {
  readonly options: ServerOptions;
  readonly log: Logger;
  readonly chat: Chat;
  readonly commands: CommandTable;
  readonly gate: Gate;
  /** A connection was refused (logged, counted and announced as a `refuse` event). */
  refused(ip: string, door: string, reason: string): void;
  /** A session was made for a connection let in (counted and announced as a `connect` event). */
  connected(session: Session): void;
}

/** `scheme://host:port` for an address (IPv6 hosts in brackets). */
export function urlOf(scheme: string, addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${scheme}://${host}:${addr.port}`;
}

/** A connection a door accepted: plain TCP, or TLS with its handshake done. */
export interface AcceptedConn extends Connection {
  readonly remoteAddr: Deno.Addr;
  /** The server's own address of the connection (the one the client reached). */
  readonly localAddr: Deno.Addr;
}

/** A listener as a door uses it: `Deno.listen`'s, or a TLS one from `wire/node_tls.ts`. */
export interface Listener<C extends AcceptedConn> {
  /** The next connection; rejects with `Deno.errors.BadResource` once closed. */
  accept(): Promise<C>;
  /** The address bound. */
  readonly addr: Deno.Addr;
  /** Stops listening. */
  close(): void;
}

/** Certificate and key of a TLS door, PEM. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** How long a TLS client may take over its handshake (it is not yet counted by the gate meanwhile). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Opens a door's listener: plain TCP, or with `tls` TLS with TCP_NODELAY
 * (`wire/node_tls.ts`; `Deno.listenTls` would stall the first lines, see
 * docs/tls.md). A plain listener's connections still need `setNoDelay`.
 */
export async function openListener(
  hostname: string,
  port: number,
  tls: TlsFiles | undefined,
  log: Logger,
  door: string,
  reusePort = false,
): Promise<Listener<AcceptedConn>> {
  if (!tls) return Deno.listen({ hostname, port, reusePort });
  return await listenTls({
    hostname,
    port,
    reusePort,
    cert: tls.cert,
    key: tls.key,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    onHandshakeError: (error, remote) =>
      log.debug("tls handshake failed", { door, ip: remote.hostname, error: error.message }),
  });
}

/** What a door does with a connection it cannot let in for want of file descriptors: answer `reason` in its protocol and close it. */
export type TurnAway = (conn: AcceptedConn, reason: string) => Promise<void>;

/** The one-line answer to a connection accepted with the reserve descriptor ({@linkcode fdReserve}). */
export const OUT_OF_DESCRIPTORS = "The server is full (out of file descriptors); please try again later.";

/** How {@linkcode acceptLoop} runs. */
export interface AcceptLoopOptions {
  /** Where failures are logged. */
  log: Logger;
  /** The door's scheme, for the log. */
  door: string;
  /** Whether the listener is being closed (the loop then ends). */
  stopping: () => boolean;
  /** Before each accept: a promise to wait for, if the door is busy (connections wait in the backlog meanwhile). */
  pace?: () => Promise<void> | undefined;
  /** Answers a connection accepted with the reserve descriptor when there were none left (without: it waits in the backlog). */
  turnAway?: TurnAway;
}

/**
 * Accepts connections until the listener is closed, handing each to
 * `admit`. Nothing that `admit` throws (synchronously or not) ends the loop;
 * an accept whose peer was gone is skipped at once. When the process is out
 * of file descriptors, the reserve one ({@linkcode fdReserve}) is let go for
 * the connection waiting, which `turnAway` answers and closes; any other
 * failing accept (or one with no reserve) is logged and retried shortly.
 */
export async function acceptLoop<C extends AcceptedConn>(
  listener: Listener<C>,
  admit: (conn: C) => void | Promise<void>,
  options: AcceptLoopOptions,
): Promise<void> {
  const { log, door, stopping, pace, turnAway } = options;
  let pending: Promise<C> | undefined; // an accept started while turning a client away, still waiting for its connection
  let idle = false; // the last turn-away found no connection waiting
  while (!stopping()) {
    const wait = pending ? undefined : pace?.();
    if (wait) await wait;
    if (stopping()) break;
    let conn: C;
    try {
      const accepting = pending ?? listener.accept();
      pending = undefined;
      conn = await accepting;
    } catch (error) {
      if (stopping() || error instanceof Deno.errors.BadResource) break;
      if (peerGone(error)) { // reset or closed before it was accepted: only that connection failed
        log.debug("accept failed: the peer was gone", { door, error: String(error) });
        continue;
      }
      if (outOfDescriptors(error)) {
        log.often("error", "accept failed: out of file descriptors", {
          door,
          error: String(error),
          hint: "raise the open-files limit (ulimit -n) or lower --max-clients",
        });
        // Not twice in a row for nothing: an accept that failed at once again would make this loop spin.
        if (turnAway && !idle && fdReserve.release()) {
          const next = await turnAwayOne(listener, turnAway, log, door);
          pending = next.accepting;
          pending.catch(() => {}); // seen when awaited; none unhandled if the loop ends first
          idle = !next.turned;
          continue;
        }
      } else log.error("accept failed", { door, error: String(error) });
      idle = false;
      await new Promise((r) => setTimeout(r, 100)); // e.g. out of file descriptors, with no reserve
      continue;
    }
    idle = false;
    fdReserve.restore(); // taken again if it had to be given up (a no-op while held)
    try {
      const admitted = admit(conn);
      if (admitted instanceof Promise) admitted.catch((error) => admitFailed(conn, error, log, door));
    } catch (error) {
      admitFailed(conn, error, log, door);
    }
  }
  pending?.then((conn) => closeQuietly(conn), () => {}); // an accept still waiting as the loop ended
}

/** Writes `bytes` to a connection whole (a write may take part of them); never rejects: a client gone is simply gone. */
export async function writeWhole(conn: AcceptedConn, bytes: Uint8Array): Promise<void> {
  try {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  } catch { /* the client went away */ }
}

/** Writes `bytes` (a refusal) to a connection that is not let in, and closes it; never rejects. */
export async function answerAndClose(conn: AcceptedConn, bytes: Uint8Array): Promise<void> {
  await writeWhole(conn, bytes);
  closeQuietly(conn);
}

function closeQuietly(conn: AcceptedConn): void {
  try {
    conn.close();
  } catch { /* closed already */ }
}

// With the reserve descriptor let go: accepts the connection that waits (Deno tries a new accept at once, as it is
// started), answers it, and takes the reserve again. At the limit an accept fails whether or not a connection waits
// (Linux takes the descriptor first); with one free it waits for the next connection instead, which the loop goes on
// with. Returns that accept, and whether a connection was turned away.
async function turnAwayOne<C extends AcceptedConn>(
  listener: Listener<C>,
  turnAway: TurnAway,
  log: Logger,
  door: string,
): Promise<{ accepting: Promise<C>; turned: boolean }> { // (in an object: a promise returned would be awaited)
  const accepting = listener.accept(); // takes the descriptor let go, if a connection waits
  fdReserve.restore(); // no descriptor left for it if one did
  if (fdReserve.held) return { accepting, turned: false }; // none did (or one more became free: it is let in)
  let conn: C;
  try {
    conn = await accepting;
  } catch { // the listener closed, or the accept failed another way: the loop sees to it, awaiting it again
    fdReserve.restore();
    return { accepting, turned: false };
  }
  try {
    await turnAway(conn, OUT_OF_DESCRIPTORS);
  } catch (error) {
    admitFailed(conn, error, log, door);
  }
  const next = listener.accept(); // with the descriptor free again: waits for the next connection rather than failing
  fdReserve.restore();
  return { accepting: next, turned: true };
}

/**
 * Whether an accept failed for that one connection only: its peer reset or
 * closed it while it waited in the backlog (a flood of such connections
 * must not slow accepting for everyone, as the pause after other failures
 * would).
 */
function peerGone(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

function admitFailed(conn: AcceptedConn, error: unknown, log: Logger, door: string): void {
  try {
    log.error("admitting a connection failed", { door, error: String(error) });
  } catch { /* logging failed too */ }
  closeQuietly(conn);
}

/** Where a door listens. */
export interface ListenAt {
  hostname: string;
  port: number;
  /** Certificate and key: the door speaks TLS. */
  tls?: TlsFiles;
}

/**
 * A door's listening socket and accept loop, opened, addressed and closed
 * the same way for every door: the door says what its scheme is and what to
 * do with each connection.
 *
 * @example
 * ```ts
 * import { DoorListener } from "./door.ts";
 * import { Logger } from "../log.ts";
 * const listener = new DoorListener("telnet", new Logger("silent"));
 * await listener.open({ hostname: "127.0.0.1", port: 0 }, false, (conn) => conn.close());
 * console.log(listener.url); // "telnet://127.0.0.1:40123"
 * await listener.close();
 * ```
 */
export class DoorListener {
  /** The door's URL scheme. */
  readonly scheme: string;
  #log: Logger;
  #listener: Listener<AcceptedConn> | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #turnAway: TurnAway | undefined;

  /**
   * A listener for a door of `scheme`, logging to `log`; `turnAway` answers
   * a connection that the reserve descriptor let in when there were none
   * left (see {@linkcode acceptLoop}).
   */
  constructor(scheme: string, log: Logger, turnAway?: TurnAway) {
    this.scheme = scheme;
    this.#log = log;
    this.#turnAway = turnAway;
  }

  /**
   * Listens at `at` (sharing the port with other processes if `reusePort`)
   * and hands each connection to `admit`; with `pace`, each accept waits for
   * the promise it may return. Resolves to the address bound.
   */
  async open(
    at: ListenAt,
    reusePort: boolean,
    admit: (conn: AcceptedConn) => void | Promise<void>,
    pace?: () => Promise<void> | undefined,
  ): Promise<Deno.NetAddr> {
    this.#listener = await openListener(at.hostname, at.port, at.tls, this.#log, this.scheme, reusePort);
    this.#loop = acceptLoop(this.#listener, admit, {
      log: this.#log,
      door: this.scheme,
      stopping: () => this.#stopping,
      pace,
      turnAway: this.#turnAway,
    });
    return this.addr;
  }

  /** The address bound; throws before {@linkcode DoorListener.open}. */
  get addr(): Deno.NetAddr {
    if (!this.#listener) throw new Error(`the ${this.scheme} door is not listening; call listen() first`);
    return this.#listener.addr as Deno.NetAddr;
  }

  /** `scheme://host:port`. */
  get url(): string {
    return urlOf(this.scheme, this.addr);
  }

  /** Stops listening; `wake` (if given) releases an accept that waits on its pace; resolves when the loop has ended. */
  async close(wake?: () => void): Promise<void> {
    this.#stopping = true;
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    wake?.();
    await this.#loop;
  }
}
