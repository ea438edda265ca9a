/**
 * The journal: the one way out for everything the room engine and the
 * commands send. Room lines are stored before anyone sees them: lines said in
 * one turn of the event loop are written in one batch (one commit), then
 * delivered. Everything else (notices, replies, private messages) is
 * delivered at once while nothing waits to be stored, and queued behind the
 * waiting lines otherwise, so every user's lines reach everyone in the order
 * they were sent, on every door, by construction. If a write fails, nobody
 * sees those lines and each sender is told.
 *
 * The flush runs with `setImmediate`, one event-loop turn after the first
 * line: a microtask would run after the first line of each read and commit
 * nearly every line alone (measured with `--db`: 1.77M against 2.60M
 * deliveries/s in the burst benchmark).
 *
 * @example
 * ```ts
 * import { Journal } from "./journal.ts";
 * import { Logger } from "./log.ts";
 * const journal = new Journal({ addMessages() {} }, new Logger("silent"));
 * journal.tell({ receive: (d) => console.log(d.event) }, { type: "notice", text: "hi" });
 * ```
 * @module
 */
import { setImmediate } from "node:timers";
import type { Member, Post, Room } from "./rooms.ts";
import { Delivery, type Receiver } from "./dialects/dialect.ts";
import type { ChatEvent, SaidEvent } from "./events.ts";
import type { Logger } from "./log.ts";
import type { StoredMessage } from "./store.ts";

/** A value, or a promise of it (the SQLite store answers at once, a network store later). */
export type Awaitable<T> = T | Promise<T>;

/** Where room lines are stored (sets each message's `id`). */
export interface MessageStore {
  addMessages(messages: StoredMessage[]): Awaitable<void>;
}

/** Reports about the journal's writes (for metrics). */
export interface JournalWatcher {
  /** A batch was stored in `ms` milliseconds. */
  stored?(count: number, ms: number): void;
  /** A batch could not be stored. */
  failed?(count: number): void;
  /** An event was delivered to a room (`from`: the key of a room line's sender); cluster mode passes it on. */
  sent?(room: Room, event: ChatEvent, from?: string): void;
  /** An event for one receiver of another server (marked `remote`); cluster mode passes it on. */
  direct?(to: Receiver, event: ChatEvent): void;
}

type Entry =
  | { kind: "said"; message: StoredMessage; room: Room; from: Member; event: SaidEvent }
  | { kind: "announce"; room: Room; event: ChatEvent }
  | { kind: "tell"; to: Receiver; event: ChatEvent }
  | { kind: "relay"; room: Room; event: ChatEvent; from: Member | undefined }
  | { kind: "settled"; resolve: () => void };

/** Turns a store error into a sentence for users and the log. */
export type Explain = (error: unknown) => string;

/** Stores room lines in batches, then delivers them; keeps everything else in order behind them. */
export class Journal implements Post {
  #store: MessageStore;
  #log: Logger;
  #explain: Explain;
  #toUser: Explain; // what the sender of a line that was not stored is told
  #watcher: JournalWatcher;
  #pending: Entry[] = [];
  #said = 0; // "said" entries in #pending
  #writing = false;
  #scheduled = false;

  /**
   * @param store where room lines are stored
   * @param log where failures are logged
   * @param explain turns a store error into a sentence for the log
   * @param watcher told about writes (metrics)
   * @param tell turns a store error into what the sender of a line that was not stored is told (default: `explain`)
   */
  constructor(
    store: MessageStore,
    log: Logger,
    explain: Explain = String,
    watcher: JournalWatcher = {},
    tell: Explain = explain,
  ) {
    this.#store = store;
    this.#log = log;
    this.#explain = explain;
    this.#toUser = tell;
    this.#watcher = watcher;
  }

  /** True while lines wait to be stored (everything sent meanwhile waits behind them). */
  get busy(): boolean {
    return this.#said > 0 || this.#writing;
  }

  /**
   * Says a line in a room: it is stored, then delivered to the room's members
   * (respecting quiet mode, ignores and echo), one turn later.
   */
  say(room: Room, from: Member, kind: "chat" | "action", text: string, at = Date.now(), notice = false): void {
    const event: SaidEvent = notice
      ? { type: kind, room: room.name, nick: from.nick, text, at, notice }
      : { type: kind, room: room.name, nick: from.nick, text, at };
    this.#pending.push({
      kind: "said",
      message: { room: room.key, at, kind, nick: from.nick, text },
      room,
      from,
      event,
    });
    this.#said++;
    this.#schedule();
  }

  /** Sends an event to every member of a room, after anything still waiting to be stored. */
  announce(room: Room, event: ChatEvent): void {
    if (this.busy) this.#pending.push({ kind: "announce", room, event });
    else {
      deliverToRoom(room, new Delivery(event));
      this.#watcher.sent?.(room, event);
    }
  }

  /**
   * Delivers an event that another server of the cluster sent to a room
   * (a room line from `from`, or an announcement), in order behind what
   * waits here, and without passing it on again.
   */
  relay(room: Room, event: ChatEvent, from?: Member): void {
    if (this.busy) this.#pending.push({ kind: "relay", room, event, from });
    else if (from) deliverSaid(room, from, new Delivery(event));
    else deliverToRoom(room, new Delivery(event));
  }

  /** Sends an event to one receiver, after anything still waiting to be stored. */
  tell(to: Receiver, event: ChatEvent): void {
    if (this.busy) this.#pending.push({ kind: "tell", to, event });
    else this.#tell(to, event);
  }

  #tell(to: Receiver, event: ChatEvent): void {
    if ((to as { remote?: string }).remote) this.#watcher.direct?.(to, event); // a user of another server
    else to.receive(new Delivery(event));
  }

  /** Resolves once everything sent so far has been delivered (at once when nothing waits). */
  settled(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#pending.push({ kind: "settled", resolve }));
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Stores what waits and delivers everything queued, in order (normally
   * called one turn after the first line; call it to hurry, e.g. at shutdown).
   */
  flush(): void {
    this.#scheduled = false;
    if (this.#writing || this.#pending.length === 0) return;
    const entries = this.#pending;
    this.#pending = [];
    this.#said = 0;
    const messages: StoredMessage[] = [];
    for (const e of entries) if (e.kind === "said") messages.push(e.message);
    if (messages.length === 0) return this.#deliver(entries, undefined);
    const started = performance.now();
    let result: Awaitable<void>;
    try {
      result = this.#store.addMessages(messages);
    } catch (error) {
      return this.#deliver(entries, error);
    }
    if (!(result instanceof Promise)) {
      this.#watcher.stored?.(messages.length, performance.now() - started);
      return this.#deliver(entries, undefined);
    }
    this.#writing = true;
    result.then(
      () => {
        this.#watcher.stored?.(messages.length, performance.now() - started);
        this.#written(entries, undefined);
      },
      (error) => this.#written(entries, error),
    );
  }

  #written(entries: Entry[], error: unknown): void {
    this.#writing = false;
    this.#deliver(entries, error);
    if (this.#pending.length > 0) this.flush();
  }

  #deliver(entries: Entry[], error: unknown): void {
    let why = "";
    if (error !== undefined) {
      why = this.#toUser(error);
      const count = entries.filter((e) => e.kind === "said").length;
      this.#watcher.failed?.(count);
      this.#log.error("history write failed", { messages: count, error: this.#explain(error) });
    }
    for (const e of entries) {
      if (e.kind === "said") {
        if (error !== undefined) {
          e.from.receive(
            new Delivery({
              type: "error",
              text: `Your message could not be stored (${why}), so it was not delivered; please try again later.`,
            }),
          );
          continue;
        }
        e.event.id = e.message.id;
        if (e.message.id !== undefined) e.room.lastId = e.message.id;
        deliverSaid(e.room, e.from, new Delivery(e.event));
        this.#watcher.sent?.(e.room, e.event, e.from.key);
      } else if (e.kind === "announce") {
        deliverToRoom(e.room, new Delivery(e.event));
        this.#watcher.sent?.(e.room, e.event);
      } else if (e.kind === "relay") {
        if (e.from) deliverSaid(e.room, e.from, new Delivery(e.event));
        else deliverToRoom(e.room, new Delivery(e.event));
      } else if (e.kind === "tell") {
        this.#tell(e.to, e.event);
      } else {
        e.resolve();
      }
    }
  }
}

/** Delivers a room line to every member who wants it. */
function deliverSaid(room: Room, from: Member, delivery: Delivery): void {
  const key = from.key;
  for (const m of room.members) {
    if (m.quiet) continue;
    if (m.ignores !== undefined && m.ignores.has(key)) continue;
    if (m === from && !m.echo) continue;
    m.receive(delivery);
  }
  // A sender who left the room while its line was being stored still sees it.
  if (from.echo && !room.members.has(from)) from.receive(delivery);
}

function deliverToRoom(room: Room, delivery: Delivery): void {
  for (const m of room.members) m.receive(delivery);
}
