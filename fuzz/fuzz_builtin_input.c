// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: frames from the wire into the builtin stack, then teardown. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "cove/netstack.h"

/*
 * Input: records of [len: u16 big endian][dt: u8][len bytes]. Each record
 * is one frame given to input() of a builtin instance (10.0.0.1/24, MAC
 * 02:00:c0:7e:00:01, gateway 10.0.0.254; fd00::1/64 without DAD, gateway
 * fd00::fe, link-local fe80::c0ff:fe7e:1) on end A of a mem pair; then the
 * fake clock moves dt * 250 ms and run() is called, so ARP retries and the
 * 30 s reassembly timeout are reachable (IPv6: 60 s, ND and DAD timers,
 * RS, MLD, IGMP). A UDP socket on port 7, in group 239.1.2.3 and with
 * IP_PKTINFO, collects datagrams (drained at the end), a dual-stack AF_INET6 one on [::]:9 with IPV6_RECVPKTINFO too,
 * and unbound ones send one datagram to 10.0.0.2 and one to fd00::2 first,
 * to exercise the ARP and ND queues. A dual-stack TCP listener on [::]:80
 * with a backlog of 1 takes SYNs of both families: the second half-open
 * one already gets
 * a SYN cookie, and ACKs to it are checked as cookies. Whatever the stack
 * transmits is read from end B and freed. Checks: destroy() returns every
 * frame to both pools.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fz_now;

static uint64_t fz_clock(void *host)
{
	(void)host;
	return fz_now;
}

static void fz_drain(struct cove_link *b)
{
	struct cove_frame *f[64];
	unsigned n;

	while ((n = cove_link_rx_burst(b, f, 64)) > 0)
		while (n)
			cove_frame_free(f[--n]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cove_netstack_ops *ops;
	struct cove_stack_config cfg = { .size = sizeof(cfg),
					 .prefix_len = 24,
					 .seed = 1 };
	struct cove_stack_env env = { .now_ns = fz_clock };
	struct cove_frame_pool pa, pb;
	struct cove_link *a, *b;
	struct cove_stack *st;
	struct cove_sock *srv, *cl, *tl, *srv6, *cl6;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(9) };
	uint8_t ctl[256];
	int one = 1;
	struct ip_mreq mr = { .imr_multiaddr.s_addr = htonl(0xef010203) };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(7) };
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint8_t buf[2048];
	size_t off = 0;

	if (!ops && !(ops = cove_stack_find("builtin")))
		abort();
	fz_now = 1000000000ull;
	if (cove_frame_pool_init(&pa, 256, 1536) ||
	    cove_frame_pool_init(&pb, 256, 1536) ||
	    cove_link_mem_pair(&pa, &pb, &a, &b))
		abort();
	env.link = a;
	cfg.addr.s_addr = htonl(0x0a000001);
	cfg.gateway.s_addr = htonl(0x0a0000fe);
	cfg.prefix6_len = 64;
	cfg.addr6.s6_addr[0] = 0xfd;
	cfg.addr6.s6_addr[15] = 1;
	cfg.gateway6 = cfg.addr6;
	cfg.gateway6.s6_addr[15] = 0xfe;
	cfg.flags = COVE_STACK_F_NO_DAD;
	if (ops->create(&cfg, &env, &st))
		abort();
	if (ops->socket(st, AF_INET, SOCK_DGRAM, 0, &srv) ||
	    ops->bind(srv, (struct sockaddr *)&sin, sizeof(sin)) ||
	    ops->setsockopt(srv, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    ops->setsockopt(srv, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
			    sizeof(mr)) ||
	    ops->socket(st, AF_INET, SOCK_DGRAM, 0, &cl))
		abort();
	if (ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &srv6) ||
	    ops->setsockopt(srv6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			    sizeof(one)) ||
	    ops->bind(srv6, (struct sockaddr *)&sin6, sizeof(sin6)) ||
	    ops->socket(st, AF_INET6, SOCK_DGRAM, 0, &cl6))
		abort();
	sin6.sin6_port = htons(80);
	if (ops->socket(st, AF_INET6, SOCK_STREAM, 0, &tl) ||
	    ops->bind(tl, (struct sockaddr *)&sin6, sizeof(sin6)) ||
	    ops->listen(tl, 1))
		abort();
	sin6.sin6_port = htons(9);
	sin.sin_port = htons(7);
	sin.sin_addr.s_addr = htonl(0x0a000002);
	iov.iov_base = buf;
	iov.iov_len = 100;
	memset(buf, 0x5a, sizeof(buf));
	m.msg_name = &sin;
	m.msg_namelen = sizeof(sin);
	ops->sendmsg(cl, &m, 0);
	sin6.sin6_addr = cfg.addr6;
	sin6.sin6_addr.s6_addr[15] = 2;
	m.msg_name = &sin6;
	m.msg_namelen = sizeof(sin6);
	ops->sendmsg(cl6, &m, 0);

	while (size - off >= 3) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		uint8_t dt = data[off + 2];
		struct cove_frame *f;

		off += 3;
		if (len > size - off)
			len = size - off;
		f = cove_frame_alloc(&pa);
		if (!f)
			abort(); /* the stack kept frames it should not */
		if (len > f->cap)
			len = f->cap;
		memcpy(f->data, data + off, len);
		f->len = (uint32_t)len;
		off += len;
		ops->input(st, &f, 1);
		fz_now += (uint64_t)dt * 250000000ull;
		ops->run(st, fz_now);
		ops->run(st, fz_now); /* loopback replies */
		fz_drain(b);
	}
	m.msg_name = NULL;
	iov.iov_len = sizeof(buf);
	do {
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
	} while (ops->recvmsg(srv, &m, 0) >= 0);
	m.msg_name = &sin6;
	for (;;) {
		m.msg_namelen = sizeof(sin6);
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		if (ops->recvmsg(srv6, &m, 0) < 0)
			break;
	}
	ops->close(cl6);
	ops->close(srv6);
	ops->close(tl);
	ops->close(cl);
	ops->close(srv);
	ops->destroy(st);
	fz_drain(b);
	cove_link_close(a);
	cove_link_close(b);
	if (cove_frame_pool_fini(&pa) || cove_frame_pool_fini(&pb))
		abort();
	return 0;
}
