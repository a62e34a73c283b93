// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP over IPv6: the entry points from ipv6.c and icmp6.c, path MTU. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/bytes.h"
#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * IPv6 segments enter here and leave the family behind: the addresses go
 * into the segment as they are (a tcb keeps IPv4 in mapped form, so the
 * two never meet in the tables), the checksum is verified over the IPv6
 * pseudo-header, and tcp_seg_input() does the rest for both families. A
 * packet whose source or destination is a mapped address, multicast or
 * unspecified is refused here (RFC 4291 section 2.5.5.2, and what Linux's
 * ipv6_rcv() drops): otherwise an IPv6 packet could name an IPv4 4-tuple.
 *
 * ICMPv6 errors (RFC 4443) are matched to the connection of the quoted
 * segment and turned into Linux's errors (icmpv6_err_convert()): in
 * SYN-SENT every error ends the connect, later ones become the soft error.
 * Packet Too Big has lowered the path MTU towards the peer before it gets
 * here (icmp6.c: never below 1280, RFC 8201); when that shrinks the
 * segment size, everything in flight is sent again in the smaller
 * segments (Linux's tcp_simple_retransmit()): those segments are lost.
 * Other connections to the same destination learn the new path MTU from
 * ip6_send()'s -EMSGSIZE on their next segment (tcp_xmit_too_big()).
 */

/* tcp_addr6_bad() - @a may not appear in an IPv6 TCP segment. */
static bool tcp_addr6_bad(const struct in6_addr *a)
{
	return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a) ||
	       IN6_IS_ADDR_V4MAPPED(a);
}

/**
 * tcp_layer_input6() - a received IPv6 segment: parse, verify, demultiplex
 * @st:		stack
 * @pkt:	the packet (its header chain checked by ipv6.c; the TCP
 *		checksum not yet)
 */
void tcp_layer_input6(struct bstack *st, const struct ip6_pkt *pkt)
{
	struct tcp_seg s;

	if (!st->tcp)
		return;
	st->stats.tcp_in_segs++;
	memset(&s, 0, sizeof(s));
	s.src = pkt->src;
	s.dst = pkt->dst;
	s.scope_id = pkt->scope_id;
	if (tcp_seg_parse(pkt->l4, pkt->l4_len, &s) < 0)
		goto malformed;
	if (!pkt->csum_ok && ip6_csum(&pkt->src, &pkt->dst, IPPROTO_TCP,
				      pkt->l4, pkt->l4_len) != 0) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	if (!s.sport || !s.dport || tcp_addr6_bad(&s.src) ||
	    tcp_addr6_bad(&s.dst))
		goto malformed;
	tcp_seg_input(st, &s);
	return;
malformed:
	st->stats.rx_malformed++;
	st->stats.rx_dropped++;
}

/**
 * tcp_pmtu_reduced() - the path MTU of @t's peer may have dropped
 * @t:	connection over IPv6
 *
 * The segment size is derived again (tcp_set_mss(): ip6_path_mtu()); if
 * it shrank, what is in flight was sent
 * too large and is lost: the send loop starts again at snd_una, without a
 * congestion response (the network did not say it is congested).
 */
void tcp_pmtu_reduced(struct tcb *t)
{
	uint32_t old = t->smss;

	tcp_set_mss(t, t->peer_mss);
	if (t->smss >= old || !tcp_can_send(t->state))
		return;
	t->ctx->pmtu_lowered++;
	t->rtt_timing = false;
	if (seq_lt(t->snd_una, t->snd_max)) {
		t->snd_nxt = t->snd_una;
		tcp_send_queued(t);
		if (!timer_armed(&t->t_rtx))
			tcp_rtx_arm(t);
	}
}

/*
 * tcp_icmp6_errno() - the errno of an ICMPv6 error, as Linux's
 * icmpv6_err_convert(): destination unreachable by code, time exceeded
 * and parameter problem EHOSTUNREACH and EPROTO.
 */
static int tcp_icmp6_errno(uint8_t type, uint8_t code)
{
	static const int unreach[] = { ENETUNREACH,  EACCES,	   EHOSTUNREACH,
				       EHOSTUNREACH, ECONNREFUSED, EACCES,
				       EACCES };

	if (type == 1)
		return code < sizeof(unreach) / sizeof(unreach[0]) ?
			       unreach[code] :
			       EHOSTUNREACH;
	if (type == 4)
		return EPROTO;
	return EHOSTUNREACH;
}

/**
 * tcp_icmp6_error() - an ICMPv6 error about a segment we sent
 * @st:		stack
 * @type:	1 unreachable, 2 packet too big, 3 time exceeded, 4 parameter
 *		problem (others are ignored)
 * @code:	the code
 * @info:	for Packet Too Big, the MTU (already in ip6_path_mtu())
 * @inner:	the quoted IPv6 header and at least 8 bytes after it (we send
 *		no extension headers: TCP follows the fixed header)
 * @inner_len:	bytes at @inner
 */
void tcp_icmp6_error(struct bstack *st, uint8_t type, uint8_t code,
		     uint32_t info, const uint8_t *inner, uint32_t inner_len)
{
	const struct pkt in = { .p = inner, .len = inner_len };
	const uint8_t *ih = pkt_ptr(&in, 0, IP6_HLEN_);
	const uint8_t *th = pkt_ptr(&in, IP6_HLEN_, 8);
	struct in6_addr src, dst;
	uint32_t seq;
	struct tcb *t;

	(void)info;
	if (!st->tcp || !ih || !th || ih[6] != IPPROTO_TCP || type < 1 ||
	    type > 4)
		return;
	memcpy(&src, ih + 8, 16);
	memcpy(&dst, ih + 24, 16);
	if (tcp_addr6_bad(&src) || tcp_addr6_bad(&dst))
		return;
	t = tcb_lookup(st->tcp, &src, cove_get16(th), &dst, cove_get16(th + 2));
	seq = cove_get32(th + 4);
	if (!t || seq_lt(seq, t->snd_una) || seq_gt(seq, t->snd_max))
		return;
	if (type == 2) { /* icmp6.c lowered the path MTU already */
		tcp_pmtu_reduced(t);
		return;
	}
	tcp_icmp_apply(st, t, seq, tcp_icmp6_errno(type, code), true);
}
