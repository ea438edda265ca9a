/**
 * The TLS doors: telnet over TLS (`--tls-port`) with certificates made by
 * openssl in the test, chatting with plain telnet users, and the start-up
 * refusals for missing, unreadable or mismatched certificate files.
 */
import assert from "node:assert/strict";
import { doorPort, runCli, ServerProcess, startServer, TestClient } from "./helpers.ts";
import { tempDir } from "./db_helpers.ts";
import { makeCertificates } from "./tls_helpers.ts";

Deno.test("telnet over TLS: a TLS user and a plain telnet user chat in one room", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using chat = await startServer({ tlsPort: 0, tlsCert: certs.cert, tlsKey: certs.key });
  const secure = await TestClient.connectTls(doorPort(chat, "telnets"), certs.caPem);
  chat.clients.push(secure);
  await secure.waitFor(/Log in with/);
  secure.send("login alice");
  await secure.waitFor("*** alice has entered the room.");
  const bob = await chat.login("bob");
  secure.send("hello over TLS 🍵");
  assert.equal(await bob.waitFor(/^alice: /), "alice: hello over TLS 🍵");
  bob.send("@alice and back");
  assert.equal(await secure.waitFor(/^\[private\]/), "[private] bob: and back");
  const session = [...chat.server.sessions].find((s) => s.nick === "alice");
  assert.equal(session?.door, "telnets");
});

Deno.test("a plain TCP client on the TLS port is dropped without disturbing anyone", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using chat = await startServer({ tlsPort: 0, tlsCert: certs.cert, tlsKey: certs.key });
  const bob = await chat.login("bob");
  const plain = await TestClient.connect(doorPort(chat, "telnets"));
  chat.clients.push(plain);
  await plain.sendRaw("login mallory\r\n");
  await plain.closed();
  bob.send("still here");
  await bob.waitFor("bob: still here");
  assert.equal(chat.server.find("mallory"), undefined);
});

Deno.test("the real server prints one line per door, with the scheme for the TLS door", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await using proc = await ServerProcess.start(
    ["--host", "127.0.0.1", "--port", "0", "--tls-port", "0", "--tls-cert", certs.cert, "--tls-key", certs.key],
    ["--allow-net", `--allow-read=${dir.path}`],
  );
  const lines = proc.stdout.filter((l) => l.startsWith("listening on "));
  assert.equal(lines[0], `listening on 127.0.0.1:${proc.port}`);
  await proc.waitForStdout(/^listening on telnets:\/\/127\.0\.0\.1:\d+$/);
});

Deno.test("TLS files that are missing, not PEM, or a key that does not match are refused: one line, exit 1", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  await Deno.writeTextFile(`${dir.path}/junk.pem`, "not a certificate\n");
  const cases: [string[], RegExp][] = [
    [["--tls-cert", `${dir.path}/nope.pem`, "--tls-key", certs.key], /--tls-cert .*nope\.pem: no such file/],
    [["--tls-cert", `${dir.path}/junk.pem`, "--tls-key", certs.key], /--tls-cert .*junk\.pem: not a PEM file/],
    [
      ["--tls-cert", certs.cert, "--tls-key", certs.otherKey],
      new RegExp(`the --tls-key ${certs.otherKey} does not match the --tls-cert ${certs.cert}$`),
    ],
  ];
  for (const [flags, message] of cases) {
    const result = await runCli(["--port", "0", "--tls-port", "0", ...flags], 15000, [
      "--allow-net",
      `--allow-read=${dir.path}`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.started, false);
    const lines = result.stderr.split("\n").filter((l) => l.startsWith("teaparty:"));
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], message);
  }
});

Deno.test("--tls-port without the TLS files is refused as a bad flag", async () => {
  const result = await runCli(["--tls-port", "0"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--tls-port needs --tls-cert FILE and --tls-key FILE/);
});
