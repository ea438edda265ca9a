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
 * asks. ECHO is turned on by the server while a password is typed, and,
 * with SUPPRESS-GO-AHEAD, for character mode ({@linkcode TelnetFilter.setCharacterMode}):
 * the client then sends every key as it is typed and leaves echoing to the
 * server (redraw mode, doors/redraw.ts). A session that asks for it
 * (`askTerminalType`) learns the client's TERMINAL-TYPE (RFC 1091), and in
 * character mode its window size (NAWS, RFC 1073); the terminal type is
 * asked for once the client answered the offer of BINARY, which shows it
 * speaks telnet (a client that sends a stray 255 is not asked). Every other option is
 * refused. Changes of our own options that cross a pending request are
 * queued as RFC 1143 says, so that no request is ever answered twice.
 *
 * A sub-negotiation (`IAC SB … IAC SE`) longer than {@linkcode MAX_SUB}
 * bytes is given up: it and the rest of its line are dropped, and what
 * follows the next line end is data again. One that is never closed ends
 * at a line end (or, for NAWS, after its four bytes), which is data again;
 * an IAC before a byte that is no telnet command is dropped alone.
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
/** The SUPPRESS-GO-AHEAD option (RFC 858): with ECHO, character mode. */
export const SGA = 3;
/** The TERMINAL-TYPE option (RFC 1091). */
export const TTYPE = 24;
/** The NAWS option (RFC 1073): the client's window size. */
export const NAWS = 31;

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
/** `IAC SB TERMINAL-TYPE SEND IAC SE`: asks for the terminal type once the client agreed to tell it. */
export const TTYPE_SEND: Uint8Array = new Uint8Array([IAC, SB, TTYPE, 1, IAC, SE]);
/** Longest terminal type name kept (RFC 1091 allows 40 characters). */
export const MAX_TERMINAL_TYPE = 40;
const SUB_KEPT = 64; // bytes of a TERMINAL-TYPE or NAWS sub-negotiation kept

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

/**
 * What a session hears from the telnet filter besides data: where answers
 * go (`sendBytes`), and, optionally, what the client told about itself.
 */
export interface TelnetPeer {
  /** Sends negotiation bytes to the client. */
  sendBytes(bytes: Uint8Array): void;
  /** The client named its terminal type (`IAC SB TERMINAL-TYPE IS name IAC SE`), once, after we asked. */
  terminalType?(name: string): void;
  /** The client told its window size (NAWS), at the start and after each resize. */
  windowSize?(columns: number, rows: number): void;
  /** Character mode that the server wanted was refused by the client, or given up by it; line mode is restored. */
  characterModeRefused?(): void;
}

/** Where negotiation answers go: a function, or an object with `sendBytes` (no closure needed). */
export type ReplyTo = ((bytes: Uint8Array) => void) | TelnetPeer;

/** Options of {@linkcode TelnetFilter}. */
export interface TelnetOptions {
  /** {@linkcode OFFER} was sent to this client (BINARY is then awaited both ways). */
  offered?: boolean;
  /** Ask the client for its terminal type (`IAC DO TERMINAL-TYPE`) once it answered the offer of BINARY. */
  askTerminalType?: boolean;
}

/** Removes telnet commands from a byte stream, chunk by chunk, and answers option requests. */
export class TelnetFilter {
  #state = State.Data;
  #verb = 0;
  #reply: ReplyTo;
  #us = new Uint8Array(256); // options on the server's side (we WILL)
  #him = new Uint8Array(256); // options on the client's side (it WILL)
  #refused = new Uint8Array(256);
  #opposite: Set<number> | undefined; // our options whose pending request is to be reversed (RFC 1143 queue)
  #subLength = 0;
  #subOption = -1; // the option of the sub-negotiation under way (-1: its first byte is still to come)
  #sub: Uint8Array | undefined; // what is kept of a TERMINAL-TYPE or NAWS sub-negotiation
  #charged = 0;
  #characterWanted = false;
  #characterMode = false;
  #askTerminalType: boolean;
  /** Telnet commands received so far (negotiation, sub-negotiation and other commands; not IAC IAC). */
  commands = 0;
  /** The client's terminal type, as it named it ("" until it did). */
  terminal = "";
  /** The client's window width and height from NAWS (0 until it told). */
  columns = 0;
  rows = 0;
  /**
   * Set by `filter` when character mode began or ended inside the range it
   * was given: the index of the first byte it left unfiltered (what follows
   * belongs to the other mode). -1 otherwise. The caller resets it.
   */
  switchedAt = -1;

  /** @param reply sends negotiation answers back to the client */
  constructor(reply: ReplyTo, options: TelnetOptions = {}) {
    this.#reply = reply;
    if (options.offered) this.#him[BINARY] = WANTYES;
    this.#askTerminalType = options.askTerminalType ?? false;
  }

  /**
   * True while the client is in character mode: from its agreement to ECHO
   * and SUPPRESS-GO-AHEAD on our side until it answers our giving them up
   * (until then it still sends keys).
   */
  get characterMode(): boolean {
    const echo = this.#us[ECHO];
    const sga = this.#us[SGA];
    return (echo === YES || echo === WANTNO) && (sga === YES || sga === WANTNO);
  }

  /** True while a change of character mode that we asked for is not answered yet. */
  get characterModePending(): boolean {
    if (this.#characterWanted) return !this.characterMode;
    return this.#us[SGA] === WANTNO || this.#us[SGA] === WANTYES;
  }

  /**
   * Asks the client for character mode (`WILL ECHO`, `WILL SUPPRESS-GO-AHEAD`,
   * and `DO NAWS` to learn its width), or back to line mode (`WONT` both).
   * `characterMode` turns true once the client agreed to both; if it refuses
   * either, the other is given up too and the peer's `characterModeRefused`
   * is called.
   */
  setCharacterMode(on: boolean): void {
    this.#characterWanted = on;
    if (on) {
      this.#enable(ECHO);
      this.#enable(SGA);
      if (this.#him[NAWS] === NO) {
        this.#him[NAWS] = WANTYES;
        this.#send(DO, NAWS);
      }
    } else {
      this.#disable(SGA);
      this.#disable(ECHO);
    }
  }

  // RFC 1143: we want an option of ours on (or off), whatever state it is in.
  #enable(option: number): void {
    const state = this.#us[option];
    if (state === NO) {
      this.#us[option] = WANTYES;
      this.#send(WILL, option);
    } else if (state === WANTNO) (this.#opposite ??= new Set()).add(option);
    else if (state === WANTYES) this.#opposite?.delete(option);
  }

  #disable(option: number): void {
    const state = this.#us[option];
    if (state === YES) {
      this.#us[option] = WANTNO;
      this.#send(WONT, option);
    } else if (state === WANTYES) (this.#opposite ??= new Set()).add(option);
    else if (state === WANTNO) this.#opposite?.delete(option);
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
            this.#subOption = -1;
            this.#state = State.Sub;
          } else if (b < SE) { // not a command: a stray IAC, and the byte after it is data
            this.commands--;
            buf[out++] = b;
            this.#state = State.Data;
          } else {
            if (b === EC) buf[out++] = 8;
            else if (b === EL) buf[out++] = 21;
            this.#state = State.Data;
          }
          break;
        case State.Option:
          this.#answer(this.#verb, b);
          this.#state = State.Data;
          if (this.#switched() && i + 1 < end) {
            this.switchedAt = i + 1;
            return out;
          }
          break;
        case State.Sub:
          if (b === IAC) this.#state = State.SubIac;
          else if (this.#subOption === NAWS ? this.#subLength >= 5 : b === CR || b === LF) {
            // Never closed: no sub-negotiation spans a line end (NAWS holds four bytes), so the
            // byte is data again, and the lines after it are not swallowed.
            buf[out++] = b;
            this.#state = State.Data;
          } else if (++this.#subLength > MAX_SUB) this.#state = State.Discard;
          else this.#subByte(b);
          break;
        case State.SubIac:
          if (b === SE) {
            this.#state = State.Data;
            this.#subEnd();
          } else {
            this.#state = State.Sub;
            if (b !== IAC) break;
            if (++this.#subLength > MAX_SUB) this.#state = State.Discard;
            else this.#subByte(b); // an escaped 255 inside (a width of 255)
          }
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

  // A byte inside a sub-negotiation: the first names the option; TERMINAL-TYPE and NAWS are kept.
  #subByte(b: number): void {
    if (this.#subOption === -1) {
      this.#subOption = b;
      return;
    }
    if (this.#subOption !== TTYPE && this.#subOption !== NAWS) return;
    const at = this.#subLength - 2; // the option byte came first
    if (at >= SUB_KEPT) return;
    (this.#sub ??= new Uint8Array(SUB_KEPT))[at] = b;
  }

  #subEnd(): void {
    const option = this.#subOption;
    const length = Math.min(SUB_KEPT, this.#subLength - 1);
    const sub = this.#sub;
    if (sub === undefined || this.#him[option] !== YES) return; // nothing kept, or an option not agreed
    const peer = typeof this.#reply === "function" ? undefined : this.#reply;
    if (option === TTYPE && sub[0] === 0 && this.terminal === "" && length > 1) { // IS name
      let name = "";
      for (let i = 1; i < length && name.length < MAX_TERMINAL_TYPE; i++) {
        if (sub[i] > 0x20 && sub[i] < 0x7f) name += String.fromCharCode(sub[i]);
      }
      if (name === "") return;
      this.terminal = name;
      peer?.terminalType?.(name);
    } else if (option === NAWS && length === 4) {
      this.columns = (sub[0] << 8) | sub[1];
      this.rows = (sub[2] << 8) | sub[3];
      peer?.windowSize?.(this.columns, this.rows);
    }
  }

  // After an answer: did character mode begin or end? (A refusal of half of it gives up the other half.)
  #switched(): boolean {
    if (this.#characterWanted && (this.#us[ECHO] === NO || this.#us[SGA] === NO)) {
      this.setCharacterMode(false);
      if (typeof this.#reply !== "function") this.#reply.characterModeRefused?.();
    }
    const mode = this.characterMode;
    if (mode === this.#characterMode) return false;
    this.#characterMode = mode;
    return true;
  }

  #answer(verb: number, option: number): void {
    if (verb === WILL || verb === WONT) this.#hisSide(verb === WILL, option);
    else this.#ourSide(verb === DO, option);
  }

  // The client says it will (or won't) use an option on its side.
  #hisSide(will: boolean, option: number): void {
    const state = this.#him[option];
    // The first answer to our DO BINARY shows a telnet client: now it is asked for its terminal type.
    if (option === BINARY && this.#askTerminalType && state === WANTYES) {
      this.#askTerminalType = false;
      if (this.#him[TTYPE] === NO) {
        this.#him[TTYPE] = WANTYES;
        this.#send(DO, TTYPE);
      }
    }
    if (will) {
      if (state === NO) {
        if (option === BINARY) {
          this.#him[option] = YES;
          this.#send(DO, option);
        } else if (!(this.#refused[option] & REFUSED_HIM)) {
          this.#refused[option] |= REFUSED_HIM;
          this.#send(DONT, option);
        }
      } else if (state === WANTYES) { // our DO, agreed
        this.#him[option] = YES;
        if (option === TTYPE) this.#sendBytes(TTYPE_SEND);
      } else if (state === WANTNO) this.#him[option] = NO; // a WILL in answer to our DONT: not agreed, so off
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
      } else if (state === WANTYES) {
        if (this.#opposite?.delete(option)) { // we changed our mind meanwhile: off again
          this.#us[option] = WANTNO;
          this.#send(WONT, option);
        } else this.#us[option] = YES;
      } else if (state === WANTNO) {
        // A DO in answer to our WONT is an error (RFC 1143): off, unless we want it on again by now.
        this.#us[option] = this.#opposite?.delete(option) ? YES : NO;
      }
    } else {
      if (state === YES) {
        this.#us[option] = NO;
        this.#send(WONT, option);
      } else if (state === WANTNO && this.#opposite?.delete(option)) { // off as asked; we want it on again
        this.#us[option] = WANTYES;
        this.#send(WILL, option);
      } else if (state !== NO) {
        this.#us[option] = NO;
        this.#opposite?.delete(option);
      }
    }
  }

  #send(verb: number, option: number): void {
    this.#sendBytes(new Uint8Array([IAC, verb, option]));
  }

  #sendBytes(bytes: Uint8Array): void {
    const reply = this.#reply;
    if (typeof reply === "function") reply(bytes);
    else reply.sendBytes(bytes);
  }
}
