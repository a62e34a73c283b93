// SPDX-License-Identifier: Apache-2.0
/* lwip provider: loopback (127.0.0.1 and our own address) without a thread. */
#include <errno.h>
#include <string.h>

#include "lwip/ip.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/tcp.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "stacks/lwip/lw.h"

/*
 * Theory of operation
 *
 * Debian's lwIP is built with LWIP_NETIF_LOOPBACK=1 and LWIP_HAVE_LOOPIF=0:
 * ip4_output_if() hands every packet whose destination is the outgoing
 * netif's own address or in 127/8 (and a copy of every multicast packet
 * sent with IP_MULTICAST_LOOP) to netif_loop_output(), which copies it
 * into one PBUF_RAM pbuf and appends it to that netif's loop queue
 * (@loop_first .. @loop_last, packets chained through ->next, a packet's
 * last pbuf being the one whose len equals its tot_len). NO_SYS=0 makes
 * it LWIP_NETIF_LOOPBACK_MULTITHREADING as well: when it appends to an
 * empty queue it posts netif_poll() to the tcpip thread's mailbox with
 * tcpip_try_callback(), which asserts that the mailbox exists and aborts
 * the process; this provider never starts that thread (lw.h).
 *
 * So every netif lwIP can loop on carries a sentinel: an empty pbuf that
 * stays at the head of its loop queue from lw_loop_open() to
 * lw_loop_close(). The queue is then never empty, netif_loop_output()
 * only appends behind it and never schedules anything (@reschedule_poll
 * stays 0: only the failed schedule sets it). lw_loop_run() does
 * netif_poll()'s work from run(), on the host thread: it unlinks the
 * packets behind the sentinel one at a time and gives each to ip_input()
 * on the netif it was queued on. Nothing recurses: a packet the input
 * produces (a SYN-ACK, an ACK, an echo) is appended behind the sentinel
 * and taken by the same loop, up to LW_LOOP_BUDGET packets per run();
 * run() asks to be called again at once while packets wait.
 *
 * Two netifs loop. "lo" holds 127.0.0.1/8 and ::1, so lwIP routes 127/8
 * and ::1 there and picks 127.0.0.1 (::1) as the source of a socket bound
 * to the wildcard, as Linux does; "cv" (the link's) loops packets to the
 * sandbox's own addresses, IPv4 and IPv6.
 * lwIP accepts only 127.0.0.1 itself of 127/8 (ip4_input_accept()), so
 * the other 127/8 addresses can be neither bound nor reached
 * (lw_addr_unroutable()). Looped packets never pass lw_filter() or
 * lw_guard: they are lwIP's own output. What they cost is bounded like
 * any socket's: each connection needs two of the instance's max_sockets.
 */

#define LW_LOOP_BUDGET 1024u /* looped packets per run() */

/* lw_loop_netif_output() - "lo"'s output: nothing leaves it. */
static err_t lw_loop_netif_output(struct netif *netif, struct pbuf *p,
				  const ip4_addr_t *dst)
{
	(void)netif;
	(void)p;
	(void)dst;
	return ERR_OK; /* multicast with IP_MULTICAST_IF 127.0.0.1: looped only */
}

/* lw_loop_netif_output6() - "lo"'s IPv6 output: nothing leaves it. */
static err_t lw_loop_netif_output6(struct netif *netif, struct pbuf *p,
				   const ip6_addr_t *dst)
{
	(void)netif;
	(void)p;
	(void)dst;
	return ERR_OK; /* ::1 itself is looped by ip6_output_if() */
}

/* lw_loop_netif_init() - netif_add()'s init hook for "lo". */
static err_t lw_loop_netif_init(struct netif *netif)
{
	netif->name[0] = 'l';
	netif->name[1] = 'o';
	netif->num = LW_NUM_LO; /* index 1, as a sandbox's lo */
	netif->output = lw_loop_netif_output;
	netif->output_ip6 = lw_loop_netif_output6;
	netif->mtu = 0xffff;
	netif->flags = 0;
	return ERR_OK;
}

/*
 * lw_loop_arm() - park the sentinel at the head of @netif's (empty) loop
 * queue. Return: 0 or -ENOMEM.
 */
static int lw_loop_arm(struct netif *netif)
{
	struct pbuf *mark = pbuf_alloc(PBUF_RAW, 0, PBUF_RAM);

	if (!mark)
		return -ENOMEM;
	netif->loop_first = mark;
	netif->loop_last = mark;
	return 0;
}

/* lw_loop_disarm() - free @netif's sentinel and the packets behind it. */
static void lw_loop_disarm(struct netif *netif)
{
	struct pbuf *mark = netif->loop_first;

	if (!mark)
		return;
	if (mark->next)
		pbuf_free(mark->next); /* the whole queue: one chain of refs */
	mark->next = NULL;
	pbuf_free(mark);
	netif->loop_first = NULL;
	netif->loop_last = NULL;
}

/**
 * lw_loop_open() - add "lo" (127.0.0.1/8 and ::1), arm both loop queues
 * @st:		instance whose "cv" netif is added already
 *
 * ::1 is PREFERRED at once: no DAD on a loopback.
 *
 * Return: 0, or -ENOMEM (nothing is left added or armed).
 */
int lw_loop_open(struct cove_stack *st)
{
	ip4_addr_t ip, mask, gw;
	ip6_addr_t one;
	s8_t i = -1;

	IP4_ADDR(&ip, 127, 0, 0, 1);
	IP4_ADDR(&mask, 255, 0, 0, 0);
	ip4_addr_set_zero(&gw);
	if (!netif_add(&st->lo, &ip, &mask, &gw, st, lw_loop_netif_init,
		       ip_input))
		return -ENOMEM;
	ip6_addr_set_loopback(&one);
	if (netif_add_ip6_address(&st->lo, &one, &i) == ERR_OK && i >= 0)
		netif_ip6_addr_set_state(&st->lo, i, IP6_ADDR_PREFERRED);
	if (lw_loop_arm(&st->lo) || lw_loop_arm(&st->netif)) {
		lw_loop_disarm(&st->lo);
		netif_remove(&st->lo);
		return -ENOMEM;
	}
	netif_set_link_up(&st->lo);
	netif_set_up(&st->lo);
	return 0;
}

/* lw_loop_close() - drop what waits in both loop queues, remove "lo". */
void lw_loop_close(struct cove_stack *st)
{
	lw_loop_disarm(&st->netif);
	lw_loop_disarm(&st->lo);
	netif_set_down(&st->lo);
	netif_remove(&st->lo);
	nd6_cleanup_netif(&st->lo);
}

/*
 * lw_loop_tcp() - where @p's TCP header starts (@p: a packet lwIP looped,
 * one pbuf; IPv4, or IPv6 with TCP right after the fixed header) and its
 * destination in @dst; 0 if it is not TCP or a fragment. Reads stay
 * within @p->len.
 */
static size_t lw_loop_tcp(const struct pbuf *p, ip_addr_t *dst)
{
	const uint8_t *ip = p->payload;
	uint32_t daddr;
	size_t ihl;

	if (p->len >= 40 && (ip[0] >> 4) == 6 && ip[6] == IP_PROTO_TCP) {
		ip_addr_set_zero_ip6(dst);
		memcpy(ip_2_ip6(dst)->addr, ip + 24, 16);
		return p->len >= 60 ? 40 : 0;
	}
	if (p->len < 20 || (ip[0] >> 4) != 4 || ip[9] != IP_PROTO_TCP ||
	    ((ip[6] & 0x3f) | ip[7])) /* a fragment: not a whole header */
		return 0;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || p->len < ihl + 20)
		return 0;
	memcpy(&daddr, ip + 16, sizeof(daddr));
	ip_addr_set_ip4_u32_val(*dst, daddr);
	return ihl;
}

/*
 * lw_loop_syn_refused() - is @p (a packet lwIP looped, one pbuf) a TCP
 * SYN whose listener's accept queue is full? Linux drops it, as
 * lw_syn_ok() does for one from the link.
 */
static bool lw_loop_syn_refused(const struct pbuf *p)
{
	const uint8_t *ip = p->payload;
	ip_addr_t dst;
	size_t th = lw_loop_tcp(p, &dst);

	if (!th || (ip[th + 13] & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return false;
	return lw_tcp_backlog_full(&dst,
				   (uint16_t)(ip[th + 2] << 8 | ip[th + 3]));
}

/*
 * lw_loop_one() - unlink the first packet behind @netif's sentinel and
 * give it to ip_input() as if @netif had received it (a SYN for a full
 * accept queue is dropped instead). Return: false if the queue was empty.
 */
static bool lw_loop_one(struct netif *netif)
{
	struct pbuf *mark = netif->loop_first, *p = mark->next, *end;

	if (!p)
		return false;
	for (end = p; end->len != end->tot_len && end->next; end = end->next)
		;
	mark->next = end->next;
	if (netif->loop_last == end)
		netif->loop_last = mark;
	end->next = NULL;
	p->if_idx = netif_get_index(netif);
	if (lw_loop_syn_refused(p))
		pbuf_free(p);
	else if (ip_input(p, netif) != ERR_OK)
		pbuf_free(p);
	return true;
}

/**
 * lw_loop_run() - deliver looped packets, both netifs in turn
 * @st:		instance, inside lw_enter()
 *
 * Return: true if packets still wait (the budget ran out).
 */
bool lw_loop_run(struct cove_stack *st)
{
	unsigned n = 0;
	bool any = true;

	while (any && n < LW_LOOP_BUDGET) {
		any = false;
		if (lw_loop_one(&st->lo)) {
			any = true;
			n++;
		}
		if (lw_loop_one(&st->netif)) {
			any = true;
			n++;
		}
	}
	return lw_loop_pending(st);
}

/* lw_loop_pending() - do looped packets wait for lw_loop_run()? */
bool lw_loop_pending(const struct cove_stack *st)
{
	return st->lo.loop_first->next || st->netif.loop_first->next;
}
