/**
 * The IRC door against what a review found: WHO masks that froze the server,
 * list replies (WHOIS channels, ISON, USERHOST) cut at 512 bytes, no
 * echo-message echo for a private message kept as mail, and a repeated
 * target said twice. Each test failed before its fix.
 */
import assert from "node:assert/strict";
import { ircJoin, ircLogin, startIrcServer, untagged } from "./irc_helpers.ts";
import { ServerProcess, TestClient } from "./helpers.ts";
import { matchMask, nickMask } from "../irc/mask.ts";
import { splitWords } from "../irc/split.ts";
import { byteLength } from "../irc/message.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

/** Lines received up to the PONG of a marker PING (the marker's PONG included). */
async function upTo(c: TestClient, marker: string): Promise<string[]> {
  c.send(`PING :${marker}`);
  return await c.until((l) => l.endsWith(`PONG teaparty :${marker}`));
}

/** The last parameter of a numeric line (`:teaparty 303 me :a b` → `a b`). */
function trailing(line: string): string {
  return line.slice(line.indexOf(" :", 1) + 2);
}

/** A 32-character Han nick ending in `last` (96 bytes of UTF-8). */
const han = (last: string) => "漢".repeat(31) + last;

Deno.test("matchMask: * is any run, ? one character, the rest itself, the whole text", () => {
  assert.equal(matchMask("*", ""), true);
  assert.equal(matchMask("*", "alice"), true);
  assert.equal(matchMask("al*", "alice"), true);
  assert.equal(matchMask("*ce", "alice"), true);
  assert.equal(matchMask("a*i*e", "alice"), true);
  assert.equal(matchMask("al?ce", "alice"), true);
  assert.equal(matchMask("?", "茶"), true); // one character, not one UTF-16 unit
  assert.equal(matchMask("??", "😀"), false);
  assert.equal(matchMask("a*", "bob"), false);
  assert.equal(matchMask("alic", "alice"), false); // the whole text
  assert.equal(matchMask("lice", "alice"), false);
  assert.equal(matchMask("al?ce?", "alice"), false);
  assert.equal(matchMask("", ""), true);
  assert.equal(matchMask("", "a"), false);
  assert.equal(matchMask("a*b*c", "aXbYbZc"), true); // backs up to the last star
  assert.equal(matchMask("a*b*c", "aXbYbZ"), false);
  assert.equal(matchMask("*a*a*a*b", "aaaaaaaaaa"), false);
  assert.equal(matchMask("[a].+(b)", "[a].+(b)"), true); // RegExp characters are plain characters
  assert.equal(matchMask("a.c", "abc"), false);
  assert.equal(matchMask("A*", "alice"), false); // exact; nickMask folds
});

Deno.test("nickMask folds the mask as nicks are folded and tests folded keys", () => {
  assert.equal(nickMask("AL*")("alice"), true);
  assert.equal(nickMask("ΚΩΣ")("κωσ"), true); // final sigma, as foldNick
  assert.equal(nickMask("b?B")("bob"), true);
  assert.equal(nickMask("*z")("a".repeat(32)), false);
  assert.equal(nickMask("*".repeat(40) + "z")("a".repeat(32)), false);
  assert.equal(nickMask("*".repeat(40) + "a")("a".repeat(32)), true);
});

Deno.test("splitWords fills lines up to the budget, cutting between words only, in order", () => {
  assert.deepEqual(splitWords([], 10), []);
  assert.deepEqual(splitWords(["#a", "#bb", "#c"], 6), ["#a #bb", "#c"]);
  assert.deepEqual(splitWords(["#a", "#bb", "#c"], 5), ["#a", "#bb", "#c"]);
  assert.deepEqual(splitWords(["toolongword", "x"], 4), ["toolongword", "x"]); // a word is never cut
  assert.deepEqual(splitWords(["茶茶", "茶"], 9), ["茶茶", "茶"]); // bytes, not characters: 6 + 1 + 3 > 9
  const words = Array.from({ length: 100 }, (_, i) => `#room${i}`);
  const lines = splitWords(words, 50);
  assert(lines.every((l) => byteLength(l) <= 50), lines.join("\n"));
  assert.deepEqual(lines.join(" ").split(" "), words);
});

Deno.test("WHO with a mask of 40 stars against a 32-character nick is answered, and the server keeps serving others", async () => {
  // A server of its own: a server that froze would freeze a test running it in-process too.
  await using proc = await ServerProcess.start(["--port", "0", "--irc-port", "0", "--host", "127.0.0.1"]);
  const printed = await proc.waitForStdout(/^listening on irc:\/\//);
  const port = Number(/:(\d+)$/.exec(printed)![1]);
  const login = async (nick: string) => {
    const c = await TestClient.connect(port);
    c.send(`NICK ${nick}`);
    c.send(`USER ${nick} 0 * :${nick}`);
    await c.waitFor(/ 376 /);
    return c;
  };
  const long = "a".repeat(32);
  const a = await login(long);
  const b = await login("bee");
  try {
    const mask = "*".repeat(40) + "z";
    a.send(`WHO ${mask}`);
    const lines = await a.until(/ 315 /);
    assert.equal(lines.at(-1), `:teaparty 315 ${long} ${mask} :End of WHO list`);
    assert(!lines.some((l) => / 352 /.test(l)), lines.join("\n")); // no nick ends in z
    b.send("PING :still-there");
    assert.equal(await b.waitFor(/PONG/), ":teaparty PONG teaparty :still-there");
    // A mask that matches still lists the nick.
    a.send(`WHO ${"*".repeat(40)}A`);
    assert.match(await a.waitFor(/ 352 | 315 /), new RegExp(` 352 ${long} \\* ${long} `));
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("WHO with a mask lists the nicks it matches, case-insensitively, with ? as one character", async () => {
  await using chat = await startIrcServer();
  const a = await ircLogin(chat, "alice");
  await ircLogin(chat, "Bob");
  await ircLogin(chat, "bobby");
  const listed = async (mask: string) => {
    a.send(`WHO ${mask}`);
    const lines = await a.until(/ 315 /);
    return lines.filter((l) => / 352 /.test(l)).map((l) => l.split(" ")[7]).sort();
  };
  assert.deepEqual(await listed("BOB*"), ["Bob", "bobby"]);
  assert.deepEqual(await listed("b?b"), ["Bob"]);
  assert.deepEqual(await listed("*i*e"), ["alice"]);
  assert.deepEqual(await listed("*.*"), []); // a dot is a dot
});

Deno.test("WHOIS lists every channel in 319 replies that each fit 512 bytes, no channel cut", async () => {
  await using chat = await startIrcServer();
  const w = await ircLogin(chat, "walt");
  const joined: string[] = [];
  for (let i = 0; i < 24; i++) {
    const chan = `#room-${String(i).padStart(2, "0")}-${"x".repeat(24)}`; // 32 characters
    await ircJoin(w, "walt", chan);
    joined.push(chan);
  }
  const asker = await ircLogin(chat, han("問"));
  asker.send("WHOIS walt");
  const lines = (await asker.until(/ 318 /)).filter((l) => / 319 /.test(l));
  assert(lines.length > 1, lines.join("\n"));
  for (const l of lines) {
    assert(byteLength(l) <= 510, `${byteLength(l)} bytes: ${l}`);
    assert(l.startsWith(`:teaparty 319 ${han("問")} walt :`), l);
  }
  assert.deepEqual(lines.flatMap((l) => trailing(l).split(" ")).sort(), [...joined].sort());
});

Deno.test("ISON and USERHOST answer in several replies when one would pass 512 bytes, nothing cut", async () => {
  await using chat = await startIrcServer();
  const me = han("我");
  const asker = await ircLogin(chat, me);
  const nicks = ["一", "二", "三", "四", "五"].map(han);
  for (const n of nicks) await ircLogin(chat, n);
  asker.send(`ISON ${nicks.join(" ")} nobody`);
  const ison = (await upTo(asker, "ison")).filter((l) => / 303 /.test(l));
  assert(ison.length > 1, ison.join("\n"));
  for (const l of ison) assert(byteLength(l) <= 510, `${byteLength(l)} bytes: ${l}`);
  assert.deepEqual(ison.flatMap((l) => trailing(l).split(" ")), nicks);
  asker.send(`USERHOST ${nicks.join(" ")}`);
  const userhost = (await upTo(asker, "userhost")).filter((l) => / 302 /.test(l));
  assert(userhost.length > 1, userhost.join("\n"));
  for (const l of userhost) assert(byteLength(l) <= 510, `${byteLength(l)} bytes: ${l}`);
  assert.deepEqual(userhost.flatMap((l) => trailing(l).split(" ")), nicks.map((n) => `${n}=+${n}@teaparty`));
  // Nobody there: one empty reply, as before.
  asker.send("ISON nobody");
  assert.equal(await asker.waitFor(/ 303 /), `:teaparty 303 ${me} :`);
  asker.send("USERHOST nobody");
  assert.equal(await asker.waitFor(/ 302 /), `:teaparty 302 ${me} :`);
});

Deno.test("with echo-message a private message kept as mail for an offline nick comes back to its sender", async () => {
  const store = Store.open("");
  store.saveAccount("lea", "lea", await hashPassword("lea-password"));
  await using chat = await startIrcServer({ database: store });
  const ned = await ircLogin(chat, "ned", { caps: ["echo-message"] });
  ned.send("PRIVMSG lea :see you tomorrow");
  const lines = (await upTo(ned, "mail")).map(untagged);
  assert(lines.includes(":ned!ned@teaparty PRIVMSG lea :see you tomorrow"), lines.join("\n"));
  assert(lines.some((l) => /^:teaparty NOTICE ned :lea is offline; your message will be delivered/.test(l)));
  ned.send("PRIVMSG lea :\x01ACTION waves\x01");
  assert.equal(untagged(await ned.waitFor(/PRIVMSG lea/)), ":ned!ned@teaparty PRIVMSG lea :\x01ACTION waves\x01");
  // Without echo-message nothing comes back, as for a message delivered at once.
  const pia = await ircLogin(chat, "pia");
  pia.send("PRIVMSG lea :hello");
  const plain = await upTo(pia, "plain");
  assert(!plain.some((l) => / PRIVMSG /.test(l)), plain.join("\n"));
  // On telnet the copy shows as for any private message.
  const tel = await chat.login("oz");
  tel.send("/msg lea from telnet");
  assert.equal(await tel.waitFor(/^\[private|^\*\*\* lea/), "[private to lea] from telnet");
  await tel.waitFor("*** lea is offline; your message will be delivered when they next log in.");
  // lea gets each message once.
  const lea = await chat.connect();
  lea.send("login lea lea-password");
  await lea.waitFor(/You have 4 messages/);
});

Deno.test("PRIVMSG to a repeated target (#main,#MAIN or bob,BOB) says the line once", async () => {
  await using chat = await startIrcServer();
  const a = await ircLogin(chat, "amy", { caps: ["echo-message"] });
  const b = await ircLogin(chat, "bob");
  await ircJoin(a, "amy", "#main");
  await ircJoin(b, "bob", "#main");
  a.send("PRIVMSG #main,#MAIN,#main :dup");
  a.send("PRIVMSG bob,BOB :psst");
  a.send("PRIVMSG #main :after");
  const got = (await b.until(/PRIVMSG #main :after$/)).map(untagged);
  assert.equal(got.filter((l) => l === ":amy!amy@teaparty PRIVMSG #main :dup").length, 1, got.join("\n"));
  assert.equal(got.filter((l) => l === ":amy!amy@teaparty PRIVMSG bob :psst").length, 1, got.join("\n"));
  const echoed = (await a.until(/PRIVMSG #main :after$/)).map(untagged);
  assert.equal(echoed.filter((l) => l.endsWith("PRIVMSG #main :dup")).length, 1, echoed.join("\n"));
  assert.equal(echoed.filter((l) => l.endsWith("PRIVMSG bob :psst")).length, 1, echoed.join("\n"));
});
