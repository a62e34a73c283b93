// SPDX-License-Identifier: Apache-2.0
/* tap link against the real kernel, inside a private network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cove/link.h"
#include "tests/unit/check.h"

/*
 * The test unshares into a new network namespace first, so the TAP device
 * it creates lives and dies with this process: nothing to clean up on any
 * exit path. The kernel side is an AF_PACKET socket on the tap interface
 * that only sees our test EtherType, so stray kernel traffic cannot
 * confuse the counts.
 *
 * The offload cases add a second namespace (a child process that only
 * holds it) behind a veth pair: frames the link writes to the TAP are
 * routed by this namespace's kernel out of cvl-x, which has checksum and
 * segmentation offloads off, so the kernel completes our partial
 * checksums and cuts our super-frames in software; cvl-y in the other
 * namespace has rx checksumming off, so its kernel verifies every segment
 * (it would trust a partial checksum delivered locally).
 */

#define IFN	       "cvl-tap0"
#define TEST_ETHERTYPE 0x88b5 /* IEEE local experimental */
#define NFR	       416u   /* 13 bursts of 32 */

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
	return 60 + (seq * 97) % (1514 - 60 + 1); /* 60..1514, both hit */
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
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
			htons(TEST_ETHERTYPE));
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
	CHECK(cove_link_open("tap:lo", &pool, &l, &err) < 0); /* not a tap */
	CHECK(strstr(err.msg, "tap:lo") != NULL);
	CHECK(cove_link_open("tap:lo,offload=off", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "tap:lo,offload=off") != NULL);
	CHECK(cove_link_open("tap:,offload=off", &pool, &l, &err) < 0);
	CHECK(cove_link_open("tap:abcdefghijklmnopq,offload=off", &pool, &l,
			     &err) < 0);
	CHECK(strstr(err.msg, "longer than") != NULL);
	CHECK(cove_link_open("tap:" IFN ",offload=maybe", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "unknown option 'offload=maybe'") != NULL);
	CHECK(strstr(err.msg, "(known: offload=on, offload=off)") != NULL);
	CHECK(cove_link_open("tap:" IFN ",offload=off,rx=v2", &pool, &l, &err) <
	      0);
	CHECK(strstr(err.msg, "unknown option 'rx=v2'") != NULL);
	CHECK(cove_link_open("tap:" IFN ",", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "unknown option ''") != NULL);
	CHECK(if_nametoindex(IFN) == 0); /* nothing was created */
}

/* tun_flags() - IFF_* flags of the TAP behind link @l (TUNGETIFF), or -1. */
static long tun_flags(const struct cove_link *l)
{
	struct ifreq ifr = { 0 };

	if (ioctl(l->fd, TUNGETIFF, &ifr) < 0)
		return -1;
	return (unsigned short)ifr.ifr_flags;
}

/* Offloads are on by default; offload=off turns them and the header off. */
static void test_offload_options(void)
{
	static const struct {
		const char *spec;
		bool offload;
	} cases[] = {
		{ "tap:" IFN, true },
		{ "tap:" IFN ",offload=on", true },
		{ "tap:" IFN ",offload=off", false },
		{ "tap:" IFN ",offload=on,offload=off", false },
		{ "tap:" IFN ",offload=off,offload=on", true },
	};
	const uint32_t tx = COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4;
	struct cove_err err = { 0 };
	struct cove_link *l;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long fl;

		l = NULL;
		CHECK(cove_link_open(cases[i].spec, &pool, &l, &err) == 0);
		if (!l) {
			fprintf(stderr, "  %s: %s\n", cases[i].spec, err.msg);
			continue;
		}
		CHECK(!strncmp(l->name, cases[i].spec, sizeof(l->name) - 1));
		CHECK(l->mtu == 1500);
		fl = tun_flags(l);
		CHECK(fl >= 0);
		if (cases[i].offload) {
			CHECK((l->offloads & tx) == tx);
			CHECK(l->tso_max == 65535 + 14);
			CHECK(fl & IFF_VNET_HDR);
		} else {
			CHECK(!(l->offloads & tx));
			CHECK(!(fl & IFF_VNET_HDR));
		}
		CHECK(!(l->offloads & COVE_LINK_OFF_RX_CSUM));
		cove_link_close(l);
	}
	/* The MAC does not depend on the options. */
	{
		struct cove_link *a = NULL, *b = NULL;
		uint8_t mac[6];

		REQUIRE(cove_link_open("tap:" IFN, &pool, &a, &err) == 0);
		memcpy(mac, a->mac, 6);
		cove_link_close(a);
		REQUIRE(cove_link_open("tap:" IFN ",offload=off", &pool, &b,
				       &err) == 0);
		CHECK(!memcmp(mac, b->mac, 6));
		cove_link_close(b);
	}
	CHECK(pool.nfree == pool.count);
}

/* tap_exchange() - frames both ways between link @spec and the kernel. */
static void tap_exchange(const char *spec)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct cove_link *l = NULL, *l2 = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f[64];
	uint8_t kmac[6], buf[2048];
	struct ifreq ifr = { 0 };
	uint32_t seq, got, i, bad = 0;
	int ks, s;

	REQUIRE(cove_link_open(spec, &pool, &l, &err) == 0);
	CHECK(!strcmp(l->name, spec));
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
		if (r != (ssize_t)size_of(got) ||
		    !check_frame(buf, (uint32_t)r, got))
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

	/* Frames the link cannot send are consumed and counted. */
	f[0] = cove_frame_alloc(&pool);
	f[1] = cove_frame_alloc(&pool);
	REQUIRE(f[0] && f[1]);
	fill(f[0]->data, 60, 0, kmac, l->mac);
	f[0]->len = 10;
	fill(f[1]->data, 1536, 1, kmac, l->mac);
	f[1]->len = 1536; /* > MTU + 18 */
	CHECK(cove_link_tx_burst(l, f, 2) == 2);
	CHECK(l->stats.tx_dropped == 3 && l->stats.tx_frames == NFR);
	close(ks);
	cove_link_close(l);
	CHECK(pool.nfree == pool.count);
}

static void test_tap_exchange(void)
{
	tap_exchange("tap:" IFN);
}

static void test_tap_exchange_no_offload(void)
{
	tap_exchange("tap:" IFN ",offload=off");
}

/* A frame too big for the pool buffer is dropped and counted, not cut. */
static void test_rx_too_big(void)
{
	struct cove_frame_pool small;
	struct cove_link *l = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f[8];
	uint8_t kmac[6], buf[1514];
	struct ifreq ifr = { 0 };
	unsigned n, got = 0, i;
	int ks, s, tries;

	REQUIRE(cove_frame_pool_init(&small, 8, 256) == 0);
	REQUIRE(cove_link_open("tap:" IFN, &small, &l, &err) == 0);
	REQUIRE(set_up(IFN) == 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), IFN);
	REQUIRE(ioctl(s, SIOCGIFHWADDR, &ifr) == 0);
	close(s);
	memcpy(kmac, ifr.ifr_hwaddr.sa_data, 6);
	ks = kernel_sock(IFN);
	fill(buf, 1000, 7, l->mac, kmac);
	CHECK(send(ks, buf, 1000, 0) == 1000);
	fill(buf, 256, 8, l->mac, kmac);
	CHECK(send(ks, buf, 256, 0) == 256);
	for (tries = 0; tries < 100 && got < 1; tries++) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };

		n = cove_link_rx_burst(l, f, 8);
		for (i = 0; i < n; i++) {
			if (f[i]->data[12] == TEST_ETHERTYPE >> 8 &&
			    f[i]->data[13] == (TEST_ETHERTYPE & 0xff)) {
				CHECK(f[i]->len == 256 &&
				      check_frame(f[i]->data, 256, 8));
				got++;
			}
			cove_frame_free(f[i]);
		}
		if (!n)
			poll(&p, 1, 20);
	}
	CHECK(got == 1);
	CHECK(l->stats.rx_dropped == 1);
	close(ks);
	cove_link_close(l);
	CHECK(cove_frame_pool_fini(&small) == 0);
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

/* ---- offloads through the kernel: a routed path to a second namespace ---- */

#define FWD_TAP_KERNEL "10.80.0.1" /* this namespace, on the TAP */
#define FWD_STACK      "10.80.0.2" /* "our" address, behind the link */
#define FWD_PEER       "10.81.0.2" /* cvl-y, in the peer namespace */
#define UDP_DPORT      4001
#define TCP_SPORT      40000
#define TCP_DPORT      5001
#define TSO_SEGS       20u
#define TSO_MSS	       1000u

static pid_t peer_pid;	 /* holds the peer namespace */
static int home_ns = -1; /* this process's own namespace */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "'%s' failed (%d)\n", cmd, rc);
	REQUIRE(rc == 0);
}

/* peer_enter() / peer_leave() - move this thread into / out of the peer ns. */
static void peer_enter(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)peer_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0 && setns(fd, CLONE_NEWNET) == 0);
	close(fd);
}

static void peer_leave(void)
{
	REQUIRE(setns(home_ns, CLONE_NEWNET) == 0);
}

/* peer_sh() - run @cmd inside the peer namespace. */
static void peer_sh(const char *cmd)
{
	peer_enter();
	sh(cmd);
	peer_leave();
}

/*
 * fwd_setup() - (once) the peer namespace, the veth pair and the routes:
 * TAP (10.80.0.0/24) -> this kernel -> cvl-x, offloads off -> cvl-y,
 * rx checksumming off, 10.81.0.2 in the peer namespace.
 * Return: false (and a note) when ethtool is missing.
 */
static bool fwd_setup(void)
{
	char cmd[160];
	int pfd[2];
	char c;

	if (peer_pid)
		return true;
	if (system("command -v ethtool >/dev/null 2>&1")) {
		fprintf(stderr, "  skipped: no ethtool (scripts/deps.sh)\n");
		return false;
	}
	REQUIRE(pipe(pfd) == 0);
	peer_pid = fork();
	REQUIRE(peer_pid >= 0);
	if (!peer_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) || write(pfd[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	REQUIRE(read(pfd[0], &c, 1) == 1);
	close(pfd[0]);
	snprintf(cmd, sizeof(cmd),
		 "ip link add cvl-x type veth peer name cvl-y netns %d",
		 (int)peer_pid);
	sh(cmd);
	sh("ip link set cvl-x up && ip addr add 10.81.0.1/24 dev cvl-x && "
	   "ethtool -K cvl-x tx off tso off gso off >/dev/null");
	write_file("/proc/sys/net/ipv4/ip_forward", "1");
	peer_sh("ip link set lo up && ip link set cvl-y up && "
		"ip addr add " FWD_PEER "/24 dev cvl-y && "
		"ip route add 10.80.0.0/24 via 10.81.0.1 && "
		"ethtool -K cvl-y rx off >/dev/null");
	return true;
}

/* fwd_link() - open @spec on the TAP and give its kernel side the route. */
static struct cove_link *fwd_link(const char *spec, uint8_t kmac[6])
{
	struct cove_err err = { 0 };
	struct cove_link *l = NULL;
	struct ifreq ifr = { 0 };
	char cmd[160];
	int s;

	REQUIRE(cove_link_open(spec, &pool, &l, &err) == 0);
	snprintf(cmd, sizeof(cmd),
		 "ip link set " IFN " up && "
		 "ip addr add " FWD_TAP_KERNEL "/24 dev " IFN " && "
		 "ip neigh replace " FWD_STACK " lladdr "
		 "%02x:%02x:%02x:%02x:%02x:%02x nud permanent dev " IFN,
		 l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4],
		 l->mac[5]);
	sh(cmd);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), IFN);
	REQUIRE(ioctl(s, SIOCGIFHWADDR, &ifr) == 0);
	close(s);
	memcpy(kmac, ifr.ifr_hwaddr.sa_data, 6);
	return l;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
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
 * ip_frame() - an IPv4 frame of protocol @proto, @l4len bytes after the IP
 * header (zeroed, for the caller), from FWD_STACK to FWD_PEER via the
 * TAP's kernel MAC @kmac; the IP header is complete. Return: the L4 header.
 */
static uint8_t *ip_frame(struct cove_frame *f, const uint8_t *kmac,
			 const uint8_t *smac, uint8_t proto, uint32_t l4len)
{
	uint8_t *d = f->data, *ip = d + 14;

	REQUIRE(14 + 20 + l4len <= f->cap);
	memset(d, 0, 14 + 20 + l4len);
	memcpy(d, kmac, 6);
	memcpy(d + 6, smac, 6);
	wr16(d + 12, 0x0800);
	ip[0] = 0x45;
	wr16(ip + 2, 20 + l4len);
	wr16(ip + 4, 0x1234);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, FWD_STACK, ip + 12);
	inet_pton(AF_INET, FWD_PEER, ip + 16);
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

/* l4_sum_ok() - the IPv4 TCP/UDP frame @p of @len has a valid L4 checksum. */
static bool l4_sum_ok(const uint8_t *p, uint32_t len)
{
	const uint8_t *ip = p + 14;
	uint32_t ihl = (ip[0] & 15u) * 4, tot = rd16(ip + 2);

	if (len < 14 + tot || tot < ihl)
		return false;
	return fold(sum16(ip + ihl, tot - ihl,
			  sum16(ip + 12, 8, 0) + ip[9] + tot - ihl)) == 0xffff;
}

/* peer_snmp() - counter @name of section @sect ("Udp", "Tcp") in the peer. */
static uint64_t peer_snmp(const char *sect, const char *name)
{
	char path[64], line[2][1024], *save[2], *k, *v;
	size_t sl = strlen(sect);
	uint64_t val = UINT64_MAX;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/net/snmp", (int)peer_pid);
	fp = fopen(path, "re");
	REQUIRE(fp);
	while (fgets(line[0], sizeof(line[0]), fp)) {
		if (strncmp(line[0], sect, sl) || line[0][sl] != ':' ||
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

/* peer_socket() - a socket of @type in the peer namespace bound to @port. */
static int peer_socket(int type, uint16_t port)
{
	struct sockaddr_in at = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd, one = 1;

	peer_enter();
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	peer_leave();
	REQUIRE(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, FWD_PEER, &at.sin_addr);
	REQUIRE(bind(fd, (struct sockaddr *)&at, sizeof(at)) == 0);
	return fd;
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

/* udp_partial() - UDP @text to the peer, CSUM_PARTIAL, pseudo sum + @skew. */
static struct cove_frame *udp_partial(const uint8_t *kmac, const uint8_t *smac,
				      const char *text, uint16_t skew)
{
	struct cove_frame *f = cove_frame_alloc(&pool);
	uint32_t len = (uint32_t)strlen(text);
	uint8_t *u;

	REQUIRE(f);
	u = ip_frame(f, kmac, smac, 17, 8 + len);
	wr16(u, 4000);
	wr16(u + 2, UDP_DPORT);
	wr16(u + 4, 8 + len);
	memcpy(u + 8, text, len);
	wr16(u + 6, (uint16_t)(pseudo_sum(f) + skew));
	f->flags = COVE_FRAME_F_CSUM_PARTIAL;
	return f;
}

/*
 * A checksum-partial datagram, routed out of cvl-x (no tx checksumming:
 * the kernel completes it from the virtio_net_hdr) to cvl-y (no rx
 * checksumming: the peer's kernel checks it). The right pseudo sum gets
 * to the UDP socket; a wrong one is a checksum error the peer counts.
 * Flags the link cannot honour are dropped and counted, never sent.
 */
static void test_partial_to_kernel(void)
{
	struct cove_frame *f[2];
	struct cove_link *l;
	uint64_t csum_err, in;
	uint8_t kmac[6], *t;
	int us;

	if (!fwd_setup())
		return;
	us = peer_socket(SOCK_DGRAM, UDP_DPORT);
	l = fwd_link("tap:" IFN, kmac);
	REQUIRE(l->offloads & COVE_LINK_OFF_TX_CSUM);
	csum_err = peer_snmp("Udp", "InCsumErrors");
	in = peer_snmp("Udp", "InDatagrams");
	f[0] = udp_partial(kmac, l->mac, "pseudo ok", 0);
	CHECK(cove_link_tx_burst(l, f, 1) == 1);
	CHECK(recv_text(us, "pseudo ok", 2000));
	CHECK(peer_snmp("Udp", "InDatagrams") == in + 1);
	CHECK(peer_snmp("Udp", "InCsumErrors") == csum_err);

	f[0] = udp_partial(kmac, l->mac, "pseudo bad", 1);
	CHECK(cove_link_tx_burst(l, f, 1) == 1);
	CHECK(!recv_text(us, "pseudo bad", 500));
	CHECK(peer_snmp("Udp", "InCsumErrors") == csum_err + 1);
	CHECK(peer_snmp("Udp", "InDatagrams") == in + 1);
	CHECK(l->stats.tx_frames == 2 && l->stats.tx_dropped == 0);

	/* Flags that do not fit the frame: refused before the kernel. */
	f[0] = udp_partial(kmac, l->mac, "tso?", 0);
	f[0]->flags |= COVE_FRAME_F_TSO; /* TSO on UDP */
	f[0]->gso_size = 2;
	f[1] = cove_frame_alloc(&pool);
	REQUIRE(f[1]);
	t = ip_frame(f[1], kmac, l->mac, 6, 20 + 1000);
	t[12] = 5 << 4;
	f[1]->flags = COVE_FRAME_F_TSO | COVE_FRAME_F_CSUM_PARTIAL;
	f[1]->gso_size = 1000; /* one segment's worth */
	CHECK(cove_link_tx_burst(l, f, 2) == 2);
	CHECK(l->stats.tx_dropped == 2 && l->stats.tx_frames == 2);
	cove_link_close(l);

	/* offload=off: partial frames are dropped, plain ones still go. */
	l = fwd_link("tap:" IFN ",offload=off", kmac);
	f[0] = udp_partial(kmac, l->mac, "no offload", 0);
	f[1] = udp_partial(kmac, l->mac, "plain", 0);
	wr16(f[1]->data + 14 + 20 + 6, 0); /* no UDP checksum at all */
	f[1]->flags = 0;
	CHECK(cove_link_tx_burst(l, f, 2) == 2);
	CHECK(recv_text(us, "plain", 2000));
	CHECK(!recv_text(us, "no offload", 300));
	CHECK(l->stats.tx_dropped == 1 && l->stats.tx_frames == 1);
	cove_link_close(l);
	close(us);
	CHECK(pool.nfree == pool.count);
}

/* tcp_seg() - a TCP segment to the peer; @len payload bytes, zeroed. */
static uint8_t *tcp_seg(struct cove_frame *f, const uint8_t *kmac,
			const uint8_t *smac, uint32_t seq, uint32_t ack,
			uint8_t flags, uint32_t optlen, uint32_t len)
{
	uint8_t *t = ip_frame(f, kmac, smac, 6, 20 + optlen + len);

	wr16(t, TCP_SPORT);
	wr16(t + 2, TCP_DPORT);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	t[13] = flags;
	wr16(t + 14, 65535);
	f->flags = COVE_FRAME_F_CSUM_PARTIAL;
	return t;
}

/* syn_ack() - wait for the peer's SYN-ACK on @l; its sequence number. */
static bool syn_ack(struct cove_link *l, uint32_t *seq)
{
	uint64_t start = now_ms();
	struct cove_frame *f[16];
	bool seen = false;
	unsigned n, i;

	while (!seen && now_ms() - start < 3000) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };

		n = cove_link_rx_burst(l, f, 16);
		if (!n)
			poll(&p, 1, 20);
		for (i = 0; i < n; i++) {
			const uint8_t *d = f[i]->data;

			if (f[i]->len >= 54 && rd16(d + 12) == 0x0800 &&
			    d[23] == 6 && (d[14] & 15) == 5 &&
			    rd16(d + 36) == TCP_SPORT &&
			    (d[47] & 0x12) == 0x12) {
				*seq = rd32(d + 38);
				CHECK(l4_sum_ok(d, f[i]->len));
				seen = true;
			}
			cove_frame_free(f[i]);
		}
	}
	return seen;
}

/* pattern() - byte @i of the TSO test's payload. */
static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/*
 * A TSO super-frame of TSO_SEGS segments to a kernel TCP socket: the
 * kernel cuts it (cvl-x has TSO and GSO off) and fills every segment's
 * checksum, the peer checks them all and gets the bytes in order.
 */
static void test_tso_to_kernel(void)
{
	const uint32_t iss = 1000, total = TSO_SEGS * TSO_MSS;
	struct cove_frame_pool big;
	struct cove_frame *f;
	struct cove_link *l;
	uint32_t peer_seq = 0, got = 0, i, bad = 0;
	uint64_t csum_err, in_segs;
	uint8_t kmac[6], *t, buf[4096];
	int ls, cs;

	if (!fwd_setup())
		return;
	REQUIRE(cove_frame_pool_init(&big, 2, 65600) == 0);
	ls = peer_socket(SOCK_STREAM, TCP_DPORT);
	REQUIRE(listen(ls, 1) == 0);
	l = fwd_link("tap:" IFN, kmac);
	REQUIRE(l->offloads & COVE_LINK_OFF_TSO4);
	REQUIRE(l->tso_max >= 14 + 40 + total);
	csum_err = peer_snmp("Tcp", "InCsumErrors");
	in_segs = peer_snmp("Tcp", "InSegs");

	f = cove_frame_alloc(&pool);
	REQUIRE(f);
	t = tcp_seg(f, kmac, l->mac, iss, 0, 0x02, 4, 0);
	t[20] = 2; /* MSS 1460 */
	t[21] = 4;
	wr16(t + 22, 1460);
	wr16(t + 16, pseudo_sum(f));
	CHECK(cove_link_tx_burst(l, &f, 1) == 1);
	REQUIRE(syn_ack(l, &peer_seq));

	f = cove_frame_alloc(&pool);
	REQUIRE(f);
	tcp_seg(f, kmac, l->mac, iss + 1, peer_seq + 1, 0x10, 0, 0);
	wr16(f->data + 14 + 20 + 16, pseudo_sum(f));
	CHECK(cove_link_tx_burst(l, &f, 1) == 1);

	f = cove_frame_alloc(&big);
	REQUIRE(f);
	t = tcp_seg(f, kmac, l->mac, iss + 1, peer_seq + 1, 0x18, 0, total);
	for (i = 0; i < total; i++)
		t[20 + i] = pattern(i);
	wr16(t + 16, pseudo_sum(f));
	f->flags |= COVE_FRAME_F_TSO;
	f->gso_size = TSO_MSS;
	CHECK(cove_link_tx_burst(l, &f, 1) == 1);
	CHECK(l->stats.tx_frames == 3 && l->stats.tx_dropped == 0);

	cs = -1;
	{
		struct pollfd p = { .fd = ls, .events = POLLIN };

		if (poll(&p, 1, 3000) == 1)
			cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	}
	CHECK(cs >= 0);
	while (cs >= 0 && got < total) {
		struct pollfd p = { .fd = cs, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 3000) != 1)
			break;
		r = recv(cs, buf, sizeof(buf), MSG_DONTWAIT);
		if (r <= 0)
			break;
		for (i = 0; i < (uint32_t)r; i++)
			bad += buf[i] != pattern(got + i);
		got += (uint32_t)r;
	}
	CHECK(got == total && bad == 0);
	CHECK(peer_snmp("Tcp", "InCsumErrors") == csum_err);
	/* SYN, ACK and the super-frame cut in TSO_SEGS segments */
	CHECK(peer_snmp("Tcp", "InSegs") >= in_segs + 2 + TSO_SEGS);
	if (cs >= 0)
		close(cs);
	close(ls);
	cove_link_close(l);
	CHECK(pool.nfree == pool.count);
	CHECK(cove_frame_pool_fini(&big) == 0);
}

/*
 * Kernel-sent UDP and TCP on the TAP arrive with valid checksums. The link
 * does not ask the kernel to leave them partial (TUN_F_CSUM), so it does
 * not vouch for them; with @partial the test asks (TUNSETOFFLOAD on the
 * link's fd), and the link must complete every NEEDS_CSUM frame itself
 * and vouch for it (COVE_FRAME_F_CSUM_OK).
 */
static void rx_csum(const char *spec, bool partial)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct cove_frame *f[64];
	bool udp_seen = false, tcp_seen = false;
	struct cove_link *l;
	char payload[1200];
	uint8_t kmac[6];
	uint64_t start;
	int us, ts;

	l = fwd_link(spec, kmac);
	if (partial)
		REQUIRE(ioctl(l->fd, TUNSETOFFLOAD,
			      (unsigned long)TUN_F_CSUM) == 0);
	inet_pton(AF_INET, FWD_STACK, &to.sin_addr);
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
	while ((!udp_seen || !tcp_seen) && now_ms() - start < 3000) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		unsigned n = cove_link_rx_burst(l, f, 64), i;

		if (!n)
			poll(&p, 1, 20);
		for (i = 0; i < n; i++) {
			const uint8_t *d = f[i]->data;
			bool *seen, ok;

			if (f[i]->len >= 34 && rd16(d + 12) == 0x0800 &&
			    (d[23] == 17 || d[23] == 6)) {
				seen = d[23] == 17 ? &udp_seen : &tcp_seen;
				ok = f[i]->flags & COVE_FRAME_F_CSUM_OK;
				if (!*seen) {
					CHECK(l4_sum_ok(d, f[i]->len));
					CHECK(ok == partial);
				}
				*seen = true;
			}
			cove_frame_free(f[i]);
		}
	}
	CHECK(udp_seen && tcp_seen);
	CHECK(l->stats.rx_dropped == 0);
	close(us);
	close(ts);
	cove_link_close(l);
	CHECK(pool.nfree == pool.count);
}

static void test_rx_csum(void)
{
	rx_csum("tap:" IFN, false);
}

static void test_rx_csum_partial(void)
{
	rx_csum("tap:" IFN, true);
}

static void test_rx_csum_no_offload(void)
{
	rx_csum("tap:" IFN ",offload=off", false);
}

int main(void)
{
	REQUIRE(geteuid() == 0);
	REQUIRE(unshare(CLONE_NEWNET) == 0);
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	REQUIRE(home_ns >= 0);
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	REQUIRE(cove_frame_pool_init(&pool, 512, COVE_FRAME_DEFAULT_SIZE) == 0);
	REQUIRE(set_up("lo") == 0);
	RUN(test_open_errors);
	RUN(test_offload_options);
	RUN(test_tap_exchange);
	RUN(test_tap_exchange_no_offload);
	RUN(test_rx_too_big);
	RUN(test_partial_to_kernel);
	RUN(test_tso_to_kernel);
	RUN(test_rx_csum);
	RUN(test_rx_csum_partial);
	RUN(test_rx_csum_no_offload);
	RUN(test_tap_persistent);
	CHECK(cove_frame_pool_fini(&pool) == 0);
	if (peer_pid) {
		kill(peer_pid, SIGKILL);
		waitpid(peer_pid, NULL, 0);
	}
	return check_summary();
}
