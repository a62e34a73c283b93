// SPDX-License-Identifier: Apache-2.0
/* cove run's option parsing and address allocation (pure logic). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "runtime/runtime.h"

/* parse() - run rt_opts_parse on a NULL-terminated list of words. */
static int parse(struct sbx_opts *o, struct cove_err *err, const char **words)
{
	static char *argv[64];
	int argc = 0;

	while (words[argc]) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	return rt_opts_parse(argc, argv, o, err);
}

static void test_defaults(void)
{
	const char *w[] = { "run", "--network=kernel", "--", "true", NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, w) == 0);
	CHECK(o.mode == SBX_NET_STACK);
	CHECK(!strcmp(o.network, "kernel"));
	CHECK(o.link == SBX_LINK_PACKET);
	CHECK(!o.have_ip && !o.have_name && !o.verbose);
	CHECK(!o.host_fs_rw); /* the host read-only, root mapped: the default */
	CHECK(o.max_sockets == 0); /* the provider's default */
	CHECK(!strcmp(o.argv[0], "true") && !o.argv[1]);
}

static void test_host_fs(void)
{
	const char *rw[] = { "run", "--network=kernel", "--host-fs=rw", "true",
			     NULL };
	const char *ro[] = { "run",
			     "--network=kernel",
			     "--host-fs=rw",
			     "--host-fs",
			     "ro",
			     "true",
			     NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, rw) == 0 && o.host_fs_rw);
	CHECK(parse(&o, &err, ro) == 0 && !o.host_fs_rw);
}

static void test_all_options(void)
{
	const char *w[] = { "run",
			    "--network",
			    "host",
			    "--ip=192.168.7.9/24",
			    "--ip-outside-pool",
			    "--name",
			    "web-1",
			    "--env",
			    "A=b",
			    "--env=C=",
			    "--workdir=/tmp",
			    "--user",
			    "1000:100",
			    "--poll-us=50",
			    "--max-sockets=100000",
			    "--verbose",
			    "redis-server",
			    "--port",
			    "7000",
			    NULL };
	struct sbx_opts o;
	struct cove_err err;
	char buf[INET_ADDRSTRLEN];

	CHECK(parse(&o, &err, w) == 0);
	CHECK(o.mode == SBX_NET_HOST);
	CHECK(o.have_ip && o.prefix_len == 24 && o.ip_outside_pool);
	CHECK(!strcmp(inet_ntop(AF_INET, &o.gateway, buf, sizeof(buf)),
		      "192.168.7.1"));
	CHECK(!strcmp(o.name, "web-1"));
	CHECK(o.nenv == 2 && !strcmp(o.env[1], "C="));
	CHECK(o.have_user && o.uid == 1000 && o.gid == 100);
	CHECK(o.poll_us == 50 && o.verbose);
	CHECK(o.max_sockets == 100000);
	/* Options after the command belong to the command. */
	CHECK(!strcmp(o.argv[0], "redis-server") &&
	      !strcmp(o.argv[1], "--port"));
}

static void test_errors(void)
{
	static const char *bad[][4] = {
		{ "--network=nosuch", "x", NULL },
		{ "--ip=10.0.0.1", "x", NULL },
		{ "--ip=10.0.0.1/31", "x", NULL },
		{ "--ip=10.209.3.1/24", "x", NULL }, /* the gateway itself */
		{ "--ip-outside-pool", "x", NULL },  /* without --ip */
		{ "--publish=80:1", "--publish=80:2", "x", NULL },
		{ "--name=../x", "x", NULL },
		{ "--name=", "x", NULL },
		{ "--publish=80", "x", NULL },
		{ "--publish=0:80", "x", NULL },
		{ "--env=noequals", "x", NULL },
		{ "--workdir=rel", "x", NULL },
		{ "--user=bob", "x", NULL },
		{ "--poll-us=-1", "x", NULL },
		{ "--max-sockets=15", "x", NULL },
		{ "--max-sockets=16777217", "x", NULL },
		{ "--max-sockets=1k", "x", NULL },
		{ "--link=xdp", "x", NULL },
		{ "--host-fs=yes", "x", NULL },
		{ "--host-fs", NULL },
		{ "--bogus", "x", NULL },
		{ "--network=kernel", NULL }, /* no command */
		{ "--netns=/run/netns/a", "--ip=10.0.0.2/24", "x", NULL },
	};
	struct sbx_opts o;
	struct cove_err err;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *w[8] = { "run" };
		unsigned j;

		for (j = 0; bad[i][j]; j++)
			w[j + 1] = bad[i][j];
		err.msg[0] = '\0';
		CHECK(parse(&o, &err, w) < 0);
		CHECK(err.msg[0] != '\0' && !strchr(err.msg, '\n'));
	}
}

/* No xdp link in this binary: the error says where to find one. */
static void test_link_xdp_absent(void)
{
	const char *w[] = { "run", "--link=xdp", "x", NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, w) < 0);
	CHECK(strstr(err.msg, "no xdp link (cove-plugin has)") != NULL);
}

static void test_help(void)
{
	const char *w[] = { "run", "--help", NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, w) == 1);
}

static void test_names(void)
{
	CHECK(rt_name_valid("a"));
	CHECK(rt_name_valid("cove-0123abcd"));
	CHECK(!rt_name_valid(".lock"));
	CHECK(!rt_name_valid("a/b"));
	CHECK(!rt_name_valid("0123456789012345678901234567890123"));
}

static void test_ipam(void)
{
	uint32_t net = 0x0a580000u, out = 0;
	uint32_t used[] = { 0x0a580003u, 0x0a580002u, 0x0a580005u };
	uint32_t small[] = { 0xc0a80102u };

	CHECK(rt_ipam_pick(net, 16, NULL, 0, &out) == 0 && out == 0x0a580002u);
	CHECK(rt_ipam_pick(net, 16, used, 3, &out) == 0 && out == 0x0a580004u);
	/* A /30 has exactly one sandbox address besides the gateway. */
	CHECK(rt_ipam_pick(0xc0a80100u, 30, NULL, 0, &out) == 0 &&
	      out == 0xc0a80102u);
	CHECK(rt_ipam_pick(0xc0a80100u, 30, small, 1, &out) < 0);
	CHECK(rt_ipam_pick(net, 31, NULL, 0, &out) < 0);
}

/*
 * refused() - parse `run --ip=@ip [--ip-outside-pool] x`; true if it fails
 * with one line that contains @want.
 */
static bool refused(const char *ip, bool outside, const char *want)
{
	char arg[64];
	const char *w[6] = { "run", "--network=host", arg };
	struct sbx_opts o;
	struct cove_err err = { 0 };
	unsigned n = 3;

	snprintf(arg, sizeof(arg), "--ip=%s", ip);
	if (outside)
		w[n++] = "--ip-outside-pool";
	w[n++] = "x";
	if (parse(&o, &err, w) == 0)
		return false;
	if (!strstr(err.msg, want) || strchr(err.msg, '\n')) {
		fprintf(stderr, "  %s: %s\n", ip, err.msg);
		return false;
	}
	return true;
}

/* Addresses that are never a sandbox's, with or without the pool. */
static void test_ip_refused(void)
{
	static const struct {
		const char *ip, *want;
	} bad[] = {
		{ "127.0.0.5/8", "loopback" },
		{ "127.9.9.9/24", "loopback" },
		{ "0.0.0.5/8", "0.0.0.0/8" },
		{ "224.0.0.5/8", "multicast" },
		{ "239.1.2.3/24", "multicast" },
		{ "240.0.0.5/8", "reserved or broadcast" },
		{ "255.255.255.254/24", "reserved or broadcast" },
		{ "10.209.0.0/16", "network address" },
		{ "10.209.255.255/16", "broadcast address of its subnet" },
		{ "10.209.3.255/24", "broadcast address of its subnet" },
		{ "192.168.7.0/24", "network address" },
		{ "192.168.7.1/24", "host side of its subnet" },
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(refused(bad[i].ip, false, bad[i].want));
		CHECK(refused(bad[i].ip, true, bad[i].want));
	}
}

/* Outside the pool only with --ip-outside-pool; the gateway counts. */
static void test_ip_pool(void)
{
	const char *in16[] = { "run", "--network=host", "--ip=10.209.3.4/16",
			       "x", NULL };
	const char *in24[] = { "run", "--network=host", "--ip=10.209.3.4/24",
			       "x", NULL };
	const char *out[] = { "run",
			      "--network=host",
			      "--ip=192.168.7.9/24",
			      "--ip-outside-pool",
			      "x",
			      NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, in16) == 0);
	CHECK(parse(&o, &err, in24) == 0);
	CHECK(refused("192.168.7.9/24", false, "--ip-outside-pool allows it"));
	/* In the pool, but the host side 10.0.0.1 is not. */
	CHECK(refused("10.209.3.4/8", false, "host side 10.0.0.1"));
	CHECK(parse(&o, &err, out) == 0 && o.ip_outside_pool);
	CHECK(rt_in_pool(&o.pools, o.ip, 16) == false);
}

/* route() - one entry of a host's route list for the cases below. */
static struct rt_route route(const char *dst, uint8_t prefix, bool cove,
			     bool local)
{
	struct rt_route r = { .prefix = prefix, .cove = cove, .local = local };
	struct in_addr a;

	REQUIRE(inet_pton(AF_INET, dst, &a) == 1);
	r.dst = ntohl(a.s_addr);
	return r;
}

/* conflict() - rt_route_conflict() of @ip/@prefix against @r. */
static int conflict(const char *ip, uint8_t prefix, const struct rt_route *r,
		    unsigned n)
{
	struct sbx_pools p;
	struct in_addr a;

	rt_pools_default(&p);
	REQUIRE(inet_pton(AF_INET, ip, &a) == 1);
	return rt_route_conflict(&p, a, prefix, r, n);
}

/* refused6() - does --ip6=@ip fail with a message containing @want? */
static bool refused6(const char *ip, const char *extra, const char *want)
{
	char arg[96];
	const char *w[6] = { "run", "--network=host", arg };
	struct sbx_opts o;
	struct cove_err err = { 0 };
	unsigned n = 3;

	snprintf(arg, sizeof(arg), "--ip6=%s", ip);
	if (extra)
		w[n++] = extra;
	w[n++] = "x";
	if (parse(&o, &err, w) == 0)
		return false;
	if (!strstr(err.msg, want) || strchr(err.msg, '\n')) {
		fprintf(stderr, "  %s: %s\n", ip, err.msg);
		return false;
	}
	return true;
}

/* --ip6, --ipv4-only and their refusals. */
static void test_ip6(void)
{
	const char *ok[] = { "run", "--network=kernel",
			     "--ip6=fd63:6f76:6500:7::5/64", "x", NULL };
	const char *only[] = { "run", "--network=host", "--ipv4-only", "x",
			       NULL };
	const char *none[] = { "run", "--network=host", "--ip6=none", "x",
			       NULL };
	const char *out[] = { "run",
			      "--network=host",
			      "--ip6=2001:db8::5/64",
			      "--ip-outside-pool",
			      "x",
			      NULL };
	const char *both[] = { "run",
			       "--network=host",
			       "--ip6=fd63:6f76:6500::5/64",
			       "--ipv4-only",
			       "x",
			       NULL };
	struct sbx_opts o;
	struct cove_err err;
	char gw[INET6_ADDRSTRLEN];

	CHECK(parse(&o, &err, ok) == 0 && o.ip6_given && o.have_ip6 &&
	      o.prefix6_len == 64);
	inet_ntop(AF_INET6, &o.gateway6, gw, sizeof(gw));
	CHECK(!strcmp(gw, "fd63:6f76:6500:7::1"));
	CHECK(parse(&o, &err, only) == 0 && o.ipv4_only && !o.have_ip6);
	CHECK(parse(&o, &err, none) == 0 && o.ipv4_only && !o.have_ip6);
	CHECK(parse(&o, &err, out) == 0 && o.ip6_given);
	CHECK(parse(&o, &err, both) < 0 && strstr(err.msg, "exclude"));
	CHECK(refused6("fd63:6f76:6500::5", NULL, "not ADDR/N"));
	CHECK(refused6("fd63:6f76:6500::5/48", NULL, "not ADDR/N"));
	CHECK(refused6("fd63:6f76:6500::5/127", NULL, "not ADDR/N"));
	CHECK(refused6("10.209.0.5/64", NULL, "not ADDR/N"));
	CHECK(refused6("2001:db8::5/64", NULL, "--ip-outside-pool allows"));
	CHECK(refused6("::1/64", "--ip-outside-pool", "::/8"));
	CHECK(refused6("::ffff:10.0.0.1/100", "--ip-outside-pool", "::/8"));
	CHECK(refused6("fe80::5/64", "--ip-outside-pool", "link-local"));
	CHECK(refused6("ff02::5/64", "--ip-outside-pool", "multicast"));
	CHECK(refused6("fd63:6f76:6500:1::/64", NULL, "network address"));
	CHECK(refused6("fd63:6f76:6500:1::1/64", NULL, "host side"));
	CHECK(refused6("fd63:6f76:6500::5/64", "--netns=/x", "exclude"));
}

/* The derived address: the first /64 of the pool with the IPv4 in it. */
static void test_ip6_derive(void)
{
	struct sbx_pools p;
	struct in_addr ip;
	struct in6_addr a, gw;
	uint8_t len;
	char t[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];

	rt_pools_default(&p);
	REQUIRE(inet_pton(AF_INET, "10.209.0.2", &ip) == 1);
	rt_ip6_derive(&p, ip, &a, &len, &gw);
	inet_ntop(AF_INET6, &a, t, sizeof(t));
	inet_ntop(AF_INET6, &gw, g, sizeof(g));
	CHECK(!strcmp(t, "fd63:6f76:6500::ad1:2") && len == 64);
	CHECK(!strcmp(g, "fd63:6f76:6500::1"));
	CHECK(rt_in_pool6(&p, &a, len));
	CHECK(rt_ip6_refusal(&a, len) == NULL);
	/* A pool whose bits reach into the subnet ID: the /64 keeps them. */
	REQUIRE(inet_pton(AF_INET6, "fd00:1:2:3400::", &p.net6) == 1);
	p.prefix6 = 56;
	rt_ip6_derive(&p, ip, &a, &len, &gw);
	inet_ntop(AF_INET6, &a, t, sizeof(t));
	CHECK(!strcmp(t, "fd00:1:2:3400::ad1:2"));
}

/* rt_opts_parse_pools(): --ip and --ip6 judged against cove.conf's pools. */
static void test_pools(void)
{
	static char *in[] = { "run",
			      "--network=host",
			      "--ip=10.50.3.4/16",
			      "--ip6=fd00:aa::5/64",
			      "x",
			      NULL };
	struct sbx_pools p;
	struct sbx_opts o;
	struct cove_err err;

	rt_pools_default(&p);
	CHECK(rt_opts_parse_pools(5, in, &p, &o, &err) < 0 &&
	      strstr(err.msg, "10.209.0.0/16"));
	REQUIRE(inet_pton(AF_INET, "10.50.0.0", &p.net) == 1);
	CHECK(rt_opts_parse_pools(5, in, &p, &o, &err) < 0 &&
	      strstr(err.msg, "fd63:6f76:6500::/48"));
	REQUIRE(inet_pton(AF_INET6, "fd00:aa::", &p.net6) == 1);
	CHECK(rt_opts_parse_pools(5, in, &p, &o, &err) == 0);
	CHECK(rt_in_pool(&o.pools, o.ip, o.prefix_len));
}

/* route6() - one IPv6 entry of a host's route list. */
static struct rt_route route6(const char *dst, uint8_t prefix, bool cove)
{
	struct rt_route r = { .prefix = prefix, .cove = cove };

	REQUIRE(inet_pton(AF_INET6, dst, &r.dst6) == 1);
	return r;
}

static void test_route6_conflict(void)
{
	struct rt_route r[8];
	struct sbx_pools p;
	struct in6_addr a;
	unsigned n = 0;

	rt_pools_default(&p);
	r[n++] = route6("::", 0, false);	       /* 0 default */
	r[n++] = route6("fe80::", 64, false);	       /* 1 link-local */
	r[n++] = route6("fd63:6f76:6500::", 48, true); /* 2 the fence */
	r[n++] = route6("fd00::", 8, false);	       /* 3 all ULAs: a VPN */
	r[n++] = route6("fd63:6f76:6500:9::", 64, false); /* 4 admin's */
	r[n++] = route6("2001:db8:1::", 48, false);	  /* 5 the LAN */
	REQUIRE(inet_pton(AF_INET6, "fd63:6f76:6500::ad1:2", &a) == 1);
	CHECK(rt_route6_conflict(&p, &a, 64, r, n) == -1);
	REQUIRE(inet_pton(AF_INET6, "fd63:6f76:6500:9::5", &a) == 1);
	CHECK(rt_route6_conflict(&p, &a, 64, r, n) == 4);
	REQUIRE(inet_pton(AF_INET6, "2001:db8:1:5::2", &a) == 1);
	CHECK(rt_route6_conflict(&p, &a, 64, r, n) == 5);
	/* Outside the pool, fd00::/8 counts. */
	REQUIRE(inet_pton(AF_INET6, "fd77::2", &a) == 1);
	CHECK(rt_route6_conflict(&p, &a, 64, r, n) == 3);
}

static void test_route_conflict(void)
{
	struct rt_route r[8];
	unsigned n = 0;

	r[n++] = route("0.0.0.0", 0, false, false);	 /* 0 default */
	r[n++] = route("192.168.1.0", 24, false, false); /* 1 the LAN */
	r[n++] = route("10.0.0.0", 8, false, false);	 /* 2 a VPN */
	r[n++] = route("10.209.0.0", 16, true, false);	 /* 3 the fence */
	r[n++] = route("10.209.0.5", 32, true, false);	 /* 4 a sandbox */
	r[n++] = route("172.16.5.1", 32, false, true);	 /* 5 a host addr */
	r[n++] = route("10.209.77.0", 24, false, false); /* 6 admin's */
	CHECK(conflict("192.168.1.50", 24, r, n) == 1);
	CHECK(conflict("192.168.0.5", 16, r, n) == 1);	 /* contains the LAN */
	CHECK(conflict("192.168.1.200", 28, r, n) == 1); /* inside it */
	CHECK(conflict("10.5.0.2", 24, r, n) == 2);	 /* in the VPN's */
	CHECK(conflict("172.16.5.9", 24, r, n) == 5);	 /* a host address */
	CHECK(conflict("8.8.8.2", 24, r, n) == -1);	 /* only default */
	/* The pool: Cove's routes and the VPN around all of it do not
	 * count, an administrator's route inside it does. */
	CHECK(conflict("10.209.3.2", 24, r, n) == -1);
	CHECK(conflict("10.209.3.2", 16, r, n) == 6);
	CHECK(conflict("10.209.77.2", 24, r, n) == 6);
	/* Leaving the pool (/8): the VPN's route counts again. */
	CHECK(conflict("10.209.3.2", 8, r, n) == 2);
}

/* --memory, --cpus, --pids: the cgroup limits, and their refusals. */
static void test_limits(void)
{
	static const struct {
		const char *arg;
		int64_t memory, quota, pids;
	} ok[] = {
		{ "--memory=64m", 64 << 20, 0, 0 },
		{ "--memory=6m", 6 << 20, 0, 0 },
		{ "--memory=2g", 2ll << 30, 0, 0 },
		{ "--cpus=0.5", 0, 50000, 0 },
		{ "--cpus=2", 0, 200000, 0 },
		{ "--cpus=1.25", 0, 125000, 0 },
		{ "--cpus=0.01", 0, 1000, 0 },
		{ "--cpus=1024", 0, 102400000, 0 },
		{ "--pids=20", 0, 0, 20 },
	};
	static const char *const bad[] = {
		"--memory=5m", "--memory=64x",	"--memory=",  "--memory=-1",
		"--cpus=0",    "--cpus=0.001",	"--cpus=.5",  "--cpus=1.",
		"--cpus=1025", "--cpus=1024.5", "--cpus=abc", "--cpus=1.5.1",
		"--pids=7",    "--pids=0",	"--pids=-3",  "--pids=5000000",
		"--pids=x",
	};
	const char *w[] = { "run", "--network=kernel", NULL, "true", NULL };
	const char *none[] = { "run", "--network=kernel", "true", NULL };
	struct sbx_opts o;
	struct cove_err err;
	unsigned i;

	CHECK(parse(&o, &err, none) == 0 && !o.limits.any);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		w[2] = ok[i].arg;
		CHECK(parse(&o, &err, w) == 0 && o.limits.any &&
		      o.limits.memory == ok[i].memory &&
		      o.limits.cpu_quota == ok[i].quota &&
		      o.limits.pids == ok[i].pids);
		CHECK(!ok[i].quota || o.limits.cpu_period == 100000);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w[2] = bad[i];
		CHECK(parse(&o, &err, w) < 0);
		CHECK(!strncmp(err.msg, bad[i], strcspn(bad[i], "=")));
	}
}

/* --stack-mem, and the stack's default share of --memory. */
static void test_stack_mem(void)
{
	const char *one[] = { "run", "--network=kernel", NULL, "true", NULL };
	const char *two[] = { "run", "--network=kernel", NULL, NULL, "true",
			      NULL };
	struct sbx_opts o;
	struct cove_err err;

	one[2] = "--cpus=1";
	CHECK(parse(&o, &err, one) == 0 && o.stack_mem == 0);
	one[2] = "--stack-mem=32m";
	CHECK(parse(&o, &err, one) == 0 && o.stack_mem == 32u << 20);
	one[2] = "--stack-mem=1m";
	CHECK(parse(&o, &err, one) == 0 && o.stack_mem == 1u << 20);
	one[2] = "--memory=256m";
	CHECK(parse(&o, &err, one) == 0 && o.stack_mem == 64u << 20);
	one[2] = "--memory=6m";
	CHECK(parse(&o, &err, one) == 0 && o.stack_mem == (6u << 20) / 4);
	two[2] = "--memory=256m";
	two[3] = "--stack-mem=8m";
	CHECK(parse(&o, &err, two) == 0 && o.stack_mem == 8u << 20);
	one[2] = "--stack-mem=1023k";
	CHECK(parse(&o, &err, one) < 0 && strstr(err.msg, "--stack-mem"));
	one[2] = "--stack-mem=lots";
	CHECK(parse(&o, &err, one) < 0 && strstr(err.msg, "--stack-mem"));
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_host_fs);
	RUN(test_all_options);
	RUN(test_errors);
	RUN(test_link_xdp_absent);
	RUN(test_help);
	RUN(test_names);
	RUN(test_ipam);
	RUN(test_ip_refused);
	RUN(test_ip_pool);
	RUN(test_route_conflict);
	RUN(test_ip6);
	RUN(test_ip6_derive);
	RUN(test_pools);
	RUN(test_route6_conflict);
	RUN(test_limits);
	RUN(test_stack_mem);
	return check_failures ? 1 : 0;
}
