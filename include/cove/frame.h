/* SPDX-License-Identifier: Apache-2.0 */
/* Packet buffers: fixed pools of frames, sized at start, no malloc per packet. */
#ifndef COVE_FRAME_H
#define COVE_FRAME_H

#include <stdint.h>

/*
 * Theory of operation
 *
 * A pool owns @count buffers of @buf_size bytes each, allocated once by
 * cove_frame_pool_init(). A frame is always in exactly one place: on the
 * pool's free list, or owned by one party (a link, a stack, the host). The
 * owner either hands it on (tx_burst accepts it, input takes it) or gives it
 * back with cove_frame_free(). Pools are not thread-safe: one pool is used by
 * the one thread that drives its stack and link.
 *
 * @data always points into the frame's own buffer and @len never exceeds
 * @cap - (@data - @buf). Frames carry whole Ethernet frames without FCS.
 *
 * @flags carries offload state between a link and a stack (all zero on a
 * fresh frame, so a party that knows none of them is always correct):
 *
 *  - COVE_FRAME_F_CSUM_OK, on received frames: the link vouches for the
 *    frame's TCP/UDP checksum (it verified it, or the sender was the local
 *    kernel that never computes one, and the link filled it in). A stack
 *    may skip its own check. Anything that alters the bytes clears it.
 *  - COVE_FRAME_F_CSUM_PARTIAL, on frames to send, only over a link with
 *    COVE_LINK_OFF_TX_CSUM: the IPv4 TCP/UDP checksum field holds the
 *    folded (not complemented) pseudo-header sum, length included, and the
 *    link or the device completes it over the L4 header and payload.
 *  - COVE_FRAME_F_TSO, on frames to send, only over a link with
 *    COVE_LINK_OFF_TSO4: one TCP/IPv4 segment larger than the path MTU
 *    (a TCP/IPv6 one over a link with COVE_LINK_OFF_TSO6, which also takes
 *    CSUM_PARTIAL on TCP/IPv6 frames),
 *    also CSUM_PARTIAL, that the link or device cuts into segments of
 *    @gso_size payload bytes, each with the headers repeated and sequence
 *    numbers, IP IDs, lengths and checksums fixed (FIN and PSH on the last
 *    piece only), as a NIC's TCP segmentation offload does.
 */

#define COVE_FRAME_F_CSUM_OK	  (1u << 0)
#define COVE_FRAME_F_CSUM_PARTIAL (1u << 1)
#define COVE_FRAME_F_TSO	  (1u << 2)

struct cove_frame_pool;

struct cove_frame {
	uint8_t *data;		      /* first byte of the Ethernet header */
	uint32_t len;		      /* bytes valid at @data */
	uint32_t cap;		      /* size of the buffer at @buf */
	uint8_t *buf;		      /* start of the buffer */
	struct cove_frame_pool *pool; /* where cove_frame_free() returns it */
	struct cove_frame *next;      /* free for the owner's queues */
	uint64_t ts_ns;	   /* free for the owner (e.g. delay queues) */
	uint16_t flags;	   /* COVE_FRAME_F_* */
	uint16_t gso_size; /* COVE_FRAME_F_TSO: payload per segment */
};

struct cove_frame_pool {
	struct cove_frame *frames; /* @count descriptors */
	uint8_t *mem;		   /* @count * @buf_size bytes */
	struct cove_frame *free_list;
	uint32_t count;
	uint32_t buf_size;
	uint32_t nfree;
	uint32_t low_water; /* least @nfree ever seen */
};

/* Room for a 1500-byte MTU frame plus VLAN tag, rounded to a cache line. */
#define COVE_FRAME_DEFAULT_SIZE 1536u

/**
 * cove_frame_pool_init() - allocate a pool of frames
 * @pool:	pool to initialise
 * @count:	number of frames
 * @buf_size:	bytes per frame buffer
 *
 * Return: 0, or -ENOMEM / -EINVAL.
 */
int cove_frame_pool_init(struct cove_frame_pool *pool, uint32_t count,
			 uint32_t buf_size);

/**
 * cove_frame_pool_fini() - release a pool; all frames must be back
 * @pool:	pool to release
 *
 * Return: number of frames that were still out (a leak), 0 when clean.
 */
uint32_t cove_frame_pool_fini(struct cove_frame_pool *pool);

/**
 * cove_frame_alloc() - take a frame from a pool
 * @pool:	pool
 *
 * Return: a frame with data == buf, len == 0 and no flags, or NULL when the pool is
 * empty (callers drop or retry later; never fatal).
 */
struct cove_frame *cove_frame_alloc(struct cove_frame_pool *pool);

/**
 * cove_frame_free() - give a frame back to its pool
 * @f:	frame, may be NULL
 */
void cove_frame_free(struct cove_frame *f);

/**
 * cove_frame_copy() - copy a frame's bytes into a new frame of another pool
 * @pool:	destination pool
 * @f:		source frame (unchanged, still owned by the caller)
 *
 * The copy keeps @f's flags and gso_size.
 *
 * Return: the copy, or NULL if @pool is empty or the frame does not fit.
 */
struct cove_frame *cove_frame_copy(struct cove_frame_pool *pool,
				   const struct cove_frame *f);

#endif /* COVE_FRAME_H */
