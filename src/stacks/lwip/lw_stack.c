// SPDX-License-Identifier: Apache-2.0
/* lwip provider: the instance, lwIP's netif on a Cove link, timers, events. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/nd6.h"
#include "lwip/priv/nd6_priv.h"
#include "lwip/timeouts.h"
#include "netif/etharp.h"
#include "netif/ethernet.h"

#include "cove/link.h"
#include "stacks/lwip/lw.h"

/* See lw.h for the theory of operation (threads, global state, events). */

/*
 * IPv6 (unless COVE_STACK_F_NO_IPV6). The netif "cv" gets its link-local
 * address from the MAC (EUI-64) and cfg->addr6; both are TENTATIVE until
 * lwIP's duplicate address detection (one probe, nd6_tmr's 1 s ticks) makes
 * them PREFERRED, or PREFERRED at once with COVE_STACK_F_NO_DAD (the host
 * vouches for the MAC and the address). lwIP has two kinds of on-link
 * prefix for an address: a static one (lifetime 0) implies a /64, a
 * dynamic one nothing (RFC 5942), so prefix6_len up to 64 becomes a /64
 * and a longer one a /128 whose neighbours are all reached through the
 * router. Without addr6, SLAAC from router advertisements is on. lwIP has
 * no static default router: cfg->gateway6 is written into its router list
 * (nd6_priv.h's default_router_list, exported by liblwip) as if an RA had
 * announced it, and lw_gw6_keep() renews it on every run(), so neither its
 * lifetime nor a full table of routers from RAs loses it for long. ND, RS,
 * RAs and MLD reports are lwIP's own, through ethip6_output() and
 * lw_linkoutput(). lwIP's ND tables are globals too: destroy() clears
 * them for both netifs (nd6_cleanup_netif(); netif_remove() does not).
 */

#define LW_GW6_LIFE 9000u /* s; lw_gw6_keep() renews it on every run() */

/* lwIP's state is process-wide: one instance at a time. */
static atomic_bool lw_busy;
static pthread_once_t lw_once = PTHREAD_ONCE_INIT;

static void lw_init_once(void)
{
	lwip_init();
}

void lw_dirty(struct cove_sock *s)
{
	if (!s || s->is_dirty)
		return;
	s->is_dirty = true;
	s->next_dirty = s->st->dirty;
	s->st->dirty = s;
}

/* lw_undirty() - take @s off the dirty list (it is being freed). */
static void lw_undirty(struct cove_sock *s)
{
	struct cove_sock **pp;

	if (!s->is_dirty)
		return;
	for (pp = &s->st->dirty; *pp; pp = &(*pp)->next_dirty)
		if (*pp == s) {
			*pp = s->next_dirty;
			break;
		}
	s->is_dirty = false;
}

/* lw_tx_flush() - hand queued frames to the link; keep what it refuses. */
static void lw_tx_flush(struct cove_stack *st)
{
	struct cove_frame *burst[32];
	unsigned n, sent, i;

	while (st->txq) {
		for (n = 0; n < 32 && st->txq; n++) {
			burst[n] = st->txq;
			st->txq = st->txq->next;
		}
		sent = cove_link_tx_burst(st->link, burst, n);
		st->ntxq -= sent;
		if (sent < n) {
			/* Put the refused ones back at the head, in order. */
			for (i = n; i-- > sent;) {
				burst[i]->next = st->txq;
				st->txq = burst[i];
			}
			break;
		}
	}
	if (!st->txq)
		st->txq_tail = &st->txq;
}

void lw_enter(struct cove_stack *st)
{
	st->depth++;
}

/*
 * lw_leave() - end of an ABI call: flush frames, then notify. The dirty list
 * is popped one socket at a time, so a host that (wrongly) calls back into
 * the stack from notify() cannot make it walk freed memory.
 */
void lw_leave(struct cove_stack *st)
{
	struct cove_sock *s;

	assert(st->depth > 0);
	if (--st->depth)
		return;
	if (st->txq)
		lw_tx_flush(st);
	while ((s = st->dirty)) {
		uint32_t ev;

		st->dirty = s->next_dirty;
		s->is_dirty = false;
		if (!s->held)
			continue;
		ev = s->type == SOCK_STREAM ? lw_tcp_events(s) :
					      lw_udp_events(s);
		st->env.notify(st->env.host, s, s->cookie, ev);
	}
}

/* lw_addr_local() - one of the instance's addresses (ours or 127.0.0.1)? */
bool lw_addr_local(const struct cove_stack *st, uint32_t addr_be)
{
	return addr_be == st->addr.s_addr || addr_be == htonl(INADDR_LOOPBACK);
}

/*
 * lw_addr6_local() - one of the instance's usable IPv6 addresses
 * (preferred or deprecated: as on Linux, not while DAD holds it
 * tentative), on "cv" (link-local, addr6, SLAAC) or "lo" (::1)? The zone
 * is not compared; the caller checks a link-local scope id.
 */
bool lw_addr6_local(const struct cove_stack *st, const ip6_addr_t *a)
{
	const struct netif *nifs[2] = { &st->netif, &st->lo };
	unsigned n, i;

	for (n = 0; n < 2; n++)
		for (i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
			if (ip6_addr_isvalid(
				    netif_ip6_addr_state(nifs[n], i)) &&
			    ip6_addr_cmp_zoneless(netif_ip6_addr(nifs[n], i),
						  a))
				return true;
	return false;
}

/**
 * lw_sock_new() - a zeroed socket on the instance's list, no PCB yet
 * @st:		instance
 * @family:	AF_INET or AF_INET6
 * @type:	SOCK_STREAM or SOCK_DGRAM
 *
 * The caller attaches a PCB and decides how the socket counts: held and
 * in nsock (socket(), accept()) or a child in nchild (accept callback).
 * Freed by lw_sock_free(), from the protocol's close.
 *
 * Return: the socket, or NULL when out of memory.
 */
struct cove_sock *lw_sock_new(struct cove_stack *st, int family, int type)
{
	struct cove_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->st = st;
	s->type = type;
	s->family = family;
	s->pmtudisc = IP_PMTUDISC_WANT; /* Linux's default */
	s->pmtudisc6 = IPV6_PMTUDISC_WANT;
	lw_name_set(s, &s->local, NULL, 0);
	lw_name_set(s, &s->peer, NULL, 0);
	s->next = st->socks;
	if (st->socks)
		st->socks->prev = s;
	st->socks = s;
	return s;
}

/*
 * lw_sock_free() - unlink @s from the dirty and socket lists and free it.
 * Its PCB, queues and counts must be dealt with already (the protocol's
 * close does that).
 */
void lw_sock_free(struct cove_sock *s)
{
	struct cove_stack *st = s->st;

	lw_undirty(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		st->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

/*
 * lw_count_icmp6_out() - icmp6_out, nd_solicits, nd_adverts for a frame
 * lwIP sends: ICMPv6 right after the fixed header (MLD, behind its
 * hop-by-hop header, is not counted).
 */
static void lw_count_icmp6_out(struct cove_stack *st, const uint8_t *f,
			       size_t len)
{
	if (len < 55 || f[12] != 0x86 || f[13] != 0xdd || f[20] != 58)
		return;
	st->stats.icmp6_out++;
	if (f[54] == 135)
		st->stats.nd_solicits++;
	else if (f[54] == 136)
		st->stats.nd_adverts++;
}

/**
 * lw_linkoutput() - lwIP's netif linkoutput: copy @p into a pool frame
 * @netif:	our netif (@state is the instance)
 * @p:		a whole Ethernet frame; lwIP keeps ownership
 *
 * Runs on the host thread only (see lw.h), so taking frames from the link's
 * pool is safe. The frame is queued and sent by lw_leave().
 *
 * Return: ERR_OK, or ERR_MEM when the pool is empty or the queue full (TCP
 * keeps the segment and retries; UDP reports -ENOBUFS).
 */
static err_t lw_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct cove_stack *st = netif->state;
	struct cove_frame *f;

	if (st->starting && (st->flags & COVE_STACK_F_NO_GARP))
		return ERR_OK; /* inside create(): the gratuitous ARP */
	if (st->ntxq >= LW_TXQ_MAX || !(f = cove_frame_alloc(st->link->pool))) {
		st->stats.tx_dropped++;
		return ERR_MEM;
	}
	if (p->tot_len > f->cap) {
		cove_frame_free(f);
		st->stats.tx_dropped++;
		return ERR_BUF;
	}
	f->len = pbuf_copy_partial(p, f->data, p->tot_len, 0);
	lw_count_icmp6_out(st, f->data, f->len);
	f->next = NULL;
	*st->txq_tail = f;
	st->txq_tail = &f->next;
	st->ntxq++;
	st->stats.tx_frames++;
	st->stats.tx_bytes += f->len;
	return ERR_OK;
}

/*
 * lw_output6() - "cv"'s output_ip6: ND and ethip6_output(), or nothing
 * when the instance has no IPv6 (lwIP calls output_ip6 unchecked).
 */
static err_t lw_output6(struct netif *netif, struct pbuf *p,
			const ip6_addr_t *dst)
{
	const struct cove_stack *st = netif->state;

	if (st->flags & COVE_STACK_F_NO_IPV6)
		return ERR_RTE;
	return ethip6_output(netif, p, dst);
}

/*
 * lw_netif_init() - netif_add()'s init hook: an Ethernet netif "cv" with
 * the link's MAC, its MTU capped at 9000, ARP through etharp_output, IPv6
 * through lw_output6() and frames out through lw_linkoutput().
 */
static err_t lw_netif_init(struct netif *netif)
{
	struct cove_stack *st = netif->state;

	netif->name[0] = 'c';
	netif->name[1] = 'v';
	netif->num = LW_NUM_CV; /* netif_add() keeps it: index 2 (lw.h) */
	netif->output = etharp_output;
	netif->output_ip6 = lw_output6;
	netif->linkoutput = lw_linkoutput;
	netif->mtu = (u16_t)(st->link->mtu > 9000 ? 9000 : st->link->mtu);
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, st->link->mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		       NETIF_FLAG_ETHERNET;
	if (!(st->flags & COVE_STACK_F_NO_IPV6))
		netif->flags |= NETIF_FLAG_MLD6;
	return ERR_OK;
}

/* lw_ip6_from() - an in6_addr as lwIP's ip6_addr_t, zoned for @netif. */
static void lw_ip6_from(const struct in6_addr *a, struct netif *netif,
			ip6_addr_t *out)
{
	memcpy(out->addr, a->s6_addr, 16);
	ip6_addr_clear_zone(out);
	ip6_addr_assign_zone(out, IP6_UNICAST, netif);
}

/* lw_cfg6_ok() - addr6 and gateway6 are unicast addresses a host may use. */
static bool lw_cfg6_ok(const struct cove_stack_config *cfg)
{
	const struct in6_addr *a = &cfg->addr6, *g = &cfg->gateway6;

	if (cfg->prefix6_len > 128)
		return false;
	if (!IN6_IS_ADDR_UNSPECIFIED(a) &&
	    (IN6_IS_ADDR_MULTICAST(a) || IN6_IS_ADDR_LOOPBACK(a) ||
	     IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_V4MAPPED(a)))
		return false;
	return IN6_IS_ADDR_UNSPECIFIED(g) ||
	       !(IN6_IS_ADDR_MULTICAST(g) || IN6_IS_ADDR_LOOPBACK(g) ||
		 IN6_IS_ADDR_V4MAPPED(g));
}

/**
 * lw_ip6_open() - IPv6 on "cv": link-local, addr6, SLAAC or the gateway
 * @st:		instance, its netif added (not up yet)
 * @cfg:	the configuration, checked by lw_cfg6_ok()
 *
 * See the IPv6 block above. Return: 0, or -EINVAL if lwIP has no slot.
 */
static int lw_ip6_open(struct cove_stack *st,
		       const struct cove_stack_config *cfg)
{
	bool dad = !(cfg->flags & COVE_STACK_F_NO_DAD);
	struct netif *nif = &st->netif;
	ip6_addr_t a;
	s8_t i = -1;

	if (cfg->flags & COVE_STACK_F_NO_IPV6)
		return 0;
	netif_create_ip6_linklocal_address(nif, 1);
	if (!dad)
		netif_ip6_addr_set_state(nif, 0, IP6_ADDR_PREFERRED);
	if (IN6_IS_ADDR_UNSPECIFIED(&cfg->addr6)) {
		netif_set_ip6_autoconfig_enabled(nif, 1);
	} else {
		lw_ip6_from(&cfg->addr6, nif, &a);
		if (netif_add_ip6_address(nif, &a, &i) != ERR_OK || i < 0)
			return -EINVAL;
		if (cfg->prefix6_len > 64) { /* dynamic: no implied /64 */
			netif_ip6_addr_set_valid_life(nif, i,
						      IP6_ADDR_LIFE_INFINITE);
			netif_ip6_addr_set_pref_life(nif, i,
						     IP6_ADDR_LIFE_INFINITE);
		}
		if (!dad)
			netif_ip6_addr_set_state(nif, i, IP6_ADDR_PREFERRED);
	}
	if (!IN6_IS_ADDR_UNSPECIFIED(&cfg->gateway6)) {
		lw_ip6_from(&cfg->gateway6, nif, &st->gw6);
		st->has_gw6 = true;
	}
	return 0;
}

/* lw_gw6_neighbour() - lwIP's neighbour entry for @a, made if need be. */
static struct nd6_neighbor_cache_entry *lw_gw6_neighbour(struct cove_stack *st,
							 const ip6_addr_t *a)
{
	struct nd6_neighbor_cache_entry *n, *free_n = NULL;
	unsigned i;

	for (i = 0; i < LWIP_ND6_NUM_NEIGHBORS; i++) {
		n = &neighbor_cache[i];
		if (n->state != ND6_NO_ENTRY &&
		    ip6_addr_cmp(&n->next_hop_address, a))
			return n;
		if (n->state == ND6_NO_ENTRY && !free_n)
			free_n = n;
	}
	if (!free_n)
		return NULL;
	memset(free_n, 0, sizeof(*free_n));
	ip6_addr_set(&free_n->next_hop_address, a);
	free_n->netif = &st->netif;
	free_n->state = ND6_INCOMPLETE; /* nd6_tmr() sends the NS */
	return free_n;
}

/**
 * lw_gw6_keep() - cfg->gateway6 in lwIP's default router list
 * @st:		instance, inside lw_enter()
 *
 * Renews its lifetime when it is there; else takes a free router slot and
 * the neighbour entry (a free one, INCOMPLETE: lwIP's timer resolves it).
 * With every slot taken by routers from RAs it waits for one to expire.
 */
static void lw_gw6_keep(struct cove_stack *st)
{
	struct nd6_router_list_entry *r, *free_r = NULL;
	struct nd6_neighbor_cache_entry *n;
	unsigned i;

	if (!st->has_gw6)
		return;
	for (i = 0; i < LWIP_ND6_NUM_ROUTERS; i++) {
		r = &default_router_list[i];
		if (r->neighbor_entry &&
		    ip6_addr_cmp(&r->neighbor_entry->next_hop_address,
				 &st->gw6)) {
			r->invalidation_timer = LW_GW6_LIFE;
			return;
		}
		if (!r->neighbor_entry && !free_r)
			free_r = r;
	}
	if (!free_r || !(n = lw_gw6_neighbour(st, &st->gw6)))
		return;
	n->isrouter = 1;
	free_r->neighbor_entry = n;
	free_r->invalidation_timer = LW_GW6_LIFE;
	free_r->flags = 0;
	nd6_clear_destination_cache(); /* routes chosen without it */
}

/**
 * lw_create() - claim lwIP for this process and put a netif on the link
 * @cfg:	configuration
 * @env:	host services; @env->link is required
 * @out:	the new instance
 *
 * Return: 0, -EBUSY while another instance lives in this process, -EINVAL
 * for a bad config or no link, -ENOMEM.
 */
int lw_create(const struct cove_stack_config *cfg,
	      const struct cove_stack_env *env, struct cove_stack **out)
{
	struct cove_stack *st;
	ip4_addr_t ip, mask, gw;
	uint32_t m;
	bool expect = false;

	if (!cfg || !env || !out || !env->notify || !env->link ||
	    cfg->size < sizeof(*cfg) || cfg->prefix_len > 32 ||
	    !cfg->addr.s_addr || env->link->mtu < 576 || !lw_cfg6_ok(cfg))
		return -EINVAL;
	if (cfg->congestion && strcmp(cfg->congestion, "newreno"))
		return -EINVAL; /* lwIP 2.1 only does Reno-style */
	if (!atomic_compare_exchange_strong(&lw_busy, &expect, true))
		return -EBUSY;
	st = calloc(1, sizeof(*st));
	if (!st) {
		atomic_store(&lw_busy, false);
		return -ENOMEM;
	}
	pthread_once(&lw_once, lw_init_once);
	st->env = *env;
	st->link = env->link;
	st->addr = cfg->addr;
	st->flags = cfg->flags;
	st->max_sockets = cfg->max_sockets ? cfg->max_sockets :
					     LW_DEFAULT_MAX_SOCKETS;
	st->rcvbuf = cfg->rcvbuf ? cfg->rcvbuf : LW_DEFAULT_RCVBUF;
	st->txq_tail = &st->txq;

	m = cfg->prefix_len ? ~0u << (32 - cfg->prefix_len) : 0;
	ip4_addr_set_u32(&ip, cfg->addr.s_addr);
	ip4_addr_set_u32(&mask, __builtin_bswap32(m));
	ip4_addr_set_u32(&gw, cfg->gateway.s_addr);

	lw_enter(st);
	st->starting = true;
	if (!netif_add(&st->netif, &ip, &mask, &gw, st, lw_netif_init,
		       ethernet_input)) {
		st->depth = 0;
		free(st);
		atomic_store(&lw_busy, false);
		return -ENOMEM;
	}
	if (lw_ip6_open(st, cfg) || lw_loop_open(st)) {
		netif_remove(&st->netif);
		nd6_cleanup_netif(&st->netif);
		st->depth = 0;
		free(st);
		atomic_store(&lw_busy, false);
		return -ENOMEM;
	}
	netif_set_default(&st->netif);
	netif_set_link_up(&st->netif);
	netif_set_up(&st->netif);
	lw_gw6_keep(st);
	st->starting = false;
	lw_leave(st);
	*out = st;
	return 0;
}

/* lw_destroy() - drop every socket and PCB without a word on the wire. */
void lw_destroy(struct cove_stack *st)
{
	struct cove_frame *f;

	if (!st)
		return;
	lw_enter(st);
	while (st->socks) {
		struct cove_sock *s = st->socks;

		s->linger0 = true; /* no graceful close: we are going */
		if (s->type == SOCK_STREAM)
			lw_tcp_close(s);
		else
			lw_udp_close(s);
	}
	lw_tcp_abandon_all();
	lw_loop_close(st);
	netif_set_down(&st->netif);
	netif_remove(&st->netif);
	nd6_cleanup_netif(&st->netif);
	st->depth = 0;
	while ((f = st->txq)) {
		st->txq = f->next;
		cove_frame_free(f);
	}
	free(st);
	atomic_store(&lw_busy, false);
}

/*
 * lw_syn_ok() - may lwIP start another connection for this SYN?
 * @seg:	its TCP header (lw_filter() said LW_PASS_SYN)
 *
 * A TIME_WAIT the SYN may reopen is ended first (lw_tcp_recycle_tw()),
 * the oldest half-open connection goes when max_sockets of them wait
 * (lw_guard_half_open()), then the connection limit is checked
 * (lw_tcp_make_room()). A SYN for a full accept queue is dropped, as
 * Linux drops it (lw_tcp_backlog_full()).
 */
static bool lw_syn_ok(const struct cove_stack *st, const struct lw_tcp_seg *seg)
{
	ip_addr_t src, dst;

	lw_seg_addrs(seg, &src, &dst);
	if (lw_tcp_backlog_full(&dst, seg->dport))
		return false;
	lw_tcp_recycle_tw(&src, seg->sport, seg->dport, seg->seq);
	lw_guard_half_open(st->max_sockets);
	return lw_tcp_make_room(2 * st->max_sockets);
}

/* lw_addrs_of() - the addresses lw_filter() lets through, from the netif. */
static void lw_addrs_of(const struct cove_stack *st, struct lw_addrs *me)
{
	uint32_t mask = ip4_addr_get_u32(netif_ip4_netmask(&st->netif));
	unsigned i;

	me->addr_be = st->addr.s_addr;
	me->bcast_be = (st->addr.s_addr & mask) | ~mask;
	me->ip6 = !(st->flags & COVE_STACK_F_NO_IPV6);
	me->n6 = 0;
	for (i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if (!ip6_addr_isinvalid(netif_ip6_addr_state(&st->netif, i)))
			memcpy(me->a6[me->n6++],
			       netif_ip6_addr(&st->netif, i)->addr, 16);
}

/* lw_count_in() - the ICMPv6 and ND counters of a frame lw_filter() read. */
static void lw_count_in(struct cove_stack *st, const struct lw_tcp_seg *seg)
{
	if (!seg->icmp6_type)
		return;
	st->stats.icmp6_in++;
	if (seg->icmp6_type == 135)
		st->stats.nd_solicits++;
	else if (seg->icmp6_type == 136)
		st->stats.nd_adverts++;
}

/*
 * lw_path_mtu() - lwIP's path MTU towards @dst (its destination cache, or
 * the link's): a Packet Too Big that lowers it counts in pmtu_updates.
 */
static u16_t lw_path_mtu(struct cove_stack *st, const uint8_t dst[16])
{
	ip6_addr_t a;

	memcpy(a.addr, dst, 16);
	ip6_addr_clear_zone(&a);
	return nd6_get_destination_mtu(&a, &st->netif);
}

/**
 * lw_input() - filter frames, copy them into pbufs, feed ethernet_input()
 * @st:		instance
 * @f:		received frames; each goes back to its pool here
 * @n:		how many
 */
void lw_input(struct cove_stack *st, struct cove_frame **f, unsigned n)
{
	struct lw_addrs me;
	unsigned i;

	lw_addrs_of(st, &me);
	lw_enter(st);
	for (i = 0; i < n; i++) {
		struct lw_tcp_seg seg;
		enum lw_verdict v;
		struct pbuf *p;
		u16_t mtu;

		st->stats.rx_frames++;
		st->stats.rx_bytes += f[i]->len;
		v = lw_filter(f[i]->data, f[i]->len, &me, &seg);
		if ((v == LW_PASS_SYN || v == LW_PASS_TCP) &&
		    (!lw_guard_segment(st, &seg) ||
		     (v == LW_PASS_SYN && !lw_syn_ok(st, &seg)))) {
			st->stats.rx_dropped++;
			cove_frame_free(f[i]);
			continue;
		}
		if (v != LW_PASS && v != LW_PASS_SYN && v != LW_PASS_TCP) {
			st->stats.rx_dropped++;
			if (v == LW_DROP_MALFORMED)
				st->stats.rx_malformed++;
			cove_frame_free(f[i]);
			continue;
		}
		lw_count_in(st, &seg);
		p = f[i]->len <= 0xffff ?
			    pbuf_alloc(PBUF_RAW, (u16_t)f[i]->len, PBUF_RAM) :
			    NULL;
		if (!p) {
			st->stats.rx_dropped++;
			cove_frame_free(f[i]);
			continue;
		}
		(void)pbuf_take(p, f[i]->data, (u16_t)f[i]->len);
		cove_frame_free(f[i]);
		mtu = seg.icmp6_type == 2 ? lw_path_mtu(st, seg.ptb_dst) : 0;
		if (st->netif.input(p, &st->netif) != ERR_OK)
			pbuf_free(p);
		if (mtu && lw_path_mtu(st, seg.ptb_dst) < mtu)
			st->stats.pmtu_updates++;
	}
	lw_leave(st);
}

/**
 * lw_run() - fire lwIP's due timers, deliver looped packets, flush
 * @st:		instance
 * @now_ns:	the host's clock; lwIP reads CLOCK_MONOTONIC itself
 *
 * Return: @now_ns while looped packets wait (lw_loop_run()'s budget ran
 * out); else when lwIP's next timer is due, at most 1 ms late; 1 ms from
 * now if frames wait for the link.
 */
uint64_t lw_run(struct cove_stack *st, uint64_t now_ns)
{
	uint64_t deadline;
	bool looped;
	u32_t ms;

	lw_enter(st);
	sys_check_timeouts();
	lw_gw6_keep(st);
	looped = lw_loop_run(st);
	lw_leave(st);
	if (looped)
		return now_ns;
	ms = sys_timeouts_sleeptime();
	deadline = ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ?
			   UINT64_MAX :
			   ((uint64_t)sys_now() + ms + 1) * 1000000ull;
	if (st->txq && now_ns + 1000000ull < deadline)
		deadline = now_ns + 1000000ull;
	return deadline;
}

int lw_poll_fd(struct cove_stack *st)
{
	(void)st;
	return -1;
}

/*
 * lw_stats() - Cove's own counters (frames, drops, opens, datagrams) and
 * gauges; lwIP's are compiled out of Debian's build (LWIP_STATS=0), so the
 * TCP segment and retransmission counters stay zero.
 */
int lw_stats(struct cove_stack *st, struct cove_stack_stats *out)
{
	struct cove_stack_stats c = st->stats;
	const struct cove_sock *s;
	unsigned est;

	c.sockets = st->nsock;
	c.tcp_conns = lw_tcp_count(&est);
	c.tcp_established = est;
	for (s = st->socks; s; s = s->next)
		c.mem_bytes += s->rx_bytes + s->dq_bytes;
	c.frames_held = st->ntxq;
	cove_stack_put_stats(out, &c);
	return 0;
}
