// SPDX-License-Identifier: Apache-2.0
/* dpdk link over net_af_packet (veth) and net_tap, in a private netns. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cove/link.h"
#include "tests/unit/check.h"

/*
 * The test unshares into a new network namespace with a veth pair
 * cvd-a <-> cvd-b. dpdk:net_af_packet0,iface=cvd-a then exchanges test
 * frames with Cove's own packet:cvd-b; after it is closed,
 * dpdk:net_tap0,iface=cvdtap (a TAP the PMD makes) exchanges frames with
 * packet:cvdtap on the kernel's side of that TAP, and sends checksum and
 * TSO offload frames that must come out summed and cut. Each link must go
 * to sleep once idle (its fd not readable) and wake for traffic. EAL start
 * failures run in a child process, as the EAL starts only once.
 */

#define TEST_ETHERTYPE 0x88b5

static struct cove_frame_pool pool, big_pool; /* big: TSO frames */

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

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, text, strlen(text));
		close(fd);
	}
}

static uint32_t size_of(uint32_t seq)
{
	return 60 + (seq * 131) % (1514 - 60 + 1);
}

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

struct sink {
	uint32_t got, bad, next;
};

/* drain() - receive everything waiting on @l, checking test frames in order. */
static unsigned drain(struct cove_link *l, struct sink *s)
{
	struct cove_frame *f[32];
	unsigned k, i, total = 0;

	while ((k = cove_link_rx_burst(l, f, 32)) > 0) {
		for (i = 0; i < k; i++) {
			const struct cove_frame *fr = f[i];
			uint32_t seq, j, want = size_of(s->next);
			bool ok = fr->len == want;

			if (fr->len < 18 ||
			    fr->data[12] != TEST_ETHERTYPE >> 8 ||
			    fr->data[13] != (TEST_ETHERTYPE & 0xff)) {
				cove_frame_free(f[i]);
				continue; /* the kernel's own traffic */
			}
			memcpy(&seq, fr->data + 14, 4);
			ok = ok && seq == s->next;
			for (j = 18; ok && j < fr->len; j++)
				ok = fr->data[j] == (uint8_t)(seq * 5 + j);
			s->bad += !ok;
			s->got++;
			s->next++;
			cove_frame_free(f[i]);
		}
		total += k;
	}
	return total;
}

/* exchange() - @count frames a -> b, retrying a full queue, all checked. */
static void exchange(struct cove_link *a, struct cove_link *b, uint32_t count)
{
	struct cove_frame *f[32];
	struct sink s = { 0 };
	uint32_t seq = 0, k = 0, i;
	uint64_t idle_since = now_ms();

	while (s.got < count && now_ms() - idle_since < 5000) {
		unsigned done;

		while (k < 32 && seq + k < count) {
			f[k] = cove_frame_alloc(&pool);
			REQUIRE(f[k]);
			f[k]->len = size_of(seq + k);
			fill(f[k]->data, f[k]->len, seq + k, b->mac, a->mac);
			k++;
		}
		done = k ? cove_link_tx_burst(a, f, k) : 0;
		for (i = done; i < k; i++)
			f[i - done] = f[i];
		k -= done;
		seq += done;
		if (drain(b, &s) || done) {
			idle_since = now_ms();
		} else {
			struct pollfd p = { .fd = b->fd, .events = POLLIN };

			poll(&p, 1, 2);
		}
	}
	for (i = 0; i < k; i++)
		cove_frame_free(f[i]);
	CHECK(seq == count);
	CHECK(s.got == count && s.bad == 0);
	if (s.got != count || s.bad)
		fprintf(stderr, "  %s -> %s: %u of %u, %u bad\n", a->name,
			b->name, s.got, count, s.bad);
}

/* readable() - is @l's fd readable within @ms? */
static bool readable(struct cove_link *l, int ms)
{
	struct pollfd p = { .fd = l->fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * idle_then_wake() - poll @l empty until it sleeps (its fd goes quiet),
 * then check that one frame from @peer wakes it. @timer: the link sleeps
 * on a timer (no Rx interrupt), so the fd wakes by itself too.
 */
static void idle_then_wake(struct cove_link *l, struct cove_link *peer,
			   bool timer)
{
	struct cove_frame *f[32], *fr;
	unsigned i, k, got = 0;
	uint64_t start;

	for (i = 0; i < 100000 && readable(l, 0); i++) {
		k = cove_link_rx_burst(l, f, 32);
		while (k)
			cove_frame_free(f[--k]);
	}
	CHECK(i < 100000); /* it went to sleep */
	CHECK(!readable(l, 0));
	if (timer) {
		/* the adaptive sleep: starts short, so the fd wakes soon */
		CHECK(readable(l, 200));
		CHECK(cove_link_rx_burst(l, f, 32) == 0);
	} else {
		CHECK(!readable(l, 100)); /* nothing wakes an idle link */
	}
	fr = cove_frame_alloc(&pool);
	REQUIRE(fr);
	fr->len = size_of(0);
	fill(fr->data, fr->len, 0, l->mac, peer->mac);
	CHECK(cove_link_tx_burst(peer, &fr, 1) == 1);
	start = now_ms();
	while (!got && now_ms() - start < 2000) {
		if (!readable(l, 100))
			continue;
		k = cove_link_rx_burst(l, f, 32);
		for (i = 0; i < k; i++) {
			got += f[i]->len == size_of(0) &&
			       f[i]->data[12] == TEST_ETHERTYPE >> 8;
			cove_frame_free(f[i]);
		}
	}
	CHECK(got == 1);
}

/* Bad arguments fail before DPDK starts, with one line naming the link. */
static void test_parse_errors(void)
{
	static const struct {
		const char *spec, *says;
	} cases[] = {
		{ "dpdk:,iface=x", "no device" },
		{ "dpdk:iface=x", "not a device name" },
		{ "dpdk:net_tap0,mem=lots", "mem wants a number" },
		{ "dpdk:net_tap0,mem=0", "mem wants a number" },
		{ "dpdk:net_tap0,empty_polls=0", "empty_polls wants" },
		{ "dpdk:net_tap0,sleep_max=-1", "sleep_max wants" },
		{ "dpdk:net_tap0,intr=maybe", "intr is on or off" },
		{ "dpdk:net_tap0,offload=", "offload is on or off" },
	};
	struct cove_err err = { 0 };
	struct cove_link *l = NULL;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(cove_link_open(cases[i].spec, &pool, &l, &err) < 0);
		CHECK(!strncmp(err.msg, cases[i].spec, strlen(cases[i].spec)));
		CHECK(strstr(err.msg, cases[i].says) != NULL);
		if (!strstr(err.msg, cases[i].says))
			fprintf(stderr, "  %s: %s\n", cases[i].spec, err.msg);
	}
}

/* child_error() - the error a fresh process gets opening @spec (EAL start). */
static void child_error(const char *spec, char *msg, size_t len)
{
	int p[2], st;
	ssize_t n;
	pid_t pid;

	REQUIRE(pipe(p) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		struct cove_err err = { 0 };
		struct cove_link *l = NULL;

		close(p[0]);
		if (cove_link_open(spec, &pool, &l, &err) == 0)
			snprintf(err.msg, sizeof(err.msg), "opened");
		(void)!write(p[1], err.msg, strlen(err.msg));
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], msg, len - 1);
	msg[n > 0 ? n : 0] = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
}

/* Not enough memory for the EAL or the mempool: say so, and what to raise. */
static void test_not_enough_memory(void)
{
	static const char *const specs[] = {
		"dpdk:net_af_packet0,iface=cvd-a,mem=1",
		"dpdk:net_af_packet0,iface=cvd-a,mem=4",
		"dpdk:net_af_packet0,iface=cvd-a,mem=5",
	};
	char msg[600];
	unsigned i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		child_error(specs[i], msg, sizeof(msg));
		fprintf(stderr, "  %s\n", msg);
		CHECK(!strncmp(msg, specs[i], strlen(specs[i])));
		CHECK(strstr(msg, "mem=") != NULL);
		CHECK(!strchr(msg, '\n'));
	}
	/* The packed pool (5.3 MB of mbufs back to back) fits in 8 MiB; laid
	 * out one mbuf per page it took 9.3 MB and did not. */
	child_error("dpdk:net_af_packet0,iface=cvd-a,mem=8", msg, sizeof(msg));
	CHECK(!strcmp(msg, "opened"));
}

static void test_no_such_device(void)
{
	struct cove_err err = { 0 };
	struct cove_link *l = NULL;

	CHECK(cove_link_open("dpdk:net_af_packet0,iface=cvd-none", &pool, &l,
			     &err) < 0);
	fprintf(stderr, "  %s\n", err.msg);
	CHECK(!strncmp(err.msg, "dpdk:net_af_packet0,iface=cvd-none: ", 36));
	CHECK(strcasestr(err.msg, "no such device") != NULL);
	CHECK(cove_link_open("dpdk:net_bogus0", &pool, &l, &err) < 0);
	fprintf(stderr, "  %s\n", err.msg);
	CHECK(!strncmp(err.msg, "dpdk:net_bogus0: ", 17));
	CHECK(!strchr(err.msg, '\n'));
}

static void test_af_packet(void)
{
	struct cove_link *a = NULL, *b = NULL, *c = NULL;
	struct cove_err err = { 0 };

	if (cove_link_open("dpdk:net_af_packet0,iface=cvd-a", &pool, &a, &err) <
	    0)
		fprintf(stderr, "  %s\n", err.msg);
	REQUIRE(a);
	REQUIRE(cove_link_open("packet:cvd-b,offload=off", &pool, &b, &err) ==
		0);
	CHECK(!strcmp(a->name, "dpdk:net_af_packet0,iface=cvd-a"));
	CHECK(a->mtu == 1500);
	CHECK(a->fd >= 0);
	CHECK(!(a->offloads & (COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4)));

	/* A second dpdk link in the same process is refused, clearly. */
	CHECK(cove_link_open("dpdk:net_tap0,iface=cvdtap", &pool, &c, &err) <
	      0);
	CHECK(err.code == EBUSY);
	CHECK(strstr(err.msg, "one dpdk link per process") != NULL);

	exchange(a, b, 3000);
	exchange(b, a, 1000);
	CHECK(a->stats.tx_frames == 3000 && a->stats.rx_frames >= 1000);
	idle_then_wake(a, b, false); /* sleeps on the PMD's socket */
	exchange(a, b, 100);	     /* and back to work */
	cove_link_close(a);

	/* intr=off: the adaptive sleep on a timer instead */
	a = NULL;
	if (cove_link_open("dpdk:net_af_packet0,iface=cvd-a,intr=off", &pool,
			   &a, &err) < 0)
		fprintf(stderr, "  %s\n", err.msg);
	REQUIRE(a);
	exchange(a, b, 100);
	idle_then_wake(a, b, true);
	exchange(b, a, 100);
	cove_link_close(a);
	cove_link_close(b);
	CHECK(pool.nfree == pool.count);
}

/* A TCP/IPv4 frame of @payload bytes to @dst, checksum left partial. */
static struct cove_frame *tcp_frame(const uint8_t *dst, const uint8_t *src,
				    uint32_t payload)
{
	uint32_t tot = 20 + 20 + payload, sum = 0, i;
	struct cove_frame *f = cove_frame_alloc(
		14 + tot > COVE_FRAME_DEFAULT_SIZE ? &big_pool : &pool);
	uint8_t *p, *ip;

	REQUIRE(f);
	p = f->data;
	memset(p, 0, 54);
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = 0x08;
	ip = p + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x4e\x00\x02\x0a\x4e\x00\x01", 8);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	ip[20] = 0x1f; /* ports 8000 -> 9 */
	ip[21] = 0x40;
	ip[23] = 9;
	ip[24 + 3] = 1; /* seq 1 */
	ip[32] = 0x50;	/* data offset 5 */
	ip[33] = 0x18;	/* PSH ACK */
	ip[34] = 0xff;
	for (i = 0; i < payload; i++)
		ip[40 + i] = (uint8_t)(i * 7 + 3);
	/* pseudo-header sum, length included, folded, not complemented */
	sum = 0x0a4e + 0x0002 + 0x0a4e + 0x0001 + 6 + 20 + payload;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[36] = (uint8_t)(sum >> 8);
	ip[37] = (uint8_t)sum;
	f->len = 14 + tot;
	f->flags = COVE_FRAME_F_CSUM_PARTIAL;
	return f;
}

/* tcp_ok() - a TCP/IPv4 frame with valid checksums; its payload length. */
static int tcp_ok(const uint8_t *p, uint32_t len)
{
	const uint8_t *ip = p + 14;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3], sum = 0, i;

	if (len < 54 || p[12] != 0x08 || p[13] != 0 || ip[9] != 6 ||
	    14 + tot > len)
		return -1;
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		return -1;
	sum = 0x0a4e + 0x0002 + 0x0a4e + 0x0001 + 6 + tot - 20;
	for (i = 0; i < tot - 20; i++)
		sum += (i & 1) ? ip[20 + i] : (uint32_t)ip[20 + i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? (int)(tot - 40) : -1;
}

/* Partial checksums get filled, a super-frame comes out as MSS segments. */
static void offloads_through_tap(struct cove_link *a, struct cove_link *b)
{
	struct cove_frame *f[32], *fr;
	uint32_t segs = 0, bytes = 0, bad = 0, i, k;
	uint64_t start;

	fr = tcp_frame(b->mac, a->mac, 1000);
	CHECK(cove_link_tx_burst(a, &fr, 1) == 1);
	fr = tcp_frame(b->mac, a->mac, 4000);
	fr->flags |= COVE_FRAME_F_TSO;
	fr->gso_size = 1448;
	CHECK(cove_link_tx_burst(a, &fr, 1) == 1);
	start = now_ms();
	while (segs < 4 && now_ms() - start < 2000) {
		struct pollfd p = { .fd = b->fd, .events = POLLIN };

		k = cove_link_rx_burst(b, f, 32);
		for (i = 0; i < k; i++) {
			int n = tcp_ok(f[i]->data, f[i]->len);

			if (f[i]->len >= 54 && f[i]->data[12] == 0x08 &&
			    f[i]->data[14 + 9] == 6) {
				segs++;
				bad += n < 0 || n > 1448;
				bytes += n > 0 ? (uint32_t)n : 0;
			}
			cove_frame_free(f[i]);
		}
		if (!k)
			poll(&p, 1, 20);
	}
	CHECK(segs == 4); /* 1000, then 1448 + 1448 + 1104 */
	CHECK(bad == 0);
	CHECK(bytes == 5000);
	CHECK(a->stats.tx_dropped == 0);
}

/* open_fds() - how many fds this process has open. */
static unsigned open_fds(void)
{
	unsigned n = 0;
	int fd;

	for (fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void test_tap(void)
{
	struct cove_link *a = NULL, *b = NULL;
	struct cove_err err = { 0 };
	unsigned fds = open_fds(); /* the EAL's own stay: it runs already */

	/* after the af_packet device is gone, a new one can come */
	if (cove_link_open("dpdk:net_tap0,iface=cvdtap,empty_polls=16", &pool,
			   &a, &err) < 0)
		fprintf(stderr, "  %s\n", err.msg);
	REQUIRE(a);
	sh("ip link set cvdtap up");
	sh("ethtool -K cvdtap tx off >/dev/null 2>&1 || true");
	REQUIRE(cove_link_open("packet:cvdtap,offload=off", &pool, &b, &err) ==
		0);
	CHECK(memcmp(a->mac, b->mac, 6) != 0);
	CHECK((a->offloads & (COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4)) ==
	      (COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4));
	CHECK(a->tso_max >= 65535);
	exchange(a, b, 2000);
	exchange(b, a, 2000);
	offloads_through_tap(a, b);
	idle_then_wake(a, b, false);
	cove_link_close(a);
	cove_link_close(b);
	CHECK(pool.nfree == pool.count);
	CHECK(open_fds() == fds); /* nothing of the device or link is left */
	if (open_fds() != fds)
		fprintf(stderr, "  fds: %u before, %u after\n", fds,
			open_fds());
}

int main(void)
{
	REQUIRE(geteuid() == 0);
	REQUIRE(unshare(CLONE_NEWNET) == 0);
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	sh("ip link set lo up && "
	   "ip link add cvd-a type veth peer name cvd-b && "
	   "ip link set cvd-a up && ip link set cvd-b up");
	REQUIRE(cove_frame_pool_init(&pool, 2048, COVE_FRAME_DEFAULT_SIZE) ==
		0);
	REQUIRE(cove_frame_pool_init(&big_pool, 4, 70000) == 0);
	RUN(test_parse_errors);
	RUN(test_not_enough_memory);
	RUN(test_no_such_device);
	RUN(test_af_packet);
	RUN(test_tap);
	CHECK(cove_frame_pool_fini(&pool) == 0);
	CHECK(cove_frame_pool_fini(&big_pool) == 0);
	return check_summary();
}
