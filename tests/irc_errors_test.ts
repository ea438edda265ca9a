/**
 * The IRC door's rarer error numerics, each from the request that causes it:
 * 331, 403, 405, 442, 465, 491, 524, 704/706, 905, 907. The session goes on
 * after each (but 465, which ends it as a ban does on every door).
 */
import assert from "node:assert/strict";
import { ircConnect, ircJoin, ircLogin, startIrcServer } from "./irc_helpers.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

Deno.test("TOPIC without a topic gives 331; PART of a channel one is not in 442, of one that does not exist 403", async () => {
  await using chat = await startIrcServer();
  await chat.login("tom"); // keeps #main there
  const c = await ircLogin(chat, "tia");
  c.send("TOPIC #main");
  assert.equal(await c.waitFor(/ 331 /), ":teaparty 331 tia #main :No topic is set");
  c.send("PART #main");
  assert.equal(await c.waitFor(/ 442 /), ":teaparty 442 tia #main :You're not on that channel");
  await ircJoin(c, "tia", "#den");
  c.send("PART #den");
  await c.waitFor(/:tia!tia@teaparty PART #den/);
  c.send("PART #den,nochan"); // emptied, #den is gone
  assert.equal(await c.waitFor(/ 403 /), ":teaparty 403 tia #den :No such channel");
  assert.equal(await c.waitFor(/ 403 /), ":teaparty 403 tia nochan :No such channel");
  c.send("PING :still");
  await c.waitFor(/PONG .*:still$/);
});

Deno.test("JOIN past 50 channels gives 405 for each one more, and the first 50 stay joined", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "many");
  const names = Array.from({ length: 52 }, (_, i) => `#c${i}`);
  c.send(`JOIN ${names.slice(0, 26).join(",")}`);
  await c.waitFor(/ 366 many #c25 /);
  c.send(`JOIN ${names.slice(26).join(",")}`);
  assert.equal(
    await c.waitFor(/ 405 /),
    ":teaparty 405 many #c50 :You have joined too many channels (at most 50)",
  );
  await c.waitFor(/ 405 many #c51 /);
  assert.equal(chat.server.find("many")!.rooms.size, 50);
});

Deno.test("OPER gives 491 and says where operators come from; HELP with an unknown topic 524, a known one 704/706", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "ola");
  c.send("OPER ola secret");
  assert.match(await c.waitFor(/ 491 /), /^:teaparty 491 ola :No O-lines here: operators are registered --op nicks/);
  c.send("HELP FROBNICATE");
  assert.equal(await c.waitFor(/ 524 /), ":teaparty 524 ola FROBNICATE :No help for that topic");
  c.send("HELP privmsg");
  assert.match(await c.waitFor(/ 704 /), /^:teaparty 704 ola PRIVMSG :PRIVMSG /);
  await c.waitFor(/ 706 ola PRIVMSG /);
});

Deno.test("SASL: a second AUTHENTICATE after success gives 907, a response past 1200 characters 905", async () => {
  const store = Store.open("");
  store.saveAccount("sam", "sam", await hashPassword("sam's password"));
  await using chat = await startIrcServer({ database: store });
  const long = await ircConnect(chat);
  long.send("CAP LS 302");
  long.send("CAP REQ :sasl");
  long.send("NICK guest1");
  long.send("USER guest1 0 * :G");
  await long.waitFor(/ CAP \* ACK /);
  long.send("AUTHENTICATE PLAIN");
  await long.waitFor("AUTHENTICATE +");
  for (let i = 0; i < 4; i++) long.send(`AUTHENTICATE ${"QUFB".repeat(100)}`); // 400 characters: more follows
  assert.equal(await long.waitFor(/ 905 /), ":teaparty 905 guest1 :SASL message too long");
  long.send("CAP END");
  await long.waitFor(/ 001 guest1 /);

  const c = await ircConnect(chat);
  c.send("CAP LS 302");
  c.send("CAP REQ :sasl");
  c.send("NICK sam");
  c.send("USER sam 0 * :Sam");
  await c.waitFor(/ CAP \* ACK /);
  c.send("AUTHENTICATE PLAIN");
  await c.waitFor("AUTHENTICATE +");
  c.send(`AUTHENTICATE ${btoa("sam\0sam\0sam's password")}`);
  await c.waitFor(/ 903 /);
  c.send("AUTHENTICATE PLAIN");
  assert.equal(await c.waitFor(/ 907 /), ":teaparty 907 sam :You have already authenticated using SASL");
  c.send("CAP END");
  await c.waitFor(/ 001 sam /);
});

Deno.test("a banned nick is refused at registration with 465 and ERROR, and the connection closes", async () => {
  await using chat = await startIrcServer();
  chat.server.chat.moderation.ban({ kind: "nick", value: "mallory", until: null, reason: "", by: "t", at: Date.now() });
  const c = await ircConnect(chat);
  c.send("NICK mallory");
  c.send("USER mallory 0 * :M");
  assert.equal(await c.waitFor(/ 465 /), ":teaparty 465 mallory :The nick mallory is banned for good.");
  assert.equal(await c.waitFor(/^ERROR/), "ERROR :Closing link: the nick mallory is banned");
  await c.closed();
  assert.equal(chat.server.find("mallory"), undefined);
});
