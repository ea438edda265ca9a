/**
 * The HTTP door and its WebSocket endpoint over real sockets: JSON events
 * rendered once for every receiver, chat with telnet users, the password
 * prompt, origins, bad frames and their close codes, ping/pong, slow
 * readers, shared limits, and the plain HTTP routes (/, /healthz, /metrics).
 */
import assert from "node:assert/strict";
import { doorPort, startServer, type TestServer, WAIT_MS } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";
import { loginWithPassword, logout, register, startDbServer } from "./db_helpers.ts";
import { renderCounts } from "../dialects/dialect.ts";
import { json } from "../dialects/json.ts";

function httpPort(chat: TestServer): number {
  return doorPort(chat, "http");
}

/** A Deno WebSocket to the test server with its events queued for `next`. */
// deno-lint-ignore no-explicit-any
async function browser(chat: TestServer): Promise<{ ws: WebSocket; next: (type: string) => Promise<any> }> {
  const port = httpPort(chat);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  // deno-lint-ignore no-explicit-any
  const events: any[] = [];
  const waiters: (() => void)[] = [];
  ws.onmessage = (m) => {
    events.push(JSON.parse(m.data));
    for (const w of waiters.splice(0)) w();
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("the WebSocket did not open"));
  });
  let seen = 0;
  const next = async (type: string) => {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      while (seen < events.length) {
        const e = events[seen++];
        if (e.type === type) return e;
      }
      if (Date.now() > deadline) throw new Error(`no ${type} event; got ${JSON.stringify(events)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return { ws, next };
}

async function closeAll(...sockets: (WebSocket | RawWebSocket)[]): Promise<void> {
  for (const s of sockets) {
    if (s instanceof RawWebSocket) {
      s.close();
      await s.done;
    } else if (s.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((r) => s.addEventListener("close", r));
      s.close();
      await closed;
    }
  }
}

Deno.test("a WebSocket user and a telnet user chat in one room; each event is one JSON object", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const { ws, next } = await browser(chat);
  try {
    const welcome = await next("welcome");
    assert.equal(welcome.server, "TestChat");
    assert.equal(welcome.maxLine, 4096, "the welcome says how long a line may be");
    ws.send("login alice");
    const login = await next("login");
    assert.deepEqual(login, { type: "login", nick: "alice", registered: false, operator: false });
    const entered = await next("entered");
    assert.equal(entered.nick, "alice");
    assert.equal(entered.room, "main");
    assert.match(entered.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const bob = await chat.login("bob");
    ws.send("hello from the browser 🍵");
    assert.equal(await bob.waitFor(/^alice: /), "alice: hello from the browser 🍵");
    bob.send("hi alice");
    const said = await next("chat");
    assert.equal(said.nick, "alice"); // its own line first
    const reply = await next("chat");
    assert.deepEqual({ ...reply, time: "", id: 0 }, {
      type: "chat",
      room: "main",
      nick: "bob",
      text: "hi alice",
      time: "",
      id: 0,
    });
    bob.send("@alice psst");
    const priv = await next("private");
    assert.equal(priv.from, "bob");
    assert.equal(priv.echo, false);
    ws.send("@bob back to you");
    assert.equal(await bob.waitFor(/^\[private\]/), "[private] alice: back to you");
    const session = [...chat.server.sessions].find((s) => s.nick === "alice");
    assert.equal(session?.door, "websocket");
  } finally {
    await closeAll(ws);
  }
});

Deno.test("a broadcast to many WebSocket users is rendered once; the same frame bytes reach all", async () => {
  await using chat = await startServer({ httpPort: 0, rate: 0 });
  const port = httpPort(chat);
  const clients: RawWebSocket[] = [];
  for (let i = 0; i < 20; i++) {
    const ws = await RawWebSocket.connect(port);
    await ws.sendText(`login u${i}`);
    await ws.waitForEvent((e) => e.type === "entered" && e.nick === `u${i}`);
    clients.push(ws);
  }
  try {
    const before = renderCounts[json.id] ?? 0;
    await clients[0].sendText("one line for everyone");
    const frames = await Promise.all(
      clients.map((c) => c.waitForFrame((f) => new TextDecoder().decode(f.payload).includes("one line for everyone"))),
    );
    assert.equal((renderCounts[json.id] ?? 0) - before, 1, "the chat event was rendered more than once");
    for (const f of frames) assert.deepEqual(f.payload, frames[0].payload);
  } finally {
    await closeAll(...clients);
  }
});

Deno.test("a registered nick's password prompt works over WebSocket: the event says to hide the input", async () => {
  await using chat = await startDbServer({ httpPort: 0 });
  await logout(await register(chat, "alice", "secret123"));
  const ws = await RawWebSocket.connect(httpPort(chat));
  try {
    await ws.sendText("login alice");
    const prompt = await ws.waitForEvent((e) => e.type === "password");
    assert.equal(prompt.nick, "alice");
    await ws.sendText("secret123");
    await ws.waitForEvent((e) => e.type === "password-done");
    const login = await ws.waitForEvent((e) => e.type === "login");
    assert.equal(login.registered, true);
  } finally {
    await closeAll(ws);
  }
  await loginWithPassword(chat, "alice", "secret123");
});

Deno.test("only the page's own origin may open the WebSocket; --allow-origin adds others; no Origin is allowed", async () => {
  await using chat = await startServer({ httpPort: 0, allowOrigin: ["https://friend.example"] });
  const port = httpPort(chat);
  const evil = await RawWebSocket.request(port, { origin: "http://evil.example" });
  evil.conn.close();
  assert.match(evil.head, /^HTTP\/1\.1 403 /);
  for (const origin of [`http://127.0.0.1:${port}`, "https://friend.example", null]) {
    const ws = await RawWebSocket.connect(port, { origin });
    await ws.waitForEvent((e) => e.type === "welcome");
    await closeAll(ws);
  }
});

Deno.test("a wrong path is 404 and a request without an upgrade on /ws is refused with the reason", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const port = httpPort(chat);
  const wrong = await RawWebSocket.request(port, { path: "/chat" });
  wrong.conn.close();
  assert.match(wrong.head, /^HTTP\/1\.1 404 /);
  const plain = await fetch(`http://127.0.0.1:${port}/ws`);
  assert.equal(plain.status, 400);
  assert.match(await plain.text(), /upgrade/i);
  const old = await RawWebSocket.request(port, { headers: { "Sec-WebSocket-Version": "8" } });
  old.conn.close();
  assert.match(old.head, /^HTTP\/1\.1 426 /);
  assert.match(old.head, /Sec-WebSocket-Version: 13/i);
});

Deno.test("binary frames, oversize frames and invalid UTF-8 get their close codes; others are not disturbed", async () => {
  await using chat = await startServer({ httpPort: 0, maxLine: 100 });
  const port = httpPort(chat);
  const bob = await chat.login("bob");
  const cases: [string, (ws: RawWebSocket) => Promise<void>, number][] = [
    ["binary", (ws) => ws.sendFrame(2, new Uint8Array([1, 2, 3])), 1003],
    ["oversize", (ws) => ws.sendText("x".repeat(101)), 1009],
    ["invalid UTF-8", (ws) => ws.sendFrame(1, new Uint8Array([0x68, 0xc3, 0x28])), 1007],
  ];
  for (const [name, send, code] of cases) {
    const ws = await RawWebSocket.connect(port);
    const welcome = await ws.waitForEvent((e) => e.type === "welcome");
    assert.equal(welcome.maxLine, 100, "the welcome gives --max-line, so that a client can keep to it");
    await send(ws);
    const close = await ws.waitForClose();
    assert.equal(close.code, code, name);
    assert.ok(close.reason.length > 0, `${name}: no reason`);
    if (code === 1009) assert.match(close.reason, /at most 100 bytes/, "the web page reads the limit from it");
    await ws.done;
  }
  const ok = await RawWebSocket.connect(port);
  await ok.sendText("x".repeat(100)); // exactly the limit: a guest's chat line, answered with the login hint
  await ok.waitForEvent((e) => e.type === "notice" && /not logged in/.test(e.text));
  await closeAll(ok);
  bob.send("still fine");
  await bob.waitFor("bob: still fine");
});

Deno.test("the server pings; a peer that never answers is dropped, one that answers stays", async () => {
  await using chat = await startServer({ httpPort: 0, keepalive: 0.2 });
  const port = httpPort(chat);
  const silent = await RawWebSocket.connect(port);
  await silent.sendText("login silent");
  await silent.waitForEvent((e) => e.type === "entered");
  const { ws, next } = await browser(chat); // Deno's WebSocket answers pings by itself
  try {
    ws.send("login lively");
    await next("entered");
    await silent.waitForFrame((f) => f.opcode === 9); // a ping
    const close = await silent.waitForClose(); // not answered: dropped with a close frame
    assert.equal(close.code, 1001);
    assert.match(close.reason, /ping/);
    ws.send("still here");
    assert.equal((await next("chat")).text, "still here");
  } finally {
    await closeAll(silent, ws);
  }
});

Deno.test("a WebSocket client that does not read is dropped at --max-queue, and the room goes on", async () => {
  await using chat = await startServer({ httpPort: 0, maxQueue: 256 * 1024, rate: 0 });
  const port = httpPort(chat);
  const stuck = await RawWebSocket.connect(port, { read: false });
  await stuck.sendText("login stuck");
  const bob = await chat.login("bob");
  const dropped = chat.event("close", (d) => d.session.nick === "stuck", 20_000);
  const line = "y".repeat(3000);
  let i = 0;
  let gone = false;
  dropped.then(() => gone = true);
  while (!gone && i < 5000) {
    bob.send(`${i++} ${line}`);
    if (i % 10 === 0) await bob.waitFor(new RegExp(`^bob: ${i - 1} `));
  }
  const { reason } = await dropped;
  assert.match(reason, /send queue passed 262144 bytes/);
  bob.send("after");
  await bob.waitFor("bob: after");
  await closeAll(stuck);
});

Deno.test("limits are shared across doors: --max-per-ip counts telnet and WebSocket connections together", async () => {
  await using chat = await startServer({ httpPort: 0, maxPerIp: 2 });
  const port = httpPort(chat);
  await chat.login("tel");
  const first = await RawWebSocket.connect(port);
  await first.waitForEvent((e) => e.type === "welcome");
  const third = await RawWebSocket.connect(port);
  const refusal = await third.waitForEvent((e) => e.type === "error");
  assert.match(refusal.text, /Too many connections from your address \(at most 2\)/);
  assert.equal((await third.waitForClose()).code, 1013);
  await closeAll(first, third);
});

Deno.test("a nick is unique across doors", async () => {
  await using chat = await startServer({ httpPort: 0 });
  await chat.login("alice");
  const ws = await RawWebSocket.connect(httpPort(chat));
  await ws.sendText("login ALICE");
  const e = await ws.waitForEvent((e) => e.type === "error");
  assert.equal(e.text, "The nick alice is taken; please choose another.");
  await closeAll(ws);
});

Deno.test("the login timeout applies to WebSocket guests too", async () => {
  await using chat = await startServer({ httpPort: 0, loginTimeout: 0.3 });
  const ws = await RawWebSocket.connect(httpPort(chat));
  const bye = await ws.waitForEvent((e) => e.type === "goodbye");
  assert.match(bye.text, /Login timed out/);
  await ws.waitForClose();
  await closeAll(ws);
});

Deno.test("GET / serves the web client with a CSP that forbids inline script; /healthz and /metrics answer", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const port = httpPort(chat);
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "an inline script in the page");
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "ok\n");
  await chat.login("alice");
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(metrics.status, 200);
  const text = await metrics.text();
  assert.match(text, /^# TYPE teaparty_connections gauge$/m);
  assert.match(text, /^teaparty_connections\{door="telnet"\} 1$/m);
  assert.match(text, /^teaparty_users 1$/m);
  assert.match(text, /^teaparty_writes_total [1-9]\d*$/m); // alice's login prompt and welcome at least
  assert.match(text, /^teaparty_flushes_total [1-9]\d*$/m);
  assert.match(text, /^teaparty_flush_holds_total \d+$/m);
  assert.match(text, /^teaparty_flush_held_seconds_total [\d.e-]+$/m);
  const missing = await fetch(`http://127.0.0.1:${port}/nope.js`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  await post.body?.cancel();
});
