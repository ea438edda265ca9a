/**
 * The IRC door against what an audit with raw sockets, irssi and WeeChat
 * found: each test is one finding, over real sockets, and failed before
 * its fix.
 */
import assert from "node:assert/strict";
import { commandOf, ircConnect, ircJoin, ircLogin, startIrcServer, untagged } from "./irc_helpers.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";
import type { TestClient } from "./helpers.ts";

const encoder = new TextEncoder();

async function accounts(...pairs: [string, string][]): Promise<Store> {
  const store = Store.open("");
  for (const [nick, password] of pairs) store.saveAccount(nick.toLowerCase(), nick, await hashPassword(password));
  return store;
}

/** A server with the operator olga (password "olga-password") and the registered nick wendy ("wendy-password"). */
async function auditServer(extra = {}) {
  const store = await accounts(["olga", "olga-password"], ["wendy", "wendy-password"]);
  return await startIrcServer({ database: store, op: ["olga"], ...extra });
}

/** Lines received up to the PONG of a marker PING (the marker's PONG included). */
async function upTo(c: TestClient, marker: string): Promise<string[]> {
  c.send(`PING :${marker}`);
  return await c.until((l) => l.endsWith(`PONG teaparty :${marker}`));
}

Deno.test("a KICK out of #main does not hide the kicked nick's later PART from IRC watchers", async () => {
  await using chat = await auditServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#main");
  const w = await ircLogin(chat, "wes");
  await ircJoin(w, "wes", "#main");
  const vic = await ircLogin(chat, "vic");
  await ircJoin(vic, "vic", "#main");
  await w.waitFor(/^:vic!\S+ JOIN #main/);
  op.send("KICK #main vic :bye");
  await vic.waitFor(/^ERROR /);
  await vic.closed();
  assert.equal(untagged(await w.waitFor(/ KICK /)), ":olga!olga@teaparty KICK #main vic :bye");
  const again = await ircLogin(chat, "vic"); // the same nick, back
  await ircJoin(again, "vic", "#main");
  await w.waitFor(/^:vic!\S+ JOIN #main/);
  again.send("PART #main :gone for tea");
  assert.equal(untagged(await w.waitFor(/ PART /)), ":vic!vic@teaparty PART #main :gone for tea");
});

Deno.test("KICK from #main and bans show IRC watchers why the user quit, not a plain Quit", async () => {
  await using chat = await auditServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#main");
  const w = await ircLogin(chat, "wes");
  await ircJoin(w, "wes", "#main");
  await ircJoin(w, "wes", "#den");
  // An IRC operator kicks a telnet user, who is in #den too: the QUIT carries the kick.
  const tel = await chat.login("tim");
  tel.send("/join den");
  await w.waitFor(/^:tim!\S+ JOIN #den/);
  const tel2 = await chat.login("tom");
  await w.waitFor(/^:tom!\S+ JOIN #main/);
  op.send("KICK #main tom :enough");
  assert.equal(untagged(await w.waitFor(/ KICK /)), ":olga!olga@teaparty KICK #main tom :enough");
  assert.equal(untagged(await w.waitFor(/^:tom!\S+ QUIT/)), ":tom!tom@teaparty QUIT :Kicked by olga: enough");
  await tel2.closed();
  // A ban ends the session too.
  const jon = await ircLogin(chat, "jon");
  await ircJoin(jon, "jon", "#main");
  await w.waitFor(/^:jon!\S+ JOIN #main/);
  op.send("MODE #main +b jon");
  assert.equal(untagged(await w.waitFor(/^:jon!\S+ QUIT/)), ":jon!jon@teaparty QUIT :Banned by olga");
  // A telnet operator (olga again: the IRC olga is sent away by this login) kicks an IRC user out of the main room (the server ends the session itself).
  const telOp = await chat.connect();
  await telOp.waitFor(/Log in with/);
  telOp.send("login olga olga-password");
  await telOp.waitFor(/olga has entered the room/);
  const vic = await ircLogin(chat, "vic");
  await ircJoin(vic, "vic", "#main");
  await w.waitFor(/^:vic!\S+ JOIN #main/);
  await telOp.sendRaw("a line on its way to the store\r\n/kick vic too loud\r\n"); // the kick waits behind it
  assert.equal(untagged(await w.waitFor(/ KICK /)), ":olga!olga@teaparty KICK #main vic :too loud");
  assert.equal(untagged(await w.waitFor(/^:vic!\S+ QUIT/)), ":vic!vic@teaparty QUIT :Kicked by olga: too loud");
  // An ordinary quit stays an ordinary quit.
  tel.send("/quit");
  assert.equal(untagged(await w.waitFor(/^:tim!\S+ QUIT/)), ":tim!tim@teaparty QUIT :Quit");
});

Deno.test("after registration NICK <registered nick> <password> takes the nick back from another connection", async () => {
  await using chat = await auditServer();
  const old = await ircLogin(chat, "wendy", { pass: "wendy-password" });
  const b = await ircLogin(chat, "bea");
  b.send("NICK wendy wendy-password");
  assert.equal(untagged(await b.waitFor(/ NICK /)), ":bea!bea@teaparty NICK wendy");
  assert.match(await old.waitFor(/^ERROR /), /logged in from another connection/);
  await old.closed();
  const user = chat.server.find("wendy")!;
  assert(user.registered);
  assert.equal(chat.server.chat.sessionOf(user)?.nick, "wendy");
  // Without the password the nick stays with its holder: 433, as IRC clients expect.
  const c = await ircLogin(chat, "cal");
  c.send("NICK wendy");
  assert.equal(await c.waitFor(/ 433 /), ":teaparty 433 cal wendy :Nickname is registered: NICK wendy <password>");
  c.send("NICK wendy wrong-password");
  assert.equal(await c.waitFor(/ 433 /), ":teaparty 433 cal wendy :Password incorrect: your nick is unchanged");
  const seen = await upTo(c, "after-nick");
  assert(!seen.some((l) => / NOTICE /.test(l)), seen.join("\n"));
});

Deno.test("NOTICE stays a NOTICE to IRC receivers, and echo-message echoes it as a NOTICE", async () => {
  await using chat = await startIrcServer();
  const a = await ircLogin(chat, "ann", { caps: ["echo-message"] });
  const b = await ircLogin(chat, "bob");
  await ircJoin(a, "ann", "#main");
  await ircJoin(b, "bob", "#main");
  const tel = await chat.login("tia");
  await b.waitFor(/^:tia!\S+ JOIN #main/);
  // In a room: a NOTICE to IRC users (and back to its sender), a room line to telnet.
  a.send("NOTICE #main :room notice");
  assert.equal(untagged(await b.waitFor(/room notice/)), ":ann!ann@teaparty NOTICE #main :room notice");
  assert.equal(untagged(await a.waitFor(/room notice/)), ":ann!ann@teaparty NOTICE #main :room notice");
  await tel.waitFor("ann: room notice");
  // The same words as a PRIVMSG right after, and the other way round: each keeps its command.
  a.send("PRIVMSG #main :same words");
  a.send("NOTICE #main :same words");
  a.send("PRIVMSG #main :same words");
  const got = [];
  for (let i = 0; i < 3; i++) got.push(commandOf(await b.waitFor(/same words/)));
  assert.deepEqual(got, ["PRIVMSG", "NOTICE", "PRIVMSG"]);
  const echoed = [];
  for (let i = 0; i < 3; i++) echoed.push(commandOf(await a.waitFor(/same words/)));
  assert.deepEqual(echoed, ["PRIVMSG", "NOTICE", "PRIVMSG"]);
  // An action in a NOTICE.
  a.send("NOTICE #main :\x01ACTION waves quietly\x01");
  assert.equal(
    untagged(await b.waitFor(/waves quietly/)),
    ":ann!ann@teaparty NOTICE #main :\x01ACTION waves quietly\x01",
  );
  // In private: a NOTICE to the IRC user, echoed as one; a private message to telnet.
  a.send("NOTICE bob :private notice");
  assert.equal(untagged(await b.waitFor(/private notice/)), ":ann!ann@teaparty NOTICE bob :private notice");
  assert.equal(untagged(await a.waitFor(/private notice/)), ":ann!ann@teaparty NOTICE bob :private notice");
  a.send("NOTICE tia :to telnet");
  await tel.waitFor("[private] ann: to telnet");
  // A PRIVMSG is still a PRIVMSG.
  a.send("PRIVMSG bob :private message");
  assert.equal(untagged(await b.waitFor(/private message/)), ":ann!ann@teaparty PRIVMSG bob :private message");
  // An ignored sender's notice is not delivered, as its messages are not.
  tel.send("/ignore ann");
  await tel.waitFor(/ann/);
  a.send("NOTICE tia :ignored notice");
  a.send("PING :sent");
  await a.waitFor(/PONG teaparty :sent/);
  b.send("PRIVMSG tia :marker");
  const seen = await tel.until(/marker/);
  assert(!seen.some((l) => l.includes("ignored notice")), seen.join("\n"));
});

Deno.test("IRC colour codes are removed whole: digits, background, hex colours and every format code", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "ivy");
  await ircJoin(c, "ivy", "#main");
  const w = await ircLogin(chat, "wes");
  await ircJoin(w, "wes", "#main");
  const tel = await chat.login("tom");
  await c.waitFor(/^:tom!\S+ JOIN #main/);
  c.send("PRIVMSG #main :\x0304red\x03 \x02bold\x02");
  await tel.waitFor("ivy: red bold");
  assert.equal(untagged(await w.waitFor(/PRIVMSG #main/)), ":ivy!ivy@teaparty PRIVMSG #main :red bold");
  c.send(
    "PRIVMSG #main :\x034,12blue\x0f, \x04FF0000hex\x04 \x04ff0000,00ff00both\x04 \x1ditalic\x1d \x1funder\x1f " +
      "\x1estrike\x1e \x11mono\x11 \x16rev\x16 \x03,5 1,2 \x031234",
  );
  await tel.waitFor("ivy: blue, hex both italic under strike mono rev ,5 1,2 34");
  c.send("PART #main :\x0302bye\x03 now");
  assert.equal(untagged(await w.waitFor(/ PART /)), ":ivy!ivy@teaparty PART #main :bye now");
});

Deno.test("replies never exceed 512 bytes nor echo control characters, whatever the client sent", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "eve");
  await ircJoin(c, "eve", "#main");
  const from = c.raw.length;
  const sent = [
    `NICK ${"a".repeat(500)}`,
    `PRIVMSG ${"b".repeat(490)} :x`,
    `JOIN #${"c".repeat(500)}`,
    `WHOIS ${"d".repeat(500)}`,
    `PING :${"e".repeat(500)}`,
    `NAMES #${"f".repeat(500)}`,
    `WHO ${"g".repeat(500)}`,
    `CAP ${"h".repeat(500)}`,
    `TOPIC #${"i".repeat(500)}`,
    `MODE #main +b ${"j".repeat(490)}`,
    `CAP REQ :${"nope ".repeat(99)}`,
    `PRIVMSG :${"k ".repeat(240)}`,
    `CHATHISTORY BEFORE #main msgid=${"l".repeat(470)} 10`,
    `KICK #main ${"m".repeat(490)}`,
    "PRIVMSG bo\x00b2 :hi",
    "WHOIS a\x07b\x1bc",
    "\x01\x02\x03\x04\x05\x06\x07\x08\x09",
  ];
  for (const line of sent) {
    assert(encoder.encode(line).length <= 510, `the test line fits: ${line.slice(0, 20)}`);
    c.send(line);
  }
  const seen = await upTo(c, "end");
  assert(seen.some((l) => / 432 eve /.test(l)), seen.join("\n"));
  assert(seen.includes(":teaparty 401 eve bob2 :No such nick/channel"), seen.join("\n"));
  assert(seen.includes(":teaparty 421 eve * :Unknown command"), seen.join("\n"));
  assert(seen.some((l) => l.startsWith(":teaparty PONG teaparty :eee")), seen.join("\n"));
  // Every line of the raw bytes: CR LF ended, at most 512 bytes with it, no control byte (CTCP has none here).
  const raw = Uint8Array.from(c.raw.slice(from));
  let start = 0;
  let lines = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 10) {
      assert.equal(raw[i - 1], 13, "LF only after CR");
      const line = raw.subarray(start, i - 1);
      assert(line.length + 2 <= 512, `${line.length + 2} bytes: ${new TextDecoder().decode(line).slice(0, 60)}…`);
      for (const b of line) assert(b >= 0x20 && b !== 0x7f, `control byte ${b} in ${new TextDecoder().decode(line)}`);
      start = i + 1;
      lines++;
    }
  }
  assert.equal(start, raw.length, "nothing after the last CR LF");
  assert(lines >= sent.length, `${lines} lines`);
});

Deno.test("invalid UTF-8 gets FAIL INVALID_UTF8 and is not relayed; length is measured on the bytes received", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "uma");
  await ircJoin(c, "uma", "#main");
  const tel = await chat.login("tom");
  await c.waitFor(/^:tom!\S+ JOIN #main/);
  const bytes = (...parts: (string | number[])[]) =>
    Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...encoder.encode(p)] : p));
  // 215 bytes, 200 of them 0xE9 (ISO 8859-1 é): not too long, not UTF-8.
  await c.sendRaw(bytes("PRIVMSG #main :", new Array(200).fill(0xe9), "\r\n"));
  assert.equal(
    await c.waitFor(/ INVALID_UTF8 /),
    ":teaparty FAIL PRIVMSG INVALID_UTF8 :Message rejected: this server takes UTF-8 only (UTF8ONLY)",
  );
  await c.sendRaw(bytes("PRIVMSG #main :caf", [0xe9], "\r\n"));
  await c.waitFor(/ INVALID_UTF8 /);
  // Overlong forms, surrogates and a sequence cut by the line end are not UTF-8 either.
  await c.sendRaw(bytes("PRIVMSG #main :", [0xc0, 0xaf], "\r\n"));
  await c.waitFor(/ INVALID_UTF8 /);
  await c.sendRaw(bytes("PRIVMSG #main :", [0xed, 0xa0, 0x80], "\n"));
  await c.waitFor(/ INVALID_UTF8 /);
  await c.sendRaw(bytes("PRIVMSG #main :x", [0xe2, 0x82], "\r\n"));
  await c.waitFor(/ INVALID_UTF8 /);
  // Sent one byte at a time (the reads split everything), invalid and then valid lines.
  await c.sendSlowly(bytes("TOPIC #main :", [0xff], "\rPRIVMSG #main :split caf", [0xc3, 0xa9], "\r\n"));
  assert.equal(
    await c.waitFor(/ INVALID_UTF8 /),
    ":teaparty FAIL TOPIC INVALID_UTF8 :Message rejected: this server takes UTF-8 only (UTF8ONLY)",
  );
  await tel.waitFor("uma: split café");
  // U+FFFD sent as UTF-8 is a character like any other; a line over 512 bytes is 417, valid or not.
  await c.sendRaw(bytes("PRIVMSG #main :", [0xef, 0xbf, 0xbd], " is fine\r\n"));
  await tel.waitFor("uma: \ufffd is fine");
  await c.sendRaw(bytes("PRIVMSG #main :", new Array(500).fill(0xe9), "\r\n"));
  await c.waitFor(/ 417 /);
  c.send("PRIVMSG #main :still here");
  const seen = await tel.until("uma: still here");
  assert(
    !seen.some((l) => l.includes("\ufffd\ufffd") || l.includes("caf\ufffd") || l.startsWith("*** uma changed")),
    seen.join("\n"),
  );
  assert(!c.lines.some((l) => / TOPIC #main /.test(l)), "the topic was not set");
});

Deno.test("login refusals reach IRC clients as IRC numerics, not telnet hints", async () => {
  await using chat = await auditServer();
  const c = await ircConnect(chat);
  c.send("USER wendy 0 * :W");
  c.send("PASS wrongpass");
  c.send("NICK wendy");
  const seen = await c.until(/ 464 /);
  assert.equal(seen.at(-1), ":teaparty 464 * :Password incorrect for wendy");
  assert(!seen.some((l) => / NOTICE /.test(l)), seen.join("\n"));
  c.send("NICK guest7");
  await c.waitFor(/ 001 guest7 /);
  c.send("NICK wendy");
  const after = await upTo(c, "done");
  assert(after.includes(":teaparty 433 guest7 wendy :Nickname is registered: NICK wendy <password>"), after.join("\n"));
  assert(!after.some((l) => /login |\/nick /.test(l)), after.join("\n"));
  // A nick another connection holds: 433 alone.
  await ircLogin(chat, "holder");
  c.send("NICK holder");
  const taken = await upTo(c, "taken");
  assert(taken.includes(":teaparty 433 guest7 holder :Nickname is already in use"), taken.join("\n"));
  assert(!taken.some((l) => / NOTICE /.test(l)), taken.join("\n"));
});

Deno.test("MODE applies at most MODES=4 changes with a parameter, as ISUPPORT says", async () => {
  await using chat = await auditServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  assert(op.lines.some((l) => / 005 .* MODES=4 /.test(l)));
  await ircJoin(op, "olga", "#main");
  op.send("MODE #main +bbbbbb a1 a2 a3 a4 a5 a6");
  await upTo(op, "modes");
  const banned = ["a1", "a2", "a3", "a4", "a5", "a6"].filter((n) => chat.server.chat.moderation.banned("nick", n));
  assert.deepEqual(banned, ["a1", "a2", "a3", "a4"]);
  op.send("MODE #main -b+q-b a1 a5 a2"); // three changes: all applied
  await upTo(op, "more");
  assert(!chat.server.chat.moderation.banned("nick", "a1") && !chat.server.chat.moderation.banned("nick", "a2"));
  assert(chat.server.chat.moderation.muted("a5"));
});

Deno.test("MODE #room with a list mode repeated lists it once", async () => {
  await using chat = await auditServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#main");
  op.send("MODE #main +bq a1 a2");
  await upTo(op, "set");
  op.send(`MODE #main ${"bq".repeat(200)}`);
  const lists = await upTo(op, "lists");
  assert.equal(lists.filter((l) => / 368 /.test(l)).length, 1, lists.join("\n"));
  assert.equal(lists.filter((l) => / 728 /.test(l)).length, 1, lists.join("\n"));
  assert.equal(lists.filter((l) => / 367 olga #main a1!\*@\* /.test(l)).length, 1, lists.join("\n"));
});

Deno.test("MODE takes a refused mode's parameter with it: +ob alice bob bans bob, not alice", async () => {
  await using chat = await auditServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#main");
  op.send("MODE #main +ob alice bob");
  const replies = await upTo(op, "ob");
  assert(replies.some((l) => / 472 olga o :is not a mode here/.test(l)), replies.join("\n"));
  assert.ok(chat.server.chat.moderation.banned("nick", "bob"));
  assert.equal(chat.server.chat.moderation.banned("nick", "alice"), undefined);
  op.send("MODE #main +kl-l+b key 10 carol");
  await upTo(op, "kl");
  assert.ok(chat.server.chat.moderation.banned("nick", "carol"));
  assert.equal(chat.server.chat.moderation.banned("nick", "key"), undefined);
});

Deno.test("WHO 0 lists everyone, as WHO * does (RFC 2812)", async () => {
  await using chat = await auditServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await chat.login("tel");
  op.send("WHO 0");
  const who = await op.until(/ 315 /);
  assert(who.some((l) => / 352 olga \S+ olga teaparty teaparty olga /.test(l)), who.join("\n"));
  assert(who.some((l) => / 352 olga \S+ tel teaparty teaparty tel /.test(l)), who.join("\n"));
  assert.equal(who.at(-1), ":teaparty 315 olga 0 :End of WHO list");
});

Deno.test("an action sent as mail arrives as a CTCP ACTION", async () => {
  await using chat = await auditServer();
  const ivy = await ircLogin(chat, "ivy11");
  ivy.send("PRIVMSG wendy :\x01ACTION mails an action\x01");
  ivy.send("PRIVMSG wendy :and a line");
  await ivy.waitFor(/NOTICE ivy11 :wendy is offline/);
  await ivy.waitFor(/NOTICE ivy11 :wendy is offline/);
  const w = await ircLogin(chat, "wendy", { pass: "wendy-password" });
  const action = await w.waitFor(/mails an action/);
  const head = ":ivy11!ivy11@teaparty PRIVMSG wendy :\x01ACTION ";
  assert(action.startsWith(head) && action.endsWith(" mails an action\x01"), action);
  assert.match(action.slice(head.length), /^\[sent \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\] mails an action/);
  assert.match(await w.waitFor(/and a line/), /^:ivy11!ivy11@teaparty PRIVMSG wendy :\[sent [^\]]+\] and a line$/);
  w.send("QUIT");
  await w.closed();
  ivy.send("PRIVMSG wendy :\x01ACTION mails again\x01");
  await ivy.waitFor(/NOTICE ivy11 :wendy is offline/);
  const timed = await ircLogin(chat, "wendy", { pass: "wendy-password", caps: ["server-time"] });
  const again = await timed.waitFor(/mails again/);
  assert.match(again, /^@time=\S+ /);
  assert.equal(untagged(again), ":ivy11!ivy11@teaparty PRIVMSG wendy :\x01ACTION mails again\x01");
});

Deno.test("SASL to another account than the NICK sent: a NICK line tells the client its nick before 001", async () => {
  await using chat = await auditServer();
  const c = await ircLogin(chat, "someoneelse", { sasl: ["wendy", "wendy-password"] });
  const nick = c.lines.findIndex((l) => l === ":someoneelse!someoneelse@teaparty NICK wendy");
  const welcome = c.lines.findIndex((l) => l.startsWith(":teaparty 001 wendy "));
  assert(nick !== -1 && welcome !== -1 && nick < welcome, c.lines.join("\n"));
  // The same nick: no NICK line.
  const same = await ircLogin(chat, "olga", { sasl: ["olga", "olga-password"] });
  assert(!same.lines.some((l) => / NICK /.test(l)), same.lines.join("\n"));
});
