/**
 * The README's sample session ("A session, as a telnet user sees it"),
 * replayed line by line against a real server: what alice types is sent,
 * and what the server sends her must be exactly the README's lines, in
 * order (the history line's time aside). A change of wording in the telnet
 * dialect fails here until the README says the same.
 */
import assert from "node:assert/strict";
import { loginWithPassword, startOpServer } from "./db_helpers.ts";
import type { TestClient } from "./helpers.ts";

const README = new URL("../README.md", import.meta.url);
const TIME = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;

/** The lines of the README's sample session, without the shell's lines around it. */
async function sampleSession(): Promise<string[]> {
  const text = await Deno.readTextFile(README);
  const block = /## A session, as a telnet user sees it\n\n```\n([\s\S]*?)\n```/.exec(text);
  assert.ok(block, "the README has its sample session");
  const lines = block[1].split("\n");
  assert.equal(lines[0], "$ telnet localhost 5005");
  assert.equal(lines.at(-1), "Connection closed by foreign host.");
  // The redraw line comes only to a client in telnet's character mode, as the README says below the session.
  return lines.slice(1, -1).filter((l) => !l.startsWith("*** Redraw mode:"));
}

/** Whether a line of the session is one alice typed (what the server sends starts with ***, [, * or a nick). */
const typed = (line: string) => !/^(\*\*\* |\[|\* |\w+: )/.test(line);

Deno.test("the README's sample session is what a telnet user sees, line for line", async () => {
  const session = await sampleSession();
  await using chat = await startOpServer({ op: ["bob"], rate: 0 }, { bob: "bobpass1" });
  const bob = await loginWithPassword(chat, "bob", "bobpass1");
  bob.send("/topic Tea at five");
  await bob.waitFor(/Tea at five/);
  bob.send("anyone for tea?");
  await bob.waitFor("bob: anyone for tea?");
  bob.send("logout");
  await bob.closed();

  const alice = await chat.connect();
  let carol: TestClient | undefined;
  for (const line of session) {
    if (typed(line)) {
      alice.send(line);
      continue;
    }
    if (line === "*** carol has entered the room.") carol = await chat.login("carol");
    if (line === "carol: hi alice!") carol!.send("hi alice!");
    const history = line.startsWith("[history ");
    await alice.waitFor(
      history ? new RegExp(`^${escape(line).replace(escape(TIME.exec(line)![0]), TIME.source)}$`) : line,
    );
  }
  await alice.closed();
  const expected = session.filter((l) => !typed(l)).map((l) => l.replace(TIME, "TIME"));
  assert.deepEqual(alice.lines.map((l) => l.replace(TIME, "TIME")), expected);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
