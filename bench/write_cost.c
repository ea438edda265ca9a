/*
 * The C half of bench/write_cost.ts: what a write to a loopback TCP socket
 * costs a C process, to set beside what `Deno.Conn.write` costs.
 *
 *   write_cost sink PORT                 accept and read everything, forever
 *   write_cost write PORT CONNS ROUNDS BYTES
 *                                        open CONNS connections (TCP_NODELAY), then ROUNDS
 *                                        times write BYTES to each one in turn; prints
 *                                        "user_s=U sys_s=S writes=W" (its own CPU time)
 *
 * Build: gcc -O2 -Wall -o write_cost write_cost.c
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int sink(int port) {
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = loopback(port);
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0) { perror("sink: bind/listen"); return 1; }
    printf("sink listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    static char buf[1 << 16];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                int c = accept(l, 0, 0);
                if (c < 0) continue;
                fcntl(c, F_SETFL, O_NONBLOCK);
                struct epoll_event e = { .events = EPOLLIN, .data.fd = c };
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
            } else {
                ssize_t r;
                while ((r = read(fd, buf, sizeof buf)) > 0) {}
                if (r == 0) close(fd);
            }
        }
    }
}

static int writer(int port, int conns, int rounds, int bytes) {
    int *fds = calloc((size_t)conns, sizeof *fds);
    char *buf = calloc(1, (size_t)bytes);
    for (int i = 0; i < conns; i++) {
        int one = 1;
        struct sockaddr_in a = loopback(port);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0) { perror("writer: connect"); return 1; }
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    long writes = 0;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < conns; i++, writes++)
            if (write(fds[i], buf, (size_t)bytes) != bytes) { perror("writer: write"); return 1; }
    getrusage(RUSAGE_SELF, &after);
#define SECS(t) ((t).tv_sec + (t).tv_usec / 1e6)
    printf("user_s=%.6f sys_s=%.6f writes=%ld\n", SECS(after.ru_utime) - SECS(before.ru_utime),
           SECS(after.ru_stime) - SECS(before.ru_stime), writes);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "sink") == 0) return sink(atoi(argv[2]));
    if (argc == 6 && strcmp(argv[1], "write") == 0)
        return writer(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "usage: write_cost sink PORT | write_cost write PORT CONNS ROUNDS BYTES\n");
    return 2;
}
