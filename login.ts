/**
 * Logging in, the same on every door: the nick's rules, bans, and for a
 * registered nick its password (asked for with the input hidden when not
 * given, up to three tries, throttled against guessing). The right password
 * takes a registered nick back from an older session that still holds it
 * (the old one is told and closed). A logged-in user is seated in the main
 * room and gets its waiting mail.
 *
 * @example
 * ```ts
 * // Used by the `login` command and by other doors' registration:
 * // await login(chat, session, "alice", "secret password");
 * ```
 * @module
 */
import type { Chat } from "./chat.ts";
import type { Session } from "./session.ts";
import { User } from "./user.ts";
import { checkNick, foldNick } from "./nick.ts";
import { describeBan } from "./moderation.ts";
import { ServerBusy, verifyPassword } from "./accounts.ts";
import { LOGIN_LIMITS } from "./login_throttle.ts";
import { Counter } from "./metrics.ts";

/** Password checks that failed (logins and nick changes). */
export const failedLogins: Counter = new Counter("teaparty_failed_logins_total", "Wrong passwords given at login.");
import { cleanLine } from "./text.ts";
import { clip } from "./format.ts";

/** Failed logins from one address, to one nick and to all, before further attempts must wait (see login_throttle.ts). */
export const THROTTLE = { perNick: LOGIN_LIMITS.perNickAddress, perAddress: LOGIN_LIMITS.perAddress } as const;
/** Password tries one prompt allows before it gives up. */
export const PROMPT_TRIES = 3;

/** How a login ended, for doors that need to know (IRC numerics). */
export type LoginResult =
  | "in"
  | "refused"
  | "password"
  | "taken"
  | "invalid"
  | "banned"
  | "throttled"
  | "lookalike"
  | "busy";

/** How a door wants a login done (the defaults suit line protocols). */
export interface LoginOptions {
  /**
   * Seat the user in the main room and deliver its mail at once (default
   * true). An IRC door says false: it sends its welcome first, then calls
   * `chat.deliverMail` itself, and its users join channels themselves.
   */
  seat?: boolean;
  /** Ask for a registered nick's password when none was given (default true); false returns "password". */
  prompt?: boolean;
}

/**
 * Logs a session in under `nick`; replies to the session with every
 * refusal. A registered nick without `password` asks for it (unless
 * `options.prompt` is false).
 */
export async function login(
  chat: Chat,
  session: Session,
  nick: string,
  password?: string,
  options: LoginOptions = {},
): Promise<LoginResult> {
  const problem = checkNick(nick);
  if (problem) {
    session.fail(`Cannot log in as "${clip(nick)}": ${problem}.`);
    return "invalid";
  }
  const key = foldNick(nick);
  if (banned(chat, session, nick)) return "banned";
  const account = await chat.store.account(key);
  if (session.closed) return "refused";
  if (!account) {
    if (password) {
      session.fail(`${nick} is not a registered nick, so it takes no password (nicks cannot contain spaces).`);
      return "refused";
    }
    if (taken(chat, session, key)) return "taken";
    if (lookalike(chat, session, nick, key, "log in as")) return "lookalike";
    if (!(await claimed(chat, session, nick, key))) return session.closed ? "refused" : "taken";
    if (!stillFree(chat, session, nick, key, "log in as")) return "taken";
    admit(chat, session, nick, key, false, options.seat ?? true);
    return "in";
  }
  if (throttled(chat, session, account.nick, key)) return "throttled";
  if (password !== undefined && password !== "") {
    const result = await verify(chat, session, account.nick, key, account.hash, password);
    if (result === "wrong") session.fail(`Wrong password for ${account.nick}. Try again with: login ${account.nick}`);
    if (result !== "ok") return result === "wrong" || result === "closed" ? "refused" : result;
    return enter(chat, session, account.nick, key, options.seat ?? true);
  }
  if (options.prompt === false) return "password";
  session.send({ type: "password", nick: account.nick, text: `${account.nick} is a registered nick. Password:` });
  ask(chat, session, account.nick, key, account.hash, PROMPT_TRIES);
  return "password";
}

/**
 * Waits for the password (the input is hidden already). A wrong one asks
 * again, up to `tries` times; the input shows again only when the prompt is
 * over, so a retyped password is never echoed.
 */
function ask(chat: Chat, session: Session, nick: string, key: string, hash: string, tries: number): void {
  session.prompt = async (line) => {
    const typed = cleanLine(line).trim();
    if (typed === "") {
      session.send({ type: "password-done" });
      session.notice("Login cancelled: no password given.");
      return;
    }
    const result = await verify(chat, session, nick, key, hash, typed);
    if (result === "closed") return;
    if (result === "wrong" && tries > 1 && !throttled(chat, session, nick, key, true)) {
      session.fail(`Wrong password for ${nick}; try again (or send an empty line to give up). Password:`);
      return ask(chat, session, nick, key, hash, tries - 1);
    }
    session.send({ type: "password-done" });
    // Tries left but the throttle now refuses them: say so, with the wait.
    if (result === "wrong" && (tries === 1 || !throttled(chat, session, nick, key))) {
      session.fail(`Wrong password for ${nick}. Try again with: login ${nick}`);
    } else if (result === "ok") await enter(chat, session, nick, key);
  };
}

/** Refuses (with a reply) a banned nick. */
function banned(chat: Chat, session: Session, nick: string): boolean {
  const ban = chat.moderation.banned("nick", nick);
  if (!ban) return false;
  chat.log.warn("login refused", { id: session.id, nick, reason: "banned" });
  session.fail(`The nick ${nick} is banned ${describeBan(ban)}`);
  return true;
}

/** Refuses (with a reply) a nick another session holds. */
function taken(chat: Chat, session: Session, key: string): boolean {
  const holder = chat.nicks.get(key);
  if (!holder || holder.link === session) return false;
  session.fail(`The nick ${holder.nick} is taken; please choose another.`);
  return true;
}

/**
 * Claims a guest nick across the cluster (at once on a single server);
 * refuses (with a reply) one that a user of another server has, and lets
 * the claim go again if the session closed meanwhile.
 */
async function claimed(chat: Chat, session: Session, nick: string, key: string): Promise<boolean> {
  const ok = await chat.peers.claim(key, false, nick);
  if (ok && (session.closed || chat.nicks.has(key))) {
    if (!chat.nicks.has(key)) chat.peers.unclaim(key);
    if (!session.closed) session.fail(`The nick ${nick} is taken; please choose another.`);
    return false;
  }
  if (!ok) session.fail(`The nick ${nick} is taken; please choose another.`);
  return ok;
}

/**
 * Checks again, in the same turn as taking the nick, that no other login
 * took it (or a look-alike) while this one awaited its claim: two logins of
 * one nick sent at once both pass the first check. Refuses with a reply, and
 * lets an unused claim go.
 */
function stillFree(chat: Chat, session: Session, nick: string, key: string, what: string): boolean {
  if (!taken(chat, session, key) && !lookalike(chat, session, nick, key, what)) return true;
  if (!chat.nicks.has(key)) chat.peers.unclaim(key);
  return false;
}

/** Refuses (with a reply) a nick that looks like a registered or logged-in one under another key. */
function lookalike(chat: Chat, session: Session, nick: string, key: string, what: string): boolean {
  chat.refreshAccounts();
  const like = chat.lookAlikes.find(nick, key);
  if (!like) return false;
  session.fail(`Cannot ${what} "${nick}": it looks like ${like}, a registered or logged-in nick.`);
  return true;
}

/** Refuses (with a reply) a password check while this address has failed too often (for this nick or any). */
function throttled(chat: Chat, session: Session, nick: string, key: string, quiet = false): boolean {
  const wait = chat.logins.wait(key, session.ip);
  if (wait <= 0 || quiet) return wait > 0;
  chat.log.warn("login throttled", { id: session.id, nick, ip: session.ip });
  session.fail(`Too many failed logins for ${nick} or from your address; try again in ${Math.ceil(wait / 1000)} s.`);
  return true;
}

/**
 * Checks a password against the throttle and the hash: "ok", "wrong",
 * "throttled" (refused with a reply) or "closed" (the session went away).
 */
async function verify(
  chat: Chat,
  session: Session,
  nick: string,
  key: string,
  hash: string,
  password: string,
): Promise<"ok" | "wrong" | "throttled" | "closed" | "busy"> {
  // The throttle is checked again here (a prompt may have been opened before
  // it closed), and every attempt counts as a failure until it has
  // succeeded, so guesses sent at once on many connections count too.
  if (throttled(chat, session, nick, key)) return "throttled";
  const slowdown = chat.logins.slowdown(key); // many failures on this nick from everywhere: a moment's wait
  const attempt = chat.logins.begin(key, session.ip);
  if (slowdown > 0) await new Promise((resolve) => setTimeout(resolve, slowdown));
  let ok: boolean;
  try {
    ok = await verifyPassword(password, hash);
  } catch (error) {
    if (!(error instanceof ServerBusy)) throw error;
    chat.logins.cancel(attempt);
    session.fail(`Cannot check the password now: ${error.message}.`);
    return "busy";
  }
  if (session.closed) return "closed";
  if (!ok) {
    failedLogins.inc();
    chat.log.warn("login failed", { id: session.id, nick, ip: session.ip, reason: "wrong password" });
    return "wrong";
  }
  chat.logins.succeeded(attempt);
  return "ok";
}

/** Logs in to a registered nick whose password was right. */
function enter(chat: Chat, session: Session, nick: string, key: string, seat = true): LoginResult {
  // An operator may have banned the nick while we hashed.
  if (banned(chat, session, nick)) return "banned";
  regain(chat, session, key);
  admit(chat, session, nick, key, true, seat);
  return "in";
}

/**
 * Checks the password of a registered nick without logging in (IRC SASL,
 * where the account is proven before the connection is registered), with
 * the same throttle and ban checks as a login. On "ok", `nick` is the
 * account's own spelling; pass it to {@linkcode loginChecked} to log in.
 */
export async function verifyAccount(
  chat: Chat,
  session: Session,
  nick: string,
  password: string,
): Promise<
  { result: "ok"; nick: string } | { result: "unknown" | "wrong" | "throttled" | "banned" | "closed" | "busy" }
> {
  if (checkNick(nick)) return { result: "unknown" };
  const key = foldNick(nick);
  if (banned(chat, session, nick)) return { result: "banned" };
  const account = await chat.store.account(key);
  if (!account) return { result: "unknown" };
  if (session.closed) return { result: "closed" };
  const result = await verify(chat, session, account.nick, key, account.hash, password);
  return result === "ok" ? { result, nick: account.nick } : { result };
}

/** Logs in to a registered nick whose password {@linkcode verifyAccount} accepted. */
export function loginChecked(chat: Chat, session: Session, nick: string, options: LoginOptions = {}): LoginResult {
  return enter(chat, session, nick, foldNick(nick), options.seat ?? true);
}

/** The right password takes a nick back from an older session that holds it. */
function regain(chat: Chat, session: Session, key: string): void {
  chat.peers.claim(key, true).catch(() => {}); // the password proves it: taken over across the cluster
  const holder = chat.nicks.get(key);
  if (!holder || holder.link === session) return;
  if (holder.remote) {
    chat.log.info("nick regained", { id: session.id, nick: holder.nick, from: holder.remote });
    chat.peers.evict(holder);
    return;
  }
  const old = chat.sessionOf(holder);
  chat.log.info("nick regained", { id: session.id, nick: holder.nick, from: old?.id });
  if (old) {
    old.end(
      `${holder.nick} logged in again from another connection`,
      `You (${holder.nick}) logged in from another connection; this one is closed.`,
    );
  }
  if (chat.nicks.get(key) === holder) chat.nicks.delete(key);
}

/** Makes the session's user: nick taken, seated in the main room, mail delivered (unless not `seat`). */
function admit(chat: Chat, session: Session, nick: string, key: string, registered: boolean, seat = true): void {
  const user = new User(nick, key, session);
  user.registered = registered;
  user.operator = registered && chat.opAccount(key);
  chat.nicks.set(key, user);
  chat.lookAlikes.add(nick, key);
  session.loggedInAs(user);
  chat.log.info("login", {
    id: session.id,
    door: session.door,
    nick,
    ip: session.ip,
    registered,
    operator: user.operator,
  });
  chat.emit("login", { session });
  chat.peers.loggedIn(user);
  session.send({ type: "login", nick, registered, operator: user.operator });
  if (!seat) return;
  chat.join(user, chat.options.room).then(() => {
    if (user.operator) session.notice("You are an operator here.");
    if (registered) return chat.deliverMail(user, session);
  }).catch((error) => {
    chat.log.error("seating failed", { id: session.id, nick, error: String(error) });
    session.fail("Sorry, entering the room failed on the server; it has been logged.");
  });
}

/**
 * Changes a logged-in user's nick: the same rules as logging in (a
 * registered nick needs its password, given on the command line), refused
 * while muted (a new nick would shed the mute). Everyone in the user's
 * rooms is told; ignores follow the user to the new nick.
 */
export async function changeNick(chat: Chat, session: Session, nick: string, password?: string): Promise<LoginResult> {
  const user = session.user;
  if (!user) return "refused";
  const problem = checkNick(nick);
  if (problem) {
    session.fail(`Cannot change nick to "${clip(nick)}": ${problem}.`);
    return "invalid";
  }
  const key = foldNick(nick);
  if (nick === user.nick) {
    session.fail(`You are ${nick} already.`);
    return "refused";
  }
  if (chat.moderation.muted(user.key)) {
    session.fail("You are muted, so you cannot change nick.");
    return "refused";
  }
  if (key !== user.key && banned(chat, session, nick)) return "banned";
  const account = key === user.key ? undefined : await chat.store.account(key);
  if (session.closed || session.user !== user) return "refused";
  if (key === user.key) {
    rename(chat, user, nick, key, user.registered);
    return "in";
  }
  if (!account) {
    if (password) {
      session.fail(`${nick} is not a registered nick, so it takes no password.`);
      return "refused";
    }
    if (taken(chat, session, key)) return "taken";
    if (lookalike(chat, session, nick, key, "change nick to")) return "lookalike";
    if (!(await claimed(chat, session, nick, key))) return "taken";
    if (session.user !== user) {
      if (!chat.nicks.has(key)) chat.peers.unclaim(key);
      return "refused";
    }
    if (!stillFree(chat, session, nick, key, "change nick to")) return "taken";
    rename(chat, user, nick, key, false);
    return "in";
  }
  if (!password) {
    session.fail(`${account.nick} is a registered nick: /nick ${account.nick} <password>`);
    return "password";
  }
  if (throttled(chat, session, account.nick, key)) return "throttled";
  const result = await verify(chat, session, account.nick, key, account.hash, password);
  if (result === "wrong") session.fail(`Wrong password for ${account.nick}; your nick is unchanged.`);
  if (result !== "ok") return "refused";
  if (session.user !== user) return "refused";
  regain(chat, session, key);
  rename(chat, user, account.nick, key, true);
  return "in";
}

function rename(chat: Chat, user: User, nick: string, key: string, registered: boolean): void {
  const old = user.nick;
  const oldKey = user.key;
  if (chat.nicks.get(oldKey) === user) chat.nicks.delete(oldKey);
  user.nick = nick;
  user.key = key;
  user.registered = registered;
  user.operator = registered && chat.opAccount(key);
  chat.nicks.set(key, user);
  if (oldKey !== key) {
    chat.lookAlikes.delete(oldKey);
    chat.lookAlikes.add(nick, key);
    chat.ignores.renamed(user, oldKey); // only the users who ignore this one
  }
  chat.log.info("nick", { old, nick, registered, operator: user.operator });
  chat.peers.renamed(user, oldKey, old);
  chat.announceAround(user, { type: "nick", old, nick, at: Date.now() });
}
