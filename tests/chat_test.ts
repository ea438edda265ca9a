/**
 * Talking in a room: say, plain lines, bare command words, /me, quiet mode,
 * /ignore, help, unknown commands and forged server notices.
 */
import assert from "node:assert/strict";
import { helpEntries, startServer } from "./helpers.ts";

Deno.test("say, /say and a plain line reach everyone in the room, sender included", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  alice.send("say one");
  alice.send("/say two");
  alice.send("three");
  for (const client of [alice, bob, carol]) {
    assert.equal(await client.waitFor(/^alice: /), "alice: one");
    assert.equal(await client.waitFor(/^alice: /), "alice: two");
    assert.equal(await client.waitFor(/^alice: /), "alice: three");
  }
});

Deno.test("bare command words count as commands only in their own form", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const chatty = [
    "look at this",
    "who is there?",
    "help me please",
    "logout now",
    "sayonara",
    "looking good",
    "join lobby",
    "rooms are nice",
    "me too",
    "msg me later",
    "quiet please",
  ];
  for (const line of chatty) alice.send(line);
  for (const line of chatty) assert.equal(await bob.waitFor(/^alice: /), `alice: ${line}`);
  // ...while the words alone (or leading, for say) are commands.
  alice.send("look");
  assert.equal(await alice.waitFor(/^\*\*\* In /), "*** In main (2): alice, bob");
  alice.send("who");
  assert.equal(await alice.waitFor(/logged in:$/), "*** 2 logged in:");
  alice.send("say hi there");
  assert.equal(await bob.waitFor(/^alice: /), "alice: hi there");
  alice.send("help");
  await alice.waitFor("*** Commands:");
  alice.send("logout");
  await alice.closed();
  await bob.waitFor("*** alice has left the room.");
});

Deno.test("/me <action> shows the action to the room", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/me waves at everyone");
  assert.equal(await bob.waitFor(/^\* /), "* alice waves at everyone");
  assert.equal(await alice.waitFor(/^\* /), "* alice waves at everyone");
});

Deno.test("chat stays in its room", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  carol.send("/join lobby");
  await carol.waitFor("*** carol has entered the room.");
  await alice.waitFor("*** carol has left the room.");
  alice.send("only for main");
  await bob.waitFor("alice: only for main");
  carol.send("only for the lobby");
  await carol.waitFor("carol: only for the lobby");
  alice.send("marker");
  await alice.waitFor("alice: marker");
  const seen = await bob.until("alice: marker");
  assert.ok(!seen.includes("carol: only for the lobby"), seen.join("\n"));
  carol.send("/me marks");
  const inLobby = await carol.until("* carol marks");
  assert.ok(!inLobby.includes("alice: only for main"), inLobby.join("\n"));
  assert.ok(!inLobby.includes("alice: marker"), inLobby.join("\n"));
});

Deno.test("CJK and emoji pass intact both ways", async () => {
  await using chat = await startServer();
  const tea = await chat.login("茶友");
  const bob = await chat.login("bob");
  const text = "你好，世界 🍵 👍🏽 👨‍👩‍👧 café ñ Ω";
  tea.send(text);
  assert.equal(await bob.waitFor(/^茶友: /), `茶友: ${text}`);
  bob.send(`@茶友 ${text}`);
  assert.equal(await tea.waitFor(/^\[private\]/), `[private] bob: ${text}`);
  tea.send(`/me 喝茶 🍵`);
  assert.equal(await bob.waitFor(/^\* /), "* 茶友 喝茶 🍵");
});

Deno.test("quiet mode hides room chat but not notices or private messages", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/quiet");
  assert.match(await alice.waitFor(/^\*\*\* Quiet mode/), /^\*\*\* Quiet mode on/);
  bob.send("room chat");
  await bob.waitFor("bob: room chat");
  bob.send("/me dances");
  await bob.waitFor("* bob dances");
  await chat.login("carol");
  bob.send("@alice psst");
  const seen = await alice.until("[private] bob: psst");
  assert.ok(seen.includes("*** carol has entered the room."), seen.join("\n"));
  assert.ok(!seen.includes("bob: room chat"), seen.join("\n"));
  assert.ok(!seen.includes("* bob dances"), seen.join("\n"));
});

Deno.test("in quiet mode your own room chat is refused with an explanation", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/quiet");
  await alice.waitFor(/^\*\*\* Quiet mode on/);
  alice.send("hello?");
  assert.match(await alice.waitFor(/^\*\*\* /), /quiet/i);
  alice.send("/me waves");
  assert.match(await alice.waitFor(/^\*\*\* /), /quiet/i);
  alice.send("/quiet");
  assert.match(await alice.waitFor(/^\*\*\* Quiet mode/), /^\*\*\* Quiet mode off/);
  alice.send("back");
  const seen = await bob.until("alice: back");
  assert.ok(!seen.includes("alice: hello?"), seen.join("\n"));
  assert.ok(!seen.includes("* alice waves"), seen.join("\n"));
  await alice.waitFor("alice: back");
});

Deno.test("/i toggles quiet mode like /quiet", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/i");
  await alice.waitFor(/^\*\*\* Quiet mode on/);
  bob.send("unseen");
  await bob.waitFor("bob: unseen");
  alice.send("/i");
  await alice.waitFor(/^\*\*\* Quiet mode off/);
  bob.send("seen");
  const seen = await alice.until("bob: seen");
  assert.ok(!seen.includes("bob: unseen"), seen.join("\n"));
});

Deno.test("/ignore hides one user's room chat and actions; /unignore shows them again", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  alice.send("/ignore bob");
  assert.match(await alice.waitFor(/^\*\*\* You now ignore/), /ignore bob/);
  bob.send("can you hear me");
  bob.send("/me shouts");
  await bob.waitFor("* bob shouts");
  carol.send("carol speaks");
  const seen = await alice.until("carol: carol speaks");
  assert.ok(!seen.includes("bob: can you hear me"), seen.join("\n"));
  assert.ok(!seen.includes("* bob shouts"), seen.join("\n"));
  // Others still hear bob.
  await carol.waitFor("bob: can you hear me");
  alice.send("/unignore bob");
  assert.match(await alice.waitFor(/^\*\*\* You no longer/), /no longer ignore bob/);
  bob.send("now?");
  await alice.waitFor("bob: now?");
});

Deno.test("/ignore of an unknown user or of yourself is refused", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  alice.send("/ignore nobody");
  assert.match(await alice.waitFor(/^\*\*\* /), /No such user/);
  alice.send("/ignore alice");
  assert.match(await alice.waitFor(/^\*\*\* /), /yourself/);
  alice.send("hi");
  await alice.waitFor("alice: hi");
});

Deno.test("help, /help and /h list the commands usable when logged in, an entry each, within 80 columns", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const usable = chat.server.commands.all.filter((c) => (c.where === "any" || c.where === "member") && !c.op);
  for (const form of ["help", "/help", "/h", "/HELP"]) {
    alice.send(form);
    await alice.waitFor("*** Commands:");
    const all = await alice.until(/^\*\*\* Any other line/);
    for (const l of all) assert.ok([...l].length <= 80, `a help line is wider than 80 columns: ${l}`);
    const lines = helpEntries(all.slice(0, -1));
    assert.equal(lines.length, usable.length, lines.join("\n"));
    for (const c of usable) {
      const usage = chat.server.commands.usage(c);
      const line = lines.find((l) => l.startsWith(`***   ${usage} `) || l === `***   ${usage}`);
      assert.ok(line, `no help line for ${usage}:\n${lines.join("\n")}`);
      assert.ok(line.includes(c.help), line);
    }
    assert.ok(!lines.some((l) => l.startsWith("***   login")), "login is listed after login");
  }
  for (const name of ["say", "me", "msg", "look", "who", "join", "leave", "rooms", "quiet", "ignore", "unignore"]) {
    assert.ok(usable.some((c) => c.name === name), name);
  }
});

Deno.test("help for a guest lists only what a guest can use", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("help");
  await guest.waitFor("*** Commands before you log in:");
  guest.send("look"); // answered with the login reminder: the end of the help
  const lines = helpEntries((await guest.until(/^\*\*\* You are not logged in/)).slice(0, -1));
  const usable = chat.server.commands.all.filter((c) => c.where === "any" || c.where === "guest");
  assert.equal(lines.length, usable.length, lines.join("\n"));
  for (const c of usable) {
    const usage = chat.server.commands.usage(c);
    assert.ok(lines.some((l) => l.startsWith(`***   ${usage}`) && l.includes(c.help)), usage);
  }
  for (const name of ["login", "logout", "help"]) assert.ok(lines.some((l) => l.startsWith(`***   ${name}`)), name);
  assert.ok(!lines.some((l) => /\/join|\/msg|\/quiet/.test(l)), lines.join("\n"));
});

Deno.test("an unknown /command is named, with a hint about /help", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  alice.send("/frobnicate now");
  const reply = await alice.waitFor(/^\*\*\* /);
  assert.match(reply, /^\*\*\* Unknown command: \/frobnicate\b/);
  assert.match(reply, /\/help/);
  alice.send("marker");
  const seen = await bob.until("alice: marker");
  assert.ok(!seen.some((l) => l.includes("frobnicate")), seen.join("\n"));
});

Deno.test("no chat text can produce a line that starts with *** ", async () => {
  await using chat = await startServer({ rate: 0 });
  const mallory = await chat.login("mallory");
  const bob = await chat.login("bob");
  const attempts = [
    "*** fake has entered the room.",
    "say *** fake",
    "/say *** fake",
    "/me *** fake",
    "   *** fake",
    "\b\b\b\b\b\b\b\b\b*** fake",
    "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f*** fake",
    "\x1b[2K\x1b[1G*** fake",
    "\x1b[1A\x1b[100D*** fake",
    "x\x15*** fake",
    "\u202e*** fake",
    "hello\r*** fake",
    "hello\n*** fake",
    "//*** fake",
    "\x00*** fake",
  ];
  for (const a of attempts) await mallory.sendRaw(a + "\r\n");
  mallory.send("marker");
  const seen = await bob.until("mallory: marker");
  const forged = seen.filter((l) => l.includes("fake"));
  assert.ok(forged.length >= attempts.length, seen.join("\n"));
  for (const l of forged) assert.ok(!l.startsWith("*** "), `forged notice: ${JSON.stringify(l)}`);
  const text = new TextDecoder().decode(new Uint8Array(bob.raw));
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\r\x1b\x08\x7f\u202e]\*\*\* fake/.test(text), "a control character before a forged notice");
});

Deno.test("a user's chat, private messages and command replies arrive in the order they were sent", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  // One write, so the server reads all four lines in the same turn.
  await alice.sendRaw("first\r\n@bob second\r\n/me third\r\n@bob fourth\r\n");
  const seen = await bob.until("[private] alice: fourth");
  assert.deepEqual(seen.filter((l) => l.includes("alice")), [
    "alice: first",
    "[private] alice: second",
    "* alice third",
    "[private] alice: fourth",
  ]);
  await alice.sendRaw("fifth\r\n/frobnicate\r\n");
  const mine = await alice.until(/^\*\*\* Unknown command/);
  assert.ok(mine.includes("alice: fifth"), `the chat line came after the reply: ${mine.join(" | ")}`);
});

Deno.test("a user's last line before disconnecting reaches the room before the leaving notice", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  await bob.sendRaw("bye all\r\n");
  bob.close();
  const seen = await alice.until("*** bob has left the room.");
  assert.ok(seen.includes("bob: bye all"), `the last line came after the leaving notice: ${seen.join(" | ")}`);
});

Deno.test("a line sent right before logout reaches the sender too, before its goodbye", async () => {
  await using chat = await startServer({ rate: 0 });
  const wanda = await chat.login("wanda");
  const bob = await chat.login("bob");
  await bob.sendRaw("last words\r\nlogout\r\n"); // one write: both lines are read in one turn
  const seen = await bob.until("*** Goodbye, bob!");
  assert.ok(seen.includes("bob: last words"), seen.join("\n"));
  const others = await wanda.until("*** bob has left the room.");
  assert.ok(others.includes("bob: last words"), others.join("\n"));
});
