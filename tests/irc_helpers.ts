/**
 * Helpers for the IRC door tests, on top of tests/helpers.ts: a server with
 * the IRC door open, raw IRC clients and registration.
 *
 * @example
 * ```ts
 * import { startIrcServer, ircLogin } from "./irc_helpers.ts";
 * await using chat = await startIrcServer();
 * const alice = await ircLogin(chat, "alice");
 * alice.send("JOIN #main");
 * await alice.waitFor(/ 366 alice #main /);
 * ```
 * @module
 */
import { startServer, TestClient, type TestServer } from "./helpers.ts";
import type { ChatServerOptions } from "../server.ts";

/** A test server with its IRC port. */
export interface IrcTestServer extends TestServer {
  ircPort: number;
}

/** Starts a test server with the IRC door on a free port (rate limit off unless asked). */
export async function startIrcServer(options: ChatServerOptions = {}): Promise<IrcTestServer> {
  const test = await startServer({ ircPort: 0, rate: 0, ...options });
  const door = test.server.doors.find((d) => d.scheme === "irc");
  if (!door) throw new Error("the IRC door did not open");
  return Object.assign(test, { ircPort: door.addr.port });
}

/** Connects a raw client to the IRC door (closed with the server). */
export async function ircConnect(test: IrcTestServer): Promise<TestClient> {
  const client = await TestClient.connect(test.ircPort);
  test.clients.push(client);
  return client;
}

/** How to register. */
export interface IrcLoginOptions {
  /** Capabilities to request (CAP LS 302 / REQ / END). */
  caps?: string[];
  /** A PASS line. */
  pass?: string;
  /** SASL PLAIN with this account and password (enables `sasl`). */
  sasl?: [string, string];
}

/** Connects, registers as `nick` and waits for the end of the MOTD. */
export async function ircLogin(test: IrcTestServer, nick: string, options: IrcLoginOptions = {}): Promise<TestClient> {
  const client = await ircConnect(test);
  const caps = [...(options.caps ?? []), ...(options.sasl ? ["sasl"] : [])];
  if (caps.length) {
    client.send("CAP LS 302");
    client.send(`CAP REQ :${caps.join(" ")}`);
  }
  if (options.pass) client.send(`PASS :${options.pass}`);
  client.send(`NICK ${nick}`);
  client.send(`USER ${nick} 0 * :${nick} test`);
  if (caps.length) await client.waitFor(/ CAP \* ACK /);
  if (options.sasl) {
    client.send("AUTHENTICATE PLAIN");
    await client.waitFor("AUTHENTICATE +");
    client.send(`AUTHENTICATE ${btoa(`${options.sasl[0]}\0${options.sasl[0]}\0${options.sasl[1]}`)}`);
    await client.waitFor(/ 903 /);
  }
  if (caps.length) client.send("CAP END");
  await client.waitFor(/ 376 /);
  return client;
}

/** Joins a channel and waits for its end of NAMES. */
export async function ircJoin(client: TestClient, nick: string, chan: string): Promise<void> {
  client.send(`JOIN ${chan}`);
  await client.waitFor((l) => l.includes(` 366 ${nick} `) && l.toLowerCase().includes(` ${chan.toLowerCase()} `));
}

/** The command of a received line (after tags and source). */
export function commandOf(line: string): string {
  const parts = line.split(" ");
  let i = 0;
  if (parts[i]?.startsWith("@")) i++;
  if (parts[i]?.startsWith(":")) i++;
  return parts[i] ?? "";
}

/** A line without its tags. */
export function untagged(line: string): string {
  return line.startsWith("@") ? line.slice(line.indexOf(" ") + 1) : line;
}
