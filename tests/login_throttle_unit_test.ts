import assert from "node:assert/strict";
import { LOGIN_LIMITS, LoginThrottle } from "../login_throttle.ts";
import { ServerBusy, WorkQueue } from "../accounts.ts";

/** A throttle on a clock the test moves. */
function setup(limits = {}) {
  const clock = { now: 1_000_000 };
  return { clock, throttle: new LoginThrottle(limits, () => clock.now) };
}

function fail(throttle: LoginThrottle, nick: string, ip: string, times = 1): void {
  for (let i = 0; i < times; i++) throttle.begin(nick, ip);
}

Deno.test("the first failures of a nick from an address are free", () => {
  const { throttle } = setup();
  fail(throttle, "alice", "10.0.0.1", LOGIN_LIMITS.perNickAddress - 1);
  assert.equal(throttle.wait("alice", "10.0.0.1"), 0);
});

Deno.test("past the free failures the wait doubles with each failure, up to the cap", () => {
  const { throttle, clock } = setup();
  fail(throttle, "alice", "10.0.0.1", LOGIN_LIMITS.perNickAddress);
  const waits: number[] = [];
  for (let i = 0; i < 12; i++) {
    const wait = throttle.wait("alice", "10.0.0.1");
    waits.push(wait);
    clock.now += wait; // the guesser waits exactly as long as told
    fail(throttle, "alice", "10.0.0.1");
  }
  assert.deepEqual(waits.slice(0, 6), [2000, 4000, 8000, 16000, 32000, 64000]);
  assert.ok(waits.every((w) => w <= LOGIN_LIMITS.maxDelayMs));
  assert.equal(waits.at(-1), LOGIN_LIMITS.maxDelayMs);
});

Deno.test("a stranger's failures do not make the owner wait at another address", () => {
  const { throttle } = setup();
  fail(throttle, "alice", "10.0.0.1", 50);
  assert.ok(throttle.wait("alice", "10.0.0.1") > 0);
  assert.equal(throttle.wait("alice", "10.0.0.2"), 0);
});

Deno.test("many addresses guessing one nick only slow its checks down, by at most the cap", () => {
  const { throttle } = setup();
  for (let i = 0; i < 10_000; i++) fail(throttle, "alice", `10.0.${i >> 8}.${i & 255}`);
  assert.equal(throttle.wait("alice", "192.168.0.1"), 0, "the owner is never refused");
  assert.equal(throttle.slowdown("alice"), LOGIN_LIMITS.nickSlowdownCapMs);
  assert.equal(throttle.slowdown("bob"), 0);
});

Deno.test("the nick slowdown starts after perNick failures and grows from 250 ms", () => {
  const { throttle } = setup();
  fail(throttle, "alice", "10.0.0.1", LOGIN_LIMITS.perNick - 1);
  assert.equal(throttle.slowdown("alice"), 0);
  fail(throttle, "alice", "10.0.0.2");
  assert.equal(throttle.slowdown("alice"), 250);
  fail(throttle, "alice", "10.0.0.3");
  assert.equal(throttle.slowdown("alice"), 500);
});

Deno.test("an address that fails on many nicks waits for all of them", () => {
  const { throttle } = setup();
  for (let i = 0; i < LOGIN_LIMITS.perAddress; i++) fail(throttle, `nick${i}`, "10.0.0.1");
  assert.ok(throttle.wait("fresh", "10.0.0.1") > 0);
  assert.equal(throttle.wait("fresh", "10.0.0.2"), 0);
});

Deno.test("counts are forgotten after a quiet hour", () => {
  const { throttle, clock } = setup();
  fail(throttle, "alice", "10.0.0.1", 40);
  clock.now += LOGIN_LIMITS.forgetMs;
  assert.equal(throttle.wait("alice", "10.0.0.1"), 0);
  assert.equal(throttle.slowdown("alice"), 0);
});

Deno.test("a right password takes back its own failure and clears the nick's count from that address", () => {
  const { throttle } = setup();
  fail(throttle, "alice", "10.0.0.1", LOGIN_LIMITS.perNickAddress - 1);
  throttle.succeeded(throttle.begin("alice", "10.0.0.1"));
  fail(throttle, "alice", "10.0.0.1", LOGIN_LIMITS.perNickAddress - 1);
  assert.equal(throttle.wait("alice", "10.0.0.1"), 0);
});

Deno.test("an attempt counts as failed while it is being checked, so guesses at once are throttled", () => {
  const { throttle } = setup();
  const attempts = Array.from({ length: LOGIN_LIMITS.perNickAddress }, () => throttle.begin("alice", "10.0.0.1"));
  assert.ok(throttle.wait("alice", "10.0.0.1") > 0);
  for (const a of attempts) throttle.cancel(a);
  assert.equal(throttle.wait("alice", "10.0.0.1"), 0, "cancelled attempts are not failures");
  assert.equal(throttle.size, 0);
});

Deno.test("memory is bounded: past maxEntries the oldest counts go", () => {
  const { throttle, clock } = setup({ maxEntries: 300 });
  for (let i = 0; i < 1000; i++) {
    clock.now++;
    fail(throttle, `n${i}`, `10.0.${i >> 8}.${i & 255}`);
  }
  assert.ok(throttle.size <= 300, `${throttle.size} counts kept`);
});

Deno.test("a count nobody asks about again is dropped once forgotten", () => {
  const { throttle, clock } = setup();
  fail(throttle, "alice", "10.0.0.1");
  clock.now += LOGIN_LIMITS.forgetMs + 1;
  fail(throttle, "bob", "10.0.0.2");
  assert.equal(throttle.size, 3, "only bob's three counts remain");
});

// ---- the hashing queue

/** A job that runs until the test resolves it. */
function job(running: Set<number>, id: number) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => finish = resolve);
  const started = Promise.withResolvers<void>();
  const run = async () => {
    running.add(id);
    started.resolve();
    await done;
    running.delete(id);
    return id;
  };
  return { run, finish, started: started.promise };
}

Deno.test("WorkQueue runs at most `concurrent` jobs at once, the others in order", async () => {
  const queue = new WorkQueue(2, 10, "busy");
  const running = new Set<number>();
  const jobs = [0, 1, 2, 3].map((id) => job(running, id));
  const results = jobs.map((j) => queue.run(j.run));
  await Promise.all([jobs[0].started, jobs[1].started]);
  assert.deepEqual([...running], [0, 1]);
  assert.equal(queue.queued, 2);
  jobs[1].finish();
  await jobs[2].started;
  assert.deepEqual([...running].sort(), [0, 2]);
  jobs[0].finish();
  jobs[2].finish();
  await jobs[3].started;
  jobs[3].finish();
  assert.deepEqual(await Promise.all(results), [0, 1, 2, 3]);
  assert.equal(queue.running, 0);
});

Deno.test("WorkQueue refuses a job with ServerBusy when too many wait, and carries on", async () => {
  const queue = new WorkQueue(1, 2, "the server is busy checking passwords");
  const running = new Set<number>();
  const jobs = [0, 1, 2].map((id) => job(running, id));
  const results = jobs.map((j) => queue.run(j.run));
  await assert.rejects(queue.run(() => Promise.resolve(9)), (e) => e instanceof ServerBusy && /busy/.test(e.message));
  for (const j of jobs) j.finish();
  assert.deepEqual(await Promise.all(results), [0, 1, 2]);
  assert.equal(await queue.run(() => Promise.resolve(9)), 9);
});

Deno.test("WorkQueue hands the place of a failed job on", async () => {
  const queue = new WorkQueue(1, 5, "busy");
  const failed = queue.run(() => Promise.reject(new Error("boom")));
  const next = queue.run(() => Promise.resolve("next"));
  await assert.rejects(failed, /boom/);
  assert.equal(await next, "next");
  assert.equal(queue.running, 0);
});
