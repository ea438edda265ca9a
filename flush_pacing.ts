/**
 * When the outboxes' next flush should run: pacing as a latency budget.
 *
 * The flush writes everything queued for every connection, one `write` per
 * connection. A write costs about the same for one line as for thirty, so
 * under sustained load it pays to let lines gather before flushing; at light
 * load it only adds latency. The rule:
 *
 * - flush at once (next event-loop turn) unless the backlog is growing: new
 *   output came sooner after each of the last {@linkcode GROWING_FLUSHES}
 *   flushes than the flush took (the server spends more time flushing than
 *   not, and flushing one turn's worth at a time does not catch up);
 * - while it is growing, and the last flush took at least
 *   {@linkcode HOLD_WORTH} of the budget (so that holding saves something),
 *   hold the flush back only until the oldest waiting
 *   byte is {@linkcode FlushPacing.budgetMs} old, never longer;
 * - a hold that did not at least double the waiting output gathered next to
 *   nothing (closed-loop clients wait for their own lines before they send
 *   more): holding is then not tried again for {@linkcode BACK_OFF_MS} ms.
 *
 * So a lightly loaded server (a message now and then), and one whose clients
 * wait for each answer, never waits; a server under sustained open load adds
 * at most the budget to a line's time in the queue, in exchange for more
 * lines per write (less CPU). The pacer only counts and reads its clock; the
 * outbox module does the scheduling. Times are milliseconds from the injected clock.
 *
 * @example
 * ```ts
 * import { FlushPacing } from "./flush_pacing.ts";
 * let now = 0;
 * const pacing = new FlushPacing(5, () => now);
 * pacing.queued(100);
 * pacing.delay(); // 0: nothing was flushed yet, so nothing is growing
 * ```
 * @module
 */

/** A clock in milliseconds, like `performance.now`. */
export type Clock = () => number;

/** The default latency budget in milliseconds (`--flush-budget`); chosen with the steady-5/steady-50/burst benchmarks. */
export const DEFAULT_FLUSH_BUDGET_MS = 14;
/** Shorter holds are not worth a timer (whose delay is about 1-2 ms): the flush runs next turn instead. */
export const MIN_HOLD_MS = 1;
/**
 * Milliseconds during which no flush is held back after a hold that gathered
 * (almost) nothing: a hold costs closed-loop clients the whole hold, so it is
 * tried at most about once a second (under 1% of the time at a 10 ms budget).
 */
export const BACK_OFF_MS = 1000;

/**
 * Flushes in a row that were wanted again sooner than they took before the
 * backlog counts as growing. At light load a message now and then comes
 * while the previous one is still being written (steady-5: about one flush in
 * four); eight in a row happen only under sustained load (3 held steady-5's
 * flushes back often enough to show in its p99).
 */
export const GROWING_FLUSHES = 8;
/**
 * A flush is held back only if the last one took at least this share of the
 * budget: holding saves a write per connection, which matters when a flush is
 * costly (1,000 receivers: several ms); a short flush (100 receivers of a
 * closed-loop burst) would save little, and its clients would lose the hold.
 */
export const HOLD_WORTH = 0.2;
/** A hold must at least multiply the waiting output by this to count as having gathered something. */
export const HOLD_GAIN = 2;

/** Counts queued and taken output, times the flushes, and says how long the next flush may wait. */
export class FlushPacing {
  /** Longest a waiting byte is held back on purpose, in ms; 0 never holds back. */
  budgetMs: number;
  #clock: Clock;
  #waiting = 0; // bytes queued and not yet taken by a flush
  #oldestAt = -1; // when the oldest of them was queued (-1: none waiting)
  #turnAt = 0; // when the flush's current turn began
  #work = 0; // ms the flush under way has spent in its turns
  #lastWork = 0; // ms the last finished flush spent in its turns
  #endedAt = -1; // when the last flush finished (-1: none yet)
  #streak = 0; // flushes in a row wanted again sooner than they took
  #heldWith = -1; // bytes waiting when the next flush was held back (-1: not held)
  #backOffUntil = -Infinity; // no holds before this time

  /** @param budgetMs the latency budget @param clock the time in ms (default `performance.now`) */
  constructor(budgetMs: number = DEFAULT_FLUSH_BUDGET_MS, clock: Clock = () => performance.now()) {
    this.budgetMs = budgetMs;
    this.#clock = clock;
  }

  /** Bytes queued and not yet taken by a flush. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Whether the backlog is growing: the last {@linkcode GROWING_FLUSHES} flushes were wanted again sooner than they took. */
  get growing(): boolean {
    return this.#waiting > 0 && this.#streak >= GROWING_FLUSHES;
  }

  /** `bytes` were queued for some connection. */
  queued(bytes: number): void {
    if (this.#oldestAt < 0) this.#oldestAt = this.#clock();
    this.#waiting += bytes;
  }

  /** A flush took `bytes` from some connection's queue, to write them. */
  taken(bytes: number): void {
    this.#waiting = Math.max(0, this.#waiting - bytes);
    if (this.#waiting === 0) this.#oldestAt = -1;
  }

  /** Queued bytes were dropped without being written (a connection closed). */
  dropped(bytes: number): void {
    this.taken(bytes);
  }

  /** A turn of flushing begins (call before {@linkcode flushStarted} on a flush's first turn). */
  turnStarted(): void {
    this.#turnAt = this.#clock();
  }

  /** A flush begins: it takes everything queued for connections not busy writing. */
  flushStarted(): void {
    if (this.#heldWith >= 0 && this.#waiting < HOLD_GAIN * this.#heldWith) {
      this.#backOffUntil = this.#clock() + BACK_OFF_MS;
    }
    this.#heldWith = -1;
    this.#work = 0;
    // What this flush leaves (output for connections still writing) goes in their next
    // turn; the budget counts from the first output queued after this flush began.
    this.#oldestAt = -1;
  }

  /** A turn of flushing ends; `last`: the flush has started all its writes. */
  turnEnded(last: boolean): void {
    const now = this.#clock();
    this.#work += now - this.#turnAt;
    if (!last) return;
    this.#lastWork = this.#work;
    this.#endedAt = now;
  }

  /**
   * Called once as the next flush is scheduled: milliseconds it should wait
   * (0: run it at once; never less than {@linkcode MIN_HOLD_MS} otherwise).
   */
  delay(): number {
    const now = this.#clock();
    if (this.#endedAt >= 0) this.#streak = now - this.#endedAt < this.#lastWork ? this.#streak + 1 : 0;
    if (this.budgetMs <= 0 || this.#oldestAt < 0 || now < this.#backOffUntil || !this.growing) return 0;
    if (this.#lastWork < HOLD_WORTH * this.budgetMs) return 0;
    const wait = this.budgetMs - (now - this.#oldestAt);
    if (wait < MIN_HOLD_MS) return 0;
    this.#heldWith = this.#waiting;
    return wait;
  }
}
