/**
 * The edges of the store hardening: a file cut inside its last page, history
 * in memory kept for rooms people are in, log lines held within their bound,
 * operators without a database, the account tool on a fresh machine and in a
 * terminal, and bad flags in the project's own words.
 */
import assert from "node:assert/strict";
import { accountTool, folderAccess, runCli, ServerProcess, startServer } from "./helpers.ts";
import { tempDir } from "./db_helpers.ts";
import { hasTmux, shellQuote, TmuxPane } from "./tmux.ts";
import { MEMORY_ROOMS, Store } from "../store.ts";
import { LogBuffer } from "../log.ts";

/** The real server on a database file, with read/write permissions for its folder. */
function serverOn(file: string, extra: string[] = []): ServerProcess {
  const dir = file.slice(0, file.lastIndexOf("/"));
  return new ServerProcess(
    ["--port", "0", "--host", "127.0.0.1", "--db", file, ...extra],
    ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`],
  );
}

/** Runs the server; it must exit with `code` and one line on stderr matching `message`. Returns that line. */
async function refusesToStart(proc: ServerProcess, message: RegExp, code = 1): Promise<string> {
  try {
    const status = await proc.exited(20_000);
    assert.equal(status.code, code, proc.stderr.join("\n"));
    assert.ok(!proc.stdout.some((l) => l.startsWith("listening on")), "it started listening");
    const lines = proc.stderr.filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, `not one line:\n${proc.stderr.join("\n")}`);
    assert.match(lines[0], message);
    return lines[0];
  } finally {
    await proc[Symbol.asyncDispose]();
  }
}

/** A teaparty database file with some history and an account. */
function makeDatabase(file: string): void {
  const store = Store.open(file);
  const text = "a line of history that takes some room ".repeat(4);
  for (let i = 0; i < 2000; i += 100) {
    store.addMessages(
      Array.from({ length: 100 }, (_, j) => ({ room: "main", at: i + j, kind: "chat" as const, nick: "a", text })),
    );
  }
  store.saveAccount("alice", "alice", "scrypt$1$1$1$x$y");
  store.close();
}

// ---- damaged files (item 5)

Deno.test("a database cut short inside its last page is refused: its length is not a whole number of pages", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  makeDatabase(file);
  const whole = await Deno.readFile(file);
  for (const cut of [1, 1000]) {
    await Deno.writeFile(file, whole.subarray(0, whole.length - cut));
    const line = await refusesToStart(serverOn(file), /^teaparty: database .*chat\.db is damaged/);
    assert.match(line, new RegExp(`length \\(${whole.length - cut} bytes\\) is not a whole number of 4096-byte pages`));
  }
});

Deno.test("a database whose header counts more pages than the file holds is refused", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  makeDatabase(file);
  const whole = await Deno.readFile(file);
  const pages = new DataView(whole.buffer).getUint32(28);
  // Cut two whole pages off the end: the header still says how many there were.
  await Deno.writeFile(file, whole.subarray(0, whole.length - 2 * 4096));
  const line = await refusesToStart(serverOn(file), /^teaparty: database .*chat\.db is damaged/);
  assert.match(line, new RegExp(`its header counts ${pages} pages, the file holds ${pages - 2}`));
});

// ---- history in memory (item 14)

Deno.test("in memory, the history of rooms someone is in is kept however many other rooms are used and left", async () => {
  await using chat = await startServer({ rate: 0 });
  const bob = await chat.login("bob");
  bob.send("tea in the main room");
  await bob.waitFor("bob: tea in the main room");
  const carol = await chat.login("carol");
  carol.send("/join garden");
  await carol.waitFor("*** You are now in garden, alone.");
  carol.send("roses in the garden");
  await carol.waitFor("carol: roses in the garden");
  const alice = await chat.login("alice");
  for (let i = 0; i < MEMORY_ROOMS + 5; i++) {
    alice.send(`/join side${i}`);
    await alice.waitFor(`*** You are now in side${i}, alone.`);
    alice.send(`line in side${i}`);
    await alice.waitFor(`alice: line in side${i}`);
  }
  alice.send("/leave");
  await alice.waitFor(/^\*\*\* You are now in main, /);
  const dave = await chat.login("dave");
  await dave.waitFor(/^\[history [^\]]+\] bob: tea in the main room$/);
  dave.send("/join garden");
  await dave.waitFor(/^\[history [^\]]+\] carol: roses in the garden$/);
  // The abandoned rooms beyond the newest MEMORY_ROOMS are forgotten.
  assert.deepEqual(await chat.server.store.recent("side0", 10), []);
  assert.equal((await chat.server.store.recent(`side${MEMORY_ROOMS + 4}`, 10)).length, 1);
});

Deno.test(`in memory, an emptied room's history goes once ${MEMORY_ROOMS} rooms emptied after it, unless someone is back`, () => {
  const store = Store.open("");
  try {
    const line = (room: string) => store.addMessages([{ room, at: 1, kind: "chat", nick: "a", text: "x" }]);
    line("back");
    store.roomEmptied("back", () => true); // someone came back before it would be forgotten
    line("late");
    store.roomEmptied("late", () => false);
    line("late"); // a line stored after its room emptied (the journal was still busy)
    for (let i = 0; i < MEMORY_ROOMS; i++) {
      line(`room${i}`);
      store.roomEmptied(`room${i}`, () => false);
    }
    assert.equal(store.recent("back", 10).length, 1, "an occupied room's history was forgotten");
    assert.deepEqual(store.recent("late", 10), [], "a line stored late kept an abandoned room's history");
    assert.equal(store.recent("room0", 10).length, 1);
    line("busy"); // a room that never emptied
    for (let i = MEMORY_ROOMS; i < 3 * MEMORY_ROOMS; i++) store.roomEmptied(`room${i}`, () => false);
    assert.equal(store.recent("busy", 10).length, 1);
    assert.deepEqual(store.recent("room0", 10), []);
  } finally {
    store.close();
  }
});

Deno.test("a database file keeps the history of emptied rooms", async () => {
  await using dir = await tempDir();
  const store = Store.open(`${dir.path}/chat.db`);
  try {
    for (let i = 0; i <= MEMORY_ROOMS; i++) {
      store.addMessages([{ room: `room${i}`, at: 1, kind: "chat", nick: "a", text: "x" }]);
      store.roomEmptied(`room${i}`, () => false);
    }
    assert.equal(store.recent("room0", 10).length, 1);
  } finally {
    store.close();
  }
});

// ---- logging (item 13)

/** A sink whose writes stay pending until `release` is called. */
function stuckSink() {
  const written: Uint8Array[] = [];
  let open = Promise.withResolvers<void>();
  return {
    written,
    text: () => new TextDecoder().decode(new Uint8Array(written.flatMap((c) => [...c]))),
    release() {
      open.resolve();
    },
    stick() {
      open = Promise.withResolvers<void>();
    },
    async write(bytes: Uint8Array): Promise<number> {
      await open.promise;
      const n = Math.min(bytes.length, 4096);
      written.push(bytes.slice(0, n));
      return n;
    },
  };
}

Deno.test("log lines for a stuck stderr are held within the bound, then the drop count follows them", async () => {
  const sink = stuckSink();
  const buffer = new LogBuffer(sink, 10_000);
  for (let i = 0; i < 1000; i++) buffer.write(`line ${i} ${"x".repeat(90)}`);
  assert.ok(buffer.held <= 10_000, `${buffer.held} bytes held`);
  assert.ok(buffer.dropped > 850, `${buffer.dropped} dropped`);
  const dropped = buffer.dropped;
  sink.release();
  await buffer.flush();
  const lines = sink.text().split("\n").filter((l) => l !== "");
  assert.equal(lines[0], `line 0 ${"x".repeat(90)}`);
  assert.match(
    lines.at(-1)!,
    new RegExp(`^\\S+ WARN log lines dropped count=${dropped} reason="stderr was not read"$`),
  );
  assert.equal(lines.length, 1000 - dropped + 1);
  assert.equal(buffer.held, 0);
  // Once it drains, lines are written again and nothing more is dropped.
  buffer.write("after");
  await buffer.flush();
  assert.ok(sink.text().endsWith("\nafter\n"));
  assert.equal(buffer.dropped, 0);
});

Deno.test("a log sink that fails loses its lines but never throws", async () => {
  const buffer = new LogBuffer({ write: () => Promise.reject(new Error("EPIPE")) }, 10_000);
  buffer.write("one");
  await buffer.flush();
  buffer.write("two");
  await buffer.flush();
  assert.equal(buffer.held, 0);
});

// ---- operators (item 8)

Deno.test("--op without --db is refused: the in-memory database has no accounts", async () => {
  await refusesToStart(
    new ServerProcess(["--port", "0", "--host", "127.0.0.1", "--op", "root"]),
    /^teaparty: --op root: without --db there are no accounts .*--db FILE.*npm run account -- add root --db FILE$/,
  );
});

Deno.test("--op with an account missing from another database file names that file in the command to run", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  await refusesToStart(
    serverOn(file, ["--op", "root"]),
    new RegExp(`deno run --allow-read=${dir.path} --allow-write=${dir.path} account\\.ts add root --db ${file}$`),
  );
});

Deno.test("the account tool works before the first start: it creates the database's folder", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/data/teaparty.db`;
  const added = await accountTool(folderAccess(dir.path), ["add", "root", "--db", file], "rootpass99\n");
  assert.equal(added.code, 0, added.stderr);
  await using proc = serverOn(file, ["--op", "root"]);
  await proc.listening();
  const root = await proc.connect();
  try {
    root.send("login root rootpass99");
    await root.waitFor("*** You are an operator here.");
  } finally {
    root.close();
    await root.done;
  }
});

Deno.test("the account tool refuses a password that could never be typed at login: spaces, control characters", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  for (const password of ["  padded99  ", "has spaces 1", "tab\there1", "bell\x07bell"]) {
    const result = await accountTool(folderAccess(dir.path), ["add", "padded", "--db", file], `${password}\n`);
    assert.equal(result.code, 1, `${JSON.stringify(password)}: ${result.stderr}`);
    assert.match(result.stderr, /the password is not acceptable: a password may not contain (spaces|control)/);
  }
  const ok = await accountTool(folderAccess(dir.path), ["add", "padded", "--db", file], "padded99\n");
  assert.equal(ok.code, 0, ok.stderr);
});

Deno.test("the account tool refuses --db '' instead of changing an in-memory database", async () => {
  await using dir = await tempDir();
  const result = await accountTool(folderAccess(dir.path), ["add", "root", "--db", ""], "rootpass99\n");
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^account: --db needs a file name$/m);
  assert.doesNotMatch(result.stdout, /created/);
});

Deno.test("the account tool in a terminal asks twice without echo and refuses two different passwords", async (t) => {
  if (!await hasTmux()) {
    console.warn("tmux is not installed; skipped");
    return;
  }
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const tool = (args: string[]) =>
    shellQuote([
      Deno.execPath(),
      "run",
      `--allow-read=${dir.path}`,
      `--allow-write=${dir.path}`,
      "account.ts",
      ...args,
    ]) +
    "; echo exit=$?";
  await t.step("two different passwords change nothing", async () => {
    await using pane = await TmuxPane.start(tool(["add", "root", "--db", file]));
    await pane.waitForRow("Password:");
    await pane.type("first-secret");
    await pane.keys("Enter");
    await pane.waitForRow("Again:");
    await pane.type("other-secret");
    await pane.keys("Enter");
    const rows = await pane.waitForRow("exit=1");
    assert.ok(rows.some((r) => /the two passwords differ; nothing was changed/.test(r)), rows.join("\n"));
    assert.ok(!rows.some((r) => /secret/.test(r)), `a password was echoed:\n${rows.join("\n")}`);
  });
  await t.step("the same password twice makes the account", async () => {
    await using pane = await TmuxPane.start(tool(["add", "root", "--db", file]));
    await pane.waitForRow("Password:");
    await pane.type("good-secret");
    await pane.keys("Enter");
    await pane.waitForRow("Again:");
    await pane.type("good-secret");
    await pane.keys("Enter");
    const rows = await pane.waitForRow("exit=0");
    assert.ok(rows.some((r) => /^account root created/.test(r)), rows.join("\n"));
    assert.ok(!rows.some((r) => /secret/.test(r)), `a password was echoed:\n${rows.join("\n")}`);
  });
  await using proc = serverOn(file, ["--op", "root"]);
  await proc.listening();
  const root = await proc.connect();
  try {
    root.send("login root good-secret");
    await root.waitFor("*** You are an operator here.");
  } finally {
    root.close();
    await root.done;
  }
});

// ---- flags (item 21)

Deno.test("every bad flag is one line in the project's words, then the --help hint, exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--port"], /^teaparty: --port needs a value$/],
    [["--db", "--port", "5"], /^teaparty: --db needs a value, not the flag --port$/],
    [["--colour"], /^teaparty: there is no option --colour$/],
    [["-x"], /^teaparty: there is no option -x$/],
    [["5005"], /^teaparty: unexpected argument "5005"; options are flags with their values \(--port 5005\)$/],
    [["--help=yes"], /^teaparty: --help takes no value$/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    const lines = result.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 2, result.stderr);
    assert.match(lines[0], message);
    assert.equal(lines[1], "Try --help for the list of options.");
  }
});
