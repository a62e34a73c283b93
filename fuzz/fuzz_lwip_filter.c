// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the lwip provider's frame filter in front of lwIP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacks/lwip/lw.h"

/*
 * Input: 8 bytes of our address and broadcast address, then one frame.
 * The frame is copied into a buffer of exactly its size, so ASan catches
 * any read past the end. Checks: LW_PASS only for ARP and for IPv4 whose
 * header fits and whose source is not our own address; LW_PASS_SYN and
 * LW_PASS_TCP only for a TCP header that lies whole inside the datagram,
 * with the fields lw_filter() returned; lw_ack_in_range() never accepts
 * an ACK beyond SND.NXT.
 */

/* check_tcp() - @seg is the TCP header of @frame, which holds all of it. */
static void check_tcp(const uint8_t *frame, size_t len,
		      const struct lw_tcp_seg *seg)
{
	size_t th = 14 + (size_t)(frame[14] & 15) * 4;
	size_t end = 14 + ((size_t)frame[16] << 8 | frame[17]);
	uint32_t ack;

	if (frame[23] != 6 || end > len || th + 20 > end)
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
	uint32_t addr, bcast, src;
	struct lw_tcp_seg seg;
	enum lw_verdict v;
	uint8_t *frame;
	size_t len;

	if (size < 8)
		return 0;
	memcpy(&addr, data, 4);
	memcpy(&bcast, data + 4, 4);
	len = size - 8;
	frame = malloc(len ? len : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 8, len);
	v = lw_filter(frame, len, addr, bcast, &seg);
	if (v == LW_PASS_SYN || v == LW_PASS_TCP)
		check_tcp(frame, len, &seg);
	if (v == LW_PASS || v == LW_PASS_SYN || v == LW_PASS_TCP) {
		if (len < 14)
			__builtin_trap();
		if (frame[12] == 0x08 && frame[13] == 0x00) {
			if (len < 34)
				__builtin_trap();
			memcpy(&src, frame + 26, 4);
			if (src == addr)
				__builtin_trap();
		}
	}
	free(frame);
	return 0;
}
