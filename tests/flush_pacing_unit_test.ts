import assert from "node:assert/strict";
import {
  BACK_OFF_MS,
  DEFAULT_FLUSH_BUDGET_MS,
  FlushPacing,
  GROWING_FLUSHES,
  HOLD_WORTH,
  MIN_HOLD_MS,
} from "../flush_pacing.ts";

/** A pacer on a fake clock that the test moves by hand. */
function pacer(budget = 10) {
  const clock = { now: 1000 };
  const pacing = new FlushPacing(budget, () => clock.now);
  /** The flush as the outbox module runs it: one turn of `ms` that takes everything waiting. */
  const flush = (ms: number) => {
    pacing.turnStarted();
    pacing.flushStarted();
    clock.now += ms;
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

/** A pacer whose backlog grows: the last GROWING_FLUSHES flushes (4 ms each) were wanted again 1 ms after. */
function loaded(budget = 10) {
  const p = pacer(budget);
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
  p.pacing.queued(500); // the hold gathered half as much again: not worth it
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

Deno.test("short flushes (a closed-loop burst to few receivers) are never held back, however busy", () => {
  const p = pacer(10);
  p.next(0);
  for (let i = 0; i < 3 * GROWING_FLUSHES; i++) {
    p.flush(10 * HOLD_WORTH - 0.5); // just under the share of the budget that makes a hold worth it
    assert.equal(p.next(0.1), 0, `flush ${i + 2}`);
  }
  assert.equal(p.pacing.growing, true);
});
