import assert from "node:assert/strict";
import { BINARY, DO, DONT, ECHO, END_OF_RECORD, EOR, IAC, SB, SE, TelnetClient, WILL, WONT } from "../client/telnet.ts";

const NAWS = 31;
const TTYPE = 24;
const SGA = 3;
const GA = 249;
const NOP = 241;

function setup() {
  const sent: number[][] = [];
  const echo: boolean[] = [];
  const telnet = new TelnetClient((b) => sent.push([...b]), (on) => echo.push(on));
  const feed = (...bytes: (number | string)[]) => {
    const data = bytes.flatMap((b) => typeof b === "string" ? [...new TextEncoder().encode(b)] : [b]);
    return new TextDecoder().decode(telnet.filter(new Uint8Array(data)));
  };
  return { telnet, sent, echo, feed };
}

Deno.test("data without IAC passes through unchanged", () => {
  const { feed, sent } = setup();
  assert.equal(feed("hello 茶\r\n"), "hello 茶\r\n");
  assert.deepEqual(sent, []);
});

Deno.test("every IAC sequence is removed: commands, negotiation and sub-negotiation", () => {
  const { feed } = setup();
  assert.equal(
    feed("a", IAC, NOP, "b", IAC, GA, "c", IAC, SB, TTYPE, 1, IAC, SE, "d", IAC, DO, NAWS, "e"),
    "abcde",
  );
});

Deno.test("a sequence split across chunks is still removed, and an escaped 255 is data", () => {
  const { feed, telnet } = setup();
  assert.equal(feed("x", IAC), "x");
  assert.equal(feed(WILL), "");
  assert.equal(feed(ECHO, "y"), "y");
  assert.equal(telnet.remoteEcho, true);
  assert.equal(feed(IAC, SB, 1, 2), "");
  assert.equal(feed(IAC, IAC, 3, IAC), ""); // IAC IAC inside a sub-negotiation is part of it
  assert.equal(feed(SE, "z"), "z");
  const { telnet: t2 } = setup();
  assert.deepEqual([...t2.filter(new Uint8Array([65, IAC, IAC, 66]))], [65, 255, 66]);
});

Deno.test("WILL ECHO is agreed (DO ECHO) and hides input; WONT ECHO shows it again (DONT ECHO)", () => {
  const { feed, sent, echo, telnet } = setup();
  feed(IAC, WILL, ECHO);
  assert.deepEqual(sent, [[IAC, DO, ECHO]]);
  assert.deepEqual(echo, [true]);
  assert.equal(telnet.remoteEcho, true);
  feed(IAC, WONT, ECHO);
  assert.deepEqual(sent, [[IAC, DO, ECHO], [IAC, DONT, ECHO]]);
  assert.deepEqual(echo, [true, false]);
  assert.equal(telnet.remoteEcho, false);
});

Deno.test("a request that confirms the current state is not answered (no negotiation loops)", () => {
  const { feed, sent, echo } = setup();
  feed(IAC, WONT, ECHO); // echo is off already
  feed(IAC, DONT, BINARY); // binary is off already
  assert.deepEqual(sent, []);
  feed(IAC, WILL, ECHO, IAC, WILL, ECHO, IAC, WILL, ECHO);
  assert.deepEqual(sent, [[IAC, DO, ECHO]]);
  assert.deepEqual(echo, [true]);
});

Deno.test("unknown options are refused once each, whichever side they are for", () => {
  const { feed, sent } = setup();
  feed(IAC, DO, NAWS, IAC, WILL, SGA, IAC, DO, TTYPE);
  assert.deepEqual(sent, [[IAC, WONT, NAWS], [IAC, DONT, SGA], [IAC, WONT, TTYPE]]);
  // A server that asks again (or answers our refusal with the same request) is not answered again.
  feed(IAC, DO, NAWS, IAC, WILL, SGA);
  assert.equal(sent.length, 3);
});

Deno.test("BINARY is agreed both ways when offered, and given up when the server gives it up", () => {
  const { feed, sent, telnet } = setup();
  feed(IAC, DO, BINARY);
  assert.deepEqual(sent, [[IAC, WILL, BINARY]]);
  assert.equal(telnet.binary, false); // only one way so far
  feed(IAC, WILL, BINARY);
  assert.deepEqual(sent[1], [IAC, DO, BINARY]);
  assert.equal(telnet.binary, true);
  feed(IAC, DO, BINARY, IAC, WILL, BINARY); // confirmations: no answer
  assert.equal(sent.length, 2);
  feed(IAC, DONT, BINARY);
  assert.deepEqual(sent[2], [IAC, WONT, BINARY]);
  assert.equal(telnet.binary, false);
});

Deno.test("GA or EOR right after text marks it as a prompt; END-OF-RECORD is agreed when the server offers it", () => {
  const { feed, sent, telnet } = setup();
  assert.equal(feed("Name: ", IAC, GA), "Name: ");
  assert.equal(telnet.promptMark, true);
  assert.equal(feed("more"), "more");
  assert.equal(telnet.promptMark, false);
  assert.equal(feed("a", IAC, GA, "b"), "ab"); // text after the mark: that is not a prompt yet
  assert.equal(telnet.promptMark, false);
  feed(IAC, WILL, END_OF_RECORD);
  assert.deepEqual(sent, [[IAC, DO, END_OF_RECORD]]);
  assert.equal(feed("Password: ", IAC, EOR, IAC, NOP), "Password: ");
  assert.equal(telnet.promptMark, true);
});
