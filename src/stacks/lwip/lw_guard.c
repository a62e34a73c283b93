// SPDX-License-Identifier: Apache-2.0
/* lwip provider: checks lwIP leaves out, on segments for its connections. */
#include <string.h>
#include <time.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "stacks/lwip/lw.h"

/*
 * Theory of operation
 *
 * lwIP 2.1 checks RST and SYN on a synchronized connection as RFC 5961
 * asks (exact RST resets, others in the window get a challenge ACK, so
 * does any SYN), without limiting those ACKs, and it does not check the
 * ACK field at all: an ACK of data it never sent, or one from long before
 * SND.UNA, only makes it send an empty ACK, and the segment's data is
 * then queued for the program anyway; a segment without ACK is taken too.
 * A blind attacker who hits the receive window therefore injects bytes
 * without knowing the send sequence space, and the real stream stalls
 * behind them. lw_guard_segment() runs between lw_filter() and lwIP for
 * every TCP segment: if lwIP holds a synchronized connection for its
 * 4-tuple, it makes lwIP's RST and SYN decisions itself (only the RST at
 * RCV.NXT passes), drops a segment without ACK (RFC 9293 3.10.7.4: "if
 * the ACK bit is off, drop the segment") and one whose ACK lies outside
 * [SND.UNA - MAX.SND.WND, SND.NXT] (RFC 5961 section 5.2). Every
 * challenge ACK this makes is limited to one per LW_CHAL_GAP_NS per
 * socket, as Linux does. No stack-wide budget exists, so no other
 * connection's traffic changes what an attacker sees on its own (the
 * side channel of CVE-2016-5696). lwIP's snd_nxt never moves back (its
 * RTO retransmits from @unacked, snd_nxt stays the highest sent), so it
 * is SND.NXT as RFC 5961 means it. A PCB the program closed has no socket
 * to keep the spacing in: its out-of-range segments are dropped silently.
 *
 * Half-open connections. lwIP makes a SYN_RCVD PCB for every SYN (its
 * backlog is compiled out and its pools are malloc-backed) and keeps it
 * until its SYN-ACK retransmissions give up or TCP_SYN_RCVD_TIMEOUT (20 s
 * since the last segment for it) ends it; the provider refuses SYNs
 * only at 2 x max_sockets live PCBs (lw_tcp_make_room()). So spoofed SYNs
 * whose sources never answer used to fill that limit and refuse every new
 * connection until they timed out. lw_guard_half_open() caps SYN_RCVD
 * PCBs at max_sockets and, at the cap, drops the oldest (no RST: its
 * source is most likely spoofed), RFC 4987 section 3.5's "recycling the
 * oldest half-open TCB". A legitimate handshake then only fails if the
 * flood replaces max_sockets half-open connections within its round trip.
 * lwIP has no SYN cookies to fall back on.
 */

#define LW_CHAL_GAP_NS 500000000ull /* per socket, as Linux's and builtin's */

/* lw_synchronized() - lwIP @state has both sequence spaces settled. */
static bool lw_synchronized(enum tcp_state state)
{
	return state == ESTABLISHED || state == FIN_WAIT_1 ||
	       state == FIN_WAIT_2 || state == CLOSE_WAIT || state == CLOSING ||
	       state == LAST_ACK;
}

/**
 * lw_seg_addrs() - @seg's source and destination as lwIP addresses
 * @seg:	as lw_filter() read it
 * @src:	its source, IPv4 or IPv6 (no zone: compare zoneless)
 * @dst:	its destination, likewise
 */
void lw_seg_addrs(const struct lw_tcp_seg *seg, ip_addr_t *src, ip_addr_t *dst)
{
	if (!seg->v6) {
		ip_addr_set_ip4_u32_val(*src, seg->saddr_be);
		ip_addr_set_ip4_u32_val(*dst, seg->daddr_be);
		return;
	}
	ip_addr_set_zero_ip6(src);
	ip_addr_set_zero_ip6(dst);
	memcpy(ip_2_ip6(src)->addr, seg->saddr6, 16);
	memcpy(ip_2_ip6(dst)->addr, seg->daddr6, 16);
}

/* lw_guard_find() - lwIP's active PCB for @seg's 4-tuple, or NULL. */
static struct tcp_pcb *lw_guard_find(const struct lw_tcp_seg *seg)
{
	struct tcp_pcb *pcb;
	ip_addr_t src, dst;

	lw_seg_addrs(seg, &src, &dst);
	for (pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		if (pcb->remote_port == seg->sport &&
		    pcb->local_port == seg->dport &&
		    ip_addr_cmp_zoneless(&pcb->remote_ip, &src))
			return pcb;
	return NULL;
}

/* lw_guard_now() - CLOCK_MONOTONIC in ns, the clock lwIP's sys_now() reads. */
static uint64_t lw_guard_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/**
 * lw_guard_challenge() - a rate-limited challenge ACK on @pcb
 * @st:		instance (stats)
 * @pcb:	a synchronized connection
 *
 * Only a PCB the host still has a socket for answers; the socket keeps
 * when the next one may go.
 */
static void lw_guard_challenge(struct cove_stack *st, struct tcp_pcb *pcb)
{
	struct cove_sock *s = pcb->callback_arg;
	uint64_t now;

	if (!s || s->type != SOCK_STREAM || s->pcb.tcp != pcb)
		return;
	now = lw_guard_now();
	if (now < s->chal_next_ns)
		return;
	s->chal_next_ns = now + LW_CHAL_GAP_NS;
	tcp_ack_now(pcb);
	if (tcp_output(pcb) == ERR_OK)
		st->stats.tcp_challenge_acks++;
}

/**
 * lw_guard_rst() - RFC 5961 section 3.2 for a RST to a synchronized @pcb
 * @st:		instance
 * @pcb:	the connection
 * @seg:	the RST
 *
 * lwIP's own check, with the challenge ACK limited.
 *
 * Return: true (pass to lwIP, which resets) only for the RST at RCV.NXT.
 */
static bool lw_guard_rst(struct cove_stack *st, struct tcp_pcb *pcb,
			 const struct lw_tcp_seg *seg)
{
	if (seg->seq == pcb->rcv_nxt)
		return true;
	if (TCP_SEQ_BETWEEN(seg->seq, pcb->rcv_nxt,
			    pcb->rcv_nxt + pcb->rcv_wnd))
		lw_guard_challenge(st, pcb);
	return false;
}

/**
 * lw_guard_segment() - may this TCP segment go to lwIP?
 * @st:		instance
 * @seg:	its header, as lw_filter() read it (LW_PASS_TCP, LW_PASS_SYN)
 *
 * Only segments for a synchronized connection lwIP holds are judged: a
 * RST passes only at RCV.NXT, a SYN never (both get a challenge ACK where
 * lwIP would have sent one: in-window RST, any SYN), a segment without ACK
 * never, one with an ACK outside RFC 5961's range never (challenge ACK).
 *
 * Return: false to drop it (the caller counts the drop).
 */
bool lw_guard_segment(struct cove_stack *st, const struct lw_tcp_seg *seg)
{
	struct tcp_pcb *pcb = lw_guard_find(seg);

	if (!pcb || !lw_synchronized(pcb->state))
		return true;
	if (seg->flags & TCP_RST)
		return lw_guard_rst(st, pcb, seg);
	if (seg->flags & TCP_SYN) {
		lw_guard_challenge(st, pcb);
		return false;
	}
	if (!(seg->flags & TCP_ACK))
		return false;
	if (lw_ack_in_range(seg->ack, pcb->lastack, pcb->snd_nxt,
			    pcb->snd_wnd_max))
		return true;
	lw_guard_challenge(st, pcb);
	return false;
}

/**
 * lw_guard_half_open() - make room for one more SYN_RCVD PCB
 * @max:	how many lwIP may hold
 *
 * At @max, the one that has waited longest for its handshake's ACK is
 * dropped without a RST (tcp_abandon(): no callback has a socket for it
 * yet).
 */
void lw_guard_half_open(unsigned max)
{
	struct tcp_pcb *pcb, *oldest = NULL;
	u32_t age, max_age = 0;
	unsigned n = 0;

	for (pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		if (pcb->state != SYN_RCVD)
			continue;
		n++;
		age = tcp_ticks - pcb->tmr;
		if (!oldest || age >= max_age) {
			oldest = pcb;
			max_age = age;
		}
	}
	if (n >= max && oldest)
		tcp_abandon(oldest, 0);
}
