/**
 * Waiting for a quiet machine before a benchmark run: the host is shared, and
 * someone else's test suite on one of its two cores makes any latency figure
 * meaningless. Reads the host's CPU time from `/proc/stat`.
 *
 * @example
 * ```ts
 * import { waitForQuiet } from "./quiet.ts";
 * const waited = await waitForQuiet({ maxCores: 0.25, forS: 3, timeoutS: 60 });
 * console.log(waited.quiet ? "quiet" : `still busy (${waited.cores.toFixed(1)} cores)`);
 * ```
 * @module
 */

/** Busy and total CPU time of the whole host so far, in clock ticks (from the `cpu` line of /proc/stat). */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Parses the first (`cpu`) line of /proc/stat; iowait and idle count as not busy. */
export function parseCpuTimes(stat: string): CpuTimes | undefined {
  const m = /^cpu\s+([\d\s]+)$/m.exec(stat);
  if (!m) return undefined;
  const f = m[1].trim().split(/\s+/).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal; guest time is inside user
  const idle = f[3] + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** Cores busy between two readings of a host with `cpus` cores. */
export function coresBusy(a: CpuTimes, b: CpuTimes, cpus: number): number {
  const total = b.total - a.total;
  return total > 0 ? (cpus * (b.busy - a.busy)) / total : 0;
}

/** How a wait for quiet went. */
export interface QuietWait {
  /** Whether the host was quiet at the end. */
  quiet: boolean;
  /** Seconds waited. */
  waitedS: number;
  /** Cores busy in the last second sampled. */
  cores: number;
}

/**
 * Waits until the host has used less than `maxCores` for `forS` seconds in a
 * row (sampled each second), or `timeoutS` passed. Resolves at once on hosts
 * without /proc/stat.
 */
export async function waitForQuiet(
  opts: { maxCores: number; forS: number; timeoutS: number },
): Promise<QuietWait> {
  const read = async () => parseCpuTimes(await Deno.readTextFile("/proc/stat").catch(() => ""));
  const cpus = navigator.hardwareConcurrency || 1;
  const began = performance.now();
  let last = await read();
  if (!last) return { quiet: true, waitedS: 0, cores: 0 };
  let calm = 0;
  let cores = 0;
  while ((performance.now() - began) / 1000 < opts.timeoutS) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await read();
    if (!now) break;
    cores = coresBusy(last, now, cpus);
    last = now;
    calm = cores < opts.maxCores ? calm + 1 : 0;
    if (calm >= opts.forS) return { quiet: true, waitedS: (performance.now() - began) / 1000, cores };
  }
  return { quiet: false, waitedS: (performance.now() - began) / 1000, cores };
}
