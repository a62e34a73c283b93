// SPDX-License-Identifier: Apache-2.0
/* ICMP: echo replies, the errors a host sends (RFC 1122), error input. */
#include <string.h>
#include <sys/uio.h>

#include "stacks/builtin/core.h"

/*
 * Theory of operation
 *
 * Echo requests to our address (not to broadcasts) are answered with the
 * same identifier, sequence and data, whatever their size: reassembled
 * requests go back fragmented through ip_send_dgram().
 *
 * Errors are sent about a received packet only when RFC 1122 (3.2.2)
 * allows it: never about an ICMP error, a broadcast or multicast
 * destination, a non-initial fragment, or a source that is not a single
 * host. They quote the offending IP header and as much of its data as fits
 * in 576 bytes, and draw from a token bucket (ICMP_RATE per second, burst
 * ICMP_BURST) so that a flood cannot turn us into an amplifier.
 *
 * Received errors (destination unreachable, time exceeded, parameter
 * problem) are checked to quote a packet we could have sent, then handed
 * to the transport named in the quoted header.
 */

#define ICMP_HLEN    8u
#define ICMP_ERR_MAX (576u - IP_HLEN_ - ICMP_HLEN) /* quoted bytes */

enum {
	ICMP_ECHOREPLY = 0,
	ICMP_UNREACH = 3,
	ICMP_SOURCEQUENCH = 4,
	ICMP_ECHO = 8,
	ICMP_TIMXCEED = 11,
	ICMP_PARAMPROB = 12,
};

/* icmp_is_error() - @type is an ICMP error message (RFC 792/1122). */
static bool icmp_is_error(uint8_t type)
{
	return type == ICMP_UNREACH || type == ICMP_SOURCEQUENCH ||
	       type == 5 /* redirect */ || type == ICMP_TIMXCEED ||
	       type == ICMP_PARAMPROB;
}

/**
 * icmp_allow() - take one token from the error bucket
 * @st:	stack
 *
 * Return: true when an error may be sent now.
 */
bool icmp_allow(struct bstack *st)
{
	struct icmp_bucket *b = ipv4_icmp_bucket(st);
	const uint64_t per = 1000000000ull / ICMP_RATE;
	uint64_t add;

	if (st->now_ns > b->stamp_ns) {
		add = (st->now_ns - b->stamp_ns) / per;
		if (add) {
			b->tokens =
				add >= ICMP_BURST ?
					ICMP_BURST :
					(uint32_t)(b->tokens + add >
								   ICMP_BURST ?
							   ICMP_BURST :
							   b->tokens + add);
			b->stamp_ns += add * per;
		}
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

/**
 * icmp_send_error() - send an ICMP error about a received packet
 * @st:		stack
 * @pkt:	the packet (its header and data are quoted)
 * @type:	ICMP type (3, 11, 12)
 * @code:	ICMP code
 * @info:	the 32-bit field after the checksum, host order (next-hop MTU
 *		for "fragmentation needed", pointer for parameter problems)
 *
 * Silently does nothing where RFC 1122 forbids an error or the rate limit
 * is exhausted.
 */
void icmp_send_error(struct bstack *st, const struct ip_pkt *pkt, uint8_t type,
		     uint8_t code, uint32_t info)
{
	uint8_t hdr[ICMP_HLEN];
	struct iovec iov[2];
	uint32_t quote, sum;
	uint16_t ck;

	if (ip_is_bcast(st, pkt->dst) || ip_martian(st, pkt->dst) ||
	    ip_is_bcast(st, pkt->src) ||
	    (ip_martian(st, pkt->src) && !ip_is_local(st, pkt->src)))
		return;
	if (pkt->ip_hdr_len < IP_HLEN_ ||
	    (cove_get16(pkt->ip_hdr + 6) & IP_OFFMASK))
		return;
	if (pkt->proto == IP_PROTO_ICMP &&
	    (pkt->l4_len < 1 || icmp_is_error(pkt->l4[0])))
		return;
	if (!icmp_allow(st))
		return;
	quote = pkt->l4_len;
	if (quote > ICMP_ERR_MAX - pkt->ip_hdr_len)
		quote = ICMP_ERR_MAX - pkt->ip_hdr_len;
	hdr[0] = type;
	hdr[1] = code;
	hdr[2] = hdr[3] = 0;
	hdr[4] = (uint8_t)(info >> 24);
	hdr[5] = (uint8_t)(info >> 16);
	hdr[6] = (uint8_t)(info >> 8);
	hdr[7] = (uint8_t)info;
	/* header and quoted IP header are even-sized: sums chain */
	sum = cove_csum_partial(hdr, sizeof(hdr), 0);
	sum = cove_csum_partial(pkt->ip_hdr, pkt->ip_hdr_len, sum);
	sum = cove_csum_partial(pkt->l4, quote, sum);
	ck = cove_csum_fold(sum);
	memcpy(hdr + 2, &ck, 2);
	iov[0].iov_base = (void *)pkt->ip_hdr;
	iov[0].iov_len = pkt->ip_hdr_len;
	iov[1].iov_base = (void *)pkt->l4;
	iov[1].iov_len = quote;
	if (!ip_send_dgram(st, ip_is_local(st, pkt->dst) ? pkt->dst : st->addr,
			   pkt->src, IP_PROTO_ICMP, 0, 0, hdr, sizeof(hdr), iov,
			   2, IP_CSUM_NONE, 0))
		st->stats.icmp_out++;
}

/* icmp_echo() - answer an echo request with the same id, seq and data. */
static void icmp_echo(struct bstack *st, const struct ip_pkt *pkt)
{
	uint8_t hdr[ICMP_HLEN];
	struct iovec iov;
	uint32_t sum;
	uint16_t ck;

	if (!ip_is_local(st, pkt->dst))
		return; /* broadcast pings are ignored, like Linux */
	memcpy(hdr, pkt->l4, ICMP_HLEN);
	hdr[0] = ICMP_ECHOREPLY;
	hdr[1] = 0;
	hdr[2] = hdr[3] = 0;
	sum = cove_csum_partial(hdr, ICMP_HLEN, 0);
	sum = cove_csum_partial(pkt->l4 + ICMP_HLEN, pkt->l4_len - ICMP_HLEN,
				sum);
	ck = cove_csum_fold(sum);
	memcpy(hdr + 2, &ck, 2);
	iov.iov_base = (void *)(pkt->l4 + ICMP_HLEN);
	iov.iov_len = pkt->l4_len - ICMP_HLEN;
	if (!ip_send_dgram(st, pkt->dst, pkt->src, IP_PROTO_ICMP, pkt->tos, 0,
			   hdr, ICMP_HLEN, &iov, 1, IP_CSUM_NONE, 0))
		st->stats.icmp_out++;
}

/* icmp_error_input() - check a received error and pass it to its transport. */
static void icmp_error_input(struct bstack *st, const struct ip_pkt *pkt)
{
	struct pkt in = { .p = pkt->l4 + ICMP_HLEN,
			  .len = pkt->l4_len - ICMP_HLEN };
	const uint8_t *ih = pkt_ptr(&in, 0, IP_HLEN_);
	uint32_t ihl;

	if (!ih || (ih[0] >> 4) != 4 || (ih[0] & 15) < 5)
		goto malformed;
	ihl = (ih[0] & 15) * 4u;
	if (!pkt_ptr(&in, 0, ihl + 8))
		goto malformed;
	if (!ip_is_local(st, rd32n(ih + 12)))
		goto drop; /* not about a packet of ours */
	if (cove_get16(ih + 6) & IP_OFFMASK)
		goto drop; /* no transport header quoted */
	switch (ih[9]) {
	case IP_PROTO_TCP:
		tcp_icmp_error(st, pkt->l4[0], pkt->l4[1], in.p, in.len);
		break;
	case IP_PROTO_UDP:
		udp_icmp_error(st, pkt->l4[0], pkt->l4[1], in.p, in.len);
		break;
	default:
		break;
	}
	return;
malformed:
	st->stats.rx_malformed++;
drop:
	st->stats.rx_dropped++;
}

/**
 * icmp_layer_input() - handle a received ICMP message
 * @st:		stack
 * @pkt:	the packet (whole, possibly reassembled)
 */
void icmp_layer_input(struct bstack *st, const struct ip_pkt *pkt)
{
	if (pkt->l4_len < ICMP_HLEN) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return;
	}
	if (cove_csum_fold(cove_csum_partial(pkt->l4, pkt->l4_len, 0))) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	st->stats.icmp_in++;
	switch (pkt->l4[0]) {
	case ICMP_ECHO:
		icmp_echo(st, pkt);
		break;
	case ICMP_UNREACH:
	case ICMP_TIMXCEED:
	case ICMP_PARAMPROB:
		icmp_error_input(st, pkt);
		break;
	default:
		break; /* echo replies, source quench, redirects: ignored */
	}
}
