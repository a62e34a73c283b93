/* SPDX-License-Identifier: Apache-2.0 */
/* Internet checksum (RFC 1071): one implementation for stacks and links. */
#ifndef COVE_COMMON_CSUM_H
#define COVE_COMMON_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Theory of operation
 *
 * Sums are taken over 16-bit words in memory order, so the folded result
 * is stored with memcpy() (or as a big-endian field) without byte swapping,
 * on any host. A running sum is an unfolded 32-bit value; partial sums
 * chain only at even offsets. Addresses are passed in network order, as
 * they sit in the IPv4 header.
 */

/**
 * cove_csum_partial() - add @len bytes at @buf to a running 32-bit sum
 * @buf:	bytes (any alignment)
 * @len:	count; an odd trailing byte is padded with zero
 * @sum:	sum so far (0 to start)
 *
 * Return: the new unfolded sum.
 */
uint32_t cove_csum_partial(const void *buf, size_t len, uint32_t sum);

/**
 * cove_csum_fold() - fold a 32-bit sum to 16 bits and complement it
 * @sum:	unfolded sum
 *
 * Return: the checksum to store; 0 when verifying bytes that carry a
 * correct checksum.
 */
uint16_t cove_csum_fold(uint32_t sum);

/**
 * cove_csum_l4() - TCP/UDP checksum including the IPv4 pseudo-header
 * @src:	source address, network order
 * @dst:	destination address, network order
 * @proto:	IP protocol number
 * @l4:		transport header and payload
 * @len:	bytes at @l4
 *
 * Return: the checksum to store (memory order); 0 when verifying a segment
 * whose checksum field is correct.
 */
uint16_t cove_csum_l4(uint32_t src, uint32_t dst, uint8_t proto, const void *l4,
		      uint32_t len);

/**
 * cove_csum_pseudo() - the folded, uncomplemented pseudo-header sum
 * @src:	source address, network order
 * @dst:	destination address, network order
 * @proto:	IP protocol number
 * @len:	transport bytes
 *
 * This is what a COVE_FRAME_F_CSUM_PARTIAL frame carries in its checksum
 * field, for the device (or links_csum_partial()) to complete.
 *
 * Return: the sum, memory order.
 */
uint16_t cove_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			  uint32_t len);

#endif /* COVE_COMMON_CSUM_H */
