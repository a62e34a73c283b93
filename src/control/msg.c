// SPDX-License-Identifier: Apache-2.0
/* Control messages: protobuf-c envelopes, their checks and their frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"
#include "control/cove.pb-c.h"

/*
 * Theory of operation: a frame's payload is one envelope (Request or
 * Response) unpacked by protobuf-c, which bounds every field by the frame
 * it came from. On top of protobuf's own checks, a method name must be
 * 1..COVE_CTL_METHOD_MAX bytes of [A-Za-z0-9._/] and a status message is
 * cut to fit and made printable, so nothing a peer sends reaches a log or a
 * terminal unescaped.
 */

struct msg_method {
	const char *name;
	const ProtobufCMessageDescriptor *req, *resp;
};

static const struct msg_method msg_methods[] = {
	{ "cove.Hello", &cove__control__hello_request__descriptor,
	  &cove__control__hello_response__descriptor },
	{ "cove.Health", &cove__control__health_request__descriptor,
	  &cove__control__health_response__descriptor },
	{ "cove.Create", &cove__control__create_request__descriptor,
	  &cove__control__create_response__descriptor },
	{ "cove.Start", &cove__control__start_request__descriptor,
	  &cove__control__start_response__descriptor },
	{ "cove.Exec", &cove__control__exec_request__descriptor,
	  &cove__control__exec_response__descriptor },
	{ "cove.Wait", &cove__control__wait_request__descriptor,
	  &cove__control__wait_response__descriptor },
	{ "cove.Signal", &cove__control__signal_request__descriptor,
	  &cove__control__signal_response__descriptor },
	{ "cove.ListProcesses",
	  &cove__control__list_processes_request__descriptor,
	  &cove__control__list_processes_response__descriptor },
	{ "cove.Stats", &cove__control__stats_request__descriptor,
	  &cove__control__stats_response__descriptor },
	{ "cove.Shutdown", &cove__control__shutdown_request__descriptor,
	  &cove__control__shutdown_response__descriptor },
};

/**
 * msg_method_ok() - is @s a well-formed method name?
 * @s:		NUL-terminated name from the peer
 *
 * Return: true if it is.
 */
static int msg_method_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > COVE_CTL_METHOD_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '/'))
			return 0;
	}
	return 1;
}

int cove_ctl_msg_request_decode(const uint8_t *p, size_t n,
				struct cove_ctl_request *out, const char **why)
{
	Cove__Control__Request *r;

	memset(out, 0, sizeof(*out));
	r = cove__control__request__unpack(NULL, n, p);
	if (!r) {
		*why = "malformed request envelope";
		return -1;
	}
	if (!r->method || !msg_method_ok(r->method)) {
		cove__control__request__free_unpacked(r, NULL);
		*why = "invalid method name";
		return -1;
	}
	strcpy(out->method, r->method); /* length checked above */
	out->payload = r->payload.len ? r->payload.data : NULL;
	out->payload_len = r->payload.len;
	out->timeout_ms = r->timeout_ms;
	out->pb = r;
	return 0;
}

void cove_ctl_msg_request_free(struct cove_ctl_request *r)
{
	if (r->pb)
		cove__control__request__free_unpacked(r->pb, NULL);
	r->pb = NULL;
}

int cove_ctl_msg_response_decode(const uint8_t *p, size_t n,
				 struct cove_ctl_response *out,
				 const char **why)
{
	Cove__Control__Response *r;
	size_t i;

	memset(out, 0, sizeof(*out));
	r = cove__control__response__unpack(NULL, n, p);
	if (!r) {
		*why = "malformed response envelope";
		return -1;
	}
	out->code = r->code;
	if (r->message) {
		for (i = 0; i < sizeof(out->message) - 1 && r->message[i];
		     i++) {
			char c = r->message[i];

			out->message[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
		}
		out->message[i] = '\0';
	}
	if (r->payload.len) {
		out->payload = malloc(r->payload.len);
		if (!out->payload) {
			cove__control__response__free_unpacked(r, NULL);
			*why = "out of memory";
			return -1;
		}
		memcpy(out->payload, r->payload.data, r->payload.len);
		out->payload_len = r->payload.len;
	}
	cove__control__response__free_unpacked(r, NULL);
	return 0;
}

/**
 * msg_frame_packed() - frame a protobuf message
 * @type:	frame type
 * @stream:	stream id
 * @m:		message to pack
 * @max:	payload limit
 * @out_len:	frame length
 *
 * Return: malloc'd frame, or NULL with errno EMSGSIZE or ENOMEM.
 */
static uint8_t *msg_frame_packed(uint8_t type, uint32_t stream,
				 const ProtobufCMessage *m, uint32_t max,
				 size_t *out_len)
{
	struct cove_ctl_hdr h = { .stream = stream, .type = type };
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *f;

	if (n > max || n > COVE_CTL_FRAME_MAX) {
		errno = EMSGSIZE;
		return NULL;
	}
	f = malloc(COVE_CTL_HDR_LEN + n);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	h.len = (uint32_t)n;
	cove_ctl_hdr_put(f, &h);
	protobuf_c_message_pack(m, f + COVE_CTL_HDR_LEN);
	*out_len = COVE_CTL_HDR_LEN + n;
	return f;
}

uint8_t *cove_ctl_msg_request_frame(uint32_t stream, const char *method,
				    const uint8_t *payload, size_t len,
				    uint32_t timeout_ms, uint32_t max,
				    size_t *out_len)
{
	Cove__Control__Request r = COVE__CONTROL__REQUEST__INIT;

	r.method = (char *)method;
	r.payload.data = (uint8_t *)payload;
	r.payload.len = len;
	r.timeout_ms = timeout_ms;
	return msg_frame_packed(COVE_CTL_T_REQUEST, stream, &r.base, max,
				out_len);
}

uint8_t *cove_ctl_msg_response_frame(uint32_t stream, int32_t code,
				     const char *message,
				     const uint8_t *payload, size_t len,
				     uint32_t max, size_t *out_len)
{
	Cove__Control__Response r = COVE__CONTROL__RESPONSE__INIT;

	r.code = code;
	r.message = (char *)(message ? message : "");
	r.payload.data = (uint8_t *)payload;
	r.payload.len = len;
	return msg_frame_packed(COVE_CTL_T_RESPONSE, stream, &r.base, max,
				out_len);
}

int cove_ctl_msg_check_payload(const char *method, int response,
			       const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(msg_methods) / sizeof(msg_methods[0]); i++) {
		const ProtobufCMessageDescriptor *d;
		ProtobufCMessage *m;

		if (strcmp(msg_methods[i].name, method) != 0)
			continue;
		d = response ? msg_methods[i].resp : msg_methods[i].req;
		m = protobuf_c_message_unpack(d, NULL, n, p);
		if (!m)
			return -1;
		protobuf_c_message_free_unpacked(m, NULL);
		return 0;
	}
	return -1;
}
