/**
 * Limits: the outgoing queue of a client that stops reading, the flood
 * token bucket, connection limits and the login timeout.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";
import { OFTEN_LINES_PER_SECOND } from "../log.ts";

const encoder = new TextEncoder();

Deno.test("a client that stops reading is dropped when its queue passes max-queue, and others keep chatting", async () => {
  const maxQueue = 64 * 1024;
  await using chat = await startServer({ maxQueue, rate: 0, maxLine: 8192 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const lurker = await chat.connectRaw(); // never read from
  await lurker.write(encoder.encode("login lurker\r\n"));
  await alice.waitFor("*** lurker has entered the room.");
  await bob.waitFor("*** lurker has entered the room.");
  // Flood the room until the kernel buffers and then the lurker's queue are
  // full. Batches stay well under max-queue, so the readers are never at risk.
  const text = "x".repeat(4000);
  let n = 0;
  while (!bob.lines.includes("*** lurker has left the room.")) {
    assert.ok(n < 20_000, "the lurker was never dropped"); // 80 MB: far more than any socket buffer
    for (let i = 0; i < 5; i++) alice.send(`${++n} ${text}`);
    await alice.waitFor(`alice: ${n} ${text}`);
  }
  await bob.waitFor("*** lurker has left the room.");
  const log = chat.logs.find((l) => /disconnect .*nick=lurker/.test(l));
  assert.ok(log, chat.logs.filter((l) => !l.includes("DEBUG")).join("\n"));
  assert.match(log, new RegExp(`WARN .*reason=.*${maxQueue}.*not reading`));
  assert.equal(chat.server.find("lurker"), undefined);
  alice.send("still chatting");
  await bob.waitFor("alice: still chatting");
  bob.send("me too");
  await alice.waitFor("bob: me too");
  assert.ok(!alice.ended && !bob.ended);
});

Deno.test("readers are not dropped when many users send long lines at once, past max-queue in one turn", async () => {
  const maxQueue = 64 * 1024;
  await using chat = await startServer({ maxQueue, rate: 0, maxLine: 8192 });
  const reader = await chat.login("reader");
  const senders = [];
  for (let i = 0; i < 12; i++) senders.push(await chat.login(`s${i}`));
  const text = "y".repeat(4000);
  // Each sender's four lines in one write, all at once: 192 KB for every reader, three times max-queue.
  await Promise.all(senders.map((s, i) => s.sendRaw([1, 2, 3, 4].map((j) => `${i}-${j} ${text}\r\n`).join(""))));
  const expected = senders.flatMap((_, i) => [1, 2, 3, 4].map((j) => `s${i}: ${i}-${j} ${text}`));
  while (!expected.every((line) => reader.lines.includes(line))) await reader.waitFor(/^s\d+: \d+-\d /);
  assert.ok(!chat.logs.some((l) => /not reading/.test(l)), chat.logs.filter((l) => /disconnect/.test(l)).join("\n"));
  assert.ok(!reader.ended && senders.every((s) => !s.ended));
});

Deno.test("with no rate limit, one sender's flood read at once does not drop the room's readers", async () => {
  const maxQueue = 64 * 1024;
  await using chat = await startServer({ maxQueue, rate: 0, maxLine: 8192 });
  const reader = await chat.login("reader");
  const flooder = await chat.login("flooder");
  const text = "z".repeat(4000);
  // 1.2 MB in one write: nineteen times max-queue, all in the kernel's buffers before the server reads any.
  const lines = Array.from({ length: 300 }, (_, i) => `${i} ${text}`);
  await flooder.sendRaw(lines.map((l) => `${l}\r\n`).join(""));
  await reader.waitFor(`flooder: 299 ${text}`);
  assert.deepEqual(reader.lines.filter((l) => l.startsWith("flooder: ")), lines.map((l) => `flooder: ${l}`));
  assert.ok(!chat.logs.some((l) => /not reading/.test(l)), chat.logs.filter((l) => /disconnect/.test(l)).join("\n"));
  assert.ok(!reader.ended && !flooder.ended);
});

Deno.test("a flood is slowed, not dropped: every line arrives, in order", async () => {
  await using chat = await startServer({ rate: 50, burst: 5 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const sent = Array.from({ length: 40 }, (_, i) => `flood line ${i + 1}`);
  await alice.sendRaw(sent.map((l) => l + "\r\n").join(""));
  alice.send("done");
  const seen = (await bob.until("alice: done", 15_000)).filter((l) => l.startsWith("alice: "));
  assert.deepEqual(seen, [...sent.map((l) => `alice: ${l}`), "alice: done"]);
  const echoed = (await alice.until("alice: done", 15_000)).filter((l) => l.startsWith("alice: "));
  assert.equal(echoed.length, 41);
});

Deno.test("a flooding session does not hold up the others", async () => {
  await using chat = await startServer({ rate: 5, burst: 2 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  // 30 lines at 5 a second take about 6 s to get through...
  await alice.sendRaw(Array.from({ length: 30 }, (_, i) => `slow ${i}\r\n`).join(""));
  await bob.waitFor("alice: slow 0");
  // ...while carol's line goes straight through, long before the flood ends.
  carol.send("not held up");
  const seen = await bob.until("carol: not held up");
  assert.ok(!seen.includes("alice: slow 29"), seen.join("\n"));
});

Deno.test("max-clients refuses a connection beyond the limit with one line, then closes it", async () => {
  await using chat = await startServer({ maxClients: 2, maxPerIp: 0 });
  const alice = await chat.login("alice");
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  const refused = chat.event("refuse");
  const third = await chat.connect();
  await third.closed();
  assert.equal(third.lines.length, 1, third.lines.join("\n"));
  assert.match(third.lines[0], /^\*\*\* .*full/);
  assert.match((await refused).reason, /full/);
  assert.ok(chat.logs.some((l) => /WARN refused .*full/.test(l)), chat.logs.join("\n"));
  // A place freed is a place taken again.
  const closed = chat.event("close");
  alice.send("logout");
  await closed;
  const fourth = await chat.connect();
  await fourth.waitFor(/Log in with/);
});

Deno.test("a flood of refused connections logs at most OFTEN_LINES_PER_SECOND refusals a second, then how many were left out", async () => {
  await using chat = await startServer({ maxClients: 1, maxPerIp: 0 });
  await chat.login("alice");
  const started = performance.now();
  const flood = 3 * OFTEN_LINES_PER_SECOND;
  for (let i = 0; i < flood; i++) {
    const refused = await chat.connect();
    await refused.closed();
  }
  const seconds = Math.ceil((performance.now() - started) / 1000);
  await chat.server.log.flush();
  const printed = chat.logs.filter((l) => /WARN refused ip=/.test(l)).length;
  const left = chat.logs.map((l) => / WARN refused lines left out count=(\d+) /.exec(l)).filter((m) => m !== null)
    .reduce((sum, m) => sum + Number(m[1]), 0);
  assert.equal(printed + left, flood, chat.logs.join("\n"));
  assert.ok(printed <= OFTEN_LINES_PER_SECOND * (seconds + 1), `${printed} lines in ${seconds} s`);
  if (seconds <= 2) assert.ok(left > 0, chat.logs.join("\n")); // a slower host spreads the flood over more seconds
});

Deno.test("max-per-ip refuses a connection beyond the limit with one line, then closes it", async () => {
  await using chat = await startServer({ maxPerIp: 2, maxClients: 0 });
  const alice = await chat.login("alice");
  await chat.login("bob");
  const third = await chat.connect();
  await third.closed();
  assert.equal(third.lines.length, 1, third.lines.join("\n"));
  assert.match(third.lines[0], /^\*\*\* Too many connections from your address/);
  assert.ok(chat.logs.some((l) => /WARN refused .*ip=127\.0\.0\.1/.test(l)), chat.logs.join("\n"));
  // The refused connection did not count: after one leaves, one more may come.
  const closed = chat.event("close");
  alice.close();
  await closed;
  const fourth = await chat.connect();
  await fourth.waitFor(/Log in with/);
  const fifth = await chat.connect();
  await fifth.closed();
  assert.match(fifth.lines[0], /^\*\*\* Too many connections/);
});

Deno.test("login-timeout closes a connection that did not log in, and only that one", async () => {
  await using chat = await startServer({ loginTimeout: 0.3 });
  const alice = await chat.login("alice");
  const guest = await chat.connect();
  await guest.waitFor(/Log in with/);
  guest.send("help"); // being busy is not being logged in
  await guest.closed();
  assert.match(guest.lines.at(-1)!, /^\*\*\* Login timed out/);
  assert.ok(chat.logs.some((l) => /disconnect .*reason=.*not logged in/.test(l)), chat.logs.join("\n"));
  alice.send("still here");
  await alice.waitFor("alice: still here");
  assert.ok(!alice.ended);
});

Deno.test("a fractional login-timeout is honoured", async () => {
  await using chat = await startServer({ loginTimeout: 0.2 });
  const guest = await chat.connect();
  const closed = chat.event("close", undefined, 4000);
  await guest.closed(4000);
  assert.match((await closed).reason, /not logged in/);
  assert.match(guest.lines.at(-1)!, /timed out after 0\.2 seconds/);
});
