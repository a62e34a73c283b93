/* SPDX-License-Identifier: Apache-2.0 */
/* Link ABI: burst packet I/O under a stack (AF_PACKET, TAP, in-memory, ...). */
#ifndef COVE_LINK_H
#define COVE_LINK_H

#include <stdint.h>

#include "cove/err.h"
#include "cove/frame.h"

/*
 * Theory of operation
 *
 * A link moves whole Ethernet frames (no FCS) in bursts, like a DPDK
 * driver. It never blocks:
 *
 *  - rx_burst() fills up to @n frame pointers and returns how many it filled.
 *    The frames come from the link's pool and belong to the caller.
 *  - tx_burst() takes up to @n frames and returns how many it accepted. It
 *    owns the accepted ones (it frees them once sent or copied out); the
 *    caller keeps the rest and decides to retry or drop them.
 *
 * When rx_burst() returns 0 the caller may sleep until @fd is readable
 * (the interrupt mode); after waking it must drain with rx_burst() until it
 * returns 0 again, since readiness may be edge-like (TPACKET_V3 blocks).
 * Links are driven by one thread; nothing here is thread-safe.
 *
 * Offloads: a link may take work off the stack (@offloads). With
 * COVE_LINK_OFF_TX_CSUM it completes checksums of frames flagged
 * COVE_FRAME_F_CSUM_PARTIAL; with COVE_LINK_OFF_TSO4 it also takes TCP/IPv4
 * frames of up to @tso_max bytes (Ethernet header included) flagged
 * COVE_FRAME_F_TSO and sends them as MTU-sized segments (or hands them to
 * a device that does); COVE_LINK_OFF_TSO6 (appended: a link or stack built
 * before it never sets it, and then IPv6 frames carry whole checksums and
 * no TSO) extends both to TCP/IPv6 frames without extension headers, their
 * checksum field holding the IPv6 pseudo-header sum. The link tells the
 * families apart by the EtherType. Such frames do not fit an MTU-sized
 * pool: a stack that sends them brings its own buffers (see frame.h).
 * Per-frame
 * COVE_FRAME_F_CSUM_OK on received frames works on any link.
 *
 * Every link type embeds struct cove_link as its first member and registers
 * its ops with COVE_LINK_TYPE() so that "kind:arg" strings ("tap:tap0",
 * "packet:eth0") name it at run time.
 */

#define COVE_LINK_NAME_MAX 32

/* Offloads a link may do for the stack (none are required). */
#define COVE_LINK_OFF_RX_CSUM (1u << 0) /* every rx checksum already verified */
#define COVE_LINK_OFF_TX_CSUM (1u << 1) /* takes COVE_FRAME_F_CSUM_PARTIAL */
#define COVE_LINK_OFF_TSO4    (1u << 2) /* takes COVE_FRAME_F_TSO, see tso_max */
#define COVE_LINK_OFF_TSO6    (1u << 3) /* TX_CSUM and TSO4 on TCP/IPv6 too */

struct cove_link_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_dropped; /* lost at the link (ring full, no frame) */
	uint64_t tx_dropped; /* refused by the device */
};

struct cove_link;

struct cove_link_ops {
	const char *kind;  /* "tap", "packet", ... */
	const char *usage; /* "tap:IFNAME", for --help */

	/**
	 * open() - attach to a device
	 * @arg:	text after "kind:" (an interface name, ...)
	 * @pool:	pool for received frames; must outlive the link
	 * @out:	the new link
	 * @err:	filled on failure
	 *
	 * Return: 0 or < 0 with @err set.
	 */
	int (*open)(const char *arg, struct cove_frame_pool *pool,
		    struct cove_link **out, struct cove_err *err);
	unsigned (*rx_burst)(struct cove_link *l, struct cove_frame **f,
			     unsigned n);
	unsigned (*tx_burst)(struct cove_link *l, struct cove_frame **f,
			     unsigned n);
	/* close() - detach and free; frames already received stay valid. */
	void (*close)(struct cove_link *l);
};

struct cove_link {
	const struct cove_link_ops *ops;
	struct cove_frame_pool *pool; /* rx frames come from here */
	uint8_t mac[6];		      /* the link's own MAC address */
	uint32_t mtu;		      /* IP MTU: max Ethernet payload */
	uint32_t offloads;	      /* COVE_LINK_OFF_* */
	int fd; /* readable when rx may have frames; -1: none */
	char name[COVE_LINK_NAME_MAX]; /* "tap:tap0" */
	struct cove_link_stats stats;
	uint32_t tso_max; /* COVE_LINK_OFF_TSO4: max frame bytes */
};

static inline unsigned cove_link_rx_burst(struct cove_link *l,
					  struct cove_frame **f, unsigned n)
{
	return l->ops->rx_burst(l, f, n);
}

static inline unsigned cove_link_tx_burst(struct cove_link *l,
					  struct cove_frame **f, unsigned n)
{
	return l->ops->tx_burst(l, f, n);
}

static inline void cove_link_close(struct cove_link *l)
{
	if (l)
		l->ops->close(l);
}

/**
 * cove_link_open() - open a link named "kind:arg"
 * @spec:	e.g. "tap:tap0", "packet:eth0"
 * @pool:	pool for received frames
 * @out:	the new link
 * @err:	filled on failure (unknown kind, device errors)
 *
 * Return: 0 or < 0 with @err set.
 */
int cove_link_open(const char *spec, struct cove_frame_pool *pool,
		   struct cove_link **out, struct cove_err *err);

/**
 * cove_link_mem_pair() - two in-memory links wired back to back (tests)
 * @pool_a:	rx pool of @a (frames sent by @b are copied into it)
 * @pool_b:	rx pool of @b
 * @a:		first end
 * @b:		second end
 *
 * Each end has a distinct locally administered MAC, MTU 1500 and an
 * eventfd as @fd that is readable while frames wait.
 *
 * Return: 0 or -ENOMEM.
 */
int cove_link_mem_pair(struct cove_frame_pool *pool_a,
		       struct cove_frame_pool *pool_b, struct cove_link **a,
		       struct cove_link **b);

/*
 * Impairment shim: wraps any link and impairs both directions.
 * Spec grammar (comma separated, all optional):
 *   drop=P,dup=P,reorder=P,corrupt=P  percentages, e.g. drop=2 or drop=0.5
 *   delay=MS[:JITTER_MS]              added one-way delay
 *   seed=N                            PRNG seed (default 1): runs repeat
 */
struct cove_impair_spec {
	double drop, dup, reorder, corrupt; /* probabilities 0..1 */
	uint32_t delay_us, jitter_us;
	uint64_t seed;
};

/**
 * cove_impair_parse() - parse an impairment spec string
 * @text:	the spec
 * @spec:	filled on success
 * @err:	one clear line on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int cove_impair_parse(const char *text, struct cove_impair_spec *spec,
		      struct cove_err *err);

/**
 * cove_link_impair() - wrap a link in the impairment shim
 * @inner:	link to wrap; owned by the shim from now on
 * @spec:	what to do
 * @out:	the wrapping link (same MAC/MTU/fd semantics as @inner)
 *
 * Return: 0 or -ENOMEM. Delayed frames need the caller to call rx_burst /
 * tx_burst again after cove_link_impair_next_ns(); see that function.
 */
int cove_link_impair(struct cove_link *inner,
		     const struct cove_impair_spec *spec,
		     struct cove_link **out);

/**
 * cove_link_impair_next_ns() - when the shim next has a delayed frame due
 * @l:		a link returned by cove_link_impair()
 *
 * Return: CLOCK_MONOTONIC time in ns, or UINT64_MAX if nothing is delayed.
 */
uint64_t cove_link_impair_next_ns(struct cove_link *l);

/**
 * cove_link_pcap() - wrap a link in the capture shim
 * @inner:	link to wrap; owned by the shim on success
 * @fd:		an empty file open for writing; owned by the shim on success
 * @max:	the file never grows past this many bytes
 * @out:	the wrapping link (same MAC/MTU/fd/offloads as @inner)
 * @err:	set on failure (@inner and @fd stay the caller's)
 *
 * Every frame received, and every frame the inner link accepts for
 * sending, goes to @fd in pcap format (tcpdump -r, Wireshark).
 * Return: 0 or < 0 with @err set.
 */
int cove_link_pcap(struct cove_link *inner, int fd, uint64_t max,
		   struct cove_link **out, struct cove_err *err);

/* cove_link_pcap_skipped() - frames a capture shim left out (cap, errors). */
uint64_t cove_link_pcap_skipped(const struct cove_link *l);

/* Registration: the build target decides which link kinds exist. */
#define COVE_LINK_TYPE(ops)                                       \
	static const struct cove_link_ops *const cove__link_##ops \
		__attribute__((used, section("cove_links"),       \
			       aligned(sizeof(void *)))) = &(ops)

/**
 * cove_link_types() - the link kinds built into this binary
 * @n:	set to the count
 *
 * Return: array of @n ops pointers.
 */
const struct cove_link_ops *const *cove_link_types(unsigned *n);

#endif /* COVE_LINK_H */
