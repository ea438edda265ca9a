/**
 * Which telnet clients are plain terminals, from the name they give for
 * TERMINAL-TYPE (RFC 1091): xterm and its kin, the VT family, the Linux
 * console, screen and tmux … A plain terminal shows what the server sends and
 * nothing more, so the server may edit its line (redraw mode). MUD clients
 * (TinyFugue, Mudlet, MUSHclient …) edit lines themselves and say so with
 * their own names; "dumb", "unknown" and names not listed are kept in line
 * mode too. Names are compared without case; only the family counts
 * (`XTERM-256COLOR` is xterm, `SCREEN.XTERM-256COLOR` is screen).
 *
 * @example
 * ```ts
 * import { isPlainTerminal } from "./terminals.ts";
 * isPlainTerminal("XTERM-256COLOR"); // true
 * isPlainTerminal("TINYFUGUE"); // false
 * ```
 * @module
 */

const families = new Set([
  "xterm",
  "vt52",
  "ansi",
  "linux",
  "screen",
  "tmux",
  "rxvt",
  "urxvt",
  "putty",
  "konsole",
  "gnome",
  "vte",
  "alacritty",
  "kitty",
  "foot",
  "st",
  "wezterm",
  "eterm",
  "cygwin",
  "mintty",
  "iterm",
  "iterm2",
  "hterm",
  "dtterm",
  "aixterm",
  "kterm",
  "mlterm",
  "contour",
  "terminator",
  "tilix",
  "sun",
  "cons25",
  "pcansi",
  "interix",
  "wsvt25",
]);

/** True when `name` (a TERMINAL-TYPE answer) is a plain terminal that redraw mode may drive. */
export function isPlainTerminal(name: string): boolean {
  const lower = name.toLowerCase();
  if (/^(dec-)?vt\d{2,3}/.test(lower)) return true; // vt100, vt220, DEC-VT100 (RFC 1091's spelling)
  const family = lower.split(/[-.+_]/)[0];
  return families.has(family);
}
