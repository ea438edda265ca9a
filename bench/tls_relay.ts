/**
 * A TCP-to-TLS relay for the benchmark, in Deno: the fallback of
 * bench/tls_relay.c (which costs far less CPU) when that cannot be built.
 * The load generator speaks plain TCP
 * only, so for the `tls-burst` scenario each of its connections is relayed
 * to the TLS telnet door (`--tls`), or, for the comparison in the same run,
 * to a plain port through the same relay. Both sides set TCP_NODELAY (the
 * TLS side with `Deno.connect` + `Deno.startTls`, see docs/tls.md). It prints
 * `relay listening on 127.0.0.1:PORT` when ready and runs until killed.
 *
 * The relay costs CPU on the same machine (and its TLS client does the
 * decryption any TLS client does), so the figures it gives are for "server
 * + relay"; the scenario compares TLS and plain through the same relay.
 *
 * @example
 * ```sh
 * deno run --allow-net --allow-read bench/tls_relay.ts --target 40126 --tls --ca /tmp/ca.pem
 * deno run --allow-net bench/tls_relay.ts --target 5005     # plain, for the comparison
 * ```
 * @module
 */
import { parseArgs } from "node:util";

/** Copies `from` to `to` until `from` ends or either fails; then closes the writing side. */
async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch { /* one side went away */ }
}

/** Relays one accepted connection to the target. */
async function relay(client: Deno.TcpConn, target: number, ca: string | undefined): Promise<void> {
  let server: Deno.Conn | undefined;
  try {
    client.setNoDelay(true);
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: target });
    tcp.setNoDelay(true);
    server = ca === undefined ? tcp : await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [ca] });
    await Promise.race([pipe(client, server), pipe(server, client)]);
  } catch { /* could not connect */ }
  for (const conn of [client, server]) {
    try {
      conn?.close();
    } catch { /* closed */ }
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { target: { type: "string" }, tls: { type: "boolean" }, ca: { type: "string" } },
  });
  const target = Number(values.target);
  if (!Number.isInteger(target) || target <= 0) {
    console.error("usage: tls_relay.ts --target PORT [--tls --ca FILE]");
    Deno.exit(2);
  }
  const ca = values.tls ? await Deno.readTextFile(values.ca ?? "") : undefined;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`relay listening on 127.0.0.1:${listener.addr.port}`);
  for await (const conn of listener) relay(conn, target, ca);
}
