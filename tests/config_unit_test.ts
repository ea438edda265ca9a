import assert from "node:assert/strict";
import { defaults, flags, helpText, parseOptions, type ServerOptions } from "../config.ts";
import { DEFAULT_FLUSH_BUDGET_MS, DEFAULT_FLUSH_CPU_SHARE } from "../flush_pacing.ts";

const expectedDefaults: ServerOptions = {
  host: "0.0.0.0",
  port: 5005,
  name: "TestChat",
  room: "main",
  maxLine: 4096,
  maxQueue: 1048576,
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
  op: [],
  logLevel: "info",
  shutdownGrace: 5000,
  dbCheck: "quick",
  keepalive: 60,
  tlsPort: -1,
  httpPort: -1,
  tlsCert: "",
  tlsKey: "",
  allowOrigin: [],
  trustProxy: [],
  ircPort: -1,
  ircTlsPort: -1,
  redis: "",
  reusePort: false,
};

/** One example per flag: the arguments and the option they set. */
const examples: [string, string[], Partial<ServerOptions>][] = [
  ["host", ["--host", "127.0.0.1"], { host: "127.0.0.1" }],
  ["port", ["--port", "0"], { port: 0 }],
  ["name", ["--name", "Tea Party"], { name: "Tea Party" }],
  ["room", ["--room", "lobby"], { room: "lobby" }],
  ["max-line", ["--max-line", "100"], { maxLine: 100 }],
  ["max-queue", ["--max-queue", "2048"], { maxQueue: 2048 }],
  ["flush-budget", ["--flush-budget", "2.5"], { flushBudget: 2.5 }],
  ["flush-cpu", ["--flush-cpu", "55"], { flushCpu: 55 }],
  ["rate", ["--rate", "0"], { rate: 0 }],
  ["burst", ["--burst", "3"], { burst: 3 }],
  ["max-clients", ["--max-clients", "0"], { maxClients: 0 }],
  ["max-per-ip", ["--max-per-ip", "2"], { maxPerIp: 2 }],
  ["login-timeout", ["--login-timeout", "0"], { loginTimeout: 0 }],
  ["crowd", ["--crowd", "5"], { crowd: 5 }],
  ["db", ["--db", "/tmp/tea.db"], { db: "/tmp/tea.db" }],
  ["history", ["--history", "0"], { history: 0 }],
  ["op", ["--op", "alice"], { op: ["alice"] }],
  ["log-level", ["--log-level", "debug"], { logLevel: "debug" }],
  ["tls-port", ["--tls-port", "0", "--tls-cert", "c.pem", "--tls-key", "k.pem"], {
    tlsPort: 0,
    tlsCert: "c.pem",
    tlsKey: "k.pem",
  }],
  ["http-port", ["--http-port", "8080"], { httpPort: 8080 }],
  ["keepalive", ["--keepalive", "0"], { keepalive: 0 }],
  ["db-check", ["--db-check", "full"], { dbCheck: "full" }],
  ["tls-cert", ["--tls-cert", "c.pem", "--tls-key", "k.pem"], { tlsCert: "c.pem", tlsKey: "k.pem" }],
  ["tls-key", ["--tls-key", "k.pem", "--tls-cert", "c.pem"], { tlsCert: "c.pem", tlsKey: "k.pem" }],
  ["allow-origin", ["--allow-origin", "https://a.example"], { allowOrigin: ["https://a.example"] }],
  ["trust-proxy", ["--trust-proxy", "10.0.0.1"], { trustProxy: ["10.0.0.1"] }],
  ["irc-port", ["--irc-port", "6667"], { ircPort: 6667 }],
  ["irc-tls-port", ["--irc-tls-port", "6697", "--tls-cert", "c.pem", "--tls-key", "k.pem"], {
    ircTlsPort: 6697,
    tlsCert: "c.pem",
    tlsKey: "k.pem",
  }],
  ["redis", ["--redis", "redis://127.0.0.1:6379/0"], { redis: "redis://127.0.0.1:6379/0" }],
  ["reuse-port", ["--reuse-port"], { reusePort: true }],
];

Deno.test("no arguments give the defaults", () => {
  assert.deepEqual(parseOptions([]), { options: expectedDefaults, help: false });
  assert.deepEqual({ ...defaults }, expectedDefaults);
});

Deno.test("the parsed options do not share the default op list", () => {
  const { options } = parseOptions([]);
  options.op.push("mallory");
  assert.deepEqual(defaults.op, []);
  assert.deepEqual(parseOptions([]).options.op, []);
});

Deno.test("each flag sets its option and nothing else", () => {
  for (const [flag, args, set] of examples) {
    assert.deepEqual(parseOptions(args).options, { ...expectedDefaults, ...set }, `--${flag}`);
  }
});

Deno.test("every flag in the flag table has an example here", () => {
  assert.deepEqual(examples.map(([flag]) => flag).sort(), flags.map((f) => f.flag).sort());
});

Deno.test("a flag's value may follow an equals sign", () => {
  assert.equal(parseOptions(["--port=0"]).options.port, 0);
  assert.equal(parseOptions(["--name=Tea=Party"]).options.name, "Tea=Party");
});

Deno.test("several flags combine", () => {
  assert.deepEqual(parseOptions(["--port", "6000", "--room", "lobby", "--rate", "2.5"]).options, {
    ...expectedDefaults,
    port: 6000,
    room: "lobby",
    rate: 2.5,
  });
});

Deno.test("--op is repeatable and keeps its order", () => {
  assert.deepEqual(parseOptions(["--op", "alice", "--port", "0", "--op", "bob"]).options.op, ["alice", "bob"]);
});

Deno.test("--help and -h ask for help", () => {
  assert.equal(parseOptions(["--help"]).help, true);
  assert.equal(parseOptions(["-h"]).help, true);
  assert.equal(parseOptions(["--port", "0"]).help, false);
});

Deno.test("a value that is not a number is refused naming the flag", () => {
  assert.throws(() => parseOptions(["--port", "abc"]), { message: '--port needs a number, not "abc"' });
  assert.throws(() => parseOptions(["--rate", ""]), { message: '--rate needs a number, not ""' });
  assert.throws(() => parseOptions(["--max-line", " "]), { message: '--max-line needs a number, not " "' });
  assert.throws(() => parseOptions(["--burst", "Infinity"]), { message: '--burst needs a number, not "Infinity"' });
  assert.throws(() => parseOptions(["--history", "NaN"]), { message: '--history needs a number, not "NaN"' });
});

Deno.test("a number below its flag's minimum is refused naming the flag", () => {
  assert.throws(() => parseOptions(["--port=-1"]), { message: "--port must be at least 0, not -1" });
  assert.throws(() => parseOptions(["--max-line", "15"]), { message: "--max-line must be at least 16, not 15" });
  assert.throws(() => parseOptions(["--max-queue", "1023"]), {
    message: "--max-queue must be at least 1024, not 1023",
  });
  assert.throws(() => parseOptions(["--burst", "0"]), { message: "--burst must be at least 1, not 0" });
  assert.throws(() => parseOptions(["--crowd", "0"]), { message: "--crowd must be at least 1, not 0" });
  assert.throws(() => parseOptions(["--rate=-1"]), { message: "--rate must be at least 0, not -1" });
});

Deno.test("a fraction is refused for a flag that counts whole things", () => {
  assert.throws(() => parseOptions(["--port", "80.5"]), { message: '--port needs a whole number, not "80.5"' });
  assert.throws(() => parseOptions(["--burst", "1.5"]), { message: '--burst needs a whole number, not "1.5"' });
  assert.throws(() => parseOptions(["--history", "2.5"]), { message: '--history needs a whole number, not "2.5"' });
});

Deno.test("a fraction is accepted for the rate", () => {
  assert.equal(parseOptions(["--rate", "0.5"]).options.rate, 0.5);
});

Deno.test("a main room that is not a valid room name is refused", () => {
  assert.throws(() => parseOptions(["--room", "tea room"]), {
    message: '--room: a room name may hold only letters, digits, underscores, hyphens and dots, not "tea room"',
  });
  assert.throws(() => parseOptions(["--room", ""]), { message: '--room: a room name cannot be empty, not ""' });
});

Deno.test("the minimum itself is accepted", () => {
  assert.equal(parseOptions(["--max-line", "16"]).options.maxLine, 16);
  assert.equal(parseOptions(["--max-queue", "1024"]).options.maxQueue, 1024);
  assert.equal(parseOptions(["--burst", "1"]).options.burst, 1);
});

Deno.test("a flush budget above 1000 ms or below 0 is refused; 0 (never hold back) is accepted", () => {
  assert.throws(() => parseOptions(["--flush-budget", "1001"]), {
    message: "--flush-budget must be at most 1000 ms, not 1001",
  });
  assert.throws(() => parseOptions(["--flush-budget=-1"]), { message: "--flush-budget must be at least 0, not -1" });
  assert.throws(() => parseOptions(["--flush-budget", "soon"]), {
    message: '--flush-budget needs a number, not "soon"',
  });
  assert.equal(parseOptions(["--flush-budget", "0"]).options.flushBudget, 0);
  assert.equal(parseOptions(["--flush-budget", "1000"]).options.flushBudget, 1000);
  assert.equal(parseOptions([]).options.flushBudget, DEFAULT_FLUSH_BUDGET_MS);
});

Deno.test("a flush CPU share above 100% of a core or below 1% is refused; 100 (never hold back) is accepted", () => {
  assert.throws(() => parseOptions(["--flush-cpu", "101"]), {
    message: "--flush-cpu is a share of one core: at most 100, not 101",
  });
  assert.throws(() => parseOptions(["--flush-cpu", "0"]), { message: "--flush-cpu must be at least 1, not 0" });
  assert.equal(parseOptions(["--flush-cpu", "100"]).options.flushCpu, 100);
  assert.equal(parseOptions(["--flush-cpu", "12.5"]).options.flushCpu, 12.5);
  assert.equal(parseOptions([]).options.flushCpu, 70);
});

Deno.test("a port above 65535 is refused", () => {
  assert.throws(() => parseOptions(["--port", "65536"]), { message: "--port must be at most 65535, not 65536" });
  assert.equal(parseOptions(["--port", "65535"]).options.port, 65535);
});

Deno.test("an unknown log level is refused with the known ones", () => {
  assert.throws(() => parseOptions(["--log-level", "loud"]), {
    message: '--log-level must be one of debug, info, warn, error, silent, not "loud"',
  });
  for (const level of ["debug", "info", "warn", "error", "silent"]) {
    assert.equal(parseOptions(["--log-level", level]).options.logLevel, level);
  }
});

Deno.test("an unknown flag throws naming it", () => {
  assert.throws(() => parseOptions(["--bogus"]), { message: /--bogus/ });
  assert.throws(() => parseOptions(["--port", "0", "--maxline", "100"]), { message: /--maxline/ });
});

Deno.test("a positional argument throws naming it", () => {
  assert.throws(() => parseOptions(["5005"]), { message: /"5005"/ });
});

Deno.test("a flag without its value throws naming it", () => {
  assert.throws(() => parseOptions(["--port"]), { message: /--port/ });
});

Deno.test("helpText lists every flag with its argument, help and default", () => {
  const shown: Record<string, string> = {
    host: "0.0.0.0",
    port: "5005",
    name: "TestChat",
    room: "main",
    "max-line": "4096",
    "max-queue": "1048576",
    "flush-budget": String(DEFAULT_FLUSH_BUDGET_MS),
    "flush-cpu": "70",
    rate: "5",
    burst: "10",
    "max-clients": "10000",
    "max-per-ip": "20",
    "login-timeout": "60",
    crowd: "200",
    db: "none",
    history: "20",
    op: "none",
    "log-level": "info",
    keepalive: "60",
    "db-check": "quick",
    "tls-port": "off",
    "http-port": "off",
    "tls-cert": "none",
    "tls-key": "none",
    "allow-origin": "none",
    "trust-proxy": "none",
    "irc-port": "off",
    "irc-tls-port": "off",
    redis: "none",
    "reuse-port": "off",
  };
  const lines = helpText().split("\n");
  assert.deepEqual(Object.keys(shown).sort(), flags.map((f) => f.flag).sort());
  for (const f of flags) {
    const row = lines.filter((line) => line.startsWith(`  --${f.flag} `));
    assert.equal(row.length, 1, `one row for --${f.flag}`);
    assert.equal(row[0], `${`  --${f.flag} ${f.arg}`.padEnd(28)}${f.help} (default: ${shown[f.flag]})`);
  }
});

Deno.test("helpText starts with usage and ends with --help", () => {
  const lines = helpText().split("\n");
  assert.equal(
    lines[0],
    "teaparty: a multi-user chat server for telnet (MUD clients, nc), web browsers and IRC, each also over TLS",
  );
  assert.equal(lines[2], "Usage: deno run --allow-net main.ts [options]");
  assert.equal(lines[4], "Options:");
  assert.equal(lines.length, 5 + flags.length + 1);
  assert.equal(lines[lines.length - 1], `  ${"-h, --help".padEnd(26)}show this help and exit`);
});

Deno.test("--redis takes a redis:// URL and refuses anything else in one line", () => {
  assert.equal(parseOptions(["--redis", "redis://127.0.0.1:6380"]).options.redis, "redis://127.0.0.1:6380");
  assert.equal(parseOptions(["--redis", "rediss://10.0.0.2:6379/3"]).options.redis, "rediss://10.0.0.2:6379/3");
  for (const bad of ["127.0.0.1:6379", "http://127.0.0.1:6379", "redis://", "redis://host/db"]) {
    assert.throws(() => parseOptions(["--redis", bad]), {
      message: `--redis must be a redis:// URL such as redis://127.0.0.1:6379/0, not "${bad}"`,
    });
  }
  assert.throws(() => parseOptions(["--redis", "redis://127.0.0.1:6379", "--db", "/tmp/tea.db"]), {
    message: "--db and --redis do not go together: in cluster mode Redis keeps the accounts and history",
  });
});

Deno.test("--reuse-port is a switch: no value, and only with fixed ports", () => {
  assert.equal(parseOptions(["--reuse-port", "--port", "5005"]).options.reusePort, true);
  assert.equal(parseOptions(["--port", "5005", "--reuse-port"]).options.reusePort, true);
  assert.throws(() => parseOptions(["--reuse-port=yes"]), { message: "--reuse-port takes no value" });
  assert.throws(() => parseOptions(["--reuse-port", "--port", "0"]), {
    message: "--reuse-port needs fixed ports (--port 0 gives each server a port of its own)",
  });
  assert.throws(() => parseOptions(["--name", "--reuse-port"]), {
    message: "--name needs a value, not the flag --reuse-port",
  });
});

Deno.test("the help names every door, and --port as the telnet one", () => {
  const text = helpText();
  const intro = text.split("\n")[0];
  for (const door of ["telnet", "web", "IRC", "TLS"]) assert.ok(intro.includes(door), `${door} in: ${intro}`);
  const port = text.split("\n").find((line) => line.startsWith("  --port "))!;
  assert.match(port, /--port N +telnet port/);
  assert.doesNotMatch(port, /TCP port/);
});

Deno.test("--trust-proxy takes IP addresses and ranges, stored as the HTTP door compares them", () => {
  assert.deepEqual(parseOptions(["--trust-proxy", "127.0.0.1", "--trust-proxy", "::1"]).options.trustProxy, [
    "127.0.0.1",
    "::1",
  ]);
  // IPv6 compressed lower case, IPv4-mapped as IPv4, a range's host bits cleared.
  assert.deepEqual(
    parseOptions([
      "--trust-proxy",
      "2001:DB8:0:0::1",
      "--trust-proxy",
      "::ffff:10.0.0.2",
      "--trust-proxy",
      "0:0::1",
      "--trust-proxy",
      "10.1.2.3/8",
      "--trust-proxy",
      "FD00::/8",
    ]).options.trustProxy,
    ["2001:db8::1", "10.0.0.2", "::1", "10.0.0.0/8", "fd00::/8"],
  );
});

Deno.test("a --trust-proxy that is not an IP address or a range is refused in one line naming it", () => {
  const example = "give the proxy's address, such as 127.0.0.1, ::1 or 10.0.0.0/8";
  const notAddress = (value: string) =>
    `--trust-proxy "${value}": not an IP address or a range (names are not looked up); ${example}`;
  for (
    const bad of [
      "bogus",
      "",
      "localhost",
      "10.0.0.256",
      "10.0.0",
      "010.0.0.1",
      "1:2:3",
      "::1::2",
      "fe80::1%eth0",
      "proxy.lan/24",
    ]
  ) {
    assert.throws(() => parseOptions(["--trust-proxy", bad]), { message: notAddress(bad) }, bad);
  }
  assert.throws(() => parseOptions(["--trust-proxy", "127.0.0.1", "--trust-proxy", "proxy.lan"]), {
    message: notAddress("proxy.lan"),
  });
  assert.throws(() => parseOptions(["--trust-proxy", "10.0.0.1/33"]), {
    message: `--trust-proxy "10.0.0.1/33": /33 is not a prefix length of an IPv4 address (0-32); ${example}`,
  });
  assert.throws(() => parseOptions(["--trust-proxy", "10.0.0.0/x"]), {
    message: `--trust-proxy "10.0.0.0/x": /x is not a prefix length of an IPv4 address (0-32); ${example}`,
  });
  for (const everyone of ["0.0.0.0/0", "::/0", "1.2.3.4/0", "::ffff:0.0.0.0/96", "::ffff:0:0/96", "::/1"]) {
    assert.throws(() => parseOptions(["--trust-proxy", everyone]), {
      message:
        `--trust-proxy "${everyone}": this range holds every IPv4 address, so anyone could claim any address in ` +
        "X-Forwarded-For; give the proxy's address or its network, such as 127.0.0.1, ::1 or 10.0.0.0/8",
    });
  }
  assert.throws(() => parseOptions(["--trust-proxy", "1.2.3.4\x1b[2J"]), {
    message: /^--trust-proxy "1\.2\.3\.4\\u\{1b\}\[2J": not an IP address/,
  });
});

Deno.test("an empty or blank server name is refused in one line", () => {
  assert.throws(() => parseOptions(["--name", ""]), { message: '--name "": a server name cannot be empty' });
  assert.throws(() => parseOptions(["--name="]), { message: '--name "": a server name cannot be empty' });
  for (const blank of [" ", "   ", "\u3000", "\u2800"]) {
    assert.throws(() => parseOptions(["--name", blank]), {
      message: `--name "${blank}": a server name needs something visible, not only spaces`,
    });
  }
});

Deno.test("a server name with control or invisible characters is refused naming the character", () => {
  assert.throws(() => parseOptions(["--name", "Tea\tParty"]), {
    message: '--name "Tea\\u{9}Party": a server name may not contain control characters (U+0009)',
  });
  assert.throws(() => parseOptions(["--name", "Tea\x1b[31m"]), {
    message: '--name "Tea\\u{1b}[31m": a server name may not contain control characters (U+001B)',
  });
  assert.throws(() => parseOptions(["--name", "Tea\r\nParty"]), { message: /control characters \(U\+000D\)$/ });
  assert.throws(() => parseOptions(["--name", "Tea\x85"]), { message: /control characters \(U\+0085\)$/ });
  assert.throws(() => parseOptions(["--name", "Tea\u202eytraP"]), {
    message:
      '--name "Tea\\u{202e}ytraP": a server name may not contain U+202E: it does not show, or changes the text around it',
  });
  assert.throws(() => parseOptions(["--name", "Tea\u200b"]), { message: /may not contain U\+200B/ });
});

Deno.test("a server name may have spaces, punctuation and emoji, up to 50 characters", () => {
  for (const name of ["Tea Party", "Tea=Party", "Tea \\ Party", "-tea-", "Чайная", "👩‍💻 Hackers", "x".repeat(50)]) {
    assert.equal(parseOptions(["--name", name]).options.name, name);
  }
  assert.throws(() => parseOptions(["--name", "x".repeat(51)]), {
    message: `--name "${"x".repeat(51)}": a server name has at most 50 characters; this one has 51`,
  });
  // A long value is shown by its first 60 characters: the error stays one readable line.
  assert.throws(() => parseOptions(["--name", "y".repeat(10_000)]), {
    message: `--name "${"y".repeat(60)}…": a server name has at most 50 characters; this one has 10000`,
  });
});
