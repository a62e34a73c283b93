/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink requests over libmnl, shared by the runtime and the sentry. */
#ifndef COVE_NETLINK_NETLINK_H
#define COVE_NETLINK_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cove/err.h"

/*
 * Theory of operation
 *
 * One struct cove_nl is one NETLINK_ROUTE socket. Every request is one
 * message with NLM_F_ACK, sent and answered synchronously: the kernel's
 * ack carries the errno, which comes back as -errno with @err set. The
 * runtime uses it on the host (the veth pair, the host end's address and
 * routes, the pool's fence route); the sentry inside the sandbox's netns
 * (lo, eth0, the default route, the ingress classifiers). Set-up and
 * clean-up only, never the data path.
 */

struct mnl_socket;

struct cove_nl {
	struct mnl_socket *nl;
	uint32_t seq, portid;
};

int cove_nl_open(struct cove_nl *nl, struct cove_err *err);
void cove_nl_close(struct cove_nl *nl);
int cove_nl_ifindex(struct cove_nl *nl, const char *name);
int cove_nl_veth_add(struct cove_nl *nl, const char *name, const char *peer,
		     pid_t peer_ns_pid, struct cove_err *err);
int cove_nl_link_del(struct cove_nl *nl, const char *name,
		     struct cove_err *err);
int cove_nl_link_set(struct cove_nl *nl, int ifindex, const char *new_name,
		     bool up, struct cove_err *err);
int cove_nl_addr_add(struct cove_nl *nl, int ifindex, struct in_addr addr,
		     uint8_t prefix, struct cove_err *err);
int cove_nl_route_add(struct cove_nl *nl, struct in_addr dst, uint8_t prefix,
		      struct in_addr gw, int ifindex, struct cove_err *err);
/*
 * An "unreachable" route for @dst/@prefix unless a route for exactly that
 * prefix exists already (then nothing changes). Return: 0, or < 0.
 */
int cove_nl_route_fence(struct cove_nl *nl, struct in_addr dst, uint8_t prefix,
			struct cove_err *err);
int cove_nl_ingress_drop(struct cove_nl *nl, int ifindex, struct cove_err *err);
/* Every frame arriving on @ifindex leaves by the egress of @to (0: drop). */
int cove_nl_ingress_redirect(struct cove_nl *nl, int ifindex, int to,
			     struct cove_err *err);

int cove_nl_qdisc_del_clsact(struct cove_nl *nl, int ifindex);

#endif /* COVE_NETLINK_NETLINK_H */
