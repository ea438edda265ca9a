import assert from "node:assert/strict";
import { BINARY, ECHO, IAC, MAX_SUB, OFFER, TelnetFilter } from "../telnet.ts";

const DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240, NOP = 241;
const TTYPE = 24, NAWS = 31, SGA = 3;
const text = (s: string) => [...new TextEncoder().encode(s)];

function setup(offered = false) {
  const replies: number[][] = [];
  const filter = new TelnetFilter((bytes) => replies.push([...bytes]), { offered });
  const feed = (bytes: number[]) => {
    const buf = new Uint8Array(bytes);
    return [...buf.subarray(0, filter.filter(buf, 0, buf.length))];
  };
  return { filter, replies, feed };
}

Deno.test("a refused option is refused once, however often it is asked for", () => {
  const { replies, feed } = setup();
  const flood: number[] = [];
  for (let i = 0; i < 10_000; i++) flood.push(IAC, DO, TTYPE);
  for (let i = 0; i < 1000; i++) flood.push(IAC, WILL, NAWS);
  assert.deepEqual(feed(flood), []);
  assert.deepEqual(replies, [[IAC, WONT, TTYPE], [IAC, DONT, NAWS]]);
});

Deno.test("WONT and DONT for an option that is off are never answered", () => {
  const { replies, feed } = setup();
  feed([IAC, WONT, NAWS, IAC, DONT, SGA, IAC, WONT, BINARY, IAC, DONT, BINARY]);
  assert.deepEqual(replies, []);
});

Deno.test("BINARY is accepted both ways when the client asks, and each request is answered once", () => {
  const { filter, replies, feed } = setup();
  feed([IAC, WILL, BINARY, IAC, WILL, BINARY, IAC, DO, BINARY, IAC, DO, BINARY]);
  assert.deepEqual(replies, [[IAC, DO, BINARY], [IAC, WILL, BINARY]]);
  assert.ok(filter.binaryIn && filter.binaryOut);
});

Deno.test("a real change of an accepted option is answered once each time", () => {
  const { filter, replies, feed } = setup();
  feed([IAC, WILL, BINARY, IAC, WONT, BINARY, IAC, WONT, BINARY, IAC, WILL, BINARY]);
  assert.deepEqual(replies, [[IAC, DO, BINARY], [IAC, DONT, BINARY], [IAC, DO, BINARY]]);
  assert.ok(filter.binaryIn);
});

Deno.test("after OFFER, the client's WILL BINARY is its answer and is not answered", () => {
  const { filter, replies, feed } = setup(true);
  feed([IAC, WILL, BINARY]);
  assert.deepEqual(replies, []);
  assert.ok(filter.binaryIn);
});

Deno.test("after OFFER, a client that refuses BINARY is not asked again", () => {
  const { filter, replies, feed } = setup(true);
  feed([IAC, WONT, BINARY, IAC, WONT, BINARY]);
  assert.deepEqual(replies, []);
  assert.ok(!filter.binaryIn);
});

Deno.test("OFFER asks the client to send 8-bit data, then erases the line for clients that show it", () => {
  assert.deepEqual([...OFFER], [IAC, DO, BINARY, 13, 0x1b, 0x5b, 0x4b]);
});

Deno.test("the answer to the server's WILL ECHO is not answered, nor is the answer to WONT ECHO", () => {
  const { filter, replies, feed } = setup();
  filter.serverEcho = true; // IAC WILL ECHO sent
  feed([IAC, DO, ECHO, IAC, DO, ECHO]);
  assert.equal(filter.serverEcho, true);
  filter.serverEcho = false; // IAC WONT ECHO sent
  feed([IAC, DONT, ECHO, IAC, DONT, ECHO]);
  assert.equal(filter.serverEcho, false);
  assert.deepEqual(replies, []);
});

Deno.test("every telnet command is counted, escaped 255 bytes are not", () => {
  const { filter, feed } = setup();
  feed([IAC, DO, TTYPE, IAC, NOP, IAC, IAC, 97, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE, IAC, WILL, NAWS]);
  assert.equal(filter.commands, 4);
});

Deno.test("tokensDue charges one token per N commands and keeps the rest for later", () => {
  const { filter, feed } = setup();
  const commands: number[] = [];
  for (let i = 0; i < 20; i++) commands.push(IAC, NOP);
  feed(commands);
  assert.equal(filter.tokensDue(8), 2);
  assert.equal(filter.tokensDue(8), 0);
  feed([IAC, NOP, IAC, NOP, IAC, NOP, IAC, NOP]);
  assert.equal(filter.tokensDue(8), 1);
});

Deno.test("a sub-negotiation longer than MAX_SUB is given up: the rest of its line is dropped, the next line is data", () => {
  const { feed } = setup();
  const data = feed([...text("hi"), IAC, SB, TTYPE, ...Array(MAX_SUB + 100).fill(120), ...text("\r\nnext\r\n")]);
  assert.deepEqual(data, text("hi\r\nnext\r\n"));
});

Deno.test("a sub-negotiation of MAX_SUB bytes is still removed whole", () => {
  const { feed } = setup();
  const inside = Array(MAX_SUB - 1).fill(120);
  assert.deepEqual(feed([...text("a"), IAC, SB, TTYPE, ...inside, IAC, SE, ...text("b")]), text("ab"));
});

Deno.test("a given-up sub-negotiation spread over many reads does not swallow the next line", () => {
  const { filter } = setup();
  const chunks = [[IAC, SB, TTYPE], ...Array(20).fill(Array(64).fill(120)), text("\nafter\n")];
  const out: number[] = [];
  for (const chunk of chunks) {
    const buf = new Uint8Array(chunk);
    out.push(...buf.subarray(0, filter.filter(buf, 0, buf.length)));
  }
  assert.deepEqual(out, text("\nafter\n"));
});
