/* SPDX-License-Identifier: Apache-2.0 */
/* Stack ABI v2: how a host (sentry, stack-serve, tests) drives a TCP/IP stack. */
#ifndef COVE_NETSTACK_H
#define COVE_NETSTACK_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cove/frame.h"
#include "cove/link.h"

/*
 * Theory of operation
 *
 * A provider implements struct cove_netstack_ops. A host creates one stack
 * instance per sandbox (or per test) and drives it from one thread at a
 * time; a provider needs no locks of its own and keeps all state in the
 * instance, so several instances can live in one process. The host:
 *
 *   1. receives frames from the link (cove_link_rx_burst) and passes them to
 *      input(); the stack owns them from then on and returns each to its
 *      pool (it may keep a bounded number, e.g. while reassembling);
 *   2. serves socket calls (socket, bind, ..., sendmsg, recvmsg);
 *   3. calls run() after every batch of input and socket calls, and when the
 *      deadline returned by the previous run() has passed. run() fires due
 *      timers and flushes frames queued for transmission; it returns the next
 *      deadline (CLOCK_MONOTONIC ns, UINT64_MAX for none);
 *   4. sleeps until the link's fd, the provider's poll_fd() (if any), its
 *      own sources or the deadline wake it.
 *
 * A stack transmits with cove_link_tx_burst(env->link, ...) on frames it
 * takes from env->link->pool. Frames the link refuses are the stack's to
 * retry later or drop (TCP recovers). Providers that do not use a link (the
 * kernel provider) get env->link == NULL and expose poll_fd().
 *
 * Calls never block. Errors are negative errno values, as the matching
 * Linux system call would report them (-EAGAIN, -EINPROGRESS, -ECONNREFUSED,
 * -EADDRINUSE, ...). Addresses are struct sockaddr_in (AF_INET sockets) or
 * struct sockaddr_in6 (AF_INET6 sockets) in network byte order, exactly as
 * an application passes them to the kernel, with the lengths and the
 * errors Linux checks (-EINVAL for a short length, -EAFNOSUPPORT for the
 * other family); option values and levels are Linux's (SOL_SOCKET,
 * IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, SO_*, IP_*, IPV6_*, TCP_*).
 *
 * IPv6 (since v2): AF_INET6 sockets are dual-stack as on Linux. IPV6_V6ONLY
 * is off by default, so a socket bound to [::] also accepts IPv4 peers and
 * reports them as ::ffff:a.b.c.d; connecting or sending to a mapped address
 * sends IPv4; [::] with IPV6_V6ONLY off and 0.0.0.0 on the same port
 * conflict (-EADDRINUSE) unless both set SO_REUSEADDR/SO_REUSEPORT as Linux
 * allows. Every address an AF_INET6 socket returns (accept, recvmsg,
 * getsockname, getpeername) is a struct sockaddr_in6 with the scope id set
 * for link-local addresses. A provider without IPv6 answers socket() for
 * AF_INET6 with -EAFNOSUPPORT, and that is all a host may assume from it.
 *
 * Readiness: events() returns the EPOLL* bits that Linux would report for
 * the socket now (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
 * Whenever those bits may have gained something (data, send space, a
 * pending connection, establishment, an error, a FIN) the stack calls
 * env->notify() with the socket, its cookie and the new bits. Hosts treat
 * notify as "look again": spurious calls are allowed, missed ones are bugs.
 * notify() may run inside any ABI call; it must not call back into the
 * stack (queue the work and act when the current call returns).
 *
 * Sockets: socket() and accept() hand out a struct cove_sock; it stays valid
 * until close(). close() is Linux close(): the stack finishes a graceful
 * shutdown in the background (FIN after pending data, TIME_WAIT, or RST when
 * SO_LINGER is 0 or unread data is discarded) and never notifies about that
 * socket again. destroy() frees everything, open sockets included.
 *
 * Versioning: abi_version must equal COVE_NETSTACK_ABI_VERSION; hosts refuse
 * providers of another version. Any change to these structures or to the
 * meaning of a call bumps the version for every provider, with these
 * exceptions, all appended fields whose zero value keeps the old meaning:
 * fields of struct cove_frame or struct cove_link (the offload flags and
 * gso_size, the link's tso_max: a provider built before them never sets a
 * flag, so it sends plain frames, and it checks every checksum itself,
 * which a link that sets COVE_FRAME_F_CSUM_OK must leave valid in the
 * frame); fields of struct cove_stack_config (a provider reads no further
 * than cfg->size, a host zeroes what it does not set); and counters of
 * struct cove_stack_stats (a provider writes no further than out->size).
 *
 * v2 (from v1): AF_INET6 sockets and struct sockaddr_in6 addresses, dual
 * stack as above; the IPv6 interface address, prefix and gateway, and the
 * socket memory limit in the config; a size and the IPv6 and SYN cookie
 * counters in the statistics; the entry symbol cove_netstack_entry_v2.
 *
 * Providers register statically with COVE_STACK_PROVIDER(ops): the build
 * target decides which providers exist. An out-of-tree provider is a shared
 * object exporting COVE_NETSTACK_ENTRY_SYMBOL.
 */

#define COVE_NETSTACK_ABI_VERSION 2

struct cove_stack; /* provider-owned instance */
struct cove_sock;  /* provider-owned socket */

/* Log levels for cove_stack_env.log (syslog's numbers). */
#define COVE_LOG_ERR   3
#define COVE_LOG_WARN  4
#define COVE_LOG_INFO  6
#define COVE_LOG_DEBUG 7

/* cove_stack_config.flags */
#define COVE_STACK_F_NO_GARP (1u << 0) /* no gratuitous ARP, unsolicited NA */
#define COVE_STACK_F_NO_IPV6 (1u << 1) /* no IPv6 on the link at all */
#define COVE_STACK_F_NO_DAD  (1u << 2) /* addr6 is known unique: no DAD */

struct cove_stack_config {
	uint32_t size;		/* sizeof(struct cove_stack_config) */
	struct in_addr addr;	/* the interface address */
	uint8_t prefix_len;	/* on-link prefix length, 0..32 */
	struct in_addr gateway; /* 0.0.0.0: none */
	uint32_t max_sockets;	/* 0: provider default */
	uint32_t rcvbuf;	/* default SO_RCVBUF bytes, 0: default */
	uint32_t sndbuf;	/* default SO_SNDBUF bytes, 0: default */
	const char *congestion; /* "newreno", "cubic"; NULL: default */
	uint64_t seed;	/* randomness seed (ISN key, ports); 0: random */
	uint32_t flags; /* COVE_STACK_F_* */
	/* v2 */
	uint8_t prefix6_len;	  /* on-link prefix of addr6, 0..128 */
	struct in6_addr addr6;	  /* global or unique local; :: for none */
	struct in6_addr gateway6; /* ::: none (or learnt from an RA) */
	uint64_t mem_max; /* socket buffer memory, whole instance; 0: default */
};

struct cove_stack_env {
	struct cove_link *link; /* NULL for providers without one */
	/* notify() - readiness of @s may have changed; see above. */
	void (*notify)(void *host, struct cove_sock *s, void *cookie,
		       uint32_t events);
	/* now_ns() - CLOCK_MONOTONIC now. */
	uint64_t (*now_ns)(void *host);
	/* log() - a message from the stack; may be NULL. */
	void (*log)(void *host, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void *host;
};

/*
 * Statistics. Counters only grow; the gauges (marked) are current values.
 * A provider leaves at zero what it does not count. The host zeroes the
 * structure and sets size to sizeof(struct cove_stack_stats); a provider
 * writes no further than size (counters may be appended later).
 */
struct cove_stack_stats {
	uint64_t size; /* set by the host */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t rx_dropped;   /* frames dropped at input, any reason */
	uint64_t rx_bad_csum;  /* ... of which bad checksums */
	uint64_t rx_malformed; /* ... of which malformed headers */
	uint64_t tx_dropped;   /* frames the stack could not send */
	uint64_t arp_requests, arp_replies;
	uint64_t ip_frags_in, ip_reassembled, ip_reasm_failed;
	uint64_t icmp_in, icmp_out;
	uint64_t udp_in, udp_out, udp_no_port;
	uint64_t tcp_active_opens, tcp_passive_opens;
	uint64_t tcp_in_segs, tcp_out_segs;
	uint64_t tcp_retransmits, tcp_fast_retransmits, tcp_timeouts;
	uint64_t tcp_resets_in, tcp_resets_out;
	uint64_t tcp_ooo_segments; /* out-of-order segments queued */
	uint64_t tcp_challenge_acks;
	/* gauges */
	uint64_t sockets;   /* handles open to the host */
	uint64_t tcp_conns; /* connections in any state but CLOSED */
	uint64_t tcp_established;
	uint64_t mem_bytes;   /* socket buffer memory in use */
	uint64_t frames_held; /* frames kept by the stack */
	/* v2 */
	uint64_t ip6_frags_in, ip6_reassembled, ip6_reasm_failed;
	uint64_t icmp6_in, icmp6_out;
	uint64_t nd_solicits, nd_adverts; /* neighbour discovery, both ways */
	uint64_t pmtu_updates;		  /* path MTU lowered (v4 and v6) */
	uint64_t tcp_syncookies_sent, tcp_syncookies_ok, tcp_syncookies_failed;
};

struct cove_netstack_ops {
	uint32_t abi_version;	 /* COVE_NETSTACK_ABI_VERSION */
	const char *name;	 /* "builtin", "kernel", "lwip" */
	const char *description; /* one line for `cove stacks` */

	/**
	 * create() - make a stack instance
	 * @cfg:	configuration (read during the call only)
	 * @env:	host services; copied, must outlive nothing
	 * @out:	the new instance
	 *
	 * Return: 0 or negative errno (-EINVAL for a bad config, -ENOMEM).
	 */
	int (*create)(const struct cove_stack_config *cfg,
		      const struct cove_stack_env *env,
		      struct cove_stack **out);
	void (*destroy)(struct cove_stack *st);

	/* input() - take @n received frames; the stack owns them now. */
	void (*input)(struct cove_stack *st, struct cove_frame **f, unsigned n);
	/* run() - timers and tx flush; returns the next deadline or UINT64_MAX. */
	uint64_t (*run)(struct cove_stack *st, uint64_t now_ns);
	/* poll_fd() - fd whose readability means "call run()"; -1 if none. */
	int (*poll_fd)(struct cove_stack *st);

	/* Sockets: AF_INET or AF_INET6, SOCK_STREAM (TCP) or SOCK_DGRAM (UDP). */
	int (*socket)(struct cove_stack *st, int domain, int type, int protocol,
		      struct cove_sock **out);
	void (*set_cookie)(struct cove_sock *s, void *cookie);
	int (*bind)(struct cove_sock *s, const struct sockaddr *addr,
		    socklen_t len);
	int (*listen)(struct cove_sock *s, int backlog);
	/* accept() - -EAGAIN if none pending; @peer/@len may be NULL. */
	int (*accept)(struct cove_sock *s, struct cove_sock **out,
		      struct sockaddr *peer, socklen_t *len);
	/* connect() - TCP: -EINPROGRESS, then notify EPOLLOUT or EPOLLERR. */
	int (*connect)(struct cove_sock *s, const struct sockaddr *addr,
		       socklen_t len);
	/* sendmsg()/recvmsg() - byte count or negative errno; 0 = EOF (TCP). */
	ssize_t (*sendmsg)(struct cove_sock *s, const struct msghdr *msg,
			   int flags);
	ssize_t (*recvmsg)(struct cove_sock *s, struct msghdr *msg, int flags);
	int (*shutdown)(struct cove_sock *s, int how);
	void (*close)(struct cove_sock *s);
	int (*setsockopt)(struct cove_sock *s, int level, int name,
			  const void *val, socklen_t len);
	int (*getsockopt)(struct cove_sock *s, int level, int name, void *val,
			  socklen_t *len);
	int (*getsockname)(struct cove_sock *s, struct sockaddr *addr,
			   socklen_t *len);
	int (*getpeername)(struct cove_sock *s, struct sockaddr *addr,
			   socklen_t *len);
	uint32_t (*events)(struct cove_sock *s);

	int (*stats)(struct cove_stack *st, struct cove_stack_stats *out);
};

/* Static registration into the binary's provider table. */
#define COVE_STACK_PROVIDER(ops)                                       \
	static const struct cove_netstack_ops *const cove__stack_##ops \
		__attribute__((used, section("cove_stacks"),           \
			       aligned(sizeof(void *)))) = &(ops)

/* An out-of-tree provider exports this symbol:
 *   const struct cove_netstack_ops *cove_netstack_entry_v2(void);
 * A v1 provider exports cove_netstack_entry_v1; hosts name it in the
 * refusal (COVE_NETSTACK_ENTRY_SYMBOL_V1).                              */
#define COVE_NETSTACK_ENTRY_SYMBOL    "cove_netstack_entry_v2"
#define COVE_NETSTACK_ENTRY_SYMBOL_V1 "cove_netstack_entry_v1"

/**
 * cove_stack_providers() - the providers built into this binary
 * @n:	set to the count
 *
 * Return: array of @n ops pointers.
 */
const struct cove_netstack_ops *const *cove_stack_providers(unsigned *n);

/**
 * cove_stack_read_stats() - a provider's statistics, as a host asks for them
 * @ops:	the provider
 * @st:		its instance
 * @out:	zeroed, size set, then filled by the provider
 *
 * Return: what ops->stats() returned.
 */
int cove_stack_read_stats(const struct cove_netstack_ops *ops,
			  struct cove_stack *st, struct cove_stack_stats *out);

/**
 * cove_stack_put_stats() - a provider's side: copy @src into @out
 * @out:	the host's structure; out->size says how much it holds
 * @src:	the provider's counters (its size field is ignored)
 *
 * Copies no further than out->size, so a host built for fewer counters
 * gets a prefix; out->size keeps the host's value.
 */
void cove_stack_put_stats(struct cove_stack_stats *out,
			  const struct cove_stack_stats *src);

/**
 * cove_stack_find() - look a provider up by name
 * @name:	"builtin", ...
 *
 * Return: the ops, or NULL if this binary has no such provider.
 */
const struct cove_netstack_ops *cove_stack_find(const char *name);

#endif /* COVE_NETSTACK_H */
