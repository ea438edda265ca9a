/**
 * The command dispatcher. Every command is one {@linkcode Command} entry in a
 * {@linkcode CommandTable}: its name, aliases, bare (slash-less) form, where
 * it is allowed, its argument shape and help text, and its handler. The
 * dispatcher finds the entry for a line and checks all of that, so a handler
 * is only its behaviour.
 *
 * @example
 * ```ts
 * import { CommandTable } from "./table.ts";
 * const table = new CommandTable([{
 *   name: "roll", where: "member", args: "[sides]", help: "roll a die",
 *   run: (ctx, [sides]) => ctx.reply(`You rolled ${1 + Math.floor(Math.random() * Number(sides || 6))}.`),
 * }]);
 * table.find("roll")?.help; // "roll a die"
 * ```
 * @module
 */
import type { Session } from "../session.ts";
import type { Chat } from "../chat.ts";
import type { User } from "../user.ts";
import type { Room } from "../rooms.ts";
import type { ChatEvent } from "../events.ts";
import { cleanLine, hasVisible } from "../text.ts";
import { explain, explainToUser } from "../store.ts";
import { clip } from "../format.ts";

/** Where a command may be used: before login, after login, or both. */
export type Where = "guest" | "member" | "any";

/** What a handler gets besides its arguments. */
export interface CommandContext {
  /** The session that sent the command. */
  session: Session;
  /** The session's user (a "member" command always has one; reading it before login throws). */
  readonly user: User;
  /** The chat it is on. */
  chat: Chat;
  /** The command table (for help). */
  commands: CommandTable;
  /** The line as received, before cleaning (to refuse what cleaning would hide). */
  raw: string;
  /** Sends the session a server notice. */
  reply(text: string): void;
  /** Sends the session an error: a refusal of what it asked. */
  fail(text: string): void;
  /** Sends the session an event. */
  send(event: ChatEvent): void;
  /** The room the command was given in, when not the user's own (an IRC MODE names its channel). */
  room?: Room;
}

/** One row of the command table. */
export interface Command {
  /** Name, used as `/name`. */
  name: string;
  /** Other names, also used with a slash. */
  aliases?: string[];
  /**
   * The classic slash-less form: `"alone"` when the bare word alone on its
   * line is the command (`look`), `"leading"` when the bare word starts the
   * line (`say hello`). Omitted: slash form only.
   */
  bare?: "alone" | "leading";
  /** Where the command is allowed. */
  where: Where;
  /** Only operators may use it. */
  op?: boolean;
  /** Its arguments are secret (passwords): never repeated in replies or logs. */
  secret?: boolean;
  /**
   * It only talks to the room (`say`, `/me`) and reads no account: the
   * store is not first asked whether another program changed the accounts,
   * so `say hi` costs what a plain line does.
   */
  talk?: boolean;
  /**
   * Argument shape, shown in usage lines: `<x>` a required word, `[x]` an
   * optional word, `<x...>` / `[x...]` the rest of the line. Empty: none.
   */
  args: string;
  /** One-line description for `/help`. */
  help: string;
  /** The behaviour; arguments arrive in the order of `args`. */
  run(ctx: CommandContext, args: string[]): void | Promise<void>;
}

interface Param {
  name: string;
  optional: boolean;
  rest: boolean;
}

const shapes = new Map<string, Param[]>();

/** Parses an argument shape such as `"<nick> [reason...]"`. */
export function parseShape(shape: string): Param[] {
  const known = shapes.get(shape);
  if (known) return known;
  const params: Param[] = [];
  for (const token of shape.split(/\s+/).filter(Boolean)) {
    const m = /^([<\[])([^>\]]+?)(\.\.\.)?[>\]]$/.exec(token);
    if (!m) throw new Error(`bad argument shape "${shape}": "${token}" is not <x>, [x], <x...> or [x...]`);
    params.push({ name: m[2], optional: m[1] === "[", rest: m[3] !== undefined });
  }
  shapes.set(shape, params);
  return params;
}

/**
 * Splits `text` by a shape. Returns the arguments, or a reason why they do
 * not fit (a missing argument or too many). A required rest of the line
 * (`<text...>`: what say, /me, /emote and /msg send) with nothing visible
 * in it ({@linkcode hasVisible}: only a Braille blank, say) is missing, as
 * an empty line is not sent.
 *
 * @example
 * ```ts
 * import { splitArgs } from "./table.ts";
 * splitArgs("<nick> <text...>", "bob hello there"); // ["bob", "hello there"]
 * ```
 */
export function splitArgs(shape: string, text: string, secret = false): string[] | { error: string } {
  const params = parseShape(shape);
  const args: string[] = [];
  let rest = text.trim();
  for (const p of params) {
    if (rest === "") {
      if (!p.optional) return { error: `missing ${p.name}` };
      args.push("");
      continue;
    }
    if (p.rest) {
      if (!p.optional && !hasVisible(rest)) return { error: `missing ${p.name}` };
      args.push(rest);
      rest = "";
    } else {
      const m = /^(\S+)\s*(.*)$/s.exec(rest)!;
      args.push(m[1]);
      rest = m[2];
    }
  }
  if (rest !== "") return { error: secret ? "too many arguments" : `too many arguments ("${clip(rest, 20)}")` };
  return args;
}

/** The set of commands a server understands. */
export class CommandTable {
  #byName = new Map<string, Command>();
  #list: Command[] = [];

  /** Creates a table from entries. */
  constructor(commands: Iterable<Command> = []) {
    for (const c of commands) this.add(c);
  }

  /**
   * Adds a command, replacing one of the same name (and all its aliases).
   * A name or alias that another command also has now means the new one.
   * Throws if the argument shape is malformed.
   */
  add(command: Command): void {
    parseShape(command.args);
    const name = command.name.toLowerCase();
    const old = this.#list.find((c) => c.name.toLowerCase() === name);
    if (old) {
      this.#list = this.#list.filter((c) => c !== old);
      for (const [key, value] of this.#byName) if (value === old) this.#byName.delete(key);
    }
    this.#list.push(command);
    for (const n of [command.name, ...(command.aliases ?? [])]) this.#byName.set(n.toLowerCase(), command);
  }

  /** Finds a command by name or alias (case-insensitive). */
  find(name: string): Command | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** All commands, in the order they were added. */
  get all(): readonly Command[] {
    return this.#list;
  }

  /** The usage line of a command, e.g. `/msg <nick> <text...>`; under the alias it was typed as, if given one. */
  usage(command: Command, typed?: string): string {
    const alias = typed?.toLowerCase();
    const word = alias && alias !== command.name && command.aliases?.some((a) => a.toLowerCase() === alias)
      ? `/${alias}`
      : command.bare
      ? command.name
      : `/${command.name}`;
    return command.args ? `${word} ${command.args}` : word;
  }
}

/** What a received line turned out to be. */
export type Parsed =
  | { kind: "command"; command: Command; name: string; text: string }
  | { kind: "unknown"; name: string }
  | { kind: "chat"; text: string }
  | { kind: "empty" };

/**
 * Classifies a cleaned line: a `/command`, an `@nick` private message, a
 * classic bare command word in its own form, or chat. `//text` is chat that
 * starts with a slash.
 */
export function parseLine(table: CommandTable, line: string): Parsed {
  const text = line.trim();
  if (text === "" || !hasVisible(text)) return { kind: "empty" };
  if (text.startsWith("//")) return { kind: "chat", text: text.slice(1) };
  if (text[0] === "/") {
    const m = /^\/(\S*)\s*(.*)$/s.exec(text)!;
    const command = table.find(m[1]);
    if (!command) return { kind: "unknown", name: m[1] };
    return { kind: "command", command, name: m[1], text: m[2] };
  }
  if (text[0] === "@" && text.length > 1) {
    const command = table.find("msg");
    if (command) return { kind: "command", command, name: "msg", text: text.slice(1) };
  }
  const m = /^(\S+)\s*(.*)$/s.exec(text)!;
  const command = table.find(m[1]);
  if (command && command.name.toLowerCase() === m[1].toLowerCase()) {
    if (command.bare === "leading" || (command.bare === "alone" && m[2] === "")) {
      return { kind: "command", command, name: m[1], text: m[2] };
    }
  }
  return { kind: "chat", text };
}

/** The reminder a guest gets for anything but login, help and logout. */
export const LOGIN_HINT = "You are not logged in. Log in with: login <nick>    (help lists the commands)";

/**
 * Handles one received line for a session: cleans it, finds its command,
 * checks where it is allowed, who may use it and its arguments, and runs
 * the handler. A failing handler is logged and answered; it never ends the
 * session. Replies go through the journal, so they come after the user's
 * own lines still being stored.
 */
export async function dispatch(chat: Chat, commands: CommandTable, session: Session, raw: string): Promise<void> {
  const parsed = parseLine(commands, cleanLine(raw));
  const reply = (text: string) => session.notice(text);
  const fail = (text: string) => session.fail(text);
  let command: Command | undefined;
  let text = "";
  let typed: string | undefined;
  switch (parsed.kind) {
    case "empty": // an empty line (Enter alone, or spaces) is nothing; a line of what does not show is told so
      if (!session.loggedIn) reply(LOGIN_HINT);
      else if (/\S/.test(raw)) {
        fail("Nothing was sent: the line has no visible text (only control or invisible characters).");
      }
      return;
    case "unknown":
      fail(`Unknown command: /${clip(parsed.name, 20)}. Type /help for the list of commands.`);
      if (!session.loggedIn) reply(LOGIN_HINT);
      return;
    case "chat":
      command = commands.find("say");
      text = parsed.text;
      break;
    case "command":
      command = parsed.command;
      text = parsed.text;
      typed = parsed.name;
      break;
  }
  if (!command) return;
  if (command.where === "member" && !session.loggedIn) return reply(LOGIN_HINT);
  if (command.where === "guest" && session.loggedIn) {
    return fail(`You are already logged in as ${session.nick}.`);
  }
  if (parsed.kind === "command" && !command.talk) chat.refreshAccounts(); // an account removed meanwhile shows at once
  if (command.op && !chat.isOperator(session.user)) {
    return fail(`Only operators may use /${command.name}.`);
  }
  const args = splitArgs(command.args, text, command.secret);
  if (!Array.isArray(args)) {
    return fail(`Usage: ${commands.usage(command, typed)} (${args.error})`);
  }
  const ctx: CommandContext = {
    session,
    get user(): User {
      if (!session.user) throw new Error("not logged in");
      return session.user;
    },
    chat,
    commands,
    raw,
    reply,
    fail,
    send: (event) => session.send(event),
  };
  try {
    await command.run(ctx, args);
  } catch (error) {
    chat.log.error("command failed", { command: command.name, nick: session.nick, error: explain(error) });
    fail(`Sorry, ${command.name} failed on the server (${explainToUser(error)}); it has been logged.`);
  }
}

/** Finds a logged-in user for a command, or fails with "No such user" and returns undefined. */
export function findUser(ctx: CommandContext, nick: string): User | undefined {
  const other = ctx.chat.find(nick);
  if (!other) ctx.fail(`No such user: ${nick}.`);
  return other;
}
