/**
 * The IRC door beside the other doors: IRC, telnet and WebSocket users in one
 * conversation, limits counted across doors (--max-clients, --max-per-ip,
 * address bans, --max-queue), and /metrics counting IRC connections and
 * renderings.
 */
import assert from "node:assert/strict";
import { ircConnect, ircJoin, ircLogin, startIrcServer } from "./irc_helpers.ts";
import { doorPort, TestClient } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";

const encoder = new TextEncoder();

Deno.test("IRC, telnet and WebSocket users talk in one room and privately, each in their own form", async () => {
  await using chat = await startIrcServer({ httpPort: 0 });
  const irc = await ircLogin(chat, "ivy");
  await ircJoin(irc, "ivy", "#main");
  const ws = await RawWebSocket.connect(doorPort(chat, "http"));
  try {
    await ws.waitForEvent((e) => e.type === "welcome");
    await ws.sendText("login wes");
    await irc.waitFor(":wes!wes@teaparty JOIN #main");
    const tel = await chat.login("tom");
    await irc.waitFor(":tom!tom@teaparty JOIN #main");
    await ws.waitForEvent((e) => e.type === "entered" && e.nick === "tom");

    irc.send("PRIVMSG #main :hello, both of you");
    await tel.waitFor("ivy: hello, both of you");
    const said = await ws.waitForEvent((e) => e.type === "chat" && e.nick === "ivy");
    assert.equal(said.text, "hello, both of you");
    assert.equal(said.room, "main");

    await ws.sendText("hi from the browser");
    await irc.waitFor(":wes!wes@teaparty PRIVMSG #main :hi from the browser");
    await tel.waitFor("wes: hi from the browser");
    await ws.sendText("/me waves");
    await irc.waitFor(":wes!wes@teaparty PRIVMSG #main :\x01ACTION waves\x01");

    irc.send("PRIVMSG wes :psst, browser");
    const priv = await ws.waitForEvent((e) => e.type === "private" && !e.echo);
    assert.deepEqual([priv.from, priv.text], ["ivy", "psst, browser"]);
    await ws.sendText("@ivy psst, irc");
    await irc.waitFor(":wes!wes@teaparty PRIVMSG ivy :psst, irc");
    assert(!tel.lines.some((l) => l.includes("psst")), "private lines reach only their receiver");

    await ws.sendText("/quit");
    await irc.waitFor(/^:wes!wes@teaparty QUIT /);
  } finally {
    ws.close();
    await ws.done;
  }
});

Deno.test("--max-per-ip counts IRC and telnet connections together; the one too many gets ERROR and is closed", async () => {
  await using chat = await startIrcServer({ maxPerIp: 2 });
  await chat.login("tel");
  await ircLogin(chat, "one");
  const third = await TestClient.connect(chat.ircPort);
  chat.clients.push(third);
  assert.equal(await third.waitFor(/^ERROR/), "ERROR :Too many connections from your address (at most 2).");
  await third.closed();
  const telnet = await chat.connect();
  await telnet.waitFor(/Too many connections from your address \(at most 2\)/);
});

Deno.test("--max-clients counts IRC connections with the others", async () => {
  await using chat = await startIrcServer({ maxClients: 1, maxPerIp: 0 });
  const refused = chat.event("refuse");
  await chat.login("tel");
  const irc = await TestClient.connect(chat.ircPort);
  chat.clients.push(irc);
  assert.equal(await irc.waitFor(/^ERROR/), "ERROR :The server is full (1 connections); please try again later.");
  await irc.closed();
  assert.equal((await refused).door, "irc");
});

Deno.test("a banned address is refused at the IRC door with ERROR and the reason; unbanned, it may come in", async () => {
  await using chat = await startIrcServer();
  const moderation = chat.server.chat.moderation;
  moderation.ban({ kind: "ip", value: "127.0.0.1", until: null, reason: "test ban", by: "t", at: Date.now() });
  const refused = chat.event("refuse");
  const banned = await TestClient.connect(chat.ircPort);
  chat.clients.push(banned);
  assert.equal(await banned.waitFor(/^ERROR/), "ERROR :Your address is banned for good: test ban");
  await banned.closed();
  assert.deepEqual([(await refused).door, (await refused).ip], ["irc", "127.0.0.1"]);
  moderation.unban("ip", "127.0.0.1");
  await ircLogin(chat, "bea");
});

Deno.test("an IRC client that does not read is dropped at --max-queue, and the room goes on", async () => {
  await using chat = await startIrcServer({ maxQueue: 128 * 1024 });
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: chat.ircPort });
  try {
    const registered = chat.event("login", (d) => d.session.nick === "stuck");
    await stuck.write(encoder.encode("NICK stuck\r\nUSER stuck 0 * :Stuck\r\nJOIN #main\r\n"));
    await registered;
    const bob = await chat.login("bob");
    const dropped = chat.event("close", (d) => d.session.nick === "stuck", 20_000);
    let gone = false;
    dropped.then(() => gone = true, () => {});
    const line = "y".repeat(3000);
    for (let i = 0; !gone && i < 5000; i++) {
      bob.send(`${i} ${line}`);
      if (i % 10 === 9) await bob.waitFor(new RegExp(`^bob: ${i} `));
    }
    const { reason } = await dropped;
    assert.match(reason, /send queue passed 131072 bytes/);
    bob.send("after");
    await bob.waitFor("bob: after");
  } finally {
    stuck.close();
  }
});

Deno.test("/metrics counts IRC connections by door and IRC renderings by dialect", async () => {
  await using chat = await startIrcServer({ httpPort: 0 });
  const a = await ircLogin(chat, "amy");
  await ircJoin(a, "amy", "#main");
  const b = await ircLogin(chat, "ben", { caps: ["server-time"] });
  await ircJoin(b, "ben", "#main");
  await ircConnect(chat); // connected, not registered: counted too
  const tel = await chat.login("tel");
  const deliveries = (text: string) => Number(/^teaparty_deliveries_total (\d+)$/m.exec(text)![1]);
  const before = deliveries(await (await fetch(`http://127.0.0.1:${doorPort(chat, "http")}/metrics`)).text());
  tel.send("one line for everyone");
  await a.waitFor(/PRIVMSG #main :one line for everyone$/);
  await b.waitFor(/PRIVMSG #main :one line for everyone$/);
  const response = await fetch(`http://127.0.0.1:${doorPort(chat, "http")}/metrics`);
  const text = await response.text();
  assert.match(text, /^teaparty_connections\{door="irc"\} 3$/m);
  assert.match(text, /^teaparty_connections\{door="telnet"\} 1$/m);
  assert.match(text, /^teaparty_renders_total\{dialect="irc"\} [1-9]\d*$/m);
  assert.match(text, /^teaparty_renders_total\{dialect="irc\+\d+"\} [1-9]\d*$/m);
  assert.match(text, /^teaparty_lines_received_total\{door="irc"\} [1-9]\d*$/m);
  assert.equal(deliveries(text) - before, 3, "the line reached the two IRC users and the telnet sender");
});

Deno.test("when the server shuts down an IRC client gets ERROR with the reason, and the connection closes", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "last");
  await ircJoin(c, "last", "#main");
  const shutdown = chat.server.shutdown();
  assert.equal(await c.waitFor(/^ERROR/), "ERROR :The server is shutting down. Goodbye!");
  await c.closed();
  await shutdown;
});
