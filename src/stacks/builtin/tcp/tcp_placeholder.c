// SPDX-License-Identifier: Apache-2.0
/* Temporary: lets the builtin core link until TCP lands (replaced by tcp_*.c). */
#include <errno.h>

#include "stacks/builtin/builtin.h"

int tcp_init(struct bstack *st) { (void)st; return 0; }
void tcp_fini(struct bstack *st) { (void)st; }
void tcp_input(struct bstack *st, const struct ip_pkt *pkt) { (void)st; (void)pkt; }
void tcp_icmp_error(struct bstack *st, uint8_t type, uint8_t code,
		    const uint8_t *inner, uint32_t inner_len)
{ (void)st; (void)type; (void)code; (void)inner; (void)inner_len; }
int tcp_socket(struct bstack *st, struct bsock **out)
{ (void)st; (void)out; return -EPROTONOSUPPORT; }
void tcp_stats(struct bstack *st, struct cove_stack_stats *out) { (void)st; (void)out; }
