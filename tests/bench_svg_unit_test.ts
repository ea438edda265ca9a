import assert from "node:assert/strict";
import { barChart, escapeXml, formatValue, niceMax } from "../bench/svg.ts";

const chart = () =>
  barChart({
    title: "steady-5 <latency> & more",
    subtitle: "run 2026-12-03",
    unit: "ms",
    groups: ["p50", "p90", "p99", "p99.9"],
    series: [
      { name: "teaparty", values: [5.9, 9.1, 13.2, 40] },
      { name: "limit_server", values: [5.2, 8.8, undefined, 18] },
    ],
  });

Deno.test("a chart is one SVG document with a bar per measured value, each labelled with its figure", () => {
  const svg = chart();
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  const bars = [...svg.matchAll(/<rect class="bar" [^>]*height="([\d.]+)"/g)];
  assert.equal(bars.length, 7, "7 measured values, one missing");
  for (const label of ["5.90", "9.10", "13.2", "40.0", "5.20", "8.80", "18.0"]) {
    assert.ok(svg.includes(`>${label}<`), label);
  }
  assert.ok(svg.includes(">—<"), "the missing value is shown as a dash");
  for (const group of ["p50", "p90", "p99", "p99.9", "teaparty", "limit_server"]) assert.ok(svg.includes(`>${group}<`));
});

Deno.test("bar heights are proportional to the values on an axis that starts at 0", () => {
  const svg = chart();
  const heights = [...svg.matchAll(/class="bar" [^>]*height="([\d.]+)" fill="#d9480f"/g)].map((m) => Number(m[1]));
  assert.equal(heights.length, 4);
  assert.ok(Math.abs(heights[3] / heights[0] - 40 / 5.9) < 0.05, `${heights}`);
});

Deno.test("text is escaped, so a title with markup cannot break the document", () => {
  const svg = chart();
  assert.ok(svg.includes("steady-5 &lt;latency&gt; &amp; more"));
  assert.ok(!svg.includes("<latency>"));
  assert.equal(escapeXml(`a"b'c`), "a&quot;b&#39;c");
});

Deno.test("axis tops are round numbers at or above the largest value", () => {
  assert.equal(niceMax(40), 50);
  assert.equal(niceMax(13.2), 20);
  assert.equal(niceMax(100), 100);
  assert.equal(niceMax(0), 1);
  assert.equal(formatValue(2_810_000), "2.81M");
  assert.equal(formatValue(50_335), "50,335");
  assert.equal(formatValue(6.854), "6.85");
});
