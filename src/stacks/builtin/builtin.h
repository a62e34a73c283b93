/* SPDX-License-Identifier: Apache-2.0 */
/* The builtin stack's internal interfaces: the instance, sockets, timers, IP output. */
#ifndef COVE_BUILTIN_H
#define COVE_BUILTIN_H

/*
 * Theory of operation
 *
 * Files and their concerns:
 *   stack.c   instance lifecycle, ABI ops table, socket dispatch, run()
 *   eth.c     Ethernet input demux and framing
 *   arp.c     ARP cache (timeouts), requests/replies, gratuitous ARP,
 *             per-entry pending-packet queue
 *   ipv4.c    IPv4 input (checksums, validation), output (ip_send),
 *             fragment reassembly with memory and time limits, loopback
 *   icmp.c    echo replies and the errors a host must send
 *   ipv6.c, ip6_frag.c, icmp6.c, nd.c, nd_addr.c: IPv6 (ip6.h, core6.h)
 *   udp.c     UDP sockets
 *   mem.c     the instance's budget for socket buffer memory
 *   timer.c   the timer wheel
 *   core.h    plumbing between the files above (not for transports)
 *   tcp_*.c   TCP (its own internal header tcp.h)
 *
 * Every struct bsock embeds the fields below and points at the protocol's
 * ops (struct bproto), which have the ABI's shapes; stack.c only dispatches.
 * All state lives in struct bstack: no file-scope mutable state, so two
 * instances run in one process (the unit tests do exactly that).
 *
 * Frames: receive frames are freed by the layer that finishes with them;
 * payload is copied into socket buffers, so the stack holds no rx frame
 * after input() returns except inside ARP pending queues and the loopback
 * queue (both bounded). Transmit frames come from st->link->pool via
 * ip_alloc(); ip_send() always consumes the frame.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/csum.h"
#include "common/ipopt.h"
#include "cove/netstack.h"

struct bstack;
struct bsock;
struct tcp_ctx;
struct udp_ctx;
struct arp_ctx;
struct ipv4_ctx;
struct igmp_ctx;
struct ipv6_ctx;

/* Untrusted bytes: @len of them at @p, read only through pkt_ptr(). */
struct pkt {
	const uint8_t *p;
	uint32_t len;
};

/**
 * pkt_ptr() - bounds-checked access to untrusted bytes
 * @p:		the bytes
 * @off:	offset of the wanted range
 * @len:	its length
 *
 * Here rather than in core.h because transports use it too. The range is
 * checked against @p->len without overflow; the caller then reads at most
 * @len bytes from the pointer (with cove_get16() and friends).
 *
 * Return: pointer to @off, or NULL when [@off, @off + @len) is not inside.
 */
static inline const uint8_t *pkt_ptr(const struct pkt *p, uint32_t off,
				     uint32_t len)
{
	if (off > p->len || len > p->len - off)
		return NULL;
	return p->p + off;
}

/* A received IPv4 packet handed to a transport's input. */
struct ip_pkt {
	uint32_t src, dst; /* network byte order */
	uint8_t proto, ttl, tos;
	const uint8_t *l4;     /* transport header, @l4_len bytes */
	uint32_t l4_len;       /* as given by the IP header, verified */
	const uint8_t *ip_hdr; /* for ICMP errors (header + 8 bytes) */
	uint32_t ip_hdr_len;
	uint32_t ip_total_len;
	bool csum_ok; /* the link vouched for the L4 checksum */
};

/* Protocol socket ops: the ABI's socket calls on struct bsock. */
struct bproto {
	int (*bind)(struct bsock *, const struct sockaddr *, socklen_t);
	int (*listen)(struct bsock *, int);
	int (*accept)(struct bsock *, struct bsock **, struct sockaddr *,
		      socklen_t *);
	int (*connect)(struct bsock *, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(struct bsock *, const struct msghdr *, int);
	ssize_t (*recvmsg)(struct bsock *, struct msghdr *, int);
	int (*shutdown)(struct bsock *, int);
	void (*close)(struct bsock *);
	int (*setsockopt)(struct bsock *, int, int, const void *, socklen_t);
	int (*getsockopt)(struct bsock *, int, int, void *, socklen_t *);
	int (*getsockname)(struct bsock *, struct sockaddr *, socklen_t *);
	int (*getpeername)(struct bsock *, struct sockaddr *, socklen_t *);
	uint32_t (*events)(struct bsock *);
};

/* Common head of every builtin socket (first member of tcp/udp sockets). */
struct bsock {
	struct bstack *st;
	const struct bproto *proto;
	void *cookie;	/* host's, passed back in notify */
	int type;	/* SOCK_STREAM / SOCK_DGRAM */
	bool host_open; /* a host handle exists (not closed) */
	bool mem_wait;	/* on st->mem.waiters (mem.c) */
	struct bsock *mw_next, **mw_pprev;
};

/*
 * Socket buffer memory (mem.c): one budget per instance for every buffer
 * that holds data for a socket (TCP send and receive rings, UDP rings,
 * IP reassembly buffers).
 * @used is exact: it moves only in bmem_alloc() and bmem_free(), by the
 * size each block was allocated with. Past @soft the instance is under
 * pressure: only a socket's minimum (BMEM_MIN) is still granted, and
 * above @hard nothing is. @resv is the receive minimums promised to TCP
 * connections that have no receive ring yet (tcp.c); a minimum of any
 * other kind leaves them room (mem.c), so every such connection can take
 * its first bytes, whatever the send rings hold.
 */
enum bmem_kind {
	BMEM_MIN,    /* a socket's minimum: refused past hard - @resv */
	BMEM_GROW,   /* beyond the minimum: refused past the soft limit */
	BMEM_RX_MIN, /* a promised receive minimum: refused past hard */
};

#define BMEM_SOCK_MIN	 (16u << 10) /* a socket's guaranteed ring */
#define BMEM_DEFAULT_MAX (64ull << 20)
#define BMEM_MIN_MAX	 (1ull << 20) /* the smallest budget accepted */
#define BMEM_MMAP_MIN	 (64u << 10)  /* blocks this big are mapped (mem.c) */
#define BMEM_TRIM_STEP	 (4ull << 20) /* freed since the last malloc_trim() */

struct bmem {
	uint64_t used;	       /* bytes allocated for socket data, exact */
	uint64_t soft, hard;   /* pressure and hard limits, bytes */
	uint64_t resv;	       /* receive minimums promised, no ring yet */
	uint64_t peak;	       /* the most @used ever was */
	uint64_t trim_high;    /* the most @used was since the last trim */
	uint64_t refused_soft; /* requests refused for pressure */
	uint64_t refused_hard; /* ... for the hard limit */
	bool freed;	       /* bmem_free() ran since the last reclaim */
	bool oom;	       /* a request met the hard limit: run() resets
				 * orphans holding data (tcp_mem_oom()) */
	struct bsock *waiters; /* sockets refused memory, woken by run() */
};

/*
 * Timers: a hashed wheel with 1 ms ticks. Arm and cancel are O(1);
 * timer_next() scans for the earliest armed slot so an idle stack does not
 * wake every tick. A struct btimer is embedded in its owner; fn is called
 * from run() with the timer already disarmed.
 */
struct btimer {
	struct btimer *next, **pprev; /* slot list, NULL when disarmed */
	uint64_t expires_ns;
	void (*fn)(struct btimer *t);
};

#define TIMER_WHEEL_SLOTS 4096u /* 4.096 s per turn at 1 ms */
#define TIMER_TICK_NS	  1000000ull

struct timer_wheel {
	struct btimer *slot[TIMER_WHEEL_SLOTS];
	uint64_t now_ns; /* time the wheel has advanced to */
	uint32_t armed;
	/* added by the core: cache of timer_next(), exact while next_valid */
	uint64_t next_ns;
	bool next_valid;
	/* bit per slot, set while the slot may hold a timer (timer.c) */
	uint64_t busy[TIMER_WHEEL_SLOTS / 64];
};

void timer_init(struct timer_wheel *w, uint64_t now_ns);
/* timer_arm() - (re)arm @t to fire at @when_ns (absolute, monotonic). */
void timer_arm(struct timer_wheel *w, struct btimer *t, uint64_t when_ns);
void timer_cancel(struct timer_wheel *w, struct btimer *t);
static inline bool timer_armed(const struct btimer *t)
{
	return t->pprev != NULL;
}
/* timer_advance() - fire everything due at @now_ns. */
void timer_advance(struct timer_wheel *w, uint64_t now_ns);
/* timer_next() - earliest expiry, or UINT64_MAX when nothing is armed. */
uint64_t timer_next(const struct timer_wheel *w);

struct bstack {
	struct cove_stack_env env;
	struct cove_link *link; /* == env.link */
	uint32_t addr;		/* own address, network order */
	uint32_t netmask;	/* network order */
	uint32_t gateway;	/* network order, 0: none */
	uint8_t mac[6];
	uint32_t mtu;
	uint64_t now_ns; /* updated on input() and run() */
	bool in_input;	 /* inside input(): TCP may hold ACKs */
	uint64_t seed;	 /* config seed or random */
	bool seeded;	 /* cfg->seed given: everything repeats (tests) */
	uint64_t rng;	 /* xorshift state */
	uint32_t max_sockets;
	uint32_t nsockets;	 /* host handles open */
	uint32_t rcvbuf, sndbuf; /* defaults for new sockets */
	const char *congestion;
	struct cove_stack_stats stats;
	struct timer_wheel timers;
	struct bmem mem; /* socket buffer budget (mem.c) */

	/* link offloads: TSO super-frames come from tso_pool (see ip_alloc_tso) */
	bool tx_csum;	   /* link takes COVE_FRAME_F_CSUM_PARTIAL */
	uint32_t tso_room; /* L4 bytes in a TSO frame; 0: no TSO */
	struct cove_frame_pool tso_pool;

	/* transmit batch, flushed by run() and when full */
	struct cove_frame *txq[64];
	unsigned ntx;
	/* frames addressed to ourselves, delivered on the next run() */
	struct cove_frame *loop_head, *loop_tail;
	unsigned nloop;

	struct arp_ctx *arp;
	struct ipv4_ctx *ipv4;
	struct ipv6_ctx *ipv6; /* ipv6.c and friends (core6.h) */
	struct igmp_ctx *igmp; /* IPv4 groups (igmp.c) */
	struct udp_ctx *udp;
	struct tcp_ctx *tcp;
};

/* stack.c */
void bstack_notify(struct bsock *s, uint32_t events);
uint64_t bstack_random(struct bstack *st);
void bstack_log(struct bstack *st, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* bstack_xmit() - queue a finished Ethernet frame for the link; consumes @f. */
void bstack_xmit(struct bstack *st, struct cove_frame *f);
void bstack_flush(struct bstack *st);

/* mem.c */
int bmem_init(struct bstack *st, uint64_t max);
void *bmem_alloc(struct bstack *st, size_t size, enum bmem_kind kind);
void bmem_free(struct bstack *st, void *p, size_t size);
bool bmem_pressure(const struct bstack *st);
bool bmem_may(const struct bstack *st, size_t size, enum bmem_kind kind);
void bmem_wait(struct bsock *s);
void bmem_unwait(struct bsock *s);
bool bmem_reclaim(struct bstack *st);

/* ipv4.c */
#define ETH_HLEN_ 14u
#define IP_HLEN_  20u
/*
 * ip_alloc() - a transmit frame with room for Ethernet + IPv4 headers
 * @st:		stack
 * @room:	set to the bytes available for the transport header + payload
 *		(min of MTU - 20 and the frame's capacity)
 *
 * Return: the frame with f->data at the Ethernet header and f->len == 0, or
 * NULL when the pool is empty. The transport writes at ip_l4(f).
 */
struct cove_frame *ip_alloc(struct bstack *st, uint32_t *room);
/*
 * ip_alloc_tso() - a transmit frame for a TCP super-frame (COVE_FRAME_F_TSO)
 * @st:		stack
 * @room:	set to the bytes for the TCP header and payload (st->tso_room)
 *
 * Return: a frame from the stack's own TSO pool, or NULL when the link has
 * no TSO or every TSO frame is out (callers fall back to ip_alloc()).
 */
struct cove_frame *ip_alloc_tso(struct bstack *st, uint32_t *room);
static inline uint8_t *ip_l4(struct cove_frame *f)
{
	return f->data + ETH_HLEN_ + IP_HLEN_;
}
/*
 * ip_send() - fill IPv4 + Ethernet headers and send (or loop back, or queue
 * behind ARP resolution)
 * @l4_len:	bytes the transport wrote at ip_l4(f)
 * @tos:	IP TOS/DSCP byte
 * @ttl:	IP TTL; 0: the default, 64
 * @segs:	IP IDs the frame takes: 1, or for a COVE_FRAME_F_TSO frame the
 *		segments the link cuts it into (the transport knows; IPv4
 *		never parses the transport header)
 *
 * A frame flagged COVE_FRAME_F_TSO may exceed the MTU (up to 64 KiB). One
 * flagged COVE_FRAME_F_CSUM_PARTIAL may loop back to ourselves as it is:
 * loopback input trusts checksums.
 *
 * Return: 0, -EHOSTUNREACH (no route), -ENOBUFS (queue full; frame dropped)
 * or -EMSGSIZE. The frame is consumed in every case.
 */
int ip_send(struct bstack *st, struct cove_frame *f, uint32_t src, uint32_t dst,
	    uint8_t proto, uint32_t l4_len, uint8_t tos, uint8_t ttl,
	    uint32_t segs);
/* ip_is_local() - @addr (network order) is ours: our address or 127/8. */
bool ip_is_local(const struct bstack *st, uint32_t addr);
/* ip_is_mcast() - @addr (network order) is in 224/4. */
bool ip_is_mcast(uint32_t addr);

/* ip_is_local_cb() - ip_is_local() for cove_ipopt_mc_set() (@ctx: stack). */
bool ip_is_local_cb(void *ctx, uint32_t addr);

struct iovec;
#define IP_CSUM_NONE (-1)
/*
 * ip_send_dgram() - send one transport datagram of any size, fragmenting it
 * when it does not fit the MTU (added by the core for UDP; TCP never needs it)
 * @src, @dst:	addresses, network order (@src 0: chosen from @dst)
 * @proto:	IP protocol
 * @tos:	IP TOS byte
 * @ttl:	IP TTL; 0: the default, 64
 * @hdr:	transport header, @hdr_len bytes (even), copied first
 * @iov:	payload, @iovcnt segments (application memory, copied)
 * @csum_off:	offset in @hdr of a 16-bit checksum to fill with cove_csum_l4()
 *		over the whole datagram (0 becomes 0xffff, as UDP wants), or
 *		IP_CSUM_NONE when @hdr already carries its checksum
 * @flags:	IP_TX_* (multicast only), 0 otherwise
 *
 * All fragments share one IP ID and are built before the first is sent, so
 * the datagram leaves whole or not at all (as far as frames go).
 *
 * Return: 0, -EMSGSIZE (above 65515 bytes), -ENETUNREACH (no route),
 * -ENOBUFS (not enough frames in the pool). Frames the ARP queue drops later
 * are counted, not reported: IP is unreliable.
 */
int ip_send_dgram(struct bstack *st, uint32_t src, uint32_t dst, uint8_t proto,
		  uint8_t tos, uint8_t ttl, const void *hdr, uint32_t hdr_len,
		  const struct iovec *iov, size_t iovcnt, int csum_off,
		  unsigned flags);
/* ip_send_dgram()'s @flags, for a group destination */
#define IP_TX_MC_LOOP 1u /* a copy to our own sockets in the group */
#define IP_TX_TTL0    2u /* @ttl 0 is meant: the copy only, nothing on the wire */

/* icmp.c: send an ICMP error about the received packet @pkt. */
void icmp_send_error(struct bstack *st, const struct ip_pkt *pkt, uint8_t type,
		     uint8_t code, uint32_t info);

/*
 * Transport entry points called by the core. tcp_* are implemented in tcp_*.c,
 * udp_* in udp.c.
 *  - *_init() and *_fini(): create/free the protocol context in st; fini frees
 *    every connection and socket that remains.
 *  - *_input(): a verified packet for this protocol; the l4 checksum is NOT
 *    yet verified (the transport does it, it knows the pseudo-header).
 *  - *_icmp_error(): an ICMP error arrived about a packet we sent; @inner
 *    is the quoted IP header + at least 8 bytes of transport header.
 *  - *_socket(): a new socket for the host.
 *  - *_stats(): add protocol counters/gauges to @out.
 */
int tcp_layer_init(struct bstack *st);
void tcp_layer_fini(struct bstack *st);
void tcp_layer_input(struct bstack *st, const struct ip_pkt *pkt);
void tcp_input_end(struct bstack *st);
void tcp_icmp_error(struct bstack *st, uint8_t type, uint8_t code,
		    const uint8_t *inner, uint32_t inner_len);
int tcp_socket(struct bstack *st, int domain, struct bsock **out);
void tcp_stats(struct bstack *st, struct cove_stack_stats *out);
void tcp_mem_oom(struct bstack *st);

int udp_layer_init(struct bstack *st);
void udp_layer_fini(struct bstack *st);
void udp_layer_input(struct bstack *st, const struct ip_pkt *pkt);
void udp_icmp_error(struct bstack *st, uint8_t type, uint8_t code,
		    const uint8_t *inner, uint32_t inner_len);
int udp_socket(struct bstack *st, int domain, struct bsock **out);
void udp_stats(struct bstack *st, struct cove_stack_stats *out);

#endif /* COVE_BUILTIN_H */
