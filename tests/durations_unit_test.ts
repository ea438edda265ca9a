import assert from "node:assert/strict";
import {
  describeBan,
  describeUntil,
  formatDuration,
  MAX_DURATION_MS,
  parseBanArgs,
  parseDuration,
  parseMuteArgs,
  readDuration,
} from "../moderation.ts";
import { formatTime } from "../format.ts";

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const WEEK = 604_800_000;

Deno.test("the longest duration is 52 weeks, and 52w is accepted", () => {
  assert.equal(MAX_DURATION_MS, 52 * WEEK);
  assert.deepEqual(readDuration("52w"), { ms: 52 * WEEK });
  assert.deepEqual(readDuration("51w6d23h59m59s"), { ms: 52 * WEEK - 1000 });
});

Deno.test("a duration longer than 52w is refused, saying the longest and how to ban for good", () => {
  for (const word of ["53w", "52w1s", "365d", "99999999999w", "9".repeat(400) + "s"]) {
    const read = readDuration(word);
    assert.ok("error" in read, word);
    assert.match(read.error, /is longer than 52w, the longest; leave the duration out for good$/, word);
    assert.equal(parseDuration(word), undefined, word);
  }
});

Deno.test("a huge duration is clipped in the message, never shown whole", () => {
  const read = readDuration("9".repeat(400) + "s");
  assert.ok("error" in read);
  assert.ok(read.error.length < 120, read.error);
});

Deno.test("zero is refused as no time at all", () => {
  for (const word of ["0s", "0m0s", "00h"]) {
    assert.deepEqual(readDuration(word), { error: `"${word}" is no time at all: use 30s, 10m, 2h, 1d or 1w` });
  }
});

Deno.test("a number without a unit and an unknown unit are refused with the accepted forms", () => {
  assert.deepEqual(readDuration("10"), { error: `"10" needs a unit: 30s, 10m, 2h, 1d or 1w` });
  for (const word of ["5x", "1h30", "1.5h", "-1h", "2hours"]) {
    const read = readDuration(word);
    assert.ok("error" in read, word);
    assert.equal(read.error, `"${word}" is not a duration: use 30s, 10m, 2h, 1d or 1w, or combined (1h30m)`);
  }
});

Deno.test("/ban arguments: a duration and a reason, a reason alone, or nothing", () => {
  assert.deepEqual(parseBanArgs("2h spamming links", NOW), { until: NOW + 7_200_000, reason: "spamming links" });
  assert.deepEqual(parseBanArgs("1h30m", NOW), { until: NOW + 5_400_000, reason: "" });
  assert.deepEqual(parseBanArgs("repeated abuse", NOW), { until: null, reason: "repeated abuse" });
  assert.deepEqual(parseBanArgs("", NOW), { until: null, reason: "" });
  assert.deepEqual(parseBanArgs("  ", NOW), { until: null, reason: "" });
});

Deno.test("/ban: a first word that starts with a digit must be a valid duration, never a reason", () => {
  for (const text of ["5x", "0s", "10", "5x spam", "0s spam", "99999999999w", "3 times spam"]) {
    const parsed = parseBanArgs(text, NOW);
    assert.ok("error" in parsed, `${text} was accepted: ${JSON.stringify(parsed)}`);
  }
  assert.deepEqual(parseBanArgs("10 spam", NOW), { error: `"10" needs a unit: 30s, 10m, 2h, 1d or 1w` });
  const withReason = parseBanArgs("5x spam", NOW);
  assert.ok("error" in withReason);
  assert.match(withReason.error, /^"5x" is not a duration: .* \(a reason cannot start with a digit\)$/);
});

Deno.test("/mute arguments: nothing for good, or a valid duration", () => {
  assert.deepEqual(parseMuteArgs("", NOW), { until: null });
  assert.deepEqual(parseMuteArgs("10m", NOW), { until: NOW + 600_000 });
  assert.deepEqual(parseMuteArgs("10", NOW), { error: `"10" is not a duration: use 30s, 10m, 2h, 1d or 1w` });
  for (const word of ["5x", "0s", "53w", "soon"]) assert.ok("error" in parseMuteArgs(word, NOW), word);
});

Deno.test("describeUntil, describeBan and formatTime never throw, whatever is stored", () => {
  const values = [NOW + 1e20, 8.64e15 + 1, -8.64e15 - 1, NaN, Infinity, -Infinity, Number.MAX_VALUE, 0, -1];
  for (const until of values) {
    assert.doesNotThrow(() => describeUntil(until, NOW), String(until));
    assert.doesNotThrow(() => describeBan({ until, reason: "x" }, NOW), String(until));
    assert.doesNotThrow(() => formatTime(until), String(until));
    assert.doesNotThrow(() => formatDuration(until - NOW), String(until));
  }
  assert.equal(describeUntil(NOW + 1e20, NOW), "for good");
  assert.equal(describeBan({ until: NaN, reason: "spam" }, NOW), "for good: spam");
  assert.equal(formatTime(NaN), "");
});

Deno.test("describeUntil still says the end time of an ordinary ban", () => {
  assert.equal(describeUntil(NOW + 52 * WEEK, NOW), "until 2027-01-01 03:04:05 UTC (52w from now)");
});
