// SPDX-License-Identifier: Apache-2.0
/* Control frames: ttrpc's 10-byte header and an incremental, bounded decoder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "control/control.h"

/*
 * Theory of operation: a frame is
 *
 *	u32 length (big-endian, payload bytes after the header)
 *	u32 stream id (big-endian, never 0)
 *	u8  type (1 request, 2 response, 3 data)
 *	u8  flags (ttrpc's remote-closed, remote-open, no-data)
 *	length bytes of payload
 *
 * The decoder keeps received bytes in buf[off..len). It validates a header
 * as soon as its 10 bytes are there, so an oversized or garbled frame is
 * refused before its payload is buffered. The buffer grows on demand but
 * never beyond one whole frame (max + 10 bytes): a peer cannot make a
 * connection hold more than that.
 */

#define RX_INITIAL 4096

void cove_ctl_hdr_put(uint8_t out[COVE_CTL_HDR_LEN],
		      const struct cove_ctl_hdr *h)
{
	cove_put32(out, h->len);
	cove_put32(out + 4, h->stream);
	out[8] = h->type;
	out[9] = h->flags;
}

int cove_ctl_hdr_get(const uint8_t *buf, size_t avail, uint32_t max,
		     struct cove_ctl_hdr *h, const char **why)
{
	if (avail < COVE_CTL_HDR_LEN)
		return 0;
	h->len = cove_get32(buf);
	h->stream = cove_get32(buf + 4);
	h->type = buf[8];
	h->flags = buf[9];
	if (h->len > max) {
		*why = "frame larger than the size limit";
		return -1;
	}
	if (h->type < COVE_CTL_T_REQUEST || h->type > COVE_CTL_T_DATA) {
		*why = "unknown frame type";
		return -1;
	}
	if (h->flags & ~COVE_CTL_F_ALL) {
		*why = "unknown frame flags";
		return -1;
	}
	if (h->stream == 0) {
		*why = "stream id 0";
		return -1;
	}
	return 1;
}

void cove_ctl_rx_init(struct cove_ctl_rx *rx, uint32_t max)
{
	memset(rx, 0, sizeof(*rx));
	rx->max = (max == 0 || max > COVE_CTL_FRAME_MAX) ? COVE_CTL_FRAME_MAX :
							   max;
}

void cove_ctl_rx_free(struct cove_ctl_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->cap = rx->len = rx->off = 0;
}

uint8_t *cove_ctl_rx_space(struct cove_ctl_rx *rx, size_t want, size_t *room)
{
	size_t limit = (size_t)rx->max + COVE_CTL_HDR_LEN, need;

	if (rx->off) {
		memmove(rx->buf, rx->buf + rx->off, rx->len - rx->off);
		rx->len -= rx->off;
		rx->off = 0;
	}
	need = rx->len + (want ? want : 1);
	if (need > limit)
		need = limit;
	if (need > rx->cap) {
		size_t cap = rx->cap ? rx->cap : RX_INITIAL;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		nb = realloc(rx->buf, cap);
		if (!nb) {
			*room = 0;
			return NULL;
		}
		rx->buf = nb;
		rx->cap = cap;
	}
	*room = rx->cap - rx->len;
	return rx->buf + rx->len;
}

void cove_ctl_rx_commit(struct cove_ctl_rx *rx, size_t n)
{
	rx->len += n;
}

int cove_ctl_rx_feed(struct cove_ctl_rx *rx, const uint8_t *p, size_t n)
{
	uint8_t *dst;
	size_t room;

	if (n == 0)
		return 0;
	dst = cove_ctl_rx_space(rx, n, &room);
	if (!dst)
		return -ENOMEM;
	if (room < n)
		return -ENOBUFS;
	if (n)
		memcpy(dst, p, n);
	cove_ctl_rx_commit(rx, n);
	return 0;
}

int cove_ctl_rx_next(struct cove_ctl_rx *rx, struct cove_ctl_hdr *h,
		     const uint8_t **payload, const char **why)
{
	size_t avail = rx->len - rx->off;
	int r;

	r = cove_ctl_hdr_get(rx->buf + rx->off, avail, rx->max, h, why);
	if (r <= 0)
		return r;
	if (avail - COVE_CTL_HDR_LEN < h->len)
		return 0;
	*payload = rx->buf + rx->off + COVE_CTL_HDR_LEN;
	rx->off += COVE_CTL_HDR_LEN + h->len;
	return 1;
}
