// SPDX-License-Identifier: Apache-2.0
/* libFuzzer: control frame decoder, envelopes and every method's messages. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/control.h"

static const char *const fuzz_methods[] = {
	"cove.Hello", "cove.Health",   "cove.Create", "cove.Start",
	"cove.Exec",  "cove.Wait",     "cove.Signal", "cove.ListProcesses",
	"cove.Stats", "cove.Shutdown",
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
		for (i = 0; i < sizeof(fuzz_methods) / sizeof(fuzz_methods[0]);
		     i++)
			cove_ctl_msg_check_payload(fuzz_methods[i], 1,
						   resp.payload,
						   resp.payload_len);
		free(resp.payload);
	}
	for (i = 0; i < sizeof(fuzz_methods) / sizeof(fuzz_methods[0]); i++)
		cove_ctl_msg_check_payload(fuzz_methods[i], 0, p, h->len);
}

static void fuzz_handler(void *opaque, const struct cove_ctl_call *call,
			 const uint8_t *req, size_t len,
			 struct cove_ctl_reply *rep)
{
	(void)opaque;
	(void)call;
	if (cove_ctl_msg_check_payload("cove.Exec", 0, req, len) < 0)
		rep->code = COVE_CTL_INVALID_ARGUMENT;
}

static const struct cove_ctl_method fuzz_table[] = {
	{ "cove.Exec", fuzz_handler },
	{ "cove.Stats", fuzz_handler },
	{ NULL, NULL },
};

static void fuzz_quiet(void *opaque, const char *line)
{
	(void)opaque;
	(void)line;
}

/* fuzz_drain() - read and drop what the server answered */
static void fuzz_drain(int fd)
{
	uint8_t buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/**
 * fuzz_server() - push the stream through a real server connection
 * @data:	stream bytes
 * @size:	count
 * @max:	frame limit
 * @chunk:	bytes per write
 */
static void fuzz_server(const uint8_t *data, size_t size, uint32_t max,
			size_t chunk)
{
	struct cove_ctl_server_cfg cfg = {
		.owner_uid = 0,
		.max_frame = max,
		.methods = fuzz_table,
		.log = fuzz_quiet,
		.sandbox = "fuzz",
	};
	struct cove_ctl_server *srv;
	size_t off = 0;
	int sv[2], spins = 0;

	if (cove_ctl_server_new(&cfg, &srv, NULL) < 0)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0) {
		cove_ctl_server_free(srv);
		return;
	}
	if (cove_ctl_server_adopt(srv, sv[0], NULL) < 0) {
		close(sv[1]);
		cove_ctl_server_free(srv);
		return;
	}
	while (off < size && spins++ < 10000 && cove_ctl_server_conns(srv)) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t w =
			send(sv[1], data + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0)
			off += (size_t)w;
		cove_ctl_server_run(srv, 0);
		fuzz_drain(sv[1]);
	}
	shutdown(sv[1], SHUT_WR);
	while (cove_ctl_server_conns(srv) && spins++ < 10000) {
		cove_ctl_server_run(srv, 0);
		fuzz_drain(sv[1]);
	}
	close(sv[1]);
	cove_ctl_server_free(srv);
}

/*
 * Input: byte 0 picks the frame size limit (low 4 bits) and whether the
 * stream goes to a real server connection (bit 7) or straight to a
 * decoder; byte 1 picks the chunk size the bytes arrive in; the rest is
 * the stream, as a connection would receive it.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cove_ctl_rx rx;
	size_t chunk, off = 0;
	uint32_t max;
	int server;

	if (size < 2)
		return 0;
	max = 64u << ((data[0] & 0x0f) > 14 ? 14 : (data[0] & 0x0f));
	server = data[0] & 0x80;
	chunk = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	if (server) {
		fuzz_server(data, size, max, chunk);
		return 0;
	}
	cove_ctl_rx_init(&rx, max); /* 64 B .. 1 MiB */
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
			break; /* the server closes the connection here */
	}
	cove_ctl_rx_free(&rx);
	return 0;
}
