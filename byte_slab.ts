/**
 * Encodes text into a shared slab of memory, one rendering after another,
 * so that lines (or WebSocket frames) rendered one after the other lie side by side: a receiver
 * that is sent a run of them (every line of a busy room, in order) can be
 * written the run as one view of the slab, without a chunk per line or a
 * copy (see `Outbox.push`). A new slab is started when the current one is
 * full; a slab lives while any of its views does.
 *
 * @example
 * ```ts
 * import { ByteSlab } from "./byte_slab.ts";
 * const slab = new ByteSlab();
 * const a = slab.encode("alice: hi\r\n");
 * const b = slab.encode("bob: hello\r\n");
 * slab.before === a; // true: b starts where a ends, in the same memory
 * new TextDecoder().decode(b); // "bob: hello\r\n"
 * ```
 * @module
 */

const encoder = new TextEncoder();

/** Bytes in a slab (a longer text gets a slab of its own size). */
export const SLAB_BYTES = 64 * 1024;

/** A header put before encoded text (a WebSocket frame's), whose length follows from the text's. */
export interface Framing {
  /** The longest header. */
  readonly most: number;
  /** The header's length before `n` bytes of text. */
  length(n: number): number;
  /** Writes the header for `n` bytes of text into `out` at `at`. */
  write(n: number, out: Uint8Array, at: number): number;
}

/** Text encoded one rendering after another into shared memory. */
export class ByteSlab {
  #size: number;
  #slab: Uint8Array;
  #at = 0; // bytes of the current slab in use
  /** The bytes the last {@linkcode encode} returned. */
  last: Uint8Array | undefined;
  /** The bytes that the last {@linkcode encode}'s directly follow in memory (undefined: it started a slab). */
  before: Uint8Array | undefined;

  /** @param size bytes in each slab */
  constructor(size: number = SLAB_BYTES) {
    this.#size = size;
    this.#slab = new Uint8Array(size);
  }

  /**
   * The UTF-8 bytes of `text`, in the slab right after the last text encoded
   * (or at the start of a new slab); with `framing`, behind its header.
   */
  encode(text: string, framing?: Framing): Uint8Array {
    let before = this.last;
    const most = framing === undefined ? 0 : framing.most;
    const room = most + text.length * 3; // a UTF-16 code unit takes at most 3 bytes of UTF-8
    if (this.#at + room > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(this.#size, room));
      this.#at = 0;
      before = undefined;
    }
    const slab = this.#slab;
    const start = this.#at;
    let { written } = encoder.encodeInto(text, slab.subarray(start + most));
    if (framing !== undefined) {
      const head = framing.length(written);
      if (head < most) slab.copyWithin(start + head, start + most, start + most + written);
      framing.write(written, slab, start);
      written += head;
    }
    this.#at = start + written;
    this.before = before;
    return this.last = slab.subarray(start, start + written);
  }
}

/** The slab that the telnet, IRC and JSON dialects encode their renderings into (see `Delivery.after`). */
export const lineSlab: ByteSlab = new ByteSlab();
