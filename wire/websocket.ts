/**
 * The server side of the WebSocket protocol (RFC 6455), over any byte
 * source and sink: the opening handshake ({@linkcode upgradeResponse}),
 * encoders for the frames a server sends ({@linkcode textFrame},
 * {@linkcode closeFrame}, {@linkcode pingFrame}, {@linkcode pongFrame}), and
 * a reader of the text messages a client sends ({@linkcode readMessages}).
 *
 * Server frames are never masked, so one encoded frame can be written to
 * every receiver as is. The reader reads into a small buffer that grows only
 * while a big frame arrives and shrinks again when the connection is idle
 * (like `line_reader.ts`); no frame longer than `maxMessage` is ever
 * buffered, whatever the peer sends. No extension (compression) and no
 * subprotocol is negotiated; binary messages are refused.
 *
 * @example
 * ```ts
 * import { readRequest } from "./http.ts";
 * import { readMessages, textFrame, upgradeResponse } from "./websocket.ts";
 * export async function echo(conn: Deno.Conn): Promise<void> { // an accepted connection, in a door
 *   const request = await readRequest(conn);
 *   const upgrade = upgradeResponse(request.headers);
 *   if (upgrade.ok) {
 *     await conn.write(upgrade.bytes);
 *     const messages = readMessages(conn, { maxMessage: 4096, initial: request.rest });
 *     for await (const text of messages) await conn.write(textFrame(new TextEncoder().encode(text)));
 *   }
 * }
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { Framing } from "../byte_slab.ts";

/** The GUID of RFC 6455 section 1.3, appended to the client's key. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Opcodes (RFC 6455 section 5.2). */
const CONTINUATION = 0x0;
const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

/** Close codes used here (RFC 6455 section 7.4.1). */
export const CloseCode = {
  /** Normal closure. */
  normal: 1000,
  /** The server is going away (shutting down). */
  goingAway: 1001,
  /** A protocol error. */
  protocol: 1002,
  /** A kind of data that is not accepted (binary here). */
  unsupported: 1003,
  /** No status code in the close frame (never sent; reported for an empty close frame). */
  noStatus: 1005,
  /** Data that does not fit its type (invalid UTF-8 in a text message). */
  invalidData: 1007,
  /** A policy was broken (e.g. flooding). */
  policy: 1008,
  /** A message too big to handle. */
  tooBig: 1009,
  /** An unexpected condition on the server. */
  internal: 1011,
} as const;

/** Largest buffer a busy connection's reads grow to (a longer frame gets a buffer of its own length). */
export const BUSY_BUFFER = 65536;

/** Longest payload of a control frame (close, ping, pong). */
export const MAX_CONTROL_PAYLOAD = 125;

/**
 * A WebSocket connection ends because of what the peer sent: `code` is the
 * close code to send it, `reason` a one-line explanation (also the message).
 */
export class WebSocketClose extends Error {
  /** The close code to send (1002, 1003, 1007 or 1009 from the reader). */
  readonly code: number;
  /** One line saying what was wrong. */
  readonly reason: string;
  constructor(code: number, reason: string) {
    super(reason);
    this.name = "WebSocketClose";
    this.code = code;
    this.reason = reason;
  }
}

/** The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key` (base64 of SHA-1 of key + GUID). */
export function acceptKey(secWebSocketKey: string): string {
  return createHash("sha1").update(secWebSocketKey + GUID).digest("base64");
}

/** What {@linkcode upgradeResponse} decided. */
export type Upgrade =
  | { ok: true; bytes: Uint8Array }
  | {
    ok: false;
    /** 400 for a request that is not a valid upgrade, 426 for another protocol version. */
    status: number;
    /** One line saying what was wrong. */
    reason: string;
    /** Headers to send with the refusal (`Sec-WebSocket-Version: 13` with a 426). */
    headers: Record<string, string>;
  };

const encoder = new TextEncoder();
const KEY = /^[A-Za-z0-9+/]{22}==$/; // base64 of exactly 16 bytes

/** Whether a comma-separated header value holds `token` (case-insensitive). */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(",").some((part) => part.trim().toLowerCase() === token);
}

/**
 * Checks the headers of an upgrade request (names in lower case, as
 * `readRequest` gives them) and makes the 101 response, or says why not.
 * The method (GET) and path are the caller's to check.
 *
 * @example
 * ```ts
 * import { upgradeResponse } from "./websocket.ts";
 * const result = upgradeResponse(new Map([
 *   ["upgrade", "websocket"],
 *   ["connection", "keep-alive, Upgrade"],
 *   ["sec-websocket-version", "13"],
 *   ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="],
 * ]));
 * result.ok; // true; result.bytes is "HTTP/1.1 101 Switching Protocols\r\n…"
 * ```
 */
export function upgradeResponse(headers: Map<string, string>): Upgrade {
  const refuse = (status: number, reason: string, extra: Record<string, string> = {}): Upgrade => ({
    ok: false,
    status,
    reason,
    headers: extra,
  });
  if (!hasToken(headers.get("upgrade"), "websocket")) return refuse(400, "expected the header Upgrade: websocket");
  if (!hasToken(headers.get("connection"), "upgrade")) return refuse(400, "expected the header Connection: Upgrade");
  const version = headers.get("sec-websocket-version");
  if (version?.trim() !== "13") {
    const got = version === undefined ? "none" : JSON.stringify(version);
    return refuse(426, `unsupported WebSocket version ${got}: only 13 is spoken`, { "Sec-WebSocket-Version": "13" });
  }
  const key = headers.get("sec-websocket-key")?.trim();
  if (key === undefined || !KEY.test(key)) {
    return refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64");
  }
  const response = "HTTP/1.1 101 Switching Protocols\r\n" +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`;
  return { ok: true, bytes: encoder.encode(response) };
}

/** The length of an unmasked frame's header for a payload of `n` bytes. */
function headLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/** Writes an unmasked frame's header for `n` payload bytes into `out` at `at`; returns its length. */
function writeHead(opcode: number, n: number, out: Uint8Array, at: number): number {
  const head = headLength(n);
  out[at] = 0x80 | opcode; // FIN: server messages are never fragmented
  if (head === 2) {
    out[at + 1] = n;
  } else if (head === 4) {
    out[at + 1] = 126;
    out[at + 2] = n >>> 8;
    out[at + 3] = n & 0xff;
  } else {
    out[at + 1] = 127;
    const view = new DataView(out.buffer, out.byteOffset);
    view.setUint32(at + 2, Math.floor(n / 0x100000000));
    view.setUint32(at + 6, n >>> 0);
  }
  return head;
}

/** An unmasked frame: header and payload in one allocation. */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const out = new Uint8Array(headLength(n) + n);
  out.set(payload, writeHead(opcode, n, out, 0));
  return out;
}

/**
 * The text frame's header, for encoding frames straight into a slab
 * (`ByteSlab.encode`): at most 10 bytes, as long as the payload asks.
 */
export const textFraming: Framing = {
  most: 10,
  write: (n: number, out: Uint8Array, at: number): number => writeHead(TEXT, n, out, at),
};

/**
 * A text frame (FIN, unmasked) carrying `payload`, which must be UTF-8.
 *
 * @example
 * ```ts
 * import { textFrame } from "./websocket.ts";
 * textFrame(new TextEncoder().encode("hi")); // Uint8Array [0x81, 2, 0x68, 0x69]
 * ```
 */
export function textFrame(payload: Uint8Array): Uint8Array {
  return frame(TEXT, payload);
}

function control(opcode: number, payload: Uint8Array, what: string): Uint8Array {
  if (payload.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(`a ${what} payload is at most ${MAX_CONTROL_PAYLOAD} bytes, not ${payload.length}`);
  }
  return frame(opcode, payload);
}

/** A ping frame; `payload` is at most 125 bytes (the client answers with a pong carrying it). */
export function pingFrame(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return control(PING, payload, "ping");
}

/** A pong frame answering a ping; `payload` (at most 125 bytes) is the ping's. */
export function pongFrame(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return control(PONG, payload, "pong");
}

/**
 * A close frame with `code` and `reason`; a reason longer than the 123 bytes
 * that fit is cut (at a character boundary).
 *
 * @example
 * ```ts
 * import { closeFrame } from "./websocket.ts";
 * closeFrame(1001, "server shutting down");
 * ```
 */
export function closeFrame(code: number, reason = ""): Uint8Array {
  if (!Number.isInteger(code) || code < 1000 || code > 4999) throw new RangeError(`bad close code ${code}`);
  let text = encoder.encode(reason);
  if (text.length > MAX_CONTROL_PAYLOAD - 2) {
    let cut = MAX_CONTROL_PAYLOAD - 2;
    while (cut > 0 && (text[cut] & 0xc0) === 0x80) cut--; // not inside a character
    text = text.subarray(0, cut);
  }
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return frame(CLOSE, payload);
}

/** Something to read bytes from, like a `Deno.Conn`. */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** How the client closed: the code and reason of its close frame. */
export interface ClientClose {
  /** The client's close code; 1005 when its close frame had none. */
  code: number;
  /** The client's reason ("" when none). */
  reason: string;
}

/** Options of {@linkcode readMessages}. */
export interface MessageReaderOptions {
  /** Longest message in bytes (all its fragments together); a longer one ends the reader with 1009. */
  maxMessage: number;
  /** Bytes already read past the HTTP request (`readRequest`'s `rest`): the start of the first frame. */
  initial?: Uint8Array;
  /** First (and idle) buffer size in bytes. Default 128. */
  initialBuffer?: number;
  /**
   * A ping came: answer it with `pongFrame(payload)`. `payload` is a view
   * into the reader's buffer, valid during the call only (copy it to keep it).
   */
  onPing?(payload: Uint8Array): void;
  /** A pong came (an answer to the server's ping); `payload` as for `onPing`. */
  onPong?(payload: Uint8Array): void;
  /** The client sent a close frame (called before the reader ends; answer with a close frame). */
  onClose?(close: ClientClose): void;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeText(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new WebSocketClose(CloseCode.invalidData, "text message is not valid UTF-8");
  }
}

/** Close codes a peer may send (RFC 6455 section 7.4). */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function protocolError(reason: string): WebSocketClose {
  return new WebSocketClose(CloseCode.protocol, reason);
}

/**
 * Reads the text messages a client sends, until it sends a close frame or
 * the connection ends. Fragmented messages are put together; pings, pongs
 * and close frames may come between fragments.
 *
 * Ends normally on the client's close frame (its code and reason are the
 * generator's return value and are passed to `onClose`) or, with a `null`
 * return value, when the source ends (even inside a frame: the peer is
 * gone). Ends by throwing {@linkcode WebSocketClose} for a fault, whose
 * `code` and `reason` are for the close frame to send: an unmasked frame,
 * reserved bits, an unknown opcode, a fragmented or long control frame, a
 * bad close frame, or a continuation without a message (1002); a binary
 * message (1003); invalid UTF-8 (1007); a message longer than `maxMessage`
 * (1009, known from the frame header: the payload is not read).
 *
 * @example
 * ```ts
 * import { pongFrame, readMessages } from "./websocket.ts";
 * export async function listen(conn: Deno.Conn): Promise<void> { // after the 101 response
 *   const messages = readMessages(conn, { maxMessage: 4096, onPing: (p) => conn.write(pongFrame(p)) });
 *   for await (const text of messages) console.log(text);
 * }
 * ```
 */
export async function* readMessages(
  source: ByteSource,
  options: MessageReaderOptions,
): AsyncGenerator<string, ClientClose | null, undefined> {
  const { maxMessage } = options;
  const initialSize = options.initialBuffer ?? 128;
  const initial = options.initial;
  let buf = new Uint8Array(Math.max(initialSize, initial?.length ?? 0));
  let end = 0; // end of the data in buf
  if (initial) {
    buf.set(initial);
    end = initial.length;
  }
  let start = 0; // first byte of the next frame
  let need = 2; // bytes from `start` needed before parsing can go on
  let parts: Uint8Array | null = null; // the fragments of a message so far
  let partsLength = 0;
  let inMessage = false; // a fragmented message has begun
  let lastRead = 0; // size of the last read: small means an idle connection
  let filled = false; // the last read filled the buffer: a busy connection

  while (true) {
    // Handle every complete frame in the buffer.
    while (end - start >= 2) {
      const b0 = buf[start];
      const b1 = buf[start + 1];
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) throw protocolError("reserved bits set: no extension was negotiated");
      if ((b1 & 0x80) === 0) throw protocolError("client frames must be masked");
      const isControl = opcode >= 0x8;
      if (isControl) {
        if (opcode !== CLOSE && opcode !== PING && opcode !== PONG) throw protocolError(`unknown opcode ${opcode}`);
        if (!fin) throw protocolError("control frames must not be fragmented");
        if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) {
          throw protocolError(`control frames carry at most ${MAX_CONTROL_PAYLOAD} bytes`);
        }
      } else if (opcode === BINARY) {
        throw new WebSocketClose(CloseCode.unsupported, "binary frames are not accepted; send text");
      } else if (opcode === TEXT) {
        if (inMessage) throw protocolError("a new message began before the last one ended");
      } else if (opcode === CONTINUATION) {
        if (!inMessage) throw protocolError("continuation frame without a message to continue");
      } else {
        throw protocolError(`unknown opcode ${opcode}`);
      }
      const len7 = b1 & 0x7f;
      const head = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
      if (end - start < head) {
        need = head;
        break;
      }
      let length: number;
      if (len7 === 126) {
        length = (buf[start + 2] << 8) | buf[start + 3];
      } else if (len7 === 127) {
        const high = ((buf[start + 2] << 24) | (buf[start + 3] << 16) | (buf[start + 4] << 8) | buf[start + 5]) >>> 0;
        if (high >= 0x80000000) throw protocolError("frame length has its most significant bit set");
        const low = ((buf[start + 6] << 24) | (buf[start + 7] << 16) | (buf[start + 8] << 8) | buf[start + 9]) >>> 0;
        length = high * 0x100000000 + low;
      } else {
        length = len7;
      }
      if (!isControl && partsLength + length > maxMessage) {
        throw new WebSocketClose(CloseCode.tooBig, `message too big: at most ${maxMessage} bytes`);
      }
      const total = head + length;
      if (end - start < total) {
        need = total;
        break;
      }
      // Unmask in place.
      const maskAt = start + head - 4;
      const payloadAt = start + head;
      for (let i = 0; i < length; i++) buf[payloadAt + i] ^= buf[maskAt + (i & 3)];
      const payload = buf.subarray(payloadAt, payloadAt + length);
      start += total;
      need = 2;

      if (opcode === TEXT && fin) {
        yield decodeText(payload);
      } else if (opcode === TEXT || opcode === CONTINUATION) {
        if (parts === null || parts.length < partsLength + length) {
          const size = Math.min(maxMessage, Math.max(partsLength + length, (parts?.length ?? 64) * 2));
          const bigger = new Uint8Array(size);
          if (parts) bigger.set(parts.subarray(0, partsLength));
          parts = bigger;
        }
        parts.set(payload, partsLength);
        partsLength += length;
        inMessage = !fin;
        if (fin) {
          const text = decodeText(parts.subarray(0, partsLength));
          parts = null; // an idle connection keeps no message buffer
          partsLength = 0;
          yield text;
        }
      } else if (opcode === PING) {
        options.onPing?.(payload);
      } else if (opcode === PONG) {
        options.onPong?.(payload);
      } else { // CLOSE
        if (length === 1) throw protocolError("a close frame's payload is empty or starts with a 2-byte code");
        let close: ClientClose = { code: CloseCode.noStatus, reason: "" };
        if (length >= 2) {
          const code = (payload[0] << 8) | payload[1];
          if (!validCloseCode(code)) throw protocolError(`invalid close code ${code}`);
          let reason: string;
          try {
            reason = decoder.decode(payload.subarray(2));
          } catch {
            throw new WebSocketClose(CloseCode.invalidData, "close reason is not valid UTF-8");
          }
          close = { code, reason };
        }
        options.onClose?.(close);
        return close;
      }
    }

    // Make room for the next read.
    if (start === end) {
      start = end = 0;
      if (buf.length > initialSize && lastRead < initialSize) buf = new Uint8Array(initialSize);
    } else if (start > 0) {
      buf.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    // Grow for a frame longer than the buffer (to its length, no more), or
    // for a busy connection whose last read filled the buffer.
    let size = Math.max(buf.length, need);
    if (filled && size < BUSY_BUFFER) size = Math.max(size, Math.min(buf.length * 2, BUSY_BUFFER));
    if (size !== buf.length) {
      const bigger = new Uint8Array(size);
      bigger.set(buf.subarray(0, end));
      buf = bigger;
    }

    const n = await source.read(end === 0 ? buf : buf.subarray(end)); // no view object when idle
    if (n === null) return null;
    lastRead = n;
    end += n;
    filled = end === buf.length;
  }
}
