/**
 * One IRC connection ({@linkcode IrcSession}): its lines go to the IRC
 * command table, replies to one command are gathered and sent in one piece,
 * room events arrive in the session's IRC dialect (one per combination of
 * tag capabilities, shared by all receivers with it), and events meant only
 * for this user (numerics carry the receiver's nick) are written here. The
 * session knows its server only through {@linkcode IrcServer}, which the
 * IRC door (doors/irc.ts) implements; the command table is handed in, so the
 * command modules (doors/irc/commands.ts and the modules it gathers) depend on the
 * session and not the other way round.
 *
 * A room line sent as a NOTICE (its event carries `notice`) is rendered
 * as a NOTICE, and the QUIT of a user the server sent away says why (the
 * leave carries `Kicked by opal: bye`, `Banned by opal`).
 * Lines that are not valid UTF-8 (irc/utf8.ts looks at the bytes as read)
 * get `FAIL … INVALID_UTF8`; every reply is made safe and cut to 512 bytes
 * ({@linkcode IrcSession.numeric}, {@linkcode IrcSession.reply}).
 *
 * @example
 * ```ts
 * import type { IrcCommand } from "./session.ts";
 * const ping: IrcCommand = {
 *   name: "PING",
 *   params: 1,
 *   before: true,
 *   help: "PING <token>: the server answers PONG",
 *   run: (s, m) => s.line(`:teaparty PONG teaparty :${m.params[0]}`),
 * };
 * console.log(ping.name); // "PING"
 * ```
 * @module
 */
import { type Connection, deliveries, Session } from "../../session.ts";
import type { Chat } from "../../chat.ts";
import type { CommandTable } from "../../commands/table.ts";
import type { ChatEvent } from "../../events.ts";
import type { Delivery } from "../../dialects/dialect.ts";
import { channel, type IrcDialect, ircDialect, lineTags, messageLines } from "../../dialects/irc.ts";
import { telnetLines } from "../../dialects/telnet.ts";
import { formatTime, NOTICE_PREFIX } from "../../format.ts";
import { type LineListener, LineReader, type LineSource } from "../../line_reader.ts";
import {
  byteLength,
  encode,
  formatReply,
  type IrcMessage,
  MAX_LINE,
  MAX_TAGS,
  parseMessage,
  stripControls,
} from "../../irc/message.ts";
import { FLAG, renderFlags } from "../../irc/caps.ts";
import { hostmask, SERVER } from "../../irc/isupport.ts";
import { ERR } from "../../irc/numerics.ts";
import { splitText, splitWords } from "../../irc/split.ts";
import { Utf8Check } from "../../irc/utf8.ts";

/** One row of the IRC command table. */
export interface IrcCommand {
  /** The command, upper case. */
  name: string;
  /** Parameters it needs at least (fewer: 461). */
  params: number;
  /** Allowed before registration. */
  before?: boolean;
  /** `USAGE: what it does`, for HELP. */
  help: string;
  /** The behaviour. */
  run(session: IrcSession, message: IrcMessage): void | Promise<void>;
}

/** What an IRC session knows of the IRC server it belongs to (the IRC door). */
export interface IrcServer {
  /** "irc", or "ircs" over TLS. */
  readonly scheme: string;
  /** When the server was made (003). */
  readonly created: number;
  /** The chat engine. */
  readonly chat: Chat;
  /** The line protocol's command table (operator commands such as `ban` run through it). */
  readonly commands: CommandTable;
  /** The IRC command table. */
  readonly ircCommands: ReadonlyMap<string, IrcCommand>;
  /** The open sessions of this door (a session leaves it when it closes). */
  readonly sessions: Set<IrcSession>;
}

/** How the IRC session's registration stands (before it is a logged-in user). */
export interface Registration {
  /** The nick asked for with NICK ("" until then, or after a refusal). */
  nick: string;
  /** The user name of USER ("" until then). */
  username: string;
  /** The PASS given, kept only until registration. */
  pass: string;
  /** A CAP LS or REQ holds registration until CAP END. */
  capHold: boolean;
  /** The CAP LS version (302 gives values). */
  capVersion: number;
  /** The account proven with SASL, once it has been. */
  account: string;
  /** The SASL PLAIN exchange under way: the base64 received so far. */
  sasl: string | undefined;
  /** A login is under way. */
  busy: boolean;
}

let batches = 0;

/** One IRC connection. */
export class IrcSession extends Session {
  /** The IRC server (door) it came through. */
  readonly server: IrcServer;
  /** Capabilities the client enabled. */
  readonly caps: Set<string> = new Set();
  /** The real name given with USER. */
  realname = "";
  /** Registration state, until the session has a user. */
  readonly registration: Registration = {
    nick: "",
    username: "",
    pass: "",
    capHold: false,
    capVersion: 0,
    account: "",
    sasl: undefined,
    busy: false,
  };
  #lastHeard = performance.now();
  #pingSent = 0;
  #out: string[] = [];
  #last: ChatEvent | undefined; // the last event received: one sent to several rooms comes once
  #lastQuit = ""; // the nick of the last QUIT: one QUIT however many channels are shared
  #kicked: Map<string, Kick> | undefined; // room\0nick of kicks whose leave is not shown as a PART
  #utf8 = new Utf8Check(); // which lines were not valid UTF-8
  #lineNo = 0; // the number of the next line handled (for #utf8)

  /** Wraps an accepted connection of `server`. */
  constructor(server: IrcServer, conn: Connection, ip: string) {
    super(server.chat, conn, ip, ircDialect(server.chat, 0));
    this.server = server;
  }

  /** "irc", or "ircs" over TLS. */
  get door(): string {
    return this.server.scheme;
  }

  /** The chat engine. */
  get chat(): Chat {
    return this.server.chat;
  }

  /** The nick numerics are addressed to: the user's, the one asked for, or `*`. */
  get me(): string {
    return this.user?.nick ?? (this.registration.nick || "*");
  }

  /** True once the connection is registered (logged in). */
  get registered(): boolean {
    return this.user !== undefined;
  }

  /** The tag flags of the enabled capabilities. */
  get flags(): number {
    return renderFlags(this.caps);
  }

  /** The session's IRC dialect. */
  get ircDialect(): IrcDialect {
    return this.dialect as IrcDialect;
  }

  /** Takes the enabled capabilities into account: dialect, echo. */
  capsChanged(): void {
    this.dialect = ircDialect(this.chat, this.flags);
    if (this.user) this.user.echo = this.caps.has("echo-message");
  }

  // ---- replies

  /** Queues a line (without CR LF) for the reply being built. */
  line(text: string): void {
    this.#out.push(text + "\r\n");
  }

  /**
   * Queues a numeric: `:teaparty CODE <me> params… :last` (the last is a
   * word, not text, for a few). Parameters may echo what the client sent:
   * they are made safe and cut to fit 512 bytes ({@linkcode formatReply}).
   */
  numeric(code: string, ...params: string[]): void {
    this.#out.push(formatReply(SERVER, code, [this.me, ...params], !TOKEN_LAST.has(code)) + "\r\n");
  }

  /**
   * Queues a numeric whose last parameter is a list of words (nicks,
   * channels): as many `code` lines as it takes for each to fit 512 bytes,
   * cut between words ({@linkcode splitWords}). No words: no line, unless
   * `always` (ISON and USERHOST answer with an empty list).
   */
  numericList(code: string, params: string[], words: Iterable<string>, always = false): void {
    const head = `:${SERVER} ${code} ${[this.me, ...params].join(" ")} :`;
    const lines = splitWords(words, MAX_LINE - 2 - byteLength(head));
    if (lines.length === 0 && always) lines.push("");
    for (const line of lines) this.numeric(code, ...params, line);
  }

  /** Queues a reply line that may echo what the client sent (PONG, CAP NAK, FAIL), made safe ({@linkcode formatReply}). */
  reply(command: string, ...params: string[]): void {
    this.#out.push(formatReply(SERVER, command, params, true) + "\r\n");
  }

  /** Queues a server NOTICE to this client, cut into lines that fit. */
  serverNotice(text: string): void {
    const head = `:${SERVER} NOTICE ${this.me} :`;
    for (const piece of splitText(stripControls(text), MAX_LINE - 2 - byteLength(head))) {
      this.#out.push(head + piece + "\r\n");
    }
  }

  /** A fresh batch reference. */
  batchRef(): string {
    return (++batches).toString(36);
  }

  /**
   * Sends what was queued, in one piece, behind anything the journal still
   * holds for this user (so a reply never overtakes the events before it).
   */
  flush(): void {
    if (this.#out.length === 0) return;
    const bytes = encode(this.#out.length === 1 ? this.#out[0] : this.#out.join(""));
    this.#out.length = 0;
    const journal = this.host.journal;
    if (journal.busy) journal.tell({ receive: () => this.outbox.push(bytes) }, SLOT);
    else this.outbox.push(bytes);
  }

  // ---- receiving

  /** Queues a delivery: a room event in the shared dialect, a personal one written for this user. */
  override receive(delivery: Delivery): void {
    const e = delivery.event;
    const last = this.#last;
    this.#last = e;
    if (e === last) return; // one event announced in several rooms the user is in (NICK, AWAY)
    switch (e.type) {
      case "chat":
      case "action":
        this.#lastQuit = "";
        return this.#push(delivery.bytes(this.dialect), delivery.after(this.dialect)); // a NOTICE too, when it was sent as one
      case "entered":
        this.#lastQuit = "";
        this.#kicked?.delete(`${e.room}\0${e.nick}`); // back in the room: a kick before is over
        return this.#push(delivery.bytes(this.dialect));
      case "crowd":
        this.#lastQuit = "";
        if (this.#kicked) { for (const nick of e.left) this.#kicked.delete(`${e.room}\0${nick}`); }
        return this.#push(delivery.bytes(this.dialect));
      case "nick":
      case "away":
        this.#lastQuit = "";
        return this.#push(delivery.bytes(this.dialect));
      case "left": {
        // The leave that follows a kick (the PART of a side room, the QUIT of the main room) ends it.
        const key = `${e.room}\0${e.nick}`;
        const kick = this.#kicked?.get(key);
        if (kick) this.#kicked!.delete(key);
        const fresh = kick !== undefined && performance.now() - kick.at < KICK_MS;
        if (e.quit) { // with why, when the server sent the user away ("Kicked by opal: bye")
          if (this.#lastQuit === e.nick) return;
          this.#lastQuit = e.nick;
        } else {
          this.#lastQuit = "";
          if (fresh) return; // the KICK said it
        }
        return this.#push(delivery.bytes(this.dialect));
      }
      case "kick":
        this.#lastQuit = "";
        if (e.nick !== this.nick) {
          const kicked = this.#kicked ??= new Map();
          if (kicked.size >= 64) kicked.clear();
          kicked.set(`${e.room}\0${e.nick}`, { by: e.by, reason: e.reason, at: performance.now() });
        }
        return this.#push(delivery.bytes(this.dialect));
      case "topic":
      case "notice":
        this.#lastQuit = "";
        if (e.type === "topic" ? e.changed : e.room !== undefined) return this.#push(delivery.bytes(this.dialect));
        break;
      default:
        this.#lastQuit = "";
    }
    const text = this.#personal(e);
    if (text !== "") this.#push(encode(text));
  }

  #push(bytes: Uint8Array, after?: Uint8Array): void {
    if (bytes.length === 0) return;
    deliveries.inc();
    this.outbox.push(bytes, after);
  }

  /** The lines of an event meant for this user alone. */
  #personal(e: ChatEvent): string {
    const flags = this.flags;
    const me = this.me;
    switch (e.type) {
      case "history":
        return messageLines(flags, e.at, idOf(e.id), undefined, hostmask(e.nick), channel(e.room), e.kind, e.text);
      case "private": {
        const kind = e.action ? "action" : "chat";
        const command = e.notice ? "NOTICE" : "PRIVMSG";
        if (e.echo) {
          if (!this.caps.has("echo-message")) return "";
          return messageLines(flags, e.at, undefined, this.#account(e.from), hostmask(me), e.to, kind, e.text, command);
        }
        return messageLines(flags, e.at, undefined, this.#account(e.from), hostmask(e.from), me, kind, e.text, command);
      }
      case "mail": {
        const kind = e.action ? "action" : "chat";
        const text = flags & FLAG.time ? e.text : `[sent ${formatTime(e.at)} UTC] ${e.text}`;
        return messageLines(flags, e.at, undefined, undefined, hostmask(e.from), me, kind, text);
      }
      case "topic":
        return `${formatReply(SERVER, "332", [me, channel(e.room), e.text])}\r\n` +
          `${formatReply(SERVER, "333", [me, channel(e.room), e.by, String(Math.floor(e.at / 1000))])}\r\n`;
      case "goodbye":
        return `ERROR :${e.text}\r\n`;
      case "login":
      case "password":
      case "password-done":
      case "welcome":
        return "";
      default: {
        // Notices, errors and listings of the line protocol, as server notices.
        let out = "";
        const head = `${lineTags(flags & FLAG.time, Date.now())}:${SERVER} NOTICE ${me} :`;
        for (const line of telnetLines(e)) {
          const text = stripControls(line.startsWith(NOTICE_PREFIX) ? line.slice(NOTICE_PREFIX.length) : line);
          for (const piece of splitText(text, MAX_LINE - 2 - byteLength(head))) out += head + piece + "\r\n";
        }
        return out;
      }
    }
  }

  #account(nick: string): string | undefined {
    if (!(this.flags & FLAG.account)) return undefined;
    const user = this.chat.find(nick);
    return user?.registered ? user.nick : undefined;
  }

  // ---- the connection

  protected greet(): void {
    // IRC clients speak first; the server answers registration.
  }

  override close(reason: string, level: "info" | "warn" = "info"): void {
    this.server.sessions.delete(this);
    super.close(reason, level);
  }

  protected lines(listener: LineListener): LineSource {
    // The UTF-8 check looks at the bytes as read (it changes none), before the reader decodes them.
    return new LineReader(this.conn, { maxLine: MAX_TAGS + MAX_LINE, telnet: this.#utf8 }, listener);
  }

  /** A line past what the reader keeps (8,191 bytes of tags and 512 of message): 417. */
  protected override tooLong(): void {
    this.#lineNo++;
    this.#lastHeard = performance.now();
    this.#pingSent = 0;
    this.numeric(ERR.INPUTTOOLONG, `Input line was too long (at most ${MAX_LINE} bytes, ${MAX_TAGS} more of tags)`);
    this.flush();
  }

  protected async handle(line: string): Promise<void> {
    this.#lastHeard = performance.now();
    this.#pingSent = 0;
    const invalid = this.#utf8.invalid(this.#lineNo++); // its bytes as received when not UTF-8, else -1
    const message = parseMessage(line);
    if (!message) return;
    // Measured on the bytes received (a bad byte decoded as U+FFFD counts 3).
    const bytes = invalid >= 0 ? invalid : line.length > 170 ? byteLength(line) : line.length;
    if (message.tagBytes > MAX_TAGS || bytes - message.tagBytes > MAX_LINE - 2) {
      this.numeric(ERR.INPUTTOOLONG, `Input line was too long (at most ${MAX_LINE} bytes, ${MAX_TAGS} more of tags)`);
      return this.flush();
    }
    if (invalid >= 0) {
      // UTF8ONLY: invalid UTF-8 is never relayed (IRCv3 utf8-only, with its standard reply).
      const name = /^[A-Z0-9]{1,32}$/.test(message.command) ? message.command : "*";
      this.reply("FAIL", name, "INVALID_UTF8", "Message rejected: this server takes UTF-8 only (UTF8ONLY)");
      return this.flush();
    }
    const command = this.server.ircCommands.get(message.command);
    if (!command) {
      if (!this.registered) this.numeric(ERR.NOTREGISTERED, "You have not registered");
      else this.numeric(ERR.UNKNOWNCOMMAND, message.command, "Unknown command");
    } else if (!this.registered && !command.before) {
      this.numeric(ERR.NOTREGISTERED, "You have not registered");
    } else if (message.params.length < command.params || (command.params > 0 && message.params[0] === "")) {
      this.numeric(ERR.NEEDMOREPARAMS, message.command, "Not enough parameters");
    } else {
      try {
        await command.run(this, message);
      } catch (error) {
        this.chat.log.error("irc command failed", {
          id: this.id,
          command: message.command,
          nick: this.nick,
          error: String(error),
        });
        this.serverNotice(`Sorry, ${message.command} failed on the server; it has been logged.`);
      }
    }
    this.flush();
  }

  /**
   * When a line last came (performance.now()); now while a line is held
   * back (see `held`): the lines behind it, a PONG among them, are unread,
   * so the client is not judged silent meanwhile.
   */
  get lastHeard(): number {
    return this.held ? performance.now() : this.#lastHeard;
  }

  /**
   * When the unanswered PING was sent; 0 if none is, or while a line is
   * held back (its answer may wait unread behind it; handling that line
   * counts as hearing from the client).
   */
  get pingSent(): number {
    return this.held ? 0 : this.#pingSent;
  }

  /** Sends a PING (the client is silent). */
  ping(now: number): void {
    this.#pingSent = now;
    this.outbox.push(encode(`PING :${SERVER}\r\n`));
  }

  /** Leaves every room with `reason`, then ends the session with `ERROR :<farewell>`. */
  quit(reason: string, farewell: string, logReason = reason): void {
    const user = this.user;
    if (user) { for (const room of [...user.rooms]) this.chat.part(user, room, true, reason); }
    this.end(logReason, farewell);
  }
}

/** Numerics whose last parameter is a word (modes, a channel, a time), written without a colon. */
const TOKEN_LAST = new Set(["004", "221", "324", "329", "333", "341", "367", "728"]);
const SLOT: ChatEvent = { type: "notice", text: "" }; // the journal's place for a reply
const idOf = (id: number | undefined) => id === undefined ? undefined : String(id);
/** A kick a receiver saw: by whom, its reason, and when (performance.now()). */
interface Kick {
  by: string;
  reason: string;
  at: number;
}
/** How long a kick waits for its leave (a remote user's comes from its server): longer, it is forgotten. */
const KICK_MS = 30_000;
