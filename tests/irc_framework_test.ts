/**
 * The IRC door against a real, independent IRC client library
 * (irc-framework from npm, as used by Kiwi IRC): registration with CAP and
 * SASL, joining, messages and actions both ways with a telnet user, and the
 * library's view of the server's ISUPPORT.
 */
import assert from "node:assert/strict";
import IRC from "irc-framework";
import { startIrcServer } from "./irc_helpers.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";
import { WAIT_MS } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Client = any;

/** Resolves with the first event `name` whose payload passes `test`. */
function once(client: Client, name: string, test: (e: Record<string, unknown>) => boolean = () => true) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${name}" event within ${WAIT_MS} ms`)), WAIT_MS);
    const on = (e: Record<string, unknown>) => {
      if (!test(e)) return;
      clearTimeout(timer);
      client.removeListener(name, on);
      resolve(e);
    };
    client.on(name, on);
  });
}

Deno.test("irc-framework registers with SASL, joins, and talks with a telnet user", async () => {
  const store = Store.open("");
  store.saveAccount("kiwi", "kiwi", await hashPassword("kiwi-password"));
  await using chat = await startIrcServer({ database: store });
  const client: Client = new IRC.Client();
  const registered = once(client, "registered");
  const loggedIn = once(client, "loggedin");
  client.connect({
    host: "127.0.0.1",
    port: chat.ircPort,
    nick: "kiwi",
    username: "kiwi",
    gecos: "Kiwi test",
    account: { account: "kiwi", password: "kiwi-password" },
    auto_reconnect: false,
    enable_echomessage: true,
  });
  try {
    const reg = await registered;
    assert.equal(reg.nick, "kiwi");
    assert.equal((await loggedIn).account, "kiwi", "logged in to the account with SASL");
    assert.equal(client.network.name, "TestChat");
    assert.deepEqual(client.network.supports("CHANTYPES"), ["#"]);
    assert.equal(client.network.supports("NICKLEN"), "32");
    assert(client.network.cap.isEnabled("echo-message"));
    assert(client.network.cap.isEnabled("server-time"));

    const users = once(client, "userlist", (e) => e.channel === "#main");
    client.join("#main");
    const list = await users;
    assert.deepEqual((list.users as { nick: string }[]).map((u) => u.nick), ["kiwi"]);

    const tel = await chat.login("telly");
    const said = once(client, "privmsg", (e) => e.nick === "telly");
    tel.send("hello kiwi");
    const m = await said;
    assert.equal(m.target, "#main");
    assert.equal(m.message, "hello kiwi");
    assert.equal(typeof m.time, "number", "server-time reached the library");

    const acted = once(client, "action", (e) => e.nick === "telly");
    tel.send("/me bows");
    assert.equal((await acted).message, "bows");

    const echoed = once(client, "privmsg", (e) => e.nick === "kiwi" && e.message === "hi telly");
    client.say("#main", "hi telly");
    await tel.waitFor("kiwi: hi telly");
    await echoed;
    client.action("#main", "waves back");
    await tel.waitFor("* kiwi waves back");
    client.say("telly", "just you");
    await tel.waitFor("[private] kiwi: just you");

    const left = once(client, "quit", (e) => e.nick === "telly");
    tel.send("/quit");
    await left;
  } finally {
    const closed = once(client, "close").catch(() => {});
    client.quit("done");
    await closed;
  }
});
