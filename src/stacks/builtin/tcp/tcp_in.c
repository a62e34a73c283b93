// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP input: validation, demux, the state machine, ACKs, data, FIN. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/bytes.h"
#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * tcp_layer_input() checks the header (length, data offset, checksum), parses
 * options with tcp_parse_opts() (malformed options end parsing, they never
 * fail the segment) and demultiplexes: the conn hash first, then a listener
 * of the port (tcp_listener_find(): exact address before INADDR_ANY, one
 * member of a SO_REUSEPORT group by the 4-tuple's hash), else a RST. A
 * listener makes a SYN-RECV child of a SYN or, its SYN queue full, answers
 * with a SYN cookie and checks ACKs for one (tcp_cookie.c). Per
 * tcb the order is RFC 9293 3.10.7's: LISTEN and SYN-SENT apart; otherwise
 * PAWS, sequence acceptability (Linux's lenient form: the segment must end
 * at or after rcv_nxt and start within the window), RST (exact: reset; in
 * window: challenge ACK, RFC 5961), SYN (challenge ACK), ACK (out of
 * range: challenge ACK and drop, RFC 5961 sec. 5; SYN-RECV completion,
 * window update, congestion and recovery, FIN acknowledgment), data, FIN.
 * Challenge ACKs are limited per socket and by a randomised stack-wide
 * budget (tcp_challenge_ok(): no off-path oracle, CVE-2016-5696). An owed ACK is sent at the end, after tcp_send_queued() had
 * the chance to carry it.
 *
 * Receive data goes straight into the ring: in order at rb_len, out of
 * order at its offset (tcp_sack.c tracks the ranges).
 */

/**
 * tcp_parse_opts() - parse TCP options
 * @p:		first option byte
 * @len:	option bytes (data offset * 4 - 20)
 * @syn:	the segment is a SYN (MSS, WS, SACK-permitted count only there)
 * @o:		filled; zeroed first
 *
 * A malformed option (length < 2, running past the end, a wrong fixed size)
 * ends parsing; what was parsed before stays.
 *
 * Return: 0, or -1 when parsing stopped at a malformed option.
 */
int tcp_parse_opts(const uint8_t *p, uint32_t len, bool syn, struct tcp_opts *o)
{
	uint32_t i = 0, olen, k;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];

		if (kind == 0)
			return 0;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return -1;
		switch (kind) {
		case 2:
			if (olen != 4)
				return -1;
			if (syn) {
				o->has_mss = true;
				o->mss = cove_get16(p + i + 2);
			}
			break;
		case 3:
			if (olen != 3)
				return -1;
			if (syn) {
				o->has_ws = true;
				o->ws = p[i + 2] > 14 ? 14 : p[i + 2];
			}
			break;
		case 4:
			if (olen != 2)
				return -1;
			if (syn)
				o->sack_ok = true;
			break;
		case 5:
			if (olen < 10 || (olen - 2) % 8)
				return -1;
			for (k = 0; k < (olen - 2) / 8 && k < 4; k++) {
				const uint8_t *b = p + i + 2 + 8 * k;

				o->sack[k].start = cove_get32(b);
				o->sack[k].end = cove_get32(b + 4);
			}
			o->nsack = (uint8_t)k;
			break;
		case 8:
			if (olen != 10)
				return -1;
			o->has_ts = true;
			o->tsval = cove_get32(p + i + 2);
			o->tsecr = cove_get32(p + i + 6);
			break;
		default:
			break;
		}
		i += olen;
	}
	return 0;
}

/* --- helpers -------------------------------------------------------------- */

/*
 * tcp_ack_hold() - owe an in-order ACK at the end of the input burst.
 * Every in-order segment of one burst is then acknowledged by one ACK (a
 * stretch ACK, as Linux's GRO produces), not one ACK per two segments.
 */
static void tcp_ack_hold(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;

	if (t->ack_held || t->reaping)
		return;
	t->ack_held = true;
	t->acknext = c->ack_list;
	c->ack_list = t;
}

/*
 * tcp_ack_soon() - data arrived in order: ACK now, at the end of this input
 * burst, or arm the delayed ACK. Duplicates, holes and out-of-order data
 * set ack_now directly and are never held: the sender's loss detection
 * counts those ACKs.
 */
static void tcp_ack_soon(struct tcb *t)
{
	bool now;

	if (t->ack_now || t->ack_held)
		return;
	if (t->rcv_unacked >= 2 * t->rcv_mss) {
		now = true;
	} else if (t->quickacks) {
		t->quickacks--;
		now = true;
	} else {
		tcp_delack_arm(t);
		return;
	}
	if (now && t->b.st->in_input)
		tcp_ack_hold(t);
	else
		t->ack_now = now;
}

/* tcp_reset() - a valid RST arrived: set the error Linux reports, end. */
static void tcp_reset(struct tcb *t)
{
	t->b.st->stats.tcp_resets_in++;
	switch (t->state) {
	case TCPS_SYN_SENT:
		t->so_error = ECONNREFUSED;
		break;
	case TCPS_SYN_RECV:
		if (!t->parent)
			t->so_error = ECONNREFUSED;
		break;
	case TCPS_CLOSE_WAIT:
		t->so_error = EPIPE;
		break;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT1:
	case TCPS_FIN_WAIT2:
		t->so_error = ECONNRESET;
		break;
	default:
		break;
	}
	tcp_done(t);
}

/* tcp_challenge() - RFC 5961 challenge ACK, limited per socket and stack. */
static void tcp_challenge(struct tcb *t)
{
	if (!tcp_challenge_ok(t))
		return;
	t->b.st->stats.tcp_challenge_acks++;
	tcp_send_ack(t);
}

/* --- LISTEN --------------------------------------------------------------- */

/**
 * tcp_child_new() - a tcb for the connection segment @s asks listener @l for
 * @l:	listener
 * @s:	the SYN, or the ACK that returns a SYN cookie
 *
 * The child inherits the listener's buffer sizes (its receive ring only
 * the per-socket minimum under memory pressure), socket options and
 * congestion control, and takes the segment's 4-tuple; it is on no table.
 *
 * Return: the child (CLOSED), or NULL when out of memory.
 */
struct tcb *tcp_child_new(struct tcb *l, const struct tcp_seg *s)
{
	struct tcb *t = tcb_alloc(l->ctx);

	if (!t)
		return NULL;
	t->sb_size = l->sb_size;
	t->rb_size = l->rb_size;
	t->rb_max = l->rb_max;
	/* under memory pressure the ring will be the minimum
	 * (tcb_rb_alloc()): the SYN-ACK promises no more than that */
	if (bmem_pressure(l->b.st) && t->rb_size > BMEM_SOCK_MIN)
		t->rb_size = BMEM_SOCK_MIN;
	t->nodelay = l->nodelay;
	t->wclamp = l->wclamp;
	t->cork = l->cork;
	t->keepalive = l->keepalive;
	t->keepidle = l->keepidle;
	t->keepintvl = l->keepintvl;
	t->keepcnt = l->keepcnt;
	t->linger_on = l->linger_on;
	t->linger = l->linger;
	t->reuseaddr = l->reuseaddr;
	t->reuseport = l->reuseport;
	t->tos = l->tos;
	t->tclass = l->tclass;
	t->hlim = l->hlim;
	t->hops = l->hops;
	t->pmtudisc6 = l->pmtudisc6;
	t->cc = l->cc;
	/* and, as Linux's clone of the listening socket, these options */
	t->user_timeout_ms = l->user_timeout_ms;
	t->linger2 = l->linger2;
	t->user_mss = l->user_mss;
	t->syn_retries = l->syn_retries;
	t->ttl = l->ttl;
	t->priority = l->priority;
	t->pmtudisc = l->pmtudisc;
	t->pmtudisc_set = l->pmtudisc_set;
	t->rcvbuf_rep = l->rcvbuf_rep;
	t->sndbuf_rep = l->sndbuf_rep;
	t->family = l->family;
	t->v6only = l->v6only;
	t->laddr = s->dst;
	t->raddr = s->src;
	t->scope_id = s->scope_id;
	t->lport = s->dport;
	t->rport = s->sport;
	return t;
}

/**
 * tcp_child_setup() - the receive side and options a handshake agreed
 * @t:	new child (tcp_child_new()) whose irs, the peer's ISS, is set
 * @s:	the segment the options came with (its TSval is TS.Recent)
 * @p:	the options: from the SYN, or recovered from a cookie
 *
 * Sets rcv_nxt, timestamps, SACK, both window scales and the MSS. Our
 * window scale is the one for the largest ring the child may grow to,
 * as its SYN-ACK announces it.
 */
void tcp_child_setup(struct tcb *t, const struct tcp_seg *s,
		     const struct tcp_synparams *p)
{
	t->rcv_nxt = t->rcv_adv = t->irs + 1;
	t->ts_ok = p->ts_ok;
	if (t->ts_ok) {
		t->ts_recent = s->opt.tsval;
		t->ts_recent_ns = t->b.st->now_ns;
		t->ts_off = p->ts_off;
	}
	t->sack_ok = p->sack_ok;
	t->ws_ok = p->ws_ok;
	t->snd_ws = t->ws_ok ? p->snd_ws : 0;
	t->rcv_ws = t->ws_ok ? tcp_wscale_for(t->rb_max) : 0;
	tcp_set_mss(t, p->mss);
}

/**
 * tcp_child_queue() - put a new child on @l's SYN queue, in SYN-RECV
 * @l:	listener
 * @t:	child whose 4-tuple, sequence numbers and options are set
 *
 * Hashes it, puts it on its port, sets up congestion control and counts
 * the passive open. Nothing is sent: the caller sends the SYN-ACK (or,
 * for a cookie, hands the ACK that completes the handshake on).
 */
void tcp_child_queue(struct tcb *l, struct tcb *t)
{
	t->parent = l;
	t->qnext = l->syn_head;
	if (l->syn_head)
		l->syn_head->qpprev = &t->qnext;
	t->qpprev = &l->syn_head;
	l->syn_head = t;
	l->syn_qlen++;
	t->ctx->nembryonic++;

	tcp_set_state(t, TCPS_SYN_RECV);
	tcb_hash_add(t);
	tcb_port_add(t);
	tcp_init_conn(t);
	t->b.st->stats.tcp_passive_opens++;
}

/**
 * tcp_listen_input() - a segment for listener @l without a connection
 * @l:	listener
 * @s:	segment
 *
 * A SYN makes a SYN-RECV child if both queues have room. With the accept
 * queue full it is dropped (as Linux does); with only the SYN queue (or
 * the instance's embryonic limit) full it is answered with a SYN cookie
 * and no state. An ACK that returns a valid cookie makes the child then;
 * any other ACK gets a RST.
 */
static void tcp_listen_input(struct tcb *l, struct tcp_seg *s)
{
	struct tcp_ctx *c = l->ctx;
	struct bstack *st = l->b.st;
	struct tcp_synparams p;
	struct tcb *t;

	if (s->flags & TH_RST)
		return;
	if (s->flags & TH_ACK) {
		if ((s->flags & TH_SYN) || !tcp_cookie_ack(l, s))
			tcp_reply_rst(st, s);
		return;
	}
	if (!(s->flags & TH_SYN) || (s->flags & TH_FIN))
		return;
	if (l->acc_qlen >= l->backlog) {
		st->stats.rx_dropped++;
		c->listen_drops++;
		return;
	}
	if (l->syn_qlen >= l->backlog || c->nembryonic >= c->max_embryonic) {
		tcp_cookie_syn(l, s);
		return;
	}
	t = tcp_child_new(l, s);
	if (!t)
		return;
	p = (struct tcp_synparams){
		.mss = s->opt.has_mss ? s->opt.mss : 0,
		.snd_ws = s->opt.ws,
		.ts_ok = s->opt.has_ts,
		.sack_ok = s->opt.sack_ok,
		.ws_ok = s->opt.has_ws,
		.ts_off = s->opt.has_ts ? (uint32_t)bstack_random(st) : 0,
	};
	t->irs = s->seq;
	tcp_child_setup(t, s, &p);
	t->iss = tcp_isn(c, &t->laddr, &t->raddr, t->lport, t->rport);
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	t->sb_seq = t->iss + 1;
	t->snd_wnd = t->max_sndwnd = s->wnd;
	t->snd_wl1 = s->seq;
	t->snd_wl2 = t->iss;
	tcp_child_queue(l, t);
	t->rtt_ns = st->now_ns;
	tcp_send_syn(t);
	tcp_rtx_arm(t);
}

/* --- SYN-SENT ------------------------------------------------------------- */

/* tcp_established() - common work when a connection becomes ESTABLISHED. */
static void tcp_established(struct tcb *t, const struct tcp_seg *s)
{
	struct bstack *st = t->b.st;

	tcp_set_state(t, TCPS_ESTABLISHED);
	timer_cancel(&st->timers, &t->t_rtx);
	if (!t->retries && !t->from_cookie)
		tcp_rtt_sample(t, (uint32_t)((st->now_ns - t->rtt_ns) / 1000));
	t->retries = 0;
	/* a SYN-ACK's window is never scaled (RFC 7323 2.2) */
	t->snd_wnd = (s->flags & TH_SYN) ? s->wnd :
					   (uint32_t)s->wnd << t->snd_ws;
	if (t->snd_wnd > t->max_sndwnd)
		t->max_sndwnd = t->snd_wnd;
	t->snd_wl1 = s->seq;
	t->snd_wl2 = s->ack;
	tcp_keep_arm(t);
}

/* tcp_synsent_input() - RFC 9293 3.10.7.3 */
static void tcp_synsent_input(struct tcb *t, struct tcp_seg *s)
{
	bool ack = s->flags & TH_ACK;

	if (ack && (seq_le(s->ack, t->iss) || seq_gt(s->ack, t->snd_max))) {
		tcp_reply_rst(t->b.st, s);
		return;
	}
	if (s->flags & TH_RST) {
		if (ack)
			tcp_reset(t);
		return;
	}
	if (!(s->flags & TH_SYN))
		return;
	t->irs = s->seq;
	t->rcv_nxt = t->rcv_adv = s->seq + 1;
	t->ts_ok = s->opt.has_ts;
	if (t->ts_ok) {
		t->ts_recent = s->opt.tsval;
		t->ts_recent_ns = tcp_now(t);
	}
	t->sack_ok = s->opt.sack_ok;
	t->ws_ok = s->opt.has_ws;
	t->snd_ws = t->ws_ok ? s->opt.ws : 0;
	if (!t->ws_ok)
		t->rcv_ws = 0;
	tcp_set_mss(t, s->opt.has_mss ? s->opt.mss : 0);
	{
		uint32_t rto = t->rto_us;

		tcp_init_conn(t);
		t->rto_us = rto;
	}
	t->rcv_adv =
		t->rcv_nxt + (tcp_rx_size(t) > 65535 ? 65535 : tcp_rx_size(t));
	if (ack) {
		t->snd_una = s->ack;
		if (seq_lt(t->snd_nxt, t->snd_una))
			t->snd_nxt = t->snd_una;
		tcp_established(t, s);
		t->b.st->stats.tcp_active_opens++;
		tcp_notify(t, EPOLLOUT | EPOLLWRNORM);
		t->ack_now = true;
		tcp_send_queued(t);
		if (t->ack_now)
			tcp_send_ack(t);
		return;
	}
	/* simultaneous open: SYN-RECV, SYN-ACK with our ISS */
	tcp_set_state(t, TCPS_SYN_RECV);
	t->snd_wnd = t->max_sndwnd = s->wnd;
	tcp_send_syn(t);
	tcp_rtx_arm(t);
}

/**
 * tcp_synrecv_ack() - the ACK that completes a handshake
 * @t:	SYN-RECV connection
 * @s:	segment acknowledging our SYN
 *
 * A child of a listener moves to the accept queue; a full accept queue
 * drops the ACK (the peer retransmits, we retransmit the SYN-ACK), like
 * Linux, and so does a listener's TCP_DEFER_ACCEPT for an ACK without data.
 *
 * Return: false if the segment must be dropped (or the tcb is gone).
 */
static bool tcp_synrecv_ack(struct tcb *t, struct tcp_seg *s)
{
	struct tcb *l = t->parent;

	if (l) {
		if (l->acc_qlen >= l->backlog) {
			t->b.st->stats.rx_dropped++;
			return false;
		}
		/* TCP_DEFER_ACCEPT: a pure ACK waits for data, or for the
		 * SYN-ACK timeouts the option asked for (Linux:
		 * tcp_check_req()) */
		if (t->retries < l->defer_retrans && !s->len &&
		    !(s->flags & TH_FIN)) {
			t->defer_acked = true;
			return false;
		}
		tcb_rx_open(t);
		/* SYN list -> accept queue */
		*t->qpprev = t->qnext;
		if (t->qnext)
			t->qnext->qpprev = t->qpprev;
		l->syn_qlen--;
		t->ctx->nembryonic--;
		t->qnext = NULL;
		t->qpprev = l->acc_tail;
		*l->acc_tail = t;
		l->acc_tail = &t->qnext;
		l->acc_qlen++;
		t->in_accept_q = true;
		tcp_notify(l, EPOLLIN | EPOLLRDNORM);
	} else {
		t->b.st->stats.tcp_active_opens++;
	}
	tcp_established(t, s);
	tcp_notify(t, EPOLLOUT | EPOLLWRNORM);
	return true;
}

/* --- ACK processing ------------------------------------------------------- */

/* tcp_enter_recovery() - fast retransmit; SACK (RFC 6675) or NewReno. */
static void tcp_enter_recovery(struct tcb *t)
{
	uint32_t before = t->total_retrans;

	t->cc->on_congestion(t);
	t->recover = t->snd_max;
	t->in_recovery = true;
	t->lost_segs++;
	if (t->sack_ok) {
		t->cwnd = t->ssthresh;
		t->ctx->sack_recoveries++;
	} else {
		t->cwnd = t->ssthresh + TCP_DUPTHRESH * t->mss;
		t->ctx->reno_recoveries++;
	}
	t->high_rxt = t->snd_una;
	tcp_retransmit_una(t);
	if (t->total_retrans != before) {
		t->b.st->stats.tcp_fast_retransmits++;
		t->high_rxt = seq_min(t->snd_una + t->mss, t->snd_max);
	}
}

/* tcp_ack_new() - snd_una advances to @ack. */
static void tcp_ack_new(struct tcb *t, uint32_t ack)
{
	struct bstack *st = t->b.st;
	uint32_t acked = ack - t->snd_una, n, rtt_us = 0;
	uint32_t flight = t->snd_max - t->snd_una;
	bool freed = false;

	if (seq_gt(ack, t->sb_seq) && t->sb_len) {
		n = seq_min(ack, t->sb_seq + t->sb_len) - t->sb_seq;
		t->sb_head += n;
		if (t->sb_head >= t->sb_cap)
			t->sb_head -= t->sb_cap;
		t->sb_len -= n;
		t->sb_seq += n;
		freed = n > 0;
	}
	if (t->rtt_timing && seq_ge(ack, t->rtt_seq)) {
		rtt_us = (uint32_t)((st->now_ns - t->rtt_ns) / 1000);
		t->rtt_timing = false;
		tcp_rtt_sample(t, rtt_us);
	}
	t->snd_una = ack;
	t->tlp_sent = false;
	if (seq_lt(t->snd_nxt, ack))
		t->snd_nxt = ack;
	if (seq_lt(t->high_rxt, ack))
		t->high_rxt = ack;
	tcp_sb_trim(t);
	if (t->retries) {
		t->retries = 0;
		tcp_rto_reset(t);
	}
	if (t->in_recovery) {
		if (seq_ge(ack, t->recover)) {
			t->in_recovery = false;
			t->dupacks = 0;
			t->cc->on_recovery_exit(t);
		} else if (!t->sack_ok) {
			/* NewReno partial ACK: resend the next hole, deflate */
			t->cwnd = t->cwnd > acked ? t->cwnd - acked : t->mss;
			if (acked >= t->mss)
				t->cwnd += t->mss;
			tcp_retransmit_una(t);
			st->stats.tcp_fast_retransmits++;
		}
	} else {
		t->dupacks = 0;
		if (2 * flight >= t->cwnd)
			t->cc->on_ack(t, acked, rtt_us);
	}
	if (t->snd_una == t->snd_max)
		timer_cancel(&st->timers, &t->t_rtx);
	else
		tcp_rtx_restart(t);
	if (freed)
		tcp_sb_release(t);
	if (freed && t->b.host_open && !(t->shut & TCP_SHUT_WR) &&
	    tcp_writable(t))
		tcp_notify(t, EPOLLOUT | EPOLLWRNORM);
}

/**
 * tcp_ack() - RFC 9293 3.10.7.4 fifth check for synchronized states
 * @t:	connection
 * @s:	segment with ACK set
 *
 * Return: false when the segment is done with (dropped, or the tcb ended).
 */
static bool tcp_ack(struct tcb *t, struct tcp_seg *s)
{
	uint32_t ack = s->ack, wnd, data_end, sacked = t->sacked_bytes;
	bool wnd_changed = false;

	/* RFC 5961 sec. 5.2: unsent data or older than the largest window */
	if (seq_gt(ack, t->snd_max) ||
	    seq_lt(ack, t->snd_una - (t->max_sndwnd > 65535 ? t->max_sndwnd :
							      65535))) {
		tcp_challenge(t);
		return false;
	}
	if (t->sack_ok && s->opt.nsack) {
		t->ctx->sack_blocks_in += s->opt.nsack;
		tcp_sb_update(t, &s->opt);
	}
	wnd = (uint32_t)s->wnd << t->snd_ws;
	if (seq_lt(t->snd_wl1, s->seq) ||
	    (t->snd_wl1 == s->seq && seq_le(t->snd_wl2, ack))) {
		wnd_changed = wnd != t->snd_wnd;
		t->snd_wnd = wnd;
		t->snd_wl1 = s->seq;
		t->snd_wl2 = ack;
		if (wnd > t->max_sndwnd)
			t->max_sndwnd = wnd;
		if (wnd)
			t->pbackoff = 0;
		if (wnd && t->persist) {
			t->persist = false;
			t->retries = 0;
			timer_cancel(&t->b.st->timers, &t->t_rtx);
		}
	}
	if (t->persist)
		t->retries = 0; /* the peer answers our probes */
	if (seq_gt(ack, t->snd_una)) {
		tcp_ack_new(t, ack);
	} else if (ack == t->snd_una && !s->len &&
		   !(s->flags & (TH_SYN | TH_FIN)) && !wnd_changed &&
		   t->snd_una != t->snd_max) {
		t->dupacks++;
		if (t->in_recovery && !t->sack_ok)
			t->cwnd += t->mss;
		else if (!t->in_recovery && seq_ge(t->snd_una, t->recover) &&
			 t->dupacks >= TCP_DUPTHRESH)
			tcp_enter_recovery(t);
	}
	if (t->in_recovery && t->sack_ok && ack == t->snd_una &&
	    t->sacked_bytes > sacked && t->una_rxt_ns &&
	    tcp_now(t) - t->una_rxt_ns >
		    (uint64_t)(t->srtt_us + t->srtt_us / 4 + 1000) * 1000) {
		/*
		 * Data sent more than a round trip after our retransmission
		 * of snd_una is being SACKed: that retransmission was lost
		 * too (RACK's reasoning). Send it again now, not after an RTO.
		 */
		tcp_retransmit_una(t);
		t->b.st->stats.tcp_fast_retransmits++;
		t->lost_segs++;
	}
	/*
	 * SACK evidence of loss starts recovery; after an RTO also before
	 * snd_una passes `recover`, once go-back-N has resent everything
	 * (the scoreboard was cleared then, so the evidence is fresh).
	 */
	if (t->sack_ok && !t->in_recovery && t->nsacked &&
	    (seq_ge(t->snd_una, t->recover) || t->snd_nxt == t->snd_max) &&
	    seq_gt(tcp_sb_lost_edge(t), t->snd_una))
		tcp_enter_recovery(t);

	/* our FIN acknowledged? */
	data_end = t->sb_seq + t->sb_len;
	if (t->fin_queued && seq_gt(t->snd_una, data_end)) {
		switch (t->state) {
		case TCPS_FIN_WAIT1:
			tcp_set_state(t, TCPS_FIN_WAIT2);
			tcp_keep_arm(t);
			break;
		case TCPS_CLOSING:
			tcp_timewait(t);
			break;
		case TCPS_LAST_ACK:
			tcp_done(t);
			return false;
		default:
			break;
		}
	}
	return true;
}

/* --- data and FIN ----------------------------------------------------------- */

/* tcp_fin_in_order() - the peer's FIN at rcv_nxt: count it, move state. */
static void tcp_fin_in_order(struct tcb *t)
{
	t->rcv_nxt++;
	t->rcv_fin = true;
	t->ooo_fin = false;
	t->shut |= TCP_SHUT_RD;
	t->ack_now = true;
	switch (t->state) {
	case TCPS_SYN_RECV:
	case TCPS_ESTABLISHED:
		tcp_set_state(t, TCPS_CLOSE_WAIT);
		break;
	case TCPS_FIN_WAIT1:
		tcp_set_state(t, TCPS_CLOSING);
		break;
	case TCPS_FIN_WAIT2:
		tcp_timewait(t);
		break;
	default:
		break;
	}
	tcp_notify(t, EPOLLIN | EPOLLRDNORM | EPOLLRDHUP);
}

/**
 * tcp_data() - queue a segment's payload
 * @t:	connection in ESTABLISHED, FIN-WAIT-1 or FIN-WAIT-2
 * @s:	segment (acceptable)
 *
 * Return: true if the whole payload fit (a FIN after it may be used).
 */
static bool tcp_data(struct tcb *t, struct tcp_seg *s)
{
	const uint8_t *data = s->data;
	uint32_t seq = s->seq, len = s->len, skip, free_, off;
	bool whole = true;

	if (len > t->rcv_mss)
		t->rcv_mss = len < t->mss + 12 ? len : t->mss + 12;
	if (seq_lt(seq, t->rcv_nxt)) {
		skip = t->rcv_nxt - seq;
		tcp_dsack_note(t, seq, skip >= len ? seq + len : t->rcv_nxt);
		if (skip >= len) {
			t->ack_now = true; /* a duplicate: dupack */
			return true;
		}
		seq += skip;
		data += skip;
		len -= skip;
	}
	if (!t->rbuf && !tcb_rb_alloc(t)) {
		/* the hard limit: not taken, not acknowledged */
		t->b.st->stats.rx_dropped++;
		return false;
	}
	free_ = t->rb_size - t->rb_len;
	off = seq - t->rcv_nxt;
	if (off >= free_) {
		t->ack_now = true;
		return false;
	}
	if (len > free_ - off) {
		len = free_ - off;
		whole = false;
	}
	if (off == 0) {
		ring_put(t->rbuf, t->rb_size, t->rb_head + t->rb_len, data,
			 len);
		t->rb_len += len;
		t->rcv_nxt += len;
		tcp_rcv_rtt_measure(t);
		t->rcv_unacked += len;
		if (t->nooo) {
			tcp_ooo_advance(t);
			t->ack_now = true;
		}
		if (t->ooo_fin && t->rcv_nxt == t->ooo_fin_seq)
			tcp_fin_in_order(t);
		tcp_ack_soon(t);
		tcp_notify(t, EPOLLIN | EPOLLRDNORM);
		return whole;
	}
	if (!tcp_ooo_add(t, seq, seq + len)) {
		t->ack_now = true;
		return false;
	}
	ring_put(t->rbuf, t->rb_size, t->rb_head + t->rb_len + off, data, len);
	t->b.st->stats.tcp_ooo_segments++;
	t->ack_now = true;
	return whole;
}

/* tcp_fin() - a segment with FIN: in order, early, or a repeat. */
static void tcp_fin(struct tcb *t, const struct tcp_seg *s)
{
	uint32_t fin_seq = s->seq + s->len;

	if (t->rcv_fin) {
		t->ack_now = true;
		if (t->state == TCPS_TIME_WAIT)
			tcp_timewait(t); /* restart 2MSL */
		return;
	}
	if (seq_gt(fin_seq, t->rcv_nxt)) {
		t->ooo_fin = true;
		t->ooo_fin_seq = fin_seq;
		t->ack_now = true;
		return;
	}
	if (fin_seq == t->rcv_nxt)
		tcp_fin_in_order(t);
}

/* --- synchronized states -------------------------------------------------- */

/* tcp_seq_ok() - is the segment acceptable (Linux's tcp_sequence())? */
static bool tcp_seq_ok(const struct tcb *t, const struct tcp_seg *s)
{
	uint32_t wnd =
		seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	uint32_t end =
		s->seq + s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);

	return seq_ge(end, t->rcv_nxt) && seq_le(s->seq, t->rcv_nxt + wnd);
}

/**
 * tcp_rcv_segment() - process a segment for connection @t
 * @t:	connection (not LISTEN)
 * @s:	parsed segment
 */
void tcp_rcv_segment(struct tcb *t, struct tcp_seg *s)
{
	struct bstack *st = t->b.st;
	struct tcb *l;
	bool whole = true;

	t->last_rcv_ns = st->now_ns;
	t->keep_probes = 0;
	if (t->state == TCPS_SYN_SENT) {
		tcp_synsent_input(t, s);
		return;
	}
	if (t->state == TCPS_TIME_WAIT && (s->flags & TH_SYN) &&
	    !(s->flags & (TH_ACK | TH_RST)) && seq_gt(s->seq, t->rcv_nxt) &&
	    !t->b.host_open) {
		l = tcp_listener_find(t->ctx, &t->laddr, t->lport, &t->raddr,
				      t->rport);
		if (l && (!t->ts_ok || !s->opt.has_ts ||
			  seq_gt(s->opt.tsval, t->ts_recent))) {
			tcp_done(t);
			tcp_listen_input(l, s);
			return;
		}
	}
	if (t->state == TCPS_SYN_RECV && (s->flags & TH_SYN) &&
	    !(s->flags & (TH_ACK | TH_RST)) && s->seq == t->irs) {
		tcp_send_syn(t); /* our SYN-ACK was lost */
		return;
	}
	/* PAWS (RFC 7323 5.3) */
	if (t->ts_ok && s->opt.has_ts && !(s->flags & TH_RST) &&
	    seq_lt(s->opt.tsval, t->ts_recent) &&
	    st->now_ns - t->ts_recent_ns < 24ull * 86400 * 1000000000ull) {
		tcp_send_ack(t);
		return;
	}
	if (!tcp_seq_ok(t, s)) {
		if (s->len && seq_lt(s->seq, t->rcv_nxt) &&
		    !(s->flags & TH_RST))
			tcp_dsack_note(t, s->seq, s->seq + s->len);
		if (!(s->flags & TH_RST))
			tcp_send_ack(t);
		return;
	}
	if (s->flags & TH_RST) {
		if (s->seq == t->rcv_nxt)
			tcp_reset(t);
		else
			tcp_challenge(t);
		return;
	}
	if (s->flags & TH_SYN) {
		tcp_challenge(t);
		return;
	}
	if (!(s->flags & TH_ACK))
		return;
	if (t->ts_ok && s->opt.has_ts && seq_le(s->seq, t->last_ack_sent) &&
	    seq_ge(s->opt.tsval, t->ts_recent)) {
		t->ts_recent = s->opt.tsval;
		t->ts_recent_ns = st->now_ns;
	}
	if (t->state == TCPS_SYN_RECV) {
		if (!seq_gt(s->ack, t->snd_una) || seq_gt(s->ack, t->snd_max)) {
			tcp_reply_rst(st, s);
			return;
		}
		if (!tcp_synrecv_ack(t, s))
			return;
	}
	if (!tcp_ack(t, s))
		return;
	if (s->len) {
		switch (t->state) {
		case TCPS_ESTABLISHED:
		case TCPS_FIN_WAIT1:
		case TCPS_FIN_WAIT2:
			if (!t->b.host_open && !t->parent &&
			    seq_gt(s->seq + s->len, t->rcv_nxt)) {
				/* data for a closed socket: Linux resets */
				tcp_send_rst(t);
				tcp_done(t);
				return;
			}
			whole = tcp_data(t, s);
			break;
		default:
			break;
		}
	}
	if ((s->flags & TH_FIN) && whole)
		tcp_fin(t, s);
	if (t->state == TCPS_CLOSED)
		return;
	tcp_send_queued(t);
	if (t->ack_now)
		tcp_send_ack(t);
}

/* --- entry points --------------------------------------------------------- */

/**
 * tcp_seg_parse() - read a segment's header and options into @s
 * @l4:		the TCP header and payload, @l4_len bytes the network layer
 *		vouched for (the checksum not yet verified)
 * @l4_len:	their length
 * @s:		segment whose addresses are set; the rest is filled here
 *
 * Header, options and payload are reached through pkt_ptr(), so a data
 * offset that points past the bytes is malformed.
 *
 * Return: 0, or -EINVAL when the segment is malformed (zero ports are
 * the caller's to refuse, after the checksum).
 */
int tcp_seg_parse(const uint8_t *l4, uint32_t l4_len, struct tcp_seg *s)
{
	const struct pkt seg = { .p = l4, .len = l4_len };
	const uint8_t *h, *opt;
	uint32_t hl;

	h = pkt_ptr(&seg, 0, TCP_HLEN);
	if (!h)
		return -EINVAL;
	hl = (uint32_t)(h[12] >> 4) * 4;
	if (hl < TCP_HLEN)
		return -EINVAL;
	opt = pkt_ptr(&seg, TCP_HLEN, hl - TCP_HLEN); /* in the segment? */
	if (!opt)
		return -EINVAL;
	s->sport = cove_get16(h);
	s->dport = cove_get16(h + 2);
	s->seq = cove_get32(h + 4);
	s->ack = cove_get32(h + 8);
	s->flags = h[13] & 0x3f;
	s->wnd = cove_get16(h + 14);
	s->data = pkt_ptr(&seg, hl, seg.len - hl);
	s->len = seg.len - hl;
	/* option bytes are bounded by their length: each is checked inside */
	(void)tcp_parse_opts(opt, hl - TCP_HLEN, s->flags & TH_SYN, &s->opt);
	return 0;
}

/**
 * tcp_seg_input() - hand a parsed, verified segment of either family to
 * its connection, its listener, or answer it with a RST
 * @st:		stack
 * @s:		the segment (addresses IPv4 mapped or IPv6)
 */
void tcp_seg_input(struct bstack *st, struct tcp_seg *s)
{
	struct tcp_ctx *c = st->tcp;
	struct tcb *t;

	t = tcb_lookup(c, &s->dst, s->dport, &s->src, s->sport);
	if (t) {
		tcp_rcv_segment(t, s);
	} else {
		t = tcp_listener_find(c, &s->dst, s->dport, &s->src, s->sport);
		if (t)
			tcp_listen_input(t, s);
		else
			tcp_reply_rst(st, s);
	}
	tcp_reap(c);
}

/**
 * tcp_layer_input() - a received IPv4 segment: parse, verify, demultiplex
 * @st:		stack
 * @pkt:	the IP packet (checked by IPv4; the TCP checksum is not yet)
 */
void tcp_layer_input(struct bstack *st, const struct ip_pkt *pkt)
{
	struct tcp_seg s;

	if (!st->tcp)
		return;
	st->stats.tcp_in_segs++;
	memset(&s, 0, sizeof(s));
	s.src = ipx_from_v4(pkt->src);
	s.dst = ipx_from_v4(pkt->dst);
	if (tcp_seg_parse(pkt->l4, pkt->l4_len, &s) < 0)
		goto malformed;
	if (!pkt->csum_ok && cove_csum_l4(pkt->src, pkt->dst, IPPROTO_TCP,
					  pkt->l4, pkt->l4_len) != 0) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	if (!s.sport || !s.dport || !pkt->src || pkt->src == 0xffffffffu)
		goto malformed;
	tcp_seg_input(st, &s);
	return;
malformed:
	st->stats.rx_malformed++;
	st->stats.rx_dropped++;
}

/**
 * tcp_input_end() - the input burst is over: send the ACKs it held
 * @st:	stack
 *
 * A held ACK already sent (piggybacked on data, or owed for another reason
 * and sent at once) left nothing unacknowledged and is skipped.
 */
void tcp_input_end(struct bstack *st)
{
	struct tcp_ctx *c = st->tcp;
	struct tcb *t;

	if (!c)
		return;
	while ((t = c->ack_list)) {
		c->ack_list = t->acknext;
		t->acknext = NULL;
		t->ack_held = false;
		if (!t->reaping && t->state != TCPS_CLOSED && t->rcv_unacked)
			tcp_send_ack(t);
	}
}

/**
 * tcp_icmp_apply() - what an ICMP(v6) error does to the connection it names
 * @st:		stack
 * @t:		the connection of the quoted segment, or NULL
 * @seq:	the quoted sequence number
 * @err:	the errno the error stands for
 * @hard:	it ends a connection still in SYN-SENT (Linux: unreachable)
 *
 * A quoted sequence number outside [snd_una, snd_max] is no segment we
 * have in flight (stale or forged) and is ignored. A hard error fails a
 * connect in progress, as Linux does; otherwise the error is kept as the
 * soft error (SO_ERROR of a connection that then times out).
 */
void tcp_icmp_apply(struct bstack *st, struct tcb *t, uint32_t seq, int err,
		    bool hard)
{
	if (!t || seq_lt(seq, t->snd_una) || seq_gt(seq, t->snd_max))
		return;
	if (hard && t->state == TCPS_SYN_SENT) {
		t->so_error = err;
		tcp_done(t);
		tcp_reap(st->tcp);
		return;
	}
	t->soft_error = err;
}

/**
 * tcp_icmp_error() - an ICMP error about a segment we sent
 * @st:		stack
 * @type:	ICMP type (3 unreachable, 11 time exceeded, ...)
 * @code:	ICMP code
 * @inner:	quoted IP header + at least 8 bytes of our TCP header
 * @inner_len:	bytes at @inner
 */
void tcp_icmp_error(struct bstack *st, uint8_t type, uint8_t code,
		    const uint8_t *inner, uint32_t inner_len)
{
	const struct pkt in = { .p = inner, .len = inner_len };
	struct tcp_ctx *c = st->tcp;
	struct in6_addr src, dst;
	const uint8_t *ih, *th;
	uint32_t ihl, v;
	struct tcb *t;
	int err;

	ih = pkt_ptr(&in, 0, IP_HLEN_);
	if (!c || !ih)
		return;
	ihl = (uint32_t)(ih[0] & 0x0f) * 4;
	th = pkt_ptr(&in, ihl, 8); /* ports and sequence number */
	if (ihl < IP_HLEN_ || !th)
		return;
	memcpy(&v, ih + 12, 4);
	src = ipx_from_v4(v);
	memcpy(&v, ih + 16, 4);
	dst = ipx_from_v4(v);
	t = tcb_lookup(c, &src, cove_get16(th), &dst, cove_get16(th + 2));
	if (type == 3 && code == 4)
		return; /* PMTU: our MSS already fits the link */
	if (type == 3)
		err = code == 2 || code == 3 ? ECONNREFUSED :
		      code == 0 || code == 6 || code == 9 || code == 11 ?
					       ENETUNREACH :
					       EHOSTUNREACH;
	else
		err = EHOSTUNREACH;
	tcp_icmp_apply(st, t, cove_get32(th + 4), err, type == 3);
}
