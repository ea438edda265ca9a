/**
 * `teaparty_chat_renders_total` on /metrics: a chat line is rendered once
 * per dialect, however many receivers of that dialect there are (the
 * benchmark's mixed scenario counts on it).
 */
import assert from "node:assert/strict";
import { doorPort, startServer } from "./helpers.ts";
import { RawWebSocket } from "./ws_client.ts";

async function chatRenders(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^teaparty_chat_renders_total\{dialect="([^"]+)"\} (\d+)$/gm)) {
    counts[m[1]] = Number(m[2]);
  }
  return counts;
}

Deno.test("a chat line to two telnet and two WebSocket users counts one telnet and one json render", async () => {
  await using chat = await startServer({ httpPort: 0 });
  const port = doorPort(chat, "http");
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const sockets: RawWebSocket[] = [];
  try {
    for (const nick of ["carol", "dave"]) {
      const ws = await RawWebSocket.connect(port);
      sockets.push(ws);
      await ws.sendText(`login ${nick}`);
      await ws.waitForEvent((e) => e.type === "entered" && e.nick === nick);
    }
    const before = await chatRenders(port);
    alice.send("one line for everyone");
    await bob.waitFor("alice: one line for everyone");
    for (const ws of sockets) await ws.waitForEvent((e) => e.type === "chat" && e.text === "one line for everyone");
    await alice.waitFor("alice: one line for everyone");
    const after = await chatRenders(port);
    assert.equal(after.telnet - before.telnet, 1);
    assert.equal(after.json - before.json, 1);
  } finally {
    for (const ws of sockets) ws.conn.close();
  }
});
