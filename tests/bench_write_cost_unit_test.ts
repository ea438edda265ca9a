import assert from "node:assert/strict";
import { parseReport } from "../bench/write_cost.ts";

Deno.test("a writer's report turns into CPU microseconds per write", () => {
  assert.deepEqual(parseReport("user_s=0.500000 sys_s=2.000000 writes=1000000\n"), { userUs: 0.5, sysUs: 2 });
});

Deno.test("a report without writes is refused, quoting what the writer said", () => {
  assert.throws(() => parseReport("user_s=0.1 sys_s=0.1 writes=0"), /reported no writes \(it said: user_s=0\.1/);
  assert.throws(() => parseReport("connect: Connection refused"), /it said: connect: Connection refused/);
});
