// SPDX-License-Identifier: Apache-2.0
/* IPPROTO_IP socket options as Linux reads, checks and reports them. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/ipopt.h"

/*
 * Theory of operation
 *
 * TCP and UDP sockets share Linux's do_ip_setsockopt() rules for the
 * IPPROTO_IP options they take: an int, or a single byte read as an
 * unsigned char (a 0-length value is 0), and a get into fewer than 4
 * bytes answers one byte when the value fits. The multicast options live
 * in struct cove_ip_mcopts on every socket (zeroed means Linux's defaults): IP_MULTICAST_TTL and
 * IP_MULTICAST_IF are EINVAL on a stream socket (as on Linux), TTL -1
 * means the default 1, IP_MULTICAST_IF takes an in_addr or ip_mreqn whose
 * address must be INADDR_ANY or one of ours (EADDRNOTAVAIL otherwise).
 * Whether an address is one of the stack's is the caller's to say (a
 * callback), since each provider knows its own. Used by the builtin and
 * lwip providers.
 */

int cove_ipopt_read(const void *val, socklen_t len, int *v)
{
	unsigned char c;

	*v = 0;
	if (len && !val)
		return -EFAULT;
	if (len >= sizeof(int)) {
		memcpy(v, val, sizeof(int));
	} else if (len >= 1) {
		memcpy(&c, val, 1);
		*v = c;
	}
	return 0;
}

int cove_ipopt_put(void *val, socklen_t *len, int v)
{
	unsigned char c = (unsigned char)v;
	socklen_t n;

	if (!val || !len)
		return -EFAULT;
	if (*len < sizeof(int) && *len > 0 && v >= 0 && v <= 255) {
		memcpy(val, &c, 1);
		*len = 1;
		return 0;
	}
	n = *len < sizeof(int) ? *len : (socklen_t)sizeof(int);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* ipopt_mc_if() - IP_MULTICAST_IF's address from an in_addr, ip_mreq or
 * ip_mreqn (imr_interface and imr_address share their place); an ifindex
 * alone is not looked up, the address decides. */
static int ipopt_mc_if(struct cove_ip_mcopts *mc, const void *val,
		       socklen_t len, cove_ipopt_local_fn *local, void *ctx)
{
	struct ip_mreqn mr;

	memset(&mr, 0, sizeof(mr));
	if (len < sizeof(struct in_addr) || !val)
		return -EINVAL;
	if (len >= sizeof(struct ip_mreqn))
		memcpy(&mr, val, sizeof(mr));
	else if (len >= sizeof(struct ip_mreq))
		memcpy(&mr, val, sizeof(struct ip_mreq));
	else
		memcpy(&mr.imr_address, val, sizeof(struct in_addr));
	if (mr.imr_address.s_addr != INADDR_ANY &&
	    !local(ctx, mr.imr_address.s_addr))
		return -EADDRNOTAVAIL;
	mc->ifaddr = mr.imr_address.s_addr;
	return 0;
}

/**
 * cove_ipopt_mc_set() - setsockopt() of an IP_MULTICAST_* option
 * @mc:		the socket's multicast options
 * @stream:	a TCP socket
 * @name:	option name
 * @val:	value, in host memory, @len bytes
 * @len:	its length
 * @local:	is an address (network order) one of the stack's?
 * @ctx:	its first argument
 *
 * Return: 0, -EINVAL, -EADDRNOTAVAIL, or -ENOPROTOOPT (not one of these).
 */
int cove_ipopt_mc_set(struct cove_ip_mcopts *mc, bool stream, int name,
		      const void *val, socklen_t len,
		      cove_ipopt_local_fn *local, void *ctx)
{
	int v, ret;

	if (name != IP_MULTICAST_TTL && name != IP_MULTICAST_LOOP &&
	    name != IP_MULTICAST_IF)
		return -ENOPROTOOPT;
	if (stream && name != IP_MULTICAST_LOOP)
		return -EINVAL;
	if (name == IP_MULTICAST_IF)
		return ipopt_mc_if(mc, val, len, local, ctx);
	if (len < 1)
		return -EINVAL;
	ret = cove_ipopt_read(val, len, &v);
	if (ret < 0)
		return ret;
	if (name == IP_MULTICAST_LOOP) {
		mc->noloop = v == 0;
		return 0;
	}
	if (v == -1)
		v = 1;
	if (v < 0 || v > 255)
		return -EINVAL;
	mc->ttl = (uint8_t)v;
	mc->ttl_set = true;
	return 0;
}

/**
 * cove_ipopt_mc_get() - getsockopt() of an IP_MULTICAST_* option
 * @mc:		the socket's multicast options
 * @name:	option name
 * @val:	output, in host memory
 * @len:	in: room; out: bytes written
 *
 * Return: 0, -EFAULT, or -ENOPROTOOPT (not one of these).
 */
int cove_ipopt_mc_get(const struct cove_ip_mcopts *mc, int name, void *val,
		      socklen_t *len)
{
	socklen_t n;

	if (name == IP_MULTICAST_TTL)
		return cove_ipopt_put(val, len, mc->ttl_set ? mc->ttl : 1);
	if (name == IP_MULTICAST_LOOP)
		return cove_ipopt_put(val, len, !mc->noloop);
	if (name != IP_MULTICAST_IF)
		return -ENOPROTOOPT;
	if (!val || !len)
		return -EFAULT;
	n = *len < sizeof(struct in_addr) ? *len :
					    (socklen_t)sizeof(struct in_addr);
	memcpy(val, &mc->ifaddr, n);
	*len = n;
	return 0;
}
