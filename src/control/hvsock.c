// SPDX-License-Identifier: Apache-2.0
/* Hybrid vsock (Firecracker, Cloud Hypervisor): the "CONNECT <port>" handshake. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "control/ctl_internal.h"

/*
 * Theory of operation: the VMM listens on a Unix socket; a host peer sends
 * "CONNECT <port>\n" and the VMM answers "OK <host port>\n" once the guest
 * accepted, or closes the socket when nobody listens on that guest port.
 * The reply is read into a fixed COVE_CTL_HS_MAX buffer; whatever follows
 * the newline in the same read already belongs to the channel and is handed
 * over in conn->pending. A close (with or without partial bytes) or a
 * timeout means "not listening yet" and is retried by the dialer; a whole
 * line that is not "OK ..." or a line that does not fit is a hard error.
 */

/**
 * hvsock_show() - printable copy of a reply for messages
 * @p:		bytes
 * @n:		count
 * @out:	buffer of at least 4 * COVE_CTL_HS_MAX + 1 bytes
 *
 * Return: @out.
 */
static const char *hvsock_show(const uint8_t *p, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < COVE_CTL_HS_MAX; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
	}
	out[o] = '\0';
	return out;
}

int cove_ctl_hvsock_handshake(int fd, uint32_t port, int64_t deadline,
			      struct cove_ctl_conn *out, struct cove_err *err)
{
	char cmd[32], shown[4 * COVE_CTL_HS_MAX + 1];
	uint8_t buf[COVE_CTL_HS_MAX];
	size_t len = 0;
	ssize_t n;
	int cl;

	cl = snprintf(cmd, sizeof(cmd), "CONNECT %u\n", port);
	n = send(fd, cmd, (size_t)cl, MSG_NOSIGNAL);
	if (n != cl) {
		int e = n < 0 ? errno : EAGAIN;

		cove_err_set(err, e, "sending CONNECT %u", port);
		return (e == EPIPE || e == ECONNRESET || e == EAGAIN) ?
			       CTL_ATTEMPT_RETRY :
			       CTL_ATTEMPT_FATAL;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t *nl;
		int r;

		r = poll(&p, 1, cove_ms_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cove_err_set(err, errno,
				     "waiting for the CONNECT reply");
			return CTL_ATTEMPT_FATAL;
		}
		if (r == 0) {
			cove_err_set(err, ETIMEDOUT, "no reply to CONNECT %u",
				     port);
			return CTL_ATTEMPT_RETRY;
		}
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			cove_err_set(err, errno, "reading the CONNECT reply");
			return errno == ECONNRESET ? CTL_ATTEMPT_RETRY :
						     CTL_ATTEMPT_FATAL;
		}
		if (n == 0) {
			cove_err_set(
				err, ECONNRESET,
				"closed after CONNECT %u without a reply%s%s%s",
				port, len ? " (got '" : "",
				len ? hvsock_show(buf, len, shown) : "",
				len ? "')" : "");
			return CTL_ATTEMPT_RETRY;
		}
		len += (size_t)n;
		nl = memchr(buf, '\n', len);
		if (!nl) {
			if (len == sizeof(buf)) {
				cove_err_set(
					err, EPROTO,
					"CONNECT reply longer than %d bytes: '%s'",
					COVE_CTL_HS_MAX,
					hvsock_show(buf, len, shown));
				return CTL_ATTEMPT_FATAL;
			}
			continue;
		}
		if ((size_t)(nl - buf) < 3 || memcmp(buf, "OK ", 3) != 0) {
			cove_err_set(err, EPROTO, "CONNECT %u refused: '%s'",
				     port,
				     hvsock_show(buf, (size_t)(nl - buf),
						 shown));
			return CTL_ATTEMPT_FATAL;
		}
		out->pending_len = len - (size_t)(nl + 1 - buf);
		memcpy(out->pending, nl + 1, out->pending_len);
		return CTL_ATTEMPT_OK;
	}
}
