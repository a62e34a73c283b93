/* SPDX-License-Identifier: Apache-2.0 */
/* Builtin TCP internals: the connection block, the context, cc ops, helpers. */
#ifndef COVE_BUILTIN_TCP_H
#define COVE_BUILTIN_TCP_H

/*
 * Theory of operation
 *
 * One struct tcb per socket and per connection: the host's socket *is* the
 * tcb (struct bsock first), listeners included. Embryonic connections
 * (SYN-RECV) and connections waiting in a listener's accept queue are tcbs
 * the host has no handle on yet; orphans are tcbs the host closed while a
 * graceful close finishes. A tcb is freed (deferred to the reaper, never in
 * the middle of a call that still uses it) once it is CLOSED and no host
 * handle remains. A SYN that finds its listener's SYN queue full gets a
 * SYN cookie and no tcb; the ACK returning a valid one makes the child
 * then (tcp_cookie.c).
 *
 * Tables (all in struct tcp_ctx, one per stack instance):
 *  - conn hash: every tcb with a 4-tuple (SYN-SENT .. TIME-WAIT), chained,
 *    keyed by a seeded mix of the tuple: O(1) demux;
 *  - ports[65536]: per local port, the list of tcbs using it (bind
 *    conflicts, ephemeral choice) and its listen groups: one per bound
 *    address, holding one listener, or several that all set SO_REUSEPORT
 *    (tcp_port.c picks one per 4-tuple).
 *
 * Sequence space of the sender: [snd_una, snd_max) is in flight;
 * the send ring holds the data bytes from sb_seq (== snd_una, or one past
 * it while our SYN is unacknowledged) for sb_len bytes; a queued FIN sits at
 * sb_seq + sb_len. The send ring is allocated when data is first queued
 * and grows (sb_cap, doubling) toward sb_size, the SO_SNDBUF limit, as the
 * queue needs it and the stack's memory budget allows (mem.c); an empty
 * one is given back when it is the minimum, or under pressure. The receive ring is allocated
 * when the first byte arrives (an idle connection holds none; at the
 * budget's hard limit the segment is dropped unacknowledged) and is given
 * back empty under pressure, too. The receiver keeps bytes in order at
 * the ring's tail (rb_len readable bytes) and writes out-of-order bytes at
 * their offset beyond; @ooo lists which of those are valid. The
 * advertised right edge rcv_adv never passes rcv_nxt + free ring space
 * (rb_size when there is no ring yet), so everything acceptable
 * fits. Both rings come from the stack's budget (bmem_alloc()), and
 * ctx->orphans lists the tcbs the host closed that still finish a close,
 * so the hard limit can reset those holding data (tcp_mem_oom()).
 *
 * Timers (core wheel, embedded): t_rtx (RTO, SYN/SYN-ACK retries, persist),
 * t_delack, t_keep (keepalive, orphan FIN-WAIT-2, TIME-WAIT).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stacks/builtin/builtin.h"
#include "stacks/builtin/hash.h"
#include "stacks/builtin/ip6.h"

#define container_of_(p, type, member) \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

/* States, numbered like Linux's TCP_* (tcp_info.tcpi_state uses them). */
enum tcp_state {
	TCPS_ESTABLISHED = 1,
	TCPS_SYN_SENT,
	TCPS_SYN_RECV,
	TCPS_FIN_WAIT1,
	TCPS_FIN_WAIT2,
	TCPS_TIME_WAIT,
	TCPS_CLOSED,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
	TCPS_LISTEN,
	TCPS_CLOSING,
};

/* Header flags. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

#define TCP_HLEN    20u
#define TCP_OPT_MAX 40u

/* Shutdown bits, like sk_shutdown. */
#define TCP_SHUT_RD 1u
#define TCP_SHUT_WR 2u

/* Limits and defaults. */
#define TCP_OOO_MAX	    32u /* receive-side out-of-order ranges */
#define TCP_SB_MAX	    32u /* sender scoreboard ranges */
#define TCP_HASH_BUCKETS    4096u
#define TCP_BUF_MIN	    4096u
#define TCP_BUF_MAX	    (32u << 20)
#define TCP_BUF_DEFAULT	    (256u << 10)
#define TCP_RB_AUTO_MAX	    (4u << 20) /* receive ring autotuning ceiling */
#define TCP_DEF_MSS	    536u
#define TCP_IW_SEGS	    10u /* initial window, RFC 6928 */
#define TCP_RTO_INIT_US	    1000000u
#define TCP_RTO_MIN_US	    200000u
#define TCP_RTO_MAX_US	    120000000u
#define TCP_DELACK_NS	    40000000ull
#define TCP_MSL_NS	    30000000000ull
#define TCP_FIN2_NS	    60000000000ull /* orphan FIN-WAIT-2 limit */
#define TCP_SYN_RETRIES	    6u
#define TCP_SYNACK_RETRIES  5u
#define TCP_RETRIES2	    15u
#define TCP_ORPHAN_RETRIES  8u
#define TCP_KEEPIDLE_S	    7200u
#define TCP_KEEPINTVL_S	    75u
#define TCP_DEF_KEEPCNT	    9u
#define TCP_BACKLOG_MAX	    4096u
#define TCP_QUICKACKS	    16u
#define TCP_CHALLENGE_PER_S 1000u /* RFC 5961 sec. 7: mean global budget */
#define TCP_CHAL_GAP_NS	    500000000ull /* per socket, tcp_invalid_ratelimit */
#define TCP_DUPTHRESH	    3u
#define TCP_PTO_MIN_US	    10000u     /* tail loss probe floor */
#define TCP_TICK_RETRY_NS   1000000ull /* retry output when the pool was dry */
#define TCP_EPH_LO	    32768u
#define TCP_EPH_HI	    60999u
/* SYN cookies (tcp_cookie.c): a counter step, and how many steps live */
#define TCP_COOKIE_PERIOD_NS (64ull * 1000000000ull)
#define TCP_COOKIE_AGE	     2u

/* Sequence comparisons (modulo 2^32). */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}
static inline bool seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

struct tcp_range {
	uint32_t start, end; /* [start, end) */
	uint32_t stamp;	     /* receive side: recency for SACK order */
};

/* Parsed options of one segment. */
struct tcp_opts {
	uint16_t mss;
	uint8_t ws;
	bool has_mss, has_ws, sack_ok, has_ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	struct tcp_range sack[4];
};

/*
 * What a SYN or SYN-ACK announces (tcp_syn_opts()): MSS always; SACK
 * permitted, timestamps and window scale when set.
 */
struct tcp_synopt {
	uint16_t mss;
	bool sack, ts, ws;
	uint8_t wscale;
	uint32_t tsval, tsecr;
};

/*
 * What a handshake agreed, for a new child (tcp_child_setup()): read from
 * the SYN, or recovered from a SYN cookie.
 */
struct tcp_synparams {
	uint16_t mss; /* the peer's MSS, 0: none (TCP_DEF_MSS) */
	uint8_t snd_ws;
	bool ts_ok, sack_ok, ws_ok;
	uint32_t ts_off; /* our timestamp offset */
};

/*
 * A parsed incoming segment (host byte order), from IPv4 or IPv6: the
 * addresses in struct in6_addr, IPv4 in mapped form (ip6.h), so the
 * 4-tuple has one shape.
 */
struct tcp_seg {
	struct in6_addr src, dst; /* the packet's source and destination */
	uint32_t scope_id;	  /* IPv6 link-local source: its interface */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len; /* payload bytes */
	struct tcp_opts opt;
};

struct tcb;

/*
 * Congestion control: a small ops table. cwnd and ssthresh live in the tcb
 * (bytes); each algorithm keeps its private state in tcb->cc_priv.
 */
struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcb *t);
	/* on_ack() - @acked bytes newly acknowledged outside recovery. */
	void (*on_ack)(struct tcb *t, uint32_t acked, uint32_t rtt_us);
	/* on_congestion() - entering fast recovery: set ssthresh. */
	void (*on_congestion)(struct tcb *t);
	/* on_timeout() - RTO: set ssthresh, cwnd = one segment. */
	void (*on_timeout)(struct tcb *t);
	/* on_recovery_exit() - recovery done: cwnd from ssthresh. */
	void (*on_recovery_exit)(struct tcb *t);
};

struct tcp_cubic {
	double w_max;	   /* segments */
	double k;	   /* seconds */
	double w_est;	   /* Reno-friendly estimate, segments */
	uint64_t epoch_ns; /* 0: no epoch yet */
	uint32_t delay_min_us;
	double frac; /* fraction of a byte of growth owed */
};

struct tcb {
	struct bsock b; /* first: the host's socket */
	struct tcp_ctx *ctx;

	uint8_t state;	 /* enum tcp_state */
	uint8_t shut;	 /* TCP_SHUT_* */
	bool done;	 /* a connection ended here (SOCK_DONE) */
	bool user_bound; /* bind() named the port */
	bool reuseaddr, reuseport, keepalive, nodelay, cork, linger_on;
	bool in_hash, on_port, orphan;
	bool rx_open;		    /* tcb_rx_open(): data may arrive */
	bool rx_resv;		    /* its ring is promised (mem.resv) */
	bool fin_queued;	    /* app asked for FIN after the data */
	bool rcv_fin;		    /* FIN received (in order, counted) */
	bool ooo_fin;		    /* FIN seen beyond a hole at @ooo_fin_seq */
	bool ts_ok, sack_ok, ws_ok; /* negotiated */
	bool in_recovery;	    /* fast recovery (SACK or NewReno) */
	bool rtt_timing;
	bool want_out; /* on ctx->out_list */
	bool reaping;
	bool persist;	/* t_rtx is the persist timer */
	bool ack_now;	/* an ACK is owed before we return */
	bool ack_held;	/* on ctx->ack_list: ACK at burst end */
	bool tlp_armed; /* t_rtx is a tail loss probe timer */
	bool tlp_sent;	/* one probe per flight, until new ACK */
	uint8_t snd_ws, rcv_ws;
	uint8_t tos;
	uint8_t retries; /* consecutive RTOs / SYN retries */
	uint8_t keep_probes;
	uint8_t pbackoff; /* persist: probes sent since the window closed */
	uint8_t quickacks;
	bool pingpong;	       /* TCP_QUICKACK 0 asked for delayed ACKs */
	uint8_t defer_retrans; /* listener: TCP_DEFER_ACCEPT, in SYN-ACK
				   * timeouts (tcp_defer_retrans()) */
	bool defer_acked;      /* child: a pure ACK was held back for it */
	uint32_t wclamp;       /* TCP_WINDOW_CLAMP bytes; 0: none */
	int so_error, soft_error;
	int linger;
	/* Options as Linux keeps them (tcp_sock.c); zeroed: the defaults. */
	uint32_t user_timeout_ms; /* TCP_USER_TIMEOUT; 0: none */
	int linger2;		  /* TCP_LINGER2 seconds; 0: default; -1 */
	uint16_t user_mss;	  /* TCP_MAXSEG; 0: none */
	uint8_t syn_retries;	  /* TCP_SYNCNT; 0: TCP_SYN_RETRIES */
	uint8_t ttl;		  /* IP_TTL; 0: the default, 64 */
	int priority;		  /* SO_PRIORITY, remembered only */
	uint8_t pmtudisc;	  /* IP_MTU_DISCOVER, if @pmtudisc_set */
	bool pmtudisc_set;
	struct cove_ip_mcopts mc; /* IP_MULTICAST_LOOP (the rest EINVAL) */
	uint32_t rcvbuf_rep, sndbuf_rep; /* SO_RCVBUF/SO_SNDBUF as Linux
					  * reports a set value; 0: unset */
	uint64_t rtx_start_ns; /* when the first RTO of this run fired */

	/* the 4-tuple: IPv4 in mapped form (ip6.h); the peer's family is
	 * the family of the wire (ipx_is_v4(&raddr)) */
	struct in6_addr laddr, raddr;
	uint16_t lport, rport; /* host order */
	uint32_t scope_id;     /* link-local peer: its interface index */
	uint8_t family;	       /* the socket's: AF_INET or AF_INET6 */
	bool v6only;	       /* IPV6_V6ONLY (AF_INET6 only) */
	uint8_t tclass;	       /* IPV6_TCLASS (IPv6 segments; tos: IPv4's) */
	uint8_t hlim;	       /* IPV6_UNICAST_HOPS to send; 0: the default */
	uint16_t hops;	       /* IPV6_UNICAST_HOPS + 1 as set; 0: never */
	uint8_t pmtudisc6;     /* IPV6_MTU_DISCOVER + 1; 0: never set */

	/* tables */
	struct tcb *hnext, **hpprev;	     /* conn hash */
	struct tcb *pnext, **ppprev;	     /* port list */
	struct tcb *outnext;		     /* ctx->out_list */
	struct tcb *acknext;		     /* ctx->ack_list */
	struct tcb *onext;		     /* ctx->reap_list */
	struct tcb *orph_next, **orph_pprev; /* ctx->orphans */

	/* listener */
	struct tcp_lgroup *lgroup;   /* listener: its group on the port */
	uint32_t lg_idx;	     /* listener: index in lgroup->v */
	struct tcb *parent;	     /* child: its listener */
	struct tcb *qnext, **qpprev; /* child: on parent's syn or accept list */
	bool in_accept_q;
	struct tcb *syn_head; /* listener: SYN-RECV children */
	struct tcb *acc_head, **acc_tail;
	uint32_t backlog, syn_qlen, acc_qlen;

	/* SYN cookies (tcp_cookie.c) */
	uint64_t cookie_until_ns; /* listener: ACKs may return one before */
	bool synflood_warned;	  /* listener: said it sends cookies */
	bool from_cookie;	  /* child of a cookie: no handshake RTT */

	/* send side */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_sndwnd, snd_wl1, snd_wl2;
	uint32_t smss; /* data + options per segment (peer MSS, MTU) */
	uint32_t mss;  /* data per segment: smss - timestamp option */
	uint16_t peer_mss;
	uint8_t *sbuf;	  /* sb_cap bytes, NULL while 0 */
	uint32_t sb_size; /* the limit (SO_SNDBUF) */
	uint32_t sb_cap;  /* bytes allocated, <= sb_size */
	uint32_t sb_head, sb_len, sb_seq;

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv;
	uint32_t rcv_mss;
	uint32_t rcv_unacked; /* bytes since our last ACK */
	uint8_t *rbuf;	      /* rb_size bytes; NULL until data arrives */
	uint32_t rb_size, rb_head, rb_len;
	uint32_t rb_max;	   /* autotuning ceiling; rb_size if locked */
	uint32_t rrtt_seq;	   /* receiver RTT: one window ends here */
	uint64_t rrtt_ns;	   /* ... advertised then (0: not measuring) */
	uint64_t rcv_rtt_ns;	   /* receiver's RTT estimate, 0: none yet */
	uint64_t rcv_space_ns;	   /* start of the current read interval */
	uint32_t rcv_space_copied; /* bytes the app read in it */
	uint32_t ooo_fin_seq;
	uint8_t nooo;
	uint32_t ooo_stamp;
	struct tcp_range ooo[TCP_OOO_MAX];
	bool dsack;		    /* dsack_blk goes first in the next ACK */
	struct tcp_range dsack_blk; /* a duplicate we received (RFC 2883) */
	uint32_t ts_recent, ts_off, last_ack_sent;
	uint64_t ts_recent_ns;
	uint64_t chal_next_ns; /* no challenge ACK before this (per socket) */

	/* loss recovery */
	uint8_t nsacked;
	struct tcp_range sacked[TCP_SB_MAX];
	uint32_t sacked_bytes; /* sum over @sacked */
	uint32_t high_rxt;     /* SACK recovery: retransmitted below */
	uint32_t recover;      /* RFC 6582 */
	uint32_t dupacks;
	uint64_t una_rxt_ns; /* when snd_una's segment was last resent */
	uint32_t total_retrans, lost_segs;

	/* congestion control */
	const struct tcp_cc_ops *cc;
	uint32_t cwnd, ssthresh;
	uint32_t cwnd_cnt; /* NewReno: bytes toward the next MSS */
	struct tcp_cubic cubic;

	/* RTT (RFC 6298), microseconds */
	uint32_t srtt_us, rttvar_us, rto_us, min_rtt_us;
	uint32_t rtt_seq;
	uint64_t rtt_ns;

	/* keepalive settings, seconds */
	uint32_t keepidle, keepintvl, keepcnt;
	uint64_t last_rcv_ns, last_snd_ns;

	struct btimer t_rtx, t_delack, t_keep;
};

/*
 * Listeners on one local address and port: one, or several that all set
 * SO_REUSEPORT. A new connection goes to v[pick(hash(4-tuple), n)], so the
 * choice is deterministic per 4-tuple and even across members. Allocated
 * by listen(), never on the data path.
 */
struct tcp_lgroup {
	struct tcp_lgroup *next; /* the port's other groups */
	struct in6_addr laddr;	 /* as the members' (tcp_port.c) */
	bool v6only;		 /* the members' IPV6_V6ONLY */
	uint32_t n, cap;
	struct tcb **v; /* [cap], n used */
};

struct tcp_ctx {
	struct bstack *st;
	struct tcb *hash[TCP_HASH_BUCKETS];
	struct tcp_port {
		struct tcb *head;	   /* every tcb using this local port */
		struct tcp_lgroup *groups; /* listeners, by address */
	} * ports;			   /* [65536] */
	uint64_t hash_seed;
	uint64_t isn_key[2]; /* SipHash key */
	uint32_t next_port;
	uint32_t nconns; /* tcbs not CLOSED */
	uint32_t nestab;
	uint32_t ntcb, norphans, nembryonic;
	uint32_t max_orphans, max_embryonic;
	uint32_t ntimewait, max_timewait; /* like tcp_max_tw_buckets */
	struct tcb *orphans;		  /* tcbs with t->orphan set */
	uint64_t oom_resets; /* orphans reset at the memory hard limit */
	const struct tcp_cc_ops *cc_default;
	/* challenge ACK limit (RFC 5961 sec. 7), see tcp_challenge_ok() */
	uint64_t chal_sec;  /* the second chal_left belongs to */
	uint32_t chal_left; /* global budget left in it (randomised) */
	/* ... challenge ACKs held by a socket's spacing, by the budget */
	uint64_t chal_skip_sock, chal_skip_all;
	struct tcb *out_list;  /* tcbs to retry output for */
	struct tcb *ack_list;  /* ACKs held until the input burst ends */
	struct tcb *reap_list; /* tcbs to free */
	struct btimer t_out, t_reap;
	/* counters beyond cove_stack_stats (tests, docs) */
	uint64_t sack_recoveries, reno_recoveries, sack_blocks_in;
	uint64_t persist_probes, keep_probes, tlp_probes;
	uint64_t listen_drops; /* SYNs a full listener dropped */
	uint64_t pmtu_lowered; /* Packet Too Big shrank a segment size */
	/* SYN cookies (tcp_cookie.c): two SipHash keys, counters */
	uint64_t cookie_key[2][2];
	uint64_t syncookies_sent, syncookies_recv, syncookies_failed;
};

static inline struct tcb *tcb_of(struct bsock *b)
{
	return container_of_(b, struct tcb, b);
}

/* tcp_v6() - does a connection to (or a segment from) @peer use IPv6? */
static inline bool tcp_v6(const struct in6_addr *peer)
{
	return !ipx_is_v4(peer);
}

/* tcp_addr_local() - @a (either family) is one of the stack's addresses. */
static inline bool tcp_addr_local(const struct bstack *st,
				  const struct in6_addr *a)
{
	return ipx_is_v4(a) ? ip_is_local(st, ipx_v4(a)) : ip6_is_local(st, a);
}

static inline uint64_t tcp_now(const struct tcb *t)
{
	return t->b.st->now_ns;
}

/* Bytes of data queued after snd_nxt (not yet sent). */
static inline uint32_t tcp_unsent(const struct tcb *t)
{
	uint32_t end = t->sb_seq + t->sb_len;

	return seq_gt(end, t->snd_nxt) ? end - t->snd_nxt : 0;
}

/*
 * tcp_mem_exhausted() - the stack's budget is at its hard limit: a request
 * met it since the last run(), or not even a socket's minimum is left.
 */
static inline bool tcp_mem_exhausted(const struct bstack *st)
{
	return st->mem.oom || !bmem_may(st, BMEM_SOCK_MIN, BMEM_MIN);
}

/* tcp_can_send() - may a connection in @state send data (and ACK reads)? */
static inline bool tcp_can_send(uint8_t state)
{
	return state == TCPS_ESTABLISHED || state == TCPS_CLOSE_WAIT ||
	       state == TCPS_FIN_WAIT1 || state == TCPS_CLOSING ||
	       state == TCPS_LAST_ACK;
}

/* ring_put() - copy @len bytes into a ring of @size at index @pos. */
static inline void ring_put(uint8_t *ring, uint32_t size, uint32_t pos,
			    const void *src, uint32_t len)
{
	uint32_t first;

	if (pos >= size)
		pos -= size;
	first = size - pos < len ? size - pos : len;
	memcpy(ring + pos, src, first);
	if (len > first)
		memcpy(ring, (const uint8_t *)src + first, len - first);
}

/* ring_get() - copy @len bytes out of a ring of @size from index @pos. */
static inline void ring_get(const uint8_t *ring, uint32_t size, uint32_t pos,
			    void *dst, uint32_t len)
{
	uint32_t first;

	if (pos >= size)
		pos -= size;
	first = size - pos < len ? size - pos : len;
	memcpy(dst, ring + pos, first);
	if (len > first)
		memcpy((uint8_t *)dst + first, ring, len - first);
}

/* tcp.c */
uint32_t tcp_isn(struct tcp_ctx *c, const struct in6_addr *laddr,
		 const struct in6_addr *raddr, uint16_t lport, uint16_t rport);
struct tcb *tcb_alloc(struct tcp_ctx *c);
void tcb_rx_open(struct tcb *t);

/*
 * tcp_wclamp() - TCP_WINDOW_CLAMP as it reads: the value set, or, on a
 * connection without one, the largest window it can advertise.
 */
static inline uint32_t tcp_wclamp(const struct tcb *t)
{
	uint32_t max = (uint32_t)65535 << t->rcv_ws;

	if (t->wclamp || t->state == TCPS_CLOSED || t->state == TCPS_LISTEN)
		return t->wclamp;
	return t->rb_max < max ? t->rb_max : max;
}

/*
 * tcp_rx_size() - the ring size the window is measured against: with no
 * ring yet, no more than the minimum it is sure to get (BMEM_SOCK_MIN),
 * so nothing promised is ever dropped for want of a smaller ring. A
 * sender's first flight (ten segments) fits that anyway; the window opens
 * to the whole ring with the ACK after it is allocated.
 */
static inline uint32_t tcp_rx_size(const struct tcb *t)
{
	if (t->rbuf || t->rb_size < BMEM_SOCK_MIN)
		return t->rb_size;
	return BMEM_SOCK_MIN;
}

bool tcb_rb_alloc(struct tcb *t);
void tcp_rb_release(struct tcb *t);
void tcb_rings_free(struct tcb *t);
uint32_t tcp_sb_room(struct tcb *t, uint32_t want);
void tcp_sb_release(struct tcb *t);
bool tcp_writable(struct tcb *t);
void tcp_orphan_set(struct tcb *t);
void tcp_orphan_clear(struct tcb *t);
void tcb_hash_add(struct tcb *t);
struct tcb *tcb_lookup(struct tcp_ctx *c, const struct in6_addr *laddr,
		       uint16_t lport, const struct in6_addr *raddr,
		       uint16_t rport);
void tcp_set_state(struct tcb *t, uint8_t state);
void tcp_done(struct tcb *t);
void tcp_reap_later(struct tcb *t);
void tcp_reap(struct tcp_ctx *c);
void tcp_child_unlink(struct tcb *t);
void tcp_notify(struct tcb *t, uint32_t events);
uint32_t tcp_poll_events(struct tcb *t);
void tcp_init_conn(struct tcb *t);
void tcp_set_mss(struct tcb *t, uint16_t peer_mss);
uint8_t tcp_wscale_for(uint32_t bytes);
void tcp_rtt_sample(struct tcb *t, uint32_t rtt_us);
void tcp_rto_reset(struct tcb *t);
bool tcp_challenge_ok(struct tcb *t);
uint32_t tcp_challenge_budget(struct tcp_ctx *c, uint64_t sec);
uint64_t tcp_siphash(const uint64_t k[2], uint64_t m0, uint64_t m1);
uint64_t tcp_siphash_n(const uint64_t k[2], const uint64_t *m, unsigned n);

/* tcp_cookie.c */
void tcp_cookie_init(struct tcp_ctx *c);
void tcp_cookie_syn(struct tcb *l, const struct tcp_seg *s);
bool tcp_cookie_ack(struct tcb *l, struct tcp_seg *s);

/* tcp_port.c */
void tcb_port_add(struct tcb *t);
void tcb_port_del(struct tcb *t);
int tcp_port_ephemeral(struct tcb *t);
bool tcp_port_conflict(struct tcp_ctx *c, const struct tcb *t, uint16_t port);
int tcp_listen_join(struct tcb *t);
struct tcb *tcp_listener_find(struct tcp_ctx *c, const struct in6_addr *laddr,
			      uint16_t lport, const struct in6_addr *raddr,
			      uint16_t rport);

/* tcp_in.c */
void tcp_rcv_segment(struct tcb *t, struct tcp_seg *s);
struct tcb *tcp_child_new(struct tcb *l, const struct tcp_seg *s);
void tcp_child_setup(struct tcb *t, const struct tcp_seg *s,
		     const struct tcp_synparams *p);
void tcp_child_queue(struct tcb *l, struct tcb *t);
int tcp_parse_opts(const uint8_t *p, uint32_t len, bool syn,
		   struct tcp_opts *o);
int tcp_seg_parse(const uint8_t *l4, uint32_t l4_len, struct tcp_seg *s);
void tcp_seg_input(struct bstack *st, struct tcp_seg *s);
void tcp_icmp_apply(struct bstack *st, struct tcb *t, uint32_t seq, int err,
		    bool hard);

/* tcp_out.c */
int tcp_xmit(struct tcb *t, uint32_t seq, uint32_t len, uint8_t flags,
	     uint32_t *sent);
void tcp_send_queued(struct tcb *t);
void tcp_send_ack(struct tcb *t);
void tcp_send_syn(struct tcb *t);
void tcp_send_rst(struct tcb *t);
void tcp_send_probe(struct tcb *t);
void tcp_reply_rst(struct bstack *st, const struct tcp_seg *s);
int tcp_reply_synack(struct bstack *st, const struct tcp_seg *s, uint32_t iss,
		     const struct tcp_synopt *o, uint16_t wnd, uint8_t tos,
		     uint8_t ttl);
unsigned tcp_syn_opts(uint8_t *o, const struct tcp_synopt *so);
uint16_t tcp_our_mss(const struct bstack *st, const struct in6_addr *peer);
void tcp_want_output(struct tcb *t);
void tcp_retransmit_una(struct tcb *t);
void tcp_probe_span(struct tcb *t, uint32_t seq, uint32_t len, bool fin);

/* tcp_rwnd.c */
uint32_t tcp_rcv_window(struct tcb *t, bool sws);
uint16_t tcp_rcv_advertise(struct tcb *t, uint8_t flags);
void tcp_window_update(struct tcb *t);
void tcp_rcv_rtt_measure(struct tcb *t);
void tcp_rcv_space_adjust(struct tcb *t, uint32_t copied);

/* tcp_timer.c */
void tcp_timers_init(struct tcb *t);
void tcp_timers_stop(struct tcb *t);
void tcp_rtx_arm(struct tcb *t);
void tcp_rtx_restart(struct tcb *t);
void tcp_persist_arm(struct tcb *t);
void tcp_delack_arm(struct tcb *t);
void tcp_keep_arm(struct tcb *t);
void tcp_timewait(struct tcb *t);
void tcp_ctx_timers_init(struct tcp_ctx *c);
void tcp_out_timer(struct btimer *tm);
void tcp_reap_timer(struct btimer *tm);

/* tcp_sack.c */
bool tcp_ooo_add(struct tcb *t, uint32_t start, uint32_t end);
void tcp_ooo_advance(struct tcb *t);
unsigned tcp_sack_blocks(struct tcb *t, struct tcp_range *out, unsigned max);
void tcp_dsack_note(struct tcb *t, uint32_t start, uint32_t end);
void tcp_sb_update(struct tcb *t, const struct tcp_opts *o);
void tcp_sb_trim(struct tcb *t);
void tcp_sb_clear(struct tcb *t);
bool tcp_sb_is_sacked(const struct tcb *t, uint32_t seq, uint32_t *end);
uint32_t tcp_sb_lost_edge(const struct tcb *t);
uint32_t tcp_pipe(const struct tcb *t);
bool tcp_next_seg(struct tcb *t, uint32_t *seq, uint32_t *len);

/* tcp_cc.c */
extern const struct tcp_cc_ops tcp_cc_newreno, tcp_cc_cubic;
const struct tcp_cc_ops *tcp_cc_find(const char *name);
uint32_t tcp_flight(const struct tcb *t);

/* tcp_sock.c */
extern const struct bproto tcp_proto;

/* tcp_addr.c */
int tcp_sa_read(const struct tcb *t, const struct sockaddr *a, socklen_t len,
		struct in6_addr *addr, uint16_t *port, uint32_t *scope);
int tcp_sa_write(const struct tcb *t, const struct in6_addr *addr,
		 uint16_t port, struct sockaddr *a, socklen_t *len);
int tcp_bind_addr(struct tcb *t, const struct in6_addr *addr, uint32_t scope);
int tcp_connect_addr(struct tcb *t, struct in6_addr *raddr, uint32_t scope);
int tcp_set_ipv6(struct tcb *t, int name, int v);
int tcp_get_ipv6(struct tcb *t, int name, int *v);

/* tcp6.c */
void tcp_pmtu_reduced(struct tcb *t);

#endif /* COVE_BUILTIN_TCP_H */
