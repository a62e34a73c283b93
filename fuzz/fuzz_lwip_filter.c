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
 * header fits and whose source is not our own address.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t addr, bcast, src;
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
	v = lw_filter(frame, len, addr, bcast);
	if (v == LW_PASS || v == LW_PASS_SYN) {
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
