/**
 * Throttling password guesses without letting a stranger lock the owner
 * out. Failures are counted per address (all nicks) and per nick from one
 * address; past a few free failures each further attempt must wait a
 * delay that doubles with every failure, up to a cap, and the count is
 * forgotten after a quiet hour. Those are refusals ("try again in 8 s"),
 * but they hold only for the guesser's address: the owner, from another
 * address, is not refused. Against a guesser with many addresses, failures
 * on a nick from anywhere add a short slowdown to every check of that nick
 * (at most {@linkcode LoginLimits.nickSlowdownCapMs}, 3 s by default), so
 * the owner is slowed for a moment, never locked out.
 *
 * An attempt is counted as a failure from the moment it starts (guesses
 * sent at once on many connections count as if sent one after another) and
 * taken back if the password was right.
 *
 * @example
 * ```ts
 * import { LoginThrottle } from "./login_throttle.ts";
 * let now = 0;
 * const throttle = new LoginThrottle({}, () => now);
 * throttle.wait("alice", "10.0.0.1"); // 0: go on
 * const attempt = throttle.begin("alice", "10.0.0.1");
 * throttle.succeeded(attempt); // the right password: nothing counted
 * ```
 * @module
 */

/** The throttle's limits; every field has a default. */
export interface LoginLimits {
  /** Failures for one nick from one address before delays start. Default 5. */
  perNickAddress: number;
  /** Failures from one address (all nicks) before delays start. Default 10. */
  perAddress: number;
  /** The first delay, doubled with each further failure. Default 2 s. */
  baseDelayMs: number;
  /** The longest delay. Default 5 min. */
  maxDelayMs: number;
  /** A count is forgotten this long after its last failure. Default 1 h. */
  forgetMs: number;
  /** Failures on a nick from all addresses before its checks are slowed. Default 20. */
  perNick: number;
  /** The longest slowdown of a nick's checks. Default 3 s. */
  nickSlowdownCapMs: number;
  /** Most counts kept; the oldest go first past it. Default 100,000. */
  maxEntries: number;
}

/** The default limits. */
export const LOGIN_LIMITS: LoginLimits = {
  perNickAddress: 5,
  perAddress: 10,
  baseDelayMs: 2000,
  maxDelayMs: 5 * 60_000,
  forgetMs: 60 * 60_000,
  perNick: 20,
  nickSlowdownCapMs: 3000,
  maxEntries: 100_000,
};

interface Count {
  failures: number;
  last: number;
}

/** An attempt in progress, from {@linkcode LoginThrottle.begin}. */
export interface Attempt {
  nick: string;
  ip: string;
}

/** Counts failed password checks and says how long to wait; see the module documentation. */
export class LoginThrottle {
  readonly limits: LoginLimits;
  #now: () => number;
  #counts = new Map<string, Count>(); // "a:<ip>", "p:<nick> <ip>", "n:<nick>"

  /** @param limits overrides of {@linkcode LOGIN_LIMITS} @param now the clock (ms) */
  constructor(limits: Partial<LoginLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...LOGIN_LIMITS, ...limits };
    this.#now = now;
  }

  /**
   * Milliseconds before `ip` may try a password for `nick` (key) again; 0 if
   * it may now. Only the address's own failures count here.
   */
  wait(nick: string, ip: string): number {
    const { perNickAddress, perAddress } = this.limits;
    return Math.max(this.#wait(`p:${nick} ${ip}`, perNickAddress), this.#wait(`a:${ip}`, perAddress));
  }

  /** Milliseconds to hold a check of `nick`'s password back (failures from every address; capped, never a refusal). */
  slowdown(nick: string): number {
    const count = this.#get(`n:${nick}`);
    if (!count || count.failures < this.limits.perNick) return 0;
    const exponent = Math.min(30, count.failures - this.limits.perNick);
    return Math.min(this.limits.nickSlowdownCapMs, 250 * 2 ** exponent);
  }

  /** Counts an attempt as failed from now on; {@linkcode LoginThrottle.succeeded} takes it back. */
  begin(nick: string, ip: string): Attempt {
    for (const key of [`p:${nick} ${ip}`, `a:${ip}`, `n:${nick}`]) this.#fail(key);
    return { nick, ip };
  }

  /** The attempt had the right password: its failure is taken back and the nick's count from that address cleared. */
  succeeded(attempt: Attempt): void {
    this.#counts.delete(`p:${attempt.nick} ${attempt.ip}`);
    for (const key of [`a:${attempt.ip}`, `n:${attempt.nick}`]) {
      const count = this.#counts.get(key);
      if (count && --count.failures <= 0) this.#counts.delete(key);
    }
  }

  /** The attempt could not be checked (the server was busy): its failure is taken back, nothing else. */
  cancel(attempt: Attempt): void {
    for (const key of [`p:${attempt.nick} ${attempt.ip}`, `a:${attempt.ip}`, `n:${attempt.nick}`]) {
      const count = this.#counts.get(key);
      if (count && --count.failures <= 0) this.#counts.delete(key);
    }
  }

  /** How many counts are kept (for tests and monitoring). */
  get size(): number {
    return this.#counts.size;
  }

  #wait(key: string, free: number): number {
    const count = this.#get(key);
    if (!count || count.failures < free) return 0;
    const { baseDelayMs, maxDelayMs } = this.limits;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(30, count.failures - free));
    return Math.max(0, count.last + delay - this.#now());
  }

  #get(key: string): Count | undefined {
    const count = this.#counts.get(key);
    if (count && this.#now() - count.last >= this.limits.forgetMs) {
      this.#counts.delete(key);
      return undefined;
    }
    return count;
  }

  #fail(key: string): void {
    const now = this.#now();
    const count = this.#get(key);
    if (count) {
      count.failures++;
      count.last = now;
      this.#counts.delete(key); // keep the map in order of last failure
      this.#counts.set(key, count);
      return;
    }
    this.#counts.set(key, { failures: 1, last: now });
    // The map is in order of last failure: forgotten counts and, past maxEntries, the oldest go from its front.
    for (const [oldest, c] of this.#counts) {
      if (this.#counts.size <= this.limits.maxEntries && now - c.last < this.limits.forgetMs) break;
      this.#counts.delete(oldest);
    }
  }
}
