// SPDX-License-Identifier: Apache-2.0
/* Unit tests: control frame codec and message envelopes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"
#include "control/cove.pb-c.h"
#include "check.h"

static void test_hdr_roundtrip(void)
{
	struct cove_ctl_hdr h = { .len = 0x01020304 & 0xfffff,
				  .stream = 0x7fffffff,
				  .type = 2,
				  .flags = 5 },
			    g;
	uint8_t b[COVE_CTL_HDR_LEN];
	const char *why = NULL;

	cove_ctl_hdr_put(b, &h);
	CHECK(b[0] == 0x00 && b[1] == 0x02 && b[2] == 0x03 && b[3] == 0x04);
	CHECK(b[4] == 0x7f && b[7] == 0xff && b[8] == 2 && b[9] == 5);
	CHECK(cove_ctl_hdr_get(b, sizeof(b), COVE_CTL_FRAME_MAX, &g, &why) ==
	      1);
	CHECK(g.len == h.len && g.stream == h.stream && g.type == 2 &&
	      g.flags == 5);
	CHECK(cove_ctl_hdr_get(b, 9, COVE_CTL_FRAME_MAX, &g, &why) == 0);
}

static void test_hdr_invalid(void)
{
	struct cove_ctl_hdr h = { .len = 10, .stream = 1, .type = 1 }, g;
	uint8_t b[COVE_CTL_HDR_LEN];
	const char *why = NULL;

	h.len = 101;
	cove_ctl_hdr_put(b, &h);
	CHECK(cove_ctl_hdr_get(b, sizeof(b), 100, &g, &why) == -1);
	CHECK(strstr(why, "size limit") != NULL);
	h.len = 10;
	h.type = 4;
	cove_ctl_hdr_put(b, &h);
	CHECK(cove_ctl_hdr_get(b, sizeof(b), 100, &g, &why) == -1);
	CHECK(strstr(why, "type") != NULL);
	h.type = 0;
	cove_ctl_hdr_put(b, &h);
	CHECK(cove_ctl_hdr_get(b, sizeof(b), 100, &g, &why) == -1);
	h.type = 1;
	h.flags = 0x08;
	cove_ctl_hdr_put(b, &h);
	CHECK(cove_ctl_hdr_get(b, sizeof(b), 100, &g, &why) == -1);
	CHECK(strstr(why, "flags") != NULL);
	h.flags = 0;
	h.stream = 0;
	cove_ctl_hdr_put(b, &h);
	CHECK(cove_ctl_hdr_get(b, sizeof(b), 100, &g, &why) == -1);
	CHECK(strstr(why, "stream id 0") != NULL);
}

/* A request frame for @method with a HelloRequest payload. */
static uint8_t *hello_frame(uint32_t stream, size_t *len)
{
	Cove__Control__HelloRequest hr = COVE__CONTROL__HELLO_REQUEST__INIT;
	uint8_t buf[64];
	size_t n;

	hr.version_min = 1;
	hr.version_max = 3;
	hr.client = "test";
	n = cove__control__hello_request__pack(&hr, buf);
	return cove_ctl_msg_request_frame(stream, "cove.Hello", buf, n, 250,
					  COVE_CTL_FRAME_MAX, len);
}

static void test_request_roundtrip_partial(void)
{
	struct cove_ctl_request req;
	struct cove_ctl_rx rx;
	struct cove_ctl_hdr h;
	const uint8_t *p;
	const char *why = NULL;
	uint8_t *f1, *f2, *all;
	size_t l1, l2, i, got = 0;

	f1 = hello_frame(1, &l1);
	f2 = hello_frame(3, &l2);
	REQUIRE(f1 && f2);
	all = malloc(l1 + l2);
	REQUIRE(all);
	memcpy(all, f1, l1);
	memcpy(all + l1, f2, l2);
	cove_ctl_rx_init(&rx, 0);
	/* one byte at a time: a frame appears only when it is whole */
	for (i = 0; i < l1 + l2; i++) {
		int r;

		REQUIRE(cove_ctl_rx_feed(&rx, all + i, 1) == 0);
		while ((r = cove_ctl_rx_next(&rx, &h, &p, &why)) == 1) {
			got++;
			CHECK(i == (got == 1 ? l1 - 1 : l1 + l2 - 1));
			CHECK(h.type == COVE_CTL_T_REQUEST);
			CHECK(h.stream == (got == 1 ? 1u : 3u));
			REQUIRE(cove_ctl_msg_request_decode(p, h.len, &req,
							    &why) == 0);
			CHECK(strcmp(req.method, "cove.Hello") == 0);
			CHECK(req.timeout_ms == 250);
			CHECK(cove_ctl_msg_check_payload(req.method, 0,
							 req.payload,
							 req.payload_len) == 0);
			cove_ctl_msg_request_free(&req);
		}
		CHECK(r == 0);
	}
	CHECK(got == 2);
	cove_ctl_rx_free(&rx);
	free(f1);
	free(f2);
	free(all);
}

static void test_response_roundtrip(void)
{
	struct cove_ctl_response resp;
	uint8_t pl[3] = { 1, 2, 3 }, *f;
	struct cove_ctl_hdr h;
	const char *why = NULL;
	size_t len;

	f = cove_ctl_msg_response_frame(5, COVE_CTL_NOT_FOUND,
					"no\nsuch\x01thing", pl, sizeof(pl),
					COVE_CTL_FRAME_MAX, &len);
	REQUIRE(f);
	REQUIRE(cove_ctl_hdr_get(f, len, COVE_CTL_FRAME_MAX, &h, &why) == 1);
	CHECK(h.type == COVE_CTL_T_RESPONSE && h.stream == 5);
	CHECK(h.len == len - COVE_CTL_HDR_LEN);
	REQUIRE(cove_ctl_msg_response_decode(f + COVE_CTL_HDR_LEN, h.len, &resp,
					     &why) == 0);
	CHECK(resp.code == COVE_CTL_NOT_FOUND);
	CHECK(strcmp(resp.message, "no?such?thing") == 0); /* made printable */
	CHECK(resp.payload_len == 3 && memcmp(resp.payload, pl, 3) == 0);
	free(resp.payload);
	free(f);
}

static void test_oversized(void)
{
	struct cove_ctl_hdr h = { .len = 5000, .stream = 1, .type = 1 }, g;
	uint8_t b[COVE_CTL_HDR_LEN], *big, *f;
	struct cove_ctl_rx rx;
	const uint8_t *p;
	const char *why = NULL;
	size_t len;

	cove_ctl_rx_init(&rx, 4096);
	cove_ctl_hdr_put(b, &h);
	REQUIRE(cove_ctl_rx_feed(&rx, b, sizeof(b)) == 0);
	CHECK(cove_ctl_rx_next(&rx, &g, &p, &why) ==
	      -1); /* before the payload */
	CHECK(strstr(why, "size limit") != NULL);
	CHECK(rx.cap <= 4096 + COVE_CTL_HDR_LEN);
	cove_ctl_rx_free(&rx);
	/* the encoder refuses too */
	big = calloc(1, 5000);
	REQUIRE(big);
	f = cove_ctl_msg_request_frame(1, "x.Y", big, 5000, 0, 4096, &len);
	CHECK(f == NULL);
	free(big);
	/* the decoder never holds more than one frame */
	cove_ctl_rx_init(&rx, 4096);
	big = calloc(1, 9000);
	REQUIRE(big);
	CHECK(cove_ctl_rx_feed(&rx, big, 9000) == -ENOBUFS);
	free(big);
	cove_ctl_rx_free(&rx);
}

static void test_malformed_protobuf(void)
{
	static const uint8_t trunc[] = {
		0x0a, 0x20, 'c', 'o', 'v', 'e'
	};						 /* len 32, 4 bytes */
	static const uint8_t badwire[] = { 0x0f, 0x01 }; /* wire type 7 */
	static const uint8_t badname[] = { 0x0a, 0x03, 'a', ' ',
					   'b' };	/* space */
	static const uint8_t noname[] = { 0x18, 0x05 }; /* timeout only */
	struct cove_ctl_request req;
	struct cove_ctl_response resp;
	const char *why = NULL;
	uint8_t *f;
	size_t len, i;

	CHECK(cove_ctl_msg_request_decode(trunc, sizeof(trunc), &req, &why) ==
	      -1);
	CHECK(strstr(why, "malformed") != NULL);
	CHECK(cove_ctl_msg_request_decode(badwire, sizeof(badwire), &req,
					  &why) == -1);
	CHECK(cove_ctl_msg_request_decode(badname, sizeof(badname), &req,
					  &why) == -1);
	CHECK(strstr(why, "method") != NULL);
	CHECK(cove_ctl_msg_request_decode(noname, sizeof(noname), &req, &why) ==
	      -1);
	CHECK(cove_ctl_msg_response_decode(trunc, sizeof(trunc), &resp, &why) ==
	      -1);
	/* every strict prefix of a valid envelope with a payload is refused
	 * or decodes without reading past its end (ASan watches) */
	f = hello_frame(1, &len);
	REQUIRE(f);
	for (i = COVE_CTL_HDR_LEN; i < len; i++) {
		uint8_t *copy = malloc(i - COVE_CTL_HDR_LEN + 1);

		REQUIRE(copy);
		memcpy(copy, f + COVE_CTL_HDR_LEN, i - COVE_CTL_HDR_LEN);
		if (cove_ctl_msg_request_decode(copy, i - COVE_CTL_HDR_LEN,
						&req, &why) == 0)
			cove_ctl_msg_request_free(&req);
		free(copy);
	}
	free(f);
	CHECK(cove_ctl_msg_check_payload("cove.Nope", 0, NULL, 0) == -1);
	CHECK(cove_ctl_msg_check_payload("cove.Wait", 1, trunc,
					 sizeof(trunc)) == -1);
	CHECK(cove_ctl_msg_check_payload("cove.Stats", 0, NULL, 0) == 0);
}

static void test_stats_message(void)
{
	Cove__Control__StackStats st = COVE__CONTROL__STACK_STATS__INIT, *out;
	uint8_t buf[512];
	size_t n;

	st.stack = "builtin";
	st.tcp_retransmits = 12345678901ull;
	st.rx_dropped = 7;
	n = cove__control__stack_stats__pack(&st, buf);
	out = cove__control__stack_stats__unpack(NULL, n, buf);
	REQUIRE(out);
	CHECK(strcmp(out->stack, "builtin") == 0);
	CHECK(out->tcp_retransmits == 12345678901ull && out->rx_dropped == 7);
	cove__control__stack_stats__free_unpacked(out, NULL);
}

int main(void)
{
	RUN(test_hdr_roundtrip);
	RUN(test_hdr_invalid);
	RUN(test_request_roundtrip_partial);
	RUN(test_response_roundtrip);
	RUN(test_oversized);
	RUN(test_malformed_protobuf);
	RUN(test_stats_message);
	return check_summary();
}
