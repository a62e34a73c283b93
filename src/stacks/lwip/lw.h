/* SPDX-License-Identifier: Apache-2.0 */
/* The lwip provider's internals: one lwIP core behind the stack ABI. */
#ifndef COVE_STACKS_LWIP_LW_H
#define COVE_STACKS_LWIP_LW_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"

#include "common/ipopt.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "cove/netstack.h"

/*
 * Theory of operation
 *
 * Threads. Debian's liblwip is built with NO_SYS=0, but this provider never
 * starts lwIP's tcpip thread (no tcpip_init()): lwip_init() sets the core
 * up, and the host thread does everything else inside ABI calls. lwIP's
 * timers (TCP fast/slow timers, ARP, IP reassembly) run from run() through
 * sys_check_timeouts(), and run() returns sys_timeouts_sleeptime() as the
 * deadline. So every lwIP callback (recv, sent, err, accept, connected,
 * linkoutput) runs on the host thread, inside an ABI call: the link and the
 * frame pool are only ever touched by that thread, notifications are made
 * from within ABI calls as the ABI requires, and poll_fd() is -1. With no
 * tcpip thread, lwIP's lock checks (LWIP_ASSERT_CORE_LOCKED) are satisfied
 * by construction and LOCK_TCPIP_CORE() is neither needed nor usable (the
 * core mutex only exists once tcpip_init() ran).
 *
 * Two lwIP paths would post to the (absent) tcpip thread's mailbox and
 * abort: loopback output (a packet to 127/8 or our own address) and
 * PBUF_POOL exhaustion. The provider allocates PBUF_RAM only, and
 * lw_loop.c keeps lwIP's loop queues from ever asking for the thread: it
 * delivers looped packets itself from run(), so 127.0.0.1, ::1 and the
 * sandbox's own addresses work as on Linux. lw_filter drops received
 * frames whose IPv4 or IPv6 source is ours or loopback (else a spoofed SYN
 * or datagram would make lwIP answer itself).
 *
 * IPv6. Debian's lwIP has it compiled in (docs/PLUGINS.md lists the
 * options): the netif's addresses, DAD, ND, RS/RA and MLD are lwIP's, set
 * up by lw_stack.c; AF_INET6 sockets are dual-stack on IPADDR_TYPE_ANY
 * PCBs (lw_sock.c). lwIP's ND tables are globals like its PCB lists.
 *
 * Process-global state. lwIP keeps its PCB lists, timers and ARP table in
 * globals, so there is one instance per process: a second create() fails
 * with -EBUSY until the first is destroyed. lwip_init() runs once per
 * process; destroy() abandons every PCB (no RST), removes the netif and
 * leaves lwIP empty for the next create().
 *
 * Symbols. cove-plugin also links Cove's static libraries. The static
 * linker binds a call by name to a global definition there before it looks
 * at liblwip (--exclude-libs only keeps them out of the dynamic table): the
 * builtin stack's tcp_output() once captured this provider's calls. The
 * builtin's entry points were renamed, and tests/integration/purity.sh
 * fails whenever a global function of Cove's archives has a liblwip name,
 * so every lwIP call here is a plain call into liblwip.
 *
 * Calls. Every ABI entry point that may reach lwIP brackets its work with
 * lw_enter()/lw_leave(). Callbacks only record state and put the socket on
 * @dirty; the outermost lw_leave() transmits the frames linkoutput queued
 * on @txq and then calls env->notify() for each dirty socket that the host
 * holds. Frames the link refuses stay on @txq (bounded by LW_TXQ_MAX, older
 * ones dropped beyond) and are retried by the next call; run() then asks to
 * be called again within a millisecond.
 */

#define LW_DEFAULT_MAX_SOCKETS 65536u /* as builtin; pools are malloc-backed */
/* Linux's default TTL and hop limit (lwIP's own, IP_DEFAULT_TTL, is 255) */
#define LW_DEFAULT_TTL	  64u
#define LW_DEFAULT_RCVBUF 212992u /* UDP receive queue, bytes */
#define LW_UDP_MAX_QUEUED 1024u	  /* datagrams per socket */
#define LW_TXQ_MAX	  512u	  /* frames waiting for the link */
#define LW_RXQ_SLOTS	  8u	  /* pbuf chains per TCP socket */
/* lwIP's interface indexes (netif num + 1): "lo" 1 and "cv" 2, as lo and
 * eth0 in a sandbox and as the builtin stack's scope id. */
#define LW_NUM_LO 0u
#define LW_NUM_CV 1u

enum lw_state {
	LW_NEW, /* fresh or bound */
	LW_LISTEN,
	LW_CONNECTING,
	LW_CONNECTED, /* established, maybe half closed */
	LW_DEAD,      /* the PCB is gone (reset, closed, timed out) */
};

/* A socket address as the socket's family returns it (lw_name_set()). */
union lw_name {
	struct sockaddr sa;
	struct sockaddr_in sin; /* sin_port aliases sin6_port */
	struct sockaddr_in6 sin6;
};

/* One received UDP datagram, queued on its socket. */
struct lw_dgram {
	struct lw_dgram *next;
	struct pbuf *p;
	union lw_name from;
};

struct cove_stack {
	struct cove_stack_env env;
	struct cove_link *link;
	struct netif netif;  /* "cv", on the link */
	struct netif lo;     /* "lo", 127.0.0.1/8 (lw_loop.c) */
	struct in_addr addr; /* network order */
	ip6_addr_t gw6;	     /* cfg->gateway6 (zoned), kept as a router */
	bool has_gw6;
	uint32_t max_sockets, rcvbuf;
	uint32_t flags; /* COVE_STACK_F_* */
	unsigned depth; /* lw_enter() nesting */
	bool starting;	/* inside create() */

	struct cove_frame *txq, **txq_tail;
	unsigned ntxq;

	struct cove_sock *dirty; /* sockets to notify, via next_dirty */
	struct cove_sock *socks; /* every open socket, via prev/next */
	uint32_t nsock;		 /* held by the host */
	uint32_t nchild;	 /* accepted by lwIP, not yet by the host */
	struct cove_stack_stats stats;
};

struct cove_sock {
	struct cove_stack *st;
	struct cove_sock *prev, *next; /* on st->socks */
	struct cove_sock *next_dirty;
	bool is_dirty, held; /* @held: the host has it */
	int type;	     /* SOCK_STREAM or SOCK_DGRAM */
	int family;	     /* AF_INET, or AF_INET6 (dual stack) */
	bool v6only;	     /* IPV6_V6ONLY: the PCB is IPADDR_TYPE_V6 */
	void *cookie;
	enum lw_state state;
	int err; /* pending SO_ERROR, positive errno */
	bool shut_rd, shut_wr, rx_fin, linger0, reuse;
	bool cork;		 /* TCP_CORK: send() defers partial segments */
	uint8_t pmtudisc;	 /* IP_MTU_DISCOVER, remembered only */
	bool recverr, pktinfo;	 /* IP_RECVERR, IP_PKTINFO, remembered only */
	uint8_t pmtudisc6;	 /* IPV6_MTU_DISCOVER, remembered only */
	bool recverr6, pktinfo6; /* IPV6_RECVERR, IPV6_RECVPKTINFO, likewise */
	uint8_t mcif6;		 /* IPV6_MULTICAST_IF, remembered only */
	uint8_t nmc6;		 /* groups in @mc6 (lw_opt6.c) */
	ip6_addr_t *mc6;	 /* IPV6_JOIN_GROUP: the groups joined */
	uint32_t rcvbuf, sndbuf; /* as set by SO_RCVBUF/SO_SNDBUF */
	uint8_t tos;		 /* IP_TOS = IPV6_TCLASS, on the PCB too */
	uint8_t ttl;	/* IP_TTL = IPV6_UNICAST_HOPS, on the PCB; 0: lwIP's */
	bool broadcast; /* SO_BROADCAST, remembered only */
	int priority;	/* SO_PRIORITY, remembered only */
	struct cove_ip_mcopts mc;  /* IP_MULTICAST_*, on the UDP PCB too */
	uint16_t user_mss;	   /* TCP_MAXSEG, remembered only; 0: none */
	uint32_t user_timeout_ms;  /* TCP_USER_TIMEOUT, remembered only */
	int linger2;		   /* TCP_LINGER2 (s), remembered only */
	union lw_name local, peer; /* cached for getsockname/peername */
	uint64_t chal_next_ns;	   /* no challenge ACK before (lw_guard.c) */

	union {
		struct tcp_pcb *tcp;
		struct udp_pcb *udp;
	} pcb;

	/* TCP: unread data as up to LW_RXQ_SLOTS pbuf chains (a chain's
	 * tot_len is 16 bits); @rx_bytes counts them all. */
	struct pbuf *rxq[LW_RXQ_SLOTS];
	unsigned rx_head, rx_count;
	uint32_t rx_bytes;

	/* TCP listener: connections lwIP completed, not yet accepted. */
	struct cove_sock *acc_head, *acc_tail, *acc_next;
	struct cove_sock *listener; /* for a child still on that queue */
	unsigned nacc, backlog;

	/* UDP: received datagrams. */
	struct lw_dgram *dq_head, *dq_tail;
	unsigned ndq;
	uint32_t dq_bytes;
};

/* lw_stack.c: the instance-level ABI calls and shared plumbing. */
int lw_create(const struct cove_stack_config *cfg,
	      const struct cove_stack_env *env, struct cove_stack **out);
void lw_destroy(struct cove_stack *st);
void lw_input(struct cove_stack *st, struct cove_frame **f, unsigned n);
uint64_t lw_run(struct cove_stack *st, uint64_t now_ns);
int lw_poll_fd(struct cove_stack *st);
int lw_stats(struct cove_stack *st, struct cove_stack_stats *out);
void lw_enter(struct cove_stack *st);
void lw_leave(struct cove_stack *st);
void lw_dirty(struct cove_sock *s);
struct cove_sock *lw_sock_new(struct cove_stack *st, int family, int type);
void lw_sock_free(struct cove_sock *s);
bool lw_addr_local(const struct cove_stack *st, uint32_t addr_be);
bool lw_addr6_local(const struct cove_stack *st, const ip6_addr_t *a);

/* lw_loop.c: loopback through lwIP's loop queues, run from run() */
int lw_loop_open(struct cove_stack *st);
void lw_loop_close(struct cove_stack *st);
bool lw_loop_run(struct cove_stack *st);
bool lw_loop_pending(const struct cove_stack *st);

/* lw_filter.c */
enum lw_verdict {
	LW_PASS,	   /* hand to lwIP */
	LW_PASS_SYN,	   /* ... a TCP SYN: if lwIP may take one more */
	LW_PASS_TCP,	   /* ... another TCP segment: if its ACK is in range */
	LW_DROP_MALFORMED, /* too short or a bad header */
	LW_DROP_OTHER,	   /* not ours: ethertype, address, martian */
};
/*
 * A TCP header's fields as lw_filter() read them (host order but the
 * addresses), and the ICMPv6 type of any frame (0: not ICMPv6).
 */
struct lw_tcp_seg {
	bool v6;	   /* the addresses are saddr6/daddr6 */
	uint32_t saddr_be; /* IPv4 source, network order */
	uint32_t daddr_be; /* IPv4 destination, network order */
	uint8_t saddr6[16], daddr6[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;	     /* TCP_FIN .. TCP_CWR */
	uint8_t icmp6_type;  /* any frame: its ICMPv6 type, or 0 */
	uint8_t ptb_dst[16]; /* a Packet Too Big: the quoted destination */
};
/* The addresses lw_filter() lets frames through to (lw_input() fills it). */
#define LW_ADDR6_MAX LWIP_IPV6_NUM_ADDRESSES
struct lw_addrs {
	uint32_t addr_be, bcast_be;   /* IPv4 address and broadcast */
	bool ip6;		      /* IPv6 on the link at all */
	unsigned n6;		      /* entries in @a6 */
	uint8_t a6[LW_ADDR6_MAX][16]; /* the netif's IPv6 addresses */
};
enum lw_verdict lw_filter(const uint8_t *frame, size_t len,
			  const struct lw_addrs *me, struct lw_tcp_seg *seg);
bool lw_ack_in_range(uint32_t ack, uint32_t una, uint32_t nxt,
		     uint32_t max_wnd);

/* lw_guard.c: what lwIP does not check in segments for its connections */
bool lw_guard_segment(struct cove_stack *st, const struct lw_tcp_seg *seg);
void lw_seg_addrs(const struct lw_tcp_seg *seg, ip_addr_t *src, ip_addr_t *dst);
void lw_guard_half_open(unsigned max);

/* lw_tcp.c */
int lw_tcp_open(struct cove_sock *s);
int lw_tcp_bind(struct cove_sock *s, const ip_addr_t *ip, uint16_t port);
int lw_tcp_listen(struct cove_sock *s, int backlog);
int lw_tcp_accept(struct cove_sock *s, struct cove_sock **out,
		  struct sockaddr *peer, socklen_t *len);
int lw_tcp_connect(struct cove_sock *s, const ip_addr_t *ip, uint16_t port);
ssize_t lw_tcp_send(struct cove_sock *s, const struct msghdr *msg, int flags);
ssize_t lw_tcp_recv(struct cove_sock *s, struct msghdr *msg, int flags);
int lw_tcp_shutdown(struct cove_sock *s, int how);
void lw_tcp_close(struct cove_sock *s);
void lw_tcp_set_cork(struct cove_sock *s, bool on);
uint32_t lw_tcp_events(struct cove_sock *s);
void lw_tcp_abandon_all(void);
unsigned lw_tcp_count(unsigned *established);
bool lw_tcp_make_room(unsigned limit);
bool lw_tcp_backlog_full(const ip_addr_t *daddr, uint16_t dport);
void lw_tcp_recycle_tw(const ip_addr_t *raddr, uint16_t rport, uint16_t lport,
		       uint32_t seq);

/* lw_udp.c */
int lw_udp_open(struct cove_sock *s);
int lw_udp_bind(struct cove_sock *s, const ip_addr_t *ip, uint16_t port);
int lw_udp_connect(struct cove_sock *s, const struct sockaddr *a,
		   socklen_t len);
ssize_t lw_udp_send(struct cove_sock *s, const struct msghdr *msg, int flags);
ssize_t lw_udp_recv(struct cove_sock *s, struct msghdr *msg, int flags);
void lw_udp_close(struct cove_sock *s);
uint32_t lw_udp_events(struct cove_sock *s);

/* lw_opt6.c: IPPROTO_IPV6 options; TTL, TOS and multicast onto the PCB */
int lw_set_ip6(struct cove_sock *s, int name, const void *val, socklen_t len);
int lw_get_ip6(const struct cove_sock *s, int name, void *val, socklen_t *len);
void lw_ip_apply(struct cove_sock *s);
void lw_mc6_drop(struct cove_sock *s);

/* lw_addr.c: socket addresses (lw_iov_total() is lw_sock.c's). */
enum lw_addr_use {
	LW_USE_BIND,
	LW_USE_CONNECT,
	LW_USE_SEND,
};
int lw_addr_from(const struct cove_sock *s, const struct sockaddr *a,
		 socklen_t len, enum lw_addr_use use, ip_addr_t *ip,
		 uint16_t *port);
void lw_name_set(const struct cove_sock *s, union lw_name *out,
		 const ip_addr_t *ip, uint16_t port);
int lw_name_put(const struct cove_sock *s, const union lw_name *n,
		struct sockaddr *addr, socklen_t *len);
void lw_wildcard(const struct cove_sock *s, ip_addr_t *ip);
bool lw_ip_unroutable(const ip_addr_t *ip);
bool lw_addr_unroutable(uint32_t addr_be);
size_t lw_iov_total(const struct msghdr *msg);

#endif /* COVE_STACKS_LWIP_LW_H */
