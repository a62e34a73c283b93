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
 *   stack mode only (SCMP_ACT_NOTIFY, answered by the sentry):
 *     socket(AF_INET, ...), bind, listen, accept, accept4, connect,
 *     getsockname, getpeername, setsockopt, getsockopt, shutdown,
 *     recvmsg, sendmmsg, recvmmsg, sendmsg(flags != SBX_HANDOVER_FLAGS),
 *     sendto(..., dest_addr != NULL, ...), recvfrom(..., src_addr != NULL, ...)
 *     socket(AF_INET6, ...)            -> EAFNOSUPPORT
 *   every mode (SCMP_ACT_ERRNO(EPERM)):
 *     socket(AF_PACKET, ...), socket(AF_NETLINK, ..., proto != ROUTE),
 *     ptrace, process_vm_readv/writev, pidfd_getfd, bpf,
 *     io_uring_setup/enter/register (io_uring would bypass this filter)
 *
 * The msghdr calls are trapped on every fd: their address lives inside a
 * struct the filter cannot read, so unlike sendto/recvfrom the addressed
 * ones cannot be told apart here. The sentry CONTINUEs those on TCP and on
 * fds not its own (dgram.c). One sendmsg is let by: flags exactly
 * SBX_HANDOVER_FLAGS, which spawn.c uses to hand this filter's listener to
 * the sentry (trapped, it would wait for a sentry that has no listener
 * yet). A program using those flags only gets today's untrapped sendmsg on
 * its AF_UNIX end: nothing reaches a network that way. Other architectures (x32,
 * i386 via int 0x80) hit libseccomp's default bad-arch action: kill.
 * The program also runs without CAP_NET_ADMIN and CAP_NET_RAW (spawn.c),
 * so NETLINK_ROUTE sockets can read but the kernel refuses their writes.
 */

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
	static const int trapped[] = {
		SCMP_SYS(bind),	       SCMP_SYS(listen),
		SCMP_SYS(accept),      SCMP_SYS(accept4),
		SCMP_SYS(connect),     SCMP_SYS(getsockname),
		SCMP_SYS(getpeername), SCMP_SYS(setsockopt),
		SCMP_SYS(getsockopt),  SCMP_SYS(shutdown),
		SCMP_SYS(recvmsg),     SCMP_SYS(sendmmsg),
		SCMP_SYS(recvmmsg),
	};
	static const int denied[] = {
		SCMP_SYS(ptrace),
		SCMP_SYS(process_vm_readv),
		SCMP_SYS(process_vm_writev),
		SCMP_SYS(pidfd_getfd),
		SCMP_SYS(bpf),
		SCMP_SYS(io_uring_setup),
		SCMP_SYS(io_uring_enter),
		SCMP_SYS(io_uring_register),
	};
	struct scmp_arg_cmp a;
	scmp_filter_ctx ctx;
	unsigned i;
	int ret = 0;

	*notify_fd = -1;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return cove_err_set(err, ENOMEM, "seccomp_init failed");
	for (i = 0; !ret && i < sizeof(denied) / sizeof(denied[0]); i++)
		ret = sbx_rule(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0, NULL);
	a = sbx_arg(0, SCMP_CMP_EQ, AF_PACKET);
	if (!ret)
		ret = sbx_rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
			       &a);
	if (!ret) {
		struct scmp_arg_cmp nla[2];

		nla[0] = sbx_arg(0, SCMP_CMP_EQ, AF_NETLINK);
		nla[1] = sbx_arg(2, SCMP_CMP_NE, NETLINK_ROUTE);

		ret = sbx_rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2,
			       nla);
	}
	if (notify) {
		a = sbx_arg(0, SCMP_CMP_EQ, AF_INET);
		if (!ret)
			ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket),
				       1, &a);
		a = sbx_arg(0, SCMP_CMP_EQ, AF_INET6);
		if (!ret)
			ret = sbx_rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
				       SCMP_SYS(socket), 1, &a);
		for (i = 0; !ret && i < sizeof(trapped) / sizeof(trapped[0]);
		     i++)
			ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, trapped[i], 0,
				       NULL);
		/* Not the hand-over of this very filter's listener. */
		a = sbx_arg(2, SCMP_CMP_NE, SBX_HANDOVER_FLAGS);
		if (!ret)
			ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendmsg),
				       1, &a);
		a = sbx_arg(4, SCMP_CMP_NE, 0);
		if (!ret)
			ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto),
				       1, &a);
		if (!ret)
			ret = sbx_rule(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(recvfrom),
				       1, &a);
	}
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
