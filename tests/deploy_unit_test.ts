/**
 * deploy/teaparty.service as systemd reads it (`systemd-analyze verify`):
 * no key ignored, and the TLS line
 * its comments say to uncomment is part of ExecStart once uncommented.
 * (Skipped where systemd is not installed, except under CI.)
 */
import assert from "node:assert/strict";

const UNIT = new URL("../deploy/teaparty.service", import.meta.url);
const analyze = await Deno.stat("/usr/bin/systemd-analyze").then(() => true, () => false);

/** What `systemd-analyze verify` says of a unit file's text, apart from the binary missing on this machine. */
async function verify(name: string, text: string): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "teaparty_unit_" });
  try {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    const out = await new Deno.Command("/usr/bin/systemd-analyze", {
      args: ["verify", "--man=no", `${dir}/${name}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    return said.split("\n").filter((l) => l.trim() !== "" && !/is not executable|No such file/.test(l));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "systemd reads the unit without ignoring a line or a key, with the TLS line commented or not",
  ignore: !analyze && !Deno.env.get("CI"), // under CI a missing systemd-analyze fails the test
  async fn() {
    const text = await Deno.readTextFile(UNIT);
    assert.deepEqual(await verify("teaparty.service", text), []);
    const tls = text.replace(/^#(\s+--tls-port)/m, "$1");
    assert.notEqual(tls, text, "the unit has a commented TLS line");
    assert.deepEqual(await verify("teaparty-tls.service", tls), []);
    assert.match(tls, /--op root \\\n\s+--tls-port 5006 [^\n]*\\\n\s+--log-level info/);
  },
});

Deno.test("the unit does not restart after a start-up refusal (exit 1) or bad flags (exit 2)", async () => {
  const text = await Deno.readTextFile(UNIT);
  assert.match(text, /^RestartPreventExitStatus=1 2$/m);
  const unit = text.slice(text.indexOf("[Unit]"), text.indexOf("[Service]"));
  assert.match(unit, /^StartLimitIntervalSec=/m, "StartLimit* belong in [Unit]");
});
