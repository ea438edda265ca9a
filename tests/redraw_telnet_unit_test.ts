/**
 * The telnet negotiation redraw mode needs (telnet.ts): TERMINAL-TYPE asked
 * for once the client answered the BINARY offer, character mode (ECHO and
 * SUPPRESS-GO-AHEAD on our side) with NAWS, refusals, giving it up, and the
 * RFC 1143 queue when we change our mind before the client answered; no
 * request is ever answered twice, so nothing can loop.
 */
import assert from "node:assert/strict";
import { BINARY, ECHO, IAC, MAX_TERMINAL_TYPE, NAWS, SGA, TelnetFilter, TTYPE, TTYPE_SEND } from "../telnet.ts";
import { isPlainTerminal } from "../doors/terminals.ts";

const DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
const text = (s: string) => [...new TextEncoder().encode(s)];

function setup() {
  const sent: number[][] = [];
  const heard: string[] = [];
  const peer = {
    sendBytes: (bytes: Uint8Array) => void sent.push([...bytes]),
    terminalType: (name: string) => void heard.push(`type ${name}`),
    windowSize: (columns: number, rows: number) => void heard.push(`size ${columns}x${rows}`),
    characterModeRefused: () => void heard.push("refused"),
  };
  const filter = new TelnetFilter(peer, { offered: true, askTerminalType: true });
  // Filters as a session does: after a change of mode, the rest of the read is filtered again.
  const feed = (bytes: number[]) => {
    let buf = new Uint8Array(bytes);
    const data: number[] = [];
    while (true) {
      data.push(...buf.subarray(0, filter.filter(buf, 0, buf.length)));
      const at = filter.switchedAt;
      if (at < 0) return data;
      filter.switchedAt = -1;
      buf = buf.slice(at);
    }
  };
  /** What was sent since the last call. */
  const replies = () => sent.splice(0);
  return { filter, feed, replies, heard };
}

/** A client that answered BINARY, agreed to TERMINAL-TYPE and named `name`. */
function named(name: string) {
  const s = setup();
  s.feed([IAC, WILL, BINARY, IAC, DO, BINARY]);
  s.feed([IAC, WILL, TTYPE]);
  s.feed([IAC, SB, TTYPE, 0, ...text(name), IAC, SE]);
  s.replies();
  return s;
}

Deno.test("the terminal type is asked for only after the client answered the BINARY offer", () => {
  const { feed, replies } = setup();
  feed([IAC, WILL, NAWS]);
  assert.deepEqual(replies(), [[IAC, DONT, NAWS]]);
  feed([IAC, WILL, BINARY]);
  assert.deepEqual(replies(), [[IAC, DO, TTYPE]]);
  feed([IAC, WONT, BINARY, IAC, WILL, BINARY]); // later changes of BINARY ask nothing more
  assert.deepEqual(replies(), [[IAC, DONT, BINARY], [IAC, DO, BINARY]]);
});

Deno.test("a client that refuses BINARY is still asked for its terminal type", () => {
  const { feed, replies } = setup();
  feed([IAC, WONT, BINARY]);
  assert.deepEqual(replies(), [[IAC, DO, TTYPE]]);
});

Deno.test("WILL TERMINAL-TYPE in answer is followed by SEND, once however often it is repeated", () => {
  const { feed, replies } = setup();
  feed([IAC, WILL, BINARY]);
  replies();
  const flood: number[] = [];
  for (let i = 0; i < 1000; i++) flood.push(IAC, WILL, TTYPE);
  feed(flood);
  assert.deepEqual(replies(), [[...TTYPE_SEND]]);
});

Deno.test("the name is reported once, printable ASCII only, at most 40 characters", () => {
  const { feed, heard, filter } = setup();
  feed([IAC, WILL, BINARY, IAC, WILL, TTYPE]);
  const long = "X".repeat(60);
  feed([IAC, SB, TTYPE, 0, ...text("XTERM\x01-256COLOR"), IAC, SE]);
  feed([IAC, SB, TTYPE, 0, ...text(long), IAC, SE]);
  assert.deepEqual(heard, ["type XTERM-256COLOR"]);
  assert.equal(filter.terminal, "XTERM-256COLOR");
  const other = setup();
  other.feed([IAC, WILL, BINARY, IAC, WILL, TTYPE, IAC, SB, TTYPE, 0, ...text(long), IAC, SE]);
  assert.equal(other.filter.terminal.length, MAX_TERMINAL_TYPE);
});

Deno.test("a terminal type nobody asked for, or from a client that refused the option, is ignored", () => {
  const { feed, heard } = setup();
  feed([IAC, SB, TTYPE, 0, ...text("XTERM"), IAC, SE]); // not asked yet
  feed([IAC, WILL, BINARY, IAC, WONT, TTYPE]);
  feed([IAC, SB, TTYPE, 0, ...text("VT100"), IAC, SE]);
  assert.deepEqual(heard, []);
});

Deno.test("character mode: WILL ECHO, WILL SUPPRESS-GO-AHEAD and DO NAWS; on once both are agreed; repeats unanswered", () => {
  const { filter, feed, replies, heard } = named("XTERM");
  filter.setCharacterMode(true);
  assert.deepEqual(replies(), [[IAC, WILL, ECHO], [IAC, WILL, SGA], [IAC, DO, NAWS]]);
  assert.equal(filter.characterModePending, true);
  feed([IAC, DO, ECHO]);
  assert.equal(filter.characterMode, false);
  feed([IAC, DO, SGA, IAC, WILL, NAWS, IAC, SB, NAWS, 0, 132, 0, 43, IAC, SE]);
  assert.equal(filter.characterMode, true);
  assert.equal(filter.characterModePending, false);
  assert.deepEqual(heard, ["type XTERM", "size 132x43"]);
  feed([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, NAWS, IAC, DO, ECHO]);
  assert.deepEqual(replies(), []);
});

Deno.test("a window size of 255 arrives as IAC IAC inside NAWS", () => {
  const { filter, feed, heard } = named("XTERM");
  filter.setCharacterMode(true);
  feed([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, NAWS, IAC, SB, NAWS, 0, IAC, IAC, 0, 50, IAC, SE]);
  assert.deepEqual(heard.at(-1), "size 255x50");
  assert.deepEqual([filter.columns, filter.rows], [255, 50]);
});

Deno.test("a client that refuses SUPPRESS-GO-AHEAD (as TinyFugue does) keeps line mode: ECHO is given back at once", () => {
  const { filter, feed, replies, heard } = named("XTERM");
  filter.setCharacterMode(true);
  replies();
  feed([IAC, DO, ECHO, IAC, DONT, SGA]);
  assert.deepEqual(replies(), [[IAC, WONT, ECHO]]);
  assert.deepEqual(heard.slice(1), ["refused"]);
  feed([IAC, DONT, ECHO, IAC, DONT, SGA, IAC, DONT, ECHO]);
  assert.deepEqual(replies(), []);
  assert.equal(filter.characterMode, false);
  assert.equal(filter.characterModePending, false);
});

Deno.test("a client that refuses ECHO first gets the SUPPRESS-GO-AHEAD it agrees to afterwards taken back", () => {
  const { filter, feed, replies, heard } = named("XTERM");
  filter.setCharacterMode(true);
  replies();
  feed([IAC, DONT, ECHO]);
  assert.deepEqual(replies(), []); // SGA is still being asked for: queued to be given up
  feed([IAC, DO, SGA]);
  assert.deepEqual(replies(), [[IAC, WONT, SGA]]);
  feed([IAC, DONT, SGA]);
  assert.deepEqual(replies(), []);
  assert.deepEqual(heard.slice(1), ["refused"]);
  assert.equal(filter.characterMode, false);
});

Deno.test("line mode again: WONT both; the client is in character mode until it answers", () => {
  const { filter, feed, replies } = named("XTERM");
  filter.setCharacterMode(true);
  feed([IAC, DO, ECHO, IAC, DO, SGA]);
  replies();
  filter.setCharacterMode(false);
  assert.deepEqual(replies(), [[IAC, WONT, SGA], [IAC, WONT, ECHO]]);
  assert.equal(filter.characterMode, true);
  feed([IAC, DONT, SGA, IAC, DONT, ECHO]);
  assert.equal(filter.characterMode, false);
  assert.deepEqual(replies(), []);
});

Deno.test("a client that drops character mode by itself is answered once, and ECHO is given back", () => {
  const { filter, feed, replies, heard } = named("XTERM");
  filter.setCharacterMode(true);
  feed([IAC, DO, ECHO, IAC, DO, SGA]);
  replies();
  feed([IAC, DONT, SGA]);
  assert.deepEqual(replies(), [[IAC, WONT, SGA], [IAC, WONT, ECHO]]);
  assert.equal(filter.characterMode, false);
  assert.deepEqual(heard.slice(1), ["refused"]);
  feed([IAC, DONT, ECHO]);
  assert.deepEqual(replies(), []);
});

Deno.test("changing our mind before the client answered is queued (RFC 1143), and ends where we wanted", () => {
  const { filter, feed, replies } = named("XTERM");
  filter.setCharacterMode(true);
  filter.setCharacterMode(false); // nothing more is sent while the requests are out
  assert.deepEqual(replies(), [[IAC, WILL, ECHO], [IAC, WILL, SGA], [IAC, DO, NAWS]]);
  feed([IAC, DO, ECHO, IAC, DO, SGA]); // their yes comes: we say no
  assert.deepEqual(replies(), [[IAC, WONT, ECHO], [IAC, WONT, SGA]]);
  filter.setCharacterMode(true); // and yes again before they answered that
  assert.deepEqual(replies(), []);
  feed([IAC, DONT, ECHO, IAC, DONT, SGA]);
  assert.deepEqual(replies(), [[IAC, WILL, ECHO], [IAC, WILL, SGA]]);
  feed([IAC, DO, ECHO, IAC, DO, SGA]);
  assert.equal(filter.characterMode, true);
  assert.deepEqual(replies(), []);
});

Deno.test("the password echo of line mode and a later request for character mode do not cross", () => {
  const { filter, feed, replies } = named("XTERM");
  filter.serverEcho = true; // the dialect sent WILL ECHO
  feed([IAC, DO, ECHO]);
  filter.serverEcho = false; // the dialect sent WONT ECHO
  filter.setCharacterMode(true); // before the client answered the WONT
  assert.deepEqual(replies(), [[IAC, WILL, SGA], [IAC, DO, NAWS]]);
  feed([IAC, DONT, ECHO]);
  assert.deepEqual(replies(), [[IAC, WILL, ECHO]]);
  feed([IAC, DO, SGA, IAC, DO, ECHO]);
  assert.equal(filter.characterMode, true);
});

Deno.test("keys after the agreement in the same read are left for character mode: switchedAt marks them", () => {
  const { filter } = named("XTERM");
  filter.setCharacterMode(true);
  const buf = new Uint8Array([...text("ab"), IAC, DO, ECHO, IAC, DO, SGA, ...text("xy")]);
  const end = filter.filter(buf, 0, buf.length);
  assert.deepEqual([...buf.subarray(0, end)], text("ab"));
  assert.equal(filter.switchedAt, buf.length - 2);
  assert.equal(filter.characterMode, true);
});

Deno.test("without askTerminalType (the client's own filter) nothing is asked", () => {
  const sent: number[][] = [];
  const filter = new TelnetFilter((b) => sent.push([...b]), { offered: true });
  const buf = new Uint8Array([IAC, WILL, BINARY, IAC, WILL, TTYPE]);
  filter.filter(buf, 0, buf.length);
  assert.deepEqual(sent, [[IAC, DONT, TTYPE]]);
});

Deno.test("plain terminals are recognised by family; MUD clients, dumb and unknown names are not", () => {
  for (const name of ["XTERM", "xterm-256color", "VT100", "vt220", "DEC-VT100", "ANSI", "LINUX", "SCREEN"]) {
    assert.ok(isPlainTerminal(name), name);
  }
  for (const name of ["screen.xterm-256color", "TMUX-256COLOR", "rxvt-unicode", "PUTTY", "st-256color", "cygwin"]) {
    assert.ok(isPlainTerminal(name), name);
  }
  for (const name of ["TINYFUGUE", "MUDLET", "MUSHCLIENT", "ZMUD", "CMUD", "TINTIN++", "DUMB", "UNKNOWN", "", "stx"]) {
    assert.ok(!isPlainTerminal(name), name);
  }
});
