import assert from "node:assert/strict";
import { TokenBucket } from "../rate.ts";

function takes(bucket: TokenBucket, count: number, now: number): number[] {
  return Array.from({ length: count }, () => bucket.take(now));
}

Deno.test("a full bucket lets a burst through without waiting", () => {
  const bucket = new TokenBucket(5, 10, 0);
  assert.deepEqual(takes(bucket, 10, 0), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("after the burst each line waits 1000/rate ms more than the one before", () => {
  const bucket = new TokenBucket(5, 10, 0);
  takes(bucket, 10, 0);
  assert.deepEqual(takes(bucket, 3, 0), [200, 400, 600]);
});

Deno.test("a line that waited has spent its token, so the next one waits 1000/rate ms", () => {
  const bucket = new TokenBucket(4, 2, 0);
  assert.deepEqual(takes(bucket, 3, 0), [0, 0, 250]);
  assert.equal(bucket.take(250), 250);
  assert.equal(bucket.take(500), 250);
});

Deno.test("tokens come back at rate per second", () => {
  const bucket = new TokenBucket(5, 10, 0);
  takes(bucket, 10, 0);
  assert.deepEqual(takes(bucket, 6, 1000), [0, 0, 0, 0, 0, 200]);
});

Deno.test("the bucket never holds more than burst tokens", () => {
  const bucket = new TokenBucket(5, 10, 0);
  assert.deepEqual(takes(bucket, 11, 1_000_000), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200]);
});

Deno.test("the wait is 1000/rate ms for other rates", () => {
  const bucket = new TokenBucket(2, 1, 0);
  assert.deepEqual(takes(bucket, 3, 0), [0, 500, 1000]);
});

Deno.test("rate 0 never waits", () => {
  const bucket = new TokenBucket(0, 1, 0);
  assert.deepEqual(takes(bucket, 1000, 0), new Array(1000).fill(0));
});

Deno.test("a burst below 1 still lets one line through", () => {
  const bucket = new TokenBucket(1, 0, 0);
  assert.deepEqual(takes(bucket, 2, 0), [0, 1000]);
});
