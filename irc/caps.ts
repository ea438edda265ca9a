/**
 * IRCv3 capabilities teaparty offers (`CAP LS`), and the few of them that
 * change how a shared line is written (its tags): those make up a
 * {@linkcode RenderFlags} number, one bit each, so that every receiver with
 * the same set shares one rendering.
 *
 * @example
 * ```ts
 * import { capList, renderFlags } from "./caps.ts";
 * capList(302); // "message-tags server-time ... sasl=PLAIN ..."
 * renderFlags(new Set(["server-time"])); // 2
 * ```
 * @module
 */

/** The capabilities offered, with their 302 values. */
export const CAPS: ReadonlyMap<string, string> = new Map([
  ["message-tags", ""],
  ["server-time", ""],
  ["echo-message", ""],
  ["batch", ""],
  ["account-tag", ""],
  ["away-notify", ""],
  ["multi-prefix", ""],
  ["sasl", "PLAIN"],
  ["draft/chathistory", ""],
]);

/** Bits of the capabilities that change shared lines. */
export const FLAG = {
  /** `message-tags`: `msgid` tags. */
  tags: 1,
  /** `server-time`: `time` tags. */
  time: 2,
  /** `account-tag`: `account` tags. */
  account: 4,
  /** `away-notify`: AWAY lines of others. */
  away: 8,
} as const;

/** A set of {@linkcode FLAG} bits. */
export type RenderFlags = number;

/** The render flags of a set of enabled capabilities. */
export function renderFlags(caps: ReadonlySet<string>): RenderFlags {
  let flags = 0;
  if (caps.has("message-tags")) flags |= FLAG.tags;
  if (caps.has("server-time")) flags |= FLAG.time;
  if (caps.has("account-tag")) flags |= FLAG.account;
  if (caps.has("away-notify")) flags |= FLAG.away;
  return flags;
}

/** The `CAP LS` list: with values for version 302 and later. */
export function capList(version: number): string {
  const out: string[] = [];
  for (const [name, value] of CAPS) out.push(version >= 302 && value ? `${name}=${value}` : name);
  return out.join(" ");
}
