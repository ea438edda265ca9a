/**
 * A file descriptor kept in reserve for when the process runs out of them.
 *
 * An accept that fails with EMFILE ("Too many open files": the open-files
 * limit, `ulimit -n`, is lower than `--max-clients` allows for) leaves the
 * connection in the listener's backlog, where it would wait with no answer
 * while the accept fails again at every retry. With a descriptor in reserve,
 * a door lets it go ({@linkcode FdReserve.release}), accepts that one
 * connection, tells it the server is full and closes it, then takes a
 * descriptor into reserve again ({@linkcode FdReserve.restore}). The reserve
 * is a loopback listening socket that is never accepted on, since that is
 * all `--allow-net` gives; where one cannot be had (`--allow-net` limited to
 * other addresses), there is no reserve and such connections wait in the
 * backlog until a descriptor is free.
 *
 * @example
 * ```ts
 * import { FdReserve } from "./fd_reserve.ts";
 * const reserve = new FdReserve();
 * reserve.open(); // false where --allow-net does not cover 127.0.0.1
 * if (reserve.release()) reserve.restore(); // one descriptor free for a moment, then held again
 * reserve.close();
 * ```
 * @module
 */

/** Whether an error says the process (EMFILE) or the system (ENFILE) ran out of file descriptors. */
export function outOfDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/** One file descriptor held back for turning a connection away when there are none left (see the module's notes). */
export class FdReserve {
  #spare: Deno.Listener | undefined;
  #users = 0; // open() calls not yet closed
  #denied = false; // no loopback socket allowed (--allow-net for other addresses): never asked again

  /** Whether a descriptor is held in reserve now. */
  get held(): boolean {
    return this.#spare !== undefined;
  }

  /**
   * Takes a descriptor into reserve (once for every caller: each open needs
   * a {@linkcode FdReserve.close}). Returns whether one is held.
   */
  open(): boolean {
    this.#users++;
    this.restore();
    return this.held;
  }

  /** Lets the reserve go, so that one descriptor is free; false if none was held. */
  release(): boolean {
    const spare = this.#spare;
    if (!spare) return false;
    this.#spare = undefined;
    try {
      spare.close();
    } catch { /* closed already */ }
    return true;
  }

  /** Takes a descriptor into reserve again, if open and none is held (none may be free yet: then it stays empty until the next call). */
  restore(): void {
    if (this.#spare || this.#users === 0 || this.#denied) return;
    try {
      // Asked first: a terminal would otherwise be prompted for a permission the operator did not give.
      if (Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state !== "granted") {
        this.#denied = true;
        return;
      }
      this.#spare = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    } catch { /* none free, or not allowed: no reserve for now */ }
  }

  /** Ends one {@linkcode FdReserve.open}; the last one lets the reserve go. */
  close(): void {
    if (this.#users === 0) return;
    if (--this.#users > 0) return;
    this.release();
  }
}

/** The process's reserve, shared by every door ({@linkcode ChatServer} opens it while it listens). */
export const fdReserve: FdReserve = new FdReserve();
