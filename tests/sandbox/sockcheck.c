// SPDX-License-Identifier: Apache-2.0
/* Socket semantics inside a sandbox; run on a stack and on --network=host. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <unistd.h>

#include "sockdiff.h"

/*
 * Usage: sockcheck HOST TCP_PORT UDP_PORT LISTEN_PORT RESET_PORT
 *
 * The test harness (tests/integration/sandbox_semantics.py) runs on HOST a
 * TCP echo server on TCP_PORT (echoes, closes after EOF), nothing on
 * TCP_PORT + 1, a UDP echo server on UDP_PORT, and connects twice to
 * LISTEN_PORT of the sandbox when it reads "LISTEN" on our stdout.
 * LISTEN_PORT + 1 is bound, closed and bound again inside (no peer).
 * Prints one line per check: "NAME ok" or "NAME FAIL: why"; the exit
 * status is the number of failures. Then the differential checks
 * (sockdiff.c, sockdiff_opts.c) print "= NAME OBSERVATION" lines, which
 * the harness compares with the kernel's; RESET_PORT is the host's reset
 * server, LISTEN_PORT + 10 and + 11 their listeners inside.
 */

static int failures;
static struct sockaddr_in host_tcp, host_closed, host_udp;
static unsigned short listen_port;
struct sockaddr_in sd_host_reset, sd_host_closed;
unsigned short sd_port_base;
static char *self;

#define FAIL(name, ...)                                                        \
	do {                                                                   \
		printf("%s FAIL: ", name);                                     \
		printf(__VA_ARGS__);                                           \
		printf(" (errno %s)\n",                                        \
		       strerrorname_np(errno) ? strerrorname_np(errno) : "0"); \
		failures++;                                                    \
		fflush(stdout);                                                \
		return;                                                        \
	} while (0)

static void ok(const char *name)
{
	printf("%s ok\n", name);
	fflush(stdout);
}

static int tcp_connect(const struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* read_all() - read until EOF into @buf; Return: bytes or -1. */
static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void check_nonblock_connect(void)
{
	const char *name = "nonblock_connect";
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, err = -1, r;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		FAIL(name, "socket");
	r = connect(fd, (struct sockaddr *)&host_tcp, sizeof(host_tcp));
	if (r == 0)
		goto connected;
	if (errno != EINPROGRESS)
		FAIL(name, "connect returned %d", r);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLOUT))
		FAIL(name, "no POLLOUT within 5 s (revents %#x)", p.revents);
connected:
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
		FAIL(name, "SO_ERROR %d", err);
	if (write(fd, "x", 1) != 1)
		FAIL(name, "write after connect");
	close(fd);
	ok(name);
}

static void check_refused(void)
{
	const char *name = "connect_refused";
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = tcp_connect(&host_closed);
	if (fd >= 0 || errno != ECONNREFUSED)
		FAIL(name, "blocking connect to a closed port: fd %d", fd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(fd, (struct sockaddr *)&host_closed, sizeof(host_closed)) ==
		    0 ||
	    errno != EINPROGRESS) {
		if (errno != ECONNREFUSED)
			FAIL(name, "non-blocking connect");
		close(fd);
		ok(name);
		return;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, 5000) != 1)
		FAIL(name, "no wake-up within 5 s");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
	    err != ECONNREFUSED)
		FAIL(name, "SO_ERROR %d, want ECONNREFUSED", err);
	close(fd);
	ok(name);
}

static void check_half_close(void)
{
	const char *name = "half_close";
	char buf[64];
	ssize_t n;
	int fd = tcp_connect(&host_tcp);

	if (fd < 0)
		FAIL(name, "connect");
	if (write(fd, "hello", 5) != 5)
		FAIL(name, "write");
	if (shutdown(fd, SHUT_WR) < 0)
		FAIL(name, "shutdown");
	if (write(fd, "x", 1) >= 0 || errno != EPIPE)
		FAIL(name, "write after SHUT_WR did not fail with EPIPE");
	n = read_all(fd, buf, sizeof(buf));
	if (n != 5 || memcmp(buf, "hello", 5))
		FAIL(name, "echo read %zd bytes", n);
	close(fd);
	ok(name);
}

static void check_names(void)
{
	const char *name = "sock_peer_names";
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = tcp_connect(&host_tcp);
	short tiny;

	if (fd < 0)
		FAIL(name, "connect");
	if (getpeername(fd, (struct sockaddr *)&a, &len) < 0 ||
	    len != sizeof(a) || a.sin_addr.s_addr != host_tcp.sin_addr.s_addr ||
	    a.sin_port != host_tcp.sin_port)
		FAIL(name, "getpeername");
	len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0 ||
	    a.sin_family != AF_INET || !a.sin_port || !a.sin_addr.s_addr)
		FAIL(name, "getsockname");
	/* A short buffer: truncated, full length reported. */
	len = sizeof(tiny);
	if (getsockname(fd, (struct sockaddr *)&tiny, &len) < 0 ||
	    len != sizeof(a) || tiny != AF_INET)
		FAIL(name, "getsockname into 2 bytes: len %u", len);
	close(fd);
	ok(name);
}

static void check_options(void)
{
	const char *name = "sockopts";
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, v = 0;
	socklen_t len = sizeof(v);

	if (fd < 0)
		FAIL(name, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		FAIL(name, "SO_REUSEADDR");
	if (getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &len) < 0 || !v)
		FAIL(name, "SO_REUSEADDR reads %d", v);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		FAIL(name, "TCP_NODELAY");
	len = sizeof(v);
	v = 0;
	if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) < 0 || !v)
		FAIL(name, "TCP_NODELAY reads %d", v);
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 ||
	    v != SOCK_STREAM)
		FAIL(name, "SO_TYPE %d", v);
	close(fd);
	ok(name);
}

static void check_accept_epoll(void)
{
	const char *name = "accept_epoll";
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(listen_port) };
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int l, ep, c1, c2, one = 1;
	char b;

	l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 8) < 0)
		FAIL(name, "bind/listen");
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	if (epoll_wait(ep, &out, 1, 0) != 0)
		FAIL(name, "readable before any connection");
	if (accept(l, NULL, NULL) >= 0 || errno != EAGAIN)
		FAIL(name, "accept with nothing pending");
	printf("LISTEN %u\n", listen_port);
	fflush(stdout);
	if (epoll_wait(ep, &out, 1, 5000) != 1)
		FAIL(name, "not readable after a connection");
	c1 = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	if (c1 < 0 || plen != sizeof(peer) || peer.sin_family != AF_INET)
		FAIL(name, "accept4");
	if (!(fcntl(c1, F_GETFD) & FD_CLOEXEC))
		FAIL(name, "SOCK_CLOEXEC not honoured");
	if (epoll_wait(ep, &out, 1, 5000) != 1)
		FAIL(name, "not readable for the second connection");
	c2 = accept(l, NULL, NULL);
	if (c2 < 0)
		FAIL(name, "second accept");
	if (epoll_wait(ep, &out, 1, 0) != 0)
		FAIL(name, "still readable with no connection pending");
	if (read(c1, &b, 1) != 1 || read(c2, &b, 1) != 1)
		FAIL(name, "data on accepted connections");
	close(c1);
	close(c2);
	close(ep);
	close(l);
	ok(name);
}

static void check_fork_exec(void)
{
	const char *name = "fork_exec_shared";
	char arg[16], buf[64];
	int fd = tcp_connect(&host_tcp), status;
	pid_t pid;
	ssize_t n;

	if (fd < 0)
		FAIL(name, "connect");
	fcntl(fd, F_SETFD, 0); /* the exec'd child inherits it */
	if (write(fd, "parent.", 7) != 7)
		FAIL(name, "write");
	pid = fork();
	if (pid == 0) {
		snprintf(arg, sizeof(arg), "%d", fd);
		execl(self, self, "--child", arg, (char *)NULL);
		_exit(99);
	}
	/* The child holds the socket: our close must not end it. */
	close(fd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		FAIL(name, "child status %#x", status);
	(void)buf;
	(void)n;
	ok(name);
}

/* child_main() - the exec'd half of fork_exec_shared. */
static int child_main(int fd)
{
	char buf[64];
	ssize_t n;

	if (write(fd, "child", 5) != 5 || shutdown(fd, SHUT_WR) < 0)
		return 1;
	n = read_all(fd, buf, sizeof(buf));
	return n == 12 && !memcmp(buf, "parent.child", 12) ? 0 : 2;
}

static void check_unix(void)
{
	const char *name = "af_unix";
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int sv[2], l, c, s;
	char b[4];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    write(sv[0], "abc", 3) != 3 || read(sv[1], b, 3) != 3)
		FAIL(name, "socketpair");
	snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/sockcheck-%d",
		 (int)getpid());
	unlink(a.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0)
		FAIL(name, "bind/listen");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		FAIL(name, "connect");
	s = accept(l, NULL, NULL);
	if (s < 0 || write(c, "x", 1) != 1 || read(s, b, 1) != 1)
		FAIL(name, "accept/transfer");
	unlink(a.sun_path);
	close(s);
	close(c);
	close(l);
	close(sv[0]);
	close(sv[1]);
	ok(name);
}

static void check_udp(void)
{
	const char *name = "udp_sendto_recvfrom";
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct pollfd p;
	char buf[64];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		FAIL(name, "socket");
	if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&host_udp,
		   sizeof(host_udp)) != 4)
		FAIL(name, "sendto");
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1)
		FAIL(name, "no reply within 5 s");
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	if (n != 4 || memcmp(buf, "ping", 4))
		FAIL(name, "recvfrom %zd", n);
	if (flen != sizeof(from) ||
	    from.sin_addr.s_addr != host_udp.sin_addr.s_addr ||
	    from.sin_port != host_udp.sin_port)
		FAIL(name, "source address");
	/* Connected UDP: plain send/recv. */
	if (connect(fd, (struct sockaddr *)&host_udp, sizeof(host_udp)) < 0 ||
	    send(fd, "pong", 4, 0) != 4)
		FAIL(name, "connected send");
	if (poll(&p, 1, 5000) != 1 || recv(fd, buf, sizeof(buf), 0) != 4)
		FAIL(name, "connected recv");
	close(fd);
	ok(name);
}

/*
 * A listener, then a UDP socket, closed and their port bound again at
 * once, as a server restarting its listener does (iperf3 after a client
 * that went away): close() frees the port, so the next bind() and listen()
 * must not see EADDRINUSE. The sentry learns of a close asynchronously
 * (EPOLLHUP on its end of the pair), so a lost race shows within a few
 * rounds. SO_REUSEADDR on every other TCP round, as servers mostly set it.
 */
static void check_rebind(void)
{
	const char *name = "rebind_after_close";
	struct sockaddr_in a = { .sin_family = AF_INET };
	int round, fd, one = 1;

	a.sin_port = htons((unsigned short)(listen_port + 1));
	for (round = 0; round < 50; round++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 ||
		    (round % 2 == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
						  &one, sizeof(one)) < 0))
			FAIL(name, "tcp socket, round %d", round);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			FAIL(name, "tcp bind, round %d", round);
		if (listen(fd, 8) < 0)
			FAIL(name, "listen, round %d", round);
		close(fd);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			FAIL(name, "udp socket, round %d", round);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			FAIL(name, "udp bind, round %d", round);
		close(fd);
	}
	ok(name);
}

static void check_inet6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	printf("inet6 %s\n", fd < 0 && errno == EAFNOSUPPORT ? "eafnosupport" :
			     fd >= 0			     ? "allowed" :
							       "other-error");
	if (fd >= 0)
		close(fd);
}

static void check_denied(void)
{
	const char *name = "bypass_denied";
	int fd;

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (fd >= 0 || (errno != EPERM && errno != EACCES))
		FAIL(name, "raw socket");
	/* Not on the filter's family allow list: as if Linux had none. */
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd >= 0 || errno != EAFNOSUPPORT)
		FAIL(name, "AF_PACKET socket");
	/* Tracing its own processes is allowed; the sentry (PID 1) is not. */
	if (ptrace(PTRACE_ATTACH, 1, NULL, NULL) == 0 || errno != EPERM)
		FAIL(name, "ptrace of the sentry");
	ok(name);
}

/*
 * check_families() - the filter's family allow list: families no stack
 * serves fail as on a kernel without them (EAFNOSUPPORT; netlink other
 * than NETLINK_ROUTE: EPROTONOSUPPORT), the same in every mode; a family
 * with bits above 32 (which the kernel would read as AF_INET) too.
 */
static void check_families(void)
{
	static const int refused[] = { AF_VSOCK,  AF_ALG,  AF_BLUETOOTH, AF_XDP,
				       AF_KEY,	  AF_TIPC, AF_CAN,	 AF_RDS,
				       AF_UNSPEC, AF_MAX };
	const char *name = "families_allow_list";
	unsigned i;
	int fd, sv[2];

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		fd = socket(refused[i], SOCK_STREAM, 0);
		if (fd >= 0 || errno != EAFNOSUPPORT)
			FAIL(name, "socket(family %d)", refused[i]);
		if (socketpair(refused[i], SOCK_STREAM, 0, sv) == 0 ||
		    errno != EAFNOSUPPORT)
			FAIL(name, "socketpair(family %d)", refused[i]);
	}
	fd = (int)syscall(SYS_socket, (1l << 32) | AF_INET, SOCK_DGRAM, 0);
	if (fd >= 0 || errno != EAFNOSUPPORT)
		FAIL(name, "socket(1 << 32 | AF_INET)");
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
	if (fd >= 0 || errno != EPROTONOSUPPORT)
		FAIL(name, "netlink sock_diag");
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0)
		FAIL(name, "netlink route");
	close(fd);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		FAIL(name, "unix socketpair");
	close(sv[0]);
	close(sv[1]);
	ok(name);
}

static int parse_addr(struct sockaddr_in *a, const char *ip, const char *port)
{
	a->sin_family = AF_INET;
	a->sin_port = htons((unsigned short)atoi(port));
	return inet_pton(AF_INET, ip, &a->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	char closed[16];

	self = argv[0];
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(atoi(argv[2]));
	if (argc != 6) {
		fprintf(stderr, "usage: sockcheck HOST TCP_PORT UDP_PORT "
				"LISTEN_PORT RESET_PORT\n");
		return 100;
	}
	snprintf(closed, sizeof(closed), "%d", atoi(argv[2]) + 1);
	if (parse_addr(&host_tcp, argv[1], argv[2]) ||
	    parse_addr(&host_closed, argv[1], closed) ||
	    parse_addr(&host_udp, argv[1], argv[3]) ||
	    parse_addr(&sd_host_reset, argv[1], argv[5]))
		return 100;
	sd_host_closed = host_closed;
	listen_port = (unsigned short)atoi(argv[4]);
	sd_port_base = (unsigned short)(listen_port + 10);
	check_nonblock_connect();
	check_refused();
	check_half_close();
	check_names();
	check_options();
	check_accept_epoll();
	check_fork_exec();
	check_unix();
	check_udp();
	check_rebind();
	check_inet6();
	check_denied();
	check_families();
	sd_run_resets();
	sd_run_options();
	printf("done %d\n", failures);
	return failures;
}
