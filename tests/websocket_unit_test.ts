import assert from "node:assert/strict";
import {
  acceptKey,
  type ByteSource,
  type ClientClose,
  closeFrame,
  type MessageReaderOptions,
  pingFrame,
  pongFrame,
  readMessages,
  textFrame,
  upgradeResponse,
  WebSocketClose,
} from "../wire/websocket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A client frame: masked (unless `masked` is false), FIN unless `fin` is false. */
function clientFrame(
  opcode: number,
  payload: Uint8Array | string,
  { fin = true, masked = true, rsv = 0, mask = [0x37, 0xfa, 0x21, 0x3d] } = {},
): Uint8Array {
  const data = typeof payload === "string" ? encoder.encode(payload) : payload;
  const n = data.length;
  const lengthBytes = n < 126 ? [n] : n < 65536 ? [126, n >> 8, n & 0xff] : [127, 0, 0, 0, 0, ...u32(n)];
  const head = [(fin ? 0x80 : 0) | rsv | opcode, (masked ? 0x80 : 0) | lengthBytes[0], ...lengthBytes.slice(1)];
  if (masked) head.push(...mask);
  const out = new Uint8Array(head.length + n);
  out.set(head);
  for (let i = 0; i < n; i++) out[head.length + i] = masked ? data[i] ^ mask[i & 3] : data[i];
  return out;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Hands out the given chunks, one per read, and records the size of every buffer it is given. */
class ChunkSource implements ByteSource {
  #chunks: Uint8Array[];
  readonly sizes: number[] = [];
  constructor(chunks: Uint8Array[]) {
    this.#chunks = [...chunks];
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
  get left(): number {
    return this.#chunks.length;
  }
}

interface Outcome {
  messages: string[];
  pings: string[];
  pongs: string[];
  closed: ClientClose | null;
  onClose: ClientClose[];
}

async function read(
  chunks: Uint8Array[],
  options: Partial<MessageReaderOptions> = {},
  source = new ChunkSource(chunks),
): Promise<Outcome> {
  const outcome: Outcome = { messages: [], pings: [], pongs: [], closed: null, onClose: [] };
  const reader = readMessages(source, {
    maxMessage: 4096,
    onPing: (p) => outcome.pings.push(decoder.decode(p)),
    onPong: (p) => outcome.pongs.push(decoder.decode(p)),
    onClose: (c) => outcome.onClose.push(c),
    ...options,
  });
  while (true) {
    const next = await reader.next();
    if (next.done) {
      outcome.closed = next.value;
      return outcome;
    }
    outcome.messages.push(next.value);
  }
}

/** The same stream cut in every way into two chunks, and into one-byte chunks. */
function cuts(data: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[data], [...data].map((b) => new Uint8Array([b]))];
  for (let at = 1; at < data.length; at++) ways.push([data.subarray(0, at), data.subarray(at)]);
  return ways;
}

async function assertFault(chunks: Uint8Array[], code: number, reason: string | RegExp, maxMessage = 4096) {
  await assert.rejects(read(chunks, { maxMessage }), (error: unknown) => {
    assert.ok(error instanceof WebSocketClose, `expected a WebSocketClose, got ${error}`);
    assert.equal(error.code, code);
    if (typeof reason === "string") assert.equal(error.reason, reason);
    else assert.match(error.reason, reason);
    assert.equal(error.message, error.reason);
    assert.ok(!error.reason.includes("\n"));
    return true;
  });
}

Deno.test("acceptKey gives the accept value of RFC 6455's example", () => {
  assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

const goodUpgrade: [string, string][] = [
  ["host", "127.0.0.1:8080"],
  ["upgrade", "websocket"],
  ["connection", "Upgrade"],
  ["sec-websocket-version", "13"],
  ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="],
];

function upgradeWith(changes: Record<string, string | undefined>) {
  const headers = new Map(goodUpgrade);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) headers.delete(name);
    else headers.set(name, value);
  }
  return upgradeResponse(headers);
}

Deno.test("a valid upgrade request gets the 101 response with the accept key", () => {
  const result = upgradeWith({});
  assert.ok(result.ok);
  assert.equal(
    decoder.decode(result.bytes),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
  );
});

Deno.test("Upgrade and Connection are matched as case-insensitive tokens of a comma list", () => {
  assert.ok(upgradeWith({ upgrade: "WebSocket", connection: "keep-alive, UPGRADE" }).ok);
  assert.ok(upgradeWith({ connection: "upgrade,keep-alive" }).ok);
  const partial = upgradeWith({ connection: "keep-alive, upgraded" });
  assert.ok(!partial.ok);
  assert.equal(partial.status, 400);
  assert.equal(partial.reason, "expected the header Connection: Upgrade");
});

Deno.test("a request without Upgrade: websocket is refused with 400", () => {
  for (const upgrade of [undefined, "h2c", ""]) {
    const result = upgradeWith({ upgrade });
    assert.ok(!result.ok);
    assert.equal(result.status, 400);
    assert.equal(result.reason, "expected the header Upgrade: websocket");
  }
});

Deno.test("another WebSocket version is refused with 426 naming version 13", () => {
  for (const version of ["8", undefined, "13, 8"]) {
    const result = upgradeWith({ "sec-websocket-version": version });
    assert.ok(!result.ok);
    assert.equal(result.status, 426);
    assert.deepEqual(result.headers, { "Sec-WebSocket-Version": "13" });
    assert.match(result.reason, /only 13 is spoken/);
  }
});

Deno.test("a key that is not 16 bytes of base64 is refused with 400", () => {
  for (
    const key of [
      undefined,
      "",
      "short==",
      "dGhlIHNhbXBsZSBub25jZQ",
      "dGhlIHNhbXBsZSBub25jZXg=",
      "dGhlIHNhbXBsZSBub25jZ!==",
    ]
  ) {
    const result = upgradeWith({ "sec-websocket-key": key });
    assert.ok(!result.ok, `key ${key}`);
    assert.equal(result.status, 400);
    assert.equal(result.reason, "Sec-WebSocket-Key must be 16 bytes in base64");
  }
});

Deno.test("textFrame uses the 7-bit, 16-bit and 64-bit length forms, unmasked", () => {
  for (
    const [n, header] of [[0, [0x81, 0]], [125, [0x81, 125]], [126, [0x81, 126, 0, 126]], [65535, [
      0x81,
      126,
      0xff,
      0xff,
    ]], [65536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]]] as [number, number[]][]
  ) {
    const payload = new Uint8Array(n).fill(0x61);
    const frame = textFrame(payload);
    assert.deepEqual([...frame.subarray(0, header.length)], header, `length ${n}`);
    assert.equal(frame.length, header.length + n);
    assert.deepEqual(frame.subarray(header.length), payload);
  }
});

Deno.test("closeFrame carries the code and reason, cutting a long reason at a character boundary", () => {
  assert.deepEqual([...closeFrame(1001, "bye")], [0x88, 5, 0x03, 0xe9, 0x62, 0x79, 0x65]);
  assert.deepEqual([...closeFrame(1000)], [0x88, 2, 0x03, 0xe8]);
  const long = closeFrame(1009, "é".repeat(100)); // 200 bytes: cut to 122 (61 characters), not 123
  assert.equal(long[1], 2 + 122);
  assert.equal(decoder.decode(long.subarray(4)), "é".repeat(61));
  assert.throws(() => closeFrame(999, "x"), RangeError);
  assert.throws(() => closeFrame(5000, "x"), RangeError);
});

Deno.test("ping and pong frames carry their payload and refuse more than 125 bytes", () => {
  assert.deepEqual([...pingFrame(encoder.encode("p1"))], [0x89, 2, 0x70, 0x31]);
  assert.deepEqual([...pongFrame(encoder.encode("p1"))], [0x8a, 2, 0x70, 0x31]);
  assert.deepEqual([...pingFrame()], [0x89, 0]);
  assert.throws(() => pingFrame(new Uint8Array(126)), /at most 125 bytes/);
  assert.throws(() => pongFrame(new Uint8Array(126)), /at most 125 bytes/);
});

Deno.test("text messages are read whatever the byte boundaries of the reads", async () => {
  const stream = concat(
    clientFrame(1, "hello 🍵"),
    clientFrame(1, ""),
    clientFrame(1, "x".repeat(300)),
    clientFrame(8, concat(new Uint8Array([0x03, 0xe8]), encoder.encode("done"))),
  );
  for (const chunks of cuts(stream)) {
    const outcome = await read(chunks);
    assert.deepEqual(outcome.messages, ["hello 🍵", "", "x".repeat(300)]);
    assert.deepEqual(outcome.closed, { code: 1000, reason: "done" });
  }
});

Deno.test("a fragmented message is put together, with control frames between its fragments", async () => {
  const tea = encoder.encode("🍵"); // 4 bytes, split over two fragments
  const stream = concat(
    clientFrame(1, "one ", { fin: false }),
    clientFrame(9, "ping!"),
    clientFrame(0, tea.subarray(0, 2), { fin: false }),
    clientFrame(10, "pong!"),
    clientFrame(0, new Uint8Array(0), { fin: false }),
    clientFrame(0, concat(tea.subarray(2), encoder.encode(" two"))),
    clientFrame(1, "after"),
  );
  for (const chunks of cuts(stream)) {
    const outcome = await read(chunks);
    assert.deepEqual(outcome.messages, ["one 🍵 two", "after"]);
    assert.deepEqual(outcome.pings, ["ping!"]);
    assert.deepEqual(outcome.pongs, ["pong!"]);
    assert.equal(outcome.closed, null); // the stream ended without a close frame
  }
});

Deno.test("the bytes read past the HTTP headers are the start of the first frame", async () => {
  const stream = concat(clientFrame(1, "first"), clientFrame(1, "second"));
  const outcome = await read([stream.subarray(5)], { initial: stream.subarray(0, 5) });
  assert.deepEqual(outcome.messages, ["first", "second"]);
});

Deno.test("a leading byte order mark is kept as part of the text", async () => {
  const outcome = await read([clientFrame(1, "\uFEFFhi")]);
  assert.deepEqual(outcome.messages, ["\uFEFFhi"]);
});

Deno.test("the client's close code and reason are returned and passed to onClose; nothing after is read", async () => {
  const source = new ChunkSource([
    concat(clientFrame(8, concat(new Uint8Array([0x0f, 0xa0]), encoder.encode("bye ✓"))), clientFrame(1, "late")),
    clientFrame(1, "later"),
  ]);
  const outcome = await read([], {}, source);
  assert.deepEqual(outcome.messages, []);
  assert.deepEqual(outcome.closed, { code: 4000, reason: "bye ✓" });
  assert.deepEqual(outcome.onClose, [{ code: 4000, reason: "bye ✓" }]);
  assert.equal(source.left, 1);
});

Deno.test("an empty close frame is reported as code 1005", async () => {
  const outcome = await read([clientFrame(8, "")]);
  assert.deepEqual(outcome.closed, { code: 1005, reason: "" });
});

Deno.test("a source ending inside a frame ends the reader without a close", async () => {
  const frame = clientFrame(1, "cut short");
  const outcome = await read([frame.subarray(0, frame.length - 1)]);
  assert.deepEqual(outcome.messages, []);
  assert.equal(outcome.closed, null);
  assert.deepEqual(outcome.onClose, []);
});

Deno.test("an unmasked client frame is a protocol error (1002)", async () => {
  await assertFault([clientFrame(1, "hi", { masked: false })], 1002, "client frames must be masked");
});

Deno.test("reserved bits are a protocol error (1002)", async () => {
  for (const rsv of [0x40, 0x20, 0x10]) {
    await assertFault([clientFrame(1, "hi", { rsv })], 1002, "reserved bits set: no extension was negotiated");
  }
});

Deno.test("unknown opcodes are a protocol error (1002)", async () => {
  for (const opcode of [3, 7, 0xb, 0xf]) {
    await assertFault([clientFrame(opcode, "x")], 1002, `unknown opcode ${opcode}`);
  }
});

Deno.test("a fragmented or long control frame is a protocol error (1002)", async () => {
  await assertFault([clientFrame(9, "x", { fin: false })], 1002, "control frames must not be fragmented");
  await assertFault([clientFrame(9, "x".repeat(126))], 1002, "control frames carry at most 125 bytes");
  await assertFault([clientFrame(8, new Uint8Array(126))], 1002, "control frames carry at most 125 bytes");
});

Deno.test("a continuation without a message, or a new message inside one, is a protocol error (1002)", async () => {
  await assertFault([clientFrame(0, "x")], 1002, "continuation frame without a message to continue");
  await assertFault(
    [concat(clientFrame(1, "a", { fin: false }), clientFrame(1, "b"))],
    1002,
    "a new message began before the last one ended",
  );
  // After a complete fragmented message, a continuation has nothing to continue.
  await assertFault(
    [concat(clientFrame(1, "a", { fin: false }), clientFrame(0, "b"), clientFrame(0, "c"))],
    1002,
    "continuation frame without a message to continue",
  );
});

Deno.test("a bad close frame is refused: 1-byte payload, reserved code, invalid UTF-8 reason", async () => {
  await assertFault([clientFrame(8, new Uint8Array([3]))], 1002, /2-byte code/);
  for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000]) {
    await assertFault([clientFrame(8, new Uint8Array([code >> 8, code & 0xff]))], 1002, `invalid close code ${code}`);
  }
  await assertFault([clientFrame(8, new Uint8Array([3, 0xe8, 0xff]))], 1007, "close reason is not valid UTF-8");
});

Deno.test("a binary message is refused with 1003 before its payload is read", async () => {
  const frame = clientFrame(2, new Uint8Array(1000));
  const source = new ChunkSource([frame.subarray(0, 2), frame.subarray(2)]);
  await assert.rejects(read([], {}, source), { code: 1003, reason: "binary frames are not accepted; send text" });
  assert.equal(source.left, 1);
});

Deno.test("invalid UTF-8 is refused with 1007, also across fragments", async () => {
  await assertFault([clientFrame(1, new Uint8Array([0x68, 0xc3]))], 1007, "text message is not valid UTF-8");
  await assertFault([clientFrame(1, new Uint8Array([0xed, 0xa0, 0x80]))], 1007, "text message is not valid UTF-8");
  await assertFault(
    [concat(clientFrame(1, new Uint8Array([0xf0, 0x9f]), { fin: false }), clientFrame(0, new Uint8Array([0x41])))],
    1007,
    "text message is not valid UTF-8",
  );
});

Deno.test("a message longer than maxMessage is refused with 1009 from its header, before its payload", async () => {
  // A header announcing 2^40 bytes, and nothing behind it.
  const huge = new Uint8Array([0x81, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
  const source = new ChunkSource([huge]);
  await assert.rejects(read([], { maxMessage: 100 }, source), {
    code: 1009,
    reason: "message too big: at most 100 bytes",
  });
  assert.ok(Math.max(...source.sizes) <= 128, `buffers given: ${source.sizes}`);

  const tooLong = clientFrame(1, "x".repeat(101));
  const parts = new ChunkSource([tooLong.subarray(0, 8), tooLong.subarray(8)]);
  await assert.rejects(read([], { maxMessage: 100 }, parts), { code: 1009 });
  assert.equal(parts.left, 1); // the payload was never read

  assert.deepEqual((await read([clientFrame(1, "x".repeat(100))], { maxMessage: 100 })).messages, ["x".repeat(100)]);
});

Deno.test("fragments adding up to more than maxMessage are refused with 1009", async () => {
  const stream = concat(clientFrame(1, "x".repeat(60), { fin: false }), clientFrame(0, "y".repeat(41)));
  await assertFault([stream], 1009, "message too big: at most 100 bytes", 100);
  const exact = concat(clientFrame(1, "x".repeat(60), { fin: false }), clientFrame(0, "y".repeat(40)));
  assert.deepEqual((await read([exact], { maxMessage: 100 })).messages, ["x".repeat(60) + "y".repeat(40)]);
});

Deno.test("a frame length with its most significant bit set is a protocol error", async () => {
  const bad = new Uint8Array([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
  await assertFault([bad], 1002, "frame length has its most significant bit set", 2 ** 53);
});

Deno.test("the buffer grows for a big frame and shrinks back when the connection is idle again", async () => {
  const big = clientFrame(1, "b".repeat(10000));
  const source = new ChunkSource([clientFrame(1, "small"), big, clientFrame(1, "idle"), clientFrame(1, "again")]);
  const outcome = await read([], { maxMessage: 20000 }, source);
  assert.deepEqual(outcome.messages, ["small", "b".repeat(10000), "idle", "again"]);
  assert.equal(source.sizes[0], 128);
  assert.ok(source.sizes.some((size) => size >= 10000 - 128), `buffers given: ${source.sizes}`);
  assert.ok(Math.max(...source.sizes) <= 10008 + 65536);
  assert.equal(source.sizes[source.sizes.length - 1], 128, `buffers given: ${source.sizes}`);
});

Deno.test("endless control frames and empty fragments keep the buffer small", async () => {
  const chunks: Uint8Array[] = [clientFrame(1, "", { fin: false })];
  for (let i = 0; i < 2000; i++) chunks.push(i % 2 ? clientFrame(9, "p") : clientFrame(0, "", { fin: false }));
  chunks.push(clientFrame(0, "end"));
  const source = new ChunkSource(chunks);
  const outcome = await read([], {}, source);
  assert.deepEqual(outcome.messages, ["end"]);
  assert.equal(outcome.pings.length, 1000);
  assert.ok(Math.max(...source.sizes) <= 128, `largest buffer ${Math.max(...source.sizes)}`);
});
