/**
 * The database and the process, hardened: damaged or empty files refused at
 * start-up, one server per database file, operator accounts made on the
 * command line before the start, logging that never blocks, bounded memory
 * for the in-memory history, one-line flag errors, and a complete lockfile.
 */
import assert from "node:assert/strict";
import { accountTool, folderAccess, runCli, ServerProcess, startServer, TestClient, WAIT_MS } from "./helpers.ts";
import { tempDir } from "./db_helpers.ts";
import { MEMORY_ROOMS, Store } from "../store.ts";

const ROOT = new URL("..", import.meta.url);

/** The real server on a database file, with read/write permissions for its folder. */
function serverOn(file: string, extra: string[] = []): ServerProcess {
  const dir = file.slice(0, file.lastIndexOf("/"));
  return new ServerProcess(
    ["--port", "0", "--host", "127.0.0.1", "--db", file, ...extra],
    ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`],
  );
}

/** Runs the server on `file`; it must refuse to start with exit code 1 and one line matching `message`. */
async function refusesToStart(file: string, message: RegExp, extra: string[] = []): Promise<string> {
  await using proc = serverOn(file, extra);
  const status = await proc.exited(20_000).catch((error) => {
    proc.kill("SIGKILL");
    throw error;
  });
  assert.equal(status.code, 1, proc.stderr.join("\n"));
  assert.ok(!proc.stdout.some((l) => l.startsWith("listening on")), "it started listening");
  const lines = proc.stderr.filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `not one line:\n${proc.stderr.join("\n")}`);
  assert.match(lines[0], message);
  return lines[0];
}

/** A teaparty database file with some history and an account. */
function makeDatabase(file: string, lines = 2000): void {
  const store = Store.open(file);
  const text = "a line of history that takes some room ".repeat(4);
  for (let i = 0; i < lines; i += 100) {
    store.addMessages(
      Array.from({ length: 100 }, (_, j) => ({ room: "main", at: i + j, kind: "chat" as const, nick: "a", text })),
    );
  }
  store.saveAccount("alice", "alice", "scrypt$1$1$1$x$y");
  store.close();
}

// ---- damaged and empty files (item 5)

Deno.test("an existing zero-length database file is refused, not taken for a new database", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await Deno.writeFile(file, new Uint8Array(0));
  await refusesToStart(file, /^teaparty: database .*chat\.db is an empty file \(0 bytes\)/);
  assert.equal((await Deno.stat(file)).size, 0, "the file was changed");
});

Deno.test("a database with garbage written into its middle is refused at start-up", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  makeDatabase(file);
  const bytes = await Deno.readFile(file);
  const middle = Math.floor(bytes.length / 2);
  bytes.fill(0x5a, middle - 4096, middle + 4096);
  await Deno.writeFile(file, bytes);
  await refusesToStart(file, /^teaparty: database .*chat\.db is damaged .*; teaparty will not use it/);
});

Deno.test("a database whose tail was cut off is refused at start-up", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  makeDatabase(file);
  const bytes = await Deno.readFile(file);
  await Deno.writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  await refusesToStart(file, /^teaparty: database .*chat\.db is damaged/);
});

Deno.test("--db-check full runs the full integrity check and refuses a cut file too", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  makeDatabase(file, 200);
  {
    await using proc = serverOn(file, ["--db-check", "full"]);
    await proc.listening();
  }
  const bytes = await Deno.readFile(file);
  await Deno.writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  await refusesToStart(file, /is damaged \(full check/, ["--db-check", "full"]);
});

// ---- one server per database (item 6)

Deno.test("a second server on the same database is refused, naming the pid that holds it; after SIGKILL it starts", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const first = serverOn(file);
  try {
    await first.listening();
    const line = await refusesToStart(file, /^teaparty: database .*chat\.db is in use by another teaparty \(pid \d+/);
    assert.match(line, new RegExp(`pid ${first.child.pid}\\b`));
  } finally {
    first.kill("SIGKILL");
    await first.exited();
  }
  await using again = serverOn(file);
  await again.listening();
});

// ---- operators need an account made beforehand (item 8)

Deno.test("--op with no account is refused at start-up, naming the command that makes one", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await refusesToStart(
    file,
    // Outside data/, where the npm task may not write: the command grants the database's folder.
    /^teaparty: --op root: there is no account root.*deno run --allow-read=\S+ --allow-write=\S+ account\.ts add root --db \S+chat\.db$/,
    [
      "--op",
      "root",
    ],
  );
});

Deno.test("an --op value that is not a valid nick is a bad flag", async () => {
  const result = await runCli(["--op", "9root"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^teaparty: --op: "9root" is not a valid nick: a nick must start with a letter$/m);
});

Deno.test("npm run account -- add makes an operator account that works at the next start; passwd and remove too", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const added = await accountTool(folderAccess(dir.path), ["add", "root", "--db", file], "rootpass99\n");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^account root created/);
  const twice = await accountTool(folderAccess(dir.path), ["add", "ROOT", "--db", file], "other-pass\n");
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /root exists already/);
  const short = await accountTool(folderAccess(dir.path), ["add", "eve", "--db", file], "short\n");
  assert.equal(short.code, 1);
  assert.match(short.stderr, /at least 6 characters/);
  {
    await using proc = serverOn(file, ["--op", "root"]);
    await proc.listening();
    const root = await proc.connect();
    try {
      root.send("login root rootpass99");
      await root.waitFor("*** You are an operator here.");
      // While the server runs, the password can be reset from the command line.
      const reset = await accountTool(folderAccess(dir.path), ["passwd", "root", "--db", file], "newpass123\n");
      assert.equal(reset.code, 0, reset.stderr);
    } finally {
      root.close();
      await root.done;
    }
    const again = await proc.connect();
    try {
      again.send("login root rootpass99");
      await again.waitFor("*** Wrong password for root. Try again with: login root");
      again.send("login root newpass123");
      await again.waitFor("*** root has entered the room.");
    } finally {
      again.close();
      await again.done;
    }
  }
  const listed = await accountTool(folderAccess(dir.path), ["list", "--db", file], "");
  assert.equal(listed.stdout.trim(), "root");
  const removed = await accountTool(folderAccess(dir.path), ["remove", "root", "--db", file], "");
  assert.equal(removed.code, 0, removed.stderr);
  await refusesToStart(file, /there is no account root/, ["--op", "root"]);
});

// ---- logging never blocks (item 13)

Deno.test("with stderr a pipe nobody reads, thousands of connections later chat still works and drops are counted", async () => {
  const proc = new ServerProcess(["--port", "0", "--host", "127.0.0.1", "--log-level", "info"], ["--allow-net"], {
    readStderr: false,
  });
  try {
    await proc.listening();
    // Each cycle ends when the server has closed the connection, so its connect and disconnect lines are logged:
    // 10,000 cycles log about 1.4 MB, more than the pipe (64 KiB) and the log buffer (1 MiB) hold. With a blocking
    // write the server stops after a few hundred cycles and a greeting never comes.
    for (let i = 0; i < 10_000; i++) {
      const client = await TestClient.connect(proc.port);
      try {
        await client.waitFor(/Log in with/, WAIT_MS);
        await client.send("logout");
        await client.closed();
      } finally {
        client.close();
        await client.done;
      }
    }
    const alice = await TestClient.connect(proc.port);
    try {
      await alice.waitFor(/Log in with/, WAIT_MS);
      alice.send("login alice");
      await alice.waitFor("*** alice has entered the room.");
      alice.send("still responsive");
      await alice.waitFor("alice: still responsive");
    } finally {
      alice.close();
      await alice.done;
    }
    proc.readStderr();
    await proc.waitForLog(/WARN log lines dropped count=\d+ reason="stderr was not read"/, 20_000);
  } finally {
    proc.kill("SIGKILL");
    await proc.exited();
  }
});

// ---- bounded memory (item 14)

Deno.test(`in memory, the history of at most ${MEMORY_ROOMS} emptied rooms is kept: the one emptied first is forgotten`, () => {
  const store = Store.open("");
  try {
    for (let i = 0; i <= MEMORY_ROOMS; i++) {
      store.addMessages([{ room: `room${i}`, at: i, kind: "chat", nick: "a", text: "x".repeat(4000) }]);
      store.roomEmptied(`room${i}`, () => false);
    }
    assert.deepEqual(store.recent("room0", 10), [], "the oldest room's history was kept");
    assert.equal(store.recent(`room${MEMORY_ROOMS}`, 10).length, 1);
    assert.equal(store.recent("room1", 10).length, 1);
  } finally {
    store.close();
  }
});

Deno.test("abandoned rooms' history is not kept forever in memory (over sockets)", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  for (let i = 0; i < MEMORY_ROOMS + 5; i++) {
    alice.send(`/join side${i}`);
    await alice.waitFor(`*** You are now in side${i}, alone.`);
    alice.send(`line in side${i}`);
    await alice.waitFor(`alice: line in side${i}`);
  }
  assert.deepEqual(await chat.server.store.recent("side0", 10), []);
  assert.equal((await chat.server.store.recent(`side${MEMORY_ROOMS + 4}`, 10)).length, 1);
});

// ---- flags (item 21)

Deno.test("a negative number after a flag gets the same one-line rule as --port=-1", async () => {
  for (const args of [["--port", "-1"], ["--port=-1"], ["--max-line", "-5"]]) {
    const result = await runCli(args);
    assert.equal(result.code, 2);
    const lines = result.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 2, result.stderr);
    assert.match(lines[0], /^teaparty: --(port|max-line) must be at least \d+, not -\d+$/);
    assert.equal(lines[1], "Try --help for the list of options.");
  }
});

Deno.test("--db with an empty name is refused instead of running in memory", async () => {
  const result = await runCli(["--db", ""]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^teaparty: --db needs a file name/);
  assert.equal(result.started, false);
});

// ---- a complete lockfile (item 22)

Deno.test("package-lock.json holds every platform package of the pinned deno, so npm ci works anywhere", async () => {
  const lock = JSON.parse(await Deno.readTextFile(new URL("package-lock.json", ROOT)));
  const deno = JSON.parse(await Deno.readTextFile(new URL("node_modules/deno/package.json", ROOT)));
  for (const name of Object.keys(deno.optionalDependencies ?? {})) {
    assert.ok(lock.packages[`node_modules/${name}`], `${name} is missing from package-lock.json`);
  }
  assert.ok(Object.keys(deno.optionalDependencies ?? {}).length >= 5);
});
