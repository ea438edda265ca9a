/**
 * Two holes a review found, over real sockets and the real process:
 * an ignore kept on a registered nick is kept on that one account (removed
 * with the account tool, it passes neither to a guest who takes the nick
 * nor to an account made again with it), and `--allow-origin` compares
 * origins as origins (a trailing slash, upper case or a default port
 * written out name the same one), refusing at start-up a value that is not
 * an http(s) origin.
 * @module
 */
import assert from "node:assert/strict";
import {
  accountTool,
  doorPort,
  folderAccess,
  runCli,
  startServer,
  type TestClient,
  type TestServer,
} from "./helpers.ts";
import { loginWithPassword, logout, register, startDbServer, tempDir } from "./db_helpers.ts";
import { RawWebSocket } from "./ws_client.ts";
import { Ignores, User } from "../user.ts";
import { parseOptions } from "../config.ts";
import { amyGetsPrivate, amySees } from "./ignore_helpers.ts";

/** A server on a database file in `dir`, which the account tool changes while it runs; amy and carol are in. */
async function serverOnFile(dir: string): Promise<{ chat: TestServer; amy: TestClient; carol: TestClient }> {
  const chat = await startDbServer({ db: `${dir}/chat.db`, rate: 0 });
  return { chat, amy: await chat.login("amy"), carol: await chat.login("carol") };
}

/** Runs the account tool on the server's database, as an operator would; fails the test if it fails. */
async function tool(dir: string, args: string[], input = ""): Promise<void> {
  const run = await accountTool(folderAccess(dir), [...args, "--db", `${dir}/chat.db`], input);
  assert.equal(run.code, 0, `account ${args.join(" ")}: ${run.stderr}`);
}

Deno.test("an ignore on a registered nick ends when the account tool removes the account: a guest who takes the nick is seen", async () => {
  await using dir = await tempDir();
  const { chat, amy, carol } = await serverOnFile(dir.path);
  await using _ = chat;
  const ivan = await register(chat, "ivan", "ivan-password");
  amy.send("/ignore ivan");
  assert.match(await amy.waitFor(/^\*\*\* You now ignore /), /it stays on the registered nick ivan/);
  await logout(ivan);
  await tool(dir.path, ["remove", "ivan"]);
  const stranger = await chat.login("ivan");
  assert.equal(await amySees(amy, stranger, "ivan", carol, "I am not the ivan you ignored"), true);
  assert.equal(await amyGetsPrivate(amy, stranger, "ivan", carol, "hello from a stranger"), true);
  amy.send("/ignore");
  assert.equal(await amy.waitFor(/^\*\*\* You ignore/), "*** You ignore nobody.");
});

Deno.test("an ignore on a registered nick does not pass to an account made again with that nick by someone else", async () => {
  await using dir = await tempDir();
  const { chat, amy, carol } = await serverOnFile(dir.path);
  await using _ = chat;
  const ivan = await register(chat, "ivan", "ivan-password");
  amy.send("/ignore ivan");
  await amy.waitFor(/^\*\*\* You now ignore /);
  await logout(ivan);
  await tool(dir.path, ["remove", "ivan"]);
  await tool(dir.path, ["add", "ivan"], "another-password\n");
  const other = await loginWithPassword(chat, "ivan", "another-password");
  assert.equal(await amySees(amy, other, "ivan", carol, "a new account, a new person"), true);
  assert.equal(await amyGetsPrivate(amy, other, "ivan", carol, "psst from the new ivan"), true);
  other.send("/nick ivan2"); // nor does it come back when the new ivan changes nick or leaves
  await amy.waitFor("*** ivan is now known as ivan2.");
  assert.equal(await amySees(amy, other, "ivan2", carol, "as ivan2"), true);
});

Deno.test("an ignore on a registered nick still holds for the same account, through the account tool's other changes", async () => {
  await using dir = await tempDir();
  const { chat, amy, carol } = await serverOnFile(dir.path);
  await using _ = chat;
  const ivan = await register(chat, "ivan", "ivan-password");
  amy.send("/ignore ivan");
  await amy.waitFor(/^\*\*\* You now ignore /);
  await logout(ivan);
  await tool(dir.path, ["passwd", "ivan"], "a-new-password\n"); // the same account, a new password
  const again = await loginWithPassword(chat, "ivan", "a-new-password");
  assert.equal(await amySees(amy, again, "ivan", carol, "still the ignored ivan"), false);
  assert.equal(await amyGetsPrivate(amy, again, "ivan", carol, "still ignored"), false);
});

Deno.test("an ignore on a user whose account is removed while they are online ends when they leave, as for a guest", async () => {
  await using dir = await tempDir();
  const { chat, amy, carol } = await serverOnFile(dir.path);
  await using _ = chat;
  const ivan = await register(chat, "ivan", "ivan-password");
  amy.send("/ignore ivan");
  await amy.waitFor(/^\*\*\* You now ignore /);
  await tool(dir.path, ["remove", "ivan"]);
  assert.equal(await amySees(amy, ivan, "ivan", carol, "still here, still ignored"), false);
  await logout(ivan);
  const stranger = await chat.login("ivan");
  assert.equal(await amySees(amy, stranger, "ivan", carol, "someone else"), true);
});

const user = (nick: string, registered = false) => {
  const u = new User(nick, nick, { receive() {} });
  u.registered = registered;
  return u;
};

Deno.test("Ignores with account times: a kept ignore matches only the account it was made on, and the index keeps nothing stale", () => {
  const accounts = new Map([["ivan", 1000]]);
  const ignores = new Ignores((key) => accounts.get(key));
  const amy = user("amy");
  ignores.add(amy, user("dan")); // a guest here, never checked against accounts
  const ivan = user("ivan", true);
  ignores.add(amy, ivan);
  ignores.gone(ivan);
  assert.equal(amy.ignores?.has("ivan"), true, "kept on the account made at 1000");
  accounts.set("ivan", 2000); // removed and made again
  assert.equal(amy.ignores?.has("ivan"), false);
  assert.deepEqual([...amy.ignores!], ["dan"]);
  const newIvan = user("ivan", true);
  assert.equal(ignores.ignorers(newIvan).size, 0);
  ignores.gone(newIvan);
  assert.deepEqual([...amy.ignores!], ["dan"]);
  assert.equal(ignores.size, 1);
});

Deno.test("Ignores with account times: a kept ignore whose account is gone does not follow the next holder of the nick to a new nick", () => {
  const accounts = new Map([["ivan", 1000]]);
  const ignores = new Ignores((key) => accounts.get(key));
  const amy = user("amy");
  const ivan = user("ivan", true);
  ignores.add(amy, ivan);
  ignores.gone(ivan);
  accounts.set("ivan", 2000);
  const next = user("ivan", true); // the new account's owner, before saying anything
  next.key = "ivan2";
  next.registered = false;
  ignores.renamed(next, "ivan");
  assert.equal(amy.ignores, undefined);
  assert.equal(ignores.size, 0);
});

Deno.test("--allow-origin names an origin however it is spelled: a trailing slash, upper case, a default port written out", async () => {
  await using chat = await startServer({
    httpPort: 0,
    allowOrigin: ["http://chat.lan:8080/", "HTTP://Friend.LAN:80/"],
  });
  const port = doorPort(chat, "http");
  // On a loopback address the Host header is checked too (DNS rebinding): chat.lan is a name the server was told.
  const own = await RawWebSocket.connect(port, {
    origin: `http://chat.lan:${port}`,
    headers: { Host: `chat.lan:${port}` },
  });
  await own.waitForEvent((e) => e.type === "welcome");
  own.close();
  await own.done;
  const friend = await RawWebSocket.connect(port, {
    origin: "http://friend.lan",
    headers: { Host: `chat.lan:${port}` },
  });
  await friend.waitForEvent((e) => e.type === "welcome");
  friend.close();
  await friend.done;
  for (const [origin, host] of [["http://friend.lan:8081", `chat.lan:${port}`], ["http://x.lan", `x.lan:${port}`]]) {
    const refused = await RawWebSocket.request(port, { origin, headers: { Host: host } });
    refused.conn.close();
    assert.match(refused.head, /^HTTP\/1\.1 403 /, `${origin} with Host ${host}`);
  }
});

Deno.test("--allow-origin that is not an http(s) origin is refused at start-up with the reason in one line", async () => {
  const cases: [string, RegExp][] = [
    ["http://chat.lan/chat", /it has a path \(\/chat\)/],
    ["http://chat.lan/?room=main", /it has a query/],
    ["http://user:secret@chat.lan", /it has a user name or password/],
    ["chat.lan:8080", /does not start with http:\/\/ or https:\/\//],
    ["ftp://chat.lan", /does not start with http:\/\/ or https:\/\//],
    ["http://", /it is not a URL/],
  ];
  const results = await Promise.all(
    cases.map(([origin]) => runCli(["--host", "127.0.0.1", "--port", "0", "--allow-origin", origin])),
  );
  for (const [i, [origin, reason]] of cases.entries()) {
    const { code, stdout, stderr, started } = results[i];
    const what = `--allow-origin ${origin}: exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`;
    assert.equal(started, false, what);
    assert.equal(code, 2, what); // as for every bad flag value
    const first = stderr.split("\n")[0];
    assert.ok(first.startsWith(`teaparty: --allow-origin "${origin}": `), what);
    assert.match(first, reason, what);
  }
  for (const good of ["*", "http://chat.lan:8080/", "HTTPS://Chat.Example.org:443", "http://[::1]:8080"]) {
    assert.deepEqual(parseOptions(["--allow-origin", good]).options.allowOrigin, [good]);
  }
});
