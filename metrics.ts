/**
 * Metrics in the Prometheus text exposition format (`GET /metrics` on the
 * HTTP door). Counters are bumped on hot paths, so an increment is one
 * number added; a labelled counter hands out a child per label set, made
 * once and kept. Gauges are read when scraped, from a callback.
 *
 * @example
 * ```ts
 * import { Counter, Metrics } from "./metrics.ts";
 * const lines = new Counter("chat_lines_total", "Lines received.", ["door"]);
 * lines.labels("telnet").inc();
 * const metrics = new Metrics().add(lines).gauge("chat_users", "Users logged in.", [], () => 3);
 * metrics.render(); // "# HELP chat_lines_total Lines received.\n# TYPE chat_lines_total counter\n…"
 * ```
 * @module
 */

/** One labelled series of a counter. */
export interface CounterChild {
  /** Adds `by` (default 1). */
  inc(by?: number): void;
  /** The current value. */
  readonly value: number;
}

class Child implements CounterChild {
  value = 0;
  readonly labels: readonly string[];
  constructor(labels: readonly string[]) {
    this.labels = labels;
  }
  inc(by = 1): void {
    this.value += by;
  }
}

/** A counter: only goes up (per process). */
export class Counter implements CounterChild {
  /** Its name, e.g. `teaparty_lines_received_total`. */
  readonly name: string;
  /** Its HELP text. */
  readonly help: string;
  /** Its label names (none for a plain counter). */
  readonly labelNames: readonly string[];
  #plain = new Child([]);
  #children = new Map<string, Child>();

  /** A counter `name` with `help`, labelled by `labelNames`. */
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    checkName(name);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** Adds `by` to the unlabelled series. */
  inc(by = 1): void {
    this.#plain.value += by;
  }

  /** The unlabelled series' value. */
  get value(): number {
    return this.#plain.value;
  }

  /** The series for these label values (made once, then the same object: keep it to count on hot paths). */
  labels(...values: string[]): CounterChild {
    if (values.length !== this.labelNames.length) {
      throw new RangeError(`${this.name} takes ${this.labelNames.length} label values, not ${values.length}`);
    }
    const key = values.join("\u0000");
    let child = this.#children.get(key);
    if (!child) this.#children.set(key, child = new Child(values));
    return child;
  }

  /** Every series: label values and value. */
  samples(): [readonly string[], number][] {
    if (this.labelNames.length === 0) return [[[], this.#plain.value]];
    return [...this.#children.values()].map((c) => [c.labels, c.value]);
  }
}

interface Gauge {
  type: "gauge" | "counter";
  name: string;
  help: string;
  labelNames: readonly string[];
  collect: () => number | Iterable<[readonly string[], number]>;
}

/** A set of metrics rendered together. */
export class Metrics {
  #counters: Counter[] = [];
  #gauges: Gauge[] = [];

  /** Adds counters (their values live in the counters; they may be shared by several sets). */
  add(...counters: Counter[]): this {
    this.#counters.push(...counters);
    return this;
  }

  /** Adds a gauge read by `collect` at each scrape: one value, or values per label set. */
  gauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: () => number | Iterable<[readonly string[], number]>,
  ): this {
    checkName(name);
    this.#gauges.push({ type: "gauge", name, help, labelNames, collect });
    return this;
  }

  /** Adds a counter whose values are kept elsewhere and read by `collect` at each scrape. */
  counted(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: () => number | Iterable<[readonly string[], number]>,
  ): this {
    checkName(name);
    this.#gauges.push({ type: "counter", name, help, labelNames, collect });
    return this;
  }

  /** The text exposition format: HELP, TYPE and samples for each metric, in the order added. */
  render(): string {
    const out: string[] = [];
    for (const c of this.#counters) {
      out.push(`# HELP ${c.name} ${escapeHelp(c.help)}`, `# TYPE ${c.name} counter`);
      for (const [labels, value] of c.samples()) out.push(sample(c.name, c.labelNames, labels, value));
    }
    for (const g of this.#gauges) {
      out.push(`# HELP ${g.name} ${escapeHelp(g.help)}`, `# TYPE ${g.name} ${g.type}`);
      const collected = g.collect();
      if (typeof collected === "number") out.push(sample(g.name, [], [], collected));
      else for (const [labels, value] of collected) out.push(sample(g.name, g.labelNames, labels, value));
    }
    return out.join("\n") + "\n";
  }
}

function checkName(name: string): void {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new RangeError(`"${name}" is not a valid metric name`);
}

function sample(name: string, labelNames: readonly string[], labels: readonly string[], value: number): string {
  const shown = Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";
  if (labelNames.length === 0) return `${name} ${shown}`;
  const pairs = labelNames.map((n, i) => `${n}="${escapeLabel(labels[i] ?? "")}"`).join(",");
  return `${name}{${pairs}} ${shown}`;
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}
