// SPDX-License-Identifier: Apache-2.0
/* An OCI bundle's own seccomp profile: checked, built, loaded on the kernel. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "oci/oci.h"
#include "sentry/sentry.h"

/*
 * The profile's checks (src/oci/profile.c) on bad input, then profiles
 * loaded in a forked child on top of Cove's own program filter (host
 * mode: nothing is trapped, no sentry is needed), as spawn.c stacks them.
 * The child makes raw calls and sends each one's errno (0: it worked) on
 * a pipe; the parent compares. The child leaves with _exit().
 */

/* parse() - oci_seccomp_parse() on JSON text; 0 or -1, @msg the error. */
static int parse(const char *text, struct sbx_seccomp *sc, const char ***names,
		 json_t **j, char *msg, size_t len)
{
	struct cove_err err = { 0 };
	int r;

	*j = json_loads(text, 0, NULL);
	REQUIRE(*j);
	r = oci_seccomp_parse(*j, sc, names, &err);
	snprintf(msg, len, "%s", err.msg);
	return r;
}

/* bad() - @text is refused with a message containing @want. */
static void bad(const char *text, const char *want)
{
	struct sbx_seccomp sc;
	const char **names;
	char msg[COVE_ERR_MSG_MAX];
	json_t *j;

	CHECK(parse(text, &sc, &names, &j, msg, sizeof(msg)) < 0);
	if (!strstr(msg, want) || strncmp(msg, "config.json: ", 13))
		fprintf(stderr, "  message '%s' lacks '%s'\n", msg, want);
	CHECK(strstr(msg, want) != NULL);
	CHECK(names == NULL && sc.entries == NULL);
	json_decref(j);
}

static void test_refused(void)
{
	bad("[]", "linux.seccomp: not an object");
	bad("{}", "defaultAction: missing");
	bad("{\"defaultAction\":\"SCMP_ACT_FOO\"}", "unknown action");
	bad("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "SCMP_ACT_NOTIFY");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\"}",
	    "listenerPath");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}",
	    "defaultErrnoRet: only SCMP_ACT_ERRNO");
	bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}",
	    "not an integer in 0..4095");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"X\"]}",
	    "flags[0]: unknown flag");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
	    "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]}",
	    "architectures[1]: unknown");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
	    "syscalls[0].action: SCMP_ACT_NOTIFY");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
	    "syscalls[0].names: missing or empty");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,"
	    "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	    "args[0].index: not in 0..5");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
	    "\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}",
	    "args[0].op: unknown 'SCMP_CMP_ABOUT'");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
	    "\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	    "not a non-negative integer");
}

/* The calls the child makes, in order. */
struct call {
	long nr;
	long a0, a1;
};

/**
 * run_child() - load Cove's filter, then @text's profile, make @calls
 * @text:	the profile
 * @calls:	what to call
 * @n:		how many
 * @out:	each call's errno, 0 if it worked
 *
 * Return: 0 when the child reported all calls.
 */
static int run_child(const char *text, const struct call *calls, unsigned n,
		     int *out)
{
	struct sbx_seccomp sc;
	const char **names;
	char msg[COVE_ERR_MSG_MAX];
	json_t *j;
	int p[2], st, nfd;
	pid_t pid;
	ssize_t got;

	REQUIRE(parse(text, &sc, &names, &j, msg, sizeof(msg)) == 0);
	REQUIRE(pipe(p) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct cove_err err = { 0 };
		int res[16];
		void *f;
		unsigned i;

		close(p[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    sbx_seccomp_install(false, &nfd, &err) < 0)
			_exit(2);
		f = sbx_profile_build(&sc, &err);
		if (!f || sbx_profile_load(f) < 0)
			_exit(3);
		for (i = 0; i < n && i < 16; i++)
			res[i] = syscall(calls[i].nr, calls[i].a0,
					 calls[i].a1) < 0 ?
					 errno :
					 0;
		_exit(write(p[1], res, n * sizeof(int)) ==
				      (ssize_t)(n * sizeof(int)) ?
			      0 :
			      4);
	}
	close(p[1]);
	got = read(p[0], out, n * sizeof(int));
	close(p[0]);
	waitpid(pid, &st, 0);
	oci_seccomp_free(&sc, &names);
	json_decref(j);
	return got == (ssize_t)(n * sizeof(int)) && WIFEXITED(st) &&
			       !WEXITSTATUS(st) ?
		       0 :
		       -1;
}

/* Default allow; errno rules, an errnoRet, an AND, an OR, a masked EQ. */
static void test_rules(void)
{
	static const char text[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
		"[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
		"\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\"syscalls\":["
		"{\"names\":[\"getppid\",\"no_such_call\"],"
		"\"action\":\"SCMP_ACT_ERRNO\"},"
		"{\"names\":[\"umask\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"errnoRet\":42},"
		"{\"names\":[\"dup\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"errnoRet\":74,\"args\":[{\"index\":0,\"value\":100,"
		"\"op\":\"SCMP_CMP_GE\"}]},"
		"{\"names\":[\"dup2\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"errnoRet\":33,\"args\":[{\"index\":0,\"value\":0,\"op\":"
		"\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":50,\"op\":"
		"\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"errnoRet\":34,\"args\":[{\"index\":0,\"value\":7777,\"op\":"
		"\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":8888,\"op\":"
		"\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"errnoRet\":35,\"args\":[{\"index\":0,\"value\":255,"
		"\"valueTwo\":5,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
		"{\"names\":[\"keyctl\",\"getuid\"],\"action\":\"SCMP_ACT_ALLOW\"}"
		"]}";
	static const struct call calls[] = {
		{ SYS_getppid, 0, 0 },	  { SYS_umask, 022, 0 },
		{ SYS_dup, 0, 0 },	  { SYS_dup, 100, 0 },
		{ SYS_dup2, 0, 51 },	  { SYS_dup2, 0, 50 },
		{ SYS_getpgid, 7777, 0 }, { SYS_getpgid, 8888, 0 },
		{ SYS_getpgid, 0, 0 },	  { SYS_getsid, 0x305, 0 },
		{ SYS_getsid, 0, 0 },	  { SYS_keyctl, 0, 0 },
		{ SYS_getuid, 0, 0 },
	};
	/* dup(100) is EBADF on the kernel without the rule; getpgid(8888)
	 * ESRCH (no such process here); keyctl stays Cove's EPERM. */
	static const int want[] = { EPERM, 42, 0,  74, 0,     33, 34,
				    34,	   0,  35, 0,  EPERM, 0 };
	int got[sizeof(want) / sizeof(want[0])];
	unsigned i;

	REQUIRE(run_child(text, calls, sizeof(want) / sizeof(want[0]), got) ==
		0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (got[i] != want[i])
			fprintf(stderr, "  call %u: errno %d, want %d\n", i,
				got[i], want[i]);
		CHECK(got[i] == want[i]);
	}
}

/* Default ERRNO with defaultErrnoRet; listed calls (and what ASan's
 * exit needs) allowed. */
static void test_default_errno(void)
{
	static const char text[] =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
		"\"syscalls\":[{\"names\":[\"write\",\"exit\",\"exit_group\","
		"\"getpid\",\"gettid\",\"sigaltstack\",\"mmap\",\"munmap\","
		"\"madvise\",\"rt_sigprocmask\",\"rt_sigaction\",\"prctl\"],"
		"\"action\":\"SCMP_ACT_ALLOW\"},"
		"{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"errnoRet\":38}]}";
	static const struct call calls[] = {
		{ SYS_getpid, 0, 0 },
		{ SYS_getppid, 0, 0 },
		{ SYS_getuid, 0, 0 },
	};
	int got[3];

	REQUIRE(run_child(text, calls, 3, got) == 0);
	CHECK(got[0] == 0);
	CHECK(got[1] == ENOSYS);
	CHECK(got[2] == ENOSYS);
}

int main(void)
{
	RUN(test_refused);
	RUN(test_rules);
	RUN(test_default_errno);
	return check_summary();
}
