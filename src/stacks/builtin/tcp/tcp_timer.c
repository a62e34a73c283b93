// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP timers: RTO, SYN retries, persist, delayed ACK, keepalive, TIME-WAIT. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * Three timers per tcb on the core's wheel; each handler finds its tcb with
 * container_of and runs with the timer already disarmed.
 *
 *  t_rtx	RTO (RFC 6298: doubled per expiry, reset by new ACKs), SYN and
 *		SYN-ACK retries, and the persist timer while the peer's window
 *		is zero and nothing is in flight (t->persist tells which).
 *  t_delack	the delayed ACK, at most TCP_DELACK_NS after the data.
 *  t_keep	keepalive while synchronized; the FIN-WAIT-2 limit for
 *		orphans; 2 * MSL in TIME-WAIT.
 *
 * Two per context: t_out retries output for tcbs that found the frame pool
 * empty, t_reap frees tcbs whose end was decided inside a call.
 */

static struct timer_wheel *tcp_wheel(struct tcb *t)
{
	return &t->b.st->timers;
}

static uint64_t tcp_backoff_ns(const struct tcb *t)
{
	uint64_t us = t->rto_us;

	return us * 1000ull;
}

void tcp_rtx_arm(struct tcb *t)
{
	t->persist = false;
	t->tlp_armed = false;
	timer_arm(tcp_wheel(t), &t->t_rtx, tcp_now(t) + tcp_backoff_ns(t));
}

/**
 * tcp_rtx_restart() - data in flight: arm the tail loss probe or the RTO
 * @t:	connection
 *
 * A probe (RFC 8985's TLP, simplified) fires after 2 * SRTT (plus the
 * peer's delayed ACK when one segment is out) if that comes before the
 * RTO: it makes the peer's SACKs reveal a lost tail, which fast recovery
 * then repairs instead of a timeout. In recovery the probe resends the
 * segment at snd_una (its retransmission was lost too).
 */
void tcp_rtx_restart(struct tcb *t)
{
	uint64_t pto;

	if (t->sack_ok && t->srtt_us && !t->retries && !t->tlp_sent &&
	    (t->state == TCPS_ESTABLISHED || t->state == TCPS_CLOSE_WAIT)) {
		pto = 2ull * t->srtt_us;
		if (t->snd_max - t->snd_una <= t->mss)
			pto += TCP_DELACK_NS / 1000;
		if (pto < TCP_PTO_MIN_US)
			pto = TCP_PTO_MIN_US;
		if (pto < t->rto_us) {
			t->persist = false;
			t->tlp_armed = true;
			timer_arm(tcp_wheel(t), &t->t_rtx,
				  tcp_now(t) + pto * 1000ull);
			return;
		}
	}
	tcp_rtx_arm(t);
}

/* tcp_tlp_fire() - send new data, or the last segment again, as a probe. */
static void tcp_tlp_fire(struct tcb *t)
{
	uint32_t data_end = t->sb_seq + t->sb_len, seq, len;
	bool fin;

	t->tlp_armed = false;
	t->tlp_sent = true;
	if (t->snd_una == t->snd_max)
		return;
	t->ctx->tlp_probes++;
	if (t->in_recovery) {
		/* no progress for 2 RTT in recovery: the hole's resend died */
		tcp_retransmit_una(t);
		t->b.st->stats.tcp_fast_retransmits++;
	} else if (tcp_unsent(t) &&
		   seq_lt(t->snd_nxt, t->snd_una + t->snd_wnd)) {
		tcp_send_queued(t);
	} else {
		seq = t->snd_max - (t->snd_max - t->snd_una > t->mss ?
					    t->mss :
					    t->snd_max - t->snd_una);
		len = seq_lt(seq, data_end) ?
			      seq_min(data_end, t->snd_max) - seq :
			      0;
		fin = t->fin_queued && seq_gt(t->snd_max, data_end);
		tcp_probe_span(t, seq, len, fin);
	}
	if (!timer_armed(&t->t_rtx))
		tcp_rtx_arm(t);
}

/*
 * tcp_persist_arm() - use t_rtx as the persist timer: the RTO (at least
 * TCP_RTO_MIN_US) doubled per unanswered probe, at most TCP_RTO_MAX_US.
 * Does nothing while t_rtx runs: data in flight is the RTO's to watch.
 */
void tcp_persist_arm(struct tcb *t)
{
	uint64_t us;

	if (timer_armed(&t->t_rtx))
		return;
	us = (uint64_t)(t->rto_us < TCP_RTO_MIN_US ? TCP_RTO_MIN_US : t->rto_us)
	     << (t->pbackoff < 10 ? t->pbackoff : 10);
	if (us > TCP_RTO_MAX_US)
		us = TCP_RTO_MAX_US;
	t->persist = true;
	timer_arm(tcp_wheel(t), &t->t_rtx, tcp_now(t) + us * 1000ull);
}

void tcp_delack_arm(struct tcb *t)
{
	if (!timer_armed(&t->t_delack))
		timer_arm(tcp_wheel(t), &t->t_delack,
			  tcp_now(t) + TCP_DELACK_NS);
}

/**
 * tcp_keep_arm() - arm t_keep for the state @t is in
 * @t:	connection
 *
 * FIN-WAIT-2 orphans get the FIN-WAIT-2 limit (TCP_LINGER2's, if set;
 * negative: none, they end at once); synchronized connections
 * with SO_KEEPALIVE their idle time; anything else disarms.
 */
void tcp_keep_arm(struct tcb *t)
{
	if (t->state == TCPS_TIME_WAIT)
		return;
	if (t->state == TCPS_FIN_WAIT2 && !t->b.host_open) {
		timer_arm(tcp_wheel(t), &t->t_keep,
			  tcp_now(t) +
				  (t->linger2 < 0 ? 0 :
				   t->linger2	  ? t->linger2 * 1000000000ull :
						    TCP_FIN2_NS));
		return;
	}
	if (t->keepalive &&
	    (t->state == TCPS_ESTABLISHED || t->state == TCPS_CLOSE_WAIT ||
	     t->state == TCPS_FIN_WAIT1 || t->state == TCPS_FIN_WAIT2)) {
		timer_arm(tcp_wheel(t), &t->t_keep,
			  t->last_rcv_ns + t->keepidle * 1000000000ull);
		return;
	}
	timer_cancel(tcp_wheel(t), &t->t_keep);
}

/**
 * tcp_timewait() - enter TIME-WAIT (or restart it) for 2 * MSL
 * @t:	connection
 *
 * A closed socket gives its rings back now: nothing can be read or sent
 * any more. At most max_timewait connections wait 2 MSL (max_sockets,
 * like Linux's tcp_max_tw_buckets): beyond that a new one leaves TIME-WAIT
 * on the next run() (its timer is due at once, so nothing is freed under
 * the caller's feet), so a flood of short connections cannot grow memory
 * without bound.
 */
void tcp_timewait(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;
	bool full = t->state != TCPS_TIME_WAIT &&
		    c->ntimewait >= c->max_timewait;

	tcp_set_state(t, TCPS_TIME_WAIT);
	timer_cancel(tcp_wheel(t), &t->t_rtx);
	timer_cancel(tcp_wheel(t), &t->t_delack);
	t->persist = false;
	timer_arm(tcp_wheel(t), &t->t_keep,
		  tcp_now(t) + (full ? 0 : 2 * TCP_MSL_NS));
	tcp_orphan_clear(t); /* TIME-WAIT is not an orphan that needs a cap */
	if (!t->b.host_open)
		tcb_rings_free(t);
}

/* tcp_fail() - give up on the connection with @err (ETIMEDOUT...). */
static void tcp_fail(struct tcb *t, int err)
{
	t->so_error = t->soft_error ? t->soft_error : err;
	tcp_done(t);
}

/**
 * tcp_persist_fire() - t_rtx in persist mode: probe the peer's zero window
 * @t:		connection with unsent data, nothing in flight, snd_wnd 0
 *
 * If the window opened or data went out meanwhile, just sends. Otherwise
 * one window probe, with the probe backoff raised; the connection fails
 * with ETIMEDOUT after TCP_RETRIES2 unanswered probes, as Linux gives up
 * on a peer whose window stays shut.
 */
static void tcp_persist_fire(struct tcb *t)
{
	t->persist = false;
	if (t->snd_wnd || !tcp_unsent(t) || t->snd_una != t->snd_max) {
		tcp_send_queued(t);
		return;
	}
	if (t->retries >= TCP_RETRIES2) {
		tcp_fail(t, ETIMEDOUT);
		return;
	}
	t->ctx->persist_probes++;
	tcp_send_probe(t);
	t->retries++;
	if (t->pbackoff < 255)
		t->pbackoff++;
	tcp_persist_arm(t);
}

/**
 * tcp_rtx_fire() - the retransmission timeout (RFC 6298) and its stand-ins
 * @tm:		the tcb's t_rtx
 *
 * t_rtx also carries the persist timer and the tail loss probe: those go
 * to their own handlers. A handshake resends its SYN or SYN-ACK with a
 * doubled RTO until TCP_SYN_RETRIES (or TCP_SYNCNT's) / TCP_SYNACK_RETRIES. Otherwise, with
 * data in flight: the congestion control's on_timeout on the first
 * expiry (or during recovery), cwnd one MSS on later ones; all in flight
 * is counted lost, the SACK scoreboard cleared, snd_nxt rewound to
 * snd_una (go-back-N) and the RTO doubled up to TCP_RTO_MAX_US. After
 * TCP_RETRIES2 expiries (TCP_ORPHAN_RETRIES once the host closed it), or
 * with TCP_USER_TIMEOUT set once that long has passed since the first
 * expiry instead (checked at each expiry), the connection fails with ETIMEDOUT, or with the soft error an ICMP report
 * left behind.
 */
static void tcp_rtx_fire(struct btimer *tm)
{
	struct tcb *t = container_of_(tm, struct tcb, t_rtx);
	struct bstack *st = t->b.st;
	uint32_t limit, defer;

	if (t->persist) {
		tcp_persist_fire(t);
		return;
	}
	if (t->tlp_armed) {
		tcp_tlp_fire(t);
		return;
	}
	switch (t->state) {
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECV:
		limit = t->state != TCPS_SYN_SENT ? TCP_SYNACK_RETRIES :
			t->syn_retries		  ? t->syn_retries :
						    TCP_SYN_RETRIES;
		defer = t->parent ? t->parent->defer_retrans : 0;
		if (defer > limit)
			limit = defer;
		if (++t->retries > limit) {
			tcp_fail(t, ETIMEDOUT);
			return;
		}
		st->stats.tcp_timeouts++;
		t->rto_us = t->rto_us * 2 > TCP_RTO_MAX_US ? TCP_RTO_MAX_US :
							     t->rto_us * 2;
		/* a peer whose ACK was held back for TCP_DEFER_ACCEPT gets
		 * only the last SYN-ACK, whose ACK is then taken (Linux:
		 * syn_ack_recalc()) */
		if (!t->defer_acked || t->retries >= defer) {
			tcp_send_syn(t);
			st->stats.tcp_retransmits++;
			t->total_retrans++;
		}
		tcp_rtx_arm(t);
		return;
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		break;
	default:
		return;
	}
	if (t->snd_una == t->snd_max)
		return;
	if (!t->retries)
		t->rtx_start_ns = tcp_now(t);
	limit = t->b.host_open ? TCP_RETRIES2 : TCP_ORPHAN_RETRIES;
	if (++t->retries > limit && !t->user_timeout_ms) {
		tcp_fail(t, ETIMEDOUT);
		return;
	}
	if (t->user_timeout_ms &&
	    tcp_now(t) - t->rtx_start_ns >= t->user_timeout_ms * 1000000ull) {
		tcp_fail(t, ETIMEDOUT);
		return;
	}
	st->stats.tcp_timeouts++;
	if (t->retries == 1 || t->in_recovery)
		t->cc->on_timeout(t);
	else
		t->cwnd = t->mss;
	t->lost_segs += (t->snd_max - t->snd_una + t->mss - 1) / t->mss;
	t->in_recovery = false;
	t->dupacks = 0;
	t->recover = t->snd_max;
	t->high_rxt = t->snd_una;
	tcp_sb_clear(t);
	t->snd_nxt = t->snd_una;
	t->rtt_timing = false;
	t->rto_us = t->rto_us * 2 > TCP_RTO_MAX_US ? TCP_RTO_MAX_US :
						     t->rto_us * 2;
	tcp_send_queued(t);
	if (!timer_armed(&t->t_rtx))
		tcp_rtx_arm(t);
}

/**
 * tcp_delack_fire() - the delayed ACK is due: send it
 * @tm:		the tcb's t_delack
 *
 * Only in states that still receive data or a FIN; a connection that
 * moved on meanwhile (closed, TIME-WAIT) sends nothing.
 */
static void tcp_delack_fire(struct btimer *tm)
{
	struct tcb *t = container_of_(tm, struct tcb, t_delack);

	switch (t->state) {
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT1:
	case TCPS_FIN_WAIT2:
	case TCPS_CLOSE_WAIT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		tcp_send_ack(t);
		break;
	default:
		break;
	}
}

/**
 * tcp_keep_fire() - t_keep: end of TIME-WAIT, orphan FIN-WAIT-2 limit, or
 * a keepalive step
 * @tm:		the tcb's t_keep
 *
 * TIME-WAIT and an orphan's FIN-WAIT-2 end the connection. For keepalive
 * (RFC 1122 4.2.3.6): with data in flight the RTO watches the peer, so the
 * check moves a whole idle period on; before the first probe the idle
 * time counts from the last segment received; then up to keepcnt probes,
 * keepintvl apart, before a RST and ETIMEDOUT. Any segment from the peer
 * resets keep_probes (tcp_in.c), which ends the probing.
 */
static void tcp_keep_fire(struct btimer *tm)
{
	struct tcb *t = container_of_(tm, struct tcb, t_keep);
	uint64_t now = tcp_now(t), idle_ns;

	if (t->state == TCPS_TIME_WAIT ||
	    (t->state == TCPS_FIN_WAIT2 && !t->b.host_open)) {
		tcp_done(t);
		return;
	}
	if (!t->keepalive)
		return;
	if (t->snd_una != t->snd_max || tcp_unsent(t)) {
		/* data in flight: the RTO watches the connection */
		timer_arm(tcp_wheel(t), &t->t_keep,
			  now + t->keepidle * 1000000000ull);
		return;
	}
	idle_ns = now - t->last_rcv_ns;
	if (!t->keep_probes && idle_ns < t->keepidle * 1000000000ull) {
		tcp_keep_arm(t);
		return;
	}
	if (t->keep_probes >= t->keepcnt) {
		tcp_send_rst(t);
		tcp_fail(t, ETIMEDOUT);
		return;
	}
	t->keep_probes++;
	t->ctx->keep_probes++;
	tcp_send_probe(t);
	timer_arm(tcp_wheel(t), &t->t_keep, now + t->keepintvl * 1000000000ull);
}

void tcp_timers_init(struct tcb *t)
{
	t->t_rtx.fn = tcp_rtx_fire;
	t->t_delack.fn = tcp_delack_fire;
	t->t_keep.fn = tcp_keep_fire;
}

/* tcp_timers_stop() - cancel all three timers and the modes riding t_rtx. */
void tcp_timers_stop(struct tcb *t)
{
	struct timer_wheel *w = tcp_wheel(t);

	timer_cancel(w, &t->t_rtx);
	timer_cancel(w, &t->t_delack);
	timer_cancel(w, &t->t_keep);
	t->persist = false;
	t->tlp_armed = false;
}

/* tcp_out_timer() - retry output for every tcb that found the pool empty. */
void tcp_out_timer(struct btimer *tm)
{
	struct tcp_ctx *c = container_of_(tm, struct tcp_ctx, t_out);
	struct tcb *list = c->out_list, *t;

	c->out_list = NULL;
	while ((t = list)) {
		list = t->outnext;
		t->outnext = NULL;
		t->want_out = false;
		tcp_send_queued(t);
		if (t->ack_now && !t->reaping && t->state != TCPS_CLOSED)
			tcp_send_ack(t);
	}
}

void tcp_reap_timer(struct btimer *tm)
{
	tcp_reap(container_of_(tm, struct tcp_ctx, t_reap));
}

void tcp_ctx_timers_init(struct tcp_ctx *c)
{
	c->t_out.fn = tcp_out_timer;
	c->t_reap.fn = tcp_reap_timer;
}
