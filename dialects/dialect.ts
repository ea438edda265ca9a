/**
 * Dialects and deliveries. A dialect turns an event into the bytes one kind
 * of client understands (telnet lines, JSON in WebSocket frames, IRC). A
 * delivery is one event on its way to its receivers: it is rendered at most
 * once per dialect, and every receiver of that dialect shares the same bytes.
 *
 * @example
 * ```ts
 * import { Delivery, type Dialect, dialectId } from "./dialect.ts";
 * const upper: Dialect = {
 *   id: dialectId(),
 *   name: "upper",
 *   render: (e) => new TextEncoder().encode(e.type.toUpperCase() + "\n"),
 * };
 * const delivery = new Delivery({ type: "notice", text: "hi" });
 * delivery.bytes(upper) === delivery.bytes(upper); // true: rendered once
 * ```
 * @module
 */
import type { ChatEvent } from "../events.ts";
import { lineSlab } from "../byte_slab.ts";

/** Turns events into bytes for one kind of client. */
export interface Dialect {
  /** A small number unique to this dialect (from {@linkcode dialectId}); indexes a delivery's renderings. */
  readonly id: number;
  /** A short name for logs and metrics: "telnet", "json", "irc" … */
  readonly name: string;
  /** The bytes of an event; an empty array when this dialect shows nothing for it. */
  render(event: ChatEvent): Uint8Array;
}

let nextId = 0;

/** A new dialect id. */
export function dialectId(): number {
  return nextId++;
}

/** Renderings made so far, per dialect id (every delivery, for metrics and the benchmark). */
export const renderCounts: number[] = [];
/** Renderings of chat lines (events of type `chat`) made so far, per dialect id: one per line and dialect. */
export const chatRenderCounts: number[] = [];

const EMPTY = new Uint8Array(0);

/** One event on its way to its receivers, rendered at most once per dialect. */
export class Delivery {
  /** The event. */
  readonly event: ChatEvent;
  // Most deliveries meet one dialect: it is kept in two fields, the rest in an array.
  #first = -1;
  #firstBytes: Uint8Array = EMPTY;
  #firstAfter: Uint8Array | undefined; // the bytes #firstBytes follow in the line slab
  #others: (Uint8Array | undefined)[] | undefined;
  #othersAfter: (Uint8Array | undefined)[] | undefined; // what each of #others follows in the line slab

  /** Wraps an event; nothing is rendered until a receiver asks. */
  constructor(event: ChatEvent) {
    this.event = event;
  }

  /** The event's bytes in `dialect`, rendered on first use and shared afterwards. */
  bytes(dialect: Dialect): Uint8Array {
    const id = dialect.id;
    if (id === this.#first) return this.#firstBytes;
    if (this.#first === -1) {
      this.#first = id;
      const bytes = this.#firstBytes = this.#render(dialect);
      if (bytes === lineSlab.last) this.#firstAfter = lineSlab.before;
      return bytes;
    }
    const others = this.#others ??= [];
    let bytes = others[id];
    if (bytes === undefined) {
      bytes = others[id] = this.#render(dialect);
      if (bytes === lineSlab.last) (this.#othersAfter ??= [])[id] = lineSlab.before;
    }
    return bytes;
  }

  /**
   * The bytes that this delivery's bytes in `dialect` directly follow in
   * memory, when they were rendered into the line slab right after them
   * (undefined otherwise): a receiver that was just sent those can be sent
   * both as one run (see `Outbox.push`).
   */
  after(dialect: Dialect): Uint8Array | undefined {
    return dialect.id === this.#first ? this.#firstAfter : this.#othersAfter?.[dialect.id];
  }

  #render(dialect: Dialect): Uint8Array {
    renderCounts[dialect.id] = (renderCounts[dialect.id] ?? 0) + 1;
    if (this.event.type === "chat") chatRenderCounts[dialect.id] = (chatRenderCounts[dialect.id] ?? 0) + 1;
    return dialect.render(this.event);
  }
}

/** Something that is sent deliveries: a session, or a user through its session. */
export interface Receiver {
  /** Queues a delivery's bytes in this receiver's dialect; never waits. */
  receive(delivery: Delivery): void;
  /**
   * True when the client may have forgotten what it was shown before this
   * connection (a web page, reloaded): history on entering a room then does
   * not skip what the nick saw in an earlier session.
   */
  readonly forgetful?: boolean;
}
