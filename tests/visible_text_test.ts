/**
 * Text with nothing visible, on every way of sending it: say, /me, /emote,
 * /msg and @nick on telnet, PRIVMSG, NOTICE and CTCP ACTION on IRC; and the
 * tag characters after the black flag, kept only as a flag's tag sequence.
 */
import assert from "node:assert/strict";
import { cleanLine } from "../text.ts";
import { doorPort, startServer } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";
import { ircJoin, ircLogin, startIrcServer } from "./irc_helpers.ts";

const FLAG = "\u{1f3f4}";
const CANCEL = "\u{e007f}";
/** The tag characters spelling `ascii` (digits and small letters). */
const tags = (ascii: string) => [...ascii].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join("");
const SCOTLAND = FLAG + tags("gbsct") + CANCEL;
const WALES = FLAG + tags("gbwls") + CANCEL;
const BLANKS = ["\u2800", "\u0301"]; // the Braille blank, a lone combining acute accent

Deno.test("a message of only a braille blank or a lone mark is refused on every telnet command and reaches nobody", async () => {
  await using chat = await startIrcServer();
  const ivy = await ircLogin(chat, "ivy");
  await ircJoin(ivy, "ivy", "#main");
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  await eve.waitFor("*** amy has entered the room.");
  for (const blank of BLANKS) {
    const refusals: [string, string][] = [
      [`say ${blank}`, "*** Usage: say <text...> (missing text)"],
      [`/say ${blank}`, "*** Usage: say <text...> (missing text)"],
      [`/me ${blank}`, "*** Usage: /me <action...> (missing action)"],
      [`emote ${blank}`, "*** Usage: emote <action...> (missing action)"],
      [`/emote ${blank}`, "*** Usage: emote <action...> (missing action)"],
      [`/msg amy ${blank}`, "*** Usage: /msg <nick> <text...> (missing text)"],
      [`/msg ivy ${blank}`, "*** Usage: /msg <nick> <text...> (missing text)"],
      [`@amy ${blank}`, "*** Usage: /msg <nick> <text...> (missing text)"],
      [`@amy ${blank} ${blank}\u2800`, "*** Usage: /msg <nick> <text...> (missing text)"],
    ];
    for (const [line, refusal] of refusals) {
      eve.send(line);
      assert.equal(await eve.waitFor(/^\*\*\* /), refusal, JSON.stringify(line));
    }
  }
  eve.send("marker");
  assert.deepEqual(await amy.until("eve: marker"), ["eve: marker"], "amy got nothing before the marker");
  const seen = (await ivy.until(/PRIVMSG #main :marker$/)).filter((l) => / (PRIVMSG|NOTICE) /.test(l));
  assert.deepEqual(seen, [":eve!eve@teaparty PRIVMSG #main :marker"], "ivy got nothing before the marker");
  // Visible text with a blank in it still goes, on each command.
  eve.send(`say \u2800hi`);
  await amy.waitFor("eve: \u2800hi");
  eve.send(`/me e\u0301`);
  await amy.waitFor("* eve e\u0301");
  eve.send(`@amy \u2800x`);
  await amy.waitFor("[private] eve: \u2800x");
});

Deno.test("an IRC PRIVMSG of only a braille blank or a lone mark, or such a CTCP ACTION, gets 412 and reaches nobody", async () => {
  await using chat = await startIrcServer();
  const ivy = await ircLogin(chat, "ivy");
  await ircJoin(ivy, "ivy", "#main");
  const wes = await ircLogin(chat, "wes");
  await ircJoin(wes, "wes", "#main");
  const tom = await chat.login("tom");
  await ivy.waitFor(":tom!tom@teaparty JOIN #main");
  for (const blank of BLANKS) {
    for (const target of ["#main", "tom", "wes"]) {
      for (const text of [blank, ` ${blank} `, `\x01ACTION ${blank}\x01`, `\x01ACTION \x02${blank}\x02\x01`]) {
        ivy.send(`PRIVMSG ${target} :${text}`);
        assert.equal(
          await ivy.waitFor(/ 4\d\d /),
          ":teaparty 412 ivy :No text to send",
          JSON.stringify([target, text]),
        );
      }
    }
  }
  ivy.send("PRIVMSG #main :marker");
  assert.deepEqual(await tom.until("ivy: marker"), ["ivy: marker"], "tom got nothing before the marker");
  const seen = (await wes.until(/PRIVMSG #main :marker$/)).filter((l) => / (PRIVMSG|NOTICE) /.test(l));
  assert.deepEqual(seen, [":ivy!ivy@teaparty PRIVMSG #main :marker"], "wes got nothing before the marker");
});

Deno.test("an IRC NOTICE of only a braille blank or a lone mark is dropped, unanswered", async () => {
  await using chat = await startIrcServer();
  const ivy = await ircLogin(chat, "ivy");
  await ircJoin(ivy, "ivy", "#main");
  const wes = await ircLogin(chat, "wes");
  await ircJoin(wes, "wes", "#main");
  const tom = await chat.login("tom");
  await ivy.waitFor(":tom!tom@teaparty JOIN #main");
  for (const blank of BLANKS) {
    for (const target of ["#main", "tom", "wes"]) {
      ivy.send(`NOTICE ${target} :${blank}`);
      ivy.send(`NOTICE ${target} :\x01ACTION ${blank}\x01`);
    }
  }
  ivy.send("PING :after");
  const answered = await ivy.until(/PONG .*after/);
  assert.deepEqual(answered.filter((l) => !/ PONG /.test(l)), [], "a NOTICE is never answered");
  ivy.send("NOTICE #main :marker");
  assert.deepEqual(await tom.until("ivy: marker"), ["ivy: marker"], "tom got nothing before the marker");
  const seen = (await wes.until(/NOTICE #main :marker$/)).filter((l) => / (PRIVMSG|NOTICE) /.test(l));
  assert.deepEqual(seen, [":ivy!ivy@teaparty NOTICE #main :marker"], "wes got nothing before the marker");
});

Deno.test("cleanLine keeps a flag's tag sequence after the black flag: 1 to 6 tag digits or small letters, then cancel", () => {
  assert.equal(cleanLine(SCOTLAND), SCOTLAND);
  assert.equal(cleanLine(`go ${SCOTLAND} ${WALES}!`), `go ${SCOTLAND} ${WALES}!`);
  assert.equal(cleanLine(FLAG + tags("a") + CANCEL), FLAG + tags("a") + CANCEL);
  assert.equal(cleanLine(FLAG + tags("us0123") + CANCEL), FLAG + tags("us0123") + CANCEL);
  assert.equal(cleanLine(`\x1b[1m${SCOTLAND}\x1b[0m`), SCOTLAND);
});

Deno.test("cleanLine drops any other run of tag characters after the black flag, keeping the flag", () => {
  const runs = [
    tags("gbscotl") + CANCEL, // seven tags
    tags("gbsct"), // no cancel tag
    CANCEL, // a cancel tag alone
    tags("GBSCT") + CANCEL, // capital tag letters
    tags("gb sct") + CANCEL, // a tag space
    tags("gb-sct") + CANCEL, // tag punctuation
    "\u{e0001}" + tags("en") + CANCEL, // the language tag
    tags("gbsct") + CANCEL + tags("x") + CANCEL, // more after the cancel tag
    tags("gbsct") + CANCEL + CANCEL,
    tags("gbsct") + "\u{e0000}" + CANCEL, // an unassigned tag
    "\u{e0041}".repeat(5000), // a long run
  ];
  for (const run of runs) {
    assert.equal(cleanLine(`${FLAG}${run}`), FLAG, JSON.stringify(run));
    assert.equal(cleanLine(`a ${FLAG}${run} b`), `a ${FLAG} b`, JSON.stringify(run));
  }
  assert.equal(cleanLine(`${FLAG}${tags("gb")}x${CANCEL}`), `${FLAG}x`, "a run broken by a letter");
  assert.equal(
    cleanLine(`${SCOTLAND}x${tags("gbsct")}${CANCEL}`),
    `${SCOTLAND}x`,
    "a second sequence needs its own flag",
  );
});

Deno.test("cleanLine drops tag characters without the black flag, and erases a flag's sequence with the flag", () => {
  assert.equal(cleanLine(`a${tags("gbsct")}${CANCEL}b`), "ab");
  assert.equal(cleanLine(`\u{1f3f3}${tags("gbsct")}${CANCEL}`), "\u{1f3f3}", "the white flag takes no tags");
  assert.equal(
    cleanLine(`hi ${SCOTLAND}\b`),
    "hi ",
    "a backspace erases the whole flag, never leaving half a sequence",
  );
  assert.equal(cleanLine(`${SCOTLAND}\x7f${WALES}`), WALES);
});

Deno.test("a black flag followed by a run of tags that is not a flag sequence reaches the room as the flag alone", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  eve.send(`flag ${FLAG}${"\u{e0067}".repeat(40)}${CANCEL} and ${SCOTLAND}`);
  await amy.waitFor(`eve: flag ${FLAG} and ${SCOTLAND}`);
});

Deno.test("a telnet or WebSocket line of only invisible or control characters is answered; Enter alone is not", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  await eve.waitFor("*** amy has entered the room.");
  const refusal = "*** Nothing was sent: the line has no visible text (only control or invisible characters).";
  for (const line of ["\u200b", "\u2800", "\x1b[A", "\x07\x07"]) {
    eve.send(line);
    assert.equal(await eve.waitFor(/^\*\*\* /), refusal, JSON.stringify(line));
  }
  eve.send("");
  eve.send("   ");
  eve.send("marker");
  assert.deepEqual(await eve.until("eve: marker"), ["eve: marker"], "nothing answers an empty line or spaces");
  assert.deepEqual(await amy.until("eve: marker"), ["eve: marker"], "amy got nothing before the marker");
  const port = doorPort(chat, "http");
  const ws = await RawWebSocket.connect(port, { origin: `http://127.0.0.1:${port}` });
  await ws.sendText("login wes");
  await ws.waitForEvent((e) => e.type === "entered" && e.nick === "wes");
  await ws.sendText("\u200b");
  const error = await ws.waitForEvent((e) => e.type === "error");
  assert.equal(error.text, refusal.slice(4));
  ws.close();
  await ws.done;
});

Deno.test("IRC: a CTCP request other than ACTION is answered that it is not passed on; \\x01 alone gets 412", async () => {
  await using chat = await startIrcServer();
  const ivy = await ircLogin(chat, "ivy");
  await ircJoin(ivy, "ivy", "#main");
  const tom = await chat.login("tom");
  await ivy.waitFor(":tom!tom@teaparty JOIN #main");
  ivy.send("PRIVMSG tom :\x01VERSION\x01");
  assert.equal(
    await ivy.waitFor(/ NOTICE ivy | 4\d\d /),
    ":teaparty NOTICE ivy :CTCP VERSION is not passed on here: only ACTION (/me) is.",
  );
  for (const text of ["\x01", "\x01\x01"]) {
    ivy.send(`PRIVMSG #main :${text}`);
    assert.equal(await ivy.waitFor(/ NOTICE ivy | 4\d\d /), ":teaparty 412 ivy :No text to send", JSON.stringify(text));
  }
  ivy.send("PRIVMSG #main :\x01ACTION\x01 waves");
  await tom.waitFor("* ivy waves");
  ivy.send("NOTICE tom :\x01VERSION\x01"); // a NOTICE is never answered
  ivy.send("PING :after");
  await ivy.waitFor(/ PONG teaparty :after$/);
  assert.equal(ivy.lines.filter((l) => / NOTICE ivy :CTCP /.test(l)).length, 1, ivy.lines.join("\n"));
});
