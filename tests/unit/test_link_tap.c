// SPDX-License-Identifier: Apache-2.0
/* tap link against the real kernel, inside a private network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cove/link.h"
#include "tests/unit/check.h"

/*
 * The test unshares into a new network namespace first, so the TAP device
 * it creates lives and dies with this process: nothing to clean up on any
 * exit path. The kernel side is an AF_PACKET socket on the tap interface
 * that only sees our test EtherType, so stray kernel traffic cannot
 * confuse the counts.
 */

#define IFN		"cvl-tap0"
#define TEST_ETHERTYPE	0x88b5		/* IEEE local experimental */
#define NFR		416u		/* 13 bursts of 32 */

static struct cove_frame_pool pool;

/* fill() - test frame @seq of @len bytes from @src to @dst. */
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
		p[i] = (uint8_t)(seq * 3 + i);
}

/* check_frame() - @p (@len bytes) is fill()'s frame @seq; returns seq ok. */
static int check_frame(const uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t s, i;

	if (len < 18 || p[12] != TEST_ETHERTYPE >> 8)
		return 0;
	memcpy(&s, p + 14, 4);
	if (s != seq)
		return 0;
	for (i = 18; i < len; i++)
		if (p[i] != (uint8_t)(seq * 3 + i))
			return 0;
	return 1;
}

static uint32_t size_of(uint32_t seq)
{
	return 60 + (seq * 97) % (1514 - 60 + 1);	/* 60..1514, both hit */
}

static int set_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
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

/* kernel_sock() - AF_PACKET socket on @ifname for the test EtherType. */
static int kernel_sock(const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(TEST_ETHERTYPE),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(TEST_ETHERTYPE));
	int big = 8 << 20;

	REQUIRE(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	REQUIRE(bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	return fd;
}

static void test_open_errors(void)
{
	struct cove_link *l = NULL;
	struct cove_err err = { 0 };

	CHECK(cove_link_open("tap:", &pool, &l, &err) < 0);
	CHECK(cove_link_open("tap:abcdefghijklmnopq", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "longer than") != NULL);
	CHECK(cove_link_open("tap:a/b", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "invalid character") != NULL);
	CHECK(cove_link_open("tap:lo", &pool, &l, &err) < 0);	/* not a tap */
	CHECK(strstr(err.msg, "tap:lo") != NULL);
}

static void test_tap_exchange(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct cove_link *l = NULL, *l2 = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f[64];
	uint8_t kmac[6], buf[2048];
	struct ifreq ifr = { 0 };
	uint32_t seq, got, i, bad = 0;
	int ks, s;

	REQUIRE(cove_link_open("tap:" IFN, &pool, &l, &err) == 0);
	CHECK(!strcmp(l->name, "tap:" IFN));
	CHECK(l->mtu == 1500);
	CHECK(l->fd >= 0);
	CHECK((l->mac[0] & 0x03) == 0x02);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), IFN);
	REQUIRE(ioctl(s, SIOCGIFHWADDR, &ifr) == 0);
	close(s);
	memcpy(kmac, ifr.ifr_hwaddr.sa_data, 6);
	CHECK(memcmp(kmac, l->mac, 6) != 0);

	/* A second attach to a tap in use fails with a clear message. */
	CHECK(cove_link_open("tap:" IFN, &pool, &l2, &err) < 0);
	CHECK(strstr(err.msg, "tap:" IFN) != NULL);

	/* Down: frames are refused by the kernel, consumed, counted. */
	f[0] = cove_frame_alloc(&pool);
	fill(f[0]->data, 60, 0, bcast, l->mac);
	f[0]->len = 60;
	CHECK(cove_link_tx_burst(l, f, 1) == 1);
	CHECK(l->stats.tx_dropped == 1);

	REQUIRE(set_up(IFN) == 0);
	ks = kernel_sock(IFN);

	/* link -> kernel: bursts of 32, sizes 60..1514. */
	for (seq = 0; seq < NFR; seq += 32) {
		for (i = 0; i < 32; i++) {
			f[i] = cove_frame_alloc(&pool);
			REQUIRE(f[i]);
			f[i]->len = size_of(seq + i);
			fill(f[i]->data, f[i]->len, seq + i, kmac, l->mac);
		}
		CHECK(cove_link_tx_burst(l, f, 32) == 32);
	}
	CHECK(pool.nfree == pool.count);
	for (got = 0; got < NFR; got++) {
		struct pollfd p = { .fd = ks, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 2000) != 1)
			break;
		r = recv(ks, buf, sizeof(buf), 0);
		if (r != (ssize_t)size_of(got) || !check_frame(buf, (uint32_t)r, got))
			bad++;
	}
	CHECK(got == NFR && bad == 0);
	CHECK(l->stats.tx_frames == NFR);

	/* kernel -> link. */
	for (seq = 0; seq < NFR; seq++) {
		uint32_t len = size_of(seq);

		fill(buf, len, seq, l->mac, kmac);
		CHECK(send(ks, buf, len, 0) == (ssize_t)len);
	}
	got = 0;
	bad = 0;
	while (got < NFR) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		unsigned n = cove_link_rx_burst(l, f, 64);

		if (!n) {
			if (poll(&p, 1, 2000) != 1)
				break;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (f[i]->data[12] == TEST_ETHERTYPE >> 8 &&
			    f[i]->data[13] == (TEST_ETHERTYPE & 0xff)) {
				if (f[i]->len != size_of(got) ||
				    !check_frame(f[i]->data, f[i]->len, got))
					bad++;
				got++;
			}
			cove_frame_free(f[i]);
		}
	}
	CHECK(got == NFR && bad == 0);
	CHECK(l->stats.rx_frames >= NFR);
	close(ks);
	cove_link_close(l);
	CHECK(pool.nfree == pool.count);
}

/* An existing persistent TAP is attached to, not replaced, and survives. */
static void test_tap_persistent(void)
{
	struct cove_link *l = NULL;
	struct cove_err err = { 0 };

	REQUIRE(system("ip tuntap add cvl-tap1 mode tap") == 0);
	CHECK(cove_link_open("tap:cvl-tap1", &pool, &l, &err) == 0);
	if (l) {
		CHECK(l->mtu == 1500 && l->fd >= 0);
		cove_link_close(l);
	}
	CHECK(if_nametoindex("cvl-tap1") != 0);
	/* A non-persistent tap disappears with its link. */
	CHECK(if_nametoindex(IFN) == 0);
}

int main(void)
{
	REQUIRE(geteuid() == 0);
	REQUIRE(unshare(CLONE_NEWNET) == 0);
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	REQUIRE(cove_frame_pool_init(&pool, 512, COVE_FRAME_DEFAULT_SIZE) == 0);
	REQUIRE(set_up("lo") == 0);
	RUN(test_open_errors);
	RUN(test_tap_exchange);
	RUN(test_tap_persistent);
	CHECK(cove_frame_pool_fini(&pool) == 0);
	return check_summary();
}
