/**
 * The settings of registered nicks (store.ts, schema version 2: a JSON
 * `settings` column of `accounts`), where `/redraw on|off` is kept.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION, Store, StoreError } from "../store.ts";
import { keptRedraw, REDRAW_SETTING } from "../commands/redraw.ts";

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "teaparty-redraw-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("a registered nick's setting is kept, replaced and read back; another nick's stays apart", () => {
  const store = Store.open("");
  try {
    store.saveAccount("dora", "Dora", "scrypt$x");
    store.saveAccount("eve", "Eve", "scrypt$y");
    assert.equal(store.setting("dora", REDRAW_SETTING), undefined);
    store.saveSetting("dora", REDRAW_SETTING, "off");
    assert.equal(store.setting("dora", REDRAW_SETTING), "off");
    store.saveSetting("dora", REDRAW_SETTING, "on");
    assert.equal(store.setting("dora", REDRAW_SETTING), "on");
    assert.equal(store.setting("eve", REDRAW_SETTING), undefined);
    assert.equal(keptRedraw(store, "dora"), true);
    assert.equal(keptRedraw(store, "eve"), undefined);
  } finally {
    store.close();
  }
});

Deno.test("a setting for a nick that is not registered is refused and stores nothing", () => {
  const store = Store.open("");
  try {
    assert.throws(() => store.saveSetting("nobody", REDRAW_SETTING, "off"), StoreError);
    assert.equal(store.setting("nobody", REDRAW_SETTING), undefined);
  } finally {
    store.close();
  }
});

Deno.test("a new password keeps the settings; removing the account removes them", () => {
  const store = Store.open("");
  try {
    store.saveAccount("dora", "Dora", "scrypt$x");
    store.saveSetting("dora", REDRAW_SETTING, "off");
    store.saveAccount("dora", "Dora", "scrypt$new");
    assert.equal(store.setting("dora", REDRAW_SETTING), "off");
    store.removeAccount("dora");
    store.saveAccount("dora", "Dora", "scrypt$again");
    assert.equal(store.setting("dora", REDRAW_SETTING), undefined);
  } finally {
    store.close();
  }
});

Deno.test("a setting name that is not a plain word is refused (it is a JSON path)", () => {
  const store = Store.open("");
  try {
    store.saveAccount("dora", "Dora", "scrypt$x");
    assert.throws(() => store.saveSetting("dora", "a.b", "x"), /bad setting name/);
    assert.throws(() => store.setting("dora", "$"), /bad setting name/);
  } finally {
    store.close();
  }
});

Deno.test("settings survive a restart, and a database of schema version 1 gets them at start-up", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/chat.db`;
  const first = Store.open(file);
  first.saveAccount("dora", "Dora", "scrypt$x");
  first.saveSetting("dora", REDRAW_SETTING, "off");
  first.close();
  const again = Store.open(file);
  assert.equal(again.setting("dora", REDRAW_SETTING), "off");
  again.close();
  // Back to version 1, as an older teaparty left it.
  const db = new DatabaseSync(file);
  db.exec(
    "ALTER TABLE accounts DROP COLUMN settings; ALTER TABLE mail DROP COLUMN kind; ALTER TABLE bans DROP COLUMN nick;" +
      "PRAGMA user_version = 1;",
  );
  db.close();
  const upgraded = Store.open(file);
  try {
    assert.ok(SCHEMA_VERSION >= 2);
    assert.equal(upgraded.account("dora")?.nick, "Dora");
    assert.equal(upgraded.setting("dora", REDRAW_SETTING), undefined);
    upgraded.saveSetting("dora", REDRAW_SETTING, "on");
    assert.equal(upgraded.setting("dora", REDRAW_SETTING), "on");
  } finally {
    upgraded.close();
  }
  const check = new DatabaseSync(file);
  assert.equal(Number(Object.values(check.prepare("PRAGMA user_version").get()!)[0]), SCHEMA_VERSION);
  check.close();
});
