// SPDX-License-Identifier: Apache-2.0
/* The program's seccomp filter: trap socket control calls, deny bypasses. */
#include <errno.h>
#include <linux/netlink.h>
#include <seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * Built with libseccomp in the program's process after PR_SET_NO_NEW_PRIVS
 * and before execve(); inherited by every descendant. Default ALLOW, then:
 *
 *   socket(), socketpair(): an allow list of address families
 *     (sbx_families[]); any other value of the family argument, including
 *     one with bits set above the 32 the kernel reads, fails as on a
 *     kernel without that family: EAFNOSUPPORT. Allowed:
 *       AF_UNIX      the kernel's, every mode
 *       AF_INET,     stack modes: socket() USER_NOTIF (the sentry serves
 *       AF_INET6     it; a provider without IPv6 answers AF_INET6 with
 *                    EAFNOSUPPORT, as a kernel without IPv6 does);
 *                    socketpair() the kernel's (EOPNOTSUPP, no socket
 *                    made); host and none: the kernel's
 *       AF_NETLINK   socket() only with protocol NETLINK_ROUTE (read-only:
 *                    the program has no CAP_NET_ADMIN); any other protocol
 *                    EPROTONOSUPPORT, as for a netlink family Linux lacks
 *   stack mode only (SCMP_ACT_NOTIFY, answered by the sentry):
 *     bind, listen, accept, accept4, connect,
 *     getsockname, getpeername, setsockopt, getsockopt, shutdown,
 *     sendmmsg, recvmmsg, recvmsg(flags != SBX_HANDOVER_FLAGS),
 *     sendmsg(flags != SBX_HANDOVER_FLAGS),
 *     sendto(..., dest_addr != NULL, ...), recvfrom(..., src_addr != NULL, ...)
 *   every mode (SCMP_ACT_ERRNO(EPERM)):
 *     pidfd_getfd, bpf,
 *     io_uring_setup/enter/register (io_uring would bypass this filter),
 *     open_by_handle_at (opens any inode of a mounted file system by
 *     handle, past a --rootfs pivot_root, for a root that kept
 *     CAP_DAC_READ_SEARCH), keyctl, add_key, request_key (the kernel
 *     keyrings are not namespaced), userfaultfd and perf_event_open (kernel
 *     surface a sandboxed program has no use for, a staple of exploits),
 *     as container runtimes' default profiles do
 *
 * ptrace and process_vm_readv/writev are allowed: strace and gdb work on
 * the program's own processes, as in any container. They cannot widen the
 * sandbox: seccomp runs after a tracer's changes to a call (Linux 4.8 and
 * later), so a traced call is filtered or trapped as it finally is;
 * suspending the filter (PTRACE_O_SUSPEND_SECCOMP) needs CAP_SYS_ADMIN of
 * the initial user namespace; the sentry is another user, non-dumpable and
 * outside the program's user namespace, and the zygote of cove exec is
 * non-dumpable (exec.c), so neither can be traced; and a trapped call's
 * arguments in program memory are read once by the sentry and checked
 * there, however the memory changes afterwards (a tracer or a second
 * thread could change it anyway).
 *
 * libseccomp compares each argument once per rule, so "every family but
 * these" is written as one refusing rule per value in the gaps between
 * the allowed families plus one "greater than the last" rule
 * (sbx_refuse_families()); the comparisons are on all 64 bits, so a
 * family of 1 << 32 | AF_PACKET, which the kernel reads as AF_PACKET,
 * falls in the "greater" rule instead of slipping past an equality.
 *
 * The msghdr calls are trapped on every fd: their address lives inside a
 * struct the filter cannot read, so unlike sendto/recvfrom the addressed
 * ones cannot be told apart here. The sentry CONTINUEs those on TCP and on
 * fds not its own (dgram.c). One sendmsg and one recvmsg are let by: flags
 * exactly SBX_HANDOVER_FLAGS. spawn.c sends this filter's listener to the
 * sentry that way (trapped, it would wait for a sentry that has no
 * listener yet), and the exec zygote (exec.c) receives its requests that
 * way: trapped, its next recvmsg would wait for the sentry while the
 * sentry, sending the next request, waits for the zygote's answer. A
 * program using those flags only gets an untrapped call on its AF_UNIX
 * end (no UDP source address): nothing reaches a network that way. Other architectures (x32,
 * i386 via int 0x80) hit libseccomp's default bad-arch action: kill.
 * The program also runs without CAP_NET_ADMIN and CAP_NET_RAW (spawn.c),
 * so NETLINK_ROUTE sockets can read but the kernel refuses their writes.
 */

/* What the filter does with one allowed family's socket() calls. */
enum sbx_fam_action {
	SBX_FAM_KERNEL,	   /* allowed: the kernel serves it */
	SBX_FAM_NOTIFY,	   /* stack modes: the sentry serves it */
	SBX_FAM_ROUTE_ONLY /* netlink: NETLINK_ROUTE only */
};

/*
 * sbx_families[] - the families a sandboxed program may use, in increasing
 * order (sbx_refuse_families() walks the gaps between them), with what
 * stack modes and the other modes do with each.
 */
static const struct sbx_family {
	int family;
	enum sbx_fam_action stack, other;
} sbx_families[] = {
	{ AF_UNIX, SBX_FAM_KERNEL, SBX_FAM_KERNEL },
	{ AF_INET, SBX_FAM_NOTIFY, SBX_FAM_KERNEL },
	{ AF_INET6, SBX_FAM_NOTIFY, SBX_FAM_KERNEL },
	{ AF_NETLINK, SBX_FAM_ROUTE_ONLY, SBX_FAM_ROUTE_ONLY },
};

#define SBX_NFAMILIES (sizeof(sbx_families) / sizeof(sbx_families[0]))

/* sbx_arg() - one argument comparison (the SCMP_A* macros leave datum_b
 * to the compiler, which clang's -Wmissing-field-initializers rejects). */
static struct scmp_arg_cmp sbx_arg(unsigned arg, enum scmp_compare op,
				   uint64_t datum)
{
	struct scmp_arg_cmp c = {
		.arg = arg,
		.op = op,
		.datum_a = datum,
		.datum_b = 0,
	};

	return c;
}

static int sbx_rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned cnt,
		    const struct scmp_arg_cmp *arg)
{
	int ret = seccomp_rule_add_array(ctx, action, nr, cnt, arg);

	/* A syscall this libseccomp does not know on this arch: skip it. */
	return ret == -EDOM || ret == -EFAULT ? 0 : ret;
}

/**
 * sbx_refuse_families() - refuse every family not in sbx_families[]
 * @ctx:	filter being built
 * @nr:		socket or socketpair (the family is argument 0 of both)
 *
 * One EAFNOSUPPORT rule per value between two allowed families (the gaps
 * are small: AF_NETLINK is 16) and one for every value above the last,
 * compared on 64 bits.
 *
 * Return: 0 or a negative errno from libseccomp.
 */
static int sbx_refuse_families(scmp_filter_ctx ctx, int nr)
{
	uint32_t refuse = SCMP_ACT_ERRNO(EAFNOSUPPORT);
	struct scmp_arg_cmp a;
	uint64_t v = 0;
	unsigned i;
	int ret = 0;

	for (i = 0; !ret && i < SBX_NFAMILIES; i++) {
		uint64_t f = (uint64_t)sbx_families[i].family;

		if (f < v)
			return -EINVAL; /* sbx_families[] out of order */
		for (; !ret && v < f; v++) {
			a = sbx_arg(0, SCMP_CMP_EQ, v);
			ret = sbx_rule(ctx, refuse, nr, 1, &a);
		}
		v = f + 1;
	}
	a = sbx_arg(0, SCMP_CMP_GT, v - 1);
	return ret ? ret : sbx_rule(ctx, refuse, nr, 1, &a);
}

/**
 * sbx_family_rules() - the rules of one allowed family
 * @ctx:	filter being built
 * @f:		the family
 * @act:	what to do with it in this mode
 *
 * Return: 0 or a negative errno from libseccomp.
 */
static int sbx_family_rules(scmp_filter_ctx ctx, const struct sbx_family *f,
			    enum sbx_fam_action act)
{
	struct scmp_arg_cmp a[2];

	a[0] = sbx_arg(0, SCMP_CMP_EQ, (uint64_t)f->family);
	switch (act) {
	case SBX_FAM_NOTIFY:
		return sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 1, a);
	case SBX_FAM_ROUTE_ONLY:
		a[1] = sbx_arg(2, SCMP_CMP_NE, NETLINK_ROUTE);
		return sbx_rule(ctx, SCMP_ACT_ERRNO(EPROTONOSUPPORT),
				SCMP_SYS(socket), 2, a);
	case SBX_FAM_KERNEL:
		break;
	}
	return 0;
}

/**
 * sbx_socket_rules() - socket() and socketpair(): the family allow list
 * @ctx:	filter being built
 * @notify:	stack mode (the sentry serves AF_INET and AF_INET6)
 *
 * Return: 0 or a negative errno from libseccomp.
 */
static int sbx_socket_rules(scmp_filter_ctx ctx, bool notify)
{
	unsigned i;
	int ret;

	ret = sbx_refuse_families(ctx, SCMP_SYS(socket));
	if (!ret)
		ret = sbx_refuse_families(ctx, SCMP_SYS(socketpair));
	for (i = 0; !ret && i < SBX_NFAMILIES; i++)
		ret = sbx_family_rules(ctx, &sbx_families[i],
				       notify ? sbx_families[i].stack :
						sbx_families[i].other);
	return ret;
}

/**
 * sbx_notify_rules() - stack mode: trap the socket calls to the sentry
 * @ctx:	filter being built
 *
 * Return: 0 or a negative errno from libseccomp.
 */
static int sbx_notify_rules(scmp_filter_ctx ctx)
{
	static const int trapped[] = {
		SCMP_SYS(bind),	       SCMP_SYS(listen),
		SCMP_SYS(accept),      SCMP_SYS(accept4),
		SCMP_SYS(connect),     SCMP_SYS(getsockname),
		SCMP_SYS(getpeername), SCMP_SYS(setsockopt),
		SCMP_SYS(getsockopt),  SCMP_SYS(shutdown),
		SCMP_SYS(sendmmsg),    SCMP_SYS(recvmmsg),
	};
	struct scmp_arg_cmp a;
	unsigned i;
	int ret = 0;

	for (i = 0; !ret && i < sizeof(trapped) / sizeof(trapped[0]); i++)
		ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, trapped[i], 0, NULL);
	/* Not the hand-over of this very filter's listener, nor the exec
	 * zygote's requests. */
	a = sbx_arg(2, SCMP_CMP_NE, SBX_HANDOVER_FLAGS);
	if (!ret)
		ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendmsg), 1, &a);
	if (!ret)
		ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(recvmsg), 1, &a);
	a = sbx_arg(4, SCMP_CMP_NE, 0);
	if (!ret)
		ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, &a);
	if (!ret)
		ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(recvfrom), 1, &a);
	return ret;
}

/**
 * sbx_seccomp_install() - build and load the program's filter (see above)
 * @notify:	stack mode: trap socket calls to a listener
 * @notify_fd:	set to the listener fd if @notify; the caller owns it
 * @err:	set on failure
 *
 * Must run after PR_SET_NO_NEW_PRIVS, in the process that will exec.
 * Return: 0, or a negative errno with @err set.
 */
int sbx_seccomp_install(bool notify, int *notify_fd, struct cove_err *err)
{
	static const int denied[] = {
		SCMP_SYS(pidfd_getfd),
		SCMP_SYS(bpf),
		SCMP_SYS(io_uring_setup),
		SCMP_SYS(io_uring_enter),
		SCMP_SYS(io_uring_register),
		SCMP_SYS(open_by_handle_at),
		SCMP_SYS(keyctl),
		SCMP_SYS(add_key),
		SCMP_SYS(request_key),
		SCMP_SYS(userfaultfd),
		SCMP_SYS(perf_event_open),
	};
	scmp_filter_ctx ctx;
	unsigned i;
	int ret = 0;

	*notify_fd = -1;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return cove_err_set(err, ENOMEM, "seccomp_init failed");
	for (i = 0; !ret && i < sizeof(denied) / sizeof(denied[0]); i++)
		ret = sbx_rule(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0, NULL);
	if (!ret)
		ret = sbx_socket_rules(ctx, notify);
	if (!ret && notify)
		ret = sbx_notify_rules(ctx);
	if (ret) {
		seccomp_release(ctx);
		return cove_err_set(err, -ret, "seccomp rule");
	}
	ret = seccomp_load(ctx);
	if (ret) {
		seccomp_release(ctx);
		return cove_err_set(err, -ret, "seccomp_load");
	}
	if (notify) {
		*notify_fd = seccomp_notify_fd(ctx);
		if (*notify_fd < 0) {
			seccomp_release(ctx);
			return cove_err_set(err, EINVAL,
					    "seccomp: no listener fd");
		}
	}
	seccomp_release(ctx);
	return 0;
}
