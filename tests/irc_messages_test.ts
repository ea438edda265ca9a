import assert from "node:assert/strict";
import { ircJoin, ircLogin, startIrcServer, untagged } from "./irc_helpers.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

Deno.test("IRC and telnet users talk in one room, each in their own client's form", async () => {
  await using chat = await startIrcServer();
  const irc = await ircLogin(chat, "ivy");
  await ircJoin(irc, "ivy", "#main");
  const tel = await chat.login("tom");
  await irc.waitFor(":tom!tom@teaparty JOIN #main");
  tel.send("hello ivy");
  await irc.waitFor(":tom!tom@teaparty PRIVMSG #main :hello ivy");
  tel.send("/me waves");
  await irc.waitFor(":tom!tom@teaparty PRIVMSG #main :\x01ACTION waves\x01");
  irc.send("PRIVMSG #main :hi tom");
  await tel.waitFor("ivy: hi tom");
  irc.send("PRIVMSG #main :\x01ACTION bows\x01");
  await tel.waitFor("* ivy bows");
  irc.send("NOTICE #main :a notice is said too");
  await tel.waitFor("ivy: a notice is said too");
  // Private messages, both ways, actions included.
  irc.send("PRIVMSG tom :psst");
  await tel.waitFor("[private] ivy: psst");
  irc.send("PRIVMSG tom :\x01ACTION nudges you\x01");
  await tel.waitFor("[private] * ivy nudges you");
  tel.send("@ivy back at you");
  await irc.waitFor(":tom!tom@teaparty PRIVMSG ivy :back at you");
  // Without echo-message the IRC sender never gets its own lines back.
  irc.send("PRIVMSG #main :marker");
  await tel.waitFor("ivy: marker");
  assert(!irc.lines.some((l) => l.startsWith(":ivy!ivy@teaparty PRIVMSG")), irc.lines.join("\n"));
  // IRC formatting is removed, colour numbers included.
  irc.send("PRIVMSG #main :\x02bold\x02 \x0304red");
  await tel.waitFor("ivy: bold red");
  tel.send("/quit");
  await irc.waitFor(":tom!tom@teaparty QUIT :Quit");
});

Deno.test("echo-message sends the sender its own lines, with server-time, msgid and account tags", async () => {
  const store = Store.open("");
  store.saveAccount("jay", "jay", await hashPassword("jay's password"));
  await using chat = await startIrcServer({ database: store });
  const caps = ["echo-message", "server-time", "message-tags", "account-tag"];
  const jay = await ircLogin(chat, "jay", { caps, sasl: ["jay", "jay's password"] });
  const kim = await ircLogin(chat, "kim", { caps });
  await ircJoin(jay, "jay", "#main");
  await ircJoin(kim, "kim", "#main");
  jay.send("PRIVMSG #main :tagged");
  const echo = await jay.waitFor(/PRIVMSG #main :tagged$/);
  const seen = await kim.waitFor(/PRIVMSG #main :tagged$/);
  assert.equal(echo, seen, "the same bytes for both: one rendering");
  assert.match(seen, /^@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z;msgid=\d+;account=jay :jay!jay@teaparty /);
  kim.send("PRIVMSG #main :guest line");
  const guest = await jay.waitFor(/guest line$/);
  assert(!guest.includes("account="), "a guest has no account tag");
  jay.send("PRIVMSG kim :private echo");
  assert.match(await jay.waitFor(/PRIVMSG kim :private echo$/), /:jay!jay@teaparty PRIVMSG kim/);
});

Deno.test("a line is rendered once per tag-capability combination, however many receive it", async () => {
  await using chat = await startIrcServer();
  const { renderCounts } = await import("../dialects/dialect.ts");
  const plain = await Promise.all(["pa", "pb", "pc"].map((n) => ircLogin(chat, n)));
  const timed = await Promise.all(["ta", "tb"].map((n) => ircLogin(chat, n, { caps: ["server-time"] })));
  for (const [i, c] of plain.entries()) await ircJoin(c, ["pa", "pb", "pc"][i], "#main");
  for (const [i, c] of timed.entries()) await ircJoin(c, ["ta", "tb"][i], "#main");
  const { ircDialect } = await import("../dialects/irc.ts");
  const d0 = ircDialect(chat.server.chat, 0), d2 = ircDialect(chat.server.chat, 2);
  const before = [renderCounts[d0.id] ?? 0, renderCounts[d2.id] ?? 0];
  plain[0].send("PRIVMSG #main :once");
  for (const c of [...plain.slice(1), ...timed]) await c.waitFor(/PRIVMSG #main :once$/);
  assert.deepEqual([renderCounts[d0.id] - before[0], renderCounts[d2.id] - before[1]], [1, 1]);
});

Deno.test("private messages to offline registered nicks become mail, in both directions", async () => {
  const store = Store.open("");
  store.saveAccount("lea", "lea", await hashPassword("lea-password"));
  store.saveAccount("max", "max", await hashPassword("max-password"));
  await using chat = await startIrcServer({ database: store });
  const irc = await ircLogin(chat, "ned");
  irc.send("PRIVMSG lea :see you tomorrow");
  assert.match(await irc.waitFor(/NOTICE ned/), /lea is offline; your message will be delivered/);
  irc.send("PRIVMSG nobody :hello?");
  assert.equal(await irc.waitFor(/ 401 /), ":teaparty 401 ned nobody :No such nick/channel");
  const tel = await chat.login("oz");
  tel.send("/msg max from telnet");
  await tel.waitFor(/max is offline/);
  // lea comes by telnet, max by IRC.
  const lea = await chat.connect();
  lea.send("login lea lea-password");
  await lea.waitFor(/\[mail .*\] ned: see you tomorrow/);
  const max = await ircLogin(chat, "max", { pass: "max-password", caps: ["server-time"] });
  assert.match(await max.waitFor(/PRIVMSG max :from telnet/), /^@time=\S+ :oz!oz@teaparty PRIVMSG max :from telnet$/);
});

Deno.test("AWAY is shown with away-notify, in WHOIS and to those who message the user", async () => {
  await using chat = await startIrcServer();
  const pat = await ircLogin(chat, "pat");
  const quinn = await ircLogin(chat, "quinn", { caps: ["away-notify"] });
  const old = await ircLogin(chat, "rex");
  await ircJoin(pat, "pat", "#main");
  await ircJoin(quinn, "quinn", "#main");
  await ircJoin(old, "rex", "#main");
  pat.send("AWAY :having tea");
  assert.equal(await pat.waitFor(/ 306 /), ":teaparty 306 pat :You have been marked as being away");
  assert.equal(await quinn.waitFor(/AWAY/), ":pat!pat@teaparty AWAY :having tea");
  quinn.send("PRIVMSG pat :are you there?");
  assert.equal(await quinn.waitFor(/ 301 /), ":teaparty 301 quinn pat :having tea");
  quinn.send("WHOIS pat");
  const whois = await quinn.until(/ 318 /);
  assert(whois.includes(":teaparty 301 quinn pat :having tea"), whois.join("\n"));
  const tel = await chat.login("sam");
  tel.send("/away gone fishing");
  assert.equal(await quinn.waitFor(/sam.*AWAY/), ":sam!sam@teaparty AWAY :gone fishing");
  pat.send("AWAY");
  await pat.waitFor(/ 305 /);
  assert.equal(untagged(await quinn.waitFor(/pat!.*AWAY/)), ":pat!pat@teaparty AWAY");
  old.send("PING :done");
  await old.waitFor(/PONG/);
  assert(!old.lines.some((l) => / AWAY( |$)/.test(l)), "no AWAY lines without away-notify");
});

Deno.test("WHO, WHOIS, ISON and USERHOST describe users of every door without their addresses", async () => {
  await using chat = await startIrcServer();
  const irc = await ircLogin(chat, "uma");
  await ircJoin(irc, "uma", "#main");
  await chat.login("vic");
  irc.send("WHO #main");
  const who = await irc.until(/ 315 /);
  assert(who.includes(":teaparty 352 uma #main uma teaparty teaparty uma H :0 uma test"), who.join("\n"));
  assert(who.includes(":teaparty 352 uma #main vic teaparty teaparty vic H :0 telnet user"), who.join("\n"));
  irc.send("WHOIS vic");
  const whois = await irc.until(/ 318 /);
  assert(whois.some((l) => l === ":teaparty 311 uma vic vic teaparty * :telnet user"));
  assert(whois.some((l) => l === ":teaparty 319 uma vic :#main"));
  assert(!whois.some((l) => l.includes("127.0.0.1")), "a non-operator sees no address");
  irc.send("WHOIS nobody");
  await irc.waitFor(":teaparty 401 uma nobody :No such nick/channel");
  irc.send("ISON vic nobody UMA");
  assert.equal(await irc.waitFor(/ 303 /), ":teaparty 303 uma :vic uma");
  irc.send("USERHOST vic");
  assert.equal(await irc.waitFor(/ 302 /), ":teaparty 302 uma :vic=+vic@teaparty");
});

Deno.test("a nick change is seen once, on every door; QUIT once however many channels are shared", async () => {
  await using chat = await startIrcServer();
  const a = await ircLogin(chat, "wes");
  const b = await ircLogin(chat, "xia");
  for (const chan of ["#main", "#one", "#two"]) {
    await ircJoin(a, "wes", chan);
    await ircJoin(b, "xia", chan);
  }
  const tel = await chat.login("yan");
  a.send("NICK wesley");
  await a.waitFor(":wes!wes@teaparty NICK wesley");
  await tel.waitFor("*** wes is now known as wesley.");
  await b.waitFor(":wes!wes@teaparty NICK wesley");
  a.send("QUIT :bye all");
  assert.equal(await a.waitFor(/^ERROR/), "ERROR :Closing link (Quit: bye all)");
  await tel.waitFor("*** wesley has left the room.");
  b.send("PING :marker");
  const seen = await b.until(/PONG .*marker/);
  assert.equal(seen.filter((l) => l.includes(" NICK ")).length, 0, "the NICK came once, before");
  assert.equal(seen.filter((l) => l.includes(" QUIT ")).length, 1, seen.join("\n"));
  assert(seen.includes(":wesley!wesley@teaparty QUIT :Quit: bye all"));
  assert.equal(b.lines.filter((l) => l.includes(" NICK ")).length, 1);
});

Deno.test("PRIVMSG errors: 404 outside the channel or muted, 403 no channel, 412 no text, 411 no target", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "zed");
  c.send("PRIVMSG #main :not in it");
  assert.equal(await c.waitFor(/ 404 /), ":teaparty 404 zed #main :Cannot send to channel: JOIN it first");
  c.send("PRIVMSG #nowhere :hello");
  assert.equal(await c.waitFor(/ 403 /), ":teaparty 403 zed #nowhere :No such channel");
  c.send("PRIVMSG #main :");
  await c.waitFor(":teaparty 412 zed :No text to send");
  c.send("PRIVMSG");
  await c.waitFor(":teaparty 411 zed :No recipient given (PRIVMSG)");
  c.send("NOTICE #nowhere :notices get no errors");
  c.send("PING :after");
  const after = await c.until(/PONG/);
  assert(!after.some((l) => / 4\d\d /.test(l)), after.join("\n"));
  chat.server.chat.moderation.mute({ key: "zed", until: null, by: "test" });
  await ircJoin(c, "zed", "#main");
  c.send("PRIVMSG #main :muted?");
  assert.match(await c.waitFor(/ 404 /), /^:teaparty 404 zed #main :You are muted for good/);
});
