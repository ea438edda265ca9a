/**
 * Cluster mode (`--redis`): two real server processes on one real
 * `redis-server` act as one chat, whatever door each user comes through.
 */
import assert from "node:assert/strict";
import { runCli, TestClient, WAIT_MS } from "./helpers.ts";
import {
  CLUSTER_PERMISSIONS,
  clusterNode,
  type ClusterNodeProcess,
  freePort,
  ircOn,
  redisMissing,
  RedisServer,
  telnetOn,
} from "./redis_helpers.ts";

const ignore = redisMissing;

/** A JSON event as the WebSocket door sends it. */
// deno-lint-ignore no-explicit-any
type Json = any;

/** A WebSocket (JSON events) on a node, with a wait for the next event that passes a test. */
async function browser(
  node: ClusterNodeProcess,
): Promise<{ ws: WebSocket; next: (test: (e: Json) => boolean) => Promise<Json> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${node.httpPort}/ws`);
  const events: Json[] = [];
  const waiters: (() => void)[] = [];
  ws.onmessage = (m) => {
    events.push(JSON.parse(m.data));
    for (const w of waiters.splice(0)) w();
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("the WebSocket did not open"));
  });
  let seen = 0;
  const next = async (test: (e: Json) => boolean) => {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      while (seen < events.length) {
        const e = events[seen++];
        if (test(e)) return e;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such event; got ${JSON.stringify(events)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        waiters.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  };
  return { ws, next };
}

async function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = new Promise((r) => ws.addEventListener("close", r));
  ws.close();
  await closed;
}

Deno.test({
  name: "cluster: Redis unreachable at start-up is one line on stderr and exit 1",
  ignore,
  async fn() {
    const port = freePort(); // nothing listens there
    const result = await runCli(["--port", "0", "--redis", `redis://127.0.0.1:${port}`], 20000, CLUSTER_PERMISSIONS);
    assert.equal(result.started, false);
    assert.equal(result.timedOut, false);
    assert.equal(result.code, 1);
    const lines = result.stderr.split("\n").filter((l) => l.startsWith("teaparty:"));
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0],
      new RegExp(`^teaparty: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
  },
});

Deno.test({
  name: "cluster: --redis without leave to read the Redis client's variables says which flag is missing, exit 1",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    const result = await runCli(["--port", "0", "--redis", redis.url], 20000, ["--allow-net"]);
    assert.equal(result.code, 1);
    assert.equal(result.started, false);
    assert.match(
      result.stderr,
      /^teaparty: --redis needs --allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS/m,
    );
  },
});

Deno.test({
  name: "cluster: telnet on one node and WebSocket on another chat in one room, each user's lines in order",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    const { ws, next } = await browser(b);
    ws.send("login bob");
    await next((e) => e.type === "entered" && e.nick === "bob");
    await alice.waitFor("*** bob has entered the room.");
    // Lines both ways, in order.
    for (let i = 1; i <= 20; i++) await alice.send(`from alice ${i}`);
    for (let i = 1; i <= 20; i++) {
      const e = await next((e) => e.type === "chat");
      assert.deepEqual([e.nick, e.text, e.room], ["alice", `from alice ${i}`, "main"]);
    }
    for (let i = 1; i <= 20; i++) ws.send(`from bob ${i}`);
    for (let i = 1; i <= 20; i++) {
      await alice.waitFor((l) => l.startsWith("bob: "), WAIT_MS).then((l) => assert.equal(l, `bob: from bob ${i}`));
    }
    // An action, and the member lists of both nodes show both users.
    await alice.send("/me waves");
    assert.equal((await next((e) => e.type === "action")).text, "waves");
    await alice.send("look");
    await alice.waitFor("*** In main (2): alice, bob");
    ws.send("/who");
    const who = await next((e) => e.type === "who");
    assert.equal(who.count, 2);
    assert.deepEqual(who.rooms, [{ room: "main", nicks: ["alice", "bob"], count: 2 }]);
    // A side room made on one node is listed on the other.
    await alice.send("/join garden");
    await alice.waitFor(/^\*\*\* You are now in garden, alone\./);
    await next((e) => e.type === "left" && e.nick === "alice");
    ws.send("/rooms");
    const rooms = await next((e) => e.type === "rooms");
    assert.deepEqual(rooms.rooms, [{ room: "main", count: 1 }, { room: "garden", count: 1 }]);
    await closeSocket(ws);
    alice.close();
    await alice.done;
  },
});

Deno.test({
  name: "cluster: IRC on one node sees telnet users of another in NAMES and WHO, and private messages cross both ways",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    const carol = await ircOn(b, "carol");
    await alice.waitFor("*** carol has entered the room.");
    carol.send("NAMES #main");
    const names = await carol.waitFor(/ 353 carol = #main :/);
    assert.deepEqual(names.split(" :")[1].split(" ").sort(), ["alice", "carol"]);
    carol.send("WHO #main");
    await carol.waitFor(/ 352 carol #main \S+ \S+ \S+ alice /);
    await carol.waitFor(/ 315 carol #main /);
    // Room lines both ways.
    await carol.send("PRIVMSG #main :hello from IRC");
    await alice.waitFor("carol: hello from IRC");
    await alice.send("hello from telnet");
    await carol.waitFor(/^:alice!\S+ PRIVMSG #main :hello from telnet$/);
    // Private messages both ways, with the sender's echo.
    await alice.send("/msg carol psst");
    await alice.waitFor("[private to carol] psst");
    await carol.waitFor(/^:alice!\S+ PRIVMSG carol :psst$/);
    await carol.send("PRIVMSG alice :psst back");
    await alice.waitFor("[private] carol: psst back");
    // /whois on the telnet node knows the IRC user, and WHOIS on the IRC node the telnet user's door.
    await alice.send("/whois carol");
    await alice.waitFor(/^\*\*\* carol: in main, idle \d+s, not registered; logged in /);
    await carol.send("WHOIS alice");
    await carol.waitFor(/ 312 carol alice \S+ :.*through the telnet door/);
    await carol.waitFor(/ 318 carol alice /);
    // An invitation from the IRC node reaches the telnet user on the other.
    await carol.send("JOIN #garden");
    await carol.waitFor(/ 366 carol #garden /);
    await carol.send("INVITE alice #garden");
    await carol.waitFor(/ 341 carol alice #garden/);
    await alice.waitFor("*** carol invites you to garden: /join garden");
    alice.close();
    carol.close();
    await Promise.all([alice.done, carol.done]);
  },
});

Deno.test({
  name: "cluster: a nick held on one node is refused on the other, and free there once its user logs out",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    const other = await b.connect();
    await other.waitFor(/Log in with/);
    await other.send("login ALICE");
    await other.waitFor("*** The nick alice is taken; please choose another.");
    // Also over IRC: 433.
    const ircClient = await TestClient.connect(b.ircPort);
    await ircClient.send("NICK Alice");
    await ircClient.send("USER x 0 * :x");
    await ircClient.waitFor(/ 433 \* Alice :/);
    // A nick change on B to a nick held on A is refused too.
    await other.send("login zed");
    await other.waitFor("*** zed has entered the room.");
    await other.send("/nick alice");
    await other.waitFor("*** The nick alice is taken; please choose another.");
    // alice leaves: the nick is free on B.
    await alice.send("/quit");
    await alice.closed();
    await other.waitFor("*** alice has left the room.");
    await other.send("/nick alice");
    await other.waitFor("*** zed is now known as alice.");
    ircClient.close();
    other.close();
    await Promise.all([ircClient.done, other.done]);
  },
});

Deno.test({
  name: "cluster: a SIGKILLed node's users are announced as gone on the others and their nicks freed within 10 s",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    const bob = await telnetOn(b, "bob");
    await alice.waitFor("*** bob has entered the room.");
    const killed = Date.now();
    b.kill("SIGKILL");
    await b.exited();
    // Until bob is announced as gone, a private message to him is refused, not acknowledged and lost.
    await alice.send("/msg bob are you there?");
    await alice.waitFor("*** bob is on another server that cannot be reached now; your message was not delivered.");
    assert.ok(!alice.lines.includes("[private to bob] are you there?"), alice.lines.join("\n"));
    await alice.waitFor("*** bob has left the room.", 10_000);
    const taken = Date.now() - killed;
    assert.ok(taken < 10_000, `announced after ${taken} ms`);
    // The nick is free on the surviving node.
    const again = await telnetOn(a, "bob");
    await alice.waitFor("*** bob has entered the room.");
    await alice.send("look");
    await alice.waitFor("*** In main (2): alice, bob");
    for (const c of [alice, again, bob]) c.close();
    await Promise.all([alice.done, again.done, bob.done]);
  },
});

Deno.test({
  name: "cluster: an account registered on one node logs in on another; a ban or a topic set there holds everywhere",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    const boss = await telnetOn(a, "boss");
    await boss.send("/register correct-horse-battery");
    await boss.waitFor(/^\*\*\* boss is now registered\./);
    await boss.send("/quit");
    await boss.closed();
    // A node started now knows the account, so --op boss is accepted; the password works there.
    await using b = await clusterNode(redis, ["--op", "boss"]);
    const op = await b.connect();
    await op.waitFor(/Log in with/);
    await op.send("login boss wrong-password-here");
    await op.waitFor(/^\*\*\* Wrong password for boss\./);
    await op.send("login boss correct-horse-battery");
    await op.waitFor("*** You are an operator here.");
    // mallory is on A; the ban given on B throws her out of A and keeps her out.
    const mallory = await telnetOn(a, "mallory");
    await op.waitFor("*** mallory has entered the room.");
    await op.send("/ban mallory 1h spam");
    await mallory.waitFor(/^\*\*\* You are banned until .*: spam$/);
    await mallory.closed();
    const again = await a.connect();
    await again.waitFor(/Log in with/);
    await again.send("login mallory");
    await again.waitFor(/^\*\*\* The nick mallory is banned until .*: spam$/);
    // Lifted on B: in at once on A.
    await op.send("/unban mallory");
    await op.waitFor(/^\*\*\* mallory is no longer banned/);
    await again.send("login mallory");
    await again.waitFor("*** mallory has entered the room.", WAIT_MS);
    // A topic set on B is announced on A, and shown to whoever enters the room on A later.
    await op.send("/topic Tea at five");
    await again.waitFor("*** boss set the topic of main: Tea at five");
    const late = await telnetOn(a, "late");
    await late.waitFor("*** Topic of main: Tea at five (set by boss)");
    for (const c of [op, again, late]) c.close();
    await Promise.all([op.done, again.done, mallory.done, late.done]);
  },
});

Deno.test({
  name: "cluster: history is shared: what was said on one node is shown on entering on another, in one order of ids",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    const alice = await telnetOn(a, "alice");
    await alice.send("/join garden");
    await alice.waitFor(/^\*\*\* You are now in garden/);
    for (let i = 1; i <= 3; i++) await alice.send(`roses ${i}`);
    await alice.waitFor("alice: roses 3");
    await using b = await clusterNode(redis);
    const bob = await telnetOn(b, "bob");
    await bob.send("/join garden");
    const seen = await bob.until(/^\*\*\* You are now in garden/);
    assert.deepEqual(
      seen.filter((l) => l.startsWith("[history")).map((l) => l.replace(/^\[history [^\]]+\] /, "")),
      ["alice: roses 1", "alice: roses 2", "alice: roses 3"],
    );
    // A line said on B has the next id in the one history: /history on A shows it after A's lines.
    await bob.send("tulips");
    await alice.waitFor("bob: tulips");
    await alice.send("/history 4");
    const history = await alice.until(/^\*\*\* End of history/);
    assert.deepEqual(
      history.filter((l) => l.startsWith("[history")).map((l) => l.replace(/^\[history [^\]]+\] /, "")),
      ["alice: roses 1", "alice: roses 2", "alice: roses 3", "bob: tulips"],
    );
    for (const c of [alice, bob]) c.close();
    await Promise.all([alice.done, bob.done]);
  },
});

/** Registers `nick` with `password` on a node and logs out. */
async function register(node: ClusterNodeProcess, nick: string, password: string): Promise<void> {
  const c = await telnetOn(node, nick);
  await c.send(`/register ${password}`);
  await c.waitFor(new RegExp(`^\\*\\*\\* ${nick} is now registered\\.`));
  await c.send("/quit");
  await c.closed();
}

Deno.test({
  name: "cluster: an operator on one node kicks and mutes users of another; nick changes and mail cross too",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await register(a, "boss", "correct-horse-battery");
    await register(a, "bob", "bobs-long-password");
    await using b = await clusterNode(redis, ["--op", "boss"]);
    const op = await telnetOn(b, "boss", "correct-horse-battery");
    const alice = await telnetOn(a, "alice");
    await op.waitFor("*** alice has entered the room.");
    // A kick in a side room sends alice (on A) back to the main room.
    await alice.send("/join garden");
    await alice.waitFor(/^\*\*\* You are now in garden/);
    await op.send("/join garden");
    await op.waitFor(/^\*\*\* You are now in garden, with 1 other\./);
    await op.send("/kick alice enough");
    await alice.waitFor("*** You were kicked from garden by boss: enough");
    await alice.waitFor("*** alice has entered the room.");
    await op.waitFor("*** alice has left the room.");
    await op.send("look");
    await op.waitFor("*** In garden (1): boss");
    await op.send("/leave");
    await op.waitFor(/^\*\*\* You are now in main/);
    // A mute given on B silences alice on A at once; lifted, she talks again.
    await op.send("/mute alice 10m");
    await alice.waitFor(/^\*\*\* alice is muted until .* by boss\.$/);
    await alice.send("can I talk?");
    await alice.waitFor(/^\*\*\* You are muted until /);
    await op.send("/unmute alice");
    await alice.waitFor("*** alice may talk again (unmuted by boss).");
    await alice.send("thanks");
    await op.waitFor("alice: thanks");
    // A nick change on A is seen on B, and the old nick is free there.
    await alice.send("/nick alicia");
    await op.waitFor("*** alice is now known as alicia.");
    await op.send("/msg alicia hello new name");
    await alice.waitFor("[private] boss: hello new name");
    // Mail for bob (registered, offline) left on B is delivered when he logs in on A.
    await op.send("/msg bob see you later");
    await op.waitFor(/^\*\*\* bob is offline; your message will be delivered/);
    const bob = await telnetOn(a, "bob", "bobs-long-password");
    await bob.waitFor(/^\*\*\* You have 1 message from while you were away:/);
    await bob.waitFor(/boss: see you later/);
    // A kick from the main room disconnects alicia (on A).
    await op.send("/kick alicia bye");
    await alice.waitFor("*** You were kicked by boss: bye");
    await alice.closed();
    await op.waitFor("*** alicia has left the room.");
    for (const c of [op, bob]) c.close();
    await Promise.all([op.done, bob.done, alice.done]);
  },
});

Deno.test({
  name: "cluster: logging in again with the password on another node takes a registered nick back from the first",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    await using b = await clusterNode(redis);
    await register(a, "bob", "bobs-long-password");
    const first = await telnetOn(a, "bob", "bobs-long-password");
    const watcher = await telnetOn(b, "watcher");
    const second = await telnetOn(b, "bob", "bobs-long-password");
    await first.waitFor("*** You (bob) logged in from another connection; this one is closed.");
    await first.closed();
    // Once the first session's leaving has come through, bob is on B alone, and a guest cannot take the nick.
    await watcher.waitFor("*** bob has left the room.");
    await second.send("look");
    await second.waitFor("*** In main (2): bob, watcher");
    const guest = await a.connect();
    await guest.waitFor(/Log in with/);
    await guest.send("login bob");
    await guest.waitFor(/\*\*\* bob is a registered nick\. Password:/); // after the telnet echo-off bytes
    for (const c of [watcher, second, guest]) c.close();
    await Promise.all([watcher.done, second.done, guest.done, first.done]);
  },
});

Deno.test({
  name: "cluster: a nick whose look-alike is being claimed at this moment on another node is refused " +
    "(Zoe and Zoë at once on two nodes never both get in)",
  ignore,
  async fn() {
    await using redis = await RedisServer.start();
    await using a = await clusterNode(redis);
    // What another node's claim of Zoe leaves in Redis for a moment, before its login reaches this node.
    await redis.cli("SET", "tp:look:zoe", "zoe", "PX", "60000");
    const early = await a.connect();
    await early.waitFor(/Log in with/);
    await early.send("login Zo\u00eb");
    assert.equal(await early.waitFor(/^\*\*\* /), "*** The nick Zo\u00eb is taken; please choose another.");
    await early.send("login zed"); // other nicks are not held up
    await early.waitFor("*** zed has entered the room.");
    await redis.cli("DEL", "tp:look:zoe"); // the mark lapses: Zoë is free
    const later = await telnetOn(a, "Zo\u00eb");
    for (const x of [early, later]) x.close();
    await Promise.all([early.done, later.done]);
  },
});
