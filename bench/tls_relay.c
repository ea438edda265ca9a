/*
 * tls_relay.c -- a TCP-to-TLS relay for the benchmark (bench/run.ts, scenario tls-burst).
 *
 * loadgen speaks plain TCP only. This relay accepts its connections on 127.0.0.1 and
 * relays each to 127.0.0.1:TARGET, over TLS (OpenSSL client, TCP_NODELAY on both sides)
 * with --tls, or as plain TCP without it (the comparison in the same run, through the same
 * relay). One thread, epoll, non-blocking sockets. It costs far less CPU than a relay in
 * Deno (bench/tls_relay.ts), which matters on a 2-core machine shared with the server.
 *
 * Build: cc -O2 -Wall -o tls_relay tls_relay.c -lssl -lcrypto
 * Run:   tls_relay --target PORT [--tls]        prints "relay listening on 127.0.0.1:PORT"
 *
 * The server's certificate is not verified: this is a loopback benchmark tool.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (64 * 1024)

typedef struct pair {
    int client, server;          /* loadgen's side (plain), the target's side (TLS or plain) */
    SSL *ssl;                    /* NULL: plain */
    int handshaken;
    char up[BUF], down[BUF];     /* client -> server, server -> client */
    int up_len, up_off, down_len, down_off;
    int dead;
} pair_t;

static SSL_CTX *ctx;
static int epfd, target;

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void kill_pair(pair_t *p) {
    if (p->dead) return;
    p->dead = 1;
    if (p->ssl) SSL_free(p->ssl);
    close(p->client);
    close(p->server);
    /* the pair itself is leaked on purpose: an event for it may still be queued in this round */
}

/* Reads from the server side into p->down; returns bytes, 0 if it would block, -1 at the end or on errors. */
static int server_read(pair_t *p, char *buf, int n) {
    if (!p->ssl) {
        int r = (int)read(p->server, buf, (size_t)n);
        if (r > 0) return r;
        return r < 0 && errno == EAGAIN ? 0 : -1;
    }
    int r = SSL_read(p->ssl, buf, n);
    if (r > 0) return r;
    int e = SSL_get_error(p->ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static int server_write(pair_t *p, const char *buf, int n) {
    if (!p->ssl) {
        int r = (int)write(p->server, buf, (size_t)n);
        if (r >= 0) return r;
        return errno == EAGAIN ? 0 : -1;
    }
    int r = SSL_write(p->ssl, buf, n);
    if (r > 0) return r;
    int e = SSL_get_error(p->ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Moves whatever can move, both ways, until nothing does (edge-triggered epoll). */
static void pump(pair_t *p) {
    if (p->dead) return;
    if (p->ssl && !p->handshaken) {
        int r = SSL_do_handshake(p->ssl);
        if (r != 1) {
            int e = SSL_get_error(p->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) kill_pair(p);
            return;
        }
        p->handshaken = 1;
    }
    int moved;
    do {
        moved = 0;
        if (p->up_len == 0) {                                   /* client -> up */
            int r = (int)read(p->client, p->up, BUF);
            if (r == 0 || (r < 0 && errno != EAGAIN)) return kill_pair(p);
            if (r > 0) { p->up_len = r; p->up_off = 0; moved = 1; }
        }
        if (p->up_len > 0) {                                    /* up -> server */
            int r = server_write(p, p->up + p->up_off, p->up_len - p->up_off);
            if (r < 0) return kill_pair(p);
            if (r > 0) { p->up_off += r; moved = 1; if (p->up_off == p->up_len) p->up_len = 0; }
        }
        if (p->down_len == 0) {                                 /* server -> down */
            int r = server_read(p, p->down, BUF);
            if (r < 0) return kill_pair(p);
            if (r > 0) { p->down_len = r; p->down_off = 0; moved = 1; }
        }
        if (p->down_len > 0) {                                  /* down -> client */
            int r = (int)write(p->client, p->down + p->down_off, (size_t)(p->down_len - p->down_off));
            if (r < 0 && errno != EAGAIN) return kill_pair(p);
            if (r > 0) { p->down_off += r; moved = 1; if (p->down_off == p->down_len) p->down_len = 0; }
        }
    } while (moved);
}

static void watch(int fd, pair_t *p) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = p};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void accept_one(int listener) {
    int c = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    if (c < 0) return;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)target)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    nodelay(c);
    nodelay(s);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        close(c);
        close(s);
        return;
    }
    pair_t *p = calloc(1, sizeof *p);
    p->client = c;
    p->server = s;
    if (ctx) {
        p->ssl = SSL_new(ctx);
        SSL_set_fd(p->ssl, s);
        SSL_set_connect_state(p->ssl);
        SSL_set_tlsext_host_name(p->ssl, "localhost");
    }
    watch(c, p);
    watch(s, p);
    pump(p);
}

int main(int argc, char **argv) {
    int tls = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--target") && i + 1 < argc) target = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tls")) tls = 1;
    }
    if (target <= 0) {
        fprintf(stderr, "usage: tls_relay --target PORT [--tls]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    if (tls) {
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0) {
        perror("tls_relay: listen");
        return 1;
    }
    epfd = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, l, &lev);
    printf("relay listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                for (int k = 0; k < 64; k++) accept_one(l);
            } else {
                pump(evs[i].data.ptr);
            }
        }
    }
}
