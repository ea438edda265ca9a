/**
 * The real server process: --help, --port 0, logging to stderr, bad flags,
 * and shutting down on SIGTERM and SIGINT.
 */
import assert from "node:assert/strict";
import { runCli, ServerProcess, type TestClient } from "./helpers.ts";
import { defaults, flags } from "../config.ts";

const encoder = new TextEncoder();
/** Every log line: time, level, event, then key=value fields. */
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) [a-z][a-z ]*( \w+=\S.*)?$/;

async function login(proc: ServerProcess, nick: string): Promise<TestClient> {
  const client = await proc.connect();
  await client.waitFor(/Log in with/);
  client.send(`login ${nick}`);
  await client.waitFor(`*** ${nick} has entered the room.`);
  return client;
}

Deno.test("--help lists every flag with its default and exits 0", async () => {
  const { code, stdout, started } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.equal(started, false);
  const lines = stdout.split("\n");
  for (const f of flags) {
    const row = lines.filter((l) => l.startsWith(`  --${f.flag} `));
    assert.equal(row.length, 1, `--${f.flag}:\n${stdout}`);
    const value = defaults[f.key];
    const shown = Array.isArray(value) || value === ""
      ? "none"
      : value === -1 || value === false
      ? "off"
      : String(value);
    assert.ok(row[0].endsWith(`(default: ${shown})`), row[0]);
    assert.equal(row[0].split("(default:").length, 2, `one default in ${row[0]}`);
  }
  for (const f of ["port", "name", "room", "max-line", "max-queue", "rate", "burst", "login-timeout", "log-level"]) {
    assert.ok(flags.some((x) => x.flag === f), f);
  }
  assert.match(stdout, /--name TEXT .*\(default: TestChat\)/);
  assert.match(stdout, /--max-line BYTES .*\(default: 4096\)/);
  assert.match(stdout, /-h, --help/);
  // The intro names every door, and --port is the telnet one.
  assert.match(lines[0], /^teaparty: .*telnet.*web.*IRC.*TLS/);
  assert.match(stdout, /^ {2}--port N +telnet port/m);
  assert.equal((await runCli(["-h"])).stdout, stdout);
});

Deno.test("--port 0 prints the real address, where the server answers", async () => {
  await using proc = await ServerProcess.start(["--port", "0", "--name", "CliChat"]);
  assert.notEqual(proc.port, 0);
  assert.ok(proc.port > 0 && proc.port < 65536);
  const client = await proc.connect();
  assert.equal(await client.waitFor(/^\*\*\* Welcome/), "*** Welcome to CliChat!");
  proc.kill("SIGTERM");
  assert.equal((await proc.exited()).code, 0);
  await client.closed();
  assert.deepEqual(proc.stdout.filter((l) => l !== ""), [`listening on ${proc.hostname}:${proc.port}`]);
});

Deno.test("logs go to stderr, one line per event: connect, login, logout, disconnect, refusal", async () => {
  await using proc = await ServerProcess.start(["--host", "127.0.0.1", "--port", "0", "--max-clients", "2"]);
  const alice = await login(proc, "alice");
  const bob = await login(proc, "bob");
  const third = await proc.connect();
  await third.closed();
  assert.match(third.lines[0], /full/);
  await proc.waitForLog(/WARN refused .*ip=127\.0\.0\.1 .*reason=.*full/);
  alice.send("logout");
  await alice.closed();
  await proc.waitForLog(/INFO disconnect .*nick=alice .*reason=logout/);
  bob.close();
  await proc.waitForLog(/INFO disconnect .*nick=bob .*reason=/);
  proc.kill("SIGTERM");
  assert.equal((await proc.exited()).code, 0);
  const log = proc.stderr.filter((l) => l !== "");
  for (const line of log) assert.match(line, LOG_LINE);
  assert.equal(log.filter((l) => / INFO connect /.test(l)).length, 2, log.join("\n"));
  assert.equal(log.filter((l) => / INFO login .*nick=alice/.test(l)).length, 1, log.join("\n"));
  assert.equal(log.filter((l) => / INFO login .*nick=bob/.test(l)).length, 1, log.join("\n"));
  assert.equal(log.filter((l) => / INFO logout .*nick=alice/.test(l)).length, 1, log.join("\n"));
  assert.equal(log.filter((l) => / disconnect .*nick=alice/.test(l)).length, 1, log.join("\n"));
  assert.equal(log.filter((l) => / disconnect .*nick=bob/.test(l)).length, 1, log.join("\n"));
  assert.equal(log.filter((l) => / refused /.test(l)).length, 1, log.join("\n"));
  // Nothing but the address goes to stdout.
  assert.deepEqual(proc.stdout.filter((l) => l !== ""), [`listening on 127.0.0.1:${proc.port}`]);
});

Deno.test("--log-level warn hides the info lines but keeps warnings", async () => {
  await using proc = await ServerProcess.start([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--max-clients",
    "1",
    "--log-level",
    "warn",
  ]);
  const alice = await login(proc, "alice");
  const second = await proc.connect();
  await second.closed();
  await proc.waitForLog(/WARN refused/);
  alice.send("logout");
  await alice.closed();
  proc.kill("SIGTERM");
  assert.equal((await proc.exited()).code, 0);
  const log = proc.stderr.filter((l) => l !== "");
  assert.ok(log.length >= 1);
  for (const line of log) assert.match(line, / (WARN|ERROR) /);
});

Deno.test("bad flag values give a clear error and a nonzero exit", async () => {
  const cases: [string[], RegExp][] = [
    [["--port", "abc"], /--port/],
    [["--port", "70000"], /--port/],
    [["--port", "-1"], /--port/],
    [["--port", "1.5"], /--port/],
    [["--port"], /--port/],
    [["--max-line", "0"], /--max-line/],
    [["--max-queue", "10"], /--max-queue/],
    [["--flush-budget", "5000"], /--flush-budget/],
    [["--rate=-1"], /--rate/],
    [["--burst", "0"], /--burst/],
    [["--max-clients", "many"], /--max-clients/],
    [["--max-clients", "2.5"], /--max-clients/],
    [["--max-per-ip", "-3"], /--max-per-ip/],
    [["--login-timeout", "soon"], /--login-timeout/],
    [["--log-level", "loud"], /--log-level/],
    [["--room", ""], /--room/],
    [["--room", "no/slashes"], /--room/],
    [["--bogus"], /--bogus/],
    [["5005"], /5005/],
  ];
  const results = await Promise.all(
    cases.map(([args]) => runCli(["--host", "127.0.0.1", "--port", "0", ...args])),
  );
  for (const [i, [args, mention]] of cases.entries()) {
    const { code, stdout, stderr, started } = results[i];
    const what = `${args.join(" ")}: exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`;
    assert.equal(started, false, `started listening with ${what}`);
    assert.notEqual(code, 0, what);
    assert.match(stderr, mention, what);
    assert.doesNotMatch(stderr, /^\s+at /m, `a stack trace instead of a message: ${what}`);
  }
});

Deno.test("a bad --trust-proxy or --name gets one line naming it and exit code 2, before listening", async () => {
  const cases: [string[], string][] = [
    [
      ["--trust-proxy", "bogus"],
      'teaparty: --trust-proxy "bogus": not an IP address or a range (names are not looked up); ' +
      "give the proxy's address, such as 127.0.0.1, ::1 or 10.0.0.0/8",
    ],
    [
      ["--trust-proxy", "127.0.0.1", "--trust-proxy", "0.0.0.0/0"],
      'teaparty: --trust-proxy "0.0.0.0/0": this range holds every IPv4 address, so anyone could claim any address in ' +
      "X-Forwarded-For; give the proxy's address or its network, such as 127.0.0.1, ::1 or 10.0.0.0/8",
    ],
    [["--name", ""], 'teaparty: --name "": a server name cannot be empty'],
    [["--name", "  "], 'teaparty: --name "  ": a server name needs something visible, not only spaces'],
    [
      ["--name", "Tea\x1b[2J"],
      'teaparty: --name "Tea\\u{1b}[2J": a server name may not contain control characters (U+001B)',
    ],
  ];
  const results = await Promise.all(
    cases.map(([args]) =>
      runCli(["--host", "127.0.0.1", "--port", "0", "--http-port", "0", ...args], 15000, [
        "--allow-net",
        "--allow-read=web",
      ])
    ),
  );
  for (const [i, [args, line]] of cases.entries()) {
    const { code, stdout, stderr, started } = results[i];
    const what = `${JSON.stringify(args)}: exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`;
    assert.equal(started, false, `started listening with ${what}`);
    assert.equal(code, 2, what);
    assert.equal(stdout, "", what);
    assert.deepEqual(stderr.split("\n").filter((l) => l !== ""), [line, "Try --help for the list of options."], what);
  }
});

Deno.test("SIGTERM: every connected user gets the shutdown notice and the process exits 0", async () => {
  await using proc = await ServerProcess.start(["--host", "127.0.0.1", "--port", "0"]);
  const alice = await login(proc, "alice");
  const bob = await login(proc, "bob");
  bob.send("/join kitchen");
  await bob.waitFor("*** bob has entered the room.");
  const guest = await proc.connect();
  await guest.waitFor(/Log in with/);
  proc.kill("SIGTERM");
  for (const client of [alice, bob, guest]) {
    await client.closed();
    assert.match(client.lines.at(-1)!, /^\*\*\* .*shutting down/);
  }
  assert.equal((await proc.exited()).code, 0);
});

Deno.test("SIGINT: every connected user gets the shutdown notice and the process exits 0", async () => {
  await using proc = await ServerProcess.start(["--host", "127.0.0.1", "--port", "0"]);
  const alice = await login(proc, "alice");
  const bob = await login(proc, "bob");
  proc.kill("SIGINT");
  for (const client of [alice, bob]) {
    await client.closed();
    assert.match(client.lines.at(-1)!, /^\*\*\* .*shutting down/);
  }
  assert.equal((await proc.exited()).code, 0);
});

Deno.test("a client that never reads cannot hold up shutdown", async () => {
  await using proc = await ServerProcess.start([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--rate",
    "0",
    "--max-line",
    "65536",
    "--max-queue",
    "200000000",
  ]);
  const alice = await login(proc, "alice");
  const lurker = await Deno.connect({ hostname: "127.0.0.1", port: proc.port });
  try {
    await lurker.write(encoder.encode("login lurker\r\n"));
    await alice.waitFor("*** lurker has entered the room.");
    // 12 MB for the lurker: far more than the socket buffers hold, so most
    // of it waits in the server's queue when the signal comes.
    const text = "x".repeat(60_000);
    for (let i = 1; i <= 200; i++) {
      alice.send(`${i} ${text}`);
      if (i % 10 === 0) await alice.waitFor(`alice: ${i} ${text}`);
    }
    proc.kill("SIGTERM");
    await alice.closed(15_000);
    assert.match(alice.lines.at(-1)!, /shutting down/);
    const status = await proc.exited(30_000);
    assert.equal(status.code, 0);
  } finally {
    lurker.close();
  }
});
