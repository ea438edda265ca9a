/**
 * The gate: which connections are let in, on every door alike. It counts
 * connections in all and per address (across doors) and checks address
 * bans. It never throws: whatever fails while deciding is logged, and the
 * connection is let in or refused, never the cause of a crash.
 *
 * @example
 * ```ts
 * import { Gate } from "./gate.ts";
 * const gate = new Gate({ maxClients: 2, maxPerIp: 1 });
 * gate.admit("10.0.0.1"); // undefined: admitted
 * gate.admit("10.0.0.1"); // "Too many connections from your address (at most 1)."
 * gate.leave("10.0.0.1");
 * ```
 * @module
 */
import type { Ban } from "./store.ts";
import { describeBan } from "./moderation.ts";

/** Options of {@linkcode Gate}. */
export interface GateOptions {
  /** Connections in all; 0 = no limit. */
  maxClients: number;
  /** Connections per address; 0 = no limit. */
  maxPerIp: number;
  /** The ban in force on an address, if any. */
  banned?: (ip: string) => Ban | undefined;
  /** Told when deciding failed (the connection is then let in). */
  failed?: (ip: string, error: unknown) => void;
}

/** Connection admission for every door. */
export class Gate {
  #options: GateOptions;
  #perIp = new Map<string, number>();
  #count = 0;

  /** A gate with these limits. */
  constructor(options: GateOptions) {
    this.#options = options;
  }

  /** Connections let in and not yet gone. */
  get count(): number {
    return this.#count;
  }

  /** Connections from one address. */
  from(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /**
   * Lets a connection from `ip` in (counting it; call {@linkcode Gate.leave}
   * when it ends), or returns the one-line reason it is refused.
   */
  admit(ip: string): string | undefined {
    const { maxClients, maxPerIp } = this.#options;
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (maxClients > 0 && this.#count >= maxClients) {
      return `The server is full (${maxClients} connections); please try again later.`;
    }
    if (maxPerIp > 0 && fromIp >= maxPerIp) return `Too many connections from your address (at most ${maxPerIp}).`;
    try {
      const ban = this.#options.banned?.(ip);
      if (ban) return `Your address is banned ${describeBan(ban)}`;
    } catch (error) {
      try {
        this.#options.failed?.(ip, error);
      } catch { /* logging failed too: let the connection in */ }
    }
    this.#perIp.set(ip, fromIp + 1);
    this.#count++;
    return undefined;
  }

  /** A connection let in from `ip` has ended. */
  leave(ip: string): void {
    const left = (this.#perIp.get(ip) ?? 0) - 1;
    if (left > 0) this.#perIp.set(ip, left);
    else this.#perIp.delete(ip);
    if (this.#count > 0) this.#count--;
  }
}
