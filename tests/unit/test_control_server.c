// SPDX-License-Identifier: Apache-2.0
/* Unit tests: control server and client over a unix socket, peer refusal. */
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
#include <grp.h>
#include <unistd.h>

#include "control/control.h"
#include "control/cove.pb-c.h"
#include "check.h"

#define NOBODY 65534

/* ---- the server side (runs in a forked child) ---------------------- */

struct srv_state {
	struct cove_ctl_server *srv;
	int stop;
	int have_later;
	struct cove_ctl_call later;
	int seen_limit, seen_owner, seen_malformed;
};

static void srv_log_cb(void *opaque, const char *line)
{
	struct srv_state *s = opaque;

	fprintf(stderr, "  server log: %s\n", line);
	s->seen_limit |= strstr(line, "frame larger than the size limit") !=
			 NULL;
	s->seen_owner |= strstr(line, "is not the sandbox owner") != NULL;
	s->seen_malformed |= strstr(line, "malformed request envelope") != NULL;
}

static void h_echo(void *opaque, const struct cove_ctl_call *call,
		   const uint8_t *req, size_t len, struct cove_ctl_reply *rep)
{
	(void)opaque;
	(void)call;
	if (len) {
		rep->payload = malloc(len);
		if (!rep->payload) {
			rep->code = COVE_CTL_INTERNAL;
			return;
		}
		memcpy(rep->payload, req, len);
		rep->len = len;
	}
}

static void h_later(void *opaque, const struct cove_ctl_call *call,
		    const uint8_t *req, size_t len, struct cove_ctl_reply *rep)
{
	struct srv_state *s = opaque;

	(void)req;
	(void)len;
	s->later = *call;
	s->have_later = 1;
	rep->deferred = 1;
}

static void h_conns(void *opaque, const struct cove_ctl_call *call,
		    const uint8_t *req, size_t len, struct cove_ctl_reply *rep)
{
	struct srv_state *s = opaque;

	(void)call;
	(void)req;
	(void)len;
	snprintf(rep->message, sizeof(rep->message), "%u",
		 cove_ctl_server_conns(s->srv));
}

static void h_shutdown(void *opaque, const struct cove_ctl_call *call,
		       const uint8_t *req, size_t len,
		       struct cove_ctl_reply *rep)
{
	struct srv_state *s = opaque;

	(void)call;
	(void)req;
	(void)len;
	(void)rep;
	s->stop = 1;
}

static const struct cove_ctl_method srv_methods[] = {
	{ "test.Echo", h_echo },
	{ "test.Later", h_later },
	{ "test.Conns", h_conns },
	{ "cove.Shutdown", h_shutdown },
	{ NULL, NULL },
};

/* server_child() - serve until cove.Shutdown; exit 0 if every expected
 * reason was logged */
static void server_child(const char *path, int ready_fd)
{
	struct srv_state s = { 0 };
	struct cove_ctl_server_cfg cfg = {
		.owner_uid = getuid(),
		.socket_mode = 0666, /* let nobody try, so peercred decides */
		.sandbox = "t1",
		.methods = srv_methods,
		.opaque = &s,
		.log = srv_log_cb,
		.max_frame = 64 * 1024,
	};
	struct cove_ctl_addr a = { .transport = COVE_CTL_UNIX };
	struct cove_err err = { 0 };

	snprintf(a.path, sizeof(a.path), "%s", path);
	if (cove_ctl_server_new(&cfg, &s.srv, &err) < 0 ||
	    cove_ctl_server_listen(s.srv, &a, &err) < 0) {
		fprintf(stderr, "server: %s\n", err.msg);
		_exit(3);
	}
	cove_ctl_signal_ready(ready_fd);
	while (!s.stop) {
		if (cove_ctl_server_run(s.srv, 50) < 0)
			_exit(4);
		if (s.have_later) {
			struct cove_ctl_reply rep = { .code = 0 };

			snprintf(rep.message, sizeof(rep.message), "later");
			rep.payload = malloc(1);
			if (rep.payload) {
				rep.payload[0] = 42;
				rep.len = 1;
			}
			if (cove_ctl_server_reply(s.srv, &s.later, &rep) < 0)
				_exit(5);
			s.have_later = 0;
		}
	}
	/* one more round so the Shutdown answer goes out before we close */
	cove_ctl_server_run(s.srv, 0);
	cove_ctl_server_free(s.srv);
	if (access(path, F_OK) == 0)
		_exit(6); /* the socket file must be gone */
	_exit(s.seen_limit && s.seen_owner && s.seen_malformed ? 0 : 7);
}

/* ---- raw peers ------------------------------------------------------ */

static int raw_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	REQUIRE(fd >= 0);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	REQUIRE(connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0);
	return fd;
}

/* raw_closed() - true once the server has closed @fd (within 5 s) */
static int raw_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];

	while (poll(&p, 1, 5000) == 1) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			return 1;
	}
	return 0;
}

/* raw_call() - send @frame, read one response frame */
static int raw_call(int fd, const uint8_t *frame, size_t len,
		    struct cove_ctl_response *resp)
{
	struct cove_ctl_rx rx;
	struct cove_ctl_hdr h;
	const uint8_t *p;
	const char *why = NULL;
	int r = -1;

	REQUIRE(send(fd, frame, len, MSG_NOSIGNAL) == (ssize_t)len);
	cove_ctl_rx_init(&rx, 0);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		size_t room;
		uint8_t *dst;
		ssize_t n;

		if (cove_ctl_rx_next(&rx, &h, &p, &why) == 1) {
			r = cove_ctl_msg_response_decode(p, h.len, resp, &why);
			break;
		}
		if (poll(&pf, 1, 5000) != 1)
			break;
		dst = cove_ctl_rx_space(&rx, 4096, &room);
		n = recv(fd, dst, room, 0);
		if (n <= 0)
			break;
		cove_ctl_rx_commit(&rx, (size_t)n);
	}
	cove_ctl_rx_free(&rx);
	return r;
}

/* ---- the cases (parent: client side) -------------------------------- */

static char sock_path[108];
static struct cove_ctl_client *client;

static void call_ok(struct cove_ctl_client *c, const char *method,
		    const void *req, size_t len, struct cove_ctl_response *resp)
{
	struct cove_err err = { 0 };

	if (cove_ctl_client_call(c, method, req, len, 5000, resp, &err) < 0) {
		fprintf(stderr, "  %s: %s\n", method, err.msg);
		CHECK(0);
	}
}

static void test_calls(void)
{
	struct cove_ctl_client *c = client;
	Cove__Control__HealthResponse *hr;
	struct cove_ctl_response resp;

	CHECK(cove_ctl_client_version(c) == COVE_CTL_VERSION);
	call_ok(c, "cove.Health", NULL, 0, &resp);
	CHECK(resp.code == COVE_CTL_OK);
	hr = cove__control__health_response__unpack(NULL, resp.payload_len,
						    resp.payload);
	CHECK(hr &&
	      hr->state == COVE__CONTROL__HEALTH_RESPONSE__STATE__SERVING);
	if (hr)
		cove__control__health_response__free_unpacked(hr, NULL);
	free(resp.payload);

	call_ok(c, "test.Echo", "abc", 3, &resp);
	CHECK(resp.code == 0 && resp.payload_len == 3 &&
	      memcmp(resp.payload, "abc", 3) == 0);
	free(resp.payload);

	call_ok(c, "test.Nope", NULL, 0, &resp);
	CHECK(resp.code == COVE_CTL_UNIMPLEMENTED);
	CHECK(strstr(resp.message, "unknown method test.Nope") != NULL);
	free(resp.payload);

	call_ok(c, "test.Later", NULL, 0,
		&resp); /* answered after the handler */
	CHECK(resp.code == 0 && strcmp(resp.message, "later") == 0);
	CHECK(resp.payload_len == 1 && resp.payload[0] == 42);
	free(resp.payload);
}

static void test_bad_peers(void)
{
	struct cove_ctl_client *c = client;
	Cove__Control__HelloRequest hr = COVE__CONTROL__HELLO_REQUEST__INIT;
	struct cove_ctl_hdr h = { .len = 1u << 20, .stream = 1, .type = 1 };
	static const uint8_t junk[] = { 0, 0, 0, 3,    0,    0,	 0,
					1, 1, 0, 0x0a, 0x7f, 'x' };
	struct cove_ctl_response resp;
	uint8_t hdr[COVE_CTL_HDR_LEN], buf[64], *f;
	size_t len, n;
	int fd;

	/* oversized: refused from its header alone */
	fd = raw_connect(sock_path);
	cove_ctl_hdr_put(hdr, &h);
	REQUIRE(send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL) ==
		(ssize_t)sizeof(hdr));
	CHECK(raw_closed(fd));
	close(fd);

	/* truncated protobuf envelope */
	fd = raw_connect(sock_path);
	REQUIRE(send(fd, junk, sizeof(junk), MSG_NOSIGNAL) ==
		(ssize_t)sizeof(junk));
	CHECK(raw_closed(fd));
	close(fd);

	/* a call before hello is answered, not fatal */
	fd = raw_connect(sock_path);
	f = cove_ctl_msg_request_frame(1, "cove.Health", NULL, 0, 0, 65536,
				       &len);
	REQUIRE(f);
	CHECK(raw_call(fd, f, len, &resp) == 0);
	CHECK(resp.code == COVE_CTL_FAILED_PRECONDITION);
	free(resp.payload);
	free(f);
	/* a hello with versions this sentry does not speak */
	hr.version_min = 2;
	hr.version_max = 9;
	n = cove__control__hello_request__pack(&hr, buf);
	f = cove_ctl_msg_request_frame(3, "cove.Hello", buf, n, 0, 65536, &len);
	REQUIRE(f);
	CHECK(raw_call(fd, f, len, &resp) == 0);
	CHECK(resp.code == COVE_CTL_FAILED_PRECONDITION);
	CHECK(strstr(resp.message, "versions 2..9") != NULL);
	free(resp.payload);
	free(f);
	/* an even stream id is a protocol violation */
	f = cove_ctl_msg_request_frame(4, "cove.Health", NULL, 0, 0, 65536,
				       &len);
	REQUIRE(f);
	REQUIRE(send(fd, f, len, MSG_NOSIGNAL) == (ssize_t)len);
	CHECK(raw_closed(fd));
	free(f);
	close(fd);

	/* the good client is undisturbed and is the only connection left */
	call_ok(c, "test.Conns", NULL, 0, &resp);
	CHECK(strcmp(resp.message, "1") == 0);
	free(resp.payload);
}

static void test_peer_refused(void)
{
	struct cove_ctl_client *c = client;
	struct cove_ctl_response resp;
	pid_t pid;
	int st = -1;

	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct cove_ctl_addr a = { .transport = COVE_CTL_UNIX };
		struct cove_ctl_client *cc = NULL;
		struct cove_err err = { 0 };
		int r;

		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
		    setuid(NOBODY) < 0)
			_exit(10);
		snprintf(a.path, sizeof(a.path), "%s", sock_path);
		r = cove_ctl_client_open(&a, NULL, -1, &cc, &err);
		fprintf(stderr, "  as nobody: %s\n",
			r < 0 ? err.msg : "connected!");
		if (r == 0) {
			cove_ctl_client_close(cc);
			_exit(11);
		}
		_exit(err.code == EACCES && strstr(err.msg,
						   "is not the sandbox owner") ?
			      0 :
			      12);
	}
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	call_ok(c, "test.Conns", NULL, 0, &resp);
	CHECK(strcmp(resp.message, "1") == 0);
	free(resp.payload);
}

int main(void)
{
	struct cove_ctl_addr a = { .transport = COVE_CTL_UNIX };
	struct cove_ctl_client *c = NULL;
	struct cove_ctl_response resp;
	struct cove_err err = { 0 };
	char dir[64];
	pid_t pid;
	int pfd[2], st = -1;

	REQUIRE(getuid() != NOBODY);
	snprintf(dir, sizeof(dir), "/tmp/cv-control-srv-%d", (int)getpid());
	REQUIRE(mkdir(dir, 0755) == 0 || errno == EEXIST);
	chmod(dir, 0755);
	snprintf(sock_path, sizeof(sock_path), "%s/control.sock", dir);
	REQUIRE(pipe(pfd) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		server_child(sock_path, pfd[1]);
	}
	close(pfd[1]);
	snprintf(a.path, sizeof(a.path), "%s", sock_path);
	if (cove_ctl_client_open(&a, NULL, pfd[0], &c, &err) < 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		rmdir(dir);
		return 1;
	}
	close(pfd[0]);
	client = c;
	RUN(test_calls);
	RUN(test_bad_peers);
	RUN(test_peer_refused);
	call_ok(c, "cove.Shutdown", NULL, 0, &resp);
	free(resp.payload);
	cove_ctl_client_close(c);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "server child status 0x%x\n", st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	rmdir(dir);
	return check_summary();
}
