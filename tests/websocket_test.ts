/**
 * The WebSocket wire functions against Deno's own WebSocket client, over
 * real sockets: a tiny server built on them answers each connection.
 */
import assert from "node:assert/strict";
import {
  closeFrame,
  pingFrame,
  pongFrame,
  readMessages,
  textFrame,
  upgradeResponse,
  WebSocketClose,
} from "../wire/websocket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads an HTTP request head; returns its headers (lower-case names) and the bytes read past it. */
async function readHead(conn: Deno.Conn): Promise<{ headers: Map<string, string>; rest: Uint8Array }> {
  let buf = new Uint8Array(0);
  while (true) {
    const chunk = new Uint8Array(4096);
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection ended inside the request head");
    const joined = new Uint8Array(buf.length + n);
    joined.set(buf);
    joined.set(chunk.subarray(0, n), buf.length);
    buf = joined;
    const text = decoder.decode(buf);
    const end = text.indexOf("\r\n\r\n");
    if (end === -1) continue;
    const headers = new Map<string, string>();
    for (const line of text.slice(0, end).split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return { headers, rest: buf.subarray(encoder.encode(text.slice(0, end + 4)).length) };
  }
}

interface ServerSide {
  /** The payload of the first pong. */
  pong: Promise<string>;
  /** How each connection ended: the client's close, `null` for a vanished client, or the fault. */
  endings: (string | null)[];
}

/**
 * A server on the wire functions. Messages are commands: `echo TEXT` sends
 * TEXT back, `ping P` sends a ping, `close CODE REASON` closes. A fault is
 * answered with its close frame.
 */
function startServer(maxMessage = 1 << 20) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let ponged: (payload: string) => void = () => {};
  const side: ServerSide = { pong: new Promise((resolve) => ponged = resolve), endings: [] };
  const connections: Promise<void>[] = [];
  const serve = async (conn: Deno.Conn) => {
    const send = (bytes: Uint8Array) => conn.write(bytes).catch(() => 0);
    try {
      const { headers, rest } = await readHead(conn);
      const upgrade = upgradeResponse(headers);
      if (!upgrade.ok) {
        await conn.write(encoder.encode(`HTTP/1.1 ${upgrade.status} Refused\r\nContent-Length: 0\r\n\r\n`));
        return;
      }
      await conn.write(upgrade.bytes);
      const messages = readMessages(conn, {
        maxMessage,
        initial: rest,
        onPing: (payload) => send(pongFrame(payload)),
        onPong: (payload) => ponged(decoder.decode(payload)),
      });
      try {
        while (true) {
          const next = await messages.next();
          if (next.done) {
            const close = next.value;
            side.endings.push(close ? `client closed ${close.code} ${close.reason}` : null);
            if (close) await send(closeFrame(close.code === 1005 ? 1000 : close.code, close.reason));
            return;
          }
          const [command, ...words] = next.value.split(" ");
          const argument = words.join(" ");
          if (command === "echo") await send(textFrame(encoder.encode(argument)));
          else if (command === "ping") await send(pingFrame(encoder.encode(argument)));
          else if (command === "close") await send(closeFrame(Number(words[0]), words.slice(1).join(" ")));
        }
      } catch (error) {
        if (!(error instanceof WebSocketClose)) throw error;
        side.endings.push(`fault ${error.code} ${error.reason}`);
        await send(closeFrame(error.code, error.reason));
      }
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const loop = (async () => {
    for await (const conn of listener) connections.push(serve(conn));
  })();
  return {
    url: `ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/ws`,
    side,
    async close() {
      listener.close();
      await loop;
      await Promise.all(connections);
    },
  };
}

/** Rejects after `ms`, so that no test waits forever. */
function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A connected client that queues what it receives. */
async function connect(url: string) {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  let wake: (() => void) | undefined;
  socket.onmessage = (event) => {
    messages.push(typeof event.data === "string" ? event.data : "(binary)");
    wake?.();
  };
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  await within(
    new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = (event) => reject(new Error(`connecting failed: ${(event as ErrorEvent).message}`));
    }),
    "the connection to open",
  );
  return {
    socket,
    closed: () => within(closed, "the close"),
    async next(): Promise<string> {
      while (messages.length === 0) await within(new Promise<void>((resolve) => wake = resolve), "a message");
      return messages.shift()!;
    },
  };
}

Deno.test("messages go both ways between Deno's WebSocket client and the wire functions", async () => {
  const server = startServer();
  try {
    const client = await connect(server.url);
    client.socket.send("echo hello 🍵");
    assert.equal(await client.next(), "hello 🍵");
    const big = "x".repeat(70000); // a 64-bit length both ways
    client.socket.send(`echo ${big}`);
    assert.equal(await client.next(), big);
    client.socket.send("echo ");
    assert.equal(await client.next(), "");
    client.socket.close(1000, "done");
    const close = await client.closed();
    assert.equal(close.code, 1000);
    assert.equal(close.reason, "done");
    assert.ok(close.wasClean);
  } finally {
    await server.close();
  }
  assert.deepEqual(server.side.endings, ["client closed 1000 done"]);
});

Deno.test("a server ping is answered by the client's pong with the same payload", async () => {
  const server = startServer();
  try {
    const client = await connect(server.url);
    client.socket.send("ping are you there");
    assert.equal(await within(server.side.pong, "the pong"), "are you there");
    client.socket.close();
    await client.closed();
  } finally {
    await server.close();
  }
});

Deno.test("the client sees the server's close code and reason", async () => {
  const server = startServer();
  try {
    const client = await connect(server.url);
    client.socket.send("close 1001 server shutting down");
    const close = await client.closed();
    assert.equal(close.code, 1001);
    assert.equal(close.reason, "server shutting down");
  } finally {
    await server.close();
  }
});

Deno.test("a binary message is answered with close 1003 and a reason", async () => {
  const server = startServer();
  try {
    const client = await connect(server.url);
    client.socket.send(new Uint8Array([1, 2, 3]));
    const close = await client.closed();
    assert.equal(close.code, 1003);
    assert.equal(close.reason, "binary frames are not accepted; send text");
  } finally {
    await server.close();
  }
  assert.deepEqual(server.side.endings, ["fault 1003 binary frames are not accepted; send text"]);
});

Deno.test("a message over the limit is answered with close 1009 and a reason", async () => {
  const server = startServer(1000);
  try {
    const client = await connect(server.url);
    client.socket.send("echo " + "y".repeat(995)); // exactly 1000 bytes: fine
    assert.equal(await client.next(), "y".repeat(995));
    client.socket.send("echo " + "y".repeat(996));
    const close = await client.closed();
    assert.equal(close.code, 1009);
    assert.equal(close.reason, "message too big: at most 1000 bytes");
  } finally {
    await server.close();
  }
});
