/**
 * Telnet negotiation over sockets, at byte level: the offer at connect,
 * repeated requests answered once, negotiation paced like lines, runaway
 * sub-negotiations, and 8-bit text after BINARY.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";
import { indexOfBytes } from "./db_helpers.ts";
import { OFFER } from "../telnet.ts";

const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, NOP = 241;
const BINARY = 0, TTYPE = 24;

/** How many times `needle` occurs in `haystack`. */
function count(haystack: number[], needle: number[]): number {
  let n = 0;
  for (let at = indexOfBytes(haystack, needle); at >= 0; at = indexOfBytes(haystack, needle, at + 1)) n++;
  return n;
}

function repeat(bytes: number[], times: number): Uint8Array {
  const out = new Uint8Array(bytes.length * times);
  for (let i = 0; i < times; i++) out.set(bytes, i * bytes.length);
  return out;
}

Deno.test("the server opens every connection with IAC DO BINARY and an erase of the line", async () => {
  await using chat = await startServer();
  const client = await chat.connect();
  await client.waitFor("*** Welcome to TestChat!");
  assert.deepEqual(client.offer, [...OFFER]);
  assert.deepEqual(client.offer.slice(0, 3), [IAC, DO, BINARY]);
});

Deno.test("10,000 repeated IAC DO TERMINAL-TYPE get one answer", async () => {
  await using chat = await startServer({ rate: 0 });
  const client = await chat.login("eve");
  await client.sendRaw(repeat([IAC, DO, TTYPE], 10_000));
  client.send("marker");
  await client.waitFor((l) => l.endsWith("eve: marker")); // answers have no line end of their own
  assert.equal(count(client.raw, [IAC, WONT, TTYPE]), 1);
  assert.ok(client.raw.length < 2000, `${client.raw.length} bytes came back`);
});

Deno.test("repeated IAC WILL TERMINAL-TYPE before login get one answer", async () => {
  await using chat = await startServer({ rate: 0 });
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  await client.sendRaw(repeat([IAC, WILL, TTYPE], 5000));
  client.send("login eve");
  await client.waitFor((l) => l.endsWith("*** eve has entered the room."));
  assert.equal(count(client.raw, [IAC, DONT, TTYPE]), 1);
});

Deno.test("a BINARY request is answered once, and the answer to our own offer not at all", async () => {
  await using chat = await startServer({ rate: 0 });
  const client = await chat.login("eve");
  await client.sendRaw(new Uint8Array([IAC, WILL, BINARY, IAC, WILL, BINARY, IAC, DO, BINARY, IAC, DO, BINARY]));
  client.send("marker");
  await client.waitFor((l) => l.endsWith("eve: marker")); // answers have no line end of their own
  assert.equal(count(client.raw, [IAC, DO, BINARY]), 0, "WILL BINARY answers our DO BINARY");
  assert.equal(count(client.raw, [IAC, WILL, BINARY]), 1);
});

Deno.test("telnet commands are paced like lines: 8 commands cost one token of the rate limit", async () => {
  await using chat = await startServer({ rate: 50, burst: 1 });
  const client = await chat.login("eve");
  // 800 commands are 100 tokens: two seconds at 50 a second.
  const start = performance.now();
  await client.sendRaw(repeat([IAC, NOP], 800));
  client.send("marker");
  await client.waitFor((l) => l.endsWith("eve: marker"), 10_000);
  const took = performance.now() - start;
  assert.ok(took > 1500, `the commands took ${took.toFixed(0)} ms; at least 1500 expected`);
});

Deno.test("an IAC SB without IAC SE does not swallow a later line", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  await eve.sendRaw(new Uint8Array([IAC, SB, TTYPE, ...new Array(600).fill(0x78)]));
  eve.send(" rest of the broken line");
  eve.send("hello after");
  const lines = await eve.until("eve: hello after");
  assert.ok(!lines.some((l) => l.includes("xxx")), `sub-negotiation bytes reached the room: ${lines.join(" | ")}`);
});

Deno.test("after BINARY, Chinese text typed byte by byte arrives exactly", async () => {
  await using chat = await startServer({ rate: 0 });
  const tom = await chat.login("tom");
  const amy = await chat.login("amy");
  await tom.sendRaw(new Uint8Array([IAC, WILL, BINARY]));
  await tom.sendSlowly("你好，茶话会\r\n");
  await amy.waitFor("tom: 你好，茶话会");
});
