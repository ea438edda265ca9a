/**
 * Connecting to Redis with the `redis` npm client: a bounded number of tries
 * at start-up (the client would retry forever), then reconnection with a
 * growing pause (at most a second) for as long as the node runs.
 *
 * @example
 * ```ts
 * import { openRedis } from "./redis.ts";
 * export async function hello(url = "redis://127.0.0.1:6379/0"): Promise<void> {
 *   const redis = await openRedis(url);
 *   await redis.publish("tp:presence", "{}");
 *   await redis.close();
 * }
 * ```
 * @module
 */
import { createClient } from "redis";

/** A connected client. */
export type Redis = ReturnType<typeof createClient>;

/** The environment variables the client reads; without leave to read them its connect() never ends. */
export const REDIS_ENV = ["REDIS_DEBUG_MAINTENANCE", "REDIS_EMIT_DIAGNOSTICS"] as const;

/** Tries at start-up before giving up. */
export const START_TRIES = 4;

/**
 * What a connection reports after it first connected. Closing it here
 * (`close()`, `destroy()`) is not an outage and reports nothing.
 */
export interface RedisWatcher {
  /** The connection broke (called once per outage). */
  down?(error: string): void;
  /** It is back. */
  up?(): void;
}

/** Throws a one-line Error unless the process may read {@linkcode REDIS_ENV}. */
export function checkPermissions(): void {
  for (const variable of REDIS_ENV) {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") {
      throw new Error(`--redis needs --allow-env=${REDIS_ENV.join(",")} (the Redis client reads them)`);
    }
  }
}

/**
 * Connects to `url`, giving up with a one-line Error after
 * {@linkcode START_TRIES} tries; afterwards it reconnects by itself and
 * tells `watcher` of outages (not of its own `close()`).
 */
export async function openRedis(url: string, watcher: RedisWatcher = {}, name = "teaparty"): Promise<Redis> {
  checkPermissions();
  let connected = false;
  let down = false;
  let last = "";
  const client = createClient({
    url,
    name,
    // While Redis is away a command fails at once (the sender is told) rather than waiting unseen.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries: number, cause: Error) => {
        last = cause?.message ?? String(cause);
        if (!connected && retries >= START_TRIES - 1) return new Error(last);
        return Math.min(1000, 50 * 2 ** Math.min(retries, 5));
      },
    },
  });
  client.on("error", (error: Error) => {
    last = error.message;
    if (connected && !down) {
      down = true;
      watcher.down?.(error.message);
    }
  });
  // No "end" handler: the client ends only when closed here (close(), destroy()), since once connected the
  // reconnect strategy never gives up; a connection that Redis drops or loses is an "error", then reconnected.
  client.on("ready", () => {
    if (connected && down) {
      down = false;
      watcher.up?.();
    }
    connected = true;
  });
  try {
    await client.connect();
  } catch (error) {
    const why = last || (error as Error).message;
    try {
      client.destroy();
    } catch { /* not open */ }
    throw new Error(`cannot reach Redis at ${url}: ${why} (gave up after ${START_TRIES} tries)`);
  }
  connected = true;
  return client as Redis;
}
