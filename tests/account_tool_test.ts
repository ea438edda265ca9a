/**
 * The account tool's command line (`npm run account -- COMMAND ...`), over
 * the real program: every mistake is one line in the tool's own words, then
 * the usage, exit code 2, and the database is not touched.
 */
import assert from "node:assert/strict";
import { accountTool, folderAccess } from "./helpers.ts";
import { tempDir } from "./db_helpers.ts";

/** Runs the tool on a database in `dir`; checks a usage error (code 2, `message` then the usage) and no output. */
async function refused(dir: string, args: string[], message: RegExp): Promise<void> {
  const what = `account ${args.join(" ")}`;
  const result = await accountTool(folderAccess(dir), args, "a-long-password\n");
  assert.equal(result.code, 2, `${what}: ${result.stderr}`);
  assert.equal(result.stdout, "", what);
  const lines = result.stderr.split("\n");
  assert.match(lines[0], message, what);
  assert.match(lines[1], /^Usage: npm run account -- <command>/, `${what}: the usage follows the reason`);
  assert.doesNotMatch(result.stderr, /Unknown option|To specify a positional|argument missing|ambiguous/, what);
}

Deno.test("the account tool names an unknown command as such, with the commands there are", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/chat.db`;
  await refused(dir.path, ["frob", "--db", db], /^account: unknown command "frob" \(add, passwd, remove, list\)$/);
  await refused(
    dir.path,
    ["frob", "alice", "--db", db],
    /^account: unknown command "frob" \(add, passwd, remove, list\)$/,
  );
  await refused(dir.path, ["--db", db], /^account: no command \(add, passwd, remove, list\)$/);
  await assert.rejects(Deno.stat(db), Deno.errors.NotFound, "no database was made for a refused command");
});

Deno.test("the account tool refuses a word too many or too few, list included", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/chat.db`;
  await refused(dir.path, ["list", "extra", "--db", db], /^account: "list" takes no nick$/);
  await refused(dir.path, ["add", "--db", db], /^account: "add" needs one nick$/);
  await refused(dir.path, ["remove", "alice", "bob", "--db", db], /^account: "remove" needs one nick, not 2$/);
  await assert.rejects(Deno.stat(db), Deno.errors.NotFound, "no database was made for a refused command");
  const listed = await accountTool(folderAccess(dir.path), ["list", "--db", db]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stderr, "account: no accounts yet\n");
});

Deno.test("a bad option is one line in the tool's words (as the server words its flags), then the usage", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/chat.db`;
  const cases: [string[], RegExp][] = [
    [["list", "--bogus", "--db", db], /^account: there is no option --bogus$/],
    [["list", "--bogus=1", "--db", db], /^account: there is no option --bogus$/],
    [["list", "-x", "--db", db], /^account: there is no option -x$/],
    [["list", "--db"], /^account: --db needs a value$/],
    [["list", "--db", "--redis", "redis://127.0.0.1:1/0"], /^account: --db needs a value, not the flag --redis$/],
    [["list", "--help=yes"], /^account: --help takes no value$/],
  ];
  for (const [args, message] of cases) await refused(dir.path, args, message);
  const help = await accountTool(folderAccess(dir.path), ["-h"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: npm run account -- <command>/);
});
