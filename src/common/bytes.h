/* SPDX-License-Identifier: Apache-2.0 */
/* Big-endian loads and stores at any alignment: Cove's one copy of them. */
#ifndef COVE_COMMON_BYTES_H
#define COVE_COMMON_BYTES_H

#include <stdint.h>

/*
 * Theory of operation
 *
 * Wire formats (Ethernet, IPv4, TCP, UDP, ttrpc frames) store integers
 * big-endian at offsets that need not be aligned. These helpers go byte by
 * byte, so they never make an unaligned access and give the same result on
 * any host; compilers turn them into one load or store plus a byte swap.
 * They check no length: the caller has already made sure that the 2 or 4
 * bytes are inside its buffer (for untrusted packets, through a bounded
 * accessor such as the builtin stack's pkt_ptr()).
 */

/* cove_get16() - the big-endian 16-bit value at @p */
static inline uint16_t cove_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* cove_get32() - the big-endian 32-bit value at @p */
static inline uint32_t cove_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* cove_put16() - store @v big-endian at @p */
static inline void cove_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* cove_put32() - store @v big-endian at @p */
static inline void cove_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif /* COVE_COMMON_BYTES_H */
