/**
 * The TLS doors send at once: their sockets have TCP_NODELAY (read back
 * from the kernel with getsockopt), so the greeting and chat lines are not
 * held by Nagle's algorithm for the client's delayed ACK (40 ms and more,
 * docs/tls.md; the latency itself is measured by `npm run bench`, not
 * here). Also HTTPS and WSS end to end, and the real server's TLS doors
 * with no permissions beyond `--allow-net` and reading the PEM files.
 */
import assert from "node:assert/strict";
import { doorPort, ServerProcess, startServer, TestClient } from "./helpers.ts";
import { tempDir } from "./db_helpers.ts";
import { makeCertificates } from "./tls_helpers.ts";
import { serverNoDelay } from "./sockopt.ts";
import { RawWebSocket } from "./ws_client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function localPort(conn: Deno.Conn): number {
  return (conn.localAddr as Deno.NetAddr).port;
}

/** A TLS connection with TCP_NODELAY on the client's side too (as browsers and MUD clients do). */
async function connectTls(port: number, caPem: string): Promise<Deno.TlsConn> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  tcp.setNoDelay(true);
  const conn = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [caPem] });
  await conn.handshake();
  return conn;
}

/** Reads until the text read so far matches `pattern`; returns it. */
async function readUntil(conn: Deno.Conn, pattern: RegExp): Promise<string> {
  let text = "";
  const buf = new Uint8Array(4096);
  while (!pattern.test(text)) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed before ${pattern}; got ${JSON.stringify(text)}`);
    text += decoder.decode(buf.subarray(0, n));
  }
  return text;
}

Deno.test("the TLS telnet door's socket has TCP_NODELAY: the greeting and a chat line are not held back", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using chat = await startServer({ tlsPort: 0, tlsCert: certs.cert, tlsKey: certs.key });
  const port = doorPort(chat, "telnets");
  const secure = await TestClient.connectTls(port, certs.caPem);
  chat.clients.push(secure);
  await secure.waitFor(/Log in with/);
  assert.equal(serverNoDelay(port, localPort(secure.conn)), true);
  secure.send("login alice");
  await secure.waitFor("*** alice has entered the room.");
  const bob = await chat.login("bob");
  bob.send("one");
  bob.send("two"); // two lines in a row to an idle reader: the second would wait for an ACK under Nagle
  assert.equal(await secure.waitFor(/^bob: /), "bob: one");
  assert.equal(await secure.waitFor(/^bob: /), "bob: two");
});

Deno.test("the IRC-over-TLS door's socket has TCP_NODELAY", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using chat = await startServer({ ircTlsPort: 0, tlsCert: certs.cert, tlsKey: certs.key, rate: 0 });
  const port = doorPort(chat, "ircs");
  const conn = await connectTls(port, certs.caPem);
  try {
    await conn.write(encoder.encode("NICK secure\r\nUSER secure 0 * :S\r\n"));
    assert.match(await readUntil(conn, / 001 secure /), /:teaparty 001 secure :Welcome/);
    assert.equal(serverNoDelay(port, localPort(conn)), true);
  } finally {
    conn.close();
  }
});

Deno.test("HTTPS: /healthz answers over TLS, and the socket has TCP_NODELAY", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using chat = await startServer({ httpPort: 0, tlsCert: certs.cert, tlsKey: certs.key });
  const port = doorPort(chat, "https");
  const conn = await connectTls(port, certs.caPem);
  try {
    assert.equal(serverNoDelay(port, localPort(conn)), true); // checked before the request: the answer closes it
    await conn.write(encoder.encode(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    const response = await readUntil(conn, /\r\n\r\nok\n/);
    assert.match(response, /^HTTP\/1\.1 200 /);
  } finally {
    conn.close();
  }
});

Deno.test("WSS: a WebSocket client over TLS logs in and chats with a telnet user; its socket has TCP_NODELAY", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using chat = await startServer({ httpPort: 0, tlsCert: certs.cert, tlsKey: certs.key });
  const port = doorPort(chat, "https");
  const ws = await RawWebSocket.connect(port, { caPem: certs.caPem });
  try {
    await ws.sendText("login wendy");
    await ws.waitForEvent((e) => e.type === "entered" && e.nick === "wendy");
    assert.equal(serverNoDelay(port, localPort(ws.conn)), true);
    const tom = await chat.login("tom");
    tom.send("hello wss");
    const event = await ws.waitForEvent((e) => e.type === "chat");
    assert.equal(event.nick, "tom");
    assert.equal(event.text, "hello wss");
    await ws.sendText("and back");
    assert.equal(await tom.waitFor(/^wendy: /), "wendy: and back");
  } finally {
    ws.conn.close();
  }
});

Deno.test("the real server's TLS doors work with --allow-net and read access to web/ and the PEM files only", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using proc = await ServerProcess.start(
    [
      ...["--host", "127.0.0.1", "--port", "0", "--tls-port", "0", "--irc-tls-port", "0", "--http-port", "0"],
      ...["--tls-cert", certs.cert, "--tls-key", certs.key],
    ],
    ["--allow-net", `--allow-read=web,${dir.path}`],
  );
  const printed = await proc.waitForStdout(/^listening on ircs:\/\//);
  const telnets = proc.stdout.find((l) => l.startsWith("listening on telnets://"))!;
  const tlsPort = Number(/:(\d+)$/.exec(telnets)![1]);
  const ircsPort = Number(/:(\d+)$/.exec(printed)![1]);
  const secure = await TestClient.connectTls(tlsPort, certs.caPem);
  try {
    await secure.waitFor(/Log in with/);
    secure.send("login alice");
    await secure.waitFor("*** alice has entered the room.");
  } finally {
    secure.close();
  }
  const irc = await connectTls(ircsPort, certs.caPem);
  try {
    await irc.write(encoder.encode("NICK ircy\r\nUSER ircy 0 * :I\r\n"));
    await readUntil(irc, / 001 ircy /);
  } finally {
    irc.close();
  }
  const https = proc.stdout.find((l) => l.startsWith("listening on https://"))!;
  const ws = await RawWebSocket.connect(Number(/:(\d+)$/.exec(https)![1]), { caPem: certs.caPem });
  try {
    await ws.sendText("login wendy");
    await ws.waitForEvent((e) => e.type === "entered" && e.nick === "wendy");
  } finally {
    ws.conn.close();
  }
  assert.deepEqual(proc.stderr.filter((l) => /NotCapable|PermissionDenied|Requires/.test(l)), []);
});
