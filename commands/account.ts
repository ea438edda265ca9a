/**
 * Commands for registered nicks: `/register` and `/password`. Their
 * arguments are secret: never repeated in replies or logs. Registering never
 * makes an operator: operators are accounts that existed when the server
 * started (`--op`).
 *
 * @example
 * ```ts
 * import { accountCommands } from "./account.ts";
 * accountCommands.map((c) => c.name); // ["register", "password"]
 * ```
 * @module
 */
import type { Command } from "./table.ts";
import { checkPassword, hashPassword, ServerBusy, verifyPassword } from "../accounts.ts";

/** The account commands. */
export const accountCommands: Command[] = [
  {
    name: "register",
    where: "member",
    secret: true,
    args: "<password>",
    help: "register your nick with a password (asked for at every login from then on)",
    async run({ user, session, chat, reply, fail }, [password]) {
      // The account, not the flag: one removed with the account tool may be registered again.
      const taken = () => fail(`${user.nick} is registered already; /password <old> <new> changes the password.`);
      if (await chat.store.account(user.key)) return taken();
      const problem = checkPassword(password);
      if (problem) return fail(`Cannot register: ${problem}.`);
      const hash = await hashPassword(password);
      if (session.user !== user) return;
      if (await chat.store.account(user.key)) return taken(); // made meanwhile (the account tool): never overwritten
      await chat.store.saveAccount(user.key, user.nick, hash);
      user.registered = true;
      chat.lookAlikes.add(user.nick, user.key);
      chat.log.info("register", { id: session.id, nick: user.nick });
      reply(`${user.nick} is now registered. Log in with: login ${user.nick} (the password is asked for).`);
    },
  },
  {
    name: "password",
    where: "member",
    secret: true,
    args: "<old> <new>",
    help: "change the password of your registered nick",
    async run({ user, session, chat, reply, fail }, [old, next]) {
      const account = await chat.store.account(user.key);
      if (!account || !user.registered) {
        return fail(`${user.nick} is not registered; /register <password> does that.`);
      }
      // Wrong old passwords count like failed logins: /password is no way around the throttle.
      const wait = chat.logins.wait(user.key, session.ip);
      if (wait > 0) return fail(`Too many wrong passwords; try again in ${Math.ceil(wait / 1000)} s.`);
      const attempt = chat.logins.begin(user.key, session.ip);
      let right: boolean;
      try {
        right = await verifyPassword(old, account.hash);
      } catch (error) {
        if (!(error instanceof ServerBusy)) throw error;
        chat.logins.cancel(attempt);
        return fail(`Cannot change the password now: ${error.message}.`);
      }
      if (!right) {
        chat.log.warn("password change refused", { id: session.id, nick: user.nick, reason: "wrong password" });
        return fail("The old password is wrong; the password was not changed.");
      }
      chat.logins.succeeded(attempt);
      const problem = checkPassword(next);
      if (problem) return fail(`Cannot change the password: ${problem}.`);
      await chat.store.saveAccount(user.key, user.nick, await hashPassword(next));
      chat.log.info("password changed", { id: session.id, nick: user.nick });
      reply("Your password has been changed.");
    },
  },
];
