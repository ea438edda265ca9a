/**
 * Lines of a busy room go out as runs of the line slab (see byte_slab.ts
 * and `Outbox.push`): these tests check, over real sockets, that every
 * receiver still gets exactly its lines, whole and in order, when several
 * senders' lines are read in one turn and some receivers skip some of them.
 */
import assert from "node:assert/strict";
import { ircJoin, ircLogin, startIrcServer } from "./irc_helpers.ts";
import { doorPort } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";

const COUNT = 60;
const linesOf = (who: string) => Array.from({ length: COUNT }, (_, i) => `${who} line ${i} ${"é".repeat(i % 7)}.`);

Deno.test("lines of a busy room reach every member whole and in each sender's order, around lines one ignores", async () => {
  await using chat = await startIrcServer({ httpPort: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  const dave = await ircLogin(chat, "dave");
  await ircJoin(dave, "dave", "#main");
  const eve = await RawWebSocket.connect(doorPort(chat, "http"));
  await eve.sendText("login eve");
  await eve.waitForEvent((e) => e.type === "entered" && e.nick === "eve");
  carol.send("/ignore bob");
  await carol.waitFor(/^\*\*\* You now ignore/);
  const [fromAlice, fromBob] = [linesOf("a"), linesOf("b")];
  // One write each: the server reads many lines of both in one turn.
  await Promise.all([
    alice.sendRaw(fromAlice.join("\r\n") + "\r\n"),
    bob.sendRaw(fromBob.join("\r\n") + "\r\n"),
  ]);
  const chatOf = (seen: string[], nick: string) =>
    seen.filter((l) => l.startsWith(`${nick}: `)).map((l) => l.slice(nick.length + 2));
  const lastA = `alice: ${fromAlice.at(-1)}`;
  const lastB = `bob: ${fromBob.at(-1)}`;
  for (const who of [alice, bob]) {
    const seen = [...await who.until(lastA), ...await who.until(lastB)];
    seen.push(...who.take());
    assert.deepEqual(chatOf(seen, "alice"), fromAlice);
    assert.deepEqual(chatOf(seen, "bob"), fromBob);
  }
  const carolSaw = await carol.until(lastA);
  assert.deepEqual(chatOf(carolSaw, "alice"), fromAlice);
  assert.deepEqual(chatOf(carolSaw, "bob"), [], "carol ignores bob");
  const ircOf = (nick: string) => (line: string) => line.startsWith(`:${nick}!`) && line.includes(" PRIVMSG #main :");
  const daveSaw: string[] = [];
  while (daveSaw.filter(ircOf("alice")).length < COUNT || daveSaw.filter(ircOf("bob")).length < COUNT) {
    daveSaw.push(await dave.waitFor((l) => ircOf("alice")(l) || ircOf("bob")(l)));
  }
  const text = (line: string) => line.slice(line.indexOf(" :", 1) + 2);
  assert.deepEqual(daveSaw.filter(ircOf("alice")).map(text), fromAlice);
  assert.deepEqual(daveSaw.filter(ircOf("bob")).map(text), fromBob);
  const eveSaw: { nick: string; text: string }[] = [];
  while (eveSaw.length < 2 * COUNT) eveSaw.push(await eve.waitForEvent((e) => e.type === "chat"));
  assert.deepEqual(eveSaw.filter((e) => e.nick === "alice").map((e) => e.text), fromAlice);
  assert.deepEqual(eveSaw.filter((e) => e.nick === "bob").map((e) => e.text), fromBob);
  eve.close();
  await eve.done;
});
