/**
 * A database outside what Deno may read and write (the npm tasks allow only
 * `data/`): the server says which file it could not open and what to grant,
 * and the account command it suggests for `--op` works with that database.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Runs deno with `args` in the project root; gives the exit code and stderr. */
async function run(args: string[], stdin?: string): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stderr } = await child.output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

const TASK_PERMISSIONS = ["--allow-net", "--allow-read=data,web", "--allow-write=data"];

Deno.test("a database outside data/ under the start task's permissions is refused in one line naming the file and the permissions to grant", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = `${dir}/chat.db`;
    const { code, stderr } = await run(["run", ...TASK_PERMISSIONS, "main.ts", "--port", "0", "--db", db]);
    assert.equal(code, 1, stderr);
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.equal(
      lines[0],
      `teaparty: cannot open database ${db}: Deno may not write ${dir}: run it with --allow-read and --allow-write ` +
        "for that folder (the npm tasks allow only data/)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--op with a database outside data/ suggests an account command with that folder's permissions, and the command works", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = `${dir}/chat.db`;
    const permissions = ["--allow-net", `--allow-read=web,${dir}`, `--allow-write=${dir}`];
    const first = await run(["run", ...permissions, "main.ts", "--port", "0", "--db", db, "--op", "zed"]);
    assert.equal(first.code, 1, first.stderr);
    const suggested = /create it first: node_modules\/\.bin\/deno (run .*)$/m.exec(first.stderr);
    assert.ok(suggested, first.stderr);
    assert.equal(
      suggested[1],
      `run --allow-read=${dir} --allow-write=${dir} account.ts add zed --db ${db}`,
    );
    const made = await run(suggested[1].split(" "), "zedpassword1\n");
    assert.equal(made.code, 0, made.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
