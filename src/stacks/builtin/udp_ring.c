// SPDX-License-Identifier: Apache-2.0
/* A UDP socket's receive ring: datagram records in one buffer from the memory budget. */
#include <errno.h>
#include <string.h>

#include "stacks/builtin/udp.h"

/*
 * Theory of operation
 *
 * Each socket receives into a byte ring: records of [len | addr | port |
 * payload], 4-byte aligned, never split across the ring's end (a record
 * that does not fit at the end starts at 0 and a wrap mark fills the gap).
 * Queued bytes (record sizes) are bounded by SO_RCVBUF; an empty queue
 * takes any datagram, as Linux does, which a full-sized ring's extra
 * UDP_REC_MAX bytes guarantee. The ring comes from the stack's memory
 * budget (mem.c) when the first datagram arrives, at BMEM_SOCK_MIN or what
 * that datagram needs, and doubles toward the full size (udp_ring_full())
 * when a datagram finds no room, moving the queued records to its start;
 * so a socket holds memory for what it is sent, not for its SO_RCVBUF.
 * Growth beyond the minimum is refused under memory pressure and all of
 * it at the hard limit: the datagram is dropped (counted), as Linux drops
 * what udp_mem refuses. An empty ring goes back under pressure. Nothing is
 * allocated per datagram otherwise.
 */

#define UDP_WRAP 0xffffffffu

static inline uint32_t rec_size(uint32_t len)
{
	return UDP_REC_HDR + ((len + 3u) & ~3u);
}

/**
 * udp_ring_push() - queue one datagram
 * @u:		socket with a ring
 * @meta:	its addresses and source port
 * @data:	payload, @len bytes
 *
 * Return: true when queued, false when the queue is full.
 */
static bool udp_ring_push(struct udp_sock *u, const struct udp_meta *meta,
			  const uint8_t *data, uint32_t len)
{
	uint32_t need = rec_size(len), at, free_end;
	uint8_t *r;

	if (u->nrec && u->used + need > u->rcvbuf)
		return false;
	/* physical room: [tail, end) or from 0 before head */
	if (u->tail >= u->head && u->nrec) {
		free_end = u->ring_size - u->tail;
		if (free_end >= need) {
			at = u->tail;
		} else if (u->head > need) {
			if (free_end >= 4)
				memcpy(u->ring + u->tail,
				       &(uint32_t){ UDP_WRAP }, 4);
			at = 0;
		} else {
			return false;
		}
	} else if (u->nrec) {
		if (u->head - u->tail <= need)
			return false;
		at = u->tail;
	} else {
		u->head = u->tail = 0;
		at = 0;
	}
	if (at + need > u->ring_size)
		return false;
	r = u->ring + at;
	memcpy(r, &len, 4);
	memcpy(r + 4, &meta->port, 2);
	r[6] = r[7] = 0;
	memcpy(r + 8, &meta->src, 16);
	memcpy(r + 24, &meta->dst, 16);
	memcpy(r + UDP_REC_HDR, data, len);
	u->tail = at + need;
	if (u->tail == u->ring_size)
		u->tail = 0;
	u->used += need;
	u->nrec++;
	return true;
}

/* udp_ring_full() - the ring size SO_RCVBUF allows (the most it grows to). */
uint32_t udp_ring_full(const struct udp_sock *u)
{
	return ((u->rcvbuf + 3u) & ~3u) + UDP_REC_MAX;
}

/* udp_ring_front() - the oldest record, skipping a wrap mark. */
const uint8_t *udp_ring_front(struct udp_sock *u, uint32_t *len,
			      struct udp_meta *meta)
{
	uint32_t l;

	if (!u->nrec)
		return NULL;
	if (u->ring_size - u->head < UDP_REC_HDR)
		u->head = 0;
	memcpy(&l, u->ring + u->head, 4);
	if (l == UDP_WRAP) {
		u->head = 0;
		memcpy(&l, u->ring, 4);
	}
	*len = l;
	memcpy(&meta->port, u->ring + u->head + 4, 2);
	memcpy(&meta->src, u->ring + u->head + 8, 16);
	memcpy(&meta->dst, u->ring + u->head + 24, 16);
	return u->ring + u->head + UDP_REC_HDR;
}

/*
 * udp_ring_pop() - drop the front record, whose payload is @len bytes (as
 * udp_ring_front() said). An empty ring restarts at offset 0, so the
 * next record never needs to wrap.
 */
void udp_ring_pop(struct udp_sock *u, uint32_t len)
{
	uint32_t need = rec_size(len);

	u->head += need;
	if (u->head >= u->ring_size)
		u->head = 0;
	u->used -= need;
	u->nrec--;
	if (!u->nrec)
		u->head = u->tail = 0;
}

/**
 * udp_ring_move() - move the queued records into a new ring of @size
 * @st:		stack (the budget)
 * @u:		socket
 * @size:	bytes, at least what the records the new SO_RCVBUF keeps take
 *
 * Records are copied from the start of the new ring; those the socket's
 * SO_RCVBUF no longer admits are dropped (a smaller SO_RCVBUF).
 *
 * Return: 0, or -ENOBUFS when the budget refuses (nothing changed).
 */
int udp_ring_move(struct bstack *st, struct udp_sock *u, uint32_t size)
{
	struct udp_sock tmp;
	const uint8_t *data;
	struct udp_meta meta;
	uint32_t len;

	memset(&tmp, 0, sizeof(tmp));
	tmp.rcvbuf = u->rcvbuf;
	tmp.ring = bmem_alloc(st, size,
			      size <= BMEM_SOCK_MIN ? BMEM_MIN : BMEM_GROW);
	if (!tmp.ring)
		return -ENOBUFS;
	tmp.ring_size = size;
	while ((data = udp_ring_front(u, &len, &meta)) != NULL) {
		udp_ring_push(&tmp, &meta, data, len);
		udp_ring_pop(u, len);
	}
	bmem_free(st, u->ring, u->ring_size);
	u->ring = tmp.ring;
	u->ring_size = tmp.ring_size;
	u->head = tmp.head;
	u->tail = tmp.tail;
	u->used = tmp.used;
	u->nrec = tmp.nrec;
	return 0;
}

/**
 * udp_ring_queue() - queue a datagram, growing the ring if it needs room
 * @st:		stack
 * @u:		bound socket
 * @meta:	its addresses and source port
 * @data:	payload, @len bytes
 * @len:	payload length
 *
 * Return: true when queued; false when SO_RCVBUF is full or the budget
 * refused the room (the caller drops the datagram).
 */
bool udp_ring_queue(struct bstack *st, struct udp_sock *u,
		    const struct udp_meta *meta, const uint8_t *data,
		    uint32_t len)
{
	uint32_t need = rec_size(len), full = udp_ring_full(u), size;

	if (udp_ring_push(u, meta, data, len))
		return true;
	if ((u->nrec && u->used + need > u->rcvbuf) || u->ring_size >= full)
		return false;
	size = u->ring_size ? u->ring_size * 2 : BMEM_SOCK_MIN;
	while (size < u->used + need + UDP_REC_HDR)
		size *= 2;
	if (size > full)
		size = full;
	if (udp_ring_move(st, u, size) < 0)
		return false;
	return udp_ring_push(u, meta, data, len);
}

/* udp_ring_release() - under memory pressure, give an empty ring back. */
void udp_ring_release(struct bstack *st, struct udp_sock *u)
{
	if (u->nrec || !u->ring || !bmem_pressure(st))
		return;
	bmem_free(st, u->ring, u->ring_size);
	u->ring = NULL;
	u->ring_size = u->head = u->tail = 0;
}
