/* SPDX-License-Identifier: Apache-2.0 */
/* IPPROTO_IP socket options as Linux takes them, for the providers. */
#ifndef COVE_COMMON_IPOPT_H
#define COVE_COMMON_IPOPT_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Zeroed: Linux's defaults (TTL 1, loop on, any interface). */
struct cove_ip_mcopts {
	uint32_t ifaddr; /* IP_MULTICAST_IF, network order; 0: any */
	uint8_t ttl;	 /* IP_MULTICAST_TTL, if @ttl_set */
	bool ttl_set;
	bool noloop; /* IP_MULTICAST_LOOP 0 */
};

/* Is @addr (network order) one of the provider's addresses? */
typedef bool cove_ipopt_local_fn(void *ctx, uint32_t addr);

/* cove_ipopt_read() - an int option value, or one byte as unsigned char
 * (Linux's do_ip_setsockopt()); a 0-length value is 0. Return: 0, -EFAULT. */
int cove_ipopt_read(const void *val, socklen_t len, int *v);
/* cove_ipopt_put() - an int answer; one byte if *@len < 4 and it fits. */
int cove_ipopt_put(void *val, socklen_t *len, int v);
int cove_ipopt_mc_set(struct cove_ip_mcopts *mc, bool stream, int name,
		      const void *val, socklen_t len,
		      cove_ipopt_local_fn *local, void *ctx);
int cove_ipopt_mc_get(const struct cove_ip_mcopts *mc, int name, void *val,
		      socklen_t *len);
#endif /* COVE_COMMON_IPOPT_H */
