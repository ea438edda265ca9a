import assert from "node:assert/strict";
import { ircJoin, ircLogin, startIrcServer } from "./irc_helpers.ts";

/** Says `n` lines in #main through one IRC client and returns their msgids. */
async function fill(chat: Awaited<ReturnType<typeof startIrcServer>>, n: number): Promise<string[]> {
  const w = await ircLogin(chat, "writer", { caps: ["echo-message", "message-tags"] });
  await ircJoin(w, "writer", "#main");
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    w.send(`PRIVMSG #main :line ${i}`);
    ids.push(/msgid=(\d+)/.exec(await w.waitFor(new RegExp(`:line ${i}$`)))![1]);
  }
  return ids;
}

const texts = (lines: string[]) => lines.filter((l) => l.includes(" PRIVMSG ")).map((l) => l.split(" :").pop());

async function history(c: Awaited<ReturnType<typeof ircLogin>>, request: string): Promise<string[]> {
  c.send(`CHATHISTORY ${request}`);
  const lines = await c.until(/BATCH -|FAIL/);
  return lines;
}

Deno.test("CHATHISTORY pages through a room: LATEST, BEFORE, AFTER, AROUND, BETWEEN, oldest first, in a batch", async () => {
  await using chat = await startIrcServer({ history: 0 });
  const ids = await fill(chat, 10);
  const r = await ircLogin(chat, "reader", { caps: ["draft/chathistory", "batch", "server-time", "message-tags"] });
  const latest = await history(r, "LATEST #main * 3");
  assert.match(latest[0], /^:teaparty BATCH \+(\S+) chathistory #main$/);
  assert.deepEqual(texts(latest), ["line 8", "line 9", "line 10"]);
  const ref = /BATCH \+(\S+)/.exec(latest[0])![1];
  assert(latest.filter((l) => l.includes("PRIVMSG")).every((l) => l.startsWith(`@batch=${ref};time=`)));
  assert.match(latest[1], new RegExp(`msgid=${ids[7]} :writer!writer@teaparty PRIVMSG #main :line 8$`));
  assert.deepEqual(texts(await history(r, `BEFORE #main msgid=${ids[7]} 3`)), ["line 5", "line 6", "line 7"]);
  assert.deepEqual(texts(await history(r, `AFTER #main msgid=${ids[7]} 5`)), ["line 9", "line 10"]);
  assert.deepEqual(texts(await history(r, `AROUND #main msgid=${ids[4]} 4`)), ["line 3", "line 4", "line 5", "line 6"]);
  assert.deepEqual(texts(await history(r, `BETWEEN #main msgid=${ids[1]} msgid=${ids[5]} 10`)), [
    "line 3",
    "line 4",
    "line 5",
  ]);
  assert.deepEqual(texts(await history(r, `BETWEEN #main msgid=${ids[5]} msgid=${ids[1]} 2`)), ["line 4", "line 5"]);
  assert.deepEqual(texts(await history(r, `LATEST #main msgid=${ids[7]} 10`)), ["line 9", "line 10"]);
  // Timestamps work too: everything before a time after the last line is the whole room.
  const future = new Date(Date.now() + 60_000).toISOString();
  assert.equal(texts(await history(r, `BEFORE #main timestamp=${future} 100`)).length, 10);
  assert.deepEqual(texts(await history(r, `AFTER #main timestamp=${future} 5`)), []);
  assert.deepEqual(texts(await history(r, "LATEST #empty * 5")), []);
});

Deno.test("CHATHISTORY refuses bad requests with FAIL", async () => {
  await using chat = await startIrcServer();
  const r = await ircLogin(chat, "reader", { caps: ["draft/chathistory", "batch"] });
  assert.equal(
    (await history(r, "BEFORE #main * 10")).pop(),
    ':teaparty FAIL CHATHISTORY INVALID_PARAMS BEFORE :"*" is not a message reference: use msgid=<id> or timestamp=<ISO time>',
  );
  assert.match((await history(r, "LATEST #main * 0")).pop()!, /^:teaparty FAIL CHATHISTORY INVALID_PARAMS LATEST /);
  assert.match((await history(r, "LATEST #main")).pop()!, /^:teaparty FAIL CHATHISTORY NEED_MORE_PARAMS LATEST /);
  assert.match(
    (await history(r, "SIDEWAYS #main * 5")).pop()!,
    /^:teaparty FAIL CHATHISTORY UNKNOWN_COMMAND SIDEWAYS /,
  );
  assert.match(
    (await history(r, "LATEST #no!pe * 5")).pop()!,
    /^:teaparty FAIL CHATHISTORY INVALID_TARGET LATEST #no!pe /,
  );
  assert.match((await history(r, "AFTER #main timestamp=yesterday 5")).pop()!, /INVALID_PARAMS AFTER/);
  // A nick's history is empty: private messages are not kept.
  const dm = await history(r, "LATEST someone * 5");
  assert.deepEqual(texts(dm), []);
  assert.match(dm[0], /BATCH \+\S+ chathistory someone/);
});

Deno.test("a limit above CHATHISTORY=100 is lowered to it", async () => {
  await using chat = await startIrcServer({ history: 0 });
  const store = chat.server.store;
  store.addMessages(
    Array.from(
      { length: 130 },
      (_, i) => ({ room: "main", at: 1000 + i, kind: "chat" as const, nick: "old", text: `m${i}` }),
    ),
  );
  const r = await ircLogin(chat, "reader", { caps: ["draft/chathistory", "batch"] });
  const got = texts(await history(r, "LATEST #main * 500"));
  assert.equal(got.length, 100);
  assert.equal(got[99], "m129");
});

Deno.test("a long telnet line reaches IRC cut into lines that fit 512 bytes, with msgids N, N.2 …", async () => {
  await using chat = await startIrcServer();
  const r = await ircLogin(chat, "reader", { caps: ["message-tags"] });
  await ircJoin(r, "reader", "#main");
  const tel = await chat.login("talker");
  const long = Array.from({ length: 150 }, (_, i) => `word${i}`).join(" ");
  tel.send(long);
  const first = await r.waitFor(/PRIVMSG #main :word0 /);
  const id = /msgid=(\d+)/.exec(first)![1];
  const rest = await r.until((l) => l.endsWith("word149"));
  const parts = [first, ...rest.filter((l) => l.includes("PRIVMSG"))];
  assert(parts.length >= 3, parts.join("\n"));
  for (const p of parts) assert(new TextEncoder().encode(p.slice(p.indexOf(" ") + 1)).length <= 510, p);
  assert.deepEqual(
    parts.map((p) => /msgid=([\d.]+)/.exec(p)![1]),
    parts.map((_, i) => i === 0 ? id : `${id}.${i + 1}`),
  );
  const said = (p: string) => p.slice(p.indexOf("PRIVMSG #main :") + "PRIVMSG #main :".length);
  assert.equal(parts.map(said).join(" "), long);
});
