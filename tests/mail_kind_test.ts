/**
 * Offline mail knows whether it is an action: stored as the bare text and a
 * kind, and rendered by each door (telnet `[mail …] bob: * bob waves`, JSON
 * `action: true`, IRC a CTCP ACTION) without guessing from the text. A
 * database of schema version 2, whose mail had no kind and kept an action as
 * `* <sender> <text>`, opens and delivers its mail.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ircLogin, type IrcTestServer, startIrcServer, untagged } from "./irc_helpers.ts";
import { loginWithPassword, tempDir } from "./db_helpers.ts";
import { RawWebSocket } from "./ws_client.ts";
import { doorPort } from "./helpers.ts";
import { APPLICATION_ID, SCHEMA_VERSION, Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

const PASSWORD = "secret123";
const RECIPIENTS = ["tina", "jay", "iris"]; // who reads mail by telnet, by WebSocket (JSON), by IRC
const OFFLINE = (nick: string) => new RegExp(`NOTICE bob :${nick} is offline`);
const SENT = /^\[sent \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\] /;

/** A server with the IRC and HTTP doors on an in-memory store holding the recipients' accounts. */
async function mailServer(): Promise<IrcTestServer> {
  const store = Store.open("");
  for (const nick of RECIPIENTS) store.saveAccount(nick, nick, await hashPassword(PASSWORD));
  return await startIrcServer({ database: store, httpPort: 0 });
}

/** Logs in to a registered nick over WebSocket; returns its first `count` mail events. */
// deno-lint-ignore no-explicit-any
async function mailOverJson(chat: IrcTestServer, nick: string, count: number): Promise<any[]> {
  const ws = await RawWebSocket.connect(doorPort(chat, "http"));
  try {
    await ws.sendText(`login ${nick}`);
    await ws.waitForEvent((e) => e.type === "password");
    await ws.sendText(PASSWORD);
    const mail = [];
    while (mail.length < count) mail.push(await ws.waitForEvent((e) => e.type === "mail"));
    return mail;
  } finally {
    ws.close();
    await ws.done;
  }
}

Deno.test("a plain private mail whose text starts with `* bob ` comes back as plain text on IRC", async () => {
  await using chat = await mailServer();
  const bob = await chat.login("bob");
  bob.send("/msg iris * bob waves, but only in words");
  await bob.waitFor(/^\*\*\* iris is offline/);
  const iris = await ircLogin(chat, "iris", { pass: PASSWORD });
  const line = untagged(await iris.waitFor(/only in words/));
  const head = ":bob!bob@teaparty PRIVMSG iris :";
  assert(line.startsWith(head), line);
  const text = line.slice(head.length);
  assert(!text.includes("\x01"), `a plain mail came as a CTCP: ${JSON.stringify(line)}`);
  assert.match(text, SENT);
  assert.equal(text.replace(SENT, ""), "* bob waves, but only in words");
});

Deno.test("an action mail: a CTCP ACTION on IRC, `* bob waves` on telnet, `action: true` in JSON", async () => {
  await using chat = await mailServer();
  const bob = await ircLogin(chat, "bob");
  for (const nick of RECIPIENTS) {
    bob.send(`PRIVMSG ${nick} :\x01ACTION waves\x01`);
    await bob.waitFor(OFFLINE(nick));
  }
  bob.send("PRIVMSG jay :and a plain line");
  await bob.waitFor(OFFLINE("jay"));

  const tina = await loginWithPassword(chat, "tina", PASSWORD);
  assert.match(await tina.waitFor(/^\[mail /), /^\[mail \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] bob: \* bob waves$/);

  const [action, plain] = await mailOverJson(chat, "jay", 2);
  const { time, ...said } = action;
  assert.deepEqual(said, { type: "mail", from: "bob", text: "waves", action: true });
  assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(Object.keys(plain), ["type", "from", "text", "time"], "a plain mail has no action field");
  assert.equal(plain.text, "and a plain line");

  const iris = await ircLogin(chat, "iris", { pass: PASSWORD });
  const line = untagged(await iris.waitFor(/waves/));
  const head = ":bob!bob@teaparty PRIVMSG iris :\x01ACTION ";
  assert(line.startsWith(head) && line.endsWith("\x01"), JSON.stringify(line));
  assert.equal(line.slice(head.length, -1).replace(SENT, ""), "waves");
});

/** The tables of schema version 2 exactly as that teaparty made them (mail without a kind). */
const SCHEMA_2 = `
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY, room TEXT NOT NULL, at INTEGER NOT NULL,
    kind TEXT NOT NULL, nick TEXT NOT NULL, text TEXT NOT NULL);
  CREATE INDEX messages_room ON messages (room, id);
  CREATE TABLE accounts (
    key TEXT PRIMARY KEY, nick TEXT NOT NULL, hash TEXT NOT NULL, created INTEGER NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}');
  CREATE TABLE mail (
    id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, sender TEXT NOT NULL,
    at INTEGER NOT NULL, text TEXT NOT NULL);
  CREATE INDEX mail_recipient ON mail (recipient, id);
  CREATE TABLE bans (
    kind TEXT NOT NULL, value TEXT NOT NULL, until INTEGER, reason TEXT NOT NULL,
    by TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (kind, value));
  CREATE TABLE mutes (key TEXT PRIMARY KEY, until INTEGER, by TEXT NOT NULL);
  CREATE TABLE topics (room TEXT PRIMARY KEY, text TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  PRAGMA user_version = 2;
  PRAGMA application_id = ${APPLICATION_ID};`;

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

/** Writes a schema-2 database holding accounts and mail rows (recipient, sender, text) as that teaparty kept them. */
async function oldDatabase(file: string, nicks: string[], mail: [string, string, string][]): Promise<void> {
  const db = new DatabaseSync(file);
  try {
    db.exec(SCHEMA_2);
    const hash = await hashPassword(PASSWORD);
    for (const nick of nicks) {
      db.prepare("INSERT INTO accounts (key, nick, hash, created) VALUES (?, ?, ?, ?)").run(nick, nick, hash, T0);
    }
    mail.forEach(([to, from, text], i) => {
      db.prepare("INSERT INTO mail (recipient, sender, at, text) VALUES (?, ?, ?, ?)").run(to, from, T0 + i, text);
    });
  } finally {
    db.close();
  }
}

Deno.test("a database of schema version 2 is migrated: an action kept as `* sender text` becomes an action", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/old.db`;
  await oldDatabase(file, ["tina"], [
    ["tina", "bob", "* bob waves"],
    ["tina", "bob", "* bobby waves"], // another nick's words: plain
    ["tina", "bob", "* Bob waves"], // not the sender's spelling: plain
    ["tina", "zoë", "* zoë 🍵 pours tea"],
    ["tina", "bob", "plain words"],
  ]);
  const store = Store.open(file);
  try {
    assert.deepEqual(store.mail("tina", 10).map((m) => [m.from, m.text, m.action, m.at - T0]), [
      ["bob", "waves", true, 0],
      ["bob", "* bobby waves", false, 1],
      ["bob", "* Bob waves", false, 2],
      ["zoë", "🍵 pours tea", true, 3],
      ["bob", "plain words", false, 4],
    ]);
  } finally {
    store.close();
  }
  const db = new DatabaseSync(file);
  try {
    assert.equal(Number(Object.values(db.prepare("PRAGMA user_version").get()!)[0]), SCHEMA_VERSION);
    assert.equal(SCHEMA_VERSION, 4);
  } finally {
    db.close();
  }
});

Deno.test("an old database file with the old mail table opens, and its mail is delivered on telnet and IRC", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/old.db`;
  await oldDatabase(file, ["tina", "iris"], [
    ["tina", "bob", "are you coming?"],
    ["tina", "bob", "* bob waves"],
    ["iris", "bob", "* bob waves"],
    ["iris", "bob", "see you"],
  ]);
  const chat = await startIrcServer({ db: file });
  try {
    const tina = await loginWithPassword(chat, "tina", PASSWORD);
    await tina.waitFor("*** You have 2 messages from while you were away:");
    assert.equal(await tina.waitFor(/^\[mail /), "[mail 2026-01-02 03:04:05] bob: are you coming?");
    assert.equal(await tina.waitFor(/^\[mail /), "[mail 2026-01-02 03:04:05] bob: * bob waves");
    const iris = await ircLogin(chat, "iris", { pass: PASSWORD });
    assert.equal(
      untagged(await iris.waitFor(/waves/)),
      ":bob!bob@teaparty PRIVMSG iris :\x01ACTION [sent 2026-01-02 03:04:05 UTC] waves\x01",
    );
    assert.equal(
      untagged(await iris.waitFor(/see you/)),
      ":bob!bob@teaparty PRIVMSG iris :[sent 2026-01-02 03:04:05 UTC] see you",
    );
  } finally {
    await chat.close();
    chat.server.store.close();
  }
  const store = Store.open(file);
  try {
    assert.equal(store.mailCount("tina") + store.mailCount("iris"), 0, "delivered mail was not deleted");
  } finally {
    store.close();
  }
});
