/**
 * Moderation and accounts where an audit found holes, over real sockets:
 * operator rights stay with the account that existed at the start, an
 * account removed while its user is online takes the rights with it,
 * accounts made by the account tool while the server runs are guarded
 * against look-alikes, a nick ban sends away online look-alikes too, a
 * banned address is told over WebSocket in the protocol, and an IRC user
 * still in other channels is kicked from where it is.
 */
import assert from "node:assert/strict";
import { doorPort, startServer, type TestServer } from "./helpers.ts";
import { loginWithPassword, startOpServer, tempDir } from "./db_helpers.ts";
import { ircJoin, ircLogin } from "./irc_helpers.ts";
import { RawWebSocket } from "./ws_client.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";
import { Moderation } from "../moderation.ts";

/** A server whose database file another connection (as the account tool) can change while it runs. */
async function opServerOnFile(dir: string, extra = {}): Promise<{ chat: TestServer; tool: Store & Disposable }> {
  const db = `${dir}/chat.db`;
  const chat = await startOpServer({ db, op: ["root"], rate: 0, ...extra }, { root: "rootpass1" });
  const tool = Store.open(db);
  return { chat, tool: Object.assign(tool, { [Symbol.dispose]: () => tool.close() }) };
}

Deno.test("an --op account removed and made again by someone else gives no operator rights", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await opServerOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  await chat.login("bob");
  tool.removeAccount("root"); // the account tool, while the server runs
  const thief = await chat.login("root"); // a guest now
  thief.send("/register hijack123");
  await thief.waitFor(/^\*\*\* root is now registered\./);
  thief.send("logout");
  await thief.closed();
  const again = await loginWithPassword(chat, "root", "hijack123");
  again.send("/mute bob 1m");
  assert.equal(await again.waitFor(/^\*\*\* Only operators/), "*** Only operators may use /mute.");
  assert.ok(!again.lines.includes("*** You are an operator here."));
});

Deno.test("an operator whose account is removed while online loses the rights at once, and may register again", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await opServerOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  await chat.login("bob");
  const root = await loginWithPassword(chat, "root", "rootpass1");
  await root.waitFor("*** You are an operator here.");
  tool.removeAccount("root");
  root.send("/mute bob 1m");
  assert.equal(await root.waitFor(/^\*\*\* Only operators/), "*** Only operators may use /mute.");
  root.send("/register newpass12");
  await root.waitFor(/^\*\*\* root is now registered\./);
});

Deno.test("a user whose account the account tool removes is no longer registered at its next command", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await opServerOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  tool.saveAccount("quinn", "quinn", await hashPassword("quinnpass1"));
  const quinn = await loginWithPassword(chat, "quinn", "quinnpass1");
  quinn.send("/whois quinn");
  assert.match(await quinn.waitFor(/^\*\*\* quinn: /), /, registered/);
  tool.removeAccount("quinn");
  quinn.send("/whois quinn");
  assert.match(await quinn.waitFor(/^\*\*\* quinn: .*not registered/), /not registered/);
  assert.equal(chat.server.find("quinn")?.registered, false);
});

Deno.test("an account made by the account tool while the server runs is guarded against look-alikes", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await opServerOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  await chat.login("warmup"); // the server has looked at its accounts before the tool adds one
  tool.saveAccount("quinn", "quinn", await hashPassword("quinnpass1"));
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("login qu\u00ednn");
  assert.equal(
    await guest.waitFor(/^\*\*\* /),
    `*** Cannot log in as "qu\u00ednn": it looks like quinn, a registered or logged-in nick.`,
  );
});

Deno.test("a nick ban sends away the look-alikes online, not the operator", async () => {
  const { chat } =
    await (async () => ({ chat: await startOpServer({ op: ["root"], rate: 0 }, { root: "rootpass1" }) }))();
  await using _ = chat;
  const root = await loginWithPassword(chat, "root", "rootpass1");
  const lookalike = await chat.login("b0bby");
  const other = await chat.login("carol");
  root.send("/ban bobby 1h");
  await other.waitFor("*** b0bby has left the room.");
  await lookalike.closed();
  assert.ok(!other.ended);
});

Deno.test("a nick ban spares an account made before it that looks like the nick: it stays online and logs in again", async () => {
  const chat = await startOpServer({ op: ["root"], rate: 0 }, { root: "rootpass1", b0bby: "b0bbypass" });
  await using _ = chat;
  const root = await loginWithPassword(chat, "root", "rootpass1");
  const account = await loginWithPassword(chat, "b0bby", "b0bbypass");
  root.send("/ban bobby 1h");
  await account.waitFor(/bobby is banned/);
  account.send("still here");
  await root.waitFor("b0bby: still here");
  assert.ok(!account.ended);
  account.send("/quit");
  await account.closed();
  await loginWithPassword(chat, "b0bby", "b0bbypass");
});

Deno.test("a look-alike ban does not hold an account made before it, and holds one made after it", () => {
  const store = Store.open("");
  const moderation = new Moderation(store);
  moderation.ban({ kind: "nick", value: "bob", until: null, reason: "", by: "root", at: 5_000 });
  assert.equal(moderation.banned("nick", "b0b", 6_000, 4_999), undefined, "made before the ban");
  assert.equal(moderation.banned("nick", "b0b", 6_000, 5_000)?.value, "bob", "made as the ban was given");
  assert.equal(moderation.banned("nick", "b0b", 6_000)?.value, "bob", "a guest");
  assert.equal(moderation.banned("nick", "bob", 6_000, 1)?.value, "bob", "the banned nick's own account");
  store.close();
});

Deno.test("a look-alike of a nick banned for good stays out after a shorter ban on another spelling ends", () => {
  const store = Store.open("");
  const moderation = new Moderation(store);
  moderation.ban({ kind: "nick", value: "bob", until: null, reason: "", by: "root", at: 0 });
  moderation.ban({ kind: "nick", value: "b0b", until: 30_000, reason: "", by: "root", at: 0 });
  assert.equal(moderation.banned("nick", "b\u00f3b", 10_000)?.value, "b0b");
  assert.equal(moderation.banned("nick", "b\u00f3b", 31_000)?.value, "bob", "the ban for good is still there");
  store.close();
});

Deno.test("a banned address opening the WebSocket gets an error event and close 1008 (not to be retried), and the refusal is logged", async () => {
  await using chat = await startServer({ httpPort: 0 });
  await chat.server.chat.moderation.ban({ kind: "ip", value: "127.0.0.1", until: null, reason: "", by: "root", at: 0 });
  const page = await RawWebSocket.connect(doorPort(chat, "http"));
  const error = await page.waitForEvent((e) => e.type === "error");
  assert.match(error.text, /banned/);
  assert.equal((await page.waitForClose()).code, 1008);
  assert.ok(chat.logs.some((l) => /WARN refused .*door=websocket/.test(l)), chat.logs.join("\n"));
});

Deno.test("an IRC user still in other channels after parting its last one is kicked out of the channel it is in", async () => {
  const test = await startOpServer({ op: ["root"], ircPort: 0, rate: 0 }, { root: "rootpass1" });
  await using _ = test;
  const door = test.server.doors.find((d) => d.scheme === "irc")!;
  const irc = Object.assign(test, { ircPort: door.addr.port });
  const root = await loginWithPassword(test, "root", "rootpass1");
  const eve = await ircLogin(irc, "eve");
  await ircJoin(eve, "eve", "#side");
  await ircJoin(eve, "eve", "#x");
  eve.send("PART #x");
  await eve.waitFor(/ PART #x/);
  root.send("/kick eve test1");
  await eve.waitFor(/ KICK #side eve :test1/);
  eve.send("PING :still");
  await eve.waitFor(/PONG .*still/);
  assert.ok(!eve.ended, "kicked out of the server instead of #side");
});

Deno.test("/history takes plain numbers only, and /unban an address with leading zeros is refused", async () => {
  const test = await startOpServer({ op: ["root"], rate: 0 }, { root: "rootpass1" });
  await using _ = test;
  const root = await loginWithPassword(test, "root", "rootpass1");
  for (const count of ["0x10", "1e3"]) {
    root.send(`/history ${count}`);
    assert.match(await root.waitFor(/^\*\*\* (History|".*" is not)/), /is not a number of lines/, count);
  }
  root.send("/ban 203.0.113.10");
  await root.waitFor(/^\*\*\* 203\.0\.113\.10 is banned/);
  root.send("/unban 203.0.113.010");
  assert.match(await root.waitFor(/^\*\*\* (203|Cannot|".*")/), /is not an address/);
});
