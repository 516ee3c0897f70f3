/* SPDX-License-Identifier: MIT */
/*
 * The physical reference beside N1: 1-byte round trips over loopback TCP
 * between two plain processes doing blocking read/write (no runtime, no
 * epoll): what the kernel and the machine cost per round trip.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUND_TRIPS 100000ULL

int main(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        return 1;
    pid_t pid = fork();
    if (pid == 0) { /* the client */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c, (struct sockaddr *)&a, sizeof a))
            _exit(1);
        for (uint64_t i = 0; i < ROUND_TRIPS; i++) {
            unsigned char b = (unsigned char)i, back;
            if (write(c, &b, 1) != 1 || read(c, &back, 1) != 1 || back != b)
                _exit(2);
        }
        _exit(0);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int s = accept(l, NULL, NULL);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    unsigned char b;
    uint64_t sum = 0, n = 0;
    while (read(s, &b, 1) == 1) {
        if (write(s, &b, 1) != 1)
            break;
        sum += b;
        n++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int st;
    waitpid(pid, &st, 0);
    uint64_t want = 0;
    for (uint64_t i = 0; i < ROUND_TRIPS; i++)
        want += (unsigned char)i;
    double secs =
        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    int ok =
        n == ROUND_TRIPS && sum == want && WIFEXITED(st) && !WEXITSTATUS(st);
    printf("RESULT metric=%.3f unit=ns check=%s sum=%llu\n",
           secs * 1e9 / (double)n, ok ? "ok" : "FAIL", (unsigned long long)sum);
    return ok ? 0 : 1;
}
