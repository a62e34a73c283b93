// SPDX-License-Identifier: Apache-2.0
/* packet link over a real veth pair, inside a private network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cove/link.h"
#include "tests/unit/check.h"

/*
 * The test unshares into a new network namespace and makes the veth pair
 * cvl-a <-> cvl-b there (with ip(8)), so everything it creates disappears
 * with the process on any exit path. packet:cvl-a and packet:cvl-b then
 * exchange test frames (a local experimental EtherType, so stray kernel
 * traffic is told apart) in bursts that span many ring blocks.
 */

#define TEST_ETHERTYPE 0x88b5
#define NBIG	       3000u /* ~2.3 MB: dozens of 64 KiB rx blocks */
#define RX_V2_SLOTS    2048u /* packet.c: 64 blocks of 32 2 KiB slots */

static struct cove_frame_pool pool;

static void fill(uint8_t *p, uint32_t len, uint32_t seq, const uint8_t *dst,
		 const uint8_t *src)
{
	uint32_t i;

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = TEST_ETHERTYPE >> 8;
	p[13] = TEST_ETHERTYPE & 0xff;
	memcpy(p + 14, &seq, 4);
	for (i = 18; i < len; i++)
		p[i] = (uint8_t)(seq * 5 + i);
}

static int is_test(const struct cove_frame *f)
{
	return f->len >= 18 && f->data[12] == TEST_ETHERTYPE >> 8 &&
	       f->data[13] == (TEST_ETHERTYPE & 0xff);
}

static int check_frame(const struct cove_frame *f, uint32_t seq, uint32_t len)
{
	uint32_t s, i;

	if (f->len != len)
		return 0;
	memcpy(&s, f->data + 14, 4);
	if (s != seq)
		return 0;
	for (i = 18; i < len; i++)
		if (f->data[i] != (uint8_t)(seq * 5 + i))
			return 0;
	return 1;
}

static uint32_t size_of(uint32_t seq)
{
	return 60 + (seq * 131) % (1514 - 60 + 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t r = write(fd, text, strlen(text));

		(void)r;
		close(fd);
	}
}

struct sink {
	uint32_t got, bad, other;
	uint32_t next; /* expected next seq */
};

/* drain() - receive from @l in bursts of @n, checking test frames in order. */
static unsigned drain(struct cove_link *l, struct sink *s, unsigned n)
{
	struct cove_frame *f[64];
	unsigned k, i, total = 0;

	while ((k = cove_link_rx_burst(l, f, n)) > 0) {
		for (i = 0; i < k; i++) {
			if (!is_test(f[i])) {
				s->other++;
			} else {
				if (!check_frame(f[i], s->next,
						 size_of(s->next)))
					s->bad++;
				s->next++;
				s->got++;
			}
			cove_frame_free(f[i]);
		}
		total += k;
	}
	return total;
}

/* wait_for() - drain until @want test frames arrived or 5 s of silence. */
static void wait_for(struct cove_link *l, struct sink *s, uint32_t want,
		     unsigned n)
{
	uint64_t idle_since = now_ms();

	while (s->got < want && now_ms() - idle_since < 5000) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };

		if (drain(l, s, n))
			idle_since = now_ms();
		else
			poll(&p, 1, 50);
	}
}

/* send_all() - send @count test frames a -> b, retrying when the ring is full. */
static uint32_t send_all(struct cove_link *a, const uint8_t *dst,
			 uint32_t count, struct cove_link *b, struct sink *s)
{
	struct cove_frame *f[64];
	uint32_t seq = 0, k = 0, i;
	uint64_t idle_since = now_ms();

	while (seq < count && now_ms() - idle_since < 5000) {
		unsigned done;

		while (k < 64 && seq + k < count) {
			f[k] = cove_frame_alloc(&pool);
			REQUIRE(f[k]);
			f[k]->len = size_of(seq + k);
			fill(f[k]->data, f[k]->len, seq + k, dst, a->mac);
			k++;
		}
		done = cove_link_tx_burst(a, f, k);
		if (done) {
			idle_since = now_ms();
		} else {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL); /* tx ring full: let it drain */
		}
		for (i = done; i < k; i++)
			f[i - done] = f[i];
		k -= done;
		seq += done;
		if (b)
			drain(b, s, 7);
	}
	for (i = 0; i < k; i++)
		cove_frame_free(f[i]);
	return seq;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "'%s' failed (%d)\n", cmd, rc);
	REQUIRE(rc == 0);
}

static void test_open_errors(void)
{
	struct cove_link *l = NULL;
	struct cove_err err = { 0 };

	CHECK(cove_link_open("packet:cvl-none", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "no such interface") != NULL);
	CHECK(cove_link_open("packet:", &pool, &l, &err) < 0);
	CHECK(cove_link_open("packet:1234567890123456", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "longer than") != NULL);
	CHECK(cove_link_open("packet:1234567890123456,rx=v2", &pool, &l, &err) <
	      0);
	CHECK(strstr(err.msg, "longer than") != NULL);
	CHECK(cove_link_open("packet:cvl-a,rx=v4", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "unknown option 'rx=v4'") != NULL);
	CHECK(cove_link_open("packet:,rx=v2", &pool, &l, &err) < 0);
	CHECK(cove_link_open("packet:cvl-a,offload=maybe", &pool, &l, &err) <
	      0);
	CHECK(strstr(err.msg, "unknown option 'offload=maybe'") != NULL);
	CHECK(cove_link_open("packet:cvl-a,rx=v2,offload=", &pool, &l, &err) <
	      0);
	CHECK(strstr(err.msg, "unknown option 'offload='") != NULL);
	CHECK(cove_link_open("packet:cvl-a,offload=off,rx=v9", &pool, &l,
			     &err) < 0);
	CHECK(strstr(err.msg, "unknown option 'rx=v9'") != NULL);
}

/* Offloads are on by default and offload=off turns them off. */
static void test_offload_options(void)
{
	static const struct {
		const char *spec;
		bool offload;
	} cases[] = {
		{ "packet:cvl-a", true },
		{ "packet:cvl-a,offload=on", true },
		{ "packet:cvl-a,offload=off", false },
		{ "packet:cvl-a,rx=v2,offload=off", false },
		{ "packet:cvl-a,offload=off,rx=v2", false },
		{ "packet:cvl-a,rx=v2", true },
		{ "packet:cvl-a,offload=off,offload=on", true },
	};
	const uint32_t tx = COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4;
	struct cove_err err = { 0 };
	struct cove_link *l;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		l = NULL;
		CHECK(cove_link_open(cases[i].spec, &pool, &l, &err) == 0);
		if (!l) {
			fprintf(stderr, "  %s: %s\n", cases[i].spec, err.msg);
			continue;
		}
		CHECK(!strncmp(l->name, cases[i].spec, sizeof(l->name) - 1));
		if (cases[i].offload) {
			CHECK((l->offloads & tx) == tx);
			CHECK(l->tso_max >= 65535);
		} else {
			CHECK(!(l->offloads & tx));
		}
		cove_link_close(l);
	}
	CHECK(pool.nfree == pool.count);
}

/* mac_of() - the kernel's MAC for @ifname. */
static void mac_of(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	REQUIRE(ioctl(s, SIOCGIFHWADDR, &ifr) == 0);
	close(s);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

/* veth_exchange() - the exchange suite between "packet:cvl-a@opt_a" and b. */
static void veth_exchange(const char *opt_a, const char *opt_b)
{
	struct cove_link *a = NULL, *b = NULL;
	struct cove_err err = { 0 };
	struct sink sb = { 0 }, sa = { 0 };
	char spec_a[64], spec_b[64];
	uint8_t mac[6];
	uint32_t sent, big;

	snprintf(spec_a, sizeof(spec_a), "packet:cvl-a%s", opt_a);
	snprintf(spec_b, sizeof(spec_b), "packet:cvl-b%s", opt_b);
	REQUIRE(cove_link_open(spec_a, &pool, &a, &err) == 0);
	REQUIRE(cove_link_open(spec_b, &pool, &b, &err) == 0);
	CHECK(!strcmp(a->name, spec_a));
	CHECK(a->mtu == 1500 && b->mtu == 1500);
	mac_of("cvl-a", mac);
	CHECK(!memcmp(mac, a->mac, 6));
	mac_of("cvl-b", mac);
	CHECK(!memcmp(mac, b->mac, 6));

	/* Interleaved: send bursts, drain b in bursts of 7 as we go. */
	sent = send_all(a, b->mac, 1000, b, &sb);
	CHECK(sent == 1000);
	wait_for(b, &sb, 1000, 7);
	CHECK(sb.got == 1000 && sb.bad == 0);

	/* a never sees its own transmissions (PACKET_IGNORE_OUTGOING). */
	drain(a, &sa, 64);
	CHECK(sa.got == 0);

	/*
	 * One big burst before b reads anything: with V3 it spans dozens of rx
	 * blocks; a V2 ring has RX_V2_SLOTS one-frame slots, so stay below.
	 */
	big = strstr(opt_b, "v2") ? RX_V2_SLOTS - 48 : NBIG;
	sb = (struct sink){ 0 };
	sent = send_all(a, b->mac, big, NULL, NULL);
	CHECK(sent == big);
	wait_for(b, &sb, big, 64);
	drain(b, &sb, 64);
	CHECK(sb.got == big && sb.bad == 0);
	CHECK(b->stats.rx_dropped == 0);

	/* And back, b -> a. */
	sa = (struct sink){ 0 };
	sent = send_all(b, a->mac, 500, a, &sa);
	CHECK(sent == 500);
	wait_for(a, &sa, 500, 64);
	CHECK(sa.got == 500 && sa.bad == 0);

	CHECK(a->stats.tx_frames == 1000 + big);
	CHECK(b->stats.tx_frames == 500);
	CHECK(a->stats.tx_dropped == 0 && b->stats.tx_dropped == 0);

	/* Frames the link cannot send are consumed and counted. */
	{
		struct cove_frame *f[2] = { cove_frame_alloc(&pool),
					    cove_frame_alloc(&pool) };

		REQUIRE(f[0] && f[1]);
		f[0]->len = 10;
		f[1]->len = 1536;
		CHECK(cove_link_tx_burst(a, f, 2) == 2);
		CHECK(a->stats.tx_dropped == 2);
	}
	cove_link_close(a);
	cove_link_close(b);
	CHECK(pool.nfree == pool.count);
}

static void test_veth_exchange_v3(void)
{
	veth_exchange("", "");
}

static void test_veth_exchange_v2(void)
{
	veth_exchange(",rx=v2", ",rx=v2");
}

static void test_veth_exchange_mixed(void)
{
	veth_exchange(",rx=v3", ",rx=v2");
}

/* Frames queued while the interface is down go out once it is back. */
static void test_tx_while_down(void)
{
	struct cove_link *a = NULL, *b = NULL;
	struct cove_err err = { 0 };
	struct sink sb = { 0 };
	uint64_t start;

	REQUIRE(cove_link_open("packet:cvl-a", &pool, &a, &err) == 0);
	REQUIRE(cove_link_open("packet:cvl-b", &pool, &b, &err) == 0);
	sh("ip link set cvl-a down");
	CHECK(send_all(a, b->mac, 20, NULL, NULL) == 20);
	drain(b, &sb, 64);
	CHECK(sb.got == 0);
	sh("ip link set cvl-a up");
	start = now_ms();
	while (sb.got < 20 && now_ms() - start < 5000) {
		struct pollfd p = { .fd = b->fd, .events = POLLIN };

		cove_link_tx_burst(a, NULL, 0); /* retry the failed kick */
		if (!drain(b, &sb, 64))
			poll(&p, 1, 20);
	}
	CHECK(sb.got == 20 && sb.bad == 0);
	cove_link_close(a);
	cove_link_close(b);
	CHECK(pool.nfree == pool.count);
}

/* l4_sum_ok() - the IPv4 TCP/UDP frame @p of @len has a valid L4 checksum. */
static int l4_sum_ok(const uint8_t *p, uint32_t len)
{
	const uint8_t *ip = p + 14;
	uint32_t ihl = (ip[0] & 15u) * 4, tot = (uint32_t)ip[2] << 8 | ip[3];
	uint32_t sum = 0, l4len = tot - ihl, i;

	if (len < 14 + tot)
		return 0;
	for (i = 12; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	sum += ip[9] + l4len;
	for (i = 0; i < l4len; i++)
		sum += (i & 1) ? ip[ihl + i] : (uint32_t)ip[ihl + i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Kernel-sent UDP and TCP leave checksums partial on a veth: we fill them. */
static void csum_fixup(const char *spec)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct cove_link *b = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f[64];
	char payload[1200], cmd[160];
	int udp_ok = 0, tcp_ok = 0, udp_seen = 0, tcp_seen = 0, us, ts;
	uint64_t start;

	REQUIRE(cove_link_open(spec, &pool, &b, &err) == 0);
	sh("ip addr replace 10.77.0.1/24 dev cvl-a");
	snprintf(cmd, sizeof(cmd),
		 "ip neigh replace 10.77.0.2 lladdr %02x:%02x:%02x:%02x:%02x:%02x nud permanent dev cvl-a",
		 b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4],
		 b->mac[5]);
	sh(cmd);
	inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
	memset(payload, 'x', sizeof(payload));
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE(us >= 0);
	CHECK(sendto(us, payload, sizeof(payload), 0, (struct sockaddr *)&to,
		     sizeof(to)) == (ssize_t)sizeof(payload));
	ts = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	REQUIRE(ts >= 0);
	to.sin_port = htons(80);
	CHECK(connect(ts, (struct sockaddr *)&to, sizeof(to)) < 0 &&
	      errno == EINPROGRESS);

	start = now_ms();
	while ((!udp_seen || !tcp_seen) && now_ms() - start < 5000) {
		struct pollfd p = { .fd = b->fd, .events = POLLIN };
		unsigned n = cove_link_rx_burst(b, f, 64), i;

		if (!n)
			poll(&p, 1, 50);
		for (i = 0; i < n; i++) {
			const uint8_t *d = f[i]->data;

			if (f[i]->len >= 34 && d[12] == 0x08 && d[13] == 0 &&
			    (d[23] == 17 || d[23] == 6)) {
				int ok = l4_sum_ok(d, f[i]->len);

				if (d[23] == 17) {
					udp_seen = 1;
					udp_ok = ok;
				} else if (!tcp_seen) {
					tcp_seen = 1;
					tcp_ok = ok;
				}
			}
			cove_frame_free(f[i]);
		}
	}
	CHECK(udp_seen && udp_ok);
	CHECK(tcp_seen && tcp_ok);
	close(us);
	close(ts);
	cove_link_close(b);
	CHECK(pool.nfree == pool.count);
}

/* l4_sum6_ok() - the IPv6 TCP/UDP frame @p (no extension headers) sums. */
static int l4_sum6_ok(const uint8_t *p, uint32_t len)
{
	const uint8_t *ip = p + 14;
	uint32_t plen = (uint32_t)ip[4] << 8 | ip[5], sum = 0, i;

	if (len < 14 + 40 + plen)
		return 0;
	for (i = 8; i < 40; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	sum += ip[6] + plen;
	for (i = 0; i < plen; i++)
		sum += (i & 1) ? ip[40 + i] : (uint32_t)ip[40 + i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* The same over IPv6: UDP and TCP from the kernel, partial sums filled. */
static void test_csum_fixup6(void)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6,
				   .sin6_port = htons(9) };
	struct cove_link *b = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f[64];
	char payload[1200], cmd[160];
	int udp_ok = 0, tcp_ok = 0, udp_seen = 0, tcp_seen = 0, us, ts;
	uint64_t start;

	/* IPv6 on the kernel's end only, for this case */
	write_file("/proc/sys/net/ipv6/conf/cvl-a/disable_ipv6", "0");
	REQUIRE(cove_link_open("packet:cvl-b", &pool, &b, &err) == 0);
	sh("ip -6 addr replace fd77::1/64 dev cvl-a nodad");
	snprintf(cmd, sizeof(cmd),
		 "ip -6 neigh replace fd77::2 lladdr %02x:%02x:%02x:%02x:%02x:%02x nud permanent dev cvl-a",
		 b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4],
		 b->mac[5]);
	sh(cmd);
	inet_pton(AF_INET6, "fd77::2", &to.sin6_addr);
	memset(payload, 'x', sizeof(payload));
	us = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE(us >= 0);
	CHECK(sendto(us, payload, sizeof(payload), 0, (struct sockaddr *)&to,
		     sizeof(to)) == (ssize_t)sizeof(payload));
	ts = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	REQUIRE(ts >= 0);
	to.sin6_port = htons(80);
	CHECK(connect(ts, (struct sockaddr *)&to, sizeof(to)) < 0 &&
	      errno == EINPROGRESS);
	start = now_ms();
	while ((!udp_seen || !tcp_seen) && now_ms() - start < 5000) {
		struct pollfd p = { .fd = b->fd, .events = POLLIN };
		unsigned n = cove_link_rx_burst(b, f, 64), i;

		if (!n)
			poll(&p, 1, 50);
		for (i = 0; i < n; i++) {
			const uint8_t *d = f[i]->data;

			if (f[i]->len >= 54 && d[12] == 0x86 && d[13] == 0xdd &&
			    (d[20] == 17 || d[20] == 6)) {
				int ok = l4_sum6_ok(d, f[i]->len);

				if (d[20] == 17) {
					udp_seen = 1;
					udp_ok = ok;
				} else if (!tcp_seen) {
					tcp_seen = 1;
					tcp_ok = ok;
				}
			}
			cove_frame_free(f[i]);
		}
	}
	CHECK(udp_seen && udp_ok);
	CHECK(tcp_seen && tcp_ok);
	close(us);
	close(ts);
	cove_link_close(b);
	write_file("/proc/sys/net/ipv6/conf/cvl-a/disable_ipv6", "1");
	CHECK(pool.nfree == pool.count);
}

static void test_csum_fixup_v3(void)
{
	csum_fixup("packet:cvl-b");
}

static void test_csum_fixup_v2(void)
{
	csum_fixup("packet:cvl-b,rx=v2");
}

/* ---- checksum offload towards the kernel ---- */

#define OFF_SPORT 4000
#define OFF_DPORT 4001

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/*
 * ip_frame() - an IPv4 frame @src -> @dst (MACs of the link and its peer)
 * of protocol @proto with @l4len bytes after the IP header, which the
 * caller fills; the IP header is complete.
 * Return: the L4 header.
 */
static uint8_t *ip_frame(struct cove_frame *f, const uint8_t *dmac,
			 const uint8_t *smac, const char *src, const char *dst,
			 uint8_t proto, uint32_t l4len)
{
	uint8_t *d = f->data, *ip = d + 14;

	memset(d, 0, 14 + 20 + l4len);
	memcpy(d, dmac, 6);
	memcpy(d + 6, smac, 6);
	wr16(d + 12, 0x0800);
	ip[0] = 0x45;
	wr16(ip + 2, 20 + l4len);
	wr16(ip + 4, 0x1234);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	wr16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	f->len = 14 + 20 + l4len;
	return ip + 20;
}

/* pseudo_sum() - folded, uncomplemented pseudo-header sum of frame @f. */
static uint16_t pseudo_sum(const struct cove_frame *f)
{
	const uint8_t *ip = f->data + 14;

	return fold(sum16(ip + 12, 8, 0) + ip[9] + rd16(ip + 2) - 20u);
}

/*
 * udp_partial() - a UDP datagram to OFF_DPORT carrying @text, flagged
 * COVE_FRAME_F_CSUM_PARTIAL with the pseudo-header sum (+ @skew) in its
 * checksum field. Return: the frame, from the test pool.
 */
static struct cove_frame *udp_partial(const uint8_t *dmac, const uint8_t *smac,
				      const char *src, const char *dst,
				      const char *text, uint16_t skew)
{
	struct cove_frame *f = cove_frame_alloc(&pool);
	uint32_t len = (uint32_t)strlen(text);
	uint8_t *u;

	REQUIRE(f);
	u = ip_frame(f, dmac, smac, src, dst, 17, 8 + len);
	wr16(u, OFF_SPORT);
	wr16(u + 2, OFF_DPORT);
	wr16(u + 4, 8 + len);
	memcpy(u + 8, text, len);
	wr16(u + 6, (uint16_t)(pseudo_sum(f) + skew));
	f->flags = COVE_FRAME_F_CSUM_PARTIAL;
	return f;
}

/* saw_port() - drain @l; true if a UDP frame to OFF_DPORT was among them. */
static bool saw_port(struct cove_link *l, unsigned wait_ms)
{
	uint64_t start = now_ms();
	struct cove_frame *f[64];
	bool seen = false;
	unsigned n, i;

	do {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };

		n = cove_link_rx_burst(l, f, 64);
		if (!n)
			poll(&p, 1, 20);
		for (i = 0; i < n; i++) {
			const uint8_t *d = f[i]->data;

			if (f[i]->len >= 42 && rd16(d + 12) == 0x0800 &&
			    d[23] == 17 && rd16(d + 36) == OFF_DPORT)
				seen = true;
			cove_frame_free(f[i]);
		}
	} while (now_ms() - start < wait_ms);
	return seen;
}

/*
 * Offload flags on a link without offloads: dropped and counted, never
 * sent with the pseudo sum where the checksum belongs. On a link with
 * offloads, flags that do not fit the frame are refused the same way.
 */
static void test_offload_off_drops(void)
{
	struct cove_link *a = NULL, *b = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f[3];
	uint8_t *t;

	REQUIRE(cove_link_open("packet:cvl-a,offload=off", &pool, &a, &err) ==
		0);
	REQUIRE(cove_link_open("packet:cvl-b", &pool, &b, &err) == 0);
	f[0] = udp_partial(b->mac, a->mac, "10.79.0.1", "10.79.0.2", "partial",
			   0);
	f[1] = cove_frame_alloc(&pool);
	REQUIRE(f[1]);
	t = ip_frame(f[1], b->mac, a->mac, "10.79.0.1", "10.79.0.2", 6,
		     20 + 1000);
	t[12] = 5 << 4;
	f[1]->flags = COVE_FRAME_F_TSO | COVE_FRAME_F_CSUM_PARTIAL;
	f[1]->gso_size = 500;
	f[2] = udp_partial(b->mac, a->mac, "10.79.0.1", "10.79.0.2", "plain",
			   0);
	f[2]->flags = 0; /* wrong checksum, but nothing asked of us */
	CHECK(cove_link_tx_burst(a, f, 3) == 3);
	CHECK(a->stats.tx_dropped == 2);
	CHECK(a->stats.tx_frames == 1);
	CHECK(saw_port(b, 300)); /* the plain one, and only it */

	cove_link_close(a);
	REQUIRE(cove_link_open("packet:cvl-a", &pool, &a, &err) == 0);
	f[0] = udp_partial(b->mac, a->mac, "10.79.0.1", "10.79.0.2", "tso?", 0);
	f[0]->flags |= COVE_FRAME_F_TSO; /* TSO on UDP */
	f[0]->gso_size = 2;
	f[1] = udp_partial(b->mac, a->mac, "10.79.0.1", "10.79.0.2", "runt", 0);
	f[1]->len = 14 + 10; /* IP header cut short */
	CHECK(cove_link_tx_burst(a, f, 2) == 2);
	CHECK(a->stats.tx_dropped == 2 && a->stats.tx_frames == 0);
	CHECK(!saw_port(b, 300));
	cove_link_close(a);
	cove_link_close(b);
	CHECK(pool.nfree == pool.count);
}

/* snmp_udp() - a counter of the Udp: lines of /proc/net/snmp (this netns). */
static uint64_t snmp_udp(const char *name)
{
	char line[2][1024], *save[2], *k, *v;
	FILE *fp = fopen("/proc/net/snmp", "re");
	uint64_t val = UINT64_MAX;

	REQUIRE(fp);
	while (fgets(line[0], sizeof(line[0]), fp)) {
		if (strncmp(line[0], "Udp: ", 5) ||
		    !fgets(line[1], sizeof(line[1]), fp))
			continue;
		k = strtok_r(line[0], " \n", &save[0]);
		v = strtok_r(line[1], " \n", &save[1]);
		while (k && v) {
			if (!strcmp(k, name))
				val = strtoull(v, NULL, 10);
			k = strtok_r(NULL, " \n", &save[0]);
			v = strtok_r(NULL, " \n", &save[1]);
		}
		break;
	}
	fclose(fp);
	REQUIRE(val != UINT64_MAX);
	return val;
}

/* recv_text() - wait up to @ms for a datagram on @fd; true if it is @text. */
static bool recv_text(int fd, const char *text, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return false;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	return n == (ssize_t)strlen(text) && !memcmp(buf, text, (size_t)n);
}

/*
 * A checksum-partial datagram through the kernel: cvl-a has no tx
 * checksumming, so the kernel completes the checksum in software from the
 * virtio_net_hdr, and cvl-b has no rx checksumming, so the receiving
 * kernel checks it. The right pseudo sum gets the datagram to a UDP
 * socket; a wrong one makes a bad checksum that the kernel counts.
 */
static void test_partial_to_kernel(void)
{
	struct sockaddr_in at = { .sin_family = AF_INET,
				  .sin_port = htons(OFF_DPORT) };
	struct cove_link *a = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f;
	uint8_t bmac[6];
	uint64_t csum_err, in;
	int us;

	if (system("command -v ethtool >/dev/null 2>&1")) {
		fprintf(stderr, "  skipped: no ethtool (scripts/deps.sh)\n");
		return;
	}
	sh("ethtool -K cvl-a tx off >/dev/null && "
	   "ethtool -K cvl-b rx off >/dev/null && "
	   "ip addr replace 10.78.0.2/24 dev cvl-b");
	mac_of("cvl-b", bmac);
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE(us >= 0);
	inet_pton(AF_INET, "10.78.0.2", &at.sin_addr);
	REQUIRE(bind(us, (struct sockaddr *)&at, sizeof(at)) == 0);
	REQUIRE(cove_link_open("packet:cvl-a", &pool, &a, &err) == 0);
	REQUIRE(a->offloads & COVE_LINK_OFF_TX_CSUM);

	csum_err = snmp_udp("InCsumErrors");
	in = snmp_udp("InDatagrams");
	f = udp_partial(bmac, a->mac, "10.78.0.1", "10.78.0.2", "pseudo ok", 0);
	CHECK(cove_link_tx_burst(a, &f, 1) == 1);
	CHECK(recv_text(us, "pseudo ok", 2000));
	CHECK(snmp_udp("InDatagrams") == in + 1);
	CHECK(snmp_udp("InCsumErrors") == csum_err);

	f = udp_partial(bmac, a->mac, "10.78.0.1", "10.78.0.2", "pseudo bad",
			1);
	CHECK(cove_link_tx_burst(a, &f, 1) == 1);
	CHECK(!recv_text(us, "pseudo bad", 500));
	CHECK(snmp_udp("InCsumErrors") == csum_err + 1);
	CHECK(snmp_udp("InDatagrams") == in + 1);
	CHECK(a->stats.tx_frames == 2 && a->stats.tx_dropped == 0);

	close(us);
	cove_link_close(a);
	sh("ethtool -K cvl-a tx on >/dev/null && "
	   "ethtool -K cvl-b rx on >/dev/null && "
	   "ip addr del 10.78.0.2/24 dev cvl-b");
	CHECK(pool.nfree == pool.count);
}

int main(void)
{
	REQUIRE(geteuid() == 0);
	REQUIRE(unshare(CLONE_NEWNET) == 0);
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	sh("ip link set lo up && "
	   "ip link add cvl-a type veth peer name cvl-b && "
	   "ip link set cvl-a up && ip link set cvl-b up");
	REQUIRE(cove_frame_pool_init(&pool, 1024, COVE_FRAME_DEFAULT_SIZE) ==
		0);
	RUN(test_open_errors);
	RUN(test_offload_options);
	RUN(test_veth_exchange_v3);
	RUN(test_veth_exchange_v2);
	RUN(test_veth_exchange_mixed);
	RUN(test_tx_while_down);
	RUN(test_csum_fixup_v3);
	RUN(test_csum_fixup_v2);
	RUN(test_csum_fixup6);
	RUN(test_offload_off_drops);
	RUN(test_partial_to_kernel);
	CHECK(cove_frame_pool_fini(&pool) == 0);
	return check_summary();
}
