/**
 * What the nodes of a cluster say to one another through Redis: the names of
 * the keys and channels, and the messages (JSON) on them.
 *
 * - `tp:presence` (every node listens): users logging in and out, entering
 *   and leaving rooms, changing nick; each node turns them into the
 *   entries, leaves and nick changes its own users see.
 * - `tp:room:<key>` (a node listens while one of its users is in the room):
 *   room lines and announcements, rendered by each node for its members.
 * - `tp:node:<id>`: what is meant for one node (private messages to its
 *   users, a nick taken back with the password).
 * - `tp:users:<id>` (hash, nick key → {@linkcode UserRecord}): each node's
 *   users, read by a node when it starts or resynchronises.
 * - `tp:alive:<id>` (a lease the node renews), `tp:nodes` (set of ids),
 *   `tp:nick:<key>` (the node holding a nick, with a lease) and
 *   `tp:nicks:<id>` (the nick keys a node holds).
 *
 * @example
 * ```ts
 * import { roomChannel } from "./protocol.ts";
 * roomChannel("main"); // "tp:room:main"
 * ```
 * @module
 */
import type { ChatEvent } from "../events.ts";

/** The channel every node listens to for presence. */
export const PRESENCE = "tp:presence";
/** The set of node ids. */
export const NODES = "tp:nodes";

/** The channel of a room (by key). */
export function roomChannel(key: string): string {
  return `tp:room:${key}`;
}
/** The channel of one node. */
export function nodeChannel(id: string): string {
  return `tp:node:${id}`;
}
/** The hash of a node's users. */
export function usersKey(id: string): string {
  return `tp:users:${id}`;
}
/** A node's lease: present while the node lives. */
export function aliveKey(id: string): string {
  return `tp:alive:${id}`;
}
/** The prefix of nick claims (`tp:nick:<key>` holds the node id). */
export const NICK_PREFIX = "tp:nick:";
/** The set of nick keys a node holds. */
export function nicksKey(id: string): string {
  return `tp:nicks:${id}`;
}

/** What the other nodes know of a user. */
export interface UserRecord {
  nick: string;
  key: string;
  registered: boolean;
  operator: boolean;
  away: string;
  since: number;
  /** The door the user came through (telnet, websocket, irc …). */
  door: string;
  /** The names of the rooms the user is in. */
  rooms: string[];
}

/** A presence message (on {@linkcode PRESENCE}); `n` is the sending node. */
export type PresenceMessage =
  | { t: "in"; n: string; u: UserRecord }
  | { t: "out"; n: string; k: string }
  | { t: "join"; n: string; k: string; r: string }
  | { t: "part"; n: string; k: string; r: string; q: boolean; why?: string }
  | { t: "nick"; n: string; k: string; u: UserRecord }
  | { t: "bye"; n: string }
  | { t: "sync"; n: string };

/** A room message (on a room channel): an event for room `r` (a key), with the sender's key for a room line. */
export interface RoomMessage {
  n: string;
  r: string;
  e: ChatEvent;
  f?: string;
}

/** A message for one node (on its channel). */
export type NodeMessage =
  | { t: "tell"; n: string; k: string; e: ChatEvent }
  | { t: "evict"; n: string; k: string }
  | { t: "kick"; n: string; k: string; r: string; by: string; why: string; irc: boolean };

/**
 * Event types each node makes itself from presence (entries, leaves, their
 * crowd summaries and nick changes), so they are never passed on as room events.
 */
export const PRESENCE_EVENTS: ReadonlySet<string> = new Set(["entered", "left", "crowd", "nick"]);
