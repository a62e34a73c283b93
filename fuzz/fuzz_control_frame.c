// SPDX-License-Identifier: Apache-2.0
/* libFuzzer: control frame decoder, envelopes and every method's messages. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"

static const char *const fuzz_methods[] = {
	"cove.Hello", "cove.Health", "cove.Create", "cove.Start", "cove.Exec",
	"cove.Wait", "cove.Signal", "cove.ListProcesses", "cove.Stats",
	"cove.Shutdown",
};

/**
 * fuzz_frame() - decode one frame's payload every way a peer could mean it
 * @h:		header
 * @p:		payload
 */
static void fuzz_frame(const struct cove_ctl_hdr *h, const uint8_t *p)
{
	struct cove_ctl_request req;
	struct cove_ctl_response resp;
	const char *why = NULL;
	size_t i;

	if (cove_ctl_msg_request_decode(p, h->len, &req, &why) == 0) {
		cove_ctl_msg_check_payload(req.method, 0, req.payload,
					   req.payload_len);
		cove_ctl_msg_check_payload(req.method, 1, req.payload,
					   req.payload_len);
		cove_ctl_msg_request_free(&req);
	}
	if (cove_ctl_msg_response_decode(p, h->len, &resp, &why) == 0) {
		for (i = 0; i < sizeof(fuzz_methods) / sizeof(fuzz_methods[0]); i++)
			cove_ctl_msg_check_payload(fuzz_methods[i], 1,
						   resp.payload, resp.payload_len);
		free(resp.payload);
	}
	for (i = 0; i < sizeof(fuzz_methods) / sizeof(fuzz_methods[0]); i++)
		cove_ctl_msg_check_payload(fuzz_methods[i], 0, p, h->len);
}

/*
 * Input: byte 0 picks the frame size limit and byte 1 the chunk size the
 * bytes arrive in; the rest is the stream, fed to one decoder as a
 * connection would receive it.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cove_ctl_rx rx;
	size_t chunk, off = 0;

	if (size < 2)
		return 0;
	cove_ctl_rx_init(&rx, 64u << (data[0] % 15));	/* 64 B .. 1 MiB */
	chunk = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		struct cove_ctl_hdr h;
		const uint8_t *p;
		const char *why = NULL;
		int r;

		if (cove_ctl_rx_feed(&rx, data + off, n) < 0)
			break;
		off += n;
		while ((r = cove_ctl_rx_next(&rx, &h, &p, &why)) == 1)
			fuzz_frame(&h, p);
		if (r < 0)
			break;		/* the server closes the connection here */
	}
	cove_ctl_rx_free(&rx);
	return 0;
}
