/**
 * `/redraw [on|off]`: redraw mode for plain telnet (doors/redraw.ts), the
 * server editing the line so that arriving lines never cut into it. Without
 * an argument it says whether it is on. The choice is kept for a registered
 * nick (the `redraw` setting) and applied at its next login.
 *
 * @example
 * ```ts
 * import { CommandTable } from "./table.ts";
 * import { redrawCommand } from "./redraw.ts";
 * new CommandTable([redrawCommand]).find("redraw")?.args; // "[mode]"
 * ```
 * @module
 */
import type { Command } from "./table.ts";
import type { Session } from "../session.ts";
import type { ChatStore } from "../store.ts";
import { explainToUser } from "../store.ts";

/** The name of the setting that keeps a registered nick's choice. */
export const REDRAW_SETTING = "redraw";

/** A session whose client can be switched between line mode and redraw mode (a telnet session). */
export interface RedrawControl {
  /** True while redraw mode is on. */
  readonly redrawOn: boolean;
  /**
   * Asks for redraw mode on or off. Returns why it cannot be done (one
   * sentence), or undefined when it is done or asked for (a client that
   * refuses is told so later).
   */
  setRedraw(on: boolean): string | undefined;
}

/** The session's redraw switch, if its door has one. */
export function redrawControl(session: Session): RedrawControl | undefined {
  const s = session as Session & Partial<RedrawControl>;
  return typeof s.setRedraw === "function" ? s as Session & RedrawControl : undefined;
}

/** A registered nick's kept choice: true (on), false (off), or undefined (none, or the store failed). */
export function keptRedraw(store: ChatStore, key: string): boolean | undefined {
  try {
    const value = store.setting(key, REDRAW_SETTING);
    return value === "on" ? true : value === "off" ? false : undefined;
  } catch {
    return undefined; // a failing store must not stop a login; the default applies
  }
}

const ON = "Redraw mode on: the server echoes your typing and keeps it in place.";
const OFF = "Redraw mode off: your telnet client edits and echoes lines itself.";

/** The `/redraw` command. */
export const redrawCommand: Command = {
  name: "redraw",
  where: "any",
  args: "[mode]",
  help: "redraw mode for plain telnet: the server keeps your unfinished line in place (on|off; none: show it)",
  async run({ session, chat, reply, fail }, [mode]) {
    const control = redrawControl(session);
    const choice = mode.toLowerCase();
    if (choice === "") {
      if (!control) return reply("Redraw mode is off: it is for telnet connections, and this is not one.");
      return reply(control.redrawOn ? `${ON} /redraw off turns it off.` : `${OFF} /redraw on turns redraw mode on.`);
    }
    if (choice !== "on" && choice !== "off") return fail(`Usage: /redraw [on|off] ("${mode}" is neither).`);
    if (!control) return fail("Redraw mode is for telnet connections; this one is not.");
    const on = choice === "on";
    const already = control.redrawOn === on;
    const refusal = control.setRedraw(on);
    if (refusal) return fail(refusal);
    let kept = "";
    const user = session.user;
    if (user?.registered) {
      try {
        await chat.store.saveSetting(user.key, REDRAW_SETTING, choice);
        kept = ` Kept for ${user.nick}.`;
      } catch (error) {
        kept = ` It could not be kept for ${user.nick}: ${explainToUser(error)}.`;
      }
    }
    reply((already ? `Redraw mode is ${choice} already.` : on ? ON : OFF) + kept);
  },
};
