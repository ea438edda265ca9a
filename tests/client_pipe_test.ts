/**
 * The client with standard input a pipe: a plain line client, against
 * teaparty, a raw server speaking telnet, the C limit_server, and TLS.
 */
import assert from "node:assert/strict";
import { doorPort, startServer, TestClient, WAIT_MS } from "./helpers.ts";
import { DO, DONT, IAC, SB, SE, WILL, WONT } from "../client/telnet.ts";
import { LimitServer } from "./limit_server.ts";
import { tempDir } from "./db_helpers.ts";
import { makeCertificates as makeTestCertificates } from "./tls_helpers.ts";

const ROOT = new URL("..", import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs the client with `args`, feeding `input` to its standard input (a
 * string, or a function that writes when it likes), and waits for it to exit.
 */
async function runClient(
  args: string[],
  input: string | ((write: (text: string) => Promise<void>) => Promise<void>),
  { permissions = ["--allow-net"], ms = 20000 } = {},
): Promise<Run> {
  const started = Date.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "client.ts", ...args],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const writer = child.stdin.getWriter();
  const feeding = (async () => {
    try {
      if (typeof input === "string") await writer.write(encoder.encode(input));
      else await input((text) => writer.write(encoder.encode(text)));
      await writer.close();
    } catch {
      // the client exited before reading everything
    }
  })();
  const out = await child.output();
  clearTimeout(timer);
  await feeding;
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    ms: Date.now() - started,
  };
}

/** A port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("pipe mode: lines in, lines out, and exit 0 when the server closes after logout", async () => {
  await using chat = await startServer({ rate: 0 });
  const watcher = await chat.login("wanda");
  const run = await runClient(["--nick", "bob", `127.0.0.1:${chat.port}`], "look\n茶 tea 🍵\r\nlogout\n");
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.stdout.split("\n"), [
    "*** Welcome to TestChat!",
    "*** Log in with: login <nick>    (help lists the commands)",
    "*** bob has entered the room.",
    "*** In main (2): bob, wanda",
    "bob: 茶 tea 🍵",
    "*** Goodbye, bob!",
    "",
  ]);
  await watcher.waitFor("bob: 茶 tea 🍵");
});

Deno.test("pipe mode: at the end of input the server's last output is still printed, then the client exits", async () => {
  await using chat = await startServer({ rate: 0 });
  const run = await runClient(["--nick", "bob", `127.0.0.1:${chat.port}`], "look\n");
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.stdout.includes("*** In main (1): bob\n"), run.stdout);
  assert.ok(run.ms < 15000, `the drain is bounded (took ${run.ms} ms)`);
});

Deno.test("pipe mode: telnet negotiation is answered once and stripped, escape sequences never printed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const NAWS = 31, SGA = 3, TTYPE = 24, BINARY = 0, ECHO = 1;
  const received: number[] = [];
  const answered = Promise.withResolvers<void>();
  const server = (async () => {
    const conn = await listener.accept();
    listener.close();
    const send = (...parts: (number[] | string)[]) =>
      conn.write(new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...encoder.encode(p)] : p)));
    await send(
      [IAC, WILL, ECHO, IAC, DO, NAWS, IAC, WILL, SGA],
      "hello",
      [IAC, SB, TTYPE, 1, IAC, SE],
      " world\r\n",
      "\x1b[2Jclean\x1b[31m red\x1b]0;title\x07\r\n",
      [IAC, DO, BINARY, IAC, WILL, BINARY],
      // Requests that confirm the state now: they must not be answered.
      [IAC, WILL, ECHO, IAC, DO, NAWS],
      "bye\r\n",
    );
    const buf = new Uint8Array(4096);
    while (!decoder.decode(new Uint8Array(received)).endsWith("done\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      received.push(...buf.subarray(0, n));
      if (received.length >= 15) answered.resolve();
    }
    await send("got it\r\n");
    // The client ends its input right after "done": it closes once the server has been quiet. (Closing here
    // instead would race with the end of its input, and a close before it counts as a lost connection.)
    while (await conn.read(buf) !== null) { /* nothing more is expected */ }
    conn.close();
  })();
  const run = await runClient([`127.0.0.1:${port}`], async (write) => {
    // The line goes out after the answers, so the bytes the server gets can be compared exactly.
    await Promise.race([answered.promise, new Promise((r) => setTimeout(r, WAIT_MS))]);
    await write("唐 done\n");
  });
  await server;
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "hello world\nclean red\nbye\ngot it\n");
  assert.deepEqual(received, [
    ...[IAC, DO, ECHO, IAC, WONT, NAWS, IAC, DONT, SGA],
    ...[IAC, WILL, BINARY, IAC, DO, BINARY],
    ...encoder.encode("唐 done\r\n"),
  ]);
});

Deno.test("pipe mode: a server that refuses the connection gets a one-line reason and exit code 1", async () => {
  const port = closedPort();
  const run = await runClient([`127.0.0.1:${port}`], "hello\n");
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(
    run.stderr.trim(),
    new RegExp(`^teaparty client: cannot connect to 127\\.0\\.0\\.1:${port}: .*refused`, "i"),
  );
});

Deno.test("pipe mode: an IPv6 address in the reason is in brackets, as it is given on the command line", async () => {
  const port = closedPort();
  const run = await runClient([`[::1]:${port}`], "hello\n");
  assert.equal(run.code, 1);
  assert.match(run.stderr.trim(), new RegExp(`^teaparty client: cannot connect to \\[::1\\]:${port}: `));
});

Deno.test("bad command lines are refused with a reason and exit code 2", async () => {
  for (
    const [args, reason] of [
      [["--bogus"], /bogus/],
      [["host:0"], /bad port "0"/],
      [["--insecure"], /need --tls/],
      [["--nick", ""], /--nick needs one word/],
    ] as [string[], RegExp][]
  ) {
    const run = await runClient(args, "");
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, reason);
    assert.match(run.stderr, /Try --help/);
  }
  const help = await runClient(["--help"], "");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--nick NAME/);
});

// ------------------------------------------------------------------ the C limit_server

Deno.test("the client works against the C limit_server (the book's protocol, bare notices)", async (t) => {
  const server = await LimitServer.start([]);
  if (typeof server === "string") {
    console.warn(`SKIPPED (limit_server cannot run): ${server}`);
    return;
  }
  const port = server.port;
  try {
    await t.step("book mode: login, say, logout", async () => {
      // Someone else in the room; logout is typed only once the line has been delivered, because
      // limit_server closes a connection at once on logout, dropping output it had not written yet.
      const watcher = await TestClient.connect(port);
      try {
        await watcher.send("login wat");
        await watcher.waitFor("wat has entered the room.");
        const run = await runClient(["--nick", "bob", `127.0.0.1:${port}`], async (write) => {
          await write("say hello 茶\n");
          await watcher.waitFor("bob: hello 茶");
          await write("logout\n");
        });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(run.stdout.split("\n"), [
          "Welcome to LimitChat",
          "bob has entered the room.",
          "bob: hello 茶",
          "",
        ]);
        await watcher.waitFor("bob has left the room.");
      } finally {
        watcher.close();
        await watcher.done;
      }
    });
  } finally {
    await server.stop();
  }
});

// ------------------------------------------------------------------ TLS

/** A CA and a certificate for 127.0.0.1 signed by it, made with openssl; a reason string if it cannot. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string } | string> {
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" }).output();
    if (!out.success) throw new Error(`openssl ${args[0]}: ${decoder.decode(out.stderr)}`);
  };
  try {
    const subj = (cn: string) => ["-subj", `/CN=${cn}`];
    await openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      ...subj("Tea CA"),
    );
    await openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "leaf.csr",
      ...subj("localhost"),
    );
    await Deno.writeTextFile(
      `${dir}/ext.cnf`,
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    );
    await openssl(
      ...["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
      ...["-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf"],
    );
  } catch (error) {
    return `cannot make test certificates: ${(error as Error).message}`;
  }
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return { ca: `${dir}/ca.pem`, cert: await read("cert.pem"), key: await read("key.pem") };
}

Deno.test("--tls connects with TLS: verified with --ca, unverified with --insecure, refused otherwise", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "teaparty-tls-" });
  try {
    const certs = await makeCertificates(dir);
    if (typeof certs === "string") {
      console.warn(`SKIPPED: ${certs}`);
      if (Deno.env.get("CI")) throw new Error(certs);
      return;
    }
    const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key });
    const port = (listener.addr as Deno.NetAddr).port;
    // Greets, echoes each line back as "you said: ...", closes on logout.
    const serving = (async () => {
      for await (const conn of listener) {
        (async () => {
          try {
            await conn.write(encoder.encode("secure hello\r\n"));
            for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) {
              for (const line of chunk.split("\r\n").filter((l) => l)) {
                if (line === "logout") return conn.close();
                await conn.write(encoder.encode(`you said: ${line}\r\n`));
              }
            }
          } catch {
            // a client that refused the certificate
          }
        })();
      }
    })();
    const address = `127.0.0.1:${port}`;
    await t.step("--ca FILE trusts the test CA", async () => {
      const run = await runClient(["--tls", "--ca", certs.ca, address], "茶\nlogout\n", {
        permissions: ["--allow-net", `--allow-read=${certs.ca}`],
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "secure hello\nyou said: 茶\n");
    });
    await t.step("--insecure accepts the certificate without verifying it", async () => {
      const run = await runClient(["--tls", "--insecure", address], "hi\nlogout\n");
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "secure hello\nyou said: hi\n");
    });
    await t.step("without either, the unknown issuer is refused with a reason", async () => {
      const run = await runClient(["--tls", address], "hi\n");
      assert.equal(run.code, 1);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /cannot connect to 127\.0\.0\.1:\d+: .*(certificate|issuer)/i);
    });
    await t.step("--ca without read permission says which permission is missing", async () => {
      const run = await runClient(["--tls", "--ca", certs.ca, address], "");
      assert.equal(run.code, 2);
      assert.match(run.stderr, /cannot read the CA file .*--allow-read=/);
    });
    listener.close();
    await serving.catch(() => {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs openssl in `dir`; throws with what it said if it fails. */
async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args[0]}: ${decoder.decode(out.stderr)}`);
}

Deno.test("--tls refusals of teaparty's certificate say why in plain words, and what to do", async (t) => {
  await using dir = await tempDir();
  const certs = await makeTestCertificates(dir.path);
  // A self-signed certificate, the CA and the server's certificate in one (what openssl req -x509 makes).
  await openssl(dir.path, [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-keyout", "self-key.pem", "-out", "self.pem", "-days", "1", "-subj", "/CN=localhost"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
  ]);
  const self = `${dir.path}/self.pem`;
  // A certificate the test CA signed for another name.
  await Deno.writeTextFile(
    `${dir.path}/other.ext`,
    "subjectAltName=DNS:elsewhere.example\nbasicConstraints=critical,CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(dir.path, [
    ...["x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial"],
    ...["-out", "other.pem", "-days", "2", "-extfile", "other.ext"],
  ]);
  const readable = ["--allow-net", `--allow-read=${dir.path}`];
  /** Starts teaparty with this certificate, connects with `args`; checks the one line it refuses with. */
  const refused = async (cert: string, key: string, args: string[], reason: string) => {
    await using chat = await startServer({ tlsPort: 0, tlsCert: cert, tlsKey: key });
    const address = `127.0.0.1:${doorPort(chat, "telnets")}`;
    const run = await runClient(["--tls", ...args, address], "hello\n", { permissions: readable });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr, `teaparty client: cannot connect to ${address}: ${reason}\n`);
  };
  const selfSigned = "the server's certificate is a CA certificate used as its own (self-signed); sign the " +
    "server's certificate with a separate CA and give that CA with --ca, or use --insecure";
  await t.step("a self-signed certificate, given with --ca or not", async () => {
    await refused(self, `${dir.path}/self-key.pem`, ["--ca", self], selfSigned);
    await refused(self, `${dir.path}/self-key.pem`, [], selfSigned);
  });
  await t.step("--insecure, which the reason offers, connects to it", async () => {
    await using chat = await startServer({ tlsPort: 0, tlsCert: self, tlsKey: `${dir.path}/self-key.pem` });
    const run = await runClient(["--tls", "--insecure", `127.0.0.1:${doorPort(chat, "telnets")}`], "");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Log in with/);
  });
  await t.step("a CA this computer does not trust, without --ca and with another CA", async () => {
    await refused(
      certs.cert,
      certs.key,
      [],
      "the server's certificate is not signed by a CA this computer trusts (a private CA, or self-signed?); " +
        "give that CA with --ca FILE, or use --insecure to connect without verifying it",
    );
    await refused(
      certs.cert,
      certs.key,
      ["--ca", self],
      "the server's certificate is signed neither by the CA given with --ca nor by one this computer trusts; " +
        "give the CA that signed it with --ca, or use --insecure to connect without verifying it",
    );
  });
  await t.step("a certificate for another name", async () => {
    await refused(
      `${dir.path}/other.pem`,
      certs.key,
      ["--ca", certs.ca],
      "the server's certificate is not valid for the name 127.0.0.1 (it is for elsewhere.example); " +
        "connect with a name it is for, or use --insecure to connect without verifying it",
    );
  });
  await t.step("a port that does not speak TLS (teaparty's telnet port), verified or not", async () => {
    await using chat = await startServer({ rate: 0 });
    for (const args of [[], ["--insecure"]]) {
      const run = await runClient(["--tls", ...args, `127.0.0.1:${chat.port}`], "hello\n");
      assert.equal(run.code, 1, run.stderr);
      assert.equal(
        run.stderr,
        `teaparty client: cannot connect to 127.0.0.1:${chat.port}: ` +
          "the server did not answer in TLS (is this a plain port? leave out --tls for it)\n",
      );
    }
  });
});
