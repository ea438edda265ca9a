/**
 * The client's command line: `[host[:port]]` and its flags, with the help text.
 *
 * @example
 * ```ts
 * import { parseClientArgs } from "./args.ts";
 * parseClientArgs(["--nick", "alice", "chat.example:6000"]);
 * // { host: "chat.example", port: 6000, nick: "alice", tls: false, ... }
 * ```
 * @module
 */
import { parseArgs } from "node:util";

/** Everything the command line sets. */
export interface ClientOptions {
  host: string;
  port: number;
  tls: boolean;
  insecure: boolean;
  /** A PEM file of CA certificates to trust (TLS). */
  ca?: string;
  /** Log in as this nick at once (and again after a reconnect, if no password was asked). */
  nick?: string;
  timestamps: boolean;
  /** Colours (off with --no-color or the NO_COLOR environment variable). */
  color: boolean;
  /** Show each line sent (`> line`), for servers that do not echo it back. */
  echo: boolean;
  /** Connect again when the connection is lost (interactive only). */
  reconnect: boolean;
  help: boolean;
}

/** The default server address. */
export const DEFAULT_HOST = "127.0.0.1";
/** The default port. */
export const DEFAULT_PORT = 5005;

/** The `--help` text (at most 80 columns a line; the keys as in the README's Keys table). */
export const CLIENT_HELP = `Usage: deno run --allow-net client.ts [options] [host[:port]]
A terminal chat client: what you type stays on the bottom line, whatever comes.
Default server: ${DEFAULT_HOST}:${DEFAULT_PORT} (an IPv6 address in brackets: [::1]:5005).
With standard input not a terminal, it is a plain line client: lines in, lines
out, exit at the end of input.

Options:
  --nick NAME     log in as NAME at once (sends "login NAME"; again after a
                  reconnect, if that needed no password)
  --tls           connect with TLS
  --insecure      with --tls: accept any certificate (self-signed), unverified
  --ca FILE       with --tls: also trust the CA certificates in FILE (PEM;
                  needs --allow-read=FILE)
  --timestamps    show the time (HH:MM) before each line
  --echo          show each line you send (for servers that do not echo it)
  --no-color      no colours (also when NO_COLOR is set)
  --no-reconnect  exit when the connection is lost instead of connecting again
  -h, --help      this text

Keys:
  Left/Right, Ctrl-B/Ctrl-F           one character back/forward
  Home/End, Ctrl-A/Ctrl-E             start/end of the line
  Alt-B/Alt-F, Ctrl-Left/Ctrl-Right   one word back/forward
  Backspace, Delete (Ctrl-D)          delete before/under the cursor
  Ctrl-W, Alt-D                       cut the word before/after the cursor
  Ctrl-U, Ctrl-K                      cut to the start/end of the line
  Ctrl-Y, Ctrl-T                      paste what was cut; swap two characters
  Up/Down, Ctrl-P/Ctrl-N              the lines you entered (history)
  Tab                                 complete a nick or a /command
  Enter                               send the line
  Ctrl-L                              redraw the screen
  Ctrl-C, Ctrl-D on an empty line     quit`;

/**
 * A host and port as the command line takes them: an IPv6 address in
 * brackets (`[::1]:5005`), anything else as `host:port`.
 *
 * @example
 * ```ts
 * formatAddress("::1", 5005); // "[::1]:5005"
 * formatAddress("chat.example", 6000); // "chat.example:6000"
 * ```
 */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses the command line; throws an Error with a one-line reason on bad input. */
export function parseClientArgs(args: string[], env: { NO_COLOR?: string } = {}): ClientOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        nick: { type: "string" },
        tls: { type: "boolean" },
        insecure: { type: "boolean" },
        ca: { type: "string" },
        timestamps: { type: "boolean" },
        echo: { type: "boolean" },
        "no-color": { type: "boolean" },
        "no-reconnect": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new Error((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new Error(`one server address expected, got ${positionals.length}`);
  const { host, port } = parseAddress(positionals[0] ?? "");
  if ((values.insecure || values.ca) && !values.tls) throw new Error("--insecure and --ca need --tls");
  if (values.insecure && values.ca) throw new Error("--insecure and --ca do not go together");
  const nick = values.nick;
  if (nick !== undefined && (nick === "" || /\s/.test(nick))) {
    throw new Error(`--nick needs one word, got ${JSON.stringify(nick)}`);
  }
  return {
    host,
    port,
    tls: values.tls ?? false,
    insecure: values.insecure ?? false,
    ca: values.ca,
    nick,
    timestamps: values.timestamps ?? false,
    color: !values["no-color"] && !env.NO_COLOR,
    echo: values.echo ?? false,
    reconnect: !values["no-reconnect"],
    help: values.help ?? false,
  };
}

/**
 * Reads `host`, `host:port`, `:port`, `[v6]:port` or `[v6]`; missing parts are the defaults.
 * Throws on a port that is not 1-65535.
 */
export function parseAddress(text: string): { host: string; port: number } {
  let host = text;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1];
    port = v6[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, port] = text.split(":");
  }
  const n = port === undefined || port === "" ? DEFAULT_PORT : Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535 || (port !== undefined && !/^\d+$/.test(port) && port !== "")) {
    throw new Error(`bad port "${port}" in "${text}": a number from 1 to 65535 expected`);
  }
  return { host: host || DEFAULT_HOST, port: n };
}
