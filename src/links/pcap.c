// SPDX-License-Identifier: Apache-2.0
/* The capture shim: every frame a link sends and receives, into a pcap file. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cove/link.h"

/*
 * Theory of operation
 *
 * cove_link_pcap() wraps a link like the impairment shim does: rx_burst()
 * records what the inner link returns, tx_burst() records what the inner
 * link accepts, in the classic pcap format tcpdump and Wireshark read
 * (nanosecond timestamps, LINKTYPE_ETHERNET, whole frames up to
 * PCAP_SNAPLEN: a TSO super-frame is recorded as the stack handed it over,
 * before the link or the device segments it).
 *
 * A frame the inner link accepts is the inner link's at once (it may be
 * sent and freed before tx_burst returns), and the frames it refuses stay
 * the caller's to offer again: so each tx burst is first staged (headers
 * and bytes of every frame, in order) and only the prefix that was
 * accepted is written. One write() per burst and direction.
 *
 * The file stops growing before it would pass @max bytes: records that do
 * not fit are counted in @skipped, never cut, so the file always reads to
 * its end. A failed write stops the capture the same way (the link goes
 * on: a full disk must not take the sandbox's network down).
 */

#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_SNAPLEN  262144u
#define PCAP_ETHERNET 1u

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, nsec, caplen, len;
};

struct pcap_link {
	struct cove_link link; /* first: the ops see this */
	struct cove_link *inner;
	int fd;
	uint64_t written, max;
	uint64_t skipped; /* records left out: the size cap, a failed write */
	bool stopped;
	uint8_t *stage; /* one burst's records */
	size_t stage_cap;
	size_t *ends; /* end of each frame's record in @stage */
	unsigned ends_cap;
};

/* pcap_stage_room() - room for @more bytes and one more record end. */
static bool pcap_stage_room(struct pcap_link *p, size_t used, size_t more,
			    unsigned nrec)
{
	size_t cap = p->stage_cap ? p->stage_cap : 65536;
	void *np;

	while (cap < used + more)
		cap *= 2;
	if (cap != p->stage_cap) {
		np = realloc(p->stage, cap);
		if (!np)
			return false;
		p->stage = np;
		p->stage_cap = cap;
	}
	if (nrec >= p->ends_cap) {
		unsigned n = p->ends_cap ? p->ends_cap * 2 : 64;

		np = realloc(p->ends, n * sizeof(*p->ends));
		if (!np)
			return false;
		p->ends = np;
		p->ends_cap = n;
	}
	return true;
}

/*
 * pcap_stage() - the records of @n frames into @p->stage, in order;
 * p->ends[i] is where frame i's record ends. Return: how many were staged
 * (fewer only without memory).
 */
static unsigned pcap_stage(struct pcap_link *p, struct cove_frame **f,
			   unsigned n)
{
	struct timespec ts;
	struct pcap_rec_hdr h;
	size_t used = 0;
	unsigned i;

	clock_gettime(CLOCK_REALTIME, &ts);
	h.sec = (uint32_t)ts.tv_sec;
	h.nsec = (uint32_t)ts.tv_nsec;
	for (i = 0; i < n; i++) {
		h.len = f[i]->len;
		h.caplen = h.len < PCAP_SNAPLEN ? h.len : PCAP_SNAPLEN;
		if (!pcap_stage_room(p, used, sizeof(h) + h.caplen, i))
			break;
		memcpy(p->stage + used, &h, sizeof(h));
		memcpy(p->stage + used + sizeof(h), f[i]->data, h.caplen);
		used += sizeof(h) + h.caplen;
		p->ends[i] = used;
	}
	return i;
}

/* pcap_commit() - write the first @n staged records (as many as fit). */
static void pcap_commit(struct pcap_link *p, unsigned n, unsigned staged)
{
	size_t len;
	unsigned keep = n < staged ? n : staged;
	ssize_t w;

	p->skipped += n - keep;
	if (p->stopped) {
		p->skipped += keep;
		return;
	}
	while (keep && p->written + p->ends[keep - 1] > p->max) {
		keep--;
		p->skipped++;
		p->stopped = true;
	}
	if (!keep)
		return;
	len = p->ends[keep - 1];
	w = write(p->fd, p->stage, len);
	if (w != (ssize_t)len) {
		p->stopped = true;
		p->skipped += keep;
		return;
	}
	p->written += len;
}

static unsigned pcap_rx_burst(struct cove_link *l, struct cove_frame **f,
			      unsigned n)
{
	struct pcap_link *p = (struct pcap_link *)l;
	unsigned got = cove_link_rx_burst(p->inner, f, n);

	if (got)
		pcap_commit(p, got, p->stopped ? 0 : pcap_stage(p, f, got));
	l->stats = p->inner->stats;
	return got;
}

static unsigned pcap_tx_burst(struct cove_link *l, struct cove_frame **f,
			      unsigned n)
{
	struct pcap_link *p = (struct pcap_link *)l;
	unsigned staged = p->stopped || !n ? 0 : pcap_stage(p, f, n);
	unsigned sent = cove_link_tx_burst(p->inner, f, n);

	if (sent)
		pcap_commit(p, sent, staged);
	l->stats = p->inner->stats;
	return sent;
}

static void pcap_close(struct cove_link *l)
{
	struct pcap_link *p = (struct pcap_link *)l;

	cove_link_close(p->inner);
	close(p->fd);
	free(p->stage);
	free(p->ends);
	free(p);
}

static const struct cove_link_ops pcap_ops = {
	.kind = "pcap",
	.usage = "capture shim (cove_link_pcap() around another link)",
	.open = NULL,
	.rx_burst = pcap_rx_burst,
	.tx_burst = pcap_tx_burst,
	.close = pcap_close,
};

int cove_link_pcap(struct cove_link *inner, int fd, uint64_t max,
		   struct cove_link **out, struct cove_err *err)
{
	struct pcap_file_hdr h = {
		.magic = PCAP_MAGIC_NS,
		.major = 2,
		.minor = 4,
		.snaplen = PCAP_SNAPLEN,
		.linktype = PCAP_ETHERNET,
	};
	struct pcap_link *p;

	if (max < sizeof(h))
		return cove_err_set(err, EINVAL,
				    "pcap: a cap of %llu bytes holds nothing",
				    (unsigned long long)max);
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h))
		return cove_err_set(err, errno ? errno : EIO,
				    "pcap: writing the file header");
	p = calloc(1, sizeof(*p));
	if (!p)
		return cove_err_set(err, ENOMEM, "pcap: out of memory");
	p->link = *inner;
	p->link.ops = &pcap_ops;
	p->inner = inner;
	p->fd = fd;
	p->written = sizeof(h);
	p->max = max;
	*out = &p->link;
	return 0;
}

uint64_t cove_link_pcap_skipped(const struct cove_link *l)
{
	return l->ops == &pcap_ops ? ((const struct pcap_link *)l)->skipped : 0;
}
