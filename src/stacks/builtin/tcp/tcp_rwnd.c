// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP receive window: what to advertise, updates, ring autotuning. */
#include <stdlib.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * The receive window is rcv_adv - rcv_nxt: the right edge we last
 * advertised, which never moves left and never passes rcv_nxt + free ring
 * space (so whatever the peer may send fits the ring). tcp_rcv_window()
 * says what may be advertised now; tcp_rcv_advertise() turns it into the
 * window field of every segment tcp_xmit() builds. Receiver-side SWS
 * avoidance holds the edge until it can move by a useful step. After the application reads, tcp_window_update() sends
 * a bare ACK only when the window grew by enough to matter to the peer.
 * After in-order data arrives, tcp_rcv_rtt_measure() times the peer's
 * round trip, from which tcp_rcv_space_adjust() grows the ring.
 */

/**
 * tcp_rcv_window() - the window to advertise now, in bytes
 * @t:		connection (with or without its receive ring yet)
 * @sws:	apply receiver SWS avoidance (RFC 9293 3.8.6.2.2)
 *
 * The right edge never moves left; it moves right only by at least
 * min(ring / 2, MSS) when @sws is set.
 *
 * Return: bytes (not scaled).
 */
uint32_t tcp_rcv_window(struct tcb *t, bool sws)
{
	uint32_t size = tcp_rx_size(t);
	uint32_t free_ = size - t->rb_len;
	uint32_t cur =
		seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	uint32_t step = size / 2 < t->rcv_mss ? size / 2 : t->rcv_mss;
	uint32_t w = free_;

	if (t->wclamp && w > t->wclamp)
		w = t->wclamp;
	if (sws && w > cur && w - cur < step)
		w = cur;
	if (w < cur)
		w = cur;
	if (w > (uint32_t)65535 << t->rcv_ws)
		w = (uint32_t)65535 << t->rcv_ws;
	return w;
}

/**
 * tcp_rcv_advertise() - the window field of a segment about to be sent
 * @t:		connection
 * @flags:	TH_* of the segment
 *
 * A SYN's window is never scaled; others are shifted by rcv_ws. rcv_adv
 * moves to the edge the field advertises (set on a SYN-ACK, only ever
 * moved right after), so the window the peer sees is the one tracked.
 * Before data may flow (tcb_rx_open()) or after the rings went back, the
 * field is 0.
 *
 * Return: the 16-bit window field.
 */
uint16_t tcp_rcv_advertise(struct tcb *t, uint8_t flags)
{
	uint32_t wnd, field;

	if (flags & TH_SYN) {
		wnd = tcp_rcv_window(t, false);
		field = wnd > 65535 ? 65535 : wnd;
		if (flags & TH_ACK)
			t->rcv_adv = t->rcv_nxt + field;
	} else if (t->rx_open) {
		wnd = tcp_rcv_window(t, true);
		field = wnd >> t->rcv_ws;
		if (field > 65535)
			field = 65535;
		wnd = field << t->rcv_ws;
		if (seq_gt(t->rcv_nxt + wnd, t->rcv_adv))
			t->rcv_adv = t->rcv_nxt + wnd;
	} else {
		field = 0;
	}
	return (uint16_t)field;
}

/**
 * tcp_window_update() - after the app read: ACK if the window grew enough
 * @t:	connection
 *
 * Sends when the advertisable window passed the last advertised one by
 * two MSS or half the ring, or reopened from zero.
 */
void tcp_window_update(struct tcb *t)
{
	uint32_t cur, w;

	if (!tcp_can_send(t->state) && t->state != TCPS_FIN_WAIT2)
		return;
	cur = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	w = tcp_rcv_window(t, true);
	if (w >> t->rcv_ws == cur >> t->rcv_ws)
		return;
	if (w - cur >= 2 * t->rcv_mss || w - cur >= t->rb_size / 2 ||
	    cur < t->rcv_mss)
		tcp_send_ack(t);
}

/*
 * Receive ring autotuning, after Linux's "dynamic right-sizing": a ring
 * too small for the path caps throughput at ring / RTT however fast the
 * application reads, so it grows (never shrinks) to twice what the
 * application read in one round trip, up to rb_max (4 MiB, or the ring
 * size an application fixed with SO_RCVBUF). The round trip is the
 * receiver's own estimate: the time the peer took to send one advertised
 * window, the least seen (a sender that is not window-limited takes
 * longer, which only makes the estimate safe). The window scale of a
 * connection is chosen for rb_max, so a grown ring can be advertised.
 */

/* tcp_rcv_rtt_measure() - after in-order data: close or start a sample. */
void tcp_rcv_rtt_measure(struct tcb *t)
{
	uint64_t now = t->b.st->now_ns, s;

	if (t->rb_size >= t->rb_max)
		return;
	if (t->rrtt_ns && !seq_lt(t->rcv_nxt, t->rrtt_seq)) {
		s = now - t->rrtt_ns;
		if (s && (!t->rcv_rtt_ns || s < t->rcv_rtt_ns))
			t->rcv_rtt_ns = s;
		t->rrtt_ns = 0;
	}
	if (!t->rrtt_ns && seq_gt(t->rcv_adv, t->rcv_nxt)) {
		t->rrtt_seq = t->rcv_adv;
		t->rrtt_ns = now;
	}
}

/*
 * tcp_rb_grow() - move the receive ring into a bigger one, same layout;
 * growth is refused under memory pressure (the ring stays as it is).
 */
static void tcp_rb_grow(struct tcb *t, uint32_t size)
{
	uint8_t *nb = bmem_alloc(t->b.st, size, BMEM_GROW);

	if (!nb)
		return; /* keep the ring we have */
	/* linearised from the head: in-order and out-of-order bytes keep
	 * their offsets from rb_head, which becomes 0 */
	ring_get(t->rbuf, t->rb_size, t->rb_head, nb, t->rb_size);
	bmem_free(t->b.st, t->rbuf, t->rb_size);
	t->rbuf = nb;
	t->rb_head = 0;
	t->rb_size = size;
}

/**
 * tcp_rcv_space_adjust() - account an application read; grow the ring
 * @t:		connection
 * @copied:	bytes just read
 */
void tcp_rcv_space_adjust(struct tcb *t, uint32_t copied)
{
	uint64_t now = t->b.st->now_ns, want;
	uint32_t size;

	if (t->rb_size >= t->rb_max || !t->rbuf)
		return;
	t->rcv_space_copied += copied;
	if (!t->rcv_space_ns) {
		t->rcv_space_ns = now;
		return;
	}
	if (!t->rcv_rtt_ns || now - t->rcv_space_ns < t->rcv_rtt_ns)
		return;
	want = 2ull * t->rcv_space_copied;
	t->rcv_space_copied = 0;
	t->rcv_space_ns = now;
	if (want <= t->rb_size)
		return;
	size = t->rb_size;
	while (size < want && size < t->rb_max)
		size = size > t->rb_max / 2 ? t->rb_max : size * 2;
	tcp_rb_grow(t, size);
}
