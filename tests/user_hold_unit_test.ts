/**
 * A user's held deliveries (cluster mode: a room's history is read from
 * Redis while its live lines already arrive): the entry first, then the
 * history, then live lines; a line in both shows once (live if said after the
 * entry).
 */
import assert from "node:assert/strict";
import { User } from "../user.ts";
import { Delivery } from "../dialects/dialect.ts";
import type { ChatEvent } from "../events.ts";

function recorder(): { user: User; got: ChatEvent[] } {
  const got: ChatEvent[] = [];
  // deno-lint-ignore no-explicit-any
  const push = (e: any) => got.push(e);
  return { user: new User("bob", "bob", { receive: (d) => push(d.event) }), got };
}

const chat = (id: number): ChatEvent => ({ type: "chat", room: "main", nick: "alice", text: `line ${id}`, at: 0, id });
const history = (id: number): ChatEvent => ({
  type: "history",
  room: "main",
  kind: "chat",
  nick: "alice",
  text: `line ${id}`,
  at: 0,
  id,
});

/** "chat line 3", "history line 1", or just the type. */
function describe(e: ChatEvent): string {
  return "text" in e && (e.type === "chat" || e.type === "history") ? `${e.type} ${e.text}` : e.type;
}

Deno.test("while held nothing is delivered; on release the entry, the history, then live lines not in it", () => {
  const { user, got } = recorder();
  user.hold();
  user.receive(new Delivery(chat(2)));
  user.receive(new Delivery({ type: "entered", room: "main", nick: "bob", at: 0 }));
  user.receive(new Delivery(chat(3)));
  user.receive(new Delivery({ type: "notice", text: "hello" }));
  assert.equal(got.length, 0);
  user.release([history(1), history(2)].map((e) => new Delivery(e)));
  assert.deepEqual(got.map(describe), [
    "entered",
    "history line 1",
    "history line 2",
    "chat line 3",
    "notice",
  ]);
  user.receive(new Delivery(chat(4)));
  assert.equal(got.length, 6, "after the release deliveries pass at once");
});

Deno.test("a room line held after the entry shows live, in its place, though the history read holds it too", () => {
  const { user, got } = recorder();
  user.hold();
  user.receive(new Delivery(chat(2))); // said before bob entered: history
  user.receive(new Delivery({ type: "entered", room: "main", nick: "bob", at: 0 }));
  user.receive(new Delivery(chat(3))); // said after: live, though the history was read after it was stored
  user.receive(new Delivery(chat(4)));
  user.release([history(1), history(2), history(3)].map((e) => new Delivery(e)));
  assert.deepEqual(got.map(describe), [
    "entered",
    "history line 1",
    "history line 2",
    "chat line 3",
    "chat line 4",
  ]);
});

Deno.test("holds nest: only the last release delivers, everything in order", () => {
  const { user, got } = recorder();
  user.hold();
  user.hold();
  user.receive(new Delivery(chat(5)));
  user.release([new Delivery(history(4))]);
  assert.equal(got.length, 0);
  user.release([]);
  assert.deepEqual(got.map((e) => e.type), ["history", "chat"]);
});
