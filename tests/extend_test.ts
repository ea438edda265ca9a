/**
 * Extending the server: commands registered by a test through the
 * `commands` option or `server.commands.add`, used over a socket.
 */
import assert from "node:assert/strict";
import { helpEntries, startServer } from "./helpers.ts";
import type { Command } from "../commands/table.ts";

const shout: Command = {
  name: "shout",
  aliases: ["yell"],
  where: "member",
  args: "<text...>",
  help: "say something to the room in capitals",
  run({ user, chat, fail }, [text]) {
    const refusal = chat.say(user, "chat", text.toUpperCase());
    if (refusal) fail(refusal);
  },
};

Deno.test("a command passed in the commands option works over a socket, alias included", async () => {
  await using chat = await startServer({ commands: [shout] });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/shout hello there");
  assert.equal(await bob.waitFor(/^alice: /), "alice: HELLO THERE");
  alice.send("/yell again");
  assert.equal(await bob.waitFor(/^alice: /), "alice: AGAIN");
});

Deno.test("a line said by an added command is stored in history like any other", async () => {
  await using chat = await startServer({ commands: [shout] });
  const alice = await chat.login("alice");
  alice.send("/shout kept for later");
  await alice.waitFor("alice: KEPT FOR LATER");
  assert.ok(
    (await chat.server.store.recent("main", 10)).some((m) => m.nick === "alice" && m.text === "KEPT FOR LATER"),
  );
  const bob = await chat.login("bob");
  assert.match(await bob.waitFor(/^\[history /), /\] alice: KEPT FOR LATER$/);
});

Deno.test("a command added with server.commands.add works at once", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  alice.send("/roll 6");
  assert.match(await alice.waitFor(/^\*\*\* /), /^\*\*\* Unknown command: \/roll/);
  chat.server.commands.add({
    name: "roll",
    where: "member",
    args: "<sides> [times]",
    help: "roll a die (always lands on its highest side, for the test)",
    run({ reply }, [sides, times]) {
      reply(`You rolled ${sides} x${times || "1"}.`);
    },
  });
  alice.send("/roll 6");
  assert.equal(await alice.waitFor(/^\*\*\* /), "*** You rolled 6 x1.");
  alice.send("/roll 20 3");
  assert.equal(await alice.waitFor(/^\*\*\* /), "*** You rolled 20 x3.");
});

Deno.test("an added command's argument shape is enforced with a usage line", async () => {
  await using chat = await startServer({ commands: [shout] });
  const alice = await chat.login("alice");
  alice.send("/shout");
  assert.match(await alice.waitFor(/^\*\*\* /), /^\*\*\* Usage: \/shout <text\.\.\.>/);
  chat.server.commands.add({
    name: "pair",
    where: "member",
    args: "<a> <b>",
    help: "takes exactly two words",
    run: ({ reply }, [a, b]) => reply(`${a}+${b}`),
  });
  alice.send("/pair x y z");
  assert.match(await alice.waitFor(/^\*\*\* /), /^\*\*\* Usage: \/pair <a> <b>/);
  alice.send("/pair x y");
  assert.equal(await alice.waitFor(/^\*\*\* /), "*** x+y");
});

Deno.test("an added command appears in help, only where it may be used", async () => {
  await using chat = await startServer({ commands: [shout] });
  const alice = await chat.login("alice");
  alice.send("/help");
  const help = helpEntries(await alice.until(/^\*\*\* Any other line/));
  const line = help.find((l) => l.startsWith("***   /shout <text...>"));
  assert.ok(line, help.join("\n"));
  assert.match(line, /say something to the room in capitals/);
  assert.match(line, /\/yell/);
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("help");
  guest.send("/shout hi"); // a member command: the guest is reminded to log in
  const guestHelp = await guest.until(/^\*\*\* You are not logged in/);
  assert.ok(!guestHelp.some((l) => l.includes("shout")), guestHelp.join("\n"));
});

Deno.test("an added guest command works before login and not after", async () => {
  await using chat = await startServer({
    commands: [{
      name: "motd",
      where: "guest",
      args: "",
      help: "the message of the day",
      run: ({ reply }) => reply("Tea is served at four."),
    }],
  });
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("/motd");
  assert.equal(await guest.waitFor(/^\*\*\* Tea/), "*** Tea is served at four.");
  guest.send("help");
  await guest.waitFor(/^\*\*\* {3}\/motd +the message of the day$/);
  guest.send("login alice");
  await guest.waitFor("*** alice has entered the room.");
  guest.send("/motd");
  assert.match(await guest.waitFor(/^\*\*\* /), /already logged in/);
});

Deno.test("an added command with a bare form is a command only in its own form", async () => {
  await using chat = await startServer({
    commands: [{
      name: "dance",
      bare: "alone",
      where: "member",
      args: "",
      help: "dance",
      run: ({ user, chat }) => void chat.say(user, "action", "dances"),
    }],
  });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("dance");
  assert.equal(await bob.waitFor(/^\* |^alice: /), "* alice dances");
  alice.send("dance with me");
  assert.equal(await bob.waitFor(/^\* |^alice: /), "alice: dance with me");
});

Deno.test("an added command that fails is answered and logged, and the session goes on", async () => {
  await using chat = await startServer({
    commands: [{
      name: "boom",
      where: "member",
      args: "",
      help: "always fails",
      run: () => {
        throw new Error("kaboom");
      },
    }, {
      name: "later",
      where: "member",
      args: "<text...>",
      help: "answers after a while",
      run: async ({ reply }, [text]) => {
        await Promise.resolve();
        reply(`later: ${text}`);
      },
    }],
  });
  const alice = await chat.login("alice");
  alice.send("/boom");
  // The user is told that it failed, not the server's own words for why: those go to the log.
  assert.equal(
    await alice.waitFor(/^\*\*\* /),
    "*** Sorry, boom failed on the server (an unexpected error); it has been logged.",
  );
  assert.ok(chat.logs.some((l) => /ERROR command failed .*command=boom .*kaboom/.test(l)), chat.logs.join("\n"));
  alice.send("/later one");
  alice.send("two");
  assert.equal(await alice.waitFor(/^\*\*\* later|^alice: /), "*** later: one");
  assert.equal(await alice.waitFor(/^\*\*\* later|^alice: /), "alice: two");
});
