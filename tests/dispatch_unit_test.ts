import assert from "node:assert/strict";
import { type Command, CommandTable, parseLine, parseShape, splitArgs } from "../commands/table.ts";
import { builtinCommands } from "../commands/chat.ts";

function command(name: string, extra: Partial<Command> = {}): Command {
  return { name, where: "any", args: "", help: `${name} help`, run() {}, ...extra };
}

const builtins = new CommandTable(builtinCommands);

function builtin(name: string): Command {
  const found = builtins.find(name);
  assert.ok(found, `built-in command ${name}`);
  return found;
}

Deno.test("parseShape reads required, optional and rest parameters", () => {
  assert.deepEqual(parseShape("<nick> [reason...]"), [
    { name: "nick", optional: false, rest: false },
    { name: "reason", optional: true, rest: true },
  ]);
  assert.deepEqual(parseShape("[room] <text...>"), [
    { name: "room", optional: true, rest: false },
    { name: "text", optional: false, rest: true },
  ]);
});

Deno.test("parseShape of an empty shape has no parameters", () => {
  assert.deepEqual(parseShape(""), []);
});

Deno.test("parseShape refuses a malformed token and names it", () => {
  assert.throws(() => parseShape("<nick> reason"), {
    message: 'bad argument shape "<nick> reason": "reason" is not <x>, [x], <x...> or [x...]',
  });
  assert.throws(() => parseShape("<>"), { message: 'bad argument shape "<>": "<>" is not <x>, [x], <x...> or [x...]' });
});

Deno.test("splitArgs gives a word and the rest of the line", () => {
  assert.deepEqual(splitArgs("<nick> <text...>", "bob hello there"), ["bob", "hello there"]);
});

Deno.test("splitArgs keeps the spacing inside the rest but trims the line", () => {
  assert.deepEqual(splitArgs("<nick> <text...>", "  bob   hello   there  "), ["bob", "hello   there"]);
});

Deno.test("splitArgs names a missing required argument", () => {
  assert.deepEqual(splitArgs("<nick> <text...>", "bob"), { error: "missing text" });
  assert.deepEqual(splitArgs("<nick> <text...>", "   "), { error: "missing nick" });
});

Deno.test("splitArgs gives an empty string for a missing optional argument", () => {
  assert.deepEqual(splitArgs("[room]", ""), [""]);
  assert.deepEqual(splitArgs("<nick> [reason...]", "bob"), ["bob", ""]);
});

Deno.test("splitArgs refuses too many arguments and quotes them, clipped to 20 characters", () => {
  assert.deepEqual(splitArgs("<nick>", "bob carol"), { error: 'too many arguments ("carol")' });
  assert.deepEqual(splitArgs("", "x"), { error: 'too many arguments ("x")' });
  assert.deepEqual(splitArgs("<room>", "a 123456789012345678901234"), {
    error: 'too many arguments ("12345678901234567890…")',
  });
});

Deno.test("splitArgs with an empty shape and no text gives no arguments", () => {
  assert.deepEqual(splitArgs("", "  "), []);
});

Deno.test("a command is found by its name and its aliases, ignoring case", () => {
  const help = command("help", { aliases: ["h", "?"] });
  const table = new CommandTable([command("look"), help]);
  assert.equal(table.find("help"), help);
  assert.equal(table.find("HeLp"), help);
  assert.equal(table.find("h"), help);
  assert.equal(table.find("H"), help);
  assert.equal(table.find("?"), help);
  assert.equal(table.find("helpme"), undefined);
  assert.equal(table.find(""), undefined);
});

Deno.test("all lists the commands in the order they were added", () => {
  const table = new CommandTable([command("b"), command("a")]);
  table.add(command("c"));
  assert.deepEqual(table.all.map((c) => c.name), ["b", "a", "c"]);
});

Deno.test("adding a command with a taken name replaces the old one, which leaves the list", () => {
  const old = command("roll", { help: "old" });
  const table = new CommandTable([old, command("look")]);
  const replacement = command("roll", { help: "new" });
  table.add(replacement);
  assert.equal(table.find("roll"), replacement);
  assert.deepEqual(table.all.map((c) => `${c.name}:${c.help}`), ["look:look help", "roll:new"]);
});

Deno.test("adding a command with a malformed argument shape throws", () => {
  assert.throws(() => new CommandTable([command("x", { args: "nick" })]), { message: /"nick" is not <x>/ });
  const table = new CommandTable();
  assert.throws(() => table.add(command("y", { args: "<a> b" })), { message: /"b" is not <x>/ });
  assert.equal(table.find("y"), undefined);
});

Deno.test("usage shows a slash for slash commands and the bare word for bare ones", () => {
  const table = new CommandTable();
  assert.equal(table.usage(command("msg", { args: "<nick> <text...>" })), "/msg <nick> <text...>");
  assert.equal(table.usage(command("rooms")), "/rooms");
  assert.equal(table.usage(command("login", { bare: "leading", args: "<nick>" })), "login <nick>");
  assert.equal(table.usage(command("look", { bare: "alone" })), "look");
});

Deno.test("usage names the alias the command was typed as: /quit now is told about /quit, not logout", () => {
  const table = new CommandTable();
  const logout = command("logout", { bare: "alone", aliases: ["quit"] });
  assert.equal(table.usage(logout, "QUIT"), "/quit");
  assert.equal(table.usage(logout, "logout"), "logout");
  assert.equal(table.usage(logout, "other"), "logout", "only a real alias is shown");
  assert.equal(table.usage(logout), "logout");
});

Deno.test("a slash line is a command with the rest of the line as its text", () => {
  assert.deepEqual(parseLine(builtins, "/msg bob hi  there"), {
    kind: "command",
    command: builtin("msg"),
    name: "msg",
    text: "bob hi  there",
  });
  assert.deepEqual(parseLine(builtins, "  /look  "), {
    kind: "command",
    command: builtin("look"),
    name: "look",
    text: "",
  });
});

Deno.test("a slash command is found ignoring case and keeps the name as typed", () => {
  assert.deepEqual(parseLine(builtins, "/LOOK"), { kind: "command", command: builtin("look"), name: "LOOK", text: "" });
});

Deno.test("aliases work with a slash", () => {
  assert.deepEqual(parseLine(builtins, "/quit"), {
    kind: "command",
    command: builtin("logout"),
    name: "quit",
    text: "",
  });
  assert.deepEqual(parseLine(builtins, "/h"), { kind: "command", command: builtin("help"), name: "h", text: "" });
});

Deno.test("an unknown slash command is reported by its name", () => {
  assert.deepEqual(parseLine(builtins, "/xyzzy plugh"), { kind: "unknown", name: "xyzzy" });
});

Deno.test("//text is chat that starts with a slash", () => {
  assert.deepEqual(parseLine(builtins, "//look at me"), { kind: "chat", text: "/look at me" });
  assert.deepEqual(parseLine(builtins, "//"), { kind: "chat", text: "/" });
});

Deno.test("@nick text is a private message", () => {
  assert.deepEqual(parseLine(builtins, "@bob hello there"), {
    kind: "command",
    command: builtin("msg"),
    name: "msg",
    text: "bob hello there",
  });
});

Deno.test("a lone @ is chat", () => {
  assert.deepEqual(parseLine(builtins, "@"), { kind: "chat", text: "@" });
});

Deno.test("look, who, help and logout alone on a line are commands", () => {
  for (const word of ["look", "who", "help", "logout"]) {
    assert.deepEqual(parseLine(builtins, word), { kind: "command", command: builtin(word), name: word, text: "" });
  }
  assert.deepEqual(parseLine(builtins, " Look "), {
    kind: "command",
    command: builtin("look"),
    name: "Look",
    text: "",
  });
});

Deno.test("a sentence that starts with a bare-alone word is chat", () => {
  assert.deepEqual(parseLine(builtins, "look at this"), { kind: "chat", text: "look at this" });
  assert.deepEqual(parseLine(builtins, "who is here?"), { kind: "chat", text: "who is here?" });
  assert.deepEqual(parseLine(builtins, "help me"), { kind: "chat", text: "help me" });
});

Deno.test("say and login lead their line as bare commands", () => {
  assert.deepEqual(parseLine(builtins, "say hi  there"), {
    kind: "command",
    command: builtin("say"),
    name: "say",
    text: "hi  there",
  });
  assert.deepEqual(parseLine(builtins, "login bob"), {
    kind: "command",
    command: builtin("login"),
    name: "login",
    text: "bob",
  });
});

Deno.test("aliases such as quit and h are not bare words", () => {
  assert.deepEqual(parseLine(builtins, "quit"), { kind: "chat", text: "quit" });
  assert.deepEqual(parseLine(builtins, "h"), { kind: "chat", text: "h" });
});

Deno.test("commands without a bare form are chat without their slash", () => {
  assert.deepEqual(parseLine(builtins, "me waves"), { kind: "chat", text: "me waves" });
  assert.deepEqual(parseLine(builtins, "msg bob hi"), { kind: "chat", text: "msg bob hi" });
});

Deno.test("ordinary text is chat, trimmed", () => {
  assert.deepEqual(parseLine(builtins, "  hello 茶友  "), { kind: "chat", text: "hello 茶友" });
});

Deno.test("empty and whitespace-only lines are empty", () => {
  assert.deepEqual(parseLine(builtins, ""), { kind: "empty" });
  assert.deepEqual(parseLine(builtins, "  \t  "), { kind: "empty" });
});
