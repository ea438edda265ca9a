import assert from "node:assert/strict";
import { readFlags } from "../command_line.ts";

const shape = { valued: ["db", "name"], switches: ["reuse-port"] };

Deno.test("readFlags reads valued flags in both forms, switches, help and words, in order", () => {
  assert.deepEqual(readFlags(["list", "--db", "a.db", "--name=-tea-", "--reuse-port", "-h", "x"], shape), {
    flags: [{ name: "db", value: "a.db" }, { name: "name", value: "-tea-" }, { name: "reuse-port" }],
    help: true,
    positionals: ["list", "x"],
  });
  // A value may start with a dash, or look like a flag that is not one of ours.
  assert.deepEqual(readFlags(["--name", "-tea-", "--db", "xxdb"], shape).flags, [
    { name: "name", value: "-tea-" },
    { name: "db", value: "xxdb" },
  ]);
  assert.deepEqual(readFlags(["--db", "a", "--", "--db", "-h"], shape).positionals, ["--db", "-h"]);
});

Deno.test("readFlags words each mistake in one line naming the argument", () => {
  const cases: [string[], string][] = [
    [["--colour"], "there is no option --colour"],
    [["-x"], "there is no option -x"],
    [["-hv"], "there is no option -v"],
    [["--db"], "--db needs a value"],
    [["--db", "--name", "x"], "--db needs a value, not the flag --name"],
    [["--db", "--help"], "--db needs a value, not the flag --help"],
    [["--db", "-h"], "--db needs a value, not the flag -h"],
    [["--help=yes"], "--help takes no value"],
    [["--reuse-port=1"], "--reuse-port takes no value"],
  ];
  for (const [args, message] of cases) assert.throws(() => readFlags(args, shape), { message }, args.join(" "));
});
