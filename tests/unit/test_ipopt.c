// SPDX-License-Identifier: Apache-2.0
/* common/ipopt.c: IPPROTO_IP option values read and answered as Linux does. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/ipopt.h"
#include "tests/unit/check.h"

/* test_local() - cove_ipopt_local_fn: only 10.0.0.1 is ours. */
static bool test_local(void *ctx, uint32_t addr)
{
	(void)ctx;
	return addr == htonl(0x0a000001);
}

/* An int, one byte (unsigned), or nothing (0). */
static void test_read(void)
{
	int v = -1, four = 300;
	unsigned char one = 0xf0;

	CHECK(cove_ipopt_read(&four, sizeof(four), &v) == 0 && v == 300);
	CHECK(cove_ipopt_read(&one, 1, &v) == 0 && v == 0xf0);
	CHECK(cove_ipopt_read(&one, 2, &v) == 0 && v == 0xf0);
	CHECK(cove_ipopt_read(NULL, 0, &v) == 0 && v == 0);
	CHECK(cove_ipopt_read(NULL, 4, &v) == -EFAULT);
}

/* One byte into less than an int when it fits, else truncated int bytes. */
static void test_put(void)
{
	unsigned char b[4] = { 0 };
	socklen_t len = 1;
	int v = 0;

	CHECK(cove_ipopt_put(b, &len, 200) == 0 && len == 1 && b[0] == 200);
	len = 2;
	CHECK(cove_ipopt_put(b, &len, 7) == 0 && len == 1 && b[0] == 7);
	len = 2;
	CHECK(cove_ipopt_put(b, &len, 300) == 0 && len == 2);
	len = sizeof(v);
	CHECK(cove_ipopt_put(&v, &len, 300) == 0 && len == 4 && v == 300);
	CHECK(cove_ipopt_put(NULL, &len, 1) == -EFAULT);
}

/* IP_MULTICAST_*: defaults, ranges, stream sockets, the interface. */
static void test_mcast(void)
{
	struct cove_ip_mcopts mc;
	struct in_addr any = { 0 }, ours = { htonl(0x0a000001) };
	struct in_addr other = { htonl(0x01020304) }, got;
	struct ip_mreqn mr = { .imr_address = ours };
	socklen_t len = sizeof(int);
	int v = 0, ttl = 32, big = 256, dflt = -1, bad = -2;
	unsigned char zero = 0;

	memset(&mc, 0, sizeof(mc));
	CHECK(cove_ipopt_mc_get(&mc, IP_MULTICAST_TTL, &v, &len) == 0 &&
	      v == 1);
	len = sizeof(int);
	CHECK(cove_ipopt_mc_get(&mc, IP_MULTICAST_LOOP, &v, &len) == 0 &&
	      v == 1);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_TTL, &ttl, 4,
				test_local, NULL) == 0);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_TTL, &big, 4,
				test_local, NULL) == -EINVAL);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_TTL, &bad, 4,
				test_local, NULL) == -EINVAL);
	len = sizeof(int);
	CHECK(cove_ipopt_mc_get(&mc, IP_MULTICAST_TTL, &v, &len) == 0 &&
	      v == 32);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_TTL, &dflt, 4,
				test_local, NULL) == 0);
	len = sizeof(int);
	CHECK(cove_ipopt_mc_get(&mc, IP_MULTICAST_TTL, &v, &len) == 0 &&
	      v == 1);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_LOOP, &zero, 1,
				test_local, NULL) == 0);
	len = sizeof(int);
	CHECK(cove_ipopt_mc_get(&mc, IP_MULTICAST_LOOP, &v, &len) == 0 &&
	      v == 0);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_LOOP, &zero, 0,
				test_local, NULL) == -EINVAL);
	/* TCP: TTL and IF are EINVAL, LOOP is taken */
	CHECK(cove_ipopt_mc_set(&mc, true, IP_MULTICAST_TTL, &ttl, 4,
				test_local, NULL) == -EINVAL);
	CHECK(cove_ipopt_mc_set(&mc, true, IP_MULTICAST_IF, &any, 4, test_local,
				NULL) == -EINVAL);
	CHECK(cove_ipopt_mc_set(&mc, true, IP_MULTICAST_LOOP, &ttl, 4,
				test_local, NULL) == 0);
	/* the interface: ours or any; an in_addr, ip_mreq or ip_mreqn */
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_IF, &other, 4,
				test_local, NULL) == -EADDRNOTAVAIL);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_IF, &ours, 3,
				test_local, NULL) == -EINVAL);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_IF, &mr, sizeof(mr),
				test_local, NULL) == 0);
	len = sizeof(got);
	CHECK(cove_ipopt_mc_get(&mc, IP_MULTICAST_IF, &got, &len) == 0 &&
	      len == 4 && got.s_addr == ours.s_addr);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_MULTICAST_IF, &any, 4,
				test_local, NULL) == 0);
	CHECK(cove_ipopt_mc_set(&mc, false, IP_TOS, &ttl, 4, test_local,
				NULL) == -ENOPROTOOPT);
}

int main(void)
{
	RUN(test_read);
	RUN(test_put);
	RUN(test_mcast);
	return check_failures ? 1 : 0;
}
