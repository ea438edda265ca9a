/**
 * What a benchmark scenario is, apart from the runner that runs them all
 * (bench/run.ts) and the modules that add scenarios (bench/cluster.ts):
 * the scenario names, a result row, its goals, and the context a scenario
 * runs in.
 *
 * @example
 * ```ts
 * import { SCENARIOS } from "./scenario.ts";
 * console.log(SCENARIOS.includes("burst")); // true
 * ```
 * @module
 */

/** The scenario names, in the order they run. */
export const SCENARIOS = [
  "burst",
  "steady-5",
  "steady-50",
  "crowd",
  "idle",
  "idle-plain",
  "stuck",
  "startup",
  "irc-burst",
  "irc-crowd",
  "ws-burst",
  "ws-crowd",
  "ws-idle",
  "mixed",
  "tls-burst",
  "cluster-crowd",
  "cluster-burst",
  "cluster-latency",
] as const;
/** One scenario name. */
export type ScenarioName = typeof SCENARIOS[number];
/** Which server a row measured. */
export type ServerKind = "teaparty" | "limit" | "ngircd";

/** One goal and how it went. */
export interface Goal {
  /** What is required, e.g. "≥1.5M deliveries/s". */
  name: string;
  /** Whether the measurement meets it. */
  pass: boolean;
  /** The measured value, as shown. */
  measured: string;
}

/** One line of the result table: one scenario on one server. */
export interface Row {
  scenario: ScenarioName;
  server: ServerKind;
  /** Message deliveries per second in the measured window. */
  deliveriesPerS?: number;
  /** Delivery latency percentiles in milliseconds. */
  p50Ms?: number;
  p99Ms?: number;
  /** Lost deliveries (percent and count). */
  lossPct?: number;
  lost?: number;
  /** Server CPU in the measured window, percent of one core. */
  cpuPct?: number;
  /** Server resident memory at the end of the run, KiB. */
  rssKb?: number;
  /** teaparty / limit for the figure named in `ratioOf`. */
  ratio?: number;
  ratioOf?: string;
  /** Scenario-specific figures. */
  notes: string[];
  /** Goals (teaparty rows only). */
  goals: Goal[];
  /** Why the run failed, if it did. */
  error?: string;
  /** Scenario-specific numbers for `--json`. */
  extra: Record<string, unknown>;
  /** The load generator's JSON object, if it ran. */
  loadgen?: Record<string, unknown>;
}

/** The benchmark's command line. */
export interface Cli {
  quick: boolean;
  cpuProf: boolean;
  only: ScenarioName[];
  db?: string;
  json: boolean;
  out?: string;
  /** Extra teaparty flags (--server-flags). */
  serverFlags: string[];
  /** Longest wait, in seconds, for a quiet host before each server's run (--quiet-wait). */
  quietWait: number;
  /** Runs of each scenario (--runs); the table shows the median run and the spread. */
  runs: number;
  /** Where the SVG charts go (--charts). */
  charts: string;
}

/** The built load generator and limit_server. */
export interface Tools {
  loadgen: string;
  limit: string;
}

/** What a scenario runs with. */
export interface Context {
  cli: Cli;
  tools: Tools;
  quick: boolean;
}

/** Runs a scenario on one server; resolves to its row. */
export type Runner = (ctx: Context, kind: ServerKind) => Promise<Row>;

/** One scenario: how it runs, on which servers, and its goals. */
export interface Scenario {
  name: ScenarioName;
  run: Runner;
  /** Which servers it runs on (given quick mode). */
  servers: (quick: boolean) => ServerKind[];
  /** The figure compared in the teaparty/limit column. */
  ratio?: { of: string; get: (row: Row) => number | undefined };
  /** Goals, judged on the teaparty row (and the limit row, if any). */
  goals: (tp: Row, limit: Row | undefined, quick: boolean, earlier: readonly Row[]) => Goal[];
}
