/**
 * How long to wait before connecting again: 1 s, then twice as long after
 * each failure, at most 30 s. A connection that stayed up for a while
 * (10 s) starts the sequence over; one that the server closes at once (a
 * full server, a ban) does not, so such a server is not hammered.
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * const b = new Backoff();
 * b.next(); // 1000
 * b.next(); // 2000
 * b.connected(0);
 * b.lost(60_000); // it was up for a minute
 * b.next(); // 1000
 * ```
 * @module
 */

/** Options of a {@linkcode Backoff}; all in milliseconds. */
export interface BackoffOptions {
  first?: number;
  max?: number;
  /** A connection that lasted this long resets the delay. */
  stableAfter?: number;
}

/** The growing delay between connection attempts. */
export class Backoff {
  readonly #first: number;
  readonly #max: number;
  readonly #stableAfter: number;
  #delay: number;
  #since: number | undefined;

  constructor(options: BackoffOptions = {}) {
    this.#first = options.first ?? 1000;
    this.#max = options.max ?? 30_000;
    this.#stableAfter = options.stableAfter ?? 10_000;
    this.#delay = this.#first;
  }

  /** The delay before the next attempt; the one after it will be longer. */
  next(): number {
    const d = this.#delay;
    this.#delay = Math.min(this.#max, this.#delay * 2);
    return d;
  }

  /** A connection was made at time `now`. */
  connected(now: number): void {
    this.#since = now;
  }

  /** The connection was lost at time `now`; if it lasted, the delays start over. */
  lost(now: number): void {
    if (this.#since !== undefined && now - this.#since >= this.#stableAfter) this.#delay = this.#first;
    this.#since = undefined;
  }
}
