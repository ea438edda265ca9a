/**
 * Reads a command line's flags, wording every mistake as one line of our
 * own (node:util's `parseArgs` words them its way, and takes `--port -1`
 * for two flags): the server's options and the account tool both read
 * their arguments with {@linkcode readFlags}.
 *
 * @module
 */

/** The flags a command knows: names without the leading `--`. */
export interface FlagShape {
  /** Flags that take a value: `--db FILE` or `--db=FILE`. */
  valued: Iterable<string>;
  /** Flags that take none: `--reuse-port`. `--help` (and `-h`) is always known. */
  switches?: Iterable<string>;
}

/** What {@linkcode readFlags} read, in the order given. */
export interface ReadFlags {
  /** Each flag given, with its value for a valued one (a flag given twice is here twice). */
  flags: { name: string; value?: string }[];
  /** `--help` or `-h` was given. */
  help: boolean;
  /** The words that are not flags (everything after `--` too). */
  positionals: string[];
}

/**
 * Reads `args`. A valued flag takes the next word even if it starts with a
 * dash (`--name -tea-`), unless that word is one of the known flags
 * (`--db --port 5` is a mistake). Throws an Error whose message names the
 * argument: `there is no option --colour`, `--db needs a value`, `--db needs
 * a value, not the flag --port`, `--help takes no value`.
 *
 * @example
 * ```ts
 * import { readFlags } from "./command_line.ts";
 * readFlags(["--db", "x.db", "list", "--port=-1"], { valued: ["db", "port"] });
 * // { flags: [{ name: "db", value: "x.db" }, { name: "port", value: "-1" }], help: false, positionals: ["list"] }
 * ```
 */
export function readFlags(args: string[], shape: FlagShape): ReadFlags {
  const valued = new Set(shape.valued);
  const switches = new Set(shape.switches ?? []);
  const isFlag = (arg: string) => {
    if (arg === "-h") return true;
    if (!arg.startsWith("--")) return false;
    const name = arg.slice(2).split("=")[0];
    return name === "help" || valued.has(name) || switches.has(name);
  };
  const read: ReadFlags = { flags: [], help: false, positionals: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      read.positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const at = arg.indexOf("=");
      const name = at < 0 ? arg.slice(2) : arg.slice(2, at);
      if (name === "help" || switches.has(name)) {
        if (at >= 0) throw new Error(`--${name} takes no value`);
        if (name === "help") read.help = true;
        else read.flags.push({ name });
      } else if (!valued.has(name)) {
        throw new Error(`there is no option --${name}`);
      } else if (at >= 0) {
        read.flags.push({ name, value: arg.slice(at + 1) });
      } else {
        const next = args[i + 1];
        if (next === undefined) throw new Error(`--${name} needs a value`);
        if (isFlag(next)) throw new Error(`--${name} needs a value, not the flag ${next.split("=")[0]}`);
        read.flags.push({ name, value: next });
        i++;
      }
    } else if (arg.startsWith("-") && arg.length > 1) {
      for (const c of arg.slice(1)) if (c !== "h") throw new Error(`there is no option -${c}`);
      read.help = true;
    } else {
      read.positionals.push(arg);
    }
  }
  return read;
}
