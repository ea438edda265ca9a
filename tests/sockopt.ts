/**
 * Reads TCP_NODELAY off a socket of this process, through libc (Deno FFI;
 * the test needs `--allow-ffi`). Deno exposes no way to ask a socket for its
 * options, and the tests of the TLS doors need to see that the server's own
 * socket sends without Nagle's delay. The socket is found by its ports:
 * every file descriptor is asked for its local and remote address
 * (`getsockname`, `getpeername`). Linux only.
 *
 * @example
 * ```ts
 * import { serverNoDelay } from "./sockopt.ts";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 5005 }); // to a server in this process
 * console.log(serverNoDelay(5005, (conn.localAddr as Deno.NetAddr).port)); // true, false or undefined
 * ```
 * @module
 */

const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const AF_INET = 2;
const AF_INET6 = 10;
/** File descriptors looked at: far more than a test server opens. */
const MAX_FD = 4096;

const symbols = {
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const;
let libc: Deno.DynamicLibrary<typeof symbols> | undefined;

/** The TCP port of a socket's local (`getsockname`) or remote (`getpeername`) address, or -1. */
function portOf(call: "getsockname" | "getpeername", fd: number): number {
  const addr = new Uint8Array(128);
  const length = new Uint32Array([addr.length]);
  if (libc!.symbols[call](fd, addr, length) !== 0) return -1; // not a socket, or not open
  const family = addr[0] | (addr[1] << 8);
  return family === AF_INET || family === AF_INET6 ? (addr[2] << 8) | addr[3] : -1;
}

/**
 * Whether the TCP socket of this process from local port `local` to remote
 * port `remote` (on loopback: the server's port and the client's) has
 * TCP_NODELAY set; `undefined` if there is no such socket here.
 */
export function serverNoDelay(local: number, remote: number): boolean | undefined {
  libc ??= Deno.dlopen("libc.so.6", symbols);
  for (let fd = 3; fd < MAX_FD; fd++) {
    if (portOf("getsockname", fd) !== local || portOf("getpeername", fd) !== remote) continue;
    const value = new Int32Array(1);
    const length = new Uint32Array([4]);
    if (libc.symbols.getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, value, length) !== 0) return undefined;
    return value[0] !== 0;
  }
  return undefined;
}

const resetSymbols = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;
let resetLibc: Deno.DynamicLibrary<typeof resetSymbols> | undefined;

/**
 * Connects to 127.0.0.1:`port` and at once closes with a reset (SO_LINGER
 * 0), `count` times, synchronously: an in-process server sees the
 * connections only after they were reset, so its accept fails for each.
 */
export function connectAndReset(port: number, count: number): void {
  resetLibc ??= Deno.dlopen("libc.so.6", resetSymbols);
  const { socket, setsockopt, connect, close } = resetLibc.symbols;
  const addr = new Uint8Array(16);
  addr.set([AF_INET, 0, port >> 8, port & 0xff, 127, 0, 0, 1]);
  const linger = new Int32Array([1, 0]); // on, 0 s: close sends RST
  for (let i = 0; i < count; i++) {
    const fd = socket(AF_INET, 1, /* SOCK_STREAM */ 0);
    if (fd < 0) throw new Error("socket() failed");
    setsockopt(fd, 1, /* SOL_SOCKET */ 13, /* SO_LINGER */ new Uint8Array(linger.buffer), 8);
    const ok = connect(fd, addr, addr.length);
    close(fd);
    if (ok !== 0) throw new Error(`connect() to port ${port} failed`);
  }
}
