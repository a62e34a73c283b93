// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: impairment spec parser, then the shim running that spec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cove/link.h"

/*
 * Input: a spec up to the first newline; the bytes after it become frames
 * (split every 97 bytes) sent through a shim built from the spec over an
 * in-memory pair. Checks: a parsed spec is in range, and after closing
 * everything every frame is back in its pool.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t slen = nl ? (size_t)(nl - data) : size, off;
	struct cove_frame_pool pa, pb;
	struct cove_impair_spec spec;
	struct cove_link *a, *b, *inner;
	struct cove_err err;
	char *text;

	text = malloc(slen + 1);
	if (!text)
		return 0;
	memcpy(text, data, slen);
	text[slen] = 0;
	if (cove_impair_parse(text, &spec, &err) < 0) {
		if (!err.msg[0] || strchr(err.msg, '\n'))
			abort();
		free(text);
		return 0;
	}
	free(text);
	if (spec.drop < 0 || spec.drop > 1 || spec.dup < 0 || spec.dup > 1 ||
	    spec.reorder < 0 || spec.reorder > 1 || spec.corrupt < 0 ||
	    spec.corrupt > 1 || spec.delay_us > 60000000u ||
	    spec.jitter_us > 60000000u)
		abort();
	if (!nl)
		return 0;

	if (cove_frame_pool_init(&pa, 64, 256) ||
	    cove_frame_pool_init(&pb, 64, 256))
		abort();
	if (cove_link_mem_pair(&pa, &pb, &inner, &b) ||
	    cove_link_impair(inner, &spec, &a))
		abort();
	for (off = slen + 1; off < size; off += 97) {
		struct cove_frame *f = cove_frame_alloc(&pa), *r[8];
		size_t len = size - off < 97 ? size - off : 97;
		unsigned n, i;

		if (!f)
			break;
		memcpy(f->data, data + off, len);
		f->len = (uint32_t)len;
		if (cove_link_tx_burst(a, &f, 1) != 1)
			cove_frame_free(f);
		while ((n = cove_link_rx_burst(b, r, 8)) > 0)
			for (i = 0; i < n; i++)
				cove_frame_free(r[i]);
	}
	cove_link_close(a);
	cove_link_close(b);
	if (cove_frame_pool_fini(&pa) || cove_frame_pool_fini(&pb))
		abort();
	return 0;
}
