import assert from "node:assert/strict";
import { ircConnect, ircJoin, ircLogin, startIrcServer } from "./irc_helpers.ts";
import { runCli, ServerProcess, TestClient } from "./helpers.ts";
import { makeCertificates } from "./tls_helpers.ts";

Deno.test("PING and PONG both ways; a client that does not answer the server's PING is dropped", async () => {
  await using chat = await startIrcServer({ keepalive: 0.5 });
  const tel = await chat.login("tess");
  const c = await ircLogin(chat, "pip");
  await ircJoin(c, "pip", "#main");
  c.send("PING :are-you-there");
  assert.equal(await c.waitFor(/PONG/), ":teaparty PONG teaparty :are-you-there");
  const ping = await c.waitFor(/^PING /, 3000);
  assert.equal(ping, "PING :teaparty");
  c.send("PONG :teaparty");
  const again = await c.waitFor(/^PING /, 3000); // answered: still here, and pinged again later
  assert.equal(again, "PING :teaparty");
  // Now silence: dropped after the PING goes unanswered.
  assert.equal(await c.waitFor(/^ERROR/, 5000), "ERROR :Ping timeout: 0.5 seconds");
  await c.closed();
  await tel.waitFor("*** pip has left the room.");
  assert(chat.logs.some((l) => /disconnect .*nick=pip .*reason="ping timeout"/.test(l)), chat.logs.join("\n"));
});

Deno.test("lines over 512 bytes get 417, tags up to 8191 bytes are fine, longer still gets 417; the session goes on", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "lim");
  await ircJoin(c, "lim", "#main");
  const tel = await chat.login("tel");
  const fits = "PRIVMSG #main :" + "a".repeat(510 - "PRIVMSG #main :".length);
  c.send(fits);
  await tel.waitFor(/^lim: a+$/);
  c.send(fits + "b");
  assert.match(await c.waitFor(/ 417 /), /^:teaparty 417 lim :Input line was too long/);
  c.send(`@${"+x=" + "y".repeat(8000)} PRIVMSG #main :tagged but fine`);
  await tel.waitFor("lim: tagged but fine");
  c.send(`@${"+x=" + "y".repeat(8300)} PRIVMSG #main :too many tags`);
  await c.waitFor(/ 417 /);
  c.send("PRIVMSG #main :" + "z".repeat(20_000)); // past what the reader keeps at all
  await c.waitFor(/ 417 /);
  c.send("PRIVMSG #main :still here");
  await tel.waitFor("lim: still here");
  assert(!tel.lines.some((l) => l.includes("too many tags") || l.includes("zzz")));
});

Deno.test("a flooding IRC client is slowed by the token bucket, and no line is dropped", async () => {
  await using chat = await startIrcServer({ rate: 20, burst: 5 });
  const c = await ircLogin(chat, "flood");
  const started = performance.now();
  for (let i = 0; i < 30; i++) c.send(`PING :n${i}`);
  for (let i = 0; i < 30; i++) await c.waitFor(`:teaparty PONG teaparty :n${i}`);
  const took = performance.now() - started;
  // 30 lines at 20/s with a burst of 5 (and the 4 of registration spent): at least a second.
  assert(took >= 1000, `30 lines took ${took.toFixed(0)} ms`);
});

Deno.test("a flooding IRC client's reads are paused: its lines wait in its own socket, not in the server", async () => {
  await using chat = await startIrcServer({ rate: 20, burst: 5 });
  const c = await ircLogin(chat, "gush");
  // 30 PINGs, then 63 MB of lines that need no answer: more than loopback's socket buffers hold (4 MB to send, at
  // most 32 MB to receive), and cheap to read, so a server reading ahead would take them all in within a second.
  let flood = "";
  for (let i = 0; i < 30; i++) flood += `PING :n${i}\r\n`;
  flood += `PONG :${"z".repeat(500)}\r\n`.repeat(125_000);
  let written = false;
  const writing = c.sendRaw(flood).then(() => written = true, () => {});
  for (let i = 0; i < 30; i++) await c.waitFor(`:teaparty PONG teaparty :n${i}`); // paced: over a second
  assert.equal(written, false, "the server read the whole flood instead of pausing its reads");
  c.conn.close();
  await writing;
});

Deno.test("binary junk and half lines never take the session or the server down", async () => {
  await using chat = await startIrcServer();
  const c = await ircLogin(chat, "junk");
  await c.sendRaw(new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x0d, 0x0a]));
  await c.sendRaw(":only-a-source\r\n@only=tags\r\n   \r\nPRIVMSG\r\nMODE\r\nKICK #main\r\n");
  c.send("CHATHISTORY");
  c.send("AUTHENTICATE PLAIN");
  c.send("CAP FROB");
  c.send("PING :alive");
  await c.waitFor(":teaparty PONG teaparty :alive");
  assert(c.lines.some((l) => / 461 junk MODE /.test(l)));
  assert(c.lines.some((l) => / 410 junk FROB /.test(l)));
});

Deno.test("--max-per-ip holds between IRC connections: one too many gets ERROR and is closed", async () => {
  await using chat = await startIrcServer({ maxPerIp: 1 });
  const first = await ircConnect(chat);
  first.send("NICK one");
  first.send("USER one 0 * :One");
  await first.waitFor(/ 001 one /);
  const second = await TestClient.connect(chat.ircPort);
  chat.clients.push(second);
  assert.equal(await second.waitFor(/^ERROR/), "ERROR :Too many connections from your address (at most 1).");
  await second.closed();
});

Deno.test("--irc-port 0 is printed as irc://HOST:PORT and serves IRC; bad IRC flags are refused", async () => {
  await using proc = await ServerProcess.start(["--port", "0", "--irc-port", "0", "--host", "127.0.0.1"]);
  assert.match(await proc.waitForLog(/listening door=irc/), /url=irc:\/\/127\.0\.0\.1:\d+/);
  const printed = await proc.waitForStdout(/^listening on irc:\/\//); // stdout, read apart from the log
  const port = Number(/irc:\/\/127\.0\.0\.1:(\d+)$/.exec(printed)![1]);
  const c = await TestClient.connect(port);
  c.send("NICK cli");
  c.send("USER cli 0 * :Cli");
  await c.waitFor(/ 001 cli /);
  c.close();
  const bad = await runCli(["--irc-port", "70000"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--irc-port must be at most 65535/);
  const noCert = await runCli(["--irc-tls-port", "0"]);
  assert.match(noCert.stderr, /--irc-tls-port needs --tls-cert FILE and --tls-key FILE/);
});

Deno.test("--irc-tls-port serves IRC over TLS", async () => {
  const dir = await Deno.makeTempDir();
  const certs = await makeCertificates(dir);
  await using chat = await startIrcServer({ ircTlsPort: 0, tlsCert: certs.cert, tlsKey: certs.key });
  const door = chat.server.doors.find((d) => d.scheme === "ircs")!;
  assert.match(door.url, /^ircs:\/\/127\.0\.0\.1:\d+$/);
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: door.addr.port,
    caCerts: [certs.caPem],
  });
  await conn.write(new TextEncoder().encode("NICK secure\r\nUSER secure 0 * :S\r\n"));
  let text = "";
  const buf = new Uint8Array(4096);
  while (!text.includes(" 001 secure ")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  assert.match(text, /:teaparty 001 secure :Welcome/);
  conn.close();
  await Deno.remove(dir, { recursive: true });
});
