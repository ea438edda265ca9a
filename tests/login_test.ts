/**
 * Connecting, the greeting, logging in (nick rules), the guest reminder,
 * entering the main room, logging out and dropped connections.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";
import { attemptLogin, attemptNickChange } from "../login.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

const LOGIN_HINT = "*** You are not logged in. Log in with: login <nick>    (help lists the commands)";

Deno.test("the greeting names the server and says how to log in", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  const greeting = await guest.until(/login <nick>/);
  assert.equal(greeting[0], "*** Welcome to TestChat!");
  assert.match(greeting.at(-1)!, /^\*\*\* .*login <nick>/);
});

Deno.test("the greeting uses the name given by the name option", async () => {
  await using chat = await startServer({ name: "Tea House" });
  const guest = await chat.connect();
  assert.equal(await guest.waitFor(/^\*\*\* Welcome/), "*** Welcome to Tea House!");
});

Deno.test("login <nick> logs in and enters the main room", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("login alice");
  await guest.waitFor("*** alice has entered the room.");
  guest.send("look");
  assert.equal(await guest.waitFor(/^\*\*\* In /), "*** In main (1): alice");
});

Deno.test("/login <nick> works like login <nick>", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("/login alice");
  await guest.waitFor("*** alice has entered the room.");
  assert.equal(chat.server.find("alice")?.nick, "alice");
});

Deno.test("everyone in the main room, newcomer included, sees the entry", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("login carol");
  await guest.waitFor("*** carol has entered the room.");
  await alice.waitFor("*** carol has entered the room.");
  await bob.waitFor("*** carol has entered the room.");
});

Deno.test("nicks of 1 to 32 characters starting with a letter of any script are accepted", async () => {
  await using chat = await startServer({ rate: 0 });
  const good = ["a", "茶友", "Zoë", "a_-.[]{}|^9", "x".repeat(32), "茶".repeat(32), "Дмитрий", "ΑΒΓ"];
  for (const nick of good) {
    const client = await chat.connect();
    await client.waitFor(/Log in with/);
    client.send(`login ${nick}`);
    const reply = await client.waitFor(/^\*\*\* /);
    assert.equal(reply, `*** ${nick} has entered the room.`, `nick ${nick}`);
  }
});

Deno.test("invalid nicks are refused with the reason, and the user may try again", async () => {
  await using chat = await startServer({ rate: 0 });
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  const bad: [string, RegExp][] = [
    ["9lives", /start with a letter/],
    ["_under", /start with a letter/],
    ["-dash", /start with a letter/],
    ["***", /start with a letter/],
    ["***fake", /start with a letter/],
    ["a@b", /"@"/],
    ["@alice", /start with a letter/],
    ["a/b", /"\/"/],
    ["a*b", /"\*"/],
    ["a:b", /":"/],
    ["a,b", /","/],
    ["a!b", /"!"/],
    ["x".repeat(33), /at most 32/],
    ["茶".repeat(33), /at most 32/],
  ];
  for (const [nick, why] of bad) {
    guest.send(`login ${nick}`);
    const reply = await guest.waitFor(/^\*\*\* /);
    assert.match(reply, /^\*\*\* Cannot log in as /, `nick ${nick}`);
    assert.match(reply, why, `nick ${nick}`);
  }
  guest.send("login alice");
  await guest.waitFor("*** alice has entered the room.");
  assert.equal(chat.server.nicks.size, 1);
});

Deno.test("a refused nick is quoted clipped, not echoed whole", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send(`login ${"a".repeat(4000)}`);
  const reply = await guest.waitFor(/^\*\*\* Cannot log in/);
  assert.match(reply, /^\*\*\* Cannot log in as "a{24}…": /);
  assert.ok(reply.length < 200, `${reply.length} characters`);
});

Deno.test("an empty login is refused with a message and the user may try again", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("login");
  assert.match(await guest.waitFor(/^\*\*\* /), /nick/);
  guest.send("/login   ");
  assert.match(await guest.waitFor(/^\*\*\* /), /nick/);
  guest.send("login alice");
  await guest.waitFor("*** alice has entered the room.");
});

Deno.test("a nick never contains whitespace", async () => {
  await using chat = await startServer();
  // The word after the nick is a password, never part of the nick; an
  // unregistered nick takes none, so the login is refused with the reason.
  for (const attempt of ["login al ice", "login al\tice", "login al\u00a0ice", "login al\u3000ice"]) {
    const client = await chat.connect();
    await client.waitFor(/Log in with/);
    client.send(attempt);
    assert.equal(
      await client.waitFor(/^\*\*\* /),
      "*** al is not a registered nick, so it takes no password (nicks cannot contain spaces).",
    );
  }
  assert.equal(chat.server.nicks.size, 0);
});

Deno.test("control characters never end up in a nick", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("login al\x07i\x1b[31mce\x01");
  const reply = await guest.waitFor(/^\*\*\* /);
  // Control characters are removed from the line before it is read, so this
  // is either a refusal or a login as the cleaned nick.
  assert.ok(
    reply === "*** alice has entered the room." || reply.startsWith("*** Cannot log in"),
    `unexpected reply ${JSON.stringify(reply)}`,
  );
  // deno-lint-ignore no-control-regex
  for (const nick of chat.server.nicks.keys()) assert.doesNotMatch(nick, /[\x00-\x1f\x7f-\x9f]/);
});

Deno.test("a taken nick is refused case-insensitively", async () => {
  await using chat = await startServer();
  await chat.login("Alice");
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  for (const attempt of ["alice", "ALICE", "Alice", "ａｌｉｃｅ"]) {
    guest.send(`login ${attempt}`);
    const reply = await guest.waitFor(/^\*\*\* /);
    assert.match(reply, /taken/, `attempt ${attempt}`);
  }
  guest.send("login bob");
  await guest.waitFor("*** bob has entered the room.");
});

Deno.test("two logins of one nick sent at once: one gets it, the other is told it is taken", async () => {
  await using chat = await startServer();
  for (const nick of ["alice", "bob", "carol"]) {
    const pair = [await chat.connect(), await chat.connect()];
    await Promise.all(pair.map((c) => c.waitFor(/Log in with/)));
    pair.forEach((c, i) => c.send(`login ${i === 0 ? nick : nick.toUpperCase()}`));
    const answers = await Promise.all(pair.map((c) => c.waitFor(/has entered the room\.$|taken/)));
    assert.equal(answers.filter((a) => /taken/.test(a)).length, 1, answers.join(" / "));
    const inside = pair[answers.findIndex((a) => !/taken/.test(a))];
    inside.send("look");
    const members = (await inside.waitFor(/^\*\*\* In main/)).replace(/^.*?: /, "").split(", ");
    assert.equal(members.filter((m) => m.toLowerCase() === nick).length, 1, members.join(", "));
  }
});

Deno.test("two users changing to one nick at once: one gets it, the other keeps its own", async () => {
  await using chat = await startServer();
  const [anna, bert] = [await chat.login("anna"), await chat.login("bert")];
  anna.send("/nick dora");
  bert.send("/nick DORA");
  const answers = await Promise.all(
    [["anna", anna], ["bert", bert]].map(([nick, c]) =>
      (c as typeof anna).waitFor(new RegExp(`^\\*\\*\\* (${nick} is now known as dora|.*taken)`))
    ),
  );
  assert.equal(answers.filter((a) => /taken/.test(a)).length, 1, answers.join(" / "));
  assert.equal(chat.server.find("dora") !== undefined, true);
  assert.equal(chat.server.find("anna") === undefined || chat.server.find("bert") === undefined, true);
  assert.equal(chat.server.find("anna") !== undefined || chat.server.find("bert") !== undefined, true);
});

Deno.test("a taken nick is refused case-insensitively in other scripts too", async () => {
  await using chat = await startServer({ rate: 0 });
  await chat.login("ΚΩΣ");
  await chat.login("Иван");
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  for (const attempt of ["κως", "κωσ", "Κως", "ИВАН", "иван"]) {
    guest.send(`login ${attempt}`);
    assert.match(await guest.waitFor(/^\*\*\* /), /taken/, `attempt ${attempt}`);
  }
});

Deno.test("a guest gets a reminder of how to log in for anything but login, help and logout", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  const tries = ["hello everyone", "", "look", "/look", "who", "/who", "say hi", "/say hi", "/me waves"];
  tries.push("/join lobby", "/rooms", "/leave", "@alice psst", "/msg alice psst", "/quiet", "/ignore alice");
  for (const line of tries) {
    guest.send(line);
    assert.equal(await guest.waitFor(/^\*\*\* /), LOGIN_HINT, `line ${JSON.stringify(line)}`);
  }
  // Nothing the guest said reached the room.
  alice.send("marker");
  const seen = await alice.until("alice: marker");
  assert.deepEqual(seen.filter((l) => /hello|hi|psst|waves/.test(l)), []);
  guest.send("help");
  assert.equal(await guest.waitFor(/^\*\*\* /), "*** Commands before you log in:");
  guest.send("login bob");
  await guest.waitFor("*** bob has entered the room.");
});

Deno.test("a logged-in user cannot log in again", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  alice.send("login bob");
  assert.equal(await alice.waitFor(/^\*\*\* /), "*** You are already logged in as alice.");
  assert.equal(chat.server.find("bob"), undefined);
});

Deno.test("logout says goodbye, closes the connection, tells the room and frees the nick", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  bob.send("logout");
  await bob.closed();
  assert.equal(bob.lines.at(-1), "*** Goodbye, bob!");
  await alice.waitFor("*** bob has left the room.");
  const again = await chat.login("bob");
  again.send("hi");
  await alice.waitFor("bob: hi");
});

Deno.test("/quit works like logout", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  bob.send("/quit");
  await bob.closed();
  assert.equal(bob.lines.at(-1), "*** Goodbye, bob!");
  await alice.waitFor("*** bob has left the room.");
  await chat.login("bob");
});

Deno.test("a guest may log out", async () => {
  await using chat = await startServer();
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("logout");
  await guest.closed();
  assert.match(guest.lines.at(-1)!, /^\*\*\* Goodbye/);
});

Deno.test("lines sent after logout are not handled", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  bob.send("logout\r\nafter logout");
  await bob.closed();
  alice.send("marker");
  const seen = await alice.until("alice: marker");
  assert.ok(seen.includes("*** bob has left the room."));
  assert.ok(!seen.some((l) => l.includes("after logout")), seen.join("\n"));
});

Deno.test("a dropped connection is announced and frees the nick", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  bob.close();
  await alice.waitFor("*** bob has left the room.");
  await chat.login("bob");
  assert.ok(chat.logs.some((l) => /disconnect .*nick=bob .*reason=/.test(l)), chat.logs.join("\n"));
});

Deno.test("a reset connection is announced and frees the nick", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const conn = await chat.connectRaw();
  await conn.write(new TextEncoder().encode("login rst\r\n"));
  await alice.waitFor("*** rst has entered the room.");
  // The greeting was never read: closing now makes the kernel send a reset.
  conn.close();
  await alice.waitFor("*** rst has left the room.");
  await chat.login("rst");
});

Deno.test("a killed client is announced and frees the nick", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const script = `
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: ${chat.port} });
    await conn.write(new TextEncoder().encode("login zed\\r\\n"));
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.includes("zed has entered the room.")) {
      const n = await conn.read(buf);
      if (n === null) Deno.exit(1);
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    console.log("ready");
    setInterval(() => {}, 1000);
  `;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", script], stdout: "piped", stderr: "null" })
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  assert.match(out, /ready/);
  await alice.waitFor("*** zed has entered the room.");
  child.kill("SIGKILL");
  while (!(await reader.read()).done) { /* drain */ }
  await child.status;
  await alice.waitFor("*** zed has left the room.");
  await chat.login("zed");
});

Deno.test("attemptLogin and attemptNickChange report facts and say nothing; login and /nick word them for telnet", async () => {
  const store = Store.open("");
  store.saveAccount("wendy", "wendy", await hashPassword("wendy-password"));
  await using chat = await startServer({ database: store });
  await chat.login("bob");
  const guest = await chat.connect();
  await guest.until(/Log in with/);
  const engine = chat.server.chat;
  const session = [...engine.sessions].find((s) => !s.user)!;
  assert.deepEqual(await attemptLogin(engine, session, "b0b"), { kind: "lookalike", nick: "b0b", like: "bob" });
  assert.deepEqual(await attemptLogin(engine, session, "BOB"), { kind: "taken", nick: "bob" });
  assert.deepEqual(await attemptLogin(engine, session, "9lives"), {
    kind: "invalid",
    nick: "9lives",
    problem: "a nick must start with a letter",
  });
  assert.deepEqual(await attemptLogin(engine, session, "WENDY"), { kind: "password", nick: "wendy" }); // no prompt
  assert.deepEqual(await attemptLogin(engine, session, "wendy", "wrong-one"), {
    kind: "wrong-password",
    nick: "wendy",
  });
  guest.send("look"); // the next line the guest gets is the reminder: nothing was said before it
  assert.equal(await guest.waitFor(/^\*\*\* /), LOGIN_HINT);
  assert.deepEqual(await attemptLogin(engine, session, "carol"), { kind: "in", nick: "carol", registered: false });
  await guest.waitFor("*** carol has entered the room.");
  assert.deepEqual(await attemptNickChange(engine, session, "carol"), { kind: "same", nick: "carol" });
  assert.deepEqual(await attemptNickChange(engine, session, "b0b"), { kind: "lookalike", nick: "b0b", like: "bob" });
  assert.deepEqual(await attemptNickChange(engine, session, "wendy"), { kind: "password", nick: "wendy" });
  // The telnet words, rendered from the same facts.
  guest.send("/nick b0b");
  assert.equal(
    await guest.waitFor(/^\*\*\* /),
    `*** Cannot change nick to "b0b": it looks like bob, a registered or logged-in nick.`,
  );
  guest.send("/nick wendy");
  assert.equal(await guest.waitFor(/^\*\*\* /), "*** wendy is a registered nick: /nick wendy <password>");
});
