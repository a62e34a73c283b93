// SPDX-License-Identifier: Apache-2.0
/* Differential socket-option checks (see sockdiff.c for how they report). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sockdiff.h"

/*
 * Each check sets an option the way programs do (right and wrong values,
 * int and 1-byte forms) and reads it back; the observation lists every
 * result. Values that depend on the host's sysctls (default buffer sizes,
 * the default congestion control) are read on the kernel and in the
 * sandbox alike, so the comparison holds on any machine.
 */

/* set_int() - setsockopt of @v in @len bytes (4, or 1 for a char). */
static void set_int(int fd, int level, int name, int v, socklen_t len)
{
	unsigned char c = (unsigned char)v;
	int r = len == 1 ? setsockopt(fd, level, name, &c, 1) :
			   setsockopt(fd, level, name, &v, sizeof(v));

	if (r < 0)
		sd_ob("set%s(%d)=%s", len == 1 ? "1" : "", v, sd_ename(errno));
	else
		sd_ob("set%s(%d)=0", len == 1 ? "1" : "", v);
}

/* get_int() - getsockopt into an int (or @len bytes of it). */
static void get_int(int fd, int level, int name, socklen_t len)
{
	int v = 0;

	if (getsockopt(fd, level, name, &v, &len) < 0)
		sd_ob("get=%s", sd_ename(errno));
	else if (len == 1)
		sd_ob("get1=%d", *(unsigned char *)&v);
	else
		sd_ob("get=%d/%u", v, len);
}

/**
 * opt_int() - one integer option: default, each of @vals set and read back
 * @name:	the check's name
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @level:	option level
 * @opt:	option name
 * @n:		how many values follow
 */
static void opt_int(const char *name, int type, int level, int opt, int n, ...)
{
	int fd = socket(AF_INET, type, 0), i;
	va_list ap;

	get_int(fd, level, opt, sizeof(int));
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		set_int(fd, level, opt, va_arg(ap, int), sizeof(int));
		get_int(fd, level, opt, sizeof(int));
	}
	va_end(ap);
	close(fd);
	sd_ob_end(name);
}

/* opt_byte() - the 1-byte forms of an option Linux reads as int or char. */
static void opt_byte(const char *name, int type, int level, int opt, int v)
{
	int fd = socket(AF_INET, type, 0);

	set_int(fd, level, opt, v, 1);
	get_int(fd, level, opt, sizeof(int));
	get_int(fd, level, opt, 1);
	close(fd);
	sd_ob_end(name);
}

/* SO_RCVTIMEO and SO_SNDTIMEO read back as set. */
static void sd_timeo(const char *name, int type, int opt)
{
	int fd = socket(AF_INET, type, 0);
	struct timeval tv = { 0 }, set = { .tv_sec = 2, .tv_usec = 500000 };
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0)
		sd_ob("get=%s", sd_ename(errno));
	else
		sd_ob("get=%ld.%06ld/%u", (long)tv.tv_sec, (long)tv.tv_usec,
		      len);
	sd_ob("set=%s", setsockopt(fd, SOL_SOCKET, opt, &set, sizeof(set)) < 0 ?
				sd_ename(errno) :
				"0");
	len = sizeof(tv);
	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0)
		sd_ob("get=%s", sd_ename(errno));
	else
		sd_ob("get=%ld.%06ld/%u", (long)tv.tv_sec, (long)tv.tv_usec,
		      len);
	close(fd);
	sd_ob_end(name);
}

/* get_cc() - TCP_CONGESTION read back, with the length Linux reports. */
static void get_cc(int fd)
{
	char cc[32];
	socklen_t len = sizeof(cc);

	memset(cc, 0, sizeof(cc));
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len) < 0)
		sd_ob("get=%s", sd_ename(errno));
	else
		sd_ob("get=%.16s/%u", cc, len);
}

/* set_cc() - TCP_CONGESTION set to @cc. */
static void set_cc(int fd, const char *cc)
{
	int r = setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc,
			   (socklen_t)strlen(cc));

	sd_ob("set(%s)=%s", cc, r < 0 ? sd_ename(errno) : "0");
}

/*
 * TCP_CONGESTION: a name Linux has is taken and read back (16 bytes, as
 * Linux's TCP_CA_NAME_MAX), an unknown one refused. Only "reno" is set:
 * whether others may be depends on the host's allowed list, and the
 * default on its sysctl, so neither is compared.
 */
static void sd_congestion(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	set_cc(fd, "nosuchalgo");
	set_cc(fd, "reno");
	get_cc(fd);
	close(fd);
	sd_ob_end("opt_tcp_congestion");
}

/* ob_get_filter() - SO_GET_FILTER: the length in instructions, with room
 * for @room of them, and the first one's code. */
static void ob_get_filter(int fd, socklen_t room)
{
	struct sock_filter got[2];
	socklen_t len = room;

	memset(got, 0, sizeof(got));
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &len) < 0)
		sd_ob("get(%u)=%s", room, sd_ename(errno));
	else
		sd_ob("get(%u)=%u/0x%x", room, len, got[0].code);
}

/*
 * SO_ATTACH_FILTER (classic BPF, as DHCP clients and packet tools use):
 * an accept-all filter attached and read back (SO_GET_FILTER counts
 * instructions), an empty one refused, detached twice.
 * Linux takes it on UDP without privilege; on TCP it wants CAP_NET_ADMIN
 * since commit 5d39580f68e6 (a plain container has none: EPERM).
 */
static void sd_attach_filter(int type, const char *name)
{
	struct sock_filter all = BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
	struct sock_fprog prog = { .len = 1, .filter = &all };
	int fd = socket(AF_INET, type, 0), zero = 0;

	sd_ob("attach=%s", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
				      sizeof(prog)) < 0 ?
				   sd_ename(errno) :
				   "0");
	ob_get_filter(fd, 0);
	ob_get_filter(fd, 2);
	/* eBPF: bpf() is denied, so no fd names a program */
	sd_ob("bpf(-1)=%s", setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF,
				       &(int){ -1 }, sizeof(int)) < 0 ?
				    sd_ename(errno) :
				    "0");
	sd_ob("bpf(0)=%s", setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF,
				      &(int){ 0 }, sizeof(int)) < 0 ?
				   sd_ename(errno) :
				   "0");
	prog.len = 0;
	sd_ob("attach(empty)=%s", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER,
					     &prog, sizeof(prog)) < 0 ?
					  sd_ename(errno) :
					  "0");
	sd_ob("attach(short)=%s",
	      setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, 4) < 0 ?
		      sd_ename(errno) :
		      "0");
	sd_ob("detach=%s", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
				      sizeof(zero)) < 0 ?
				   sd_ename(errno) :
				   "0");
	sd_ob("detach=%s", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
				      sizeof(zero)) < 0 ?
				   sd_ename(errno) :
				   "0");
	close(fd);
	sd_ob_end(name);
}

/*
 * A UDP socket filter acts: with a drop-all filter a datagram to itself
 * over 127.0.0.1 is not received; detached, the next one is.
 */
static void sd_attach_filter_drops(void)
{
	struct sock_filter none = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &none };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), zero = 0;
	char b[8];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		sd_ob("bind=%s", sd_ename(errno));
	} else {
		sd_ob("attach=%s", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER,
					      &prog, sizeof(prog)) < 0 ?
					   sd_ename(errno) :
					   "0");
		(void)sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
		usleep(100 * 1000);
		sd_ob("recv=%s", recv(fd, b, sizeof(b), MSG_DONTWAIT) < 0 ?
					 sd_ename(errno) :
					 "1");
		(void)setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
				 sizeof(zero));
		(void)sendto(fd, "y", 1, 0, (struct sockaddr *)&a, sizeof(a));
		usleep(100 * 1000);
		sd_ob("recv=%s", recv(fd, b, sizeof(b), MSG_DONTWAIT) < 0 ?
					 sd_ename(errno) :
					 "1");
	}
	close(fd);
	sd_ob_end("opt_so_attach_filter_drops");
}

/* IP_MULTICAST_IF: an address, read back as a struct in_addr. */
static void sd_mcast_if(int type, const char *name)
{
	int fd = socket(AF_INET, type, 0);
	struct in_addr a = { 0 }, set = { htonl(INADDR_LOOPBACK) };
	struct in_addr bad = { htonl(0x01020304) };
	socklen_t len = sizeof(a);
	char s[INET_ADDRSTRLEN];

	if (getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, &len) < 0)
		sd_ob("get=%s", sd_ename(errno));
	else
		sd_ob("get=%s/%u", inet_ntop(AF_INET, &a, s, sizeof(s)), len);
	sd_ob("set(lo)=%s", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &set,
				       sizeof(set)) < 0 ?
				    sd_ename(errno) :
				    "0");
	len = sizeof(a);
	if (getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, &len) < 0)
		sd_ob("get=%s", sd_ename(errno));
	else
		sd_ob("get=%s/%u", inet_ntop(AF_INET, &a, s, sizeof(s)), len);
	sd_ob("set(1.2.3.4)=%s", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF,
					    &bad, sizeof(bad)) < 0 ?
					 sd_ename(errno) :
					 "0");
	close(fd);
	sd_ob_end(name);
}

/* sd_mset() - one membership call's result: "@what=0" or its errno. */
static void sd_mset(int fd, const char *what, int name, const void *v,
		    socklen_t len)
{
	sd_ob("%s=%s", what,
	      setsockopt(fd, IPPROTO_IP, name, v, len) < 0 ? sd_ename(errno) :
							     "0");
}

static struct ip_mreqn sd_mreq(const char *group, const char *ifaddr,
			       int ifindex)
{
	struct ip_mreqn m = { .imr_ifindex = ifindex };

	inet_pton(AF_INET, group, &m.imr_multiaddr);
	inet_pton(AF_INET, ifaddr, &m.imr_address);
	return m;
}

static struct ip_mreq_source sd_msrc(const char *group, const char *src)
{
	struct ip_mreq_source m = { .imr_interface = { 0 } };

	inet_pton(AF_INET, group, &m.imr_multiaddr);
	inet_pton(AF_INET, src, &m.imr_sourceaddr);
	return m;
}

/*
 * IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP on @type: ip_mreq and ip_mreqn,
 * a second join, a unicast group, short values, an interface address
 * that is not ours, drops that match nothing; the per-socket limit (20).
 */
static void sd_membership(int type, const char *name)
{
	int fd = socket(AF_INET, type, 0), i;
	struct ip_mreqn g = sd_mreq("239.7.7.7", "0.0.0.0", 0);
	struct ip_mreqn u = sd_mreq("10.1.2.3", "0.0.0.0", 0);
	struct ip_mreqn bad = sd_mreq("239.7.7.8", "1.2.3.4", 0);
	struct ip_mreqn other = sd_mreq("239.9.9.9", "0.0.0.0", 0);
	socklen_t len;

	sd_mset(fd, "join", IP_ADD_MEMBERSHIP, &g, sizeof(struct ip_mreq));
	sd_mset(fd, "again", IP_ADD_MEMBERSHIP, &g, sizeof(struct ip_mreq));
	sd_mset(fd, "againn", IP_ADD_MEMBERSHIP, &g, sizeof(g));
	sd_mset(fd, "unicast", IP_ADD_MEMBERSHIP, &u, sizeof(struct ip_mreq));
	sd_mset(fd, "short", IP_ADD_MEMBERSHIP, &g, 4);
	sd_mset(fd, "ifaddr", IP_ADD_MEMBERSHIP, &bad, sizeof(struct ip_mreq));
	sd_mset(fd, "dropother", IP_DROP_MEMBERSHIP, &other,
		sizeof(struct ip_mreq));
	sd_mset(fd, "dropunicast", IP_DROP_MEMBERSHIP, &u,
		sizeof(struct ip_mreq));
	sd_mset(fd, "drop", IP_DROP_MEMBERSHIP, &g, sizeof(struct ip_mreq));
	sd_mset(fd, "dropagain", IP_DROP_MEMBERSHIP, &g,
		sizeof(struct ip_mreq));
	len = sizeof(g);
	sd_ob("get=%s",
	      getsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &g, &len) < 0 ?
		      sd_ename(errno) :
		      "0");
	for (i = 0; i < 21 && type == SOCK_DGRAM; i++) {
		char a[32];
		struct ip_mreqn m;

		snprintf(a, sizeof(a), "239.8.0.%d", i + 1);
		m = sd_mreq(a, "0.0.0.0", 0);
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m,
			       sizeof(m)) < 0) {
			sd_ob("join%d=%s", i + 1, sd_ename(errno));
			break;
		}
	}
	close(fd);
	sd_ob_end(name);
}

/*
 * bind() of a UDP socket to a group (Linux takes it; the socket then gets
 * that group's datagrams only), read back by getsockname().
 */
static void sd_bind_group(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char s[INET_ADDRSTRLEN];

	inet_pton(AF_INET, "239.7.7.9", &a.sin_addr);
	sd_ob("bind=%s", bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ?
				 sd_ename(errno) :
				 "0");
	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		sd_ob("name=%s", sd_ename(errno));
	else
		sd_ob("name=%s", inet_ntop(AF_INET, &a.sin_addr, s, sizeof(s)));
	close(fd);
	sd_ob_end("bind_group_udp");
}

/*
 * The source filter options: IP_ADD/DROP_SOURCE_MEMBERSHIP and
 * IP_BLOCK/UNBLOCK_SOURCE, their mode rules and errors.
 */
static void sd_source_membership(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ip_mreq_source a = sd_msrc("232.1.1.1", "10.0.0.9");
	struct ip_mreq_source b = sd_msrc("232.1.1.1", "10.0.0.8");
	struct ip_mreq_source x = sd_msrc("239.6.6.6", "10.0.0.8");
	struct ip_mreqn g = sd_mreq("239.6.6.6", "0.0.0.0", 0);

	sd_mset(fd, "block", IP_BLOCK_SOURCE, &a, sizeof(a));
	sd_mset(fd, "len", IP_ADD_SOURCE_MEMBERSHIP, &a, sizeof(a) - 1);
	sd_mset(fd, "add", IP_ADD_SOURCE_MEMBERSHIP, &a, sizeof(a));
	sd_mset(fd, "add", IP_ADD_SOURCE_MEMBERSHIP, &a, sizeof(a));
	sd_mset(fd, "block", IP_BLOCK_SOURCE, &b, sizeof(b));
	sd_mset(fd, "drop", IP_DROP_SOURCE_MEMBERSHIP, &b, sizeof(b));
	sd_mset(fd, "drop", IP_DROP_SOURCE_MEMBERSHIP, &a, sizeof(a));
	sd_mset(fd, "drop", IP_DROP_SOURCE_MEMBERSHIP, &a, sizeof(a));
	sd_mset(fd, "join", IP_ADD_MEMBERSHIP, &g, sizeof(struct ip_mreq));
	sd_mset(fd, "block", IP_BLOCK_SOURCE, &x, sizeof(x));
	sd_mset(fd, "block", IP_BLOCK_SOURCE, &x, sizeof(x));
	sd_mset(fd, "unblock", IP_UNBLOCK_SOURCE, &x, sizeof(x));
	sd_mset(fd, "unblock", IP_UNBLOCK_SOURCE, &x, sizeof(x));
	close(fd);
	sd_ob_end("opt_ip_source_membership_udp");
}

/* SO_RCVBUF / SO_SNDBUF: a set value reads back doubled, small ones raised
 * to Linux's minimum. The defaults differ by stack, so they are not read. */
static void sd_bufsize(const char *name, int type, int opt)
{
	int fd = socket(AF_INET, type, 0);

	set_int(fd, SOL_SOCKET, opt, 65536, sizeof(int));
	get_int(fd, SOL_SOCKET, opt, sizeof(int));
	set_int(fd, SOL_SOCKET, opt, 1, sizeof(int));
	get_int(fd, SOL_SOCKET, opt, sizeof(int));
	close(fd);
	sd_ob_end(name);
}

void sd_run_options(void)
{
	opt_int("opt_tcp_user_timeout", SOCK_STREAM, IPPROTO_TCP,
		TCP_USER_TIMEOUT, 3, 5000, 0, -1);
	opt_int("opt_tcp_linger2", SOCK_STREAM, IPPROTO_TCP, TCP_LINGER2, 4, 10,
		0, 500, -1);
	opt_int("opt_ip_mtu_discover_tcp", SOCK_STREAM, IPPROTO_IP,
		IP_MTU_DISCOVER, 3, IP_PMTUDISC_DO, IP_PMTUDISC_OMIT, 6);
	opt_int("opt_ip_mtu_discover_udp", SOCK_DGRAM, IPPROTO_IP,
		IP_MTU_DISCOVER, 3, IP_PMTUDISC_DONT, IP_PMTUDISC_PROBE, -1);
	sd_timeo("opt_so_rcvtimeo_tcp", SOCK_STREAM, SO_RCVTIMEO);
	sd_timeo("opt_so_sndtimeo_tcp", SOCK_STREAM, SO_SNDTIMEO);
	sd_timeo("opt_so_rcvtimeo_udp", SOCK_DGRAM, SO_RCVTIMEO);
	sd_congestion();
	sd_attach_filter(SOCK_STREAM, "opt_so_attach_filter_tcp");
	sd_attach_filter(SOCK_DGRAM, "opt_so_attach_filter_udp");
	sd_attach_filter_drops();
	opt_int("opt_tcp_maxseg", SOCK_STREAM, IPPROTO_TCP, TCP_MAXSEG, 4, 87,
		88, 1000, 40000);
	opt_int("opt_tcp_keepidle", SOCK_STREAM, IPPROTO_TCP, TCP_KEEPIDLE, 4,
		0, 32768, 60, -5);
	opt_int("opt_tcp_keepintvl", SOCK_STREAM, IPPROTO_TCP, TCP_KEEPINTVL, 4,
		0, 32768, 30, 32767);
	opt_int("opt_tcp_keepcnt", SOCK_STREAM, IPPROTO_TCP, TCP_KEEPCNT, 4, 0,
		128, 5, 127);
	opt_byte("opt_ip_tos_byte_tcp", SOCK_STREAM, IPPROTO_IP, IP_TOS, 0x10);
	opt_byte("opt_ip_tos_byte_udp", SOCK_DGRAM, IPPROTO_IP, IP_TOS, 0x11);
	opt_int("opt_ip_tos_tcp", SOCK_STREAM, IPPROTO_IP, IP_TOS, 2, 0x13,
		0x100);
	opt_byte("opt_ip_multicast_loop_byte", SOCK_DGRAM, IPPROTO_IP,
		 IP_MULTICAST_LOOP, 0);
	opt_byte("opt_ip_multicast_ttl_byte", SOCK_DGRAM, IPPROTO_IP,
		 IP_MULTICAST_TTL, 7);
	opt_int("opt_ip_multicast_ttl", SOCK_DGRAM, IPPROTO_IP,
		IP_MULTICAST_TTL, 4, 32, 256, -1, -2);
	opt_int("opt_ip_multicast_loop", SOCK_DGRAM, IPPROTO_IP,
		IP_MULTICAST_LOOP, 2, 0, 5);
	opt_int("opt_ip_multicast_ttl_tcp", SOCK_STREAM, IPPROTO_IP,
		IP_MULTICAST_TTL, 1, 3);
	opt_int("opt_ip_ttl_tcp", SOCK_STREAM, IPPROTO_IP, IP_TTL, 4, 5, 0, 256,
		-1);
	opt_int("opt_ip_ttl_udp", SOCK_DGRAM, IPPROTO_IP, IP_TTL, 4, 5, 0, 256,
		-1);
	opt_byte("opt_ip_ttl_byte_udp", SOCK_DGRAM, IPPROTO_IP, IP_TTL, 9);
	opt_int("opt_so_keepalive", SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, 2, 5,
		0);
	opt_int("opt_so_reuseport_tcp", SOCK_STREAM, SOL_SOCKET, SO_REUSEPORT,
		2, 1, 0);
	opt_int("opt_so_broadcast_udp", SOCK_DGRAM, SOL_SOCKET, SO_BROADCAST, 2,
		1, 0);
	opt_int("opt_so_rcvlowat_tcp", SOCK_STREAM, SOL_SOCKET, SO_RCVLOWAT, 2,
		100, 0);
	opt_int("opt_so_priority", SOCK_STREAM, SOL_SOCKET, SO_PRIORITY, 2, 3,
		0);
	opt_int("opt_tcp_nodelay", SOCK_STREAM, IPPROTO_TCP, TCP_NODELAY, 2, 7,
		0);
	opt_int("opt_tcp_cork", SOCK_STREAM, IPPROTO_TCP, TCP_CORK, 2, 1, 0);
	opt_int("opt_tcp_syncnt", SOCK_STREAM, IPPROTO_TCP, TCP_SYNCNT, 4, 3, 0,
		256, 255);
	opt_int("opt_tcp_defer_accept", SOCK_STREAM, IPPROTO_TCP,
		TCP_DEFER_ACCEPT, 2, 5, 0);
	opt_int("opt_tcp_window_clamp", SOCK_STREAM, IPPROTO_TCP,
		TCP_WINDOW_CLAMP, 2, 100000, 0);
	opt_int("opt_tcp_quickack", SOCK_STREAM, IPPROTO_TCP, TCP_QUICKACK, 2,
		0, 1);
	opt_int("opt_ip_recverr_udp", SOCK_DGRAM, IPPROTO_IP, IP_RECVERR, 2, 1,
		0);
	opt_int("opt_ip_pktinfo_udp", SOCK_DGRAM, IPPROTO_IP, IP_PKTINFO, 2, 1,
		0);
	opt_int("opt_ip_multicast_all", SOCK_DGRAM, IPPROTO_IP,
		IP_MULTICAST_ALL, 3, 0, 2, 1);
	opt_byte("opt_ip_multicast_all_byte", SOCK_DGRAM, IPPROTO_IP,
		 IP_MULTICAST_ALL, 0);
	sd_membership(SOCK_DGRAM, "opt_ip_membership_udp");
	sd_membership(SOCK_STREAM, "opt_ip_membership_tcp");
	sd_source_membership();
	sd_bind_group();
	sd_mcast_if(SOCK_DGRAM, "opt_ip_multicast_if_udp");
	sd_mcast_if(SOCK_STREAM, "opt_ip_multicast_if_tcp");
	sd_bufsize("opt_so_rcvbuf_tcp", SOCK_STREAM, SO_RCVBUF);
	sd_bufsize("opt_so_sndbuf_tcp", SOCK_STREAM, SO_SNDBUF);
	sd_bufsize("opt_so_rcvbuf_udp", SOCK_DGRAM, SO_RCVBUF);
	sd_bufsize("opt_so_sndbuf_udp", SOCK_DGRAM, SO_SNDBUF);
}
