/**
 * The HTTP door handles at most MAX_REQUESTS requests at once; further
 * connections wait in the listener's backlog and are served when a request
 * ends, never turned away (a crowd of WebSocket clients reconnecting at once
 * after a restart must all get in).
 */
import assert from "node:assert/strict";
import { doorPort, startServer, WAIT_MS } from "./helpers.ts";
import { HttpDoor, MAX_REQUESTS } from "../doors/http.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function readAll(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return text;
    text += decoder.decode(buf.subarray(0, n));
  }
}

Deno.test("with MAX_REQUESTS requests under way, one more waits for a free slot and is served, not refused", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const port = doorPort(chat, "http");
  const door = chat.server.doors.find((d) => d instanceof HttpDoor) as HttpDoor;
  const slow: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < MAX_REQUESTS; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\n")); // the rest of the head never comes
      slow.push(conn);
    }
    const deadline = Date.now() + WAIT_MS;
    while (door.requests < MAX_REQUESTS) { // no event tells of an accept: look again shortly
      assert.ok(Date.now() < deadline, `only ${door.requests} requests under way`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const late = await Deno.connect({ hostname: "127.0.0.1", port });
    await late.write(encoder.encode(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    const answer = readAll(late);
    slow.shift()!.close(); // one slot frees up
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 200 /, text);
    assert.match(text, /\r\n\r\nok\n$/);
  } finally {
    for (const conn of slow) conn.close();
  }
});
