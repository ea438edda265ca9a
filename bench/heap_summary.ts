/**
 * Summarises a V8 heap snapshot (`.heapsnapshot`, as written by
 * `v8.writeHeapSnapshot` from `node:v8` or DevTools) by object type: count and
 * self size per constructor name, and the difference between two snapshots
 * divided by a number of connections (what one more connection costs).
 *
 * @example
 * ```sh
 * deno run -A bench/heap_summary.ts before.heapsnapshot after.heapsnapshot 10000
 * ```
 * @module
 */

/** Count and bytes of one kind of object. */
export interface HeapKind {
  /** The node type and constructor name, e.g. "object TcpConn", "closure readLines". */
  kind: string;
  count: number;
  bytes: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

/** Adds up a snapshot's nodes by type and name (names of strings and numbers are left out). */
export function summariseHeap(snapshot: Snapshot): Map<string, HeapKind> {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const typeAt = fields.indexOf("type"), nameAt = fields.indexOf("name"), sizeAt = fields.indexOf("self_size");
  const out = new Map<string, HeapKind>();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]] ?? "?";
    const name = type === "string" || type === "number" || type === "concatenated string" || type === "sliced string"
      ? ""
      : strings[nodes[i + nameAt]] ?? "";
    const kind = `${type} ${name.length > 60 ? name.slice(0, 57) + "..." : name}`.trim();
    const entry = out.get(kind) ?? { kind, count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt];
    out.set(kind, entry);
  }
  return out;
}

/** What `after` holds beyond `before`, per kind, biggest first. */
export function heapGrowth(before: Map<string, HeapKind>, after: Map<string, HeapKind>): HeapKind[] {
  const out: HeapKind[] = [];
  for (const [kind, a] of after) {
    const b = before.get(kind);
    const grown = { kind, count: a.count - (b?.count ?? 0), bytes: a.bytes - (b?.bytes ?? 0) };
    if (grown.bytes !== 0 || grown.count !== 0) out.push(grown);
  }
  return out.sort((x, y) => y.bytes - x.bytes);
}

/** A table of the biggest kinds, per `per` (e.g. per connection). */
export function formatGrowth(growth: HeapKind[], per: number, top = 25): string {
  const total = growth.reduce((n, g) => n + g.bytes, 0);
  const lines = [`total ${(total / per).toFixed(0)} bytes per unit (${per} units)`, "bytes/unit  count/unit  kind"];
  for (const g of growth.slice(0, top)) {
    lines.push(`${(g.bytes / per).toFixed(1).padStart(10)}  ${(g.count / per).toFixed(2).padStart(10)}  ${g.kind}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const [beforePath, afterPath, perText] = Deno.args;
  if (!beforePath || !afterPath) {
    console.error("usage: deno run -A bench/heap_summary.ts BEFORE.heapsnapshot AFTER.heapsnapshot [UNITS]");
    Deno.exit(2);
  }
  const read = async (path: string) => summariseHeap(JSON.parse(await Deno.readTextFile(path)));
  console.log(formatGrowth(heapGrowth(await read(beforePath), await read(afterPath)), Number(perText ?? 1)));
}
