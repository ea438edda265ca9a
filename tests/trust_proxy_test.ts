/**
 * `--trust-proxy` over real sockets: behind a reverse proxy named by its
 * address or its network, the HTTP door takes the client's address from
 * `X-Forwarded-For`, so that address bans and per-address limits meet the
 * real client; from any other peer the header is ignored, so nobody can
 * claim an address they do not have.
 */
import assert from "node:assert/strict";
import { doorPort, startServer, type TestServer } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";

/** The address the server gave a WebSocket that sent `forwarded` as its X-Forwarded-For. */
async function addressSeen(chat: TestServer, forwarded: string): Promise<string> {
  const connected = chat.event("connect", (d) => d.session.door === "websocket");
  const port = doorPort(chat, "http");
  const ws = await RawWebSocket.connect(port, {
    origin: `http://127.0.0.1:${port}`,
    headers: { "X-Forwarded-For": forwarded },
  });
  try {
    return (await connected).session.ip;
  } finally {
    ws.close();
    await ws.done;
  }
}

/** The status line of `GET path` sent with `forwarded` as X-Forwarded-For. */
async function status(chat: TestServer, path: string, forwarded: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${doorPort(chat, "http")}${path}`, {
    headers: { "X-Forwarded-For": forwarded },
  });
  await response.body?.cancel();
  return `${response.status}`;
}

Deno.test("behind a proxy named by its network, the client is the right-most X-Forwarded-For hop outside it", async () => {
  await using chat = await startServer({ httpPort: 0, trustProxy: ["127.0.0.0/8"] });
  assert.equal(await addressSeen(chat, "203.0.113.9"), "203.0.113.9");
  // 127.0.0.9 is another proxy of that network; 6.6.6.6 is what the client claimed, which nobody vouches for.
  assert.equal(await addressSeen(chat, "6.6.6.6, 203.0.113.9, 127.0.0.9"), "203.0.113.9");
  // A hop that is not an address stops the walk at the proxy that passed it on.
  assert.equal(await addressSeen(chat, "203.0.113.9, junk"), "127.0.0.1");
});

Deno.test("a proxy named by its own address is believed, and an IPv6 network covers IPv6 hops", async () => {
  await using chat = await startServer({ httpPort: 0, trustProxy: ["127.0.0.1", "2001:db8::/32"] });
  assert.equal(await addressSeen(chat, "198.51.100.4, 2001:db8:1::2"), "198.51.100.4");
  assert.equal(await addressSeen(chat, "2001:DB8:2::7"), "2001:db8:2::7");
});

Deno.test("without --trust-proxy, or from a peer outside every trusted range, X-Forwarded-For is ignored", async () => {
  {
    await using chat = await startServer({ httpPort: 0 });
    assert.equal(await addressSeen(chat, "203.0.113.9"), "127.0.0.1");
  }
  await using chat = await startServer({ httpPort: 0, trustProxy: ["10.0.0.0/8", "127.0.0.2"] });
  assert.equal(await addressSeen(chat, "203.0.113.9"), "127.0.0.1");
});

Deno.test("an address ban meets the client behind a trusted proxy, and only that client", async () => {
  await using chat = await startServer({ httpPort: 0, trustProxy: ["127.0.0.0/8"] });
  chat.server.moderation.ban({ kind: "ip", value: "203.0.113.0/24", until: null, reason: "", by: "t", at: 0 });
  assert.equal(await status(chat, "/healthz", "203.0.113.9"), "403");
  assert.equal(await status(chat, "/healthz", "198.51.100.4"), "200");
  const port = doorPort(chat, "http");
  const refused = await RawWebSocket.connect(port, {
    origin: `http://127.0.0.1:${port}`,
    headers: { "X-Forwarded-For": "203.0.113.9" },
  });
  const close = await refused.waitForClose();
  assert.equal(close.code, 1008, `a banned address is closed as a policy matter: ${JSON.stringify(close)}`);
  await refused.done;
});

Deno.test("--max-per-ip counts the clients behind a trusted proxy apart, each address in any written form once", async () => {
  await using chat = await startServer({ httpPort: 0, trustProxy: ["127.0.0.0/8"], maxPerIp: 1 });
  const port = doorPort(chat, "http");
  const open = (forwarded: string) =>
    RawWebSocket.connect(port, { origin: `http://127.0.0.1:${port}`, headers: { "X-Forwarded-For": forwarded } });
  const first = await open("2001:db8::7");
  await first.waitForEvent((e) => e.type === "welcome");
  const other = await open("203.0.113.9");
  await other.waitForEvent((e) => e.type === "welcome");
  const again = await open("2001:DB8:0:0::7"); // the first client's address, written another way
  const close = await again.waitForClose();
  assert.equal(close.code, 1013, `the second connection of one address is refused: ${JSON.stringify(close)}`);
  for (const ws of [first, other, again]) {
    ws.close();
    await ws.done;
  }
});
