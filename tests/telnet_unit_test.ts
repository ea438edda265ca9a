import assert from "node:assert/strict";
import { ECHO, ECHO_OFF, ECHO_ON, IAC, TelnetFilter } from "../telnet.ts";

const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const GA = 249;
const EL = 248;
const EC = 247;
const AYT = 246;
const NOP = 241;
const SE = 240;
const NAWS = 31;
const TTYPE = 24;
const SGA = 3;

/** A filter and the answers it sends. */
function setup(serverEcho = false) {
  const replies: number[][] = [];
  const filter = new TelnetFilter((bytes) => replies.push([...bytes]));
  filter.serverEcho = serverEcho;
  return { filter, replies };
}

/**
 * Runs chunks through the filter the way the line reader does: each chunk is
 * placed after some bytes already in the buffer, and only the range
 * `[start, end)` is filtered. Returns the data bytes left.
 */
function run(filter: TelnetFilter, chunks: number[][]): number[] {
  const out: number[] = [];
  for (const chunk of chunks) {
    const start = 3;
    const buf = new Uint8Array(start + chunk.length + 2).fill(7);
    buf.set(chunk, start);
    const end = filter.filter(buf, start, start + chunk.length);
    assert.deepEqual([...buf.subarray(0, start)], [7, 7, 7], "bytes before start untouched");
    assert.ok(end >= start && end <= start + chunk.length);
    out.push(...buf.subarray(start, end));
  }
  return out;
}

function filtered(chunks: number[][], serverEcho = false) {
  const { filter, replies } = setup(serverEcho);
  return { data: run(filter, chunks), replies };
}

const text = (s: string) => [...new TextEncoder().encode(s)];

Deno.test("data without IAC passes through unchanged", () => {
  assert.deepEqual(filtered([text("hello 茶\r\n")]), { data: text("hello 茶\r\n"), replies: [] });
});

Deno.test("IAC WILL, WONT, DO and DONT with their option are removed", () => {
  for (const verb of [WILL, WONT, DO, DONT]) {
    const { data } = filtered([[104, IAC, verb, NAWS, 105]]);
    assert.deepEqual(data, text("hi"), `verb ${verb}`);
  }
});

Deno.test("an option byte that looks like data or a line end is removed with its verb", () => {
  assert.deepEqual(filtered([[97, IAC, DO, 10, IAC, WILL, 13, IAC, DONT, 98, 99]]).data, text("ac"));
});

Deno.test("IAC SB … IAC SE is removed, with everything inside it", () => {
  const sub = [IAC, SB, TTYPE, 0, ...text("xterm-256color"), IAC, SE];
  assert.deepEqual(filtered([[...text("a"), ...sub, ...text("b")]]).data, text("ab"));
});

Deno.test("a sub-negotiation never closed ends at the line end: the lines after it are data", () => {
  const data = [...text("sb "), IAC, SB, TTYPE, ...text(" abc\r\nnext2\r\n"), ...text("ga\r\n")];
  assert.deepEqual(filtered([data]).data, text("sb \r\nnext2\r\nga\r\n"));
  // NAWS holds four bytes: a fifth is data again (its bytes may be 10 or 13, so a line end does not end it).
  const naws = [IAC, SB, NAWS, 0, 10, 0, 13, ...text("hi\r\n")];
  assert.deepEqual(filtered([naws]).data, text("hi\r\n"));
});

Deno.test("an IAC before a byte that is no telnet command is dropped alone: IAC LF still ends the line", () => {
  assert.deepEqual(filtered([[...text("iac then lf "), IAC, 10, ...text("q\r\n")]]).data, text("iac then lf \nq\r\n"));
  assert.deepEqual(filtered([[97, IAC, 98, 99]]).data, text("abc"));
});

Deno.test("an escaped IAC inside a sub-negotiation does not end it", () => {
  const sub = [IAC, SB, NAWS, 0, IAC, IAC, 0, 24, IAC, SE];
  assert.deepEqual(filtered([[...text("a"), ...sub, ...text("b")]]).data, text("ab"));
});

Deno.test("IAC IAC becomes a single 255 byte", () => {
  assert.deepEqual(filtered([[97, IAC, IAC, 98, IAC, IAC, IAC, IAC]]).data, [97, 255, 98, 255, 255]);
});

Deno.test("IAC EC becomes a backspace (8) and IAC EL a Ctrl-U (21)", () => {
  assert.deepEqual(filtered([[97, IAC, EC, 98, IAC, EL, 99]]).data, [97, 8, 98, 21, 99]);
});

Deno.test("other two-byte commands such as NOP, GA and AYT are removed", () => {
  assert.deepEqual(filtered([[97, IAC, NOP, 98, IAC, GA, 99, IAC, AYT, 100]]), { data: text("abcd"), replies: [] });
});

Deno.test("an IAC after the end of the range is left alone", () => {
  const { filter, replies } = setup();
  const buf = new Uint8Array([97, 98, 99, 100, IAC, WILL, NAWS]);
  assert.equal(filter.filter(buf, 0, 3), 3);
  assert.deepEqual([...buf], [97, 98, 99, 100, IAC, WILL, NAWS]);
  assert.deepEqual(replies, []);
  // And the filter is still in its data state: the next range starts fresh.
  const next = new Uint8Array([100, 101]);
  assert.equal(filter.filter(next, 0, 2), 2);
  assert.deepEqual([...next], [100, 101]);
});

Deno.test("every sequence split at every possible byte gives the same data and answers", () => {
  const stream = [
    ...text("a"),
    IAC,
    WILL,
    NAWS,
    ...text("b"),
    IAC,
    DO,
    SGA,
    ...text("c"),
    IAC,
    WONT,
    ECHO,
    IAC,
    DONT,
    ECHO,
    IAC,
    SB,
    TTYPE,
    0,
    IAC,
    IAC,
    ...text("vt100"),
    IAC,
    SE,
    ...text("d"),
    IAC,
    IAC,
    IAC,
    EC,
    IAC,
    EL,
    IAC,
    NOP,
    ...text("e"),
  ];
  const expected = {
    data: [...text("abcd"), 255, 8, 21, ...text("e")],
    replies: [[IAC, DONT, NAWS], [IAC, WONT, SGA]],
  };
  assert.deepEqual(filtered([stream]), expected);
  assert.deepEqual(filtered(stream.map((b) => [b])), expected, "one byte at a time");
  for (let at = 1; at < stream.length; at++) {
    assert.deepEqual(filtered([stream.slice(0, at), stream.slice(at)]), expected, `split at ${at}`);
  }
  for (let a = 1; a < stream.length; a++) {
    for (let b = a + 1; b < stream.length; b++) {
      const chunks = [stream.slice(0, a), stream.slice(a, b), stream.slice(b)];
      assert.deepEqual(filtered(chunks), expected, `split at ${a} and ${b}`);
    }
  }
});

Deno.test("an empty range changes nothing, even in the middle of a sequence", () => {
  assert.deepEqual(filtered([[97, IAC], [], [WILL], [], [NAWS, 98]]), {
    data: text("ab"),
    replies: [[IAC, DONT, NAWS]],
  });
});

Deno.test("WILL x is answered with DONT x", () => {
  assert.deepEqual(filtered([[IAC, WILL, NAWS, IAC, WILL, ECHO]]).replies, [[IAC, DONT, NAWS], [IAC, DONT, ECHO]]);
});

Deno.test("DO x is answered with WONT x", () => {
  assert.deepEqual(filtered([[IAC, DO, SGA, IAC, DO, TTYPE]]).replies, [[IAC, WONT, SGA], [IAC, WONT, TTYPE]]);
});

Deno.test("WONT and DONT are not answered", () => {
  assert.deepEqual(filtered([[IAC, WONT, NAWS, IAC, DONT, SGA, IAC, WONT, ECHO, IAC, DONT, ECHO]]).replies, []);
});

Deno.test("DO ECHO is not answered while serverEcho is true", () => {
  assert.deepEqual(filtered([[IAC, DO, ECHO]], true), { data: [], replies: [] });
});

Deno.test("DO ECHO is answered with WONT ECHO while serverEcho is false", () => {
  assert.deepEqual(filtered([[IAC, DO, ECHO]], false).replies, [[IAC, WONT, ECHO]]);
});

Deno.test("serverEcho only silences DO ECHO, not other options", () => {
  assert.deepEqual(filtered([[IAC, DO, SGA, IAC, WILL, ECHO]], true).replies, [[IAC, WONT, SGA], [IAC, DONT, ECHO]]);
});

Deno.test("ECHO_OFF is IAC WILL ECHO and ECHO_ON is IAC WONT ECHO", () => {
  assert.deepEqual([...ECHO_OFF], [255, 251, 1]);
  assert.deepEqual([...ECHO_ON], [255, 252, 1]);
});

Deno.test("answers can go to an object with sendBytes instead of a function", () => {
  const replies: number[][] = [];
  const filter = new TelnetFilter({ sendBytes: (bytes) => replies.push([...bytes]) });
  assert.deepEqual(run(filter, [[97, IAC, WILL, NAWS, IAC, DO, SGA, 98]]), text("ab"));
  assert.deepEqual(replies, [[IAC, DONT, NAWS], [IAC, WONT, SGA]]);
});
