// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the lwip provider's frame filter in front of lwIP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacks/lwip/lw.h"

/*
 * Input: 8 bytes of our address and broadcast address, one byte of IPv6
 * setup (bit 0: IPv6 on; bits 1-2: how many of the next two addresses are
 * ours), two IPv6 addresses (32 bytes), then one frame. The frame is
 * copied into a buffer of exactly its size, so ASan catches any read past
 * the end. Checks: LW_PASS only for ARP, for IPv4 whose header fits and
 * whose source is not our own address, and for IPv6 (only when on) whose
 * payload fits, whose source is neither ours nor multicast and whose
 * unicast destination is ours; LW_PASS_SYN and LW_PASS_TCP only for a TCP
 * header that lies whole inside the datagram, with the fields lw_filter()
 * returned; lw_ack_in_range() never accepts an ACK beyond SND.NXT.
 */

#define PREFIX 41u /* bytes before the frame */

/* check_tcp6() - @seg is a TCP header inside @frame's IPv6 payload. */
static void check_tcp6(const uint8_t *frame, size_t len,
		       const struct lw_tcp_seg *seg)
{
	size_t end = 54 + ((size_t)frame[18] << 8 | frame[19]);

	if (!seg->v6 || end > len || memcmp(seg->saddr6, frame + 22, 16) ||
	    memcmp(seg->daddr6, frame + 38, 16))
		__builtin_trap();
	/* the TCP header lies after the fixed header, before the end */
	if (end < 54 + 20)
		__builtin_trap();
}

/* check_ip6() - an IPv6 frame lw_filter() passed: ours, from a peer. */
static void check_ip6(const uint8_t *frame, size_t len,
		      const struct lw_addrs *me)
{
	unsigned i;

	if (!me->ip6 || len < 54 ||
	    54 + ((size_t)frame[18] << 8 | frame[19]) > len ||
	    frame[22] == 0xff)
		__builtin_trap();
	for (i = 0; i < me->n6; i++)
		if (!memcmp(frame + 22, me->a6[i], 16))
			__builtin_trap();
	if (frame[38] == 0xff)
		return;
	for (i = 0; i < me->n6; i++)
		if (!memcmp(frame + 38, me->a6[i], 16))
			return;
	__builtin_trap();
}

/* check_tcp() - @seg is the TCP header of @frame, which holds all of it. */
static void check_tcp(const uint8_t *frame, size_t len,
		      const struct lw_tcp_seg *seg)
{
	size_t th = 14 + (size_t)(frame[14] & 15) * 4;
	size_t end = 14 + ((size_t)frame[16] << 8 | frame[17]);
	uint32_t ack;

	if (frame[12] == 0x86 && frame[13] == 0xdd) {
		check_tcp6(frame, len, seg);
		return;
	}
	if (frame[23] != 6 || end > len || th + 20 > end || seg->v6)
		__builtin_trap();
	ack = (uint32_t)frame[th + 8] << 24 | (uint32_t)frame[th + 9] << 16 |
	      (uint32_t)frame[th + 10] << 8 | frame[th + 11];
	if (seg->sport != (frame[th] << 8 | frame[th + 1]) ||
	    seg->flags != frame[th + 13] || seg->ack != ack ||
	    memcmp(&seg->saddr_be, frame + 26, 4))
		__builtin_trap();
	/* una and nxt from the frame's bytes: any pair will do */
	if (lw_ack_in_range(ack, seg->seq, seg->seq + 100, ack) &&
	    (int32_t)(ack - (seg->seq + 100)) > 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_addrs me = { 0 };
	struct lw_tcp_seg seg;
	enum lw_verdict v;
	uint8_t *frame;
	uint32_t src;
	size_t len;

	if (size < PREFIX)
		return 0;
	memcpy(&me.addr_be, data, 4);
	memcpy(&me.bcast_be, data + 4, 4);
	me.ip6 = data[8] & 1;
	me.n6 = (data[8] >> 1) % 3;
	memcpy(me.a6[0], data + 9, 16);
	memcpy(me.a6[1], data + 25, 16);
	len = size - PREFIX;
	frame = malloc(len ? len : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + PREFIX, len);
	v = lw_filter(frame, len, &me, &seg);
	if (v == LW_PASS_SYN || v == LW_PASS_TCP)
		check_tcp(frame, len, &seg);
	if (v == LW_PASS || v == LW_PASS_SYN || v == LW_PASS_TCP) {
		if (len < 14)
			__builtin_trap();
		if (frame[12] == 0x08 && frame[13] == 0x00) {
			if (len < 34)
				__builtin_trap();
			memcpy(&src, frame + 26, 4);
			if (src == me.addr_be)
				__builtin_trap();
		}
		if (frame[12] == 0x86 && frame[13] == 0xdd)
			check_ip6(frame, len, &me);
	}
	free(frame);
	return 0;
}
