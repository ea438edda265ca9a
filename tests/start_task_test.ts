/**
 * The `start` task as the README gives it (`npm start`): its own permissions are enough to open the telnet
 * door, serve the web client and open the IRC door (6667), and package.json and deno.json agree on it.
 */
import assert from "node:assert/strict";
import { ServerProcess, TestClient } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);

/** The `deno run …` words of a task: its permissions (before `main.ts`) and its arguments (after). */
function startWords(command: string): { permissions: string[]; args: string[] } {
  const words = command.trim().split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"], `the start task runs deno: ${command}`);
  const main = words.indexOf("main.ts");
  assert.ok(main > 0, `the start task runs main.ts: ${command}`);
  return { permissions: words.slice(2, main), args: words.slice(main + 1) };
}

async function readJson(path: string): Promise<Record<string, Record<string, string>>> {
  return JSON.parse(await Deno.readTextFile(new URL(path, ROOT)));
}

Deno.test("package.json's start script and deno.json's start task run the same command", async () => {
  const npm = (await readJson("package.json")).scripts.start;
  const task = (await readJson("deno.json")).tasks.start;
  const inner = /^sh -c 'exec (.*) "\$@"' deno$/.exec(task);
  assert.ok(inner, `deno.json's start task uses the sh -c form: ${task}`);
  assert.equal(inner[1].replaceAll('\\"', '"'), npm);
});

Deno.test("the start task's permissions open telnet, the web client and IRC, and SIGINT stops it cleanly", async () => {
  const { permissions, args } = startWords((await readJson("package.json")).scripts.start);
  assert.ok(args.includes("--http-port"), "npm start opens the web client");
  assert.deepEqual(args.slice(args.indexOf("--irc-port"), args.indexOf("--irc-port") + 2), ["--irc-port", "6667"]);
  const db = `data/start-task-${Deno.pid}.db`;
  // The same words, with free ports and a database of this test's own (the last value of a flag wins).
  const proc = new ServerProcess(
    [...args, "--port", "0", "--http-port", "0", "--irc-port", "0", "--db", db],
    permissions,
  );
  try {
    await proc.listening();
    const http = await proc.waitForStdout(/^listening on http:\/\//);
    const base = http.replace("listening on ", "").replace("0.0.0.0", "127.0.0.1");
    for (const path of ["/", "/app.js", "/style.css"]) {
      const response = await fetch(new URL(path, base));
      assert.equal(response.status, 200, `GET ${path}`);
      assert.ok((await response.text()).length > 0, `GET ${path} has a body`);
    }
    const client = await proc.connect();
    await client.waitFor(/Log in with/);
    client.send("login starter");
    await client.waitFor("*** starter has entered the room.");
    client.close();
    const irc = Number(/:(\d+)$/.exec(await proc.waitForStdout(/^listening on irc:\/\//))![1]);
    const ircClient = await TestClient.connect(irc);
    ircClient.send("NICK ircstarter");
    ircClient.send("USER ircstarter 0 * :Starter");
    await ircClient.waitFor(/ 001 ircstarter /);
    ircClient.close();
    proc.kill("SIGINT");
    const status = await proc.exited();
    assert.equal(status.code, 0, "Ctrl-C (SIGINT) is a polite shutdown, not a crash");
  } finally {
    await proc[Symbol.asyncDispose]();
    for (const suffix of ["", "-wal", "-shm", ".lock"]) await Deno.remove(new URL(db + suffix, ROOT)).catch(() => {});
  }
});
