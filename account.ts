/**
 * Accounts from the command line, on the server machine: create or reset
 * an operator's account before (or while) the server runs, since operator
 * rights never go to an account made after the server started.
 *
 * The password is read twice without echo from a terminal, or as one line
 * from a pipe (for scripts). It works while the server runs (SQLite takes
 * care of the concurrency); a new `--op` account takes effect at the next
 * start.
 *
 * @example
 * ```sh
 * npm run account -- add root                  # asks for the password
 * echo 'a long password' | npm run account -- passwd root
 * npm run account -- list
 * npm run account -- remove mallory --db data/teaparty.db
 * ```
 * @module
 */
import { dirname } from "node:path";
import { type ChatStore, explain, Store, StoreError } from "./store.ts";
import { RedisStore } from "./cluster/store.ts";
import { checkNewNick, checkNick, foldNick, LookAlikes } from "./nick.ts";
import { checkPassword, hashPassword } from "./accounts.ts";
import { formatTime } from "./format.ts";
import { readFlags } from "./command_line.ts";

/** The database the tool uses without `--db`: the one `npm start` uses. */
export const ACCOUNT_DB = "data/teaparty.db";

/** The environment variables the Redis client reads (it needs leave to read them). */
const REDIS_ENV = "REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS";

const USAGE = `Usage: npm run account -- <command> [NICK] [--db PATH | --redis URL]

Commands:
  add NICK      create an account (the password is asked for twice, without echo)
  passwd NICK   set a new password for an account
  remove NICK   delete an account
  list          list the accounts

--db PATH       the database (default: ${ACCOUNT_DB}, as npm start uses)
--redis URL     the accounts of a cluster instead (redis://127.0.0.1:6379/0); run with
                deno run --allow-net --allow-env=${REDIS_ENV} account.ts …`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads a line from standard input: without echo from a terminal, as is from a pipe. Null at end of input. */
async function readSecret(prompt: string): Promise<string | null> {
  const tty = Deno.stdin.isTerminal();
  if (tty) {
    Deno.stderr.writeSync(encoder.encode(prompt));
    Deno.stdin.setRaw(true);
  }
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return bytes.length ? decoder.decode(new Uint8Array(bytes)) : null;
      const b = buf[0];
      if (b === 10 || b === 13) break;
      if (tty && b === 3) throw new Error("cancelled");
      if (tty && b === 4) {
        if (bytes.length === 0) return null; // Ctrl-D on an empty line: end of input
        continue;
      }
      if (tty && (b === 127 || b === 8)) {
        bytes.pop();
        continue;
      }
      bytes.push(b);
    }
  } finally {
    if (tty) {
      Deno.stdin.setRaw(false);
      Deno.stderr.writeSync(encoder.encode("\n"));
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

async function newPassword(): Promise<string> {
  const first = await readSecret("Password: ");
  if (first === null) throw new Error("no password given (end of input)");
  const problem = checkPassword(first);
  if (problem) throw new Error(`the password is not acceptable: ${problem}`);
  if (Deno.stdin.isTerminal()) {
    const again = await readSecret("Again: ");
    if (again !== first) throw new Error("the two passwords differ; nothing was changed");
  }
  return first;
}

/** The commands, in the order the usage lists them; true for those that take a nick. */
const COMMANDS: Record<string, boolean> = { add: true, passwd: true, remove: true, list: false };

/** What the command line asks for: the words (command, nick) and the options. */
interface ToolArgs {
  positionals: string[];
  db?: string;
  redis?: string;
  help: boolean;
}

/**
 * Reads the command line, wording each mistake as one line of our own (as
 * the server's flags are), not node:util's. Throws an Error naming the argument.
 */
function readArgs(args: string[]): ToolArgs {
  const read = readFlags(args, { valued: ["db", "redis"] });
  const result: ToolArgs = { positionals: read.positionals, help: read.help };
  for (const { name, value } of read.flags) result[name as "db" | "redis"] = value; // the last one counts
  return result;
}

/** Why the words are not a command the tool runs, or undefined if they are. */
function commandProblem(words: string[]): string | undefined {
  const [command, ...nicks] = words;
  if (command === undefined) return `no command (${Object.keys(COMMANDS).join(", ")})`;
  if (!Object.hasOwn(COMMANDS, command)) {
    return `unknown command "${command}" (${Object.keys(COMMANDS).join(", ")})`;
  }
  if (!COMMANDS[command]) return nicks.length > 0 ? `"${command}" takes no nick` : undefined;
  if (nicks.length !== 1) return `"${command}" needs one nick${nicks.length > 1 ? `, not ${nicks.length}` : ""}`;
  return undefined;
}

/** Runs the account tool; resolves with the exit code (0 done, 1 refused, 2 bad usage). */
export async function account(args: string[]): Promise<number> {
  let parsed: ToolArgs;
  try {
    parsed = readArgs(args);
  } catch (error) {
    console.error(`account: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const problem = commandProblem(parsed.positionals);
  if (problem) {
    console.error(`account: ${problem}\n${USAGE}`);
    return 2;
  }
  const [command, nick] = parsed.positionals;
  const { redis } = parsed;
  const db = parsed.db ?? (redis === undefined ? ACCOUNT_DB : undefined);
  if (db !== undefined && redis !== undefined) {
    console.error(`account: --db and --redis do not go together: a cluster keeps its accounts in Redis\n${USAGE}`);
    return 2;
  }
  if (db === "") {
    console.error(`account: --db needs a file name\n${USAGE}`);
    return 2;
  }
  if (redis !== undefined && !/^rediss?:\/\/[^\s/]+(\/\d*)?$/.test(redis)) {
    console.error(`account: --redis must be a redis:// URL such as redis://127.0.0.1:6379/0, not "${redis}"`);
    return 2;
  }
  let store: ChatStore;
  if (redis !== undefined) {
    try {
      const cluster = new RedisStore(redis, { givesIds: false }); // it stores no lines: the id counter stays
      store = cluster;
      await cluster.load();
    } catch (error) {
      console.error(`account: ${(error as Error).message}`);
      return 1;
    }
  } else {
    try {
      // Before the first start the folder may not exist yet; the server makes it the same way.
      const dir = dirname(db!);
      if (dir !== ".") Deno.mkdirSync(dir, { recursive: true });
      store = Store.open(db!);
    } catch (error) {
      console.error(`account: ${error instanceof StoreError ? error.message : `cannot open ${db}: ${explain(error)}`}`);
      return 1;
    }
  }
  try {
    if (command === "list") {
      const accounts = store.accountList();
      for (const a of accounts) console.log(a.nick);
      if (accounts.length === 0) console.error("account: no accounts yet");
      return 0;
    }
    const nickProblem = command === "add" ? checkNewNick(nick) : checkNick(nick); // an old account can go
    if (nickProblem) {
      console.error(`account: "${nick}" is not a valid nick: ${nickProblem}`);
      return 1;
    }
    const key = foldNick(nick);
    const existing = store.account(key);
    if (command === "remove") {
      if (!await store.removeAccount(key)) {
        console.error(`account: there is no account ${nick}`);
        return 1;
      }
      console.log(`account ${existing?.nick ?? nick} removed`);
      return 0;
    }
    if (command === "add" && existing) {
      console.error(`account: ${existing.nick} exists already; "passwd ${existing.nick}" sets a new password`);
      return 1;
    }
    if (command === "passwd" && !existing) {
      console.error(`account: there is no account ${nick}; "add ${nick}" creates it`);
      return 1;
    }
    if (command === "add") {
      const looks = new LookAlikes();
      for (const a of store.accountList()) looks.add(a.nick, a.key);
      const like = looks.find(nick, key);
      if (like) {
        console.error(`account: ${nick} looks like the account ${like}; choose a nick that does not`);
        return 1;
      }
    }
    const password = await newPassword();
    await store.saveAccount(key, existing?.nick ?? nick, await hashPassword(password));
    console.log(
      `${command === "add" ? "account" : "password of"} ${existing?.nick ?? nick} ${
        command === "add" ? "created" : "changed"
      } (${formatTime(Date.now())} UTC)`,
    );
    return 0;
  } catch (error) {
    console.error(`account: ${(error as Error).message}`);
    return 1;
  } finally {
    store.close();
  }
}

if (import.meta.main) Deno.exit(await account(Deno.args));
