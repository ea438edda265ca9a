/**
 * Passwords of registered nicks: salted scrypt hashes (`node:crypto`),
 * checked in constant time. Each hash takes about 16 MB and a few tens of
 * milliseconds of a CPU, so at most {@linkcode HASHING}`.concurrent` run at
 * once (1 on a 2-core machine); up to `HASHING.waiting` (32) more wait their turn, and past
 * that a hash is refused with a {@linkcode ServerBusy} error ("the server
 * is busy checking passwords"). Failed guesses are throttled in
 * login_throttle.ts.
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
import { cleanLine } from "./text.ts";

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
  // Typed after `login <nick>` on one line, and cleaned like every line: it could never be given back.
  if (/\s/u.test(password)) return "a password may not contain spaces";
  if (cleanLine(password) !== password) return "a password may not contain control or invisible characters";
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

/**
 * How many password hashes run at once (one less than the cores, at most 2:
 * one on a 2-core machine, where two at once delayed chat lines by 100 ms,
 * see bench/hashing.ts), and how many may wait for their turn.
 */
export const HASHING: { readonly concurrent: number; readonly waiting: number } = {
  concurrent: Math.max(1, Math.min(2, (navigator.hardwareConcurrency ?? 2) - 1)),
  waiting: 32,
};

/** Refused work: the server has too much of it already. The message says so, for the user. */
export class ServerBusy extends Error {
  override name = "ServerBusy";
}

/**
 * Runs async jobs at most `concurrent` at a time, in order; at most
 * `waiting` more wait, and a job beyond that is refused with
 * {@linkcode ServerBusy}.
 *
 * @example
 * ```ts
 * import { WorkQueue } from "./accounts.ts";
 * const queue = new WorkQueue(2, 8, "the server is busy checking passwords");
 * await queue.run(() => Promise.resolve(42)); // 42
 * ```
 */
export class WorkQueue {
  #concurrent: number;
  #waiting: number;
  #busy: string;
  #running = 0;
  #queue: (() => void)[] = [];

  /** @param concurrent jobs at once @param waiting jobs that may wait @param busy the refusal's message */
  constructor(concurrent: number, waiting: number, busy: string) {
    this.#concurrent = Math.max(1, concurrent);
    this.#waiting = waiting;
    this.#busy = busy;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for their turn. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs `job` when its turn comes; rejects with {@linkcode ServerBusy} if too many are waiting. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrent) {
      if (this.#queue.length >= this.#waiting) throw new ServerBusy(this.#busy);
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await job();
    } finally {
      const next = this.#queue.shift();
      if (next) next(); // hands its place on
      else this.#running--;
    }
  }
}

const hashing = new WorkQueue(
  HASHING.concurrent,
  HASHING.waiting,
  "the server is busy checking passwords; try again in a moment",
);

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64 parts). Throws {@linkcode ServerBusy} when too many wait. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await hashing.run(() => derive(password, salt, N, R, P, KEY_LENGTH));
  return ["scrypt", N, R, P, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Checks a password against a stored hash (constant-time comparison). Throws {@linkcode ServerBusy} when too many wait. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const key = await hashing.run(() => derive(password, salt, n, r, p, expected.length));
  return timingSafeEqual(key, expected);
}
