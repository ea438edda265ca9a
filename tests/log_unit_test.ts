import assert from "node:assert/strict";
import { Logger, OFTEN_LINES_PER_SECOND } from "../log.ts";

function logger(level = "info") {
  const lines: string[] = [];
  const clock = { now: 0 };
  const log = new Logger(level, (line) => lines.push(line), () => clock.now);
  return { log, lines, clock };
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
