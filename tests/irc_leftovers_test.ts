/**
 * IRC door leftovers from review, over real sockets: NAMES with no channel,
 * KICK with several channels, `PING :` with an empty token, and line ends
 * split across reads as the UTF-8 check and the line reader both see them.
 * @module
 */
import assert from "node:assert/strict";
import { ircConnect, ircJoin, ircLogin, startIrcServer, untagged } from "./irc_helpers.ts";
import type { TestClient } from "./helpers.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

async function opServer() {
  const store = Store.open("");
  store.saveAccount("olga", "olga", await hashPassword("olga-password"));
  return await startIrcServer({ database: store, op: ["olga"] });
}

/** Lines received up to the PONG of a marker PING (the marker's PONG included). */
async function upTo(c: TestClient, marker: string): Promise<string[]> {
  c.send(`PING :${marker}`);
  return await c.until((l) => l.endsWith(`PONG teaparty :${marker}`));
}

Deno.test("IRC: NAMES with no channel lists the channels the client is in, then 366 *", async () => {
  await using chat = await startIrcServer();
  const a = await ircLogin(chat, "amy");
  await ircJoin(a, "amy", "#main");
  await ircJoin(a, "amy", "#den");
  const b = await ircLogin(chat, "bob");
  await ircJoin(b, "bob", "#den");
  await ircJoin(b, "bob", "#attic"); // amy is not in it: not listed for her
  await a.waitFor(/bob!bob@teaparty JOIN #den/);
  a.send("NAMES");
  const seen = (await a.until(/ 366 amy \* /)).filter((l) => / 35[3] | 366 /.test(l));
  assert.deepEqual(seen, [
    ":teaparty 353 amy = #main :amy",
    ":teaparty 366 amy #main :End of /NAMES list",
    ":teaparty 353 amy = #den :amy bob",
    ":teaparty 366 amy #den :End of /NAMES list",
    ":teaparty 366 amy * :End of /NAMES list",
  ]);
  // In no channel: only the end.
  const c = await ircLogin(chat, "cat");
  c.send("NAMES");
  const alone = await upTo(c, "alone");
  assert.deepEqual(alone.filter((l) => / 35[3] | 366 /.test(l)), [":teaparty 366 cat * :End of /NAMES list"]);
});

Deno.test("IRC: NAMES with no channel keeps each list within 512 bytes", async () => {
  await using chat = await startIrcServer({ crowd: 200 });
  const nicks: string[] = [];
  const clients: TestClient[] = [];
  for (let i = 0; i < 18; i++) { // 18 nicks of 32 characters: more than one 353 line holds
    const nick = `n${String(i).padStart(2, "0")}${"x".repeat(29)}`;
    nicks.push(nick);
    const c = await ircLogin(chat, nick);
    await ircJoin(c, nick, "#big");
    clients.push(c);
  }
  const me = clients[0];
  await ircJoin(me, nicks[0], "#main");
  const from = me.raw.length;
  me.send("NAMES");
  const seen = await me.until(new RegExp(` 366 ${nicks[0]} \\* `));
  const lists = seen.filter((l) => l.startsWith(`:teaparty 353 ${nicks[0]} = #big :`));
  assert(lists.length >= 2, `split over several lines: ${lists.join("\n")}`);
  const listed = lists.flatMap((l) => l.slice(l.indexOf(" :") + 2).split(" "));
  assert.deepEqual(listed.sort(), [...nicks].sort());
  const raw = new TextDecoder().decode(Uint8Array.from(me.raw.slice(from)));
  for (const line of raw.split("\r\n")) assert(new TextEncoder().encode(line).length <= 510, line);
});

Deno.test("IRC: KICK with one channel and several nicks kicks each; 441 for a nick not there", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#den");
  const h = await ircLogin(chat, "hal");
  await ircJoin(h, "hal", "#den");
  const i = await ircLogin(chat, "ian");
  await ircJoin(i, "ian", "#den");
  await op.waitFor(/ian!ian@teaparty JOIN #den/);
  op.send("KICK #den hal,nobody,ian :tidy");
  const seen = await upTo(op, "one-channel");
  const kicks = seen.filter((l) => / KICK | 441 /.test(l)).map(untagged);
  assert.deepEqual(kicks, [
    ":olga!olga@teaparty KICK #den hal :tidy",
    ":teaparty 441 olga nobody #den :They aren't on that channel",
    ":olga!olga@teaparty KICK #den ian :tidy",
  ]);
  assert.deepEqual([...chat.server.find("hal")!.rooms].map((r) => r.name), []);
  assert.deepEqual([...chat.server.find("ian")!.rooms].map((r) => r.name), []);
});

Deno.test("IRC: KICK #a,#b nick1,nick2 kicks pairwise through the same path as a single KICK", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#den");
  await ircJoin(op, "olga", "#attic");
  const h = await ircLogin(chat, "hal");
  await ircJoin(h, "hal", "#den");
  await ircJoin(h, "hal", "#attic");
  const tel = await chat.login("ian"); // a line-protocol user kicked out of its only side room goes to main
  tel.send("/join attic");
  await op.waitFor(/ian!ian@teaparty JOIN #attic/);
  op.send("KICK #den,#attic hal,ian :pairs");
  assert.equal(untagged(await h.waitFor(/ KICK #den /)), ":olga!olga@teaparty KICK #den hal :pairs");
  await tel.waitFor("*** You were kicked from attic by olga: pairs");
  await tel.waitFor("*** ian has entered the room.");
  const seen = await upTo(op, "pairs");
  assert.deepEqual(seen.filter((l) => / KICK /.test(l)).map(untagged), [
    ":olga!olga@teaparty KICK #den hal :pairs",
    ":olga!olga@teaparty KICK #attic ian :pairs",
  ]);
  assert.deepEqual([...chat.server.find("hal")!.rooms].map((r) => r.name), ["attic"], "out of #den only");
  const logged = chat.logs.filter((l) => /moderation .*op=olga /.test(l));
  assert(logged.some((l) => /target=hal/.test(l)) && logged.some((l) => /target=ian/.test(l)), logged.join("\n"));
});

Deno.test("IRC: KICK with as many channels as nicks answers 403, 442, 482 and 441 per pair", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#den");
  const h = await ircLogin(chat, "hal");
  await ircJoin(h, "hal", "#den");
  await ircJoin(h, "hal", "#attic");
  // #nowhere does not exist, olga is not in #attic, nobody is not in #den.
  op.send("KICK #nowhere,#attic,#den,#den nobody,hal,nobody,hal");
  const seen = await upTo(op, "errors");
  assert.deepEqual(seen.filter((l) => / 403 | 442 | 441 | KICK /.test(l)).map(untagged), [
    ":teaparty 403 olga #nowhere :No such channel",
    ":teaparty 442 olga #attic :You're not on that channel",
    ":teaparty 441 olga nobody #den :They aren't on that channel",
    ":olga!olga@teaparty KICK #den hal :olga",
  ]);
  // Not an operator: 482 for each pair's channel.
  await ircJoin(h, "hal", "#den");
  const i = await ircLogin(chat, "ian");
  await ircJoin(i, "ian", "#den");
  await ircJoin(i, "ian", "#attic");
  h.send("KICK #den,#attic ian,ian");
  const refused = await upTo(h, "refused");
  assert.deepEqual(refused.filter((l) => / 482 /.test(l)), [
    ":teaparty 482 hal #den :You're not a channel operator (teaparty operators are --op nicks)",
    ":teaparty 482 hal #attic :You're not a channel operator (teaparty operators are --op nicks)",
  ]);
  assert.deepEqual([...chat.server.find("ian")!.rooms].map((r) => r.name), ["den", "attic"]);
});

Deno.test("IRC: KICK with more than one channel and a different number of nicks, or none, gets 461 and kicks no one", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#den");
  await ircJoin(op, "olga", "#attic");
  const h = await ircLogin(chat, "hal");
  await ircJoin(h, "hal", "#den");
  await ircJoin(h, "hal", "#attic");
  op.send("KICK #den,#attic hal");
  op.send("KICK #den,#attic hal,hal,hal");
  op.send("KICK #den ,");
  op.send("KICK , hal");
  const seen = await upTo(op, "mismatch");
  assert.deepEqual(seen.filter((l) => /^:teaparty 461 /.test(l)), [
    ":teaparty 461 olga KICK :Give one channel, or as many channels as nicks (2 channels, 1 nick)",
    ":teaparty 461 olga KICK :Give one channel, or as many channels as nicks (2 channels, 3 nicks)",
    ":teaparty 461 olga KICK :Not enough parameters (no nick)",
    ":teaparty 461 olga KICK :Not enough parameters (no channel)",
  ]);
  assert(!seen.some((l) => / KICK #/.test(l)), seen.join("\n"));
  assert.deepEqual([...chat.server.find("hal")!.rooms].map((r) => r.name), ["den", "attic"]);
});

Deno.test("IRC: PING with an empty trailing token is answered PONG teaparty :, PING alone still gets 461", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "pat");
  c.send("PING :");
  assert.equal(await c.waitFor(/PONG|461/), ":teaparty PONG teaparty :");
  c.send("PING");
  assert.equal(await c.waitFor(/PONG|461/), ":teaparty 461 pat PING :Not enough parameters");
  c.send("PING :tok");
  assert.equal(await c.waitFor(/PONG|461/), ":teaparty PONG teaparty :tok");
  // Before registration too.
  const d = await ircConnect(chat);
  await d.sendRaw("PING :\r\n");
  assert.equal(await d.waitFor(/PONG|461/), ":teaparty PONG teaparty :");
});

Deno.test("IRC: the keepalive still works after PING :, PONG answers the server's PING", async () => {
  await using chat = await startIrcServer({ keepalive: 0.5 });
  const c = await ircLogin(chat, "kim");
  c.send("PING :");
  await c.waitFor(":teaparty PONG teaparty :");
  assert.equal(await c.waitFor(/^PING /, 3000), "PING :teaparty");
  c.send("PONG :teaparty");
  assert.equal(await c.waitFor(/^PING /, 3000), "PING :teaparty", "answered: still here, pinged again later");
  c.send("PONG :");
  assert.equal(await c.waitFor(/^PING /, 3000), "PING :teaparty", "an empty PONG answers too");
  await c.waitFor(/^ERROR :Ping timeout/, 4000); // silent now: dropped
});

Deno.test("IRC: line ends split across reads (CR, then LF or NUL) number the lines as the UTF-8 check does", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "lou");
  await ircJoin(c, "lou", "#main");
  const w = await ircLogin(chat, "wes");
  await ircJoin(w, "wes", "#main");
  const bytes = (...parts: (string | number[])[]) =>
    Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : p));
  const said = (text: string) => w.waitFor((l) => untagged(l) === `:lou!lou@teaparty PRIVMSG #main :${text}`);
  // A CR ends its line at once; the LF or NUL that comes in the next read belongs to it, and is no line of its own:
  // were it counted as one by the UTF-8 check and not by the reader, the FAIL would land on the wrong line.
  await c.sendRaw("PRIVMSG #main :one\r");
  await said("one");
  await c.sendRaw(bytes([0], "PRIVMSG #main :two\r"));
  await said("two");
  await c.sendRaw(bytes("\nPRIVMSG #main :three\rPRIVMSG #main :bad", [0xe9], "\r\n"));
  await said("three");
  await c.sendRaw(bytes("PRIVMSG #main :four\r", [0], "PRIVMSG #main :five\n"));
  await said("five");
  const seen = await upTo(c, "line-ends");
  assert.deepEqual(seen.filter((l) => /FAIL/.test(l)), [
    ":teaparty FAIL PRIVMSG INVALID_UTF8 :Message rejected: this server takes UTF-8 only (UTF8ONLY)",
  ]);
  const relayed = await upTo(w, "relayed");
  assert(!relayed.some((l) => /bad/.test(l)), relayed.join("\n"));
  assert(!w.lines.some((l) => /bad/.test(l)), w.lines.join("\n"));
});
