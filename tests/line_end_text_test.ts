/**
 * Line ends and invisible characters over sockets: a lone CR ends its line
 * at once, and invisible characters never reach the room.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";
import { readLines } from "../line_reader.ts";

Deno.test("a line ended by a lone CR is delivered without waiting for another byte", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  await eve.sendRaw("lonecr\r");
  await amy.waitFor("eve: lonecr");
});

Deno.test("an LF or NUL sent later after a lone CR belongs to its line end, not a new empty line", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  await eve.sendRaw("one\r");
  await eve.waitFor("eve: one");
  await eve.sendRaw("\ntwo\r");
  await eve.waitFor("eve: two");
  await eve.sendRaw("\0three\r\n");
  await eve.waitFor("eve: three");
  await eve.sendRaw("\r\n");
  eve.send("/look");
  const lines = await eve.until(/^\*\*\* In main/);
  assert.deepEqual(lines, ["*** In main (1): eve"], "an empty line is not answered, and none came before");
});

Deno.test("a guest's lone CR gets its answer at once", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  await guest.sendRaw("login tom\r");
  await guest.waitFor("*** tom has entered the room.");
});

Deno.test("readLines yields a CR-ended line before the next read, and skips an LF in that read", async () => {
  const reads = [new TextEncoder().encode("a\r"), new TextEncoder().encode("\nb\r"), new TextEncoder().encode("\0")];
  let served = 0;
  const source = {
    read(p: Uint8Array) {
      const chunk = reads[served++];
      if (!chunk) return Promise.resolve(null);
      p.set(chunk);
      return Promise.resolve(chunk.length);
    },
  };
  const seen: [string, number][] = [];
  for await (const line of readLines(source, { maxLine: 100 })) seen.push([String(line), served]);
  assert.deepEqual(seen, [["a", 1], ["b", 2]]);
});

Deno.test("line and paragraph separators, zero-width and other invisible characters never reach the room", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  eve.send("one\u2028two\u2029three");
  await amy.waitFor("eve: one two three");
  eve.send("in\u200bvis\u2060ible\ufeff\u00ad\u180e");
  await amy.waitFor("eve: invisible");
  eve.send("\u200b\u200c\u200d\u3164\u2060 "); // nothing visible: not sent at all
  eve.send("marker");
  const lines = await amy.until("eve: marker");
  assert.deepEqual(lines, ["eve: marker"]);
});

Deno.test("tag characters, deprecated format characters and annotation marks never reach the room; flag tags do", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  eve.send("hi\u{e0041}\u{e0042}\u{e007f} a\u206ab a\ufff9b\ufffbc");
  await amy.waitFor("eve: hi ab abc");
  const scotland = "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}";
  eve.send(`go ${scotland}`);
  await amy.waitFor(`eve: go ${scotland}`);
});

Deno.test("a line that only looks empty (Braille blank, lone marks, a variation selector) is not sent", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  for (const blank of ["\u2800", "\u0301\u0301", "\ufe0f", " \u2800 \ufe0f "]) eve.send(blank);
  eve.send("marker");
  const lines = await amy.until("eve: marker");
  assert.deepEqual(lines, ["eve: marker"]);
});

Deno.test("zero-width joiners between visible characters stay: emoji sequences and Persian words", async () => {
  await using chat = await startServer({ rate: 0 });
  const eve = await chat.login("eve");
  const amy = await chat.login("amy");
  eve.send("👩\u200d💻 می\u200cخواهم");
  await amy.waitFor("eve: 👩\u200d💻 می\u200cخواهم");
  eve.send("\u200dx\u200d y\u200c");
  await amy.waitFor("eve: x y");
});
