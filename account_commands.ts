/**
 * Commands for registered nicks: `/register` and `/password`.
 *
 * @example
 * ```ts
 * import { accountCommands } from "./account_commands.ts";
 * accountCommands.map((c) => c.name); // ["register", "password"]
 * ```
 * @module
 */
import type { Command } from "./dispatch.ts";
import { checkPassword, hashPassword, ServerBusy, verifyPassword } from "./accounts.ts";

/** The account commands. */
export const accountCommands: Command[] = [
  {
    name: "register",
    where: "member",
    args: "<password>",
    help: "register your nick with a password (asked for at every login from then on)",
    async run({ session, server, reply }, [password]) {
      if (session.registered || server.store.account(session.key)) {
        return reply(`${session.nick} is registered already; /password <old> <new> changes the password.`);
      }
      const problem = checkPassword(password);
      if (problem) return reply(`Cannot register: ${problem}.`);
      const hash = await hashPassword(password);
      server.store.saveAccount(session.key, session.nick, hash);
      server.log.info("register", { id: session.id, nick: session.nick });
      reply(`${session.nick} is now registered. Log in with: login ${session.nick} (the password is asked for).`);
      server.registered(session);
    },
  },
  {
    name: "password",
    where: "member",
    args: "<old> <new>",
    help: "change the password of your registered nick",
    async run({ session, server, reply }, [old, next]) {
      const account = server.store.account(session.key);
      if (!account || !session.registered) {
        return reply(`${session.nick} is not registered; /register <password> does that.`);
      }
      const wait = server.logins.wait(session.key, session.ip);
      if (wait > 0) return reply(`Too many wrong passwords; try again in ${Math.ceil(wait / 1000)} s.`);
      const attempt = server.logins.begin(session.key, session.ip);
      const right = await verifyPassword(old, account.hash).catch((error) => {
        if (error instanceof ServerBusy) server.logins.cancel(attempt);
        throw error;
      });
      if (!right) {
        server.log.warn("password change refused", { id: session.id, nick: session.nick, reason: "wrong password" });
        return reply("The old password is wrong; the password was not changed.");
      }
      server.logins.succeeded(attempt);
      const problem = checkPassword(next);
      if (problem) return reply(`Cannot change the password: ${problem}.`);
      server.store.saveAccount(session.key, session.nick, await hashPassword(next));
      server.log.info("password changed", { id: session.id, nick: session.nick });
      reply("Your password has been changed.");
    },
  },
];
