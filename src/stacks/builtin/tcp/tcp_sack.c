// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP SACK: out-of-order ranges and SACK blocks; the sender scoreboard. */
#include <string.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * Receiver: t->ooo[] holds up to TCP_OOO_MAX disjoint, non-adjacent ranges
 * of bytes beyond rcv_nxt that sit in the receive ring at their offset,
 * sorted by sequence. Each carries the stamp of its last update, so SACK
 * blocks go out most recent first (RFC 2018). When rcv_nxt reaches a range
 * it is absorbed: the bytes are already in place.
 *
 * Sender: t->sacked[] holds up to TCP_SB_MAX disjoint ranges in
 * [snd_una, snd_max) the peer reported, sorted and merged; a block that
 * would need a slot when all are taken is ignored (we only lose precision).
 * RFC 6675's IsLost() is evaluated once per ACK as an edge: every unSACKed
 * byte below the edge has DupThresh ranges, or more than
 * (DupThresh - 1) * SMSS SACKed bytes, above it.
 */

/* --- receiver ----------------------------------------------------------- */

/**
 * tcp_ooo_add() - record [start, end) beyond rcv_nxt as received
 * @t:		connection
 * @start:	first byte (after rcv_nxt)
 * @end:	one past the last
 *
 * Return: false if the range needs a new slot and none is free (the caller
 * drops the segment).
 */
bool tcp_ooo_add(struct tcb *t, uint32_t start, uint32_t end)
{
	unsigned i = 0, j;

	while (i < t->nooo && seq_lt(t->ooo[i].end, start))
		i++;
	/* i: first range that ends at or after start */
	if (i == t->nooo || seq_gt(t->ooo[i].start, end)) {
		if (t->nooo == TCP_OOO_MAX)
			return false;
		memmove(&t->ooo[i + 1], &t->ooo[i],
			(t->nooo - i) * sizeof(t->ooo[0]));
		t->ooo[i].start = start;
		t->ooo[i].end = end;
		t->nooo++;
	} else {
		t->ooo[i].start = seq_min(t->ooo[i].start, start);
		t->ooo[i].end = seq_max(t->ooo[i].end, end);
		/* swallow followers the grown range now touches */
		j = i + 1;
		while (j < t->nooo && seq_le(t->ooo[j].start, t->ooo[i].end)) {
			t->ooo[i].end = seq_max(t->ooo[i].end, t->ooo[j].end);
			j++;
		}
		if (j > i + 1) {
			memmove(&t->ooo[i + 1], &t->ooo[j],
				(t->nooo - j) * sizeof(t->ooo[0]));
			t->nooo -= (uint8_t)(j - i - 1);
		}
	}
	t->ooo[i].stamp = ++t->ooo_stamp;
	return true;
}

/**
 * tcp_ooo_advance() - absorb ranges that rcv_nxt has reached
 * @t:	connection; rcv_nxt/rb_len move over the absorbed bytes
 */
void tcp_ooo_advance(struct tcb *t)
{
	unsigned n = 0;

	while (n < t->nooo && seq_le(t->ooo[n].start, t->rcv_nxt)) {
		if (seq_gt(t->ooo[n].end, t->rcv_nxt)) {
			t->rb_len += t->ooo[n].end - t->rcv_nxt;
			t->rcv_nxt = t->ooo[n].end;
		}
		n++;
	}
	if (n) {
		memmove(&t->ooo[0], &t->ooo[n],
			(t->nooo - n) * sizeof(t->ooo[0]));
		t->nooo -= (uint8_t)n;
	}
}

/**
 * tcp_sack_blocks() - the SACK blocks for our next ACK
 * @t:		connection
 * @out:	filled with up to @max ranges
 * @max:	room in @out
 *
 * Return: how many, most recently updated first.
 */
unsigned tcp_sack_blocks(struct tcb *t, struct tcp_range *out, unsigned max)
{
	uint32_t below = UINT32_MAX;
	unsigned n = 0, i, best;

	while (n < max) {
		best = TCP_OOO_MAX;
		for (i = 0; i < t->nooo; i++)
			if (t->ooo[i].stamp < below &&
			    (best == TCP_OOO_MAX ||
			     t->ooo[i].stamp > t->ooo[best].stamp))
				best = i;
		if (best == TCP_OOO_MAX)
			break;
		out[n++] = t->ooo[best];
		below = t->ooo[best].stamp;
	}
	return n;
}

/**
 * tcp_dsack_note() - a segment repeated bytes we already have: report them
 * @t:		connection
 * @start:	first repeated byte
 * @end:	one past the last
 *
 * The next ACK carries [start, end) as its first SACK block, a D-SACK
 * (RFC 2883), once. A Linux sender learns from it that a retransmission
 * was spurious: it undoes the window reduction and widens its reordering
 * window, which matters where a veth reorders a flow in flight.
 */
void tcp_dsack_note(struct tcb *t, uint32_t start, uint32_t end)
{
	if (!t->sack_ok || !seq_lt(start, end))
		return;
	t->dsack = true;
	t->dsack_blk.start = start;
	t->dsack_blk.end = end;
	t->dsack_blk.stamp = 0;
}

/* --- sender scoreboard ---------------------------------------------------- */

static void tcp_sb_recount(struct tcb *t)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i < t->nsacked; i++)
		sum += t->sacked[i].end - t->sacked[i].start;
	t->sacked_bytes = sum;
}

/* tcp_sb_insert() - merge [s, e) into the sorted scoreboard. */
static void tcp_sb_insert(struct tcb *t, uint32_t s, uint32_t e)
{
	unsigned i = 0, j;

	while (i < t->nsacked && seq_lt(t->sacked[i].end, s))
		i++;
	if (i == t->nsacked || seq_gt(t->sacked[i].start, e)) {
		if (t->nsacked == TCP_SB_MAX)
			return;
		memmove(&t->sacked[i + 1], &t->sacked[i],
			(t->nsacked - i) * sizeof(t->sacked[0]));
		t->sacked[i].start = s;
		t->sacked[i].end = e;
		t->nsacked++;
		return;
	}
	t->sacked[i].start = seq_min(t->sacked[i].start, s);
	t->sacked[i].end = seq_max(t->sacked[i].end, e);
	j = i + 1;
	while (j < t->nsacked && seq_le(t->sacked[j].start, t->sacked[i].end)) {
		t->sacked[i].end = seq_max(t->sacked[i].end, t->sacked[j].end);
		j++;
	}
	if (j > i + 1) {
		memmove(&t->sacked[i + 1], &t->sacked[j],
			(t->nsacked - j) * sizeof(t->sacked[0]));
		t->nsacked -= (uint8_t)(j - i - 1);
	}
}

/**
 * tcp_sb_update() - add the SACK blocks of an incoming ACK
 * @t:	connection
 * @o:	the segment's options; blocks outside [snd_una, snd_max) are
 *	clipped, D-SACKs (below snd_una) and nonsense ignored
 */
void tcp_sb_update(struct tcb *t, const struct tcp_opts *o)
{
	unsigned i;

	for (i = 0; i < o->nsack; i++) {
		uint32_t s = o->sack[i].start, e = o->sack[i].end;

		if (!seq_lt(s, e) || seq_le(e, t->snd_una) ||
		    seq_gt(e, t->snd_max))
			continue;
		if (seq_lt(s, t->snd_una))
			s = t->snd_una;
		tcp_sb_insert(t, s, e);
	}
	tcp_sb_recount(t);
}

/* tcp_sb_trim() - forget what snd_una has passed. */
void tcp_sb_trim(struct tcb *t)
{
	unsigned n = 0;

	while (n < t->nsacked && seq_le(t->sacked[n].end, t->snd_una))
		n++;
	if (n) {
		memmove(&t->sacked[0], &t->sacked[n],
			(t->nsacked - n) * sizeof(t->sacked[0]));
		t->nsacked -= (uint8_t)n;
	}
	if (t->nsacked && seq_lt(t->sacked[0].start, t->snd_una))
		t->sacked[0].start = t->snd_una;
	tcp_sb_recount(t);
}

void tcp_sb_clear(struct tcb *t)
{
	t->nsacked = 0;
	t->sacked_bytes = 0;
}

/**
 * tcp_sb_is_sacked() - is @seq inside a SACKed range?
 * @t:		connection
 * @seq:	sequence number
 * @end:	set to the range's end when it is
 *
 * Return: true if SACKed.
 */
bool tcp_sb_is_sacked(const struct tcb *t, uint32_t seq, uint32_t *end)
{
	unsigned i;

	for (i = 0; i < t->nsacked; i++) {
		if (seq_lt(seq, t->sacked[i].start))
			return false;
		if (seq_lt(seq, t->sacked[i].end)) {
			*end = t->sacked[i].end;
			return true;
		}
	}
	return false;
}

/**
 * tcp_sb_lost_edge() - RFC 6675 IsLost() as a boundary
 * @t:	connection
 *
 * Return: the sequence below which every unSACKed byte counts as lost
 * (snd_una when none does).
 */
uint32_t tcp_sb_lost_edge(const struct tcb *t)
{
	uint32_t bytes = 0;
	unsigned i, count = 0;

	for (i = t->nsacked; i-- > 0;) {
		bytes += t->sacked[i].end - t->sacked[i].start;
		count++;
		if (count >= TCP_DUPTHRESH ||
		    bytes > (TCP_DUPTHRESH - 1) * t->mss)
			return t->sacked[i].start;
	}
	/*
	 * The tail of the flight was SACKed and nothing new can follow to
	 * produce more duplicate ACKs: the holes below it are lost (early
	 * retransmit, RFC 5827, in SACK terms).
	 */
	if (t->nsacked && t->sacked[t->nsacked - 1].end == t->snd_max &&
	    !tcp_unsent(t))
		return t->sacked[t->nsacked - 1].start;
	return t->snd_una;
}

/* tcp_unsacked() - unSACKed bytes in [a, b). */
static uint32_t tcp_unsacked(const struct tcb *t, uint32_t a, uint32_t b)
{
	uint32_t n;
	unsigned i;

	if (!seq_lt(a, b))
		return 0;
	n = b - a;
	for (i = 0; i < t->nsacked; i++) {
		uint32_t s = seq_max(t->sacked[i].start, a);
		uint32_t e = seq_min(t->sacked[i].end, b);

		if (seq_lt(s, e))
			n -= e - s;
	}
	return n;
}

/**
 * tcp_pipe() - RFC 6675 pipe: bytes estimated in the network
 * @t:	connection in SACK recovery
 *
 * Outstanding minus SACKed minus lost-and-not-yet-retransmitted bytes
 * (those between high_rxt and the lost edge).
 *
 * Return: bytes.
 */
uint32_t tcp_pipe(const struct tcb *t)
{
	uint32_t out = t->snd_max - t->snd_una;
	uint32_t edge = tcp_sb_lost_edge(t);
	uint32_t from = seq_max(t->high_rxt, t->snd_una);
	uint32_t lost = tcp_unsacked(t, from, edge);
	uint32_t gone = t->sacked_bytes + lost;

	return out > gone ? out - gone : 0;
}

/**
 * tcp_next_seg() - RFC 6675 NextSeg(), rule 1: the next lost hole
 * @t:		connection in SACK recovery
 * @seq:	set to where to retransmit from
 * @len:	set to how much (at most one MSS, up to the next SACKed range)
 *
 * Return: true if there is a lost hole above high_rxt to retransmit.
 */
bool tcp_next_seg(struct tcb *t, uint32_t *seq, uint32_t *len)
{
	uint32_t edge = tcp_sb_lost_edge(t);
	uint32_t s = seq_max(t->high_rxt, t->snd_una), end;
	unsigned i;

	while (seq_lt(s, edge)) {
		if (tcp_sb_is_sacked(t, s, &end)) {
			s = end;
			continue;
		}
		end = seq_min(s + t->mss, t->snd_max);
		for (i = 0; i < t->nsacked; i++)
			if (seq_gt(t->sacked[i].start, s)) {
				end = seq_min(end, t->sacked[i].start);
				break;
			}
		*seq = s;
		*len = end - s;
		return *len > 0;
	}
	return false;
}
