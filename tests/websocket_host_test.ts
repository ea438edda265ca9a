/**
 * The WebSocket handshake's guards beyond the Origin check, over real
 * sockets: the Host header against DNS rebinding (on a loopback or private
 * address only names the server was told about, IP literals and localhost
 * may open the WebSocket), and HTTP/1.1 as RFC 6455 asks.
 */
import assert from "node:assert/strict";
import { doorPort, startServer, WAIT_MS } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";

Deno.test("a rebound DNS name is refused on a loopback address: its Host and Origin agree but name another site", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const port = doorPort(chat, "http");
  const rebound = await RawWebSocket.request(port, {
    origin: `http://evil.example:${port}`,
    headers: { Host: `evil.example:${port}` },
  });
  rebound.conn.close();
  assert.match(rebound.head, /^HTTP\/1\.1 403 /);
  assert.match(rebound.head + new TextDecoder().decode(rebound.rest), /HTTP\/1\.1 403 [^]*--allow-origin/);
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `teaparty.localhost:${port}`]) {
    const ws = await RawWebSocket.connect(port, { origin: `http://${host}`, headers: { Host: host } });
    await ws.waitForEvent((e) => e.type === "welcome");
    ws.close();
    await ws.done;
  }
});

Deno.test("--allow-origin names a host the server may be reached by on a private address", async () => {
  await using chat = await startServer({ httpPort: 0, allowOrigin: ["http://chat.lan"] });
  const port = doorPort(chat, "http");
  const ws = await RawWebSocket.connect(port, {
    origin: `http://chat.lan:${port}`,
    headers: { Host: `chat.lan:${port}` },
  });
  await ws.waitForEvent((e) => e.type === "welcome");
  ws.close();
  await ws.done;
  const other = await RawWebSocket.request(port, {
    origin: `http://other.lan:${port}`,
    headers: { Host: `other.lan:${port}` },
  });
  other.conn.close();
  assert.match(other.head, /^HTTP\/1\.1 403 /);
});

Deno.test("a WebSocket handshake in HTTP/1.0 is refused with 400 and the reason", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const port = doorPort(chat, "http");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /ws HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      ),
    );
    let text = "";
    const chunk = new Uint8Array(4096);
    const deadline = Date.now() + WAIT_MS;
    while (!text.includes("\r\n\r\n") && Date.now() < deadline) { // the response head, whatever it says
      const n = await conn.read(chunk);
      if (n === null) break;
      text += new TextDecoder().decode(chunk.subarray(0, n));
    }
    assert.match(text, /^HTTP\/1\.1 400 /);
    while (!text.includes("RFC 6455") && Date.now() < deadline) {
      const n = await conn.read(chunk);
      if (n === null) break;
      text += new TextDecoder().decode(chunk.subarray(0, n));
    }
    assert.match(text, /needs HTTP\/1\.1/);
  } finally {
    conn.close();
  }
});
