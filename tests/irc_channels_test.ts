import assert from "node:assert/strict";
import { ircJoin, ircLogin, startIrcServer, untagged } from "./irc_helpers.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";

async function opServer(extra = {}) {
  const store = Store.open("");
  store.saveAccount("olga", "olga", await hashPassword("olga-password"));
  return await startIrcServer({ database: store, op: ["olga"], ...extra });
}

Deno.test("an IRC user is in several channels at once; JOIN 0 leaves them all; PART is seen by both doors", async () => {
  await using chat = await startIrcServer();
  const a = await ircLogin(chat, "amy");
  a.send("JOIN #main,#garden,#Kitchen");
  const joined = await a.until(/ 366 amy #Kitchen /);
  for (const chan of ["#main", "#garden", "#Kitchen"]) assert(joined.includes(`:amy!amy@teaparty JOIN ${chan}`));
  const user = chat.server.find("amy")!;
  assert.deepEqual([...user.rooms].map((r) => r.name), ["main", "garden", "Kitchen"]);
  const tel = await chat.login("ben");
  tel.send("/join garden");
  await a.waitFor(":ben!ben@teaparty JOIN #garden");
  a.send("PRIVMSG #garden :in the garden");
  await tel.waitFor("amy: in the garden");
  a.send("PRIVMSG #main :in main");
  a.send("PRIVMSG #garden :marker");
  const seen = await tel.until("amy: marker");
  assert(!seen.includes("amy: in main"), "ben is in garden only");
  a.send("JOIN #garden"); // already there: nothing happens
  a.send("PART #garden :tea time");
  assert.equal(await a.waitFor(/PART #garden/), ":amy!amy@teaparty PART #garden :tea time");
  await tel.waitFor("*** amy has left the room.");
  a.send("JOIN 0");
  await a.waitFor(":amy!amy@teaparty PART #main");
  await a.waitFor(":amy!amy@teaparty PART #Kitchen");
  assert.equal(user.rooms.size, 0);
  a.send("PART #main");
  assert.equal(await a.waitFor(/ 442 /), ":teaparty 442 amy #main :You're not on that channel");
  a.send("JOIN garden");
  assert.match(await a.waitFor(/ 403 /), /^:teaparty 403 amy garden :No such channel: channel names start with #/);
  a.send("JOIN #bad!name");
  await a.waitFor(/ 403 amy #bad!name /);
});

Deno.test("JOIN of a new channel that looks like one that exists is refused with 403, naming it", async () => {
  await using chat = await startIrcServer();
  const a = await ircLogin(chat, "amy");
  const tel = await chat.login("ben");
  tel.send("/join copex");
  await tel.waitFor("*** You are now in copex, alone.");
  a.send("JOIN #\u0441\u043e\u0440\u0435\u0445,#copex"); // сорех, all Cyrillic; then the room itself
  assert.equal(
    await a.waitFor(/ 403 /),
    ":teaparty 403 amy #\u0441\u043e\u0440\u0435\u0445 :No such channel: it looks like the room copex",
  );
  await a.waitFor(":amy!amy@teaparty JOIN #copex");
});

Deno.test("JOIN shows the topic and replays history to clients without chathistory, in a batch with batch", async () => {
  await using chat = await opServer();
  const tel = await chat.login("cat");
  tel.send("first line");
  tel.send("/me purrs");
  await tel.waitFor("* cat purrs");
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#main");
  op.send("TOPIC #main :Tea at five");
  await tel.waitFor("*** olga set the topic of main: Tea at five");
  const plain = await ircLogin(chat, "dan");
  plain.send("JOIN #main");
  const lines = await plain.until(":cat!cat@teaparty PRIVMSG #main :\x01ACTION purrs\x01");
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert(at(/JOIN #main$/) < at(/ 332 dan #main :Tea at five$/), lines.join("\n"));
  assert(at(/ 332 /) < at(/ 333 dan #main olga \d+$/), lines.join("\n"));
  assert(at(/ 366 /) < at(/PRIVMSG #main :first line$/), "history after NAMES");
  const batched = await ircLogin(chat, "eve", { caps: ["batch", "server-time", "message-tags"] });
  batched.send("JOIN #main");
  const b = await batched.until(/BATCH -/);
  const open = b.find((l) => l.includes("BATCH +"))!;
  const ref = /BATCH \+(\S+) chathistory #main/.exec(open)![1];
  assert(
    b.some((l) => l.startsWith(`@batch=${ref};time=`) && l.endsWith(":cat!cat@teaparty PRIVMSG #main :first line")),
  );
  const modern = await ircLogin(chat, "fay", { caps: ["draft/chathistory", "batch"] });
  modern.send("JOIN #main");
  await modern.waitFor(/ 366 fay #main /);
  modern.send("PING :x");
  assert(!(await modern.until(/PONG/)).some((l) => l.includes("first line")), "chathistory clients ask themselves");
  plain.send("TOPIC #main");
  await plain.waitFor(":teaparty 332 dan #main :Tea at five");
  plain.send("TOPIC #main :mine now");
  assert.match(await plain.waitFor(/ 482 /), /^:teaparty 482 dan #main :You're not a channel operator/);
});

Deno.test("NAMES, LIST and the @ of operators", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  assert(op.lines.includes(":olga!olga@teaparty MODE olga :+o"));
  await ircJoin(op, "olga", "#main");
  const g = await ircLogin(chat, "gus");
  await ircJoin(g, "gus", "#main");
  await ircJoin(g, "gus", "#den");
  g.send("NAMES #main");
  assert.equal(await g.waitFor(/ 353 /), ":teaparty 353 gus = #main :@olga gus");
  g.send("LIST");
  const list = await g.until(/ 323 /);
  assert(list.includes(":teaparty 322 gus #main 2 :"), list.join("\n"));
  assert(list.includes(":teaparty 322 gus #den 1 :"), list.join("\n"));
  g.send("MODE #main");
  await g.waitFor(":teaparty 324 gus #main +nt");
  g.send("MODE gus");
  await g.waitFor(":teaparty 221 gus +");
  op.send("MODE olga");
  await op.waitFor(":teaparty 221 olga +o");
  g.send("MODE gus +iw"); // sent by clients on connecting: taken without an answer
  g.send("PING :after-i");
  await g.waitFor(/PONG .*:after-i$/);
  assert(!g.lines.some((l) => / 501 /.test(l)), g.lines.join("\n"));
  g.send("MODE gus +ix");
  assert.match(await g.waitFor(/ 501 /), /teaparty has no user modes/);
  g.send("MODE olga +i");
  await g.waitFor(/ 502 gus /);
});

Deno.test("KICK follows teaparty's rule and is announced on both doors; non-operators get 482", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#main");
  await ircJoin(op, "olga", "#den");
  const h = await ircLogin(chat, "hal");
  await ircJoin(h, "hal", "#main");
  await ircJoin(h, "hal", "#den");
  const tel = await chat.login("ian");
  tel.send("/join den");
  await op.waitFor(/ian!ian@teaparty JOIN #den/);
  h.send("KICK #den ian");
  assert.match(await h.waitFor(/ 482 /), /^:teaparty 482 hal #den :You're not a channel operator/);
  op.send("KICK #den hal :too loud");
  assert.equal(untagged(await h.waitFor(/KICK/)), ":olga!olga@teaparty KICK #den hal :too loud");
  await tel.waitFor("*** hal was kicked from den by olga: too loud");
  assert(chat.logs.some((l) => /moderation .*op=olga .*target=hal/.test(l)), "the kick is logged");
  assert.deepEqual([...chat.server.find("hal")!.rooms].map((r) => r.name), ["main"], "out of #den, still in #main");
  op.send("KICK #den ian");
  await tel.waitFor("*** You were kicked from den by olga.");
  await tel.waitFor("*** ian has entered the room."); // moved to the main room
  op.send("PING :x");
  const after = await op.until(/PONG/);
  assert.equal(after.filter((l) => / PART #den/.test(l)).length, 0, "the KICK says it: no PART as well");
  op.send("KICK #main hal :out");
  assert.match(await h.waitFor(/^ERROR/), /You were kicked by olga: out/);
  op.send("KICK #main nobody");
  await op.waitFor(":teaparty 441 olga nobody #main :They aren't on that channel");
});

Deno.test("MODE +b/-b ban and unban nicks and addresses, +q/-q mute; other modes are refused with the reason", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  await ircJoin(op, "olga", "#main");
  const j = await ircLogin(chat, "jon");
  await ircJoin(j, "jon", "#main");
  op.send("MODE #main +q jon!*@*");
  await op.waitFor(/NOTICE #main :jon is muted for good by olga\./);
  assert(chat.logs.some((l) => /moderation .*op=olga .*jon is muted/.test(l)), chat.logs.join("\n"));
  j.send("PRIVMSG #main :can I talk?");
  assert.match(await j.waitFor(/ 404 /), /You are muted/);
  op.send("MODE #main q");
  assert.match(await op.waitFor(/ 728 /), /^:teaparty 728 olga #main q jon!\*@\* olga/);
  op.send("MODE #main -q jon");
  await op.waitFor(/may talk again/);
  j.send("MODE #main +b olga");
  await j.waitFor(/ 482 jon #main /);
  op.send("MODE #main +b jon");
  await j.waitFor(/^ERROR :You are banned for good/);
  assert(chat.logs.some((l) => /moderation .*op=olga .*jon is banned/.test(l)), chat.logs.join("\n"));
  op.send("MODE #main b");
  const bans = await op.until(/ 368 /);
  assert(bans.some((l) => /^:teaparty 367 olga #main jon!\*@\* olga \d+$/.test(l)), bans.join("\n"));
  const again = await chat.connect();
  again.send("login jon");
  await again.waitFor(/The nick jon is banned/);
  op.send("MODE #main -b jon!*@*");
  await op.waitFor(/jon is no longer banned/);
  op.send("MODE #main +b *!*@10.9.8.7");
  await op.waitFor(/10\.9\.8\.7 is banned/);
  assert(chat.server.chat.moderation.banned("ip", "10.9.8.7"));
  op.send("MODE #main +b j*n!*@*");
  assert.match(await op.waitFor(/ 696 /), /teaparty bans a nick \(nick!\*@\*\) or an address/);
  op.send("MODE #main +m");
  assert.match(
    await op.waitFor(/ 472 /),
    /^:teaparty 472 olga m :is not a mode here: teaparty mutes people, not rooms/,
  );
  op.send("MODE #main +k secret");
  await op.waitFor(/ 472 olga k /);
});

Deno.test("INVITE points IRC and telnet users to a room", async () => {
  await using chat = await startIrcServer();
  const k = await ircLogin(chat, "kay");
  await ircJoin(k, "kay", "#den");
  const l = await ircLogin(chat, "lou");
  const tel = await chat.login("mia");
  k.send("INVITE lou #den");
  await k.waitFor(":teaparty 341 kay lou #den");
  await l.waitFor(":kay!kay@teaparty INVITE lou #den");
  k.send("INVITE mia #den");
  await tel.waitFor("*** kay invites you to den: /join den");
  k.send("INVITE nobody #den");
  await k.waitFor(/ 401 kay nobody /);
});

Deno.test("INVITE from a nick the receiver ignores is not delivered; the inviter is answered as usual", async () => {
  await using chat = await startIrcServer();
  const k = await ircLogin(chat, "kay");
  await ircJoin(k, "kay", "#den");
  const l = await ircLogin(chat, "lou");
  const tel = await chat.login("mia");
  tel.send("/ignore kay");
  await tel.waitFor(/^\*\*\* You now ignore kay/);
  k.send("INVITE mia #den");
  await k.waitFor(":teaparty 341 kay mia #den");
  // The invite, had it been sent, was queued for mia before kay's answer: a later line from lou comes after it.
  l.send("PRIVMSG mia :marker");
  const seen = await tel.until(/marker/);
  assert.ok(!seen.some((line) => /invites you/.test(line)), seen.join("\n"));
});

Deno.test("in a crowded room the JOIN reply lists at most --crowd names, and entries come as one NOTICE", async () => {
  await using chat = await startIrcServer({ crowd: 3 });
  const first = await ircLogin(chat, "n0");
  await ircJoin(first, "n0", "#main");
  const others = [];
  for (let i = 1; i <= 4; i++) {
    const c = await ircLogin(chat, `n${i}`);
    await ircJoin(c, `n${i}`, "#main");
    others.push(c);
  }
  const last = others[3];
  const names = last.lines.filter((l) => l.includes(" 353 "));
  assert.equal(names.length, 1);
  assert.equal(names[0].split(":").pop()!.split(" ").length, 3, names[0]);
  assert(names[0].split(":").pop()!.split(" ").includes("n4"), "the newcomer is listed");
  assert(last.lines.some((l) => /NOTICE n4 :#main has 5 members; the list shows 3/.test(l)));
  // One summary a second: n3 and n4 come in one notice, or in two if a slow machine put a second between them.
  const notices: string[] = [];
  while (!["n3", "n4"].every((n) => notices.some((l) => l.includes(n)))) {
    notices.push(await first.waitFor(/NOTICE #main/));
  }
  for (const l of notices) assert.match(l, /^:teaparty NOTICE #main :(n3 and n4|n3|n4) entered the room\.$/);
  assert(!first.lines.some((l) => /^:n[34]!\S+ JOIN/.test(l)), "no JOIN line one by one in a crowded room");
  last.send("NAMES #main");
  assert.equal((await last.waitFor(/ 353 /)).split(":").pop()!.split(" ").length, 5);
});

Deno.test("WHOIS shows operators 313, accounts 330, and the address (378) to operators only", async () => {
  await using chat = await opServer();
  const op = await ircLogin(chat, "olga", { pass: "olga-password" });
  const guest = await ircLogin(chat, "gil");
  await chat.login("tel");
  op.send("WHOIS tel");
  const seen = await op.until(/ 318 /);
  assert(seen.includes(":teaparty 378 olga tel :is connecting from *@127.0.0.1 127.0.0.1"), seen.join("\n"));
  guest.send("WHOIS olga");
  const about = await guest.until(/ 318 /);
  assert(about.includes(":teaparty 313 gil olga :is a teaparty operator"), about.join("\n"));
  assert(about.includes(":teaparty 330 gil olga olga :is logged in as"), about.join("\n"));
  assert(!about.some((l) => / 378 /.test(l)), "no address for a non-operator");
});
