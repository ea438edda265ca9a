/**
 * The client in a real terminal (tmux, 80x24): what is typed stays intact
 * while lines arrive, typed text goes out byte-exact, passwords never reach
 * the screen, and the terminal is given back as it was.
 */
import assert from "node:assert/strict";
import { doorPort, startServer, TestClient, type TestServer } from "./helpers.ts";
import { connectTo, loginWithPassword, logout, register, startOpServer, tempDir } from "./db_helpers.ts";
import { makeCertificates } from "./tls_helpers.ts";
import { LimitServer } from "./limit_server.ts";
import { hasTmux, shellQuote, TmuxPane } from "./tmux.ts";
import { stringWidth } from "../term/width.ts";

const tmux = await hasTmux();
if (!tmux) {
  const message = "tmux is not installed: the client's terminal tests cannot run (apt-get install tmux)";
  if (Deno.env.get("CI")) throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
}
const ignore = !tmux;
const encoder = new TextEncoder();

/** Starts a pane running the client logged in as `nick`, and waits for its entry line. */
async function clientPane(chat: TestServer, nick: string, extra: string[] = []): Promise<TmuxPane> {
  const pane = await TmuxPane.start(TmuxPane.client(["--nick", nick, ...extra, `127.0.0.1:${chat.port}`]));
  try {
    await pane.waitForRow(new RegExp(`^(\\d\\d:\\d\\d )?\\*\\*\\* ${nick} has entered the room\\.$`));
  } catch (error) {
    await pane.close();
    throw error;
  }
  return pane;
}

const bottom = (rows: string[]) => rows[rows.length - 1];

/** True if `haystack` holds the bytes of `needle` in a row. */
function containsBytes(haystack: number[], needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test({
  name: "a half-typed line stays intact on the bottom row, cursor after it, while 50 lines arrive above",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await clientPane(chat, "alice");
    const bob = await chat.login("bob");
    await pane.waitForRow("*** bob has entered the room.");
    await pane.type("half a typed li");
    await pane.waitFor((rows) => bottom(rows) === "> half a typed li", "the typed text on the bottom row");
    for (let i = 1; i <= 50; i++) await bob.send(`message ${String(i).padStart(2, "0")}`);
    // A capture may land inside the terminal's handling of one write (the pty hands it over in pieces): the screen
    // as it settles is what counts, and no copy of the input row may be left in the chat (the history check below).
    await pane.waitFor(
      (r) => r.includes("bob: message 50") && bottom(r) === "> half a typed li",
      "the last line above the typed text",
    );
    assert.deepEqual(await pane.cursor(), [17, 23]);
    // All 50 lines, in order, above the input (the first ones are in the scrollback).
    const all = (await pane.history()).filter((r) => r.startsWith("bob: message"));
    assert.deepEqual(all, Array.from({ length: 50 }, (_, i) => `bob: message ${String(i + 1).padStart(2, "0")}`));
    const history = await pane.history();
    assert.equal(history.filter((r) => r.startsWith("> ")).length, 1, "the input row is never scrolled away");
    // The half line is still what gets sent.
    await pane.keys("Enter");
    await bob.waitFor("alice: half a typed li");
  },
});

Deno.test({
  name: "a CJK and emoji line typed and sent arrives byte-exact, with the cursor after it as typed",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await clientPane(chat, "alice");
    const bob = await chat.login("bob");
    const text = "茶会 한국어 🍵 café かな";
    await pane.type(text);
    await pane.waitFor((rows) => bottom(rows) === `> ${text}`, "the CJK text on the bottom row");
    assert.deepEqual(await pane.cursor(), [2 + stringWidth(text), 23]);
    await pane.keys("Enter");
    await bob.waitFor(`alice: ${text}`);
    assert.ok(containsBytes(bob.raw, encoder.encode(`alice: ${text}\r\n`)), "the bytes are the same UTF-8");
  },
});

Deno.test({
  name: "editing keys in the terminal: arrows, Home/End, Ctrl-A/E/W/U/K, Backspace, Delete, history, Tab",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await clientPane(chat, "alice");
    const bob = await chat.login("bob");
    await pane.waitForRow("*** bob has entered the room.");
    await pane.type("hello wrld");
    await pane.keys("Left", "Left", "Left");
    await pane.type("o");
    await pane.keys("Home");
    await pane.type(">> ");
    await pane.keys("End", "BSpace");
    await pane.type("d!");
    await pane.waitFor((rows) => bottom(rows) === "> >> hello world!", "the edited line");
    await pane.keys("Enter");
    await bob.waitFor("alice: >> hello world!");
    await pane.type("one two three");
    await pane.keys("C-w", "C-a", "C-d", "C-e");
    await pane.waitFor((rows) => bottom(rows) === "> ne two", "Ctrl-W, Ctrl-A and Ctrl-D");
    await pane.keys("C-b", "C-b", "C-k", "C-u");
    await pane.waitFor((rows) => bottom(rows) === ">", "Ctrl-K and Ctrl-U empty the line");
    // Up brings back the line sent.
    await pane.keys("Up");
    await pane.waitFor((rows) => bottom(rows) === "> >> hello world!", "the history entry");
    await pane.keys("C-u");
    // Tab completes a nick learned from the entry notice.
    await pane.type("b");
    await pane.keys("Tab");
    await pane.waitFor((rows) => bottom(rows) === "> bob:", "the completed nick");
    await pane.type("tea?");
    await pane.keys("Enter");
    await bob.waitFor("alice: bob: tea?");
  },
});

Deno.test({
  name: "a mention and a private message are shown; a long input line scrolls and keeps the cursor",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await clientPane(chat, "alice", ["--timestamps"]);
    const bob = await chat.login("bob");
    await bob.send("@alice psst");
    await pane.waitForRow(/^\d\d:\d\d \[private\] bob: psst$/);
    const long = "x".repeat(100) + "END";
    await pane.type(long);
    const rows = await pane.waitFor((r) => bottom(r).endsWith("END"), "the end of the long line");
    assert.equal(stringWidth(bottom(rows)), 78); // one column kept for the cursor, the last one left free
    assert.ok(bottom(rows).startsWith("> <"), "a mark shows text hidden on the left");
    assert.deepEqual(await pane.cursor(), [78, 23]);
    await pane.keys("Home");
    await pane.waitFor((r) => bottom(r) === "> " + "x".repeat(76) + ">", "the start of the long line");
    assert.deepEqual(await pane.cursor(), [2, 23]);
    await pane.keys("Enter");
    await bob.waitFor(`alice: ${long}`);
  },
});

Deno.test({
  name: "the password is never written to the terminal, is sent, and is not in the history",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const reg = await chat.login("carol");
    await reg.send("/register secret123");
    await reg.waitFor(/carol is now registered/);
    await reg.send("logout");
    await reg.closed();
    const out = await Deno.makeTempFile({ prefix: "teaparty-pane-" });
    try {
      await using pane = await TmuxPane.start(TmuxPane.client(["--nick", "carol", `127.0.0.1:${chat.port}`]));
      await pane.waitForRow("*** carol is a registered nick. Password:");
      await pane.waitFor((rows) => bottom(rows) === "(hidden)", "the hidden input row");
      // Everything the client writes to the terminal from now on goes to `out` too.
      await pane.tmux("pipe-pane", "-O", `cat >> ${shellQuote([out])}`);
      await pane.type("secret123");
      await pane.keys("Enter");
      await pane.waitForRow("*** carol has entered the room.");
      await pane.keys("Up");
      await pane.type("x");
      await pane.waitFor((rows) => bottom(rows) === "> x", "a visible line after the login");
      await pane.tmux("pipe-pane"); // stop piping
      const written = await Deno.readTextFile(out);
      assert.ok(written.includes("carol has entered the room."), "the pipe saw the client's output");
      assert.ok(!written.includes("secret"), "the password was written to the terminal");
      assert.ok(!(await pane.history()).some((r) => r.includes("secret")));
    } finally {
      await Deno.remove(out);
    }
  },
});

/** The terminal settings and cursor state the shell in the pane sees, once it prompts again. */
async function terminalState(pane: TmuxPane) {
  await pane.waitFor((rows) => /^[$#]$/.test(bottom(rows.filter((r) => r !== ""))), "the shell prompt again");
  await pane.type("stty -a | tr -s ' ;' '\\n\\n' | grep -x -e '-*icanon' -e '-*echo' | tr '\\n' ' '; echo");
  await pane.keys("C-j"); // works in raw mode too, where Enter would not end the line
  const rows = await pane.waitForRow(/^-?icanon -?echo$/);
  const modes = rows.find((r) => /^-?icanon -?echo$/.test(r))!;
  const [cursor, upper, lower, wrap] = (await pane.format(
    "#{cursor_flag} #{scroll_region_upper} #{scroll_region_lower} #{wrap_flag}",
  )).split(" ");
  return {
    modes: modes.trim(),
    cursorVisible: cursor === "1",
    scrollRegion: `${upper}-${lower}`,
    autowrap: wrap === "1",
  };
}

/** The terminal as the client must leave it. */
const GIVEN_BACK = { modes: "icanon echo", cursorVisible: true, scrollRegion: "0-23", autowrap: true };

/** Clears the shell's screen and waits until only its prompt is left. */
async function clearShell(pane: TmuxPane): Promise<void> {
  await pane.type("clear");
  await pane.keys("Enter");
  await pane.waitFor((rows) => /^[$#]$/.test(rows[0]) && rows.slice(1).every((r) => r === ""), "a cleared screen");
}

Deno.test({
  name: "after Ctrl-C the terminal is back in cooked mode, echo on, cursor visible, no scroll region",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await TmuxPane.start("sh");
    await pane.waitForRow(/^[$#]$/);
    await pane.type(TmuxPane.client(["--nick", "dora", `127.0.0.1:${chat.port}`]));
    await pane.keys("Enter");
    await pane.waitForRow("*** dora has entered the room.");
    await pane.type("unsent words");
    await pane.waitFor((rows) => bottom(rows) === "> unsent words", "the typed words");
    await pane.keys("C-c");
    assert.deepEqual(await terminalState(pane), GIVEN_BACK);
  },
});

Deno.test({
  name: "after SIGTERM, and after logout, the terminal is given back the same way",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await TmuxPane.start("sh");
    await pane.waitForRow(/^[$#]$/);
    await pane.type(TmuxPane.client(["--nick", "erin", `127.0.0.1:${chat.port}`]));
    await pane.keys("Enter");
    await pane.waitForRow("*** erin has entered the room.");
    const shell = await pane.panePid();
    const pgrep = await new Deno.Command("pgrep", { args: ["-P", String(shell)], stdout: "piped" }).output();
    const pid = Number(new TextDecoder().decode(pgrep.stdout).trim().split("\n")[0]);
    assert.ok(pid > 0, "the client's pid");
    Deno.kill(pid, "SIGTERM");
    assert.deepEqual(await terminalState(pane), GIVEN_BACK);
    await clearShell(pane);
    await pane.type(TmuxPane.client(["--nick", "erin", `127.0.0.1:${chat.port}`]));
    await pane.keys("Enter");
    await pane.waitForRow("*** erin has entered the room.");
    await pane.type("logout");
    await pane.keys("Enter");
    assert.deepEqual(await terminalState(pane), GIVEN_BACK);
  },
});

Deno.test({
  name: "after Ctrl-D on an empty line, and after a dropped connection with --no-reconnect, the same",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await TmuxPane.start("sh");
    await pane.waitForRow(/^[$#]$/);
    await pane.type(TmuxPane.client(["--nick", "ivy", `127.0.0.1:${chat.port}`]));
    await pane.keys("Enter");
    await pane.waitForRow("*** ivy has entered the room.");
    await pane.keys("C-d");
    assert.deepEqual(await terminalState(pane), GIVEN_BACK);
    await clearShell(pane);
    await pane.type(TmuxPane.client(["--nick", "ivy", "--no-reconnect", `127.0.0.1:${chat.port}`]));
    await pane.keys("Enter");
    await pane.waitForRow("*** ivy has entered the room.");
    await pane.type("half");
    await pane.waitForRow(/half$/); // the client has the keys (else the shell would get them after it exits)
    await chat.close();
    await pane.waitForRow(/^-!- Connection to 127\.0\.0\.1:\d+ lost: the server closed the connection\.$/);
    assert.deepEqual(await terminalState(pane), GIVEN_BACK);
  },
});

Deno.test({
  name: "logged in to the nick from another connection: said plainly, not connected again, exit 0, terminal given back",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await logout(await register(chat, "dave2", "dave2-secret"));
    await using pane = await TmuxPane.start("sh");
    await pane.waitForRow(/^[$#]$/);
    await pane.type(`${TmuxPane.client(["--nick", "dave2", `127.0.0.1:${chat.port}`])}; echo exit=$?`);
    await pane.keys("Enter");
    await pane.waitForRow("*** dave2 is a registered nick. Password:");
    await pane.waitFor((rows) => bottom(rows) === "(hidden)", "the hidden input row");
    await pane.type("dave2-secret");
    await pane.keys("Enter");
    await pane.waitForRow("*** dave2 has entered the room.");
    // The same nick, with its password, from a second connection takes it over.
    const elsewhere = await loginWithPassword(chat, "dave2", "dave2-secret");
    await pane.waitForRow("*** You (dave2) logged in from another connection; this one is closed.");
    await pane.waitForRow("-!- Not connecting again: you are logged in from another connection.");
    await pane.waitForRow("exit=0");
    assert.deepEqual(await terminalState(pane), GIVEN_BACK);
    const history = await pane.history();
    assert.equal(history.filter((r) => r.startsWith("-!- Connected to")).length, 1, history.join("\n"));
    assert.ok(!history.some((r) => /Connecting again|lost:/.test(r)), history.join("\n"));
    // The nick stays with the other connection: nothing came back to take it or ask for its password.
    elsewhere.send("still mine");
    await elsewhere.waitFor("dave2: still mine");
    assert.equal([...chat.server.sessions].filter((s) => s.nick === "dave2").length, 1);
  },
});

/** Starts a shell in a pane and runs the client there with `args`, then `echo exit=$?`. */
async function clientInShell(args: string[]): Promise<TmuxPane> {
  const pane = await TmuxPane.start("sh");
  try {
    await pane.waitForRow(/^[$#]$/);
    await pane.type(`${TmuxPane.client(args)}; echo exit=$?`);
    await pane.keys("Enter");
  } catch (error) {
    await pane.close();
    throw error;
  }
  return pane;
}

/**
 * After the client exited with `code`: the terminal is given back, and the
 * client connected `connections` times (and never said it would connect again).
 */
async function endedOnce(pane: TmuxPane, code: number, connections = 1): Promise<void> {
  await pane.waitForRow(`exit=${code}`);
  assert.deepEqual(await terminalState(pane), GIVEN_BACK);
  const history = await pane.history();
  assert.equal(history.filter((r) => r.startsWith("-!- Connected to")).length, connections, history.join("\n"));
  assert.ok(!history.some((r) => /Connecting again|lost:/.test(r)), history.join("\n"));
}

const UNTIL = "until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC";

Deno.test({
  name: "banned by an operator: said plainly, not connected again, exit 1, terminal given back",
  ignore,
  async fn() {
    await using chat = await startOpServer({ op: ["root"], rate: 0 }, { root: "root-secret" });
    const root = await loginWithPassword(chat, "root", "root-secret");
    await using pane = await clientInShell(["--nick", "zed", `127.0.0.1:${chat.port}`]);
    await pane.waitForRow("*** zed has entered the room.");
    root.send("/ban zed 1h spam");
    await pane.waitForRow(new RegExp(`^\\*\\*\\* You are banned ${UNTIL} \\(1h from now\\): spam$`));
    await pane.waitForRow(new RegExp(`^-!- Not connecting again: you are banned ${UNTIL}\\.$`));
    await endedOnce(pane, 1);
    assert.equal(chat.server.store.bans().length, 1);
  },
});

Deno.test({
  name: "a login that timed out: said plainly, not connected again, exit 1, terminal given back",
  ignore,
  async fn() {
    await using chat = await startServer({ loginTimeout: 1 });
    await using pane = await clientInShell([`127.0.0.1:${chat.port}`]);
    await pane.waitForRow("*** Login timed out after 1 seconds. Goodbye!");
    await pane.waitForRow("-!- Not connecting again: you did not log in in time.");
    await endedOnce(pane, 1);
  },
});

Deno.test({
  name: "kicked from a side room: still connected; from the main room: said plainly, not connected again, exit 1",
  ignore,
  async fn() {
    await using chat = await startOpServer({ op: ["root"], rate: 0 }, { root: "root-secret" });
    const root = await loginWithPassword(chat, "root", "root-secret");
    await using pane = await clientInShell(["--nick", "kim", `127.0.0.1:${chat.port}`]);
    await pane.waitForRow("*** kim has entered the room.");
    await pane.type("/join den");
    await pane.keys("Enter");
    await root.waitFor("*** kim has left the room.");
    // A kick from a side room only moves kim back to the main room: the connection stays.
    root.send("/kick kim too loud");
    await pane.waitForRow("*** You were kicked from den by root: too loud");
    await root.waitFor("*** kim has entered the room.");
    await pane.type("still here");
    await pane.keys("Enter");
    await root.waitFor("kim: still here");
    // A kick from the main room is a kick out of the server.
    root.send("/kick kim enough");
    await pane.waitForRow("*** You were kicked by root: enough");
    await pane.waitForRow("-!- Not connecting again: you were kicked out of the server by root.");
    await endedOnce(pane, 1);
    assert.ok(![...chat.server.sessions].some((s) => s.nick === "kim"));
  },
});

Deno.test({
  name: "an address ban sends the client away, and a banned address is refused at connect: not connected again, exit 1",
  ignore,
  async fn() {
    // Dual-stack: the operator comes over IPv6 (::1), the client over IPv4, so the operator may ban the client's address.
    await using chat = await startOpServer({ op: ["root"], rate: 0, host: "::" }, { root: "root-secret" });
    const root = await connectTo("::1", chat.port);
    try {
      root.send("login root root-secret");
      await root.waitFor("*** You are an operator here.");
      await using pane = await clientInShell(["--nick", "ada", `127.0.0.1:${chat.port}`]);
      await pane.waitForRow("*** ada has entered the room.");
      const v4 = [...chat.server.sessions].find((s) => s.nick === "ada")!.ip;
      root.send(`/ban ${v4} 30m flood`);
      await pane.waitForRow(new RegExp(`^\\*\\*\\* You are banned ${UNTIL} \\(30m from now\\): flood$`));
      await pane.waitForRow(new RegExp(`^-!- Not connecting again: you are banned ${UNTIL}\\.$`));
      await endedOnce(pane, 1);
      // Started again while the ban holds: refused at connect, and not tried again.
      await clearShell(pane);
      await pane.type(`${TmuxPane.client(["--nick", "ada", `127.0.0.1:${chat.port}`])}; echo exit=$?`);
      await pane.keys("Enter");
      await pane.waitForRow(new RegExp(`^\\*\\*\\* Your address is banned ${UNTIL} \\(30m from now\\): flood$`));
      await pane.waitForRow(new RegExp(`^-!- Not connecting again: your address is banned ${UNTIL}\\.$`));
      await endedOnce(pane, 1);
    } finally {
      root.close();
      await root.done;
    }
  },
});

Deno.test({
  name: "a TLS certificate refused: the reason said once, not tried again, exit 1, terminal given back",
  ignore,
  async fn() {
    await using dir = await tempDir();
    const certs = await makeCertificates(dir.path);
    await using chat = await startServer({ rate: 0, tlsPort: 0, tlsCert: certs.cert, tlsKey: certs.key });
    const address = `127.0.0.1:${doorPort(chat, "telnets")}`;
    await using pane = await clientInShell(["--tls", address]); // the test CA is not given with --ca
    await pane.waitForRow(
      `-!- Cannot connect to ${address}: the server's certificate is not signed by a CA this computer trusts ` +
        "(a private CA, or self-signed?); give that CA with --ca FILE, or use --insecure to connect without " +
        "verifying it.",
    );
    await endedOnce(pane, 1, 0);
    const history = await pane.history();
    assert.equal(history.filter((r) => r.startsWith("-!- Cannot connect")).length, 1, history.join("\n"));
  },
});

Deno.test({
  name: "a lost connection is said plainly, then retried, and the nick is logged in again",
  ignore,
  async fn() {
    const first = await startServer({ rate: 0 });
    const port = first.port;
    await using pane = await clientPane(first, "fred");
    await first.close();
    await pane.waitForRow(/^-!- Connection to 127\.0\.0\.1:\d+ lost: .+\. Connecting again in 1 s/);
    await using second = await startServer({ rate: 0, port });
    // The client connects again by itself (after 1 s) and logs in as fred again.
    await second.event("login", (d) => d.session.nick === "fred", 15000);
    const watcher = await second.login("gus");
    await pane.waitForRow("*** gus has entered the room.");
    await pane.type("back again");
    await pane.keys("Enter");
    await watcher.waitFor("fred: back again");
  },
});

Deno.test({
  name: "a resize redraws: the input row moves to the new bottom, intact",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await clientPane(chat, "hana");
    await pane.type("still here 茶");
    await pane.waitFor((rows) => bottom(rows) === "> still here 茶", "the typed text");
    await pane.tmux("resize-window", "-x", "50", "-y", "15");
    const rows = await pane.waitFor((r) => r.length === 15 && bottom(r) === "> still here 茶", "the redraw");
    assert.ok(rows.includes("*** hana has entered the room."));
    assert.deepEqual(await pane.cursor(), [2 + stringWidth("still here 茶"), 14]);
  },
});

Deno.test({
  name: "against the C limit_server (raw mode): others' lines scroll above the typed text; --echo shows what was sent",
  ignore,
  async fn() {
    const server = await LimitServer.start(["--raw"]);
    if (typeof server === "string") {
      console.warn(`SKIPPED (limit_server cannot run): ${server}`);
      return;
    }
    try {
      await using pane = await TmuxPane.start(TmuxPane.client(["--echo", `127.0.0.1:${server.port}`]));
      await pane.waitForRow(`-!- Connected to 127.0.0.1:${server.port}.`);
      const other = await TestClient.connect(server.port);
      try {
        await pane.type("typing 茶");
        await pane.waitFor((rows) => bottom(rows) === "> typing 茶", "the typed text");
        for (let i = 1; i <= 5; i++) await other.send(`raw ${i}`);
        const rows = await pane.waitFor( // as the screen settles (see the first test)
          (r) => r.includes("raw 5") && bottom(r) === "> typing 茶",
          "the last line above the typed text",
        );
        assert.deepEqual(rows.filter((r) => r.startsWith("raw ")), ["raw 1", "raw 2", "raw 3", "raw 4", "raw 5"]);
        await pane.keys("Enter");
        await other.waitFor("typing 茶");
        await pane.waitForRow("> typing 茶"); // the echo above; the input row is empty again
        assert.equal(bottom(await pane.screen()), ">");
      } finally {
        other.close();
        await other.done;
      }
    } finally {
      await server.stop();
    }
  },
});

/** A server of the test's own on a free port: the test writes what it sends, byte for byte. */
function rawServer(): { port: number; accept: () => Promise<Deno.TcpConn>; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accept: () => listener.accept(),
    close: () => listener.close(),
  };
}

/** Reads from `conn` until what has come holds `text`. */
async function readUntil(conn: Deno.Conn, text: string): Promise<void> {
  const buf = new Uint8Array(4096);
  const decoder = new TextDecoder();
  let got = "";
  while (!got.includes(text)) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`the connection ended before ${JSON.stringify(text)}; got ${JSON.stringify(got)}`);
    got += decoder.decode(buf.subarray(0, n), { stream: true });
  }
}

Deno.test({
  name:
    "a chat line that arrives in two TCP reads, Enter pressed in between, comes out whole and apart from the typed line",
  ignore,
  async fn() {
    const server = rawServer();
    try {
      await using pane = await TmuxPane.start(TmuxPane.client(["--no-reconnect", `127.0.0.1:${server.port}`]));
      const conn = await server.accept();
      try {
        await conn.write(encoder.encode("*** Welcome to a slow server\r\n"));
        await pane.waitForRow("*** Welcome to a slow server");
        await pane.type("hello");
        await pane.waitFor((rows) => bottom(rows) === "> hello", "the typed text");
        await conn.write(encoder.encode("bob: this message arrives in two TCP rea"));
        await pane.keys("Enter");
        await readUntil(conn, "hello\r\n");
        await conn.write(encoder.encode("ds and should be one line\r\n"));
        const rows = await pane.waitForRow(/should be one line$/);
        assert.deepEqual(rows.filter((r) => r.startsWith("bob:") || r.includes("hello") || r.startsWith("ds ")), [
          "bob: this message arrives in two TCP reads and should be one line",
        ]);
        assert.equal(bottom(rows), ">");
        assert.deepEqual(await pane.cursor(), [2, 23]);
      } finally {
        conn.close();
      }
      await pane.waitForRow(/^-!- Connection to 127\.0\.0\.1:\d+ lost/);
    } finally {
      server.close();
    }
  },
});

Deno.test({
  name: "an input row tmux draws wider than the client guessed (skin-tone emoji) never wraps into the chat",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await clientPane(chat, "alice");
    const bob = await chat.login("bob");
    await pane.waitForRow("*** bob has entered the room.");
    const thumbs = "👍🏽".repeat(30); // 60 columns for the client, 120 for tmux 3.3a (the tone drawn apart)
    await pane.type(thumbs);
    await pane.waitFor((rows) => bottom(rows).startsWith("> 👍"), "the emoji on the input row");
    for (let i = 1; i <= 3; i++) await bob.send(`line ${i}`);
    await pane.waitForRow("bob: line 3");
    await pane.keys("Home");
    await bob.send("line 4");
    const rows = await pane.waitForRow("bob: line 4");
    const history = await pane.history();
    assert.deepEqual(history.filter((r) => /👍|🏽/u.test(r)), [bottom(rows)], "copies of the input row in the chat");
    assert.deepEqual(rows.slice(-5, -1), ["bob: line 1", "bob: line 2", "bob: line 3", "bob: line 4"]);
    assert.equal(await pane.format("#{wrap_flag}"), "1", "autowrap is on again between draws");
    await pane.keys("Enter");
    await bob.waitFor(`alice: ${thumbs}`);
  },
});

Deno.test({
  name: "at 5x5 the input row stays on the bottom row and nothing typed lands in the chat",
  ignore,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    await using pane = await clientPane(chat, "alice");
    const bob = await chat.login("bob");
    await pane.type("a long line 茶会 typed");
    await pane.waitFor((rows) => bottom(rows).endsWith("typed"), "the typed text");
    await pane.tmux("resize-window", "-x", "5", "-y", "5");
    await pane.waitFor((rows) => rows.length === 5 && bottom(rows).startsWith(">"), "the 5x5 redraw");
    await bob.send("hi");
    await pane.keys("Home");
    await bob.send("yo");
    await pane.waitForRow("bob: yo"); // wrapped by the terminal: "bob:" and "yo" on rows of their own
    const rows = await pane.screen();
    assert.ok(bottom(rows).startsWith(">"), rows.join("|"));
    assert.ok(!rows.slice(0, -1).some((r) => /long|typed|茶|^>/.test(r)), rows.join("|"));
    await pane.keys("End", "Enter");
    await bob.waitFor("alice: a long line 茶会 typed");
  },
});
