import assert from "node:assert/strict";
import { type ByteSink, Outbox, TURN_WRITES } from "../outbox.ts";
import { pollTurn } from "../poll_turn.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("a line read while a flush is under way goes out in the same flush to the receivers still to be written", async () => {
  assert.equal(await pollTurn.open(), true);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sender = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
  const server = await listener.accept();
  listener.close();
  try {
    // Four turns of writes: the flush goes on three times.
    const count = TURN_WRITES * 3 + 10;
    const writes: string[][] = Array.from({ length: count }, () => []);
    const owner = { overflowed: () => assert.fail("overflow"), writeFailed: (e: unknown) => assert.fail(String(e)) };
    let asked = false;
    const outboxes = writes.map((received) => {
      const sink: ByteSink = {
        write(p) {
          received.push(decoder.decode(p));
          // The first write of the flush makes the sender send its next line, which the server reads mid-flush.
          if (!asked) {
            asked = true;
            sender.write(encoder.encode("second\n"));
          }
          return Promise.resolve(p.length);
        },
      };
      return new Outbox(sink, 1 << 20, owner);
    });
    const read = server.read(new Uint8Array(64)).then(() => {
      const line = encoder.encode("second\n");
      for (const outbox of outboxes) outbox.push(line);
    });
    await new Promise((resolve) => setTimeout(resolve, 5)); // the server's read is pending: nothing sent yet
    const first = encoder.encode("first\n");
    for (const outbox of outboxes) outbox.push(first);
    await read;
    await Promise.all(outboxes.map((outbox) => outbox.drained()));
    assert.deepEqual(writes[0], ["first\n", "second\n"], "the first receiver was written before the line came");
    assert.deepEqual(writes[count - 1], ["first\nsecond\n"], "the last receiver got both lines in one write");
  } finally {
    sender.close();
    server.close();
    pollTurn.close();
  }
});
