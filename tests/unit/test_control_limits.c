// SPDX-License-Identifier: Apache-2.0
/* Control server limits: handshake and idle timeouts, eviction, refusal. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/control.h"
#include "control/cove.pb-c.h"
#include "check.h"

/*
 * The server runs in this process on an injected clock (cfg.now_ms), so
 * every timeout is checked by moving the clock, never by waiting: a case
 * sets the time, runs the server once (pump()) and looks at what the raw
 * peers received. Peers are plain unix sockets speaking frames; connect()
 * completes in the listen backlog, the server accepts in pump().
 */

#define MAX_CONNS    4
#define HANDSHAKE_MS 1000
#define IDLE_MS	     5000
#define EVICT_MS     100

static struct cove_ctl_server *srv;
static int64_t now_ms = 1000000;
static char sock_path[108];
static int have_later;
static struct cove_ctl_call later;

static int64_t fake_now(void *opaque)
{
	(void)opaque;
	return now_ms;
}

static void log_cb(void *opaque, const char *line)
{
	(void)opaque;
	fprintf(stderr, "  server log: %s\n", line);
}

/* test.Later: answered when the case says so (a cove.Wait). */
static void h_later(void *opaque, const struct cove_ctl_call *call,
		    const uint8_t *req, size_t len, struct cove_ctl_reply *rep)
{
	(void)opaque;
	(void)req;
	(void)len;
	later = *call;
	have_later = 1;
	rep->deferred = 1;
}

/* test.Now: deferred, but answered inside the handler (cove.Wait on a
 * process that has exited already does this). */
static void h_now(void *opaque, const struct cove_ctl_call *call,
		  const uint8_t *req, size_t len, struct cove_ctl_reply *rep)
{
	struct cove_ctl_reply r = { .code = 0 };

	(void)opaque;
	(void)req;
	(void)len;
	CHECK(cove_ctl_server_reply(srv, call, &r) == 0);
	rep->deferred = 1;
}

static const struct cove_ctl_method methods[] = {
	{ "test.Later", h_later },
	{ "test.Now", h_now },
	{ NULL, NULL },
};

/* pump() - let the server serve whatever is ready, a few rounds. */
static void pump(void)
{
	int i;

	for (i = 0; i < 4; i++)
		REQUIRE(cove_ctl_server_run(srv, 0) >= 0);
}

static int peer(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	REQUIRE(fd >= 0);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", sock_path);
	REQUIRE(connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0);
	return fd;
}

/* send_call() - one request frame on @stream. */
static void send_call(int fd, uint32_t stream, const char *method)
{
	Cove__Control__HelloRequest hr = COVE__CONTROL__HELLO_REQUEST__INIT;
	uint8_t buf[64], *f;
	size_t n = 0, len;

	if (!strcmp(method, "cove.Hello")) {
		hr.version_min = hr.version_max = COVE_CTL_VERSION;
		n = cove__control__hello_request__pack(&hr, buf);
	}
	f = cove_ctl_msg_request_frame(stream, method, buf, n, 0, 65536, &len);
	REQUIRE(f);
	REQUIRE(send(fd, f, len, MSG_NOSIGNAL) == (ssize_t)len);
	free(f);
}

/*
 * response() - the response frame waiting on @fd (the server ran already,
 * so it is there or never comes); Return: its code, or -1 for none.
 */
static int response(int fd, char *msg, size_t msglen)
{
	struct cove_ctl_response resp;
	struct cove_ctl_rx rx;
	struct cove_ctl_hdr h;
	const uint8_t *p;
	const char *why;
	int code = -1;

	cove_ctl_rx_init(&rx, 0);
	for (;;) {
		size_t room;
		uint8_t *dst;
		ssize_t n;

		if (cove_ctl_rx_next(&rx, &h, &p, &why) == 1) {
			if (cove_ctl_msg_response_decode(p, h.len, &resp,
							 &why) == 0) {
				code = resp.code;
				if (msg)
					snprintf(msg, msglen, "%s",
						 resp.message);
				free(resp.payload);
			}
			break;
		}
		dst = cove_ctl_rx_space(&rx, 4096, &room);
		REQUIRE(dst);
		n = recv(fd, dst, room, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				fprintf(stderr, "  recv: %s\n",
					strerror(errno));
			break;
		}
		cove_ctl_rx_commit(&rx, (size_t)n);
	}
	cove_ctl_rx_free(&rx);
	return code;
}

/* closed() - has the server closed @fd (EOF waiting, nothing else)? */
static int closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);

	return n == 0;
}

/* hello() - a connection that has said Hello. */
static int hello(void)
{
	int fd = peer();

	send_call(fd, 1, "cove.Hello");
	pump();
	CHECK(response(fd, NULL, 0) == COVE_CTL_OK);
	return fd;
}

static void test_handshake_timeout(void)
{
	char msg[256] = "";
	int fd = peer();

	pump();
	CHECK(cove_ctl_server_conns(srv) == 1);
	now_ms += HANDSHAKE_MS - 1;
	pump();
	CHECK(cove_ctl_server_conns(srv) == 1 && !closed(fd));
	now_ms += 1;
	pump();
	CHECK(cove_ctl_server_conns(srv) == 0);
	CHECK(response(fd, msg, sizeof(msg)) == COVE_CTL_DEADLINE_EXCEEDED);
	CHECK(strstr(msg, "no cove.Hello within 1000 ms") != NULL);
	CHECK(closed(fd));
	close(fd);
}

static void test_idle_timeout(void)
{
	int fd = hello();

	now_ms += IDLE_MS - 1;
	pump();
	CHECK(!closed(fd));
	send_call(fd, 3, "cove.Health"); /* a request: idle starts again */
	pump();
	CHECK(response(fd, NULL, 0) == COVE_CTL_OK);
	now_ms += IDLE_MS - 1;
	pump();
	CHECK(!closed(fd));
	now_ms += 1;
	pump();
	CHECK(closed(fd) && cove_ctl_server_conns(srv) == 0);
	close(fd);
}

static void test_deferred_call_keeps_it(void)
{
	struct cove_ctl_reply rep = { .code = 0 };
	int fd = hello(), fd2 = hello();

	send_call(fd, 3, "test.Later");
	pump();
	CHECK(have_later);
	now_ms += 100 * IDLE_MS; /* a cove.Wait for a long-running process */
	pump();
	CHECK(!closed(fd));
	CHECK(closed(fd2)); /* idle, nothing open */
	close(fd2);
	REQUIRE(cove_ctl_server_reply(srv, &later, &rep) == 0);
	have_later = 0;
	CHECK(response(fd, NULL, 0) == COVE_CTL_OK);
	now_ms += IDLE_MS;
	pump();
	CHECK(closed(fd));
	close(fd);
	/* Deferred and answered inside the handler: nothing stays open. */
	fd = hello();
	send_call(fd, 3, "test.Now");
	pump();
	CHECK(response(fd, NULL, 0) == COVE_CTL_OK);
	now_ms += IDLE_MS;
	pump();
	CHECK(closed(fd) && cove_ctl_server_conns(srv) == 0);
	close(fd);
}

static void test_full_evicts_idle(void)
{
	char msg[256] = "";
	int fds[MAX_CONNS], late, pre, i;

	for (i = 0; i < MAX_CONNS; i++) {
		fds[i] = hello();
		now_ms += 10;
	}
	/* All active within EVICT_MS: nobody is cut, the newcomer is told. */
	late = peer();
	send_call(late, 1, "cove.Hello");
	pump();
	CHECK(response(late, msg, sizeof(msg)) == COVE_CTL_RESOURCE_EXHAUSTED);
	CHECK(strstr(msg, "try again later") != NULL);
	CHECK(closed(late));
	close(late);
	for (i = 0; i < MAX_CONNS; i++)
		CHECK(!closed(fds[i]));
	now_ms += EVICT_MS;
	send_call(fds[0], 3, "cove.Health"); /* 0 is now the most recent */
	pump();
	CHECK(response(fds[0], NULL, 0) == COVE_CTL_OK);
	late = hello(); /* takes the slot of 1, the least recently active */
	CHECK(closed(fds[1]));
	CHECK(!closed(fds[0]) && !closed(fds[2]) && !closed(fds[3]));
	close(fds[1]);
	/* One that never said Hello goes first, even if the newest. */
	close(fds[2]);
	pump();
	pre = peer();
	pump();
	now_ms += 10;
	fds[1] = hello();
	CHECK(closed(pre));
	CHECK(!closed(fds[0]) && !closed(fds[3]) && !closed(late));
	close(pre);
	close(late);
	for (i = 0; i < MAX_CONNS; i++)
		if (i != 2)
			close(fds[i]);
	pump();
	CHECK(cove_ctl_server_conns(srv) == 0);
}

/* try_client() - a real cove client in a child; Return: its exit code:
 * 0 connected, 1 refused with the busy message, 2 other failure. */
static int try_client(void)
{
	struct cove_ctl_addr a = { .transport = COVE_CTL_UNIX };
	pid_t pid = fork();
	int st = 0;

	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct cove_ctl_client *c = NULL;
		struct cove_err err = { 0 };

		snprintf(a.path, sizeof(a.path), "%s", sock_path);
		if (cove_ctl_client_open(&a, NULL, -1, &c, &err) == 0) {
			cove_ctl_client_close(c);
			_exit(0);
		}
		fprintf(stderr, "  client: %s\n", err.msg);
		_exit(strstr(err.msg,
			     "are in use (waiting on calls or busy); try again later") &&
				      err.code == EBUSY ?
			      1 :
			      2);
	}
	while (waitpid(pid, &st, WNOHANG) == 0)
		REQUIRE(cove_ctl_server_run(srv, 10) >= 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

static void test_full_of_calls_refused(void)
{
	struct cove_ctl_call calls[MAX_CONNS];
	struct cove_ctl_reply rep = { .code = 0 };
	char msg[256] = "";
	int fds[MAX_CONNS], fd, i;

	for (i = 0; i < MAX_CONNS; i++) {
		fds[i] = hello();
		send_call(fds[i], 3, "test.Later");
		pump();
		REQUIRE(have_later);
		calls[i] = later;
		have_later = 0;
	}
	/* Hello sent before the accept, as a client does: still an answer. */
	fd = peer();
	send_call(fd, 1, "cove.Hello");
	pump();
	CHECK(response(fd, msg, sizeof(msg)) == COVE_CTL_RESOURCE_EXHAUSTED);
	CHECK(strstr(msg, "all 4 control connections") != NULL);
	CHECK(closed(fd));
	close(fd);
	CHECK(try_client() == 1);
	for (i = 0; i < MAX_CONNS; i++)
		CHECK(!closed(fds[i]));
	/* One call answered: its connection is idle and makes room. */
	REQUIRE(cove_ctl_server_reply(srv, &calls[2], &rep) == 0);
	CHECK(response(fds[2], NULL, 0) == COVE_CTL_OK);
	CHECK(try_client() == 1); /* it was answered just now */
	now_ms += EVICT_MS;
	CHECK(try_client() == 0);
	CHECK(closed(fds[2]));
	for (i = 0; i < MAX_CONNS; i++)
		close(fds[i]);
	pump();
	CHECK(cove_ctl_server_conns(srv) == 0);
}

int main(void)
{
	struct cove_ctl_server_cfg cfg = {
		.owner_uid = getuid(),
		.max_conns = MAX_CONNS,
		.handshake_ms = HANDSHAKE_MS,
		.idle_ms = IDLE_MS,
		.evict_ms = EVICT_MS,
		.sandbox = "lim",
		.methods = methods,
		.log = log_cb,
		.now_ms = fake_now,
	};
	struct cove_ctl_addr a = { .transport = COVE_CTL_UNIX };
	struct cove_err err = { 0 };
	char dir[64];

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/cv-control-lim-%d", (int)getpid());
	REQUIRE(mkdir(dir, 0700) == 0 || errno == EEXIST);
	snprintf(sock_path, sizeof(sock_path), "%s/control.sock", dir);
	snprintf(a.path, sizeof(a.path), "%s", sock_path);
	if (cove_ctl_server_new(&cfg, &srv, &err) < 0 ||
	    cove_ctl_server_listen(srv, &a, &err) < 0) {
		fprintf(stderr, "server: %s\n", err.msg);
		return 1;
	}
	RUN(test_handshake_timeout);
	RUN(test_idle_timeout);
	RUN(test_deferred_call_keeps_it);
	RUN(test_full_evicts_idle);
	RUN(test_full_of_calls_refused);
	cove_ctl_server_free(srv);
	rmdir(dir);
	return check_summary();
}
