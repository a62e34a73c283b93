// SPDX-License-Identifier: Apache-2.0
/* TCP over IPv6, until it exists: segments are counted and dropped. */
#include "stacks/builtin/ip6.h"

/*
 * A placeholder that the b6tcp branch (TCP ported to IPv6) replaces: the
 * IPv6 network layer (ipv6.c, icmp6.c) hands TCP segments and ICMPv6
 * errors to these two entry points of ip6.h, and until TCP implements
 * them a segment is dropped and counted as such (rx_dropped; no RST is
 * sent, so a peer sees a black hole, not a refusal) and an error is
 * ignored. Built from ../meson.build, not tcp/meson.build, so that the
 * merge of b6tcp removes it in one place.
 */

void tcp_layer_input6(struct bstack *st, const struct ip6_pkt *pkt)
{
	(void)pkt;
	st->stats.rx_dropped++;
}

void tcp_icmp6_error(struct bstack *st, uint8_t type, uint8_t code,
		     uint32_t info, const uint8_t *inner, uint32_t inner_len)
{
	(void)st;
	(void)type;
	(void)code;
	(void)info;
	(void)inner;
	(void)inner_len;
}
