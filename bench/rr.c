// SPDX-License-Identifier: Apache-2.0
/* 1-byte TCP request/response: a server that echoes, a client that times it. */
#include <arpa/inet.h>
#include <netdb.h>
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
 *   rr server PORT [ADDR]       accept connections one after another; on
 *                               each, echo every byte back until EOF;
 *                               listens on ADDR (default 0.0.0.0; "::" is
 *                               dual stack, IPV6_V6ONLY off, as Linux's
 *                               default)
 *   rr client ADDR PORT N [RATE]
 *                               one connection to ADDR (IPv4 or IPv6, a
 *                               numeric address), N round trips of one byte,
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

/*
 * rr_resolve() - @addr (numeric, either family) and @port as a socket
 * address in @ss; its length, or 0 if @addr is not an address.
 */
static socklen_t rr_resolve(const char *addr, const char *port,
			    struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					      AI_PASSIVE };
	struct addrinfo *ai;
	socklen_t len;

	if (getaddrinfo(addr, port, &hints, &ai) != 0)
		return 0;
	len = ai->ai_addrlen;
	memcpy(ss, ai->ai_addr, len);
	freeaddrinfo(ai);
	return len;
}

/* rr_server() - serve echo connections on @addr:@port forever. */
static __attribute__((noreturn)) void rr_server(const char *port,
						const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = rr_resolve(addr, port, &ss);
	int one = 1, zero = 0, lfd, fd;
	char buf[4096];
	ssize_t n;

	if (!len) {
		fprintf(stderr, "rr: bad address '%s' or port '%s'\n", addr,
			port);
		exit(2);
	}
	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (lfd < 0)
		rr_die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
		rr_die("IPV6_V6ONLY");
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0)
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
static int rr_client(const char *addr, const char *port, long n, long rate)
{
	struct sockaddr_storage ss;
	socklen_t len = rr_resolve(addr, port, &ss);
	uint64_t *lat, t0, start = 0;
	char c = 'x';
	long i;
	int fd;

	if (!len) {
		fprintf(stderr, "rr: bad address '%s' or port '%s'\n", addr,
			port);
		return 2;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (!lat || fd < 0)
		rr_die("setup");
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
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
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "server"))
		rr_server(argv[2], argc == 4 ? argv[3] : "0.0.0.0");
	if ((argc == 5 || (argc == 6 && atol(argv[5]) > 0)) &&
	    !strcmp(argv[1], "client") && atol(argv[4]) > 0)
		return rr_client(argv[2], argv[3], atol(argv[4]),
				 argc == 6 ? atol(argv[5]) : 0);
	fprintf(stderr,
		"usage: rr server PORT [ADDR] | rr client ADDR PORT N [RATE]\n");
	return 2;
}
