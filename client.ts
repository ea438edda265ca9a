/**
 * teaparty's terminal client: what you type stays intact on the bottom line
 * while the chat scrolls above it. Works with any line-based chat server
 * (teaparty, the book's servers, plain telnet-style servers). With standard
 * input not a terminal it is a plain line client.
 *
 * @example
 * ```sh
 * deno run --allow-net client.ts --nick alice 127.0.0.1:5005
 * printf 'look\nlogout\n' | deno run --allow-net client.ts --nick bob
 * ```
 * @module
 */
import { CLIENT_HELP, type ClientOptions, parseClientArgs } from "./client/args.ts";
import { type Link, openLink } from "./client/link.ts";
import { runInteractive, type Tty } from "./client/interactive.ts";
import { runPipe } from "./client/pipe.ts";

const encoder = new TextEncoder();

function writeAll(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** The real terminal: Deno's stdin and stdout and the process's signals. */
function denoTty(): Tty {
  return {
    read: (buf) => Deno.stdin.read(buf),
    output: {
      write: writeAll,
      size: () => {
        try {
          return Deno.consoleSize();
        } catch {
          return { columns: 80, rows: 24 };
        }
      },
    },
    setRaw(on) {
      try {
        Deno.stdin.setRaw(on);
      } catch {
        // not a terminal any more (it was closed): nothing to restore
      }
    },
    onResize(handler) {
      Deno.addSignalListener("SIGWINCH", handler);
      return () => Deno.removeSignalListener("SIGWINCH", handler);
    },
    onTerminate(handler) {
      const signals = ["SIGTERM", "SIGHUP", "SIGINT"] as const;
      const listeners = signals.map((signal) => {
        const listener = () => handler(signal);
        Deno.addSignalListener(signal, listener);
        return [signal, listener] as const;
      });
      return () => listeners.forEach(([signal, listener]) => Deno.removeSignalListener(signal, listener));
    },
  };
}

async function caCerts(options: ClientOptions): Promise<string[] | undefined> {
  if (!options.ca) return undefined;
  try {
    return [await Deno.readTextFile(options.ca)];
  } catch (error) {
    const why = error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ? `no read permission (run with --allow-read=${options.ca})`
      : (error as Error).message;
    throw new Error(`cannot read the CA file ${options.ca}: ${why}`);
  }
}

/** Runs the client with command-line arguments; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let options: ClientOptions;
  let ca: string[] | undefined;
  try {
    options = parseClientArgs(args, { NO_COLOR: Deno.noColor ? "1" : undefined });
    if (options.help) {
      console.log(CLIENT_HELP);
      return 0;
    }
    ca = await caCerts(options);
  } catch (error) {
    console.error(`teaparty client: ${(error as Error).message}\nTry --help for the options.`);
    return 2;
  }
  const open = (): Promise<Link> =>
    openLink({ host: options.host, port: options.port, tls: options.tls, insecure: options.insecure, caCerts: ca });
  if (Deno.stdin.isTerminal() && Deno.stdout.isTerminal()) {
    const tty = denoTty();
    try {
      return await runInteractive(options, tty, open);
    } finally {
      tty.setRaw(false);
    }
  }
  return await runPipe({ ...options, color: false }, {
    input: Deno.stdin.readable,
    write: async (text) => {
      const bytes = encoder.encode(text);
      let off = 0;
      while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
    },
    error: (text) => console.error(`teaparty client: ${text}`),
  }, open);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
