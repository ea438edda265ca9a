import assert from "node:assert/strict";
import { makeCertificates, type TestCertificates } from "./tls_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function withCertificates(test: (certs: TestCertificates) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "teaparty-certs-" });
  try {
    await test(await makeCertificates(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A TLS server answering each connection's first chunk with "echo: " and it. */
async function echoServer(cert: string, key: string) {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(cert),
    key: await Deno.readTextFile(key),
  });
  const served: Promise<void>[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      served.push((async () => {
        try {
          const buf = new Uint8Array(100);
          const n = await conn.read(buf);
          if (n !== null) await conn.write(encoder.encode(`echo: ${decoder.decode(buf.subarray(0, n))}`));
        } catch {
          /* a client that refused the certificate */
        } finally {
          conn.close();
        }
      })());
    }
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      await loop;
      await Promise.all(served);
    },
  };
}

async function roundTrip(conn: Deno.TlsConn, text: string): Promise<string> {
  try {
    await conn.write(encoder.encode(text));
    const buf = new Uint8Array(100);
    const n = await conn.read(buf);
    return n === null ? "(end)" : decoder.decode(buf.subarray(0, n));
  } finally {
    conn.close();
  }
}

Deno.test("the test certificate is trusted through the test CA for 127.0.0.1 and localhost", async () => {
  await withCertificates(async (certs) => {
    const server = await echoServer(certs.cert, certs.key);
    try {
      for (const hostname of ["127.0.0.1", "localhost"]) {
        const conn = await Deno.connectTls({ hostname, port: server.port, caCerts: [certs.caPem] });
        assert.equal(await roundTrip(conn, `hi ${hostname}`), `echo: hi ${hostname}`);
      }
      assert.equal(certs.caPem, await Deno.readTextFile(certs.ca));
    } finally {
      await server.close();
    }
  });
});

Deno.test("without the test CA the certificate is refused", async () => {
  await withCertificates(async (certs) => {
    const server = await echoServer(certs.cert, certs.key);
    try {
      const conn = await Deno.connectTls({ hostname: "127.0.0.1", port: server.port });
      await assert.rejects(conn.handshake(), /certificate|issuer/i);
      conn.close();
    } finally {
      await server.close();
    }
  });
});

Deno.test("the other key does not match the certificate", async () => {
  await withCertificates(async (certs) => {
    const otherKey = await Deno.readTextFile(certs.otherKey);
    assert.notEqual(otherKey, await Deno.readTextFile(certs.key));
    assert.match(otherKey, /-----BEGIN PRIVATE KEY-----/);
    assert.throws(() =>
      Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: Deno.readTextFileSync(certs.cert), key: otherKey })
    );
  });
});
