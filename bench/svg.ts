/**
 * SVG charts of one benchmark scenario, drawn from the run's own figures:
 * grouped bars of latency percentiles (p50, p90, p99, p99.9) for teaparty and
 * limit_server side by side, or bars of one figure (memory per connection,
 * deliveries/s) per server. Plain SVG text, no dependencies; every number
 * shown is printed on its bar.
 *
 * @example
 * ```ts
 * import { barChart } from "./svg.ts";
 * const svg = barChart({
 *   title: "steady-5: delivery latency",
 *   unit: "ms",
 *   groups: ["p50", "p90", "p99", "p99.9"],
 *   series: [{ name: "teaparty", values: [5.9, 9.1, 13.2, 20.4] }, { name: "limit_server", values: [5.2, 8.8, 13.2, 18] }],
 * });
 * svg.startsWith("<svg"); // true: write it to a file, or put it in a page
 * ```
 * @module
 */

/** One server's values, one per group (undefined: not measured). */
export interface ChartSeries {
  name: string;
  values: (number | undefined)[];
}

/** A grouped bar chart. */
export interface BarChart {
  title: string;
  /** Unit of the values, shown on the axis and after each value. */
  unit: string;
  /** Group labels along the x axis (percentiles, or one label). */
  groups: string[];
  series: ChartSeries[];
  /** A line under the title (the run's date, the machine). */
  subtitle?: string;
}

const COLORS = ["#d9480f", "#1c7ed6", "#2f9e44", "#7048e8"];
const WIDTH = 640;
const HEIGHT = 320;
const MARGIN = { top: 56, right: 16, bottom: 48, left: 56 };

/** Escapes text for SVG content and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A value as shown on a bar: 3 significant digits, thousands with a comma. */
export function formatValue(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1000) return Math.round(v).toLocaleString("en-US");
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A "nice" axis top at or above `max` (1, 2 or 5 times a power of ten). */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** Draws a grouped bar chart as an SVG document. */
export function barChart(chart: BarChart): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const all = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const top = niceMax(Math.max(0, ...all));
  const groupW = plotW / Math.max(1, chart.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, chart.series.length);
  const y = (v: number) => MARGIN.top + plotH - (plotH * v) / top;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  if (chart.subtitle) {
    out.push(`<text x="${MARGIN.left}" y="37" fill="#555">${escapeXml(chart.subtitle)}</text>`);
  }
  for (let i = 0; i <= 4; i++) { // grid lines and axis labels
    const v = (top * i) / 4;
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" ` +
        `stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${
        String(Number(v.toPrecision(3)))
      }</text>`,
    );
  }
  out.push(
    `<text x="14" y="${MARGIN.top + plotH / 2}" transform="rotate(-90 14 ${MARGIN.top + plotH / 2})" ` +
      `text-anchor="middle" fill="#555">${escapeXml(chart.unit)}</text>`,
  );
  chart.groups.forEach((group, g) => {
    const x0 = MARGIN.left + g * groupW + groupW * 0.1;
    chart.series.forEach((series, s) => {
      const v = series.values[g];
      const x = x0 + s * barW;
      if (v === undefined || !Number.isFinite(v)) {
        out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${y(0) - 4}" text-anchor="middle" fill="#999">—</text>`);
        return;
      }
      const h = Math.max(0, y(0) - y(v));
      out.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${
          h.toFixed(1)
        }" ` +
          `fill="${COLORS[s % COLORS.length]}"><title>${escapeXml(`${series.name} ${group}: ${v} ${chart.unit}`)}` +
          `</title></rect>`,
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" ` +
          `font-size="10">${escapeXml(formatValue(v))}</text>`,
      );
    });
    out.push(
      `<text x="${(MARGIN.left + g * groupW + groupW / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" ` +
        `text-anchor="middle">${escapeXml(group)}</text>`,
    );
  });
  chart.series.forEach((series, s) => { // legend
    const x = MARGIN.left + s * 150;
    const ly = HEIGHT - 14;
    out.push(
      `<rect x="${x}" y="${ly - 10}" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`,
      `<text x="${x + 17}" y="${ly}">${escapeXml(series.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
