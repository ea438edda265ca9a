/**
 * Event-loop turns that let the runtime poll its sockets first.
 *
 * Deno runs its event loop on a single-threaded tokio runtime, and tokio
 * looks at the sockets (epoll) only when the loop has nothing left to run,
 * or once every 61 tasks it runs. A chain of `setImmediate` callbacks never
 * leaves the loop idle, so a read that arrives meanwhile waits for the chain
 * to end: measured here, a line sent while a flush wrote to 1,000 receivers
 * in eight turns was read 2 ms later at the median and up to 18 ms later,
 * and the receivers still to be written in that flush went without it.
 *
 * {@linkcode PollTurn.after} runs a callback in a later turn after the
 * runtime polled its sockets. It keeps a connected pair of loopback sockets
 * with a read always pending on one end: writing one byte to the other end
 * leaves nothing to run but that read, so the runtime polls, sees the byte
 * together with every other socket that became readable, and runs the
 * callback (about 16 µs a turn here, against about 2 ms for `setTimeout(0)`).
 * Until {@linkcode PollTurn.open} succeeds (or after the pair fails), a turn
 * is a plain `setImmediate`: nothing is lost but the earlier reads.
 *
 * @example
 * ```ts
 * import { PollTurn } from "./poll_turn.ts";
 * const turns = new PollTurn();
 * await turns.open(); // false where --allow-net does not cover 127.0.0.1
 * await new Promise<void>((resolve) => turns.after(resolve));
 * turns.close();
 * ```
 * @module
 */
import { setImmediate } from "node:timers";

const BYTE = new Uint8Array(1);

/** A source of event-loop turns that come after a poll of the sockets (see the module's notes). */
export class PollTurn {
  #writer: Deno.TcpConn | undefined;
  #reader: Deno.Conn | undefined;
  #users = 0; // open() calls not yet closed
  #opening: Promise<boolean> | undefined;
  #waiting: (() => void)[] = []; // callbacks for the byte on its way
  #sink = new Uint8Array(64);

  /** Whether turns come after a poll (false: plain `setImmediate`). */
  get polling(): boolean {
    return this.#writer !== undefined;
  }

  /**
   * Opens the socket pair (once for every caller: each open needs a
   * {@linkcode PollTurn.close}). Resolves to false, and turns stay plain
   * `setImmediate`s, when a loopback socket cannot be had (e.g. `--allow-net`
   * limited to other addresses).
   */
  open(): Promise<boolean> {
    this.#users++;
    if (this.#writer) return Promise.resolve(true);
    return this.#opening ??= this.#connect().finally(() => this.#opening = undefined);
  }

  async #connect(): Promise<boolean> {
    let listener: Deno.Listener | undefined;
    let writer: Deno.TcpConn | undefined;
    try {
      // Asked first: a terminal would otherwise be prompted for a permission the operator did not give.
      if (Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state !== "granted") return false;
      listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      writer = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
      const mine = (writer.localAddr as Deno.NetAddr).port;
      // Only our own connection is taken: another local program may have connected to the port first.
      let reader = await listener.accept();
      while ((reader.remoteAddr as Deno.NetAddr).port !== mine) {
        reader.close();
        reader = await listener.accept();
      }
      writer.setNoDelay(true);
      if (this.#users === 0) { // closed while opening
        reader.close();
        writer.close();
        return false;
      }
      this.#writer = writer;
      this.#reader = reader;
      this.#arm(reader);
      return true;
    } catch {
      writer?.close();
      return false;
    } finally {
      listener?.close();
    }
  }

  // Keeps one read pending on the reader; unref'd while no turn waits, so the pair never keeps a process alive.
  #arm(reader: Deno.Conn): void {
    const failed = () => reader === this.#reader && this.#broken(); // not a pair closed earlier
    reader.read(this.#sink).then((n) => n === null ? failed() : this.#arrived(reader), failed);
    if (this.#waiting.length === 0) reader.unref();
  }

  #arrived(reader: Deno.Conn): void {
    if (reader !== this.#reader) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#arm(reader);
    for (const callback of waiting) callback();
  }

  /** Runs `callback` in a later event-loop turn, after the runtime has polled its sockets. */
  after(callback: () => void): void {
    const writer = this.#writer;
    if (!writer) {
      setImmediate(callback);
      return;
    }
    this.#waiting.push(callback);
    if (this.#waiting.length > 1) return; // the byte is on its way already
    this.#reader!.ref();
    writer.write(BYTE).catch(() => writer === this.#writer && this.#broken());
  }

  // The pair failed (or was closed): waiting turns run at once, later ones are plain setImmediates.
  #broken(): void {
    this.#drop();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const callback of waiting) setImmediate(callback);
  }

  #drop(): void {
    const writer = this.#writer, reader = this.#reader;
    this.#writer = this.#reader = undefined;
    for (const conn of [writer, reader]) {
      try {
        conn?.close();
      } catch { /* closed already */ }
    }
  }

  /** Ends one {@linkcode PollTurn.open}; the last one closes the pair (a waiting turn still runs). */
  close(): void {
    if (this.#users === 0) return;
    if (--this.#users > 0) return;
    this.#broken();
  }
}

/** The process's turns for the outboxes' flushes ({@linkcode ChatServer} opens it while it listens). */
export const pollTurn: PollTurn = new PollTurn();
