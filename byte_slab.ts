/**
 * Encodes text into a shared slab of memory, so that lines (or WebSocket
 * frames) rendered one after another lie side by side: a receiver that is sent a run of them (every line of a busy
 * room, in order) can be written the run as one view of the slab, without a
 * chunk per line or a copy (see `Outbox.push`). A new slab is started when
 * the current one is full; a text that may need more than a slab gets memory
 * of its own. A slab lives while any of its views does.
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

/** Bytes in a slab (a text that may need more gets memory of its own, beside no other). */
export const SLAB_BYTES = 64 * 1024;

/** A header put before encoded text (a WebSocket frame's), whose length follows from the text's. */
export interface Framing {
  /** The longest header. */
  readonly most: number;
  /** Writes the header for `n` bytes of text into `out` at `at`; returns its length (at most {@linkcode most}). */
  write(n: number, out: Uint8Array, at: number): number;
}

/** Text encoded one rendering after another into shared memory. */
export class ByteSlab {
  #size: number;
  #slab: Uint8Array;
  #at = 0; // bytes of the current slab in use
  #end: Uint8Array | undefined; // the last bytes encoded into the current slab (what the next ones there follow)
  #last: Uint8Array | undefined;
  #before: Uint8Array | undefined;

  /** @param size bytes in each slab */
  constructor(size: number = SLAB_BYTES) {
    this.#size = size;
    this.#slab = new Uint8Array(size);
  }

  /** The bytes the last {@linkcode encode} returned. */
  get last(): Uint8Array | undefined {
    return this.#last;
  }

  /** The bytes that the last {@linkcode encode}'s directly follow in memory (undefined: none). */
  get before(): Uint8Array | undefined {
    return this.#before;
  }

  /**
   * The UTF-8 bytes of `text`, in the slab right after the last text encoded
   * there (or at the start of a new slab); with `framing`, behind its header.
   */
  encode(text: string, framing?: Framing): Uint8Array {
    const most = framing === undefined ? 0 : framing.most;
    const room = most + text.length * 3; // a UTF-16 code unit takes at most 3 bytes of UTF-8
    if (room > this.#size) { // memory of its own: a big slab would be kept alive by every line after it
      this.#before = undefined;
      return this.#last = put(new Uint8Array(room), 0, text, framing).slice(); // as long as it is, no longer
    }
    if (this.#at + room > this.#slab.length) {
      this.#slab = new Uint8Array(this.#size);
      this.#at = 0;
      this.#end = undefined;
    }
    const bytes = put(this.#slab, this.#at, text, framing);
    this.#at += bytes.length;
    this.#before = this.#end;
    return this.#last = this.#end = bytes;
  }
}

/** Encodes `text` (behind `framing`'s header) into `slab` at `start`, which has room; returns those bytes. */
function put(slab: Uint8Array, start: number, text: string, framing: Framing | undefined): Uint8Array {
  const most = framing === undefined ? 0 : framing.most;
  const { written } = encoder.encodeInto(text, slab.subarray(start + most));
  if (framing === undefined) return slab.subarray(start, start + written);
  const head = framing.write(written, slab, start); // before the text: it fits in the room left for the longest
  if (head < most) slab.copyWithin(start + head, start + most, start + most + written);
  return slab.subarray(start, start + head + written);
}

/** The slab that the telnet, IRC and JSON dialects encode their renderings into (see `Delivery.after`). */
export const lineSlab: ByteSlab = new ByteSlab();
