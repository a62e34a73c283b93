// SPDX-License-Identifier: Apache-2.0
/* The sentry's own seccomp filter (src/sentry/confine.c), loaded in children. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sentry/sentry.h"

/*
 * try() - in a child: no_new_privs, the filter (@dpdk: with the dpdk
 * extras), then @fn. Return: the child's wait status.
 */
static int try(bool dpdk, void (*fn)(void))
{
	struct cove_err err = { 0 };
	unsigned count;
	int status = -1;
	pid_t pid = fork();

	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    sbx_confine_filter(dpdk, false, &count, &err) < 0)
			_exit(100);
		fn();
		_exit(0); /* no atexit: the sanitizers' exit work is not ours */
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	return status;
}

static bool killed_by_sigsys(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

/* calls the loop makes: allowed */
static void loop_calls(void)
{
	int sv[2];
	char c = 'x';

	if (syscall(SYS_getpid) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    write(sv[0], &c, 1) != 1 || read(sv[1], &c, 1) != 1 ||
	    close(sv[0]) || close(sv[1]))
		_exit(1);
}

static void do_mount(void)
{
	(void)mount("none", "/tmp", "tmpfs", 0, NULL);
}

static void do_unshare(void)
{
	(void)unshare(CLONE_NEWUSER);
}

static void do_setns(void)
{
	(void)syscall(SYS_setns, -1, 0);
}

static void do_ptrace(void)
{
	(void)syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static void do_bpf(void)
{
	(void)syscall(SYS_bpf, 0, NULL, 0);
}

static void do_execve(void)
{
	char *argv[] = { "/bin/true", NULL };

	(void)execve("/bin/true", argv, NULL);
}

static void do_fork(void)
{
	(void)syscall(SYS_fork);
}

static void do_init_module(void)
{
	(void)syscall(SYS_init_module, NULL, 0, "");
}

static void test_allows_the_loop(void)
{
	int st = try(false, loop_calls);

	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "loop calls: status %#x\n", st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* calls the sentry never makes once set up: the filter kills for them */
static void test_kills_for_the_rest(void)
{
	static void (*const refused[])(void) = {
		do_mount, do_unshare, do_setns,	      do_ptrace,
		do_bpf,	  do_execve,  do_init_module, do_fork,
	};
	unsigned i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int st = try(false, refused[i]);

		if (!killed_by_sigsys(st))
			fprintf(stderr, "refused[%u]: status %#x\n", i, st);
		CHECK(killed_by_sigsys(st));
	}
}

/* bpf() only with --link=dpdk (net_af_xdp0 detaches its program) */
static void test_dpdk_extras(void)
{
	int st = try(true, do_bpf);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = try(true, do_mount);
	CHECK(killed_by_sigsys(st));
}

int main(void)
{
	RUN(test_allows_the_loop);
	RUN(test_kills_for_the_rest);
	RUN(test_dpdk_extras);
	return check_failures ? 1 : 0;
}
