/**
 * The web client in a real browser (Debian's Chromium, headless) against a
 * real server: people on pages and on telnet chatting, private
 * conversations, rooms, history, passwords, a server restart, hostile text
 * and a phone-sized screen. Waits on page state, never on time.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { doorPort, type TestServer, WAIT_MS } from "./helpers.ts";
import { loginWithPassword, startOpServer, tempDir } from "./db_helpers.ts";
import { launchBrowser, PHONE, type TestBrowser } from "./browser.ts";
import { ircLogin } from "./irc_helpers.ts";
import type { ChatServerOptions } from "../server.ts";

// The page's globals, as the functions run in the browser see them (the
// tests are type-checked without the DOM library, which clashes with Deno's).
// deno-lint-ignore no-explicit-any
declare const document: any, localStorage: any, sessionStorage: any, getComputedStyle: any;
declare const innerWidth: number, innerHeight: number;
type Input = { value: string };
type Timing = { name: string; transferSize: number; decodedBodySize: number };

/** Where the screenshots go (ignored by git). */
const OUT = new URL("../bench/out/", import.meta.url);
await Deno.mkdir(OUT, { recursive: true });

/** A test server with its web page: `url` is the page's origin. */
interface WebServer extends AsyncDisposable {
  chat: TestServer;
  url: string;
  httpPort: number;
  close(): Promise<void>;
}

/**
 * Starts a test server (with `accounts` made first, as `npm run account`
 * does) with its HTTP door on `httpPort` (0: a free port), serving web/.
 */
async function startWeb(
  options: ChatServerOptions = {},
  accounts: Record<string, string> = {},
): Promise<WebServer> {
  const chat = await startOpServer({ httpPort: 0, ...options }, accounts);
  await chat.server.ready();
  const httpPort = doorPort(chat, "http");
  const web: WebServer = {
    chat,
    url: `http://127.0.0.1:${httpPort}`,
    httpPort,
    close: () => chat.close(),
    [Symbol.asyncDispose]: () => chat.close(),
  };
  return web;
}

// ------------------------------------------------------------ page helpers

/** Opens the chat page and waits for the server's welcome. */
async function open(
  browser: TestBrowser,
  url: string,
  viewport = undefined as typeof PHONE | undefined,
): Promise<Page> {
  const page = await browser.page(viewport);
  const response = await page.goto(url + "/");
  assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/, "served with the door's CSP");
  await page.waitForSelector("#welcome:not(:empty)");
  return page;
}

/** Logs in from the login form and waits for the own entry into the main room. */
async function logIn(page: Page, nick: string): Promise<void> {
  await page.click("#nick", { count: 3 });
  await page.type("#nick", nick);
  await page.keyboard.press("Enter");
  await page.waitForSelector('body[data-view="chat"]');
  await seeLine(page, "You are in ");
}

/** The text of every line of the conversation in view. */
function lines(page: Page): Promise<string[]> {
  return page.$$eval(".log:not([hidden]) .line", (ls) => ls.map((l) => l.textContent ?? ""));
}

/**
 * Waits until `test` holds in the page, looking again at every change of the
 * page's DOM (a page in a background tab runs no animation frames, so the
 * default polling would never look again).
 */
async function until(page: Page, test: () => unknown, timeout = WAIT_MS): Promise<void> {
  await page.waitForFunction(test, { timeout, polling: "mutation" });
}

/** Waits until a line of the conversation in view contains `text`. */
async function seeLine(page: Page, text: string): Promise<void> {
  try {
    await page.waitForFunction(
      (t) => [...document.querySelectorAll(".log:not([hidden]) .line")].some((l) => l.textContent?.includes(t)),
      { timeout: WAIT_MS, polling: "mutation" },
      text,
    );
  } catch (error) {
    throw new Error(`no line with "${text}"; the log shows:\n${(await lines(page)).join("\n")}`, { cause: error });
  }
}

/** Types a line in the message box and sends it with Enter. */
async function say(page: Page, text: string): Promise<void> {
  await page.focus("#input");
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/** The nicks in the People pane. */
function members(page: Page): Promise<string[]> {
  return page.$$eval("#members li", (ls) => ls.map((l) => l.firstElementChild?.textContent ?? ""));
}

/** Waits until the People pane lists exactly `nicks` (in order). */
async function seeMembers(page: Page, nicks: string[]): Promise<void> {
  try {
    await page.waitForFunction(
      (want) =>
        JSON.stringify([...document.querySelectorAll("#members li")].map((l) => l.firstElementChild?.textContent)) ===
          want,
      { timeout: WAIT_MS, polling: "mutation" },
      JSON.stringify(nicks),
    );
  } catch (error) {
    throw new Error(`People shows ${JSON.stringify(await members(page))}, not ${JSON.stringify(nicks)}`, {
      cause: error,
    });
  }
}

function attr(page: Page, selector: string, name: string): Promise<string | null> {
  return page.$eval(selector, (e, n) => e.getAttribute(n), name);
}

// ------------------------------------------------------------ tests

Deno.test("two browser users and a telnet user chat in one room, with times and a stable colour per nick", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const started = performance.now();
  const alice = await open(browser, web.url);
  const welcomed = performance.now() - started;
  await logIn(alice, "alice");
  const bob = await open(browser, web.url);
  await logIn(bob, "bob");
  const carol = await web.chat.login("carol");

  await say(alice, "hello from alice");
  await seeLine(bob, "hello from alice");
  await carol.waitFor("alice: hello from alice");
  carol.send("and carol on telnet");
  await seeLine(alice, "and carol on telnet");
  await seeLine(bob, "and carol on telnet");
  await say(bob, "/me waves");
  await seeLine(alice, "* bob waves");
  await carol.waitFor("* bob waves");

  // Every said line has a time and a nick coloured the same way on both pages.
  const colour = (page: Page, nick: string) =>
    page.$$eval(
      ".log:not([hidden]) .line .nick",
      (ns, n) => ns.filter((x) => x.textContent === n).map((x) => x.className),
      nick,
    );
  const onAlice = await colour(alice, "carol");
  const onBob = await colour(bob, "carol");
  assert.equal(onAlice.length, 1);
  assert.match(onAlice[0], /^nick n\d+$/);
  assert.deepEqual(onBob, onAlice);
  assert.notDeepEqual(await colour(alice, "alice"), [], "alice's own line is shown");
  const times = await alice.$$eval(
    ".log:not([hidden]) .line.talk time",
    (ts) => ts.map((t) => t.getAttribute("datetime")),
  );
  assert.ok(times.length >= 2 && times.every((t) => t && !Number.isNaN(Date.parse(t))), String(times));
  await seeMembers(alice, ["alice", "bob", "carol"]);
  assert.equal(await alice.$eval("#status-text", (e) => e.textContent), "Connected as alice");
  assert.ok(welcomed < 1000, `the welcome took ${welcomed.toFixed(0)} ms`);
  assert.deepEqual(browser.problems, []);
});

Deno.test("a private message from the page to a telnet user and back opens a conversation with an unread count", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const carol = await web.chat.login("carol");
  await seeMembers(alice, ["alice", "carol"]);

  // Choosing carol under People opens the conversation; plain text there is private.
  await alice.click('#members button[data-nick="carol"]');
  await alice.waitForSelector('#privates button[aria-current="true"]');
  assert.equal(await alice.$eval("#where", (e) => e.textContent), "@carol");
  await say(alice, "just between us");
  assert.equal(await carol.waitFor(/private/), "[private] alice: just between us");
  await seeLine(alice, "just between us");

  // Back in the room, carol's answer counts as unread in her conversation.
  await alice.keyboard.down("Alt");
  await alice.keyboard.press("Digit1");
  await alice.keyboard.up("Alt");
  await until(alice, () => document.querySelector("#where")?.textContent === "#main");
  carol.send("/msg alice sure thing");
  await until(alice, () => document.querySelector("#privates .badge")?.textContent === "1");
  assert.equal(await alice.title(), "(1) TestChat");
  carol.send("@alice twice");
  await until(alice, () => document.querySelector("#privates .badge")?.textContent === "2");
  assert.ok(!(await lines(alice)).some((l) => l.includes("sure thing")), "not shown in the room");

  // Alt+2 switches to it (keyboard only): read, so the count goes.
  await alice.keyboard.down("Alt");
  await alice.keyboard.press("Digit2");
  await alice.keyboard.up("Alt");
  await seeLine(alice, "sure thing");
  await seeLine(alice, "twice");
  assert.equal(await alice.$("#privates .badge"), null);
  assert.equal(await alice.title(), "TestChat");
  assert.equal(await alice.evaluate(() => document.activeElement?.id), "input");

  // Tab order around the message box: the log before it, Send after it, then the people.
  const focused = () => alice.evaluate(() => document.activeElement?.id || document.activeElement?.className);
  await alice.keyboard.press("Tab");
  assert.equal(await focused(), "send");
  await alice.keyboard.press("Tab");
  assert.equal(await alice.evaluate(() => document.activeElement?.dataset.nick), "carol", "carol under People");
  await alice.keyboard.down("Shift");
  await alice.keyboard.press("Tab");
  await alice.keyboard.press("Tab");
  await alice.keyboard.press("Tab");
  await alice.keyboard.up("Shift");
  assert.equal(await alice.evaluate(() => document.activeElement?.getAttribute("role")), "log");
  assert.equal(
    await alice.evaluate(() => document.activeElement?.getAttribute("aria-label")),
    "Private conversation with carol",
  );
  await alice.keyboard.press("Escape");
  assert.equal(await focused(), "input");
  assert.deepEqual(browser.problems, []);
});

Deno.test("joining and leaving a room updates the member lists and the room list on every page", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const bob = await open(browser, web.url);
  await logIn(bob, "bob");
  await seeMembers(alice, ["alice", "bob"]);

  // bob goes to a new room with the Go form.
  await bob.type("#join-room", "garden");
  await bob.keyboard.press("Enter");
  await until(bob, () => document.querySelector("#where")?.textContent === "#garden");
  await seeMembers(bob, ["bob"]);
  await seeMembers(alice, ["alice"]);
  await seeLine(alice, "bob left main.");
  await bob.waitForSelector('#rooms button.current[data-room="garden"]');

  // alice follows with a typed /join; both lists show both.
  await say(alice, "/join garden");
  await until(alice, () => document.querySelector("#where")?.textContent === "#garden");
  await seeMembers(alice, ["alice", "bob"]);
  await seeMembers(bob, ["alice", "bob"]);
  await seeLine(bob, "alice entered garden.");
  await say(alice, "nice roses");
  await seeLine(bob, "nice roses");

  // The room list knows both rooms; choosing main moves bob back.
  await bob.waitForSelector('#rooms button[data-room="main"]');
  await bob.click('#rooms button[data-room="main"]');
  await until(bob, () => document.querySelector("#where")?.textContent === "#main");
  await seeMembers(alice, ["alice"]);
  await seeMembers(bob, ["bob"]);
  await say(alice, "/leave");
  await seeMembers(bob, ["alice", "bob"]);
  assert.deepEqual(browser.problems, []);
});

Deno.test("after a page reload, logging in again shows the room's history", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const carol = await web.chat.login("carol");
  carol.send("remember this");
  await say(alice, "and this");
  await carol.waitFor("alice: and this");

  await alice.reload();
  await alice.waitForSelector("#welcome:not(:empty)");
  assert.equal(await alice.$eval("#nick", (e) => (e as Input).value), "alice", "the nick is offered again");
  await alice.keyboard.press("Enter"); // the submit button has the focus
  await alice.waitForSelector('body[data-view="chat"]');
  await seeLine(alice, "remember this");
  const shownAfter = await alice.evaluate(() => performance.now()); // ms since the reload began
  assert.ok(shownAfter < 1000, `the first message showed ${shownAfter.toFixed(0)} ms after the page began loading`);
  const history = await alice.$$eval(".log:not([hidden]) .line.history", (ls) => ls.map((l) => l.textContent));
  assert.equal(history.length, 2, history.join("\n"));
  assert.match(history[0] ?? "", /carol: remember this$/);
  assert.match(history[1] ?? "", /alice: and this$/);
  assert.deepEqual(browser.problems, []);
});

Deno.test("a registered nick logs in with its password in a hidden field, kept out of URLs and storage", async () => {
  await using dir = await tempDir();
  await using web = await startWeb({ db: `${dir.path}/chat.db` }, { carol: "tea-for-two" });
  await using browser = await launchBrowser();
  const page = await open(browser, web.url);
  await page.type("#nick", "carol");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#password-row:not([hidden])");
  assert.equal(await attr(page, "#password", "type"), "password");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "password");
  assert.match(await page.$eval("#password-label", (e) => e.textContent ?? ""), /carol is a registered nick/);

  await page.type("#password", "wrong guess");
  await page.keyboard.press("Enter");
  await until(page, () => /Wrong password/.test(document.querySelector("#login-error")?.textContent ?? ""));
  assert.equal(await attr(page, "#password-row", "hidden"), null, "asked again");
  await page.type("#password", "tea-for-two");
  await page.keyboard.press("Enter");
  await page.waitForSelector('body[data-view="chat"]');
  await seeLine(page, "You are in main.");

  assert.equal(page.url(), web.url + "/");
  const stored = await page.evaluate(() =>
    JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie])
  );
  assert.ok(!stored.includes("tea-for-two"), stored);
  assert.equal(await page.$eval("#password", (e) => (e as Input).value), "");
  assert.deepEqual(browser.problems, []);
});

Deno.test("mail kept while away shows in its conversation, an action mail as an action", async () => {
  await using dir = await tempDir();
  await using web = await startWeb({ db: `${dir.path}/chat.db`, ircPort: 0 }, { carol: "tea-for-two" });
  const irc = Object.assign(web.chat, { ircPort: doorPort(web.chat, "irc") });
  const bob = await ircLogin(irc, "bob");
  bob.send("PRIVMSG carol :\x01ACTION waves\x01");
  await bob.waitFor(/NOTICE bob :carol is offline/);
  bob.send("PRIVMSG carol :* bob is only words");
  await bob.waitFor(/NOTICE bob :carol is offline/);
  await using browser = await launchBrowser();
  const page = await open(browser, web.url);
  await page.type("#nick", "carol");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#password-row:not([hidden])");
  await page.type("#password", "tea-for-two");
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelectorAll(".line.mail").length === 2);
  const mail = await page.$$eval(".line.mail", (ls) => ls.map((l) => [l.classList.contains("act"), l.textContent]));
  assert.equal(mail[0][0], true, `an action: ${mail[0][1]}`);
  assert.match(mail[0][1] as string, /bob waves/);
  assert.equal(mail[1][0], false, `plain: ${mail[1][1]}`);
  assert.match(mail[1][1] as string, /\* bob is only words/);
  assert.deepEqual(browser.problems, []);
});

Deno.test("when the server restarts, the page logs in again by itself and returns to its room", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/chat.db`;
  let web = await startWeb({ db }, { alice: "secret-pass" });
  try {
    await using browser = await launchBrowser();
    const page = await open(browser, web.url);
    await page.type("#nick", "alice");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#password-row:not([hidden])");
    await page.type("#password", "secret-pass");
    await page.keyboard.press("Enter");
    await seeLine(page, "You are in main.");
    await say(page, "/join garden");
    await until(page, () => document.querySelector("#where")?.textContent === "#garden");
    await say(page, "before the restart");
    await seeLine(page, "before the restart");
    await page.type("#input", "half-typed");

    const url = web.url;
    await web.close();
    await page.waitForFunction(() =>
      document.body.dataset.conn === "reconnecting" || document.body.dataset.conn === "offline"
    );
    web = await startWeb({ db, httpPort: web.httpPort });
    assert.equal(web.url, url);

    await until(page, () => document.body.dataset.conn === "online", 15_000);
    await until(page, () => document.querySelector("#where")?.textContent === "#garden");
    await seeLine(page, "Reconnected.");
    const bob = await web.chat.login("bob");
    bob.send("/join garden");
    await bob.waitFor(/You are now in garden/);
    await seeMembers(page, ["alice", "bob"]);
    bob.send("welcome back");
    await seeLine(page, "welcome back");
    const said = (await lines(page)).filter((l) => l.endsWith("alice: before the restart"));
    assert.equal(said.length, 1, "history already shown is not shown twice");
    assert.equal(await page.$eval("#input", (e) => (e as Input).value), "half-typed");
    assert.deepEqual(browser.problems, []);
  } finally {
    await web.close();
  }
});

Deno.test("after a restart of a server without a database, the page shows the lines said while it reconnected", async () => {
  // The lines are kept in memory only: the restarted server has none of the old ones, and
  // its new lines must not be taken for lines the page showed before (same ids).
  let web = await startWeb();
  try {
    await using browser = await launchBrowser();
    const page = await open(browser, web.url);
    await logIn(page, "alice");
    for (const text of ["one", "two", "three"]) {
      await say(page, text);
      await seeLine(page, `alice: ${text}`);
    }

    await web.close();
    await page.waitForFunction(() =>
      document.body.dataset.conn === "reconnecting" || document.body.dataset.conn === "offline"
    );
    await page.setOfflineMode(true); // the page stays away until the lines are said
    web = await startWeb({ httpPort: web.httpPort });
    const bob = await web.chat.login("bob");
    const carol = await web.chat.login("carol");
    bob.send("said while alice was away 1");
    bob.send("said while alice was away 2");
    await carol.waitFor("bob: said while alice was away 2");
    await page.setOfflineMode(false);

    await until(page, () => document.body.dataset.conn === "online", 15_000);
    await seeLine(page, "Reconnected.");
    await seeLine(page, "bob: said while alice was away 2");
    const shown = await lines(page);
    for (const text of ["alice: one", "alice: two", "alice: three", "bob: said while alice was away 1"]) {
      assert.equal(shown.filter((l) => l.endsWith(text)).length, 1, `"${text}" once in:\n${shown.join("\n")}`);
    }
    assert.deepEqual(browser.problems, []);
  } finally {
    await web.close();
  }
});

Deno.test("a page kicked off the server stays off until its user reconnects; Log out goes back to the login form", async () => {
  await using dir = await tempDir();
  await using web = await startWeb({ db: `${dir.path}/chat.db`, op: ["op"] }, { op: "op-password" });
  await using browser = await launchBrowser();
  const page = await open(browser, web.url);
  await logIn(page, "alice");
  const op = await loginWithPassword(web.chat, "op", "op-password");
  await seeMembers(page, ["alice", "op"]);
  op.send("/kick alice enough for today");
  await until(page, () => document.body.dataset.conn === "offline");
  await seeLine(page, "You were kicked by op: enough for today");
  assert.match(await page.$eval("#status-text", (e) => e.textContent ?? ""), /^Disconnected: You were kicked/);
  assert.equal(await attr(page, "#reconnect", "hidden"), null, "a Reconnect button is offered");
  assert.equal(web.chat.server.find("alice"), undefined);

  // The person decides to come back: one click, same nick, no retyping.
  const back = web.chat.event("login", (d) => d.session.nick === "alice");
  await page.click("#reconnect");
  await back;
  await until(page, () => document.body.dataset.conn === "online");
  await seeLine(page, "Reconnected.");

  const gone = web.chat.event("close", (d) => d.session.nick === "alice");
  await page.click("#logout");
  await gone;
  await page.waitForSelector('body[data-view="login"]');
  assert.equal(await page.$eval("#nick", (e) => (e as Input).value), "alice");
  assert.equal(await page.$("#logs .log"), null, "the conversations are gone");
  assert.deepEqual(browser.problems, []);
});

Deno.test("markup and scripts in chat are shown as text and never run", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const carol = await web.chat.login("carol");
  const attacks = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    '<a href="javascript:alert(3)">click</a>',
    "<b onmouseover=alert(4)>bold</b> &amp; &lt;",
  ];
  for (const line of attacks) carol.send(line);
  carol.send(`@alice ${attacks[0]}`);
  await say(alice, attacks[1]);
  await carol.waitFor(`alice: ${attacks[1]}`);
  for (const line of attacks) await seeLine(alice, `carol: ${line}`);
  await alice.waitForSelector("#privates .badge");
  const injected = await alice.$$eval("#logs img, #logs script, #logs a, #logs b, #privates img", (es) => es.length);
  assert.equal(injected, 0);
  await alice.hover(".log:not([hidden])");
  assert.deepEqual(browser.problems, []);
});

Deno.test("on a phone-sized screen nothing overflows sideways and the message box stays in view", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const page = await open(browser, web.url, PHONE);
  await logIn(page, "alice");
  const carol = await web.chat.login("carol_with_a_long_nick");
  carol.send("morning! the kettle is on");
  carol.send("a".repeat(300));
  carol.send("https://example.invalid/" + "path/".repeat(40));
  await seeLine(page, "a".repeat(300));
  await page.screenshot({ path: new URL("web-phone.png", OUT).pathname });
  await say(page, "/help");
  await seeLine(page, "Any other line is said to the room.");

  const layout = () =>
    page.evaluate(() => {
      const box = document.querySelector("#input")!.getBoundingClientRect();
      return {
        scroll: document.documentElement.scrollWidth,
        body: document.body.scrollWidth,
        width: innerWidth,
        height: innerHeight,
        input: { left: box.left, right: box.right, top: box.top, bottom: box.bottom },
      };
    });
  const l = await layout();
  assert.equal(l.width, 375);
  assert.ok(l.scroll <= 375 && l.body <= 375, JSON.stringify(l));
  assert.ok(
    l.input.left >= 0 && l.input.right <= 375 && l.input.top >= 0 && l.input.bottom <= l.height,
    JSON.stringify(l),
  );
  const wide = await page.$$eval("#logs .line", (ls) => ls.filter((x) => x.scrollWidth > x.clientWidth + 1).length);
  assert.equal(wide, 0, "no log line scrolls sideways");

  // The conversations and people panes are drawers behind buttons.
  assert.equal(await page.$eval("#side", (e) => getComputedStyle(e).visibility), "hidden");
  await page.click("#open-side");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#side")!).visibility === "visible");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#side")!).visibility === "hidden");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "input");
  await page.click("#open-members");
  await page.waitForFunction(() => {
    const pane = document.querySelector("#members-pane.open")?.getBoundingClientRect();
    return pane && pane.right <= innerWidth && pane.left >= 0; // slid in
  });
  await page.click('#members button[data-nick="carol_with_a_long_nick"]');
  await until(page, () => document.querySelector("#where")?.textContent === "@carol_with_a_long_nick");
  assert.ok((await layout()).scroll <= 375);
  assert.deepEqual(browser.problems, []);
});

Deno.test("arriving messages leave the message box and a scrolled-up log alone", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const carol = await web.chat.login("carol");
  // Ten long lines (within the burst of the rate limit) fill more than the screen.
  for (let i = 1; i <= 10; i++) carol.send(`line ${i} ` + "word ".repeat(150));
  await seeLine(alice, "line 10 ");
  assert.ok(await alice.$eval(".log:not([hidden])", (l) => l.scrollHeight > 2 * l.clientHeight), "the log overflows");
  const atBottom = await alice.$eval(".log:not([hidden])", (l) => l.scrollTop + l.clientHeight >= l.scrollHeight - 8);
  assert.ok(atBottom, "followed the new lines while at the bottom");

  await alice.focus("#input");
  await alice.keyboard.type("draft in progress");
  await alice.$eval(".log:not([hidden])", (l) => l.scrollTop = 100);
  await alice.waitForFunction(() => document.querySelector(".log:not([hidden])")!.scrollTop === 100);
  carol.send("while you read");
  carol.send("and another");
  await seeLine(alice, "and another");
  assert.equal(await alice.$eval(".log:not([hidden])", (l) => l.scrollTop), 100, "the log did not jump");
  await until(alice, () => document.querySelector("#newer")?.textContent === "2 new ↓");
  assert.equal(await alice.$eval("#input", (e) => (e as Input).value), "draft in progress");
  assert.equal(await alice.evaluate(() => document.activeElement?.id), "input");

  // Up recalls what was sent; a line over the server's limit is kept, not sent.
  await alice.$eval("#input", (e) => (e as Input).value = "");
  await say(alice, "first thing");
  await seeLine(alice, "alice: first thing");
  await alice.keyboard.press("ArrowUp");
  assert.equal(await alice.$eval("#input", (e) => (e as Input).value), "first thing");
  const long = "x".repeat(5000);
  await alice.$eval("#input", (e, v) => (e as Input).value = v, long);
  await alice.keyboard.press("Enter");
  await seeLine(alice, "the server takes at most 4096");
  assert.equal(await alice.$eval("#input", (e) => (e as Input).value), long);
  assert.equal(await alice.evaluate(() => document.body.dataset.conn), "online", "still connected");
  assert.deepEqual(browser.problems, []);
});

Deno.test("the chat page, with a topic, history, people and a private conversation (screenshot)", async () => {
  await using dir = await tempDir();
  await using web = await startWeb({ db: `${dir.path}/chat.db`, op: ["alice"], name: "teaparty" }, {
    alice: "op-password",
  });
  await using browser = await launchBrowser();
  const bob = await web.chat.login("bob");
  bob.send("has anyone tried the oolong?");
  const carol = await web.chat.login("carol");
  carol.send("/me pours a cup");
  carol.send("it is lovely, bob");
  await bob.waitFor("carol: it is lovely, bob");

  const page = await open(browser, web.url);
  await page.type("#nick", "alice");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#password-row:not([hidden])");
  await page.type("#password", "op-password");
  await page.keyboard.press("Enter");
  await seeLine(page, "it is lovely, bob");
  await say(page, "/topic Second flush tasting, 5 pm");
  await until(page, () => document.querySelector("#topic")?.textContent?.includes("Second flush"));
  await say(page, "count me in, I'll bring scones");
  await bob.waitFor(/count me in/);
  bob.send("@alice can you save me a seat?");
  await page.waitForSelector("#privates .badge");
  bob.send("/join garden");
  await bob.waitFor(/You are now in garden/);
  await seeMembers(page, ["alice", "carol"]);
  await say(page, "/rooms");
  await seeLine(page, "Rooms: ");
  await page.screenshot({ path: new URL("web-chat.png", OUT).pathname });

  // What a page costs: every file it loaded, as sent (compressed when the server compresses).
  const sizes = await page.evaluate(() =>
    performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation")).map((e) => ({
      name: e.name,
      transfer: (e as unknown as Timing).transferSize,
      body: (e as unknown as Timing).decodedBodySize,
    }))
  );
  const total = sizes.filter((s) => s.name.startsWith("http")).reduce((n, s) => n + s.transfer, 0);
  console.log(
    `web client over the wire: ${total} bytes`,
    sizes.map((s) => `${new URL(s.name).pathname} ${s.transfer}/${s.body}`),
  );
  assert.ok(total < 100_000, `${total} bytes`);
  assert.deepEqual(browser.problems, []);
});

// ------------------------------------------------------------ fixes found by the audit

/** The text of every line in the log labelled `label` ("Messages in den", "Private conversation with rooty"). */
function linesOf(page: Page, label: string): Promise<string[]> {
  return page.$$eval(
    ".log",
    (ls, l) =>
      ls.filter((x) => x.getAttribute("aria-label") === l).flatMap((x) => [...x.children]).map((x) =>
        x.textContent ?? ""
      ),
    label,
  );
}

/** Waits until the log labelled `label` has a line containing `text`. */
async function seeLineIn(page: Page, label: string, text: string, timeout = WAIT_MS): Promise<void> {
  try {
    await page.waitForFunction(
      (l, t) =>
        [...document.querySelectorAll(".log")].some((x) =>
          x.getAttribute("aria-label") === l && [...x.children].some((c) => c.textContent?.includes(t))
        ),
      { timeout, polling: "mutation" },
      label,
      text,
    );
  } catch (error) {
    throw new Error(`no line with "${text}" in "${label}"; it shows:\n${(await linesOf(page, label)).join("\n")}`, {
      cause: error,
    });
  }
}

function where(page: Page): Promise<string | null> {
  return page.$eval("#where", (e) => e.textContent);
}

Deno.test("a line longer than the server's --max-line is refused on the page and stays in the box; the page stays on", async () => {
  await using web = await startWeb({ maxLine: 200 });
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const carol = await web.chat.login("carol");
  const typeIn = async (text: string) => {
    await alice.$eval("#input", (e, v) => (e as Input).value = v, text);
    await alice.focus("#input");
    await alice.keyboard.press("Enter");
  };

  const long = "x".repeat(300);
  await typeIn(long);
  await seeLine(
    alice,
    "That line is 300 bytes; the server takes at most 200. It was not sent: it is still in the box.",
  );
  assert.equal(await alice.$eval("#input", (e) => (e as Input).value), long, "what was typed is kept");
  // Counted in UTF-8 bytes, as the server counts the WebSocket message: 67 × 3 bytes is too long, 66 × 3 fits.
  await typeIn("茶".repeat(67));
  await seeLine(alice, "That line is 201 bytes");
  assert.equal(await alice.$eval("#input", (e) => (e as Input).value), "茶".repeat(67));
  await typeIn("茶".repeat(66));
  await carol.waitFor(`alice: ${"茶".repeat(66)}`);
  assert.equal(await alice.$eval("#input", (e) => (e as Input).value), "", "a line that fits is sent");
  await typeIn("y".repeat(200));
  await seeLine(alice, `alice: ${"y".repeat(200)}`);
  assert.equal(await alice.evaluate(() => document.body.dataset.conn), "online", "never disconnected");
  assert.ok(!(await lines(alice)).some((l) => /Connection lost|Disconnected/.test(l)));
  assert.deepEqual(browser.problems, []);
});

Deno.test("kicked out of a side room, the page lands in the main room and says why there, once", async () => {
  await using dir = await tempDir();
  await using web = await startWeb({ db: `${dir.path}/chat.db`, op: ["op"] }, { op: "op-password" });
  await using browser = await launchBrowser();
  const page = await open(browser, web.url);
  await logIn(page, "alice");
  await say(page, "/join den");
  await until(page, () => document.querySelector("#where")?.textContent === "#den");
  const op = await loginWithPassword(web.chat, "op", "op-password");
  op.send("/join den");
  await seeMembers(page, ["alice", "op"]);

  op.send("/kick alice too much tea");
  await until(page, () => document.querySelector("#where")?.textContent === "#main");
  await seeLine(page, "You were kicked from den by op: too much tea");
  const carol = await web.chat.login("carol");
  carol.send("after the kick");
  await seeLine(page, "after the kick"); // everything about the kick has arrived by now
  const everywhere = await page.$$eval("#logs .line", (ls) => ls.map((l) => l.textContent ?? ""));
  const told = everywhere.filter((l) => l.includes("too much tea"));
  assert.equal(told.length, 1, `said once in all the logs:\n${told.join("\n")}`);
  const shown = await lines(page);
  const at = shown.findIndex((l) => l.includes("too much tea"));
  assert.ok(at > shown.findIndex((l) => l.includes("You are in main.")), shown.join("\n"));
  assert.equal(await page.evaluate(() => document.body.dataset.conn), "online");
  assert.deepEqual(browser.problems, []);
});

Deno.test("on a phone the drawers take the keyboard as they open, Tab stays inside them, Esc gives it back", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const page = await open(browser, web.url, PHONE);
  await logIn(page, "alice");
  const carol = await web.chat.login("carol");
  carol.send("/msg alice hello");
  await page.waitForSelector("#privates button[data-key]");
  await seeMembers(page, ["alice", "carol"]);
  const inside = (id: string) => page.evaluate((i) => document.getElementById(i)!.contains(document.activeElement), id);
  const focused = () =>
    page.evaluate(() => {
      const e = document.activeElement;
      return `${e?.tagName}#${e?.id}.${e?.dataset?.key ?? e?.dataset?.close ?? ""}`;
    });
  // Focus is looked at every 20 ms: it is no DOM change, and a focus held back is never given later.
  const focusIn = (id: string) =>
    page.waitForFunction((i) => document.getElementById(i)!.contains(document.activeElement), {
      timeout: 2000,
      polling: 20,
    }, id);

  for (const open of ["key", "click"]) {
    await page.focus("#input");
    if (open === "key") {
      await page.keyboard.down("Alt");
      await page.keyboard.press("KeyC");
      await page.keyboard.up("Alt");
    } else await page.click("#open-side");
    await focusIn("side");
    assert.match(await focused(), /^BUTTON#\.room:main$/, "on the room you are in");
    assert.equal(await page.evaluate(() => document.querySelector("main")!.inert), true, "the page behind is inert");
    // Tab goes round the drawer: the rooms, the Go form, the private conversations, and back.
    const round: string[] = [await focused()];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      assert.ok(await inside("side"), `Tab ${i + 1} left the drawer for ${await focused()}`);
      round.push(await focused());
    }
    const first = round.indexOf(round[0], 1);
    assert.ok(first > 1, `Tab came back to the start: ${round.join(" ")}`);
    assert.deepEqual(round.slice(0, first), [
      "BUTTON#.room:main",
      "INPUT#join-room.",
      "BUTTON#.",
      "BUTTON#.nick:carol",
      "BUTTON#.nick:carol",
    ]);
    for (let i = 0; i < first && await focused() !== round[0]; i++) await page.keyboard.press("Tab");
    await page.keyboard.down("Shift");
    await page.keyboard.press("Tab");
    await page.keyboard.up("Shift");
    assert.equal(await focused(), round[first - 1], "Shift+Tab from the first goes to the last");
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => getComputedStyle(document.querySelector("#side")!).visibility === "hidden");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "input");
    assert.equal(await page.evaluate(() => document.querySelector("main")!.inert), false);
  }

  await page.keyboard.down("Alt");
  await page.keyboard.press("KeyP");
  await page.keyboard.up("Alt");
  await focusIn("members-pane");
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.nick), "carol");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.nick), "carol", "the only thing to go to");
  await page.keyboard.press("Escape");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "input");
  assert.deepEqual(browser.problems, []);
});

/**
 * Whether anything of `selector` is drawn outside its own box within
 * `container`: the strips of the container above and below it are
 * screenshotted, the element's text made transparent, and shot again.
 */
async function inkOutside(page: Page, selector: string, container: string): Promise<string[]> {
  const boxes = await page.evaluate(
    (s, c) => {
      const e = document.querySelector(s)!.getBoundingClientRect();
      const box = document.querySelector(c)!.getBoundingClientRect();
      return { e: { top: e.top, bottom: e.bottom }, c: { x: box.x, y: box.y, width: box.width, bottom: box.bottom } };
    },
    selector,
    container,
  );
  const strips = [
    { name: "above", x: boxes.c.x, y: boxes.c.y, width: boxes.c.width, height: boxes.e.top - boxes.c.y },
    { name: "below", x: boxes.c.x, y: boxes.e.bottom, width: boxes.c.width, height: boxes.c.bottom - boxes.e.bottom },
  ].filter((s) => s.height >= 1);
  const shoot = () =>
    Promise.all(
      strips.map(({ x, y, width, height }) => page.screenshot({ clip: { x, y, width, height }, encoding: "binary" })),
    );
  const before = await shoot();
  await page.$eval(selector, (e) => {
    for (const n of [e, ...e.querySelectorAll("*")]) n.style.setProperty("color", "transparent", "important");
  });
  const after = await shoot();
  await page.$eval(selector, (e) => {
    for (const n of [e, ...e.querySelectorAll("*")]) n.style.removeProperty("color");
  });
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  return strips.filter((_, i) => !same(before[i], after[i])).map((s) => s.name);
}

Deno.test("stacked combining marks stay inside their log line, their room's row and the people title", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const carol = await web.chat.login("carol");
  for (let i = 1; i <= 5; i++) carol.send(`plain line ${i}`);
  const zalgo = "a" + "\u0301".repeat(200);
  carol.send(zalgo);
  await seeLine(alice, zalgo);
  await alice.evaluate(() => document.querySelector("#input")!.blur()); // no caret blinking in the shots
  const line = ".log:not([hidden]) .line:last-child";
  assert.equal(await alice.$eval(line, (e) => e.textContent?.endsWith("\u0301".repeat(200))), true);
  assert.deepEqual(await inkOutside(alice, line, ".log:not([hidden])"), [], "the marks are drawn over other lines");

  // A nick may carry up to 4 marks on a letter: its row under People keeps them.
  const nick = "ka\u0301\u0302\u0303\u0304";
  await web.chat.login(nick);
  await alice.waitForSelector(`#members button[data-nick="${nick}"]`);
  await alice.evaluate(() => document.querySelector("#input")!.blur());
  const person = await alice.$$eval("#members li", (ls, n) => ls.findIndex((l) => l.textContent === n), nick);
  assert.deepEqual(await inkOutside(alice, `#members li:nth-child(${person + 1})`, "#members-pane"), [], "the nick");

  // A room name may carry marks too (31 on one letter): its row in the list and the People title keep them.
  const room = "a" + "\u0301".repeat(31);
  await alice.$eval("#input", (e, v) => (e as Input).value = v, `/join ${room}`);
  await alice.focus("#input");
  await alice.keyboard.press("Enter");
  await until(alice, () => document.querySelector("#where")?.textContent?.startsWith("#a\u0301"));
  await alice.evaluate(() => document.querySelector("#input")!.blur());
  const row = await alice.$$eval("#rooms li", (ls) => ls.findIndex((l) => l.textContent?.startsWith("#a\u0301")));
  assert.ok(row >= 0);
  assert.deepEqual(await inkOutside(alice, `#rooms li:nth-child(${row + 1})`, "#side"), [], "the room's row");
  assert.deepEqual(await inkOutside(alice, "#members-title", "#members-pane"), [], "the People title");
  assert.deepEqual(await inkOutside(alice, ".log:not([hidden]) .line:last-child", ".log:not([hidden])"), []);
  assert.deepEqual(browser.problems, []);
});

Deno.test("server notices without a room go to the room's log; answers about a private message to that conversation", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const rooty = await web.chat.login("rooty");
  rooty.send("/away making tea");
  await rooty.waitFor(/You are marked as away/);
  const withRooty = "Private conversation with rooty";

  // From the room, a private line: its echo opens rooty's conversation, and the away answer belongs there.
  await say(alice, "@rooty are you there?");
  await seeLineIn(alice, withRooty, "rooty is away: making tea");
  assert.equal(await where(alice), "#main", "still in the room");
  assert.ok(!(await lines(alice)).some((l) => l.includes("is away")), "not in the room's log");

  // The room's own notices go to the room, even with a private conversation in front.
  await say(alice, "/join den");
  await until(alice, () => document.querySelector("#where")?.textContent === "#den");
  await seeLine(alice, "You are now in den, alone.");
  await alice.keyboard.down("Alt");
  await alice.keyboard.press("Digit2");
  await alice.keyboard.up("Alt");
  await until(alice, () => document.querySelector("#where")?.textContent === "@rooty");
  // A command typed in the conversation is answered there.
  await say(alice, "/whois rooty");
  await seeLineIn(alice, withRooty, "rooty: in main");

  // The connection breaks; the page comes back by itself, to den, and rooty stays in front.
  const cut = [...web.chat.server.sessions].find((s) => s.nick === "alice")!;
  const back = web.chat.event("login", (d) => d.session.nick === "alice", 15_000);
  cut.close("test: the connection is cut");
  await back;
  await seeLineIn(alice, "Messages in den", "Reconnected.", 15_000);
  await until(alice, () =>
    [...document.querySelectorAll('.log[aria-label="Messages in den"] .line')]
      .filter((l) => l.textContent?.includes("You are now in den, alone.")).length === 2);
  assert.equal(await where(alice), "@rooty");
  const private_ = await linesOf(alice, withRooty);
  assert.ok(
    !private_.some((l) => /Reconnected|Connection lost|You are now in|You are in/.test(l)),
    `the room's notices went to the private conversation:\n${private_.join("\n")}`,
  );
  assert.deepEqual(browser.problems, []);
});

Deno.test("the room list shows a room someone opens within seconds while it is on screen; a closed drawer is not polled", async () => {
  await using web = await startWeb();
  await using browser = await launchBrowser();
  const alice = await open(browser, web.url);
  await logIn(alice, "alice");
  const carol = await web.chat.login("carol");
  const started = performance.now();
  carol.send("/join arbor");
  await carol.waitFor(/You are now in arbor/);
  await until(alice, () => document.querySelector('#rooms button[data-room="arbor"]') !== null, 8000);
  const shown = performance.now() - started;
  assert.ok(shown < 7000, `arbor showed after ${shown.toFixed(0)} ms`);
  const bob = await web.chat.login("bob");
  bob.send("/join arbor");
  await until(
    alice,
    () => document.querySelector('#rooms button[data-room="arbor"] .count')?.textContent === "2",
    8000,
  );
  await alice.close();

  // On a phone the list is behind ☰: nothing is asked while it is closed, and opening it asks at once.
  const page = await browser.page(PHONE);
  await page.evaluateOnNewDocument(() => {
    const sent: string[] = [];
    Object.defineProperty(globalThis, "sentLines", { value: sent });
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      sent.push(String(data));
      return send.call(this, data);
    };
  });
  await page.goto(web.url + "/");
  await page.waitForSelector("#welcome:not(:empty)");
  await logIn(page, "dave");
  const asked = () =>
    page.evaluate(() => (Reflect.get(globalThis, "sentLines") as string[]).filter((l) => l === "/rooms").length);
  await page.waitForSelector('#rooms button[data-room="arbor"]'); // the answer to entering
  const before = await asked();
  carol.send("/join cellar");
  await carol.waitFor(/You are now in cellar/);
  await new Promise((r) => setTimeout(r, 6000)); // longer than the page's poll: a wait on time to see nothing happen
  assert.equal(await asked(), before, "the closed drawer was polled");
  await page.click("#open-side");
  await page.waitForSelector('#rooms button[data-room="cellar"]', { timeout: 2000 });
  assert.equal(await asked(), before + 1);
  assert.deepEqual(browser.problems, []);
});
