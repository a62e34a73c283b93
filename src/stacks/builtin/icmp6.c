// SPDX-License-Identifier: Apache-2.0
/* ICMPv6 (RFC 4443): echo, the errors a host sends, error input, ND/MLD dispatch. */
#include <string.h>
#include <sys/uio.h>

#include "stacks/builtin/core6.h"

/*
 * Theory of operation
 *
 * Input verifies the checksum (pseudo-header included) and dispatches by
 * type: echo requests are answered (also to all-nodes, as Linux does by
 * default), errors about packets we sent go to their transport (a Packet
 * Too Big first lowers the path MTU), neighbour discovery goes to nd.c and
 * nd_addr.c, MLD queries to nd_addr.c.
 *
 * Errors are sent about a received packet only where RFC 4443 2.4(e)
 * allows: never about an ICMPv6 error or a redirect, never from or to an
 * unspecified or group address (except Packet Too Big and parameter
 * problem code 2, which may answer a packet sent to a group), and only
 * while the token bucket (ICMP_RATE per second, ICMP_BURST) has tokens.
 * They quote as much of the offending packet as fits in 1280 bytes.
 */

#define ICMP6_HLEN    8u
#define ICMP6_ERR_MAX (IP6_MIN_MTU - IP6_HLEN_ - ICMP6_HLEN)

enum {
	ICMP6_UNREACH = 1,
	ICMP6_PKT_TOO_BIG = 2,
	ICMP6_TIME_EXCEEDED = 3,
	ICMP6_PARAM_PROB = 4,
	ICMP6_ECHO = 128,
	ICMP6_ECHOREPLY = 129,
	ICMP6_MLD_QUERY = 130,
	ICMP6_ND_RS = 133,
	ICMP6_ND_RA = 134,
	ICMP6_ND_NS = 135,
	ICMP6_ND_NA = 136,
	ICMP6_ND_REDIRECT = 137,
};

/**
 * icmp6_allow() - take one token from the ICMPv6 error bucket
 * @st:	stack
 *
 * Return: true when an error may be sent now.
 */
bool icmp6_allow(struct bstack *st)
{
	struct icmp_bucket *b = &ip6c(st)->icmp;
	const uint64_t per = 1000000000ull / ICMP_RATE;
	uint64_t add;

	if (st->now_ns > b->stamp_ns) {
		add = (st->now_ns - b->stamp_ns) / per;
		if (add) {
			add += b->tokens;
			b->tokens = add > ICMP_BURST ? ICMP_BURST :
						       (uint32_t)add;
			b->stamp_ns = st->now_ns;
		}
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

int icmp6_send(struct bstack *st, const struct in6_addr *src,
	       const struct in6_addr *dst, uint8_t hlim, const void *hdr,
	       uint32_t hdr_len, const struct iovec *iov, size_t iovcnt)
{
	int ret = ip6_send_from(st, src, dst, IPPROTO_ICMPV6, 0, hlim, hdr,
				hdr_len, iov, iovcnt, 2);

	if (!ret)
		st->stats.icmp6_out++;
	return ret;
}

/* icmp6_may_answer() - RFC 4443 2.4(e): may @pkt get an error of @type? */
static bool icmp6_may_answer(const struct bstack *st, const struct ip6_pkt *pkt,
			     uint8_t type, uint8_t code)
{
	if (ip6_is_any(&pkt->src) || ip6_is_mc(&pkt->src) ||
	    ipx_is_v4(&pkt->src))
		return false;
	if (ip6_is_mc(&pkt->dst) && type != ICMP6_PKT_TOO_BIG &&
	    !(type == ICMP6_PARAM_PROB && code == 2))
		return false;
	if (pkt->proto == IPPROTO_ICMPV6 && pkt->l4 &&
	    (pkt->l4_len < 1 || pkt->l4[0] < 128 ||
	     pkt->l4[0] == ICMP6_ND_REDIRECT))
		return false;
	(void)st;
	return pkt->ip_hdr && pkt->ip_len >= IP6_HLEN_;
}

/**
 * icmp6_send_error() - send an ICMPv6 error about a received packet
 * @st:		stack
 * @pkt:	the packet (from its IPv6 header, quoted)
 * @type:	1 unreachable, 2 packet too big, 3 time exceeded, 4 parameter
 * @code:	the type's code
 * @info:	the 32-bit field after the checksum, host order (MTU,
 *		pointer)
 *
 * Does nothing where RFC 4443 forbids an error or the bucket is empty.
 */
void icmp6_send_error(struct bstack *st, const struct ip6_pkt *pkt,
		      uint8_t type, uint8_t code, uint32_t info)
{
	uint8_t hdr[ICMP6_HLEN] = { type, code };
	struct in6_addr src = in6addr_any;
	struct iovec iov;

	if (!ip6c(st)->on || !icmp6_may_answer(st, pkt, type, code))
		return;
	if (ip6_is_local(st, &pkt->dst) && !ip6_is_mc(&pkt->dst))
		src = pkt->dst;
	else if (ip6_src_for(st, &pkt->src, &src))
		return;
	if (!icmp6_allow(st))
		return;
	cove_put32(hdr + 4, info);
	iov.iov_base = (void *)pkt->ip_hdr;
	iov.iov_len = pkt->ip_len < ICMP6_ERR_MAX ? pkt->ip_len : ICMP6_ERR_MAX;
	icmp6_send(st, &src, &pkt->src, 0, hdr, sizeof(hdr), &iov, 1);
}

/* icmp6_echo() - answer an echo request with the same id, seq and data. */
static void icmp6_echo(struct bstack *st, const struct ip6_pkt *pkt)
{
	uint8_t hdr[ICMP6_HLEN];
	struct in6_addr src = pkt->dst;
	struct iovec iov;

	if (pkt->l4_len < ICMP6_HLEN)
		return;
	if (ip6_is_mc(&pkt->dst) && ip6_src_for(st, &pkt->src, &src))
		return;
	memcpy(hdr, pkt->l4, ICMP6_HLEN);
	hdr[0] = ICMP6_ECHOREPLY;
	hdr[2] = hdr[3] = 0;
	iov.iov_base = (void *)(pkt->l4 + ICMP6_HLEN);
	iov.iov_len = pkt->l4_len - ICMP6_HLEN;
	if (!ip6_send_dgram(st, &src, &pkt->src, IPPROTO_ICMPV6, pkt->tclass, 0,
			    hdr, ICMP6_HLEN, &iov, 1, 2))
		st->stats.icmp6_out++;
}

/*
 * icmp6_inner_l4() - where the transport header of the quoted packet
 * starts (after a fragment header, if it carries one of offset 0), or 0
 * when it is not quoted.
 */
static uint32_t icmp6_inner_l4(const uint8_t *in, uint32_t len, uint8_t *proto)
{
	uint32_t off = IP6_HLEN_;
	uint8_t nh = in[6];

	if (nh == NH_FRAGMENT_) {
		if (len < IP6_HLEN_ + 8 || (cove_get16(in + 42) & ~7u))
			return 0;
		nh = in[40];
		off += 8;
	}
	*proto = nh;
	return len >= off + 8 ? off : 0;
}

/**
 * icmp6_error_input() - check a received error and hand it on
 * @st:		stack
 * @pkt:	the ICMPv6 error (type 1..4, at least 8 bytes)
 *
 * The quoted packet must be one we could have sent (its source one of
 * ours). A Packet Too Big lowers the path MTU towards the quoted
 * destination before TCP hears of it, so TCP reads the new value with
 * ip6_path_mtu().
 */
static void icmp6_error_input(struct bstack *st, const struct ip6_pkt *pkt)
{
	const uint8_t *in = pkt->l4 + ICMP6_HLEN;
	uint32_t len = pkt->l4_len - ICMP6_HLEN, info, l4;
	struct in6_addr isrc, idst;
	uint8_t proto = 0;

	if (len < IP6_HLEN_ + 8 || (in[0] >> 4) != 6) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return;
	}
	memcpy(&isrc, in + 8, 16);
	memcpy(&idst, in + 24, 16);
	if (!ip6_is_local(st, &isrc)) {
		st->stats.rx_dropped++; /* not about a packet of ours */
		return;
	}
	info = cove_get32(pkt->l4 + 4);
	if (pkt->l4[0] == ICMP6_PKT_TOO_BIG)
		ip6_pmtu_update(st, &idst, info);
	l4 = icmp6_inner_l4(in, len, &proto);
	if (!l4)
		return;
	if (proto == IPPROTO_TCP && l4 == IP6_HLEN_)
		tcp_icmp6_error(st, pkt->l4[0], pkt->l4[1], info, in, len);
	else if (proto == IPPROTO_UDP)
		udp_icmp6_error(st, pkt->l4[0], pkt->l4[1], info, in, len);
}

/**
 * icmp6_layer_input() - handle a received ICMPv6 message
 * @st:		stack
 * @pkt:	the packet (whole, possibly reassembled)
 */
void icmp6_layer_input(struct bstack *st, const struct ip6_pkt *pkt)
{
	if (pkt->l4_len < 4) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return;
	}
	if (!pkt->csum_ok && ip6_csum(&pkt->src, &pkt->dst, IPPROTO_ICMPV6,
				      pkt->l4, pkt->l4_len)) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	st->stats.icmp6_in++;
	switch (pkt->l4[0]) {
	case ICMP6_ECHO:
		icmp6_echo(st, pkt);
		break;
	case ICMP6_UNREACH:
	case ICMP6_PKT_TOO_BIG:
	case ICMP6_TIME_EXCEEDED:
	case ICMP6_PARAM_PROB:
		if (pkt->l4_len >= ICMP6_HLEN)
			icmp6_error_input(st, pkt);
		break;
	case ICMP6_ND_RA:
		nd_ra_input(st, pkt);
		break;
	case ICMP6_ND_NS:
	case ICMP6_ND_NA:
	case ICMP6_ND_REDIRECT:
		nd_input(st, pkt);
		break;
	case ICMP6_MLD_QUERY:
		mld_query_input(st, pkt);
		break;
	default:
		break; /* echo replies, RS (we route nothing), reports */
	}
}
