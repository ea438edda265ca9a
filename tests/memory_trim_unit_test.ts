import assert from "node:assert/strict";
import {
  GROWTH_BYTES,
  heapSlack,
  heapUsed,
  lastResortGc,
  MemoryTrim,
  QUIET_CHECKS,
  SLACK_BYTES,
} from "../memory_trim.ts";

/** A trimmer on a hand-moved probe: `work()` is activity, `slack` the heap's unused bytes. */
function trimmer(slack = 2 * SLACK_BYTES) {
  const probe = { written: 0, slack };
  let trims = 0;
  const trim = new MemoryTrim({ activity: () => probe.written, slackBytes: () => probe.slack }, () => trims++);
  return { trim, probe, trims: () => trims, work: () => probe.written += 100 };
}

Deno.test("a server that stays quiet with slack in its heap is trimmed once, after the quiet checks", () => {
  const t = trimmer();
  for (let i = 1; i < QUIET_CHECKS; i++) assert.equal(t.trim.check(), false, `check ${i}`);
  assert.equal(t.trim.check(), true);
  for (let i = 0; i < 5; i++) assert.equal(t.trim.check(), false, "not again in the same quiet spell");
  assert.equal(t.trims(), 1);
});

Deno.test("activity resets the quiet count, and the next quiet spell may trim again", () => {
  const t = trimmer();
  for (let i = 0; i < QUIET_CHECKS; i++) t.trim.check();
  assert.equal(t.trims(), 1);
  t.work();
  assert.equal(t.trim.check(), false, "busy");
  for (let i = 1; i < QUIET_CHECKS; i++) {
    t.work();
    assert.equal(t.trim.check(), false, "busy again before the quiet spell is long enough");
  }
  for (let i = 0; i < QUIET_CHECKS; i++) t.trim.check();
  assert.equal(t.trims(), 2);
});

Deno.test("a busy server is never trimmed", () => {
  const t = trimmer();
  for (let i = 0; i < 20; i++) {
    t.work();
    t.trim.check();
  }
  assert.equal(t.trims(), 0);
});

Deno.test("a quiet heap without much slack is left alone", () => {
  const t = trimmer(SLACK_BYTES);
  for (let i = 0; i < 10; i++) t.trim.check();
  assert.equal(t.trims(), 0);
  t.probe.slack = SLACK_BYTES + 1;
  assert.equal(t.trim.check(), true, "until the slack passes the threshold");
});

/** A trimmer whose probe also reports used bytes; the trim "collects" down to `live`. */
function growthTrimmer(used: number, live: number) {
  const probe = { written: 0, used };
  let trims = 0;
  const trim = new MemoryTrim({
    activity: () => probe.written,
    slackBytes: () => 0, // no slack: only growth can call for a trim
    usedBytes: () => probe.used,
  }, () => {
    trims++;
    probe.used = live;
  });
  return { trim, probe, trims: () => trims, work: () => probe.written += 100 };
}

Deno.test("a quiet server whose used heap grew past the limit since the start is trimmed, without slack", () => {
  const t = growthTrimmer(20 << 20, 20 << 20);
  t.work();
  t.probe.used += GROWTH_BYTES + 1; // a rush of logins: live objects and their garbage
  assert.equal(t.trim.check(), false, "busy");
  for (let i = 0; i < QUIET_CHECKS; i++) t.trim.check();
  assert.equal(t.trims(), 1);
});

Deno.test("growth is counted from the heap left by the last trim, and small growth is left alone", () => {
  const t = growthTrimmer(20 << 20, 30 << 20);
  t.probe.used = (20 << 20) + GROWTH_BYTES; // exactly the limit: not past it
  for (let i = 0; i < 2 * QUIET_CHECKS; i++) t.trim.check();
  assert.equal(t.trims(), 0, "growth of exactly GROWTH_BYTES");
  t.probe.used += 1;
  t.work();
  for (let i = 0; i <= QUIET_CHECKS; i++) t.trim.check(); // the busy check, then the quiet spell
  assert.equal(t.trims(), 1, "past it");
  // The trim left 30 MiB: the next spell needs growth past that.
  t.work();
  t.probe.used = (30 << 20) + GROWTH_BYTES;
  for (let i = 0; i < 2 * QUIET_CHECKS; i++) t.trim.check();
  assert.equal(t.trims(), 1, "measured from the last trim, not from the start");
  t.work();
  t.probe.used += 1;
  for (let i = 0; i <= QUIET_CHECKS; i++) t.trim.check();
  assert.equal(t.trims(), 2);
});

Deno.test("heapUsed reports V8's used heap bytes", () => {
  const used = heapUsed();
  assert.ok(used > 0 && Number.isFinite(used), `${used}`);
});

Deno.test("Deno's V8 offers the last-resort GC, and it shrinks a grown young generation", async () => {
  const gc = lastResortGc();
  assert.ok(gc, "lastResortGc() found V8's gc");
  const v8 = await import("node:v8");
  const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_size;
  let keep: unknown[] = [];
  for (let round = 0; round < 20; round++) { // survivors make V8 grow the young generation
    const batch = [];
    for (let i = 0; i < 20_000; i++) batch.push({ i, s: `x${i}` });
    keep.push(batch);
  }
  const grown = young();
  keep = [];
  gc();
  assert.ok(young() < grown, `young generation ${young()} bytes after, ${grown} before`);
  assert.ok(heapSlack() >= 0);
  assert.equal(keep.length, 0);
});
