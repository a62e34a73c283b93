// SPDX-License-Identifier: Apache-2.0
/* links_vnet_hdr(): the virtio_net_hdr for a frame's offload flags. */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "links/links.h"
#include "tests/unit/check.h"

/*
 * Frames are built by hand: Ethernet (optionally with one 802.1Q tag),
 * IPv4 with @ihl header bytes, then a TCP header of @l4h bytes or a UDP
 * header, then @pay payload bytes. Every field the function reads is set
 * on purpose; the rest is left zero.
 */

#define FRAME_CAP 4096u

static uint8_t buf[FRAME_CAP];

struct tframe {
	bool vlan;
	uint8_t proto; /* 6 or 17 */
	uint32_t ihl, l4h, pay;
	uint16_t flags, gso;
};

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* tframe_make() - build @t into @f (backed by buf); return the IP header. */
static uint8_t *tframe_make(struct cove_frame *f, const struct tframe *t)
{
	uint32_t l2 = t->vlan ? 18 : 14, l4h = t->proto == 6 ? t->l4h : 8;
	uint8_t *ip;

	memset(buf, 0, sizeof(buf));
	memset(f, 0, sizeof(*f));
	f->buf = f->data = buf;
	f->cap = FRAME_CAP;
	if (t->vlan) {
		wr16(buf + 12, 0x8100);
		wr16(buf + 14, 7);
	}
	wr16(buf + l2 - 2, 0x0800);
	ip = buf + l2;
	ip[0] = (uint8_t)(0x40 | t->ihl / 4);
	wr16(ip + 2, t->ihl + l4h + t->pay);
	wr16(ip + 6, 0x4000); /* DF: not a fragment */
	ip[8] = 64;
	ip[9] = t->proto;
	if (t->proto == 6)
		ip[t->ihl + 12] = (uint8_t)(t->l4h / 4 << 4);
	else
		wr16(ip + t->ihl + 4, 8 + t->pay);
	f->len = l2 + t->ihl + l4h + t->pay;
	f->flags = t->flags;
	f->gso_size = t->gso;
	return ip;
}

/* le_bytes() - @field (a virtio 16-bit field) is @v in little-endian bytes. */
static bool le_bytes(const void *field, uint16_t v)
{
	const uint8_t *b = field;

	return b[0] == (v & 0xff) && b[1] == v >> 8;
}

static void test_plain(void)
{
	static const struct virtio_net_hdr zero;
	struct tframe t = { .proto = 6, .ihl = 20, .l4h = 20, .pay = 100 };
	struct virtio_net_hdr vh;
	struct cove_frame f;

	tframe_make(&f, &t);
	memset(&vh, 0xa5, sizeof(vh));
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(!memcmp(&vh, &zero, sizeof(vh)));
	/* without flags nothing is looked at, not even a runt */
	f.len = 3;
	memset(&vh, 0xa5, sizeof(vh));
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(!memcmp(&vh, &zero, sizeof(vh)));
	/* CSUM_OK is a receive flag: nothing to ask of the kernel */
	tframe_make(&f, &t);
	f.flags = COVE_FRAME_F_CSUM_OK;
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(!memcmp(&vh, &zero, sizeof(vh)));
}

static void test_tcp_partial(void)
{
	struct tframe t = { .proto = 6,
			    .ihl = 20,
			    .l4h = 20,
			    .pay = 100,
			    .flags = COVE_FRAME_F_CSUM_PARTIAL };
	struct virtio_net_hdr vh;
	struct cove_frame f;

	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(vh.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	CHECK(vh.gso_size == 0);
	CHECK(le_bytes(&vh.csum_start, 34));
	CHECK(le_bytes(&vh.csum_offset, 16));
	CHECK(le_bytes(&vh.hdr_len, 54));
}

/* A super-frame with IP options and TCP options (timestamps). */
static void test_tcp_tso(void)
{
	struct tframe t = { .proto = 6,
			    .ihl = 24,
			    .l4h = 32,
			    .pay = 3 * 1436,
			    .flags = COVE_FRAME_F_TSO |
				     COVE_FRAME_F_CSUM_PARTIAL,
			    .gso = 1436 };
	struct virtio_net_hdr vh;
	struct cove_frame f;

	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK(le_bytes(&vh.gso_size, 1436));
	CHECK(le_bytes(&vh.hdr_len, 14 + 24 + 32));
	CHECK(le_bytes(&vh.csum_start, 14 + 24));
	CHECK(le_bytes(&vh.csum_offset, 16));
	/* the largest: 64 KiB of IP, a last piece shorter than the rest */
	t.ihl = 20;
	t.pay = 65535 - 20 - 32;
	t.gso = 1448;
	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(le_bytes(&vh.gso_size, 1448));
	CHECK(le16toh(vh.hdr_len) == 66);
	/* one byte more than one segment is still a super-frame */
	t.pay = 1449;
	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	/* Ethernet padding after the IP packet is allowed */
	tframe_make(&f, &t);
	f.len += 6;
	CHECK(links_vnet_hdr(&f, &vh) == 0);
}

/* tframe6() - an IPv6 TCP frame, @pay bytes after a @l4h-byte header. */
static void tframe6(struct cove_frame *f, uint8_t next, uint32_t l4h,
		    uint32_t pay, uint16_t flags, uint16_t gso)
{
	uint8_t *ip = buf + 14;

	memset(buf, 0, sizeof(buf));
	memset(f, 0, sizeof(*f));
	f->buf = f->data = buf;
	f->cap = FRAME_CAP;
	wr16(buf + 12, 0x86dd);
	ip[0] = 0x60;
	wr16(ip + 4, l4h + pay);
	ip[6] = next;
	ip[7] = 64;
	ip[40 + 12] = (uint8_t)(l4h / 4 << 4);
	f->len = 14 + 40 + l4h + pay;
	f->flags = flags;
	f->gso_size = gso;
}

/*
 * A TCP/IPv6 super-frame (the EtherType tells) gets GSO_TCPV6 and offsets
 * past the 40-byte header; one with an extension header, or truncated,
 * is refused.
 */
static void test_tcp6_tso(void)
{
	const uint16_t fl = COVE_FRAME_F_TSO | COVE_FRAME_F_CSUM_PARTIAL;
	struct virtio_net_hdr vh;
	struct cove_frame f;

	tframe6(&f, 6, 32, 3 * 1428, fl, 1428);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6);
	CHECK(le_bytes(&vh.gso_size, 1428));
	CHECK(le_bytes(&vh.hdr_len, 14 + 40 + 32));
	CHECK(le_bytes(&vh.csum_start, 14 + 40));
	CHECK(le_bytes(&vh.csum_offset, 16));
	tframe6(&f, 6, 20, 100, COVE_FRAME_F_CSUM_PARTIAL, 0);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(vh.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	tframe6(&f, 0, 20, 3000, fl, 1000); /* hop-by-hop first: refused */
	CHECK(links_vnet_hdr(&f, &vh) == -EINVAL);
	tframe6(&f, 6, 20, 3000, fl, 1000);
	f.len -= 1; /* payload length past the frame */
	CHECK(links_vnet_hdr(&f, &vh) == -EINVAL);
	tframe6(&f, 6, 20, 3000, fl, 1000);
	buf[14] = 0x40; /* version 4 behind the IPv6 EtherType */
	CHECK(links_vnet_hdr(&f, &vh) == -EINVAL);
}

static void test_udp_partial(void)
{
	struct tframe t = { .proto = 17,
			    .ihl = 20,
			    .pay = 1000,
			    .flags = COVE_FRAME_F_CSUM_PARTIAL };
	struct virtio_net_hdr vh;
	struct cove_frame f;

	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(vh.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	CHECK(le_bytes(&vh.csum_start, 34));
	CHECK(le_bytes(&vh.csum_offset, 6));
	CHECK(le_bytes(&vh.hdr_len, 42));
	/* an empty datagram has a header */
	t.pay = 0;
	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
}

static void test_vlan(void)
{
	struct tframe t = { .vlan = true,
			    .proto = 6,
			    .ihl = 28,
			    .l4h = 20,
			    .pay = 4000,
			    .flags = COVE_FRAME_F_TSO |
				     COVE_FRAME_F_CSUM_PARTIAL,
			    .gso = 1400 };
	struct virtio_net_hdr vh;
	struct cove_frame f;

	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(le_bytes(&vh.csum_start, 18 + 28));
	CHECK(le_bytes(&vh.hdr_len, 18 + 28 + 20));
	CHECK(vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4);
	t.proto = 17;
	t.flags = COVE_FRAME_F_CSUM_PARTIAL;
	t.gso = 0;
	tframe_make(&f, &t);
	CHECK(links_vnet_hdr(&f, &vh) == 0);
	CHECK(le_bytes(&vh.csum_start, 18 + 28));
	CHECK(le_bytes(&vh.csum_offset, 6));
}

/* bad() - links_vnet_hdr() refuses frame @f. */
static bool bad(const struct cove_frame *f)
{
	struct virtio_net_hdr vh;

	return links_vnet_hdr(f, &vh) == -EINVAL;
}

static void test_invalid(void)
{
	const struct tframe tcp = { .proto = 6,
				    .ihl = 20,
				    .l4h = 20,
				    .pay = 3000,
				    .flags = COVE_FRAME_F_TSO |
					     COVE_FRAME_F_CSUM_PARTIAL,
				    .gso = 1460 };
	const struct tframe udp = { .proto = 17,
				    .ihl = 20,
				    .pay = 3000,
				    .flags = COVE_FRAME_F_CSUM_PARTIAL };
	struct cove_frame f;
	struct tframe t;
	uint8_t *ip;

	/* the references are fine */
	tframe_make(&f, &tcp);
	CHECK(!bad(&f));
	tframe_make(&f, &udp);
	CHECK(!bad(&f));

	/* TSO on UDP: no UFO here */
	t = udp;
	t.flags |= COVE_FRAME_F_TSO;
	t.gso = 1472;
	tframe_make(&f, &t);
	CHECK(bad(&f));

	/* fragments: more fragments, or an offset, with or without DF */
	ip = tframe_make(&f, &tcp);
	wr16(ip + 6, 0x2000);
	CHECK(bad(&f));
	ip = tframe_make(&f, &udp);
	wr16(ip + 6, 0x4001);
	CHECK(bad(&f));

	/* not IPv4: IPv6 (untagged, tagged), ARP, a length, IP version 6 */
	tframe_make(&f, &tcp);
	wr16(buf + 12, 0x86dd);
	CHECK(bad(&f));
	t = tcp;
	t.vlan = true;
	tframe_make(&f, &t);
	wr16(buf + 16, 0x86dd);
	CHECK(bad(&f));
	tframe_make(&f, &udp);
	wr16(buf + 12, 0x0806);
	CHECK(bad(&f));
	tframe_make(&f, &udp);
	wr16(buf + 12, 0x0500); /* an 802.3 length, not a type */
	CHECK(bad(&f));
	ip = tframe_make(&f, &tcp);
	ip[0] = 0x65;
	CHECK(bad(&f));

	/* neither TCP nor UDP */
	ip = tframe_make(&f, &udp);
	ip[9] = 1;
	CHECK(bad(&f));

	/* truncated: no room for an IP header, untagged or tagged */
	tframe_make(&f, &tcp);
	f.len = 14 + 19;
	CHECK(bad(&f));
	f.len = 13;
	CHECK(bad(&f));
	t = udp;
	t.vlan = true;
	tframe_make(&f, &t);
	f.len = 18 + 19;
	CHECK(bad(&f));

	/* bad IHL: below 5 words (all else would pass), or past the packet */
	ip = tframe_make(&f, &udp);
	ip[0] = 0x44;
	CHECK(bad(&f));
	ip = tframe_make(&f, &tcp);
	ip[0] = 0x40;
	CHECK(bad(&f));
	ip[0] = 0x44;
	ip[16 + 12] = 5 << 4; /* a TCP header where IHL says */
	CHECK(bad(&f));
	ip = tframe_make(&f, &udp);
	ip[0] = 0x4f; /* 60 bytes of header */
	wr16(ip + 2, 40);
	CHECK(bad(&f));

	/* total length beyond the frame, or below the IP header */
	ip = tframe_make(&f, &tcp);
	f.len -= 1;
	CHECK(bad(&f));
	ip = tframe_make(&f, &udp);
	wr16(ip + 2, 19);
	CHECK(bad(&f));

	/* truncated TCP header: under 20 bytes, or a data offset past it */
	t = tcp;
	t.flags = COVE_FRAME_F_CSUM_PARTIAL;
	t.pay = 0;
	ip = tframe_make(&f, &t);
	wr16(ip + 2, 20 + 19);
	CHECK(bad(&f));
	ip = tframe_make(&f, &t);
	ip[20 + 12] = 6 << 4; /* data offset 24 > 20 */
	CHECK(bad(&f));
	ip = tframe_make(&f, &t);
	ip[20 + 12] = 4 << 4; /* data offset 16 < 20 */
	CHECK(bad(&f));

	/* truncated UDP header */
	t = udp;
	t.pay = 0;
	ip = tframe_make(&f, &t);
	wr16(ip + 2, 20 + 7);
	CHECK(bad(&f));

	/* TSO without a segment size, or with at most one segment */
	t = tcp;
	t.gso = 0;
	tframe_make(&f, &t);
	CHECK(bad(&f));
	t = tcp;
	t.pay = t.gso;
	tframe_make(&f, &t);
	CHECK(bad(&f));
	t.pay = 1;
	tframe_make(&f, &t);
	CHECK(bad(&f));
}

/*
 * links_csum_fixup() says whether it filled the checksum: the packet link
 * vouches (COVE_FRAME_F_CSUM_OK) only for frames it filled.
 */
static void test_fixup_result(void)
{
	struct tframe t = { .proto = 17, .ihl = 20, .pay = 100 };
	struct cove_frame f;
	uint8_t *ip;

	tframe_make(&f, &t);
	CHECK(links_csum_fixup(f.data, f.len) == 1);
	t.proto = 6;
	t.l4h = 20;
	tframe_make(&f, &t);
	CHECK(links_csum_fixup(f.data, f.len) == 1);
	t.vlan = true; /* tagged: not looked into */
	tframe_make(&f, &t);
	CHECK(links_csum_fixup(f.data, f.len) == 0);
	t.vlan = false;
	ip = tframe_make(&f, &t);
	wr16(ip + 6, 0x2000); /* a first fragment */
	CHECK(links_csum_fixup(f.data, f.len) == 0);
	tframe_make(&f, &t);
	CHECK(links_csum_fixup(f.data, 30) == 0); /* truncated */
}

int main(void)
{
	RUN(test_plain);
	RUN(test_tcp_partial);
	RUN(test_tcp_tso);
	RUN(test_tcp6_tso);
	RUN(test_udp_partial);
	RUN(test_vlan);
	RUN(test_invalid);
	RUN(test_fixup_result);
	return check_summary();
}
