/**
 * A server whose open-files limit (`ulimit -n`) is below what `--max-clients`
 * allows for: past the limit, a new client on every door is told in one
 * line (or an HTTP 503) that the server is full, rather than waiting
 * unanswered in the listener's backlog; the clients already in go on, and
 * once some leave, new ones are let in again.
 */
import assert from "node:assert/strict";
import { ServerProcess, TestClient } from "./helpers.ts";
import { FdReserve, fdReserve, outOfDescriptors } from "../fd_reserve.ts";
import { type AcceptedConn, acceptLoop, type Listener } from "../doors/door.ts";
import { Logger } from "../log.ts";

const FULL = "*** The server is full (out of file descriptors); please try again later.";
const OPEN_FILES = 64;

/** The port a door printed (`listening on irc://127.0.0.1:PORT`). */
async function printedPort(proc: ServerProcess, scheme: string): Promise<number> {
  const line = await proc.waitForStdout(new RegExp(`^listening on ${scheme}://`));
  return Number(/:(\d+)$/.exec(line)![1]);
}

/** Connects to the telnet door and returns the client with its first line. */
async function telnet(port: number): Promise<{ client: TestClient; first: string }> {
  const client = await TestClient.connect(port);
  return { client, first: await client.waitFor(() => true) };
}

Deno.test("out of file descriptors: every door answers a new client that the server is full, and lets clients in again once some leave", async () => {
  await using proc = new ServerProcess(
    ["--port", "0", "--irc-port", "0", "--http-port", "0", "--host", "127.0.0.1", "--max-per-ip", "0"],
    ["--allow-net", "--allow-read=web"],
    { openFiles: OPEN_FILES },
  );
  const { port } = await proc.listening();
  const ircPort = await printedPort(proc, "irc");
  const httpPort = await printedPort(proc, "http");
  const inside: TestClient[] = [];
  try {
    // Connect until the limit: each client is greeted, until one is told the server is full.
    let refused: TestClient | undefined;
    for (let i = 0; i < OPEN_FILES && !refused; i++) {
      const { client, first } = await telnet(port);
      if (first === FULL) refused = client;
      else {
        assert.match(first, /^\*\*\* Welcome to /);
        inside.push(client);
      }
    }
    assert.ok(refused, `no refusal after ${inside.length} clients`);
    assert.ok(inside.length > 0 && inside.length < OPEN_FILES);
    await refused.closed(); // and closed by the server
    await proc.waitForLog(/accept failed: out of file descriptors door=telnet .*hint="raise the open-files limit/);
    await proc.waitForLog(/refused .*door=telnet .*out of file descriptors/);

    // The other doors, in their own protocol.
    const irc = await TestClient.connect(ircPort);
    assert.equal(
      await irc.waitFor(() => true),
      "ERROR :The server is full (out of file descriptors); please try again later.",
    );
    await irc.closed();
    const http = await TestClient.connect(httpPort);
    await http.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    await http.closed();
    const response = new TextDecoder().decode(new Uint8Array(http.raw));
    assert.match(response, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(response, /\r\nRetry-After: 10\r\n/);
    assert.match(response, /\r\n\r\nThe server is full \(out of file descriptors\); please try again later\.\n$/);

    // Those inside go on talking.
    const [alice, bob] = inside;
    await alice.send("login alice");
    await alice.waitFor("*** alice has entered the room.");
    await bob.send("login bob");
    await bob.waitFor("*** bob has entered the room.");
    await alice.send("say still here");
    await bob.waitFor("alice: still here");

    // Some leave: a new client is let in again (the server may not have seen them go at the first try).
    for (const c of inside.splice(2, 3)) {
      c.close();
      await c.closed();
    }
    let again: TestClient | undefined;
    for (let tries = 0; tries < 50 && !again; tries++) {
      const { client, first } = await telnet(port);
      if (first === FULL) await client.closed();
      else {
        assert.match(first, /^\*\*\* Welcome to /);
        again = client;
      }
    }
    assert.ok(again, "no client let in after three left");
    inside.push(again);
    await again.send("login carol");
    await again.waitFor("*** carol has entered the room.");
    await bob.waitFor("*** carol has entered the room.");
  } finally {
    for (const c of inside) c.close();
  }
  // And it stops cleanly, with accepts still waiting after the turn-aways.
  proc.kill("SIGTERM");
  assert.equal((await proc.exited()).code, 0, proc.stderr.join("\n"));
  assert.ok(!proc.stderr.some((l) => /Uncaught/.test(l)), proc.stderr.join("\n"));
});

Deno.test("out of file descriptors with no reserve (--allow-net without 127.0.0.1): a client past the limit waits, and is let in once descriptors are free", async () => {
  const host = "127.0.0.2"; // loopback too, but not the address the reserve asks for
  await using proc = new ServerProcess(["--port", "0", "--host", host, "--max-per-ip", "0"], [`--allow-net=${host}`], {
    openFiles: OPEN_FILES,
  });
  const { port } = await proc.listening();
  const inside: TestClient[] = [];
  const outOf = /accept failed: out of file descriptors/;
  const greeted = (c: TestClient) => c.lines.some((l) => /^\*\*\* Welcome to /.test(l));
  try {
    // Connect until the server says it is out of descriptors (the last of these may be waiting in the backlog).
    while (!proc.stderr.some((l) => outOf.test(l))) {
      assert.ok(inside.length < OPEN_FILES, "never out of descriptors");
      const client = await TestClient.connect(port, host);
      inside.push(client);
      await Promise.race([client.waitFor(/^\*\*\* Welcome to /), proc.waitForLog(outOf)]);
    }
    const late = await TestClient.connect(port, host); // past the limit, with no reserve to answer it
    // Two leave: the ones waiting are let in, the late one too, greeted as anyone.
    for (const c of inside.filter(greeted).slice(0, 2)) {
      inside.splice(inside.indexOf(c), 1);
      c.close();
      await c.closed();
    }
    inside.push(late);
    await late.waitFor(/^\*\*\* Welcome to /);
    await late.send("login dora");
    await late.waitFor("*** dora has entered the room.");
  } finally {
    for (const c of inside) c.close();
  }
  proc.kill("SIGTERM");
  assert.equal((await proc.exited()).code, 0, proc.stderr.join("\n"));
});

Deno.test("outOfDescriptors is true for EMFILE and ENFILE only", () => {
  assert.equal(
    outOfDescriptors(Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" })),
    true,
  );
  assert.equal(outOfDescriptors(Object.assign(new Error("Too many open files in system"), { code: "ENFILE" })), true);
  assert.equal(outOfDescriptors(new Deno.errors.ConnectionReset("reset")), false);
  assert.equal(outOfDescriptors(undefined), false);
});

Deno.test("an FdReserve holds one descriptor while open, lets it go once, takes one again, and none after its last close", () => {
  const reserve = new FdReserve();
  assert.equal(reserve.held, false);
  assert.equal(reserve.release(), false); // nothing held before open
  assert.equal(reserve.open(), true);
  assert.equal(reserve.open(), true); // a second user shares it
  assert.equal(reserve.release(), true);
  assert.equal(reserve.release(), false); // once
  reserve.restore();
  assert.equal(reserve.held, true);
  reserve.close();
  assert.equal(reserve.held, true); // one user left
  reserve.close();
  assert.equal(reserve.held, false);
  reserve.restore();
  assert.equal(reserve.held, false); // closed: not taken again
  assert.equal(fdReserve.held, false); // the process's own is opened by a listening server only
});

Deno.test("an accept that fails at once for want of descriptors, again and again, neither makes the accept loop spin nor is left unhandled when the loop ends", async () => {
  // Linux's accept takes a descriptor before it looks for a connection: at the limit it fails at once, forever.
  const emfile = () => Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" });
  const lines: string[] = [];
  let accepts = 0;
  const listener: Listener<AcceptedConn> = {
    accept: () => (accepts++, Promise.reject(emfile())),
    addr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    close() {},
  };
  fdReserve.open();
  try {
    const started = performance.now();
    await acceptLoop(listener, () => assert.fail("nothing to admit"), {
      log: new Logger("info", (line) => lines.push(line)),
      door: "telnet",
      stopping: () => accepts >= 8, // the last one is left waiting: the loop must not leave it unhandled
      turnAway: () => assert.fail("nobody to turn away"),
    });
    // Each failure right after one with the reserve let go waits 100 ms: eight accepts take at least three waits.
    assert.ok(performance.now() - started >= 300, `8 accepts in ${(performance.now() - started).toFixed(1)} ms`);
    assert.equal(fdReserve.held, true); // taken again every time
    assert.ok(lines.every((l) => /accept failed: out of file descriptors/.test(l)), lines.join("\n"));
  } finally {
    fdReserve.close();
  }
});
