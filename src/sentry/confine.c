// SPDX-License-Identifier: Apache-2.0
/* The sentry confines itself once set up: capabilities, seccomp, dumpable. */
#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/testhook.h"
#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * Set-up needs root's powers (namespaces, mounts, the veth, the link, the
 * program's filter and user namespace); serving does not. So once the
 * program runs and the loop is about to start, sbx_confine():
 *
 *  1. makes the sentry non-dumpable: no core file of a process that has
 *     read program memory, and /proc/PID of the sentry is root's only;
 *  2. keeps only the capabilities the loop uses (sbx_keep_caps below) in
 *     the effective, permitted and bounding sets, none inheritable or
 *     ambient, and sets no_new_privs;
 *  3. loads its own seccomp filter: an allow list built from
 *     confine_list.h, the one list that also makes the table in
 *     docs/SECURITY.md, so the two cannot drift; anything else kills the
 *     sentry (SECCOMP_RET_KILL_PROCESS), and so the sandbox, rather than
 *     letting a compromised stack or frontend reach the host kernel with
 *     calls the sentry never makes (mount, ptrace, bpf, setns, module
 *     loading, keyctl, ...). The filter covers every thread (TSYNC).
 *
 * It fails closed: if any step fails the sentry does not serve (the run
 * fails with the reason). The processes forked before (the program and
 * the zygote of `cove exec`) are not under this filter; they have the
 * program's own (seccomp.c).
 *
 * The COVE_TEST_SENTRY_FILTER_LOG hook (testhook.h) makes the filter log
 * instead of kill, for finding a call the list misses (the kernel logs
 * each one: `dmesg | grep 'comm="cove-sentry"'`); so does the ASan build.
 */

/* A sanitizer's runtime makes calls of its own (reports, shadow memory):
 * in the ASan+UBSan build the filter logs them instead of killing. */
#if defined(__SANITIZE_ADDRESS__)
#define SBX_SANITIZED true
#else
#define SBX_SANITIZED false
#endif

/* What the loop needs of root: ptrace-class access to the program
 * (pidfd_getfd, process_vm_readv/writev across its user namespace),
 * signals to it, SO_SNDBUFFORCE/SO_RCVBUFFORCE on the pairs and the netns
 * changes a link undoes at exit, low ports for the kernel provider. */
static const int sbx_keep_caps[] = {
	CAP_SYS_PTRACE,	      CAP_KILL,	   CAP_NET_ADMIN,
	CAP_NET_BIND_SERVICE, CAP_NET_RAW,
};

enum {
	SBX_WHEN_ALL = 1,
	SBX_WHEN_DPDK = 2
};

static const struct {
	const char *name;
	unsigned when;
} sbx_allowed[] = {
#define SBX_SYSCALL(when, name, why) { #name, SBX_WHEN_##when },
#include "sentry/confine_list.h"
#undef SBX_SYSCALL
};

/* sbx_keep_cap() - is @cap one the loop keeps? */
static bool sbx_keep_cap(int cap)
{
	unsigned i;

	for (i = 0; i < sizeof(sbx_keep_caps) / sizeof(sbx_keep_caps[0]); i++)
		if (sbx_keep_caps[i] == cap)
			return true;
	return false;
}

/* sbx_drop_to_kept() - bounding, then permitted/effective/inheritable. */
static int sbx_drop_to_kept(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int cap;

	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!sbx_keep_cap(cap) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	memset(d, 0, sizeof(d));
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (sbx_keep_cap(cap)) {
			d[cap / 32].effective |= 1u << (cap % 32);
			d[cap / 32].permitted |= 1u << (cap % 32);
		}
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

/**
 * sbx_confine_filter() - load the sentry's allow list (confine_list.h)
 * @dpdk:	add the calls a --link=dpdk sentry needs at close
 * @log_only:	log what it would kill for, allow it (the test hook)
 * @count:	set to the number of calls allowed
 * @err:	set on failure
 *
 * For every thread of the process (TSYNC); the unit test loads it in a
 * child to check what it refuses. Return: 0 or -1 with @err set.
 */
int sbx_confine_filter(bool dpdk, bool log_only, unsigned *count,
		       struct cove_err *err)
{
	unsigned i, when = SBX_WHEN_ALL | (dpdk ? SBX_WHEN_DPDK : 0);
	scmp_filter_ctx ctx;
	int nr, ret = 0;

	ctx = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return cove_err_set(err, ENOMEM, "seccomp_init failed");
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	*count = 0;
	for (i = 0; !ret && i < sizeof(sbx_allowed) / sizeof(sbx_allowed[0]);
	     i++) {
		if (!(sbx_allowed[i].when & when))
			continue;
		nr = seccomp_syscall_resolve_name(sbx_allowed[i].name);
		if (nr == __NR_SCMP_ERROR) {
			seccomp_release(ctx);
			return cove_err_set(err, EINVAL,
					    "sentry filter: unknown syscall %s",
					    sbx_allowed[i].name);
		}
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		++*count;
	}
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		return cove_err_set(err, -ret, "sentry filter");
	return 0;
}

/**
 * sbx_confine() - non-dumpable, only sbx_keep_caps, no_new_privs, the
 * sentry's own filter (see the theory above)
 * @sn:		sentry, set up and about to serve
 * @err:	set on failure: the caller must not serve then
 *
 * Return: 0 or -1.
 */
int sbx_confine(struct sentry *sn, struct cove_err *err)
{
	bool log_only = cove_test_hook_set("SENTRY_FILTER_LOG") ||
			SBX_SANITIZED;
	unsigned count;
	int ret;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cove_err_set(err, errno, "sentry: PR_SET_DUMPABLE");
	ret = sbx_drop_to_kept();
	if (ret < 0)
		return cove_err_set(err, -ret, "sentry: dropping capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cove_err_set(err, errno, "sentry: PR_SET_NO_NEW_PRIVS");
	if (sbx_confine_filter(sn->o->link == SBX_LINK_DPDK, log_only, &count,
			       err) < 0)
		return -1;
	sbx_step(sn->o,
		 "sentry: confined (%u system calls, %zu capabilities%s)",
		 count, sizeof(sbx_keep_caps) / sizeof(sbx_keep_caps[0]),
		 log_only ? "; filter logs only (test hook)" : "");
	return 0;
}
