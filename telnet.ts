/**
 * Telnet protocol handling: removes IAC sequences (option negotiation,
 * sub-negotiation, commands) from received bytes and answers option
 * requests, keeping each option's state on both sides as RFC 1143 (the
 * "Q method") says, so that a request that confirms the current state is
 * never answered and a refused option is refused once: a client repeating
 * `IAC DO TERMINAL-TYPE` gets one `IAC WONT TERMINAL-TYPE`, not one per
 * request. It counts the commands it receives, so that the session can
 * charge them against its rate limit like lines.
 *
 * The server offers BINARY both ways at connect ({@linkcode OFFER}), so
 * that a telnet client sends and shows UTF-8 (Chinese, Japanese …) as it
 * is instead of stripping the eighth bit, and accepts BINARY when a client
 * asks. ECHO is turned on by the server only while a password is typed.
 * Every other option is refused.
 *
 * A sub-negotiation (`IAC SB … IAC SE`) longer than {@linkcode MAX_SUB}
 * bytes is given up: it and the rest of its line are dropped, and what
 * follows the next line end is data again.
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
const CR = 13;
const LF = 10;
/** The BINARY option (RFC 856): 8-bit data. */
export const BINARY = 0;
/** The ECHO option. */
export const ECHO = 1;

/** Longest sub-negotiation kept track of, in bytes. */
export const MAX_SUB = 512;

/**
 * What the server sends first on a telnet connection: `IAC WILL BINARY`
 * and `IAC DO BINARY`, followed by CR and `ESC [ K` (erase to the end of the
 * line), which wipe whatever a client that does not speak telnet (`nc`)
 * shows of the four negotiation bytes. A telnet client shows nothing of it.
 */
export const OFFER: Uint8Array = new Uint8Array([IAC, DO, BINARY, CR, 0x1b, 0x5b, 0x4b]);

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
  Discard, // a sub-negotiation that ran too long: dropped up to the next line end
}

// RFC 1143 option states (the queue bits are not needed: we never change our mind while waiting).
const NO = 0;
const YES = 1;
const WANTNO = 2;
const WANTYES = 3;
// Set in #refused once an option was refused, so it is not refused again.
const REFUSED_US = 1;
const REFUSED_HIM = 2;

/** Where negotiation answers go: a function, or an object with `sendBytes` (no closure needed). */
export type ReplyTo = ((bytes: Uint8Array) => void) | { sendBytes(bytes: Uint8Array): void };

/** Options of {@linkcode TelnetFilter}. */
export interface TelnetOptions {
  /** {@linkcode OFFER} was sent to this client (BINARY is then awaited both ways). */
  offered?: boolean;
}

/** Removes telnet commands from a byte stream, chunk by chunk, and answers option requests. */
export class TelnetFilter {
  #state = State.Data;
  #verb = 0;
  #reply: ReplyTo;
  #us = new Uint8Array(256); // options on the server's side (we WILL)
  #him = new Uint8Array(256); // options on the client's side (it WILL)
  #refused = new Uint8Array(256);
  #subLength = 0;
  #charged = 0;
  /** Telnet commands received so far (negotiation, sub-negotiation and other commands; not IAC IAC). */
  commands = 0;

  /** @param reply sends negotiation answers back to the client */
  constructor(reply: ReplyTo, options: TelnetOptions = {}) {
    this.#reply = reply;
    if (options.offered) this.#him[BINARY] = WANTYES;
  }

  /**
   * True while the server echoes, that is, has asked the client not to
   * (password entry). Setting it records that `ECHO_OFF` (true) or
   * `ECHO_ON` (false) is being sent, so the client's answer is not answered.
   */
  get serverEcho(): boolean {
    return this.#us[ECHO] === YES || this.#us[ECHO] === WANTYES;
  }

  set serverEcho(on: boolean) {
    const state = this.#us[ECHO];
    this.#us[ECHO] = on ? WANTYES : state === NO ? NO : WANTNO;
  }

  /** True once the client agreed to send 8-bit data (BINARY on its side). */
  get binaryIn(): boolean {
    return this.#him[BINARY] === YES;
  }

  /** True once the client agreed to receive 8-bit data (BINARY on our side). */
  get binaryOut(): boolean {
    return this.#us[BINARY] === YES;
  }

  /**
   * How many tokens of the rate limit the commands received since the last
   * call cost, at one token per `perToken` commands.
   */
  tokensDue(perToken: number): number {
    const due = Math.floor((this.commands - this.#charged) / perToken);
    this.#charged += due * perToken;
    return due;
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
            break;
          }
          this.commands++;
          if (b >= WILL) {
            this.#verb = b;
            this.#state = State.Option;
          } else if (b === SB) {
            this.#subLength = 0;
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
          else if (++this.#subLength > MAX_SUB) this.#state = State.Discard;
          break;
        case State.SubIac:
          this.#state = b === SE ? State.Data : State.Sub;
          break;
        case State.Discard:
          if (b === CR || b === LF) {
            buf[out++] = b;
            this.#state = State.Data;
          }
          break;
      }
    }
    return out;
  }

  #answer(verb: number, option: number): void {
    if (verb === WILL || verb === WONT) this.#hisSide(verb === WILL, option);
    else this.#ourSide(verb === DO, option);
  }

  // The client says it will (or won't) use an option on its side.
  #hisSide(will: boolean, option: number): void {
    const state = this.#him[option];
    if (will) {
      if (state === NO) {
        if (option === BINARY) {
          this.#him[option] = YES;
          this.#send(DO, option);
        } else if (!(this.#refused[option] & REFUSED_HIM)) {
          this.#refused[option] |= REFUSED_HIM;
          this.#send(DONT, option);
        }
      } else if (state === WANTYES) this.#him[option] = YES; // our DO, agreed
      else if (state === WANTNO) this.#him[option] = NO; // a WILL in answer to our DONT: not agreed, so off
    } else {
      if (state === YES) {
        this.#him[option] = NO;
        this.#send(DONT, option);
      } else if (state !== NO) this.#him[option] = NO; // our request answered (or refused)
    }
  }

  // The client asks us to use (or stop using) an option on our side.
  #ourSide(doIt: boolean, option: number): void {
    const state = this.#us[option];
    if (doIt) {
      if (state === NO) {
        if (option === BINARY) {
          this.#us[option] = YES;
          this.#send(WILL, option);
        } else if (!(this.#refused[option] & REFUSED_US)) {
          this.#refused[option] |= REFUSED_US;
          this.#send(WONT, option);
        }
      } else if (state === WANTYES) this.#us[option] = YES;
      else if (state === WANTNO) this.#us[option] = NO;
    } else {
      if (state === YES) {
        this.#us[option] = NO;
        this.#send(WONT, option);
      } else if (state !== NO) this.#us[option] = NO;
    }
  }

  #send(verb: number, option: number): void {
    const bytes = new Uint8Array([IAC, verb, option]);
    const reply = this.#reply;
    if (typeof reply === "function") reply(bytes);
    else reply.sendBytes(bytes);
  }
}
