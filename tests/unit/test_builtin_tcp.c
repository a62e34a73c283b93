// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP between two instances: handshakes, bulk data, closes, errors. */
#include "tests/unit/test_builtin_tcp.h"

#define MiB (1u << 20)

struct tbulk {
	struct tflow f[2];
};

static bool tstep_bulk(struct tnet *net, void *ctx)
{
	struct tbulk *b = ctx;

	(void)net;
	tflow_step(&b->f[0]);
	tflow_step(&b->f[1]);
	return b->f[0].eof && b->f[1].eof;
}

/* tbulk_run() - @bytes each way over a fresh connection; true if exact. */
static bool tbulk_run(struct tnet *net, uint16_t port, uint64_t bytes,
		      uint64_t max_ms, struct tconn *p)
{
	struct tbulk b;
	bool ok;

	tconn_open(net, p, port);
	memset(&b, 0, sizeof(b));
	b.f[0] = (struct tflow){ .tx = p->c, .rx = p->s, .total = bytes };
	b.f[1] = (struct tflow){ .tx = p->s, .rx = p->c, .total = bytes,
				 .dir = 1 };
	ok = tnet_loop(net, tstep_bulk, &b, max_ms);
	CHECK(ok);
	CHECK(!b.f[0].bad && !b.f[1].bad);
	CHECK(b.f[0].got == bytes && b.f[1].got == bytes);
	if (b.f[0].got != bytes || b.f[1].got != bytes)
		fprintf(stderr, "  got %llu / %llu of %llu\n",
			(unsigned long long)b.f[0].got,
			(unsigned long long)b.f[1].got,
			(unsigned long long)bytes);
	return ok && !b.f[0].bad && !b.f[1].bad;
}

static void test_handshake_bulk(void)
{
	struct tnet net;
	struct tconn p;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	tnet_up(&net, NULL);
	CHECK(tbulk_run(&net, 80, 4 * MiB, 60000, &p));
	CHECK(tops->getpeername(p.s, (struct sockaddr *)&a, &len) == 0);
	CHECK(a.sin_addr.s_addr == tip("10.0.0.1"));
	len = sizeof(a);
	CHECK(tops->getsockname(p.c, (struct sockaddr *)&a, &len) == 0);
	CHECK(ntohs(a.sin_port) >= 32768 && ntohs(a.sin_port) <= 60999);
	tclose(&net.a, p.c);
	tclose(&net.b, p.s);
	tnet_down(&net);
}

static void test_cc_both(void)
{
	static const char *const names[] = { "newreno", "cubic" };
	struct tnet net;
	struct tconn p;
	char name[16];
	socklen_t len = sizeof(name);
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct topts o = { .congestion = names[i] };

		tnet_up(&net, &o);
		CHECK(tbulk_run(&net, 80, MiB, 60000, &p));
		len = sizeof(name);
		CHECK(tops->getsockopt(p.c, IPPROTO_TCP, TCP_CONGESTION, name,
				       &len) == 0);
		CHECK(!strcmp(name, names[i]));
		tnet_down(&net);
	}
}

static void test_rst_closed_port(void)
{
	struct tnet net;
	struct cove_sock *c;

	tnet_up(&net, NULL);
	c = tconnect(&net.a, "10.0.0.2", 9);
	tadvance(&net, 100);
	CHECK(tops->events(c) & EPOLLERR);
	CHECK(tsockerr(c) == ECONNREFUSED);
	CHECK(tsockerr(c) == 0);
	CHECK(tstats(&net.a).tcp_resets_in == 1);
	tnet_down(&net);
}

static void test_time_wait(void)
{
	struct tnet net;
	struct tconn p;
	char buf[8];

	tnet_up(&net, NULL);
	tconn_open(&net, &p, 80);
	CHECK(tsend(p.c, "hello", 5) == 5);
	tadvance(&net, 10);
	CHECK(trecv(p.s, buf, sizeof(buf), 0) == 5);
	CHECK(tops->shutdown(p.c, SHUT_WR) == 0);
	tadvance(&net, 10);
	CHECK(tstate(p.c) == TCPS_FIN_WAIT2);
	CHECK(tstate(p.s) == TCPS_CLOSE_WAIT);
	CHECK(trecv(p.s, buf, sizeof(buf), 0) == 0);
	CHECK(tops->events(p.s) & EPOLLRDHUP);
	tclose(&net.b, p.s);
	tadvance(&net, 10);
	CHECK(tstate(p.c) == TCPS_TIME_WAIT);
	CHECK(trecv(p.c, buf, sizeof(buf), 0) == 0);
	tadvance(&net, 59000);
	CHECK(tstate(p.c) == TCPS_TIME_WAIT);
	tadvance(&net, 2000);
	CHECK(tstate(p.c) == TCPS_CLOSED);
	tnet_down(&net);
}

int main(void)
{
	RUN(test_handshake_bulk);
	RUN(test_time_wait);
	RUN(test_rst_closed_port);
	RUN(test_cc_both);
	return check_summary();
}
