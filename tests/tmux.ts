/**
 * A real terminal for end-to-end tests of the client: a tmux session on a
 * private socket (one per pane), of a fixed size, that the test types into
 * (`send-keys`) and reads (`capture-pane`). Waiting polls the screen until a
 * condition holds or a deadline passes; nothing sleeps for a fixed time.
 *
 * @example
 * ```ts
 * import { TmuxPane } from "./tmux.ts";
 * await using pane = await TmuxPane.start(TmuxPane.client(["127.0.0.1:5005"]));
 * await pane.type("hello");
 * await pane.waitFor((rows) => rows.at(-1) === "> hello", "the typed text");
 * ```
 * @module
 */

/** How long a wait for the screen may take (generous: CI may be slow, and Deno starts in the pane). */
export const SCREEN_WAIT_MS = 15000;

const ROOT = new URL("..", import.meta.url).pathname;
/** How the tmux servers (and sessions) the tests start are named: PREFIX-pid-n (TEAPARTY_TMUX_PREFIX sets PREFIX). */
const PREFIX = Deno.env.get("TEAPARTY_TMUX_PREFIX") || "teaparty-test";
let counter = 0;

/** True when tmux can be run. */
export async function hasTmux(): Promise<boolean> {
  try {
    const out = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Quotes words for `sh`. */
export function shellQuote(words: string[]): string {
  return words.map((w) => /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
}

/** One tmux session with one pane, on its own server. */
export class TmuxPane implements AsyncDisposable {
  readonly socket: string;
  /** The socket file, removed at close (tmux leaves it behind). */
  #socketPath = "";
  readonly columns: number;
  readonly rows: number;

  private constructor(socket: string, columns: number, rows: number) {
    this.socket = socket;
    this.columns = columns;
    this.rows = rows;
  }

  /** The command that runs the client from the project directory, as a shell command. */
  static client(args: string[]): string {
    return shellQuote([Deno.execPath(), "run", "--allow-net", "client.ts", ...args]);
  }

  /**
   * Starts a detached session running `command` (a shell command) in the
   * project directory, `columns` x `rows`, with a UTF-8 locale and a plain
   * `$ ` prompt for shells. `env` adds variables.
   */
  static async start(
    command: string,
    { columns = 80, rows = 24, env = {} }: { columns?: number; rows?: number; env?: Record<string, string> } = {},
  ): Promise<TmuxPane> {
    const pane = new TmuxPane(`${PREFIX}-${Deno.pid}-${++counter}`, columns, rows);
    const keep = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"];
    const base: Record<string, string> = { LANG: "C.UTF-8", LC_ALL: "C.UTF-8", PS1: "$ " };
    for (const name of keep) {
      const value = Deno.env.get(name);
      if (value !== undefined) base[name] = value;
    }
    // The options come first, so the pane gets them; remain-on-exit keeps what it showed after its command exits.
    await pane.#run([
      ...["-f", "/dev/null", "start-server", ";", "set-option", "-g", "history-limit", "5000", ";"],
      ...["set-option", "-g", "remain-on-exit", "on", ";"],
      ...["new-session", "-d", "-s", pane.socket, "-x", String(columns), "-y", String(rows), "-c", ROOT, command],
    ], { ...base, ...env });
    pane.#socketPath = await pane.format("#{socket_path}");
    return pane;
  }

  async #run(args: string[], env?: Record<string, string>): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-u", "-L", this.socket, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(env ? { env, clearEnv: true } : {}),
    }).output();
    if (!out.success) {
      throw new Error(`tmux ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    return new TextDecoder().decode(out.stdout);
  }

  /** Runs a tmux command against this session's server; returns its output. */
  tmux(...args: string[]): Promise<string> {
    return this.#run(args);
  }

  /** Types text literally (no key names). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-l", text);
  }

  /** Presses keys by tmux name: `Enter`, `Left`, `C-a`, `Up`, `Tab` … */
  async keys(...names: string[]): Promise<void> {
    await this.tmux("send-keys", ...names);
  }

  /**
   * The visible rows (one per row of the pane), trailing spaces trimmed.
   * `joined`: a line the terminal wrapped is one row.
   */
  async screen(joined = false): Promise<string[]> {
    const text = await this.tmux("capture-pane", "-p", ...(joined ? ["-J"] : []));
    return text.replace(/\n$/, "").split("\n").map((r) => r.replace(/\s+$/, ""));
  }

  /** The scrollback and the visible rows together, oldest first. */
  async history(): Promise<string[]> {
    const text = await this.tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-");
    return text.replace(/\n$/, "").split("\n").map((r) => r.replace(/\s+$/, ""));
  }

  /** A tmux format about the pane, e.g. `#{cursor_x}`. */
  async format(format: string): Promise<string> {
    return (await this.tmux("display-message", "-p", format)).trim();
  }

  /** The cursor position, 0-based: [x, y]. */
  async cursor(): Promise<[number, number]> {
    const [x, y] = (await this.format("#{cursor_x} #{cursor_y}")).split(" ").map(Number);
    return [x, y];
  }

  /**
   * Polls the screen until `test` passes; returns the rows it passed on.
   * Fails after `ms` with what the screen showed.
   */
  async waitFor(
    test: (rows: string[]) => boolean,
    what: string,
    ms = SCREEN_WAIT_MS,
    joined = false,
  ): Promise<string[]> {
    const deadline = Date.now() + ms;
    let rows: string[] = [];
    while (true) {
      rows = await this.screen(joined);
      if (test(rows)) return rows;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${ms} ms waiting for ${what}; the screen:\n${rows.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 40)); // the poll interval
    }
  }

  /** Waits until some line on the screen (wrapped lines joined) equals `line` (or matches it). */
  waitForRow(line: string | RegExp, ms?: number): Promise<string[]> {
    const test = typeof line === "string" ? (r: string) => r === line : (r: string) => line.test(r);
    return this.waitFor((rows) => rows.some(test), `a line ${line}`, ms, true);
  }

  /** The pid of the pane's process (the shell or the client). */
  async panePid(): Promise<number> {
    return Number(await this.format("#{pane_pid}"));
  }

  /** Ends the session and its server, and removes its socket. */
  async close(): Promise<void> {
    try {
      await this.tmux("kill-server");
    } catch {
      // gone already
    }
    if (this.#socketPath) await Deno.remove(this.#socketPath).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
