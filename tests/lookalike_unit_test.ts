import assert from "node:assert/strict";
import { checkNick, foldNick, LookAlikes, nickSkeleton } from "../nick.ts";
import { confusable } from "../confusables.ts";

Deno.test("invisible characters are refused, naming the code point", () => {
  const invisible = [
    "\u034f",
    "\ufe0f",
    "\ufe00",
    "\u180b",
    "\u17b4",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
  ];
  for (const c of invisible) {
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    assert.equal(checkNick(`alice${c}`), `a nick may not contain ${code}: it is invisible`, code);
    assert.equal(checkNick(`mallory${c}`), `a nick may not contain ${code}: it is invisible`, code);
  }
});

Deno.test("Hangul fillers, which look blank, are refused even alone", () => {
  for (const nick of ["\u3164", "\uffa0", "\u115f", "a\u3164b"]) {
    assert.match(checkNick(nick) ?? "", /^a nick may not contain U\+[0-9A-F]{4}: it is invisible$/, nick);
  }
});

Deno.test("a combining mark that is not on a letter is refused", () => {
  assert.equal(checkNick("a_\u0301"), 'a nick may not contain U+0301 after "_": a combining mark must be on a letter');
  assert.equal(checkNick("a9\u0308"), 'a nick may not contain U+0308 after "9": a combining mark must be on a letter');
  assert.equal(checkNick("\u0301e"), "a nick must start with a letter");
});

Deno.test("the same mark twice, or more than four marks, on one letter is refused", () => {
  assert.match(checkNick("ab\u0301\u0301") ?? "", /U\+0301 there: too many combining marks on one letter$/);
  assert.match(checkNick("ab\u0301\u0302\u0303\u0304\u0306") ?? "", /U\+0306 there: too many combining marks/);
  assert.equal(checkNick("e\u0301clair"), undefined);
  assert.equal(checkNick("Vie\u0323\u0302t"), undefined, "Vietnamese: two marks on one letter");
});

Deno.test("control characters are refused naming the code point", () => {
  assert.equal(
    checkNick("a\x01b\x0cc"),
    "a nick may not contain control characters (U+0001); use letters, digits and _ - . [ ] { } | ^",
  );
  assert.match(checkNick("ab\x7f") ?? "", /\(U\+007F\)/);
});

Deno.test("a nick mixing Latin with Cyrillic or Greek is refused, naming both characters", () => {
  assert.equal(
    checkNick("\u0430lice"),
    'a nick may not mix scripts: "а" (U+0430) is Cyrillic, "l" (U+006C) Latin',
  );
  assert.equal(checkNick("pay\u0440al"), 'a nick may not mix scripts: "p" (U+0070) is Latin, "р" (U+0440) Cyrillic');
  assert.match(
    checkNick("\u03bfpen") ?? "",
    /^a nick may not mix scripts: "ο" \(U\+03BF\) is Greek, "p" \(U\+0070\) Latin$/,
  );
  assert.match(checkNick("茶Иван") ?? "", /may not mix scripts/);
  assert.match(checkNick("ゆきИ") ?? "", /may not mix scripts/);
});

Deno.test("the usual combinations of scripts are accepted", () => {
  const good = [
    "茶友", // Han
    "ゆき", // Hiragana
    "さくらサクラ桜", // Japanese: Hiragana, Katakana, Han
    "tanaka田中", // Latin with Japanese
    "ㄅㄆ漢", // Han with Bopomofo
    "한국어漢字", // Han with Hangul
    "kim민수", // Latin with Korean
    "Дмитрий",
    "Ελένη",
    "ΑΒΓ",
    "محمد",
    "Zoë",
    "ａｌｉｃｅ", // fullwidth: alice
    "a_-.[]{}|^9",
    "bob42",
    "عربي123", // Arabic with digits
  ];
  for (const nick of good) assert.equal(checkNick(nick), undefined, nick);
});

Deno.test("Latin with Cyrillic is refused even next to Han", () => {
  assert.match(checkNick("a田\u0430") ?? "", /may not mix scripts/);
});

Deno.test("look-alike nicks have the same skeleton as the nick they imitate", () => {
  const alice = nickSkeleton("alice");
  for (
    const nick of ["alice", "ALICE", "Alice", "al\u0131ce", "alice\u0307", "a1ice", "ａｌｉｃｅ", "alicé", "\u0430lice"]
  ) {
    assert.equal(nickSkeleton(nick), alice, nick);
  }
  assert.equal(nickSkeleton("rnallory"), nickSkeleton("mallory"));
  assert.equal(nickSkeleton("\u0440\u043e\u0440"), nickSkeleton("pop"), "all-Cyrillic рор looks like pop");
});

Deno.test("different nicks have different skeletons", () => {
  const pairs = [["alice", "alicia"], ["bob", "rob"], ["茶友", "茶人"], ["がく", "かく"], ["Иван", "Ivan"]];
  for (const [a, b] of pairs) assert.notEqual(nickSkeleton(a), nickSkeleton(b), `${a} / ${b}`);
});

Deno.test("ß and ss look alike, and so do final and other sigma; their keys stay as they were", () => {
  assert.equal(nickSkeleton("Straße"), nickSkeleton("strasse"));
  assert.equal(nickSkeleton("STRASSE"), nickSkeleton("straße"));
  assert.notEqual(foldNick("straße"), foldNick("strasse"), "ß keeps its own key (stored accounts are found)");
  assert.equal(foldNick("ΚΩΣ"), foldNick("κωσ"));
  assert.equal(nickSkeleton("ΚΩΣ"), nickSkeleton("κως"));
});

Deno.test("the skeleton of a key is the skeleton of the nick", () => {
  for (const nick of ["Alice", "ΚΩΣ", "Straße", "Ａｌｉｃｅ", "Zoë", "ma11ory", "茶友", "İlker"]) {
    assert.equal(nickSkeleton(foldNick(nick)), nickSkeleton(nick), nick);
  }
});

Deno.test("the confusables table is Unicode's: a few entries of confusables.txt", () => {
  assert.equal(confusable(0x0430), "a"); // CYRILLIC SMALL LETTER A
  assert.equal(confusable(0x0131), "i"); // LATIN SMALL LETTER DOTLESS I
  assert.equal(confusable(0x006d), "rn"); // m → r n
  assert.equal(confusable(0x0031), "l"); // DIGIT ONE → l
  assert.equal(confusable(0x0061), undefined); // a is its own prototype
});

Deno.test("LookAlikes finds a nick held under another key that looks the same", () => {
  const taken = new LookAlikes();
  taken.add("Alice");
  assert.equal(taken.find("al\u0131ce"), "Alice");
  assert.equal(taken.find("ALICE"), undefined, "the same nick is not a look-alike");
  assert.equal(taken.find("bob"), undefined);
});

Deno.test("LookAlikes keeps a key until it is deleted as often as it was added", () => {
  const taken = new LookAlikes();
  taken.add("alice"); // registered
  taken.add("alice"); // and online
  taken.delete("alice");
  assert.equal(taken.find("al\u0131ce"), "alice");
  taken.delete("alice");
  assert.equal(taken.find("al\u0131ce"), undefined);
  taken.delete("alice"); // once too often: harmless
});

Deno.test("LookAlikes sees a capital I as the l it looks like, both ways, until the nick is deleted", () => {
  const taken = new LookAlikes();
  taken.add("alice");
  assert.equal(taken.find("aIice"), "alice", "a newcomer with a capital I");
  taken.add("biIl"); // held with a capital I: looks like bill
  assert.equal(taken.find("bill"), "biIl");
  assert.equal(taken.find("BILL"), "biIl", "the key bill is not the held key biil");
  taken.delete("biil");
  assert.equal(taken.find("bill"), undefined, "gone from the shown skeleton too");
  assert.equal(taken.find("ali"), undefined);
  assert.equal(taken.find("Iris"), undefined);
});

Deno.test("LookAlikes keeps several look-alike keys, in the order they came, each until deleted", () => {
  const taken = new LookAlikes();
  taken.add("alice");
  taken.add("al\u0131ce");
  taken.add("al\u0131ce");
  assert.equal(taken.find("\u0430lice"), "alice", "the first of them");
  assert.equal(taken.find("alice"), "al\u0131ce", "the other one, not itself");
  assert.equal(taken.find("al\u0131ce"), "alice");
  taken.delete("alice");
  assert.equal(taken.find("alice"), "al\u0131ce", "the one left");
  assert.equal(taken.find("al\u0131ce"), undefined, "alone again: no look-alike");
  taken.delete("al\u0131ce");
  assert.equal(taken.find("alice"), "al\u0131ce", "added twice, deleted once");
  taken.delete("al\u0131ce");
  assert.equal(taken.find("alice"), undefined);
  taken.add("alice");
  assert.equal(taken.find("al\u0131ce"), "alice", "a key can come back");
});

Deno.test("checking a nick is fast enough for every login", () => {
  const start = performance.now();
  for (let i = 0; i < 2000; i++) {
    checkNick(`user${i}`);
    nickSkeleton(`user${i}`);
    checkNick(`\u0430lice${i}`);
  }
  const each = (performance.now() - start) / 2000;
  assert.ok(each < 1, `${each.toFixed(3)} ms per login`);
});
