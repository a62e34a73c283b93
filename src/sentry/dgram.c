// SPDX-License-Identifier: Apache-2.0
/* UDP through struct msghdr: recvmsg, sendmsg, recvmmsg, sendmmsg. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * The filter traps the four msghdr calls on every fd (the address lives
 * inside a struct that seccomp cannot read, so it cannot pick the addressed
 * ones the way it does for sendto/recvfrom). The frontend sends TCP sockets
 * and fds that are not ours straight back with CONTINUE; what arrives here
 * is a UDP socket of ours.
 *
 * Receiving mirrors sbx_try_recvfrom(): the datagram comes from the head of
 * the program's end (through the duplicate), its source from @ring, and the
 * two are written into the program's msghdr as the kernel would: data
 * scattered over msg_iov, msg_name truncated to msg_namelen with the full
 * length stored back, msg_controllen 0 (no control messages are made),
 * msg_flags MSG_TRUNC when the buffer was short. MSG_PEEK and MSG_TRUNC
 * behave as on Linux; MSG_ERRQUEUE finds the (absent) error queue empty. recvmmsg() fills entries until the end runs dry and
 * returns after the first one (as with MSG_WAITFORONE); its timeout is not
 * used.
 *
 * Sending gathers msg_iov into the scratch buffer (at most one datagram,
 * 64 KiB) and gives it to the stack with msg_name, like sendto(). An
 * sendmsg() without an address is CONTINUEd: the kernel writes it to the
 * pair and the relay sends it to the connected peer. In sendmmsg() such
 * entries are written to the pair through the duplicate. Control messages
 * given to sendmsg are ignored.
 *
 * The program is x86-64 (other ABIs are killed by the filter), so its
 * struct msghdr, mmsghdr and iovec have the sentry's layout. Every length
 * read from it is bounded before use: at most UIO_MAXIOV iovecs, addresses
 * of 128 bytes, datagrams of SBX_DGRAM_LEN bytes.
 */

#define SBX_DGRAM_LEN 65535u
#define SBX_DADDR_MAX 128u
#define SBX_IOV_MAX   1024u /* UIO_MAXIOV */
#define SBX_MMSG_SIZE sizeof(struct mmsghdr)
#define SBX_MMSG_LEN  offsetof(struct mmsghdr, msg_len)

static_assert(SBX_DGRAM_LEN <= SBX_SCRATCH, "a datagram fits the scratch");

/* sbx_dg_iov() - the program's iovec array, bounded; total in *@total. */
static int sbx_dg_iov(uint32_t pid, const struct msghdr *m, struct iovec *iov,
		      size_t *total)
{
	size_t i, sum = 0;

	if (m->msg_iovlen > SBX_IOV_MAX)
		return -EMSGSIZE;
	if (m->msg_iovlen &&
	    sbx_mem_read(pid, (uint64_t)(uintptr_t)m->msg_iov, iov,
			 m->msg_iovlen * sizeof(*iov)) < 0)
		return -EFAULT;
	for (i = 0; i < m->msg_iovlen; i++) {
		if (iov[i].iov_len > SSIZE_MAX - sum)
			return -EINVAL;
		sum += iov[i].iov_len;
	}
	*total = sum;
	return 0;
}

/**
 * sbx_dg_recv1() - one datagram into the program's msghdr at @umsg
 * @sn:		sentry
 * @sk:		UDP socket
 * @pid:	the calling thread
 * @umsg:	address of its struct msghdr
 * @flags:	recvmsg flags
 * @dup:	a duplicate of the program's end
 *
 * Return: what recvmsg returns (copied bytes, or the datagram's length with
 * MSG_TRUNC), or negative errno (-EAGAIN: nothing queued).
 */
static ssize_t sbx_dg_recv1(struct sentry *sn, struct sbx_sock *sk,
			    uint32_t pid, uint64_t umsg, int flags, int dup)
{
	struct iovec uiov[SBX_IOV_MAX];
	struct msghdr m, k;
	struct iovec kiov;
	union sbx_sockaddr from;
	socklen_t fromlen = sbx_sa_len(sk->family);
	size_t total, copied, off, i, n;
	int32_t namelen;
	size_t clen = 0;
	ssize_t r;
	int ret;

	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* no error queue: always empty, as Linux's */
	if (sbx_mem_read(pid, umsg, &m, sizeof(m)) < 0)
		return -EFAULT;
	ret = sbx_dg_iov(pid, &m, uiov, &total);
	if (ret < 0)
		return ret;
	if (total > SBX_DGRAM_LEN)
		total = SBX_DGRAM_LEN;
	kiov.iov_base = sn->scratch;
	kiov.iov_len = total;
	memset(&k, 0, sizeof(k));
	k.msg_iov = &kiov;
	k.msg_iovlen = 1;
	r = recvmsg(dup, &k, MSG_DONTWAIT | MSG_TRUNC | (flags & MSG_PEEK));
	if (r < 0)
		return -errno;
	memset(&from, 0, sizeof(from));
	from.sa.sa_family = (sa_family_t)sk->family;
	if (sk->ring_len) {
		from = sk->ring[sk->ring_head];
		if (!(flags & MSG_PEEK)) {
			sk->ring_head = (sk->ring_head + 1) % SBX_RING;
			sk->ring_len--;
		}
	}
	copied = (size_t)r < total ? (size_t)r : total;
	for (i = 0, off = 0; off < copied && i < m.msg_iovlen; i++) {
		n = uiov[i].iov_len < copied - off ? uiov[i].iov_len :
						     copied - off;
		if (n &&
		    sbx_mem_write(pid, (uint64_t)(uintptr_t)uiov[i].iov_base,
				  sn->scratch + off, n) < 0)
			return -EFAULT;
		off += n;
	}
	if (m.msg_name) {
		namelen = (int32_t)m.msg_namelen;
		if (namelen < 0)
			return -EINVAL;
		n = (size_t)namelen < fromlen ? (size_t)namelen : fromlen;
		namelen = (int32_t)fromlen;
		if (sbx_mem_write(pid, (uint64_t)(uintptr_t)m.msg_name, &from,
				  n) < 0 ||
		    sbx_mem_write(pid,
				  umsg + offsetof(struct msghdr, msg_namelen),
				  &namelen, sizeof(namelen)) < 0)
			return -EFAULT;
	}
	m.msg_flags = k.msg_flags & MSG_TRUNC;
	if (sbx_mem_write(pid, umsg + offsetof(struct msghdr, msg_controllen),
			  &clen, sizeof(clen)) < 0 ||
	    sbx_mem_write(pid, umsg + offsetof(struct msghdr, msg_flags),
			  &m.msg_flags, sizeof(m.msg_flags)) < 0)
		return -EFAULT;
	return (flags & MSG_TRUNC) ? r : (ssize_t)copied;
}

/* sbx_dg_blocking() - may a call that found nothing wait for data? */
static bool sbx_dg_blocking(int flags, int dup)
{
	int fl = fcntl(dup, F_GETFL);

	return !(flags & MSG_DONTWAIT) && fl >= 0 && !(fl & O_NONBLOCK);
}

/**
 * sbx_dgram_try_recv() - a recvmsg() or recvmmsg() on a UDP socket of ours
 * @sn:		sentry
 * @sk:		UDP socket
 * @w:		the call (its id still valid)
 * @dup:	a duplicate of the program's end
 * @can_park:	false: answer EAGAIN rather than keep waiting
 *
 * Return: true if answered, false if it should wait for data.
 */
bool sbx_dgram_try_recv(struct sentry *sn, struct sbx_sock *sk,
			const struct sbx_waiter *w, int dup, bool can_park)
{
	uint64_t base = w->args[1];
	unsigned vlen = 1, i, done = 0;
	uint32_t len32;
	ssize_t r = 0;
	int flags;

	if (w->nr == SYS_recvmmsg) {
		vlen = (unsigned)w->args[2] < SBX_IOV_MAX ?
			       (unsigned)w->args[2] :
			       SBX_IOV_MAX;
		flags = (int)w->args[3];
	} else {
		flags = (int)w->args[2];
	}
	if (w->nr == SYS_recvmmsg && !vlen) {
		sbx_reply(sn, w->id, 0, 0);
		return true;
	}
	for (i = 0; i < vlen; i++) {
		r = sbx_dg_recv1(sn, sk, w->pid,
				 w->nr == SYS_recvmmsg ?
					 base + i * SBX_MMSG_SIZE :
					 base,
				 flags, dup);
		if (r < 0)
			break;
		if (w->nr != SYS_recvmmsg) {
			sbx_reply(sn, w->id, r, 0);
			return true;
		}
		len32 = (uint32_t)r;
		if (sbx_mem_write(w->pid,
				  base + i * SBX_MMSG_SIZE + SBX_MMSG_LEN,
				  &len32, sizeof(len32)) < 0) {
			r = -EFAULT;
			break;
		}
		done++;
		if (flags & MSG_PEEK)
			break; /* every entry would see the same one */
	}
	if (done) {
		sbx_reply(sn, w->id, (int64_t)done, 0);
		return true;
	}
	/* An empty error queue answers EAGAIN at once, blocking or not. */
	if (r == -EAGAIN && can_park && !(flags & MSG_ERRQUEUE) &&
	    sbx_dg_blocking(flags, dup))
		return false;
	sbx_reply(sn, w->id, -1, (int)-r);
	return true;
}

/**
 * sbx_dg_send1() - send the program's msghdr at @umsg
 * @sn:		sentry
 * @sk:		UDP socket
 * @pid:	the calling thread
 * @umsg:	address of its struct msghdr
 * @flags:	sendmsg flags
 * @dup:	a duplicate of the program's end (unaddressed datagrams)
 *
 * Return: bytes sent or negative errno.
 */
static ssize_t sbx_dg_send1(struct sentry *sn, struct sbx_sock *sk,
			    uint32_t pid, uint64_t umsg, int flags, int dup)
{
	struct iovec uiov[SBX_IOV_MAX];
	struct sockaddr_storage ss;
	struct msghdr m, k;
	struct iovec kiov;
	size_t total, off, i;
	ssize_t r;
	int ret;

	if (sbx_mem_read(pid, umsg, &m, sizeof(m)) < 0)
		return -EFAULT;
	ret = sbx_dg_iov(pid, &m, uiov, &total);
	if (ret < 0)
		return ret;
	if (total > SBX_DGRAM_LEN)
		return -EMSGSIZE;
	for (i = 0, off = 0; i < m.msg_iovlen; i++) {
		if (uiov[i].iov_len &&
		    sbx_mem_read(pid, (uint64_t)(uintptr_t)uiov[i].iov_base,
				 sn->scratch + off, uiov[i].iov_len) < 0)
			return -EFAULT;
		off += uiov[i].iov_len;
	}
	if (!m.msg_name) {
		r = send(dup, sn->scratch, total, MSG_DONTWAIT | MSG_NOSIGNAL);
		return r < 0 ? -errno : r;
	}
	if (m.msg_namelen > SBX_DADDR_MAX || m.msg_namelen > sizeof(ss))
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (sbx_mem_read(pid, (uint64_t)(uintptr_t)m.msg_name, &ss,
			 m.msg_namelen) < 0)
		return -EFAULT;
	kiov.iov_base = sn->scratch;
	kiov.iov_len = total;
	memset(&k, 0, sizeof(k));
	k.msg_name = &ss;
	k.msg_namelen = m.msg_namelen;
	k.msg_iov = &kiov;
	k.msg_iovlen = 1;
	return sn->ops->sendmsg(sk->s, &k, flags & ~MSG_DONTWAIT);
}

/**
 * sbx_dgram_send() - a sendmsg() or sendmmsg() on a UDP socket of ours
 * @sn:		sentry
 * @n:		the notification
 * @sk:		UDP socket
 * @dup:	a duplicate of the program's end
 */
void sbx_dgram_send(struct sentry *sn, const struct seccomp_notif *n,
		    struct sbx_sock *sk, int dup)
{
	uint64_t base = n->data.args[1];
	unsigned vlen, i;
	uint32_t len32;
	ssize_t r = 0;
	int flags;

	if (n->data.nr == SYS_sendmsg) {
		void *name;

		if (sbx_mem_read(n->pid,
				 base + offsetof(struct msghdr, msg_name),
				 &name, sizeof(name)) < 0) {
			sbx_reply(sn, n->id, -1, EFAULT);
			return;
		}
		if (!name) {
			sbx_continue(sn, n->id); /* through the pair */
			return;
		}
		if (!sbx_id_valid(sn, n->id))
			return;
		r = sbx_dg_send1(sn, sk, n->pid, base, (int)n->data.args[2],
				 dup);
		sbx_reply(sn, n->id, r < 0 ? -1 : r, r < 0 ? (int)-r : 0);
		return;
	}
	vlen = (unsigned)n->data.args[2] < SBX_IOV_MAX ?
		       (unsigned)n->data.args[2] :
		       SBX_IOV_MAX;
	flags = (int)n->data.args[3];
	if (!sbx_id_valid(sn, n->id))
		return;
	for (i = 0; i < vlen; i++) {
		r = sbx_dg_send1(sn, sk, n->pid, base + i * SBX_MMSG_SIZE,
				 flags, dup);
		if (r < 0)
			break;
		len32 = (uint32_t)r;
		if (sbx_mem_write(n->pid,
				  base + i * SBX_MMSG_SIZE + SBX_MMSG_LEN,
				  &len32, sizeof(len32)) < 0) {
			r = -EFAULT;
			break;
		}
	}
	if (i > 0 || !vlen)
		sbx_reply(sn, n->id, (int64_t)i, 0);
	else
		sbx_reply(sn, n->id, -1, (int)-r);
}
