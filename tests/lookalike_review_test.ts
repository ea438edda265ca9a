/**
 * Look-alikes where a review found holes: a nick is held as spelled (Ivan,
 * with a capital I, looks like lvan) after a change of spelling under the
 * same key, each add of a key keeps its own spelling until it is taken
 * back, a nick ban given as typed keeps out what looks like it as shown,
 * and an account removed by the account tool while the server runs stops
 * guarding its look-alikes (its user online still holds the nick).
 */
import assert from "node:assert/strict";
import type { TestServer } from "./helpers.ts";
import { loginWithPassword, logout, register, startDbServer, startOpServer, tempDir } from "./db_helpers.ts";
import { LookAlikes } from "../nick.ts";
import { Moderation } from "../moderation.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

/** Tries `login <nick>` on a new connection and returns the server's answer. */
async function tryLogin(chat: TestServer, nick: string): Promise<string> {
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  client.send(`login ${nick}`);
  const answer = await client.waitFor(/\*\*\* (?!Welcome|Log in)/); // a password prompt starts with IAC WILL ECHO
  client.close();
  return answer;
}

const refused = (nick: string, like: string) =>
  `*** Cannot log in as "${nick}": it looks like ${like}, a registered or logged-in nick.`;
const entered = (nick: string) => `*** ${nick} has entered the room.`;

/** A server on a database file that another connection (as the account tool) changes while it runs. */
async function serverOnFile(dir: string): Promise<{ chat: TestServer; tool: Store & Disposable }> {
  const db = `${dir}/chat.db`;
  const chat = await startOpServer({ db, rate: 0 }, { ghost: "ghostpass1" });
  const tool = Store.open(db);
  return { chat, tool: Object.assign(tool, { [Symbol.dispose]: () => tool.close() }) };
}

// ---- LookAlikes

Deno.test("LookAlikes holds each spelling of a key as shown, until that spelling's add is taken back", () => {
  const taken = new LookAlikes();
  taken.add("ivan"); // the account
  taken.add("Ivan"); // its user online, spelled with a capital I
  assert.equal(taken.find("lvan"), "Ivan", "the second spelling is looked at as shown");
  assert.equal(taken.find("\u0131van"), "ivan", "the key's own look-alikes name the first spelling");
  taken.delete("ivan", "Ivan"); // the user leaves
  assert.equal(taken.find("lvan"), undefined, "no stale spelling stays");
  assert.equal(taken.find("\u0131van"), "ivan", "the account still holds the key");
  assert.deepEqual(taken.spellings("ivan"), ["ivan"]);
});

Deno.test("LookAlikes takes back the add of the spelling given, not the latest: none stale, none live lost", () => {
  const taken = new LookAlikes();
  taken.add("Ivan"); // online first
  taken.add("ivan"); // then an account
  taken.delete("ivan", "Ivan"); // the user leaves
  assert.equal(taken.find("lvan"), undefined, "the spelling of the user who left is not held");
  assert.deepEqual(taken.spellings("ivan"), ["ivan"]);
  taken.add("Ivan"); // the user back, after the account
  taken.delete("ivan", "ivan"); // the account goes
  assert.equal(taken.find("lvan"), "Ivan", "the user online, as spelled, is still held");
  taken.add("Ivan");
  taken.delete("ivan", "Ivan");
  assert.equal(taken.find("lvan"), "Ivan", "a spelling added twice stays until taken back twice");
  taken.delete("ivan");
  assert.equal(taken.has("ivan"), false);
  assert.deepEqual(taken.keys(), []);
});

// ---- a change of spelling under the same key (/nick Ivan as ivan)

Deno.test("after /nick Ivan as ivan, lvan is refused as a look-alike of Ivan, and free again once Ivan leaves", async () => {
  await using chat = await startDbServer();
  const ivan = await chat.login("ivan");
  ivan.send("/nick Ivan");
  await ivan.waitFor("*** ivan is now known as Ivan.");
  assert.equal(await tryLogin(chat, "lvan"), refused("lvan", "Ivan"));
  await logout(ivan);
  assert.equal(await tryLogin(chat, "lvan"), entered("lvan"));
});

Deno.test("a registered ivan who changes to Ivan keeps lvan out while online; the account alone does not", async () => {
  await using chat = await startDbServer();
  await logout(await register(chat, "ivan", "ivanpass1"));
  const ivan = await loginWithPassword(chat, "ivan", "ivanpass1"); // held twice: the account and the user online
  ivan.send("/nick Ivan");
  await ivan.waitFor("*** ivan is now known as Ivan.");
  assert.equal(await tryLogin(chat, "lvan"), refused("lvan", "Ivan"));
  await logout(ivan);
  assert.equal(await tryLogin(chat, "\u0131van"), refused("\u0131van", "ivan"), "the account still guards its nick");
  assert.equal(await tryLogin(chat, "lvan"), entered("lvan"), "no stale spelling of the user who left");
});

Deno.test("/nick Ivan is refused while lvan is online: the new spelling looks like lvan", async () => {
  await using chat = await startDbServer();
  await chat.login("lvan");
  const ivan = await chat.login("ivan");
  ivan.send("/nick Ivan");
  assert.equal(
    await ivan.waitFor(/^\*\*\* /),
    `*** Cannot change nick to "Ivan": it looks like lvan, a registered or logged-in nick.`,
  );
  ivan.send("/nick IVAN"); // its capital I looks like an l too
  assert.match(await ivan.waitFor(/^\*\*\* /), /Cannot change nick to "IVAN": it looks like lvan/);
});

// ---- nick bans as typed

Deno.test("a nick ban on Ivan, as typed, keeps out lvan, which looks like it, until it is lifted", async () => {
  await using chat = await startDbServer();
  const moderation = chat.server.chat.moderation;
  // The nick as typed, as /ban Ivan gives it.
  await moderation.ban({ kind: "nick", value: "Ivan", until: null, reason: "", by: "root", at: 0 });
  assert.equal(moderation.bans()[0].value, "ivan", "the key is stored");
  assert.equal(await tryLogin(chat, "lvan"), "*** The nick lvan is banned for good.");
  assert.equal(await tryLogin(chat, "ivan"), "*** The nick ivan is banned for good.");
  await moderation.unban("nick", "ivan");
  assert.equal(await tryLogin(chat, "lvan"), entered("lvan"));
});

Deno.test("/ban Ivan, as an operator types it, keeps out lvan and sends away an lvan online", async () => {
  await using chat = await startOpServer({ op: ["root"], rate: 0 }, { root: "rootpass1" });
  const root = await loginWithPassword(chat, "root", "rootpass1");
  const lvan = await chat.login("lvan");
  root.send("/ban Ivan");
  await root.waitFor(/^\*\*\* Ivan is banned for good by root/);
  await lvan.waitFor(/^\*\*\* You are banned/);
  await lvan.done;
  assert.equal(await tryLogin(chat, "lvan"), "*** The nick lvan is banned for good.");
  root.send("/unban Ivan");
  await root.waitFor(/^\*\*\* Ivan is no longer banned/);
  assert.equal(await tryLogin(chat, "lvan"), entered("lvan"));
  root.close();
});

Deno.test("a nick ban as typed keeps its look-alikes as shown across a reload and a restart, and drops them when it ends", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/bans.db`;
  const first = Store.open(file);
  new Moderation(first).ban({ kind: "nick", value: "Ivan", until: 30_000, reason: "", by: "root", at: 0 });
  first.close();
  const store = Store.open(file); // the server started again: the spelling was kept with the ban
  const moderation = new Moderation(store);
  assert.equal(moderation.banned("nick", "lvan", 10_000)?.value, "ivan");
  moderation.ban({ kind: "nick", value: "bob", until: null, reason: "", by: "root", at: 0 });
  moderation.reload(); // cluster mode reads the store again
  assert.equal(moderation.banned("nick", "lvan", 10_000)?.value, "ivan");
  assert.equal(moderation.banned("nick", "lvan", 31_000), undefined, "the ban ended: lvan is free");
  moderation.ban({ kind: "nick", value: "Ivan", until: null, reason: "", by: "root", at: 0 });
  assert.equal(moderation.banned("nick", "lvan", 31_000)?.value, "ivan");
  moderation.ban({ kind: "nick", value: "ivan", until: null, reason: "", by: "root", at: 0 }); // banned again, as ivan
  assert.equal(moderation.banned("nick", "lvan", 31_000), undefined, "lvan looks nothing like ivan");
  assert.equal(moderation.banned("nick", "Ivan", 31_000)?.value, "ivan");
  store.close();
});

// ---- accounts removed by the account tool

Deno.test("an account removed by the account tool while the server runs no longer keeps its look-alikes out", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await serverOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  assert.equal(await tryLogin(chat, "gh0st"), refused("gh0st", "ghost"));
  tool.removeAccount("ghost");
  assert.equal(await tryLogin(chat, "gh0st"), entered("gh0st"));
});

Deno.test("a removed account's user online holds the nick until leaving: only the account's hold is taken back", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await serverOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  const ghost = await loginWithPassword(chat, "ghost", "ghostpass1");
  tool.removeAccount("ghost");
  assert.equal(await tryLogin(chat, "gh0st"), refused("gh0st", "ghost"), "ghost is online");
  await logout(ghost);
  assert.equal(await tryLogin(chat, "gh0st"), entered("gh0st"));
});

Deno.test("an account made by /register and removed by the account tool stops guarding once its user leaves", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await serverOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  const phantom = await register(chat, "phantom", "phantompass1");
  tool.removeAccount("phantom");
  assert.equal(await tryLogin(chat, "phant0m"), refused("phant0m", "phantom"), "phantom is online");
  await logout(phantom);
  assert.equal(await tryLogin(chat, "phant0m"), entered("phant0m"));
});

Deno.test("an account the account tool makes while a guest holds the nick (as Ivan) guards it once the guest leaves", async () => {
  await using dir = await tempDir();
  const { chat, tool } = await serverOnFile(dir.path);
  await using _ = chat;
  using _tool = tool;
  const guest = await chat.login("Ivan");
  tool.saveAccount("ivan", "ivan", await hashPassword("ivanpass1"));
  assert.equal(await tryLogin(chat, "lvan"), refused("lvan", "Ivan"), "the guest online, as spelled");
  await logout(guest);
  assert.equal(await tryLogin(chat, "\u0131van"), refused("\u0131van", "ivan"), "the new account");
  assert.equal(await tryLogin(chat, "lvan"), entered("lvan"), "the guest's spelling left with the guest");
});

Deno.test("a line said (plain, say, /me, emote) does not ask the store whether the account tool changed accounts; a command does", async () => {
  const database = Store.open("");
  let asked = 0;
  const changedElsewhere = database.changedElsewhere.bind(database);
  database.changedElsewhere = () => {
    asked++;
    return changedElsewhere();
  };
  await using chat = await startDbServer({ database, rate: 0 });
  const alice = await chat.login("alice");
  const before = asked;
  for (const line of ["hello", "say hi", "/me waves", "emote nods"]) alice.send(line);
  await alice.waitFor("* alice nods");
  assert.equal(asked, before, "talking reads no account");
  alice.send("/whois alice");
  await alice.waitFor(/^\*\*\* alice: in main, .*not registered/);
  assert.ok(asked > before, "a command sees the account tool's changes first");
});
