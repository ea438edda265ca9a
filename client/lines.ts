/**
 * Splits the server's data bytes into lines of text. A line ends at LF (a
 * CR before it is dropped); each line is decoded as UTF-8 on its own, so a
 * character split across reads is never broken. What has come after the
 * last line end is the partial line: the start of a line still on its way,
 * or a prompt such as `Name: ` that waits for an answer on the same line
 * (the connection tells them apart). A partial line longer than `maxLine`
 * bytes is cut into a line of its own.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./lines.ts";
 * const lines = new LineSplitter();
 * lines.push(new TextEncoder().encode("hi\r\nName: ")); // ["hi"]
 * lines.partial; // "Name: "
 * ```
 * @module
 */

const decoder = new TextDecoder();

/** Byte stream to lines, with the partial line kept. */
export class LineSplitter {
  #pending = new Uint8Array(0);
  readonly #maxLine: number;

  /** @param maxLine longest partial line kept before it is cut (bytes) */
  constructor(maxLine = 65536) {
    this.#maxLine = maxLine;
  }

  /** Adds received bytes; returns the lines they completed. */
  push(chunk: Uint8Array): string[] {
    let data = chunk;
    if (this.#pending.length) {
      data = new Uint8Array(this.#pending.length + chunk.length);
      data.set(this.#pending);
      data.set(chunk, this.#pending.length);
    }
    const lines: string[] = [];
    let start = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
      const end = i > start && data[i - 1] === 13 ? i - 1 : i;
      lines.push(decoder.decode(data.subarray(start, end)));
      start = i + 1;
    }
    while (data.length - start > this.#maxLine) {
      const end = cutPoint(data, start, start + this.#maxLine);
      lines.push(decoder.decode(data.subarray(start, end)));
      start = end;
    }
    this.#pending = data.slice(start);
    return lines;
  }

  /** The text received after the last line end (an incomplete character and a CR at its end left out). */
  get partial(): string {
    return decoder.decode(this.#pending.subarray(0, this.partialBytes));
  }

  /** How many bytes of what came after the last line end {@linkcode partial} shows. */
  get partialBytes(): number {
    const p = this.#pending;
    let end = p.length;
    // Leave out a UTF-8 sequence that has not fully arrived.
    let back = 0;
    while (back < 3 && end - back - 1 >= 0 && (p[end - back - 1] & 0xc0) === 0x80) back++;
    const lead = p[end - back - 1];
    if (lead !== undefined && lead >= 0xc0) {
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      if (back + 1 < need) end -= back + 1;
    }
    if (end > 0 && p[end - 1] === 13) end--; // the CR of a CR LF on its way
    return end;
  }

  /**
   * Takes the first `bytes` bytes of the partial line away (all of it by
   * default): a prompt the user answered, already shown with the answer.
   * What came after them stays.
   */
  consume(bytes: number = this.#pending.length): void {
    this.#pending = this.#pending.slice(Math.min(bytes, this.#pending.length));
  }

  /** Returns the partial line as a last line (the connection ended) and forgets it; undefined if none. */
  end(): string | undefined {
    if (this.#pending.length === 0) return undefined;
    const text = decoder.decode(this.#pending);
    this.#pending = new Uint8Array(0);
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  }
}

// A place at or before `limit` that does not split a UTF-8 character.
function cutPoint(data: Uint8Array, start: number, limit: number): number {
  let end = limit;
  while (end > start + 1 && (data[end] & 0xc0) === 0x80) end--;
  return end;
}
