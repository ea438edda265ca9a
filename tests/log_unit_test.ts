import assert from "node:assert/strict";
import { Logger, OFTEN_LINES_PER_SECOND } from "../log.ts";

/** A logger on a fake clock and fake timers: `timers` holds the ones started and not cancelled or run. */
function logger(level = "info") {
  const lines: string[] = [];
  const clock = { now: 0 };
  const timers = new Map<number, { fn: () => void; at: number }>();
  let ids = 0;
  const log = new Logger(level, (line) => lines.push(line), () => clock.now, {
    start: (fn, ms) => {
      timers.set(++ids, { fn, at: clock.now + ms });
      return ids;
    },
    cancel: (id) => timers.delete(id as number),
  });
  /** Moves the clock to `to`, running the timers due by then. */
  const advance = (to: number) => {
    clock.now = to;
    for (const [id, t] of [...timers]) {
      if (t.at > to) continue;
      timers.delete(id);
      t.fn();
    }
  };
  return { log, lines, clock, timers, advance };
}

Deno.test("often prints at most OFTEN_LINES_PER_SECOND lines of one event a second and counts the rest", () => {
  const { log, lines, clock } = logger();
  for (let i = 0; i < OFTEN_LINES_PER_SECOND + 7; i++) log.often("warn", "refused", { ip: "10.0.0.1" });
  assert.equal(lines.length, OFTEN_LINES_PER_SECOND);
  assert.ok(lines.every((l) => / WARN refused ip=10\.0\.0\.1$/.test(l)), lines.join("\n"));
  clock.now = 999;
  log.often("warn", "refused", { ip: "10.0.0.2" });
  assert.equal(lines.length, OFTEN_LINES_PER_SECOND, "still the same second");
  clock.now = 1000;
  log.often("warn", "refused", { ip: "10.0.0.3" });
  assert.deepEqual(lines.slice(OFTEN_LINES_PER_SECOND).map((l) => l.replace(/^\S+ /, "")), [
    "WARN refused lines left out count=8 since=1970-01-01T00:00:00.000Z",
    "WARN refused ip=10.0.0.3",
  ]);
});

Deno.test("often counts each event on its own, and flush tells what was left out", async () => {
  const { log, lines } = logger();
  for (let i = 0; i < OFTEN_LINES_PER_SECOND + 2; i++) log.often("warn", "refused");
  log.often("info", "http request closed to make room");
  assert.equal(lines.length, OFTEN_LINES_PER_SECOND + 1);
  await log.flush();
  assert.match(lines.at(-1)!, / WARN refused lines left out count=2 /);
  await log.flush();
  assert.equal(lines.length, OFTEN_LINES_PER_SECOND + 2, "told once");
});

Deno.test("often below the logger's level prints and counts nothing", async () => {
  const { log, lines } = logger("warn");
  for (let i = 0; i < OFTEN_LINES_PER_SECOND * 2; i++) log.often("info", "http request closed to make room");
  await log.flush();
  assert.deepEqual(lines, []);
});

Deno.test("often tells how many lines it left out when their second is over, with no further event", () => {
  const { log, lines, timers, advance } = logger();
  for (let i = 0; i < OFTEN_LINES_PER_SECOND + 3; i++) log.often("warn", "refused");
  assert.equal(timers.size, 1, "one timer for the second, however many lines are left out");
  advance(999);
  assert.equal(lines.length, OFTEN_LINES_PER_SECOND, "not before the second is over");
  advance(1000);
  assert.deepEqual(lines.slice(OFTEN_LINES_PER_SECOND).map((l) => l.replace(/^\S+ /, "")), [
    "WARN refused lines left out count=3 since=1970-01-01T00:00:00.000Z",
  ]);
  // The next line of it starts a new second: printed, and nothing is told twice.
  log.often("warn", "refused", { ip: "10.0.0.9" });
  assert.match(lines.at(-1)!, / WARN refused ip=10\.0\.0\.9$/);
  advance(5000);
  assert.equal(lines.length, OFTEN_LINES_PER_SECOND + 2);
  assert.equal(timers.size, 0);
});

Deno.test("often starts no timer while nothing is left out, and flush or a new second cancels the one it started", async () => {
  const { log, timers, advance } = logger();
  for (let i = 0; i < OFTEN_LINES_PER_SECOND; i++) log.often("warn", "refused");
  assert.equal(timers.size, 0);
  log.often("warn", "refused");
  assert.equal(timers.size, 1);
  await log.flush();
  assert.equal(timers.size, 0, "flush told the count and stopped the timer");
  for (let i = 0; i <= OFTEN_LINES_PER_SECOND; i++) log.often("warn", "refused");
  assert.equal(timers.size, 1);
  advance(999); // not yet due
  log.tellLeftOut();
  assert.equal(timers.size, 0);
});
