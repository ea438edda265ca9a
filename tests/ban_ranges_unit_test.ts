import assert from "node:assert/strict";
import { covers, inRange, isAddress, isAddressTarget, Moderation, parseAddress } from "../moderation.ts";
import { Store } from "../store.ts";
import type { Ban } from "../store.ts";

function parsed(text: string) {
  const p = parseAddress(text);
  if ("error" in p) throw new Error(`${text}: ${p.error}`);
  return p;
}

/** An in-memory store closed at the end of the scope. */
function memoryStore(): Store & Disposable {
  const store = Store.open("");
  return Object.assign(store, { [Symbol.dispose]: () => store.close() });
}

function ban(value: string, until: number | null = null, kind: "ip" | "nick" = "ip"): Ban {
  return { kind, value, until, reason: "r", by: "op", at: 1 };
}

Deno.test("addresses and ranges are put in normal form", () => {
  const cases: [string, string][] = [
    ["10.0.0.1", "10.0.0.1"],
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"], // host bits cleared
    ["192.168.1.77/24", "192.168.1.0/24"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:db8:1234::/32", "2001:db8::/32"],
    ["2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"], // the longest run
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // one zero group is not shortened
    ["::1", "::1"],
    ["::", "::"],
    ["fe80:0:0:0:1:0:0:0", "fe80::1:0:0:0"], // the first of two equally long runs
    ["::ffff:10.1.2.3", "10.1.2.3"], // IPv4-mapped IPv6 is the IPv4 address
    ["::ffff:a01:203", "10.1.2.3"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:0:0/80", "::/80"], // an IPv6 range wider than the mapped IPv4 space stays IPv6
  ];
  for (const [input, normal] of cases) assert.equal(parsed(input).text, normal, input);
});

Deno.test("malformed addresses and prefix lengths are refused with the reason", () => {
  const cases: [string, RegExp][] = [
    ["10.0.0.0/33", /^\/33 is not a prefix length of an IPv4 address \(0-32\)$/],
    ["2001:db8::/129", /^\/129 is not a prefix length of an IPv6 address \(0-128\)$/],
    ["10.0.0.0/", /is not a prefix length/],
    ["10.0.0.0/x", /is not a prefix length/],
    ["999.1.1.1", /^"999\.1\.1\.1" is not an address: write four numbers 0-255/],
    ["1.2.3", /is not an address/],
    ["1.2.3.4.5", /is not an address/],
    ["01234.1.1.1", /is not an address/],
    ["1::2::3", /:: may appear once/],
    ["1:2:3:4:5:6:7:8:9", /is not an IPv6 address/],
    ["12345::", /is not an IPv6 address/],
    ["g::1", /is not an IPv6 address/],
    ["::ffff:300.1.1.1", /is not an IPv6 address/],
  ];
  for (const [input, why] of cases) {
    const p = parseAddress(input);
    assert.ok("error" in p, `${input} was accepted as ${JSON.stringify(p)}`);
    assert.match(p.error, why, input);
  }
});

Deno.test("isAddress is for valid single addresses; isAddressTarget for anything meant as one", () => {
  for (const a of ["127.0.0.1", "::1", "2001:db8::1"]) assert.ok(isAddress(a), a);
  for (const a of ["10.0.0.0/8", "999.1.1.1", "alice"]) assert.ok(!isAddress(a), a);
  for (const t of ["10.0.0.0/8", "999.1.1.1", "2001:db8::/32", "fe80::1", "9lives"]) assert.ok(isAddressTarget(t), t);
  for (const t of ["alice", "bob.b", "cafe", "dead.beef"]) assert.ok(!isAddressTarget(t), t);
});

Deno.test("an address is in a range when its first prefix-length bits match", () => {
  const v4 = parsed("10.0.0.0/8");
  assert.ok(inRange(parsed("10.255.1.2").bytes, v4));
  assert.ok(!inRange(parsed("11.0.0.1").bytes, v4));
  const odd = parsed("192.168.0.0/23");
  assert.ok(inRange(parsed("192.168.1.255").bytes, odd));
  assert.ok(!inRange(parsed("192.168.2.0").bytes, odd));
  const v6 = parsed("2001:db8::/32");
  assert.ok(inRange(parsed("2001:db8:ffff::1").bytes, v6));
  assert.ok(!inRange(parsed("2001:db9::1").bytes, v6));
  assert.ok(!inRange(parsed("10.0.0.1").bytes, v6));
  assert.ok(inRange(parsed("1.2.3.4").bytes, parsed("0.0.0.0/0")));
  assert.ok(!inRange(parsed("::1").bytes, parsed("0.0.0.0/0")), "all of IPv4 is not all of IPv6");
});

Deno.test("covers matches IPv4 clients whether written plainly or IPv4-mapped", () => {
  const range = parsed("10.0.0.0/8");
  assert.ok(covers(range, "10.1.2.3"));
  assert.ok(covers(range, "::ffff:10.1.2.3"));
  assert.ok(covers(parsed("::ffff:10.0.0.0/104"), "10.9.9.9"));
  assert.ok(!covers(range, "not an address"));
  assert.ok(covers(parsed("fe80::/10"), "fe80::1%eth0"), "a zone id is ignored");
});

Deno.test("Moderation matches connections against banned ranges, and single addresses in any spelling", () => {
  using store = memoryStore();
  const moderation = new Moderation(store);
  moderation.ban(ban("10.0.0.0/8"));
  moderation.ban(ban("2001:DB8::/32"));
  moderation.ban(ban("2001:db8:0:0::0:1".replace("2001:db8", "2002:db8")));
  assert.equal(moderation.banned("ip", "10.20.30.40")?.value, "10.0.0.0/8");
  assert.equal(moderation.banned("ip", "::ffff:10.20.30.40")?.value, "10.0.0.0/8");
  assert.equal(moderation.banned("ip", "2001:db8:1::9")?.value, "2001:db8::/32");
  assert.equal(moderation.banned("ip", "2002:db8::1")?.value, "2002:db8::1");
  assert.equal(moderation.banned("ip", "2002:0db8:0:0:0:0:0:1")?.value, "2002:db8::1");
  assert.equal(moderation.banned("ip", "11.0.0.1"), undefined);
  assert.equal(moderation.banned("ip", "127.0.0.1"), undefined);
  assert.deepEqual(store.bans().map((b) => b.value).sort(), ["10.0.0.0/8", "2001:db8::/32", "2002:db8::1"]);
});

Deno.test("Moderation lifts a range in any spelling, and stored ranges apply after a restart", () => {
  using store = memoryStore();
  new Moderation(store).ban(ban("10.0.0.0/8"));
  const again = new Moderation(store);
  assert.ok(again.banned("ip", "10.1.1.1"));
  assert.equal(again.unban("ip", "10.9.9.9/8"), true);
  assert.equal(again.banned("ip", "10.1.1.1"), undefined);
  assert.deepEqual(store.bans(), []);
});

Deno.test("a ban on a range expires like any other", () => {
  using store = memoryStore();
  const moderation = new Moderation(store);
  moderation.ban(ban("10.0.0.0/8", 5000));
  assert.ok(moderation.banned("ip", "10.1.1.1", 4999));
  assert.equal(moderation.banned("ip", "10.1.1.1", 5000), undefined);
  assert.deepEqual(store.bans(), []);
});

Deno.test("bans() and mutes() list what is in force with the time left, soonest end first", () => {
  using store = memoryStore();
  const moderation = new Moderation(store);
  moderation.ban(ban("mallory", null, "nick"));
  moderation.ban(ban("10.0.0.0/8", 9000));
  moderation.ban(ban("eve", 3000, "nick"));
  moderation.ban(ban("gone", 1000, "nick"));
  moderation.mute({ key: "bob", until: 7000, by: "op" });
  moderation.mute({ key: "carl", until: null, by: "op" });
  moderation.mute({ key: "old", until: 500, by: "op" });
  assert.deepEqual(moderation.bans(2000).map((b) => [b.value, b.left]), [
    ["eve", 1000],
    ["10.0.0.0/8", 7000],
    ["mallory", null],
  ]);
  assert.deepEqual(moderation.mutes(2000).map((m) => [m.key, m.left]), [["bob", 5000], ["carl", null]]);
  assert.deepEqual(store.bans().map((b) => b.value).sort(), ["10.0.0.0/8", "eve", "mallory"], "expired ones removed");
});

Deno.test("a store that fails while an expired ban or mute is removed is reported, and checks never throw", () => {
  using store = memoryStore();
  const errors: string[] = [];
  const moderation = new Moderation(store, { onError: (action, error) => errors.push(`${action}: ${error}`) });
  moderation.ban(ban("10.0.0.1", 1000));
  moderation.ban(ban("mallory", 1000, "nick"));
  moderation.mute({ key: "eve", until: 1000, by: "op" });
  const full = () => {
    throw new Error("database or disk is full");
  };
  store.removeBan = full;
  store.removeMute = full;
  assert.equal(moderation.banned("ip", "10.0.0.1", 2000), undefined);
  assert.equal(moderation.banned("nick", "mallory", 2000), undefined);
  assert.equal(moderation.muted("eve", 2000), undefined);
  assert.deepEqual(errors, [
    "removing the expired ban of 10.0.0.1: Error: database or disk is full",
    "removing the expired ban of mallory: Error: database or disk is full",
    "removing the expired mute of eve: Error: database or disk is full",
  ]);
  // Dropped from memory: asking again neither throws nor reports again.
  assert.equal(moderation.banned("ip", "10.0.0.1", 3000), undefined);
  assert.equal(errors.length, 3);
});

Deno.test("a nick ban also keeps out nicks that look the same", () => {
  using store = memoryStore();
  const moderation = new Moderation(store);
  moderation.ban(ban("mallory", null, "nick"));
  assert.ok(moderation.banned("nick", "mallory"));
  assert.ok(moderation.banned("nick", "ma11ory"), "digit one for l");
  assert.ok(moderation.banned("nick", "mallöry"), "an accent");
  assert.ok(moderation.banned("nick", "rnallory"), "rn for m");
  assert.equal(moderation.banned("nick", "malory"), undefined);
  moderation.unban("nick", "mallory");
  assert.equal(moderation.banned("nick", "ma11ory"), undefined);
});
