import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { PollTurn } from "../poll_turn.ts";

/** A connected pair of loopback sockets. */
async function socketPair(): Promise<[Deno.Conn, Deno.Conn, () => void]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
  const server = await listener.accept();
  listener.close();
  return [client, server, () => (client.close(), server.close())];
}

/**
 * Chains turns with `next` (each busy for 0.2 ms, as a flush's turn is),
 * sends a byte from the peer after the chain has started and counts the
 * turns that ran before the read of it was handled (at most 200).
 */
async function turnsUntilRead(next: (callback: () => void) => void): Promise<number> {
  const [client, server, close] = await socketPair();
  try {
    let seen = false;
    const read = server.read(new Uint8Array(8)).then(() => seen = true);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the read is pending: nothing to read yet
    await client.write(new Uint8Array([1]));
    let turns = 0;
    await new Promise<void>((resolve) => {
      const turn = () => {
        const start = performance.now();
        while (performance.now() - start < 0.2) { /* a turn's work */ }
        if (seen || ++turns >= 200) resolve();
        else next(turn);
      };
      next(turn);
    });
    await read;
    return turns;
  } finally {
    close();
  }
}

Deno.test("a read that arrives while turns follow one another is handled before the next turn", async () => {
  const turns = new PollTurn();
  assert.equal(await turns.open(), true);
  try {
    assert.equal(turns.polling, true);
    const count = await turnsUntilRead((callback) => turns.after(callback));
    assert.ok(count <= 2, `the read waited ${count} turns`);
  } finally {
    turns.close();
  }
});

Deno.test("setImmediate turns, by contrast, leave a read waiting for dozens of turns (why PollTurn exists)", async () => {
  const count = await turnsUntilRead((callback) => setImmediate(callback));
  assert.ok(count > 10, `the read waited only ${count} turns: Deno may now poll sockets between immediates`);
});

Deno.test("before open, after() still runs each callback, in order, in a later turn", async () => {
  const turns = new PollTurn();
  assert.equal(turns.polling, false);
  const ran: number[] = [];
  await new Promise<void>((resolve) => {
    turns.after(() => ran.push(1));
    turns.after(() => (ran.push(2), resolve()));
    assert.deepEqual(ran, []); // not at once
  });
  assert.deepEqual(ran, [1, 2]);
});

Deno.test("callbacks asked for while the byte is on its way run in the same later turn, in order", async () => {
  const turns = new PollTurn();
  await turns.open();
  try {
    const ran: string[] = [];
    await new Promise<void>((resolve) => {
      turns.after(() => ran.push("a"));
      turns.after(() => ran.push("b"));
      turns.after(() => (ran.push("c"), resolve()));
    });
    assert.deepEqual(ran, ["a", "b", "c"]);
    await new Promise<void>((resolve) => turns.after(resolve)); // and the pair still works after
  } finally {
    turns.close();
  }
});

Deno.test("closing while a turn waits still runs it, and later turns fall back to setImmediate", async () => {
  const turns = new PollTurn();
  await turns.open();
  const ran = new Promise<void>((resolve) => turns.after(resolve));
  turns.close(); // the pair goes (the resource sanitizer checks that both sockets are closed)
  await ran;
  assert.equal(turns.polling, false);
  await new Promise<void>((resolve) => turns.after(resolve));
});

Deno.test("open is shared: the pair stays until the last open is closed", async () => {
  const turns = new PollTurn();
  assert.equal(await turns.open(), true);
  assert.equal(await turns.open(), true);
  turns.close();
  assert.equal(turns.polling, true);
  await new Promise<void>((resolve) => turns.after(resolve));
  turns.close();
  assert.equal(turns.polling, false);
  turns.close(); // one close too many does nothing
  assert.equal(await turns.open(), true);
  turns.close();
});

Deno.test("an open closed before the pair is ready leaves nothing open", async () => {
  const turns = new PollTurn();
  const opening = turns.open();
  turns.close();
  assert.equal(await opening, false);
  assert.equal(turns.polling, false);
});

Deno.test({
  name: "without net access to 127.0.0.1, open resolves false and turns still run",
  permissions: { net: ["127.0.0.1:1"] },
  fn: async () => {
    const turns = new PollTurn();
    assert.equal(await turns.open(), false);
    assert.equal(turns.polling, false);
    await new Promise<void>((resolve) => turns.after(resolve));
    turns.close();
  },
});
