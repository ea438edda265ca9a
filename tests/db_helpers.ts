/**
 * Helpers for the tests of the database features (history, accounts, mail,
 * moderation): temporary folders, clients on other addresses, and logging in
 * to registered nicks.
 *
 * @example
 * ```ts
 * import { startDbServer, tempDir } from "./db_helpers.ts";
 * await using dir = await tempDir();
 * await using chat = await startDbServer({ db: `${dir.path}/chat.db` });
 * ```
 * @module
 */
import { startServer, TestClient, type TestServer } from "./helpers.ts";
import type { ChatServerOptions } from "../server.ts";
import { Store } from "../store.ts";
import { hashPassword } from "../accounts.ts";
import { foldNick } from "../nick.ts";

/** A temporary folder, removed with everything in it when disposed. */
export interface TempDir extends AsyncDisposable {
  path: string;
}

/** Makes a temporary folder (Deno.makeTempDir) that `await using` removes. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "teaparty_test_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/**
 * Connects a {@linkcode TestClient} to `hostname` (e.g. "::1", so that the
 * server sees another address than 127.0.0.1). The caller closes it.
 */
export async function connectTo(hostname: string, port: number): Promise<TestClient> {
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  // TestClient's constructor is private to keep tests on TestClient.connect;
  // this is the one other way in, for addresses other than 127.0.0.1.
  return Reflect.construct(TestClient, [conn]) as TestClient;
}

/** Logs in to an unregistered nick, registers it with `password`, and returns the client (still logged in). */
export async function register(chat: TestServer, nick: string, password: string): Promise<TestClient> {
  const client = await chat.login(nick);
  client.send(`/register ${password}`);
  await client.waitFor(`*** ${nick} is now registered. Log in with: login ${nick} (the password is asked for).`);
  return client;
}

/** Sends `logout` and waits until the server has closed the connection. */
export async function logout(client: TestClient): Promise<void> {
  client.send("logout");
  await client.closed();
}

/**
 * Connects and logs in to a registered nick with `login <nick> <password>`,
 * waiting for the client's own entry line.
 */
export async function loginWithPassword(chat: TestServer, nick: string, password: string): Promise<TestClient> {
  const client = await chat.connect();
  await client.waitFor(/Log in with/);
  client.send(`login ${nick} ${password}`);
  await client.waitFor(`*** ${nick} has entered the room.`);
  return client;
}

/** The index of `needle` in `haystack` at or after `from`, or -1. */
export function indexOfBytes(haystack: ArrayLike<number>, needle: ArrayLike<number>, from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Like `startServer`, but also closes the server's database when the test
 * server is closed (ChatServer.shutdown leaves it open), so that no test
 * leaves a database file open.
 */
export async function startDbServer(options: ChatServerOptions = {}): Promise<TestServer> {
  const chat = await startServer(options);
  const close = chat.close;
  chat.close = async () => {
    await close();
    chat.server.store.close();
  };
  return chat;
}

/**
 * Like `startDbServer`, with accounts made before the server starts (as
 * `npm run account -- add` does), so that `--op` nicks among them are
 * operators once logged in with their password.
 */
export async function startOpServer(
  options: ChatServerOptions,
  accounts: Record<string, string>,
): Promise<TestServer> {
  const database = Store.open(options.db ?? "");
  for (const [nick, password] of Object.entries(accounts)) {
    database.saveAccount(foldNick(nick), nick, await hashPassword(password));
  }
  return await startDbServer({ ...options, database });
}
