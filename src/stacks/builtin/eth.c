// SPDX-License-Identifier: Apache-2.0
/* Ethernet: input demultiplexing (ours, broadcast, our IPv4 and IPv6 groups; ARP, IPv4, IPv6) and framing. */
#include <string.h>

#include "stacks/builtin/core6.h"

const uint8_t eth_bcast[ETH_ALEN_] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define ETH_P_8021Q_  0x8100u
#define ETH_P_8021AD_ 0x88a8u

/**
 * eth_input() - take one received Ethernet frame
 * @st:		stack
 * @f:		frame; consumed (freed here once the upper layer returns)
 * @loop:	the frame comes from our loopback queue, not the wire
 *
 * Accepts frames to our MAC, to broadcast, to the 01:00:5e group of an
 * IPv4 group we are in (all-hosts, those sockets joined) or to the 33:33
 * group of an IPv6 group we are in (all-nodes, our solicited-node
 * groups, those sockets joined); other
 * multicast, foreign unicast and VLAN-tagged frames are dropped. Upper layers copy what they
 * keep, so the frame is freed on return.
 */
void eth_input(struct bstack *st, struct cove_frame *f, bool loop)
{
	struct pkt p = { .p = f->data, .len = f->len };
	const uint8_t *h = pkt_ptr(&p, 0, ETH_HLEN_);
	struct pkt payload;
	uint16_t type;

	st->stats.rx_frames++;
	st->stats.rx_bytes += f->len;
	if (!h) {
		st->stats.rx_malformed++;
		goto drop;
	}
	if (memcmp(h, st->mac, ETH_ALEN_) && memcmp(h, eth_bcast, ETH_ALEN_) &&
	    !ip6_mac_ok(st, h) && !igmp_mac_ok(st, h))
		goto drop; /* foreign unicast or multicast we never join */
	if (h[6] & 1) {	   /* multicast source: never legitimate */
		st->stats.rx_malformed++;
		goto drop;
	}
	type = cove_get16(h + 12);
	payload.p = f->data + ETH_HLEN_;
	payload.len = f->len - ETH_HLEN_;
	switch (type) {
	case ETH_P_ARP_:
		if (!loop)
			arp_input(st, &payload);
		break;
	case ETH_P_IP_:
		ipv4_input(st, &payload, loop, f->flags & COVE_FRAME_F_CSUM_OK);
		break;
	case ETH_P_IPV6_:
		ipv6_input(st, &payload, loop, f->flags & COVE_FRAME_F_CSUM_OK);
		break;
	default: /* VLAN tags (ETH_P_8021Q_, ETH_P_8021AD_), ... */
		goto drop;
	}
	cove_frame_free(f);
	return;
drop:
	st->stats.rx_dropped++;
	cove_frame_free(f);
}

/**
 * eth_fill() - write an Ethernet header at the start of @f's data
 * @st:		stack (source MAC)
 * @f:		frame with room for 14 bytes at f->data
 * @dst:	destination MAC, or NULL to leave it for ARP to fill
 * @type:	EtherType, host order
 */
void eth_fill(struct bstack *st, struct cove_frame *f, const uint8_t *dst,
	      uint16_t type)
{
	uint8_t *h = f->data;

	if (dst)
		memcpy(h, dst, ETH_ALEN_);
	memcpy(h + 6, st->mac, ETH_ALEN_);
	cove_put16(h + 12, type);
}
