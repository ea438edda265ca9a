/**
 * The line reader: an async iterator of the lines a connection sends, built
 * on a plain `read()` loop into a small buffer that grows only for a busy
 * connection. Lines end with LF, CR LF, CR NUL or a lone CR; a CR ends its
 * line at once (it is not held back until the next byte comes), and an LF
 * or NUL right after it, even in a later read, belongs to it; bytes are split
 * before decoding, invalid UTF-8 becomes U+FFFD, telnet commands are removed
 * first, and a line longer than `maxLine` bytes is reported as
 * {@linkcode TOO_LONG} (once) and then skipped up to its end, so an endless
 * line never grows memory.
 *
 * @example
 * ```ts
 * import { readLines } from "./line_reader.ts";
 * const conn = await Deno.connect({ port: 5005 });
 * for await (const line of readLines(conn, { maxLine: 4096 })) console.log(line);
 * ```
 * @module
 */

/** Yielded in place of a line that was longer than `maxLine` bytes. */
export const TOO_LONG: unique symbol = Symbol("line too long");

/** Something to read bytes from, like a `Deno.Conn`. */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** Filters `buf[start, end)` in place and returns the new end, like `TelnetFilter`. */
export interface ByteFilter {
  filter(buf: Uint8Array, start: number, end: number): number;
  /**
   * Milliseconds to wait before the next read, asked after each filtered
   * read (a session charges telnet commands against its rate limit here).
   */
  pause?(): number;
}

/** Options of {@linkcode readLines}. */
export interface LineReaderOptions {
  /** Longest line in bytes, without its end. */
  maxLine: number;
  /** Removes telnet commands from each chunk read (a `TelnetFilter`, or anything that filters in place). */
  telnet?: ByteFilter;
  /** First (and idle) buffer size in bytes. Default 128. */
  initialBuffer?: number;
  /** Largest buffer for a busy connection. Default 64 KiB (or more for long lines). */
  maxBuffer?: number;
}

const decoder = new TextDecoder();
const LF = 10;
const CR = 13;
const NUL = 0;

/** Reads lines from `source` until it ends; see the module documentation. */
export async function* readLines(
  source: ByteSource,
  options: LineReaderOptions,
): AsyncGenerator<string | typeof TOO_LONG, void, undefined> {
  const { maxLine, telnet } = options;
  const initial = options.initialBuffer ?? 128;
  const largest = Math.max(options.maxBuffer ?? 65536, maxLine + 2);
  let buf = new Uint8Array(initial);
  let start = 0; // first byte of the current line
  let end = 0; // end of the data in buf
  let scan = 0; // where the search for a line end goes on
  let skipping = false; // inside a too-long line, dropping bytes to its end
  let lastRead = 0; // size of the last read: small means an idle connection
  let afterCr = false; // the last line ended with a CR: a following LF or NUL is part of its end

  while (true) {
    // Yield every complete line in the buffer.
    while (scan < end) {
      if (afterCr) {
        afterCr = false;
        if (buf[scan] === LF || buf[scan] === NUL) {
          start = scan = scan + 1;
          continue;
        }
      }
      let i = scan;
      while (i < end) {
        const b = buf[i];
        if (b === LF || b === CR) break;
        i++;
      }
      if (i === end) {
        scan = end;
        break;
      }
      let next: number;
      if (buf[i] === CR) {
        if (i + 1 === end) { // the next read decides whether an LF or NUL belongs to this line end
          afterCr = true;
          next = i + 1;
        } else {
          const after = buf[i + 1];
          next = after === LF || after === NUL ? i + 2 : i + 1;
        }
      } else {
        next = i + 1;
      }
      if (skipping) skipping = false;
      else if (i - start > maxLine) yield TOO_LONG;
      else yield decoder.decode(buf.subarray(start, i));
      start = scan = next;
    }

    // The line so far: too long already?
    if (!skipping && end - start > maxLine) {
      skipping = true;
      yield TOO_LONG;
    }
    if (skipping) start = scan = end = 0; // drop what there is of it

    // Make room for the next read.
    if (start === end) {
      start = end = scan = 0;
      if (buf.length > initial && lastRead < initial) buf = new Uint8Array(initial);
    } else if (start > 0) {
      buf.copyWithin(0, start, end);
      end -= start;
      scan -= start;
      start = 0;
    }
    if (end === buf.length && buf.length < largest) {
      const bigger = new Uint8Array(Math.min(largest, buf.length * 2));
      bigger.set(buf.subarray(0, end));
      buf = bigger;
    }

    const wait = telnet?.pause?.() ?? 0;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const n = await source.read(end === 0 ? buf : buf.subarray(end)); // no view object when idle
    if (n === null) break;
    lastRead = n;
    const chunkEnd = telnet ? telnet.filter(buf, end, end + n) : end + n;
    // A connection that fills the buffer is busy: let it grow for the next read.
    if (chunkEnd === buf.length && buf.length < largest) {
      const bigger = new Uint8Array(Math.min(largest, buf.length * 2));
      bigger.set(buf.subarray(0, chunkEnd));
      buf = bigger;
    }
    end = chunkEnd;
  }

  // End of input: a last line without its end is still a line.
  if (!skipping && end > start) {
    if (end - start > maxLine) yield TOO_LONG;
    else yield decoder.decode(buf.subarray(start, end));
  }
}
