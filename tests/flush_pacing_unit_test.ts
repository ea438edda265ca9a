import assert from "node:assert/strict";
import {
  BACK_OFF_MS,
  CPU_SAMPLE_MS,
  DEFAULT_FLUSH_BUDGET_MS,
  DEFAULT_FLUSH_CPU_SHARE,
  FlushPacing,
  GROWING_FLUSHES,
  HOLD_GAIN,
  MIN_HOLD_MS,
  processCpu,
} from "../flush_pacing.ts";

/**
 * A pacer on fake clocks that the test moves by hand: `now` (the time) and
 * `cpu` (the process's CPU time, which a flush uses and a gap does not).
 * The share defaults to a tenth of a core, so that the budget is what limits
 * a hold unless a test sets the share.
 */
function pacer(budget = 10, share = 0.1) {
  const clock = { now: 1000, cpu: 0, cpuReads: 0 };
  const cpu = () => (clock.cpuReads++, clock.cpu);
  const pacing = new FlushPacing(budget, () => clock.now, cpu, share);
  /** The flush as the outbox module runs it: one turn of `ms` (all of it CPU) that takes everything waiting. */
  const flush = (ms: number) => {
    pacing.turnStarted();
    pacing.flushStarted();
    clock.now += ms;
    clock.cpu += ms;
    pacing.taken(pacing.waiting);
    pacing.turnEnded(true);
  };
  /** `gap` ms after the last flush, `bytes` are queued and the next flush is scheduled: its delay. */
  const next = (gap: number, bytes = 1000) => {
    clock.now += gap;
    pacing.queued(bytes);
    return pacing.delay();
  };
  return { pacing, clock, flush, next };
}

/**
 * A pacer whose backlog grows: the last GROWING_FLUSHES flushes (4 ms each)
 * were wanted again 1 ms after, so the process used 80% of a core.
 */
function loaded(budget = 10, share = 0.1) {
  const p = pacer(budget, share);
  p.next(0);
  for (let i = 0; i < GROWING_FLUSHES; i++) {
    p.flush(4);
    if (i < GROWING_FLUSHES - 1) assert.equal(p.next(1), 0, `flush ${i + 2} is not held back yet`);
  }
  return p;
}

Deno.test("the first output after a quiet spell is flushed at once", () => {
  const p = pacer();
  assert.equal(p.next(0), 0);
});

Deno.test("output that comes later after a flush than the flush took is flushed at once, however often", () => {
  const p = pacer();
  p.next(0);
  for (let i = 0; i < 10; i++) {
    p.flush(4);
    assert.equal(p.next(5), 0);
  }
  assert.equal(p.pacing.growing, false);
});

Deno.test("one or two flushes wanted again at once (light load) are not held back", () => {
  const p = pacer();
  p.next(0);
  p.flush(4);
  assert.equal(p.next(1), 0);
  p.flush(4);
  assert.equal(p.next(1), 0);
  p.flush(4);
  assert.equal(p.next(20), 0); // the run is broken: counting starts again
  p.flush(4);
  assert.equal(p.next(1), 0);
  assert.equal(p.pacing.growing, false);
});

Deno.test("a growing backlog holds the flush until the oldest waiting byte is as old as the budget", () => {
  const p = loaded(10);
  assert.equal(p.next(1), 10); // the output was queued just now: the whole budget
  assert.equal(p.pacing.growing, true);
});

Deno.test("the hold is the budget less the oldest waiting byte's age", () => {
  const p = loaded(10);
  p.clock.now += 1;
  p.pacing.queued(1000); // the oldest waiting byte
  p.clock.now += 2;
  p.pacing.queued(1000);
  assert.equal(p.pacing.delay(), 8);
});

Deno.test("a byte older than the budget is never held back", () => {
  const p = loaded(10);
  p.clock.now += 1;
  p.pacing.queued(1000);
  p.clock.now += 10 - MIN_HOLD_MS / 2; // less than MIN_HOLD_MS of the budget left: not worth a timer
  assert.equal(p.pacing.delay(), 0);
});

Deno.test("the budget counts from the first output after the flush began, not from output it left", () => {
  const p = loaded(10);
  assert.equal(p.next(1), 10);
  p.clock.now += 10;
  p.pacing.queued(30_000); // gathered during the hold
  p.pacing.turnStarted();
  p.pacing.flushStarted();
  p.clock.now += 4;
  p.pacing.taken(20_000); // 10,000 bytes stay for connections still writing
  p.pacing.turnEnded(true);
  assert.equal(p.next(1), 10);
});

Deno.test("a budget of 0 never holds output back", () => {
  const p = loaded(0);
  assert.equal(p.next(1), 0);
  assert.equal(p.pacing.growing, true);
});

Deno.test("a hold that gathers next to nothing (closed-loop clients) is not tried again for a while", () => {
  const p = loaded(10);
  assert.equal(p.next(1, 1000), 10);
  p.clock.now += 10;
  p.pacing.queued(1000 * (HOLD_GAIN - 1) - 1); // the hold gathered just less than HOLD_GAIN times what waited: not worth it
  const until = p.clock.now + BACK_OFF_MS;
  p.flush(4);
  let flushes = 0;
  while (p.clock.now + 1 < until) {
    assert.equal(p.next(1), 0, `flush ${++flushes} after the useless hold is not held`);
    p.flush(4);
  }
  assert.ok(flushes > 100, `${flushes} flushes`);
  assert.equal(p.next(1), 10, "then holding is tried again");
});

Deno.test("a hold that adds a quarter to what waited (open-loop senders during a long flush) is kept up", () => {
  const p = loaded(10);
  for (let i = 0; i < 5; i++) {
    assert.equal(p.next(1, 1000), 10, `hold ${i + 1}`);
    p.clock.now += 10;
    p.pacing.queued(250);
    p.flush(4);
  }
});

Deno.test("a hold that gathers more output is kept up", () => {
  const p = loaded(10);
  for (let i = 0; i < 5; i++) {
    assert.equal(p.next(1, 1000), 10);
    p.clock.now += 10;
    p.pacing.queued(5000); // open-loop senders kept sending
    p.flush(4);
  }
});

Deno.test("dropped output (a closed connection) no longer counts as waiting", () => {
  const p = loaded(10);
  p.clock.now += 1;
  p.pacing.queued(3000);
  p.pacing.dropped(3000);
  assert.equal(p.pacing.waiting, 0);
  assert.equal(p.pacing.delay(), 0);
});

Deno.test("a flush over several turns counts the time of all its turns", () => {
  const p = pacer(10);
  p.next(0);
  for (let i = 0; i < GROWING_FLUSHES; i++) {
    p.pacing.turnStarted();
    p.pacing.flushStarted();
    p.clock.now += 2;
    p.pacing.turnEnded(false);
    p.clock.now += 5; // between turns: not flushing
    p.pacing.turnStarted();
    p.clock.now += 2;
    p.pacing.taken(p.pacing.waiting);
    p.pacing.turnEnded(true);
    p.next(3); // sooner than the 4 ms of turns, though later than either turn
  }
  assert.equal(p.pacing.growing, true);
});

Deno.test("the budget can be changed (--flush-budget) and defaults to the documented value", () => {
  assert.equal(new FlushPacing().budgetMs, DEFAULT_FLUSH_BUDGET_MS);
  const p = loaded(10);
  p.pacing.budgetMs = 20;
  assert.equal(p.next(1), 20);
});

Deno.test("a server sets the process's flush budget from --flush-budget", async () => {
  const { ChatServer } = await import("../server.ts");
  const { flushPacing } = await import("../outbox.ts");
  const before = flushPacing.budgetMs;
  const server = new ChatServer({ host: "127.0.0.1", port: 0, flushBudget: 3, logLevel: "silent" });
  try {
    assert.equal(flushPacing.budgetMs, 3);
  } finally {
    server.store.close();
    flushPacing.budgetMs = before;
  }
});

Deno.test("a busy server's short flushes (a closed-loop burst) are not held: the share would gain less than a timer's worth", () => {
  const p = pacer(10, DEFAULT_FLUSH_CPU_SHARE);
  p.next(0);
  for (let i = 0; i < 3 * GROWING_FLUSHES; i++) {
    p.flush(0.4);
    p.clock.cpu += 0.1; // every moment busy: a whole core
    assert.equal(p.next(0.1), 0, `flush ${i + 2}`);
  }
  assert.equal(p.pacing.growing, true);
});

Deno.test("under sustained load the next flush waits until the process is back at its CPU share", () => {
  const p = loaded(10, 0.5);
  // The last cycles took 5 ms at 80% of a core: 4 ms of CPU, which at half a core is 8 ms from the last start.
  assert.equal(p.next(1), 3);
});

Deno.test("a server under its CPU share is not held back, however the backlog grows", () => {
  const p = loaded(10, 0.9); // the load uses 80% of a core: under 90%
  assert.equal(p.next(1), 0);
  assert.equal(p.pacing.growing, true);
});

Deno.test("the hold for the CPU share never passes the budget", () => {
  const p = loaded(2.5, 0.2); // the share would wait 15 ms
  assert.equal(p.next(1), 2.5);
});

Deno.test("a CPU share of a whole core (--flush-cpu 100) never holds output back", () => {
  const p = loaded(10, 1);
  assert.equal(p.next(1), 0);
  assert.equal(p.pacing.growing, true);
});

Deno.test("held flushes that start late (timers fire late) make the next holds that much shorter", () => {
  const p = loaded(10, 0.5);
  let wait = p.next(1);
  assert.equal(wait, 3);
  p.clock.now += wait + 2; // the timer fired 2 ms late
  p.pacing.queued(5000); // open-loop senders kept sending: the hold gathered
  p.flush(4);
  wait = p.next(1);
  assert.ok(wait > MIN_HOLD_MS && wait < 3, `a shorter hold (${wait} ms)`);
  let before = wait;
  for (let i = 0; i < 10; i++) { // late every time: the correction grows towards the lateness
    p.clock.now += wait + 2;
    p.pacing.queued(5000);
    p.flush(4);
    wait = p.next(1);
    assert.ok(wait <= before + 1e-9, `hold ${i + 3} (${wait} ms) is no longer than the one before (${before} ms)`);
    before = wait;
  }
});

Deno.test("the CPU clock is read at most once per CPU_SAMPLE_MS, however many flushes start", () => {
  const p = pacer(10, DEFAULT_FLUSH_CPU_SHARE);
  p.next(0);
  for (let i = 0; i < 1000; i++) {
    p.flush(0.1);
    p.next(0.1); // 0.2 ms a cycle: 200 ms in all
  }
  assert.ok(p.clock.cpuReads <= 200 / CPU_SAMPLE_MS + 1, `${p.clock.cpuReads} reads`);
  assert.ok(p.clock.cpuReads >= 200 / CPU_SAMPLE_MS - 1, `${p.clock.cpuReads} reads`);
});

Deno.test("the default CPU clock is this process's CPU time in ms, and it advances with work", () => {
  const before = processCpu();
  let x = 0;
  const until = performance.now() + 30;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  const used = processCpu() - before;
  assert.ok(used >= 15 && used < 1000, `30 ms of work used ${used} ms of CPU (${x > 0})`);
});

Deno.test("a server sets the process's CPU share from --flush-cpu", async () => {
  const { ChatServer } = await import("../server.ts");
  const { flushPacing } = await import("../outbox.ts");
  const before = flushPacing.cpuShare;
  assert.equal(before, DEFAULT_FLUSH_CPU_SHARE);
  const server = new ChatServer({ host: "127.0.0.1", port: 0, flushCpu: 55, logLevel: "silent" });
  try {
    assert.equal(flushPacing.cpuShare, 0.55);
  } finally {
    server.store.close();
    flushPacing.cpuShare = before;
  }
});
