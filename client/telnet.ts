/**
 * The client side of telnet: removes every IAC sequence (commands, option
 * negotiation, sub-negotiation) from what the server sends, and answers
 * option requests by RFC 1143's rules, so negotiation can never loop:
 *
 * - a request that confirms the current state is not answered;
 * - the server may turn ECHO on and off (it echoes: the client hides what
 *   is typed, as for a password);
 * - BINARY is agreed both ways when offered, END-OF-RECORD when the server
 *   offers to mark its prompts with it;
 * - any other option is refused (DONT / WONT), once per option.
 *
 * A GA (go ahead) or EOR command right after text marks that text as a
 * prompt ({@linkcode TelnetClient.promptMark}), as MUD servers send them.
 *
 * @example
 * ```ts
 * import { TelnetClient } from "./telnet.ts";
 * const sent: number[][] = [];
 * const telnet = new TelnetClient((bytes) => sent.push([...bytes]));
 * const data = telnet.filter(new Uint8Array([255, 251, 1, 104, 105])); // IAC WILL ECHO "hi"
 * new TextDecoder().decode(data); // "hi"
 * telnet.remoteEcho; // true; sent is [[255, 253, 1]] (IAC DO ECHO)
 * ```
 * @module
 */

/** Interpret As Command. */
export const IAC = 255;
/** Option verbs and commands. */
export const DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
/** Options this client agrees to. */
export const BINARY = 0, ECHO = 1, END_OF_RECORD = 25;
/** Commands that end a prompt: go ahead (RFC 854) and end of record (RFC 885). */
export const GA = 249, EOR = 239;

const enum State {
  Data,
  Iac,
  Option,
  Sub,
  SubIac,
}

/** Strips telnet commands from a byte stream and answers negotiation. */
export class TelnetClient {
  #state = State.Data;
  #verb = 0;
  readonly #reply: (bytes: Uint8Array) => void;
  readonly #onEcho: (on: boolean) => void;
  // Options enabled on the server's side (it WILL) and on ours (we WILL).
  readonly #remote = new Set<number>();
  readonly #local = new Set<number>();
  // Options already refused, so a server that asks again is not answered again.
  readonly #refusedRemote = new Set<number>();
  readonly #refusedLocal = new Set<number>();
  #promptMark = false;

  /**
   * @param reply sends negotiation answers to the server
   * @param onEcho told when the server turns its echo on (true: hide input) or off
   */
  constructor(reply: (bytes: Uint8Array) => void, onEcho: (on: boolean) => void = () => {}) {
    this.#reply = reply;
    this.#onEcho = onEcho;
  }

  /** True while the server has said it echoes (WILL ECHO): input should be hidden. */
  get remoteEcho(): boolean {
    return this.#remote.has(ECHO);
  }

  /** True when BINARY was agreed in both directions. */
  get binary(): boolean {
    return this.#remote.has(BINARY) && this.#local.has(BINARY);
  }

  /**
   * True when the last chunk filtered ended with a GA or EOR (nothing but
   * telnet after it): the text before it, since the last line end, is a prompt.
   */
  get promptMark(): boolean {
    return this.#promptMark;
  }

  /** Returns the data bytes of a chunk, with every telnet sequence removed. */
  filter(chunk: Uint8Array): Uint8Array {
    this.#promptMark = false;
    if (this.#state === State.Data && !chunk.includes(IAC)) return chunk;
    const out = new Uint8Array(chunk.length);
    let n = 0;
    let mark = -1; // data bytes before the last GA or EOR
    for (const b of chunk) {
      switch (this.#state) {
        case State.Data:
          if (b === IAC) this.#state = State.Iac;
          else out[n++] = b;
          break;
        case State.Iac:
          if (b === IAC) {
            out[n++] = b; // an escaped 255 is data
            this.#state = State.Data;
          } else if (b >= WILL) {
            this.#verb = b;
            this.#state = State.Option;
          } else if (b === SB) {
            this.#state = State.Sub;
          } else {
            if (b === GA || b === EOR) mark = n;
            this.#state = State.Data; // NOP, GA, AYT …: nothing to show
          }
          break;
        case State.Option:
          this.#state = State.Data;
          this.#negotiate(this.#verb, b);
          break;
        case State.Sub:
          if (b === IAC) this.#state = State.SubIac;
          break;
        case State.SubIac:
          this.#state = b === SE ? State.Data : State.Sub;
          break;
      }
    }
    this.#promptMark = mark !== -1 && mark === n;
    return out.subarray(0, n);
  }

  #negotiate(verb: number, option: number): void {
    switch (verb) {
      case WILL:
        if (this.#remote.has(option)) return; // confirms what is on
        if (option === ECHO || option === BINARY || option === END_OF_RECORD) {
          this.#remote.add(option);
          this.#send(DO, option);
          if (option === ECHO) this.#onEcho(true);
        } else if (!this.#refusedRemote.has(option)) {
          this.#refusedRemote.add(option);
          this.#send(DONT, option);
        }
        return;
      case WONT:
        if (!this.#remote.has(option)) return; // off already
        this.#remote.delete(option);
        this.#send(DONT, option);
        if (option === ECHO) this.#onEcho(false);
        return;
      case DO:
        if (this.#local.has(option)) return;
        if (option === BINARY) {
          this.#local.add(option);
          this.#send(WILL, option);
        } else if (!this.#refusedLocal.has(option)) {
          this.#refusedLocal.add(option);
          this.#send(WONT, option);
        }
        return;
      case DONT:
        if (!this.#local.has(option)) return;
        this.#local.delete(option);
        this.#send(WONT, option);
        return;
    }
  }

  #send(verb: number, option: number): void {
    this.#reply(new Uint8Array([IAC, verb, option]));
  }
}
