/**
 * wire/node_tls.ts over real sockets: the handshake's own time limit, the
 * start-up refusal of a key that does not match, a clean close (TLS
 * close_notify, so the client reads a proper end), a bounded backlog of
 * connections nobody accepts yet, and a listener that is closed while
 * someone waits to accept.
 */
import assert from "node:assert/strict";
import { listenTls } from "../wire/node_tls.ts";
import { tempDir } from "./db_helpers.ts";
import { WAIT_MS } from "./helpers.ts";
import { makeCertificates } from "./tls_helpers.ts";

async function pems(dir: string) {
  const files = await makeCertificates(dir);
  return {
    cert: await Deno.readTextFile(files.cert),
    key: await Deno.readTextFile(files.key),
    otherKey: await Deno.readTextFile(files.otherKey),
    ca: files.caPem,
  };
}

Deno.test("a client that never sends its TLS handshake is dropped after handshakeTimeoutMs, and never accepted", async () => {
  await using dir = await tempDir();
  const p = await pems(dir.path);
  const failed = Promise.withResolvers<string>();
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.cert,
    key: p.key,
    handshakeTimeoutMs: 200,
    onHandshakeError: (error) => failed.resolve(error.message),
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  try {
    assert.equal(await conn.read(new Uint8Array(16)), null); // closed by the server
    assert.match(await failed.promise, /timeout/i);
  } finally {
    conn.close();
    listener.close();
  }
});

Deno.test("listenTls refuses a key that does not belong to the certificate, saying so", async () => {
  await using dir = await tempDir();
  const p = await pems(dir.path);
  await assert.rejects(
    listenTls({ hostname: "127.0.0.1", port: 0, cert: p.cert, key: p.otherKey }),
    /the private key does not match the certificate/,
  );
  await assert.rejects(
    listenTls({ hostname: "127.0.0.1", port: 0, cert: "junk", key: p.key }),
    /the certificate cannot be read/,
  );
});

Deno.test("a connection closed by the server ends cleanly for the client (close_notify), after the bytes written", async () => {
  await using dir = await tempDir();
  const p = await pems(dir.path);
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, cert: p.cert, key: p.key });
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  tcp.setNoDelay(true);
  const client = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [p.ca] });
  try {
    const accepted = await listener.accept();
    assert.equal(accepted.remoteAddr.port, (client.localAddr as Deno.NetAddr).port);
    await client.write(new TextEncoder().encode("ping\n"));
    const buf = new Uint8Array(16);
    const n = await accepted.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "ping\n");
    await accepted.write(new TextEncoder().encode("bye\n"));
    accepted.close();
    let text = "";
    while (true) {
      const got = await client.read(buf); // rejects (UnexpectedEof) if the TLS stream is cut without close_notify
      if (got === null) break;
      text += new TextDecoder().decode(buf.subarray(0, got));
    }
    assert.equal(text, "bye\n");
  } finally {
    client.close();
    listener.close();
  }
});

Deno.test("closing the listener makes a waiting accept reject with BadResource", async () => {
  await using dir = await tempDir();
  const p = await pems(dir.path);
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, cert: p.cert, key: p.key });
  const waiting = listener.accept();
  listener.close();
  await assert.rejects(waiting, Deno.errors.BadResource);
});

Deno.test("connections past maxPending that nobody accepts are closed; those within wait for accept", async () => {
  await using dir = await tempDir();
  const p = await pems(dir.path);
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, cert: p.cert, key: p.key, maxPending: 2 });
  const clients: Deno.TlsConn[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      tcp.setNoDelay(true);
      const client = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [p.ca] });
      await client.handshake();
      clients.push(client);
    }
    // The third is closed by the server; the first two are kept for accept.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      clients[2].read(new Uint8Array(16)).catch(() => null),
      new Promise<"open">((resolve) => timer = setTimeout(() => resolve("open"), WAIT_MS)),
    ]).finally(() => clearTimeout(timer));
    assert.equal(ended, null);
    for (let i = 0; i < 2; i++) {
      const conn = await listener.accept();
      assert.equal(conn.remoteAddr.port, (clients[i].localAddr as Deno.NetAddr).port);
      await conn.write(new TextEncoder().encode("hi\n"));
      const buf = new Uint8Array(16);
      assert.equal(new TextDecoder().decode(buf.subarray(0, (await clients[i].read(buf))!)), "hi\n");
      conn.close();
    }
  } finally {
    for (const c of clients) c.close();
    listener.close();
  }
});
