// SPDX-License-Identifier: Apache-2.0
/* The program's seccomp filter: the socket family allow list, on the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sentry/sentry.h"

/*
 * Each case forks a child that loads the real filter (sbx_seccomp_install()
 * after no_new_privs, as spawn.c does), makes every call of a table with
 * raw syscalls, so that family values with bits above 32 reach the filter
 * as given, and reports each call's errno (0: it worked) on a pipe. The
 * parent compares them with what the kernel answers without a filter for
 * a family it does not have (EAFNOSUPPORT) and a netlink protocol it does
 * not have (EPROTONOSUPPORT): the filter must refuse the way Linux does.
 * In stack mode nothing that the filter traps (USER_NOTIF) is called: no
 * sentry answers in this test. The child leaves with _exit(): its exit
 * is not the sanitizers' business.
 */

#define HI32 (1ll << 32)

struct probe {
	const char *name;
	long nr; /* SYS_socket or SYS_socketpair */
	long long family;
	int type, proto;
};

enum {
	WORKS = 0
};

static const struct probe probes[] = {
	{ "unix", SYS_socket, AF_UNIX, SOCK_STREAM, 0 },
	{ "unix pair", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0 },
	{ "netlink route", SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE },
	{ "netlink sock_diag", SYS_socket, AF_NETLINK, SOCK_RAW,
	  NETLINK_SOCK_DIAG },
	{ "netlink audit", SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_AUDIT },
	{ "netlink|hi32 sock_diag", SYS_socket, HI32 | AF_NETLINK, SOCK_RAW,
	  NETLINK_SOCK_DIAG },
	{ "packet", SYS_socket, AF_PACKET, SOCK_RAW, 0 },
	{ "packet|hi32", SYS_socket, HI32 | AF_PACKET, SOCK_RAW, 0 },
	{ "vsock", SYS_socket, AF_VSOCK, SOCK_STREAM, 0 },
	{ "vsock pair", SYS_socketpair, AF_VSOCK, SOCK_STREAM, 0 },
	{ "alg", SYS_socket, AF_ALG, SOCK_SEQPACKET, 0 },
	{ "bluetooth", SYS_socket, AF_BLUETOOTH, SOCK_RAW, 0 },
	{ "xdp", SYS_socket, AF_XDP, SOCK_RAW, 0 },
	{ "key", SYS_socket, AF_KEY, SOCK_RAW, 2 },
	{ "tipc", SYS_socket, AF_TIPC, SOCK_RDM, 0 },
	{ "tipc pair", SYS_socketpair, AF_TIPC, SOCK_RDM, 0 },
	{ "can", SYS_socket, AF_CAN, SOCK_RAW, 1 },
	{ "unspec", SYS_socket, AF_UNSPEC, SOCK_STREAM, 0 },
	{ "af_max", SYS_socket, AF_MAX, SOCK_STREAM, 0 },
	{ "minus one", SYS_socket, -1, SOCK_STREAM, 0 },
	{ "unix|hi32", SYS_socket, HI32 | AF_UNIX, SOCK_STREAM, 0 },
	{ "inet|hi32", SYS_socket, HI32 | AF_INET, SOCK_DGRAM, 0 },
	{ "inet pair", SYS_socketpair, AF_INET, SOCK_STREAM, 0 },
	{ "inet6 pair", SYS_socketpair, AF_INET6, SOCK_STREAM, 0 },
	/* last: trapped in stack modes (SBX_TRAPPED of them) */
	{ "inet6", SYS_socket, AF_INET6, SOCK_DGRAM, 0 },
	{ "inet", SYS_socket, AF_INET, SOCK_DGRAM, 0 },
};

#define NPROBES	    (sizeof(probes) / sizeof(probes[0]))
#define SBX_TRAPPED 2u

/*
 * Other kernel surface the filter refuses with EPERM in every mode, each
 * called with arguments for which the kernel (as root, no filter) answers
 * something else, so that an EPERM can only be the filter's.
 */
static const struct {
	const char *name;
	long nr, a[5];
} denied[] = {
	{ "open_by_handle_at", SYS_open_by_handle_at, { AT_FDCWD, 0, 0 } },
	{ "keyctl", SYS_keyctl, { 9999 } },
	{ "add_key", SYS_add_key, { 0 } },
	{ "request_key", SYS_request_key, { 0 } },
	{ "userfaultfd", SYS_userfaultfd, { 0x7fffffff } },
	{ "perf_event_open", SYS_perf_event_open, { 0, 0, -1, -1, 0 } },
};

#define NDENIED (sizeof(denied) / sizeof(denied[0]))

/* call_denied() - one of denied[]; Return: 0 or its errno. */
static int call_denied(unsigned i)
{
	long r = syscall(denied[i].nr, denied[i].a[0], denied[i].a[1],
			 denied[i].a[2], denied[i].a[3], denied[i].a[4]);

	return r < 0 ? errno : WORKS;
}

/* call() - one probe, no filter needed; Return: 0 or its errno. */
static int call(const struct probe *p)
{
	int sv[2];
	long r;

	r = syscall(p->nr, p->family, p->type, p->proto, sv);
	if (r < 0)
		return errno;
	if (p->nr == SYS_socketpair) {
		close(sv[0]);
		close(sv[1]);
	} else {
		close((int)r);
	}
	return WORKS;
}

/*
 * handover() - stack mode lets sendmsg() and recvmsg() with flags exactly
 * SBX_HANDOVER_FLAGS by untrapped (the listener's hand-over, the exec
 * zygote's requests): both return at once on a socketpair. Trapped, they
 * would wait for a sentry this test does not have; the alarm ends that
 * wait as a failure. Return: 0, or -1.
 */
static int handover(void)
{
	char b = 'x';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int sv[2], ok;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	alarm(5);
	ok = sendmsg(sv[1], &m, SBX_HANDOVER_FLAGS) == 1 &&
	     recvmsg(sv[0], &m, SBX_HANDOVER_FLAGS) == 1 && b == 'x';
	alarm(0);
	close(sv[0]);
	close(sv[1]);
	return ok ? 0 : -1;
}

/**
 * filtered() - every probe's result under the filter of one mode
 * @notify:	stack mode
 * @res:	NPROBES results (0 or errno); the SBX_TRAPPED last probes are
 *		only made with !@notify
 * @den:	NDENIED results of denied[]
 */
static void filtered(bool notify, int res[NPROBES], int den[NDENIED])
{
	int pfd[2], status, out[NPROBES + NDENIED];
	unsigned i, n = notify ? NPROBES - SBX_TRAPPED : NPROBES;
	pid_t pid;

	REQUIRE(pipe(pfd) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct cove_err err = { 0 };
		int nfd = -1;

		close(pfd[0]);
		memset(out, 0, sizeof(out));
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    sbx_seccomp_install(notify, &nfd, &err) < 0) {
			fprintf(stderr, "filter: %s\n", err.msg);
			_exit(2);
		}
		for (i = 0; i < n; i++)
			out[i] = call(&probes[i]);
		for (i = 0; i < NDENIED; i++)
			out[NPROBES + i] = call_denied(i);
		if (notify && handover() < 0)
			_exit(4);
		_exit(write(pfd[1], out, sizeof(out)) == sizeof(out) ? 0 : 3);
	}
	close(pfd[1]);
	REQUIRE(read(pfd[0], out, sizeof(out)) == sizeof(out));
	close(pfd[0]);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	memcpy(res, out, sizeof(int) * NPROBES);
	memcpy(den, out + NPROBES, sizeof(int) * NDENIED);
}

/* find() - the index of the probe named @name. */
static unsigned find(const char *name)
{
	unsigned i;

	for (i = 0; i < NPROBES; i++)
		if (!strcmp(probes[i].name, name))
			return i;
	REQUIRE(0);
	return 0;
}

/* The kernel's answers for what it does not have, without a filter. */
static int absent_family, absent_netlink;

static void test_kernel_answers(void)
{
	struct probe nofam = { "none", SYS_socket, AF_MAX + 7, SOCK_STREAM, 0 };
	struct probe nopair = { "none", SYS_socketpair, AF_MAX + 7, SOCK_STREAM,
				0 };
	struct probe noproto = { "none", SYS_socket, AF_NETLINK, SOCK_RAW,
				 MAX_LINKS };

	unsigned i;

	absent_family = call(&nofam);
	absent_netlink = call(&noproto);
	/* Without the filter, denied[] fails otherwise. */
	for (i = 0; i < NDENIED; i++)
		CHECK(call_denied(i) != EPERM);
	CHECK(absent_family == EAFNOSUPPORT);
	CHECK(call(&nopair) == absent_family);
	CHECK(absent_netlink == EPROTONOSUPPORT);
}

/**
 * check_common() - what both modes answer alike
 * @res:	results from filtered()
 * @den:	results of denied[] from filtered()
 */
static void check_common(const int res[NPROBES], const int den[NDENIED])
{
	static const char *const refused[] = {
		"packet",
		"packet|hi32",
		"vsock",
		"vsock pair",
		"alg",
		"bluetooth",
		"xdp",
		"key",
		"tipc",
		"tipc pair",
		"can",
		"unspec",
		"af_max",
		"minus one",
		"unix|hi32",
		"inet|hi32",
		"netlink|hi32 sock_diag",
	};
	unsigned i;

	CHECK(res[find("unix")] == WORKS);
	CHECK(res[find("unix pair")] == WORKS);
	CHECK(res[find("netlink route")] == WORKS);
	CHECK(res[find("netlink sock_diag")] == absent_netlink);
	CHECK(res[find("netlink audit")] == absent_netlink);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int r = res[find(refused[i])];

		if (r != absent_family)
			fprintf(stderr, "  %s: %s\n", refused[i],
				r ? strerror(r) : "allowed");
		CHECK(r == absent_family);
	}
	for (i = 0; i < NDENIED; i++) {
		if (den[i] != EPERM)
			fprintf(stderr, "  %s: %s\n", denied[i].name,
				den[i] ? strerror(den[i]) : "allowed");
		CHECK(den[i] == EPERM);
	}
}

/* --network=host and none: the kernel serves AF_INET and AF_INET6. */
static void test_host_mode(void)
{
	struct probe in6 = probes[find("inet6")];
	struct probe pair = probes[find("inet pair")];
	int res[NPROBES], den[NDENIED];

	filtered(false, res, den);
	check_common(res, den);
	CHECK(res[find("inet")] == WORKS);
	CHECK(res[find("inet6")] == call(&in6)); /* as the kernel says */
	CHECK(res[find("inet pair")] == call(&pair));
	CHECK(res[find("inet pair")] == EOPNOTSUPP);
}

/*
 * Stack modes: socket() of AF_INET and AF_INET6 trapped (not made here: no
 * sentry answers), socketpair() of both the kernel's (EOPNOTSUPP).
 */
static void test_stack_mode(void)
{
	struct probe pair = probes[find("inet pair")];
	struct probe pair6 = probes[find("inet6 pair")];
	int res[NPROBES], den[NDENIED];

	filtered(true, res, den);
	check_common(res, den);
	CHECK(res[find("inet pair")] == call(&pair));
	CHECK(res[find("inet6 pair")] == call(&pair6));
	CHECK(res[find("inet6 pair")] == EOPNOTSUPP);
}

int main(void)
{
	RUN(test_kernel_answers);
	RUN(test_host_mode);
	RUN(test_stack_mode);
	return check_summary();
}
