/**
 * Nick rules: 1–32 characters, starting with a letter of any script;
 * letters, digits and `_ - . [ ] { } | ^` after that; unique
 * case-insensitively. Following Unicode's rules for identifiers (UTS #39),
 * a nick may not contain invisible characters (Default_Ignorable_Code_Point:
 * joiners, variation selectors, Hangul fillers …) or combining marks that
 * are not on a letter, and may not mix scripts except in the usual ways
 * (Latin with Han, Hiragana and Katakana, with Han and Bopomofo, or with Han
 * and Hangul; digits and `_ - .` go with any script). Two nicks that look the
 * same have the same {@linkcode nickSkeleton}.
 *
 * @example
 * ```ts
 * import { checkNick, foldNick, nickSkeleton } from "./nick.ts";
 * checkNick("茶友"); // undefined: fine
 * checkNick("9lives"); // "a nick must start with a letter"
 * checkNick("\u0430lice"); // 'a nick may not mix scripts: "l" (U+006C) is Latin, "а" (U+0430) Cyrillic'
 * foldNick("Alice") === foldNick("alice"); // true
 * nickSkeleton("al\u0131ce") === nickSkeleton("alice"); // true (dotless ı)
 * ```
 * @module
 */
import { confusable } from "./confusables.ts";

/** The longest nick, in characters. */
export const MAX_NICK = 32;

const RULE = "use letters, digits and _ - . [ ] { } | ^";
const allowed = /^[\p{L}\p{M}\p{N}_\-.\[\]{}|^]$/u;
const invisible = /^\p{Default_Ignorable_Code_Point}$/u;
const mark = /^\p{M}$/u;
const letter = /^\p{L}$/u;

/** `U+0430`. */
export function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Checks a nick; returns why it is not acceptable (naming the character
 * and the rule, in one line), or `undefined` if it is.
 */
export function checkNick(nick: string): string | undefined {
  if (nick === "") return "a nick cannot be empty";
  const chars = [...nick];
  if (chars.length > MAX_NICK) {
    return `a nick has at most ${MAX_NICK} characters; this one has ${chars.length}`;
  }
  let marks = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const code = c.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) {
      return `a nick may not contain control characters (${codePoint(c)}); ${RULE}`;
    }
    if (invisible.test(c)) return `a nick may not contain ${codePoint(c)}: it is invisible`;
    if (i === 0 && !letter.test(c)) return "a nick must start with a letter";
    if (!allowed.test(c)) return `a nick may not contain ${describe(c)}; ${RULE}`;
    if (mark.test(c)) {
      if (marks === 0 && !letter.test(chars[i - 1])) {
        return `a nick may not contain ${codePoint(c)} after "${chars[i - 1]}": a combining mark must be on a letter`;
      }
      if (++marks > 4 || chars[i - 1] === c) {
        return `a nick may not contain ${codePoint(c)} there: too many combining marks on one letter`;
      }
    } else {
      marks = 0;
    }
  }
  return mixedScripts(nick.normalize("NFKC"));
}

/**
 * Checks a nick someone wants to take (logging in, changing nick, making an
 * account, `--op`): {@linkcode checkNick}, and not one of
 * {@linkcode RESERVED_NICKS} nor a look-alike of one. Naming a nick (a
 * private message's target, a ban) needs only `checkNick`, which is cheaper.
 */
export function checkNewNick(nick: string): string | undefined {
  return checkNick(nick) ?? reserved(nick);
}

/**
 * Names no user may take, nor a look-alike of them: the IRC door's server
 * name (its lines come from `teaparty`), and the usual IRC services, which
 * this server does not have: many IRC clients send `IDENTIFY <password>`
 * to NickServ on connecting, and whoever held that nick would read it.
 */
export const RESERVED_NICKS: readonly string[] = [
  "teaparty",
  "NickServ",
  "ChanServ",
  "MemoServ",
  "OperServ",
  "HostServ",
  "BotServ",
  "SaslServ",
  "Services",
];
let reservedSkeletons: Map<string, string> | undefined; // skeleton → the reserved name

function reserved(nick: string): string | undefined {
  reservedSkeletons ??= new Map(RESERVED_NICKS.map((name) => [nickSkeleton(name), name]));
  const name = reservedSkeletons.get(nickSkeleton(nick));
  if (name === undefined) return undefined;
  return name === "teaparty"
    ? `a nick may not be (or look like) ${name}: it is the server's own name`
    : `a nick may not be (or look like) ${name}: it is an IRC service's name, and this server has none`;
}

function describe(c: string): string {
  if (/\s/u.test(c)) return "spaces";
  return `"${c}"`;
}

/**
 * The case-insensitive key of a nick, under which it is stored: two nicks
 * are the same nick when their keys match. Final sigma (ς) folds to σ as in
 * Unicode case folding: `toLowerCase()` turns a word-final Σ into ς, so
 * without this "ΚΩΣ" and "κωσ" would differ. (ß stays ß here: "straße"
 * and "strasse" are two nicks, but they look alike, see
 * {@linkcode nickSkeleton}.)
 */
export function foldNick(nick: string): string {
  return nick.normalize("NFKC").toLowerCase().replaceAll("ς", "σ");
}

// Marks of the Inherited script (accents such as U+0301, U+0308, U+0307),
// except the kana voicing marks, which change how a kana looks.
const accent = /(?![\u3099\u309a])\p{Script=Inherited}/gu;

/**
 * What a nick looks like, for telling look-alike nicks apart from the
 * same nick: UTS #39's confusable skeleton of the folded nick, with full
 * case folding (ß is ss, dotless ı is i) and accents left out (é is e, and
 * `alice` with a dot above the e is `alice`). Two nicks that look the same
 * have equal skeletons: `alice`, `ALICE`, `alıce`, `a1ice`, `Аlice` (with a
 * Cyrillic А). Not stable across versions of the Unicode data, so it is
 * never stored; compare it only in memory.
 *
 * @example
 * ```ts
 * import { nickSkeleton } from "./nick.ts";
 * nickSkeleton("Straße") === nickSkeleton("strasse"); // true
 * nickSkeleton("Zoë") === nickSkeleton("zoe"); // true
 * ```
 */
export function nickSkeleton(nick: string): string {
  return mapConfusables(fullFold(foldNick(nick)));
}

// Maps confusables to their prototypes and folds, until nothing changes (a few passes at most).
function mapConfusables(text: string): string {
  let s = text;
  for (let pass = 0; pass < 4; pass++) {
    const next: string[] = [];
    for (const c of s) next.push(confusable(c.codePointAt(0)!) ?? c);
    const mapped = fullFold(next.join(""));
    if (mapped === s) break;
    s = mapped;
  }
  return s;
}

/**
 * The skeleton of a nick as it is shown, before case folding: a capital I
 * looks like a small l in many fonts, but folds to i (`aIice` is the key
 * `aiice`, and shown it looks like `alice`). Equal to `nickSkeleton` for
 * most nicks.
 *
 * @example
 * ```ts
 * import { nickSkeleton, shownSkeleton } from "./nick.ts";
 * shownSkeleton("aIice") === nickSkeleton("alice"); // true
 * shownSkeleton("Bob") === nickSkeleton("Bob"); // true
 * ```
 */
export function shownSkeleton(nick: string): string {
  return mapConfusables(nick.normalize("NFKC").normalize("NFD").replace(accent, ""));
}

// Full case folding (ß is ss), without accents, decomposed.
function fullFold(text: string): string {
  return text.toUpperCase().toLowerCase().replaceAll("ς", "σ").normalize("NFD").replace(accent, "");
}

// ---- scripts (UTS #39 "Highly Restrictive")

const SCRIPTS = (
  "Adlam Caucasian_Albanian Ahom Arabic Imperial_Aramaic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali " +
  "Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Chakma Canadian_Aboriginal Carian Cham Cherokee Chorasmian " +
  "Coptic Cypro_Minoan Cypriot Cyrillic Devanagari Dives_Akuru Dogra Deseret Duployan Egyptian_Hieroglyphs " +
  "Elbasan Elymaic Ethiopic Georgian Glagolitic Gunjala_Gondi Masaram_Gondi Gothic Grantha Greek Gujarati " +
  "Gurmukhi Hangul Han Hanunoo Hatran Hebrew Hiragana Anatolian_Hieroglyphs Pahawh_Hmong Nyiakeng_Puachue_Hmong " +
  "Old_Hungarian Old_Italic Javanese Kayah_Li Katakana Kawi Kharoshthi Khmer Khojki Khitan_Small_Script Kannada " +
  "Kaithi Tai_Tham Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Mandaic " +
  "Manichaean Marchen Medefaidrin Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Malayalam Modi Mongolian " +
  "Mro Meetei_Mayek Multani Myanmar Nag_Mundari Nandinagari Old_North_Arabian Nabataean Newa Nko Nushu Ogham " +
  "Ol_Chiki Old_Turkic Oriya Osage Osmanya Old_Uyghur Palmyrene Pau_Cin_Hau Old_Permic Phags_Pa " +
  "Inscriptional_Pahlavi Psalter_Pahlavi Phoenician Miao Inscriptional_Parthian Rejang Hanifi_Rohingya Runic " +
  "Samaritan Old_South_Arabian Saurashtra SignWriting Shavian Sharada Siddham Khudawadi Sinhala Sogdian " +
  "Old_Sogdian Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagbanwa Takri Tai_Le New_Tai_Lue Tamil Tangut " +
  "Tai_Viet Telugu Tifinagh Tagalog Thaana Thai Tibetan Tirhuta Tangsa Toto Ugaritic Vai Vithkuqi Warang_Citi " +
  "Wancho Old_Persian Cuneiform Yezidi Yi Zanabazar_Square " +
  // Unicode 16; skipped where the runtime does not know them yet
  "Garay Gurung_Khema Kirat_Rai Ol_Onal Sunuwar Todhri Tulu_Tigalari"
).split(" ");

let scriptTests: { name: string; scx: RegExp; sc: RegExp }[] | undefined;

function tests(): { name: string; scx: RegExp; sc: RegExp }[] {
  if (scriptTests) return scriptTests;
  scriptTests = [];
  for (const name of SCRIPTS) {
    try {
      scriptTests.push({ name, scx: new RegExp(`^\\p{scx=${name}}$`, "u"), sc: new RegExp(`^\\p{sc=${name}}$`, "u") });
    } catch { /* a script this runtime's Unicode version does not have */ }
  }
  return scriptTests;
}

const anyScript = /^[\p{scx=Common}\p{scx=Inherited}]$/u;
const ascii = /^[\x21-\x7e]$/;
const asciiLetter = /^[A-Za-z]$/;
const scxCache = new Map<string, readonly string[]>();

/** The scripts of a character (Script_Extensions), augmented as UTS #39 says; `[]` for Common and Inherited. */
function scriptsOf(c: string): readonly string[] {
  if (ascii.test(c)) return asciiLetter.test(c) ? LATIN : NONE;
  let known = scxCache.get(c);
  if (known) return known;
  if (anyScript.test(c)) known = NONE;
  else {
    const set = new Set<string>();
    for (const t of tests()) if (t.scx.test(c)) set.add(t.name);
    if (set.size === 0) set.add("Unknown");
    // Japanese (Jpan), Korean (Kore) and Han with Bopomofo (Hanb) are single writing systems.
    if (set.has("Han")) set.add("Jpan").add("Kore").add("Hanb");
    if (set.has("Hiragana") || set.has("Katakana")) set.add("Jpan");
    if (set.has("Hangul")) set.add("Kore");
    if (set.has("Bopomofo")) set.add("Hanb");
    known = [...set];
  }
  if (scxCache.size > 4096) scxCache.clear();
  scxCache.set(c, known);
  return known;
}
const LATIN: readonly string[] = ["Latin"];
const NONE: readonly string[] = [];

/** The main script of a character, for messages. */
function scriptName(c: string): string {
  if (asciiLetter.test(c)) return "Latin";
  for (const t of tests()) if (t.sc.test(c)) return t.name.replaceAll("_", " ");
  return scriptsOf(c)[0]?.replaceAll("_", " ") ?? "Common";
}

// The scripts every character belongs to; undefined when no character has a script (digits only …).
function shared(chars: string[]): Set<string> | undefined {
  let common: Set<string> | undefined;
  for (const c of chars) {
    const scripts = scriptsOf(c);
    common = common ? new Set(scripts.filter((s) => common!.has(s))) : new Set(scripts);
  }
  return common;
}

/**
 * Refuses a name whose characters share no script, except Latin with
 * Japanese, Korean or Han with Bopomofo (UTS #39 "Highly Restrictive"):
 * says why, naming `what` ("a nick", "a room name"), or undefined.
 *
 * @example
 * ```ts
 * import { mixedScripts } from "./nick.ts";
 * mixedScripts("m\u0430in", "a room name"); // 'a room name may not mix scripts: "m" (U+006D) is Latin, …'
 * mixedScripts("茶室"); // undefined
 * ```
 */
export function mixedScripts(nick: string, what = "a nick"): string | undefined {
  const chars = [...nick].filter((c) => scriptsOf(c).length > 0);
  const all = shared(chars);
  if (all === undefined || all.size > 0) return undefined;
  const rest = shared(chars.filter((c) => !scriptsOf(c).includes("Latin")));
  if (rest && ["Jpan", "Kore", "Hanb"].some((s) => rest.has(s))) return undefined;
  for (let i = 1; i < chars.length; i++) {
    if (shared(chars.slice(0, i + 1))!.size === 0) return mixed(chars[0], chars[i], what);
  }
  return undefined; // not reached: the whole nick shares no script
}

function mixed(a: string, b: string, what: string): string {
  return `${what} may not mix scripts: "${a}" (${codePoint(a)}) is ${scriptName(a)}, ` +
    `"${b}" (${codePoint(b)}) ${scriptName(b)}`;
}

// ---- look-alikes

/**
 * Nicks by skeleton, to find a nick that looks like another one held under
 * a different key (registered, online, …). Each key may be added more than
 * once (say, registered and online), each time with its spelling (an
 * account `ivan`, its user online as `Ivan`); it stays until deleted as
 * often, and each spelling is looked at as shown until its adds are taken
 * back.
 *
 * @example
 * ```ts
 * import { LookAlikes } from "./nick.ts";
 * const taken = new LookAlikes();
 * taken.add("alice");
 * taken.find("al\u0131ce"); // "alice"
 * taken.find("alice"); // undefined: the same nick, not a look-alike
 * ```
 */
export class LookAlikes {
  // One held key per skeleton (the usual case) as a plain entry, several as a list in the order they came.
  // A key is under its skeleton, and under the skeleton as shown of each of its spellings that differs
  // (a capital I, which looks like an l): one entry in each place.
  #bySkeleton = new Map<string, HeldNick | HeldNick[]>();

  /** Adds a nick (under its key, `foldNick(nick)` unless given), as spelled. */
  add(nick: string, key: string = foldNick(nick)): void {
    const skeleton = nickSkeleton(key);
    const shown = shownSkeleton(nick);
    const entry = this.#entry(skeleton, key);
    if (!entry) {
      const held = { key, nicks: [nick] };
      this.#put(skeleton, held);
      if (shown !== skeleton) this.#put(shown, held);
      return;
    }
    const indexed = shown === skeleton || entry.nicks.some((n) => shownSkeleton(n) === shown);
    entry.nicks.push(nick);
    if (!indexed) this.#put(shown, entry);
  }

  /**
   * Takes back one {@linkcode LookAlikes.add} of a key: the one of `nick`
   * as spelled when added, else the latest. A spelling whose adds are all
   * taken back is no longer looked at as shown.
   */
  delete(key: string, nick?: string): void {
    const skeleton = nickSkeleton(key);
    const entry = this.#entry(skeleton, key);
    if (!entry) return;
    const at = nick === undefined ? -1 : entry.nicks.lastIndexOf(nick);
    const [gone] = entry.nicks.splice(at >= 0 ? at : entry.nicks.length - 1, 1);
    const shown = shownSkeleton(gone);
    if (entry.nicks.length === 0) this.#take(skeleton, entry);
    const kept = entry.nicks.some((n) => shownSkeleton(n) === shown);
    if (shown !== skeleton && !kept) this.#take(shown, entry);
  }

  /** Whether a key is held. */
  has(key: string): boolean {
    return this.#entry(nickSkeleton(key), key) !== undefined;
  }

  /** The spelling of each add of a key still held, oldest first (none: not held). */
  spellings(key: string): string[] {
    return [...this.#entry(nickSkeleton(key), key)?.nicks ?? []];
  }

  /** Every key held. */
  keys(): string[] {
    const keys = new Set<string>();
    for (const held of this.#bySkeleton.values()) for (const e of Array.isArray(held) ? held : [held]) keys.add(e.key);
    return [...keys];
  }

  /** A nick held under another key that looks like `nick`, if any (as spelled when it was added). */
  find(nick: string, key: string = foldNick(nick)): string | undefined {
    const skeleton = nickSkeleton(key);
    const shown = shownSkeleton(nick);
    return this.#other(skeleton, key) ?? (shown === skeleton ? undefined : this.#other(shown, key));
  }

  #entry(skeleton: string, key: string): HeldNick | undefined {
    const held = this.#bySkeleton.get(skeleton);
    if (!held) return undefined;
    if (!Array.isArray(held)) return held.key === key ? held : undefined;
    return held.find((e) => e.key === key);
  }

  #other(skeleton: string, key: string): string | undefined {
    const held = this.#bySkeleton.get(skeleton);
    if (!held) return undefined;
    const other = Array.isArray(held) ? held.find((e) => e.key !== key) : held.key !== key ? held : undefined;
    return other && spelledAs(other, skeleton);
  }

  #put(skeleton: string, entry: HeldNick): void {
    const held = this.#bySkeleton.get(skeleton);
    if (!held) this.#bySkeleton.set(skeleton, entry);
    else if (Array.isArray(held)) held.push(entry);
    else this.#bySkeleton.set(skeleton, [held, entry]);
  }

  #take(skeleton: string, entry: HeldNick): void {
    const held = this.#bySkeleton.get(skeleton);
    if (held === entry) this.#bySkeleton.delete(skeleton);
    else if (Array.isArray(held)) {
      const at = held.indexOf(entry);
      if (at >= 0) held.splice(at, 1);
      if (held.length === 1) this.#bySkeleton.set(skeleton, held[0]);
    }
  }
}

// A key held in LookAlikes: the nick as spelled at each add, oldest first (as many as it was added).
interface HeldNick {
  key: string;
  nicks: string[];
}

// The spelling to name for a skeleton a held key is under: the oldest, or the oldest that looks so as shown.
function spelledAs(held: HeldNick, skeleton: string): string {
  if (nickSkeleton(held.key) === skeleton) return held.nicks[0];
  return held.nicks.find((n) => shownSkeleton(n) === skeleton) ?? held.nicks[0];
}
