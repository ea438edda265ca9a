import assert from "node:assert/strict";
import { checkNewNick, checkNick, foldNick, MAX_NICK } from "../nick.ts";

const RULE = "use letters, digits and _ - . [ ] { } | ^";

Deno.test("ordinary nicks are accepted", () => {
  for (const nick of ["alice", "Bob", "a", "x2", "Zoë", "e\u0301clair"]) {
    assert.equal(checkNick(nick), undefined, nick);
  }
});

Deno.test("nicks in other scripts are accepted", () => {
  for (const nick of ["茶友", "Иван", "محمد", "ゆき", "Ελένη", "민수"]) {
    assert.equal(checkNick(nick), undefined, nick);
  }
});

Deno.test("digits and _ - . [ ] { } | ^ are allowed after the first letter", () => {
  assert.equal(checkNick("a_-.[]{}|^0123456789"), undefined);
});

Deno.test("a nick of 32 characters is accepted, counting characters not UTF-16 units", () => {
  assert.equal(MAX_NICK, 32);
  assert.equal(checkNick("a".repeat(32)), undefined);
  assert.equal(checkNick("茶".repeat(32)), undefined);
  assert.equal(checkNick("𝒜".repeat(32)), undefined); // 64 UTF-16 units
});

Deno.test("a nick of 33 characters is refused with its length", () => {
  assert.equal(checkNick("a".repeat(33)), "a nick has at most 32 characters; this one has 33");
  assert.equal(checkNick("𝒜".repeat(33)), "a nick has at most 32 characters; this one has 33");
});

Deno.test("an empty nick is refused", () => {
  assert.equal(checkNick(""), "a nick cannot be empty");
});

Deno.test("a nick must start with a letter", () => {
  for (const nick of ["9lives", "_x", "-x", "[x]", "^x", "\u0301e"]) {
    assert.equal(checkNick(nick), "a nick must start with a letter", nick);
  }
});

Deno.test("whitespace is refused as spaces", () => {
  for (const nick of ["a b", "a\u00a0b", "a\u3000b", "a "]) {
    assert.equal(checkNick(nick), `a nick may not contain spaces; ${RULE}`, JSON.stringify(nick));
  }
});

Deno.test("control characters are refused as control characters", () => {
  for (const nick of ["a\x01b", "a\tb", "a\x1b", "a\x7f", "a\x85b"]) {
    const c = [...nick].find((c) => /\p{Cc}/u.test(c))!;
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    assert.equal(checkNick(nick), `a nick may not contain control characters (${code}); ${RULE}`, JSON.stringify(nick));
  }
});

Deno.test("@ / * : , are refused by name", () => {
  for (const c of ["@", "/", "*", ":", ","]) {
    assert.equal(checkNick(`a${c}b`), `a nick may not contain "${c}"; ${RULE}`);
  }
});

Deno.test("emoji are refused by name", () => {
  assert.equal(checkNick("tea🍵"), `a nick may not contain "🍵"; ${RULE}`);
});

Deno.test("foldNick ignores ASCII case", () => {
  assert.equal(foldNick("Alice"), "alice");
  assert.equal(foldNick("ALICE"), foldNick("alice"));
});

Deno.test("foldNick ignores case in other scripts", () => {
  assert.equal(foldNick("ÄLICE"), "älice");
  assert.equal(foldNick("ИВАН"), foldNick("иван"));
  assert.equal(foldNick("ΕΛΈΝΗ"), foldNick("ελένη"));
});

Deno.test("foldNick treats compatibility forms as the same nick", () => {
  assert.equal(foldNick("Ａｌｉｃｅ"), "alice"); // fullwidth letters
  assert.equal(foldNick("e\u0301"), foldNick("é"));
});

Deno.test("foldNick keeps different nicks apart", () => {
  assert.notEqual(foldNick("alice"), foldNick("alicf"));
  assert.notEqual(foldNick("茶友"), foldNick("茶人"));
});

Deno.test("the server's own name and the IRC services' names, and their look-alikes, are not nicks", () => {
  for (const nick of ["teaparty", "TEAPARTY", "NickServ", "nickserv", "ChanServ", "B0tServ", "H0stServ", "SaslServ"]) {
    assert.match(checkNewNick(nick) ?? "", /^a nick may not be \(or look like\) \w+: it is /, nick);
  }
  assert.equal(
    checkNewNick("NickServ"),
    "a nick may not be (or look like) NickServ: it is an IRC service's name, and this server has none",
  );
  assert.equal(checkNewNick("teaparty"), "a nick may not be (or look like) teaparty: it is the server's own name");
  for (const nick of ["tea", "teapartygoer", "Nick", "Serv", "NickServer", "servant"]) {
    assert.equal(checkNewNick(nick), undefined);
  }
});
