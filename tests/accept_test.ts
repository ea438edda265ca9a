/**
 * The accept loop shared by every door, over real sockets: connections that
 * fail before they are accepted cost nothing but themselves.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";
import { connectAndReset } from "./sockopt.ts";

Deno.test("connections reset before they are accepted do not slow accepting, and are not logged as errors", async () => {
  await using chat = await startServer();
  const resets = 40;
  connectAndReset(chat.port, resets);
  const started = performance.now();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  const took = performance.now() - started;
  assert.ok(took < 2000, `the greeting took ${took.toFixed(0)} ms after ${resets} resets (100 ms each would be 4 s)`);
  assert.ok(
    !chat.logs.some((l) => /ERROR accept failed/.test(l)),
    chat.logs.filter((l) => /accept/.test(l)).join("\n"),
  );
});
