import assert from "node:assert/strict";
import {
  type ByteSource,
  freeSlotCount,
  IDLE_BUFFER,
  LineReader,
  type LineReaderOptions,
  readLines,
  SHRINK_AFTER,
  TOO_LONG,
} from "../line_reader.ts";
import { TelnetFilter } from "../telnet.ts";

type Chunk = string | number[] | Uint8Array;

const encoder = new TextEncoder();

function bytes(chunk: Chunk): Uint8Array {
  if (typeof chunk === "string") return encoder.encode(chunk);
  return chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
}

/**
 * A source that hands out the given chunks, one per read (a chunk larger
 * than the buffer it is given is handed out over several reads), and records
 * the size of every buffer it is given.
 */
class ChunkSource implements ByteSource {
  #chunks: Uint8Array[];
  readonly sizes: number[] = [];
  constructor(chunks: Chunk[]) {
    this.#chunks = chunks.map(bytes);
  }
  read(p: Uint8Array): Promise<number | null> {
    this.sizes.push(p.length);
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks.unshift(chunk.subarray(n));
    return Promise.resolve(n);
  }
  get reads(): number {
    return this.sizes.length;
  }
}

async function collect(
  source: ByteSource,
  options: LineReaderOptions = { maxLine: 4096 },
): Promise<(string | typeof TOO_LONG)[]> {
  const lines: (string | typeof TOO_LONG)[] = [];
  for await (const line of readLines(source, options)) lines.push(line);
  return lines;
}

function lines(chunks: Chunk[], options?: LineReaderOptions) {
  return collect(new ChunkSource(chunks), options);
}

/** Every way to cut `data` into two chunks. */
function twoWaySplits(data: Uint8Array): Uint8Array[][] {
  const splits: Uint8Array[][] = [];
  for (let at = 1; at < data.length; at++) splits.push([data.subarray(0, at), data.subarray(at)]);
  return splits;
}

function oneByteChunks(data: Uint8Array): Uint8Array[] {
  return [...data].map((b) => new Uint8Array([b]));
}

Deno.test("LF ends a line", async () => {
  assert.deepEqual(await lines(["one\ntwo\n"]), ["one", "two"]);
});

Deno.test("CR LF ends a line once", async () => {
  assert.deepEqual(await lines(["one\r\ntwo\r\n"]), ["one", "two"]);
});

Deno.test("CR NUL ends a line once", async () => {
  assert.deepEqual(await lines([[111, 110, 101, 13, 0, 116, 119, 111, 13, 0]]), ["one", "two"]);
});

Deno.test("a lone CR ends a line", async () => {
  assert.deepEqual(await lines(["one\rtwo\rthree\n"]), ["one", "two", "three"]);
});

Deno.test("empty lines are yielded as empty strings, whatever their line end", async () => {
  assert.deepEqual(await lines(["\n\r\n\r\0\ra\n"]), ["", "", "", "", "a"]);
});

Deno.test("a CR at the end of a chunk waits for the next byte", async () => {
  assert.deepEqual(await lines(["one\r", "\ntwo\n"]), ["one", "two"]);
  assert.deepEqual(await lines(["one\r", [0], "two\n"]), ["one", "two"]);
  assert.deepEqual(await lines(["one\r", "two\n"]), ["one", "two"]);
});

Deno.test("a line ended by a CR at a chunk end is yielded at once, before the next read", async () => {
  const source = new ChunkSource(["one\r", "\ntwo\n"]);
  const readsWhenYielded: number[] = [];
  for await (const _ of readLines(source, { maxLine: 100 })) readsWhenYielded.push(source.reads);
  assert.deepEqual(readsWhenYielded, [1, 2]);
});

Deno.test("a CR at the end of the input ends the last line", async () => {
  assert.deepEqual(await lines(["one\r"]), ["one"]);
  assert.deepEqual(await lines(["one\n\r"]), ["one", ""]);
});

Deno.test("the last line without a line end is still yielded at end of input", async () => {
  assert.deepEqual(await lines(["one\ntwo"]), ["one", "two"]);
  assert.deepEqual(await lines(["tw", "o"]), ["two"]);
});

Deno.test("an input without bytes yields no lines", async () => {
  assert.deepEqual(await lines([]), []);
});

Deno.test("every line end gives the same lines however the input is cut into reads", async () => {
  const data = encoder.encode("a\r\nbb\r\0ccc\rdd\n\ne\r\r\nf");
  const expected = ["a", "bb", "ccc", "dd", "", "e", "", "f"];
  assert.deepEqual(await lines([data]), expected);
  assert.deepEqual(await lines(oneByteChunks(data)), expected);
  for (const split of twoWaySplits(data)) assert.deepEqual(await lines(split), expected);
});

Deno.test("multibyte UTF-8 split across reads is decoded whole", async () => {
  const data = encoder.encode("茶 🍵 é\n");
  assert.deepEqual(await lines(oneByteChunks(data)), ["茶 🍵 é"]);
  for (const split of twoWaySplits(data)) assert.deepEqual(await lines(split), ["茶 🍵 é"]);
});

Deno.test("invalid UTF-8 becomes U+FFFD", async () => {
  assert.deepEqual(await lines([[0x61, 0xff, 0x62, 0x0a]]), ["a\uFFFDb"]);
  // A sequence cut short by the line end: the line is decoded on its own.
  assert.deepEqual(await lines([[0xe8, 0x8c, 0x0a, 0x61, 0x0a]]), ["\uFFFD", "a"]);
});

Deno.test("a line of exactly maxLine bytes passes", async () => {
  assert.deepEqual(await lines(["12345678\nok\n"], { maxLine: 8 }), ["12345678", "ok"]);
  assert.deepEqual(await lines(["1234", "5678\r", "\n"], { maxLine: 8 }), ["12345678"]);
  assert.deepEqual(await lines(["12345678"], { maxLine: 8 }), ["12345678"]);
});

Deno.test("maxLine counts bytes, not characters", async () => {
  // "茶茶茶" is 9 bytes.
  assert.deepEqual(await lines(["茶茶茶\n茶茶\n"], { maxLine: 8 }), [TOO_LONG, "茶茶"]);
});

Deno.test("a line of maxLine + 1 bytes yields TOO_LONG in its place", async () => {
  assert.deepEqual(await lines(["123456789\nok\n"], { maxLine: 8 }), [TOO_LONG, "ok"]);
  assert.deepEqual(await lines(["ok\n123456789"], { maxLine: 8 }), ["ok", TOO_LONG]);
});

Deno.test("a too-long line spread over many reads yields TOO_LONG once and is skipped to its end", async () => {
  const chunks: string[] = [];
  for (let i = 0; i < 50; i++) chunks.push("x".repeat(7));
  chunks.push("tail\nnext\n");
  assert.deepEqual(await lines(chunks, { maxLine: 16, initialBuffer: 8 }), [TOO_LONG, "next"]);
});

Deno.test("a too-long line ended by a CR at a chunk end does not swallow the next line", async () => {
  const long = "x".repeat(20);
  const options = { maxLine: 8, initialBuffer: 64 };
  assert.deepEqual(await lines([long + "\r", "next\n"], options), [TOO_LONG, "next"]);
  assert.deepEqual(await lines([long + "\r", [0], "next\n"], options), [TOO_LONG, "next"]);
  assert.deepEqual(await lines([long + "\r", "\nnext\n"], options), [TOO_LONG, "next"]);
  assert.deepEqual(await lines([long + "\r"], options), [TOO_LONG]);
});

Deno.test("an endless line does not grow the buffer beyond its limit", async () => {
  let reads = 0;
  const sizes: number[] = [];
  const endless: ByteSource = {
    read(p) {
      sizes.push(p.length);
      if (++reads > 500) return Promise.resolve(null);
      p.fill(0x78); // a busy sender: every read fills the buffer
      return Promise.resolve(p.length);
    },
  };
  const result = await collect(endless, { maxLine: 100, initialBuffer: 16, maxBuffer: 256 });
  assert.deepEqual(result, [TOO_LONG]);
  assert.equal(sizes.length, 501);
  assert.ok(Math.max(...sizes) <= 256, `largest buffer given to read: ${Math.max(...sizes)}`);
  assert.ok(Math.min(...sizes) > 0, "every read is given room for at least one byte");
});

Deno.test("an endless line is reported as TOO_LONG by the read that takes it past maxLine", async () => {
  let reads = 0;
  let delivered = 0;
  let lastRead = 0;
  const reports: { delivered: number; lastRead: number }[] = [];
  const endless: ByteSource = {
    read(p) {
      if (++reads > 500) return Promise.resolve(null);
      p.fill(0x78);
      delivered += lastRead = p.length;
      return Promise.resolve(p.length);
    },
  };
  for await (const line of readLines(endless, { maxLine: 100, initialBuffer: 16, maxBuffer: 256 })) {
    assert.equal(line, TOO_LONG);
    reports.push({ delivered, lastRead });
  }
  assert.equal(reports.length, 1);
  const [{ delivered: total, lastRead: last }] = reports;
  assert.ok(total > 100 && total - last <= 100, `reported after ${total} bytes, the last read bringing ${last}`);
});

Deno.test("an endless line stays within the default 64 KiB buffer", async () => {
  let reads = 0;
  let largest = 0;
  const endless: ByteSource = {
    read(p) {
      largest = Math.max(largest, p.length);
      if (++reads > 200) return Promise.resolve(null);
      p.fill(0x78);
      return Promise.resolve(p.length);
    },
  };
  assert.deepEqual(await collect(endless, { maxLine: 4096 }), [TOO_LONG]);
  assert.ok(largest <= 65536, `largest buffer given to read: ${largest}`);
});

Deno.test("a line of maxLine bytes passes even when maxLine is larger than maxBuffer", async () => {
  const line = "y".repeat(1000);
  const chunks = [line.slice(0, 300), line.slice(300, 700), line.slice(700) + "\n"];
  assert.deepEqual(await lines(chunks, { maxLine: 1000, initialBuffer: 16, maxBuffer: 64 }), [line]);
});

Deno.test("many lines arriving in small and large reads are all yielded in order", async () => {
  const expected = Array.from({ length: 300 }, (_, i) => `line ${i} ${"z".repeat(i % 37)}`);
  const data = encoder.encode(expected.join("\r\n") + "\r\n");
  const chunks: Uint8Array[] = [];
  for (let at = 0, size = 1; at < data.length; at += size, size = (size * 7) % 1500 + 1) {
    chunks.push(data.subarray(at, at + size));
  }
  assert.deepEqual(await lines(chunks, { maxLine: 100, initialBuffer: 32 }), expected);
});

Deno.test("the telnet filter removes commands before lines are split", async () => {
  const replies: number[][] = [];
  const telnet = new TelnetFilter((b) => replies.push([...b]));
  // "h" IAC WILL NAWS "i" LF, then IAC DO 10 (an option byte that looks like LF) inside "abc".
  const data = [104, 255, 251, 31, 105, 10, 97, 98, 255, 253, 10, 99, 10];
  assert.deepEqual(await lines([data], { maxLine: 100, telnet }), ["hi", "abc"]);
  assert.deepEqual(replies, [[255, 254, 31], [255, 252, 10]]);
});

Deno.test("the telnet filter keeps its state across reads", async () => {
  const data = [104, 255, 250, 31, 0, 10, 0, 13, 255, 240, 105, 10]; // "h" IAC SB NAWS 10×13 IAC SE "i" LF
  for (let at = 1; at < data.length; at++) {
    const telnet = new TelnetFilter(() => {});
    const chunks = [data.slice(0, at), data.slice(at)];
    assert.deepEqual(await lines(chunks, { maxLine: 100, telnet }), ["hi"], `split at ${at}`);
  }
});

Deno.test("telnet erase character and erase line reach the line as backspace and Ctrl-U", async () => {
  const telnet = new TelnetFilter(() => {});
  const data = [97, 98, 255, 247, 99, 255, 248, 100, 10]; // "ab" IAC EC "c" IAC EL "d" LF
  assert.deepEqual(await lines([data], { maxLine: 100, telnet }), ["ab\bc\x15d"]);
});

/** A source whose reads wait until the test answers them: `answer(text)` fills the pending read, `end()` ends it. */
class HeldSource implements ByteSource {
  pending: { p: Uint8Array; resolve: (n: number | null) => void; reject: (e: unknown) => void } | undefined;
  read(p: Uint8Array): Promise<number | null> {
    return new Promise((resolve, reject) => this.pending = { p, resolve, reject });
  }
  answer(text: string): void {
    const bytes = encoder.encode(text);
    const { p, resolve } = this.pending!;
    this.pending = undefined;
    p.set(bytes);
    resolve(bytes.length);
  }
  fail(error: Error): void {
    const { reject } = this.pending!;
    this.pending = undefined;
    reject(error);
  }
}

/** A LineReader on a HeldSource; `arrived()` resolves at the listener's next call. */
function heldReader(options: LineReaderOptions = { maxLine: 1000 }) {
  const source = new HeldSource();
  let wake = () => {};
  let failed: unknown;
  const reader = new LineReader(source, options, {
    linesArrived: () => wake(),
    readFailed: (error) => {
      failed = error;
      wake();
    },
  });
  const arrived = () => new Promise<void>((resolve) => wake = resolve);
  const take = () => {
    const out: (string | typeof TOO_LONG)[] = [];
    for (let line = reader.next(); line !== undefined; line = reader.next()) out.push(line);
    return out;
  };
  return { source, reader, arrived, take, failed: () => failed };
}

Deno.test("an idle reader's buffer is a shared slot, given back when the reader closes", async () => {
  const r = heldReader();
  r.reader.read();
  assert.equal(r.source.pending!.p.length, IDLE_BUFFER);
  assert.ok(r.source.pending!.p.buffer.byteLength > IDLE_BUFFER, "a view on a larger slab");
  const arrived = r.arrived();
  r.source.answer("hi\n");
  await arrived;
  assert.deepEqual(r.take(), ["hi"]);
  const free = freeSlotCount();
  r.reader.close();
  assert.equal(freeSlotCount(), free + 1);
  r.reader.close();
  assert.equal(freeSlotCount(), free + 1, "closing twice gives it back once");
});

Deno.test("a reader closed during a read gives its slot back only when the read is over", async () => {
  const r = heldReader();
  r.reader.read();
  const held = r.source.pending!;
  const free = freeSlotCount();
  r.reader.close();
  assert.equal(freeSlotCount(), free, "the pending read may still write into it");
  const other = heldReader(); // takes a slot meanwhile: never the one still being read into
  other.reader.read();
  assert.notEqual(other.source.pending!.p.byteOffset, held.p.byteOffset);
  r.source.fail(new Error("connection closed"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(freeSlotCount(), free + 1);
  assert.equal(r.failed(), undefined, "a closed reader's listener is not told again");
  other.reader.close();
});

Deno.test("a reader that grows gives its slot back, and takes a slot again after SHRINK_AFTER small reads", async () => {
  const r = heldReader();
  r.reader.read();
  let arrived = r.arrived();
  const free = freeSlotCount();
  r.source.answer("x".repeat(IDLE_BUFFER)); // fills the buffer: a busy connection
  await arrived;
  assert.equal(freeSlotCount(), free + 1, "the slot went back when the buffer grew");
  assert.deepEqual(r.take(), []);
  r.reader.read();
  assert.equal(r.source.pending!.p.buffer.byteLength, 2 * IDLE_BUFFER, "its own bigger buffer");
  arrived = r.arrived();
  r.source.answer("\n");
  await arrived;
  assert.deepEqual(r.take(), ["x".repeat(IDLE_BUFFER)]);
  for (let i = 1; i < SHRINK_AFTER; i++) { // a busy sender's short reads: the buffer stays
    r.reader.read();
    assert.equal(r.source.pending!.p.length, 2 * IDLE_BUFFER, `still its own buffer after ${i} small reads`);
    arrived = r.arrived();
    r.source.answer(`line ${i}\n`);
    await arrived;
    assert.deepEqual(r.take(), [`line ${i}`]);
  }
  r.reader.read(); // SHRINK_AFTER small reads in a row: back to an idle buffer, a slot
  assert.equal(r.source.pending!.p.length, IDLE_BUFFER);
  assert.ok(r.source.pending!.p.buffer.byteLength > IDLE_BUFFER);
  r.reader.close();
});

Deno.test("many readers on shared slabs each get their own bytes", async () => {
  const readers = Array.from({ length: 1200 }, () => heldReader()); // more than two slabs
  for (const r of readers) r.reader.read();
  const arrivals = readers.map((r) => r.arrived());
  readers.forEach((r, i) => r.source.answer(`line ${i} ${"y".repeat(i % 90)}\n`));
  await Promise.all(arrivals);
  readers.forEach((r, i) => assert.deepEqual(r.take(), [`line ${i} ${"y".repeat(i % 90)}`]));
  for (const r of readers) r.reader.close();
});
