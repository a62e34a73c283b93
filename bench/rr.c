// SPDX-License-Identifier: Apache-2.0
/* 1-byte TCP request/response: a server that echoes, a client that times it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Theory of operation
 *
 *   rr server PORT              accept connections one after another; on
 *                               each, echo every byte back until EOF
 *   rr client ADDR PORT N [RATE]
 *                               one connection, N round trips of one byte,
 *                               prints one latency in ns per line on stdout;
 *                               with RATE, round trips start on a fixed
 *                               schedule of RATE per second (a late one
 *                               does not make the next ones hurry), so a
 *                               run costs the server the same number of
 *                               wakeups however fast each answer comes
 *
 * Both ends set TCP_NODELAY: the figure is the stack's round trip, not
 * Nagle's or delayed ACK's. The client warms up with 100 round trips that
 * are not printed. Run by bench/bench.py; the server runs inside the
 * sandbox (or netns) under test, the client outside.
 */

static void rr_die(const char *what)
{
	fprintf(stderr, "rr: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t rr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void rr_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		rr_die("TCP_NODELAY");
}

/* rr_server() - serve echo connections on @port forever. */
static __attribute__((noreturn)) void rr_server(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int one = 1, lfd, fd;
	char buf[4096];
	ssize_t n;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		rr_die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		rr_die("bind");
	if (listen(lfd, 16) < 0)
		rr_die("listen");
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			rr_die("accept");
		}
		rr_nodelay(fd);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)n) != n)
				break;
		close(fd);
	}
}

/* rr_pace() - sleep until round trip @i of a schedule at @rate/s from @t0. */
static void rr_pace(uint64_t t0, long i, long rate)
{
	uint64_t at = t0 + (uint64_t)i * 1000000000ull / (uint64_t)rate;
	struct timespec ts = { .tv_sec = (time_t)(at / 1000000000ull),
			       .tv_nsec = (long)(at % 1000000000ull) };

	if (rr_now() >= at)
		return; /* late: start now, the schedule stays */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/*
 * rr_client() - @n timed round trips to @addr:@port, one line each; paced
 * at @rate per second when @rate > 0 (the warm-up is not).
 */
static int rr_client(const char *addr, uint16_t port, long n, long rate)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	uint64_t *lat, t0, start = 0;
	char c = 'x';
	long i;
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "rr: bad address '%s'\n", addr);
		return 2;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!lat || fd < 0)
		rr_die("setup");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		rr_die("connect");
	rr_nodelay(fd);
	for (i = -100; i < n; i++) {
		if (rate > 0 && i == 0)
			start = rr_now();
		if (rate > 0 && i >= 0)
			rr_pace(start, i, rate);
		t0 = rr_now();
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			rr_die("round trip");
		if (i >= 0)
			lat[i] = rr_now() - t0;
	}
	close(fd);
	for (i = 0; i < n; i++)
		printf("%llu\n", (unsigned long long)lat[i]);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		rr_server((uint16_t)atoi(argv[2]));
	if ((argc == 5 || (argc == 6 && atol(argv[5]) > 0)) &&
	    !strcmp(argv[1], "client") && atol(argv[4]) > 0)
		return rr_client(argv[2], (uint16_t)atoi(argv[3]),
				 atol(argv[4]), argc == 6 ? atol(argv[5]) : 0);
	fprintf(stderr,
		"usage: rr server PORT | rr client ADDR PORT N [RATE]\n");
	return 2;
}
