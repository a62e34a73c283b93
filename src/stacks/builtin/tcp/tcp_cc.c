// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP congestion control: NewReno (RFC 5681/6582) and CUBIC (RFC 9438). */
#include <string.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * The tcb owns cwnd and ssthresh in bytes; an algorithm only moves them
 * through the hooks of struct tcp_cc_ops. Loss recovery itself (when to
 * retransmit, window inflation for NewReno without SACK, pipe for SACK) is
 * tcp_in.c's, so both algorithms share it. Slow start is the same for both
 * (cwnd grows by the bytes acknowledged, RFC 3465 without the L limit, as
 * Linux does). CUBIC computes in segments with doubles; its cube root is a
 * few Newton steps so the stack needs no libm.
 */

#define TCP_CWND_MAX (1u << 30)

uint32_t tcp_flight(const struct tcb *t)
{
	return t->snd_max - t->snd_una;
}

static uint32_t tcp_half_flight(const struct tcb *t)
{
	uint32_t h = tcp_flight(t) / 2;

	return h > 2 * t->mss ? h : 2 * t->mss;
}

static bool tcp_slow_start(struct tcb *t, uint32_t acked)
{
	if (t->cwnd >= t->ssthresh)
		return false;
	t->cwnd += acked;
	if (t->cwnd > TCP_CWND_MAX)
		t->cwnd = TCP_CWND_MAX;
	return true;
}

/* --- NewReno ---------------------------------------------------------------- */

static void reno_init(struct tcb *t)
{
	t->cwnd_cnt = 0;
}

/*
 * reno_on_ack() - NewReno growth (RFC 5681): slow start below ssthresh,
 * then one MSS per cwnd's worth of bytes acknowledged (counted in
 * cwnd_cnt, so ACKs of any size add up exactly).
 */
static void reno_on_ack(struct tcb *t, uint32_t acked, uint32_t rtt_us)
{
	(void)rtt_us;
	if (tcp_slow_start(t, acked))
		return;
	t->cwnd_cnt += acked;
	if (t->cwnd_cnt >= t->cwnd) {
		t->cwnd_cnt -= t->cwnd;
		if (t->cwnd < TCP_CWND_MAX)
			t->cwnd += t->mss;
	}
}

static void reno_on_congestion(struct tcb *t)
{
	t->ssthresh = tcp_half_flight(t);
	t->cwnd_cnt = 0;
}

static void reno_on_timeout(struct tcb *t)
{
	t->ssthresh = tcp_half_flight(t);
	t->cwnd = t->mss;
	t->cwnd_cnt = 0;
}

static void reno_on_recovery_exit(struct tcb *t)
{
	t->cwnd = t->ssthresh;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.on_congestion = reno_on_congestion,
	.on_timeout = reno_on_timeout,
	.on_recovery_exit = reno_on_recovery_exit,
};

/* --- CUBIC ------------------------------------------------------------------ */

#define CUBIC_C	   0.4
#define CUBIC_BETA 0.7

/* cubic_cbrt() - cube root of @x >= 0 by Newton's method. */
static double cubic_cbrt(double x)
{
	double y = 1.0;
	int i;

	if (x <= 0)
		return 0;
	while (y * y * y < x)
		y *= 2;
	for (i = 0; i < 30; i++) {
		double n = (2 * y + x / (y * y)) / 3;

		if (n >= y - 1e-9 && n <= y + 1e-9)
			return n;
		y = n;
	}
	return y;
}

static void cubic_init(struct tcb *t)
{
	memset(&t->cubic, 0, sizeof(t->cubic));
}

/**
 * cubic_on_ack() - grow cwnd for @acked new bytes (RFC 9438)
 * @t:		connection
 * @acked:	bytes this ACK newly acknowledged
 * @rtt_us:	RTT sample of this ACK, 0 when none (Karn)
 *
 * Slow start (tcp_slow_start()) until ssthresh. Then the first ACK of a
 * congestion-avoidance epoch fixes its start and K, the time to climb
 * back to w_max. Each ACK aims at W_cubic one RTT ahead (srtt, else the
 * smallest RTT seen), at most 1.5 * cwnd, or at the Reno-friendly
 * estimate w_est, reached at once, when that is larger. Windows are
 * computed in segments as doubles and applied in bytes; fractions of a
 * byte carry over in cu->frac, and cwnd never passes TCP_CWND_MAX. The
 * epoch ends in on_congestion and on_recovery_exit, not here.
 */
static void cubic_on_ack(struct tcb *t, uint32_t acked, uint32_t rtt_us)
{
	struct tcp_cubic *cu = &t->cubic;
	double cwnd, tsec, target, wc, segs, inc;
	uint64_t now = tcp_now(t);

	if (rtt_us && (!cu->delay_min_us || rtt_us < cu->delay_min_us))
		cu->delay_min_us = rtt_us;
	if (tcp_slow_start(t, acked))
		return;
	cwnd = (double)t->cwnd / t->mss;
	segs = (double)acked / t->mss;
	if (!cu->epoch_ns) {
		cu->epoch_ns = now;
		if (cwnd < cu->w_max) {
			cu->k = cubic_cbrt((cu->w_max - cwnd) / CUBIC_C);
		} else {
			cu->k = 0;
			cu->w_max = cwnd;
		}
		cu->w_est = cwnd;
	}
	tsec = (double)(now - cu->epoch_ns) / 1e9 +
	       (double)(t->srtt_us ? t->srtt_us : cu->delay_min_us) / 1e6;
	wc = CUBIC_C * (tsec - cu->k) * (tsec - cu->k) * (tsec - cu->k) +
	     cu->w_max;
	/* Reno-friendly region (RFC 9438 4.3) */
	cu->w_est += (cu->w_est < cu->w_max ?
			      3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA) :
			      1.0) *
		     segs / cwnd;
	if (wc < cu->w_est) {
		target = cu->w_est;
		inc = target > cwnd ? (target - cwnd) : 0;
	} else {
		target = wc;
		if (target > 1.5 * cwnd)
			target = 1.5 * cwnd;
		inc = target > cwnd ? (target - cwnd) / cwnd * segs : 0;
	}
	/* carry fractions of a byte to the next ACK */
	inc = inc * t->mss + cu->frac;
	if (inc >= 1.0) {
		uint32_t add = inc > TCP_CWND_MAX ? TCP_CWND_MAX :
						    (uint32_t)inc;

		cu->frac = inc - add;
		t->cwnd = t->cwnd + add > TCP_CWND_MAX ? TCP_CWND_MAX :
							 t->cwnd + add;
	} else {
		cu->frac = inc;
	}
}

/*
 * cubic_on_congestion() - loss detected: remember w_max (lowered further
 * when losses come before the last w_max was regained, RFC 9438 fast
 * convergence), ssthresh = beta * cwnd (at least two segments), and end
 * the growth epoch.
 */
static void cubic_on_congestion(struct tcb *t)
{
	struct tcp_cubic *cu = &t->cubic;
	double cwnd = (double)t->cwnd / t->mss;
	uint32_t ss;

	if (cwnd < cu->w_max) /* fast convergence */
		cu->w_max = cwnd * (1 + CUBIC_BETA) / 2;
	else
		cu->w_max = cwnd;
	ss = (uint32_t)(t->cwnd * CUBIC_BETA);
	t->ssthresh = ss > 2 * t->mss ? ss : 2 * t->mss;
	cu->epoch_ns = 0;
}

static void cubic_on_timeout(struct tcb *t)
{
	cubic_on_congestion(t);
	t->cwnd = t->mss;
}

static void cubic_on_recovery_exit(struct tcb *t)
{
	t->cwnd = t->ssthresh;
	t->cubic.epoch_ns = 0;
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_congestion = cubic_on_congestion,
	.on_timeout = cubic_on_timeout,
	.on_recovery_exit = cubic_on_recovery_exit,
};

/**
 * tcp_cc_find() - an algorithm by name
 * @name:	"cubic", "newreno" ("reno" too); NULL: none
 *
 * Return: the ops or NULL.
 */
const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "cubic"))
		return &tcp_cc_cubic;
	if (!strcmp(name, "newreno") || !strcmp(name, "reno"))
		return &tcp_cc_newreno;
	return NULL;
}
