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
 * - while it is growing, hold the next flush back only as long as it takes
 *   for the process to be under its CPU share ({@linkcode FlushPacing.cpuShare}
 *   of a core, `--flush-cpu`): the flush cycle just ended used `c` ms of CPU,
 *   so the next one starts no sooner than `c / share` ms after it began;
 * - and never longer than until the oldest waiting byte is
 *   {@linkcode FlushPacing.budgetMs} old (`--flush-budget`);
 * - a hold that did not add at least a quarter to the waiting output gathered next to
 *   nothing (closed-loop clients wait for their own lines before they send
 *   more): holding is then not tried again for {@linkcode BACK_OFF_MS} ms.
 *
 * So a lightly loaded server (a message now and then), one whose clients
 * wait for each answer, and one with CPU to spare never waits; a server under
 * sustained open load waits just long enough to keep to its CPU share, and
 * adds at most the budget to a line's time in the queue. The same rule holds
 * on a machine whose writes cost 2 µs and on one where they cost 9 µs: it
 * measures the process's CPU rather than guessing it from the flush's time.
 * The pacer only counts and reads its clocks; the outbox module does the
 * scheduling. Times are milliseconds from the injected clocks.
 *
 * @example
 * ```ts
 * import { FlushPacing } from "./flush_pacing.ts";
 * let now = 0;
 * const pacing = new FlushPacing(5, () => now, () => 0);
 * pacing.queued(100);
 * pacing.delay(); // 0: nothing was flushed yet, so nothing is growing
 * ```
 * @module
 */
import process from "node:process";

/** A clock in milliseconds, like `performance.now`. */
export type Clock = () => number;

/**
 * The default latency budget in milliseconds (`--flush-budget`): the most a
 * hold may add to a line's wait. 16 rather than 14 since flushes poll the
 * sockets between their turns (2026-12-08): where a write costs 12–13 µs, a
 * flush to 1,000 receivers takes about 13 ms, and a 14 ms budget ended the
 * holds before the CPU share was reached (steady-50 at 80–89% of a core);
 * with 16, 72–74%, p99 within 1.22–1.49× `limit_server`'s.
 */
export const DEFAULT_FLUSH_BUDGET_MS = 16;
/**
 * The default CPU share (`--flush-cpu`, in percent of one core): under
 * sustained load, flushes are spaced so that the process uses about this
 * much of a core, leaving the rest for logins, other rooms and the
 * collector. Chosen with the steady-50 benchmark, whose goal is server CPU
 * at most 80%: the process runs a little above the share it keeps to (held
 * flushes start late, and not every flush is held), and 70 measured 75–81%
 * where 80 measured 84–89% (2026-12-03); with the 16 ms budget, 72–74%
 * (2026-12-08; 60 gave 61–72% and no better p99).
 */
export const DEFAULT_FLUSH_CPU_SHARE = 0.7;
/**
 * Shorter holds are not worth a timer (whose delay is about 1-2 ms): the
 * flush runs next turn instead (a hold for the CPU share of at least half
 * of this is made this long).
 */
export const MIN_HOLD_MS = 1;
/**
 * Milliseconds during which no flush is held back after a hold that gathered
 * (almost) nothing: a hold costs closed-loop clients the whole hold, so it is
 * tried at most about once a second (under 1% of the time at a 10 ms budget).
 */
export const BACK_OFF_MS = 1000;

/**
 * Least milliseconds between two readings of the process's CPU clock (at the
 * start of a flush): a closed-loop burst starts thousands of flushes a
 * second, and reading the clock is a system call.
 */
export const CPU_SAMPLE_MS = 10;

/** The most a held flush's lateness is counted (a flush delayed by a long task says nothing about timers). */
export const MAX_LATE_MS = 3;

/**
 * Flushes in a row that were wanted again sooner than they took before the
 * backlog counts as growing. At light load a message now and then comes
 * while the previous one is still being written (steady-5: about one flush in
 * four); eight in a row happen only under sustained load (3 held steady-5's
 * flushes back often enough to show in its p99).
 */
export const GROWING_FLUSHES = 8;
/**
 * A hold must at least multiply the waiting output by this to count as having
 * gathered something. Output waits at a hold's start for the receivers
 * written before the last lines came (lines read during a flush reach only
 * the receivers still to be written), often most of them: at steady-50 a
 * gain of 2 backed off from nearly every hold (CPU 93–97%; 1.25: 75%,
 * 2026-12-08). Closed-loop clients add nothing during a hold.
 */
export const HOLD_GAIN = 1.25;

/** The CPU time this process has used, in milliseconds (user and system, every thread). */
export const processCpu: Clock = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Counts queued and taken output, times the flushes, and says how long the next flush may wait. */
export class FlushPacing {
  /** Longest a waiting byte is held back on purpose, in ms; 0 never holds back. */
  budgetMs: number;
  /** The share of a core (0 to 1) that sustained load may use before flushes are spaced out; 1 never holds back. */
  cpuShare: number;
  #clock: Clock;
  #cpu: Clock;
  #startedAt = -1; // when the last flush began (-1: none yet)
  #sampledAt = -Infinity; // when the CPU clock was last read (at a flush's start)
  #sampledCpu = 0; // what it read then
  #sampledFlushes = 0; // flushes started since
  #cycleCpu = 0; // CPU ms per flush cycle (start to start) between the last two readings
  #holdUntil = -1; // when the held flush was meant to start (-1: not held)
  #late = 0; // how late held flushes started, on average (timers fire late): holds are that much shorter
  #waiting = 0; // bytes queued and not yet taken by a flush
  #oldestAt = -1; // when the oldest of them was queued (-1: none waiting)
  #turnAt = 0; // when the flush's current turn began
  #work = 0; // ms the flush under way has spent in its turns
  #lastWork = 0; // ms the last finished flush spent in its turns
  #endedAt = -1; // when the last flush finished (-1: none yet)
  #streak = 0; // flushes in a row wanted again sooner than they took
  #heldWith = -1; // bytes waiting when the next flush was held back (-1: not held)
  #backOffUntil = -Infinity; // no holds before this time

  /**
   * @param budgetMs the latency budget
   * @param clock the time in ms (default `performance.now`)
   * @param cpu the process's CPU time in ms (default {@linkcode processCpu})
   * @param cpuShare the CPU share to keep to under sustained load
   */
  constructor(
    budgetMs: number = DEFAULT_FLUSH_BUDGET_MS,
    clock: Clock = () => performance.now(),
    cpu: Clock = processCpu,
    cpuShare: number = DEFAULT_FLUSH_CPU_SHARE,
  ) {
    this.budgetMs = budgetMs;
    this.cpuShare = cpuShare;
    this.#clock = clock;
    this.#cpu = cpu;
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
    const startAt = this.#startedAt = this.#turnAt;
    if (startAt - this.#sampledAt >= CPU_SAMPLE_MS) { // reading the CPU clock costs a system call: not every flush
      const cpu = this.#cpu();
      if (this.#sampledFlushes > 0) this.#cycleCpu = (cpu - this.#sampledCpu) / this.#sampledFlushes;
      this.#sampledAt = startAt;
      this.#sampledCpu = cpu;
      this.#sampledFlushes = 0;
    }
    this.#sampledFlushes++;
    if (this.#holdUntil >= 0) {
      const late = Math.min(MAX_LATE_MS, Math.max(0, this.#turnAt - this.#holdUntil));
      this.#late += (late - this.#late) / 4;
      this.#holdUntil = -1;
    }
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
    if (this.budgetMs <= 0 || this.cpuShare >= 1 || this.#oldestAt < 0 || now < this.#backOffUntil) return 0;
    if (!this.growing) return 0;
    const start = now + this.#late; // a held flush starts about this much later than asked
    // A cycle (flush to flush) uses about #cycleCpu ms of CPU: at the share, it lasts that / cpuShare.
    // A wait too short for a timer is rounded: up from half of it (the share is kept a little better than asked), else down.
    const forCpu = this.#startedAt + this.#cycleCpu / this.cpuShare - start;
    if (forCpu < MIN_HOLD_MS / 2) return 0;
    const wait = Math.min(Math.max(forCpu, MIN_HOLD_MS), this.#oldestAt + this.budgetMs - start);
    if (wait < MIN_HOLD_MS) return 0;
    this.#holdUntil = now + wait;
    this.#heldWith = this.#waiting;
    return wait;
  }
}
