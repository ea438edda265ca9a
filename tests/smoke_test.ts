import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";

Deno.test("two users chat in the main room", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  bob.send("hello 茶 🍵");
  assert.equal(await alice.waitFor(/^bob:/), "bob: hello 茶 🍵");
  assert.equal(await bob.waitFor(/^bob:/), "bob: hello 茶 🍵");
});
