/**
 * The in-memory room history: the same answers as the SQLite table it
 * replaces (checked against an SQLite file store on the same lines), and
 * its per-room cap.
 */
import assert from "node:assert/strict";
import { RoomHistory, type StoredMessage } from "../room_history.ts";
import { Store } from "../store.ts";

const line = (room: string, at: number, text: string): StoredMessage => ({ room, at, kind: "chat", nick: "a", text });

Deno.test("room history: ids rise across rooms and each room keeps its own lines in order", () => {
  const history = new RoomHistory(0);
  const lines = [line("main", 1, "m1"), line("side", 2, "s1"), line("main", 3, "m2")];
  history.add(lines);
  assert.deepEqual(lines.map((m) => m.id), [1, 2, 3]);
  assert.deepEqual(history.recent("main", 10).map((m) => [m.id, m.text]), [[1, "m1"], [3, "m2"]]);
  assert.deepEqual(history.recent("side", 10).map((m) => m.text), ["s1"]);
  assert.deepEqual(history.recent("none", 10), []);
});

Deno.test("room history: a caller changing a line it was given does not change what is kept", () => {
  const history = new RoomHistory(0);
  history.add([line("main", 1, "kept")]);
  history.recent("main", 1)[0].text = "changed";
  history.within("main", {}, 1, true)[0].text = "changed";
  assert.equal(history.recent("main", 1)[0].text, "kept");
});

Deno.test("room history: keep N trims a room to its newest N lines in steps, other rooms untouched", () => {
  const history = new RoomHistory(8);
  for (let i = 0; i < 50; i++) {
    history.add([line("busy", i, `b${i}`)]);
    const kept = history.recent("busy", 100).length;
    assert.ok(kept <= 9, `kept ${kept} after ${i + 1}`);
  }
  history.add([line("quiet", 0, "q0")]);
  assert.deepEqual(
    history.recent("busy", 100).map((m) => m.text).slice(-8),
    Array.from({ length: 8 }, (_, i) => `b${42 + i}`),
  );
  assert.deepEqual(history.recent("quiet", 100).map((m) => m.text), ["q0"]);
});

Deno.test("room history: forget drops one room's lines", () => {
  const history = new RoomHistory(0);
  history.add([line("a", 1, "a"), line("b", 1, "b")]);
  history.forget("a");
  assert.deepEqual(history.recent("a", 10), []);
  assert.equal(history.recent("b", 10).length, 1);
});

Deno.test("room history answers recent and within as the SQLite file store does, times out of order included", async () => {
  const dir = await Deno.makeTempDir();
  const file = Store.open(`${dir}/same.db`);
  const history = new RoomHistory(0);
  try {
    // Times mostly rise but jump back twice (a clock set back); two rooms interleave.
    const ats = [100, 200, 300, 250, 400, 500, 450, 600, 700, 800, 900, 1000];
    const make = () => ats.map((at, i) => line(i % 3 === 2 ? "side" : "main", at, `t${i}`));
    const mine = make();
    const theirs = make();
    history.add(mine);
    file.addMessages(theirs);
    assert.deepEqual(mine.map((m) => m.id), theirs.map((m) => m.id));
    const ids = mine.map((m) => m.id!);
    for (const room of ["main", "side", "none"]) {
      for (const limit of [0, 1, 3, 20]) {
        for (const before of [undefined, 0, 250, 451, 1000, 2000]) {
          assert.deepEqual(
            history.recent(room, limit, before),
            file.recent(room, limit, before),
            `${room} ${limit} ${before}`,
          );
        }
        const bounds = [
          {},
          { afterId: ids[2] },
          { beforeId: ids[9] },
          { afterId: ids[1], beforeId: ids[10] },
          { afterAt: 250, beforeAt: 800 },
          { afterId: ids[0], beforeAt: 600 },
          { afterId: ids[8], beforeId: ids[3] },
        ];
        for (const b of bounds) {
          for (const newest of [true, false]) {
            assert.deepEqual(
              history.within(room, b, limit, newest),
              file.within(room, b, limit, newest),
              `${room} ${limit} ${JSON.stringify(b)} ${newest}`,
            );
          }
        }
      }
    }
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
});
