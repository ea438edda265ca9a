import assert from "node:assert/strict";
import { ByteSlab, lineSlab } from "../byte_slab.ts";
import { Delivery, type Dialect, dialectId } from "../dialects/dialect.ts";
import { telnet } from "../dialects/telnet.ts";
import { textFrame, textFraming } from "../wire/websocket.ts";

const decoder = new TextDecoder();

Deno.test("texts encoded one after another lie side by side in one slab", () => {
  const slab = new ByteSlab();
  const a = slab.encode("alice: hi\r\n");
  assert.equal(slab.last, a);
  assert.equal(slab.before, undefined, "the first text starts the slab");
  const b = slab.encode("bob: hello\r\n");
  assert.equal(slab.before, a);
  assert.equal(slab.last, b);
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.byteOffset, a.byteOffset + a.length);
  assert.equal(
    decoder.decode(new Uint8Array(a.buffer, a.byteOffset, a.length + b.length)),
    "alice: hi\r\nbob: hello\r\n",
  );
});

Deno.test("a slab encodes every UTF-8 length right (one to four bytes a character)", () => {
  const slab = new ByteSlab(64);
  const text = "é ☕ 😀 a\r\n";
  const bytes = slab.encode(text);
  assert.deepEqual(bytes, new TextEncoder().encode(text));
});

Deno.test("a text that may not fit starts a new slab, and follows nothing", () => {
  const slab = new ByteSlab(32);
  const a = slab.encode("0123456789"); // 10 of 32 bytes; another 10 characters may need 30
  const b = slab.encode("abcdefghij");
  assert.equal(slab.before, undefined);
  assert.notEqual(b.buffer, a.buffer);
  assert.equal(b.byteOffset, 0);
  assert.equal(decoder.decode(a), "0123456789", "the first slab's bytes are left as they were");
  assert.equal(decoder.decode(b), "abcdefghij");
});

Deno.test("a text that may need more than a slab gets memory of its own, and the lines around it still lie side by side", () => {
  const slab = new ByteSlab(64);
  const a = slab.encode("a\r\n");
  const long = "x".repeat(100);
  const big = slab.encode(long);
  assert.equal(decoder.decode(big), long);
  assert.equal(slab.before, undefined, "it follows nothing");
  assert.notEqual(big.buffer, a.buffer);
  assert.equal(big.buffer.byteLength, 100, "no longer than its bytes");
  const b = slab.encode("b\r\n");
  assert.equal(slab.before, a, "b follows a in the slab, the big text elsewhere");
  assert.equal(b.byteOffset, a.byteOffset + a.length);
  const frame = slab.encode("y".repeat(200), textFraming);
  assert.deepEqual(frame, textFrame(new TextEncoder().encode("y".repeat(200))));
});

Deno.test("a delivery says which bytes its rendering follows in the line slab, per dialect", () => {
  const one = new Delivery({ type: "chat", room: "main", nick: "alice", text: "one", at: 0 });
  const two = new Delivery({ type: "chat", room: "main", nick: "bob", text: "two", at: 0 });
  const first = one.bytes(telnet);
  const second = two.bytes(telnet);
  assert.equal(two.after(telnet), first);
  assert.equal(decoder.decode(second), "bob: two\r\n");
  const shout: Dialect = { id: dialectId(), name: "shout", render: (e) => lineSlab.encode(e.type.toUpperCase()) };
  const loud = two.bytes(shout); // a second dialect: rendered right after `second`
  assert.equal(two.after(shout), second);
  assert.equal(decoder.decode(loud), "CHAT");
  const copied: Dialect = { id: dialectId(), name: "copied", render: () => new Uint8Array([65]) };
  two.bytes(copied);
  assert.equal(two.after(copied), undefined, "bytes made elsewhere follow nothing");
});

Deno.test("a framed text gets the header its length asks for, right after the text before it", () => {
  const slab = new ByteSlab();
  slab.encode("x");
  for (const length of [0, 125, 126, 300, 65535, 65536]) {
    const text = "é".repeat(length >> 1) + "a".repeat(length & 1);
    const bytes = slab.encode(text, textFraming);
    assert.deepEqual(bytes, textFrame(new TextEncoder().encode(text)), `a frame of ${length} bytes`);
  }
  const a = slab.encode("a", textFraming);
  const b = slab.encode("b", textFraming);
  assert.equal(slab.before, a);
  assert.equal(b.byteOffset, a.byteOffset + a.length);
});
