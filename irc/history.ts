/**
 * IRCv3 `draft/chathistory`: reading a `CHATHISTORY` request and answering
 * it from the store. Message references are `msgid=N` (teaparty's stored
 * message ids; a long line cut into pieces for IRC has `N.2`, `N.3` … after
 * the first) or `timestamp=2026-11-23T16:58:10.123Z`; bounds are exclusive,
 * and messages always come oldest first.
 *
 * @example
 * ```ts
 * import { parseHistoryRequest } from "./history.ts";
 * const q = parseHistoryRequest(["BEFORE", "#main", "msgid=42", "10"]);
 * "sub" in q && q.sub; // "BEFORE"
 * ```
 * @module
 */
import type { StoredMessage } from "../store.ts";
import { CHATHISTORY_LIMIT } from "./isupport.ts";

/** A point in a room's history. */
export type HistoryRef = { kind: "msgid"; id: number } | { kind: "timestamp"; at: number } | { kind: "latest" };

/** The subcommands that read messages. */
export type HistorySub = "LATEST" | "BEFORE" | "AFTER" | "AROUND" | "BETWEEN";

/** A parsed request for messages. */
export interface HistoryQuery {
  sub: HistorySub;
  target: string;
  from: HistoryRef;
  /** The second reference of BETWEEN. */
  to?: HistoryRef;
  limit: number;
}

/** A parsed TARGETS request. */
export interface TargetsQuery {
  sub: "TARGETS";
  from: number;
  to: number;
  limit: number;
}

/** Why a request is refused: the FAIL code, its context parameters and a sentence. */
export interface HistoryRefusal {
  code: "NEED_MORE_PARAMS" | "INVALID_PARAMS" | "UNKNOWN_COMMAND";
  context: string[];
  text: string;
}

/** Where the messages come from: `Store.within`. */
export interface HistorySource {
  within(
    room: string,
    bounds: { afterId?: number; beforeId?: number; afterAt?: number; beforeAt?: number },
    limit: number,
    newest: boolean,
  ): StoredMessage[] | Promise<StoredMessage[]>;
}

/** Reads `msgid=N`, `timestamp=ISO` or (if `star`) `*`. */
export function parseRef(text: string, star: boolean): HistoryRef | undefined {
  if (text === "*") return star ? { kind: "latest" } : undefined;
  const eq = text.indexOf("=");
  if (eq === -1) return undefined;
  const kind = text.slice(0, eq).toLowerCase();
  const value = text.slice(eq + 1);
  if (kind === "msgid") {
    const m = /^(\d{1,15})(?:\.\d{1,4})?$/.exec(value);
    return m ? { kind: "msgid", id: Number(m[1]) } : undefined;
  }
  if (kind === "timestamp") {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) return undefined;
    const at = Date.parse(value);
    return Number.isFinite(at) ? { kind: "timestamp", at } : undefined;
  }
  return undefined;
}

function parseLimit(text: string): number | undefined {
  if (!/^\d{1,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 ? Math.min(n, CHATHISTORY_LIMIT) : undefined;
}

/** Reads the parameters of `CHATHISTORY`; a limit above {@linkcode CHATHISTORY_LIMIT} is lowered to it. */
export function parseHistoryRequest(params: readonly string[]): HistoryQuery | TargetsQuery | HistoryRefusal {
  const sub = (params[0] ?? "").toUpperCase();
  const need = (n: number): HistoryRefusal | undefined =>
    params.length < n
      ? { code: "NEED_MORE_PARAMS", context: [sub || "*"], text: "Insufficient parameters" }
      : undefined;
  const invalid = (what: string): HistoryRefusal => ({ code: "INVALID_PARAMS", context: [sub], text: what });
  switch (sub) {
    case "LATEST":
    case "BEFORE":
    case "AFTER":
    case "AROUND": {
      const missing = need(4);
      if (missing) return missing;
      const from = parseRef(params[2], sub === "LATEST");
      if (!from) return invalid(`"${params[2]}" is not a message reference: use msgid=<id> or timestamp=<ISO time>`);
      const limit = parseLimit(params[3]);
      if (limit === undefined) return invalid(`"${params[3]}" is not a limit (a whole number from 1)`);
      return { sub, target: params[1], from, limit };
    }
    case "BETWEEN": {
      const missing = need(5);
      if (missing) return missing;
      const from = parseRef(params[2], false);
      const to = parseRef(params[3], false);
      if (!from || !to) return invalid("BETWEEN needs two references: msgid=<id> or timestamp=<ISO time>");
      const limit = parseLimit(params[4]);
      if (limit === undefined) return invalid(`"${params[4]}" is not a limit (a whole number from 1)`);
      return { sub, target: params[1], from, to, limit };
    }
    case "TARGETS": {
      const missing = need(4);
      if (missing) return missing;
      const from = parseRef(params[1], false);
      const to = parseRef(params[2], false);
      if (from?.kind !== "timestamp" || to?.kind !== "timestamp") return invalid("TARGETS needs two timestamps");
      const limit = parseLimit(params[3]);
      if (limit === undefined) return invalid(`"${params[3]}" is not a limit (a whole number from 1)`);
      return { sub, from: from.at, to: to.at, limit };
    }
    case "":
      return { code: "NEED_MORE_PARAMS", context: ["*"], text: "Insufficient parameters" };
    default:
      return { code: "UNKNOWN_COMMAND", context: [sub], text: "Unknown CHATHISTORY subcommand" };
  }
}

/** Bounds strictly after a reference. */
function after(ref: HistoryRef): { afterId?: number; afterAt?: number } {
  return ref.kind === "msgid" ? { afterId: ref.id } : ref.kind === "timestamp" ? { afterAt: ref.at } : {};
}

/** Bounds strictly before a reference. */
function before(ref: HistoryRef): { beforeId?: number; beforeAt?: number } {
  return ref.kind === "msgid" ? { beforeId: ref.id } : ref.kind === "timestamp" ? { beforeAt: ref.at } : {};
}

/** Bounds from a reference on, itself included. */
function from(ref: HistoryRef): { afterId?: number; afterAt?: number } {
  return ref.kind === "msgid" ? { afterId: ref.id - 1 } : ref.kind === "timestamp" ? { afterAt: ref.at - 1 } : {};
}

/** Whether reference `a` is later than `b` (a msgid and a time compare by id order only when alike). */
function later(a: HistoryRef, b: HistoryRef): boolean {
  if (a.kind === "msgid" && b.kind === "msgid") return a.id > b.id;
  if (a.kind === "timestamp" && b.kind === "timestamp") return a.at > b.at;
  return false;
}

/** The messages a request asks for from the room with key `room`, oldest first. */
export async function readHistory(source: HistorySource, room: string, q: HistoryQuery): Promise<StoredMessage[]> {
  switch (q.sub) {
    case "LATEST":
      return await source.within(room, after(q.from), q.limit, true);
    case "BEFORE":
      return await source.within(room, before(q.from), q.limit, true);
    case "AFTER":
      return await source.within(room, after(q.from), q.limit, false);
    case "AROUND": {
      const older = await source.within(room, before(q.from), Math.floor(q.limit / 2), true);
      const newer = await source.within(room, from(q.from), q.limit - older.length, false);
      return [...older, ...newer];
    }
    case "BETWEEN": {
      const to = q.to!;
      if (later(q.from, to)) return await source.within(room, { ...after(to), ...before(q.from) }, q.limit, true);
      return await source.within(room, { ...after(q.from), ...before(to) }, q.limit, false);
    }
  }
}
