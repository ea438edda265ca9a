/**
 * Processes the benchmarks start: the shell line that starts one under a
 * raised open-files limit, and its CPU time as `/proc` says.
 *
 * @example
 * ```ts
 * import { cpuSeconds } from "./proc.ts";
 * const used = await cpuSeconds(Deno.pid); // user + system time of this process so far
 * ```
 * @module
 */

/**
 * `bash -c` script that raises the open-files limit (to 65536, or the hard
 * limit if lower) and then runs its arguments: `["-c", RAISE_AND_EXEC, name, command, ...args]`.
 */
export const RAISE_AND_EXEC = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

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
