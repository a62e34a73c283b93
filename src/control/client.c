// SPDX-License-Identifier: Apache-2.0
/* Control client: the runtime's side of the channel (dial, hello, call). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "control/ctl_internal.h"
#include "control/cove.pb-c.h"

/*
 * Theory of operation: one connection, one call at a time. A call gets the
 * next odd stream id, writes its request frame and reads frames until the
 * response with that stream id arrives or the deadline passes. Responses
 * to older streams (calls that timed out) are dropped. Any transport or
 * framing error makes the client unusable: the caller closes it.
 */

struct cove_ctl_client {
	int fd;
	int broken;
	uint32_t next_stream;
	uint32_t max;
	uint32_t version;
	struct cove_ctl_rx rx;
};

/**
 * client_write() - write a whole frame before the deadline
 * @c:		client
 * @p:		bytes
 * @n:		count
 * @deadline:	absolute ms
 * @err:	reason
 *
 * Return: 0 or -1.
 */
static int client_write(struct cove_ctl_client *c, const uint8_t *p, size_t n,
			const int *fds, unsigned nfds, int64_t deadline,
			struct cove_err *err)
{
	while (n) {
		struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * COVE_CTL_MAX_FDS)];
		} u;
		struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t w;

		if (nfds) { /* the fds ride on the frame's first bytes */
			struct cmsghdr *cm;

			memset(&u, 0, sizeof(u));
			m.msg_control = u.buf;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm = CMSG_FIRSTHDR(&m);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		}
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			nfds = 0;
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return cove_err_set(err, errno,
					    "control: sending a request");
		if (poll(&pf, 1, cove_ms_left(deadline)) == 0)
			return cove_err_set(
				err, ETIMEDOUT,
				"control: the sentry does not take requests");
	}
	return 0;
}

/**
 * client_read() - read until the response on @stream arrives
 * @c:		client
 * @stream:	stream id
 * @deadline:	absolute ms
 * @resp:	the response
 * @err:	reason
 *
 * Return: 0 or -1.
 */
static int client_read(struct cove_ctl_client *c, uint32_t stream,
		       int64_t deadline, struct cove_ctl_response *resp,
		       struct cove_err *err)
{
	for (;;) {
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		struct cove_ctl_hdr h;
		const uint8_t *p;
		const char *why = NULL;
		uint8_t *dst;
		size_t room;
		ssize_t n;
		int r;

		r = cove_ctl_rx_next(&c->rx, &h, &p, &why);
		if (r < 0)
			return cove_err_set(
				err, EPROTO,
				"control: bad frame from the sentry: %s", why);
		if (r == 1) {
			if (h.type != COVE_CTL_T_RESPONSE)
				return cove_err_set(
					err, EPROTO,
					"control: unexpected frame type %u from the sentry",
					h.type);
			if (h.stream != stream)
				continue; /* answer to a call that timed out */
			if (cove_ctl_msg_response_decode(p, h.len, resp, &why) <
			    0)
				return cove_err_set(
					err, EPROTO,
					"control: bad response from the sentry: %s",
					why);
			return 0;
		}
		dst = cove_ctl_rx_space(&c->rx, 65536, &room);
		if (!dst)
			return cove_err_set(err, ENOMEM,
					    "control: receive buffer");
		n = recv(c->fd, dst, room, MSG_DONTWAIT);
		if (n > 0) {
			cove_ctl_rx_commit(&c->rx, (size_t)n);
			continue;
		}
		if (n == 0)
			return cove_err_set(
				err, ECONNRESET,
				"control: the sentry closed the connection");
		if (errno != EAGAIN && errno != EINTR)
			return cove_err_set(err, errno,
					    "control: receiving a response");
		r = poll(&pf, 1, cove_ms_left(deadline));
		if (r == 0)
			return cove_err_set(
				err, ETIMEDOUT,
				"control: no response from the sentry in time");
	}
}

int cove_ctl_client_call(struct cove_ctl_client *c, const char *method,
			 const uint8_t *req, size_t len, uint32_t timeout_ms,
			 struct cove_ctl_response *resp, struct cove_err *err)
{
	return cove_ctl_client_call_fds(c, method, req, len, NULL, 0,
					timeout_ms, resp, err);
}

int cove_ctl_client_call_fds(struct cove_ctl_client *c, const char *method,
			     const uint8_t *req, size_t len, const int *fds,
			     unsigned nfds, uint32_t timeout_ms,
			     struct cove_ctl_response *resp,
			     struct cove_err *err)
{
	int64_t deadline = cove_now_ms() + timeout_ms;
	uint32_t stream;
	size_t flen;
	uint8_t *f;
	int ret;

	memset(resp, 0, sizeof(*resp));
	if (nfds > COVE_CTL_MAX_FDS)
		return cove_err_set(err, EINVAL,
				    "control: at most %d fds per call",
				    COVE_CTL_MAX_FDS);
	if (c->broken)
		return cove_err_set(
			err, ENOTCONN,
			"control: connection unusable after an earlier error");
	stream = c->next_stream;
	c->next_stream += 2;
	if (c->next_stream < stream)
		c->next_stream = 1; /* wrapped: odd ids start over */
	f = cove_ctl_msg_request_frame(stream, method, req, len, timeout_ms,
				       c->max, &flen);
	if (!f)
		return cove_err_set(err, errno, "control: request %s", method);
	ret = client_write(c, f, flen, fds, nfds, deadline, err);
	free(f);
	/* A sentry that refuses us answers and closes at once, perhaps before
	 * our request went out: its answer is still worth reading. */
	if (ret == 0 ||
	    (err && (err->code == EPIPE || err->code == ECONNRESET)))
		ret = client_read(c, stream, deadline, resp, err);
	if (ret < 0 && (!err || err->code != ETIMEDOUT))
		c->broken = 1;
	if (ret < 0)
		return cove_err_prefix(err, "%s", method);
	return 0;
}

/**
 * client_hello() - agree on a protocol version
 * @c:		client
 * @timeout_ms:	how long to wait
 * @err:	reason
 *
 * Return: 0 or -1.
 */
static int client_hello(struct cove_ctl_client *c, uint32_t timeout_ms,
			struct cove_err *err)
{
	Cove__Control__HelloRequest hr = COVE__CONTROL__HELLO_REQUEST__INIT;
	Cove__Control__HelloResponse *h;
	struct cove_ctl_response resp;
	uint8_t buf[64];
	size_t n;

	hr.version_min = COVE_CTL_VERSION;
	hr.version_max = COVE_CTL_VERSION;
	hr.client = "cove";
	n = cove__control__hello_request__pack(&hr, buf);
	if (cove_ctl_client_call(c, "cove.Hello", buf, n, timeout_ms, &resp,
				 err) < 0)
		return -1;
	if (resp.code != COVE_CTL_OK) {
		free(resp.payload);
		return cove_err_set(err,
				    resp.code == COVE_CTL_PERMISSION_DENIED ?
					    EACCES :
				    resp.code == COVE_CTL_RESOURCE_EXHAUSTED ?
					    EBUSY :
					    EPROTO,
				    "control: the sentry refused: %s",
				    resp.message);
	}
	h = cove__control__hello_response__unpack(NULL, resp.payload_len,
						  resp.payload);
	free(resp.payload);
	if (!h)
		return cove_err_set(err, EPROTO,
				    "control: malformed HelloResponse");
	c->version = h->version;
	cove__control__hello_response__free_unpacked(h, NULL);
	if (c->version != COVE_CTL_VERSION)
		return cove_err_set(
			err, EPROTO,
			"control: the sentry chose protocol version %u",
			c->version);
	return 0;
}

int cove_ctl_client_adopt(const struct cove_ctl_conn *conn,
			  const struct cove_config *cfg,
			  struct cove_ctl_client **out, struct cove_err *err)
{
	struct cove_ctl_client *c;
	struct cove_config def;

	if (!cfg) {
		cove_config_defaults(&def);
		cfg = &def;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(conn->fd);
		return cove_err_set(err, ENOMEM, "control client");
	}
	c->fd = conn->fd;
	c->next_stream = 1;
	c->max = cfg->control_max_frame;
	cove_ctl_rx_init(&c->rx, c->max);
	if (cove_ctl_rx_feed(&c->rx, conn->pending, conn->pending_len) < 0 ||
	    client_hello(c, cfg->dial_deadline_ms, err) < 0) {
		cove_ctl_client_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

int cove_ctl_client_open(const struct cove_ctl_addr *a,
			 const struct cove_config *cfg, int ready_fd,
			 struct cove_ctl_client **out, struct cove_err *err)
{
	struct cove_ctl_dial_opts o;
	struct cove_ctl_conn conn;

	cove_ctl_dial_opts_from(&o, cfg);
	o.ready_fd = ready_fd;
	if (cove_ctl_dial(a, &o, &conn, err) < 0)
		return -1;
	return cove_ctl_client_adopt(&conn, cfg, out, err);
}

int cove_ctl_client_send(struct cove_ctl_client *c, const char *method,
			 const uint8_t *req, size_t len, uint32_t timeout_ms,
			 uint32_t *stream, struct cove_err *err)
{
	int64_t deadline = cove_now_ms() + timeout_ms;
	size_t flen;
	uint8_t *f;
	int ret;

	if (c->broken)
		return cove_err_set(
			err, ENOTCONN,
			"control: connection unusable after an earlier error");
	*stream = c->next_stream;
	c->next_stream += 2;
	if (c->next_stream < *stream)
		c->next_stream = 1;
	f = cove_ctl_msg_request_frame(*stream, method, req, len, 0, c->max,
				       &flen);
	if (!f)
		return cove_err_set(err, errno, "control: request %s", method);
	ret = client_write(c, f, flen, NULL, 0, deadline, err);
	free(f);
	if (ret < 0) {
		c->broken = 1;
		return cove_err_prefix(err, "%s", method);
	}
	return 0;
}

int cove_ctl_client_recv(struct cove_ctl_client *c, uint32_t stream,
			 uint32_t timeout_ms, struct cove_ctl_response *resp,
			 struct cove_err *err)
{
	int ret;

	memset(resp, 0, sizeof(*resp));
	if (c->broken)
		return cove_err_set(
			err, ENOTCONN,
			"control: connection unusable after an earlier error");
	ret = client_read(c, stream, cove_now_ms() + timeout_ms, resp, err);
	if (ret < 0 && (!err || err->code != ETIMEDOUT))
		c->broken = 1;
	return ret;
}

int cove_ctl_client_fd(const struct cove_ctl_client *c)
{
	return c->fd;
}

uint32_t cove_ctl_client_version(const struct cove_ctl_client *c)
{
	return c->version;
}

void cove_ctl_client_close(struct cove_ctl_client *c)
{
	if (!c)
		return;
	close(c->fd);
	cove_ctl_rx_free(&c->rx);
	free(c);
}
