// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP socket calls: the ABI's bind .. events on a tcb, Linux's errors. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * Each call maps to what Linux does for a non-blocking TCP socket. Errors
 * are reported like Linux: a pending so_error first (and cleared), then
 * the state's own errno. sendmsg copies into the send ring and runs the
 * send loop; recvmsg copies out of the receive ring and may send a window
 * update. close() hands the tcb over to the stack (an orphan) or ends it,
 * and the host never hears of it again.
 */

static struct tcb *tcp_sk(struct bsock *b)
{
	return tcb_of(b);
}

/**
 * tcp_bind() - bind(): take a local address and port
 * @b:		socket, not yet on a port and never connected
 * @a:		untrusted sockaddr from the host, length-checked here
 * @len:	its length
 *
 * The address (either family's form, tcp_addr.c) must be a wildcard or
 * one of ours (tcp_bind_addr()). Port 0 takes
 * an ephemeral port; that binding does not count as user_bound, so the
 * port is given back when the connection ends. An explicit port is
 * checked against every socket on it by tcp_port_conflict() (SO_REUSEADDR
 * and SO_REUSEPORT rules as on Linux).
 *
 * Return: 0, -EINVAL (bound already or bad address), -EAFNOSUPPORT,
 * -ENODEV (a scope id of no interface), -EADDRNOTAVAIL (also when no
 * ephemeral port is free) or -EADDRINUSE.
 */
static int tcp_bind(struct bsock *b, const struct sockaddr *a, socklen_t len)
{
	struct tcb *t = tcp_sk(b);
	struct in6_addr addr, old = t->laddr;
	bool v6only = t->v6only;
	uint32_t scope;
	uint16_t port;
	int ret = tcp_sa_read(t, a, len, &addr, &port, &scope);

	if (ret < 0)
		return ret;
	if (t->on_port || t->state != TCPS_CLOSED || t->done)
		return -EINVAL;
	ret = tcp_bind_addr(t, &addr, scope);
	if (ret < 0)
		return ret;
	t->laddr = addr;
	if (!port)
		ret = tcp_port_ephemeral(t);
	else if (tcp_port_conflict(t->ctx, t, port))
		ret = -EADDRINUSE;
	if (ret < 0) { /* as Linux: the address and v6-only are undone */
		t->laddr = old;
		t->v6only = v6only;
		return ret;
	}
	if (!port)
		return 0;
	t->lport = port;
	t->user_bound = true;
	tcb_port_add(t);
	return 0;
}

/**
 * tcp_listen() - listen(): CLOSED -> LISTEN, or change the backlog
 * @b:		socket
 * @backlog:	clamped to 1..TCP_BACKLOG_MAX; on a listener it only
 *		updates the limit, as on Linux
 *
 * An unbound socket gets an ephemeral port first. The port is checked for
 * conflicts again (two SO_REUSEADDR sockets may bind one port, but only
 * one may listen on it) and the socket joins its SO_REUSEPORT group.
 *
 * Return: 0, -EINVAL (connected or ended), -EADDRINUSE, -EADDRNOTAVAIL
 * (no ephemeral port) or -ENOMEM.
 */
static int tcp_listen(struct bsock *b, int backlog)
{
	struct tcb *t = tcp_sk(b);
	int ret;

	if (backlog < 1)
		backlog = 1;
	if ((unsigned)backlog > TCP_BACKLOG_MAX)
		backlog = TCP_BACKLOG_MAX;
	if (t->state == TCPS_LISTEN) {
		t->backlog = (uint32_t)backlog;
		return 0;
	}
	if (t->state != TCPS_CLOSED || t->done)
		return -EINVAL;
	if (!t->on_port) {
		ret = tcp_port_ephemeral(t);
		if (ret < 0)
			return ret;
	} else if (tcp_port_conflict(t->ctx, t, t->lport)) {
		return -EADDRINUSE; /* Linux checks again at listen() */
	}
	ret = tcp_listen_join(t);
	if (ret < 0)
		return ret;
	t->backlog = (uint32_t)backlog;
	tcp_set_state(t, TCPS_LISTEN);
	return 0;
}

/**
 * tcp_accept() - accept(): dequeue the oldest established child
 * @b:		listener
 * @out:	the child, now a host socket (host_open set, no cookie yet)
 * @peer:	its address, truncated to *@len as Linux does (may be NULL)
 * @len:	in: room at @peer; out: the sockaddr's size (sockaddr_in6
 *		for an AF_INET6 listener, an IPv4 peer as ::ffff:a.b.c.d)
 *
 * Only children that finished the handshake are on the accept queue;
 * those still in SYN-RECEIVED stay on the SYN queue.
 *
 * Return: 0, -EAGAIN when none is ready, -EINVAL when not listening.
 */
static int tcp_accept(struct bsock *b, struct bsock **out,
		      struct sockaddr *peer, socklen_t *len)
{
	struct tcb *l = tcp_sk(b), *t;

	if (l->state != TCPS_LISTEN)
		return -EINVAL;
	t = l->acc_head;
	if (!t)
		return -EAGAIN;
	tcp_child_unlink(t);
	t->b.host_open = true;
	t->b.cookie = NULL;
	tcp_sa_write(t, &t->raddr, t->rport, peer, len);
	*out = &t->b;
	return 0;
}

/**
 * tcp_connect() - connect(): send a SYN and return -EINPROGRESS
 * @b:		socket, CLOSED (perhaps bound)
 * @a:		untrusted sockaddr from the host
 * @len:	its length
 *
 * Non-blocking only: the host learns the outcome from the socket's events
 * (EPOLLOUT, or EPOLLERR with so_error). The address is checked and the
 * source chosen by tcp_connect_addr() (INADDR_ANY means our address, [::]
 * loopback; a mapped address on an AF_INET6 socket talks IPv4); an
 * unbound socket takes an ephemeral port. Sets up what the SYN carries:
 * the RFC 6528 ISN, a random timestamp offset, the window scale for the
 * largest receive ring, and allocates both rings. A SYN the pool could not
 * send is left to the retransmit timer; no route ends the attempt at once.
 *
 * Return: -EINPROGRESS once the SYN is on its way; else a pending
 * so_error (cleared), -EALREADY, -EISCONN, -EINVAL (listening),
 * -ECONNREFUSED (port 0), -ENETUNREACH (broadcast, multicast, no route,
 * a family the socket cannot reach), -EADDRNOTAVAIL (4-tuple taken, no
 * ephemeral port, no IPv6 source yet) or -ENOMEM.
 */
static int tcp_connect(struct bsock *b, const struct sockaddr *a, socklen_t len)
{
	struct tcb *t = tcp_sk(b);
	struct tcp_ctx *c = t->ctx;
	struct bstack *st = b->st;
	struct in6_addr raddr;
	uint32_t scope;
	uint16_t rport;
	int ret;

	switch (t->state) {
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECV:
		return -EALREADY;
	case TCPS_CLOSED:
		break;
	case TCPS_LISTEN:
		return -EINVAL;
	default:
		return -EISCONN;
	}
	if (t->so_error) {
		ret = -t->so_error;
		t->so_error = 0;
		return ret;
	}
	if (t->done)
		return -EISCONN;
	ret = tcp_sa_read(t, a, len, &raddr, &rport, &scope);
	if (ret < 0)
		return ret;
	if (!rport)
		return -ECONNREFUSED;
	ret = tcp_connect_addr(t, &raddr, scope);
	if (ret < 0)
		return ret;
	if (!t->on_port) {
		ret = tcp_port_ephemeral(t);
		if (ret < 0)
			return ret;
	}
	if (tcb_lookup(c, &t->laddr, t->lport, &raddr, rport))
		return -EADDRNOTAVAIL;
	tcb_rx_open(t);
	t->raddr = raddr;
	t->rport = rport;
	t->iss = tcp_isn(c, &t->laddr, &t->raddr, t->lport, t->rport);
	t->snd_una = t->snd_max = t->snd_nxt = t->iss;
	t->sb_seq = t->iss + 1;
	t->ts_off = (uint32_t)bstack_random(st);
	t->rcv_ws = tcp_wscale_for(t->rb_max);
	tcp_set_mss(t, 0);
	t->rto_us = TCP_RTO_INIT_US;
	tcp_set_state(t, TCPS_SYN_SENT);
	tcb_hash_add(t);
	t->rtt_ns = st->now_ns;
	ret = tcp_xmit(t, t->iss, 0, TH_SYN, NULL);
	if (ret == -EHOSTUNREACH) {
		tcp_done(t);
		return -ENETUNREACH;
	}
	t->snd_nxt = t->snd_max = t->iss + 1;
	tcp_rtx_arm(t);
	return -EINPROGRESS;
}

/* tcp_iov_len() - total bytes of @msg's iovecs (0 if none). */
static size_t tcp_iov_len(const struct msghdr *msg)
{
	size_t n = 0, i;

	for (i = 0; i < (size_t)msg->msg_iovlen; i++)
		n += msg->msg_iov[i].iov_len;
	return n;
}

/**
 * tcp_sendmsg() - sendmsg(): copy what fits into the send ring and send
 * @b:		socket
 * @msg:	iovecs in host memory; msg_name and control are ignored
 * @flags:	MSG_MORE corks this call's data (no partial segment goes out
 *		for it); every other flag is implied or meaningless here
 *
 * Never blocks: a partial copy returns the bytes taken, a full ring
 * -EAGAIN (the host waits for EPOLLOUT). The data is owned by the ring
 * from here; segmentation, Nagle and the windows are tcp_send_queued()'s.
 * EPIPE is returned without SIGPIPE: signals are the host's business.
 *
 * Return: bytes queued (0 for an empty @msg), a pending so_error (once),
 * -EPIPE (shut down for writing or not connected), -EAGAIN (handshake
 * not finished, or no room), -EFAULT (no iovec array).
 */
static ssize_t tcp_sendmsg(struct bsock *b, const struct msghdr *msg, int flags)
{
	struct tcb *t = tcp_sk(b);
	uint32_t free_, n, want, copied = 0, pos;
	size_t i;
	int err;

	if (t->so_error) {
		err = t->so_error;
		t->so_error = 0;
		return -err;
	}
	if (t->shut & TCP_SHUT_WR)
		return -EPIPE;
	if (t->state == TCPS_SYN_SENT || t->state == TCPS_SYN_RECV)
		return -EAGAIN;
	if (t->state != TCPS_ESTABLISHED && t->state != TCPS_CLOSE_WAIT)
		return -EPIPE;
	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return -EFAULT;
	if (!tcp_iov_len(msg))
		return 0;
	free_ = tcp_sb_room(t, (uint32_t)(tcp_iov_len(msg) > UINT32_MAX ?
						  UINT32_MAX :
						  tcp_iov_len(msg)));
	if (!free_)
		return -EAGAIN;
	for (i = 0; i < (size_t)msg->msg_iovlen && free_; i++) {
		want = msg->msg_iov[i].iov_len > free_ ?
			       free_ :
			       (uint32_t)msg->msg_iov[i].iov_len;
		if (!want)
			continue;
		pos = t->sb_head + t->sb_len;
		ring_put(t->sbuf, t->sb_cap, pos, msg->msg_iov[i].iov_base,
			 want);
		t->sb_len += want;
		free_ -= want;
		copied += want;
	}
	n = copied;
	if (flags & MSG_MORE) {
		bool cork = t->cork;

		t->cork = true;
		tcp_send_queued(t);
		t->cork = cork;
	} else {
		tcp_send_queued(t);
	}
	tcp_reap(t->ctx);
	return (ssize_t)n;
}

/**
 * tcp_recvmsg() - recvmsg(): copy in-order bytes out of the receive ring
 * @b:		socket
 * @msg:	iovecs in host memory; msg_namelen, msg_controllen and
 *		msg_flags are set to 0 (no address, no ancillary data)
 * @flags:	MSG_PEEK leaves the bytes in the ring; other flags ignored
 *
 * Queued data is returned before a pending error, so the peer's last
 * bytes are not lost to its RST. Consuming bytes feeds receive-buffer
 * autotuning and may send a window update (tcp_rwnd.c).
 *
 * Return: bytes copied; 0 at end of stream (FIN received, SHUT_RD, or
 * the connection is over) or for an empty @msg; so_error (once) when no
 * data is left; -EAGAIN when none has arrived yet; -ENOTCONN when
 * listening or never connected; -EFAULT (no iovec array).
 */
static ssize_t tcp_recvmsg(struct bsock *b, struct msghdr *msg, int flags)
{
	struct tcb *t = tcp_sk(b);
	uint32_t avail, want, got = 0, pos;
	size_t i;
	int err;

	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return -EFAULT;
	if (msg->msg_name)
		msg->msg_namelen = 0;
	msg->msg_controllen = 0;
	msg->msg_flags = 0;
	if (t->state == TCPS_LISTEN)
		return -ENOTCONN;
	if (t->so_error && !t->rb_len) {
		err = t->so_error;
		t->so_error = 0;
		return -err;
	}
	avail = t->rb_len;
	if (!avail) {
		if (t->shut & TCP_SHUT_RD)
			return 0;
		if (t->state == TCPS_CLOSED)
			return t->done ? 0 : -ENOTCONN;
		return -EAGAIN;
	}
	if (!tcp_iov_len(msg))
		return 0;
	pos = t->rb_head;
	for (i = 0; i < (size_t)msg->msg_iovlen && got < avail; i++) {
		want = msg->msg_iov[i].iov_len > avail - got ?
			       avail - got :
			       (uint32_t)msg->msg_iov[i].iov_len;
		if (!want)
			continue;
		ring_get(t->rbuf, t->rb_size, pos, msg->msg_iov[i].iov_base,
			 want);
		pos += want;
		if (pos >= t->rb_size)
			pos -= t->rb_size;
		got += want;
	}
	if (!(flags & MSG_PEEK)) {
		t->rb_head = pos;
		t->rb_len -= got;
		tcp_rcv_space_adjust(t, got);
		tcp_window_update(t);
		tcp_rb_release(t);
		tcp_reap(t->ctx);
	}
	return (ssize_t)got;
}

/* tcp_queue_fin() - FIN after the queued data; move to the closing state. */
static void tcp_queue_fin(struct tcb *t)
{
	t->shut |= TCP_SHUT_WR;
	switch (t->state) {
	case TCPS_ESTABLISHED:
		tcp_set_state(t, TCPS_FIN_WAIT1);
		break;
	case TCPS_CLOSE_WAIT:
		tcp_set_state(t, TCPS_LAST_ACK);
		break;
	default:
		return;
	}
	t->fin_queued = true;
	tcp_send_queued(t);
}

/**
 * tcp_shutdown() - shutdown(): stop reading, writing, or both
 * @b:		socket
 * @how:	SHUT_RD, SHUT_WR or SHUT_RDWR
 *
 * SHUT_RD only marks the socket (reads return 0, EPOLLRDHUP); input is
 * not changed by it, so later data is still queued and acknowledged.
 * SHUT_WR queues a FIN
 * behind the queued data (ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT ->
 * LAST-ACK). During SYN-SENT, writing shut down ends the attempt.
 *
 * Return: 0, -EINVAL (bad @how), -ENOTCONN (closed or listening).
 */
static int tcp_shutdown(struct bsock *b, int how)
{
	struct tcb *t = tcp_sk(b);

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	switch (t->state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
		return -ENOTCONN;
	case TCPS_SYN_SENT:
		if (how != SHUT_RD) {
			tcp_done(t);
			tcp_reap(t->ctx);
		}
		return 0;
	default:
		break;
	}
	if (how != SHUT_WR) {
		t->shut |= TCP_SHUT_RD;
		tcp_notify(t, EPOLLIN | EPOLLRDHUP);
	}
	if (how != SHUT_RD && !(t->shut & TCP_SHUT_WR))
		tcp_queue_fin(t);
	tcp_reap(t->ctx);
	return 0;
}

/* tcp_close_listener() - reset every child the app never accepted. */
static void tcp_close_listener(struct tcb *l)
{
	struct tcb *t;

	while ((t = l->acc_head) || (t = l->syn_head)) {
		tcp_send_rst(t);
		tcp_done(t);
	}
	tcb_port_del(l);
}

/**
 * tcp_close() - close(): the host lets go of the socket for good
 * @b:		socket; the host must not use it after this call
 *
 * What happens to the connection depends on its state, as on Linux:
 * listeners reset their unaccepted children; a handshake not finished
 * ends (SYN-RECEIVED with a RST); unread data, SO_LINGER with a zero
 * timeout, too many orphans, or unsent data while the stack's memory is
 * at its hard limit (tcp_mem_exhausted()) end it with a RST; otherwise it
 * becomes an orphan that sends its FIN and finishes the close on its own
 * (its FIN-WAIT-2 bounded by TCP_FIN2_NS, see tcp_keep_arm()). The tcb is
 * freed by tcp_reap(), never here.
 */
static void tcp_close(struct bsock *b)
{
	struct tcb *t = tcp_sk(b);
	struct tcp_ctx *c = t->ctx;

	b->host_open = false;
	b->cookie = NULL;
	bmem_unwait(b);
	switch (t->state) {
	case TCPS_LISTEN:
		tcp_close_listener(t);
		tcp_set_state(t, TCPS_CLOSED);
		tcp_reap_later(t);
		break;
	case TCPS_CLOSED:
	case TCPS_SYN_SENT:
		tcp_reap_later(t);
		break;
	case TCPS_SYN_RECV:
		tcp_send_rst(t);
		tcp_done(t);
		break;
	case TCPS_TIME_WAIT:
		tcp_timewait(t); /* frees the rings; 2 MSL from now */
		break;
	default:
		if (t->rb_len || (t->linger_on && !t->linger) ||
		    c->norphans >= c->max_orphans ||
		    (t->sb_len && tcp_mem_exhausted(b->st))) {
			tcp_send_rst(t);
			tcp_done(t);
			break;
		}
		tcp_orphan_set(t);
		t->shut |= TCP_SHUT_RD;
		if (!t->fin_queued)
			tcp_queue_fin(t);
		if (t->state == TCPS_FIN_WAIT2)
			tcp_keep_arm(t);
		break;
	}
	tcp_reap(c);
}

/* tcp_opt_int() - read an int option value. */
static int tcp_opt_int(const void *val, socklen_t len, int *out)
{
	if (!val || len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* tcp_buf_size() - clamp a SO_SNDBUF/SO_RCVBUF request. */
static uint32_t tcp_buf_size(int v)
{
	if (v < (int)TCP_BUF_MIN)
		return TCP_BUF_MIN;
	if ((unsigned)v > TCP_BUF_MAX)
		return TCP_BUF_MAX;
	return (uint32_t)v;
}

/* tcp_buf_rep() - SO_RCVBUF/SO_SNDBUF @v as Linux reports it: doubled,
 * at least @min (SOCK_MIN_RCVBUF/SNDBUF). */
static uint32_t tcp_buf_rep(int v, uint32_t min)
{
	uint64_t d = v < 0 ? 0 : (uint64_t)v * 2;

	if (d < min)
		d = min;
	return d > INT32_MAX ? INT32_MAX : (uint32_t)d;
}

/**
 * tcp_set_ip() - setsockopt() at IPPROTO_IP, the value read as Linux does
 * (an int or one byte)
 * @t:		connection
 * @name:	IP_TOS, IP_TTL, IP_MTU_DISCOVER or IP_MULTICAST_* (common/ipopt.c)
 * @val:	value in host memory
 * @len:	its length
 *
 * IP_TOS keeps the ECN bits the connection has, as Linux does for TCP;
 * IP_TTL goes onto every segment; IP_MTU_DISCOVER is remembered only
 * (the stack sets no DF); IP_ADD/DROP_MEMBERSHIP are -EPROTO as on Linux.
 * Return: 0, -EINVAL, -EADDRNOTAVAIL, -EPROTO or -ENOPROTOOPT.
 */
static int tcp_set_ip(struct tcb *t, int name, const void *val, socklen_t len)
{
	int v, ret = cove_ipopt_mc_set(&t->mc, true, name, val, len,
				       ip_is_local_cb, t->b.st);

	if (ret != -ENOPROTOOPT)
		return ret;
	if (name == IP_ADD_MEMBERSHIP || name == IP_DROP_MEMBERSHIP)
		return -EPROTO; /* Linux: no groups on a connection socket */
	ret = cove_ipopt_read(val, len, &v);
	if (ret < 0)
		return ret;
	switch (name) {
	case IP_TOS:
		t->tos = (uint8_t)((v & ~3) | (t->tos & 3));
		return 0;
	case IP_TTL: /* Linux: 1..255, or -1 for the default */
		if (!len || (v != -1 && (v < 1 || v > 255)))
			return -EINVAL;
		t->ttl = (uint8_t)(v < 0 ? 0 : v);
		return 0;
	case IP_MTU_DISCOVER:
		if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
			return -EINVAL;
		t->pmtudisc = (uint8_t)v;
		t->pmtudisc_set = true;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/**
 * tcp_set_limits() - TCP_MAXSEG, TCP_USER_TIMEOUT, TCP_LINGER2 and
 * TCP_SYNCNT, with Linux's ranges
 * @t:		connection
 * @name:	option
 * @v:		value
 *
 * TCP_MAXSEG clamps the segment size the connection sends with
 * (tcp_set_mss()); TCP_USER_TIMEOUT bounds how long data may stay
 * unacknowledged through retransmissions (tcp_timer.c); TCP_LINGER2 is
 * the orphan FIN-WAIT-2 limit (above 120 s: 120 s; negative: none);
 * TCP_SYNCNT how many times a SYN is retransmitted (1..127).
 * Return: 0, -EINVAL, or -ENOPROTOOPT (not one of these).
 */
static int tcp_set_limits(struct tcb *t, int name, int v)
{
	switch (name) {
	case TCP_MAXSEG:
		if (v && (v < 88 || v > 32767))
			return -EINVAL;
		t->user_mss = (uint16_t)v;
		return 0;
	case TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		t->user_timeout_ms = (uint32_t)v;
		return 0;
	case TCP_LINGER2:
		t->linger2 = v < 0 ? -1 : v > 120 ? 120 : v;
		return 0;
	case TCP_SYNCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		t->syn_retries = (uint8_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/*
 * TCP_DEFER_ACCEPT is given in seconds and kept, as Linux keeps it, as
 * the number of SYN-ACK timeouts that cover them: timeouts from 1 s,
 * doubling up to 120 s. It reads back as those timeouts' sum (5 -> 3
 * timeouts -> 7 s).
 */
static uint8_t tcp_defer_retrans(int secs)
{
	int period = 1, timeout = 1, n = 1;

	if (secs <= 0)
		return 0;
	while (secs > period && n < 255) {
		n++;
		timeout = timeout * 2 > 120 ? 120 : timeout * 2;
		period += timeout;
	}
	return (uint8_t)n;
}

static int tcp_defer_secs(uint8_t n)
{
	int period = 0, timeout = 1;

	if (!n)
		return 0;
	period = timeout;
	while (--n) {
		timeout = timeout * 2 > 120 ? 120 : timeout * 2;
		period += timeout;
	}
	return period;
}

/**
 * tcp_setsockopt() - setsockopt() for SOL_SOCKET, IPPROTO_TCP and IPPROTO_IP
 * @b:		socket
 * @level:	option level
 * @name:	option name
 * @val:	the value, in host memory; an int unless the option says
 *		otherwise (struct linger, a congestion control name)
 * @len:	its length, checked before @val is read
 *
 * Options take effect as on Linux where the stack implements them:
 * SO_KEEPALIVE and TCP_KEEP* re-arm the keepalive timer, TCP_NODELAY on
 * and TCP_CORK off push what is queued, TCP_CONGESTION switches the
 * algorithm (its state reset if the connection already runs), an explicit
 * SO_RCVBUF turns receive autotuning off. SO_SNDBUF and SO_RCVBUF are
 * honoured only until data may flow (connect, or the handshake of an
 * accepted one, fixes them: the window was offered for them) and are
 * silently kept after. Options programs commonly set but the
 * stack has no use for (TCP_FASTOPEN, SO_PRIORITY, ...) are accepted
 * and ignored, so those programs run unchanged. TCP_DEFER_ACCEPT holds a
 * listener's children back until data (tcp_synrecv_ack()),
 * TCP_WINDOW_CLAMP bounds the advertised window (tcp_rcv_window()),
 * TCP_QUICKACK 0 turns the quick ACKs off until it is set again. TCP_CONGESTION takes the
 * names Linux has ("reno", "cubic"). SO_RCVBUF/SO_SNDBUF then read back
 * as Linux reports them (doubled, with its minimum).
 *
 * Return: 0, -EINVAL (short or out-of-range value), -ENOENT (unknown
 * congestion control), -ENOPROTOOPT (unknown option).
 */
static int tcp_setsockopt(struct bsock *b, int level, int name, const void *val,
			  socklen_t len)
{
	struct tcb *t = tcp_sk(b);
	const struct tcp_cc_ops *cc;
	struct linger lg;
	char cname[16];
	int v = 0, ret;

	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		if (!val || !len)
			return -EINVAL;
		memset(cname, 0, sizeof(cname));
		memcpy(cname, val,
		       len < sizeof(cname) - 1 ? len : sizeof(cname) - 1);
		cc = strcmp(cname, "newreno") ? tcp_cc_find(cname) : NULL;
		if (!cc)
			return -ENOENT; /* Linux has no "newreno" */
		if (cc != t->cc) {
			t->cc = cc;
			if (t->mss)
				cc->init(t);
		}
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		if (!val || len < (socklen_t)sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		t->linger_on = lg.l_onoff != 0;
		t->linger = lg.l_linger;
		return 0;
	}
	if (level == IPPROTO_IP)
		return tcp_set_ip(t, name, val, len);
	if (level == IPPROTO_IPV6 && t->family != AF_INET6)
		return -ENOPROTOOPT; /* as Linux's ip_setsockopt() */
	ret = tcp_opt_int(val, len, &v);
	if (ret < 0)
		return ret;
	if (level == IPPROTO_IPV6)
		return tcp_set_ipv6(t, name, v);
	if (level == IPPROTO_TCP && tcp_set_limits(t, name, v) != -ENOPROTOOPT)
		return tcp_set_limits(t, name, v);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			t->reuseaddr = v != 0;
			return 0;
		case SO_REUSEPORT:
			t->reuseport = v != 0;
			return 0;
		case SO_KEEPALIVE:
			t->keepalive = v != 0;
			tcp_keep_arm(t);
			return 0;
		case SO_SNDBUF:
		case SO_RCVBUF:
			if (name == SO_SNDBUF)
				t->sndbuf_rep = tcp_buf_rep(v, 4608);
			else
				t->rcvbuf_rep = tcp_buf_rep(v, 2304);
			if (t->sbuf || t->rx_open)
				return 0; /* fixed once data may flow */
			if (name == SO_SNDBUF)
				t->sb_size = tcp_buf_size(v);
			else /* the app's size: no autotuning */
				t->rb_size = t->rb_max = tcp_buf_size(v);
			return 0;
		case SO_PRIORITY: /* no qdisc to act on: remembered */
			t->priority = v;
			return 0;
		case SO_RCVLOWAT:
		case SO_SNDLOWAT:
		case SO_OOBINLINE:
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			t->nodelay = v != 0;
			if (t->nodelay)
				tcp_send_queued(t);
			return 0;
		case TCP_CORK:
			t->cork = v != 0;
			if (!t->cork)
				tcp_send_queued(t);
			return 0;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767)
				return -EINVAL;
			if (name == TCP_KEEPIDLE)
				t->keepidle = (uint32_t)v;
			else
				t->keepintvl = (uint32_t)v;
			tcp_keep_arm(t);
			return 0;
		case TCP_KEEPCNT:
			if (v < 1 || v > 127)
				return -EINVAL;
			t->keepcnt = (uint32_t)v;
			return 0;
		case TCP_QUICKACK: /* 0: delayed ACKs ("pingpong") */
			t->pingpong = !v;
			t->quickacks = v ? TCP_QUICKACKS : 0;
			return 0;
		case TCP_DEFER_ACCEPT:
			t->defer_retrans = tcp_defer_retrans(v);
			return 0;
		case TCP_WINDOW_CLAMP:
			if (!v && t->state != TCPS_CLOSED)
				return -EINVAL;
			/* Linux's floor: half its smallest receive buffer */
			t->wclamp = !v ? 0 : v < 1152 ? 1152 : (uint32_t)v;
			return 0;
		case TCP_FASTOPEN:
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	return -ENOPROTOOPT;
}

/* tcp_fill_info() - struct tcp_info as Linux fills it, where we can. */
static void tcp_fill_info(struct tcb *t, struct tcp_info *ti)
{
	uint32_t mss = t->mss ? t->mss : TCP_DEF_MSS;

	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = t->state;
	ti->tcpi_ca_state = t->in_recovery ? 3 : (t->retries ? 4 : 0);
	ti->tcpi_retransmits = t->retries;
	ti->tcpi_backoff = t->retries;
	if (t->ts_ok)
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (t->sack_ok)
		ti->tcpi_options |= TCPI_OPT_SACK;
	if (t->ws_ok) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = t->snd_ws;
		ti->tcpi_rcv_wscale = t->rcv_ws;
	}
	ti->tcpi_rto = t->rto_us;
	ti->tcpi_ato = (uint32_t)(TCP_DELACK_NS / 1000);
	ti->tcpi_snd_mss = mss;
	ti->tcpi_rcv_mss = t->rcv_mss;
	ti->tcpi_unacked = (t->snd_max - t->snd_una + mss - 1) / mss;
	ti->tcpi_sacked = (t->sacked_bytes + mss - 1) / mss;
	ti->tcpi_lost = t->lost_segs;
	ti->tcpi_retrans =
		t->in_recovery ?
			(seq_gt(t->high_rxt, t->snd_una) ?
				 (t->high_rxt - t->snd_una + mss - 1) / mss :
				 0) :
			0;
	ti->tcpi_last_data_recv =
		(uint32_t)((tcp_now(t) - t->last_rcv_ns) / 1000000ull);
	ti->tcpi_last_data_sent =
		(uint32_t)((tcp_now(t) - t->last_snd_ns) / 1000000ull);
	ti->tcpi_pmtu = tcp_v6(&t->raddr) ? ip6_path_mtu(t->b.st, &t->raddr) :
					    t->b.st->mtu;
	ti->tcpi_rcv_ssthresh = t->rb_size;
	ti->tcpi_rtt = t->srtt_us;
	ti->tcpi_rttvar = t->rttvar_us;
	ti->tcpi_snd_ssthresh =
		t->ssthresh >= UINT32_MAX / 2 ? 0x7fffffff : t->ssthresh / mss;
	ti->tcpi_snd_cwnd = t->cwnd / mss;
	ti->tcpi_advmss = tcp_our_mss(t->b.st, &t->raddr);
	ti->tcpi_reordering = TCP_DUPTHRESH;
	ti->tcpi_rcv_space = t->rb_size;
	ti->tcpi_total_retrans = t->total_retrans;
}

static int tcp_put_int(void *val, socklen_t *len, int v)
{
	socklen_t n;

	if (!val || !len)
		return -EFAULT;
	n = *len < (socklen_t)sizeof(int) ? *len : (socklen_t)sizeof(int);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/**
 * tcp_getsockopt() - getsockopt() for SOL_SOCKET, IPPROTO_TCP and IP_TOS
 * @b:		socket
 * @level:	option level
 * @name:	option name
 * @val:	output, in host memory
 * @len:	in: room at @val; out: bytes written (values are truncated
 *		to the room given, as Linux does)
 *
 * SO_ERROR reads and clears so_error (falling back to a soft error kept
 * on a CLOSED socket that has not ended). TCP_INFO fills struct tcp_info
 * as far as the stack has the numbers (tcp_fill_info()); SO_SNDBUF and
 * SO_RCVBUF report Linux's doubled value once set, the ring sizes before.
 *
 * Return: 0, -EFAULT (no @val or @len), -ENOPROTOOPT (unknown option).
 */
static int tcp_getsockopt(struct bsock *b, int level, int name, void *val,
			  socklen_t *len)
{
	struct tcb *t = tcp_sk(b);
	struct tcp_info ti;
	struct linger lg;
	char cname[16];
	socklen_t n;
	int v;

	if (!val || !len)
		return -EFAULT;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			v = t->so_error ? t->so_error : 0;
			t->so_error = 0;
			if (!v && t->state == TCPS_CLOSED && t->soft_error &&
			    !t->done)
				v = t->soft_error;
			return tcp_put_int(val, len, v);
		case SO_TYPE:
			return tcp_put_int(val, len, SOCK_STREAM);
		case SO_DOMAIN:
			return tcp_put_int(val, len, t->family);
		case SO_PROTOCOL:
			return tcp_put_int(val, len, IPPROTO_TCP);
		case SO_ACCEPTCONN:
			return tcp_put_int(val, len, t->state == TCPS_LISTEN);
		case SO_REUSEADDR:
			return tcp_put_int(val, len, t->reuseaddr);
		case SO_REUSEPORT:
			return tcp_put_int(val, len, t->reuseport);
		case SO_KEEPALIVE:
			return tcp_put_int(val, len, t->keepalive);
		case SO_PRIORITY:
			return tcp_put_int(val, len, t->priority);
		case SO_SNDBUF:
			return tcp_put_int(val, len,
					   (int)(t->sndbuf_rep ? t->sndbuf_rep :
								 t->sb_size));
		case SO_RCVBUF:
			return tcp_put_int(val, len,
					   (int)(t->rcvbuf_rep ? t->rcvbuf_rep :
								 t->rb_size));
		case SO_LINGER:
			lg.l_onoff = t->linger_on;
			lg.l_linger = t->linger;
			n = *len < (socklen_t)sizeof(lg) ?
				    *len :
				    (socklen_t)sizeof(lg);
			memcpy(val, &lg, n);
			*len = n;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return tcp_put_int(val, len, t->nodelay);
		case TCP_CORK:
			return tcp_put_int(val, len, t->cork);
		case TCP_MAXSEG: /* Linux: the option's value until connected */
			if (t->user_mss && (t->state == TCPS_CLOSED ||
					    t->state == TCPS_LISTEN))
				return tcp_put_int(val, len, t->user_mss);
			return tcp_put_int(val, len,
					   (int)(t->mss ? t->mss :
							  TCP_DEF_MSS));
		case TCP_USER_TIMEOUT:
			return tcp_put_int(val, len, (int)t->user_timeout_ms);
		case TCP_SYNCNT:
			return tcp_put_int(val, len,
					   t->syn_retries ?
						   t->syn_retries :
						   (int)TCP_SYN_RETRIES);
		case TCP_LINGER2:
			return tcp_put_int(val, len,
					   t->linger2 ? t->linger2 :
							(int)(TCP_FIN2_NS /
							      1000000000ull));
		case TCP_QUICKACK:
			return tcp_put_int(val, len, !t->pingpong);
		case TCP_DEFER_ACCEPT:
			return tcp_put_int(val, len,
					   tcp_defer_secs(t->defer_retrans));
		case TCP_WINDOW_CLAMP:
			return tcp_put_int(val, len, (int)tcp_wclamp(t));
		case TCP_KEEPIDLE:
			return tcp_put_int(val, len, (int)t->keepidle);
		case TCP_KEEPINTVL:
			return tcp_put_int(val, len, (int)t->keepintvl);
		case TCP_KEEPCNT:
			return tcp_put_int(val, len, (int)t->keepcnt);
		case TCP_INFO:
			tcp_fill_info(t, &ti);
			n = *len < (socklen_t)sizeof(ti) ?
				    *len :
				    (socklen_t)sizeof(ti);
			memcpy(val, &ti, n);
			*len = n;
			return 0;
		case TCP_CONGESTION: /* Linux: 16 bytes, zero padded */
			memset(cname, 0, sizeof(cname));
			strncpy(cname,
				t->cc == &tcp_cc_newreno ? "reno" : t->cc->name,
				sizeof(cname) - 1);
			n = *len < (socklen_t)sizeof(cname) ?
				    *len :
				    (socklen_t)sizeof(cname);
			memcpy(val, cname, n);
			*len = n;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_IPV6) {
		int ret = t->family == AF_INET6 ? tcp_get_ipv6(t, name, &v) :
						  -EOPNOTSUPP; /* as Linux */

		return ret < 0 ? ret : tcp_put_int(val, len, v);
	}
	if (level == IPPROTO_IP && name == IP_TOS)
		return cove_ipopt_put(val, len, t->tos);
	if (level == IPPROTO_IP && name == IP_TTL)
		return cove_ipopt_put(val, len, t->ttl ? t->ttl : 64);
	if (level == IPPROTO_IP && name == IP_MTU_DISCOVER)
		return cove_ipopt_put(val, len,
				      t->pmtudisc_set ? t->pmtudisc :
							IP_PMTUDISC_WANT);
	if (level == IPPROTO_IP)
		return cove_ipopt_mc_get(&t->mc, name, val, len);
	return -ENOPROTOOPT;
}

static int tcp_getsockname(struct bsock *b, struct sockaddr *a, socklen_t *len)
{
	struct tcb *t = tcp_sk(b);

	return tcp_sa_write(t, &t->laddr,
			    t->on_port || t->in_hash ? t->lport : 0, a, len);
}

static int tcp_getpeername(struct bsock *b, struct sockaddr *a, socklen_t *len)
{
	struct tcb *t = tcp_sk(b);

	if (t->state == TCPS_CLOSED || t->state == TCPS_LISTEN ||
	    t->state == TCPS_SYN_SENT)
		return -ENOTCONN;
	return tcp_sa_write(t, &t->raddr, t->rport, a, len);
}

static uint32_t tcp_events(struct bsock *b)
{
	return tcp_poll_events(tcp_sk(b));
}

const struct bproto tcp_proto = {
	.bind = tcp_bind,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.connect = tcp_connect,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.getsockname = tcp_getsockname,
	.getpeername = tcp_getpeername,
	.events = tcp_events,
};
