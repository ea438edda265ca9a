/**
 * The C `limit_server` from ../shared/loadgen, built into a temporary
 * directory (the shared copy may be read-only) and run on a free port, for
 * tests that show the client works with a server other than teaparty.
 *
 * @example
 * ```ts
 * import { LimitServer } from "./limit_server.ts";
 * const server = await LimitServer.start(["--raw"]);
 * if (typeof server === "string") console.warn(`cannot run: ${server}`);
 * else await server.stop();
 * ```
 * @module
 */

const LOADGEN = new URL("../../shared/loadgen/", import.meta.url);
const decoder = new TextDecoder();

/** A running limit_server. */
export class LimitServer {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #dir: string;

  private constructor(child: Deno.ChildProcess, port: number, dir: string) {
    this.#child = child;
    this.port = port;
    this.#dir = dir;
  }

  /** Builds and starts it with `args` (e.g. `--raw`); returns why not if it cannot. */
  static async start(args: string[]): Promise<LimitServer | string> {
    try {
      await Deno.stat(new URL("limit_server.c", LOADGEN));
    } catch {
      return `the limit_server source is missing (${LOADGEN.pathname}limit_server.c)`;
    }
    const dir = await Deno.makeTempDir({ prefix: "teaparty-limit-" });
    for (const name of ["Makefile", "limit_server.c"]) await Deno.copyFile(new URL(name, LOADGEN), `${dir}/${name}`);
    try {
      const out = await new Deno.Command("make", {
        args: ["-C", dir, "limit_server"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) return `make limit_server failed: ${decoder.decode(out.stderr)}`;
    } catch (error) {
      await Deno.remove(dir, { recursive: true });
      return `cannot run make: ${(error as Error).message}`;
    }
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const child = new Deno.Command(`${dir}/limit_server`, {
      args: ["--port", String(port), "--host", "127.0.0.1", ...args],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const server = new LimitServer(child, port, dir);
    // Its banner on stderr says it listens.
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let banner = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    try {
      while (!/mode on /.test(banner)) {
        const { value, done } = await reader.read();
        if (done) {
          await server.stop();
          return `limit_server did not start: ${banner.trim()}`;
        }
        banner += value;
      }
    } finally {
      clearTimeout(timer);
    }
    // Keep draining stderr so the server never blocks on it.
    void (async () => {
      try {
        while (!(await reader.read()).done) { /* its statistics at exit */ }
      } catch { /* ended */ }
    })();
    return server;
  }

  /** Stops it (SIGTERM) and removes its build directory. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // exited already
    }
    await this.#child.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
