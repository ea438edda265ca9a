import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ServerProcess, TestClient } from "./helpers.ts";
import { startDbServer, tempDir } from "./db_helpers.ts";
import { SCHEMA_VERSION, Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

/** How long a process may take to start listening or to exit. */
const PROCESS_MS = 20_000;

/** The real server (`main.ts`) as a child process on a database file. */
function chatProcess(file: string, extra: string[] = []): ServerProcess {
  return new ServerProcess(
    ["--port", "0", "--host", "127.0.0.1", "--db", file, ...extra],
    ["--allow-net", "--allow-read", "--allow-write"],
  );
}

/** Waits for the process to exit (killing it after PROCESS_MS); says whether it had to be killed. */
async function exited(proc: ServerProcess): Promise<Deno.CommandStatus & { timedOut: boolean }> {
  try {
    return { ...await proc.exited(PROCESS_MS), timedOut: false };
  } catch {
    proc.kill("SIGKILL");
    return { ...await proc.exited(), timedOut: true };
  }
}

/** Connects a client, logs in as `nick` and waits for its entry line. */
async function login(port: number, args: string, nick = args): Promise<TestClient> {
  const client = await TestClient.connect(port);
  await client.waitFor(/Log in with/);
  client.send(`login ${args}`);
  await client.waitFor(`*** ${nick} has entered the room.`);
  return client;
}

/** Closes a client and waits for its reader to end. */
async function close(client: TestClient): Promise<void> {
  client.close();
  await client.done;
}

/**
 * Starts the real server on `file`, expects it to refuse to start, and
 * checks the exit code (1) and that stderr is one clear line.
 */
async function expectStartupError(file: string, message: RegExp): Promise<void> {
  await using proc = chatProcess(file);
  const status = await exited(proc);
  assert.equal(status.timedOut, false, `the server kept running; stdout:\n${proc.stdout.join("\n")}`);
  assert.equal(status.code, 1, `exit code ${status.code}; stderr:\n${proc.stderr.join("\n")}`);
  assert.ok(!proc.stdout.some((l) => /listening on/.test(l)), "the server started listening");
  const errors = proc.stderr.filter((l) => l.trim() !== "");
  assert.equal(errors.length, 1, `stderr is not one line:\n${proc.stderr.join("\n")}`);
  assert.match(errors[0], /^teaparty: /);
  assert.match(errors[0], message);
  assert.doesNotMatch(errors[0], /Uncaught|\bat file:|\.ts:\d+/);
}

// ---- a line users saw is never lost

Deno.test("a line the room saw is in the history after the server is killed with SIGKILL and restarted", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  {
    await using proc = chatProcess(file);
    const port = (await proc.listening(PROCESS_MS)).port;
    const alice = await login(port, "alice");
    try {
      for (let i = 1; i <= 8; i++) alice.send(`durable line ${i}`);
      await alice.waitFor("alice: durable line 8");
    } finally {
      proc.child.kill("SIGKILL");
      const status = await proc.status;
      assert.equal(status.signal, "SIGKILL");
      await close(alice);
    }
  }
  await using proc = chatProcess(file);
  const bob = await login((await proc.listening(PROCESS_MS)).port, "bob");
  try {
    const history: string[] = [];
    for (let i = 1; i <= 8; i++) {
      history.push(await bob.waitFor(/^\[history /));
    }
    for (let i = 1; i <= 8; i++) {
      assert.match(history[i - 1], new RegExp(`^\\[history [^\\]]+\\] alice: durable line ${i}$`));
    }
  } finally {
    await close(bob);
  }
});

Deno.test("a registration, a topic and mail survive SIGKILL too", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const seed = Store.open(file); // the operator's account exists before the server starts
  seed.saveAccount("alice", "alice", await hashPassword("secret123"));
  seed.close();
  {
    await using proc = chatProcess(file, ["--op", "alice"]);
    const port = (await proc.listening(PROCESS_MS)).port;
    const alice = await login(port, "alice secret123", "alice");
    const bob = await login(port, "bob");
    try {
      await alice.waitFor("*** You are an operator here.");
      alice.send("/topic Survives kill -9");
      await alice.waitFor("*** alice set the topic of main: Survives kill -9");
      bob.send("/register bobpass99");
      await bob.waitFor(/^\*\*\* bob is now registered/);
      alice.send("logout");
      await alice.closed();
      bob.send("/msg alice stored before the kill");
      await bob.waitFor(/^\*\*\* alice is offline/);
    } finally {
      proc.child.kill("SIGKILL");
      await proc.status;
      await close(alice);
      await close(bob);
    }
  }
  await using proc = chatProcess(file, ["--op", "alice"]);
  const alice = await TestClient.connect((await proc.listening(PROCESS_MS)).port);
  try {
    alice.send("login alice secret123");
    await alice.waitFor("*** Topic of main: Survives kill -9 (set by alice)");
    await alice.waitFor("*** You are an operator here.");
    await alice.waitFor(/^\[mail [^\]]+\] bob: stored before the kill$/);
  } finally {
    await close(alice);
  }
});

// ---- bad database files at start-up

Deno.test("the real server refuses a corrupt database file: exit code 1 and one clear line on stderr", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await Deno.writeTextFile(file, "this is not a database\n".repeat(500));
  await expectStartupError(file, /not an SQLite database/);
  assert.equal(await Deno.readTextFile(file), "this is not a database\n".repeat(500), "the file was changed");
});

Deno.test("the real server refuses a damaged teaparty database: exit code 1 and one clear line on stderr", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const store = Store.open(file);
  store.addMessages([{ room: "main", at: 1, kind: "chat", nick: "alice", text: "x" }]);
  store.close();
  const bytes = await Deno.readFile(file);
  bytes.fill(0xa5, 100, bytes.length); // keep the header, wreck every page
  await Deno.writeFile(file, bytes);
  await expectStartupError(file, /chat\.db.*corrupt/);
});

Deno.test("the real server refuses another program's SQLite database: exit code 1 and one clear line on stderr", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/other.db`;
  const db = new DatabaseSync(file);
  db.exec("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)");
  db.close();
  await expectStartupError(file, /another program.*recipes/);
});

Deno.test("the real server refuses a database from a newer teaparty: exit code 1 and one clear line on stderr", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  Store.open(file).close();
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  await expectStartupError(file, /newer teaparty/);
});

Deno.test("the real server refuses a read-only database file: exit code 1 and one clear line on stderr", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  Store.open(file).close();
  await Deno.chmod(file, 0o444);
  try {
    await expectStartupError(file, /read-only/);
  } finally {
    await Deno.chmod(file, 0o644);
  }
});

Deno.test("the real server creates the folder of a new --db file", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/data/deeper/chat.db`;
  await using proc = chatProcess(file);
  (await proc.listening(PROCESS_MS)).port;
  assert.ok((await Deno.stat(file)).isFile);
});

// ---- a full disk at run time

Deno.test("when the database is full, a chat line is not delivered, its sender is told, it is logged, and the server keeps running", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await using chat = await startDbServer({ database: Store.open(file, { maxPageCount: 1 }), rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  await alice.waitFor("*** bob has entered the room.");
  const FAILED =
    /^\*\*\* Your message could not be stored \(the disk is full\), so it was not delivered; please try again later\.$/;
  let failed = "";
  for (let i = 1; i <= 100 && failed === ""; i++) {
    const line = `line ${i} ${"x".repeat(400)}`;
    alice.send(line);
    const answer = await alice.waitFor((l) => l === `alice: ${line}` || FAILED.test(l));
    if (FAILED.test(answer)) failed = line;
    else await bob.waitFor(`alice: ${line}`);
  }
  assert.ok(failed !== "", "the database never filled up");
  alice.send("/msg bob marker");
  const seen = await bob.until("[private] alice: marker");
  assert.ok(!seen.includes(`alice: ${failed}`), "bob saw a line that was not stored");
  assert.ok(
    chat.logs.some((l) => /ERROR history write failed .*error="the disk is full"/.test(l)),
    `no error line in the log:\n${chat.logs.join("\n")}`,
  );
  assert.ok(
    !(await chat.server.store.recent("main", 1000)).some((m) => m.text === failed),
    "the failed line is stored",
  );
  // the server keeps running
  alice.send("/look");
  await alice.waitFor("*** In main (2): alice, bob");
  const carol = await chat.login("carol");
  carol.send("/who");
  await carol.waitFor("*** 3 logged in:");
  bob.send("/history 1");
  await bob.waitFor(/^\[history [^\]]+\] alice: line \d+ x+$/);
});

Deno.test("when the database is full, a private message to an offline user is refused with a notice, not promised", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  {
    const store = Store.open(file);
    store.saveAccount("alice", "alice", await hashPassword("secret123"));
    store.close();
  }
  await using chat = await startDbServer({ database: Store.open(file, { maxPageCount: 1 }) });
  const bob = await chat.login("bob");
  const SORRY = /^\*\*\* Sorry, msg failed on the server \(the disk is full\); it has been logged\.$/;
  let promised = 0;
  let refused = false;
  for (let i = 1; i <= 50 && !refused; i++) {
    bob.send(`/msg alice letter ${i} ${"x".repeat(2000)}`);
    const answer = await bob.waitFor((l) => SORRY.test(l) || /^\*\*\* alice is offline/.test(l));
    if (SORRY.test(answer)) refused = true;
    else promised++;
  }
  assert.ok(refused, "the database never filled up");
  assert.ok(chat.logs.some((l) => /ERROR command failed command=msg .*the disk is full/.test(l)));
  // every promised letter is there, the refused one is not
  const mail = await chat.server.store.takeMail("alice");
  assert.deepEqual(
    mail.map((m) => m.text.split(" ").slice(0, 2).join(" ")),
    Array.from({ length: promised }, (_, i) => `letter ${i + 1}`),
  );
  bob.send("/look");
  await bob.waitFor("*** In main (1): bob");
});
