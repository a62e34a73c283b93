// SPDX-License-Identifier: Apache-2.0
/* UDP sockets (skeleton: no sockets yet). */
#include <errno.h>

#include "stacks/builtin/core.h"

int udp_init(struct bstack *st) { (void)st; return 0; }
void udp_fini(struct bstack *st) { (void)st; }
void udp_input(struct bstack *st, const struct ip_pkt *pkt)
{
	st->stats.udp_no_port++;
	icmp_send_error(st, pkt, 3, 3, 0);
}
void udp_icmp_error(struct bstack *st, uint8_t type, uint8_t code,
		    const uint8_t *inner, uint32_t inner_len)
{ (void)st; (void)type; (void)code; (void)inner; (void)inner_len; }
int udp_socket(struct bstack *st, struct bsock **out)
{ (void)st; (void)out; return -ESOCKTNOSUPPORT; }
void udp_stats(struct bstack *st, struct cove_stack_stats *out) { (void)st; (void)out; }
