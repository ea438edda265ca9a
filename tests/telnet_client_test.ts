/**
 * The real Debian `telnet` client, run in tmux (a private tmux server, 80x24),
 * typing Chinese and Japanese: without BINARY it strips the eighth bit, and
 * a stripped 0x9D (in 话) is its escape character, which drops the user into
 * the `telnet>` prompt. With the server's IAC DO BINARY the text arrives
 * byte for byte.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";

const hasTools = ["tmux", "telnet"].every((tool) => {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
});
if (!hasTools) {
  const message = "tmux or telnet is not installed: the real-telnet test cannot run (apt-get install tmux telnet)";
  if (Deno.env.get("CI")) throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
}

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "Chinese and Japanese typed in plain `telnet host port` reach the room exactly",
  ignore: !hasTools,
  async fn() {
    await using chat = await startServer({ rate: 0 });
    const amy = await chat.login("amy");
    const socket = `teaparty-test-${Deno.pid}`;
    const connected = chat.event("connect", undefined, 10_000);
    await tmux(socket, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24", `telnet 127.0.0.1 ${chat.port}`);
    try {
      await connected;
      // Typed text goes out once telnet has shown the greeting, after it answered DO BINARY.
      for (let i = 0; i < 100 && !(await tmux(socket, "capture-pane", "-p", "-t", "t")).includes("Log in with"); i++) {
        await new Promise((r) => setTimeout(r, 50)); // polling the screen: tmux has no event for it
      }
      const loggedIn = chat.event("login", (d) => d.session.nick === "tom", 10_000);
      await tmux(socket, "send-keys", "-t", "t", "login tom", "Enter");
      await loggedIn;
      for (const text of ["你好，茶话会", "日本語のテキスト、こんにちは", "话说"]) {
        await tmux(socket, "send-keys", "-t", "t", "-l", text);
        await tmux(socket, "send-keys", "-t", "t", "Enter");
        await amy.waitFor(`tom: ${text}`);
      }
      const screen = await tmux(socket, "capture-pane", "-p", "-t", "t");
      assert.ok(!screen.includes("telnet>"), `telnet went to its command prompt:\n${screen}`);
      assert.ok(screen.includes("tom: 话说"), screen);
    } finally {
      await tmux(socket, "kill-server").catch(() => {});
    }
  },
});
