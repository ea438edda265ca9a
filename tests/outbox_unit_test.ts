import assert from "node:assert/strict";
import {
  type ByteSink,
  CHUNK_OVERHEAD,
  flushesRun,
  flushHeldSeconds,
  flushHolds,
  flushPacing,
  Outbox,
  SHARED_CHUNKS,
  SPARE_CHUNK_SLOTS,
  TURN_SLACK,
  writesSent,
} from "../outbox.ts";
import { ByteSlab } from "../byte_slab.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (s: string) => encoder.encode(s);

/**
 * Lets the outbox's flush (scheduled with setImmediate, one event-loop turn
 * later), the writes it starts and any flush they schedule run.
 */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
}

/** A sink that writes everything at once and keeps a copy of each write. */
class RecordingSink implements ByteSink {
  writes: Uint8Array[] = [];
  given: Uint8Array[] = [];
  write(p: Uint8Array): Promise<number> {
    this.given.push(p);
    this.writes.push(p.slice());
    return Promise.resolve(p.length);
  }
  get text(): string[] {
    return this.writes.map((w) => decoder.decode(w));
  }
}

/** A sink that writes at most 3 bytes per call. */
class TrickleSink implements ByteSink {
  writes: Uint8Array[] = [];
  write(p: Uint8Array): Promise<number> {
    const n = Math.min(3, p.length);
    this.writes.push(p.slice(0, n));
    return Promise.resolve(n);
  }
}

/** A sink whose writes finish only when released. */
class GatedSink implements ByteSink {
  writes: string[] = [];
  #pending: (() => void)[] = [];
  write(p: Uint8Array): Promise<number> {
    this.writes.push(decoder.decode(p));
    return new Promise((resolve) => this.#pending.push(() => resolve(p.length)));
  }
  release(): void {
    const next = this.#pending.shift();
    assert.ok(next, "a write to release");
    next();
  }
}

/** An outbox that counts its overflows and errors. */
function outbox(sink: ByteSink, limit = 1024) {
  const events = { overflows: 0, errors: [] as unknown[] };
  const box = new Outbox(sink, limit, {
    overflowed: () => events.overflows++,
    writeFailed: (error) => events.errors.push(error),
  });
  return { box, events };
}

Deno.test("several pushes in one turn are coalesced into one write", async () => {
  const sink = new RecordingSink();
  const { box } = outbox(sink);
  assert.equal(box.push(bytes("one\r\n")), true);
  assert.equal(box.push(bytes("two\r\n")), true);
  assert.equal(box.push(bytes("three\r\n")), true);
  assert.deepEqual(sink.writes, [], "nothing is written before the turn ends");
  await box.drained();
  assert.deepEqual(sink.text, ["one\r\ntwo\r\nthree\r\n"]);
});

Deno.test("a single pushed chunk is written as is, without a copy", async () => {
  const sink = new RecordingSink();
  const { box } = outbox(sink);
  const chunk = bytes("hello");
  box.push(chunk);
  await box.drained();
  assert.equal(sink.given.length, 1);
  assert.equal(sink.given[0], chunk);
});

Deno.test("pushes made while a write is in flight go out together in the next write", async () => {
  const sink = new GatedSink();
  const { box } = outbox(sink);
  box.push(bytes("a"));
  await settle();
  assert.deepEqual(sink.writes, ["a"]);
  box.push(bytes("b"));
  box.push(bytes("c"));
  await settle();
  assert.deepEqual(sink.writes, ["a"], "no second write while the first is in flight");
  sink.release();
  await settle();
  assert.deepEqual(sink.writes, ["a", "bc"]);
  sink.release();
  await box.drained();
  assert.equal(box.size, 0);
});

Deno.test("each outbox pushed in the same turn gets its own single write", async () => {
  const first = new RecordingSink();
  const second = new RecordingSink();
  const a = outbox(first).box;
  const b = outbox(second).box;
  a.push(bytes("1"));
  b.push(bytes("x"));
  a.push(bytes("2"));
  b.push(bytes("y"));
  await Promise.all([a.drained(), b.drained()]);
  assert.deepEqual(first.text, ["12"]);
  assert.deepEqual(second.text, ["xy"]);
});

Deno.test("queue arrays passed from outbox to outbox carry only the new owner's chunks, in order", async () => {
  const sinks = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
  const [a, b, c] = sinks.map((sink) => outbox(sink, 1 << 16).box);
  for (const s of ["1", "2", "3", "4", "5"]) a.push(bytes(s));
  await a.drained(); // a's array goes back to the spares
  b.push(bytes("x"));
  b.push(bytes("y"));
  await b.drained();
  for (const s of ["6", "7"]) a.push(bytes(s));
  for (let i = 0; i < SPARE_CHUNK_SLOTS + 10; i++) c.push(bytes(`${i},`)); // longer than a spare may be
  await Promise.all([a.drained(), c.drained()]);
  c.push(bytes("last"));
  await c.drained();
  assert.deepEqual(sinks[0].text, ["12345", "67"]);
  assert.deepEqual(sinks[1].text, ["xy"]);
  const flood = Array.from({ length: SPARE_CHUNK_SLOTS + 10 }, (_, i) => `${i},`).join("");
  assert.deepEqual(sinks[2].text, [flood, "last"]);
});

Deno.test("teaparty_writes_total counts each write (a partial one too) and teaparty_flushes_total each flush", async () => {
  const whole = new RecordingSink();
  const trickle = new TrickleSink();
  const a = outbox(whole).box;
  const b = outbox(trickle).box;
  const writes = writesSent.value, flushes = flushesRun.value;
  a.push(bytes("one\r\n"));
  a.push(bytes("two\r\n"));
  b.push(bytes("abcdefg")); // 3 + 3 + 1 bytes: three writes
  await Promise.all([a.drained(), b.drained()]);
  assert.deepEqual(whole.text, ["one\r\ntwo\r\n"]);
  assert.equal(writesSent.value - writes, 1 + 3);
  assert.equal(flushesRun.value - flushes, 1, "the two outboxes were written in one flush");
});

Deno.test("partial writes are continued until all bytes are delivered in order", async () => {
  const sink = new TrickleSink();
  const { box, events } = outbox(sink);
  box.push(bytes("hello, "));
  box.push(bytes("world!"));
  await box.drained();
  assert.deepEqual(sink.writes.map((w) => decoder.decode(w)), ["hel", "lo,", " wo", "rld", "!"]);
  assert.deepEqual(events, { overflows: 0, errors: [] });
  assert.equal(box.size, 0);
});

Deno.test("partial writes deliver every byte of a large queue in order", async () => {
  const sink = new TrickleSink();
  const { box } = outbox(sink, 1 << 16);
  const expected: number[] = [];
  for (let i = 0; i < 50; i++) {
    const chunk = new Uint8Array(i + 1).map((_, j) => (i * 7 + j) & 0xff);
    expected.push(...chunk);
    box.push(chunk);
  }
  await box.drained();
  const written = sink.writes.flatMap((w) => [...w]);
  assert.deepEqual(written, expected);
  assert.ok(sink.writes.every((w) => w.length <= 3 && w.length > 0));
});

Deno.test("size counts queued and in-flight bytes", async () => {
  const sink = new GatedSink();
  const { box } = outbox(sink);
  assert.equal(box.size, 0);
  box.push(bytes("abcde"));
  assert.equal(box.size, 5);
  await settle();
  box.push(bytes("fg"));
  assert.equal(box.size, 7, "5 in flight and 2 queued");
  sink.release();
  await settle();
  assert.equal(box.size, 2);
  sink.release();
  await box.drained();
  assert.equal(box.size, 0);
});

Deno.test("a push that fills the outbox exactly to its limit is accepted", async () => {
  const sink = new RecordingSink();
  const { box, events } = outbox(sink, 10 + 2 * CHUNK_OVERHEAD);
  assert.equal(box.push(bytes("12345")), true);
  assert.equal(box.push(bytes("67890")), true);
  await box.drained();
  assert.deepEqual(sink.text, ["1234567890"]);
  assert.equal(events.overflows, 0);
});

Deno.test("with no write waiting on the client, the push that passes TURN_SLACK times the limit overflows, once", async () => {
  const sink = new RecordingSink();
  const limit = 10 + 2 * CHUNK_OVERHEAD;
  const { box, events } = outbox(sink, limit);
  const chunk = bytes("123456");
  let pushed = 0;
  while (box.push(chunk)) pushed++;
  assert.equal(pushed, Math.floor((TURN_SLACK * limit) / (chunk.length + CHUNK_OVERHEAD)));
  assert.ok(pushed * (chunk.length + CHUNK_OVERHEAD) > limit, "one turn's output may pass the limit itself");
  assert.equal(events.overflows, 1);
  assert.equal(box.push(bytes("x")), false);
  assert.equal(box.push(bytes("")), false);
  assert.equal(events.overflows, 1);
  await settle();
  assert.deepEqual(sink.writes, [], "the queued bytes are dropped");
  assert.equal(box.size, 0);
});

Deno.test("behind a write still waiting on the client, the queue may hold only the limit", async () => {
  const sink = new GatedSink();
  const { box, events } = outbox(sink, 10 + CHUNK_OVERHEAD);
  box.push(bytes("12345678"));
  await settle();
  assert.deepEqual(sink.writes, ["12345678"]); // the write waits: the client is not reading
  assert.equal(box.push(bytes("abcdefghij")), true);
  assert.equal(events.overflows, 0);
  assert.equal(box.push(bytes("k")), false);
  assert.equal(events.overflows, 1);
});

Deno.test("a turn's output taken by a write that then waits leaves room behind it only up to TURN_SLACK times the limit in all", async () => {
  const sink = new GatedSink();
  const limit = 1000;
  const { box, events } = outbox(sink, limit);
  const big = new Uint8Array(3500 - CHUNK_OVERHEAD);
  assert.equal(box.push(big), true, "3.5 limits in one turn, no write waiting");
  await settle();
  assert.equal(sink.writes.length, 1); // the write waits: the client is not reading
  assert.equal(box.push(new Uint8Array(300 - CHUNK_OVERHEAD)), true, "3.8 limits in all");
  assert.equal(events.overflows, 0);
  assert.equal(box.push(new Uint8Array(300 - CHUNK_OVERHEAD)), false, "4.1 limits in all");
  assert.equal(events.overflows, 1);
});

Deno.test("tiny chunks count their own memory: a flood of 3-byte chunks meets the limit long before 3 bytes each would", () => {
  const sink = new GatedSink();
  const limit = 64 * 1024;
  const { box, events } = outbox(sink, limit);
  let pushed = 0;
  while (box.push(bytes("abc"))) pushed++;
  assert.equal(events.overflows, 1);
  assert.ok(pushed <= (TURN_SLACK * limit) / (3 + CHUNK_OVERHEAD), `${pushed} chunks of 3 bytes were queued`);
});

Deno.test("a failed write calls onError once with the error and closes the outbox", async () => {
  const failure = new Error("connection reset");
  let calls = 0;
  const sink: ByteSink = {
    write() {
      calls++;
      return Promise.reject(failure);
    },
  };
  const { box, events } = outbox(sink);
  box.push(bytes("hello"));
  await box.drained();
  assert.deepEqual(events, { overflows: 0, errors: [failure] });
  assert.equal(box.push(bytes("more")), false);
  await settle();
  assert.equal(calls, 1);
  assert.deepEqual(events, { overflows: 0, errors: [failure] });
});

Deno.test("a write that throws at once calls onError once and does not stop other outboxes", async () => {
  const failure = new Error("bad resource");
  const sink: ByteSink = {
    write() {
      throw failure;
    },
  };
  const { box, events } = outbox(sink);
  const other = new RecordingSink();
  const { box: otherBox } = outbox(other);
  box.push(bytes("hello"));
  otherBox.push(bytes("still here"));
  box.push(bytes("world"));
  await box.drained();
  await otherBox.drained();
  await settle();
  assert.deepEqual(events.errors, [failure]);
  assert.equal(box.push(bytes("more")), false);
  assert.deepEqual(other.text, ["still here"]);
});

Deno.test("drained() resolves only after the queued bytes are written", async () => {
  const sink = new GatedSink();
  const { box } = outbox(sink);
  const order: string[] = [];
  box.push(bytes("a"));
  const drained = box.drained().then(() => order.push("drained"));
  await settle();
  assert.equal(order.length, 0);
  box.push(bytes("b"));
  order.push("release a");
  sink.release();
  await settle();
  assert.deepEqual(order, ["release a"], "b is still queued");
  order.push("release b");
  sink.release();
  await drained;
  assert.deepEqual(order, ["release a", "release b", "drained"]);
  assert.deepEqual(sink.writes, ["a", "b"]);
});

Deno.test("drained() resolves at once when nothing is queued", async () => {
  const { box } = outbox(new RecordingSink());
  let done = false;
  const drained = box.drained().then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(done, true);
  await drained;
});

Deno.test("closing drops queued bytes, wakes drained() and refuses later pushes", async () => {
  const sink = new RecordingSink();
  const { box, events } = outbox(sink);
  box.push(bytes("never sent"));
  const drained = box.drained();
  box.close();
  await drained;
  await settle();
  assert.deepEqual(sink.writes, []);
  assert.equal(box.push(bytes("x")), false);
  assert.deepEqual(events, { overflows: 0, errors: [] });
});

Deno.test("outboxes given the same chunks in a flush share one joined buffer; others get their own", async () => {
  const [one, two, three] = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
  const a = outbox(one).box;
  const b = outbox(two).box;
  const c = outbox(three).box;
  const hello = bytes("hello\r\n");
  const world = bytes("world\r\n");
  for (const box of [a, b]) {
    box.push(hello);
    box.push(world);
  }
  c.push(hello);
  c.push(bytes("other\r\n"));
  await Promise.all([a.drained(), b.drained(), c.drained()]);
  assert.equal(one.given.length, 1);
  assert.equal(one.given[0], two.given[0], "the same buffer object for the same chunks");
  assert.notEqual(three.given[0], one.given[0]);
  assert.deepEqual([one.text, two.text, three.text], [["hello\r\nworld\r\n"], ["hello\r\nworld\r\n"], [
    "hello\r\nother\r\n",
  ]]);
});

Deno.test("a flush that pacing holds back is counted in teaparty_flush_holds_total and _held_seconds_total", async () => {
  const saved = { budget: flushPacing.budgetMs, share: flushPacing.cpuShare };
  flushPacing.budgetMs = 5;
  flushPacing.cpuShare = 0.01; // sustained load is always over this share: the budget limits the hold
  const holds = flushHolds.value, held = flushHeldSeconds.value;
  // Every write takes 2 ms, and its end brings more output at once: a backlog that grows.
  const busy: ByteSink = {
    write(p) {
      const until = performance.now() + 2;
      while (performance.now() < until) { /* the write's work */ }
      return Promise.resolve(p.length);
    },
  };
  const { box } = outbox(busy, 1 << 20);
  try {
    for (let i = 0; i < 100 && flushHolds.value === holds; i++) {
      box.push(bytes(`line ${i}\n`));
      await box.drained();
    }
    assert.equal(flushHolds.value, holds + 1, "one flush was held back");
    const seconds = flushHeldSeconds.value - held;
    assert.ok(seconds > 0 && seconds <= 0.005, `held ${seconds} s, at most the 5 ms budget`);
  } finally {
    box.close();
    flushPacing.budgetMs = saved.budget;
    flushPacing.cpuShare = saved.share;
    // (The pacer counts this load as growing until output comes later after a flush than the flush took.)
  }
});

Deno.test("lines rendered one after another into a slab go out as one view of the slab, not a copy", async () => {
  const sink = new RecordingSink();
  const { box } = outbox(sink);
  const slab = new ByteSlab();
  const one = slab.encode("one\r\n");
  const two = slab.encode("two\r\n");
  const three = slab.encode("three\r\n");
  box.push(one);
  box.push(two, one);
  box.push(three, two);
  await box.drained();
  assert.deepEqual(sink.text, ["one\r\ntwo\r\nthree\r\n"]);
  assert.equal(sink.given[0].buffer, one.buffer, "written from the slab itself");
  assert.equal(sink.given[0].byteOffset, one.byteOffset);
});

Deno.test("bytes that do not follow the last ones pushed start a new chunk, in order", async () => {
  const sink = new RecordingSink();
  const { box } = outbox(sink);
  const slab = new ByteSlab();
  const one = slab.encode("one\r\n");
  const two = slab.encode("two\r\n"); // skipped by this receiver (it ignores the sender)
  const three = slab.encode("three\r\n");
  const four = slab.encode("four\r\n");
  box.push(one);
  box.push(three, two);
  box.push(bytes("[notice]\r\n")); // not from the slab
  box.push(four, three); // follows three, but three was not the last pushed
  await box.drained();
  assert.deepEqual(sink.text, ["one\r\nthree\r\n[notice]\r\nfour\r\n"]);
});

Deno.test("a run of lines goes on after an earlier chunk and stays in order with what follows it", async () => {
  const sink = new RecordingSink();
  const { box } = outbox(sink);
  const slab = new ByteSlab();
  box.push(bytes("hello\r\n"));
  const a = slab.encode("a\r\n");
  const b = slab.encode("b\r\n");
  box.push(a);
  box.push(b, a);
  box.push(bytes("bye\r\n"));
  await box.drained();
  assert.deepEqual(sink.text, ["hello\r\na\r\nb\r\nbye\r\n"]);
});

Deno.test("outboxes given the same run of slab lines in a flush write the same view", async () => {
  const [one, two] = [new RecordingSink(), new RecordingSink()];
  const a = outbox(one).box;
  const b = outbox(two).box;
  const slab = new ByteSlab();
  const x = slab.encode("x\r\n");
  const y = slab.encode("y\r\n");
  for (const box of [a, b]) {
    box.push(x);
    box.push(y, x);
  }
  await Promise.all([a.drained(), b.drained()]);
  assert.equal(one.given[0], two.given[0]);
  assert.deepEqual([one.text, two.text], [["x\r\ny\r\n"], ["x\r\ny\r\n"]]);
});

Deno.test("bytes that lengthen a run cost no chunk overhead: the limit counts the run's bytes once", () => {
  const limit = 40 * CHUNK_OVERHEAD;
  const slab = new ByteSlab();
  const apart = outbox(new RecordingSink(), limit);
  const run = outbox(new RecordingSink(), limit);
  let last: Uint8Array | undefined;
  for (let i = 0; i < 200; i++) {
    const line = slab.encode("abc");
    apart.box.push(line); // each its own chunk
    run.box.push(line, last);
    last = line;
  }
  assert.equal(apart.events.overflows, 1, "200 chunks of 3 bytes pass 4 × 40 chunks' overhead");
  assert.equal(run.events.overflows, 0, "one run of 600 bytes does not");
  run.box.close();
});

Deno.test("behind a write still waiting on the client, chunks past SHARED_CHUNKS are copies, not views that keep a slab alive", async () => {
  const sink = new GatedSink();
  const { box } = outbox(sink, 1 << 20);
  box.push(bytes("first\r\n")); // written, and the write waits on the client
  await settle();
  assert.deepEqual(sink.writes, ["first\r\n"]);
  const sources = Array.from({ length: SHARED_CHUNKS + 2 }, (_, i) => new ByteSlab().encode(`line ${i}\r\n`));
  for (const source of sources) box.push(source); // each from its own slab
  const more = new ByteSlab();
  const a = more.encode("a\r\n");
  const b = more.encode("b\r\n");
  box.push(a);
  box.push(b, a); // follows a in memory, but a was queued as a copy: b is a chunk of its own
  for (const source of [...sources, a, b]) source.fill(0x3f); // "?": what a view still shows, a copy does not
  sink.release();
  await settle();
  sink.release();
  await box.drained();
  const kept = sources.slice(0, SHARED_CHUNKS).map((view) => "?".repeat(view.length)).join("");
  const copied = Array.from({ length: 2 }, (_, i) => `line ${SHARED_CHUNKS + i}\r\n`).join("");
  assert.deepEqual(sink.writes, ["first\r\n", kept + copied + "a\r\nb\r\n"]);
});
