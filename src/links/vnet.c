// SPDX-License-Identifier: Apache-2.0
/* virtio_net_hdr for frames with checksum or segmentation offload flags. */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/bytes.h"
#include "links/links.h"

/*
 * Theory of operation
 *
 * AF_PACKET with PACKET_VNET_HDR (and TAP with IFF_VNET_HDR) take a
 * struct virtio_net_hdr in front of every frame they send. It tells the
 * kernel where the L4 checksum starts and sits (NEEDS_CSUM) and, for a
 * TCP super-frame, the segment size and header length (GSO_TCPV4, or
 * GSO_TCPV6 when the EtherType says IPv6: the frame is its own witness, no
 * flag needed); the kernel then treats the frame like one its own TCP
 * built for a TSO device.
 * The stack's flags say what it wants; the header offsets come from the
 * frame itself, checked here, because the kernel must never be handed
 * offsets that point outside the frame. The legacy header's 16-bit fields
 * are little-endian on every host that has no VIRTIO_F_VERSION_1 talk.
 */

/*
 * vnet_l3() - the network header of @f at @l2 (EtherType checked): its
 * length (@ihl), the bytes it and its payload take (@tot) and the
 * transport protocol. IPv4 without fragments; IPv6 with no extension
 * header (the builtin stack sends none on TCP or UDP).
 *
 * Return: 0, or -EINVAL when the header is not one of those or does not
 * fit the frame.
 */
static int vnet_l3(const struct cove_frame *f, uint32_t l2, uint32_t *ihl,
		   uint32_t *tot, uint32_t *proto, bool *v6)
{
	const uint8_t *d = f->data, *ip = d + l2;

	*v6 = d[l2 - 2] == 0x86 && d[l2 - 1] == 0xdd;
	if (*v6) {
		if (f->len < l2 + 40 || (ip[0] >> 4) != 6)
			return -EINVAL;
		*ihl = 40;
		*tot = 40 + cove_get16(ip + 4);
		*proto = ip[6];
		return *tot > f->len - l2 ? -EINVAL : 0;
	}
	if (d[l2 - 2] != 0x08 || d[l2 - 1] != 0x00)
		return -EINVAL;
	*ihl = (uint32_t)(ip[0] & 15) * 4;
	*tot = cove_get16(ip + 2);
	*proto = ip[9];
	if ((ip[0] >> 4) != 4 || *ihl < 20 || *tot < *ihl ||
	    *tot > f->len - l2 || (cove_get16(ip + 6) & 0x3fff))
		return -EINVAL;
	return 0;
}

int links_vnet_hdr(const struct cove_frame *f, struct virtio_net_hdr *vh)
{
	uint32_t l2 = LINKS_ETH_HLEN, ihl, tot, l4h, proto;
	const uint8_t *d = f->data;
	bool v6;

	memset(vh, 0, sizeof(*vh));
	if (!(f->flags & (COVE_FRAME_F_CSUM_PARTIAL | COVE_FRAME_F_TSO)))
		return 0;
	if (f->len < l2 + 20)
		return -EINVAL;
	if (d[12] == 0x81 && d[13] == 0x00) {
		l2 = LINKS_ETH_VLAN_HLEN;
		if (f->len < l2 + 20)
			return -EINVAL;
	}
	if (vnet_l3(f, l2, &ihl, &tot, &proto, &v6) < 0)
		return -EINVAL;
	if (proto == 6) {
		if (tot - ihl < 20)
			return -EINVAL;
		l4h = (uint32_t)(d[l2 + ihl + 12] >> 4) * 4;
		if (l4h < 20 || l4h > tot - ihl)
			return -EINVAL;
		vh->csum_offset = htole16(16);
	} else if (proto == 17 && !(f->flags & COVE_FRAME_F_TSO)) {
		if (tot - ihl < 8)
			return -EINVAL;
		l4h = 8;
		vh->csum_offset = htole16(6);
	} else {
		return -EINVAL;
	}
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = htole16((uint16_t)(l2 + ihl));
	vh->hdr_len = htole16((uint16_t)(l2 + ihl + l4h));
	if (f->flags & COVE_FRAME_F_TSO) {
		if (!f->gso_size || tot - ihl - l4h <= f->gso_size)
			return -EINVAL; /* one segment: not a GSO frame */
		vh->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
				    VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = htole16(f->gso_size);
	}
	return 0;
}
