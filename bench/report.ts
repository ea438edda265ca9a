/**
 * Repeated runs of a scenario (`--runs N`): the figures of each run, their
 * ratios to limit_server's in the same run, the spread (min/median/max) over
 * the runs, and the per-scenario SVG charts (bench/svg.ts) drawn from them.
 *
 * @example
 * ```ts
 * import { spread, formatSpread } from "./report.ts";
 * formatSpread(spread([13.2, 11.0, 15.9]), " ms"); // "11.0/13.2/15.9 ms"
 * ```
 * @module
 */
import { barChart } from "./svg.ts";

/** The figures of one server in one run that the report compares. */
export interface RunFigures {
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  deliveriesPerS?: number;
  cpuPct?: number;
  /** Idle scenarios: RSS growth per connection, KiB. */
  perConnKb?: number;
  /** Server CPU microseconds per write (burst and steady scenarios). */
  cpuUsPerWrite?: number;
  lost?: number;
}

/** One run of a scenario: teaparty's and limit_server's figures. */
export interface ScenarioRun {
  teaparty?: RunFigures;
  limit?: RunFigures;
}

/** The figures a row of the benchmark table carries, in the shape the report needs. */
export interface RowLike {
  p50Ms?: number;
  p99Ms?: number;
  deliveriesPerS?: number;
  cpuPct?: number;
  lost?: number;
  extra: Record<string, unknown>;
  loadgen?: Record<string, unknown>;
}

/** Min, median and max of some values. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

const numOf = (json: Record<string, unknown> | undefined, key: string): number | undefined => {
  const v = json?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
};

/** A row's figures for the report. */
export function figuresOf(row: RowLike): RunFigures {
  const latency = row.p50Ms !== undefined || row.p99Ms !== undefined; // idle rows measure none
  return {
    p50: row.p50Ms,
    p90: latency ? numOf(row.loadgen, "lat_ms_p90") : undefined,
    p99: row.p99Ms,
    p999: latency ? numOf(row.loadgen, "lat_ms_p999") : undefined,
    deliveriesPerS: row.deliveriesPerS,
    cpuPct: row.cpuPct,
    perConnKb: typeof row.extra.perConnKb === "number" ? row.extra.perConnKb : undefined,
    cpuUsPerWrite: typeof row.extra.cpuUsPerWrite === "number" ? row.extra.cpuUsPerWrite : undefined,
    lost: row.lost,
  };
}

/** Min/median/max of the defined, finite values; undefined if there are none. */
export function spread(values: (number | undefined)[]): Spread | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return { min: v[0], median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, max: v[v.length - 1], n: v.length };
}

const short = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 100 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : 1);

/** "min/median/max unit" (one value when there is one run). */
export function formatSpread(s: Spread | undefined, unit = ""): string {
  if (!s) return "—";
  return s.n === 1 ? `${short(s.median)}${unit}` : `${short(s.min)}/${short(s.median)}/${short(s.max)}${unit}`;
}

/** teaparty's figure over limit_server's in the same run. */
export function ratio(run: ScenarioRun, key: keyof RunFigures): number | undefined {
  const a = run.teaparty?.[key], b = run.limit?.[key];
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

/** The figures a scenario is judged by, for its notes and charts. */
const KEYS: { key: keyof RunFigures; label: string; unit: string }[] = [
  { key: "deliveriesPerS", label: "deliveries/s", unit: "" },
  { key: "p50", label: "p50", unit: " ms" },
  { key: "p99", label: "p99", unit: " ms" },
  { key: "cpuPct", label: "CPU", unit: "%" },
  { key: "perConnKb", label: "KiB/conn", unit: " KiB" },
  { key: "cpuUsPerWrite", label: "CPU per write", unit: " µs" },
];

/**
 * Notes for a scenario run several times (or once): each figure's spread for
 * teaparty and limit_server, and the ratio's spread (min/median/max over runs).
 */
export function spreadNotes(runs: ScenarioRun[]): string[] {
  const notes: string[] = [];
  for (const { key, label, unit } of KEYS) {
    const tp = spread(runs.map((r) => r.teaparty?.[key]));
    if (!tp) continue;
    const lim = spread(runs.map((r) => r.limit?.[key]));
    const rat = spread(runs.map((r) => ratio(r, key)));
    notes.push(
      `${label} ${formatSpread(tp, unit)}` + (lim ? ` (limit ${formatSpread(lim, unit)}` : "") +
        (rat ? `; ×limit ${formatSpread(rat)}` : "") + (lim ? ")" : ""),
    );
  }
  return notes.length
    ? [`over ${runs.length} run${runs.length === 1 ? "" : "s"} min/median/max: ${notes.join("; ")}`]
    : [];
}

/** Index of the median of `values` (undefined ones rank last). */
export function medianIndex(values: (number | undefined)[]): number {
  const order = values.map((v, i) => ({ i, v: v ?? Infinity })).sort((a, b) => a.v - b.v);
  return order[(order.length - 1) >> 1].i;
}

/**
 * The SVG charts of one scenario (file name → SVG text): latency percentiles
 * of the median run when it measured latency, and memory per connection for
 * the idle scenarios.
 */
export function scenarioCharts(scenario: string, run: ScenarioRun, subtitle: string): Map<string, string> {
  const charts = new Map<string, string>();
  const series = (pick: (f: RunFigures) => (number | undefined)[]) =>
    [
      { name: "teaparty", values: run.teaparty ? pick(run.teaparty) : [] },
      { name: "limit_server", values: run.limit ? pick(run.limit) : [] },
    ].filter((s) => s.values.some((v) => v !== undefined));
  const latency = series((f) => [f.p50, f.p90, f.p99, f.p999]);
  if (latency.length > 0) {
    charts.set(
      `${scenario}-latency.svg`,
      barChart({
        title: `${scenario}: delivery latency`,
        subtitle,
        unit: "ms",
        groups: ["p50", "p90", "p99", "p99.9"],
        series: latency,
      }),
    );
  }
  const memory = series((f) => [f.perConnKb]);
  if (memory.length > 0) {
    charts.set(
      `${scenario}-memory.svg`,
      barChart({
        title: `${scenario}: memory per idle connection`,
        subtitle,
        unit: "KiB",
        groups: ["RSS growth per connection"],
        series: memory,
      }),
    );
  }
  return charts;
}
