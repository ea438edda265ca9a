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
import { dirname } from "node:path";

/** Runs the server with command-line arguments; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    console.error(`teaparty: ${(error as Error).message}\nTry --help for the list of options.`);
    return 2;
  }
  if (parsed.help) {
    console.log(helpText());
    return 0;
  }
  let server: ChatServer;
  try {
    const dir = parsed.options.db ? dirname(parsed.options.db) : "";
    if (dir && dir !== ".") Deno.mkdirSync(dir, { recursive: true });
    server = new ChatServer(parsed.options);
  } catch (error) {
    console.error(`teaparty: ${(error as Error).message}`);
    return 1;
  }
  let addr;
  try {
    addr = server.listen();
  } catch (error) {
    console.error(
      `teaparty: cannot listen on ${parsed.options.host}:${parsed.options.port}: ${(error as Error).message}`,
    );
    return 1;
  }
  console.log(`listening on ${addr.hostname}:${addr.port}`);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  await server.shutdown();
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
