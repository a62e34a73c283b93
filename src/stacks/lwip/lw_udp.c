// SPDX-License-Identifier: Apache-2.0
/* lwip provider: UDP sockets on lwIP's raw API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/udp.h"

#include "stacks/lwip/lw.h"

/*
 * Theory of operation
 *
 * Each socket owns one udp_pcb whose receive callback queues the datagram
 * (the pbuf as lwIP gave it, plus the sender) on the socket, bounded by
 * the socket's receive buffer (SO_RCVBUF, default LW_DEFAULT_RCVBUF bytes)
 * and LW_UDP_MAX_QUEUED datagrams; beyond that datagrams are dropped, as
 * Linux drops on a full receive buffer. Sends build one PBUF_RAM pbuf per
 * datagram and go out through udp_sendto(); lwIP fragments datagrams
 * larger than the MTU. lwIP does not report ICMP errors to UDP PCBs, so a
 * UDP socket never gets ECONNREFUSED.
 */

#define LW_UDP_MAX_PAYLOAD 65507u

/**
 * lw_udp_recv_cb() - lwIP's UDP receive callback: queue one datagram
 * @arg:	the socket
 * @pcb:	its PCB
 * @p:		the datagram's payload, now ours (queued or freed here)
 * @addr:	sender address
 * @port:	sender port
 *
 * Dropped (and counted in rx_dropped) when the read side is shut, the
 * queue holds LW_UDP_MAX_QUEUED datagrams or SO_RCVBUF bytes, or the
 * queue entry cannot be allocated: this is the one allocation per packet
 * on this provider's receive path.
 */
static void lw_udp_recv_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p,
			   const ip_addr_t *addr, u16_t port)
{
	struct cove_sock *s = arg;
	struct lw_dgram *d;

	(void)pcb;
	if (s->shut_rd || s->ndq >= LW_UDP_MAX_QUEUED ||
	    s->dq_bytes + p->tot_len > s->rcvbuf || !(d = malloc(sizeof(*d)))) {
		s->st->stats.rx_dropped++;
		pbuf_free(p);
		return;
	}
	d->next = NULL;
	d->p = p;
	lw_name_set(s, &d->from, addr, port);
	if (s->dq_tail)
		s->dq_tail->next = d;
	else
		s->dq_head = d;
	s->dq_tail = d;
	s->ndq++;
	s->dq_bytes += p->tot_len;
	s->st->stats.udp_in++;
	lw_dirty(s);
}

/*
 * lw_udp_open() - a new udp_pcb for @s (IPADDR_TYPE_ANY for AF_INET6:
 * both families), the instance's SO_RCVBUF.
 */
int lw_udp_open(struct cove_sock *s)
{
	struct udp_pcb *pcb = udp_new_ip_type(
		s->family == AF_INET6 ? IPADDR_TYPE_ANY : IPADDR_TYPE_V4);

	if (!pcb)
		return -ENOMEM;
	s->pcb.udp = pcb;
	s->rcvbuf = s->st->rcvbuf;
	udp_recv(pcb, lw_udp_recv_cb, s);
	lw_ip_apply(s); /* Linux's default TTL, not lwIP's */
	return 0;
}

/* lw_udp_cache_local() - remember the bound address for getsockname(). */
static void lw_udp_cache_local(struct cove_sock *s)
{
	lw_name_set(s, &s->local, &s->pcb.udp->local_ip,
		    s->pcb.udp->local_port);
}

/*
 * lw_udp_route_src() - as Linux, a connected socket bound to the wildcard
 * reads the route's source address for @dst: the IPv4 netif's address,
 * or the IPv6 one lwIP would choose. NULL when there is no route.
 */
static const ip_addr_t *lw_udp_route_src(const ip_addr_t *dst)
{
	struct netif *nif;

	if (IP_IS_V4_VAL(*dst)) {
		nif = ip4_route(ip_2_ip4(dst));
		return nif ? &nif->ip_addr : NULL;
	}
	nif = ip6_route(IP6_ADDR_ANY6, ip_2_ip6(dst));
	return nif ? ip6_select_source_address(nif, ip_2_ip6(dst)) : NULL;
}

/**
 * lw_udp_bind() - bind(): the address was checked by lw_bind()
 * @s:		socket, not bound yet (explicitly or by connect/send)
 * @ip:		the wildcard or our address
 * @port:	host order; 0 lets lwIP pick one
 *
 * lwIP's udp_bind() checks the families as Linux does: a wildcard holds
 * its port for its own family, IPADDR_TYPE_ANY ([::], dual) for both.
 *
 * Return: 0, -EINVAL (bound already, or lwIP refused), -EADDRINUSE.
 */
int lw_udp_bind(struct cove_sock *s, const ip_addr_t *ip, uint16_t port)
{
	err_t e;

	if (s->pcb.udp->local_port)
		return -EINVAL;
	e = udp_bind(s->pcb.udp, ip, port);
	if (e == ERR_USE)
		return -EADDRINUSE;
	if (e != ERR_OK)
		return -EINVAL;
	lw_udp_cache_local(s);
	return 0;
}

/**
 * lw_udp_connect() - connect(): set the default peer, or AF_UNSPEC to drop it
 * @s:		socket
 * @addr:	untrusted sockaddr from the host; the caller must not pass
 *		NULL with a non-zero @len
 * @len:	its length
 *
 * lwIP binds an unbound PCB to an ephemeral port here. 127/8 but
 * 127.0.0.1 is refused as for TCP (lw_addr_unroutable()).
 *
 * Return: 0, lw_addr_from()'s error, -ENETUNREACH (also for a family
 * the bound address cannot reach), or -EADDRINUSE when no port was free.
 */
int lw_udp_connect(struct cove_sock *s, const struct sockaddr *addr,
		   socklen_t len)
{
	const ip_addr_t *src;
	ip_addr_t ip;
	uint16_t port;
	int ret;

	if (len >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
		udp_disconnect(s->pcb.udp);
		lw_name_set(s, &s->peer, NULL, 0);
		lw_udp_cache_local(s);
		return 0;
	}
	ret = lw_addr_from(s, addr, len, LW_USE_CONNECT, &ip, &port);
	if (ret)
		return ret;
	if (lw_ip_unroutable(&ip) ||
	    !IP_ADDR_PCB_VERSION_MATCH(s->pcb.udp, &ip))
		return -ENETUNREACH;
	if (udp_connect(s->pcb.udp, &ip, port) != ERR_OK)
		return -EADDRINUSE; /* no free port to bind to */
	lw_name_set(s, &s->peer, &ip, port);
	/* As Linux: an unbound address reads as the route's source. */
	src = ip_addr_isany(&s->pcb.udp->local_ip) ||
			      IP_IS_ANY_TYPE_VAL(s->pcb.udp->local_ip) ?
		      lw_udp_route_src(&ip) :
		      &s->pcb.udp->local_ip;
	lw_name_set(s, &s->local, src ? src : &s->pcb.udp->local_ip,
		    s->pcb.udp->local_port);
	return 0;
}

/**
 * lw_udp_send() - sendmsg(): one datagram through udp_sendto()
 * @s:		socket
 * @msg:	msg_name (or the connected peer) and the payload iovecs
 * @flags:	MSG_OOB refused, others ignored (nothing blocks)
 *
 * The payload is copied into one PBUF_RAM pbuf (never PBUF_POOL, see
 * lw.h) that is freed here once lwIP has built its frames. An unbound
 * socket is bound by lwIP on the first send; the local address is then
 * cached for getsockname().
 *
 * Return: the payload length; -EPIPE (SHUT_WR), -EDESTADDRREQ, -EMSGSIZE
 * (over 65507 bytes), -ENETUNREACH (no route, or 127/8 but 127.0.0.1),
 * -EADDRINUSE, -EINVAL, -EOPNOTSUPP, -ENOBUFS (no memory or
 * link frame).
 */
ssize_t lw_udp_send(struct cove_sock *s, const struct msghdr *msg, int flags)
{
	struct udp_pcb *pcb = s->pcb.udp;
	size_t total = lw_iov_total(msg), off = 0, i;
	uint16_t port;
	struct pbuf *p;
	ip_addr_t ip;
	err_t e;
	int ret;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->shut_wr)
		return -EPIPE;
	if (msg->msg_name) {
		ret = lw_addr_from(s, msg->msg_name, msg->msg_namelen,
				   LW_USE_SEND, &ip, &port);
		if (ret)
			return ret;
	} else if (pcb->flags & UDP_FLAGS_CONNECTED) {
		ip_addr_copy(ip, pcb->remote_ip);
		port = pcb->remote_port;
	} else {
		return -EDESTADDRREQ;
	}
	if (total > LW_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (lw_ip_unroutable(&ip) || !IP_ADDR_PCB_VERSION_MATCH(pcb, &ip))
		return -ENETUNREACH;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)total, PBUF_RAM);
	if (!p)
		return -ENOBUFS;
	for (i = 0; i < msg->msg_iovlen; i++) {
		if (!msg->msg_iov[i].iov_len)
			continue;
		(void)pbuf_take_at(p, msg->msg_iov[i].iov_base,
				   (u16_t)msg->msg_iov[i].iov_len, (u16_t)off);
		off += msg->msg_iov[i].iov_len;
	}
	e = udp_sendto(pcb, p, &ip, port);
	pbuf_free(p);
	if (!s->local.sin.sin_port)
		lw_udp_cache_local(s);
	switch (e) {
	case ERR_OK:
		s->st->stats.udp_out++;
		return (ssize_t)total;
	case ERR_RTE:
		return -ENETUNREACH;
	case ERR_USE:
		return -EADDRINUSE;
	case ERR_VAL:
		return -EINVAL;
	default:
		return -ENOBUFS; /* no frame, link queue full */
	}
}

/**
 * lw_udp_recv() - recvmsg(): the oldest queued datagram, Linux semantics
 * @s:		socket
 * @msg:	iovecs, msg_name (sender, truncated to msg_namelen) and
 *		msg_flags (MSG_TRUNC when the datagram did not fit)
 * @flags:	MSG_PEEK keeps it queued; MSG_TRUNC returns its full length;
 *		MSG_OOB refused
 *
 * A datagram is consumed whole even when only part of it was copied.
 *
 * Return: bytes copied (or the full length with MSG_TRUNC); 0 after
 * SHUT_RD with nothing queued; -EAGAIN; -EOPNOTSUPP.
 */
ssize_t lw_udp_recv(struct cove_sock *s, struct msghdr *msg, int flags)
{
	struct lw_dgram *d = s->dq_head;
	size_t off = 0, i;
	u16_t len;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	msg->msg_flags = 0;
	if (!d)
		return s->shut_rd ? 0 : -EAGAIN;
	len = d->p->tot_len;
	for (i = 0; i < msg->msg_iovlen && off < len; i++) {
		size_t take = len - off;

		if (take > msg->msg_iov[i].iov_len)
			take = msg->msg_iov[i].iov_len;
		off += pbuf_copy_partial(d->p, msg->msg_iov[i].iov_base,
					 (u16_t)take, (u16_t)off);
	}
	if (off < len)
		msg->msg_flags |= MSG_TRUNC;
	if (msg->msg_name)
		(void)lw_name_put(s, &d->from, msg->msg_name,
				  &msg->msg_namelen);
	if (!(flags & MSG_PEEK)) {
		s->dq_head = d->next;
		if (!s->dq_head)
			s->dq_tail = NULL;
		s->ndq--;
		s->dq_bytes -= len;
		pbuf_free(d->p);
		free(d);
	}
	return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)off;
}

/* lw_udp_close() - drop queued datagrams, leave its groups, remove the
 * PCB, free @s. */
void lw_udp_close(struct cove_sock *s)
{
	struct lw_dgram *d;

	while ((d = s->dq_head)) {
		s->dq_head = d->next;
		pbuf_free(d->p);
		free(d);
	}
	lw_mc6_drop(s);
	if (s->pcb.udp)
		udp_remove(s->pcb.udp);
	if (s->held)
		s->st->nsock--;
	lw_sock_free(s);
}

uint32_t lw_udp_events(struct cove_sock *s)
{
	uint32_t ev = EPOLLOUT;

	if (s->dq_head || s->shut_rd)
		ev |= EPOLLIN;
	return ev;
}
