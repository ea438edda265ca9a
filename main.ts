/**
 * The command-line entry point: parses flags, starts the server, prints the
 * address it listens on, and shuts down politely on SIGINT or SIGTERM.
 *
 * @example
 * ```sh
 * deno run --allow-net main.ts --port 5005 --name TestChat
 * ```
 * @module
 */
import { helpText, parseOptions } from "./config.ts";
import { ChatServer } from "./server.ts";
import { dirname, normalize } from "node:path";
import { ACCOUNT_DB } from "./account.ts";
import { heapSlack, heapUsed, lastResortGc, MemoryTrim } from "./memory_trim.ts";
import { bytesSent } from "./outbox.ts";
import { explain, StoreError } from "./store.ts";

/** The account tool's command line that creates `nick` in the database `db`. */
function accountCommand(nick: string, db: string): string {
  const quote = (word: string) => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
  if (db === ACCOUNT_DB) return `npm run account -- add ${quote(nick)}`;
  // The task may write only in data/: a database elsewhere needs deno with permissions for its folder.
  if (insideData(db)) return `npm run account -- add ${quote(nick)} --db ${quote(db)}`;
  const dir = quote(dirname(db));
  return `node_modules/.bin/deno run --allow-read=${dir} --allow-write=${dir} account.ts add ${quote(nick)} --db ${
    quote(db)
  }`;
}

/** Whether a database path is inside ./data, where the npm tasks may read and write. */
function insideData(db: string): boolean {
  const parts = normalize(db).split("/");
  return parts.length > 1 && parts[0] === "data";
}

/** Runs the server with command-line arguments; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    console.error(`teaparty: ${(error as Error).message.split("\n")[0]}\nTry --help for the list of options.`);
    return 2;
  }
  if (parsed.help) {
    console.log(helpText());
    return 0;
  }
  const { op, db, redis } = parsed.options;
  if (op.length > 0 && !db && !redis) {
    console.error(
      `teaparty: --op ${op[0]}: without --db there are no accounts (the in-memory database starts empty), so no one ` +
        `can be an operator; create the account, then start with --db FILE: npm run account -- add ${op[0]} --db FILE`,
    );
    return 1;
  }
  let server: ChatServer;
  try {
    const dir = db ? dirname(db) : "";
    try {
      if (dir && dir !== ".") Deno.mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new StoreError(`cannot open database ${db}: ${explain(error)}`); // its folder, made if missing
    }
    server = new ChatServer(parsed.options);
  } catch (error) {
    console.error(`teaparty: ${(error as Error).message}`);
    return 1;
  }
  try {
    await server.connect(); // cluster mode: Redis, its accounts and the other nodes
  } catch (error) {
    console.error(`teaparty: ${(error as Error).message}`);
    server.store.close();
    return 1;
  }
  const missing = server.chat.operatorsWithoutAccount;
  if (missing.length > 0) {
    console.error(
      `teaparty: --op ${missing[0]}: there is no account ${missing[0]}, and operator rights never go to an account ` +
        `made after the start; create it first: ${
          redis
            ? `deno run --allow-net --allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS account.ts add ${
              missing[0]
            } --redis ${redis}`
            : accountCommand(missing[0], db)
        }`,
    );
    await server.cluster?.stop();
    server.store.close();
    return 1;
  }
  try {
    await server.listen();
    await server.ready();
  } catch (error) {
    console.error(`teaparty: ${(error as Error).message}`);
    await server.shutdown();
    return 1;
  }
  for (const door of server.doors) {
    // The telnet door as it always was (`listening on 127.0.0.1:40123`), the others with their scheme.
    const { hostname, port } = door.addr;
    console.log(door.scheme === "telnet" ? `listening on ${hostname}:${port}` : `listening on ${door.url}`);
  }
  // Whatever escapes a handler is logged, never the end of the process.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    server.log.error("unhandled rejection", { error: String(event.reason?.stack ?? event.reason) });
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    server.log.error("uncaught error", { error: String(event.error?.stack ?? event.message) });
  });
  // Give back what a rush of connections made V8 grow, once things are quiet (see memory_trim.ts).
  const gc = lastResortGc();
  const trim = gc
    ? new MemoryTrim({ activity: () => bytesSent.value, slackBytes: heapSlack, usedBytes: heapUsed }, gc)
    : undefined;
  trim?.start();
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  trim?.stop();
  await server.shutdown();
  await Promise.race([server.log.flush(), new Promise((r) => setTimeout(r, 1000))]);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
