// SPDX-License-Identifier: Apache-2.0
/* stack-serve's HTTP responder: GET /N answers N deterministic bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>

#include "cli/serve.h"

/*
 * Theory of operation
 *
 * The responder speaks just enough HTTP/1.x for tests and benchmarks:
 *
 *   GET /N HTTP/1.1   -> 200, Content-Length: N, N bytes of body where the
 *                        byte at offset i is (i * 31 + 7) mod 251;
 *   GET /other        -> 404 with an empty body (connection kept);
 *   anything else     -> 400 and the connection closes (also a request
 *                        head longer than HTTP_REQ_MAX or N > HTTP_MAX_N).
 *
 * Connections are kept alive (HTTP/1.1 default, "Connection: close" ends
 * them; HTTP/1.0 closes unless "Connection: keep-alive"). Pipelined
 * requests wait in @req and are answered in order. While a response is
 * being sent nothing more is read, so a client that does not read stops the
 * responder (backpressure). The body repeats every 251 bytes, so each send
 * points into one precomputed pattern at offset mod 251: N can be far
 * larger than memory and costs no generation per send.
 *
 * Invariants: @rlen <= HTTP_REQ_MAX; while @responding, @hoff <= @hlen and
 * @body_off <= @body_len.
 */

#define HTTP_REQ_MAX 4096u
#define HTTP_MAX_N   (1ull << 40)

struct serve_http {
	struct serve_sock base;
	uint32_t rlen;
	uint32_t hlen, hoff;
	uint64_t body_len, body_off;
	bool responding, close_after, peer_eof;
	char hdr[160];
	char req[HTTP_REQ_MAX];
};

struct serve_sock *serve_http_new(void)
{
	return calloc(1, sizeof(struct serve_http));
}

void serve_http_body(uint8_t *buf, size_t len, uint64_t off)
{
	unsigned v = (unsigned)((off % 251) * 31 + 7) % 251;
	size_t i;

	for (i = 0; i < len; i++) {
		buf[i] = (uint8_t)v;
		v += 31;
		if (v >= 251)
			v -= 251;
	}
}

/* http_conn_header() - Connection header of a request head: 1 close, 2 keep. */
static int http_conn_header(const char *p, const char *end)
{
	static const char name[] = "connection:";
	int found = 0;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t n;

		if (!eol)
			eol = end;
		n = (size_t)(eol - p);
		if (n > sizeof(name) - 1 &&
		    !strncasecmp(p, name, sizeof(name) - 1)) {
			const char *v = p + sizeof(name) - 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if ((size_t)(eol - v) >= 5 &&
			    !strncasecmp(v, "close", 5))
				found = 1;
			else if ((size_t)(eol - v) >= 10 &&
				 !strncasecmp(v, "keep-alive", 10))
				found = 2;
		}
		p = eol + 2;
	}
	return found;
}

/**
 * http_parse() - parse one request head at the start of @h->req
 * @h:		connection
 * @used:	set to the bytes the head takes when complete
 * @n:		set to N for "GET /N"
 *
 * Return: 0 need more bytes, 200 for GET /N, 404, or 400.
 */
static int http_parse(struct serve_http *h, uint32_t *used, uint64_t *n)
{
	const char *req = h->req, *end, *eol, *path, *sp, *p;
	bool http10;
	int conn;

	end = memmem(req, h->rlen, "\r\n\r\n", 4);
	if (!end)
		return h->rlen == HTTP_REQ_MAX ? 400 : 0;
	*used = (uint32_t)(end - req) + 4;
	eol = memmem(req, (size_t)(end - req) + 2, "\r\n", 2);
	if ((size_t)(eol - req) < 4 || memcmp(req, "GET ", 4))
		return 400;
	path = req + 4;
	sp = memchr(path, ' ', (size_t)(eol - path));
	if (!sp || eol - sp != 9)
		return 400;
	if (!memcmp(sp + 1, "HTTP/1.1", 8))
		http10 = false;
	else if (!memcmp(sp + 1, "HTTP/1.0", 8))
		http10 = true;
	else
		return 400;
	conn = http_conn_header(eol + 2, end + 2);
	h->close_after = http10 ? conn != 2 : conn == 1;

	if (sp - path < 2 || sp - path > 14 || path[0] != '/')
		return 404;
	*n = 0;
	for (p = path + 1; p < sp; p++) {
		if (*p < '0' || *p > '9')
			return 404;
		*n = *n * 10 + (uint64_t)(*p - '0');
	}
	return *n > HTTP_MAX_N ? 400 : 200;
}

/* http_respond() - set up the response for a parsed request. */
static void http_respond(struct serve *sv, struct serve_http *h, int status,
			 uint64_t n)
{
	int len;

	if (status == 200) {
		sv->cnt.http_requests++;
		len = snprintf(h->hdr, sizeof(h->hdr),
			       "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n"
			       "Content-Type: application/octet-stream\r\n%s\r\n",
			       (unsigned long long)n,
			       h->close_after ? "Connection: close\r\n" : "");
		h->body_len = n;
	} else {
		sv->cnt.http_errors++;
		if (status == 400)
			h->close_after = true;
		len = snprintf(h->hdr, sizeof(h->hdr),
			       "HTTP/1.1 %s\r\nContent-Length: 0\r\n%s\r\n",
			       status == 404 ? "404 Not Found" :
					       "400 Bad Request",
			       h->close_after ? "Connection: close\r\n" : "");
		h->body_len = 0;
	}
	h->hlen = (uint32_t)len;
	h->hoff = 0;
	h->body_off = 0;
	h->responding = true;
}

/**
 * http_send_some() - send what is left of the response, header and body
 * @sv:		server set (its http_pattern holds the body)
 * @h:		connection
 *
 * Return: bytes sent, or negative errno (-EAGAIN: try after a notify).
 */
static ssize_t http_send_some(struct serve *sv, struct serve_http *h)
{
	uint64_t left = h->body_len - h->body_off;
	size_t chunk = left < SERVE_SCRATCH ? (size_t)left : SERVE_SCRATCH;
	struct iovec iov[2];
	struct msghdr m = { .msg_iov = iov };
	ssize_t n;

	if (h->hoff < h->hlen) {
		iov[m.msg_iovlen].iov_base = h->hdr + h->hoff;
		iov[m.msg_iovlen++].iov_len = h->hlen - h->hoff;
	}
	if (chunk) {
		iov[m.msg_iovlen].iov_base =
			sv->http_pattern + h->body_off % 251;
		iov[m.msg_iovlen++].iov_len = chunk;
	}
	n = sv->ops->sendmsg(h->base.s, &m, 0);
	if (n <= 0)
		return n;
	if (h->hoff < h->hlen) {
		uint32_t hn = (size_t)n < h->hlen - h->hoff ? (uint32_t)n :
							      h->hlen - h->hoff;

		h->hoff += hn;
		h->body_off += (uint64_t)n - hn;
	} else {
		h->body_off += (uint64_t)n;
	}
	sv->cnt.http_bytes += (uint64_t)n;
	return n;
}

/**
 * serve_http_service() - run one HTTP connection as far as it can go now
 * @sv:		server
 * @ss:		the connection (a struct serve_http)
 *
 * Alternates between sending the pending response and parsing/reading the
 * next request, until the stack says -EAGAIN (return; called again on the
 * next event) or the connection is done. Pipelined requests are kept by
 * moving the unparsed tail to the front of h->req; a 400 discards the
 * whole buffer. Closes @ss (serve_sock_close(): freed now or when popped,
 * so the caller must not touch it after) on peer EOF with nothing left to
 * answer, on error, or after a response marked close_after.
 */
void serve_http_service(struct serve *sv, struct serve_sock *ss)
{
	struct serve_http *h = (struct serve_http *)ss;
	uint32_t used = 0;
	uint64_t n = 0;
	ssize_t r;
	int status;

	for (;;) {
		if (h->responding) {
			if (h->hoff == h->hlen && h->body_off == h->body_len) {
				h->responding = false;
				if (h->close_after)
					break;
				continue;
			}
			r = http_send_some(sv, h);
			if (r == -EAGAIN)
				return;
			if (r <= 0)
				break;
			continue;
		}
		status = http_parse(h, &used, &n);
		if (status) {
			if (status == 400)
				used = h->rlen;
			memmove(h->req, h->req + used, h->rlen - used);
			h->rlen -= used;
			http_respond(sv, h, status, n);
			continue;
		}
		if (h->peer_eof)
			break;
		r = sv->ops->recvmsg(
			ss->s,
			&(struct msghdr){
				.msg_iov =
					&(struct iovec){
						.iov_base = h->req + h->rlen,
						.iov_len = HTTP_REQ_MAX -
							   h->rlen },
				.msg_iovlen = 1 },
			0);
		if (r == -EAGAIN)
			return;
		if (r < 0)
			break;
		if (r == 0)
			h->peer_eof = true;
		h->rlen += (uint32_t)r;
	}
	serve_sock_close(sv, ss);
}
