import assert from "node:assert/strict";
import {
  byteLength,
  cutBytes,
  escapeTag,
  formatMessage,
  formatReply,
  formatTags,
  parseMessage,
  safeParam,
  unescapeTag,
} from "../irc/message.ts";
import { stripFormatting } from "../irc/formatting.ts";
import { Utf8Check } from "../irc/utf8.ts";
import { LineReader } from "../line_reader.ts";
import { splitText } from "../irc/split.ts";
import { parseHistoryRequest, parseRef, readHistory } from "../irc/history.ts";
import { capList, FLAG, renderFlags } from "../irc/caps.ts";
import { escapeValue, hostmask, isupportLines } from "../irc/isupport.ts";
import { banTarget } from "../doors/irc/channels.ts";
import { ctcp } from "../doors/irc/users.ts";
import { IrcDialect } from "../dialects/irc.ts";
import type { ChatEvent } from "../events.ts";
import type { StoredMessage } from "../store.ts";

Deno.test("parseMessage reads tags, source, command and parameters, the trailing one with spaces", () => {
  assert.deepEqual(parseMessage("@a=1;b;c=x\\sy :nick!u@h privmsg #main :hello  there :)"), {
    tags: new Map([["a", "1"], ["b", ""], ["c", "x y"]]),
    source: "nick!u@h",
    command: "PRIVMSG",
    params: ["#main", "hello  there :)"],
    tagBytes: 14,
  });
  assert.deepEqual(parseMessage("JOIN   #a,#b   key")?.params, ["#a,#b", "key"]);
  assert.deepEqual(parseMessage("PRIVMSG #main :")?.params, ["#main", ""]);
  assert.equal(parseMessage(""), undefined);
  assert.equal(parseMessage("@only=tags"), undefined);
  assert.equal(parseMessage(":only-source"), undefined);
});

Deno.test("tag values escape and unescape ; space backslash CR LF", () => {
  const value = "a;b c\\d\r\ne";
  assert.equal(escapeTag(value), "a\\:b\\sc\\\\d\\r\\ne");
  assert.equal(unescapeTag(escapeTag(value)), value);
  assert.equal(unescapeTag("trailing\\"), "trailing");
  assert.equal(unescapeTag("\\q"), "q");
  assert.equal(formatTags([["time", "t"], ["flag", ""]]), "@time=t;flag ");
  assert.equal(formatTags([]), "");
});

Deno.test("formatMessage adds a colon to the last parameter only when it needs one, or always when asked", () => {
  assert.equal(formatMessage("s", "PRIVMSG", ["#a", "hi"]), ":s PRIVMSG #a hi");
  assert.equal(formatMessage("s", "PRIVMSG", ["#a", "hi there"]), ":s PRIVMSG #a :hi there");
  assert.equal(formatMessage("s", "PRIVMSG", ["#a", ""]), ":s PRIVMSG #a :");
  assert.equal(formatMessage("s", "PRIVMSG", ["#a", ":)"]), ":s PRIVMSG #a ::)");
  assert.equal(formatMessage("s", "001", ["me", "Welcome"], true), ":s 001 me :Welcome");
  assert.equal(formatMessage("", "PING", ["x"]), "PING x");
});

Deno.test("byteLength counts UTF-8 bytes", () => {
  for (const text of ["", "abc", "é", "茶", "🍵", "a茶🍵é"]) {
    assert.equal(byteLength(text), new TextEncoder().encode(text).length, text);
  }
});

Deno.test("splitText cuts at spaces when it can, never inside a character, and loses nothing", () => {
  assert.deepEqual(splitText("one two three", 8), ["one two", "three"]);
  assert.deepEqual(splitText("short", 100), ["short"]);
  const word = "x".repeat(25);
  assert.deepEqual(splitText(word, 10), ["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
  const tea = "🍵".repeat(10); // 4 bytes each
  const pieces = splitText(tea, 10);
  assert.deepEqual(pieces, ["🍵🍵", "🍵🍵", "🍵🍵", "🍵🍵", "🍵🍵"]);
  const text = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
  const cut = splitText(text, 50);
  assert(cut.every((p) => byteLength(p) <= 50));
  assert.equal(cut.join(" "), text);
});

Deno.test("CHATHISTORY requests: references, limits and refusals", () => {
  assert.deepEqual(parseRef("msgid=42", false), { kind: "msgid", id: 42 });
  assert.deepEqual(parseRef("msgid=42.3", false), { kind: "msgid", id: 42 });
  assert.deepEqual(parseRef("timestamp=2026-11-23T16:58:10.123Z", false), {
    kind: "timestamp",
    at: Date.UTC(2026, 10, 23, 16, 58, 10, 123),
  });
  assert.equal(parseRef("*", false), undefined);
  assert.deepEqual(parseRef("*", true), { kind: "latest" });
  assert.equal(parseRef("msgid=abc", false), undefined);
  assert.equal(parseRef("timestamp=yesterday", false), undefined);
  assert.deepEqual(parseHistoryRequest(["latest", "#main", "*", "500"]), {
    sub: "LATEST",
    target: "#main",
    from: { kind: "latest" },
    limit: 100,
  });
  assert.equal((parseHistoryRequest(["BEFORE", "#main", "msgid=1", "0"]) as { code: string }).code, "INVALID_PARAMS");
  assert.equal((parseHistoryRequest(["BETWEEN", "#main", "msgid=1"]) as { code: string }).code, "NEED_MORE_PARAMS");
  assert.equal((parseHistoryRequest(["NOPE", "#main"]) as { code: string }).code, "UNKNOWN_COMMAND");
  assert.equal(
    (parseHistoryRequest(["TARGETS", "msgid=1", "msgid=2", "5"]) as { code: string }).code,
    "INVALID_PARAMS",
  );
});

Deno.test("readHistory turns each subcommand into exclusive bounds", async () => {
  const calls: unknown[] = [];
  const source = {
    within(_room: string, bounds: object, limit: number, newest: boolean): StoredMessage[] {
      calls.push({ bounds, limit, newest });
      return [];
    },
  };
  const ref = { kind: "msgid", id: 10 } as const;
  await readHistory(source, "main", { sub: "BEFORE", target: "#main", from: ref, limit: 5 });
  await readHistory(source, "main", { sub: "AFTER", target: "#main", from: ref, limit: 5 });
  await readHistory(source, "main", { sub: "AROUND", target: "#main", from: ref, limit: 5 });
  await readHistory(source, "main", {
    sub: "BETWEEN",
    target: "#main",
    from: { kind: "msgid", id: 20 },
    to: { kind: "msgid", id: 10 },
    limit: 5,
  });
  assert.deepEqual(calls, [
    { bounds: { beforeId: 10 }, limit: 5, newest: true },
    { bounds: { afterId: 10 }, limit: 5, newest: false },
    { bounds: { beforeId: 10 }, limit: 2, newest: true },
    { bounds: { afterId: 9 }, limit: 5, newest: false },
    { bounds: { afterId: 10, beforeId: 20 }, limit: 5, newest: true },
  ]);
});

Deno.test("capabilities: the 302 list has values, render flags have one bit per tag capability", () => {
  assert.match(capList(302), /sasl=PLAIN/);
  assert.doesNotMatch(capList(0), /=/);
  assert.equal(renderFlags(new Set(["echo-message", "batch", "multi-prefix"])), 0);
  assert.equal(
    renderFlags(new Set(["message-tags", "server-time", "account-tag", "away-notify"])),
    FLAG.tags | FLAG.time | FLAG.account | FLAG.away,
  );
});

Deno.test("ISUPPORT escapes values and fits its lines", () => {
  assert.equal(escapeValue("Tea Room=1\\"), "Tea\\x20Room\\x3D1\\x5C");
  for (const tokens of isupportLines("TestChat")) assert(tokens.length <= 12);
  assert.equal(hostmask("茶友"), "茶友!茶友@teaparty");
});

Deno.test("ban masks name a nick or an address, never a pattern", () => {
  assert.equal(banTarget("bob"), "bob");
  assert.equal(banTarget("bob!*@*"), "bob");
  assert.equal(banTarget("bob!*"), "bob");
  assert.equal(banTarget("*!*@10.0.0.1"), "10.0.0.1");
  assert.equal(banTarget("*@10.0.0.1"), "10.0.0.1");
  assert.equal(banTarget("b*b!*@*"), undefined);
  assert.equal(banTarget("*!*@*.example.org"), undefined);
  assert.equal(banTarget("bob!bob@host"), undefined);
});

Deno.test("CTCP: ACTION is an action, other requests are not passed on", () => {
  assert.deepEqual(ctcp("hello"), { kind: "chat", text: "hello" });
  assert.deepEqual(ctcp("\x01ACTION waves\x01"), { kind: "action", text: "waves" });
  assert.deepEqual(ctcp("\x01ACTION waves"), { kind: "action", text: "waves" });
  assert.deepEqual(ctcp("\x01VERSION\x01"), { kind: "ctcp", verb: "VERSION" });
  assert.deepEqual(ctcp("\x01\x01"), { kind: "ctcp", verb: "" });
  assert.deepEqual(ctcp("\x01ACTION\x01 waves"), { kind: "action", text: " waves" }, "the verb ends at the \\x01");
});

Deno.test("the IRC dialect writes room events as IRC lines, tags as its flags ask, personal events as nothing", () => {
  const plain = new IrcDialect(0, () => "alice");
  const tagged = new IrcDialect(
    FLAG.tags | FLAG.time | FLAG.account | FLAG.away,
    (n) => n === "alice" ? "alice" : undefined,
  );
  const text = (d: IrcDialect, e: ChatEvent) => new TextDecoder().decode(d.render(e));
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  const said: ChatEvent = { type: "chat", room: "main", nick: "alice", text: "hi", at, id: 7 };
  assert.equal(text(plain, said), ":alice!alice@teaparty PRIVMSG #main :hi\r\n");
  assert.equal(
    text(tagged, said),
    "@time=2026-01-02T03:04:05.006Z;msgid=7;account=alice :alice!alice@teaparty PRIVMSG #main :hi\r\n",
  );
  assert.equal(
    text(plain, { type: "action", room: "main", nick: "bob", text: "waves", at }),
    ":bob!bob@teaparty PRIVMSG #main :\x01ACTION waves\x01\r\n",
  );
  assert.equal(text(plain, { type: "entered", room: "den", nick: "bob", at }), ":bob!bob@teaparty JOIN #den\r\n");
  assert.equal(text(plain, { type: "left", room: "den", nick: "bob", at }), ":bob!bob@teaparty PART #den\r\n");
  assert.equal(
    text(plain, { type: "left", room: "den", nick: "bob", at, reason: "tea" }),
    ":bob!bob@teaparty PART #den :tea\r\n",
  );
  assert.equal(
    text(plain, { type: "left", room: "den", nick: "bob", at, quit: true }),
    ":bob!bob@teaparty QUIT :Quit\r\n",
  );
  assert.equal(
    text(plain, {
      type: "crowd",
      room: "main",
      entered: ["a", "b", "c"],
      enteredCount: 40,
      left: [],
      leftCount: 0,
      at,
    }),
    ":teaparty NOTICE #main :a, b, c and 37 others entered the room.\r\n",
  );
  assert.equal(
    text(plain, { type: "topic", room: "main", text: "Tea at five", by: "op", at, changed: true }),
    ":op!op@teaparty TOPIC #main :Tea at five\r\n",
  );
  assert.equal(text(plain, { type: "topic", room: "main", text: "x", by: "op", at, changed: false }), "");
  assert.equal(
    text(plain, { type: "kick", room: "den", nick: "bob", by: "op", reason: "" }),
    ":op!op@teaparty KICK #den bob :op\r\n",
  );
  assert.equal(text(plain, { type: "nick", old: "bob", nick: "robert", at }), ":bob!bob@teaparty NICK robert\r\n");
  assert.equal(
    text(plain, { type: "notice", text: "bob is muted", room: "main" }),
    ":teaparty NOTICE #main :bob is muted\r\n",
  );
  assert.equal(text(plain, { type: "away", nick: "bob", text: "tea", at }), "", "AWAY only with away-notify");
  assert.equal(
    text(tagged, { type: "away", nick: "bob", text: "", at }),
    "@time=2026-01-02T03:04:05.006Z :bob!bob@teaparty AWAY\r\n",
  );
  for (
    const personal of [
      { type: "notice", text: "just you" },
      { type: "error", text: "no" },
      { type: "private", from: "a", to: "b", text: "x", at, echo: false },
      { type: "goodbye", text: "bye" },
    ] as ChatEvent[]
  ) assert.equal(text(plain, personal), "", personal.type);
});

Deno.test("stripFormatting removes colour codes with their numbers, hex colours and every format code", () => {
  assert.equal(stripFormatting("\x0304red\x03 \x02bold\x02"), "red bold");
  assert.equal(stripFormatting("\x034,12blue\x0f"), "blue");
  assert.equal(stripFormatting("\x03,5 text"), ",5 text", "a comma without a colour before it is text");
  assert.equal(stripFormatting("\x0312345"), "345", "two digits at most");
  assert.equal(stripFormatting("\x034,123"), "3", "two digits of background at most");
  assert.equal(stripFormatting("\x034, x"), ", x", "a comma not followed by a digit is text");
  assert.equal(stripFormatting("\x04FF00aaHex\x04 \x04ff0000,00FF00both"), "Hex both");
  assert.equal(stripFormatting("\x04F0 short"), "F0 short", "not six hex digits: only the code goes");
  assert.equal(stripFormatting("\x1di\x1d\x1fu\x1f\x1es\x1e\x11m\x11\x16r\x16\x0f"), "iusmr");
  assert.equal(stripFormatting("\x01ACTION waves\x01"), "\x01ACTION waves\x01", "CTCP is not formatting");
  assert.equal(stripFormatting("plain 1,2"), "plain 1,2");
});

Deno.test("safeParam and formatReply never echo control characters nor pass 510 bytes", () => {
  assert.equal(safeParam("bo\x00b\r\n2", true), "bob2");
  assert.equal(safeParam(":a b", true), "ab");
  assert.equal(safeParam("\x01\x02", true), "*");
  assert.equal(safeParam("x".repeat(500), true).length, 270);
  assert.equal(safeParam("text with spaces\x07", false), "text with spaces");
  assert.equal(cutBytes("茶茶茶", 7), "茶茶");
  assert.equal(cutBytes("a😀b", 4), "a", "never half a surrogate pair");
  const line = formatReply("teaparty", "401", ["eve", "b".repeat(490), "No such nick/channel"], true);
  assert.equal(line, `:teaparty 401 eve ${"b".repeat(270)} :No such nick/channel`);
  const long = formatReply("teaparty", "432", ["eve", "a".repeat(100), `Erroneous: ${"z".repeat(600)}`], true);
  assert.equal(byteLength(long), 510);
  assert(long.startsWith(`:teaparty 432 eve ${"a".repeat(100)} :Erroneous: zzz`));
  // Many long middle parameters: the text goes first, then the longest of them.
  const many = formatReply("teaparty", "352", ["me", ...Array(6).fill("m".repeat(200)), "text"], true);
  assert(byteLength(many) <= 510, `${byteLength(many)}`);
  assert.equal(parseMessage(many)?.params.length, 8);
  assert.equal(formatReply("teaparty", "324", ["eve", "#main", "+nt"]), ":teaparty 324 eve #main +nt");
});

Deno.test("Utf8Check finds the invalid lines, split into lines as the line reader splits them", async () => {
  const chunks = [
    [0x61, 0x0d], // "a" CR ... (LF in the next read)
    [0x0a, 0xe9, 0x0a], // lone 0xE9
    [0xc3], // the first half of é ...
    [0xa9, 0x0d, 0x00], // ... and the second: valid; CR NUL
    [0xe2, 0x82, 0x0d], // a sequence cut by a lone CR
    [0x62, 0x0a], // "b"
    [0xf0, 0x9f, 0x98, 0x80, 0x0a], // 😀: valid
    [0xf4, 0x90, 0x80, 0x80, 0x0a], // past U+10FFFF
    [0xe0, 0x80, 0x80, 0x0a], // overlong
    [0xed, 0xb0, 0x80, 0x0a], // a surrogate
    [0x0a], // an empty line
    [0xff], // a last line without its end
  ];
  const check = new Utf8Check();
  let i = 0;
  const source = {
    read(p: Uint8Array): Promise<number | null> {
      const chunk = chunks[i++];
      if (!chunk) return Promise.resolve(null);
      p.set(chunk);
      return Promise.resolve(chunk.length);
    },
  };
  const lines: [string, number][] = [];
  let n = 0;
  await new Promise<void>((done, failed) => {
    const reader: LineReader = new LineReader(source, { maxLine: 100, telnet: check }, {
      linesArrived() {
        for (let line = reader.next(); line !== undefined; line = reader.next()) {
          lines.push([String(line), check.invalid(n++)]);
        }
        if (reader.ended) done();
        else reader.read();
      },
      readFailed: failed,
    });
    reader.read();
  });
  assert.deepEqual(lines, [
    ["a", -1],
    ["\ufffd", 1],
    ["é", -1],
    ["\ufffd", 2],
    ["b", -1],
    ["😀", -1],
    ["\ufffd\ufffd\ufffd\ufffd", 4],
    ["\ufffd\ufffd\ufffd", 3],
    ["\ufffd\ufffd\ufffd", 3],
    ["", -1],
    ["\ufffd", 1],
  ]);
});
