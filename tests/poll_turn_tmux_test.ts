import assert from "node:assert/strict";
import { hasTmux, shellQuote, TmuxPane } from "./tmux.ts";

/** A port that was free a moment ago. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("a server in a terminal with --allow-net narrowed to its own port starts without a permission prompt", async () => {
  if (!await hasTmux()) {
    console.warn("tmux is not installed; skipped");
    return;
  }
  const port = freePort();
  const server = [Deno.execPath(), "run", `--allow-net=127.0.0.1:${port}`, "main.ts", "--port", String(port)];
  await using pane = await TmuxPane.start(shellQuote([...server, "--host", "127.0.0.1", "--log-level", "info"]), {
    columns: 160,
  });
  const rows = await pane.waitForRow(`listening on 127.0.0.1:${port}`);
  assert.ok(!rows.some((row) => /Deno requests/.test(row)), rows.join("\n"));
  await pane.waitForRow(/flushes go on without polling sockets between turns/);
});
