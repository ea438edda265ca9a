/**
 * Logging in, the same on every door: the nick's rules, bans, and for a
 * registered nick its password (asked for with the input hidden when not
 * given, up to three tries, throttled against guessing). The right password
 * takes a registered nick back from an older session that still holds it
 * (the old one is told and closed). A logged-in user is seated in the main
 * room and gets its waiting mail.
 *
 * Every step ends in an outcome of facts ({@linkcode LoginOutcome},
 * {@linkcode NickOutcome}: a `kind` such as `lookalike` with `like`, or
 * `throttled` with `waitMs`), never in words. {@linkcode login} and
 * {@linkcode changeNick}, for the line protocols (telnet, the web client),
 * answer with telnet's words; {@linkcode attemptLogin} and
 * {@linkcode attemptNickChange} say nothing, and a door with its own
 * protocol (IRC numerics) words the outcome itself.
 *
 * @example
 * ```ts
 * // The `login` command (answers in telnet words, asks for a password):
 * // await login(chat, session, "alice", "secret password");
 * // Another door's registration:
 * // const result = await attemptLogin(chat, session, "alice", undefined, { seat: false });
 * // if (result.kind === "lookalike") reply(`it looks like ${result.like}`);
 * ```
 * @module
 */
import type { Chat } from "./chat.ts";
import type { Session } from "./session.ts";
import { User } from "./user.ts";
import { checkNewNick, checkNick, foldNick } from "./nick.ts";
import { describeBan } from "./moderation.ts";
import { ServerBusy, verifyPassword } from "./accounts.ts";
import { LOGIN_LIMITS } from "./login_throttle.ts";
import { Counter } from "./metrics.ts";
import { cleanLine } from "./text.ts";
import { clip } from "./format.ts";

/** Password checks that failed (logins and nick changes). */
export const failedLogins: Counter = new Counter("teaparty_failed_logins_total", "Wrong passwords given at login.");

/** Failed logins from one address, to one nick and to all, before further attempts must wait (see login_throttle.ts). */
export const THROTTLE = { perNick: LOGIN_LIMITS.perNickAddress, perAddress: LOGIN_LIMITS.perAddress } as const;
/** Password tries one prompt allows before it gives up. */
export const PROMPT_TRIES = 3;

/**
 * Why a login or a nick change did not happen: the facts, which each door
 * words its own way (telnet here, IRC with numerics).
 *
 * - `invalid`: the nick breaks the nick rules; `problem` says which.
 * - `banned`: the nick is banned, `until` a time (null: for good), with a `reason` ("" for none).
 * - `not-registered`: a password was given for a nick nobody registered.
 * - `taken`: another connection holds the nick; `nick` is the holder's spelling.
 * - `lookalike`: the nick looks like `like`, a registered or logged-in nick.
 * - `password`: the nick is registered and no password came with it.
 * - `throttled`: too many failed logins for the nick or from the address; `waitMs` until the next try.
 * - `wrong-password`: the password was wrong.
 * - `busy`: the password cannot be checked now; `why` says why.
 * - `gone`: the connection closed, or its user changed, meanwhile; nothing to answer.
 *
 * `nick` is the nick as asked for, but the account's own spelling once the
 * account was found (`password`, `throttled`, `wrong-password`, and
 * `banned` after the password was checked).
 */
export type Refusal =
  | { kind: "invalid"; nick: string; problem: string }
  | { kind: "banned"; nick: string; until: number | null; reason: string }
  | { kind: "not-registered"; nick: string }
  | { kind: "taken"; nick: string }
  | { kind: "lookalike"; nick: string; like: string }
  | { kind: "password"; nick: string }
  | { kind: "throttled"; nick: string; waitMs: number }
  | { kind: "wrong-password"; nick: string }
  | { kind: "busy"; why: string }
  | { kind: "gone" };

/** How a login ended: logged in as `nick` (the account's spelling for a registered nick), or refused. */
export type LoginOutcome = { kind: "in"; nick: string; registered: boolean } | Refusal;

/** How a nick change ended: as a login, or `same` (the user's nick already) or `muted` (a new nick would shed the mute). */
export type NickOutcome = LoginOutcome | { kind: "same"; nick: string } | { kind: "muted" };

/** What a SASL-style password check found: `ok` with the account's spelling, `unknown` (no such account), or a refusal. */
export type AccountCheck =
  | { kind: "ok"; nick: string }
  | { kind: "unknown" }
  | RefusalOf<"banned" | "throttled" | "wrong-password" | "busy" | "gone">;

/** A password check's answer. */
type Verified = { kind: "ok" } | RefusalOf<"throttled" | "wrong-password" | "busy" | "gone">;

/** A login before its answer: a registered nick without a password still carries its account, for the prompt. */
type Attempt = LoginOutcome | { kind: "ask"; nick: string; key: string; hash: string };

/** One kind of refusal, or a few: `RefusalOf<"taken" | "gone">`. */
export type RefusalOf<K extends Refusal["kind"]> = Extract<Refusal, { kind: K }>;

const GONE: RefusalOf<"gone"> = { kind: "gone" };

/** How a door wants a login done (the defaults suit line protocols). */
export interface LoginOptions {
  /**
   * Seat the user in the main room and deliver its mail at once (default
   * true). An IRC door says false: it sends its welcome first, then calls
   * `chat.deliverMail` itself, and its users join channels themselves.
   */
  seat?: boolean;
}

/**
 * Logs a session in under `nick` the line-protocol way: every refusal is
 * answered in telnet words, and a registered nick without `password` is
 * asked for it (the input hidden) and reported as `password`.
 */
export async function login(
  chat: Chat,
  session: Session,
  nick: string,
  password?: string,
  options: LoginOptions = {},
): Promise<LoginOutcome> {
  const result = await attempt(chat, session, nick, password, options.seat ?? true);
  if (result.kind !== "ask") {
    answer(session, loginWords(result));
    return result;
  }
  session.send({ type: "password", nick: result.nick, text: `${result.nick} is a registered nick. Password:` });
  ask(chat, session, result.nick, result.key, result.hash, PROMPT_TRIES);
  return { kind: "password", nick: result.nick };
}

/**
 * Logs a session in under `nick` without a word to it: the door answers
 * from the outcome. A registered nick without `password` is never asked for
 * it: the outcome is `password`.
 */
export async function attemptLogin(
  chat: Chat,
  session: Session,
  nick: string,
  password?: string,
  options: LoginOptions = {},
): Promise<LoginOutcome> {
  const result = await attempt(chat, session, nick, password, options.seat ?? true);
  return result.kind === "ask" ? { kind: "password", nick: result.nick } : result;
}

/** The steps of a login, to the point of asking for a registered nick's password. */
async function attempt(
  chat: Chat,
  session: Session,
  nick: string,
  password: string | undefined,
  seat: boolean,
): Promise<Attempt> {
  const problem = checkNewNick(nick);
  if (problem) return { kind: "invalid", nick, problem };
  const key = foldNick(nick);
  const ban = banned(chat, session, nick);
  if (ban) return ban;
  const account = await chat.store.account(key);
  if (session.closed) return GONE;
  if (!account) return password ? { kind: "not-registered", nick } : await enterAsGuest(chat, session, nick, key, seat);
  const throttle = throttled(chat, session, account.nick, key);
  if (throttle) return throttle;
  if (password === undefined || password === "") return { kind: "ask", nick: account.nick, key, hash: account.hash };
  const checked = await verify(chat, session, account.nick, key, account.hash, password);
  return checked.kind === "ok" ? enter(chat, session, account.nick, key, seat) : checked;
}

/** Logs in to a guest (unregistered) nick, once it is claimed and nobody took it or a look-alike meanwhile. */
async function enterAsGuest(
  chat: Chat,
  session: Session,
  nick: string,
  key: string,
  seat: boolean,
): Promise<LoginOutcome> {
  const refusal = taken(chat, session, key) ?? lookalike(chat, nick, key) ?? await claimed(chat, session, nick, key) ??
    stillFree(chat, session, nick, key);
  if (refusal) return refusal;
  admit(chat, session, nick, key, false, seat);
  return { kind: "in", nick, registered: false };
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
    if (result.kind === "gone") return;
    if (result.kind === "throttled" || result.kind === "busy") answer(session, loginWords(result));
    if (result.kind === "wrong-password" && tries > 1 && chat.logins.wait(key, session.ip) <= 0) {
      session.fail(`Wrong password for ${nick}; try again (or send an empty line to give up). Password:`);
      return ask(chat, session, nick, key, hash, tries - 1);
    }
    session.send({ type: "password-done" });
    if (result.kind === "wrong-password") {
      // Tries left but the throttle now refuses them: say so, with the wait.
      const throttle = tries > 1 ? throttled(chat, session, nick, key) : undefined;
      answer(session, loginWords(throttle ?? result));
    } else if (result.kind === "ok") answer(session, loginWords(enter(chat, session, nick, key)));
  };
}

/** Sends a refusal's words, if it has any. */
function answer(session: Session, words: string | undefined): void {
  if (words !== undefined) session.fail(words);
}

/** The telnet words for how a login ended (none for `in`, `gone`, or `password`, which the prompt asks for). */
function loginWords(result: LoginOutcome): string | undefined {
  switch (result.kind) {
    case "invalid":
      return `Cannot log in as "${clip(result.nick)}": ${result.problem}.`;
    case "lookalike":
      return `Cannot log in as "${result.nick}": it looks like ${result.like}, a registered or logged-in nick.`;
    case "not-registered":
      return `${result.nick} is not a registered nick, so it takes no password (nicks cannot contain spaces).`;
    case "wrong-password":
      return `Wrong password for ${result.nick}. Try again with: login ${result.nick}`;
    default:
      return refusalWords(result);
  }
}

/** The telnet words for how a nick change ended (none for `in` and `gone`). */
function nickWords(result: NickOutcome): string | undefined {
  switch (result.kind) {
    case "invalid":
      return `Cannot change nick to "${clip(result.nick)}": ${result.problem}.`;
    case "lookalike":
      return `Cannot change nick to "${result.nick}": it looks like ${result.like}, a registered or logged-in nick.`;
    case "not-registered":
      return `${result.nick} is not a registered nick, so it takes no password.`;
    case "wrong-password":
      return `Wrong password for ${result.nick}; your nick is unchanged.`;
    case "password":
      return `${result.nick} is a registered nick: /nick ${result.nick} <password>`;
    case "same":
      return `You are ${result.nick} already.`;
    case "muted":
      return "You are muted, so you cannot change nick.";
    default:
      return refusalWords(result);
  }
}

/** The telnet words that logins and nick changes share. */
function refusalWords(result: LoginOutcome): string | undefined {
  switch (result.kind) {
    case "banned":
      return `The nick ${result.nick} is banned ${describeBan(result)}`;
    case "taken":
      return `The nick ${result.nick} is taken; please choose another.`;
    case "throttled": {
      const seconds = Math.ceil(result.waitMs / 1000);
      return `Too many failed logins for ${result.nick} or from your address; try again in ${seconds} s.`;
    }
    case "busy":
      return `Cannot check the password now: ${result.why}.`;
    default:
      return undefined;
  }
}

/** Refuses a banned nick. */
function banned(chat: Chat, session: Session, nick: string): RefusalOf<"banned"> | undefined {
  const ban = chat.bannedNick(nick);
  if (!ban) return undefined;
  chat.log.warn("login refused", { id: session.id, nick, reason: "banned" });
  return { kind: "banned", nick, until: ban.until, reason: ban.reason };
}

/** Refuses a nick another session holds. */
function taken(chat: Chat, session: Session, key: string): RefusalOf<"taken"> | undefined {
  const holder = chat.nicks.get(key);
  if (!holder || holder.link === session) return undefined;
  return { kind: "taken", nick: holder.nick };
}

/**
 * Claims a guest nick across the cluster (at once on a single server);
 * refuses one that a user of another server has, and lets the claim go
 * again if the session closed meanwhile.
 */
async function claimed(
  chat: Chat,
  session: Session,
  nick: string,
  key: string,
): Promise<RefusalOf<"taken" | "gone"> | undefined> {
  const ok = await chat.peers.claim(key, false, nick);
  if (ok && !session.closed && !chat.nicks.has(key)) return undefined;
  if (ok && !chat.nicks.has(key)) chat.peers.unclaim(key);
  return session.closed ? GONE : { kind: "taken", nick };
}

/**
 * Checks again, in the same turn as taking the nick, that no other login
 * took it (or a look-alike) while this one awaited its claim: two logins of
 * one nick sent at once both pass the first check. Lets an unused claim go.
 */
function stillFree(
  chat: Chat,
  session: Session,
  nick: string,
  key: string,
): RefusalOf<"taken" | "lookalike"> | undefined {
  const refusal = taken(chat, session, key) ?? lookalike(chat, nick, key);
  if (refusal && !chat.nicks.has(key)) chat.peers.unclaim(key);
  return refusal;
}

/** Refuses a nick that looks like a registered or logged-in one under another key. */
function lookalike(chat: Chat, nick: string, key: string): RefusalOf<"lookalike"> | undefined {
  chat.refreshAccounts();
  const like = chat.lookAlikes.find(nick, key);
  return like ? { kind: "lookalike", nick, like } : undefined;
}

/** Refuses a password check while this address has failed too often (for this nick or any). */
function throttled(chat: Chat, session: Session, nick: string, key: string): RefusalOf<"throttled"> | undefined {
  const waitMs = chat.logins.wait(key, session.ip);
  if (waitMs <= 0) return undefined;
  chat.log.warn("login throttled", { id: session.id, nick, ip: session.ip });
  return { kind: "throttled", nick, waitMs };
}

/** Checks a password against the throttle and the hash. */
async function verify(
  chat: Chat,
  session: Session,
  nick: string,
  key: string,
  hash: string,
  password: string,
): Promise<Verified> {
  // The throttle is checked again here (a prompt may have been opened before
  // it closed), and every attempt counts as a failure until it has
  // succeeded, so guesses sent at once on many connections count too.
  const throttle = throttled(chat, session, nick, key);
  if (throttle) return throttle;
  const slowdown = chat.logins.slowdown(key); // many failures on this nick from everywhere: a moment's wait
  const attempt = chat.logins.begin(key, session.ip);
  if (slowdown > 0) await new Promise((resolve) => setTimeout(resolve, slowdown));
  let ok: boolean;
  try {
    ok = await verifyPassword(password, hash);
  } catch (error) {
    if (!(error instanceof ServerBusy)) throw error;
    chat.logins.cancel(attempt);
    return { kind: "busy", why: error.message };
  }
  if (session.closed) return GONE;
  if (!ok) {
    failedLogins.inc();
    chat.log.warn("login failed", { id: session.id, nick, ip: session.ip, reason: "wrong password" });
    return { kind: "wrong-password", nick };
  }
  chat.logins.succeeded(attempt);
  return { kind: "ok" };
}

/** Logs in to a registered nick whose password was right. */
function enter(chat: Chat, session: Session, nick: string, key: string, seat = true): LoginOutcome {
  // An operator may have banned the nick while we hashed.
  const ban = banned(chat, session, nick);
  if (ban) return ban;
  regain(chat, session, key);
  admit(chat, session, nick, key, true, seat);
  return { kind: "in", nick, registered: true };
}

/**
 * Checks the password of a registered nick without logging in (IRC SASL,
 * where the account is proven before the connection is registered), with
 * the same throttle and ban checks as a login, and without a word to the
 * session. On `ok`, `nick` is the account's own spelling; pass it to
 * {@linkcode loginChecked} to log in.
 */
export async function verifyAccount(
  chat: Chat,
  session: Session,
  nick: string,
  password: string,
): Promise<AccountCheck> {
  if (checkNick(nick)) return { kind: "unknown" };
  const key = foldNick(nick);
  const ban = banned(chat, session, nick);
  if (ban) return ban;
  const account = await chat.store.account(key);
  if (!account) return { kind: "unknown" };
  if (session.closed) return GONE;
  const checked = await verify(chat, session, account.nick, key, account.hash, password);
  return checked.kind === "ok" ? { kind: "ok", nick: account.nick } : checked;
}

/** Logs in to a registered nick whose password {@linkcode verifyAccount} accepted, without a word to the session. */
export function loginChecked(chat: Chat, session: Session, nick: string, options: LoginOptions = {}): LoginOutcome {
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
 * Changes a logged-in user's nick the line-protocol way: as
 * {@linkcode attemptNickChange}, with every refusal answered in telnet
 * words (`/nick nick <password>` for a registered nick).
 */
export async function changeNick(chat: Chat, session: Session, nick: string, password?: string): Promise<NickOutcome> {
  const result = await attemptNickChange(chat, session, nick, password);
  answer(session, nickWords(result));
  return result;
}

/**
 * Changes a logged-in user's nick without a word to the session (the door
 * answers from the outcome): the same rules as logging in (a registered
 * nick needs its password, given with it), refused while muted (a new nick
 * would shed the mute). Everyone in the user's rooms is told; ignores
 * follow the user to the new nick.
 */
export async function attemptNickChange(
  chat: Chat,
  session: Session,
  nick: string,
  password?: string,
): Promise<NickOutcome> {
  const user = session.user;
  if (!user) return GONE;
  const problem = checkNewNick(nick);
  if (problem) return { kind: "invalid", nick, problem };
  if (nick === user.nick) return { kind: "same", nick };
  if (chat.moderation.muted(user.key)) return { kind: "muted" };
  const key = foldNick(nick);
  if (key === user.key) {
    // Another spelling of the same nick, which may look like another nick as shown (Ivan, with a capital I, like lvan).
    const like = lookalike(chat, nick, key);
    if (like) return like;
    rename(chat, user, nick, key, user.registered);
    return { kind: "in", nick, registered: user.registered };
  }
  const ban = banned(chat, session, nick);
  if (ban) return ban;
  const account = await chat.store.account(key);
  if (session.closed || session.user !== user) return GONE;
  if (!account) {
    return password ? { kind: "not-registered", nick } : await renameAsGuest(chat, session, user, nick, key);
  }
  if (!password) return { kind: "password", nick: account.nick };
  const checked = throttled(chat, session, account.nick, key) ??
    await verify(chat, session, account.nick, key, account.hash, password);
  if (checked.kind !== "ok") return checked;
  if (session.user !== user) return GONE;
  regain(chat, session, key);
  rename(chat, user, account.nick, key, true);
  return { kind: "in", nick: account.nick, registered: true };
}

/** Changes to a guest (unregistered) nick, once it is claimed and nobody took it or a look-alike meanwhile. */
async function renameAsGuest(
  chat: Chat,
  session: Session,
  user: User,
  nick: string,
  key: string,
): Promise<NickOutcome> {
  const refusal = taken(chat, session, key) ?? lookalike(chat, nick, key) ?? await claimed(chat, session, nick, key);
  if (refusal) return refusal;
  if (session.user !== user) {
    if (!chat.nicks.has(key)) chat.peers.unclaim(key);
    return GONE;
  }
  const late = stillFree(chat, session, nick, key);
  if (late) return late;
  rename(chat, user, nick, key, false);
  return { kind: "in", nick, registered: false };
}

function rename(chat: Chat, user: User, nick: string, key: string, registered: boolean): void {
  const old = user.nick;
  const oldKey = user.key;
  const held = chat.nicks.get(oldKey) === user;
  if (held) chat.nicks.delete(oldKey);
  user.nick = nick;
  user.key = key;
  user.registered = registered;
  user.operator = registered && chat.opAccount(key);
  chat.nicks.set(key, user);
  // Held as spelled, even under the same key (ivan to Ivan, which looks like lvan as shown): the old spelling's add goes.
  if (held) chat.lookAlikes.delete(oldKey, old);
  chat.lookAlikes.add(nick, key);
  if (oldKey !== key) chat.ignores.renamed(user, oldKey); // only the users who ignore this one
  chat.log.info("nick", { old, nick, registered, operator: user.operator });
  chat.peers.renamed(user, oldKey, old);
  chat.announceAround(user, { type: "nick", old, nick, at: Date.now() });
}
