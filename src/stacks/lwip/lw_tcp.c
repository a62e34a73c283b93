// SPDX-License-Identifier: Apache-2.0
/* lwip provider: TCP sockets on lwIP's raw (callback) API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "stacks/lwip/lw.h"

/*
 * Theory of operation
 *
 * A socket owns at most one PCB (@pcb.tcp) and is the PCB's callback
 * argument. lwIP frees a PCB on its own after a reset, a timeout or the
 * last ACK of a close and then calls lw_tcp_err_cb(): the socket turns
 * LW_DEAD, keeps its error for SO_ERROR/recv/send, and never touches the
 * PCB again. close() detaches the socket from the PCB (argument and
 * callbacks NULL) before tcp_close(), so lwIP finishes the shutdown in the
 * background (FIN after queued data, TIME_WAIT) and answers data arriving
 * after close with RST, as Linux does.
 *
 * Receiving: lwIP hands over pbuf chains; they wait on the socket's small
 * ring (@rxq) until recvmsg() copies them out and calls tcp_recved(), so
 * the advertised window is exactly the room the application made. When the
 * ring is full the callback returns ERR_MEM and lwIP keeps the data as
 * "refused" and offers it again (after the next read, or from its timer).
 * Unread data is bounded by the receive window (TCP_WND, 64 KiB).
 *
 * Sending: tcp_write(TCP_WRITE_FLAG_COPY) as much as tcp_sndbuf() allows
 * (TCP_SND_BUF, 64 KiB, fixed in Debian's build), then lwIP's tcp_output()
 * at once: without it new data would wait for the next ACK or lwIP's timer
 * (all of it, when everything sent before is already acknowledged).
 * -EAGAIN when nothing fits; EPOLLOUT returns once two segments fit.
 * TCP_CORK (nginx's tcp_nopush sets it around headers + sendfile, and
 * closes the connection if setsockopt fails) skips that tcp_output() while
 * less than a full segment waits unsent; uncorking sends at once. lwIP has
 * no cork of its own: corked data still leaves with the next ACK or
 * lwIP's 500 ms slow timer (which calls tcp_output() on every PCB), so
 * nothing waits longer than that (Linux: 200 ms), and once a segment's
 * worth is queued the partial tail goes out with it.
 *
 * Listening: lwIP calls lw_tcp_accept_cb() when a handshake completes; the
 * new socket waits on the listener's queue until accept(). A SYN that
 * finds the queue full (backlog connections) is dropped before lwIP sees
 * it (lw_tcp_backlog_full()), so the client retries as on Linux; a
 * handshake completing beyond the backlog or max_sockets anyway (several
 * were half open at once) is reset by lwIP.
 */

#define LW_SND_LOWAT (2 * TCP_MSS)

/* lw_err() - an lwIP error as a negative errno. */
static int lw_err(err_t e)
{
	switch (e) {
	case ERR_OK:
		return 0;
	case ERR_MEM:
		return -ENOMEM;
	case ERR_BUF:
		return -ENOBUFS;
	case ERR_TIMEOUT:
		return -ETIMEDOUT;
	case ERR_RTE:
		return -ENETUNREACH;
	case ERR_INPROGRESS:
		return -EINPROGRESS;
	case ERR_WOULDBLOCK:
		return -EAGAIN;
	case ERR_USE:
		return -EADDRINUSE;
	case ERR_ALREADY:
		return -EALREADY;
	case ERR_ISCONN:
		return -EISCONN;
	case ERR_CONN:
		return -ENOTCONN;
	case ERR_ABRT:
		return -ECONNABORTED;
	case ERR_RST:
		return -ECONNRESET;
	case ERR_CLSD:
		return -ENOTCONN;
	default:
		return -EINVAL;
	}
}

/* lw_rxq_push() - queue a received chain; false if the ring is full. */
static bool lw_rxq_push(struct cove_sock *s, struct pbuf *p)
{
	if (s->rx_count) {
		struct pbuf *tail =
			s->rxq[(s->rx_head + s->rx_count - 1) % LW_RXQ_SLOTS];

		if ((uint32_t)tail->tot_len + p->tot_len <= 0xffff) {
			pbuf_cat(tail, p);
			return true;
		}
	}
	if (s->rx_count == LW_RXQ_SLOTS)
		return false;
	s->rxq[(s->rx_head + s->rx_count) % LW_RXQ_SLOTS] = p;
	s->rx_count++;
	return true;
}

/* lw_rxq_free() - drop every queued chain. */
static void lw_rxq_free(struct cove_sock *s)
{
	while (s->rx_count) {
		pbuf_free(s->rxq[s->rx_head]);
		s->rx_head = (s->rx_head + 1) % LW_RXQ_SLOTS;
		s->rx_count--;
	}
	s->rx_bytes = 0;
}

/**
 * lw_rxq_copy() - copy queued bytes into an iovec array, consuming them
 * @s:		socket
 * @msg:	destination iovecs
 * @peek:	leave the bytes queued
 *
 * Return: bytes copied.
 */
static size_t lw_rxq_copy(struct cove_sock *s, struct msghdr *msg, bool peek)
{
	unsigned slot = s->rx_head, left = s->rx_count;
	u16_t off = 0;
	size_t done = 0, i;

	for (i = 0; i < msg->msg_iovlen && left; i++) {
		uint8_t *dst = msg->msg_iov[i].iov_base;
		size_t room = msg->msg_iov[i].iov_len;

		while (room && left) {
			struct pbuf *p = s->rxq[slot];
			size_t avail = (size_t)(p->tot_len - off);
			u16_t take = (u16_t)(avail < room ? avail : room);

			take = pbuf_copy_partial(p, dst, take, off);
			dst += take;
			room -= take;
			done += take;
			off = (u16_t)(off + take);
			if (off < p->tot_len)
				continue;
			off = 0;
			slot = (slot + 1) % LW_RXQ_SLOTS;
			left--;
		}
	}
	if (peek)
		return done;
	/* Free the chains read whole, trim the one read in part. */
	while (s->rx_count && s->rx_head != slot) {
		pbuf_free(s->rxq[s->rx_head]);
		s->rx_head = (s->rx_head + 1) % LW_RXQ_SLOTS;
		s->rx_count--;
	}
	if (off)
		s->rxq[s->rx_head] = pbuf_free_header(s->rxq[s->rx_head], off);
	s->rx_bytes -= (uint32_t)done;
	return done;
}

/* lw_recved() - open the window by @n bytes (tcp_recved takes 16 bits). */
static void lw_recved(struct tcp_pcb *pcb, size_t n)
{
	while (n) {
		u16_t k = (u16_t)(n > 0xffff ? 0xffff : n);

		tcp_recved(pcb, k);
		n -= k;
	}
}

/**
 * lw_tcp_recv_cb() - lwIP's recv callback: data or the peer's FIN arrived
 * @arg:	the socket (never NULL: a detached PCB has no callback)
 * @pcb:	its PCB
 * @p:		a pbuf chain, now ours; NULL means FIN
 * @err:	ignored
 *
 * Data is queued on @rxq without opening the window: lw_tcp_recv() calls
 * tcp_recved() once the application has read it. With the read side shut
 * down the data is acknowledged and dropped at once (Linux would queue
 * it). A full ring returns ERR_MEM, and lwIP keeps @p as refused data.
 *
 * Return: ERR_OK (@p taken), or ERR_MEM (@p stays lwIP's).
 */
static err_t lw_tcp_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			    err_t err)
{
	struct cove_sock *s = arg;

	(void)err;
	if (!p) {
		s->rx_fin = true;
		lw_dirty(s);
		return ERR_OK;
	}
	if (s->shut_rd) { /* read side shut: discard */
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (!lw_rxq_push(s, p))
		return ERR_MEM; /* lwIP keeps it as refused data */
	s->rx_bytes += p->tot_len;
	lw_dirty(s);
	return ERR_OK;
}

static err_t lw_tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	lw_dirty(arg);
	return ERR_OK;
}

/* lw_tcp_err_cb() - lwIP has freed the PCB; remember why. */
static void lw_tcp_err_cb(void *arg, err_t err)
{
	struct cove_sock *s = arg;

	if (!s)
		return;
	s->pcb.tcp = NULL;
	switch (err) {
	case ERR_RST:
		s->err = s->state == LW_CONNECTING ? ECONNREFUSED : ECONNRESET;
		s->st->stats.tcp_resets_in++;
		break;
	case ERR_CLSD: /* both sides closed: no error */
		break;
	case ERR_ABRT: /* lwIP gave up: retransmissions */
		s->err = ETIMEDOUT;
		s->st->stats.tcp_timeouts++;
		break;
	default:
		s->err = ECONNABORTED;
		break;
	}
	s->state = LW_DEAD;
	lw_dirty(s);
}

/*
 * lw_tcp_connected_cb() - lwIP's connected callback: the SYN-ACK came.
 * Caches the local address lwIP chose and wakes the host (EPOLLOUT).
 */
static err_t lw_tcp_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct cove_sock *s = arg;

	(void)err;
	s->state = LW_CONNECTED;
	lw_name_set(s, &s->local, &pcb->local_ip, pcb->local_port);
	lw_dirty(s);
	return ERR_OK;
}

/* lw_tcp_attach() - make @s the owner of @pcb's callbacks. */
static void lw_tcp_attach(struct cove_sock *s, struct tcp_pcb *pcb)
{
	s->pcb.tcp = pcb;
	tcp_arg(pcb, s);
	tcp_recv(pcb, lw_tcp_recv_cb);
	tcp_sent(pcb, lw_tcp_sent_cb);
	tcp_err(pcb, lw_tcp_err_cb);
}

/* lw_tcp_detach() - orphan @pcb: lwIP finishes it without us. */
static void lw_tcp_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

/**
 * lw_tcp_accept_cb() - lwIP's accept callback: a handshake completed
 * @arg:	the listening socket, NULL once it is closing
 * @pcb:	the new connection's PCB
 * @err:	ERR_OK, or lwIP could not allocate the PCB
 *
 * Wraps @pcb in a new socket (LW_CONNECTED, addresses cached) and queues
 * it on the listener until lw_tcp_accept(). The child counts in nchild,
 * not nsock, until the host takes it, but both count against
 * max_sockets. Only the listener is marked dirty: the child has no host
 * handle to notify yet.
 *
 * Return: ERR_OK; ERR_MEM when the backlog, max_sockets or memory is
 * exhausted, ERR_VAL when not listening: lwIP then aborts @pcb with a RST.
 */
static err_t lw_tcp_accept_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct cove_sock *l = arg, *c;
	struct cove_stack *st;

	if (!l || err != ERR_OK || !pcb || l->state != LW_LISTEN)
		return ERR_VAL; /* lwIP aborts the connection */
	st = l->st;
	if (l->nacc >= l->backlog || st->nsock + st->nchild >= st->max_sockets)
		return ERR_MEM;
	c = lw_sock_new(st, l->family, SOCK_STREAM);
	if (!c)
		return ERR_MEM;
	c->state = LW_CONNECTED;
	c->listener = l;
	c->reuse = l->reuse;
	c->v6only = l->v6only;
	c->ttl = l->ttl; /* as Linux's accepted sockets */
	lw_tcp_attach(c, pcb);
	lw_ip_apply(c);
	lw_name_set(c, &c->local, &pcb->local_ip, pcb->local_port);
	lw_name_set(c, &c->peer, &pcb->remote_ip, pcb->remote_port);
	if (l->acc_tail)
		l->acc_tail->acc_next = c;
	else
		l->acc_head = c;
	l->acc_tail = c;
	l->nacc++;
	st->nchild++;
	lw_dirty(l);
	return ERR_OK;
}

/*
 * lw_tcp_open() - a new PCB for @s, callbacks attached: IPADDR_TYPE_V4
 * for AF_INET, IPADDR_TYPE_ANY (both families) for AF_INET6.
 */
int lw_tcp_open(struct cove_sock *s)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(
		s->family == AF_INET6 ? IPADDR_TYPE_ANY : IPADDR_TYPE_V4);

	if (!pcb)
		return -ENOMEM;
	lw_tcp_attach(s, pcb);
	lw_ip_apply(s); /* Linux's default TTL, not lwIP's */
	s->state = LW_NEW;
	return 0;
}

/*
 * lw_tcp_overlap() - do binds of @a and @b to one port share an address?
 * IPADDR_TYPE_ANY ([::], dual) covers both families, a wildcard its own.
 */
static bool lw_tcp_overlap(const ip_addr_t *a, const ip_addr_t *b)
{
	if (IP_IS_ANY_TYPE_VAL(*a) || IP_IS_ANY_TYPE_VAL(*b))
		return true;
	if (IP_GET_TYPE(a) != IP_GET_TYPE(b))
		return false;
	return ip_addr_isany(a) || ip_addr_isany(b) ||
	       ip_addr_cmp_zoneless(a, b);
}

/**
 * lw_tcp_bind_clash() - would binding @ip:@port conflict, by Linux's rule?
 * @pcb:	the PCB to bind
 * @ip:		the address (IPADDR_TYPE_ANY for a dual [::])
 * @port:	host order; 0 (lwIP picks a free one) never clashes
 *
 * Linux refuses a bind whose address overlaps another socket's on the
 * port unless both set SO_REUSEADDR and the other is not listening.
 * lwIP's tcp_bind() takes an IPADDR_TYPE_ANY address for IPv4 (so a dual
 * [::] and an IPv6 bind of one port both succeeded) and, with both
 * SOF_REUSEADDR, checks nothing (so a second listener on a listening
 * port's address was bound, and only tcp_listen() refused it, and not
 * across the families): this check runs first.
 *
 * Return: true when the bind must fail with EADDRINUSE.
 */
static bool lw_tcp_bind_clash(const struct tcp_pcb *pcb, const ip_addr_t *ip,
			      uint16_t port)
{
	const struct tcp_pcb *c;
	unsigned i;

	if (!port)
		return false;
	for (i = 0; i < NUM_TCP_PCB_LISTS; i++)
		for (c = *tcp_pcb_lists[i]; c; c = c->next) {
			if (c == pcb || c->local_port != port ||
			    !lw_tcp_overlap(ip, &c->local_ip))
				continue;
			if (ip_get_option(pcb, SOF_REUSEADDR) &&
			    ip_get_option(c, SOF_REUSEADDR) &&
			    c->state != LISTEN)
				continue;
			return true;
		}
	return false;
}

/*
 * lw_tcp_bind() - tcp_bind() on a fresh, unbound PCB; port 0 lets lwIP
 * pick. Return: 0, -EINVAL (bound, or not LW_NEW), or lwIP's error as
 * an errno (-EADDRINUSE when the port is taken).
 */
int lw_tcp_bind(struct cove_sock *s, const ip_addr_t *ip, uint16_t port)
{
	int ret;

	if (s->state != LW_NEW || !s->pcb.tcp || s->pcb.tcp->local_port)
		return -EINVAL;
	if (lw_tcp_bind_clash(s->pcb.tcp, ip, port))
		return -EADDRINUSE;
	ret = lw_err(tcp_bind(s->pcb.tcp, ip, port));
	if (!ret)
		lw_name_set(s, &s->local, &s->pcb.tcp->local_ip,
			    s->pcb.tcp->local_port);
	return ret;
}

/**
 * lw_tcp_listen() - listen(): swap the socket's PCB for a listening one
 * @s:		socket in LW_NEW, or a listener (then only the backlog changes)
 * @backlog:	clamped to 1..4096 and enforced by lw_tcp_backlog_full()
 *		(SYNs) and lw_tcp_accept_cb(), as lwIP's own backlog is
 *		compiled out; the sentry's frontend holds up to @backlog
 *		more it accepted ahead of the program (as with builtin)
 *
 * An unbound socket is bound to an ephemeral port first.
 * tcp_listen_with_backlog_and_err() frees the old PCB and returns a
 * smaller one; from then on only the accept callback is set.
 *
 * Return: 0, -EINVAL (wrong state), -EADDRINUSE, -ENOMEM, or another
 * lwIP error as an errno (lw_err()); on failure the old PCB stays.
 */
int lw_tcp_listen(struct cove_sock *s, int backlog)
{
	struct tcp_pcb *lpcb;
	err_t e = ERR_OK;
	int ret;

	if (backlog < 1)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;
	if (s->state == LW_LISTEN) {
		s->backlog = (unsigned)backlog;
		return 0;
	}
	if (s->state != LW_NEW || !s->pcb.tcp)
		return -EINVAL;
	if (!s->pcb.tcp->local_port) {
		ip_addr_t any;

		lw_wildcard(s, &any);
		ret = lw_err(tcp_bind(s->pcb.tcp, &any, 0));
		if (ret)
			return ret;
	}
	/* lwIP's own backlog is compiled out (TCP_LISTEN_BACKLOG=0); ours
	 * is enforced in lw_tcp_accept_cb(). */
	lpcb = tcp_listen_with_backlog_and_err(s->pcb.tcp, 255, &e);
	if (!lpcb)
		return e == ERR_OK ? -ENOMEM : lw_err(e);
	s->pcb.tcp = lpcb; /* the old PCB is freed by lwIP */
	tcp_arg(lpcb, s);
	tcp_accept(lpcb, lw_tcp_accept_cb);
	s->state = LW_LISTEN;
	s->backlog = (unsigned)backlog;
	lw_name_set(s, &s->local, &lpcb->local_ip, lpcb->local_port);
	return 0;
}

/**
 * lw_tcp_accept() - accept(): hand the oldest queued child to the host
 * @s:		listener
 * @out:	the child, now held (counted in nsock instead of nchild)
 * @peer:	its address, truncated to *@len (may be NULL)
 * @len:	in: room at @peer; out: the size of the family's sockaddr
 *
 * The child is marked dirty, so the host hears at once about data or a
 * FIN that arrived while it waited on the queue.
 *
 * Return: 0, -EAGAIN when none is queued, -EINVAL when not listening.
 */
int lw_tcp_accept(struct cove_sock *s, struct cove_sock **out,
		  struct sockaddr *peer, socklen_t *len)
{
	struct cove_stack *st = s->st;
	struct cove_sock *c;

	if (s->state != LW_LISTEN)
		return -EINVAL;
	c = s->acc_head;
	if (!c)
		return -EAGAIN;
	s->acc_head = c->acc_next;
	if (!s->acc_head)
		s->acc_tail = NULL;
	s->nacc--;
	st->nchild--;
	c->acc_next = NULL;
	c->listener = NULL;
	c->held = true;
	st->nsock++;
	st->stats.tcp_passive_opens++;
	if (peer && len)
		(void)lw_name_put(c, &c->peer, peer, len);
	lw_dirty(c); /* data may be waiting already */
	*out = c;
	return 0;
}

/**
 * lw_tcp_connect() - connect(): start lwIP's handshake
 * @s:		socket
 * @ip:		destination, from lw_addr_from() (IPv4 for a mapped one)
 * @port:	its port, host order
 *
 * 127.0.0.1, ::1 and our own addresses go through lwIP's loopback (lw_loop.c);
 * the rest of 127/8 is refused (-ENETUNREACH), as lwIP could not deliver
 * there. Completion arrives through lw_tcp_connected_cb() or, on a RST
 * or timeout, lw_tcp_err_cb() (ECONNREFUSED, ETIMEDOUT).
 *
 * Return: -EINPROGRESS once the SYN is queued; -EALREADY, -EISCONN,
 * -EINVAL (listening), a pending error (once) on a dead socket, or
 * tcp_connect()'s error as an errno.
 */
int lw_tcp_connect(struct cove_sock *s, const ip_addr_t *ip, uint16_t port)
{
	err_t e;

	switch (s->state) {
	case LW_CONNECTING:
		return -EALREADY;
	case LW_CONNECTED:
		return -EISCONN;
	case LW_LISTEN:
		return -EINVAL;
	case LW_DEAD:
		if (s->err) {
			int ret = -s->err;

			s->err = 0;
			return ret;
		}
		return -EISCONN;
	case LW_NEW:
		break;
	}
	if (lw_ip_unroutable(ip))
		return -ENETUNREACH;
	if (!IP_ADDR_PCB_VERSION_MATCH(s->pcb.tcp, ip))
		return -ENETUNREACH; /* bound to the other family */
	e = tcp_connect(s->pcb.tcp, ip, port, lw_tcp_connected_cb);
	if (e != ERR_OK)
		return lw_err(e);
	s->state = LW_CONNECTING;
	lw_name_set(s, &s->peer, ip, port);
	lw_name_set(s, &s->local, &s->pcb.tcp->local_ip,
		    s->pcb.tcp->local_port);
	s->st->stats.tcp_active_opens++;
	return -EINPROGRESS;
}

/* lw_tcp_writable() - room for at least LW_SND_LOWAT more bytes? */
static bool lw_tcp_writable(const struct tcp_pcb *pcb)
{
	return tcp_sndbuf(pcb) >= LW_SND_LOWAT &&
	       tcp_sndqueuelen(pcb) + 8 < TCP_SND_QUEUELEN;
}

/* lw_tcp_unsent() - bytes written but not yet sent. */
static uint32_t lw_tcp_unsent(const struct tcp_pcb *pcb)
{
	return pcb->snd_lbb - pcb->snd_nxt;
}

/* lw_tcp_set_cork() - TCP_CORK; clearing it sends what waited. */
void lw_tcp_set_cork(struct cove_sock *s, bool on)
{
	bool was = s->cork;

	s->cork = on;
	if (was && !on && s->state == LW_CONNECTED && s->pcb.tcp &&
	    s->pcb.tcp->unsent)
		(void)tcp_output(s->pcb.tcp);
}

/* lw_take_error() - report and clear a pending error, or 0. */
static int lw_take_error(struct cove_sock *s)
{
	int e = s->err;

	s->err = 0;
	return -e;
}

/**
 * lw_tcp_send() - sendmsg(): copy what lwIP's send buffer takes, then send
 * @s:		socket
 * @msg:	iovecs in host memory, copied (TCP_WRITE_FLAG_COPY)
 * @flags:	MSG_OOB is refused; every other flag (MSG_MORE included) is
 *		ignored
 *
 * Writes in chunks of at most 64 KiB - 1 (tcp_write() takes 16 bits)
 * until tcp_sndbuf() or the segment queue is full, then calls
 * tcp_output() unless TCP_CORK holds back less than a segment (see the
 * theory block).
 *
 * Return: bytes taken (0 for an empty @msg); -EAGAIN when nothing fit or
 * while connecting; a pending error (once); -EPIPE (shut down or dead);
 * -ENOTCONN; -EOPNOTSUPP (MSG_OOB); tcp_write()'s error as an errno when
 * the first chunk fails.
 */
ssize_t lw_tcp_send(struct cove_sock *s, const struct msghdr *msg, int flags)
{
	struct tcp_pcb *pcb = s->pcb.tcp;
	size_t total = lw_iov_total(msg), done = 0, i;
	bool full = false;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->err)
		return lw_take_error(s);
	if (s->shut_wr)
		return -EPIPE;
	switch (s->state) {
	case LW_NEW:
	case LW_LISTEN:
		return -ENOTCONN;
	case LW_CONNECTING:
		return -EAGAIN;
	case LW_DEAD:
		return -EPIPE;
	case LW_CONNECTED:
		break;
	}
	for (i = 0; i < msg->msg_iovlen && !full; i++) {
		const uint8_t *base = msg->msg_iov[i].iov_base;
		size_t len = msg->msg_iov[i].iov_len, off = 0;

		while (off < len) {
			size_t room = tcp_sndbuf(pcb), chunk = len - off;
			u8_t api = TCP_WRITE_FLAG_COPY;
			err_t e;

			if (!room ||
			    tcp_sndqueuelen(pcb) + 1 >= TCP_SND_QUEUELEN) {
				full = true;
				break;
			}
			if (chunk > room)
				chunk = room;
			if (chunk > 0xffff)
				chunk = 0xffff;
			if (done + chunk < total)
				api |= TCP_WRITE_FLAG_MORE;
			e = tcp_write(pcb, base + off, (u16_t)chunk, api);
			if (e == ERR_MEM) {
				full = true;
				break;
			}
			if (e != ERR_OK) {
				if (!done)
					return lw_err(e);
				full = true;
				break;
			}
			off += chunk;
			done += chunk;
		}
	}
	if (done && (!s->cork || lw_tcp_unsent(pcb) >= pcb->mss))
		(void)tcp_output(pcb);
	return done || !total ? (ssize_t)done : -EAGAIN;
}

/**
 * lw_tcp_recv() - recvmsg(): copy out of @rxq and reopen the window
 * @s:		socket
 * @msg:	iovecs in host memory; msg_flags and msg_namelen set to 0
 * @flags:	MSG_PEEK keeps the data; MSG_OOB is refused; others ignored
 *
 * Bytes read are given back to lwIP with tcp_recved(); once the ring is
 * empty, data lwIP refused while it was full is offered again at once
 * rather than at lwIP's next timer tick. Queued data is returned before
 * a pending error, so the bytes before a RST are not lost. The PCB may
 * vanish inside tcp_process_refused_data(), hence the second check.
 *
 * Return: bytes copied; 0 at end of stream (FIN, SHUT_RD, or dead without
 * error); a pending error (once) when nothing is queued; -EAGAIN;
 * -ENOTCONN (not connected, listening); -EOPNOTSUPP (MSG_OOB).
 */
ssize_t lw_tcp_recv(struct cove_sock *s, struct msghdr *msg, int flags)
{
	size_t n;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	msg->msg_flags = 0;
	msg->msg_namelen = 0;
	if (s->state == LW_NEW || s->state == LW_LISTEN)
		return -ENOTCONN;
	if (s->state == LW_CONNECTING)
		return -EAGAIN;
	if (!s->rx_bytes) {
		if (s->err)
			return lw_take_error(s);
		if (s->rx_fin || s->shut_rd || s->state == LW_DEAD)
			return 0;
		return -EAGAIN;
	}
	n = lw_rxq_copy(s, msg, flags & MSG_PEEK);
	if (!(flags & MSG_PEEK) && s->pcb.tcp) {
		lw_recved(s->pcb.tcp, n);
		/* Data lwIP kept back while our ring was full. */
		if (s->pcb.tcp && s->pcb.tcp->refused_data && !s->rx_count)
			(void)tcp_process_refused_data(s->pcb.tcp);
	}
	return (ssize_t)n;
}

/**
 * lw_tcp_shutdown() - shutdown() on a connected socket
 * @s:		socket
 * @how:	SHUT_RD, SHUT_WR or SHUT_RDWR
 *
 * SHUT_RD is kept by the socket alone, lwIP is not told: reads return 0
 * and later data is acknowledged and dropped by lw_tcp_recv_cb().
 * SHUT_WR asks lwIP for a FIN after the queued data. Repeating either is
 * harmless.
 *
 * Return: 0, -EINVAL (bad @how), -ENOTCONN (not LW_CONNECTED), or
 * tcp_shutdown()'s error as an errno.
 */
int lw_tcp_shutdown(struct cove_sock *s, int how)
{
	err_t e;

	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (s->state != LW_CONNECTED)
		return -ENOTCONN;
	if (how != SHUT_WR && !s->shut_rd) {
		s->shut_rd = true;
		lw_dirty(s);
	}
	if (how != SHUT_RD && !s->shut_wr && s->pcb.tcp) {
		e = tcp_shutdown(s->pcb.tcp, 0, 1);
		if (e != ERR_OK)
			return lw_err(e);
		s->shut_wr = true;
		lw_dirty(s);
	}
	return 0;
}

/* lw_tcp_unqueue() - take a child off its listener's accept queue. */
static void lw_tcp_unqueue(struct cove_sock *c)
{
	struct cove_sock *l = c->listener, **pp;

	for (pp = &l->acc_head; *pp; pp = &(*pp)->acc_next)
		if (*pp == c) {
			*pp = c->acc_next;
			break;
		}
	l->acc_tail = NULL;
	for (pp = &l->acc_head; *pp; pp = &(*pp)->acc_next)
		l->acc_tail = *pp;
	l->nacc--;
	c->st->nchild--;
	c->listener = NULL;
}

/**
 * lw_tcp_close() - close(): let go of the PCB and free the socket
 * @s:		socket, held by the host or still on a listener's queue; it
 *		is freed here and must not be used again
 *
 * A listener first closes every child it queued, with a RST (they were
 * never accepted). A connection's PCB is detached and closed gracefully
 * (lwIP sends the FIN and handles TIME_WAIT alone), or aborted with a RST
 * for SO_LINGER 0, unread data (as Linux), or when tcp_close() fails for
 * want of memory. A PCB lwIP already freed (LW_DEAD) is not touched.
 */
void lw_tcp_close(struct cove_sock *s)
{
	struct tcp_pcb *pcb = s->pcb.tcp;

	if (s->state == LW_LISTEN) {
		while (s->acc_head) {
			s->acc_head->linger0 = true; /* not accepted: RST */
			lw_tcp_close(s->acc_head);
		}
		if (pcb) {
			tcp_arg(pcb, NULL);
			tcp_accept(pcb, NULL);
			(void)tcp_close(pcb); /* never fails for LISTEN */
		}
	} else if (pcb) {
		lw_tcp_detach(pcb);
		if (s->linger0 || s->rx_bytes) {
			/* SO_LINGER 0, or unread data thrown away: RST. */
			tcp_abort(pcb);
			s->st->stats.tcp_resets_out++;
		} else if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			s->st->stats.tcp_resets_out++;
		}
	}
	s->pcb.tcp = NULL;
	lw_rxq_free(s);
	if (s->listener)
		lw_tcp_unqueue(s);
	if (s->held)
		s->st->nsock--;
	lw_sock_free(s);
}

/**
 * lw_tcp_events() - the EPOLL* bits the socket reports now, Linux-like
 * @s:		socket
 *
 * A fresh socket reports EPOLLOUT | EPOLLHUP as Linux does for an
 * unconnected TCP socket; a listener EPOLLIN when a child waits; a
 * connecting one nothing. A dead one reports everything, EPOLLERR while
 * its error is pending. EPOLLOUT needs two segments' room in lwIP's send
 * buffer and queue (lw_tcp_writable()), so a writer is not woken for a
 * few bytes.
 *
 * Return: the mask.
 */
uint32_t lw_tcp_events(struct cove_sock *s)
{
	uint32_t ev = 0;

	switch (s->state) {
	case LW_NEW:
		return EPOLLOUT | EPOLLHUP;
	case LW_LISTEN:
		return s->acc_head ? EPOLLIN : 0;
	case LW_CONNECTING:
		return 0;
	case LW_DEAD:
		return EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLRDHUP |
		       (s->err ? EPOLLERR : 0);
	case LW_CONNECTED:
		break;
	}
	if (s->rx_bytes)
		ev |= EPOLLIN;
	if (s->rx_fin || s->shut_rd)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (s->shut_wr || (s->pcb.tcp && lw_tcp_writable(s->pcb.tcp)))
		ev |= EPOLLOUT;
	if ((s->rx_fin || s->shut_rd) && s->shut_wr)
		ev |= EPOLLHUP;
	if (s->err)
		ev |= EPOLLERR;
	return ev;
}

/* lw_tcp_abandon_all() - free every PCB lwIP still has, sending nothing. */
void lw_tcp_abandon_all(void)
{
	while (tcp_active_pcbs)
		tcp_abandon(tcp_active_pcbs, 0);
	while (tcp_tw_pcbs)
		tcp_abandon(tcp_tw_pcbs, 0);
}

/**
 * lw_tcp_recycle_tw() - a SYN for a 4-tuple lwIP holds in TIME_WAIT
 * @raddr:	its source address (compared without zone)
 * @rport:	its source port
 * @lport:	its destination port (ours)
 * @seq:	its sequence number
 *
 * lwIP answers such a SYN with an ACK and ignores the peer's RST, so a
 * client that reuses a port within lwIP's two-minute TIME_WAIT hangs. As
 * Linux does (RFC 6191's rule without timestamps), a SYN whose sequence
 * number lies beyond what the old connection received ends the TIME_WAIT
 * (freed without a RST), and lwIP then takes the SYN as a new connection.
 */
void lw_tcp_recycle_tw(const ip_addr_t *raddr, uint16_t rport, uint16_t lport,
		       uint32_t seq)
{
	struct tcp_pcb *pcb;

	for (pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
		if (pcb->remote_port != rport || pcb->local_port != lport ||
		    !ip_addr_cmp_zoneless(&pcb->remote_ip, raddr))
			continue;
		if (TCP_SEQ_GT(seq, pcb->rcv_nxt))
			tcp_abort(pcb);
		return;
	}
}

/**
 * lw_tcp_backlog_full() - would a SYN to @daddr:@dport find a full queue?
 * @daddr:	its destination address (compared without zone)
 * @dport:	its destination port
 *
 * Linux drops a SYN whose listener's accept queue is full and the client
 * retransmits it; lwIP would complete the handshake and then reset the
 * connection (lw_tcp_accept_cb()), so the caller drops it instead.
 *
 * The listener is found as lwIP's tcp_input() finds it: bound to
 * @daddr, to the wildcard of its family, or to IPADDR_TYPE_ANY (both).
 *
 * Return: true if that listener has its backlog of connections queued.
 */
bool lw_tcp_backlog_full(const ip_addr_t *daddr, uint16_t dport)
{
	const struct tcp_pcb_listen *lpcb;
	const struct cove_sock *l;

	for (lpcb = tcp_listen_pcbs.listen_pcbs; lpcb; lpcb = lpcb->next) {
		if (lpcb->local_port != dport)
			continue;
		if (!IP_IS_ANY_TYPE_VAL(lpcb->local_ip) &&
		    (IP_GET_TYPE(&lpcb->local_ip) != IP_GET_TYPE(daddr) ||
		     (!ip_addr_isany(&lpcb->local_ip) &&
		      !ip_addr_cmp_zoneless(&lpcb->local_ip, daddr))))
			continue;
		l = lpcb->callback_arg;
		return l && l->nacc >= l->backlog;
	}
	return false;
}

/**
 * lw_tcp_make_room() - may lwIP start another connection?
 * @limit:	connections allowed, TIME_WAIT included
 *
 * Only live connections count against @limit: a TIME_WAIT one never holds
 * off a new connection. At the limit the oldest TIME_WAIT connection goes
 * (tcp_abort() frees it without a RST, as lwIP's own tcp_kill_timewait()
 * does when its pools run dry), so their number and memory stay bounded
 * while short connections keep coming at any rate. Counting them used to
 * refuse every SYN once 2 x max_sockets connections had closed within
 * lwIP's two-minute TIME_WAIT.
 *
 * Return: true if the SYN may go to lwIP.
 */
bool lw_tcp_make_room(unsigned limit)
{
	struct tcp_pcb *pcb, *oldest = NULL;
	unsigned live = 0, tw = 0;
	u32_t age, max_age = 0;

	for (pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		live++;
	if (live >= limit)
		return false;
	for (pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
		tw++;
		age = tcp_ticks - pcb->tmr;
		if (!oldest || age >= max_age) {
			oldest = pcb;
			max_age = age;
		}
	}
	if (live + tw >= limit && oldest)
		tcp_abort(oldest);
	return true;
}

/**
 * lw_tcp_count() - lwIP's connections in any state but CLOSED and LISTEN
 * @established:	set to those in ESTABLISHED
 *
 * Return: the count (TIME_WAIT included).
 */
unsigned lw_tcp_count(unsigned *established)
{
	const struct tcp_pcb *pcb;
	unsigned n = 0;

	*established = 0;
	for (pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		n++;
		if (pcb->state == ESTABLISHED)
			(*established)++;
	}
	for (pcb = tcp_tw_pcbs; pcb; pcb = pcb->next)
		n++;
	return n;
}
