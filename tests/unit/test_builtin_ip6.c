// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the builtin stack's IPv6 layer: crafted frames, ND, ICMPv6, fragments, UDP. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "cove/netstack.h"
#include "stacks/builtin/builtin.h"
#include "tests/unit/check.h"

/*
 * As test_builtin_core.c: a "solo" instance A (fd00::1/64, 10.0.0.1/24)
 * on one end of a mem link, the test playing the peer fd00::2 (B's MAC)
 * with crafted frames, or a "pair" of instances A and B (fd00::2) shuttled
 * by pump(). Time is fake. Every case ends with net_down(), which destroys
 * the stacks and checks that both pools got every frame back.
 */

#define POOL_FRAMES 1024u

static uint64_t now_ns = 1000000000ull;
static const struct cove_netstack_ops *ops;

struct node {
	struct cove_frame_pool pool;
	struct cove_link *link;
	struct cove_stack *st;
};

struct net {
	struct node a, b;
	bool solo;
};

static uint64_t fake_now(void *host)
{
	(void)host;
	return now_ns;
}

static void on_notify(void *host, struct cove_sock *s, void *cookie,
		      uint32_t ev)
{
	(void)host;
	(void)s;
	(void)cookie;
	(void)ev;
}

static struct in6_addr in6(const char *s)
{
	struct in6_addr a;

	REQUIRE(inet_pton(AF_INET6, s, &a) == 1);
	return a;
}

static int node_create(struct node *n, const char *a4, const char *a6,
		       uint32_t flags)
{
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.prefix_len = 24,
		.prefix6_len = 64,
		.seed = 42,
		.flags = flags,
	};
	struct cove_stack_env env = {
		.link = n->link,
		.notify = on_notify,
		.now_ns = fake_now,
		.host = n,
	};

	REQUIRE(inet_pton(AF_INET, a4, &cfg.addr) == 1);
	cfg.addr6 = in6(a6);
	return ops->create(&cfg, &env, &n->st);
}

static void net_up(struct net *net, bool solo, uint32_t flags)
{
	memset(net, 0, sizeof(*net));
	net->solo = solo;
	REQUIRE(!cove_frame_pool_init(&net->a.pool, POOL_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_frame_pool_init(&net->b.pool, POOL_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_link_mem_pair(&net->a.pool, &net->b.pool, &net->a.link,
				    &net->b.link));
	REQUIRE(!node_create(&net->a, "10.0.0.1", "fd00::1", flags));
	if (!solo)
		REQUIRE(!node_create(&net->b, "10.0.0.2", "fd00::2", flags));
}

/* pump() - move frames both ways and run both stacks until all is quiet. */
static void pump(struct net *net)
{
	struct node *nodes[2] = { &net->a, &net->b };
	struct cove_frame *f[64];
	unsigned i, n, rounds, quiet = 0;
	bool busy;

	for (rounds = 0; quiet < 2 && rounds < 10000; rounds++) {
		busy = false;
		for (i = 0; i < 2; i++) {
			struct node *x = nodes[i];

			if (!x->st)
				continue;
			while ((n = cove_link_rx_burst(x->link, f, 64)) > 0) {
				ops->input(x->st, f, n);
				busy = true;
			}
			if (ops->run(x->st, now_ns) <= now_ns)
				busy = true;
		}
		quiet = busy ? 0 : quiet + 1;
	}
	REQUIRE(rounds < 10000);
}

/* advance() - let @ms of fake time pass, stopping at every deadline. */
static void advance(struct net *net, uint64_t ms)
{
	uint64_t end = now_ns + ms * 1000000ull, d, b;

	pump(net);
	while (now_ns < end) {
		d = ops->run(net->a.st, now_ns);
		b = net->b.st ? ops->run(net->b.st, now_ns) : UINT64_MAX;
		d = b < d ? b : d;
		now_ns = d > now_ns && d < end ? d : end;
		pump(net);
	}
}

static unsigned wire_rx(struct net *net, struct cove_frame **f, unsigned max)
{
	ops->run(net->a.st, now_ns);
	return cove_link_rx_burst(net->b.link, f, max);
}

static void wire_drain(struct net *net)
{
	struct cove_frame *f[64];
	unsigned n, i;

	while ((n = wire_rx(net, f, 64)) > 0)
		for (i = 0; i < n; i++)
			cove_frame_free(f[i]);
}

static void net_down(struct net *net)
{
	if (net->solo)
		wire_drain(net);
	ops->destroy(net->a.st);
	if (net->b.st)
		ops->destroy(net->b.st);
	cove_link_close(net->a.link);
	cove_link_close(net->b.link);
	CHECK(cove_frame_pool_fini(&net->a.pool) == 0);
	CHECK(cove_frame_pool_fini(&net->b.pool) == 0);
}

static struct cove_stack_stats stats(struct node *n)
{
	struct cove_stack_stats s;

	REQUIRE(cove_stack_read_stats(ops, n->st, &s) == 0);
	return s;
}

/* ---- crafted frames ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(const uint8_t *b, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* l4sum() - a transport checksum with the IPv6 pseudo-header. */
static uint16_t l4sum(const struct in6_addr *s, const struct in6_addr *d,
		      uint8_t proto, const uint8_t *l4, size_t len)
{
	uint8_t tail[8] = { 0, 0,    (uint8_t)(len >> 8), (uint8_t)len, 0, 0,
			    0, proto };
	uint32_t sum = sum16(s->s6_addr, 16, 0);

	sum = sum16(d->s6_addr, 16, sum);
	sum = sum16(tail, 8, sum);
	return fold(sum16(l4, len, sum));
}

static const char *PEER = "fd00::2", *ME = "fd00::1";

/*
 * frame6() - Ethernet + IPv6 from the peer to A at @b
 * @nh:		next header of the fixed header
 * @ext:	bytes after the fixed header (extension headers and
 *		transport), @len of them
 * @dmac:	destination MAC, NULL: A's
 * Return: the frame's length.
 */
static size_t frame6(struct net *net, uint8_t *b, const char *src,
		     const char *dst, uint8_t nh, uint8_t hlim,
		     const uint8_t *ext, size_t len, const uint8_t *dmac)
{
	struct in6_addr s = in6(src), d = in6(dst);

	memcpy(b, dmac ? dmac : net->a.link->mac, 6);
	memcpy(b + 6, net->b.link->mac, 6);
	put16(b + 12, 0x86dd);
	memset(b + 14, 0, 4);
	b[14] = 0x60;
	put16(b + 18, (uint16_t)len);
	b[20] = nh;
	b[21] = hlim;
	memcpy(b + 22, &s, 16);
	memcpy(b + 38, &d, 16);
	memcpy(b + 54, ext, len);
	return 54 + len;
}

static void inject(struct net *net, const uint8_t *bytes, size_t len)
{
	struct cove_frame *f = cove_frame_alloc(&net->a.pool);

	REQUIRE(f && len <= f->cap);
	memcpy(f->data, bytes, len);
	f->len = (uint32_t)len;
	ops->input(net->a.st, &f, 1);
}

/* echo6() - an ICMPv6 echo request (@dlen data bytes) at @b, checksummed. */
static size_t echo6(uint8_t *b, const char *src, const char *dst, size_t dlen,
		    uint16_t seq)
{
	struct in6_addr s = in6(src), d = in6(dst);
	size_t i;

	memset(b, 0, 8);
	b[0] = 128;
	put16(b + 4, 0x1234);
	put16(b + 6, seq);
	for (i = 0; i < dlen; i++)
		b[8 + i] = (uint8_t)(i * 7 + 3);
	put16(b + 2, l4sum(&s, &d, 58, b, 8 + dlen));
	return 8 + dlen;
}

/* ping() - inject an echo request with @pre (extension headers) before it. */
static void ping(struct net *net, uint8_t nh, const uint8_t *pre, size_t plen,
		 size_t dlen, uint16_t seq)
{
	static uint8_t f[70000], l4[66000];
	size_t n;

	if (plen)
		memcpy(l4, pre, plen);
	n = echo6(l4 + plen, PEER, ME, dlen, seq);
	inject(net, f, frame6(net, f, PEER, ME, nh, 64, l4, plen + n, NULL));
}

/*
 * next6() - the next IPv6 frame A sent whose ICMPv6 type (or, for
 * non-ICMPv6, next header + 1000) is @want, others freed; NULL when none.
 * ICMPv6 behind a hop-by-hop header (MLD) counts by its ICMPv6 type.
 */
static struct cove_frame *next6(struct net *net, int want)
{
	struct cove_frame *f;

	while (wire_rx(net, &f, 1) == 1) {
		const uint8_t *b = f->data;
		int got;

		if (f->len < 54 || get16(b + 12) != 0x86dd) {
			cove_frame_free(f);
			continue;
		}
		got = b[20] == 58 ? b[54] : b[20] == 0 ? b[62] : 1000 + b[20];
		if (got == want)
			return f;
		cove_frame_free(f);
	}
	return NULL;
}

/* na_from_peer() - a solicited NA for fd00::2 with B's MAC. */
static void na_from_peer(struct net *net, const char *target)
{
	uint8_t m[32] = { 136, 0, 0, 0, 0x60 }, f[128];
	struct in6_addr t = in6(target), s = in6(PEER), d = in6(ME);

	memcpy(m + 8, &t, 16);
	m[24] = 2;
	m[25] = 1;
	memcpy(m + 26, net->b.link->mac, 6);
	put16(m + 2, l4sum(&s, &d, 58, m, sizeof(m)));
	inject(net, f, frame6(net, f, PEER, ME, 58, 255, m, sizeof(m), NULL));
}

/* learn_peer6() - A learns fd00::2 from an NS with its address (STALE). */
static void learn_peer6(struct net *net)
{
	static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	uint8_t m[32] = { 135 }, f[128];
	struct in6_addr t = in6(ME), s = in6(PEER), d = in6("ff02::1:ff00:1");
	struct cove_frame *na;

	memcpy(m + 8, &t, 16);
	m[24] = 1;
	m[25] = 1;
	memcpy(m + 26, net->b.link->mac, 6);
	put16(m + 2, l4sum(&s, &d, 58, m, sizeof(m)));
	inject(net, f,
	       frame6(net, f, PEER, "ff02::1:ff00:1", 58, 255, m, sizeof(m),
		      sn_mac));
	na = next6(net, 136);
	CHECK(na != NULL);
	if (na) {
		CHECK(!memcmp(na->data, net->b.link->mac, 6));
		CHECK(na->data[21] == 255);
		CHECK(na->data[58] == 0x60); /* solicited, override */
		CHECK(!memcmp(na->data + 62, &t, 16));
		CHECK(!memcmp(na->data + 80, net->a.link->mac, 6));
		cove_frame_free(na);
	}
}

/* ---- cases ---- */

static void test_ping6_nd(void)
{
	struct net net;
	struct cove_frame *f;
	struct in6_addr peer = in6(PEER), me = in6(ME);
	struct cove_stack_stats s;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	ping(&net, 58, NULL, 0, 56, 1);
	f = next6(&net, 135); /* A resolves fd00::2 first */
	CHECK(f != NULL);
	if (f) {
		static const uint8_t mac[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };

		CHECK(!memcmp(f->data, mac, 6));
		CHECK(f->data[21] == 255);
		CHECK(!memcmp(f->data + 22, &me, 16));
		CHECK(!memcmp(f->data + 62, &peer, 16));
		CHECK(f->data[78] == 1 && f->data[79] == 1); /* SLLA */
		CHECK(!memcmp(f->data + 80, net.a.link->mac, 6));
		{
			struct in6_addr d;

			memcpy(&d, f->data + 38, 16);
			CHECK(!l4sum(&me, &d, 58, f->data + 54,
				     get16(f->data + 18)));
		}
		cove_frame_free(f);
	}
	CHECK(next6(&net, 129) == NULL); /* the reply waits on ND */
	CHECK(stats(&net.a).frames_held == 1);
	na_from_peer(&net, PEER);
	f = next6(&net, 129);
	CHECK(f != NULL);
	if (f) {
		CHECK(!memcmp(f->data, net.b.link->mac, 6));
		CHECK(get16(f->data + 18) == 64);
		CHECK(!memcmp(f->data + 22, &me, 16));
		CHECK(!memcmp(f->data + 38, &peer, 16));
		CHECK(get16(f->data + 60) == 1);
		CHECK(!l4sum(&me, &peer, 58, f->data + 54, 64));
		cove_frame_free(f);
	}
	s = stats(&net.a);
	CHECK(s.icmp6_in == 2 && s.icmp6_out >= 2);
	CHECK(s.nd_solicits >= 1 && s.nd_adverts >= 1);
	CHECK(s.frames_held == 0);
	/* an echo to all-nodes is answered too, from our address */
	{
		static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
		uint8_t l4[64], b[128];
		size_t n = echo6(l4, PEER, "ff02::1", 8, 2);

		inject(&net, b,
		       frame6(&net, b, PEER, "ff02::1", 58, 64, l4, n, mac));
		f = next6(&net, 129);
		CHECK(f != NULL);
		if (f) {
			CHECK(!memcmp(f->data + 22, &me, 16));
			cove_frame_free(f);
		}
	}
	/* a frame to a group we are not in is not even looked at */
	{
		static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 9 };
		uint8_t l4[64], b[128];
		size_t n = echo6(l4, PEER, "ff02::9", 8, 3);
		uint64_t before = stats(&net.a).icmp6_in;

		inject(&net, b,
		       frame6(&net, b, PEER, "ff02::9", 58, 64, l4, n, mac));
		CHECK(stats(&net.a).icmp6_in == before);
	}
	net_down(&net);
}

/* expect_param() - the next frame is a parameter problem @code at @ptr. */
static void expect_param(struct net *net, uint8_t code, uint32_t ptr)
{
	struct cove_frame *f = next6(net, 4);

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(f->data[55] == code);
	CHECK(((uint32_t)get16(f->data + 58) << 16 | get16(f->data + 60)) ==
	      ptr);
	cove_frame_free(f);
}

static void test_ext_headers(void)
{
	struct net net;
	struct cove_frame *f;
	uint8_t pad[8] = { 58, 0, 1, 4, 0, 0, 0, 0 }; /* PadN */
	uint8_t two[16] = { 60, 0, 1, 4, 0, 0, 0, 0, 58, 0, 0, 1, 2, 0, 0, 0 };
	uint8_t opt[8] = { 58, 0, 0x87, 2, 0, 0, 0, 0 };   /* action 10 */
	uint8_t skip[8] = { 58, 0, 0x07, 2, 0, 0, 0, 0 };  /* action 00 */
	uint8_t quiet[8] = { 58, 0, 0x47, 2, 0, 0, 0, 0 }; /* action 01 */
	uint8_t late[16] = { 0, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t rh0[24] = { 58, 2, 0, 1 };     /* type 0, segments left 1 */
	uint8_t rh_done[24] = { 58, 2, 0, 0 }; /* segments left 0 */
	uint8_t loopy[80];
	uint8_t trunc[8] = { 58, 1, 1, 4, 0, 0, 0, 0 };	 /* says 16 bytes */
	uint8_t badopt[8] = { 58, 0, 1, 9, 0, 0, 0, 0 }; /* PadN overruns */
	struct cove_stack_stats s0;
	unsigned i;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	learn_peer6(&net);
	ping(&net, 0, pad, sizeof(pad), 8, 1); /* hop-by-hop */
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	ping(&net, 60, pad, sizeof(pad), 8, 2); /* destination options */
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	ping(&net, 0, two, sizeof(two), 8, 3); /* HBH then dst opts */
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	ping(&net, 60, skip, sizeof(skip), 8, 4); /* unknown, skippable */
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	ping(&net, 43, rh_done, sizeof(rh_done), 8, 5); /* routing, done */
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	/* an atomic fragment (RFC 6946) is a whole datagram */
	{
		uint8_t fh[8] = { 58, 0, 0, 0, 1, 2, 3, 4 };

		ping(&net, 44, fh, sizeof(fh), 8, 6);
		CHECK((f = next6(&net, 129)) != NULL);
		cove_frame_free(f);
	}

	ping(&net, 60, opt, sizeof(opt), 8, 10); /* unknown, action 10 */
	expect_param(&net, 2, 42);
	s0 = stats(&net.a);
	ping(&net, 60, quiet, sizeof(quiet), 8, 11); /* action 01: quietly */
	CHECK(next6(&net, 4) == NULL && next6(&net, 129) == NULL);
	CHECK(stats(&net.a).rx_dropped == s0.rx_dropped + 1);
	ping(&net, 43, rh0, sizeof(rh0), 8, 12); /* RH0 with segments left */
	expect_param(&net, 0, 42);
	ping(&net, 60, late, sizeof(late), 8, 13); /* HBH after dst opts */
	expect_param(&net, 1, 40);
	ping(&net, 200, pad, sizeof(pad), 8, 14); /* unknown next header */
	expect_param(&net, 1, 6);
	ping(&net, 60, badopt, sizeof(badopt), 8, 15); /* option overruns */
	expect_param(&net, 0, 43);
	/* looping: nine destination option headers, one past the bound */
	for (i = 0; i < 10; i++) {
		memset(loopy + i * 8, 0, 8);
		loopy[i * 8] = 60;
		loopy[i * 8 + 2] = 1;
		loopy[i * 8 + 3] = 4;
	}
	loopy[9 * 8] = 58;
	s0 = stats(&net.a);
	ping(&net, 60, loopy, 80, 8, 16);
	CHECK(next6(&net, 129) == NULL);
	CHECK(stats(&net.a).rx_malformed == s0.rx_malformed + 1);
	/* a chain that runs past the packet */
	s0 = stats(&net.a);
	{
		uint8_t b[128];

		inject(&net, b,
		       frame6(&net, b, PEER, ME, 60, 64, trunc, sizeof(trunc),
			      NULL));
	}
	CHECK(next6(&net, 129) == NULL && next6(&net, 4) == NULL);
	CHECK(stats(&net.a).rx_malformed == s0.rx_malformed + 1);
	net_down(&net);
}

static void test_bad_headers(void)
{
	struct net net;
	uint8_t b[256], l4[64];
	size_t n, len;
	struct cove_stack_stats s0;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	learn_peer6(&net);
	n = echo6(l4, PEER, ME, 8, 1);
	s0 = stats(&net.a);
	/* payload length beyond the frame */
	len = frame6(&net, b, PEER, ME, 58, 64, l4, n, NULL);
	put16(b + 18, (uint16_t)(n + 1));
	inject(&net, b, len);
	/* version 4 in an IPv6 EtherType */
	len = frame6(&net, b, PEER, ME, 58, 64, l4, n, NULL);
	b[14] = 0x40;
	inject(&net, b, len);
	/* shorter than the fixed header */
	inject(&net, b, 14 + 39);
	CHECK(stats(&net.a).rx_malformed == s0.rx_malformed + 3);
	/* sources a host never accepts: group, loopback, mapped, ours */
	len = frame6(&net, b, "ff02::1", ME, 58, 64, l4, n, NULL);
	inject(&net, b, len);
	len = frame6(&net, b, "::1", ME, 58, 64, l4, n, NULL);
	inject(&net, b, len);
	len = frame6(&net, b, "::ffff:10.0.0.2", ME, 58, 64, l4, n, NULL);
	inject(&net, b, len);
	len = frame6(&net, b, ME, ME, 58, 64, l4, n, NULL);
	inject(&net, b, len);
	/* destinations not ours, ::1 from the wire */
	len = frame6(&net, b, PEER, "fd00::3", 58, 64, l4, n, NULL);
	inject(&net, b, len);
	len = frame6(&net, b, PEER, "::1", 58, 64, l4, n, NULL);
	inject(&net, b, len);
	/* a bad ICMPv6 checksum */
	l4[2] ^= 1;
	len = frame6(&net, b, PEER, ME, 58, 64, l4, n, NULL);
	inject(&net, b, len);
	CHECK(next6(&net, 129) == NULL);
	CHECK(stats(&net.a).icmp6_in == s0.icmp6_in);
	CHECK(stats(&net.a).rx_bad_csum == s0.rx_bad_csum + 1);
	/* Ethernet padding after the payload is fine */
	l4[2] ^= 1;
	len = frame6(&net, b, PEER, ME, 58, 64, l4, n, NULL);
	memset(b + len, 0xee, 10);
	inject(&net, b, len + 10);
	{
		struct cove_frame *f = next6(&net, 129);

		CHECK(f != NULL);
		if (f)
			cove_frame_free(f);
	}
	net_down(&net);
}

/* frag6() - inject one fragment of @msg (@len bytes of ICMPv6) at @off. */
static void frag6(struct net *net, const uint8_t *msg, size_t len, size_t off,
		  size_t n, bool more, uint32_t id)
{
	static uint8_t b[2048], ext[2048];

	ext[0] = 58;
	ext[1] = 0;
	put16(ext + 2, (uint16_t)(off | more));
	ext[4] = (uint8_t)(id >> 24);
	ext[5] = (uint8_t)(id >> 16);
	ext[6] = (uint8_t)(id >> 8);
	ext[7] = (uint8_t)id;
	REQUIRE(off + n <= len && n < sizeof(ext) - 8);
	memcpy(ext + 8, msg + off, n);
	inject(net, b, frame6(net, b, PEER, ME, 44, 64, ext, 8 + n, NULL));
}

static void test_fragments6(void)
{
	struct net net;
	static uint8_t msg[3000];
	size_t n = echo6(msg, PEER, ME, 2400, 7);
	struct cove_frame *f;
	struct cove_stack_stats s0;
	uint32_t total = 0;
	unsigned pieces = 0;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	learn_peer6(&net);
	/* out of order, three pieces: a reply of 2408 bytes, fragmented */
	frag6(&net, msg, n, 1200, 1200, true, 1);
	frag6(&net, msg, n, 2400, n - 2400, false, 1);
	CHECK(next6(&net, 1044) == NULL);
	frag6(&net, msg, n, 0, 1200, true, 1);
	while ((f = next6(&net, 1044)) != NULL) {
		CHECK(f->len <= 14 + 1500);
		total += get16(f->data + 18) - 8;
		pieces++;
		cove_frame_free(f);
	}
	CHECK(pieces == 2 && total == n);
	s0 = stats(&net.a);
	CHECK(s0.ip6_frags_in == 3 && s0.ip6_reassembled == 1);
	/* an overlap kills the datagram, and its later pieces with it */
	frag6(&net, msg, n, 0, 1200, true, 2);
	frag6(&net, msg, n, 1192, 1208, true, 2);
	frag6(&net, msg, n, 2400, n - 2400, false, 2);
	frag6(&net, msg, n, 1200, 1200, true, 2);
	CHECK(next6(&net, 1044) == NULL && next6(&net, 129) == NULL);
	CHECK(stats(&net.a).ip6_reasm_failed == s0.ip6_reasm_failed + 1);
	CHECK(stats(&net.a).ip6_reassembled == s0.ip6_reassembled);
	/* a duplicate piece is ignored (as Linux does), the rest completes */
	frag6(&net, msg, n, 0, 1200, true, 3);
	frag6(&net, msg, n, 0, 1200, true, 3);
	frag6(&net, msg, n, 1200, 1200, true, 3);
	frag6(&net, msg, n, 2400, n - 2400, false, 3);
	CHECK((f = next6(&net, 1044)) != NULL);
	cove_frame_free(f);
	wire_drain(&net);
	CHECK(stats(&net.a).ip6_reassembled == s0.ip6_reassembled + 1);
	/* a non-last piece not a multiple of 8: parameter problem */
	frag6(&net, msg, n, 0, 1201, true, 4);
	expect_param(&net, 0, 4);
	/* past 65535 */
	frag6(&net, msg, n, 0, 8, true, 5);
	{
		static uint8_t b[256], ext[64] = { 58, 0, 0xff, 0xf8 };

		memcpy(ext + 8, msg, 16);
		inject(&net, b,
		       frame6(&net, b, PEER, ME, 44, 64, ext, 24, NULL));
	}
	expect_param(&net, 0, 42);
	/* an incomplete datagram times out: time exceeded, code 1 */
	frag6(&net, msg, n, 0, 1200, true, 6);
	now_ns += 61000000000ull;
	f = next6(&net, 3);
	CHECK(f != NULL);
	if (f) {
		CHECK(f->data[55] == 1);
		cove_frame_free(f);
	}
	net_down(&net);
}

/* ptb() - a Packet Too Big from @router about A's packet to @dst. */
static void ptb(struct net *net, const char *router, const char *dst,
		uint32_t mtu)
{
	uint8_t m[8 + 48] = { 2 }, b[256];
	struct in6_addr s = in6(router), d = in6(ME), q = in6(dst);

	m[4] = (uint8_t)(mtu >> 24);
	m[5] = (uint8_t)(mtu >> 16);
	m[6] = (uint8_t)(mtu >> 8);
	m[7] = (uint8_t)mtu;
	m[8] = 0x60;
	put16(m + 12, 1400);
	m[14] = 17;
	m[15] = 64;
	memcpy(m + 16, &d, 16);
	memcpy(m + 32, &q, 16);
	put16(m + 48, 40000);
	put16(m + 50, 7);
	put16(m + 2, l4sum(&s, &d, 58, m, sizeof(m)));
	inject(net, b, frame6(net, b, router, ME, 58, 64, m, sizeof(m), NULL));
}

static void test_pmtu(void)
{
	struct net net;
	static uint8_t msg[1500];
	struct cove_frame *f;
	size_t n = echo6(msg, PEER, ME, 1400, 1);
	unsigned pieces = 0;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	learn_peer6(&net);
	ping(&net, 58, NULL, 0, 1400, 1);
	CHECK((f = next6(&net, 129)) != NULL); /* whole: 1448 < 1500 */
	cove_frame_free(f);
	ptb(&net, "fd00::99", PEER, 1300);
	CHECK(stats(&net.a).pmtu_updates == 1);
	ping(&net, 58, NULL, 0, 1400, 2);
	while ((f = next6(&net, 1044)) != NULL) {
		CHECK(f->len - 14 <= 1300);
		pieces++;
		cove_frame_free(f);
	}
	CHECK(pieces == 2);
	/* never raised, and never below 1280 */
	ptb(&net, "fd00::99", PEER, 1400);
	CHECK(stats(&net.a).pmtu_updates == 1);
	ptb(&net, "fd00::99", PEER, 600);
	CHECK(stats(&net.a).pmtu_updates == 2);
	ping(&net, 58, NULL, 0, 1400, 3);
	while ((f = next6(&net, 1044)) != NULL) {
		CHECK(f->len - 14 <= 1280);
		cove_frame_free(f);
	}
	/* a PTB about a packet we never sent (not from us) changes nothing */
	(void)n;
	net_down(&net);
}

/* dad_ns() - wait for A's DAD probe for @target; true when it came. */
static bool dad_ns(struct net *net, const char *target, bool *report)
{
	struct in6_addr t = in6(target), sn, any = in6("::");
	struct cove_frame *f;
	bool found = false;

	inet_pton(AF_INET6, "ff02::1:ff00:0", &sn);
	memcpy(sn.s6_addr + 13, t.s6_addr + 13, 3);
	while (wire_rx(net, &f, 1) == 1) {
		const uint8_t *b = f->data;

		if (f->len >= 78 && get16(b + 12) == 0x86dd && b[20] == 58 &&
		    b[54] == 135 && !memcmp(b + 62, &t, 16)) {
			CHECK(!memcmp(b + 22, &any, 16));
			CHECK(!memcmp(b + 38, &sn, 16));
			CHECK(get16(b + 18) == 24); /* no SLLA from :: */
			found = true;
		}
		if (f->len >= 62 && b[20] == 0 && b[54] == 58 && b[62] == 143)
			*report = true;
		cove_frame_free(f);
	}
	return found;
}

static void test_dad(void)
{
	struct net net;
	struct cove_frame *f;
	bool report = false;

	/* no conflict: tentative (silent) for about a second, then usable */
	net_up(&net, true, COVE_STACK_F_NO_GARP);
	ping(&net, 58, NULL, 0, 8, 1); /* to a tentative address: dropped */
	CHECK(next6(&net, 129) == NULL);
	now_ns += 1100000000ull;
	CHECK(dad_ns(&net, ME, &report));
	CHECK(report);
	now_ns += 1100000000ull;
	wire_drain(&net);
	learn_peer6(&net);
	ping(&net, 58, NULL, 0, 8, 2);
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	net_down(&net);

	/* a neighbour answers the probe: the address is never used */
	net_up(&net, true, COVE_STACK_F_NO_GARP);
	now_ns += 1100000000ull;
	CHECK(dad_ns(&net, ME, &report));
	{
		static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
		uint8_t m[32] = { 136, 0, 0, 0, 0x20 }, b[128];
		struct in6_addr t = in6(ME), s = in6(PEER);
		struct in6_addr d = in6("ff02::1");

		memcpy(m + 8, &t, 16);
		m[24] = 2;
		m[25] = 1;
		memcpy(m + 26, net.b.link->mac, 6);
		put16(m + 2, l4sum(&s, &d, 58, m, sizeof(m)));
		inject(&net, b,
		       frame6(&net, b, PEER, "ff02::1", 58, 255, m, sizeof(m),
			      mac));
	}
	advance(&net, 3000);
	wire_drain(&net);
	ping(&net, 58, NULL, 0, 8, 3);
	CHECK(next6(&net, 129) == NULL && next6(&net, 135) == NULL);
	net_down(&net);

	/* another node probing for the same tentative address: ours too */
	net_up(&net, true, COVE_STACK_F_NO_GARP);
	{
		static const uint8_t mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
		uint8_t m[24] = { 135 }, b[128];
		struct in6_addr t = in6(ME), s = in6("::");
		struct in6_addr d = in6("ff02::1:ff00:1");

		memcpy(m + 8, &t, 16);
		put16(m + 2, l4sum(&s, &d, 58, m, sizeof(m)));
		inject(&net, b,
		       frame6(&net, b, "::", "ff02::1:ff00:1", 58, 255, m,
			      sizeof(m), mac));
	}
	advance(&net, 3000);
	wire_drain(&net);
	ping(&net, 58, NULL, 0, 8, 4);
	CHECK(next6(&net, 129) == NULL);
	net_down(&net);
}

/* ---- UDP over IPv6 ---- */

static struct sockaddr_in6 sin6_of(const char *addr, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6,
				  .sin6_port = htons(port) };

	s.sin6_addr = in6(addr);
	return s;
}

static struct sockaddr_in sin4_of(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	REQUIRE(inet_pton(AF_INET, addr, &s.sin_addr) == 1);
	return s;
}

/* sock() - a UDP socket of @domain, bound to @addr:@port unless NULL. */
static struct cove_sock *sock(struct node *n, int domain, const char *addr,
			      uint16_t port)
{
	struct cove_sock *s;

	REQUIRE(ops->socket(n->st, domain, SOCK_DGRAM, 0, &s) == 0);
	if (addr && domain == AF_INET6) {
		struct sockaddr_in6 a = sin6_of(addr, port);

		REQUIRE(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	} else if (addr) {
		struct sockaddr_in a = sin4_of(addr, port);

		REQUIRE(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	}
	return s;
}

static ssize_t send_to(struct cove_sock *s, const void *a, socklen_t alen,
		       const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_name = (void *)a,
			    .msg_namelen = alen,
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };

	return ops->sendmsg(s, &m, 0);
}

static ssize_t send6(struct cove_sock *s, const char *addr, uint16_t port,
		     const void *buf, size_t len)
{
	struct sockaddr_in6 a = sin6_of(addr, port);

	return send_to(s, &a, sizeof(a), buf, len);
}

/* recv_from() - one datagram, its source in @from (@flen in/out). */
static ssize_t recv_from(struct cove_sock *s, void *buf, size_t len, void *from,
			 socklen_t *flen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_name = from,
			    .msg_namelen = flen ? *flen : 0,
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	ssize_t r = ops->recvmsg(s, &m, 0);

	if (flen)
		*flen = m.msg_namelen;
	return r;
}

static bool sa6_is(const struct sockaddr_in6 *a, const char *addr,
		   uint16_t port)
{
	struct in6_addr x = in6(addr);

	return a->sin6_family == AF_INET6 && !memcmp(&a->sin6_addr, &x, 16) &&
	       (!port || ntohs(a->sin6_port) == port);
}

static void test_udp6_pair(void)
{
	struct net net;
	struct cove_sock *srv, *cl, *c4;
	struct sockaddr_in6 from;
	struct sockaddr_in from4;
	socklen_t flen;
	static uint8_t big[5000], got[6000];
	size_t i;

	net_up(&net, false, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	srv = sock(&net.b, AF_INET6, "::", 7000);
	cl = sock(&net.a, AF_INET6, NULL, 0);
	CHECK(send6(cl, "fd00::2", 7000, "hello", 5) == 5);
	pump(&net);
	flen = sizeof(from);
	CHECK(recv_from(srv, got, sizeof(got), &from, &flen) == 5);
	CHECK(!memcmp(got, "hello", 5));
	CHECK(flen == sizeof(from) && sa6_is(&from, "fd00::1", 0));
	/* and back, to the address recvmsg gave */
	CHECK(send_to(srv, &from, flen, "world", 5) == 5);
	pump(&net);
	flen = sizeof(from);
	CHECK(recv_from(cl, got, sizeof(got), &from, &flen) == 5);
	CHECK(sa6_is(&from, "fd00::2", 7000));
	/* larger than the MTU: fragmented, reassembled */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + 7);
	CHECK(send6(cl, "fd00::2", 7000, big, sizeof(big)) ==
	      (ssize_t)sizeof(big));
	pump(&net);
	CHECK(recv_from(srv, got, sizeof(got), NULL, NULL) ==
	      (ssize_t)sizeof(big));
	CHECK(!memcmp(got, big, sizeof(big)));
	CHECK(stats(&net.b).ip6_reassembled == 1);
	CHECK(stats(&net.b).ip6_frags_in == 4);
	/* dual stack: IPv4 reaches [::], reported as ::ffff:a.b.c.d */
	c4 = sock(&net.a, AF_INET, NULL, 0);
	{
		struct sockaddr_in to = sin4_of("10.0.0.2", 7000);

		CHECK(send_to(c4, &to, sizeof(to), "four", 4) == 4);
	}
	pump(&net);
	flen = sizeof(from);
	CHECK(recv_from(srv, got, sizeof(got), &from, &flen) == 4);
	CHECK(sa6_is(&from, "::ffff:10.0.0.1", 0));
	CHECK(send_to(srv, &from, flen, "back", 4) == 4); /* goes as IPv4 */
	pump(&net);
	flen = sizeof(from4);
	CHECK(recv_from(c4, got, sizeof(got), &from4, &flen) == 4);
	CHECK(flen == sizeof(from4) && from4.sin_family == AF_INET &&
	      ntohs(from4.sin_port) == 7000);
	/* an AF_INET6 socket connected to a mapped address speaks IPv4 */
	{
		struct sockaddr_in6 to = sin6_of("::ffff:10.0.0.2", 7000), me;
		socklen_t ml = sizeof(me);

		CHECK(ops->connect(cl, (struct sockaddr *)&to, sizeof(to)) ==
		      0);
		CHECK(ops->getsockname(cl, (struct sockaddr *)&me, &ml) == 0);
		CHECK(sa6_is(&me, "::ffff:10.0.0.1", 0));
		CHECK(send_to(cl, NULL, 0, "m", 1) == 1);
		pump(&net);
		flen = sizeof(from);
		CHECK(recv_from(srv, got, sizeof(got), &from, &flen) == 1);
		CHECK(sa6_is(&from, "::ffff:10.0.0.1", 0));
	}
	ops->close(c4);
	ops->close(cl);
	ops->close(srv);
	net_down(&net);
}

/* A 60000-byte datagram to a neighbour not yet resolved: its 42 pieces
 * wait on the one ND entry and all go out once the NA comes. */
static void test_udp6_big_first(void)
{
	struct net net;
	struct cove_sock *srv, *cl;
	static uint8_t big[60000], got[65536];
	size_t i;

	net_up(&net, false, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	srv = sock(&net.b, AF_INET6, "::", 7000);
	cl = sock(&net.a, AF_INET6, NULL, 0);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 5);
	CHECK(send6(cl, "fd00::2", 7000, big, sizeof(big)) ==
	      (ssize_t)sizeof(big));
	CHECK(stats(&net.a).frames_held == 42); /* 60008 / 1448 */
	pump(&net);
	CHECK(recv_from(srv, got, sizeof(got), NULL, NULL) ==
	      (ssize_t)sizeof(big));
	CHECK(!memcmp(got, big, sizeof(big)));
	CHECK(stats(&net.a).frames_held == 0);
	ops->close(cl);
	ops->close(srv);
	net_down(&net);
}

static int join6(struct cove_sock *s, int opt, const char *g, unsigned ifi,
		 socklen_t len)
{
	struct ipv6_mreq mr = { .ipv6mr_interface = ifi };

	mr.ipv6mr_multiaddr = in6(g);
	return ops->setsockopt(s, IPPROTO_IPV6, opt, &mr, len);
}

static void test_udp6_multicast(void)
{
	struct net net;
	struct cove_sock *srv, *cl, *v4;
	char buf[32], g[32];
	socklen_t ml = sizeof(struct ipv6_mreq);
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	unsigned i;

	net_up(&net, false, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	advance(&net, 3000); /* link-local addresses up: multicast sources */
	srv = sock(&net.b, AF_INET6, "::", 7100);
	cl = sock(&net.a, AF_INET6, NULL, 0);
	/* Linux's answers (checked on the kernel) */
	CHECK(join6(srv, IPV6_JOIN_GROUP, "ff02::1234", 0, ml) == 0);
	CHECK(join6(srv, IPV6_JOIN_GROUP, "ff02::1234", 2, ml) == -EADDRINUSE);
	CHECK(join6(srv, IPV6_JOIN_GROUP, "fd00::5", 0, ml) == -EINVAL);
	CHECK(join6(srv, IPV6_JOIN_GROUP, "ff02::6", 99, ml) == -ENODEV);
	CHECK(join6(srv, IPV6_JOIN_GROUP, "ff02::7", 0, 16) == -EINVAL);
	CHECK(join6(srv, IPV6_LEAVE_GROUP, "ff02::9", 0, ml) == -EADDRNOTAVAIL);
	CHECK(join6(srv, IPV6_LEAVE_GROUP, "fd00::5", 0, ml) == -EINVAL);
	v4 = sock(&net.b, AF_INET, NULL, 0);
	CHECK(join6(v4, IPV6_JOIN_GROUP, "ff02::1234", 0, ml) == -ENOPROTOOPT);
	ops->close(v4);
	/* a datagram to the group reaches the member */
	{
		struct sockaddr_in6 to = sin6_of("ff02::1234", 7100);

		to.sin6_scope_id = 2;
		CHECK(send_to(cl, &to, sizeof(to), "group", 5) == 5);
	}
	pump(&net);
	CHECK(recv_from(srv, buf, sizeof(buf), &from, &fl) == 5);
	CHECK(from.sin6_scope_id == 2 &&
	      IN6_IS_ADDR_LINKLOCAL(&from.sin6_addr));
	/* left: the group's frames are not taken any more */
	CHECK(join6(srv, IPV6_LEAVE_GROUP, "ff02::1234", 0, ml) == 0);
	CHECK(send6(cl, "ff02::1234", 7100, "gone", 4) == 4);
	pump(&net);
	CHECK(recv_from(srv, buf, sizeof(buf), NULL, NULL) == -EAGAIN);
	/* bounded: UDP_MC6_MAX groups per socket */
	for (i = 0; i < 8; i++) {
		snprintf(g, sizeof(g), "ff05::%u", i + 1);
		CHECK(join6(srv, IPV6_JOIN_GROUP, g, 0, ml) == 0);
	}
	CHECK(join6(srv, IPV6_JOIN_GROUP, "ff05::99", 0, ml) == -ENOBUFS);
	ops->close(srv); /* leaves them all */
	ops->close(cl);
	net_down(&net);
}

static int bind6(struct cove_sock *s, const char *addr, uint16_t port,
		 uint32_t scope, socklen_t len)
{
	struct sockaddr_in6 a = sin6_of(addr, port);

	a.sin6_scope_id = scope;
	return ops->bind(s, (struct sockaddr *)&a, len);
}

static int bind4(struct cove_sock *s, const char *addr, uint16_t port)
{
	struct sockaddr_in a = sin4_of(addr, port);

	return ops->bind(s, (struct sockaddr *)&a, sizeof(a));
}

static void test_udp6_bind_rules(void)
{
	struct net net;
	struct cove_sock *a, *b, *c, *d;
	int one = 1;
	socklen_t l = sizeof(struct sockaddr_in6);
	struct sockaddr_in6 me;
	struct sockaddr_in s4 = sin4_of("10.0.0.2", 9);

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	/* [::] (dual) and 0.0.0.0 on one port conflict, both ways */
	a = sock(&net.a, AF_INET6, "::", 7000);
	b = sock(&net.a, AF_INET, NULL, 0);
	CHECK(bind4(b, "0.0.0.0", 7000) == -EADDRINUSE);
	CHECK(bind4(b, "10.0.0.1", 7000) == -EADDRINUSE);
	ops->close(b);
	b = sock(&net.a, AF_INET, "0.0.0.0", 7001);
	c = sock(&net.a, AF_INET6, NULL, 0);
	CHECK(bind6(c, "::", 7001, 0, l) == -EADDRINUSE);
	CHECK(bind6(c, "::ffff:10.0.0.1", 7001, 0, l) == -EADDRINUSE);
	/* ... not with IPV6_V6ONLY, nor for an IPv6 address */
	CHECK(ops->setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			      sizeof(one)) == 0);
	CHECK(bind6(c, "::ffff:10.0.0.1", 7001, 0, l) == -EINVAL);
	CHECK(bind6(c, "::", 7001, 0, l) == 0);
	CHECK(ops->setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			      sizeof(one)) == -EINVAL); /* bound already */
	d = sock(&net.a, AF_INET6, "fd00::1", 7005);
	CHECK(bind6(d, "fd00::1", 7002, 0, l) == -EINVAL); /* bound */
	ops->close(d);
	d = sock(&net.a, AF_INET6, NULL, 0);
	CHECK(bind6(d, "fd00::1", 7001, 0, l) == -EADDRINUSE); /* c has [::] */
	/* lengths, families, addresses, scope ids */
	CHECK(bind6(d, "fd00::1", 7003, 0, 23) == -EINVAL);
	CHECK(ops->bind(d, (struct sockaddr *)&s4, sizeof(s4)) == -EINVAL);
	{
		struct sockaddr_in6 x = sin6_of("fd00::1", 7003);

		x.sin6_family = AF_INET;
		CHECK(ops->bind(d, (struct sockaddr *)&x, sizeof(x)) ==
		      -EAFNOSUPPORT);
	}
	CHECK(bind6(d, "fd00::9", 7003, 0, l) == -EADDRNOTAVAIL);
	CHECK(bind6(d, "fe80::1", 7003, 0, l) == -EINVAL);
	CHECK(bind6(d, "fe80::1", 7003, 9, l) == -ENODEV);
	{
		struct sockaddr_in6 any = sin6_of("::", 0);
		struct sockaddr_in6 ll = sin6_of("fe80::1", 9);

		/* connect to link-local needs a scope id, not sendto */
		CHECK(ops->connect(d, (struct sockaddr *)&ll, sizeof(ll)) ==
		      -EINVAL);
		ll.sin6_scope_id = 9;
		CHECK(ops->connect(d, (struct sockaddr *)&ll, sizeof(ll)) ==
		      -ENETUNREACH);
		CHECK(send_to(d, &ll, sizeof(ll), "x", 1) == -ENETUNREACH);
		CHECK(send_to(d, &any, 23, "x", 1) == -EINVAL);
		/* IPv4 to a v6-only socket */
		CHECK(send_to(c, &s4, sizeof(s4), "x", 1) == -ENETUNREACH);
		CHECK(ops->connect(c, (struct sockaddr *)&s4, sizeof(s4)) ==
		      -EAFNOSUPPORT);
	}
	CHECK(bind6(d, "::1", 7003, 0, l) == 0);
	CHECK(ops->getsockname(d, (struct sockaddr *)&me, &l) == 0);
	CHECK(sa6_is(&me, "::1", 7003) && l == sizeof(me));
	ops->close(a);
	ops->close(b);
	ops->close(c);
	ops->close(d);
	net_down(&net);
}

/* udp6_in() - inject a UDP/IPv6 datagram from the peer to @dst:@dport. */
static void udp6_in(struct net *net, const char *dst, uint16_t dport,
		    const char *data)
{
	uint8_t u[256], b[512];
	size_t n = strlen(data);
	struct in6_addr s = in6(PEER), d = in6(dst);

	put16(u, 40000);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + n));
	put16(u + 6, 0);
	memcpy(u + 8, data, n);
	put16(u + 6, l4sum(&s, &d, 17, u, 8 + n));
	inject(net, b, frame6(net, b, PEER, dst, 17, 64, u, 8 + n, NULL));
}

static void test_udp6_wire(void)
{
	struct net net;
	struct cove_sock *s;
	struct cove_frame *f;
	int v;
	socklen_t vl = sizeof(v);
	static uint8_t big[1400];
	struct in6_addr me = in6(ME), peer = in6(PEER);

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	learn_peer6(&net);
	s = sock(&net.a, AF_INET6, "::", 5000);
	v = 7;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v,
			      sizeof(v)) == 0);
	v = 0x28;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v)) ==
	      0);
	v = 256;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v)) ==
	      -EINVAL);
	CHECK(ops->getsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, &vl) ==
		      0 &&
	      v == 7);
	CHECK(send6(s, PEER, 9, "abc", 3) == 3);
	f = next6(&net, 1017);
	CHECK(f != NULL);
	if (f) {
		CHECK(f->data[21] == 7);
		CHECK((get16(f->data + 14) >> 4 & 0xff) == 0x28);
		CHECK(get16(f->data + 54) == 5000 && get16(f->data + 56) == 9);
		CHECK(!l4sum(&me, &peer, 17, f->data + 54, 11));
		cove_frame_free(f);
	}
	/* IPV6_RECVPKTINFO: the destination and our interface */
	v = 1;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v,
			      sizeof(v)) == 0);
	udp6_in(&net, ME, 5000, "pkt");
	{
		uint8_t buf[64], ctl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c;
		struct in6_pktinfo pi;

		CHECK(ops->recvmsg(s, &m, 0) == 3);
		c = CMSG_FIRSTHDR(&m);
		CHECK(c && c->cmsg_level == IPPROTO_IPV6 &&
		      c->cmsg_type == IPV6_PKTINFO);
		if (c) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			CHECK(!memcmp(&pi.ipi6_addr, &me, 16));
			CHECK(pi.ipi6_ifindex == 2);
		}
		/* no room: MSG_CTRUNC */
		udp6_in(&net, ME, 5000, "pkt");
		m.msg_controllen = 4;
		CHECK(ops->recvmsg(s, &m, 0) == 3);
		CHECK((m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0);
	}
	/* IPV6_MTU_DISCOVER DO: no fragmentation, EMSGSIZE above the path */
	v = IPV6_PMTUDISC_DO;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v,
			      sizeof(v)) == 0);
	CHECK(send6(s, PEER, 9, big, sizeof(big)) == (ssize_t)sizeof(big));
	ptb(&net, "fd00::99", PEER, 1300);
	CHECK(send6(s, PEER, 9, big, sizeof(big)) == -EMSGSIZE);
	v = IPV6_PMTUDISC_WANT;
	CHECK(ops->setsockopt(s, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v,
			      sizeof(v)) == 0);
	CHECK(send6(s, PEER, 9, big, sizeof(big)) == (ssize_t)sizeof(big));
	wire_drain(&net);
	/* connected: the path MTU, and port unreachable -> ECONNREFUSED */
	{
		struct sockaddr_in6 to = sin6_of(PEER, 9);
		uint8_t m[8 + 48] = { 1, 4 }, b[256];
		struct in6_addr src = peer;
		char buf[8];

		CHECK(ops->connect(s, (struct sockaddr *)&to, sizeof(to)) == 0);
		vl = sizeof(v);
		CHECK(ops->getsockopt(s, IPPROTO_IPV6, IPV6_MTU, &v, &vl) ==
			      0 &&
		      v == 1300);
		m[8] = 0x60;
		put16(m + 12, 8);
		m[14] = 17;
		m[15] = 64;
		memcpy(m + 16, &me, 16);
		memcpy(m + 32, &peer, 16);
		put16(m + 48, 5000);
		put16(m + 50, 9);
		put16(m + 2, l4sum(&src, &me, 58, m, sizeof(m)));
		inject(&net, b,
		       frame6(&net, b, PEER, ME, 58, 64, m, sizeof(m), NULL));
		CHECK(recv_from(s, buf, sizeof(buf), NULL, NULL) ==
		      -ECONNREFUSED);
		CHECK(recv_from(s, buf, sizeof(buf), NULL, NULL) == -EAGAIN);
	}
	/* no socket: port unreachable back, code 4 */
	udp6_in(&net, ME, 5999, "nobody");
	f = next6(&net, 1);
	CHECK(f != NULL);
	if (f) {
		CHECK(f->data[55] == 4);
		cove_frame_free(f);
	}
	ops->close(s);
	net_down(&net);
}

/* our_iid() - A's EUI-64 interface id (the low 8 bytes of its addresses). */
static void our_iid(struct net *net, uint8_t iid[8])
{
	const uint8_t *m = net->a.link->mac;

	iid[0] = m[0] ^ 2;
	iid[1] = m[1];
	iid[2] = m[2];
	iid[3] = 0xff;
	iid[4] = 0xfe;
	memcpy(iid + 5, m + 3, 3);
}

/* ra() - a router advertisement from fe80::1 (B's MAC) to all-nodes. */
static void ra(struct net *net, uint16_t life, uint32_t mtu)
{
	static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t m[16 + 8 + 8 + 32] = { 134, 0, 0, 0, 42, 0 }, b[256];
	struct in6_addr s = in6("fe80::1"), d = in6("ff02::1");
	struct in6_addr p = in6("2001:db8:1::");
	uint8_t *o = m + 16;

	put16(m + 6, life);
	o[0] = 1; /* source link-layer address */
	o[1] = 1;
	memcpy(o + 2, net->b.link->mac, 6);
	o += 8;
	o[0] = 5; /* MTU */
	o[1] = 1;
	o[4] = (uint8_t)(mtu >> 24);
	o[5] = (uint8_t)(mtu >> 16);
	o[6] = (uint8_t)(mtu >> 8);
	o[7] = (uint8_t)mtu;
	o += 8;
	o[0] = 3; /* prefix information: on link, autonomous */
	o[1] = 4;
	o[2] = 64;
	o[3] = 0xc0;
	o[5] = 1; /* valid 65536 s */
	o[9] = 1; /* preferred 256 s */
	memcpy(o + 16, &p, 16);
	put16(m + 2, l4sum(&s, &d, 58, m, sizeof(m)));
	inject(net, b,
	       frame6(net, b, "fe80::1", "ff02::1", 58, 255, m, sizeof(m),
		      mac));
}

static void test_ra_slaac(void)
{
	struct net net;
	struct cove_frame *f;
	uint8_t iid[8];
	char slaac[64];
	struct in6_addr a = in6("2001:db8:1::");
	static uint8_t l4[1500], b[1600];
	size_t n;
	unsigned pieces = 0;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	our_iid(&net, iid);
	memcpy(a.s6_addr + 8, iid, 8);
	inet_ntop(AF_INET6, &a, slaac, sizeof(slaac));
	/* the link-local address first (DAD); then router solicitation */
	advance(&net, 2500);
	f = next6(&net, 133);
	CHECK(f != NULL);
	if (f) {
		struct in6_addr ar = in6("ff02::2");

		CHECK(!memcmp(f->data + 38, &ar, 16) && f->data[21] == 255);
		cove_frame_free(f);
	}
	wire_drain(&net);
	ra(&net, 1800, 1400);
	advance(&net, 1100);
	{
		bool report = false;

		CHECK(dad_ns(&net, slaac, &report)); /* the SLAAC address */
	}
	advance(&net, 1100);
	wire_drain(&net);
	/* from off link: the reply goes to the router, hop limit 42 */
	n = echo6(l4, "2001:db8:5::7", slaac, 1400, 1);
	inject(&net, b,
	       frame6(&net, b, "2001:db8:5::7", slaac, 58, 64, l4, n, NULL));
	while ((f = next6(&net, 1044)) != NULL) {
		CHECK(!memcmp(f->data, net.b.link->mac, 6));
		CHECK(f->data[21] == 42);
		CHECK(f->len - 14 <= 1400); /* the RA's MTU */
		pieces++;
		cove_frame_free(f);
	}
	CHECK(pieces == 2);
	/* the router leaves: no route off link any more */
	ra(&net, 0, 1400);
	n = echo6(l4, "2001:db8:5::7", slaac, 8, 2);
	inject(&net, b,
	       frame6(&net, b, "2001:db8:5::7", slaac, 58, 64, l4, n, NULL));
	CHECK(next6(&net, 129) == NULL && next6(&net, 135) == NULL);
	net_down(&net);
}

/* ns_to() - the next NS A sent; *@unicast: to fd00::2's MAC itself. */
static bool ns_to(struct net *net, bool *unicast)
{
	struct in6_addr t = in6(PEER);
	struct cove_frame *f;

	while ((f = next6(net, 135)) != NULL) {
		bool mine = !memcmp(f->data + 62, &t, 16);

		*unicast = !memcmp(f->data, net->b.link->mac, 6);
		cove_frame_free(f);
		if (mine) /* not our own DAD probes */
			return true;
	}
	return false;
}

static void test_nud(void)
{
	struct net net;
	struct cove_frame *f;
	bool uni = false;
	int i;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	learn_peer6(&net); /* STALE */
	ping(&net, 58, NULL, 0, 8, 1);
	CHECK((f = next6(&net, 129)) != NULL); /* sent at once: now DELAY */
	cove_frame_free(f);
	now_ns += 5100000000ull; /* DELAY -> PROBE: a unicast NS */
	CHECK(ns_to(&net, &uni) && uni);
	for (i = 0; i < 2; i++) {
		now_ns += 1100000000ull;
		CHECK(ns_to(&net, &uni) && uni);
	}
	now_ns += 1100000000ull; /* three unanswered: the entry is gone */
	CHECK(!ns_to(&net, &uni));
	ping(&net, 58, NULL, 0, 8, 2);
	CHECK(ns_to(&net, &uni) && !uni); /* INCOMPLETE: multicast again */
	na_from_peer(&net, PEER);	  /* solicited: REACHABLE */
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	now_ns += 50000000000ull; /* past ReachableTime: STALE, no probe */
	CHECK(!ns_to(&net, &uni));
	ping(&net, 58, NULL, 0, 8, 3);
	CHECK((f = next6(&net, 129)) != NULL);
	cove_frame_free(f);
	now_ns += 5100000000ull;
	CHECK(ns_to(&net, &uni) && uni); /* probed again */
	na_from_peer(&net, PEER);
	now_ns += 2000000000ull;
	CHECK(!ns_to(&net, &uni)); /* confirmed: no more probes */
	net_down(&net);
}

static void test_mld(void)
{
	struct net net;
	struct cove_frame *f;
	struct in6_addr sn = in6("ff02::1:ff00:1"), g = in6("ff02::16");

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	now_ns += 1100000000ull;
	f = next6(&net, 143);
	CHECK(f != NULL);
	if (f) {
		const uint8_t *b = f->data;
		unsigned i, n = get16(b + 68), found = 0;

		CHECK(b[21] == 1 && !memcmp(b + 38, &g, 16));
		CHECK(b[54] == 58 && b[56] == 5 && b[57] == 2); /* alert */
		CHECK(n == 2); /* link-local's and fd00::1's groups */
		for (i = 0; i < n; i++)
			found += !memcmp(b + 70 + i * 20 + 4, &sn, 16);
		CHECK(found == 1);
		cove_frame_free(f);
	}
	wire_drain(&net);
	now_ns += 3000000000ull;
	wire_drain(&net);
	/* a general query: a report within a second */
	{
		static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
		uint8_t x[8 + 28] = { 58, 0, 5, 2, 0, 0, 1, 0, 130 }, b[128];
		struct in6_addr s = in6("fe80::1"), d = in6("ff02::1");

		put16(x + 8 + 4, 1000);
		put16(x + 8 + 2, l4sum(&s, &d, 58, x + 8, 28));
		inject(&net, b,
		       frame6(&net, b, "fe80::1", "ff02::1", 0, 1, x, sizeof(x),
			      mac));
	}
	now_ns += 1000000000ull;
	CHECK((f = next6(&net, 143)) != NULL);
	if (f)
		cove_frame_free(f);
	net_down(&net);
}

static void test_loopback6(void)
{
	struct net net;
	struct cove_sock *a, *b;
	char buf[16];
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	uint64_t tx;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	wire_drain(&net);
	a = sock(&net.a, AF_INET6, "::1", 5000);
	b = sock(&net.a, AF_INET6, "::", 5001);
	tx = stats(&net.a).tx_frames;
	CHECK(send6(b, "::1", 5000, "loop", 4) == 4);
	ops->run(net.a.st, now_ns);
	ops->run(net.a.st, now_ns);
	CHECK(recv_from(a, buf, sizeof(buf), &from, &fl) == 4);
	CHECK(sa6_is(&from, "::1", 5001));
	/* to our own global address: looped too */
	CHECK(send6(a, "::1", 5001, "x", 1) == 1);
	CHECK(send6(b, ME, 5001, "self", 4) == 4);
	ops->run(net.a.st, now_ns);
	ops->run(net.a.st, now_ns);
	CHECK(recv_from(b, buf, sizeof(buf), NULL, NULL) == 1);
	fl = sizeof(from);
	CHECK(recv_from(b, buf, sizeof(buf), &from, &fl) == 4);
	CHECK(sa6_is(&from, ME, 5001));
	CHECK(stats(&net.a).tx_frames == tx); /* nothing on the wire */
	ops->close(a);
	ops->close(b);
	net_down(&net);
}

static void test_icmp6_rate(void)
{
	struct net net;
	struct cove_frame *f;
	unsigned i, n = 0;

	net_up(&net, true, COVE_STACK_F_NO_DAD | COVE_STACK_F_NO_GARP);
	learn_peer6(&net);
	for (i = 0; i < 200; i++)
		udp6_in(&net, ME, 5999, "closed");
	while ((f = next6(&net, 1)) != NULL) {
		n++;
		cove_frame_free(f);
	}
	CHECK(n == 50); /* the burst, then nothing until tokens come back */
	now_ns += 10000000ull; /* 10 ms: 10 tokens */
	for (i = 0; i < 20; i++)
		udp6_in(&net, ME, 5999, "closed");
	n = 0;
	while ((f = next6(&net, 1)) != NULL) {
		n++;
		cove_frame_free(f);
	}
	CHECK(n == 10);
	CHECK(stats(&net.a).udp_no_port == 220);
	net_down(&net);
}

static void test_no_ipv6(void)
{
	struct net net;
	struct cove_frame *f;
	struct cove_sock *s;
	unsigned v6 = 0;

	net_up(&net, true,
	       COVE_STACK_F_NO_IPV6 | COVE_STACK_F_NO_GARP |
		       COVE_STACK_F_NO_DAD);
	advance(&net, 3000);
	while (wire_rx(&net, &f, 1) == 1) {
		v6 += get16(f->data + 12) == 0x86dd;
		cove_frame_free(f);
	}
	CHECK(v6 == 0); /* no DAD, RS or MLD */
	ping(&net, 58, NULL, 0, 8, 1);
	CHECK(next6(&net, 129) == NULL && next6(&net, 135) == NULL);
	/* AF_INET6 sockets still reach IPv4 peers */
	s = sock(&net.a, AF_INET6, "::", 5000);
	CHECK(send6(s, PEER, 9, "x", 1) == -ENETUNREACH);
	CHECK(send6(s, "::ffff:10.0.0.2", 9, "x", 1) == 1);
	ops->close(s);
	net_down(&net);
}

int main(void)
{
	ops = cove_stack_find("builtin");
	REQUIRE(ops != NULL);
	RUN(test_ping6_nd);
	RUN(test_ext_headers);
	RUN(test_bad_headers);
	RUN(test_fragments6);
	RUN(test_pmtu);
	RUN(test_dad);
	RUN(test_udp6_pair);
	RUN(test_udp6_big_first);
	RUN(test_udp6_bind_rules);
	RUN(test_udp6_multicast);
	RUN(test_udp6_wire);
	RUN(test_ra_slaac);
	RUN(test_nud);
	RUN(test_mld);
	RUN(test_loopback6);
	RUN(test_icmp6_rate);
	RUN(test_no_ipv6);
	return check_summary();
}
