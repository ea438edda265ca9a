/**
 * teaparty's web client. It speaks the line protocol over a WebSocket on the
 * page's own origin (`/ws`): every frame it sends is one line, as a telnet
 * user would type it; every frame it receives is one JSON event (see
 * events.ts). Hand-written, no build step, no framework; user text only ever
 * reaches the page through `textContent`.
 *
 * The pure helpers at the top are exported for the unit tests; the page
 * starts itself when loaded in a browser.
 *
 * @module
 */

// ---------------------------------------------------------------- helpers

/**
 * The longest line the server takes, in UTF-8 bytes, until its welcome says
 * otherwise (`maxLine`, the server's `--max-line`): a longer WebSocket message
 * closes the connection with 1009, so the page refuses it before sending.
 */
export const MAX_LINE = 4096;

/** How many nick colours the style sheet has (`.n0` … `.n11`). */
export const COLOURS = 12;

/** The case-insensitive key of a nick, as the server folds it. */
export function foldNick(nick) {
  return String(nick).normalize("NFKC").toLowerCase().replaceAll("ς", "σ");
}

/** The case-insensitive key of a room name (a leading `#` dropped). */
export function foldRoom(name) {
  const bare = String(name).startsWith("#") ? String(name).slice(1) : String(name);
  return bare.normalize("NFKC").toLowerCase();
}

/** A nick's colour, 0 … COLOURS-1: the same for every spelling of the nick, on every page. */
export function nickColour(nick) {
  let hash = 0x811c9dc5; // FNV-1a over the folded nick's code points
  for (const ch of foldNick(nick)) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % COLOURS;
}

/**
 * How long to wait before reconnect attempt `attempt` (0, 1, 2 …): 0.5 s
 * doubling up to 15 s, give or take a quarter so that many pages do not
 * come back at the same instant.
 */
export function backoff(attempt, random = Math.random) {
  const base = Math.min(15000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** The UTF-8 length of a string. */
export function byteLength(text) {
  return new TextEncoder().encode(text).length;
}

const SECRET_WORDS = new Set(["login", "register", "password", "nick"]);

/** Whether a line may carry a password (kept out of the recall list). */
export function isSecret(line) {
  const m = /^\s*\/?(\S+)/.exec(line);
  return m !== null && SECRET_WORDS.has(m[1].toLowerCase());
}

/**
 * The password a line sets for a nick, if any, so that the page can log in
 * again by itself after a reconnect: `/register pw`, `/password old new`,
 * `/nick other pw`. Kept in memory only.
 */
export function passwordIn(line, me) {
  const words = line.trim().split(/\s+/);
  const name = (words[0] ?? "").replace(/^\//, "").toLowerCase();
  if (!line.trim().startsWith("/")) return undefined;
  if (name === "register" && words.length === 2) return { nick: me, password: words[1] };
  if (name === "password" && words.length === 3) return { nick: me, password: words[2] };
  if (name === "nick" && words.length === 3) return { nick: words[1], password: words[2] };
  return undefined;
}

/**
 * What typing `text` in a view means: a line to send, a local action, or a
 * refusal. In a room a line goes as typed (the line protocol: `/commands`,
 * `@nick text`, chat); in a private conversation plain text becomes
 * `/msg nick text`. Local commands: `/query nick [text]`, `/close`, `/keys`.
 *
 * A line longer than `maxLine` UTF-8 bytes (as sent: the server counts the
 * WebSocket message's bytes) is refused with a one-line error.
 *
 * @param {{kind: "room"|"private", name: string}} view
 * @param {string} text
 * @param {number} [maxLine]
 * @returns {{send?: string, local?: string, arg?: string, error?: string}}
 */
export function outgoing(view, text, maxLine = MAX_LINE) {
  const line = text.replace(/[\r\n]+/g, " ");
  const trimmed = line.trim();
  if (trimmed === "") return {};
  const command = /^\/(\S+)\s*(.*)$/s.exec(trimmed);
  const name = command ? command[1].toLowerCase() : "";
  if (name === "query") {
    const [nick, ...rest] = command[2].split(/\s+/);
    if (!nick) return { error: "Usage: /query <nick> [text]: opens a private conversation." };
    return { local: "query", arg: nick, send: rest.length ? `/msg ${nick} ${rest.join(" ")}` : undefined };
  }
  if (name === "close") return { local: "close" };
  if (name === "keys") return { local: "keys" };
  let send = line;
  if (view.kind === "private") {
    if (name === "me") return { error: "/me acts in the room; in a private conversation, write the action out." };
    if (!command || trimmed.startsWith("//")) send = `/msg ${view.name} ${command ? trimmed.slice(1) : trimmed}`;
  }
  const error = tooLong(send, maxLine);
  return error ? { error } : { send };
}

/** Why `line` cannot be sent to a server that takes at most `maxLine` bytes ("" if it can). */
export function tooLong(line, maxLine = MAX_LINE) {
  const bytes = byteLength(line);
  if (bytes <= maxLine) return "";
  return `That line is ${bytes} bytes; the server takes at most ${maxLine}. It was not sent: it is still in the box.`;
}

/** The line limit a welcome event gives (`maxLine`), or `known` if it gives none that makes sense. */
export function welcomeLimit(event, known = MAX_LINE) {
  const n = event?.maxLine;
  return Number.isSafeInteger(n) && n > 0 ? n : known;
}

/** The limit a 1009 close's reason names ("message too big: at most 200 bytes"), if it names one. */
export function limitInReason(reason) {
  const m = /at most (\d+) bytes/.exec(String(reason ?? ""));
  return m ? Number(m[1]) : undefined;
}

/**
 * The nick a line sends a private message to (`/msg nick text`, `@nick
 * text`), if it is one: answers about that message ("nick is away: …")
 * belong in that conversation.
 */
export function privateTarget(line) {
  const m = /^\s*(?:\/msg\s+|@)(\S+)\s+\S/i.exec(line);
  return m ? m[1] : undefined;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

/** A time for the log: `HH:MM` today, `YYYY-MM-DD HH:MM` another day (local time). */
export function clock(time, now = new Date()) {
  const d = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(d.getTime())) return "";
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return hm;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** Whether `text` names `nick` as a word (a mention). */
export function mentions(text, nick) {
  if (!nick) return false;
  const t = foldNick(text);
  const n = foldNick(nick);
  let i = t.indexOf(n);
  const word = /[\p{L}\p{N}_\-[\]{}|^]/u;
  while (i !== -1) {
    const before = t[i - 1];
    const after = t[i + n.length];
    if ((before === undefined || !word.test(before)) && (after === undefined || !word.test(after))) return true;
    i = t.indexOf(n, i + 1);
  }
  return false;
}

/**
 * Whether to reconnect by itself after a connection closed with `code`,
 * having said `goodbye` ("" if it said none). A lost connection, a server
 * going away (1001, "shutting down") and a line the server found too long
 * (1009: the line is put back in the box, not sent again) are reconnected;
 * a refused page (1003; 1008: an origin not allowed, a banned address)
 * and a goodbye of any other kind (a kick, a ban, a logout, a login from
 * elsewhere) are not: reconnecting would undo them.
 */
export function reconnectAfter(goodbye, code = 1006) {
  if (code === 1003 || code === 1008) return false;
  if (code === 1009) return true;
  if (goodbye === "") return true;
  return code === 1001 || /shutting down/i.test(goodbye);
}

/** The keyboard help of this page, as notice lines. */
export const KEYS = [
  "This page: Alt+1…9 switches to a conversation, Alt+↑/↓ to the previous/next one.",
  "Esc goes back to the message box; ↑/↓ in it recall what you sent; PgUp/PgDn scroll the log.",
  "Alt+C: conversations, Alt+P: people (on small screens). /query <nick> opens a private conversation;",
  "/close closes it. Enter sends.",
];

// ---------------------------------------------------------------- the page

/** The page: connection, conversations and their DOM. */
function start() {
  const $ = (id) => document.getElementById(id);
  const ui = {
    body: document.body,
    serverName: $("server-name"),
    where: $("where"),
    statusText: $("status-text"),
    reconnect: $("reconnect"),
    logout: $("logout"),
    openSide: $("open-side"),
    openMembers: $("open-members"),
    sideUnread: $("side-unread"),
    login: $("login"),
    loginForm: $("login-form"),
    welcome: $("welcome"),
    nickRow: $("nick-row"),
    nick: $("nick"),
    passwordRow: $("password-row"),
    passwordLabel: $("password-label"),
    password: $("password"),
    passwordCancel: $("password-cancel"),
    loginError: $("login-error"),
    chat: $("chat"),
    side: $("side"),
    rooms: $("rooms"),
    privates: $("privates"),
    noPrivates: $("no-privates"),
    joinForm: $("join-form"),
    joinRoom: $("join-room"),
    topic: $("topic"),
    logs: $("logs"),
    newer: $("newer"),
    sayForm: $("say-form"),
    input: $("input"),
    inputLabel: $("input-label"),
    membersPane: $("members-pane"),
    membersTitle: $("members-title"),
    members: $("members"),
    membersMore: $("members-more"),
    scrim: $("scrim"),
    bar: document.querySelector(".bar"),
    main: document.querySelector("main"),
    skip: document.querySelector(".skip"),
  };

  const LOG_LIMIT = 2000;
  /** How often the room list is asked for while it is on screen and the page is in use. */
  const ROOMS_EVERY_MS = 5000;
  /** The page counts as in use this long after a key, a click or a pointer move. */
  const IN_USE_MS = 120000;
  /** How long after a typed line the room-less answers to it go to the conversation it was typed in. */
  const ANSWER_MS = 3000;
  const LOGIN_RETRIES = 5;

  const state = {
    ws: null,
    conn: "connecting",
    attempt: 0,
    timer: 0,
    server: "teaparty",
    /** Logged in as: {nick, registered, operator}. */
    me: null,
    /** Who to log in as, in memory only: {nick, password?}. */
    wanted: null,
    /** Log in by itself when a connection opens (after the first login). */
    auto: false,
    loginTries: 0,
    triedSecret: false,
    prompting: false,
    goodbye: "",
    leaving: false,
    wasOnline: false,
    reseat: false,
    /** The room to go back to after logging in again. */
    rejoin: "",
    room: "",
    /** Conversations by key ("room:main", "nick:bob"). */
    views: new Map(),
    active: null,
    /** Rooms known from /rooms: fold → {name, count}. */
    rooms: new Map(),
    roomsMore: 0,
    members: { room: "", nicks: new Map(), count: 0 },
    /** Answers the page asked for itself (not shown in the log). */
    quiet: { members: 0, rooms: 0 },
    recall: [],
    recallAt: 0,
    draft: "",
    /** The longest line the server takes, in bytes (from its welcome). */
    maxLine: MAX_LINE,
    /** The last lines typed and sent, to put back in the box if the server refuses one as too long. */
    sent: [],
    /** The last typed line: {view, to, at}; its answers go to `view` (or `to`'s conversation). */
    asked: null,
    /** You were kicked out of a room: {text, timer}, said once where you land. */
    kicked: null,
    /** When the room list was last asked for, and when the page was last used. */
    roomsAt: 0,
    usedAt: Date.now(),
  };

  // ------------------------------------------------------------ DOM bits

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function timeEl(time) {
    const d = time ? new Date(time) : new Date();
    const t = el("time", "at", clock(d));
    if (!Number.isNaN(d.getTime())) {
      t.dateTime = d.toISOString();
      t.title = d.toLocaleString();
    }
    return t;
  }

  function nickEl(nick) {
    return el("span", `nick n${nickColour(nick)}`, nick);
  }

  // ------------------------------------------------------------ conversations

  function viewKey(kind, name) {
    return kind === "room" ? `room:${foldRoom(name)}` : `nick:${foldNick(name)}`;
  }

  function view(kind, name) {
    const key = viewKey(kind, name);
    let v = state.views.get(key);
    if (v) return v;
    const log = el("div", "log");
    log.id = `log-${state.views.size}`;
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", kind === "room" ? `Messages in ${name}` : `Private conversation with ${name}`);
    log.tabIndex = 0;
    log.hidden = true;
    v = { key, kind, name, log, unread: 0, mention: false, stick: true, unseen: 0, ids: new Set(), topic: null };
    v.entering = false;
    log.addEventListener("scroll", () => {
      v.stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
      if (v.stick && v === state.active) {
        v.unseen = 0;
        ui.newer.hidden = true;
      }
    });
    ui.logs.append(log);
    state.views.set(key, v);
    renderSide();
    return v;
  }

  function roomView(name) {
    return view("room", name);
  }

  function privateView(nick) {
    return view("private", nick);
  }

  /** The conversations Alt+N and Alt+↑/↓ go through: the room, then the private ones. */
  function switchable() {
    const list = [];
    const room = state.room ? state.views.get(viewKey("room", state.room)) : undefined;
    if (room) list.push(room);
    for (const v of state.views.values()) if (v.kind === "private") list.push(v);
    return list;
  }

  function select(v, focus = false) {
    if (!v) return;
    const old = state.active;
    state.active = v;
    if (old && old !== v) old.log.hidden = true;
    v.log.hidden = false;
    v.unread = 0;
    v.mention = false;
    if (v.stick) v.log.scrollTop = v.log.scrollHeight;
    v.unseen = 0;
    ui.newer.hidden = true;
    ui.where.textContent = v.kind === "room" ? `#${v.name}` : `@${v.name}`;
    ui.inputLabel.textContent = v.kind === "room" ? `Message to ${v.name}` : `Private message to ${v.name}`;
    ui.input.placeholder = v.kind === "room" ? `Message #${v.name} (/help)` : `Message @${v.name}`;
    ui.body.dataset.active = v.key;
    renderTopic();
    renderSide();
    renderMembers();
    if (focus) ui.input.focus();
  }

  function closeView(v) {
    if (!v || v.kind !== "private") return;
    state.views.delete(v.key);
    v.log.remove();
    if (state.active === v) select(switchable()[0]);
    renderSide();
  }

  function renameView(oldNick, nick) {
    const v = state.views.get(viewKey("private", oldNick));
    if (!v) return;
    state.views.delete(v.key);
    const existing = state.views.get(viewKey("private", nick));
    if (existing && existing !== v) {
      existing.log.append(...v.log.childNodes);
      v.log.remove();
      if (state.active === v) select(existing);
      return;
    }
    v.name = nick;
    v.key = viewKey("private", nick);
    v.log.setAttribute("aria-label", `Private conversation with ${nick}`);
    state.views.set(v.key, v);
    if (state.active === v) select(v);
  }

  // ------------------------------------------------------------ log lines

  /** Appends a line to a conversation; counts it unread when it is not in view. */
  function append(v, line, { unread = false, mention = false } = {}) {
    const log = v.log;
    log.append(line);
    if (log.childElementCount > LOG_LIMIT && (v.stick || log.childElementCount > LOG_LIMIT * 1.5)) {
      const first = log.firstElementChild;
      const height = first.offsetHeight;
      first.remove();
      if (!v.stick) log.scrollTop -= height;
    }
    if (v === state.active && !log.hidden) {
      if (v.stick) log.scrollTop = log.scrollHeight;
      else {
        v.unseen++;
        ui.newer.textContent = `${v.unseen} new ↓`;
        ui.newer.hidden = false;
      }
    }
    if (unread && v !== state.active) {
      v.unread++;
      if (mention) v.mention = true;
      renderSide();
    } else if (unread && document.hidden) {
      v.unread++;
      renderTitle();
    }
  }

  /** A said line: chat, action, history, private or mail. */
  function said(v, { nick, text, time, action = false, kind = "", id, to }) {
    const line = el("div", `line ${action ? "act" : "talk"}${kind ? " " + kind : ""}`);
    if (id !== undefined) line.dataset.id = String(id);
    line.append(timeEl(time));
    const mine = state.me && foldNick(nick) === foldNick(state.me.nick);
    if (mine) line.classList.add("mine");
    const mention = !mine && state.me && mentions(text, state.me.nick);
    if (mention) line.classList.add("mention");
    if (action) {
      line.append(el("span", "star", "* "), nickEl(nick), el("span", "text", " " + text));
    } else {
      line.append(nickEl(nick));
      if (to) line.append(el("span", "to", ` → ${to}`));
      line.append(el("span", "sep", ": "), el("span", "text", text));
    }
    if (kind === "mail") line.append(el("span", "tag", " (while you were away)"));
    append(v, line, { unread: !mine && kind !== "history", mention: mention || v.kind === "private" });
  }

  /** A server line: notices, errors, entries and leaves. */
  function system(v, text, kind = "notice", time = undefined) {
    if (!v) return;
    const line = el("div", `line ${kind}`);
    line.append(timeEl(time), el("span", "text", text));
    append(v, line);
  }

  /** The view in front (for the page's own answers to what was just done there), else the room. */
  function here() {
    return state.active ?? (state.room ? roomView(state.room) : undefined);
  }

  /** The log of the room you are in (else the view in front): where server notices without a room go. */
  function roomLog() {
    return state.room ? roomView(state.room) : here();
  }

  /**
   * Where a server line without a room goes (a notice, an error, /who …):
   * an answer about a private message just sent to a nick it names (e.g.
   * "rooty is away: …") to that conversation; an answer to a line just typed
   * in a private conversation to that conversation; anything else to the
   * room's log.
   */
  function roomless(text) {
    const a = state.asked;
    if (a && Date.now() - a.at < ANSWER_MS) {
      if (a.to && text !== undefined && mentions(text, a.to)) {
        const v = state.views.get(viewKey("private", a.to));
        if (v) return v;
      }
      if (a.view.kind === "private" && state.views.get(a.view.key) === a.view) return a.view;
    }
    return roomLog();
  }

  /** Says the kick you had, once, in `v` (where you landed). */
  function sayKick(v) {
    const k = state.kicked;
    if (!k) return;
    clearTimeout(k.timer);
    state.kicked = null;
    system(v, k.text, "error");
  }

  // ------------------------------------------------------------ side panes

  function renderTitle() {
    let unread = 0;
    for (const v of state.views.values()) unread += v.unread;
    document.title = unread > 0 ? `(${unread}) ${state.server}` : state.server;
    ui.sideUnread.hidden = unread === 0;
    ui.sideUnread.textContent = String(unread);
  }

  /** Re-renders a list, keeping keyboard focus on the item of the same key. */
  function renderList(list, items) {
    const focused = document.activeElement?.dataset?.key;
    const focusedClose = document.activeElement?.dataset?.close;
    list.replaceChildren(...items);
    if (focused || focusedClose) {
      const again = list.querySelector(
        focused ? `[data-key="${CSS.escape(focused)}"]` : `[data-close="${CSS.escape(focusedClose)}"]`,
      );
      again?.focus();
    }
  }

  function badge(v) {
    const b = el("span", `badge${v.mention ? " hot" : ""}`, String(v.unread));
    b.setAttribute("aria-label", `${v.unread} unread`);
    return b;
  }

  function renderSide() {
    // Rooms: the ones the server listed, and the one we are in.
    const rooms = new Map(state.rooms);
    if (state.room) {
      const k = foldRoom(state.room);
      rooms.set(k, { name: state.room, count: state.members.room === state.room ? state.members.count : 0 });
    }
    const items = [];
    let n = 0;
    for (const [k, r] of rooms) {
      const current = state.room && k === foldRoom(state.room);
      const li = el("li");
      const b = el("button", `conv room${current ? " current" : ""}`);
      b.type = "button";
      b.dataset.key = `room:${k}`;
      b.dataset.room = r.name;
      if (current) {
        n++;
        if (state.active?.key === b.dataset.key) b.setAttribute("aria-current", "true");
        b.title = `You are in ${r.name} (Alt+${n})`;
      } else b.title = `Go to ${r.name}`;
      b.append(el("span", "name", `#${r.name}`), el("span", "count", String(r.count)));
      const v = state.views.get(`room:${k}`);
      if (current && v?.unread) b.append(badge(v));
      li.append(b);
      items.push(li);
    }
    if (state.roomsMore > 0) items.push(el("li", "hint", `and ${state.roomsMore} more (/rooms)`));
    renderList(ui.rooms, items);

    const privates = [];
    for (const v of state.views.values()) {
      if (v.kind !== "private") continue;
      n++;
      const li = el("li", "private-item");
      const b = el("button", "conv private");
      b.type = "button";
      b.dataset.key = v.key;
      if (state.active === v) b.setAttribute("aria-current", "true");
      b.title = n <= 9 ? `Private conversation with ${v.name} (Alt+${n})` : `Private conversation with ${v.name}`;
      b.append(el("span", `name n${nickColour(v.name)}`, `@${v.name}`));
      if (v.unread) b.append(badge(v));
      const x = el("button", "close", "×");
      x.type = "button";
      x.dataset.close = v.key;
      x.setAttribute("aria-label", `Close the conversation with ${v.name}`);
      li.append(b, x);
      privates.push(li);
    }
    renderList(ui.privates, privates);
    ui.noPrivates.hidden = privates.length > 0;
    renderTitle();
  }

  function renderTopic() {
    const v = state.active;
    ui.topic.replaceChildren();
    if (!v) return;
    if (v.kind === "private") {
      ui.topic.append(el("span", "label", "Private conversation with "), nickEl(v.name));
      return;
    }
    if (v.topic && v.topic.text) {
      ui.topic.append(el("span", "label", "Topic: "), el("span", "text", v.topic.text));
      if (v.topic.by) ui.topic.append(el("span", "by", ` — set by ${v.topic.by}`));
    } else {
      ui.topic.append(el("span", "label none", `#${v.name}: no topic`));
    }
  }

  function renderMembers() {
    const m = state.members;
    ui.membersTitle.textContent = m.room ? `People in ${m.room} (${m.count})` : "People";
    const me = state.me ? foldNick(state.me.nick) : "";
    const nicks = [...m.nicks.values()].sort((a, b) => a.localeCompare(b));
    const items = nicks.map((nick) => {
      const li = el("li");
      if (foldNick(nick) === me) {
        li.append(el("span", `member self n${nickColour(nick)}`, nick), el("span", "hint you", "(you)"));
        return li;
      }
      const b = el("button", `member n${nickColour(nick)}`, nick);
      b.type = "button";
      b.dataset.key = `member:${foldNick(nick)}`;
      b.dataset.nick = nick;
      b.title = `Private conversation with ${nick}`;
      li.append(b);
      return li;
    });
    renderList(ui.members, items);
    const more = m.count - nicks.length;
    ui.membersMore.hidden = more <= 0;
    ui.membersMore.textContent = more > 0 ? `and ${more} more` : "";
    if (m.room && state.rooms.has(foldRoom(m.room))) state.rooms.get(foldRoom(m.room)).count = m.count;
  }

  // ------------------------------------------------------------ connection

  function setConn(conn, text) {
    state.conn = conn;
    ui.body.dataset.conn = conn;
    ui.statusText.textContent = text;
    ui.reconnect.hidden = !(conn === "offline" || conn === "reconnecting");
  }

  function wsUrl() {
    return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  }

  function connect() {
    clearTimeout(state.timer);
    state.timer = 0;
    if (state.ws) return;
    setConn("connecting", state.wasOnline ? "Reconnecting…" : "Connecting…");
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch (error) {
      setConn("offline", `Cannot connect: ${error.message}`);
      return;
    }
    state.ws = ws;
    state.goodbye = "";
    state.triedSecret = false;
    state.prompting = false;
    state.quiet = { members: 0, rooms: 0 };
    ws.onopen = () => {
      if (ws !== state.ws) return;
      setConn("open", "Connected");
      if (state.auto && state.wanted) {
        state.loginTries = 0;
        sendLine(`login ${state.wanted.nick}`);
      }
    };
    ws.onmessage = (message) => {
      if (ws !== state.ws || typeof message.data !== "string") return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return; // not an event: ignored
      }
      if (event && typeof event.type === "string" && Object.hasOwn(on, event.type)) on[event.type](event);
    };
    ws.onclose = (close) => {
      if (ws !== state.ws) return;
      state.ws = null;
      closed(close);
    };
  }

  function closed(close) {
    const wasIn = state.me !== null;
    state.me = null;
    clearInterval(state.roomsTimer);
    if (state.prompting) endPrompt();
    ui.logout.hidden = true;
    if (state.leaving) {
      if (state.wanted) ui.nick.value = state.wanted.nick;
      state.leaving = false;
      state.auto = false;
      state.wanted = null;
      state.wasOnline = false;
      state.room = "";
      state.rejoin = "";
      for (const v of state.views.values()) v.log.remove();
      state.views.clear();
      state.active = null;
      state.rooms.clear();
      showLogin(state.goodbye || "You logged out.");
      setConn("offline", "Logged out");
      return;
    }
    const why = state.goodbye || closeReason(close);
    if (state.kicked) sayKick(roomLog()); // no goodbye said it
    if (wasIn) {
      state.rejoin = state.room;
      state.reseat = true;
      system(roomLog(), `Connection lost: ${why}`, "error");
    }
    if (close.code === 1009) refusedAsTooLong(close.reason);
    if (!reconnectAfter(state.goodbye, close.code)) {
      setConn("offline", `Disconnected: ${why}`);
      if (!wasIn && state.goodbye) ui.loginError.textContent = `${state.goodbye} Logging in connects again.`;
      return;
    }
    const wait = backoff(state.attempt++);
    setConn("reconnecting", `Reconnecting in ${Math.ceil(wait / 1000)} s…`);
    state.timer = setTimeout(connect, wait);
  }

  /**
   * The server closed the connection over a line longer than it takes (a
   * limit the page did not know): the line goes back in the box (or, if
   * something else is being typed, in the ↑ recall), and the page keeps to
   * the limit from now on.
   */
  function refusedAsTooLong(reason) {
    const limit = limitInReason(reason);
    if (limit) state.maxLine = limit;
    const over = limit ? state.sent.filter((l) => byteLength(l.send) > limit) : state.sent;
    const line = over.reduce((a, b) => (a && byteLength(a.send) >= byteLength(b.send) ? a : b), undefined);
    state.sent = [];
    if (!line) return;
    const said = `The server refused a line of ${byteLength(line.send)} bytes${limit ? `, at most ${limit}` : ""}`;
    if (ui.input.value === "" && ui.input.type !== "password") {
      ui.input.value = line.text;
      system(roomLog(), `${said}; it was not sent and is back in the box.`, "error");
    } else {
      state.recall.push(line.text);
      state.recallAt = state.recall.length;
      system(roomLog(), `${said}; it was not sent. ↑ in the box brings it back.`, "error");
    }
  }

  function closeReason(close) {
    if (close.code === 1009) return "the server refused a line as too long";
    if (close.code === 1003) return "the server takes text only";
    if (close.code === 1008) return close.reason || "refused by the server";
    if (close.reason) return close.reason;
    return "the connection closed";
  }

  function sendLine(line) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
    state.ws.send(line);
    return true;
  }

  /** Asks for something the page shows in its panes, not in the log. */
  function ask(line, what) {
    if (sendLine(line)) state.quiet[what]++;
  }

  /** Asks for the room list again (not twice at once), if logged in and the page is in view. */
  function refreshRooms() {
    if (!state.me || document.hidden) return;
    if (state.quiet.rooms > 0 && Date.now() - state.roomsAt < ROOMS_EVERY_MS) return; // an answer is on its way
    state.roomsAt = Date.now();
    ask("/rooms", "rooms");
  }

  /** Whether the room list can be seen: the page in view, and the conversations pane shown. */
  function listOnScreen() {
    if (document.hidden || ui.chat.hidden) return false;
    return !isDrawer(ui.side) || ui.side.classList.contains("open");
  }

  /** Every ROOMS_EVERY_MS: the room list again, but only while someone can see it and uses the page. */
  function pollRooms() {
    if (listOnScreen() && Date.now() - state.usedAt < IN_USE_MS) refreshRooms();
  }

  /** The page was used (a key, a click, a pointer move): after a pause, the room list is fetched at once. */
  function used() {
    const idle = Date.now() - state.usedAt >= IN_USE_MS;
    state.usedAt = Date.now();
    if (idle && listOnScreen()) refreshRooms();
  }

  // ------------------------------------------------------------ login screen

  function showLogin(message = "") {
    ui.body.dataset.view = "login";
    ui.login.hidden = false;
    ui.chat.hidden = true;
    ui.loginError.textContent = message;
    if (state.wanted) ui.nick.value = state.wanted.nick;
    ui.nick.disabled = false;
    ui.nickRow.hidden = false;
    ui.passwordRow.hidden = true;
    ui.passwordCancel.hidden = true;
    (ui.nick.value ? ui.loginForm.querySelector("button[type=submit]") : ui.nick).focus();
  }

  function showChat() {
    ui.body.dataset.view = "chat";
    ui.login.hidden = true;
    ui.chat.hidden = false;
    ui.logout.hidden = false;
  }

  function startPrompt(text) {
    state.prompting = true;
    if (state.me) {
      ui.input.type = "password";
      ui.input.value = "";
      ui.input.placeholder = text;
      system(here(), text);
      ui.input.focus();
      return;
    }
    showLogin(ui.loginError.textContent);
    ui.nick.disabled = true;
    ui.passwordLabel.textContent = text;
    ui.passwordRow.hidden = false;
    ui.passwordCancel.hidden = false;
    ui.password.value = "";
    ui.password.focus();
  }

  function endPrompt() {
    state.prompting = false;
    if (ui.input.type === "password") {
      ui.input.type = "text";
      ui.input.value = "";
      if (state.active) select(state.active);
    }
    ui.passwordRow.hidden = true;
    ui.passwordCancel.hidden = true;
    ui.nick.disabled = false;
  }

  ui.loginForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.prompting) {
      const pw = ui.password.value;
      const error = tooLong(pw, state.maxLine);
      if (error) {
        ui.loginError.textContent = error.replace("That line", "That password");
        return;
      }
      ui.password.value = "";
      if (!sendLine(pw)) {
        ui.loginError.textContent = "Not connected; try again when the connection is back.";
        return;
      }
      if (state.wanted) state.wanted.password = pw;
      ui.loginError.textContent = "Checking…";
      return;
    }
    const nick = ui.nick.value.trim();
    if (nick === "") {
      ui.loginError.textContent = "Type a nick first.";
      ui.nick.focus();
      return;
    }
    if (/\s/.test(nick)) {
      ui.loginError.textContent = "A nick cannot contain spaces.";
      ui.nick.focus();
      return;
    }
    const same = state.wanted && foldNick(state.wanted.nick) === foldNick(nick);
    state.wanted = { nick, password: same ? state.wanted.password : undefined };
    state.loginTries = LOGIN_RETRIES; // typed by hand: no automatic retries
    ui.loginError.textContent = "";
    if (!sendLine(`login ${nick}`)) {
      state.auto = true;
      state.attempt = 0;
      ui.loginError.textContent = "Connecting…";
      connect();
    }
  });

  ui.passwordCancel.addEventListener("click", () => {
    sendLine("");
    endPrompt();
    showLogin("");
  });

  // ------------------------------------------------------------ events

  function isMe(nick) {
    return state.me !== null && foldNick(nick) === foldNick(state.me.nick);
  }

  function entryOver(v) {
    if (v) v.entering = false;
  }

  const on = {
    welcome(e) {
      state.server = e.server || "teaparty";
      ui.serverName.textContent = state.server;
      ui.welcome.textContent = `Welcome to ${state.server}!`;
      state.maxLine = welcomeLimit(e, state.maxLine);
      renderTitle();
    },
    login(e) {
      const again = state.wasOnline;
      state.me = { nick: e.nick, registered: e.registered, operator: e.operator };
      if (state.wanted) state.wanted.nick = e.nick;
      else state.wanted = { nick: e.nick };
      if (!e.registered) state.wanted.password = undefined;
      state.auto = true;
      state.attempt = 0;
      state.wasOnline = true;
      state.prompting = false;
      try {
        localStorage.setItem("teaparty.nick", e.nick);
      } catch { /* storage off: fine */ }
      setConn("online", `Connected as ${e.nick}`);
      showChat();
      state.asked = null;
      if (again) system(roomLog(), "Reconnected.", "notice");
      if (!again || document.activeElement === document.body || !document.activeElement) ui.input.focus();
      clearInterval(state.roomsTimer);
      state.roomsTimer = setInterval(pollRooms, ROOMS_EVERY_MS);
    },
    password(e) {
      if (state.wanted?.password && !state.triedSecret && state.auto) {
        state.triedSecret = true;
        state.prompting = true;
        sendLine(state.wanted.password);
        return;
      }
      startPrompt(e.text || "Password:");
    },
    "password-done"() {
      endPrompt();
    },
    error(e) {
      if (!state.me) {
        if (state.prompting && state.triedSecret && ui.passwordRow.hidden) {
          // the kept password was wrong: ask the person
          state.wanted.password = undefined;
          startPrompt(e.text);
          return;
        }
        if (state.auto && state.loginTries < LOGIN_RETRIES && !state.prompting && state.wanted) {
          // e.g. the old connection still holds the nick for a moment
          const wait = backoff(state.loginTries++);
          setConn("reconnecting", `${e.text} Trying again in ${Math.ceil(wait / 1000)} s…`);
          const ws = state.ws;
          state.timer = setTimeout(() => {
            if (ws === state.ws && !state.me) sendLine(`login ${state.wanted.nick}`);
          }, wait);
          return;
        }
        showLogin(e.text);
        if (state.prompting) startPrompt(e.text);
        return;
      }
      system(roomless(e.text), e.text, "error");
    },
    notice(e) {
      if (!state.me) {
        if (!/^Log in with/.test(e.text)) ui.loginError.textContent = e.text;
        return;
      }
      if (!e.room && state.kicked && /^You were kicked /.test(e.text)) return; // the kick event says it, once
      const v = e.room ? roomView(e.room) : roomless(e.text);
      entryOver(v);
      system(v, e.text);
    },
    goodbye(e) {
      state.goodbye = e.text;
      if (state.kicked) {
        // kicked out of the main room, so out of the server: the goodbye says it
        clearTimeout(state.kicked.timer);
        state.kicked = null;
      }
      if (state.me) system(roomLog(), e.text, "notice");
    },
    entered(e) {
      const v = roomView(e.room);
      if (isMe(e.nick)) {
        state.room = e.room;
        v.name = e.room;
        v.entering = true;
        v.topic = null;
        state.members = { room: e.room, nicks: new Map([[foldNick(e.nick), e.nick]]), count: 1 };
        state.asked = null; // what comes now is about the room you are in
        system(v, `You are in ${e.room}.`, "presence", e.time);
        sayKick(v);
        ask("/look", "members");
        state.roomsAt = Date.now();
        ask("/rooms", "rooms");
        if (state.rejoin && foldRoom(state.rejoin) !== foldRoom(e.room)) {
          const back = state.rejoin;
          state.rejoin = "";
          sendLine(`/join ${back}`);
        } else {
          const stay = state.reseat && state.active?.kind === "private";
          state.rejoin = "";
          state.reseat = false;
          if (!stay) select(v);
        }
        renderSide();
        renderMembers();
        return;
      }
      entryOver(v);
      system(v, `${e.nick} entered ${e.room}.`, "presence", e.time);
      if (state.members.room === e.room) {
        if (!state.members.nicks.has(foldNick(e.nick))) state.members.count++;
        state.members.nicks.set(foldNick(e.nick), e.nick);
        renderMembers();
        renderSide();
      }
    },
    left(e) {
      const v = roomView(e.room);
      entryOver(v);
      system(
        v,
        `${e.nick} ${e.quit ? "left the chat" : "left " + e.room}${e.reason ? ": " + e.reason : ""}.`,
        "presence",
        e.time,
      );
      if (state.members.room === e.room && state.members.nicks.delete(foldNick(e.nick))) {
        state.members.count = Math.max(0, state.members.count - 1);
        renderMembers();
        renderSide();
      }
    },
    crowd(e) {
      const v = roomView(e.room);
      entryOver(v);
      const list = (names, count) =>
        names.join(", ") + (count > names.length ? ` and ${count - names.length} more` : "");
      const parts = [];
      if (e.enteredCount) parts.push(`${list(e.entered, e.enteredCount)} entered`);
      if (e.leftCount) parts.push(`${list(e.left, e.leftCount)} left`);
      if (parts.length) system(v, parts.join("; ") + ".", "presence", e.time);
      if (state.members.room === e.room) ask("/look", "members");
    },
    topic(e) {
      const v = roomView(e.room);
      v.topic = { text: e.text, by: e.by };
      if (e.changed) {
        entryOver(v);
        system(v, e.text ? `${e.by} set the topic: ${e.text}` : `${e.by} cleared the topic.`, "notice", e.time);
      }
      if (v === state.active) renderTopic();
    },
    members(e) {
      if (foldRoom(e.room) === foldRoom(state.room)) {
        state.members = {
          room: e.room,
          nicks: new Map(e.nicks.map((n) => [foldNick(n), n])),
          count: e.count,
        };
        renderMembers();
        renderSide();
      }
      if (state.quiet.members > 0) {
        state.quiet.members--;
        return;
      }
      const more = e.count > e.nicks.length ? ` and ${e.count - e.nicks.length} more` : "";
      system(roomless(), `In ${e.room} (${e.count}): ${e.nicks.join(", ")}${more}`);
    },
    who(e) {
      const v = roomless();
      system(v, `${e.count} logged in:`);
      for (const r of e.rooms) {
        const more = r.count > r.nicks.length ? ` and ${r.count - r.nicks.length} more` : "";
        system(v, `  ${r.room} (${r.count}): ${r.nicks.join(", ")}${more}`);
      }
    },
    rooms(e) {
      state.rooms = new Map(e.rooms.map((r) => [foldRoom(r.room), { name: r.room, count: r.count }]));
      state.roomsMore = e.more;
      renderSide();
      if (state.quiet.rooms > 0) {
        state.quiet.rooms--;
        return;
      }
      const list = e.rooms.map((r) => `${r.room} (${r.count})`).join(", ");
      system(roomless(), `Rooms: ${list}${e.more ? ` and ${e.more} more` : ""}`);
    },
    chat(e) {
      const v = roomView(e.room);
      entryOver(v);
      if (e.id !== undefined) v.ids.add(e.id);
      said(v, { nick: e.nick, text: e.text, time: e.time, id: e.id });
    },
    action(e) {
      const v = roomView(e.room);
      entryOver(v);
      if (e.id !== undefined) v.ids.add(e.id);
      said(v, { nick: e.nick, text: e.text, time: e.time, id: e.id, action: true });
    },
    history(e) {
      const v = roomView(e.room);
      if (e.id !== undefined) {
        if (v.entering && v.ids.has(e.id)) return; // shown before we left or lost the connection
        v.ids.add(e.id);
      }
      said(v, { nick: e.nick, text: e.text, time: e.time, id: e.id, action: e.kind === "action", kind: "history" });
    },
    private(e) {
      const other = e.echo ? e.to : e.from;
      const v = privateView(other);
      said(v, { nick: e.from, text: e.text, time: e.time, action: !!e.action, kind: "private" });
    },
    mail(e) {
      const v = privateView(e.from);
      said(v, { nick: e.from, text: e.text, time: e.time, action: !!e.action, kind: "mail" });
    },
    kick(e) {
      const v = roomView(e.room);
      entryOver(v);
      const who = isMe(e.nick) ? "You were" : `${e.nick} was`;
      const text = `${who} kicked from ${e.room} by ${e.by}${e.reason ? ": " + e.reason : "."}`;
      if (!isMe(e.nick)) return system(v, text, "error");
      // You: said once, in the room you are moved to (its "entered" comes next, after the
      // server's notice saying the same), or by the goodbye if you are sent off the server.
      clearTimeout(state.kicked?.timer);
      state.kicked = { text, timer: setTimeout(() => sayKick(roomLog()), 2000) };
    },
    nick(e) {
      const mine = isMe(e.old);
      if (mine) {
        state.me.nick = e.nick;
        if (state.wanted) {
          const pending = state.wanted.pendingNick;
          state.wanted = { nick: e.nick, password: state.wanted.password };
          if (pending && foldNick(pending.nick) === foldNick(e.nick)) state.wanted.password = pending.password;
          else if (pending || foldNick(e.old) !== foldNick(e.nick)) state.wanted.password = undefined;
        }
        setConn("online", `Connected as ${e.nick}`);
        try {
          localStorage.setItem("teaparty.nick", e.nick);
        } catch { /* storage off */ }
      }
      if (state.members.nicks.delete(foldNick(e.old))) {
        state.members.nicks.set(foldNick(e.nick), e.nick);
        renderMembers();
      }
      renameView(e.old, e.nick);
      const text = mine ? `You are now known as ${e.nick}.` : `${e.old} is now known as ${e.nick}.`;
      if (state.room) system(roomView(state.room), text, "presence", e.time);
      renderSide();
    },
  };

  // ------------------------------------------------------------ typing

  ui.sayForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = ui.input.value;
    if (state.prompting && ui.input.type === "password") {
      const error = tooLong(text, state.maxLine);
      if (error) system(here(), error.replace("That line", "That password"), "error");
      else if (sendLine(text)) ui.input.value = "";
      return;
    }
    const v = state.active;
    if (!v) return;
    const out = outgoing(v, text, state.maxLine);
    if (out.error) {
      system(v, out.error, "error");
      return;
    }
    if (out.local === "keys") {
      for (const line of KEYS) system(v, line);
    } else if (out.local === "close") {
      if (v.kind !== "private") return system(v, "/close closes a private conversation; this is a room.", "error");
      closeView(v);
    } else if (out.local === "query") {
      select(privateView(out.arg), true);
    }
    if (out.send !== undefined) {
      if (!sendLine(out.send)) {
        system(
          v,
          "Not connected: your line was kept in the box and will not be sent until the connection is back.",
          "error",
        );
        return;
      }
      state.asked = { view: v, to: privateTarget(out.send), at: Date.now() };
      if (!isSecret(text)) {
        state.sent.push({ text, send: out.send });
        if (state.sent.length > 5) state.sent.shift();
      }
      const first = out.send.trim().split(/\s+/)[0].toLowerCase();
      if (/^\/?(logout|quit)$/.test(first) && out.send.trim().split(/\s+/).length === 1) state.leaving = true;
      if (first === "/help" || first === "help" || first === "/h") { for (const line of KEYS) system(v, line); }
      const secret = passwordIn(out.send, state.me?.nick);
      if (secret && state.wanted) {
        if (secret.nick === state.me?.nick) state.wanted.password = secret.password;
        else state.wanted.pendingNick = secret;
      }
    }
    if (text.trim() !== "" && !isSecret(text)) {
      if (state.recall[state.recall.length - 1] !== text) state.recall.push(text);
      if (state.recall.length > 100) state.recall.shift();
    }
    state.recallAt = state.recall.length;
    state.draft = "";
    ui.input.value = "";
  });

  ui.input.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || ui.input.type === "password") return;
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      if (state.recall.length === 0) return;
      e.preventDefault();
      if (state.recallAt === state.recall.length) state.draft = ui.input.value;
      state.recallAt = Math.max(0, Math.min(state.recall.length, state.recallAt + (e.key === "ArrowUp" ? -1 : 1)));
      ui.input.value = state.recallAt === state.recall.length ? state.draft : state.recall[state.recallAt];
      const end = ui.input.value.length;
      ui.input.setSelectionRange(end, end);
    } else if (e.key === "PageUp" || e.key === "PageDown") {
      const log = state.active?.log;
      if (!log) return;
      e.preventDefault();
      log.scrollBy({ top: (e.key === "PageUp" ? -0.9 : 0.9) * log.clientHeight });
    }
  });

  // ------------------------------------------------------------ clicks

  ui.rooms.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-room]");
    if (!b) return;
    const name = b.dataset.room;
    closeDrawers();
    if (state.room && foldRoom(name) === foldRoom(state.room)) select(roomView(state.room), true);
    else if (!sendLine(`/join ${name}`)) system(here(), "Not connected.", "error");
    else ui.input.focus();
  });

  ui.privates.addEventListener("click", (e) => {
    const x = e.target.closest("button[data-close]");
    if (x) return closeView(state.views.get(x.dataset.close));
    const b = e.target.closest("button[data-key]");
    if (!b) return;
    closeDrawers();
    select(state.views.get(b.dataset.key), true);
  });

  ui.members.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-nick]");
    if (!b) return;
    closeDrawers();
    select(privateView(b.dataset.nick), true);
  });

  ui.joinForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = ui.joinRoom.value.trim();
    if (!name) return ui.joinRoom.focus();
    if (/\s/.test(name)) return system(here(), "A room name cannot contain spaces.", "error");
    if (sendLine(`/join ${name}`)) {
      ui.joinRoom.value = "";
      closeDrawers();
      ui.input.focus();
    } else system(here(), "Not connected.", "error");
  });

  ui.newer.addEventListener("click", () => {
    const v = state.active;
    if (!v) return;
    v.log.scrollTop = v.log.scrollHeight;
    v.stick = true;
    ui.newer.hidden = true;
    ui.input.focus();
  });

  ui.reconnect.addEventListener("click", () => {
    state.attempt = 0;
    if (state.wanted) state.auto = true;
    connect();
  });

  ui.logout.addEventListener("click", () => {
    state.leaving = true;
    if (!sendLine("logout")) closed({ code: 1000, reason: "" });
  });

  // ------------------------------------------------------------ drawers and keys

  /** Whether a pane is a drawer (slid in over the page on a small screen) rather than a column. */
  function isDrawer(pane) {
    return getComputedStyle(pane).position === "fixed";
  }

  /** The open drawer, if one is. */
  function openDrawer() {
    return [ui.side, ui.membersPane].find((p) => p.classList.contains("open"));
  }

  /** What Tab goes through in a pane: its buttons and inputs that are shown. */
  function tabbable(pane) {
    return [...pane.querySelectorAll("button, input, a[href]")].filter((e) => !e.disabled && e.getClientRects().length);
  }

  /** Moves the keyboard into a pane: its current item, else its first control, else the pane itself. */
  function focusInto(pane) {
    const target = pane.querySelector('[aria-current="true"]') ?? tabbable(pane)[0] ?? pane;
    target.focus();
    return document.activeElement === target;
  }

  /**
   * Opens (or closes) a pane. On a small screen it is a drawer: the rest of
   * the page is inert behind a scrim while it is open, the keyboard moves
   * into it and Tab goes round inside it; Esc closes it. Where the pane is a
   * column anyway, the keyboard just moves into it.
   */
  function toggle(pane, button, open) {
    if (pane === ui.side) refreshRooms();
    if (!isDrawer(pane)) {
      closeDrawers();
      focusInto(pane);
      return;
    }
    const show = open ?? !pane.classList.contains("open");
    const wasIn = pane.contains(document.activeElement);
    closeDrawers();
    if (!show) {
      if (wasIn) ui.input.focus(); // not left on a control that slides away
      return;
    }
    pane.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    ui.scrim.hidden = false;
    // The style sheet shows an opening drawer at once (it slides, but is never hidden while
    // it does), so it can take the focus now; should a browser still hold it back, again
    // once the slide is over.
    if (!focusInto(pane)) {
      const again = () => {
        if (pane.classList.contains("open") && !pane.contains(document.activeElement)) focusInto(pane);
      };
      pane.addEventListener("transitionend", again, { once: true });
      setTimeout(again, 300);
    }
    for (const other of [ui.skip, ui.bar, ui.main, ui.side, ui.membersPane]) {
      if (other !== pane) other.inert = true;
    }
  }

  function closeDrawers() {
    for (const [pane, button] of [[ui.side, ui.openSide], [ui.membersPane, ui.openMembers]]) {
      pane.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
    }
    for (const other of [ui.skip, ui.bar, ui.main, ui.side, ui.membersPane]) other.inert = false;
    ui.scrim.hidden = true;
  }

  ui.openSide.addEventListener("click", () => toggle(ui.side, ui.openSide));
  ui.openMembers.addEventListener("click", () => toggle(ui.membersPane, ui.openMembers));
  ui.scrim.addEventListener("click", closeDrawers);
  // A drawer left open when the screen grows (a phone turned, a window widened) is a column now.
  globalThis.addEventListener("resize", () => {
    const drawer = openDrawer();
    if (drawer && !isDrawer(drawer)) closeDrawers();
  });

  document.addEventListener("keydown", (e) => {
    const drawer = openDrawer();
    if (e.key === "Tab" && drawer && !e.altKey && !e.ctrlKey && !e.metaKey) {
      // Tab goes round the open drawer, in its own order.
      const items = tabbable(drawer);
      if (items.length === 0) return e.preventDefault();
      const at = items.indexOf(document.activeElement);
      const last = items.length - 1;
      if (at === -1 || (e.shiftKey && at === 0) || (!e.shiftKey && at === last)) {
        e.preventDefault();
        items[at === -1 ? (e.shiftKey ? last : 0) : (e.shiftKey ? last : 0)].focus();
      }
      return;
    }
    if (e.key === "Escape") {
      const open = ui.side.classList.contains("open") || ui.membersPane.classList.contains("open");
      closeDrawers();
      if (!ui.chat.hidden && (open || document.activeElement !== ui.input)) ui.input.focus();
      return;
    }
    if (!e.altKey || e.ctrlKey || e.metaKey || ui.chat.hidden) return;
    const list = switchable();
    const at = list.indexOf(state.active);
    if (/^Digit[1-9]$/.test(e.code)) {
      const v = list[Number(e.code.slice(5)) - 1];
      if (v) select(v, true);
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      if (list.length === 0) return;
      const step = e.key === "ArrowUp" ? -1 : 1;
      select(list[(at + step + list.length) % list.length], true);
    } else if (e.code === "KeyC") toggle(ui.side, ui.openSide);
    else if (e.code === "KeyP") toggle(ui.membersPane, ui.openMembers);
    else return;
    e.preventDefault();
  });

  // The log stays at the bottom when the box shrinks (a phone's keyboard opens).
  new ResizeObserver(() => {
    const v = state.active;
    if (v && v.stick) v.log.scrollTop = v.log.scrollHeight;
  }).observe(ui.logs);

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    state.usedAt = Date.now();
    refreshRooms(); // the room list may have changed while the page was out of view
    if (state.active) {
      state.active.unread = 0;
      renderSide();
    }
  });

  for (const type of ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"]) {
    document.addEventListener(type, used, { passive: true, capture: true });
  }

  globalThis.addEventListener("online", () => {
    if (state.conn === "reconnecting" || state.conn === "offline") {
      state.attempt = 0;
      connect();
    }
  });

  // ------------------------------------------------------------ go

  try {
    ui.nick.value = localStorage.getItem("teaparty.nick") ?? "";
  } catch { /* storage off */ }
  showLogin("");
  ui.nick.focus();
  ui.nick.select();
  connect();
}

if (typeof document !== "undefined") start();
