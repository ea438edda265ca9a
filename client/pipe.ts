/**
 * The client when standard input is not a terminal: a plain line client.
 * Each input line is sent as it comes; each received line is printed
 * (telnet bytes removed, escape sequences and control characters taken
 * out). At the end of input it waits for the server's last output: until
 * the server closes the connection, or nothing has arrived for a moment,
 * at most a few seconds, then exits.
 *
 * @example
 * ```sh
 * printf 'look\nlogout\n' | deno run --allow-net client.ts --nick alice 127.0.0.1:5005
 * ```
 * @module
 */
import { type ClientOptions, formatAddress } from "./args.ts";
import { Connection } from "./connection.ts";
import type { Link } from "./link.ts";
import { cleanLine } from "../text.ts";

/** Where pipe mode reads and writes. */
export interface PipeIO {
  /** Standard input, as bytes. */
  input: ReadableStream<Uint8Array>;
  /** Writes received text (lines with their `\n`). */
  write(text: string): Promise<void>;
  /** Writes a message about the connection (to stderr). */
  error(text: string): void;
}

/** Timing of the drain at the end of input (milliseconds). */
export interface DrainTiming {
  /** Leave once nothing has arrived for this long. */
  quiet: number;
  /** Leave after this long at most. */
  max: number;
}

const LOGOUT = /^\s*(?:\/?logout|\/quit)\s*$/i;

/** Runs the line client; resolves with the exit code (0, or 1 if the connection failed or broke). */
export async function runPipe(
  options: ClientOptions,
  io: PipeIO,
  open: () => Promise<Link>,
  drain: DrainTiming = { quiet: 500, max: 5000 },
): Promise<number> {
  const address = formatAddress(options.host, options.port);
  const up = Promise.withResolvers<boolean>();
  const closed = Promise.withResolvers<string>();
  let lastData = Date.now();
  let activity: (() => void) | undefined;
  let output = Promise.resolve();
  const print = (lines: string[]) => {
    const text = lines.map((l) => cleanLine(l) + "\n").join("");
    output = output.then(() => io.write(text));
  };
  const connection = new Connection({
    open,
    reconnect: false,
    events: {
      connected() {
        if (options.nick) connection.send(`login ${options.nick}`);
        up.resolve(true);
      },
      received() {
        lastData = Date.now();
        activity?.();
      },
      lines(lines) {
        print(lines);
      },
      partial() {},
      echo() {},
      lost(reason) {
        closed.resolve(reason);
      },
      failed(reason) {
        io.error(`cannot connect to ${address}: ${reason}`);
        up.resolve(false);
      },
    },
  });
  const running = connection.run();
  if (!(await up.promise)) {
    await running;
    return 1;
  }
  let ended = false;
  let lastSent = "";
  void closed.promise.then(() => ended = true);
  const reading = (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    const reader = io.input.getReader();
    try {
      while (!ended) {
        const { value, done } = await Promise.race([
          reader.read(),
          closed.promise.then(() => ({ value: undefined, done: true })),
        ]);
        if (done) break;
        rest += decoder.decode(value, { stream: true });
        const parts = rest.split("\n");
        rest = parts.pop()!;
        for (const part of parts) {
          const line = part.endsWith("\r") ? part.slice(0, -1) : part;
          if (!connection.send(line)) return false;
          lastSent = line;
        }
      }
      if (ended) return false;
      rest += decoder.decode();
      if (rest !== "") {
        connection.send(rest.endsWith("\r") ? rest.slice(0, -1) : rest);
        lastSent = rest;
      }
      return true;
    } finally {
      reader.releaseLock();
    }
  })();
  const inputDone = await reading;
  let code = 0;
  if (inputDone) {
    await connection.flushed();
    // The end of input: wait for the server's last output.
    const start = Date.now();
    lastData = Math.max(lastData, start);
    while (!ended) {
      const left = Math.min(drain.quiet - (Date.now() - lastData), drain.max - (Date.now() - start));
      if (left <= 0) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        closed.promise,
        new Promise<void>((r) => {
          activity = r;
          timer = setTimeout(r, left);
        }),
      ]);
      clearTimeout(timer);
    }
  } else {
    const reason = await closed.promise;
    if (!LOGOUT.test(lastSent)) {
      io.error(`connection to ${address} lost: ${reason}`);
      code = 1;
    }
  }
  connection.stop();
  await running;
  await output;
  return code;
}
