// SPDX-License-Identifier: Apache-2.0
/* virtio_net_hdr for frames with checksum or segmentation offload flags. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "links/links.h"

/*
 * Theory of operation
 *
 * AF_PACKET with PACKET_VNET_HDR (and TAP with IFF_VNET_HDR) take a
 * struct virtio_net_hdr in front of every frame they send. It tells the
 * kernel where the L4 checksum starts and sits (NEEDS_CSUM) and, for a
 * TCP super-frame, the segment size and header length (GSO_TCPV4); the
 * kernel then treats the frame like one its own TCP built for a TSO device.
 * The stack's flags say what it wants; the header offsets come from the
 * frame itself, checked here, because the kernel must never be handed
 * offsets that point outside the frame. The legacy header's 16-bit fields
 * are little-endian on every host that has no VIRTIO_F_VERSION_1 talk.
 */

int links_vnet_hdr(const struct cove_frame *f, struct virtio_net_hdr *vh)
{
	uint32_t l2 = LINKS_ETH_HLEN, ihl, tot, l4h, proto;
	const uint8_t *d = f->data, *ip;

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
	if (d[l2 - 2] != 0x08 || d[l2 - 1] != 0x00)
		return -EINVAL;
	ip = d + l2;
	ihl = (uint32_t)(ip[0] & 15) * 4;
	tot = cove_get16(ip + 2);
	proto = ip[9];
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > f->len - l2 ||
	    (cove_get16(ip + 6) & 0x3fff))
		return -EINVAL;
	if (proto == 6) {
		if (tot - ihl < 20)
			return -EINVAL;
		l4h = (uint32_t)(ip[ihl + 12] >> 4) * 4;
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
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = htole16(f->gso_size);
	}
	return 0;
}
