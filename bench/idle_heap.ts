/**
 * What one idle connection costs in the JavaScript heap, by object type: runs
 * a teaparty server in this process, takes a heap snapshot, has loadgen
 * (`--idle`) open N logged-in connections that then say nothing, takes a
 * second snapshot and prints the difference per connection (see
 * bench/heap_summary.ts). Snapshots go to bench/out/heap/.
 *
 * @example
 * ```sh
 * npm run bench   # once, to build bench/out/loadgen/
 * deno run -A --v8-flags=--max-semi-space-size=8 bench/idle_heap.ts 2000
 * ```
 * @module
 */
import v8 from "node:v8";
import { ChatServer } from "../server.ts";
import { formatGrowth, heapGrowth, summariseHeap } from "./heap_summary.ts";

const clients = Number(Deno.args[0] ?? 2000);
const dir = decodeURIComponent(new URL("./out/heap/", import.meta.url).pathname);
const loadgen = decodeURIComponent(new URL("./out/loadgen/loadgen", import.meta.url).pathname);
await Deno.mkdir(dir, { recursive: true });

const server = new ChatServer({
  host: "127.0.0.1",
  port: 0,
  rate: 0,
  maxPerIp: 0,
  maxClients: 0,
  logLevel: "warn",
});
const addr = await server.listen();
await server.ready();
await new Promise((r) => setTimeout(r, 300));
const before = v8.writeHeapSnapshot(`${dir}before.heapsnapshot`);
const rssBefore = Deno.memoryUsage().rss;

const child = new Deno.Command(loadgen, {
  args: [
    "--port",
    String(addr.port),
    "--clients",
    String(clients),
    "--idle",
    "--login-probe",
    "none",
    "--duration",
    "30",
  ],
  stdout: "null",
  stderr: "null",
}).spawn();
const deadline = Date.now() + 60_000;
while ([...server.sessions].filter((s) => s.loggedIn).length < clients && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 200));
}
await new Promise((r) => setTimeout(r, 2000)); // the greeting and history written, the first reads waiting
const seated = [...server.sessions].filter((s) => s.loggedIn).length;
const after = v8.writeHeapSnapshot(`${dir}after.heapsnapshot`);
const rssAfter = Deno.memoryUsage().rss;
const heap = v8.getHeapStatistics();
child.kill("SIGINT");
await child.status;
await server.shutdown();

const read = async (path: string) => summariseHeap(JSON.parse(await Deno.readTextFile(path)));
console.log(
  `${seated} idle logged-in connections; RSS +${((rssAfter - rssBefore) / 1024 / seated).toFixed(2)} KiB each`,
);
console.log(
  `heap: used ${(heap.used_heap_size / 1048576).toFixed(1)} MiB, total ${
    (heap.total_heap_size / 1048576).toFixed(1)
  } MiB, external ${(heap.external_memory / 1048576).toFixed(1)} MiB`,
);
console.log(formatGrowth(heapGrowth(await read(before), await read(after)), seated, 40));
Deno.exit(0);
