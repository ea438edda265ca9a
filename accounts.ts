/**
 * Passwords of registered nicks: salted scrypt hashes (`node:crypto`),
 * checked in constant time, and a throttle for failed logins per nick and
 * per address.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./accounts.ts";
 * const hash = await hashPassword("correct horse");
 * await verifyPassword("correct horse", hash); // true
 * ```
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** Shortest and longest accepted password, in characters. */
export const PASSWORD_LENGTH = { min: 6, max: 128 } as const;

/** Checks a new password; returns why it is not acceptable, or undefined. */
export function checkPassword(password: string): string | undefined {
  const n = [...password].length;
  if (n < PASSWORD_LENGTH.min) return `a password needs at least ${PASSWORD_LENGTH.min} characters`;
  if (n > PASSWORD_LENGTH.max) return `a password has at most ${PASSWORD_LENGTH.max} characters`;
  return undefined;
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, { N: n, r, p, maxmem: 256 * n * r }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    })
  );
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64 parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P, KEY_LENGTH);
  return ["scrypt", N, R, P, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Checks a password against a stored hash (constant-time comparison). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const key = await derive(password, salt, n, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/**
 * Counts failures per key in a sliding window; a key with `max` failures in
 * `windowMs` is blocked until the oldest of them leaves the window.
 */
export class Throttle {
  #max: number;
  #window: number;
  #failures = new Map<string, number[]>();

  /** @param max failures allowed in the window @param windowMs window length */
  constructor(max: number, windowMs: number) {
    this.#max = max;
    this.#window = windowMs;
  }

  /** Milliseconds until `key` may try again (0: now). */
  wait(key: string, now = Date.now()): number {
    const times = this.#recent(key, now);
    if (times.length < this.#max) return 0;
    return times[times.length - this.#max] + this.#window - now;
  }

  /** Records a failure; returns its time, which {@linkcode Throttle.forgive} takes. */
  fail(key: string, now = Date.now()): number {
    const times = this.#recent(key, now);
    times.push(now);
    this.#failures.set(key, times);
    return now;
  }

  /** Takes back one failure recorded at `time` (an attempt that succeeded). */
  forgive(key: string, time: number): void {
    const times = this.#failures.get(key);
    const i = times?.indexOf(time) ?? -1;
    if (i < 0) return;
    times!.splice(i, 1);
    if (times!.length === 0) this.#failures.delete(key);
  }

  /** Forgets a key's failures (after a success). */
  clear(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#window);
    if (times.length) this.#failures.set(key, times);
    else this.#failures.delete(key);
    return times;
  }
}
