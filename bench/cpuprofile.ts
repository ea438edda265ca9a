/**
 * Summarises a V8 `.cpuprofile` (as written by `deno run --cpu-prof`): the
 * functions with the most self time, and self time per source file.
 *
 * @example
 * ```sh
 * deno run -A bench/run.ts --only burst --cpu-prof     # writes bench/out/prof/*.cpuprofile
 * deno run -A bench/cpuprofile.ts bench/out/prof/xyz.cpuprofile --top 25
 * ```
 * @module
 */
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The parts of a `.cpuprofile` this summary reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function (or one file). */
export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Percent of the busy (non-idle) time. */
  pct: number;
}

/** The summary of one profile. */
export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  functions: SelfTime[];
  files: SelfTime[];
}

function shortUrl(url: string): string {
  if (!url) return "";
  const i = url.lastIndexOf("/main/");
  if (url.startsWith("file://") && i >= 0) return url.slice(i + "/main/".length);
  return url.replace(/^ext:/, "ext:").replace(/^file:\/\//, "");
}

/** Adds up self time per function and per file. */
export function summarise(profile: CpuProfile): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the sample at i is charged the time until the next one.
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + Math.max(0, dt));
  }
  const fn = new Map<string, SelfTime>();
  const file = new Map<string, SelfTime>();
  let totalUs = 0, idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    const name = frame.functionName || "(anonymous)";
    if (name === "(idle)") {
      idleUs += us;
      continue;
    }
    const url = shortUrl(frame.url);
    const where = url ? `${url}:${frame.lineNumber + 1}` : "";
    const key = `${name}@${where}`;
    const f = fn.get(key) ?? { name, where, ms: 0, pct: 0 };
    f.ms += us / 1000;
    fn.set(key, f);
    const fileKey = url || name;
    const g = file.get(fileKey) ?? { name: fileKey, where: "", ms: 0, pct: 0 };
    g.ms += us / 1000;
    file.set(fileKey, g);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const ranked = (m: Map<string, SelfTime>) =>
    [...m.values()].map((s) => ({ ...s, pct: busyMs > 0 ? (100 * s.ms) / busyMs : 0 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: totalUs / 1000, busyMs, functions: ranked(fn), files: ranked(file) };
}

/** The summary as text: the top functions, then the top files. */
export function formatSummary(summary: ProfileSummary, top = 20): string {
  const lines = [
    `profile: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${
      (summary.busyMs / 1000).toFixed(1)
    } s busy (not idle)`,
    "",
    "self time  % busy  function (where)",
  ];
  for (const f of summary.functions.slice(0, top)) {
    lines.push(
      `${f.ms.toFixed(0).padStart(7)} ms  ${f.pct.toFixed(1).padStart(5)}%  ${f.name}${f.where ? ` (${f.where})` : ""}`,
    );
  }
  lines.push("", "self time  % busy  file");
  for (const f of summary.files.slice(0, Math.min(top, 12))) {
    lines.push(`${f.ms.toFixed(0).padStart(7)} ms  ${f.pct.toFixed(1).padStart(5)}%  ${f.name}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { top: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log("Usage: deno run -A bench/cpuprofile.ts FILE.cpuprofile... [--top N]");
    Deno.exit(values.help ? 0 : 2);
  }
  for (const path of positionals) {
    const profile = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
    console.log(`== ${path}`);
    console.log(formatSummary(summarise(profile), Number(values.top ?? 20)));
  }
}
