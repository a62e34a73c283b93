// SPDX-License-Identifier: Apache-2.0
/* Socket-filter options, whose values point into the program, for a stack. */
#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * Four SOL_SOCKET options carry more than bytes. SO_ATTACH_FILTER and
 * SO_ATTACH_REUSEPORT_CBPF take a struct sock_fprog whose @filter points
 * at classic BPF instructions in the caller's memory; SO_ATTACH_BPF and
 * SO_ATTACH_REUSEPORT_EBPF take a file descriptor of the caller's. Handed
 * on as they are, the stack would read a pointer of the program in the
 * sentry's address space (the kernel provider's socket lives there: a
 * filter built from whatever the sentry holds at that address) or an fd
 * number of the sentry's. So they never reach a provider as given:
 *
 *  - cBPF: checked as Linux checks it (the struct's size, 1..BPF_MAXINSNS
 *    instructions), the instructions copied out of the program, and the
 *    provider given a sock_fprog pointing at the copy. The kernel provider
 *    then attaches the program's very filter to its socket, which sees
 *    the real datagrams: exactly Linux. A provider that has no socket
 *    filters refuses as it refuses an unknown option. SO_ATTACH_FILTER on
 *    TCP is EPERM first, as Linux answers a caller without CAP_NET_ADMIN
 *    since commit 5d39580f68e6 (the program never has it, spawn.c),
 *    although the sentry has it.
 *  - SO_DETACH_FILTER goes to the provider; one without filters says
 *    ENOENT, as Linux does when none is attached.
 *  - eBPF: the program cannot hold a BPF program fd (bpf() is EPERM in
 *    every mode, seccomp.c), so Linux would refuse: EBADF when the fd is
 *    not open, EINVAL when it is not a BPF program.
 */

/*
 * sbx_fd_open_in() - is @fd open in process @pid? Asked with pidfd_getfd()
 * (sbx_getfd()), which the sentry's own filter allows (confine_list.h).
 */
static bool sbx_fd_open_in(uint32_t pid, int32_t fd)
{
	int dup = sbx_getfd(pid, fd);

	if (dup < 0)
		return false;
	close(dup);
	return true;
}

/*
 * sbx_cbpf_opt() - SO_ATTACH_FILTER / SO_ATTACH_REUSEPORT_CBPF with the
 * instructions copied from @pid; Return: the provider's answer or a
 * negative errno.
 */
static int sbx_cbpf_opt(struct sentry *sn, uint32_t pid, struct sbx_sock *sk,
			int name, const uint8_t *val, uint64_t len)
{
	struct sock_fprog prog, mine;
	struct sock_filter *ins;
	int ret;

	if (name == SO_ATTACH_FILTER && sk->type == SOCK_STREAM)
		return -EPERM; /* before any check of the value, as Linux */
	if (len != sizeof(prog))
		return -EINVAL;
	memcpy(&prog, val, sizeof(prog));
	if (!prog.filter || !prog.len || prog.len > BPF_MAXINSNS)
		return -EINVAL;
	ins = calloc(prog.len, sizeof(*ins));
	if (!ins)
		return -ENOMEM;
	ret = sbx_mem_read(pid, (uint64_t)(uintptr_t)prog.filter, ins,
			   prog.len * sizeof(*ins));
	if (!ret) {
		mine.len = prog.len;
		mine.filter = ins;
		ret = sn->ops->setsockopt(sk->s, SOL_SOCKET, name, &mine,
					  sizeof(mine));
	}
	free(ins);
	return ret;
}

/**
 * sbx_sockopt_filter() - setsockopt() of an option whose value points into
 * the program (see above)
 * @sn:		sentry
 * @pid:	the caller
 * @sk:		its served socket
 * @level:	option level
 * @name:	option name
 * @val:	the option's bytes, read from the program
 * @len:	their number
 *
 * Return: 1 when @level/@name is not one of these (the caller goes on),
 * else 0 or the negative errno to answer.
 */
int sbx_sockopt_filter(struct sentry *sn, uint32_t pid, struct sbx_sock *sk,
		       int level, int name, const uint8_t *val, uint64_t len)
{
	int32_t fd;
	int ret;

	if (level != SOL_SOCKET)
		return 1;
	switch (name) {
	case SO_ATTACH_FILTER:
	case SO_ATTACH_REUSEPORT_CBPF:
		return sbx_cbpf_opt(sn, pid, sk, name, val, len);
	case SO_ATTACH_BPF:
	case SO_ATTACH_REUSEPORT_EBPF:
		if (len != sizeof(fd))
			return -EINVAL;
		memcpy(&fd, val, sizeof(fd));
		return sbx_fd_open_in(pid, fd) ? -EINVAL : -EBADF;
	case SO_DETACH_FILTER:
		/* A provider without filters never had one to detach. */
		ret = sn->ops->setsockopt(sk->s, level, name, val,
					  (socklen_t)len);
		return ret == -ENOPROTOOPT ? -ENOENT : ret;
	default:
		return 1;
	}
}

/**
 * sbx_get_filter() - getsockopt(SO_GET_FILTER): the attached cBPF program
 * @sn:		sentry
 * @pid:	the caller
 * @sk:		its served socket
 * @optval:	the caller's buffer (program address)
 * @optlen:	the caller's length (program address)
 * @cap:	its value: room in instructions, not bytes, as Linux reads it
 *
 * Linux copies the whole program when @cap holds it (and reports its
 * length in instructions), only the length when @cap is 0, and 0 when no
 * filter is attached (so for a provider without filters). The provider
 * is asked for the length first and then given a buffer of exactly that
 * size: with the caller's @cap in instructions, a kernel socket would
 * write eight times more than a byte buffer of @cap holds.
 *
 * Return: 0 (the answer written to the program) or a negative errno.
 */
int sbx_get_filter(struct sentry *sn, uint32_t pid, struct sbx_sock *sk,
		   uint64_t optval, uint64_t optlen, uint32_t cap)
{
	struct sock_filter *ins, probe;
	socklen_t count = 0, got;
	int32_t out;
	int ret;

	ret = sn->ops->getsockopt(sk->s, SOL_SOCKET, SO_GET_FILTER, &probe,
				  &count);
	/* A provider without filters refuses the option or, some, the zero
	 * length (which a kernel socket never does): none is attached. */
	if (ret == -ENOPROTOOPT || ret == -EINVAL)
		count = 0;
	else if (ret < 0)
		return ret;
	if (count > BPF_MAXINSNS)
		return -EINVAL;
	out = (int32_t)count;
	if (!cap || !count)
		return sbx_mem_write(pid, optlen, &out, sizeof(out));
	if (cap < count)
		return -EINVAL;
	ins = calloc(count, sizeof(*ins));
	if (!ins)
		return -ENOMEM;
	got = count;
	ret = sn->ops->getsockopt(sk->s, SOL_SOCKET, SO_GET_FILTER, ins, &got);
	if (!ret && got != count)
		ret = -EAGAIN; /* cannot change in between: one thread */
	if (!ret)
		ret = sbx_mem_write(pid, optval, ins, count * sizeof(*ins));
	if (!ret)
		ret = sbx_mem_write(pid, optlen, &out, sizeof(out));
	free(ins);
	return ret;
}
