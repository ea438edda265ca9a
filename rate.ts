/**
 * A token bucket in lines: `rate` lines per second, up to `burst` at once.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./rate.ts";
 * const bucket = new TokenBucket(5, 10);
 * bucket.take(); // 0: no wait needed
 * ```
 * @module
 */

/** A token bucket; `rate` 0 means unlimited. */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;

  /** Creates a full bucket. */
  constructor(rate: number, burst: number, now = performance.now()) {
    this.#rate = rate;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#last = now;
  }

  /**
   * Takes one token. Returns 0 if one was there, otherwise the number of
   * milliseconds until it will be (the token is then already spent).
   */
  take(now = performance.now()): number {
    if (this.#rate <= 0) return 0;
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#rate) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    return (-this.#tokens * 1000) / this.#rate;
  }
}
