// SPDX-License-Identifier: Apache-2.0
/* lwip provider: the socket calls of the ABI, options and names. */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h" /* TCP_FIN_WAIT_TIMEOUT */
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "stacks/lwip/lw.h"

/*
 * Theory of operation
 *
 * This file is the provider's socket table of ABI calls: it checks
 * arguments the way Linux does and dispatches to lw_tcp.c or lw_udp.c.
 * Every call here that may reach lwIP runs between lw_enter() and
 * lw_leave() (see lw.h): frames lwIP produced go out and notifications are
 * delivered when the call ends. Calls that only read or set the socket's
 * own fields (SO_LINGER, getsockopt(), the names) do not enter.
 *
 * State lives in struct cove_sock (lw.h), one per ABI socket:
 *
 *  - Lifetime. socket() makes a held socket with a fresh PCB; accept()
 *    hands over a child the accept callback made (counted in nchild until
 *    then). nsock + nchild never exceeds max_sockets. close() always frees
 *    the socket, whatever lwIP still does with its PCB.
 *  - State (TCP; a UDP socket stays LW_NEW). LW_NEW -> LW_LISTEN, or
 *    LW_NEW -> LW_CONNECTING -> LW_CONNECTED; a connecting or connected
 *    socket -> LW_DEAD when lwIP frees the PCB on its own (reset, timeout,
 *    both sides closed). A dead socket has no PCB (pcb is NULL) and lives
 *    on, with its error, until the host closes it.
 *  - Errors. @err holds a pending error as a positive errno; the next
 *    send, recv or connect returns it once, or SO_ERROR reads and clears
 *    it. Calls return 0, a count or a negative errno, as the ABI wants.
 *  - Names. @local and @peer are caches, refreshed on bind, listen,
 *    connect, accept and the first UDP send, so getsockname() and
 *    getpeername() never ask lwIP and keep working after LW_DEAD.
 *  - Options live where lwIP can use them: SOF_REUSEADDR, SOF_KEEPALIVE,
 *    Nagle and the keepalive timings on the PCB; everything else on the
 *    socket (linger0, cork, reuse, the buffer sizes). TCP's buffers are
 *    lwIP's compile-time TCP_WND and TCP_SND_BUF, reported as SO_RCVBUF
 *    and SO_SNDBUF; of the two, only UDP's SO_RCVBUF changes anything
 *    (the bound of its receive queue).
 *
 * Addresses. The instance's own are its address and 127.0.0.1
 * (lw_loop.c), the netif's IPv6 addresses and ::1; the rest of 127/8 can
 * be neither bound nor reached. AF_INET6 sockets are dual-stack; how a
 * program's sockaddr becomes lwIP's address and back is lw_addr.c's.
 * lwIP has one TTL and one TOS per PCB, so IP_TTL and IPV6_UNICAST_HOPS
 * are one value, and IP_TOS and IPV6_TCLASS.
 */

size_t lw_iov_total(const struct msghdr *msg)
{
	size_t total = 0, i;

	for (i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	return total;
}

/**
 * lw_socket() - the ABI's socket(): a held socket with a new lwIP PCB
 * @st:		instance
 * @domain:	AF_INET, or AF_INET6 (dual stack, see the theory block)
 * @type:	SOCK_STREAM or SOCK_DGRAM; SOCK_NONBLOCK and SOCK_CLOEXEC are
 *		the host's and ignored
 * @protocol:	0 or the protocol matching @type
 * @out:	the socket
 *
 * Return: 0, -EAFNOSUPPORT, -ESOCKTNOSUPPORT, -EPROTONOSUPPORT, -EMFILE
 * (max_sockets, queued children included) or -ENOMEM (socket or PCB).
 */
static int lw_socket(struct cove_stack *st, int domain, int type, int protocol,
		     struct cove_sock **out)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct cove_sock *s;
	int ret;

	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (base != SOCK_STREAM && base != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol &&
	    protocol != (base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	if (st->nsock + st->nchild >= st->max_sockets)
		return -EMFILE;
	s = lw_sock_new(st, domain, base);
	if (!s)
		return -ENOMEM;
	lw_enter(st);
	ret = base == SOCK_STREAM ? lw_tcp_open(s) : lw_udp_open(s);
	lw_leave(st);
	if (ret) {
		lw_sock_free(s);
		return ret;
	}
	s->held = true;
	st->nsock++;
	*out = s;
	return 0;
}

static void lw_set_cookie(struct cove_sock *s, void *cookie)
{
	s->cookie = cookie;
}

/* lw_bind_local() - may a socket bind @ip: the wildcard or one of ours? */
static bool lw_bind_local(const struct cove_stack *st, const ip_addr_t *ip)
{
	if (ip_addr_isany(ip) || IP_IS_ANY_TYPE_VAL(*ip))
		return true;
	if (IP_IS_V4_VAL(*ip))
		return lw_addr_local(st, ip4_addr_get_u32(ip_2_ip4(ip)));
	return lw_addr6_local(st, ip_2_ip6(ip));
}

/*
 * lw_bind() - bind(): the wildcard, our address or 127.0.0.1 (lwIP's "lo"
 * accepts no other address of 127/8), an IPv6 address of the netif or
 * ::1, then the protocol's bind.
 */
static int lw_bind(struct cove_sock *s, const struct sockaddr *addr,
		   socklen_t len)
{
	ip_addr_t ip;
	uint16_t port;
	int ret = lw_addr_from(s, addr, len, LW_USE_BIND, &ip, &port);

	if (ret)
		return ret;
	if (!lw_bind_local(s->st, &ip))
		return -EADDRNOTAVAIL;
	lw_enter(s->st);
	ret = s->type == SOCK_STREAM ? lw_tcp_bind(s, &ip, port) :
				       lw_udp_bind(s, &ip, port);
	lw_leave(s->st);
	return ret;
}

static int lw_listen(struct cove_sock *s, int backlog)
{
	int ret;

	if (s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	lw_enter(s->st);
	ret = lw_tcp_listen(s, backlog);
	lw_leave(s->st);
	return ret;
}

static int lw_accept(struct cove_sock *s, struct cove_sock **out,
		     struct sockaddr *peer, socklen_t *len)
{
	int ret;

	if (s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	lw_enter(s->st);
	ret = lw_tcp_accept(s, out, peer, len);
	lw_leave(s->st);
	return ret;
}

/**
 * lw_connect() - the ABI's connect(), by protocol
 * @s:		socket
 * @addr:	untrusted sockaddr from the host
 * @len:	its length
 *
 * UDP takes AF_UNSPEC (forget the peer) as well, so it checks the address
 * itself; TCP needs a valid address (lw_addr_from()) before
 * lw_tcp_connect().
 *
 * Return: as lw_tcp_connect() (-EINPROGRESS on success) or
 * lw_udp_connect() (0), or lw_addr_from()'s error.
 */
static int lw_connect(struct cove_sock *s, const struct sockaddr *addr,
		      socklen_t len)
{
	ip_addr_t ip;
	uint16_t port;
	int ret;

	lw_enter(s->st);
	if (s->type == SOCK_DGRAM) {
		ret = lw_udp_connect(s, addr, len);
	} else {
		ret = lw_addr_from(s, addr, len, LW_USE_CONNECT, &ip, &port);
		if (!ret)
			ret = lw_tcp_connect(s, &ip, port);
	}
	lw_leave(s->st);
	return ret;
}

static ssize_t lw_sendmsg(struct cove_sock *s, const struct msghdr *msg,
			  int flags)
{
	ssize_t n;

	lw_enter(s->st);
	n = s->type == SOCK_STREAM ? lw_tcp_send(s, msg, flags) :
				     lw_udp_send(s, msg, flags);
	lw_leave(s->st);
	return n;
}

static ssize_t lw_recvmsg(struct cove_sock *s, struct msghdr *msg, int flags)
{
	ssize_t n;

	lw_enter(s->st);
	n = s->type == SOCK_STREAM ? lw_tcp_recv(s, msg, flags) :
				     lw_udp_recv(s, msg, flags);
	lw_leave(s->st);
	return n;
}

/**
 * lw_shutdown() - the ABI's shutdown()
 * @s:		socket
 * @how:	SHUT_RD, SHUT_WR or SHUT_RDWR
 *
 * TCP goes to lw_tcp_shutdown(). For UDP, as on Linux, only a connected
 * socket may be shut down, and it only sets flags: reads return 0, sends
 * fail with EPIPE.
 *
 * Return: 0, -EINVAL (bad @how), -ENOTCONN, or lw_tcp_shutdown()'s error.
 */
static int lw_shutdown(struct cove_sock *s, int how)
{
	int ret = 0;

	lw_enter(s->st);
	if (s->type == SOCK_STREAM) {
		ret = lw_tcp_shutdown(s, how);
	} else if (how < SHUT_RD || how > SHUT_RDWR) {
		ret = -EINVAL;
	} else if (!(s->pcb.udp->flags & UDP_FLAGS_CONNECTED)) {
		ret = -ENOTCONN;
	} else {
		s->shut_rd |= how != SHUT_WR;
		s->shut_wr |= how != SHUT_RD;
		lw_dirty(s);
	}
	lw_leave(s->st);
	return ret;
}

/* lw_close() - the ABI's close(): the protocol's close frees @s. */
static void lw_close(struct cove_sock *s)
{
	struct cove_stack *st;

	if (!s)
		return;
	st = s->st;
	lw_enter(st);
	if (s->type == SOCK_STREAM)
		lw_tcp_close(s);
	else
		lw_udp_close(s);
	lw_leave(st);
}

/* lw_opt_int() - read an int option value. */
static int lw_opt_int(const void *val, socklen_t len, int *out)
{
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* lw_ip_pcb_opt() - set or clear an SOF_* flag on the socket's PCB. */
static void lw_ip_pcb_opt(struct cove_sock *s, u8_t opt, int on)
{
	if (s->type == SOCK_STREAM && s->pcb.tcp) {
		if (on)
			ip_set_option(s->pcb.tcp, opt);
		else
			ip_reset_option(s->pcb.tcp, opt);
	} else if (s->type == SOCK_DGRAM && s->pcb.udp) {
		if (on)
			ip_set_option(s->pcb.udp, opt);
		else
			ip_reset_option(s->pcb.udp, opt);
	}
}

/**
 * lw_ip_opt() - the IPPROTO_IP options Linux accepts that only need
 * remembering here: IP_MTU_DISCOVER (lwIP never sets DF), IP_RECVERR (no
 * error queue) and IP_PKTINFO (the sentry makes no control messages)
 * @s:		socket
 * @name:	option
 * @v:		its value
 *
 * Return: 0, -EINVAL (IP_MTU_DISCOVER out of range), -ENOPROTOOPT.
 */
static int lw_ip_opt(struct cove_sock *s, int name, int v)
{
	switch (name) {
	case IP_MTU_DISCOVER:
		if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
			return -EINVAL;
		s->pmtudisc = (uint8_t)v;
		return 0;
	case IP_RECVERR:
		s->recverr = v != 0;
		return 0;
	case IP_PKTINFO:
		if (s->type != SOCK_DGRAM)
			return -ENOPROTOOPT;
		s->pktinfo = v != 0;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* lw_is_local() - cove_ipopt_local_fn: our address or 127.0.0.1. */
static bool lw_is_local(void *ctx, uint32_t addr)
{
	return lw_addr_local(ctx, addr);
}

/**
 * lw_set_ip() - setsockopt() at IPPROTO_IP, the value read as Linux does
 * (an int or one byte; common/ipopt.c)
 * @s:		socket
 * @name:	option
 * @val:	value in host memory
 * @len:	its length
 *
 * IP_TOS (a stream socket keeps its ECN bits, as on Linux), IP_TTL and
 * the multicast options go onto the PCB; the rest are lw_ip_opt()'s.
 * Return: 0, -EINVAL, -EADDRNOTAVAIL, -ENOPROTOOPT.
 */
static int lw_set_ip(struct cove_sock *s, int name, const void *val,
		     socklen_t len)
{
	bool stream = s->type == SOCK_STREAM;
	int v, ret = cove_ipopt_mc_set(&s->mc, stream, name, val, len,
				       lw_is_local, s->st);

	if (ret == -ENOPROTOOPT) {
		ret = cove_ipopt_read(val, len, &v);
		if (ret)
			return ret;
		if (name == IP_TTL) {
			/* Linux: 1..255, -1 the default (0 here) */
			if (!len || (v != -1 && (v < 1 || v > 255)))
				return -EINVAL;
			s->ttl = v < 0 ? 0 : (uint8_t)v;
		} else if (name == IP_TOS) {
			s->tos = stream ? (uint8_t)((v & ~3) | (s->tos & 3)) :
					  (uint8_t)v;
		} else {
			return lw_ip_opt(s, name, v);
		}
	}
	if (!ret)
		lw_ip_apply(s);
	return ret;
}

/* lw_buf_val() - SO_RCVBUF/SO_SNDBUF as Linux keeps them: doubled, at
 * least @min (SOCK_MIN_RCVBUF/SNDBUF), at most 32 MiB. */
static uint32_t lw_buf_val(int v, uint32_t min)
{
	uint64_t d = v < 0 || v > (1 << 24) ? 1u << 25 : 2 * (uint64_t)v;

	return d < min ? min : (uint32_t)d;
}

/**
 * lw_tcp_limit() - TCP_MAXSEG, TCP_USER_TIMEOUT, TCP_LINGER2 with Linux's
 * ranges, remembered for getsockopt() (lwIP has no knob for them)
 * @s:		TCP socket
 * @name:	option
 * @v:		value
 *
 * Return: 0, -EINVAL, -ENOPROTOOPT (not one of these).
 */
static int lw_tcp_limit(struct cove_sock *s, int name, int v)
{
	switch (name) {
	case TCP_MAXSEG:
		if (v && (v < 88 || v > 32767))
			return -EINVAL;
		s->user_mss = (uint16_t)v;
		return 0;
	case TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		s->user_timeout_ms = (uint32_t)v;
		return 0;
	case TCP_LINGER2:
		s->linger2 = v < 0 ? -1 : v > 120 ? 120 : v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* lw_tcp_opt() - TCP_NODELAY, TCP_CORK and the keepalive timings. */
static int lw_tcp_opt(struct cove_sock *s, int name, int v)
{
	struct tcp_pcb *pcb = s->pcb.tcp;

	if (s->type != SOCK_STREAM)
		return -ENOPROTOOPT;
	if (lw_tcp_limit(s, name, v) != -ENOPROTOOPT)
		return lw_tcp_limit(s, name, v);
	if (name == TCP_NODELAY) {
		if (pcb && s->state != LW_LISTEN) {
			if (v)
				tcp_nagle_disable(pcb);
			else
				tcp_nagle_enable(pcb);
		}
		return 0;
	}
	if (name == TCP_CORK) {
		lw_tcp_set_cork(s, v != 0);
		return 0;
	}
	if (name != TCP_KEEPIDLE && name != TCP_KEEPINTVL &&
	    name != TCP_KEEPCNT)
		return -ENOPROTOOPT;
	if (v < 1 || v > (name == TCP_KEEPCNT ? 127 : 32767))
		return -EINVAL;
	if (!pcb || s->state == LW_LISTEN)
		return 0;
	if (name == TCP_KEEPIDLE)
		pcb->keep_idle = (u32_t)v * 1000;
	else if (name == TCP_KEEPINTVL)
		pcb->keep_intvl = (u32_t)v * 1000;
	else
		pcb->keep_cnt = (u32_t)v;
	return 0;
}

/*
 * lw_set_cc() - TCP_CONGESTION: lwIP has one algorithm, NewReno, which
 * Linux calls "reno"; any other name is ENOENT, Linux's answer for an
 * algorithm it does not have.
 */
static int lw_set_cc(struct cove_sock *s, const void *val, socklen_t len)
{
	char name[16];

	if (s->type != SOCK_STREAM)
		return -ENOPROTOOPT;
	if (!val || !len)
		return -EINVAL;
	memset(name, 0, sizeof(name));
	memcpy(name, val, len < sizeof(name) - 1 ? len : sizeof(name) - 1);
	return strcmp(name, "reno") ? -ENOENT : 0;
}

/**
 * lw_setsockopt() - the ABI's setsockopt() for SOL_SOCKET and IPPROTO_TCP
 * @s:		socket
 * @level:	option level
 * @name:	option name
 * @val:	value in host memory: struct linger or an int
 * @len:	its length, checked before @val is read
 *
 * SO_LINGER only matters as "linger 0" (close() sends a RST); other
 * linger timeouts close gracefully in the background. SO_REUSEPORT is
 * refused when set (-ENOPROTOOPT) because lwIP cannot share a port the
 * way programs setting it expect; SO_BROADCAST is accepted since lwIP
 * sends broadcasts anyway. SO_RCVBUF/SO_SNDBUF are doubled like Linux,
 * with its minimum, up to 32 MiB. IPPROTO_IP goes to lw_set_ip(),
 * IPPROTO_IPV6 to lw_set_ip6(), TCP_CONGESTION to lw_set_cc(). TCP_NODELAY and the keepalive timings on
 * a socket without a connection PCB (listening, dead) are accepted and
 * forgotten.
 *
 * Return: 0, -EINVAL (short value, a value out of Linux's range),
 * -ENOENT (TCP_CONGESTION), -EADDRNOTAVAIL (IP_MULTICAST_IF),
 * -ENOPROTOOPT (unknown, or SO_REUSEPORT on).
 */
static int lw_setsockopt(struct cove_sock *s, int level, int name,
			 const void *val, socklen_t len)
{
	struct linger lg;
	int v = 0, ret;

	if (level == SOL_SOCKET && name == SO_LINGER) {
		if (!val || len < sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		s->linger0 = lg.l_onoff && !lg.l_linger;
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION)
		return lw_set_cc(s, val, len);
	if (level == IPPROTO_IP || level == IPPROTO_IPV6) {
		lw_enter(s->st);
		ret = level == IPPROTO_IP ? lw_set_ip(s, name, val, len) :
					    lw_set_ip6(s, name, val, len);
		lw_leave(s->st);
		return ret;
	}
	ret = lw_opt_int(val, len, &v);
	if (ret)
		return ret;
	lw_enter(s->st);
	if (level == IPPROTO_TCP) {
		ret = lw_tcp_opt(s, name, v);
	} else if (level != SOL_SOCKET) {
		ret = -ENOPROTOOPT;
	} else {
		switch (name) {
		case SO_REUSEADDR:
			s->reuse = v != 0;
			lw_ip_pcb_opt(s, SOF_REUSEADDR, v);
			break;
		case SO_KEEPALIVE:
			lw_ip_pcb_opt(s, SOF_KEEPALIVE, v);
			break;
		case SO_REUSEPORT:
			/*
			 * lwIP has no port sharing between listeners
			 * (tcp_listen() refuses a second one even with
			 * SO_REUSE) and hands a unicast datagram to the
			 * first matching UDP PCB only: a group would
			 * silently serve one member. Refuse it clearly.
			 */
			ret = v ? -ENOPROTOOPT : 0;
			break;
		case SO_BROADCAST: /* lwIP sends broadcasts anyway */
			s->broadcast = v != 0;
			break;
		case SO_PRIORITY: /* no qdisc to act on */
			s->priority = v;
			break;
		case SO_RCVBUF:
			/* Linux doubles it; TCP's window stays lwIP's. */
			s->rcvbuf = lw_buf_val(v, 2304);
			break;
		case SO_SNDBUF:
			s->sndbuf = lw_buf_val(v, 4608);
			break;
		default:
			ret = -ENOPROTOOPT;
		}
	}
	lw_leave(s->st);
	return ret;
}

/* lw_put_int() - store an int option value, Linux-style truncation. */
static int lw_put_int(void *val, socklen_t *len, int v)
{
	socklen_t n;

	if (!val || !len)
		return -EFAULT;
	n = *len < sizeof(int) ? *len : (socklen_t)sizeof(int);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* lw_pcb_opt() - is an SOF_* flag set on the socket's PCB? */
static int lw_pcb_opt(const struct cove_sock *s, u8_t opt)
{
	if (s->type == SOCK_STREAM)
		return s->pcb.tcp ? !!ip_get_option(s->pcb.tcp, opt) : 0;
	return s->pcb.udp ? !!ip_get_option(s->pcb.udp, opt) : 0;
}

/* lw_get_ip() - getsockopt() at IPPROTO_IP, answered as Linux does. */
static int lw_get_ip(const struct cove_sock *s, int name, void *val,
		     socklen_t *len)
{
	int ret = cove_ipopt_mc_get(&s->mc, name, val, len);

	if (ret != -ENOPROTOOPT)
		return ret;
	switch (name) {
	case IP_TOS:
		return cove_ipopt_put(val, len, s->tos);
	case IP_TTL:
		return cove_ipopt_put(val, len,
				      s->ttl ? s->ttl : LW_DEFAULT_TTL);
	case IP_MTU_DISCOVER:
		return cove_ipopt_put(val, len, s->pmtudisc);
	case IP_RECVERR:
		return cove_ipopt_put(val, len, s->recverr);
	case IP_PKTINFO:
		if (s->type == SOCK_DGRAM)
			return cove_ipopt_put(val, len, s->pktinfo);
		return -ENOPROTOOPT;
	default:
		return -ENOPROTOOPT;
	}
}

/* lw_put_cc() - TCP_CONGESTION: "reno", in Linux's 16 zero-padded bytes. */
static int lw_put_cc(void *val, socklen_t *len)
{
	char name[16] = "reno";
	socklen_t n;

	if (!val || !len)
		return -EFAULT;
	n = *len < sizeof(name) ? *len : (socklen_t)sizeof(name);
	memcpy(val, name, n);
	*len = n;
	return 0;
}

/**
 * lw_getsockopt() - the ABI's getsockopt(): what lw_setsockopt() set, or
 * lwIP's value from the PCB
 * @s:		socket
 * @level:	SOL_SOCKET or IPPROTO_TCP
 * @name:	option name
 * @val:	output in host memory
 * @len:	in: room; out: bytes written (truncated as on Linux)
 *
 * Without a usable PCB (listening, dead) the TCP options report lwIP's
 * or Linux's defaults. SO_ERROR reads and clears the pending error.
 *
 * Return: 0, -EFAULT (no @val or @len), -ENOPROTOOPT.
 */
static int lw_getsockopt(struct cove_sock *s, int level, int name, void *val,
			 socklen_t *len)
{
	const struct tcp_pcb *pcb =
		s->type == SOCK_STREAM && s->state != LW_LISTEN ? s->pcb.tcp :
								  NULL;
	int v;

	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			v = s->err;
			s->err = 0;
			break;
		case SO_TYPE:
			v = s->type;
			break;
		case SO_ACCEPTCONN:
			v = s->state == LW_LISTEN;
			break;
		case SO_REUSEADDR:
			v = s->reuse;
			break;
		case SO_REUSEPORT:
			v = 0;
			break;
		case SO_BROADCAST:
			v = s->broadcast;
			break;
		case SO_PRIORITY:
			v = s->priority;
			break;
		case SO_KEEPALIVE:
			v = lw_pcb_opt(s, SOF_KEEPALIVE);
			break;
		case SO_RCVBUF:
			v = (int)(s->type == SOCK_STREAM && !s->rcvbuf ?
					  TCP_WND :
					  s->rcvbuf);
			break;
		case SO_SNDBUF:
			v = s->sndbuf		   ? (int)s->sndbuf :
			    s->type == SOCK_STREAM ? TCP_SND_BUF :
						     212992;
			break;
		case SO_LINGER: {
			struct linger lg = { .l_onoff = s->linger0 };
			socklen_t n;

			if (!val || !len)
				return -EFAULT;
			n = *len < sizeof(lg) ? *len : (socklen_t)sizeof(lg);
			memcpy(val, &lg, n);
			*len = n;
			return 0;
		}
		default:
			return -ENOPROTOOPT;
		}
		return lw_put_int(val, len, v);
	}
	if (level == IPPROTO_IP)
		return lw_get_ip(s, name, val, len);
	if (level == IPPROTO_IPV6)
		return lw_get_ip6(s, name, val, len);
	if (level != IPPROTO_TCP || s->type != SOCK_STREAM)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		v = pcb ? !!tcp_nagle_disabled(pcb) : 0;
		break;
	case TCP_CORK:
		v = s->cork;
		break;
	case TCP_MAXSEG: /* Linux: the option's value until connected */
		v = s->user_mss && (!pcb || pcb->state == CLOSED) ?
			    s->user_mss :
		    pcb ? pcb->mss :
			  TCP_MSS;
		break;
	case TCP_USER_TIMEOUT:
		v = (int)s->user_timeout_ms;
		break;
	case TCP_LINGER2: /* unset: lwIP's own FIN-WAIT-2 limit */
		v = s->linger2 ? s->linger2 : TCP_FIN_WAIT_TIMEOUT / 1000;
		break;
	case TCP_CONGESTION:
		return lw_put_cc(val, len);
	case TCP_KEEPIDLE:
		v = pcb ? (int)(pcb->keep_idle / 1000) : 7200;
		break;
	case TCP_KEEPINTVL:
		v = pcb ? (int)(pcb->keep_intvl / 1000) : 75;
		break;
	case TCP_KEEPCNT:
		v = pcb ? (int)pcb->keep_cnt : 9;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return lw_put_int(val, len, v);
}

static int lw_getsockname(struct cove_sock *s, struct sockaddr *addr,
			  socklen_t *len)
{
	/* The cache follows bind/listen/connect/accept/first send. */
	return lw_name_put(s, &s->local, addr, len);
}

static int lw_getpeername(struct cove_sock *s, struct sockaddr *addr,
			  socklen_t *len)
{
	if (s->type == SOCK_STREAM && s->state != LW_CONNECTED &&
	    !(s->state == LW_DEAD && s->peer.sin.sin_port))
		return -ENOTCONN;
	if (s->type == SOCK_DGRAM && !(s->pcb.udp->flags & UDP_FLAGS_CONNECTED))
		return -ENOTCONN;
	return lw_name_put(s, &s->peer, addr, len);
}

static uint32_t lw_events(struct cove_sock *s)
{
	return s->type == SOCK_STREAM ? lw_tcp_events(s) : lw_udp_events(s);
}

static const struct cove_netstack_ops lw_ops = {
	.abi_version = COVE_NETSTACK_ABI_VERSION,
	.name = "lwip",
	.description = "lwIP 2.1 (Debian's liblwip), one instance per process",
	.create = lw_create,
	.destroy = lw_destroy,
	.input = lw_input,
	.run = lw_run,
	.poll_fd = lw_poll_fd,
	.socket = lw_socket,
	.set_cookie = lw_set_cookie,
	.bind = lw_bind,
	.listen = lw_listen,
	.accept = lw_accept,
	.connect = lw_connect,
	.sendmsg = lw_sendmsg,
	.recvmsg = lw_recvmsg,
	.shutdown = lw_shutdown,
	.close = lw_close,
	.setsockopt = lw_setsockopt,
	.getsockopt = lw_getsockopt,
	.getsockname = lw_getsockname,
	.getpeername = lw_getpeername,
	.events = lw_events,
	.stats = lw_stats,
};
COVE_STACK_PROVIDER(lw_ops);
