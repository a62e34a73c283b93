// SPDX-License-Identifier: Apache-2.0
/* The one dialer: non-blocking connect + poll with bounded, backed-off retries. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "control/ctl_internal.h"

/*
 * Theory of operation: an attempt is socket() + non-blocking connect() +
 * poll() for at most the per-attempt timeout (and never past the overall
 * deadline). An attempt that fails in a way that means "not listening yet"
 * (ECONNREFUSED, ENOENT, ECONNRESET, EAGAIN, a per-attempt timeout, a
 * hybrid handshake closed before its reply) is retried after a pause that
 * starts at retry_initial_ms and doubles up to retry_max_ms; any other
 * failure ends the dial at once. The pause is a poll() on the readiness fd
 * when there is one, so a sentry that says "listening" is dialed without
 * waiting out the pause. Each pause sleeps in the kernel: the waiting
 * costs a few syscalls per attempt, not a spinning core. The cap bounds
 * the latency: the first attempt after listen() starts at most one capped
 * pause later, and the trace in the connection records the schedule so
 * tests check exactly that. (An inotify watch on the socket's directory
 * used to end pauses early; closing an inotify fd waits for an SRCU grace
 * period, 15-20 ms here, which cost more than the watch saved.)
 */

/**
 * dial_trace_pause() - record one pause of the schedule
 * @t:		trace
 * @ms:		the pause as chosen
 * @early:	a wake source ended it early
 */
static void dial_trace_pause(struct cove_ctl_dial_trace *t, int ms, int early)
{
	if (early)
		t->early++;
	if (t->n >= COVE_CTL_TRACE_MAX) {
		t->dropped++;
		return;
	}
	t->pause_ms[t->n++] = (uint16_t)((ms > 0x7fff ? 0x7fff : ms) |
					 (early ? COVE_CTL_TRACE_EARLY : 0));
}

const char *cove_ctl_trace_str(const struct cove_ctl_dial_trace *t, char *buf,
			       size_t len)
{
	size_t off;
	uint32_t i;

	off = (size_t)snprintf(buf, len, "pauses");
	for (i = 0; i < t->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u%s",
					i ? "," : " ",
					t->pause_ms[i] & ~COVE_CTL_TRACE_EARLY,
					t->pause_ms[i] & COVE_CTL_TRACE_EARLY ?
						"e" :
						"");
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s ms",
					t->n ? "" : " none");
	if (t->dropped && off < len)
		snprintf(buf + off, len - off, "; +%u more", t->dropped);
	return buf;
}

void cove_ctl_dial_opts_from(struct cove_ctl_dial_opts *o,
			     const struct cove_config *cfg)
{
	struct cove_config def;

	if (!cfg) {
		cove_config_defaults(&def);
		cfg = &def;
	}
	o->attempt_timeout_ms = cfg->dial_attempt_timeout_ms;
	o->retry_initial_ms = cfg->dial_retry_initial_ms;
	o->retry_max_ms = cfg->dial_retry_max_ms;
	o->deadline_ms = cfg->dial_deadline_ms;
	o->handshake_timeout_ms = cfg->dial_handshake_timeout_ms;
	o->ready_fd = -1;
}

int cove_ctl_vsock_set_timeout(int fd, uint32_t ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (suseconds_t)(ms % 1000) * 1000,
	};

	if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
		       sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/**
 * dial_retryable() - does this errno mean "not listening yet"?
 * @e:		errno value
 *
 * Return: true if the dialer should try again.
 */
static int dial_retryable(int e)
{
	return e == ECONNREFUSED || e == ENOENT || e == ECONNRESET ||
	       e == ETIMEDOUT || e == EAGAIN || e == EINTR;
}

/**
 * dial_socket() - a non-blocking socket for the transport
 * @a:		address
 * @o:		options (vsock connect timeout)
 * @sa:		filled with the peer address
 * @salen:	its length
 * @what:	set to what failed, for the message
 *
 * Return: fd or negative errno.
 */
static int dial_socket(const struct cove_ctl_addr *a,
		       const struct cove_ctl_dial_opts *o,
		       struct sockaddr_storage *sa, socklen_t *salen,
		       const char **what)
{
	int r;

	*what = "cannot make a socket";
	memset(sa, 0, sizeof(*sa));
	if (a->transport == COVE_CTL_VSOCK) {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)sa;
		cove_cleanup_close int fd =
			socket(AF_VSOCK,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		r = cove_ctl_vsock_set_timeout(fd, o->attempt_timeout_ms);
		if (r < 0) {
			*what = "cannot set SO_VM_SOCKETS_CONNECT_TIMEOUT";
			return r;
		}
		vm->svm_family = AF_VSOCK;
		vm->svm_cid = a->cid;
		vm->svm_port = a->port;
		*salen = sizeof(*vm);
		return cove_steal_fd(&fd);
	}
	{
		struct sockaddr_un *un = (struct sockaddr_un *)sa;
		int fd = socket(AF_UNIX,
				SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, a->path,
		       strnlen(a->path, sizeof(a->path) - 1));
		*salen = sizeof(*un);
		return fd;
	}
}

/**
 * dial_attempt() - one connect, bounded by the attempt timeout
 * @a:		address
 * @o:		options
 * @deadline:	overall deadline
 * @out:	filled on success
 * @err:	reason
 *
 * Return: CTL_ATTEMPT_OK, _RETRY or _FATAL.
 */
static int dial_attempt(const struct cove_ctl_addr *a,
			const struct cove_ctl_dial_opts *o, int64_t deadline,
			struct cove_ctl_conn *out, struct cove_err *err)
{
	struct sockaddr_storage sa;
	int64_t attempt_end = cove_now_ms() + o->attempt_timeout_ms;
	const char *what = NULL;
	socklen_t salen = 0;
	cove_cleanup_close int fd = -1;
	int e, r;

	fd = dial_socket(a, o, &sa, &salen, &what);
	if (fd < 0) {
		cove_err_set(err, -fd, "%s", what);
		return CTL_ATTEMPT_FATAL;
	}
	if (attempt_end > deadline)
		attempt_end = deadline;
	e = 0;
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		e = errno;
		if (e == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t el = sizeof(e);

			do {
				r = poll(&p, 1, cove_ms_left(attempt_end));
			} while (r < 0 && errno == EINTR);
			if (r < 0)
				e = errno;
			else if (r == 0)
				e = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) <
				 0)
				e = errno;
		}
	}
	if (e) {
		cove_err_set(err, e, "connect");
		return dial_retryable(e) ? CTL_ATTEMPT_RETRY :
					   CTL_ATTEMPT_FATAL;
	}
	out->fd = -1;
	out->pending_len = 0;
	if (a->transport == COVE_CTL_HVSOCK) {
		int64_t hs_end = cove_now_ms() + o->handshake_timeout_ms;

		r = cove_ctl_hvsock_handshake(fd, a->port,
					      hs_end < deadline ? hs_end :
								  deadline,
					      out, err);
		if (r != CTL_ATTEMPT_OK)
			return r;
	}
	out->fd = cove_steal_fd(&fd);
	return CTL_ATTEMPT_OK;
}

/**
 * dial_pause() - sleep between attempts, or less if the sentry says ready
 * @ready_fd:	readiness fd or -1; set to -1 once read or closed
 * @ms:		pause length
 *
 * Return: 1 if woken early by the readiness fd, else 0.
 */
static int dial_pause(int *ready_fd, int ms)
{
	struct pollfd p = { .fd = *ready_fd, .events = POLLIN };

	if (*ready_fd < 0) {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return 0;
	}
	if (poll(&p, 1, ms) <= 0 || !p.revents)
		return 0;
	if (cove_ctl_ready_poll(*ready_fd, 0) != 0) {
		*ready_fd = -1; /* ready, or the pipe is done */
		return 1;
	}
	return 0;
}

/**
 * dial_code() - set the errno of an error whose message is already whole
 * @err:	error (may be NULL)
 * @code:	errno value
 *
 * Return: -1.
 */
static int dial_code(struct cove_err *err, int code)
{
	if (err)
		err->code = code;
	return -1;
}

static const char *dial_kind(enum cove_ctl_transport t)
{
	switch (t) {
	case COVE_CTL_UNIX:
		return "unix socket";
	case COVE_CTL_VSOCK:
		return "vsock";
	case COVE_CTL_HVSOCK:
		return "hybrid vsock";
	}
	return "?";
}

int cove_ctl_dial(const struct cove_ctl_addr *a,
		  const struct cove_ctl_dial_opts *o, struct cove_ctl_conn *out,
		  struct cove_err *err)
{
	struct cove_ctl_dial_opts def;
	char as[COVE_CTL_PATH_MAX + 32];
	struct cove_err last = { 0 };
	struct cove_err shown = { 0 }; /* the reason reported */
	int ready_fd;
	int64_t start = cove_now_ms(), deadline;
	uint32_t pause;
	int r;

	if (!o) {
		cove_ctl_dial_opts_from(&def, NULL);
		o = &def;
	}
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	cove_ctl_addr_str(a, as, sizeof(as));
	if (a->transport < COVE_CTL_UNIX || a->transport > COVE_CTL_HVSOCK)
		return cove_err_set(err, EINVAL, "control: invalid address");
	deadline = start + o->deadline_ms;
	pause = o->retry_initial_ms ? o->retry_initial_ms : 1;
	ready_fd = o->ready_fd;
	for (;;) {
		int left, ms, woke;

		out->attempts++;
		out->trace.prev_start_ns = out->trace.last_start_ns;
		out->trace.last_start_ns = (int64_t)cove_now_ns();
		r = dial_attempt(a, o, deadline, out, &last);
		if (r == CTL_ATTEMPT_OK)
			break;
		if (r == CTL_ATTEMPT_FATAL) {
			cove_err_set(err, 0, "control: cannot dial %s %s: %s",
				     dial_kind(a->transport), as, last.msg);
			r = dial_code(err, last.code);
			break;
		}
		left = cove_ms_left(deadline);
		/* An attempt the deadline cut short says nothing about the
		 * peer: report the one before it, if any. */
		if (left || last.code != ETIMEDOUT || !shown.msg[0])
			shown = last;
		if (left == 0)
			break;
		ms = (int)pause < left ? (int)pause : left;
		woke = dial_pause(&ready_fd, ms);
		dial_trace_pause(&out->trace, ms, woke);
		if (woke) {
			/* the sentry says it listens: dial at once, and
			 * from the initial pause if that raced */
			pause = o->retry_initial_ms ? o->retry_initial_ms : 1;
			continue;
		}
		if (cove_ms_left(deadline) == 0)
			break;
		pause = pause * 2 > o->retry_max_ms ? o->retry_max_ms :
						      pause * 2;
		if (pause == 0)
			pause = 1;
	}
	if (r == CTL_ATTEMPT_OK)
		return 0;
	if (r == CTL_ATTEMPT_FATAL)
		return -1;
	cove_err_set(
		err, 0,
		"control: %s %s did not accept within %lld ms (%u attempts; last: %s)",
		dial_kind(a->transport), as, (long long)(cove_now_ms() - start),
		out->attempts, shown.msg);
	return dial_code(err, ETIMEDOUT);
}
