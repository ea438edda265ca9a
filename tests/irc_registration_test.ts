import assert from "node:assert/strict";
import { ircConnect, ircLogin, startIrcServer } from "./irc_helpers.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";
import { LOGIN_LIMITS } from "../login_throttle.ts";

async function withAccount(nick: string, password: string): Promise<Store> {
  const store = Store.open("");
  store.saveAccount(nick.toLowerCase(), nick, await hashPassword(password));
  return store;
}

Deno.test("registration without CAP: NICK and USER give 001-005, LUSERS and the MOTD", async () => {
  await using chat = await startIrcServer({ name: "Tea Room" });
  const c = await ircConnect(chat);
  c.send("NICK alice");
  c.send("USER alice 0 * :Alice Liddell");
  const lines = await c.until(/ 376 alice /);
  for (const code of ["001", "002", "003", "004", "005", "251", "252", "254", "255", "265", "266", "375", "372"]) {
    assert(lines.some((l) => l.startsWith(`:teaparty ${code} alice `)), `no ${code} in:\n${lines.join("\n")}`);
  }
  assert.equal(lines[0], ":teaparty 001 alice :Welcome to the Tea Room IRC network, alice");
  const isupport = lines.filter((l) => l.includes(" 005 ")).join(" ");
  for (
    const token of [
      "CASEMAPPING=rfc8265",
      "CHANTYPES=#",
      "NICKLEN=32",
      "CHANNELLEN=33",
      "TOPICLEN=300",
      "PREFIX=(o)@",
      "NETWORK=Tea\\x20Room",
      "CHATHISTORY=100",
    ]
  ) assert(isupport.includes(` ${token} `), `${token} missing from ${isupport}`);
  // Not seated anywhere: IRC clients join channels themselves.
  assert(chat.server.find("alice")!.rooms.size === 0);
});

Deno.test("CAP LS 302 lists values, REQ is acknowledged or refused whole, and registration waits for CAP END", async () => {
  await using chat = await startIrcServer();
  const c = await ircConnect(chat);
  c.send("CAP LS 302");
  c.send("NICK bob");
  c.send("USER bob 0 * :Bob");
  const ls = await c.waitFor(/ CAP \* LS /);
  assert.match(ls, /sasl=PLAIN/);
  assert.match(ls, /draft\/chathistory/);
  c.send("CAP REQ :server-time no-such-cap");
  assert.equal(await c.waitFor(/ CAP /), ":teaparty CAP * NAK :server-time no-such-cap");
  c.send("CAP REQ :server-time echo-message");
  assert.equal(await c.waitFor(/ CAP /), ":teaparty CAP * ACK :server-time echo-message");
  c.send("CAP LIST");
  const list = await c.waitFor(/ CAP \* LIST /);
  assert(!c.lines.some((l) => l.includes(" 001 ")), "registered before CAP END");
  assert.match(list, /server-time echo-message/);
  c.send("CAP END");
  await c.waitFor(/ 001 bob /);
});

Deno.test("commands before registration get 451, missing parameters 461, no nick 431, unknown commands 421", async () => {
  await using chat = await startIrcServer();
  const c = await ircConnect(chat);
  c.send("JOIN #main");
  assert.equal(await c.waitFor(/ 451 /), ":teaparty 451 * :You have not registered");
  c.send("PRIVMSG #main :hi");
  await c.waitFor(/ 451 /);
  c.send("NICK carol");
  c.send("USER carol");
  assert.equal(await c.waitFor(/ 461 /), ":teaparty 461 carol USER :Not enough parameters");
  c.send("USER carol 0 * :Carol");
  await c.waitFor(/ 376 carol /);
  c.send("FROBNICATE now");
  assert.equal(await c.waitFor(/ 421 /), ":teaparty 421 carol FROBNICATE :Unknown command");
  c.send("JOIN");
  assert.equal(await c.waitFor(/ 461 /), ":teaparty 461 carol JOIN :Not enough parameters");
  c.send("USER carol 0 * :again");
  assert.equal(await c.waitFor(/ 462 /), ":teaparty 462 carol :You may not reregister");
  c.send("NICK");
  assert.equal(await c.waitFor(/ 431 /), ":teaparty 431 carol :No nickname given");
  c.send("NICK :");
  await c.waitFor(/ 431 carol /);
});

Deno.test("a nick IRC cannot carry or teaparty refuses gets 432; a taken one 433; another nick then works", async () => {
  await using chat = await startIrcServer();
  await chat.login("dave"); // a telnet user holds dave
  const c = await ircConnect(chat);
  c.send("NICK 9lives");
  assert.match(
    await c.waitFor(/ 432 /),
    /^:teaparty 432 \* 9lives :Erroneous nickname: a nick must start with a letter/,
  );
  c.send("NICK a:b");
  await c.waitFor(/ 432 \* a:b /);
  c.send("NICK #chan");
  await c.waitFor(/ 432 \* #chan /);
  c.send("NICK " + "x".repeat(33));
  await c.waitFor(/ 432 /);
  c.send("NICK DAVE");
  assert.equal(await c.waitFor(/ 433 /), ":teaparty 433 * DAVE :Nickname is already in use");
  c.send("NICK 茶友");
  c.send("USER tea 0 * :Tea");
  await c.waitFor(/ 001 茶友 /);
});

Deno.test("a registered nick without a password is refused with 433 and a notice; PASS logs in", async () => {
  const store = await withAccount("erin", "correct horse");
  await using chat = await startIrcServer({ database: store });
  const c = await ircConnect(chat);
  c.send("NICK erin");
  c.send("USER erin 0 * :Erin");
  const lines = await c.until(/ 433 /);
  assert(lines.some((l) => /NOTICE \* :erin is a registered nick: log in with SASL PLAIN/.test(l)), lines.join("\n"));
  c.send("NICK erin_");
  await c.waitFor(/ 001 erin_ /);

  const wrong = await ircConnect(chat);
  wrong.send("PASS nope-nope");
  wrong.send("NICK erin");
  wrong.send("USER erin 0 * :Erin");
  assert.equal(await wrong.waitFor(/ 464 /), ":teaparty 464 * :Password incorrect for erin");

  const right = await ircConnect(chat);
  right.send("PASS :correct horse");
  right.send("NICK erin");
  right.send("USER erin 0 * :Erin");
  await right.waitFor(/ 001 erin /);
  assert(chat.server.find("erin")!.registered);
});

Deno.test("SASL PLAIN logs in to the account; a wrong password gets 904 and an unknown mechanism 908", async () => {
  const store = await withAccount("Frank", "frank's secret");
  await using chat = await startIrcServer({ database: store });
  const c = await ircLogin(chat, "frank", { sasl: ["frank", "frank's secret"] });
  assert(c.lines.some((l) => l.startsWith(":teaparty 900 frank frank!frank@teaparty Frank :You are now logged in")));
  assert(c.lines.some((l) => l.startsWith(":teaparty 001 Frank ")), "the account's own spelling is the nick");
  assert(chat.server.find("frank")!.registered);

  const bad = await ircConnect(chat);
  bad.send("CAP LS 302");
  bad.send("CAP REQ :sasl");
  bad.send("NICK frank2");
  bad.send("USER frank2 0 * :F");
  bad.send("AUTHENTICATE SCRAM-SHA-256");
  assert.equal(await bad.waitFor(/ 908 /), ":teaparty 908 frank2 PLAIN :are available SASL mechanisms");
  await bad.waitFor(/ 904 /);
  bad.send("AUTHENTICATE PLAIN");
  await bad.waitFor("AUTHENTICATE +");
  bad.send(`AUTHENTICATE ${btoa("\0frank\0wrong password")}`);
  assert.match(await bad.waitFor(/ 904 /), /SASL authentication failed: wrong password/);
  bad.send("AUTHENTICATE PLAIN");
  await bad.waitFor("AUTHENTICATE +");
  bad.send("AUTHENTICATE *");
  await bad.waitFor(/ 906 /);
  bad.send("AUTHENTICATE PLAIN");
  await bad.waitFor("AUTHENTICATE +");
  bad.send("AUTHENTICATE not-base64!!");
  await bad.waitFor(/ 904 .*not base64/);
  bad.send("CAP END");
  await bad.waitFor(/ 001 frank2 /);
});

Deno.test("SASL with the right password takes the nick back from an older connection", async () => {
  const store = await withAccount("gina", "gina's password");
  await using chat = await startIrcServer({ database: store });
  const old = await ircLogin(chat, "gina", { pass: "gina's password" });
  const fresh = await ircLogin(chat, "gina", { sasl: ["gina", "gina's password"] });
  assert.match(await old.waitFor(/^ERROR /), /logged in from another connection/);
  await old.closed();
  assert(fresh.lines.some((l) => l.startsWith(":teaparty 001 gina ")));
});

Deno.test("registration must finish within --login-timeout", async () => {
  await using chat = await startIrcServer({ loginTimeout: 0.3 });
  const c = await ircConnect(chat);
  c.send("NICK slow");
  assert.match(await c.waitFor(/^ERROR /), /^ERROR :Login timed out/);
  await c.closed();
});

Deno.test("while failed logins hold back an address, SASL, PASS and NICK say how long to wait", async () => {
  const store = await withAccount("hana", "hana's password");
  await using chat = await startIrcServer({ database: store });
  for (let i = 0; i < LOGIN_LIMITS.perNickAddress; i++) chat.server.logins.begin("hana", "127.0.0.1");
  const sasl = await ircConnect(chat);
  sasl.send("CAP REQ :sasl");
  sasl.send("AUTHENTICATE PLAIN");
  await sasl.waitFor("AUTHENTICATE +");
  sasl.send(`AUTHENTICATE ${btoa("\0hana\0hana's password")}`);
  assert.match(
    await sasl.waitFor(/ 904 /),
    /^:teaparty 904 \* :SASL authentication failed: too many failed logins; try again in \d+ s$/,
  );
  const pass = await ircConnect(chat);
  pass.send("PASS :hana's password");
  pass.send("NICK hana");
  pass.send("USER hana 0 * :H");
  assert.match(
    await pass.waitFor(/ 464 /),
    /^:teaparty 464 \* :Too many failed logins for hana or from your address; try again in \d+ s\.$/,
  );
  const guest = await ircLogin(chat, "guest");
  guest.send("NICK hana :hana's password");
  assert.match(
    await guest.waitFor(/ 433 /),
    /^:teaparty 433 guest hana :Too many failed logins for hana or from your address; try again in \d+ s\.$/,
  );
});

Deno.test("NICK after registration: 432 names the look-alike or the ban, a mute gets a notice, one's own nick nothing", async () => {
  await using chat = await startIrcServer();
  await chat.login("bob"); // a telnet user
  const moderation = chat.server.chat.moderation;
  await moderation.ban({ kind: "nick", value: "mallory", until: null, reason: "spam", by: "op", at: Date.now() });
  const c = await ircLogin(chat, "ivy");
  c.send("NICK b0b");
  assert.equal(
    await c.waitFor(/ 432 /),
    ":teaparty 432 ivy b0b :Erroneous nickname: it looks like bob, a registered or logged-in nick",
  );
  c.send("NICK mallory");
  assert.equal(await c.waitFor(/ 432 /), ":teaparty 432 ivy mallory :The nick mallory is banned for good: spam");
  c.send("NICK ivy");
  c.send("PING :own-nick");
  assert.equal(
    await c.waitFor(/ PONG /),
    ":teaparty PONG teaparty :own-nick",
    "nothing answers NICK to one's own nick",
  );
  await moderation.mute({ key: "ivy", until: null, by: "op" });
  c.send("NICK ivy2");
  assert.equal(await c.waitFor(/ NOTICE /), ":teaparty NOTICE ivy :You are muted, so you cannot change nick.");
  assert(!c.lines.some((l) => /login |\/nick |Try again with/.test(l)), c.lines.join("\n"));
});
