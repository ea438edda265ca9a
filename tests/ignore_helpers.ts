/**
 * Helpers for /ignore tests over real sockets: whether amy saw a line or a
 * private message, told by a marker line sent after it (seen by all).
 * @module
 */
import type { TestClient } from "./helpers.ts";

/** `who` says `text`; returns whether `amy` saw it, using a line of `marker` (seen by all) as the end. */
export async function amySees(
  amy: TestClient,
  who: TestClient,
  whoNick: string,
  marker: TestClient,
  text: string,
): Promise<boolean> {
  who.send(text);
  await who.waitFor(`${whoNick}: ${text}`);
  const end = `end of ${text}`;
  marker.send(end);
  const lines = await amy.until((l) => l.endsWith(`: ${end}`));
  return lines.includes(`${whoNick}: ${text}`);
}

/** `who` sends amy a private message; returns whether amy got it (before carol's private marker). */
export async function amyGetsPrivate(
  amy: TestClient,
  who: TestClient,
  whoNick: string,
  carol: TestClient,
  text: string,
): Promise<boolean> {
  who.send(`@amy ${text}`);
  await who.waitFor((l) => l.startsWith("[private to amy]") || l.startsWith("***"));
  carol.send(`@amy after ${text}`);
  const lines = await amy.until(`[private] carol: after ${text}`);
  return lines.includes(`[private] ${whoNick}: ${text}`);
}
