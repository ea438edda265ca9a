/**
 * Telnet protocol handling: removes IAC sequences (option negotiation,
 * sub-negotiation, commands) from received bytes, refuses options the client
 * offers, and builds the echo on/off requests used while a password is typed.
 *
 * @example
 * ```ts
 * import { TelnetFilter } from "./telnet.ts";
 * const replies: Uint8Array[] = [];
 * const filter = new TelnetFilter((bytes) => replies.push(bytes));
 * const data = new Uint8Array([104, 255, 251, 31, 105]); // "h" IAC WILL NAWS "i"
 * const end = filter.filter(data, 0, data.length);
 * new TextDecoder().decode(data.subarray(0, end)); // "hi"; replies holds IAC DONT NAWS
 * ```
 * @module
 */

/** Interpret As Command. */
export const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const EL = 248;
const EC = 247;
const SE = 240;
/** The ECHO option. */
export const ECHO = 1;

/** Bytes asking the client to stop echoing what is typed (we echo nothing). */
export const ECHO_OFF: Uint8Array = new Uint8Array([IAC, WILL, ECHO]);
/** Bytes giving echo back to the client. */
export const ECHO_ON: Uint8Array = new Uint8Array([IAC, WONT, ECHO]);

const enum State {
  Data,
  Iac,
  Option,
  Sub,
  SubIac,
}

/** Where negotiation answers go: a function, or an object with `sendBytes` (no closure needed). */
export type ReplyTo = ((bytes: Uint8Array) => void) | { sendBytes(bytes: Uint8Array): void };

/** Removes telnet commands from a byte stream, chunk by chunk. */
export class TelnetFilter {
  #state = State.Data;
  #verb = 0;
  #reply: ReplyTo;
  /** True while the server has asked the client not to echo (password entry). */
  serverEcho = false;

  /** @param reply sends negotiation answers back to the client */
  constructor(reply: ReplyTo) {
    this.#reply = reply;
  }

  /**
   * Filters `buf[start, end)` in place and returns the new end. Erase
   * character becomes a backspace (8) and erase line a Ctrl-U (21), so the
   * line editor treats them like the keys.
   */
  filter(buf: Uint8Array, start: number, end: number): number {
    if (this.#state === State.Data) {
      const first = buf.indexOf(IAC, start);
      if (first === -1 || first >= end) return end;
      start = first;
    }
    let out = start;
    for (let i = start; i < end; i++) {
      const b = buf[i];
      switch (this.#state) {
        case State.Data:
          if (b === IAC) this.#state = State.Iac;
          else buf[out++] = b;
          break;
        case State.Iac:
          if (b === IAC) {
            buf[out++] = b; // escaped 255: a data byte (invalid UTF-8, becomes U+FFFD)
            this.#state = State.Data;
          } else if (b >= WILL) {
            this.#verb = b;
            this.#state = State.Option;
          } else if (b === SB) {
            this.#state = State.Sub;
          } else {
            if (b === EC) buf[out++] = 8;
            else if (b === EL) buf[out++] = 21;
            this.#state = State.Data;
          }
          break;
        case State.Option:
          this.#answer(this.#verb, b);
          this.#state = State.Data;
          break;
        case State.Sub:
          if (b === IAC) this.#state = State.SubIac;
          break;
        case State.SubIac:
          this.#state = b === SE ? State.Data : State.Sub;
          break;
      }
    }
    return out;
  }

  #answer(verb: number, option: number): void {
    if (verb === WILL) {
      this.#send(new Uint8Array([IAC, DONT, option]));
    } else if (verb === DO) {
      if (option === ECHO && this.serverEcho) return; // the answer to our WILL ECHO
      this.#send(new Uint8Array([IAC, WONT, option]));
    }
    // WONT and DONT confirm the state we want (everything off): no answer.
  }

  #send(bytes: Uint8Array): void {
    const reply = this.#reply;
    if (typeof reply === "function") reply(bytes);
    else reply.sendBytes(bytes);
  }
}
