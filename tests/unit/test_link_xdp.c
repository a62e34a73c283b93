// SPDX-License-Identifier: Apache-2.0
/* xdp link over a real veth pair, inside a private network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cove/link.h"
#include "tests/unit/check.h"

/*
 * The test unshares into a new network namespace and makes the veth pair
 * cvx-a <-> cvx-b there, so everything it creates disappears with the
 * process. xdp:cvx-a and xdp:cvx-b (and packet:cvx-b, against an
 * AF_PACKET peer) exchange test frames of a local experimental EtherType,
 * and the kernel is asked (ip link) which XDP program each end has.
 */

#define TEST_ETHERTYPE 0x88b5
#define NBIG	       1800u /* below the 2048-slot rx ring: b reads late */

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
		p[i] = (uint8_t)(seq * 7 + i);
}

static int is_test(const struct cove_frame *f)
{
	return f->len >= 18 && f->data[12] == TEST_ETHERTYPE >> 8 &&
	       f->data[13] == (TEST_ETHERTYPE & 0xff);
}

static uint32_t size_of(uint32_t seq)
{
	return 60 + (seq * 131) % (1514 - 60 + 1);
}

static int check_frame(const struct cove_frame *f, uint32_t seq)
{
	uint32_t s, i, len = size_of(seq);

	if (f->len != len)
		return 0;
	memcpy(&s, f->data + 14, 4);
	if (s != seq)
		return 0;
	for (i = 18; i < len; i++)
		if (f->data[i] != (uint8_t)(seq * 7 + i))
			return 0;
	return 1;
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

static void sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "'%s' failed (%d)\n", cmd, rc);
	REQUIRE(rc == 0);
}

/* xdp_shown() - what `ip link` says is attached: "xdp", "xdpgeneric", "". */
static const char *xdp_shown(const char *ifname)
{
	static char out[64];
	char cmd[128], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s", ifname);
	p = popen(cmd, "r");
	REQUIRE(p);
	out[0] = 0;
	if (fgets(line, sizeof(line), p)) {
		if (strstr(line, " xdpgeneric"))
			snprintf(out, sizeof(out), "xdpgeneric");
		else if (strstr(line, " xdp"))
			snprintf(out, sizeof(out), "xdp");
	}
	pclose(p);
	return out;
}

/* none_left() - true once @ifname has no XDP program, waiting up to 2 s. */
static bool none_left(const char *ifname)
{
	uint64_t start = now_ms();

	while (*xdp_shown(ifname)) {
		struct timespec ts = { 0, 20000000 };

		if (now_ms() - start > 2000)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

struct sink {
	uint32_t got, bad, other, next;
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
				if (!check_frame(f[i], s->next))
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

/* wait_for() - drain until @want test frames arrived or 3 s of silence. */
static void wait_for(struct cove_link *l, struct sink *s, uint32_t want)
{
	uint64_t idle_since = now_ms();

	while (s->got < want && now_ms() - idle_since < 3000) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };

		if (drain(l, s, 64))
			idle_since = now_ms();
		else
			poll(&p, 1, 50);
	}
}

/* send_all() - send @count test frames from @a, retrying when it is full. */
static uint32_t send_all(struct cove_link *a, const uint8_t *dst,
			 uint32_t count, struct cove_link *b, struct sink *s)
{
	struct cove_frame *f[64];
	uint32_t seq = 0, k = 0, i;
	uint64_t idle_since = now_ms();

	while (seq < count && now_ms() - idle_since < 3000) {
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

			nanosleep(&ts, NULL);
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

static void test_open_errors(void)
{
	struct cove_link *l = NULL;
	struct cove_err err = { 0 };

	CHECK(cove_link_open("xdp:cvx-none", &pool, &l, &err) < 0);
	CHECK(err.code == ENODEV);
	CHECK(!strncmp(err.msg, "xdp:cvx-none: no such interface", 31));
	CHECK(cove_link_open("xdp:", &pool, &l, &err) < 0);
	CHECK(cove_link_open("xdp:cvx-a,mode=fast", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "unknown option 'mode=fast'") != NULL);
	CHECK(strstr(err.msg, "mode=generic") != NULL);
	CHECK(cove_link_open("xdp:cvx-a,offload=maybe", &pool, &l, &err) < 0);
	CHECK(cove_link_open("xdp:1234567890123456", &pool, &l, &err) < 0);
	CHECK(strstr(err.msg, "longer than") != NULL);
	CHECK(!*xdp_shown("cvx-a"));
	CHECK(pool.nfree == pool.count);
}

/* Native mode on a veth, generic by option; the last mode= wins. */
static void test_modes(void)
{
	static const struct {
		const char *spec, *shown;
	} cases[] = {
		{ "xdp:cvx-a", "xdp" },
		{ "xdp:cvx-a,mode=auto", "xdp" },
		{ "xdp:cvx-a,mode=native", "xdp" },
		{ "xdp:cvx-a,mode=generic", "xdpgeneric" },
		{ "xdp:cvx-a,mode=generic,offload=off", "xdpgeneric" },
		{ "xdp:cvx-a,mode=native,mode=generic", "xdpgeneric" },
		{ "xdp:cvx-a,mode=generic,mode=auto", "xdp" },
	};
	struct cove_err err = { 0 };
	struct cove_link *l;
	uint8_t mac[6] = { 0 };
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		l = NULL;
		CHECK(cove_link_open(cases[i].spec, &pool, &l, &err) == 0);
		if (!l) {
			fprintf(stderr, "  %s: %s\n", cases[i].spec, err.msg);
			continue;
		}
		CHECK(!strncmp(l->name, cases[i].spec, sizeof(l->name) - 1));
		CHECK(l->fd >= 0 && l->mtu == 1500 && memcmp(l->mac, mac, 6));
		CHECK(!strcmp(xdp_shown("cvx-a"), cases[i].shown));
		CHECK(!(l->offloads & COVE_LINK_OFF_TSO4));
		CHECK(!!(l->offloads & COVE_LINK_OFF_TX_CSUM) ==
		      !strstr(cases[i].spec, "offload=off"));
		cove_link_close(l);
		CHECK(none_left("cvx-a"));
	}
	CHECK(pool.nfree == pool.count);
}

/* A second link on the same interface: one clear EBUSY line. */
static void test_busy(void)
{
	struct cove_link *a = NULL, *b = NULL;
	struct cove_err err = { 0 };

	REQUIRE(cove_link_open("xdp:cvx-a", &pool, &a, &err) == 0);
	CHECK(cove_link_open("xdp:cvx-a,mode=generic", &pool, &b, &err) < 0);
	CHECK(!strncmp(err.msg, "xdp:cvx-a,mode=generic: ", 24));
	CHECK(strstr(err.msg, "already has an XDP program") != NULL);
	CHECK(cove_link_open("xdp:cvx-a", &pool, &b, &err) < 0);
	CHECK(err.code == EBUSY);
	CHECK(strchr(err.msg, '\n') == NULL);
	cove_link_close(a);
	CHECK(none_left("cvx-a"));
	/* and the interface is free again */
	REQUIRE(cove_link_open("xdp:cvx-a", &pool, &a, &err) == 0);
	cove_link_close(a);
	CHECK(none_left("cvx-a"));
}

/* exchange() - frames both ways between @spec_a (on cvx-a) and @spec_b. */
static void exchange(const char *spec_a, const char *spec_b)
{
	struct cove_link *a = NULL, *b = NULL;
	struct cove_err err = { 0 };
	struct sink sb = { 0 }, sa = { 0 };
	uint32_t sent;

	if (cove_link_open(spec_a, &pool, &a, &err) < 0)
		fprintf(stderr, "  %s: %s\n", spec_a, err.msg);
	REQUIRE(a);
	if (cove_link_open(spec_b, &pool, &b, &err) < 0)
		fprintf(stderr, "  %s: %s\n", spec_b, err.msg);
	REQUIRE(b);

	/* interleaved: b drains in bursts of 7 as a sends */
	sent = send_all(a, b->mac, 3000, b, &sb);
	CHECK(sent == 3000);
	wait_for(b, &sb, 3000);
	CHECK(sb.got == 3000 && sb.bad == 0);

	/* one big burst before b reads anything */
	sb = (struct sink){ 0 };
	CHECK(send_all(a, b->mac, NBIG, NULL, NULL) == NBIG);
	wait_for(b, &sb, NBIG);
	CHECK(sb.got == NBIG && sb.bad == 0);
	CHECK(b->stats.rx_dropped == 0);

	/* and back */
	CHECK(send_all(b, a->mac, 2500, a, &sa) == 2500);
	wait_for(a, &sa, 2500);
	CHECK(sa.got == 2500 && sa.bad == 0);

	CHECK(a->stats.tx_frames == 3000 + NBIG);
	CHECK(b->stats.tx_frames == 2500);
	CHECK(a->stats.tx_dropped == 0 && b->stats.tx_dropped == 0);

	/* frames the link cannot send are consumed and counted */
	{
		struct cove_frame *f[3] = { cove_frame_alloc(&pool),
					    cove_frame_alloc(&pool),
					    cove_frame_alloc(&pool) };

		REQUIRE(f[0] && f[1] && f[2]);
		f[0]->len = 10;
		f[1]->len = 1536;
		f[2]->len = 100;
		f[2]->flags = COVE_FRAME_F_TSO | COVE_FRAME_F_CSUM_PARTIAL;
		CHECK(cove_link_tx_burst(a, f, 3) == 3);
		CHECK(a->stats.tx_dropped == 3);
	}
	cove_link_close(a);
	cove_link_close(b);
	CHECK(none_left("cvx-a") && none_left("cvx-b"));
	CHECK(pool.nfree == pool.count);
}

static void test_exchange_native(void)
{
	exchange("xdp:cvx-a", "xdp:cvx-b");
}

static void test_exchange_generic(void)
{
	exchange("xdp:cvx-a,mode=generic", "xdp:cvx-b,mode=generic");
}

static void test_exchange_packet(void)
{
	exchange("xdp:cvx-a", "packet:cvx-b");
}

/* The XDP program goes with the process, however it ends. */
static void test_killed(void)
{
	int fds[2], st = 0;
	char c = 0;
	pid_t pid;

	REQUIRE(pipe(fds) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		struct cove_link *l = NULL;
		struct cove_err err = { 0 };

		close(fds[0]);
		if (cove_link_open("xdp:cvx-a", &pool, &l, &err) == 0)
			(void)!write(fds[1], "y", 1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	CHECK(read(fds[0], &c, 1) == 1 && c == 'y');
	close(fds[0]);
	CHECK(!strcmp(xdp_shown("cvx-a"), "xdp"));
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	CHECK(none_left("cvx-a"));
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

static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * udp_frame() - UDP 10.81.0.1:4000 -> 10.81.0.2:4001 carrying @text, with
 * the pseudo-header sum (+ @skew) in the checksum field, flagged partial.
 */
static struct cove_frame *udp_frame(const uint8_t *dmac, const uint8_t *smac,
				    const char *text, uint16_t skew)
{
	struct cove_frame *f = cove_frame_alloc(&pool);
	uint32_t len = (uint32_t)strlen(text), l4 = 8 + len;
	uint8_t *d, *ip, *u;

	REQUIRE(f);
	d = f->data;
	ip = d + 14;
	u = ip + 20;
	memset(d, 0, 14 + 20 + l4);
	memcpy(d, dmac, 6);
	memcpy(d + 6, smac, 6);
	wr16(d + 12, 0x0800);
	ip[0] = 0x45;
	wr16(ip + 2, 20 + l4);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, "10.81.0.1", ip + 12);
	inet_pton(AF_INET, "10.81.0.2", ip + 16);
	wr16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	wr16(u, 4000);
	wr16(u + 2, 4001);
	wr16(u + 4, l4);
	memcpy(u + 8, text, len);
	wr16(u + 6, (uint16_t)(fold(sum16(ip + 12, 8, 0) + 17 + l4) + skew));
	f->len = 14 + 20 + l4;
	f->flags = COVE_FRAME_F_CSUM_PARTIAL;
	return f;
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

/*
 * Checksum-partial frames: the link completes them in software, and the
 * kernel behind cvx-b (rx checksumming off: it verifies) takes the good
 * one, refuses the one with a wrong pseudo sum; offload=off drops them.
 */
static void test_tx_csum(void)
{
	struct sockaddr_in at = { .sin_family = AF_INET,
				  .sin_port = htons(4001) };
	struct cove_link *a = NULL;
	struct cove_err err = { 0 };
	struct cove_frame *f;
	uint8_t bmac[6];
	int us;

	sh("ethtool -K cvx-b rx off >/dev/null && "
	   "ip addr replace 10.81.0.2/24 dev cvx-b");
	mac_of("cvx-b", bmac);
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE(us >= 0);
	inet_pton(AF_INET, "10.81.0.2", &at.sin_addr);
	REQUIRE(bind(us, (struct sockaddr *)&at, sizeof(at)) == 0);

	REQUIRE(cove_link_open("xdp:cvx-a", &pool, &a, &err) == 0);
	f = udp_frame(bmac, a->mac, "summed here", 0);
	CHECK(cove_link_tx_burst(a, &f, 1) == 1);
	CHECK(recv_text(us, "summed here", 2000));
	f = udp_frame(bmac, a->mac, "wrong pseudo", 1);
	CHECK(cove_link_tx_burst(a, &f, 1) == 1);
	CHECK(!recv_text(us, "wrong pseudo", 300));
	CHECK(a->stats.tx_frames == 2 && a->stats.tx_dropped == 0);
	cove_link_close(a);

	REQUIRE(cove_link_open("xdp:cvx-a,offload=off", &pool, &a, &err) == 0);
	f = udp_frame(bmac, a->mac, "no offload", 0);
	CHECK(cove_link_tx_burst(a, &f, 1) == 1);
	CHECK(a->stats.tx_dropped == 1 && a->stats.tx_frames == 0);
	CHECK(!recv_text(us, "no offload", 300));
	cove_link_close(a);
	close(us);
	sh("ethtool -K cvx-b rx on >/dev/null && "
	   "ip addr del 10.81.0.2/24 dev cvx-b");
	CHECK(pool.nfree == pool.count);
}

int main(void)
{
	REQUIRE(geteuid() == 0);
	REQUIRE(unshare(CLONE_NEWNET) == 0);
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	sh("ip link set lo up && "
	   "ip link add cvx-a type veth peer name cvx-b && "
	   "ip link set cvx-a up && ip link set cvx-b up");
	REQUIRE(cove_frame_pool_init(&pool, 4096, COVE_FRAME_DEFAULT_SIZE) ==
		0);
	RUN(test_open_errors);
	RUN(test_modes);
	RUN(test_busy);
	RUN(test_exchange_native);
	RUN(test_exchange_generic);
	RUN(test_exchange_packet);
	RUN(test_killed);
	RUN(test_tx_csum);
	CHECK(cove_frame_pool_fini(&pool) == 0);
	return check_summary();
}
