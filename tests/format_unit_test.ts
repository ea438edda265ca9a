import assert from "node:assert/strict";
import {
  action,
  chat,
  formatTime,
  historyLine,
  mailLine,
  nameList,
  notice,
  NOTICE_PREFIX,
  privateFrom,
  privateTo,
} from "../format.ts";

Deno.test("nameList of no names is empty", () => {
  assert.equal(nameList([]), "");
});

Deno.test("nameList of one name is that name", () => {
  assert.equal(nameList(["alice"]), "alice");
});

Deno.test("nameList joins two names with and", () => {
  assert.equal(nameList(["alice", "bob"]), "alice and bob");
});

Deno.test("nameList joins three names with a comma and and", () => {
  assert.equal(nameList(["alice", "bob", "carol"]), "alice, bob and carol");
});

Deno.test("nameList counts one name past the shown ones as 1 other", () => {
  assert.equal(nameList(["alice", "bob", "carol", "dave"]), "alice, bob, carol and 1 other");
});

Deno.test("nameList counts many names past the shown ones as N others", () => {
  const names = Array.from({ length: 38 }, (_, i) => `u${i}`);
  assert.equal(nameList(names), "u0, u1, u2 and 35 others");
});

Deno.test("nameList shows as many names as asked", () => {
  assert.equal(nameList(["a", "b", "c", "d", "e"], 5), "a, b, c, d and e");
  assert.equal(nameList(["a", "b", "c", "d", "e"], 2), "a, b and 3 others");
});

Deno.test("a notice starts with the notice prefix", () => {
  assert.equal(NOTICE_PREFIX, "*** ");
  assert.equal(notice("alice has entered the room."), "*** alice has entered the room.");
});

Deno.test("chat, action and private lines have their own forms", () => {
  assert.equal(chat("alice", "hi"), "alice: hi");
  assert.equal(action("alice", "waves"), "* alice waves");
  assert.equal(privateFrom("alice", "psst"), "[private] alice: psst");
  assert.equal(privateTo("bob", "psst"), "[private to bob] psst");
});

Deno.test("no chat, action or private line starts like a notice", () => {
  for (const line of [chat("a", "*** x"), action("a", "x"), privateFrom("a", "x"), privateTo("a", "x")]) {
    assert.equal(line.startsWith(NOTICE_PREFIX), false, line);
  }
});

Deno.test("formatTime shows a UTC time to the second", () => {
  assert.equal(formatTime(0), "1970-01-01 00:00:00");
  assert.equal(formatTime(Date.UTC(2024, 1, 29, 23, 5, 9, 999)), "2024-02-29 23:05:09");
});

Deno.test("a history line is marked with its time and keeps the chat or action form", () => {
  const at = Date.UTC(2024, 0, 2, 3, 4, 5);
  assert.equal(historyLine(at, "chat", "alice", "hi"), "[history 2024-01-02 03:04:05] alice: hi");
  assert.equal(historyLine(at, "action", "alice", "waves"), "[history 2024-01-02 03:04:05] * alice waves");
});

Deno.test("a mail line is marked with its time and sender", () => {
  assert.equal(mailLine(Date.UTC(2024, 0, 2, 3, 4, 5), "bob", "see you"), "[mail 2024-01-02 03:04:05] bob: see you");
});
