// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the lwip provider: crafted frames over an in-memory link. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>

#include "cove/link.h"
#include "cove/netstack.h"
#include "stacks/lwip/lw.h"
#include "tests/unit/check.h"

/*
 * The provider sits on end A of a mem link pair; the test is the peer on
 * end B and writes its frames by hand (ARP, ICMP, UDP, TCP SYN). Each case
 * makes and destroys its own instance, which also checks that lwIP comes
 * back clean after destroy(); every frame must be back in its pool at the
 * end.
 */

#define POOL_FRAMES 256

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static struct cove_frame_pool pool_a, pool_b;
static struct cove_link *link_a, *link_b;
static const struct cove_netstack_ops *ops;
static unsigned notifies;

static void t_notify(void *host, struct cove_sock *s, void *cookie,
		     uint32_t events)
{
	(void)host;
	(void)s;
	(void)cookie;
	(void)events;
	notifies++;
}

static uint64_t t_now(void *host)
{
	struct timespec ts;

	(void)host;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* t_create_max() - an instance at 10.0.0.2/24; @max_sockets 0: default. */
static int t_create_max(struct cove_stack **st, struct cove_link *link,
			uint32_t max_sockets)
{
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.prefix_len = 24,
		.max_sockets = max_sockets,
		.flags = COVE_STACK_F_NO_GARP,
	};
	struct cove_stack_env env = {
		.link = link,
		.notify = t_notify,
		.now_ns = t_now,
	};

	inet_pton(AF_INET, "10.0.0.2", &cfg.addr);
	return ops->create(&cfg, &env, st);
}

static int t_create(struct cove_stack **st, struct cove_link *link)
{
	return t_create_max(st, link, 0);
}

static uint16_t csum_add(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* t_ip() - fill Ethernet + IPv4 headers for @l4len bytes of @proto. */
static size_t t_ip(uint8_t *f, uint8_t proto, const char *src, size_t l4len)
{
	uint16_t c;

	memcpy(f, link_a->mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + l4len) >> 8);
	f[17] = (uint8_t)(20 + l4len);
	f[22] = 64;
	f[23] = proto;
	inet_pton(AF_INET, src, f + 26);
	inet_pton(AF_INET, "10.0.0.2", f + 30);
	c = (uint16_t)~csum_add(f + 14, 20, 0);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	return 34 + l4len;
}

/* t_l4sum() - the TCP/UDP checksum over the pseudo header and @len bytes. */
static void t_l4sum(uint8_t *f, size_t len, size_t at)
{
	uint8_t ph[12];
	uint16_t c;

	memcpy(ph, f + 26, 8);
	ph[8] = 0;
	ph[9] = f[23];
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	c = (uint16_t)~csum_add(f + 34, len, csum_add(ph, 12, 0));
	f[34 + at] = (uint8_t)(c >> 8);
	f[34 + at + 1] = (uint8_t)c;
}

static size_t t_udp(uint8_t *f, const char *src, uint16_t sport, uint16_t dport,
		    const char *payload)
{
	size_t n = strlen(payload), len = 8 + n;
	uint8_t *u = f + 34;

	t_ip(f, 17, src, len);
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(len >> 8);
	u[5] = (uint8_t)len;
	u[6] = u[7] = 0;
	memcpy(u + 8, payload, n);
	t_l4sum(f, len, 6);
	return 34 + len;
}

/**
 * t_tcp_from() - a TCP segment, window 65535, no options
 * @f:		frame buffer (54 bytes + payload)
 * @src:	source address (dotted)
 * @sport:	source port
 * @dport:	destination port
 * @seq:	sequence number
 * @ack:	acknowledgment number
 * @flags:	TCP flags
 * @data:	payload, NUL-terminated (NULL: none)
 *
 * Return: the frame's length.
 */
static size_t t_tcp_from(uint8_t *f, const char *src, uint16_t sport,
			 uint16_t dport, uint32_t seq, uint32_t ack,
			 uint8_t flags, const char *data)
{
	size_t n = data ? strlen(data) : 0;
	uint8_t *t = f + 34;

	t_ip(f, 6, src, 20 + n);
	memset(t, 0, 20);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(t + 4, &seq, 4);
	memcpy(t + 8, &ack, 4);
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff;
	t[15] = 0xff;
	if (n)
		memcpy(t + 20, data, n);
	t_l4sum(f, 20 + n, 16);
	return 54 + n;
}

/* t_tcp() - a bare TCP segment from 10.0.0.1, window 65535. */
static size_t t_tcp(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq,
		    uint32_t ack, uint8_t flags)
{
	uint8_t *t = f + 34;

	t_ip(f, 6, "10.0.0.1", 20);
	memset(t, 0, 20);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(t + 4, &seq, 4);
	memcpy(t + 8, &ack, 4);
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff;
	t[15] = 0xff;
	t_l4sum(f, 20, 16);
	return 54;
}

static size_t t_tcp_syn(uint8_t *f, uint16_t sport, uint16_t dport)
{
	return t_tcp(f, sport, dport, 1, 0, 0x02);
}

/* t_arp_who_has() - "who has 10.0.0.2? tell 10.0.0.1" (teaches our MAC). */
static size_t t_arp_who_has(uint8_t *f)
{
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[14] = 0;
	f[15] = 1;
	f[16] = 0x08;
	f[17] = 0;
	f[18] = 6;
	f[19] = 4;
	f[20] = 0;
	f[21] = 1;
	memcpy(f + 22, peer_mac, 6);
	inet_pton(AF_INET, "10.0.0.1", f + 28);
	inet_pton(AF_INET, "10.0.0.2", f + 38);
	return 60;
}

/* t_send() - the peer transmits one frame; the stack takes it in. */
static void t_send(struct cove_stack *st, const uint8_t *bytes, size_t len)
{
	struct cove_frame *f = cove_frame_alloc(&pool_b), *in[4];
	unsigned n;

	REQUIRE(f);
	memcpy(f->data, bytes, len);
	f->len = (uint32_t)len;
	REQUIRE(cove_link_tx_burst(link_b, &f, 1) == 1);
	while ((n = cove_link_rx_burst(link_a, in, 4)))
		ops->input(st, in, n);
	ops->run(st, t_now(NULL));
}

/* t_recv() - the next frame the stack sent, copied into @buf; 0 if none. */
static size_t t_recv(uint8_t *buf, size_t cap)
{
	struct cove_frame *f;
	size_t n;

	if (cove_link_rx_burst(link_b, &f, 1) != 1)
		return 0;
	n = f->len < cap ? f->len : cap;
	memcpy(buf, f->data, n);
	cove_frame_free(f);
	return n;
}

static void t_drain(void)
{
	uint8_t buf[2048];

	while (t_recv(buf, sizeof(buf)))
		;
}

/* One lwIP per process: a second instance is refused until the first goes. */
static void test_one_instance(void)
{
	struct cove_stack *a = NULL, *b = NULL;

	CHECK(t_create(&a, NULL) == -EINVAL);
	REQUIRE(t_create(&a, link_a) == 0);
	CHECK(t_create(&b, link_a) == -EBUSY);
	ops->destroy(a);
	REQUIRE(t_create(&b, link_a) == 0);
	ops->destroy(b);
	t_drain();
}

static void test_arp_and_ping(void)
{
	struct cove_stack *st;
	uint8_t f[128] = { 0 }, r[2048];
	size_t n;

	REQUIRE(t_create(&st, link_a) == 0);
	t_drain();
	t_send(st, f, t_arp_who_has(f));
	n = t_recv(r, sizeof(r));
	CHECK(n >= 42 && r[12] == 0x08 && r[13] == 0x06 && r[21] == 2 &&
	      !memcmp(r + 22, link_a->mac, 6) && !memcmp(r, peer_mac, 6));

	/* ICMP echo request -> echo reply */
	memset(f, 0, sizeof(f));
	n = t_ip(f, 1, "10.0.0.1", 16);
	f[34] = 8;
	f[38] = 0x12;
	f[39] = 0x34;
	{
		uint16_t c = (uint16_t)~csum_add(f + 34, 16, 0);

		f[36] = (uint8_t)(c >> 8);
		f[37] = (uint8_t)c;
	}
	t_send(st, f, n);
	n = t_recv(r, sizeof(r));
	CHECK(n >= 50 && r[23] == 1 && r[34] == 0 && r[38] == 0x12);
	ops->destroy(st);
	t_drain();
}

static void test_udp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7) },
			   from;
	struct cove_stack_stats stats;
	struct cove_sock *s;
	struct cove_stack *st;
	uint8_t f[256], r[2048];
	char buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_name = &from,
			    .msg_namelen = sizeof(from),
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	size_t n;

	REQUIRE(t_create(&st, link_a) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &s) == 0);
	CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->recvmsg(s, &m, 0) == -EAGAIN);
	CHECK(ops->events(s) == EPOLLOUT);

	notifies = 0;
	t_send(st, f, t_udp(f, "10.0.0.1", 5555, 7, "hello"));
	CHECK(notifies >= 1);
	CHECK(ops->events(s) == (EPOLLIN | EPOLLOUT));
	CHECK(ops->recvmsg(s, &m, 0) == 5 && !memcmp(buf, "hello", 5));
	CHECK(from.sin_port == htons(5555) &&
	      from.sin_addr.s_addr == inet_addr("10.0.0.1"));

	/* Spoofed from our own address: dropped before lwIP sees it. */
	cove_stack_read_stats(ops, st, &stats);
	t_send(st, f, t_udp(f, "10.0.0.2", 5555, 7, "loop"));
	CHECK(ops->recvmsg(s, &m, 0) == -EAGAIN);
	{
		struct cove_stack_stats after;

		cove_stack_read_stats(ops, st, &after);
		CHECK(after.rx_dropped == stats.rx_dropped + 1);
	}

	/* Reply: needs ARP first (the stack asks, we answer). */
	iov.iov_len = 4;
	memcpy(buf, "pong", 4);
	m.msg_namelen = sizeof(from);
	CHECK(ops->sendmsg(s, &m, 0) == 4);
	n = t_recv(r, sizeof(r));
	CHECK(n >= 42 && r[12] == 0x08 && r[13] == 0x06 && r[21] == 1);
	{
		uint8_t rep[60] = { 0 };

		memcpy(rep, link_a->mac, 6);
		memcpy(rep + 6, peer_mac, 6);
		rep[12] = 0x08;
		rep[13] = 0x06;
		rep[15] = 1;
		rep[16] = 0x08;
		rep[18] = 6;
		rep[19] = 4;
		rep[21] = 2;
		memcpy(rep + 22, peer_mac, 6);
		inet_pton(AF_INET, "10.0.0.1", rep + 28);
		memcpy(rep + 32, link_a->mac, 6);
		inet_pton(AF_INET, "10.0.0.2", rep + 38);
		t_send(st, rep, 60);
	}
	n = t_recv(r, sizeof(r));
	CHECK(n == 46 && r[23] == 17 && !memcmp(r + 42, "pong", 4) &&
	      r[36] == (5555 >> 8) && r[37] == (5555 & 0xff));
	ops->close(s);
	cove_stack_read_stats(ops, st, &stats);
	CHECK(stats.sockets == 0);
	ops->destroy(st);
	t_drain();
}

static void test_tcp_errors(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct cove_sock *l, *l2, *c;
	struct cove_stack *st;
	uint8_t f[128], r[2048];
	char buf[8];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t n;

	REQUIRE(t_create(&st, link_a) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l2) == 0);
	CHECK(ops->socket(st, AF_PACKET, SOCK_STREAM, 0, &c) == -EAFNOSUPPORT);
	CHECK(ops->recvmsg(l, &m, 0) == -ENOTCONN);
	CHECK(ops->sendmsg(l, &m, 0) == -ENOTCONN);
	{
		/* no port sharing in lwIP: refused, never half-honoured */
		int on = 1, off = 0, v = -1;
		socklen_t vlen = sizeof(v);

		CHECK(ops->setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &on,
				      sizeof(on)) == -ENOPROTOOPT);
		CHECK(ops->setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &off,
				      sizeof(off)) == 0);
		CHECK(ops->getsockopt(l, SOL_SOCKET, SO_REUSEPORT, &v, &vlen) ==
			      0 &&
		      v == 0);
	}
	a.sin_addr.s_addr = inet_addr("10.9.9.9");
	CHECK(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == -EADDRNOTAVAIL);
	a.sin_addr.s_addr = 0;
	CHECK(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->bind(l2, (struct sockaddr *)&a, sizeof(a)) == -EADDRINUSE);
	CHECK(ops->listen(l, 8) == 0);
	/* lwIP's "lo" has 127.0.0.1 alone of 127/8 */
	a.sin_addr.s_addr = inet_addr("127.0.0.2");
	CHECK(ops->bind(l2, (struct sockaddr *)&a, sizeof(a)) ==
	      -EADDRNOTAVAIL);
	CHECK(ops->connect(l2, (struct sockaddr *)&a, sizeof(a)) ==
	      -ENETUNREACH);
	CHECK(ops->accept(l, &c, NULL, NULL) == -EAGAIN);

	/* A SYN to the listener is answered with SYN|ACK (after ARP). */
	t_drain();
	t_send(st, f, t_tcp_syn(f, 40000, 80));
	n = t_recv(r, sizeof(r));
	if (n && r[12] == 0x08 && r[13] == 0x06)
		n = t_recv(r, sizeof(r)); /* lwIP may ARP first */
	(void)n;
	/* A SYN to a closed port gets RST|ACK. */
	ops->close(l2);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/*
 * sendmsg() on an established connection puts its data on the link within
 * the call, not at the next ACK or timer tick. This binary also links the
 * builtin stack, whose global tcp_output() once captured the provider's
 * call to lwIP's (see "Symbols" in src/stacks/lwip/lw.h).
 */
static void test_tcp_send_at_once(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	static char data[3000];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cove_sock *l, *c = NULL;
	struct cove_stack *st;
	uint8_t f[128], r[2048];
	uint32_t iss = 0;
	size_t n;

	REQUIRE(t_create(&st, link_a) == 0);
	t_drain();
	t_send(st, f, t_arp_who_has(f));
	t_drain();
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 8) == 0);
	t_send(st, f, t_tcp_syn(f, 40001, 80));
	while ((n = t_recv(r, sizeof(r))))
		if (n >= 54 && r[23] == 6 && r[47] == 0x12) /* SYN|ACK */
			memcpy(&iss, r + 38, 4);
	REQUIRE(iss);
	t_send(st, f, t_tcp(f, 40001, 80, 2, ntohl(iss) + 1, 0x10));
	REQUIRE(ops->accept(l, &c, NULL, NULL) == 0);
	t_drain();
	CHECK(ops->sendmsg(c, &m, 0) == (ssize_t)sizeof(data));
	n = t_recv(r, sizeof(r)); /* no input, no run() in between */
	CHECK(n >= 54 && r[23] == 6 && (size_t)(r[16] << 8 | r[17]) > 40);
	ops->close(c);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/*
 * TCP_CORK is accepted (nginx's tcp_nopush closes the connection when the
 * setsockopt fails), holds a partial segment back, and uncorking sends it
 * within the call.
 */
static void test_tcp_cork(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	static char data[100];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cove_sock *l, *c = NULL;
	struct cove_stack *st;
	uint8_t f[128], r[2048];
	uint32_t iss = 0;
	int on = 1, off = 0, v = -1;
	socklen_t vl = sizeof(v);
	size_t n;

	REQUIRE(t_create(&st, link_a) == 0);
	t_drain();
	t_send(st, f, t_arp_who_has(f));
	t_drain();
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 8) == 0);
	t_send(st, f, t_tcp_syn(f, 40002, 80));
	while ((n = t_recv(r, sizeof(r))))
		if (n >= 54 && r[23] == 6 && r[47] == 0x12) /* SYN|ACK */
			memcpy(&iss, r + 38, 4);
	REQUIRE(iss);
	t_send(st, f, t_tcp(f, 40002, 80, 2, ntohl(iss) + 1, 0x10));
	REQUIRE(ops->accept(l, &c, NULL, NULL) == 0);
	t_drain();
	CHECK(ops->setsockopt(c, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) == 0);
	CHECK(ops->getsockopt(c, IPPROTO_TCP, TCP_CORK, &v, &vl) == 0 &&
	      v == 1);
	CHECK(ops->sendmsg(c, &m, 0) == (ssize_t)sizeof(data));
	CHECK(t_recv(r, sizeof(r)) == 0); /* corked: held back */
	CHECK(ops->setsockopt(c, IPPROTO_TCP, TCP_CORK, &off, sizeof(off)) ==
	      0);
	n = t_recv(r, sizeof(r));
	CHECK(n >= 54 && r[23] == 6 &&
	      (size_t)(r[16] << 8 | r[17]) == 40 + sizeof(data));
	vl = sizeof(v);
	CHECK(ops->getsockopt(c, IPPROTO_TCP, TCP_CORK, &v, &vl) == 0 &&
	      v == 0);
	ops->close(c);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/* t_accept() - handshake from 10.0.0.1:@sport to @l; the accepted socket. */
static struct cove_sock *t_accept(struct cove_stack *st, struct cove_sock *l,
				  uint16_t sport, uint16_t dport, uint32_t *iss)
{
	struct cove_sock *c = NULL;
	uint8_t f[128], r[2048];
	size_t n;

	*iss = 0;
	t_send(st, f, t_tcp(f, sport, dport, 1, 0, 0x02));
	while ((n = t_recv(r, sizeof(r))))
		if (n >= 54 && r[23] == 6 && r[47] == 0x12) { /* SYN|ACK */
			memcpy(iss, r + 38, 4);
			*iss = ntohl(*iss);
		}
	REQUIRE(*iss);
	t_send(st, f, t_tcp(f, sport, dport, 2, *iss + 1, 0x10));
	REQUIRE(ops->accept(l, &c, NULL, NULL) == 0);
	t_drain();
	return c;
}

/* t_read() - what @c has to read, as a string ("" when nothing). */
static const char *t_read(struct cove_sock *c)
{
	static char buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = ops->recvmsg(c, &m, 0);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* t_next_ack() - the ACK number of the next TCP segment sent, or -1. */
static int64_t t_next_ack(void)
{
	uint8_t r[2048];
	uint32_t ack;
	size_t n;

	while ((n = t_recv(r, sizeof(r))))
		if (n >= 54 && r[23] == 6) {
			memcpy(&ack, r + 42, 4);
			return ntohl(ack);
		}
	return -1;
}

/* RFC 5961 section 5.2 on its own: the range and its wrap-around. */
static void test_ack_range(void)
{
	/* una 1000, nxt 5000, window 65535 at least */
	CHECK(lw_ack_in_range(5000, 1000, 5000, 0));
	CHECK(!lw_ack_in_range(5001, 1000, 5000, 0));
	CHECK(lw_ack_in_range(1000, 1000, 5000, 0));
	CHECK(lw_ack_in_range(1000u - 65535u, 1000, 5000, 0));
	CHECK(!lw_ack_in_range(1000u - 65536u, 1000, 5000, 0));
	CHECK(lw_ack_in_range(1000u - 200000u, 1000, 5000, 1u << 20));
	CHECK(!lw_ack_in_range(1000u - (1u << 20) - 1, 1000, 5000, 1u << 20));
	/* across zero */
	CHECK(lw_ack_in_range(10, 0xfffffff0u, 20, 0));
	CHECK(lw_ack_in_range(0xffff0000u, 0xfffffff0u, 20, 0));
	CHECK(!lw_ack_in_range(21, 0xfffffff0u, 20, 0));
}

/*
 * A blind injection into lwIP: data in the receive window whose ACK
 * acknowledges data never sent, or is older than any window, or has no
 * ACK bit, never reaches the program (lwIP alone queued it and the real
 * stream stalled behind it); the first out-of-range one gets a challenge
 * ACK, the next within 500 ms none. The real stream goes on after.
 */
static void test_tcp_ack_out_of_range(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct cove_stack_stats st0, st1;
	struct cove_sock *l, *c;
	struct cove_stack *st;
	uint8_t f[128];
	uint32_t iss;

	REQUIRE(t_create(&st, link_a) == 0);
	t_drain();
	t_send(st, f, t_arp_who_has(f));
	t_drain();
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 8) == 0);
	c = t_accept(st, l, 40003, 80, &iss);
	t_send(st, f,
	       t_tcp_from(f, "10.0.0.1", 40003, 80, 2, iss + 1, 0x18, "good"));
	CHECK(!strcmp(t_read(c), "good"));
	t_drain();

	cove_stack_read_stats(ops, st, &st0);
	/* ACK of data never sent: dropped, one challenge ACK */
	t_send(st, f,
	       t_tcp_from(f, "10.0.0.1", 40003, 80, 6, iss + 2, 0x18, "evil"));
	CHECK(!strcmp(t_read(c), ""));
	CHECK(t_next_ack() == 6);
	/* again at once: dropped, the socket's spacing holds the ACK */
	t_send(st, f,
	       t_tcp_from(f, "10.0.0.1", 40003, 80, 6, iss + 100000, 0x18,
			  "evil"));
	CHECK(!strcmp(t_read(c), ""));
	CHECK(t_next_ack() == -1);
	/* older than SND.UNA - 65535 (the peer offered no more) */
	t_send(st, f,
	       t_tcp_from(f, "10.0.0.1", 40003, 80, 6, iss + 1 - 70000, 0x18,
			  "evil"));
	CHECK(!strcmp(t_read(c), ""));
	/* no ACK bit at all */
	t_send(st, f, t_tcp_from(f, "10.0.0.1", 40003, 80, 6, 0, 0x08, "evil"));
	CHECK(!strcmp(t_read(c), ""));
	cove_stack_read_stats(ops, st, &st1);
	CHECK(st1.rx_dropped == st0.rx_dropped + 4);
	CHECK(st1.tcp_challenge_acks == st0.tcp_challenge_acks + 1);

	/* an old ACK inside the range is fine, and the stream goes on */
	t_send(st, f,
	       t_tcp_from(f, "10.0.0.1", 40003, 80, 6, iss + 1 - 1000, 0x18,
			  "more"));
	CHECK(!strcmp(t_read(c), "more"));
	t_send(st, f,
	       t_tcp_from(f, "10.0.0.1", 40003, 80, 10, iss + 1, 0x18, "!"));
	CHECK(!strcmp(t_read(c), "!"));
	ops->close(c);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/*
 * Challenge ACKs for in-window RSTs and for SYNs are limited per socket
 * (lwIP alone answered every one): a hundred RSTs on one connection at
 * once get one ACK, a RST on another connection right after gets its
 * own, a SYN within the gap none; the RST at RCV.NXT still resets.
 */
static void test_tcp_challenge_per_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct cove_stack_stats st0, st1;
	struct cove_sock *l, *c1, *c2;
	uint8_t f[128], r[2048];
	unsigned i, acks1 = 0, acks2 = 0;
	struct cove_stack *st;
	uint32_t iss1, iss2;
	size_t n;

	REQUIRE(t_create(&st, link_a) == 0);
	t_drain();
	t_send(st, f, t_arp_who_has(f));
	t_drain();
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 8) == 0);
	c1 = t_accept(st, l, 40005, 80, &iss1);
	c2 = t_accept(st, l, 40006, 80, &iss2);
	cove_stack_read_stats(ops, st, &st0);
	for (i = 0; i < 100; i++)
		t_send(st, f,
		       t_tcp_from(f, "10.0.0.1", 40005, 80, 2 + 10 + i, 0, 0x04,
				  NULL));
	t_send(st, f, t_tcp_from(f, "10.0.0.1", 40006, 80, 12, 0, 0x04, NULL));
	t_send(st, f, t_tcp_from(f, "10.0.0.1", 40005, 80, 7, 0, 0x02, NULL));
	while ((n = t_recv(r, sizeof(r))))
		if (n >= 54 && r[23] == 6 && r[47] == 0x10) {
			acks1 += r[36] == (40005 >> 8) &&
				 r[37] == (40005 & 255);
			acks2 += r[36] == (40006 >> 8) &&
				 r[37] == (40006 & 255);
		}
	CHECK(acks1 == 1 && acks2 == 1);
	cove_stack_read_stats(ops, st, &st1);
	CHECK(st1.tcp_challenge_acks == st0.tcp_challenge_acks + 2);
	CHECK(st1.rx_dropped == st0.rx_dropped + 102);
	CHECK(ops->events(c1) == EPOLLOUT && ops->events(c2) == EPOLLOUT);
	/* the exact RST resets */
	t_send(st, f, t_tcp_from(f, "10.0.0.1", 40005, 80, 2, 0, 0x04, NULL));
	CHECK(ops->events(c1) & EPOLLERR);
	CHECK(ops->events(c2) == EPOLLOUT);
	ops->close(c1);
	ops->close(c2);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/*
 * 50,000 spoofed SYNs from sources that never answer, then a real
 * client: it connects at once and exchanges data. Without the half-open
 * cap the flood held 2 x max_sockets SYN_RCVD PCBs and every new SYN was
 * refused until they timed out.
 */
static void test_tcp_syn_flood(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	static char data[] = "pong";
	struct iovec iov = { .iov_base = data, .iov_len = 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cove_sock *l, *c;
	struct cove_stack *st;
	uint8_t f[128], r[2048];
	uint32_t iss, x = 12345;
	unsigned i, live, est;
	char src[16];
	size_t n;

	REQUIRE(t_create_max(&st, link_a, 16) == 0);
	t_drain();
	t_send(st, f, t_arp_who_has(f));
	t_drain();
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 8) == 0);
	for (i = 0; i < 50000; i++) {
		x = x * 1103515245u + 12345u;
		snprintf(src, sizeof(src), "10.0.0.%u", 3 + (x >> 16) % 250);
		t_send(st, f,
		       t_tcp_from(f, src, (uint16_t)(1024 + (x & 0x7fff)), 80,
				  x, 0, 0x02, NULL));
		t_drain();
	}
	live = lw_tcp_count(&est);
	CHECK(live <= 16 && est == 0);
	/* the flood's sources pushed ours out of lwIP's ARP table */
	t_send(st, f, t_arp_who_has(f));
	t_drain();

	c = t_accept(st, l, 40004, 80, &iss);
	t_send(st, f,
	       t_tcp_from(f, "10.0.0.1", 40004, 80, 2, iss + 1, 0x18, "ping"));
	CHECK(!strcmp(t_read(c), "ping"));
	t_drain();
	CHECK(ops->sendmsg(c, &m, 0) == 4);
	n = t_recv(r, sizeof(r));
	CHECK(n == 58 && !memcmp(r + 54, "pong", 4));
	ops->close(c);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/* t_run() - a few run()s: looped packets and what they cause arrive. */
static void t_run(struct cove_stack *st)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		ops->run(st, t_now(NULL));
}

/* t_write() - send @text on @s; Return: sendmsg()'s result. */
static ssize_t t_write(struct cove_sock *s, const char *text)
{
	struct iovec iov = { .iov_base = (void *)text,
			     .iov_len = strlen(text) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return ops->sendmsg(s, &m, 0);
}

/* t_sin() - @ip:@port as a sockaddr_in. */
static struct sockaddr_in t_sin(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	a.sin_addr.s_addr = inet_addr(ip);
	return a;
}

/*
 * t_loop_pair() - a listener on @ip:8080 and a client connected to it
 * through lwIP's loopback; Return: the accepted end (the client in *@c).
 */
static struct cove_sock *t_loop_pair(struct cove_stack *st, const char *ip,
				     struct cove_sock **l, struct cove_sock **c)
{
	struct sockaddr_in a = t_sin(ip, 8080), peer, name;
	socklen_t len = sizeof(peer);
	struct cove_sock *s = NULL;

	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, l) == 0);
	REQUIRE(ops->bind(*l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(*l, 8) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, c) == 0);
	CHECK(ops->connect(*c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	t_run(st);
	CHECK(ops->events(*c) == EPOLLOUT);
	CHECK(ops->events(*l) == EPOLLIN);
	REQUIRE(ops->accept(*l, &s, (struct sockaddr *)&peer, &len) == 0);
	/* the client's source is the address it went to, as on Linux */
	CHECK(peer.sin_addr.s_addr == a.sin_addr.s_addr && peer.sin_port);
	len = sizeof(name);
	CHECK(ops->getsockname(*c, (struct sockaddr *)&name, &len) == 0 &&
	      name.sin_addr.s_addr == a.sin_addr.s_addr &&
	      name.sin_port == peer.sin_port);
	return s;
}

/*
 * TCP to 127.0.0.1 and to the sandbox's own address: lwIP loops the
 * packets and run() delivers them (lwIP alone would post them to the
 * tcpip thread the provider never starts, and abort). Data goes both
 * ways, close() is seen as EOF, nothing reaches the link, and a port
 * nobody listens on refuses.
 */
static void test_tcp_loopback(void)
{
	static const char *const ips[] = { "127.0.0.1", "10.0.0.2" };
	struct cove_sock *l, *c, *s;
	struct sockaddr_in a;
	struct cove_stack *st;
	socklen_t len = sizeof(int);
	uint8_t r[2048];
	unsigned i;
	int err = 0;

	REQUIRE(t_create(&st, link_a) == 0);
	t_drain();
	for (i = 0; i < 2; i++) {
		s = t_loop_pair(st, ips[i], &l, &c);
		CHECK(t_write(c, "ping") == 4);
		t_run(st);
		CHECK(!strcmp(t_read(s), "ping"));
		CHECK(t_write(s, "pong") == 4);
		t_run(st);
		CHECK(!strcmp(t_read(c), "pong"));
		ops->close(c);
		t_run(st);
		CHECK(ops->events(s) & EPOLLRDHUP);
		CHECK(!strcmp(t_read(s), ""));
		ops->close(s);
		ops->close(l);
		t_run(st);
		CHECK(t_recv(r, sizeof(r)) == 0);
	}
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &c) == 0);
	a = t_sin("127.0.0.1", 8081);
	CHECK(ops->connect(c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	t_run(st);
	CHECK(ops->events(c) & EPOLLERR);
	CHECK(ops->getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	      err == ECONNREFUSED);
	ops->close(c);
	ops->destroy(st);
	t_drain();
}

/*
 * UDP to 127.0.0.1 arrives from 127.0.0.1; a multicast datagram (looped
 * by IP_MULTICAST_LOOP, on by default) goes through the same queue.
 */
static void test_udp_loopback(void)
{
	struct sockaddr_in a = t_sin("127.0.0.1", 9000), from,
			   group = t_sin("239.1.2.3", 9000);
	struct cove_sock *u1, *u2;
	struct cove_stack *st;
	char buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = 2 };
	struct msghdr m = { .msg_name = &a,
			    .msg_namelen = sizeof(a),
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };

	REQUIRE(t_create(&st, link_a) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &u1) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &u2) == 0);
	REQUIRE(ops->bind(u1, (struct sockaddr *)&a, sizeof(a)) == 0);
	memcpy(buf, "hi", 2);
	CHECK(ops->sendmsg(u2, &m, 0) == 2);
	m.msg_name = &group;
	CHECK(ops->sendmsg(u2, &m, 0) == 2);
	t_run(st);
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	iov.iov_len = sizeof(buf);
	memset(buf, 0, sizeof(buf));
	CHECK(ops->recvmsg(u1, &m, 0) == 2 && !memcmp(buf, "hi", 2));
	CHECK(from.sin_addr.s_addr == a.sin_addr.s_addr && from.sin_port);
	CHECK(ops->recvmsg(u1, &m, 0) == -EAGAIN);
	ops->close(u1);
	ops->close(u2);
	ops->destroy(st);
	t_drain();
}

/*
 * Far more connections than the old default of 1,024 sockets allowed
 * (the 1,024th connect was reset after its handshake): 3,000 over
 * loopback, 6,001 sockets, every one accepted, the last one carrying
 * data. lwIP's pools are malloc-backed in Debian's build (MEMP_MEM_MALLOC),
 * so only max_sockets limits them; at --max-sockets the next socket() is
 * EMFILE.
 */
static void test_tcp_many(void)
{
	enum {
		N = 3000
	};
	static struct cove_sock *c[N], *s[N];
	struct sockaddr_in a = t_sin("127.0.0.1", 8082);
	struct cove_sock *l, *x;
	struct cove_stack *st;
	unsigned i, n = 0, est;

	REQUIRE(t_create(&st, link_a) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 4096) == 0);
	for (i = 0; i < N; i++) {
		REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &c[i]) == 0);
		CHECK(ops->connect(c[i], (struct sockaddr *)&a, sizeof(a)) ==
		      -EINPROGRESS);
		if (i % 100 == 99)
			t_run(st);
	}
	for (i = 0; i < 1000 && lw_loop_pending(st); i++)
		ops->run(st, t_now(NULL));
	while (n < N && ops->accept(l, &s[n], NULL, NULL) == 0)
		n++;
	CHECK(n == N);
	CHECK(lw_tcp_count(&est) == 2 * N && est == 2 * N);
	for (i = 0; i < N; i++)
		CHECK(ops->events(c[i]) == EPOLLOUT);
	CHECK(t_write(c[N - 1], "last") == 4);
	t_run(st);
	CHECK(n == N && !strcmp(t_read(s[N - 1]), "last"));
	for (i = 0; i < N; i++) {
		ops->close(c[i]);
		if (i < n)
			ops->close(s[i]);
	}
	ops->close(l);
	ops->destroy(st);

	/* --max-sockets: the limit is the configured one */
	REQUIRE(t_create_max(&st, link_a, 16) == 0);
	for (i = 0; i < 16; i++)
		REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &c[i]) == 0);
	CHECK(ops->socket(st, AF_INET, SOCK_STREAM, 0, &x) == -EMFILE);
	for (i = 0; i < 16; i++)
		ops->close(c[i]);
	ops->destroy(st);
	t_drain();
}

/* ---- IPv6 ---------------------------------------------------------- */

static const char *const me6 = "fd00::2", *const peer6 = "fd00::1";

/* t_create6p() - as t_create(), with fd00::2/@plen and @flags (NO_GARP too). */
static int t_create6p(struct cove_stack **st, uint32_t flags, const char *gw6,
		      uint8_t plen)
{
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.prefix_len = 24,
		.prefix6_len = plen,
		.flags = COVE_STACK_F_NO_GARP | flags,
	};
	struct cove_stack_env env = {
		.link = link_a,
		.notify = t_notify,
		.now_ns = t_now,
	};

	inet_pton(AF_INET, "10.0.0.2", &cfg.addr);
	if (plen) /* 0: no addr6 (SLAAC) */
		inet_pton(AF_INET6, me6, &cfg.addr6);
	if (gw6)
		inet_pton(AF_INET6, gw6, &cfg.gateway6);
	return ops->create(&cfg, &env, st);
}

/* t_create6() - t_create6p() with a /64. */
static int t_create6(struct cove_stack **st, uint32_t flags, const char *gw6)
{
	return t_create6p(st, flags, gw6, 64);
}

/* t_sin6() - @ip:@port as a sockaddr_in6 (scope id 0). */
static struct sockaddr_in6 t_sin6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(port) };

	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

/* t_ll6() - the link-local address lwIP makes from link_a's MAC. */
static void t_ll6(uint8_t out[16])
{
	const uint8_t *m = link_a->mac;

	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = m[0] ^ 2;
	out[9] = m[1];
	out[10] = m[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = m[3];
	out[14] = m[4];
	out[15] = m[5];
}

/**
 * t_ip6() - Ethernet + IPv6 headers, and the upper layer's checksum
 * @f:		frame buffer; the upper layer's @l4len bytes already at f + 54
 * @nh:		next header (6, 17, 58)
 * @src:	source address (text)
 * @dst:	destination address (text)
 * @hops:	hop limit
 * @l4len:	upper-layer bytes
 * @csum_at:	offset of its checksum field in them
 *
 * The Ethernet destination is link_a's MAC (33:33:... for multicast).
 * Return: the frame's length.
 */
static size_t t_ip6(uint8_t *f, uint8_t nh, const char *src, const char *dst,
		    uint8_t hops, size_t l4len, size_t csum_at)
{
	uint8_t ph[40];
	uint16_t c;

	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(f + 14, 0, 40);
	f[14] = 0x60;
	f[18] = (uint8_t)(l4len >> 8);
	f[19] = (uint8_t)l4len;
	f[20] = nh;
	f[21] = hops;
	inet_pton(AF_INET6, src, f + 22);
	inet_pton(AF_INET6, dst, f + 38);
	if (f[38] == 0xff) {
		f[0] = f[1] = 0x33;
		memcpy(f + 2, f + 50, 4);
	} else {
		memcpy(f, link_a->mac, 6);
	}
	memcpy(ph, f + 22, 32);
	memset(ph + 32, 0, 8);
	ph[34] = (uint8_t)(l4len >> 8);
	ph[35] = (uint8_t)l4len;
	ph[39] = nh;
	f[54 + csum_at] = f[54 + csum_at + 1] = 0;
	c = (uint16_t)~csum_add(f + 54, l4len, csum_add(ph, 40, 0));
	f[54 + csum_at] = (uint8_t)(c >> 8);
	f[54 + csum_at + 1] = (uint8_t)c;
	return 54 + l4len;
}

/* t_ns6() - a neighbour solicitation from fd00::1 for @target. */
static size_t t_ns6(uint8_t *f, const char *target)
{
	uint8_t *n = f + 54;
	char dst[64];
	uint8_t t[16];

	inet_pton(AF_INET6, target, t);
	snprintf(dst, sizeof(dst), "ff02::1:ff%02x:%02x%02x", t[13], t[14],
		 t[15]);
	memset(n, 0, 32);
	n[0] = 135;
	memcpy(n + 8, t, 16);
	n[24] = 1; /* source link-layer address */
	n[25] = 1;
	memcpy(n + 26, peer_mac, 6);
	return t_ip6(f, 58, peer6, dst, 255, 32, 2);
}

/* t_na6() - the neighbour advertisement fd00::1 sends to @dst. */
static size_t t_na6(uint8_t *f, const char *dst)
{
	uint8_t *n = f + 54;

	memset(n, 0, 32);
	n[0] = 136;
	n[4] = 0x60; /* solicited, override */
	inet_pton(AF_INET6, peer6, n + 8);
	n[24] = 2; /* target link-layer address */
	n[25] = 1;
	memcpy(n + 26, peer_mac, 6);
	return t_ip6(f, 58, peer6, dst, 255, 32, 2);
}

/* t_next6() - the next IPv6 frame the stack sent with next header @nh
 * (and ICMPv6 type @type unless 0); 0 if none. */
static size_t t_next6(uint8_t *r, size_t cap, uint8_t nh, uint8_t type)
{
	size_t n;

	while ((n = t_recv(r, cap)))
		if (n >= 54 && r[12] == 0x86 && r[13] == 0xdd && r[20] == nh &&
		    (!type || (n > 54 && r[54] == type)))
			return n;
	return 0;
}

/*
 * The netif has IPv6: a neighbour solicitation for fd00::2 is answered
 * with an advertisement carrying our MAC, then an echo request with an
 * echo reply (neighbour known now, no NS first); the counters see both.
 */
static void test_ip6_nd_ping(void)
{
	struct cove_stack_stats stats;
	struct cove_stack *st;
	uint8_t f[256], r[2048];
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_drain();
	t_send(st, f, t_ns6(f, me6));
	n = t_next6(r, sizeof(r), 58, 136);
	CHECK(n >= 86 && !memcmp(r, peer_mac, 6) && r[21] == 255);
	if (n >= 86) {
		uint8_t t[16];

		inet_pton(AF_INET6, me6, t);
		CHECK(!memcmp(r + 62, t, 16) && (r[58] & 0x40) && r[78] == 2 &&
		      !memcmp(r + 80, link_a->mac, 6));
	}
	memset(f + 54, 0, 12);
	f[54] = 128; /* echo request, id 0x1234, seq 1, "ping" */
	f[58] = 0x12;
	f[59] = 0x34;
	f[61] = 1;
	memcpy(f + 62, "ping", 4);
	t_send(st, f, t_ip6(f, 58, peer6, me6, 64, 12, 2));
	n = t_next6(r, sizeof(r), 58, 129);
	CHECK(n == 66 && r[58] == 0x12 && r[59] == 0x34 &&
	      !memcmp(r + 62, "ping", 4));
	cove_stack_read_stats(ops, st, &stats);
	CHECK(stats.icmp6_in >= 2 && stats.icmp6_out >= 2 &&
	      stats.nd_solicits >= 1 && stats.nd_adverts >= 1);
	ops->destroy(st);
	t_drain();
}

/*
 * Without COVE_STACK_F_NO_DAD the addresses start tentative: lwIP probes
 * each with a neighbour solicitation from :: (DAD) within a few timer
 * ticks, and only then answers for fd00::2.
 */
static void test_ip6_dad(void)
{
	struct cove_stack *st;
	uint8_t f[256], r[2048], t[16], ll[16];
	bool probe_g = false, probe_ll = false;
	uint64_t end;
	size_t n;

	REQUIRE(t_create6(&st, 0, NULL) == 0);
	{
		/* as Linux: a tentative address cannot be bound yet */
		struct sockaddr_in6 a = t_sin6(me6, 7);
		struct cove_sock *u;

		REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &u) == 0);
		CHECK(ops->bind(u, (struct sockaddr *)&a, sizeof(a)) ==
		      -EADDRNOTAVAIL);
		ops->close(u);
	}
	inet_pton(AF_INET6, me6, t);
	t_ll6(ll);
	end = t_now(NULL) + 3500000000ull;
	while (t_now(NULL) < end && !(probe_g && probe_ll)) {
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
		ops->run(st, t_now(NULL));
		while ((n = t_next6(r, sizeof(r), 58, 135))) {
			static const uint8_t any[16];

			if (n < 78 || memcmp(r + 22, any, 16))
				continue;
			probe_g |= !memcmp(r + 62, t, 16);
			probe_ll |= !memcmp(r + 62, ll, 16);
		}
	}
	CHECK(probe_g && probe_ll);
	/* after the probe's second, fd00::2 is ours and answers */
	end = t_now(NULL) + 3000000000ull;
	n = 0;
	while (t_now(NULL) < end && !n) {
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
		ops->run(st, t_now(NULL));
		t_drain();
		t_send(st, f, t_ns6(f, me6));
		n = t_next6(r, sizeof(r), 58, 136);
	}
	CHECK(n >= 86);
	ops->destroy(st);
	t_drain();
}

/*
 * What lw_filter() keeps from lwIP over IPv6, each counted as a drop:
 * our own address as source, a unicast destination not ours (lwIP would
 * forward it), ::1 as source, an option running past its header, a
 * routing header type 0 with segments left, a tiny first fragment, a
 * chain of nine destination-option headers, an NS with hop limit 64.
 * With COVE_STACK_F_NO_IPV6 even a good echo request is dropped.
 */
static void test_ip6_filter(void)
{
	struct cove_stack_stats s0, s1;
	struct cove_stack *st;
	uint8_t f[512], r[2048];
	unsigned i;
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_drain();
	cove_stack_read_stats(ops, st, &s0);
	memset(f + 54, 0, 8);
	f[54] = 128;
	t_send(st, f, t_ip6(f, 58, me6, me6, 64, 8, 2));
	t_send(st, f, t_ip6(f, 58, peer6, "fd00::99", 64, 8, 2));
	t_send(st, f, t_ip6(f, 58, "::1", me6, 64, 8, 2));
	/* hop-by-hop: PadN of 9 bytes in an 8-byte header */
	memcpy(f + 54, (const uint8_t[]){ 58, 0, 1, 9, 0, 0, 0, 0 }, 8);
	memset(f + 62, 0, 8);
	f[62] = 128;
	t_send(st, f, t_ip6(f, 0, peer6, me6, 64, 16, 10));
	/* routing type 0, one segment left */
	memset(f + 54, 0, 24 + 8);
	f[54] = 58;
	f[55] = 2;
	f[57] = 1;
	f[78] = 128;
	t_send(st, f, t_ip6(f, 43, peer6, me6, 64, 32, 26));
	/* first fragment with 8 bytes of TCP header */
	memset(f + 54, 0, 16);
	f[54] = 6;
	f[57] = 1; /* offset 0, more fragments */
	t_send(st, f, t_ip6(f, 44, peer6, me6, 64, 16, 14));
	/* nine destination-option headers, then ICMPv6 */
	for (i = 0; i < 9; i++)
		memcpy(f + 54 + 8 * i,
		       (const uint8_t[]){ i < 8 ? 60 : 58, 0, 1, 4, 0, 0, 0,
					  0 },
		       8);
	memset(f + 126, 0, 8);
	f[126] = 128;
	t_send(st, f, t_ip6(f, 60, peer6, me6, 64, 80, 74));
	/* NS from off the link */
	n = t_ns6(f, me6);
	f[21] = 64;
	t_send(st, f, n);
	CHECK(t_next6(r, sizeof(r), 58, 0) == 0);
	cove_stack_read_stats(ops, st, &s1);
	CHECK(s1.rx_dropped == s0.rx_dropped + 8);
	CHECK(s1.rx_malformed == s0.rx_malformed + 3);
	/* the same echo request without the faults is answered */
	t_send(st, f, t_ns6(f, me6));
	t_drain();
	memset(f + 54, 0, 8);
	f[54] = 128;
	t_send(st, f, t_ip6(f, 58, peer6, me6, 64, 8, 2));
	CHECK(t_next6(r, sizeof(r), 58, 129) > 0);
	ops->destroy(st);

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_IPV6,
			  NULL) == 0);
	t_drain();
	t_send(st, f, t_ns6(f, me6));
	t_send(st, f, t_ip6(f, 58, peer6, me6, 64, 8, 2));
	CHECK(t_next6(r, sizeof(r), 58, 0) == 0);
	cove_stack_read_stats(ops, st, &s1);
	CHECK(s1.rx_dropped == 2);
	ops->destroy(st);
	t_drain();
}

/* t_wait6() - run() until the stack sends ICMPv6 @type, at most 2.5 s. */
static size_t t_wait6(struct cove_stack *st, uint8_t *r, size_t cap,
		      uint8_t type)
{
	uint64_t end = t_now(NULL) + 2500000000ull;
	size_t n;

	while (!(n = t_next6(r, cap, 58, type)) && t_now(NULL) < end) {
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
		ops->run(st, t_now(NULL));
	}
	return n;
}

/*
 * cfg->gateway6 becomes lwIP's default router: lwIP's ND timer resolves
 * it (an NS within a tick), and an echo request from an off-link address
 * is answered through it, to the router's MAC.
 */
static void test_ip6_gateway(void)
{
	struct cove_stack *st;
	uint8_t f[256], r[2048];
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, peer6) == 0);
	t_drain();
	memset(f + 54, 0, 8);
	f[54] = 128;
	f[61] = 7;
	t_send(st, f, t_ip6(f, 58, "2001:db8::5", me6, 64, 8, 2));
	n = t_wait6(st, r, sizeof(r), 135); /* who is the router? */
	CHECK(n >= 78);
	t_send(st, f, t_na6(f, me6));
	n = t_next6(r, sizeof(r), 58, 129);
	CHECK(n == 62 && !memcmp(r, peer_mac, 6) && r[61] == 7);
	if (n == 62) {
		uint8_t d[16];

		inet_pton(AF_INET6, "2001:db8::5", d);
		CHECK(!memcmp(r + 38, d, 16));
	}
	ops->destroy(st);
	t_drain();
}

/* t_is6() - @a is the sockaddr_in6 of @ip:@port (@port 0: any port). */
static bool t_is6(const struct sockaddr_in6 *a, const char *ip, uint16_t port)
{
	struct in6_addr want;

	inet_pton(AF_INET6, ip, &want);
	return a->sin6_family == AF_INET6 &&
	       !memcmp(&a->sin6_addr, &want, 16) &&
	       (!port || a->sin6_port == htons(port));
}

/* t_udp6() - a UDP datagram from @src:@sport to fd00::2:@dport. */
static size_t t_udp6(uint8_t *f, const char *src, uint16_t sport,
		     uint16_t dport, const char *payload)
{
	size_t n = strlen(payload);
	uint8_t *u = f + 54;

	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)((8 + n) >> 8);
	u[5] = (uint8_t)(8 + n);
	memcpy(u + 8, payload, n);
	return t_ip6(f, 17, src, me6, 64, 8 + n, 6);
}

/**
 * t_tcp6() - a TCP segment from @src to fd00::2, window 65535
 * @f:		frame buffer (74 bytes + payload)
 * @src:	source address (text)
 * @sport:	source port
 * @dport:	destination port
 * @seq:	sequence number
 * @ack:	acknowledgment number
 * @flags:	TCP flags
 * @data:	payload, NUL-terminated (NULL: none)
 *
 * Return: the frame's length.
 */
static size_t t_tcp6(uint8_t *f, const char *src, uint16_t sport,
		     uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		     const char *data)
{
	size_t n = data ? strlen(data) : 0;
	uint8_t *t = f + 54;

	memset(t, 0, 20);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(t + 4, &seq, 4);
	memcpy(t + 8, &ack, 4);
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff;
	t[15] = 0xff;
	if (n)
		memcpy(t + 20, data, n);
	return t_ip6(f, 6, src, me6, 64, 20 + n, 16);
}

/* t_learn() - teach the stack fd00::1's and 10.0.0.1's MAC (NS, ARP). */
static void t_learn(struct cove_stack *st)
{
	uint8_t f[128];

	t_send(st, f, t_ns6(f, me6));
	t_send(st, f, t_arp_who_has(f));
	t_drain();
}

/*
 * An AF_INET6 UDP socket bound to [::] is dual-stack: it receives from
 * fd00::1 as a sockaddr_in6 and from 10.0.0.1 as ::ffff:10.0.0.1, and
 * sending to the mapped address sends IPv4. Addresses are checked as
 * Linux checks them.
 */
static void test_ip6_udp(void)
{
	struct sockaddr_in6 a = t_sin6("::", 7), from, name;
	struct sockaddr_in a4 = t_sin("10.0.0.2", 7);
	struct cove_sock *s;
	struct cove_stack *st;
	uint8_t f[256], r[2048];
	char buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_name = &from,
			    .msg_namelen = sizeof(from),
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	socklen_t len = sizeof(name);
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_learn(st);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &s) == 0);
	CHECK(ops->bind(s, (struct sockaddr *)&a, 23) == -EINVAL);
	/* Linux: the length first (EINVAL), then the family */
	CHECK(ops->bind(s, (struct sockaddr *)&a4, sizeof(a4)) == -EINVAL);
	a.sin6_family = AF_INET;
	CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == -EAFNOSUPPORT);
	a = t_sin6("fd00::99", 7);
	CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == -EADDRNOTAVAIL);
	a = t_sin6("fe80::1", 7);
	CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == -EINVAL);
	a.sin6_scope_id = 99;
	CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == -ENODEV);
	/* our link-local address, scope 2 (eth0 behind lo, as builtin) */
	{
		uint8_t ll[16];
		char text[64];

		t_ll6(ll);
		inet_ntop(AF_INET6, ll, text, sizeof(text));
		a = t_sin6(text, 7);
		a.sin6_scope_id = 2;
		CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
		len = sizeof(name);
		CHECK(ops->getsockname(s, (struct sockaddr *)&name, &len) ==
			      0 &&
		      t_is6(&name, text, 7) && name.sin6_scope_id == 2);
		ops->close(s);
		REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &s) == 0);
		len = sizeof(name);
	}
	a = t_sin6("::", 7);
	CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->getsockname(s, (struct sockaddr *)&name, &len) == 0 &&
	      len == sizeof(name) && t_is6(&name, "::", 7));

	t_send(st, f, t_udp6(f, peer6, 5555, 7, "six"));
	CHECK(ops->recvmsg(s, &m, 0) == 3 && !memcmp(buf, "six", 3));
	CHECK(m.msg_namelen == sizeof(from) && t_is6(&from, peer6, 5555));
	m.msg_namelen = sizeof(from);
	t_send(st, f, t_udp(f, "10.0.0.1", 5556, 7, "four"));
	CHECK(ops->recvmsg(s, &m, 0) == 4 && !memcmp(buf, "four", 4));
	CHECK(t_is6(&from, "::ffff:10.0.0.1", 5556));

	/* replies: to fd00::1 over IPv6, to the mapped address over IPv4 */
	iov.iov_len = 4;
	memcpy(buf, "pong", 4);
	a = t_sin6(peer6, 5555);
	m.msg_name = &a;
	m.msg_namelen = sizeof(a);
	CHECK(ops->sendmsg(s, &m, 0) == 4);
	n = t_next6(r, sizeof(r), 17, 0);
	CHECK(n == 66 && !memcmp(r + 62, "pong", 4) && r[56] == (5555 >> 8));
	m.msg_name = &from; /* ::ffff:10.0.0.1:5556 */
	CHECK(ops->sendmsg(s, &m, 0) == 4);
	n = t_recv(r, sizeof(r));
	CHECK(n == 46 && r[12] == 0x08 && r[13] == 0 &&
	      !memcmp(r + 42, "pong", 4));
	/* AF_INET addresses work on an AF_INET6 UDP socket, as on Linux */
	a4 = t_sin("10.0.0.1", 5557);
	m.msg_name = &a4;
	m.msg_namelen = sizeof(a4);
	CHECK(ops->sendmsg(s, &m, 0) == 4);
	n = t_recv(r, sizeof(r));
	CHECK(n == 46 && r[12] == 0x08 && r[36] == (5557 >> 8) &&
	      r[37] == (5557 & 0xff));
	ops->close(s);
	ops->destroy(st);
	t_drain();
}

/*
 * IPV6_V6ONLY binds the PCB to IPv6 only: no IPv4 arrives, IPv4
 * destinations are ENETUNREACH, and it may not change once bound. Dual
 * [::] conflicts with 0.0.0.0 and with an IPv6 address on its port; a
 * v6-only [::] does not conflict with 0.0.0.0 (TCP). IPV6_UNICAST_HOPS
 * and IPV6_TCLASS reach the header.
 */
static void test_ip6_v6only(void)
{
	struct sockaddr_in6 a = t_sin6("::", 8), to = t_sin6(peer6, 9);
	struct sockaddr_in a4 = t_sin("0.0.0.0", 80);
	struct cove_sock *s, *t1, *t2, *t3, *u4;
	struct cove_stack *st;
	uint8_t f[256], r[2048];
	int on = 1, v = -1, hops = 17, tc = 0x28;
	socklen_t vl = sizeof(v);
	char buf[16] = "x";
	struct iovec iov = { .iov_base = buf, .iov_len = 1 };
	struct msghdr m = { .msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_learn(st);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &s) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &u4) == 0);
	CHECK(ops->setsockopt(u4, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) ==
	      -ENOPROTOOPT);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) ==
	      0);
	CHECK(ops->getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 &&
	      v == 1);
	CHECK(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) ==
	      -EINVAL);
	t_send(st, f, t_udp(f, "10.0.0.1", 5555, 8, "four"));
	iov.iov_len = sizeof(buf);
	m.msg_name = NULL;
	CHECK(ops->recvmsg(s, &m, 0) == -EAGAIN);
	t_send(st, f, t_udp6(f, peer6, 5555, 8, "six"));
	CHECK(ops->recvmsg(s, &m, 0) == 3);
	t_drain();
	{
		struct sockaddr_in6 mapped = t_sin6("::ffff:10.0.0.1", 9);

		iov.iov_len = 1;
		m.msg_name = &mapped;
		m.msg_namelen = sizeof(mapped);
		CHECK(ops->sendmsg(s, &m, 0) == -ENETUNREACH);
	}
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops,
			      sizeof(hops)) == 0);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &tc, sizeof(tc)) ==
	      0);
	hops = 256;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops,
			      sizeof(hops)) == -EINVAL);
	vl = sizeof(v);
	CHECK(ops->getsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, &vl) ==
		      0 &&
	      v == 17);
	/* Limitation: one TTL and one TOS per lwIP PCB, for both families */
	vl = sizeof(v);
	CHECK(ops->getsockopt(s, IPPROTO_IP, IP_TTL, &v, &vl) == 0 && v == 17);
	vl = sizeof(v);
	CHECK(ops->getsockopt(s, IPPROTO_IP, IP_TOS, &v, &vl) == 0 &&
	      v == 0x28);
	/* remembered only: no control messages, no error queue */
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
			      sizeof(on)) == 0);
	vl = sizeof(v);
	CHECK(ops->getsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v, &vl) ==
		      0 &&
	      v == 1);
	vl = sizeof(v);
	CHECK(ops->getsockopt(s, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, &vl) ==
		      0 &&
	      v == IPV6_PMTUDISC_WANT);
	v = 9;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v,
			      sizeof(v)) == -EINVAL);

	m.msg_name = &to;
	m.msg_namelen = sizeof(to);
	CHECK(ops->sendmsg(s, &m, 0) == 1);
	n = t_next6(r, sizeof(r), 17, 0);
	CHECK(n == 63 && r[21] == 17 &&
	      (((r[14] & 0x0f) << 4) | (r[15] >> 4)) == 0x28);
	/*
	 * UDP binds across the families, as on Linux: a v6-only [::] and
	 * 0.0.0.0 share a port, a dual [::] and 0.0.0.0 do not, nor a dual
	 * [::] and ::1.
	 */
	{
		struct sockaddr_in any4 = t_sin("0.0.0.0", 8);
		struct sockaddr_in6 w = t_sin6("::", 9);
		struct cove_sock *u6, *u7;

		CHECK(ops->bind(u4, (struct sockaddr *)&any4, sizeof(any4)) ==
		      0);
		REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &u6) == 0);
		REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &u7) == 0);
		CHECK(ops->bind(u6, (struct sockaddr *)&w, sizeof(w)) == 0);
		w = t_sin6("::1", 9);
		CHECK(ops->bind(u7, (struct sockaddr *)&w, sizeof(w)) ==
		      -EADDRINUSE);
		ops->close(u4);
		REQUIRE(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &u4) == 0);
		any4.sin_port = htons(9);
		CHECK(ops->bind(u4, (struct sockaddr *)&any4, sizeof(any4)) ==
		      -EADDRINUSE);
		ops->close(u6);
		ops->close(u7);
	}
	ops->close(s);
	ops->close(u4);

	/* TCP: bind conflicts across the families */
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &t1) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &t2) == 0);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &t3) == 0);
	a = t_sin6("::", 80);
	CHECK(ops->bind(t1, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->bind(t2, (struct sockaddr *)&a4, sizeof(a4)) == -EADDRINUSE);
	a = t_sin6(me6, 80);
	CHECK(ops->bind(t3, (struct sockaddr *)&a, sizeof(a)) == -EADDRINUSE);
	ops->close(t1);
	ops->close(t3);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &t1) == 0);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &t3) == 0);
	CHECK(ops->setsockopt(t1, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) ==
	      0);
	a = t_sin6("::", 80);
	CHECK(ops->bind(t1, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->bind(t2, (struct sockaddr *)&a4, sizeof(a4)) == 0);
	a = t_sin6(me6, 80);
	CHECK(ops->bind(t3, (struct sockaddr *)&a, sizeof(a)) == -EADDRINUSE);
	{
		struct sockaddr_in6 mapped = t_sin6("::ffff:10.0.0.1", 80);

		CHECK(ops->connect(t1, (struct sockaddr *)&mapped,
				   sizeof(mapped)) == -ENETUNREACH);
	}
	ops->close(t1);
	ops->close(t2);
	ops->close(t3);

	/*
	 * SO_REUSEADDR on both, as Linux: binding beside a bound [::] is
	 * fine, beside a listening one (either family, or the same address)
	 * EADDRINUSE.
	 */
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &t1) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &t2) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &t3) == 0);
	CHECK(ops->setsockopt(t1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ==
	      0);
	CHECK(ops->setsockopt(t2, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ==
	      0);
	CHECK(ops->setsockopt(t3, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ==
	      0);
	a = t_sin6("::", 90);
	CHECK(ops->bind(t1, (struct sockaddr *)&a, sizeof(a)) == 0);
	a4.sin_port = htons(90);
	CHECK(ops->bind(t2, (struct sockaddr *)&a4, sizeof(a4)) == 0);
	ops->close(t2);
	CHECK(ops->listen(t1, 8) == 0);
	CHECK(ops->bind(t3, (struct sockaddr *)&a4, sizeof(a4)) == -EADDRINUSE);
	ops->close(t1);
	ops->close(t3);
	ops->destroy(st);
	t_drain();
}

/* t_synack6() - the ISS of the next SYN|ACK the stack sent over IPv6. */
static uint32_t t_synack6(void)
{
	uint8_t r[2048];
	uint32_t iss = 0;
	size_t n;

	while ((n = t_next6(r, sizeof(r), 6, 0)))
		if (n >= 74 && r[67] == 0x12)
			memcpy(&iss, r + 58, 4);
	return ntohl(iss);
}

/*
 * TCP on an AF_INET6 listener bound to [::]: a connection from fd00::1
 * is accepted with a sockaddr_in6 peer and carries data both ways; one
 * from 10.0.0.1 on the same listener reads ::ffff:10.0.0.1 (its
 * getsockname ::ffff:10.0.0.2). lw_guard holds IPv6 segments to the same
 * rules: a blind injection with an ACK of unsent data is dropped.
 */
static void test_ip6_tcp(void)
{
	struct sockaddr_in6 a = t_sin6("::", 80), peer, name;
	struct cove_sock *l, *c6, *c4;
	struct cove_stack *st;
	socklen_t len = sizeof(peer);
	uint8_t f[256], r[2048];
	uint32_t iss, iss4;
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_learn(st);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 8) == 0);
	t_send(st, f, t_tcp6(f, peer6, 41000, 80, 1, 0, 0x02, NULL));
	iss = t_synack6();
	REQUIRE(iss);
	t_send(st, f, t_tcp6(f, peer6, 41000, 80, 2, iss + 1, 0x10, NULL));
	REQUIRE(ops->accept(l, &c6, (struct sockaddr *)&peer, &len) == 0);
	CHECK(len == sizeof(peer) && t_is6(&peer, peer6, 41000));
	len = sizeof(name);
	CHECK(ops->getsockname(c6, (struct sockaddr *)&name, &len) == 0 &&
	      t_is6(&name, me6, 80));
	t_send(st, f, t_tcp6(f, peer6, 41000, 80, 2, iss + 1, 0x18, "hello6"));
	CHECK(!strcmp(t_read(c6), "hello6"));
	t_drain();
	CHECK(t_write(c6, "back") == 4);
	n = t_next6(r, sizeof(r), 6, 0);
	CHECK(n == 78 && !memcmp(r + 74, "back", 4));
	/* blind injection: ACK of data never sent */
	t_send(st, f, t_tcp6(f, peer6, 41000, 80, 8, iss + 100, 0x18, "evil"));
	CHECK(!strcmp(t_read(c6), ""));

	/* IPv4 on the same listener */
	t_send(st, f, t_tcp_syn(f, 41001, 80));
	iss4 = 0;
	while ((n = t_recv(r, sizeof(r))))
		if (n >= 54 && r[23] == 6 && r[47] == 0x12)
			memcpy(&iss4, r + 38, 4);
	REQUIRE(iss4);
	t_send(st, f, t_tcp(f, 41001, 80, 2, ntohl(iss4) + 1, 0x10));
	len = sizeof(peer);
	REQUIRE(ops->accept(l, &c4, (struct sockaddr *)&peer, &len) == 0);
	CHECK(len == sizeof(peer) && t_is6(&peer, "::ffff:10.0.0.1", 41001));
	len = sizeof(name);
	CHECK(ops->getsockname(c4, (struct sockaddr *)&name, &len) == 0 &&
	      t_is6(&name, "::ffff:10.0.0.2", 80));
	len = sizeof(name);
	CHECK(ops->getpeername(c4, (struct sockaddr *)&name, &len) == 0 &&
	      t_is6(&name, "::ffff:10.0.0.1", 41001));
	ops->close(c4);
	ops->close(c6);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/*
 * Loopback over IPv6: TCP and UDP on ::1 and on fd00::2 go through
 * lwIP's loop queues (nothing reaches the link); an AF_INET6 client
 * reaches an AF_INET listener on 127.0.0.1 through ::ffff:127.0.0.1.
 */
static void test_ip6_loopback(void)
{
	static const char *const ips[] = { "::1", "fd00::2" };
	struct sockaddr_in6 a, name;
	struct sockaddr_in a4 = t_sin("127.0.0.1", 8090), p4;
	struct cove_sock *l, *c, *s;
	struct cove_stack *st;
	socklen_t len;
	uint8_t r[2048];
	unsigned i;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_drain();
	for (i = 0; i < 2; i++) {
		a = t_sin6(ips[i], 8089);
		REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &l) == 0);
		REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
		REQUIRE(ops->listen(l, 8) == 0);
		REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &c) == 0);
		CHECK(ops->connect(c, (struct sockaddr *)&a, sizeof(a)) ==
		      -EINPROGRESS);
		t_run(st);
		len = sizeof(name);
		REQUIRE(ops->accept(l, &s, (struct sockaddr *)&name, &len) ==
			0);
		CHECK(t_is6(&name, ips[i], 0));
		CHECK(t_write(c, "ping6") == 5);
		t_run(st);
		CHECK(!strcmp(t_read(s), "ping6"));
		ops->close(c);
		ops->close(s);
		ops->close(l);
		t_run(st);
		CHECK(t_recv(r, sizeof(r)) == 0);
	}
	/* UDP over ::1 */
	{
		struct sockaddr_in6 from;
		char buf[8];
		struct iovec iov = { .iov_base = buf, .iov_len = 2 };
		struct msghdr m = { .msg_name = &a,
				    .msg_namelen = sizeof(a),
				    .msg_iov = &iov,
				    .msg_iovlen = 1 };

		a = t_sin6("::1", 9001);
		REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &l) == 0);
		REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &c) == 0);
		REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
		memcpy(buf, "hi", 2);
		CHECK(ops->sendmsg(c, &m, 0) == 2);
		t_run(st);
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		iov.iov_len = sizeof(buf);
		CHECK(ops->recvmsg(l, &m, 0) == 2 && t_is6(&from, "::1", 0));
		ops->close(l);
		ops->close(c);
	}
	/* AF_INET6 client, AF_INET listener */
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a4, sizeof(a4)) == 0);
	REQUIRE(ops->listen(l, 8) == 0);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &c) == 0);
	a = t_sin6("::ffff:127.0.0.1", 8090);
	CHECK(ops->connect(c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	t_run(st);
	len = sizeof(p4);
	REQUIRE(ops->accept(l, &s, (struct sockaddr *)&p4, &len) == 0);
	CHECK(len == sizeof(p4) && p4.sin_family == AF_INET &&
	      p4.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	len = sizeof(name);
	CHECK(ops->getpeername(c, (struct sockaddr *)&name, &len) == 0 &&
	      t_is6(&name, "::ffff:127.0.0.1", 8090));
	ops->close(c);
	ops->close(s);
	ops->close(l);
	ops->destroy(st);
	t_drain();
}

/*
 * Limitation: lwIP knows two on-link prefixes for a configured address,
 * the /64 a static one implies and none (/128). prefix6_len 48 is taken
 * as /64: fd00:0:0:1::5, on the /48, is reached through the gateway;
 * prefix6_len 128 sends fd00::5, on the /64, through the gateway too,
 * while a /64 resolves it directly.
 */
static void test_ip6_prefix(void)
{
	static const struct {
		uint8_t plen;
		const char *peer;
		bool via_gw;
	} c[] = {
		{ 48, "fd00:0:0:1::5", true },
		{ 128, "fd00::5", true },
		{ 64, "fd00::5", false },
	};
	struct cove_stack *st;
	uint8_t f[256], r[2048], want[16];
	unsigned i;
	size_t n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		REQUIRE(t_create6p(&st, COVE_STACK_F_NO_DAD, peer6,
				   c[i].plen) == 0);
		t_drain();
		memset(f + 54, 0, 8);
		f[54] = 128;
		t_send(st, f, t_ip6(f, 58, c[i].peer, me6, 64, 8, 2));
		/* the NS asks for the router, or for the peer itself */
		n = t_wait6(st, r, sizeof(r), 135);
		inet_pton(AF_INET6, c[i].via_gw ? peer6 : c[i].peer, want);
		CHECK(n >= 78 && !memcmp(r + 62, want, 16));
		ops->destroy(st);
		t_drain();
	}
}

/**
 * t_frag6() - one fragment of a UDP datagram from fd00::1:5555 to
 * fd00::2:7, payload bytes i = i & 0xff
 * @f:		frame buffer
 * @total:	the datagram's payload length
 * @off:	this fragment's offset in the UDP datagram (multiple of 8)
 * @len:	its length (a multiple of 8 unless last)
 * @more:	more fragments follow
 *
 * The UDP checksum covers the whole datagram, so it is computed on a
 * scratch copy first. Return: the frame's length.
 */
static size_t t_frag6(uint8_t *f, size_t total, size_t off, size_t len,
		      bool more)
{
	static uint8_t whole[54 + 8 + 4000];
	size_t i, n = 8 + total;

	for (i = 0; i < total; i++)
		whole[54 + 8 + i] = (uint8_t)i;
	memset(whole + 54, 0, 8);
	whole[54] = 5555 >> 8;
	whole[55] = 5555 & 0xff;
	whole[57] = 7;
	whole[58] = (uint8_t)(n >> 8);
	whole[59] = (uint8_t)n;
	(void)t_ip6(whole, 17, peer6, me6, 64, n, 6);
	memset(f + 54, 0, 8);
	f[54] = 17;
	f[56] = (uint8_t)(off >> 8);
	f[57] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
	f[61] = 0x42; /* identification */
	memcpy(f + 62, whole + 54 + off, len);
	n = t_ip6(f, 44, peer6, me6, 64, 8 + len, 0);
	f[54] = 17; /* t_ip6() wrote a "checksum" over the fragment header */
	f[55] = 0;
	return n;
}

/*
 * UDP over IPv6 beyond the MTU: a 3000-byte datagram leaves as fragments
 * no larger than the link's frames, and one received in three fragments
 * (out of order) is reassembled and delivered whole.
 */
static void test_ip6_udp_frag(void)
{
	struct sockaddr_in6 a = t_sin6("::", 7), to = t_sin6(peer6, 5555), from;
	static char big[3000], in[4000];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	struct msghdr m = { .msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct cove_sock *s;
	struct cove_stack *st;
	uint8_t f[2048], r[2048];
	unsigned frags = 0, i;
	size_t n, bytes = 0;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_learn(st);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &s) == 0);
	REQUIRE(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->sendmsg(s, &m, 0) == (ssize_t)sizeof(big));
	while ((n = t_next6(r, sizeof(r), 44, 0))) {
		CHECK(n <= 1514);
		frags++;
		bytes += n - 62;
	}
	CHECK(frags >= 3 && bytes == 8 + sizeof(big));

	t_send(st, f, t_frag6(f, 2500, 1232, 1232, true));
	t_send(st, f, t_frag6(f, 2500, 0, 1232, true));
	CHECK(ops->recvmsg(s, &m, 0) == -EAGAIN);
	t_send(st, f, t_frag6(f, 2500, 2464, 8 + 2500 - 2464, false));
	iov.iov_base = in;
	iov.iov_len = sizeof(in);
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	n = (size_t)ops->recvmsg(s, &m, 0);
	CHECK(n == 2500 && t_is6(&from, peer6, 5555));
	for (i = 0; n == 2500 && i < n; i++)
		if ((uint8_t)in[i] != (uint8_t)i) {
			CHECK(!"reassembled payload differs");
			break;
		}
	ops->close(s);
	ops->destroy(st);
	t_drain();
}

/* t_ptb6() - a Packet Too Big from fd00::1 for MTU @mtu quoting a packet
 * from @quoted_src to fd00::1. Return: the frame's length. */
static size_t t_ptb6(uint8_t *f, uint32_t mtu, const char *quoted_src)
{
	uint8_t *q = f + 54;

	memset(q, 0, 8 + 48);
	q[0] = 2;
	q[4] = (uint8_t)(mtu >> 24);
	q[5] = (uint8_t)(mtu >> 16);
	q[6] = (uint8_t)(mtu >> 8);
	q[7] = (uint8_t)mtu;
	q[8] = 0x60;
	q[13] = 8;
	q[14] = 17;
	q[15] = 64;
	inet_pton(AF_INET6, quoted_src, q + 16);
	inet_pton(AF_INET6, peer6, q + 32);
	return t_ip6(f, 58, peer6, me6, 64, 8 + 48, 2);
}

/*
 * Packet Too Big: one below 1280, or quoting a packet that was not ours,
 * is dropped by the filter (lwIP would take any MTU; below 60 its TCP MSS
 * becomes 0); one for 1400 quoting ours lowers the path MTU, and the
 * next large datagram leaves in fragments of at most 1400 bytes.
 */
static void test_ip6_ptb(void)
{
	struct sockaddr_in6 to = t_sin6(peer6, 5555);
	static char big[3000];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	struct msghdr m = { .msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct cove_stack_stats s0, s1;
	struct cove_sock *s;
	struct cove_stack *st;
	uint8_t f[256], r[2048];
	unsigned frags = 0;
	size_t n, max = 0;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_learn(st);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &s) == 0);
	CHECK(ops->sendmsg(s, &m, 0) == (ssize_t)sizeof(big));
	t_drain(); /* fd00::1 is in lwIP's destination cache now */
	cove_stack_read_stats(ops, st, &s0);
	t_send(st, f, t_ptb6(f, 1000, me6));
	t_send(st, f, t_ptb6(f, 1400, "fd00::77"));
	cove_stack_read_stats(ops, st, &s1);
	CHECK(s1.rx_dropped == s0.rx_dropped + 2);
	t_send(st, f, t_ptb6(f, 1400, me6));
	CHECK(ops->sendmsg(s, &m, 0) == (ssize_t)sizeof(big));
	while ((n = t_next6(r, sizeof(r), 44, 0))) {
		frags++;
		max = n - 14 > max ? n - 14 : max;
	}
	CHECK(frags >= 3 && max <= 1400 && max > 1280);
	ops->close(s);
	ops->destroy(st);
	t_drain();
}

/*
 * Active opens from an AF_INET6 socket: to fd00::1 a SYN leaves over
 * IPv6, the SYN|ACK establishes (names fd00::2 and fd00::1); to
 * ::ffff:10.0.0.1 the SYN leaves over IPv4 and the names read mapped; a
 * RST to the SYN is ECONNREFUSED.
 */
static void test_ip6_connect(void)
{
	struct sockaddr_in6 a = t_sin6(peer6, 80), name;
	struct cove_sock *c, *c4, *c3;
	struct cove_stack *st;
	uint8_t f[256], r[2048];
	uint32_t seq = 0;
	socklen_t len;
	int err = 0;
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_learn(st);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &c) == 0);
	CHECK(ops->connect(c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	n = t_next6(r, sizeof(r), 6, 0);
	REQUIRE(n >= 74 && r[67] == 0x02); /* a SYN over IPv6 */
	memcpy(&seq, r + 58, 4);
	seq = ntohl(seq);
	t_send(st, f,
	       t_tcp6(f, peer6, 80, (uint16_t)(r[54] << 8 | r[55]), 1000,
		      seq + 1, 0x12, NULL));
	CHECK(ops->events(c) & EPOLLOUT);
	len = sizeof(name);
	CHECK(ops->getsockname(c, (struct sockaddr *)&name, &len) == 0 &&
	      t_is6(&name, me6, 0));
	len = sizeof(name);
	CHECK(ops->getpeername(c, (struct sockaddr *)&name, &len) == 0 &&
	      t_is6(&name, peer6, 80));
	t_drain();

	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &c4) == 0);
	a = t_sin6("::ffff:10.0.0.1", 80);
	CHECK(ops->connect(c4, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	n = t_recv(r, sizeof(r));
	CHECK(n >= 54 && r[12] == 0x08 && r[13] == 0 && r[23] == 6 &&
	      r[47] == 0x02);
	len = sizeof(name);
	CHECK(ops->getsockname(c4, (struct sockaddr *)&name, &len) == 0 &&
	      t_is6(&name, "::ffff:10.0.0.2", 0));

	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &c3) == 0);
	a = t_sin6(peer6, 81);
	CHECK(ops->connect(c3, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	n = t_next6(r, sizeof(r), 6, 0);
	REQUIRE(n >= 74 && r[67] == 0x02);
	memcpy(&seq, r + 58, 4);
	t_send(st, f,
	       t_tcp6(f, peer6, 81, (uint16_t)(r[54] << 8 | r[55]), 0,
		      ntohl(seq) + 1, 0x14, NULL));
	len = sizeof(err);
	CHECK(ops->getsockopt(c3, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	      err == ECONNREFUSED);
	ops->close(c3);
	ops->close(c4);
	ops->close(c);
	ops->destroy(st);
	t_drain();
}

/*
 * Without addr6, a router advertisement from fe80::1 (prefix
 * 2001:db8:1::/64, autonomous) gives lwIP a default router and a SLAAC
 * address from the MAC; after its DAD an echo request from off the link
 * to that address is answered, through the router's MAC.
 */
static void test_ip6_ra_slaac(void)
{
	struct cove_stack *st;
	uint8_t f[256], r[2048], ll[16], want[16];
	char addr[64];
	uint64_t end;
	size_t n = 0;

	REQUIRE(t_create6p(&st, COVE_STACK_F_NO_DAD, NULL, 0) == 0);
	t_drain();
	memset(f + 54, 0, 56);
	f[54] = 134;
	f[58] = 64;   /* cur hop limit */
	f[60] = 0x07; /* router lifetime 1800 s */
	f[61] = 0x08;
	f[70] = 1; /* source link-layer address */
	f[71] = 1;
	memcpy(f + 72, peer_mac, 6);
	f[78] = 3; /* prefix information */
	f[79] = 4;
	f[80] = 64;
	f[81] = 0xc0;		 /* on-link, autonomous */
	memset(f + 82, 0xff, 8); /* lifetimes: infinite */
	inet_pton(AF_INET6, "2001:db8:1::", f + 94);
	t_send(st, f, t_ip6(f, 58, "fe80::1", "ff02::1", 255, 56, 2));
	t_ll6(ll);
	memcpy(want, ll, 16);
	inet_pton(AF_INET6, "2001:db8:1::", want);
	memcpy(want + 8, ll + 8, 8);
	inet_ntop(AF_INET6, want, addr, sizeof(addr));
	/* DAD of the new address, then it answers */
	end = t_now(NULL) + 4000000000ull;
	while (t_now(NULL) < end && !n) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);
		ops->run(st, t_now(NULL));
		t_drain();
		memset(f + 54, 0, 8);
		f[54] = 128;
		f[61] = 9;
		t_send(st, f, t_ip6(f, 58, "2001:db8:9::9", addr, 64, 8, 2));
		n = t_next6(r, sizeof(r), 58, 129);
	}
	CHECK(n == 62 && !memcmp(r, peer_mac, 6) && !memcmp(r + 22, want, 16));
	ops->destroy(st);
	t_drain();
}

/* t_mreq6() - a struct ipv6_mreq for @group on interface @ifindex. */
static struct ipv6_mreq t_mreq6(const char *group, unsigned ifindex)
{
	struct ipv6_mreq m = { .ipv6mr_interface = ifindex };

	inet_pton(AF_INET6, group, &m.ipv6mr_multiaddr);
	return m;
}

/* t_mld6() - run() until an MLD message of @type for @group, at most 2 s. */
static bool t_mld6(struct cove_stack *st, uint8_t type, const char *group)
{
	uint64_t end = t_now(NULL) + 2000000000ull;
	uint8_t r[2048], g[16];
	size_t n;

	inet_pton(AF_INET6, group, g);
	while (t_now(NULL) < end) {
		struct timespec ts = { 0, 20000000 };

		while ((n = t_next6(r, sizeof(r), 0, 0)))
			if (n >= 86 && r[54] == 58 && r[62] == type &&
			    !memcmp(r + 70, g, 16))
				return true;
		nanosleep(&ts, NULL);
		ops->run(st, t_now(NULL));
	}
	return false;
}

/*
 * IPV6_JOIN_GROUP on a UDP socket is lwIP's MLD join: a report goes out,
 * a datagram to the group arrives; after IPV6_LEAVE_GROUP a done message
 * goes out and the group's datagrams are dropped. Errors as Linux's
 * (checked against the kernel): EADDRINUSE joining twice, EADDRNOTAVAIL
 * leaving a group not joined, EINVAL for a unicast group or a short
 * request, ENODEV for another interface, EPROTO on TCP; the multicast
 * hop limit, loop and interface options with their ranges.
 */
static void test_ip6_multicast(void)
{
	struct sockaddr_in6 a = t_sin6("::", 5355);
	struct ipv6_mreq m = t_mreq6("ff02::1:3", 2);
	struct cove_sock *s, *t;
	struct cove_stack *st;
	uint8_t f[256];
	char buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int v = -1, two = 2, hops = 256;
	socklen_t vl = sizeof(v);
	size_t n;

	REQUIRE(t_create6(&st, COVE_STACK_F_NO_DAD, NULL) == 0);
	t_learn(st);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &s) == 0);
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &t) == 0);
	REQUIRE(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m,
			      sizeof(m)) == 0);
	CHECK(t_mld6(st, 131, "ff02::1:3"));
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m,
			      sizeof(m)) == -EADDRINUSE);
	CHECK(ops->setsockopt(t, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m,
			      sizeof(m)) == -EPROTO);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, 16) ==
	      -EINVAL);
	{
		struct ipv6_mreq bad = t_mreq6("fd00::1", 0);

		CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &bad,
				      sizeof(bad)) == -EINVAL);
		bad = t_mreq6("ff02::1:4", 99);
		CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &bad,
				      sizeof(bad)) == -ENODEV);
	}
	/* a datagram to the group */
	n = t_udp6(f, peer6, 5000, 5355, "mc");
	inet_pton(AF_INET6, "ff02::1:3", f + 38);
	n = t_ip6(f, 17, peer6, "ff02::1:3", 1, n - 54, 6);
	t_send(st, f, n);
	CHECK(ops->recvmsg(s, &msg, 0) == 2 && !memcmp(buf, "mc", 2));
	/* leave: done message, the group's datagrams dropped */
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &m,
			      sizeof(m)) == 0);
	CHECK(t_mld6(st, 132, "ff02::1:3"));
	t_send(st, f, n);
	CHECK(ops->recvmsg(s, &msg, 0) == -EAGAIN);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &m,
			      sizeof(m)) == -EADDRNOTAVAIL);
	/* the multicast options, Linux's defaults and ranges */
	CHECK(ops->getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, &vl) ==
		      0 &&
	      v == 1);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
			      sizeof(hops)) == -EINVAL);
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &two,
			      sizeof(two)) == -EINVAL);
	two = 99;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &two,
			      sizeof(two)) == -ENODEV);
	CHECK(ops->setsockopt(t, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v,
			      sizeof(v)) == -ENOPROTOOPT);
	/* closing with a group joined leaves it */
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m,
			      sizeof(m)) == 0);
	ops->close(s);
	ops->close(t);
	CHECK(t_mld6(st, 132, "ff02::1:3"));
	ops->destroy(st);
	t_drain();
}

int main(void)
{
	ops = cove_stack_find("lwip");
	REQUIRE(ops);
	REQUIRE(cove_frame_pool_init(&pool_a, POOL_FRAMES,
				     COVE_FRAME_DEFAULT_SIZE) == 0);
	REQUIRE(cove_frame_pool_init(&pool_b, POOL_FRAMES,
				     COVE_FRAME_DEFAULT_SIZE) == 0);
	REQUIRE(cove_link_mem_pair(&pool_a, &pool_b, &link_a, &link_b) == 0);
	RUN(test_one_instance);
	RUN(test_arp_and_ping);
	RUN(test_udp);
	RUN(test_tcp_errors);
	RUN(test_tcp_send_at_once);
	RUN(test_tcp_cork);
	RUN(test_ack_range);
	RUN(test_tcp_ack_out_of_range);
	RUN(test_tcp_challenge_per_socket);
	RUN(test_tcp_syn_flood);
	RUN(test_tcp_loopback);
	RUN(test_udp_loopback);
	RUN(test_tcp_many);
	RUN(test_ip6_nd_ping);
	RUN(test_ip6_dad);
	RUN(test_ip6_filter);
	RUN(test_ip6_gateway);
	RUN(test_ip6_udp);
	RUN(test_ip6_v6only);
	RUN(test_ip6_tcp);
	RUN(test_ip6_loopback);
	RUN(test_ip6_prefix);
	RUN(test_ip6_udp_frag);
	RUN(test_ip6_ptb);
	RUN(test_ip6_connect);
	RUN(test_ip6_ra_slaac);
	RUN(test_ip6_multicast);
	cove_link_close(link_a);
	cove_link_close(link_b);
	CHECK(cove_frame_pool_fini(&pool_a) == 0);
	CHECK(cove_frame_pool_fini(&pool_b) == 0);
	return check_summary();
}
