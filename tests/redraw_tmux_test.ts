/**
 * Redraw mode end to end in a real terminal: Debian's `telnet 127.0.0.1
 * PORT` runs in tmux (a private server, 80x24, TERM as tmux sets it) while
 * another user talks over a socket. What the terminal shows is read with
 * `capture-pane`, the cursor with `#{cursor_x} #{cursor_y}`. TinyFugue and
 * `nc` run the same way and are checked to stay in line mode.
 */
import assert from "node:assert/strict";
import { startServer, type TestServer } from "./helpers.ts";
import { hasTmux, shellQuote, TmuxPane } from "./tmux.ts";
import type { TelnetSession } from "../doors/telnet.ts";
import { stringWidth } from "../term/width.ts";

function installed(tool: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const tmux = await hasTmux();
const ignore = !tmux || !installed("telnet");

/** The session of the next login as `nick`. */
function sessionOf(chat: TestServer, nick: string): Promise<TelnetSession> {
  return chat.event("login", (d) => d.session.nick === nick, 15_000).then((d) => d.session as TelnetSession);
}

/** Real telnet in a pane, in redraw mode, logged in as `nick`. */
async function telnet(chat: TestServer, nick: string): Promise<TmuxPane> {
  const pane = await TmuxPane.start(shellQuote(["telnet", "127.0.0.1", String(chat.port)]));
  await pane.waitForRow(/^\*\*\* Redraw mode: /); // the switch is done: keys go to the server one by one
  const session = sessionOf(chat, nick);
  await pane.type(`login ${nick}`);
  await pane.keys("Enter");
  await pane.waitForRow(`*** ${nick} has entered the room.`);
  assert.equal((await session).redrawOn, true);
  return pane;
}

Deno.test({
  name: "telnet in tmux: a half-typed line stays on the bottom row with the cursor after it while 50 lines arrive",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const bob = await chat.login("bob");
    await using pane = await telnet(chat, "tom");
    await pane.type("half a li");
    await pane.waitFor((rows) => rows.some((r) => r === "half a li"), "the half line");
    await bob.sendRaw(Array.from({ length: 50 }, (_, i) => `line ${i + 1}\r\n`).join(""));
    await bob.waitFor("bob: line 50");
    const rows = await pane.waitFor((rows) => rows[23] === "half a li", "the half line on the bottom row");
    assert.equal(rows[22], "bob: line 50");
    assert.deepEqual(await pane.cursor(), [9, 23]);
    const said = (await pane.history()).filter((r) => r.startsWith("bob: "));
    assert.deepEqual(said, Array.from({ length: 50 }, (_, i) => `bob: line ${i + 1}`));
    await pane.type("ne");
    await pane.keys("Enter");
    assert.equal(await bob.waitFor(/^tom: /), "tom: half a line");
  },
});

Deno.test({
  name: "telnet in tmux: CJK and emoji typed take their columns on screen and arrive byte for byte",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const bob = await chat.login("bob");
    await using pane = await telnet(chat, "tom");
    const line = "你好，茶话会 🍵 日本語のテキスト";
    await pane.type(line);
    await pane.waitFor((rows) => rows.includes(line), "the CJK line");
    assert.equal((await pane.cursor())[0], stringWidth(line));
    await pane.keys("BSpace", "BSpace", "Left", "Left");
    await pane.waitFor((rows) => rows.includes("你好，茶话会 🍵 日本語のテキ"), "two characters fewer");
    assert.equal((await pane.cursor())[0], stringWidth("你好，茶话会 🍵 日本語の"));
    await pane.keys("End", "Enter");
    const got = await bob.waitFor(/^tom: /);
    const encoder = new TextEncoder();
    assert.deepEqual([...encoder.encode(got)], [...encoder.encode("tom: 你好，茶话会 🍵 日本語のテキ")]);
  },
});

Deno.test({
  name: "telnet in tmux: a row tmux draws wider than the server guessed (skin-tone emoji) never wraps into the chat",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const bob = await chat.login("bob");
    await using pane = await telnet(chat, "tom");
    const thumbs = "👍🏽".repeat(30); // 60 columns for the server, 120 for tmux 3.3a (the tone drawn apart)
    await pane.type(thumbs);
    await pane.waitFor((rows) => rows.some((r) => r.startsWith("👍")), "the emoji echoed");
    await bob.send("line 1");
    await pane.waitForRow("bob: line 1");
    await pane.keys("Home");
    await bob.send("line 2");
    const last = (rows: string[]) => rows.filter((r) => r !== "").slice(-3);
    const redrawn = (r: string[]) => last(r)[1] === "bob: line 2" && last(r)[2].startsWith("👍");
    const rows = last(await pane.waitFor(redrawn, "bob's second line, the row drawn again after it"));
    assert.deepEqual(rows.slice(0, 2), ["bob: line 1", "bob: line 2"]);
    assert.ok(rows[2].startsWith("👍🏽"), rows[2]);
    const history = await pane.history();
    assert.deepEqual(history.filter((r) => /👍|🏽/u.test(r)), [rows[2]], "copies of the input row in the chat");
    assert.equal(await pane.format("#{wrap_flag}"), "1", "autowrap is on again between draws");
    await pane.keys("Enter");
    assert.equal(await bob.waitFor(/^tom: /), `tom: ${thumbs}`);
  },
});

Deno.test({
  name: "telnet in tmux: Ctrl-W and Ctrl-U edit the line on the server",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const bob = await chat.login("bob");
    await using pane = await telnet(chat, "tom");
    await pane.type("scones and jam");
    await pane.keys("C-w");
    await pane.waitFor((rows) => rows.includes("scones and"), "a word fewer");
    await pane.keys("C-u");
    await pane.type("tea");
    await pane.keys("Enter");
    assert.equal(await bob.waitFor(/^tom: /), "tom: tea");
  },
});

Deno.test({
  name: "telnet in tmux: a password is not on the screen, and echo comes back after it",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const dora = await chat.login("dora");
    dora.send("/register tea-for-two");
    await dora.waitFor(/registered/i);
    dora.send("/quit");
    await dora.closed();
    await using pane = await TmuxPane.start(shellQuote(["telnet", "127.0.0.1", String(chat.port)]));
    await pane.waitForRow(/^\*\*\* Redraw mode: /);
    await pane.type("login dora");
    await pane.keys("Enter");
    await pane.waitForRow("*** dora is a registered nick. Password:");
    await pane.type("tea-for-two");
    await pane.keys("Enter");
    await pane.waitForRow("*** dora has entered the room.");
    await pane.type("shown");
    await pane.waitFor((rows) => rows.includes("shown"), "echo after the password");
    const all = (await pane.history()).join("\n");
    assert.ok(!all.includes("tea-for-two"), all);
  },
});

Deno.test({
  name: "TinyFugue in tmux keeps line mode: it named itself and was not switched",
  ignore: ignore || !installed("tf5"),
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const bob = await chat.login("bob");
    const session = sessionOf(chat, "tfu");
    await using pane = await TmuxPane.start(shellQuote(["tf5", "-f/dev/null", "127.0.0.1", String(chat.port)]));
    await pane.waitFor((rows) => rows.some((r) => r.includes("Log in with")), "the greeting in TinyFugue");
    await pane.type("login tfu");
    await pane.keys("Enter");
    const tf = await session;
    await pane.type("from tinyfugue");
    await pane.keys("Enter");
    assert.equal(await bob.waitFor(/^tfu: /), "tfu: from tinyfugue");
    assert.equal(tf.telnet.terminal, "TINYFUGUE");
    assert.equal(tf.redrawOn, false);
    assert.equal(tf.telnet.characterModePending, false);
    assert.equal(tf.telnet.serverEcho, false, "TinyFugue was sent WILL ECHO");
  },
});

Deno.test({
  name: "nc in tmux keeps line mode: it negotiates nothing and is switched to nothing",
  ignore: !tmux || !installed("nc"),
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const bob = await chat.login("bob");
    const session = sessionOf(chat, "ncu");
    await using pane = await TmuxPane.start(shellQuote(["nc", "127.0.0.1", String(chat.port)]));
    await pane.waitFor((rows) => rows.some((r) => r.includes("Log in with")), "the greeting in nc");
    await pane.type("login ncu");
    await pane.keys("Enter");
    const nc = await session;
    await pane.type("from nc");
    await pane.keys("Enter");
    assert.equal(await bob.waitFor(/^ncu: /), "ncu: from nc");
    assert.equal(nc.redrawOn, false);
    assert.equal(nc.telnet.commands, 0, "nc sent telnet commands");
  },
});
