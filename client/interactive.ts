/**
 * The client on a terminal: keys go to the line editor, received lines to
 * the screen above it, the connection comes back when lost (unless the
 * server sent the user away: {@linkcode stayAway}; a TLS refusal is not
 * tried again either: `isFinal` in connection.ts). The terminal
 * (raw mode, size, signals) is injected as a {@linkcode Tty}, so everything
 * here runs the same in a test terminal (tmux) as in the user's.
 *
 * @example
 * ```ts
 * import { runInteractive } from "./interactive.ts";
 * // client.ts builds the Tty from Deno.stdin/stdout and signals:
 * // const code = await runInteractive(options, tty, () => openLink(...));
 * ```
 * @module
 */
import { type ClientOptions, formatAddress } from "./args.ts";
import { Connection } from "./connection.ts";
import type { Link } from "./link.ts";
import { Roster } from "./roster.ts";
import { Screen, type TerminalOutput } from "./screen.ts";
import { clientNotice, clockTime, sentLine, type StyleContext, styleLine } from "./style.ts";
import { LineEditor } from "../term/editor.ts";
import { KeyDecoder } from "../term/keys.ts";
import { Backoff } from "./backoff.ts";

/** The terminal, as the interactive client needs it. */
export interface Tty {
  /** Key bytes as they are typed. */
  read(buf: Uint8Array): Promise<number | null>;
  output: TerminalOutput;
  /** Raw mode on (keys one by one, no echo, no signals from Ctrl-C) or back to what it was. */
  setRaw(on: boolean): void;
  /** Calls `handler` when the terminal is resized; returns a function that stops it. */
  onResize(handler: () => void): () => void;
  /** Calls `handler` on SIGTERM, SIGHUP and SIGINT; returns a function that stops it. */
  onTerminate(handler: (signal: string) => void): () => void;
}

/** How long after `logout` the client waits for the server to close before it leaves anyway. */
const LOGOUT_GRACE_MS = 3000;
/** How long a lone ESC waits for the rest of an escape sequence. */
const ESCAPE_WAIT_MS = 50;

const LOGIN = /^\/?login\s+(\S+)/i;
const LOGOUT = /^\s*(?:\/?logout|\/quit)\s*$/i;
/**
 * The server's last word when the nick was logged in from another
 * connection (the right password takes a registered nick back).
 */
const TAKEN_OVER = /^\*\*\* You \(.+\) logged in from another connection; this one is closed\.$/;
/**
 * The server's last word to a banned user (`You are banned for good.`,
 * `You are banned until 2025-06-01 12:00:00 UTC (1h from now): spam`), and
 * its refusal of a banned address at connect (`Your address is banned …`).
 */
const BANNED = /^\*\*\* (You are|Your address is) banned (for good|until .+? UTC)\b/;
/**
 * The server's last word to a user kicked out of the main room, so out of
 * the server (`You were kicked by opal.`, `… by opal: spam`). A kick from a
 * side room says `You were kicked from den by opal.` and only moves the
 * user to the main room: the connection stays.
 */
const KICKED = /^\*\*\* You were kicked by (\S+?)(?:\.|: .*)$/s;
/** The server's last word to a connection that did not log in within `--login-timeout`. */
const LOGIN_TIMED_OUT = /^\*\*\* Login timed out after \d+ seconds\. Goodbye!$/;

/** Why the client does not connect again, and the exit code it ends with. */
export interface StayAway {
  /** Said as `Not connecting again: <why>`. */
  why: string;
  code: number;
}

/**
 * Whether `line` from the server is a last word after which connecting
 * again would undo what was done or be refused, so the client stays away as
 * the web client does: the nick logged in from another connection (exit 0:
 * the user is there now, and connecting again would take the nick back),
 * a ban of the nick or of the address, told when it is given or at connect,
 * a kick out of the server and a login that timed out (exit 1: the session
 * ended, not by the user's choice, as a lost connection with
 * `--no-reconnect` does).
 *
 * @example
 * ```ts
 * import { stayAway } from "./interactive.ts";
 * stayAway("*** You were kicked by opal: spam"); // { why: "you were kicked out of the server by opal.", code: 1 }
 * stayAway("*** You were kicked from den by opal."); // undefined (moved to the main room, still connected)
 * ```
 */
export function stayAway(line: string): StayAway | undefined {
  if (TAKEN_OVER.test(line)) return { why: "you are logged in from another connection.", code: 0 };
  const ban = BANNED.exec(line);
  if (ban) return { why: `${ban[1] === "You are" ? "you are" : "your address is"} banned ${ban[2]}.`, code: 1 };
  const kick = KICKED.exec(line);
  if (kick) return { why: `you were kicked out of the server by ${kick[1]}.`, code: 1 };
  // Connecting again would only wait for a login again, and time out again (the web client stays away too).
  if (LOGIN_TIMED_OUT.test(line)) return { why: "you did not log in in time.", code: 1 };
  return undefined;
}

/** Runs the client on a terminal until the user quits; resolves with the exit code. */
export function runInteractive(
  options: ClientOptions,
  tty: Tty,
  open: () => Promise<Link>,
  now: () => Date = () => new Date(),
): Promise<number> {
  const address = formatAddress(options.host, options.port);
  const roster = new Roster();
  const editor = new LineEditor({
    completions: () => ({
      nicks: roster.nicks.filter((n) => n.toLowerCase() !== roster.me?.toLowerCase()),
      commands: roster.commands,
    }),
  });
  const screen = new Screen(tty.output, editor, { color: options.color });
  const keys = new KeyDecoder();
  const done = Promise.withResolvers<number>();
  let finished = false;
  let leaving = false;
  let away: StayAway | undefined; // the server's last word says not to connect again
  let relogin = options.nick; // the nick to log in again with after a reconnect
  let login: { nick: string; passwordAsked: boolean } | undefined;
  let draft = ""; // what was typed before a password prompt hid the input
  let escapeTimer: ReturnType<typeof setTimeout> | undefined;
  let logoutTimer: ReturnType<typeof setTimeout> | undefined;

  const context = (): StyleContext => ({
    me: roster.me,
    color: options.color,
    time: options.timestamps ? clockTime(now()) : undefined,
  });
  const say = (text: string) => screen.print([clientNotice(text, context())]);
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

  const sendLogin = (nick: string) => {
    login = { nick, passwordAsked: false };
    roster.loggingIn(nick);
    connection.send(`login ${nick}`);
  };

  const connection = new Connection({
    open,
    reconnect: options.reconnect,
    backoff: new Backoff(),
    events: {
      connected() {
        away = undefined;
        say(`Connected to ${address}.`);
        if (relogin) sendLogin(relogin);
      },
      lines(lines) {
        const before = roster.me;
        const styled = lines.map((line) => {
          roster.learn(line);
          away = stayAway(line) ?? away;
          return styleLine(line, context());
        });
        if (roster.me && roster.me !== before && login) {
          // Logged in: log in the same way after a reconnect, unless a password was asked.
          relogin = login.passwordAsked ? undefined : roster.me;
          login = undefined;
        }
        screen.print(styled);
      },
      partial(text) {
        screen.setServerPrompt(text);
      },
      echo(hidden) {
        if (hidden === editor.secret) return;
        if (hidden) {
          if (login) login.passwordAsked = true;
          draft = editor.text;
          editor.set("");
          editor.secret = true;
        } else {
          editor.secret = false;
          editor.set(draft);
          draft = "";
        }
        screen.drawInput();
      },
      lost(reason, retry) {
        roster.loggedOut();
        if (leaving) return finish(0);
        if (away) {
          say(`Not connecting again: ${away.why}`);
          return finish(away.code);
        }
        say(`Connection to ${address} lost: ${reason}.` + again(retry));
        if (retry === undefined) finish(1);
      },
      failed(reason, retry) {
        say(`Cannot connect to ${address}: ${reason}.` + again(retry));
        if (retry === undefined) finish(1);
      },
    },
  });
  const again = (retry: number | undefined) =>
    retry === undefined ? "" : ` Connecting again in ${seconds(retry)} (Ctrl-C quits).`;

  function submit(line: string): void {
    const secret = editor.secret;
    const prompt = screen.serverPrompt;
    if (prompt) {
      // The answer goes on the prompt's line, as a terminal would show it. (Text without a
      // line end that is not shown as a prompt yet is a line on its way: it is left alone.)
      screen.print([styleLine(prompt + (secret ? "" : line), { ...context(), me: undefined })]);
      connection.answerPrompt();
      screen.setServerPrompt("");
    } else if (options.echo && !secret) {
      screen.print([sentLine(line, context())]);
    }
    if (!connection.send(line)) {
      say(secret ? "Not connected: nothing was sent." : "Not connected: the line was not sent (Up brings it back).");
      return;
    }
    if (secret) return;
    const m = LOGIN.exec(line);
    if (m) {
      login = { nick: m[1], passwordAsked: false };
      roster.loggingIn(m[1]);
    }
    if (LOGOUT.test(line)) {
      leaving = true;
      clearTimeout(logoutTimer);
      logoutTimer = setTimeout(() => finish(0), LOGOUT_GRACE_MS);
    }
  }

  function onKeys(list: ReturnType<KeyDecoder["feed"]>): void {
    let changed = false;
    for (const key of list) {
      const result = editor.handle(key);
      switch (result.action) {
        case "changed":
          changed = true;
          break;
        case "submit":
          submit(result.line);
          changed = true;
          break;
        case "redraw":
          screen.repaint();
          changed = false;
          break;
        case "interrupt":
        case "eof":
          return finish(0);
      }
      if (finished) return;
    }
    if (changed) screen.drawInput();
  }

  const decoder = new TextDecoder();
  async function readKeys(): Promise<void> {
    const buf = new Uint8Array(4096);
    while (!finished) {
      let n: number | null;
      try {
        n = await tty.read(buf);
      } catch {
        n = null;
      }
      if (finished) return;
      if (n === null) return finish(0); // the terminal went away
      clearTimeout(escapeTimer);
      onKeys(keys.feed(decoder.decode(buf.subarray(0, n), { stream: true })));
      if (keys.pending) escapeTimer = setTimeout(() => onKeys(keys.flush()), ESCAPE_WAIT_MS);
    }
  }

  const stopResize = tty.onResize(() => screen.repaint());
  const stopTerminate = tty.onTerminate((signal) => finish(signal === "SIGINT" ? 130 : 143));

  function finish(code: number): void {
    if (finished) return;
    finished = true;
    clearTimeout(escapeTimer);
    clearTimeout(logoutTimer);
    stopResize();
    stopTerminate();
    connection.stop();
    screen.end();
    tty.setRaw(false);
    done.resolve(code);
  }

  tty.setRaw(true);
  screen.start();
  // A throw here is a bug, not a network problem: say it and give the terminal back.
  const crashed = (error: unknown) => {
    say(`Internal error: ${error instanceof Error ? error.message : error}`);
    finish(70);
  };
  connection.run().then(() => {
    if (!finished && !options.reconnect) finish(1);
  }, crashed);
  readKeys().catch(crashed);
  return done.promise;
}
