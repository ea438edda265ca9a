/**
 * Events: everything the server tells a user, as data. Rooms, commands and
 * the server produce events, never finished text; a dialect (telnet lines,
 * JSON over WebSocket, IRC) turns each event into bytes. The WebSocket door
 * sends each event as one JSON object whose fields are the ones below, with
 * `at` (milliseconds) written as `time` (ISO 8601, UTC).
 *
 * @example
 * ```ts
 * import type { ChatEvent } from "./events.ts";
 * const hello: ChatEvent = { type: "chat", room: "main", nick: "alice", text: "hi", at: Date.now() };
 * console.log(hello.type); // "chat"
 * ```
 * @module
 */

/** A line said in a room: chat (`alice: hi`) or an action (`* alice waves`). */
export interface SaidEvent {
  type: "chat" | "action";
  room: string;
  nick: string;
  text: string;
  at: number;
  /** The stored message's id, when it has one. */
  id?: number;
  /** Sent as an IRC NOTICE: a client must never answer it automatically (IRC users get a NOTICE). */
  notice?: boolean;
}

/** A stored room line replayed on entry or by `/history`. */
export interface HistoryEvent {
  type: "history";
  room: string;
  kind: "chat" | "action";
  nick: string;
  text: string;
  at: number;
  id?: number;
}

/** A private message; `echo` is the sender's own copy. */
export interface PrivateEvent {
  type: "private";
  from: string;
  to: string;
  text: string;
  at: number;
  echo: boolean;
  /** Sent as an action (`/me` in a private conversation, CTCP ACTION). */
  action?: boolean;
  /** Sent as an IRC NOTICE (see {@linkcode SaidEvent}). */
  notice?: boolean;
}

/** A private message kept while its recipient was away, delivered at login. */
export interface MailEvent {
  type: "mail";
  from: string;
  /** What was said: the bare text, without the `* nick` of an action. */
  text: string;
  at: number;
  /** Sent as an action (`/me`, CTCP ACTION); absent for a plain message. */
  action?: boolean;
}

/** Someone entered a room. */
export interface EnteredEvent {
  type: "entered";
  room: string;
  nick: string;
  at: number;
}

/** Someone left a room; `quit` when they left the server. */
export interface LeftEvent {
  type: "left";
  room: string;
  nick: string;
  at: number;
  quit?: boolean;
  reason?: string;
}

/**
 * Entries and leaves of a crowded room, gathered over a second: the first
 * few names of each, and how many there were in all.
 */
export interface CrowdEvent {
  type: "crowd";
  room: string;
  entered: string[];
  enteredCount: number;
  left: string[];
  leftCount: number;
  at: number;
}

/** A room's topic: shown on entry, or `changed` by someone (`by`); "" clears it. */
export interface TopicEvent {
  type: "topic";
  room: string;
  text: string;
  by: string;
  at: number;
  changed: boolean;
}

/** Who is in a room (`look`); `nicks` holds at most a listing's worth, `count` all. */
export interface MembersEvent {
  type: "members";
  room: string;
  nicks: string[];
  count: number;
}

/** Who is logged in, room by room (`who`). */
export interface WhoEvent {
  type: "who";
  count: number;
  rooms: { room: string; nicks: string[]; count: number }[];
}

/** The rooms and how many are in each (`/rooms`); `more` rooms were left out. */
export interface RoomsEvent {
  type: "rooms";
  rooms: { room: string; count: number }[];
  more: number;
}

/** A server notice (`*** text`); `room` when it was said to a room. */
export interface NoticeEvent {
  type: "notice";
  text: string;
  room?: string;
}

/** A refusal or failure answering what the user sent. */
export interface ErrorEvent {
  type: "error";
  text: string;
}

/** The greeting of a new connection. */
export interface WelcomeEvent {
  type: "welcome";
  server: string;
  text: string;
  /**
   * The longest line the server takes from this connection, in UTF-8 bytes
   * (`--max-line`); a WebSocket message longer than that closes with 1009.
   * Sent by the WebSocket door, so that a client can refuse a longer line
   * before sending it.
   */
  maxLine?: number;
}

/** You are logged in. */
export interface LoginEvent {
  type: "login";
  nick: string;
  registered: boolean;
  operator: boolean;
}

/** The server asks for a password: hide what is typed until `password-done`. */
export interface PasswordEvent {
  type: "password";
  nick: string;
  text: string;
}

/** The password prompt is over: show what is typed again. */
export interface PasswordDoneEvent {
  type: "password-done";
}

/** Someone was kicked out of a room by an operator. */
export interface KickEvent {
  type: "kick";
  room: string;
  nick: string;
  by: string;
  reason: string;
}

/** Someone changed nick. */
export interface NickEvent {
  type: "nick";
  old: string;
  nick: string;
  at: number;
}

/** Someone is away (`text`), or back (`text` ""): shown to IRC clients with `away-notify`. */
export interface AwayEvent {
  type: "away";
  nick: string;
  text: string;
  at: number;
}

/** The last words of a connection before the server closes it. */
export interface GoodbyeEvent {
  type: "goodbye";
  text: string;
}

/** Every event, by `type`. */
export type ChatEvent =
  | SaidEvent
  | HistoryEvent
  | PrivateEvent
  | MailEvent
  | EnteredEvent
  | LeftEvent
  | CrowdEvent
  | TopicEvent
  | MembersEvent
  | WhoEvent
  | RoomsEvent
  | NoticeEvent
  | ErrorEvent
  | WelcomeEvent
  | LoginEvent
  | PasswordEvent
  | PasswordDoneEvent
  | KickEvent
  | NickEvent
  | AwayEvent
  | GoodbyeEvent;

/** The `type` of every event. */
export type EventType = ChatEvent["type"];

/** A server notice event. */
export function notice(text: string, room?: string): NoticeEvent {
  return room === undefined ? { type: "notice", text } : { type: "notice", text, room };
}

/** An error event (a refusal answering the user). */
export function error(text: string): ErrorEvent {
  return { type: "error", text };
}
