/**
 * Server options: their defaults, the command-line flags that set them and
 * the `--help` text, all generated from one flag table.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./config.ts";
 * const { options } = parseOptions(["--port", "0", "--name", "Tea"]);
 * console.log(options.port, options.name); // 0 "Tea"
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { checkRoomName } from "./room_name.ts";
import { checkNewNick, codePoint } from "./nick.ts";
import { DEFAULT_FLUSH_BUDGET_MS, DEFAULT_FLUSH_CPU_SHARE } from "./flush_pacing.ts";
import { originProblem } from "./wire/http.ts";
import { covers, parseAddress } from "./moderation.ts";
import { cleanLine, hasVisible } from "./text.ts";
import { clip } from "./format.ts";
import { readFlags } from "./command_line.ts";

/** Every setting of a teaparty server. */
export interface ServerOptions {
  /** Address to listen on. */
  host: string;
  /** Port of the telnet door (also for MUD clients and nc); 0 picks a free one. */
  port: number;
  /** Server name shown in the greeting (and the IRC door's NETWORK); see {@linkcode nameProblem}. */
  name: string;
  /** The main room, where users arrive after login. */
  room: string;
  /** Longest accepted line in bytes, as received. */
  maxLine: number;
  /** Outgoing queue limit per session in bytes; past it the session is dropped. */
  maxQueue: number;
  /** Milliseconds output may be held back to gather more lines per write while the backlog grows; 0: never. */
  flushBudget: number;
  /** Percent of a core that sustained load may use before flushes are spaced out (within the budget); 100: no limit. */
  flushCpu: number;
  /** Lines per second a session may send (token bucket); 0 disables. */
  rate: number;
  /** Token bucket size in lines. */
  burst: number;
  /** Total connection limit; 0 disables. */
  maxClients: number;
  /** Connections per IP address; 0 disables. */
  maxPerIp: number;
  /** Seconds a connection may stay without logging in; 0 disables. */
  loginTimeout: number;
  /** Room size above which entry and leave notices are summarised once a second. */
  crowd: number;
  /** SQLite database file; empty keeps everything in memory. */
  db: string;
  /** Lines of history shown on entering a room. */
  history: number;
  /** Registered nicks that are operators. */
  op: string[];
  /** Log level: debug, info, warn, error or silent. */
  logLevel: string;
  /** Milliseconds that shutdown waits for queues to drain (at most 5000). */
  shutdownGrace: number;
  /** The check of an existing database at start-up: quick, full or off. */
  dbCheck: "quick" | "full" | "off";
  /** Seconds between liveness checks of silent telnet clients (two unanswered checks close them); 0: none. */
  keepalive: number;
  /** Port of the telnet-over-TLS door; 0 picks a free one; -1: no such door. */
  tlsPort: number;
  /** Port of the HTTP door (web client, WebSocket, /metrics, /healthz; HTTPS with the TLS files); -1: none. */
  httpPort: number;
  /** PEM certificate chain file for the TLS doors. */
  tlsCert: string;
  /** PEM private key file for the TLS doors. */
  tlsKey: string;
  /** Origins besides the page's own that may open the WebSocket (`*` for any). */
  allowOrigin: string[];
  /** Addresses or ranges (`10.0.0.0/8`) of reverse proxies trusted to say who the client is (X-Forwarded-For), in normal form. */
  trustProxy: string[];
  /** Port of the IRC door; 0 picks a free one; -1: no such door. */
  ircPort: number;
  /** Port of the IRC-over-TLS door; 0 picks a free one; -1: no such door. */
  ircTlsPort: number;
  /** Cluster mode: the Redis server shared by every node (`redis://127.0.0.1:6379/0`); "" for a single server. */
  redis: string;
  /** Share the listening ports with other processes (`SO_REUSEPORT`; Deno needs `--unstable-net`). */
  reusePort: boolean;
}

/** The defaults of every option. */
export const defaults: Readonly<ServerOptions> = Object.freeze({
  host: "0.0.0.0",
  port: 5005,
  name: "TestChat",
  room: "main",
  maxLine: 4096,
  maxQueue: 1024 * 1024,
  flushBudget: DEFAULT_FLUSH_BUDGET_MS,
  flushCpu: Math.round(DEFAULT_FLUSH_CPU_SHARE * 100),
  rate: 5,
  burst: 10,
  maxClients: 10000,
  maxPerIp: 20,
  loginTimeout: 60,
  crowd: 200,
  db: "",
  history: 20,
  op: [] as string[],
  logLevel: "info",
  shutdownGrace: 5000,
  dbCheck: "quick",
  keepalive: 60,
  tlsPort: -1,
  httpPort: -1,
  tlsCert: "",
  tlsKey: "",
  allowOrigin: [] as string[],
  trustProxy: [] as string[],
  ircPort: -1,
  ircTlsPort: -1,
  redis: "",
  reusePort: false,
});

interface Flag {
  key: keyof ServerOptions;
  flag: string;
  /** A `switch` takes no value: present means on. */
  kind: "string" | "number" | "list" | "switch";
  arg: string;
  help: string;
  min?: number;
  /** Only whole numbers make sense (a count, a size or a port). */
  integer?: boolean;
}

/** The flag table: one row per command-line flag. */
export const flags: readonly Flag[] = [
  { key: "host", flag: "host", kind: "string", arg: "ADDR", help: "address to listen on" },
  {
    key: "port",
    flag: "port",
    kind: "number",
    arg: "N",
    help: "telnet port, also for MUD clients and nc (0 picks a free port)",
    min: 0,
    integer: true,
  },
  { key: "name", flag: "name", kind: "string", arg: "TEXT", help: "server name shown in the greeting" },
  { key: "room", flag: "room", kind: "string", arg: "NAME", help: "main room, where users arrive" },
  {
    key: "maxLine",
    flag: "max-line",
    kind: "number",
    arg: "BYTES",
    help: "longest accepted input line",
    min: 16,
    integer: true,
  },
  {
    key: "maxQueue",
    flag: "max-queue",
    kind: "number",
    arg: "BYTES",
    help: "drop a client whose unsent output passes this",
    min: 1024,
    integer: true,
  },
  {
    key: "flushBudget",
    flag: "flush-budget",
    kind: "number",
    arg: "MS",
    help: "under sustained load, hold output back at most this long to send more lines per write (0 = never)",
    min: 0,
  },
  {
    key: "flushCpu",
    flag: "flush-cpu",
    kind: "number",
    arg: "PERCENT",
    help:
      "under sustained load, space flushes out (within --flush-budget) to use about this share of a core (100 = never)",
    min: 1,
  },
  { key: "rate", flag: "rate", kind: "number", arg: "N", help: "lines per second per session (0 = no limit)", min: 0 },
  {
    key: "burst",
    flag: "burst",
    kind: "number",
    arg: "N",
    help: "lines a session may send at once",
    min: 1,
    integer: true,
  },
  {
    key: "maxClients",
    flag: "max-clients",
    kind: "number",
    arg: "N",
    help: "total connections (0 = no limit)",
    min: 0,
    integer: true,
  },
  {
    key: "maxPerIp",
    flag: "max-per-ip",
    kind: "number",
    arg: "N",
    help: "connections per IP address (0 = no limit)",
    min: 0,
    integer: true,
  },
  {
    key: "loginTimeout",
    flag: "login-timeout",
    kind: "number",
    arg: "SEC",
    help: "close connections not logged in by then (0 = never)",
    min: 0,
  },
  {
    key: "crowd",
    flag: "crowd",
    kind: "number",
    arg: "N",
    help: "room size above which entries and leaves are summarised each second",
    min: 1,
    integer: true,
  },
  { key: "db", flag: "db", kind: "string", arg: "PATH", help: "SQLite database file; none keeps everything in memory" },
  {
    key: "dbCheck",
    flag: "db-check",
    kind: "string",
    arg: "HOW",
    help: "check an existing database at start-up: quick (SQLite quick_check), full (integrity_check) or off",
  },
  {
    key: "history",
    flag: "history",
    kind: "number",
    arg: "N",
    help: "history lines shown on entering a room",
    min: 0,
    integer: true,
  },
  {
    key: "op",
    flag: "op",
    kind: "list",
    arg: "NICK",
    help: "operator: a nick whose account exists at start-up (npm run account; needs --db; repeatable)",
  },
  { key: "logLevel", flag: "log-level", kind: "string", arg: "LEVEL", help: "debug, info, warn, error or silent" },
  {
    key: "keepalive",
    flag: "keepalive",
    kind: "number",
    arg: "SEC",
    help: "check silent telnet, WebSocket and IRC clients this often; close those that fail twice (0 = never)",
    min: 0,
  },
  {
    key: "tlsPort",
    flag: "tls-port",
    kind: "number",
    arg: "N",
    help: "telnet over TLS on this port (0 picks a free port; needs --tls-cert and --tls-key)",
    min: 0,
    integer: true,
  },
  {
    key: "httpPort",
    flag: "http-port",
    kind: "number",
    arg: "N",
    help: "web client, WebSocket, /metrics and /healthz (HTTPS with --tls-cert and --tls-key)",
    min: 0,
    integer: true,
  },
  { key: "tlsCert", flag: "tls-cert", kind: "string", arg: "FILE", help: "PEM certificate (chain) for the TLS doors" },
  { key: "tlsKey", flag: "tls-key", kind: "string", arg: "FILE", help: "PEM private key for the TLS doors" },
  {
    key: "allowOrigin",
    flag: "allow-origin",
    kind: "list",
    arg: "ORIGIN",
    help: "another origin that may open the WebSocket, e.g. https://chat.example.org (repeatable)",
  },
  {
    key: "trustProxy",
    flag: "trust-proxy",
    kind: "list",
    arg: "ADDR",
    help:
      "the IP address or network (10.0.0.0/8) of a reverse proxy whose X-Forwarded-For names the client (repeatable)",
  },
  {
    key: "ircPort",
    flag: "irc-port",
    kind: "number",
    arg: "N",
    help: "IRC on this port (6667 by convention; 0 picks a free port)",
    min: 0,
    integer: true,
  },
  {
    key: "ircTlsPort",
    flag: "irc-tls-port",
    kind: "number",
    arg: "N",
    help: "IRC over TLS on this port (6697 by convention; needs --tls-cert and --tls-key)",
    min: 0,
    integer: true,
  },
  {
    key: "redis",
    flag: "redis",
    kind: "string",
    arg: "URL",
    help: "cluster mode: share the chat with every server on this Redis, e.g. redis://127.0.0.1:6379/0",
  },
  {
    key: "reusePort",
    flag: "reuse-port",
    kind: "switch",
    arg: "",
    help: "let several servers listen on the same ports (SO_REUSEPORT; run deno with --unstable-net)",
  },
];

/** The largest `--flush-budget`: beyond it, held-back output would look like a stalled server. */
export const MAX_FLUSH_BUDGET_MS = 1000;

const levels = ["debug", "info", "warn", "error", "silent"];

/** The result of {@linkcode parseOptions}: options, or a request for help. */
export interface ParsedOptions {
  options: ServerOptions;
  help: boolean;
}

/**
 * Parses command-line arguments into options, starting from the defaults.
 * Throws an `Error` whose message names the bad flag and why it is bad.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./config.ts";
 * parseOptions(["--rate", "0"]).options.rate; // 0
 * ```
 */
export function parseOptions(args: string[]): ParsedOptions {
  const spec: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const f of flags) {
    spec[f.flag] = f.kind === "switch" ? { type: "boolean" } : { type: "string", multiple: f.kind === "list" };
  }
  const { values } = parseArgs({ args: normaliseArgs(args), options: spec, strict: true, allowPositionals: false });
  const options: ServerOptions = { ...defaults, op: [], allowOrigin: [], trustProxy: [] };
  const record = options as unknown as Record<string, unknown>;
  for (const f of flags) {
    const value = values[f.flag];
    if (value === undefined) continue;
    if (f.kind === "switch") record[f.key] = value === true;
    else if (f.kind === "list") record[f.key] = [...(value as string[])];
    else if (f.kind === "number") record[f.key] = toNumber(f, value as string);
    else record[f.key] = value;
  }
  const nameIssue = nameProblem(options.name);
  if (nameIssue) throw new Error(`--name ${shown(options.name)}: ${nameIssue}`);
  options.trustProxy = options.trustProxy.map(trustedProxy);
  if (values.db === "") throw new Error("--db needs a file name (leave --db out to keep everything in memory)");
  for (const nick of options.op) {
    const problem = checkNewNick(nick);
    if (problem) throw new Error(`--op: "${nick}" is not a valid nick: ${problem}`);
  }
  for (const origin of options.allowOrigin) {
    const problem = originProblem(origin);
    if (problem) {
      throw new Error(
        `--allow-origin "${origin}": ${problem}; an origin is http(s)://host[:port], such as https://chat.example.org`,
      );
    }
  }
  if (!["quick", "full", "off"].includes(options.dbCheck)) {
    throw new Error(`--db-check must be quick, full or off, not "${options.dbCheck}"`);
  }
  if (!levels.includes(options.logLevel)) {
    throw new Error(`--log-level must be one of ${levels.join(", ")}, not "${options.logLevel}"`);
  }
  for (
    const [flag, port] of [
      ["port", options.port],
      ["tls-port", options.tlsPort],
      ["http-port", options.httpPort],
      ["irc-port", options.ircPort],
      ["irc-tls-port", options.ircTlsPort],
    ]
  ) {
    if (Number(port) > 65535) throw new Error(`--${flag} must be at most 65535, not ${port}`);
  }
  if (options.flushBudget > MAX_FLUSH_BUDGET_MS) {
    throw new Error(`--flush-budget must be at most ${MAX_FLUSH_BUDGET_MS} ms, not ${options.flushBudget}`);
  }
  if (options.flushCpu > 100) {
    throw new Error(`--flush-cpu is a share of one core: at most 100, not ${options.flushCpu}`);
  }
  if ((options.tlsCert === "") !== (options.tlsKey === "")) {
    throw new Error("--tls-cert and --tls-key go together: give both, or neither");
  }
  if (options.tlsPort >= 0 && options.tlsCert === "") {
    throw new Error("--tls-port needs --tls-cert FILE and --tls-key FILE");
  }
  if (options.ircTlsPort >= 0 && options.tlsCert === "") {
    throw new Error("--irc-tls-port needs --tls-cert FILE and --tls-key FILE");
  }
  if (options.redis !== "" && !/^rediss?:\/\/[^\s/]+(\/\d*)?$/.test(options.redis)) {
    throw new Error(`--redis must be a redis:// URL such as redis://127.0.0.1:6379/0, not "${options.redis}"`);
  }
  if (options.reusePort && options.port === 0) {
    throw new Error("--reuse-port needs fixed ports (--port 0 gives each server a port of its own)");
  }
  if (options.redis !== "" && options.db !== "") {
    throw new Error("--db and --redis do not go together: in cluster mode Redis keeps the accounts and history");
  }
  const roomProblem = checkRoomName(options.room);
  if (roomProblem) throw new Error(`--room: ${roomProblem}, not "${options.room}"`);
  return { options, help: values.help === true };
}

/** Longest server name, in characters: it is shown in every greeting and in the IRC door's 001 and 005 lines. */
export const MAX_NAME = 50;

/**
 * Why `name` cannot be the server name (`--name`), or undefined if it can:
 * it must show something, have no control characters (nor the invisible or
 * direction-changing ones that users' lines lose, see `cleanLine`) and be
 * at most {@linkcode MAX_NAME} characters. Spaces are fine (the IRC door
 * escapes them in its NETWORK token).
 *
 * @example
 * ```ts
 * import { nameProblem } from "./config.ts";
 * nameProblem("Tea Party"); // undefined
 * nameProblem(""); // "a server name cannot be empty"
 * ```
 */
export function nameProblem(name: string): string | undefined {
  if (name === "") return "a server name cannot be empty";
  const chars = [...name];
  const control = chars.find(isControl);
  if (control) return `a server name may not contain control characters (${codePoint(control)})`;
  if (cleanLine(name) !== name) {
    // Name the first character that users' lines would lose: joiners and flag tags only count where they are out of place.
    const lost = (c: string) => cleanLine(c) !== c;
    const hidden = chars.find((c) => lost(c) && !/^[\u200c\u200d\u{e0000}-\u{e007f}]$/u.test(c)) ?? chars.find(lost)!;
    return `a server name may not contain ${codePoint(hidden)}: it does not show, or changes the text around it`;
  }
  if (!hasVisible(name)) return "a server name needs something visible, not only spaces";
  if (chars.length > MAX_NAME) return `a server name has at most ${MAX_NAME} characters; this one has ${chars.length}`;
  return undefined;
}

/**
 * A `--trust-proxy` value in the normal form that the HTTP door compares
 * with the connection's address (IPv6 compressed lower case, an
 * IPv4-mapped address as IPv4): one IP address, or a range with a prefix
 * length (`10.0.0.0/8`, `fd00::/8`; host bits cleared), not a name, since
 * names are not looked up. A range holding every IPv4 address (`/0`) is refused:
 * anyone could then name any address in `X-Forwarded-For`. Throws naming
 * the value.
 */
function trustedProxy(value: string): string {
  const flag = `--trust-proxy ${shown(value)}`;
  const example = "such as 127.0.0.1, ::1 or 10.0.0.0/8";
  const parsed = parseAddress(value);
  if ("error" in parsed) {
    const why = parsed.error.startsWith("/") ? parsed.error : "not an IP address or a range (names are not looked up)";
    throw new Error(`${flag}: ${why}; give the proxy's address, ${example}`);
  }
  if (covers(parsed, "0.0.0.0") && covers(parsed, "255.255.255.255")) { // 0.0.0.0/0, ::/0, ::ffff:0:0/96, ::/1…
    throw new Error(
      `${flag}: this range holds every IPv4 address, so anyone could claim any address in X-Forwarded-For; ` +
        `give the proxy's address or its network, ${example}`,
    );
  }
  return parsed.text;
}

function isControl(c: string): boolean {
  const code = c.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code < 0xa0);
}

/**
 * A value in quotes for an error line: its first 60 characters (then "…"), with what would not show (or would
 * upset the terminal) as `\u{…}`.
 */
function shown(text: string): string {
  const safe = [...clip(text, 60)].map((c) =>
    isControl(c) || cleanLine(c) !== c ? `\\u{${c.codePointAt(0)!.toString(16)}}` : c
  );
  return `"${safe.join("")}"`;
}

/**
 * Checks the shape of the arguments before the parser sees them, so that
 * every mistake gets one line in our words, and joins a value flag with a
 * value that starts with a dash (`--port -1` becomes `--port=-1`, which then
 * meets the same rule as the `=` form). Throws an Error naming the argument.
 */
function normaliseArgs(args: string[]): string[] {
  const read = readFlags(args, {
    valued: flags.filter((f) => f.kind !== "switch").map((f) => f.flag),
    switches: flags.filter((f) => f.kind === "switch").map((f) => f.flag),
  });
  if (read.positionals.length > 0) throw new Error(unexpected(read.positionals[0]));
  const out = read.flags.map(({ name, value }) => value === undefined ? `--${name}` : `--${name}=${value}`);
  if (read.help) out.push("--help");
  return out;
}

function unexpected(arg: string): string {
  return `unexpected argument "${arg}"; options are flags with their values (--port 5005)`;
}

function toNumber(f: Flag, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) {
    throw new Error(`--${f.flag} needs a number, not "${text}"`);
  }
  if (f.min !== undefined && n < f.min) {
    throw new Error(`--${f.flag} must be at least ${f.min}, not ${n}`);
  }
  if (f.integer && !Number.isInteger(n)) throw new Error(`--${f.flag} needs a whole number, not "${text}"`);
  return n;
}

/**
 * The `--help` text: usage, then every flag with its default.
 *
 * @example
 * ```ts
 * import { helpText } from "./config.ts";
 * console.log(helpText());
 * ```
 */
export function helpText(): string {
  const rows = flags.map((f) => {
    const left = f.arg ? `  --${f.flag} ${f.arg}` : `  --${f.flag}`;
    const value = defaults[f.key];
    const shown = Array.isArray(value) || value === ""
      ? "none"
      : value === -1 || value === false
      ? "off"
      : String(value);
    return `${left.padEnd(28)}${f.help} (default: ${shown})`;
  });
  return [
    "teaparty: a multi-user chat server for telnet (MUD clients, nc), web browsers and IRC, each also over TLS",
    "",
    "Usage: deno run --allow-net main.ts [options]",
    "",
    "Options:",
    ...rows,
    `  ${"-h, --help".padEnd(26)}show this help and exit`,
  ].join("\n");
}
