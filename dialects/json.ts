/**
 * The JSON dialect of the WebSocket door: each event is one JSON object in
 * one WebSocket text frame. The object has the event's fields (see
 * events.ts and the README's table), with `type` first and the time `at`
 * (milliseconds) written as `time` (ISO 8601, UTC). Server frames are not
 * masked, so the frame, header included, is rendered once and shared by
 * every WebSocket receiver.
 *
 * @example
 * ```ts
 * import { eventJson } from "./json.ts";
 * eventJson({ type: "chat", room: "main", nick: "alice", text: "hi", at: 0 });
 * // '{"type":"chat","room":"main","nick":"alice","text":"hi","time":"1970-01-01T00:00:00.000Z"}'
 * ```
 * @module
 */
import type { ChatEvent } from "../events.ts";
import { type Dialect, dialectId } from "./dialect.ts";
import { textFraming } from "../wire/websocket.ts";
import { lineSlab } from "../byte_slab.ts";

/** An event as the JSON text the WebSocket door sends. */
export function eventJson(event: ChatEvent): string {
  if (!("at" in event)) return JSON.stringify(event);
  const { at, ...rest } = event;
  return JSON.stringify({ ...rest, time: new Date(at).toISOString() });
}

/** The JSON dialect: one event, one text frame. */
export const json: Dialect = {
  id: dialectId(),
  name: "json",
  render(event: ChatEvent): Uint8Array {
    return lineSlab.encode(eventJson(event), textFraming); // one text frame, beside the frames rendered before it
  },
};
