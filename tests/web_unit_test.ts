/**
 * The web client's pure helpers (web/app.js), without a browser: nick
 * colours, reconnect backoff, what a typed line becomes, which lines carry
 * passwords, times and mentions, the server's line limit.
 */
import assert from "node:assert/strict";
import {
  backoff,
  byteLength,
  clock,
  COLOURS,
  foldNick,
  foldRoom,
  isSecret,
  limitInReason,
  MAX_LINE,
  mentions,
  nickColour,
  outgoing,
  passwordIn,
  privateTarget,
  reconnectAfter,
  tooLong,
  welcomeLimit,
} from "../web/app.js";

const room = { kind: "room", name: "main" } as const;
const bob = { kind: "private", name: "bob" } as const;

Deno.test("a nick's colour is the same for every spelling of it and spread over the palette", () => {
  assert.equal(nickColour("Alice"), nickColour("alice"));
  assert.equal(nickColour("ΚΩΣ"), nickColour("κωσ"));
  const used = new Set(
    ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"].map(nickColour),
  );
  assert.ok(used.size >= 6, `only ${used.size} colours for 10 nicks`);
  for (const c of used) assert.ok(Number.isInteger(c) && c >= 0 && c < COLOURS);
  assert.equal(foldNick("ΚΩΣ"), foldNick("κωσ"));
  assert.equal(foldRoom("#Garden"), "garden");
});

Deno.test("reconnecting waits 0.5 s, doubling up to 15 s, give or take a quarter", () => {
  const middle = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 20].map((a) => backoff(a, middle)), [
    500,
    1000,
    2000,
    4000,
    8000,
    15000,
    15000,
    15000,
  ]);
  assert.equal(backoff(0, () => 0), 375);
  assert.equal(backoff(5, () => 0.9999), 18749);
});

Deno.test("in a room a line goes as typed; in a private conversation plain text becomes /msg", () => {
  assert.deepEqual(outgoing(room, "hello there"), { send: "hello there" });
  assert.deepEqual(outgoing(room, "/join garden"), { send: "/join garden" });
  assert.deepEqual(outgoing(room, "@bob psst"), { send: "@bob psst" });
  assert.deepEqual(outgoing(room, "   "), {});
  assert.deepEqual(outgoing(bob, "hello"), { send: "/msg bob hello" });
  assert.deepEqual(outgoing(bob, "look"), { send: "/msg bob look" }, "a bare command word is text here");
  assert.deepEqual(outgoing(bob, "//slash text"), { send: "/msg bob /slash text" });
  assert.deepEqual(outgoing(bob, "/who"), { send: "/who" });
  assert.match(outgoing(bob, "/me waves").error ?? "", /acts in the room/);
  assert.deepEqual(outgoing(room, "/query carol"), { local: "query", arg: "carol", send: undefined });
  assert.deepEqual(outgoing(room, "/query carol hi there"), {
    local: "query",
    arg: "carol",
    send: "/msg carol hi there",
  });
  assert.match(outgoing(room, "/query").error ?? "", /Usage/);
  assert.deepEqual(outgoing(bob, "/close"), { local: "close" });
});

Deno.test("a line longer than the server takes is refused before it is sent", () => {
  assert.deepEqual(outgoing(room, "x".repeat(MAX_LINE)), { send: "x".repeat(MAX_LINE) });
  assert.match(outgoing(room, "x".repeat(MAX_LINE + 1)).error ?? "", /4097 bytes.*at most 4096/);
  assert.match(outgoing(room, "é".repeat(2049)).error ?? "", /4098 bytes/, "counted in UTF-8");
  assert.match(outgoing(bob, "x".repeat(MAX_LINE - 5)).error ?? "", /at most 4096/, "with the /msg prefix");
  assert.equal(byteLength("茶"), 3);
});

Deno.test("the limit is the one the server's welcome gives (--max-line), counted in UTF-8 bytes as sent", () => {
  assert.equal(welcomeLimit({ type: "welcome", server: "x", text: "", maxLine: 200 }), 200);
  assert.equal(welcomeLimit({ type: "welcome", server: "x", text: "" }), MAX_LINE, "an older server: the default");
  assert.equal(welcomeLimit({ type: "welcome", maxLine: 300 }, 150), 300);
  assert.equal(welcomeLimit({ type: "welcome" }, 150), 150, "none given: what is known stays");
  for (const bad of [0, -1, 1.5, "200", null]) assert.equal(welcomeLimit({ type: "welcome", maxLine: bad }), MAX_LINE);
  assert.deepEqual(outgoing(room, "x".repeat(200), 200), { send: "x".repeat(200) }, "exactly the limit is taken");
  assert.equal(
    outgoing(room, "x".repeat(300), 200).error,
    "That line is 300 bytes; the server takes at most 200. It was not sent: it is still in the box.",
  );
  assert.match(outgoing(room, "茶".repeat(67), 200).error ?? "", /^That line is 201 bytes/, "67 × 3 bytes");
  assert.deepEqual(outgoing(room, "茶".repeat(66), 200), { send: "茶".repeat(66) });
  assert.match(outgoing(bob, "x".repeat(192), 200).error ?? "", /^That line is 201 bytes/, "/msg bob and the text");
  assert.equal(tooLong("x".repeat(200), 200), "");
  assert.equal(limitInReason("message too big: at most 200 bytes"), 200, "the server's 1009 reason");
  assert.equal(limitInReason(""), undefined);
});

Deno.test("a private line names who answers about it belong to", () => {
  assert.equal(privateTarget("@rooty are you there?"), "rooty");
  assert.equal(privateTarget("/msg Rooty hi"), "Rooty");
  assert.equal(privateTarget("/MSG rooty hi"), "rooty");
  assert.equal(privateTarget("@rooty"), undefined, "no text: not a message");
  assert.equal(privateTarget("hello @rooty"), undefined);
  assert.equal(privateTarget("/whois rooty"), undefined);
});

Deno.test("lines that may carry a password are not recalled, and the page keeps the new password in memory", () => {
  for (const line of ["/register pw", "login bob pw", "/password a b", "/nick bob pw", "/NICK bob"]) {
    assert.ok(isSecret(line), line);
  }
  for (const line of ["hello", "/join x", "/msg bob register", "nickname"]) assert.ok(!isSecret(line), line);
  assert.deepEqual(passwordIn("/register tea-time", "alice"), { nick: "alice", password: "tea-time" });
  assert.deepEqual(passwordIn("/password old new", "alice"), { nick: "alice", password: "new" });
  assert.deepEqual(passwordIn("/nick bob sekrit", "alice"), { nick: "bob", password: "sekrit" });
  assert.equal(passwordIn("/nick bob", "alice"), undefined);
  assert.equal(passwordIn("register tea-time", "alice"), undefined, "not a command: said to the room");
});

Deno.test("times show HH:MM today and the date on other days; mentions are whole words", () => {
  const now = new Date(2026, 10, 23, 15, 0);
  assert.equal(clock(new Date(2026, 10, 23, 9, 5), now), "09:05");
  assert.equal(clock(new Date(2026, 10, 22, 23, 59), now), "2026-11-22 23:59");
  assert.equal(clock("not a time", now), "");
  assert.ok(mentions("hi Alice!", "alice"));
  assert.ok(mentions("alice: look", "alice"));
  assert.ok(!mentions("malice aforethought", "alice"));
  assert.ok(!mentions("alice_2 is here", "alice"));
  assert.ok(!mentions("anything", ""));
});

Deno.test("the page reconnects after a lost connection or a restart, not after a kick, a ban or a logout", () => {
  assert.ok(reconnectAfter("", 1006), "lost");
  assert.ok(reconnectAfter("", 1000), "closed without a word");
  assert.ok(reconnectAfter("The server is shutting down. Goodbye!", 1001));
  assert.ok(reconnectAfter("The server is shutting down. Goodbye!", 1006), "the close frame was lost");
  assert.ok(reconnectAfter("Bye", 1001), "going away");
  assert.ok(!reconnectAfter("You were kicked by op: spam", 1000));
  assert.ok(!reconnectAfter("You were kicked by op: spam", 1006), "a kick without its close frame");
  assert.ok(!reconnectAfter("You are banned for 1h", 1000));
  assert.ok(!reconnectAfter("You (alice) logged in from another connection; this one is closed.", 1000));
  assert.ok(!reconnectAfter("Goodbye, alice!", 1000));
  assert.ok(!reconnectAfter("", 1008), "origin refused");
  assert.ok(reconnectAfter("", 1009), "a line too long: it is put back in the box, the page comes back");
  assert.ok(!reconnectAfter("", 1003), "binary frame");
});
