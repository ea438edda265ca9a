/**
 * What the client learns from the server's lines for Tab completion: the
 * nicks around (from `look`, `who`, entry and leave notices, and who speaks)
 * and the `/commands` (from `help`), and the user's own nick once the
 * server confirms a login. Works with teaparty's `*** ` notices and with the
 * bare lines of the book's servers (`bob has entered the room.`).
 *
 * @example
 * ```ts
 * import { Roster } from "./roster.ts";
 * const roster = new Roster();
 * roster.learn("*** In main (3): alice, bob, carol");
 * roster.learn("***   /join <room>  go to a room (created if it does not exist)");
 * roster.nicks; // ["alice", "bob", "carol"]
 * roster.commands; // ["/join"]
 * ```
 * @module
 */

const NOTICE = /^\*\*\* /;
// "*** In main (3): a, b, c" (look) and "***   main (3): a, b, c" (a who line).
const listing = /^(?:\*\*\* )?(?:In \S+| {2}\S+) \(\d+\): (.+)$/;
// "*** bob has entered the room." / "bob has left the room." and the crowd summaries
// "*** alice, bob and 3 others entered the room; carol left the room."
const comings = /^(?:\*\*\* )?(.+ (?:entered|left) the room)\.$/;
const coming = /^(.+?) (?:has )?(entered|left) the room$/;
// "***   /join <room>  go to a room (also /j)" and "***   look  who is in this room".
const helpLine = /^\*\*\* {3}(\/?)([A-Za-z][\w-]*)\b.*?(?:\(also ((?:\/[\w-]+(?:, )?)+)\))?$/;
// Who speaks: "bob: hi", "* bob waves", "[private] bob: hi", "[history …] bob: hi".
const speaker = /^(?:\[(?:private|history [^\]]*|mail [^\]]*)\] )?(?:\* )?([^\s:*[\]][^\s:]{0,31})(?::| )/;
const NICK = /^[\p{L}][\p{L}\p{N}_\-.[\]{}|^]{0,31}$/u;

/** Known nicks and commands, learned line by line. */
export class Roster {
  readonly #nicks = new Map<string, string>(); // folded -> as spelled
  readonly #commands = new Set<string>();
  #me: string | undefined;
  #pendingLogin: string | undefined;

  /** The user's nick, once a login was confirmed (or as given). */
  get me(): string | undefined {
    return this.#me;
  }

  /** Sets the nick the user is logging in as; confirmed by the entry notice. */
  loggingIn(nick: string): void {
    this.#pendingLogin = nick;
  }

  /** Forgets the confirmed nick (the connection was lost). */
  loggedOut(): void {
    this.#me = undefined;
  }

  /** Known nicks, sorted. */
  get nicks(): string[] {
    return [...this.#nicks.values()].sort((a, b) => a.localeCompare(b));
  }

  /** Known `/commands`, sorted. */
  get commands(): string[] {
    return [...this.#commands].sort();
  }

  /** Learns from one received line. */
  learn(line: string): void {
    let m = listing.exec(line);
    if (m) {
      for (const name of m[1].replace(/ and \d+ more$/, "").split(", ")) this.#add(name);
      return;
    }
    if ((m = comings.exec(line))) {
      for (const part of m[1].split("; ")) {
        const c = coming.exec(part);
        if (c) this.#arrival(splitNames(c[1]), c[2] === "entered");
      }
      return;
    }
    if ((m = helpLine.exec(line))) {
      this.#commands.add("/" + m[2]);
      if (m[3]) { for (const alias of m[3].split(", ")) this.#commands.add(alias); }
      return;
    }
    if (NOTICE.test(line)) return;
    m = speaker.exec(line);
    if (m) this.#add(m[1]);
  }

  #arrival(names: string[], entered: boolean): void {
    if (!entered) {
      for (const name of names) {
        if (name.toLowerCase() !== this.#me?.toLowerCase()) this.#nicks.delete(name.toLowerCase());
      }
      return;
    }
    for (const name of names) this.#add(name);
    const pending = this.#pendingLogin?.toLowerCase();
    const mine = pending && names.find((n) => n.toLowerCase() === pending);
    if (mine) {
      this.#me = mine;
      this.#pendingLogin = undefined;
    }
  }

  #add(name: string): void {
    if (NICK.test(name)) this.#nicks.set(name.toLowerCase(), name);
  }
}

// "alice", "alice and bob", "alice, bob and carol", "a, b, c and 35 others" -> names.
function splitNames(text: string): string[] {
  return text.replace(/ and \d+ others?$/, "").split(/, | and /);
}
