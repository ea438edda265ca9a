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
import type { Session } from "../session.ts";

/** A listener for one kind of client. */
export interface Door {
  /** The URL scheme of the door: "telnet", "telnets", "http", "https", "irc", "ircs". */
  readonly scheme: string;
  /** Starts listening; returns the address actually bound. Throws if it cannot. */
  listen(): Deno.NetAddr;
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

/**
 * Accepts connections until the listener is closed, handing each to
 * `admit`. Nothing that `admit` throws (synchronously or not) ends the loop;
 * a failing accept (out of file descriptors) is logged and retried shortly.
 */
export async function acceptLoop<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  admit: (conn: C) => void | Promise<void>,
  log: Logger,
  door: string,
  stopping: () => boolean,
): Promise<void> {
  while (!stopping()) {
    let conn: C;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (stopping() || error instanceof Deno.errors.BadResource) break;
      log.error("accept failed", { door, error: String(error) });
      await new Promise((r) => setTimeout(r, 100)); // e.g. out of file descriptors
      continue;
    }
    try {
      const admitted = admit(conn);
      if (admitted instanceof Promise) admitted.catch((error) => admitFailed(conn, error, log, door));
    } catch (error) {
      admitFailed(conn, error, log, door);
    }
  }
}

function admitFailed(conn: Deno.Conn, error: unknown, log: Logger, door: string): void {
  try {
    log.error("admitting a connection failed", { door, error: String(error) });
  } catch { /* logging failed too */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}
