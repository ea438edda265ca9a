/**
 * A STAND-IN for the HTTP door while it is not on main: serves web/ with the
 * door's CSP and speaks the WebSocket JSON protocol on /ws, on top of the
 * real chat engine of a test server (sessions, commands, rooms, history).
 * Used only to develop the web client; the browser tests run against the
 * real door once it exists.
 *
 * @module
 */
import type { TestServer } from "./helpers.ts";
import { Session } from "../session.ts";
import type { ChatEvent } from "../events.ts";
import { type Dialect, dialectId } from "../dialects/dialect.ts";
import { TOO_LONG } from "../line_reader.ts";
import { dispatch } from "../commands/table.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The door's Content-Security-Policy. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; " +
  "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

function eventJson(event: ChatEvent): string {
  if (!("at" in event)) return JSON.stringify(event);
  const { at, ...rest } = event;
  return JSON.stringify({ ...rest, time: new Date(at).toISOString() });
}

// One JSON object per line; the connection splits lines into frames.
const jsonLines: Dialect = {
  id: dialectId(),
  name: "json-stub",
  render: (event) => encoder.encode(eventJson(event) + "\n"),
};

class StubSession extends Session {
  #socket: WebSocket;
  #test: TestServer;
  constructor(test: TestServer, socket: WebSocket) {
    let rest = "";
    super(
      test.server.chat,
      {
        read: () => Promise.resolve(null),
        write: (bytes) => {
          rest += decoder.decode(bytes, { stream: true });
          const parts = rest.split("\n");
          rest = parts.pop()!;
          for (const p of parts) if (socket.readyState === WebSocket.OPEN) socket.send(p);
          return Promise.resolve(bytes.length);
        },
        close: () => {
          try {
            socket.close(1000);
          } catch { /* closed */ }
        },
      },
      "127.0.0.1",
      jsonLines,
    );
    this.#socket = socket;
    this.#test = test;
  }
  get door(): string {
    return "websocket";
  }
  protected greet(): void {
    this.send({ type: "welcome", server: this.host.options.name, text: "Log in with: login <nick>" });
  }
  protected async *lines(): AsyncIterable<string | typeof TOO_LONG> {
    const queue: (string | null)[] = [];
    let wake: (() => void) | undefined;
    this.#socket.onmessage = (e) => {
      if (typeof e.data !== "string") {
        this.#socket.close(1003, "text frames only");
        return;
      }
      queue.push(e.data);
      wake?.();
    };
    this.#socket.onclose = () => {
      queue.push(null);
      wake?.();
    };
    while (true) {
      while (queue.length === 0) await new Promise<void>((r) => wake = r);
      const line = queue.shift()!;
      if (line === null) return;
      if (encoder.encode(line).length > this.host.options.maxLine) yield TOO_LONG;
      else yield line;
    }
  }
  protected handle(line: string): Promise<void> {
    return dispatch(this.#test.server.chat, this.#test.server.commands, this, line);
  }
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/** Serves web/ and /ws for `test` on 127.0.0.1 (port 0: a free one). */
export function startStub(test: TestServer, port = 0): { url: string; close(): Promise<void> } {
  const web = new URL("../web/", import.meta.url);
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/ws") {
      const origin = req.headers.get("origin");
      if (origin && new URL(origin).host !== url.host) return new Response("bad origin", { status: 403 });
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => {
        const session = new StubSession(test, socket);
        test.server.chat.opened(session);
        session.run();
      };
      return response;
    }
    const name = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
    if (!/^[a-z_]+\.(html|js|css|svg)$/.test(name)) return new Response("not found", { status: 404 });
    try {
      const body = await Deno.readFile(new URL(name, web));
      return new Response(body, {
        headers: { "content-type": TYPES[name.split(".")[1]], "content-security-policy": CSP },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

if (import.meta.main) {
  const { startServer } = await import("./helpers.ts");
  const test = await startServer();
  const stub = startStub(test, Number(Deno.args[0] ?? 0));
  console.log(`web ${stub.url}  telnet 127.0.0.1:${test.port}`);
}
