// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP output: segments, options, the send loop, RST replies. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * tcp_xmit() builds one segment from the tcb into a frame from ip_alloc()
 * (ip6_alloc() for an IPv6 peer, see tcp_alloc()):
 * header, options (MSS/SACK-permitted/timestamps/window scale on SYNs;
 * timestamps and SACK blocks after), payload copied from the send ring at
 * offset seq - sb_seq, checksum, ip_send(). Every segment but the first SYN
 * carries ACK and our current window, so sending anything clears a pending
 * delayed ACK. When the link has TSO, a run of full segments (up to 64 KiB)
 * goes out as one super-frame from the stack's TSO pool that the link cuts
 * into MSS-sized segments, and when it completes checksums the stack only
 * writes the pseudo-header sum: per-segment costs then fall on the link,
 * as with a NIC (falling back to MTU frames when the TSO pool is empty).
 *
 * tcp_send_queued() is the one send loop: in SACK recovery it spends
 * cwnd - pipe on RFC 6675 NextSeg() holes first and new data second;
 * otherwise it sends from snd_nxt (which an RTO pulls back to snd_una:
 * go-back-N that skips ranges the peer SACKed) while flight < cwnd and the
 * peer's window allows, with Nagle, cork and sender-side SWS avoidance;
 * a span cut by the congestion or peer window ends on a segment boundary.
 * When the pool is empty the tcb goes on ctx->out_list and a 1 ms timer
 * calls the loop again: nothing is lost, only delayed.
 */

static uint32_t tcp_tsval(const struct tcb *t)
{
	return (uint32_t)(tcp_now(t) / 1000000ull) + t->ts_off;
}

/*
 * tcp_our_mss() - the MSS we announce to @peer: the link MTU minus the IP
 * and TCP headers (40 bytes over IPv4, 60 over IPv6).
 */
uint16_t tcp_our_mss(const struct bstack *st, const struct in6_addr *peer)
{
	uint32_t mtu = st->mtu ? st->mtu : 1500;
	uint32_t hdrs = tcp_v6(peer) ? 60 : 40;

	return (uint16_t)(mtu > hdrs + 88 ? mtu - hdrs : 88);
}

/**
 * tcp_syn_opts() - write the options of a SYN or SYN-ACK
 * @o:	room for TCP_OPT_MAX bytes
 * @so:	what to announce
 *
 * The layout is fixed (MSS, SACK-permitted or two NOPs, timestamps,
 * NOP and window scale): at most 20 bytes, a multiple of 4 when all are
 * there.
 *
 * Return: the bytes written.
 */
unsigned tcp_syn_opts(uint8_t *o, const struct tcp_synopt *so)
{
	unsigned n = 0;

	o[n++] = 2;
	o[n++] = 4;
	cove_put16(o + n, so->mss);
	n += 2;
	if (so->sack) {
		o[n++] = 4;
		o[n++] = 2;
	} else {
		o[n++] = 1;
		o[n++] = 1;
	}
	if (so->ts) {
		o[n++] = 8;
		o[n++] = 10;
		cove_put32(o + n, so->tsval);
		cove_put32(o + n + 4, so->tsecr);
		n += 8;
	}
	if (so->ws) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = so->wscale;
	}
	return n;
}

/* tcp_write_opts() - options for a segment with @flags; returns their size. */
static unsigned tcp_write_opts(struct tcb *t, uint8_t *o, uint8_t flags,
			       bool data)
{
	unsigned n = 0, nb, i, max;
	struct tcp_range blk[4];

	if (flags & TH_SYN) {
		bool synack = flags & TH_ACK;
		struct tcp_synopt so = {
			.mss = tcp_our_mss(t->b.st, &t->raddr),
			.sack = !synack || t->sack_ok,
			.ts = !synack || t->ts_ok,
			.ws = !synack || t->ws_ok,
			.wscale = t->rcv_ws,
			.tsval = tcp_tsval(t),
			.tsecr = synack ? t->ts_recent : 0,
		};

		return tcp_syn_opts(o, &so);
	}
	if (t->ts_ok) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 8;
		o[n++] = 10;
		cove_put32(o + n, tcp_tsval(t));
		cove_put32(o + n + 4, t->ts_recent);
		n += 8;
	}
	if (t->sack_ok && (t->nooo || t->dsack) && !(flags & TH_RST)) {
		max = t->ts_ok ? 3 : 4;
		if (data)
			max = 1; /* keep data segments near full size */
		nb = 0;
		if (t->dsack) {
			blk[nb++] = t->dsack_blk; /* first (RFC 2883) */
			t->dsack = false;
		}
		nb += tcp_sack_blocks(t, blk + nb, max - nb);
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 5;
		o[n++] = (uint8_t)(2 + 8 * nb);
		for (i = 0; i < nb; i++) {
			cove_put32(o + n, blk[i].start);
			cove_put32(o + n + 4, blk[i].end);
			n += 8;
		}
	}
	return n;
}

/**
 * tcp_hdr() - write a TCP header at @h
 * @h:		destination (room for 20 bytes)
 * @sport:	host order
 * @dport:	host order
 * @seq:	sequence number
 * @ack:	acknowledgment number
 * @flags:	TH_*
 * @wnd:	window field
 * @optlen:	option bytes that follow (multiple of 4)
 */
static void tcp_hdr(uint8_t *h, uint16_t sport, uint16_t dport, uint32_t seq,
		    uint32_t ack, uint8_t flags, uint16_t wnd, unsigned optlen)
{
	cove_put16(h, sport);
	cove_put16(h + 2, dport);
	cove_put32(h + 4, seq);
	cove_put32(h + 8, ack);
	h[12] = (uint8_t)(((TCP_HLEN + optlen) / 4) << 4);
	h[13] = flags;
	cove_put16(h + 14, wnd);
	h[16] = h[17] = 0;
	h[18] = h[19] = 0;
}

/*
 * The family switch of the send path: a frame is allocated for the family
 * of its destination (the transport header sits 20 bytes further in for
 * IPv6), checksummed over that family's pseudo-header and handed to
 * ip_send() or ip6_send(). Everything above works on mapped addresses.
 */

/* tcp_alloc() - a frame for a segment to @dst (tcp_l4() is its header). */
static struct cove_frame *tcp_alloc(struct bstack *st,
				    const struct in6_addr *dst, uint32_t *room)
{
	return tcp_v6(dst) ? ip6_alloc(st, room) : ip_alloc(st, room);
}

/* tcp_alloc_tso() - a TSO super-frame for segments to @dst. */
static struct cove_frame *
tcp_alloc_tso(struct bstack *st, const struct in6_addr *dst, uint32_t *room)
{
	return tcp_v6(dst) ? ip6_alloc_tso(st, room) : ip_alloc_tso(st, room);
}

/*
 * tcp_link_csum() - does the link complete checksums (and take TSO, when
 * it has it) of TCP segments to @dst? IPv6 ones only with
 * COVE_LINK_OFF_TSO6.
 */
static bool tcp_link_csum(const struct bstack *st, const struct in6_addr *dst)
{
	if (!st->tx_csum)
		return false;
	return !tcp_v6(dst) || (st->link->offloads & COVE_LINK_OFF_TSO6);
}

/* tcp_l4() - where the TCP header goes in a frame from tcp_alloc(). */
static uint8_t *tcp_l4(struct cove_frame *f, const struct in6_addr *dst)
{
	return tcp_v6(dst) ? ip6_l4(f) : ip_l4(f);
}

/*
 * tcp_send_frame() - checksum (or leave it to the link) and hand to IP.
 * @src, @dst: the addresses, both of one family (IPv4 mapped).
 * @tos: IP TOS or IPv6 traffic class; @ttl: IP TTL or hop limit, 0 for
 * the default.
 * @segs: segments the frame stands for (a TSO frame is cut by the link).
 */
static int tcp_send_frame(struct bstack *st, struct cove_frame *f,
			  const struct in6_addr *src,
			  const struct in6_addr *dst, uint32_t len, uint8_t tos,
			  uint8_t ttl, uint32_t segs)
{
	bool partial = f->flags & COVE_FRAME_F_CSUM_PARTIAL;
	uint8_t *h = tcp_l4(f, dst);
	uint32_t s4, d4;
	uint16_t c;
	int ret;

	st->stats.tcp_out_segs += segs;
	if (tcp_v6(dst)) {
		c = partial ? (uint16_t)~cove_csum_fold(
				      ip6_pseudo(src, dst, IPPROTO_TCP, len)) :
			      ip6_csum(src, dst, IPPROTO_TCP, h, len);
		memcpy(h + 16, &c, 2);
		ret = ip6_send(st, f, src, dst, IPPROTO_TCP, len, tos, ttl,
			       segs);
		/* no route: what ip_send() says for it, so callers see one */
		return ret == -ENETUNREACH ? -EHOSTUNREACH : ret;
	}
	s4 = ipx_v4(src);
	d4 = ipx_v4(dst);
	c = partial ? cove_csum_pseudo(s4, d4, IPPROTO_TCP, len) :
		      cove_csum_l4(s4, d4, IPPROTO_TCP, h, len);
	memcpy(h + 16, &c, 2);
	return ip_send(st, f, s4, d4, IPPROTO_TCP, len, tos, ttl, segs);
}

/*
 * tcp_frame() - a frame for @len payload bytes after @optlen option bytes
 * @len:	in: bytes wanted; out: bytes that fit
 * @segs:	set to the segments the frame will carry
 *
 * More than one segment's worth goes into one TSO frame when the link
 * takes them and the peer is not ourselves (the loopback path has no
 * link to cut it); otherwise one MSS-sized segment (SYN and RST included).
 * Checksums are left to a link that completes them, and skipped for
 * ourselves (loopback input trusts them).
 */
static struct cove_frame *tcp_frame(struct tcb *t, unsigned optlen,
				    uint8_t flags, uint32_t *len,
				    uint32_t *segs)
{
	struct bstack *st = t->b.st;
	uint32_t seg = t->smss > optlen ? t->smss - optlen : 0, room, fit;
	bool local = tcp_addr_local(st, &t->raddr);
	bool csum = tcp_link_csum(st, &t->raddr);
	struct cove_frame *f = NULL;

	*segs = 1;
	if (*len > seg && seg && !local && csum && !(flags & (TH_SYN | TH_RST)))
		f = tcp_alloc_tso(st, &t->raddr, &room);
	if (f) {
		fit = (room - TCP_HLEN - optlen) / seg * seg;
		if (*len > fit)
			*len = fit;
		if (*len > seg) {
			f->flags = COVE_FRAME_F_TSO | COVE_FRAME_F_CSUM_PARTIAL;
			f->gso_size = (uint16_t)seg;
			*segs = (*len + seg - 1) / seg;
		} else {
			f->flags = COVE_FRAME_F_CSUM_PARTIAL;
		}
		return f;
	}
	if (*len > seg && seg)
		*len = seg;
	f = tcp_alloc(st, &t->raddr, &room);
	if (!f)
		return NULL;
	if (room < TCP_HLEN + optlen) {
		cove_frame_free(f);
		return NULL;
	}
	if (*len > room - TCP_HLEN - optlen)
		*len = room - TCP_HLEN - optlen;
	if (csum || local)
		f->flags = COVE_FRAME_F_CSUM_PARTIAL;
	return f;
}

/*
 * tcp_xmit_too_big() - IPv6 refused a segment above the path MTU: another
 * connection's Packet Too Big lowered it for this destination too. The
 * segment size is derived again; if it shrank, the caller is told
 * -ENOBUFS (nothing sent, retried from the 1 ms timer in the new size),
 * else @err stands.
 */
static int tcp_xmit_too_big(struct tcb *t, int err)
{
	uint32_t old = t->smss;

	if (!tcp_v6(&t->raddr))
		return err;
	tcp_set_mss(t, t->peer_mss);
	return t->smss < old ? -ENOBUFS : err;
}

/**
 * tcp_xmit() - build and send one segment of connection @t
 * @t:		connection
 * @seq:	sequence number of the first byte (of SYN or data)
 * @len:	payload bytes wanted, taken from the send ring at seq
 * @flags:	TH_* (ACK is added once synchronized)
 * @sent:	set to the payload bytes actually sent (options, the MSS or
 *		a TSO frame's size may trim)
 *
 * Over a link with TSO, @len may span many segments: they leave as one
 * frame that the link cuts (see tcp_frame()).
 *
 * Return: 0, -ENOBUFS (no frame or queue full: nothing was sent) or
 * ip_send()'s error.
 */
int tcp_xmit(struct tcb *t, uint32_t seq, uint32_t len, uint8_t flags,
	     uint32_t *sent)
{
	struct bstack *st = t->b.st;
	uint8_t opts[TCP_OPT_MAX];
	struct cove_frame *f;
	unsigned optlen;
	uint32_t segs, want = len;
	uint16_t field;
	uint8_t *h;
	int ret;

	if (t->state != TCPS_SYN_SENT)
		flags |= TH_ACK;
	optlen = tcp_write_opts(t, opts, flags, len > 0);
	while (optlen & 3)
		opts[optlen++] = 1;
	f = tcp_frame(t, optlen, flags, &len, &segs);
	if (!f)
		return -ENOBUFS;
	/* Trimmed: FIN and PSH belong to the piece that ends the data. */
	if (len < want)
		flags &= (uint8_t) ~(TH_FIN | TH_PSH);
	field = tcp_rcv_advertise(t, flags);
	h = tcp_l4(f, &t->raddr);
	tcp_hdr(h, t->lport, t->rport, seq, (flags & TH_ACK) ? t->rcv_nxt : 0,
		flags, field, optlen);
	memcpy(h + TCP_HLEN, opts, optlen);
	if (len)
		ring_get(t->sbuf, t->sb_cap, t->sb_head + (seq - t->sb_seq),
			 h + TCP_HLEN + optlen, len);
	ret = tcp_send_frame(st, f, &t->laddr, &t->raddr,
			     TCP_HLEN + optlen + len,
			     tcp_v6(&t->raddr) ? t->tclass : t->tos,
			     tcp_v6(&t->raddr) ? t->hlim : t->ttl, segs);
	if (ret < 0 && ret != -EHOSTUNREACH) {
		st->stats.tcp_out_segs -= segs;
		return ret == -EMSGSIZE ? tcp_xmit_too_big(t, ret) : ret;
	}
	if (ret == -EHOSTUNREACH)
		t->soft_error = EHOSTUNREACH;
	if (flags & TH_ACK) {
		t->last_ack_sent = t->rcv_nxt;
		t->rcv_unacked = 0;
		t->ack_now = false;
		if (timer_armed(&t->t_delack))
			timer_cancel(&st->timers, &t->t_delack);
	}
	if (flags & TH_RST)
		st->stats.tcp_resets_out++;
	t->last_snd_ns = st->now_ns;
	if (sent)
		*sent = len;
	return ret == -EHOSTUNREACH ? ret : 0;
}

/*
 * tcp_send_ack() - a pure ACK. Its sequence number is snd_max, not
 * snd_nxt: after an RTO pulled snd_nxt back, the peer may hold data up to
 * snd_max (our resent pieces need not end where the first ones did), and
 * an ACK below its rcv_nxt is unacceptable to it: it answers with an ACK
 * of its own, and two such peers ping-pong ACKs without end. Linux's
 * snd_nxt never moves back, so its ACKs carry this too.
 */
void tcp_send_ack(struct tcb *t)
{
	if (tcp_xmit(t, t->snd_max, 0, TH_ACK, NULL) == -ENOBUFS)
		tcp_want_output(t);
}

void tcp_send_syn(struct tcb *t)
{
	uint8_t flags = t->state == TCPS_SYN_SENT ? TH_SYN : TH_SYN | TH_ACK;

	(void)tcp_xmit(t, t->iss, 0, flags, NULL);
	t->snd_nxt = t->iss + 1;
	if (seq_lt(t->snd_max, t->snd_nxt))
		t->snd_max = t->snd_nxt;
}

/* tcp_send_rst() - reset the peer: RST|ACK at snd_nxt. */
void tcp_send_rst(struct tcb *t)
{
	(void)tcp_xmit(t, t->snd_nxt, 0, TH_RST | TH_ACK, NULL);
}

/* tcp_send_probe() - a zero-window or keepalive probe: an old sequence. */
void tcp_send_probe(struct tcb *t)
{
	(void)tcp_xmit(t, t->snd_una - 1, 0, TH_ACK, NULL);
}

/**
 * tcp_reply_rst() - answer a segment that has no connection with a RST
 * @st:		stack
 * @s:		the offending segment (never itself a RST)
 */
void tcp_reply_rst(struct bstack *st, const struct tcp_seg *s)
{
	struct cove_frame *f;
	uint32_t room, seq = 0, ack = 0;
	uint8_t flags = TH_RST;

	if (s->flags & TH_RST)
		return;
	if (s->flags & TH_ACK) {
		seq = s->ack;
	} else {
		flags |= TH_ACK;
		ack = s->seq + s->len + !!(s->flags & TH_SYN) +
		      !!(s->flags & TH_FIN);
	}
	f = tcp_alloc(st, &s->src, &room);
	if (!f)
		return;
	tcp_hdr(tcp_l4(f, &s->src), s->dport, s->sport, seq, ack, flags, 0, 0);
	st->stats.tcp_resets_out++;
	(void)tcp_send_frame(st, f, &s->dst, &s->src, TCP_HLEN, 0, 0, 1);
}

/**
 * tcp_reply_synack() - a SYN-ACK that no connection stands behind
 * @st:		stack
 * @s:		the SYN it answers
 * @iss:	our initial sequence number (a SYN cookie)
 * @o:		the options to announce
 * @wnd:	the window field (a SYN's is never scaled)
 * @tos:	the listener's TOS
 * @ttl:	the listener's IP_TTL (0: the default)
 *
 * Built like tcp_reply_rst() (one frame, full checksum), for the SYN
 * cookie path, which keeps no state to build it from.
 *
 * Return: 0, -ENOBUFS (no frame: the peer's SYN retransmission retries)
 * or ip_send()'s error.
 */
int tcp_reply_synack(struct bstack *st, const struct tcp_seg *s, uint32_t iss,
		     const struct tcp_synopt *o, uint16_t wnd, uint8_t tos,
		     uint8_t ttl)
{
	uint8_t opts[TCP_OPT_MAX];
	struct cove_frame *f;
	unsigned optlen;
	uint32_t room;
	uint8_t *h;

	optlen = tcp_syn_opts(opts, o);
	while (optlen & 3)
		opts[optlen++] = 1;
	f = tcp_alloc(st, &s->src, &room);
	if (!f)
		return -ENOBUFS;
	if (room < TCP_HLEN + optlen) {
		cove_frame_free(f);
		return -ENOBUFS;
	}
	h = tcp_l4(f, &s->src);
	tcp_hdr(h, s->dport, s->sport, iss, s->seq + 1, TH_SYN | TH_ACK, wnd,
		optlen);
	memcpy(h + TCP_HLEN, opts, optlen);
	return tcp_send_frame(st, f, &s->dst, &s->src, TCP_HLEN + optlen, tos,
			      ttl, 1);
}

/* tcp_want_output() - retry output for @t from the 1 ms timer. */
void tcp_want_output(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;

	if (!t->want_out && !t->reaping) {
		t->want_out = true;
		t->outnext = c->out_list;
		c->out_list = t;
	}
	if (!timer_armed(&c->t_out))
		timer_arm(&c->st->timers, &c->t_out,
			  c->st->now_ns + TCP_TICK_RETRY_NS);
}

/**
 * tcp_send_span() - send [seq, seq + len) (+ FIN if it ends at the FIN)
 * @t:		connection
 * @seq:	first sequence number
 * @len:	data bytes
 * @fin:	set FIN
 *
 * Updates snd_nxt/snd_max, the retransmit counters, RTT timing and the RTO
 * timer.
 *
 * Return: sequence space sent (0 on failure; output is then retried).
 */
static uint32_t tcp_send_span(struct tcb *t, uint32_t seq, uint32_t len,
			      bool fin)
{
	struct bstack *st = t->b.st;
	uint32_t data_end = t->sb_seq + t->sb_len, sent = 0, span;
	uint8_t flags = TH_ACK;
	bool rtx = seq_lt(seq, t->snd_max);

	if (fin)
		flags |= TH_FIN;
	if (len && seq + len == data_end)
		flags |= TH_PSH;
	if (tcp_xmit(t, seq, len, flags, &sent) == -ENOBUFS) {
		tcp_want_output(t);
		return 0;
	}
	if (sent < len)
		fin = false; /* options trimmed it; FIN goes later */
	span = sent + fin;
	if (rtx) {
		st->stats.tcp_retransmits++;
		t->total_retrans++;
		if (t->rtt_timing && seq_lt(seq, t->rtt_seq))
			t->rtt_timing = false; /* Karn */
	} else if (!t->rtt_timing && span) {
		t->rtt_timing = true;
		t->rtt_seq = seq + span;
		t->rtt_ns = st->now_ns;
	}
	if (seq_gt(seq + span, t->snd_nxt) || !rtx)
		t->snd_nxt = seq + span;
	if (seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt;
	if (!timer_armed(&t->t_rtx) || t->persist)
		tcp_rtx_restart(t);
	return span ? span : 1;
}

/* tcp_probe_span() - resend [seq, seq + len) (+ FIN) as a loss probe. */
void tcp_probe_span(struct tcb *t, uint32_t seq, uint32_t len, bool fin)
{
	(void)tcp_send_span(t, seq, len, fin);
}

/* tcp_retransmit_una() - resend the first unacknowledged segment. */
void tcp_retransmit_una(struct tcb *t)
{
	t->una_rxt_ns = tcp_now(t);
	uint32_t data_end = t->sb_seq + t->sb_len;
	uint32_t len = 0;
	bool fin;

	if (seq_lt(t->snd_una, data_end))
		len = seq_min(data_end, t->snd_una + t->mss) - t->snd_una;
	len = seq_min(t->snd_una + len, t->snd_max) - t->snd_una;
	fin = t->fin_queued && t->snd_una + len == data_end &&
	      seq_gt(t->snd_max, data_end);
	if (len || fin)
		(void)tcp_send_span(t, t->snd_una, len, fin);
}

/**
 * tcp_send_queued() - send what congestion window, peer window and Nagle allow
 * @t:	connection
 */
void tcp_send_queued(struct tcb *t)
{
	bool sack_rec, fin;
	uint32_t seq, len, avail, flight, data_end, room, wroom, end, budget;
	/* a TSO link takes up to 64 KiB a frame; tcp_xmit() trims to fit */
	uint32_t maxlen = t->b.st->tso_room > t->mss ? t->b.st->tso_room :
						       t->mss;

	if (!tcp_can_send(t->state) || t->reaping)
		return;
	for (budget = 0; budget < 4096; budget++) {
		sack_rec = t->in_recovery && t->sack_ok;
		data_end = t->sb_seq + t->sb_len;
		if (sack_rec) {
			flight = tcp_pipe(t);
			if (flight + t->mss > t->cwnd && flight)
				break;
			if (tcp_next_seg(t, &seq, &len)) {
				fin = t->fin_queued && seq + len == data_end &&
				      seq_gt(t->snd_max, data_end);
				len = seq_min(seq + len, data_end) - seq;
				if (!tcp_send_span(t, seq, len, fin))
					break;
				if (seq == t->snd_una)
					t->una_rxt_ns = tcp_now(t);
				t->high_rxt = seq + len + fin;
				t->b.st->stats.tcp_fast_retransmits++;
				continue;
			}
		} else {
			/* SACKed bytes left the network (limited transmit) */
			flight = t->snd_nxt - t->snd_una;
			if (t->snd_nxt == t->snd_max)
				flight -= flight > t->sacked_bytes ?
						  t->sacked_bytes :
						  flight;
		}
		seq = t->snd_nxt;
		/* after an RTO, do not resend what the peer has SACKed */
		if (seq_lt(seq, t->snd_max) && t->nsacked &&
		    tcp_sb_is_sacked(t, seq, &end)) {
			t->snd_nxt = seq_min(end, t->snd_max);
			continue;
		}
		avail = seq_lt(seq, data_end) ? data_end - seq : 0;
		if (seq_lt(seq, t->snd_max))
			avail = seq_min(data_end, t->snd_max) - seq;
		len = avail < maxlen ? avail : maxlen;
		room = t->cwnd > flight ? t->cwnd - flight : 0;
		if (len > room) {
			if (room >= t->mss)
				len = room - room % t->mss;
			else if (flight)
				break;
			else
				len = room ? room : 1;
		}
		wroom = seq_gt(t->snd_una + t->snd_wnd, seq) ?
				t->snd_una + t->snd_wnd - seq :
				0;
		if (len > wroom) {
			/* sender SWS avoidance: no tiny window-limited bits */
			if (wroom < t->mss && wroom < t->max_sndwnd / 2 &&
			    flight)
				len = 0;
			else if (wroom > t->mss)
				len = wroom - wroom % t->mss;
			else
				len = wroom;
		}
		fin = t->fin_queued && seq + len == data_end &&
		      (seq_le(t->snd_max, data_end) || seq_lt(seq, t->snd_max));
		if (!len && !fin)
			break;
		if (len < t->mss && !fin && seq + len == data_end &&
		    !seq_lt(seq, t->snd_max) && len == avail) {
			if (t->cork)
				break;
			if (!t->nodelay && t->snd_max != t->snd_una)
				break;
		}
		if (!tcp_send_span(t, seq, len, fin))
			break;
	}
	if (t->snd_una == t->snd_max && tcp_unsent(t) && !t->snd_wnd)
		tcp_persist_arm(t);
}
