/**
 * What `/proc` says about a process the benchmarks started: its CPU time.
 *
 * @example
 * ```ts
 * import { cpuSeconds } from "./proc.ts";
 * const used = await cpuSeconds(Deno.pid); // user + system time of this process so far
 * ```
 * @module
 */

/** Clock ticks per second in `/proc/PID/stat` (USER_HZ on Linux). */
export const CLOCK_TICKS = 100;

/** CPU seconds (user + system, every thread) a process has used so far; NaN if it cannot be read (it is gone). */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
