// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP ports: per-port lists, bind conflicts, ephemeral ports, listen groups. */
#include <errno.h>
#include <stdlib.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * ctx->ports[p] lists every tcb that holds local port p: bound sockets,
 * listeners, their children and connections. Bind conflicts are decided
 * against that list by Linux's rule (inet_bind_conflict() with relax, as
 * bind() and listen() use it): two sockets whose local addresses overlap
 * (equal, or either is INADDR_ANY) may share the port only if both set
 * SO_REUSEPORT, or both set SO_REUSEADDR and the other is not listening.
 * One stack instance serves one sandbox, so "same owner" (Linux compares
 * effective UIDs for SO_REUSEPORT) always holds.
 *
 * Listeners also sit in a listen group of their port: one group per local
 * address, holding either one listener or several that all set
 * SO_REUSEPORT. A SYN finds the group of its destination address, else the
 * INADDR_ANY group (Linux prefers the exact address too), and the group
 * picks v[pick(hash, n)] from the 4-tuple's seeded hash: the same tuple
 * always lands on the same listener while membership is unchanged, and
 * tuples spread evenly. A member that leaves is replaced by the last one
 * (as Linux's reuseport_detach_sock() does). Groups are allocated by
 * listen() and freed when their last listener leaves; nothing here runs
 * per packet except tcp_listener_find(), which walks at most one group per
 * local address and allocates nothing.
 */

/*
 * tcb_port_add() - put @t on the list of its local port, t->lport
 * (idempotent). Every tcb with a port is on exactly one such list, which
 * is how tcp_layer_fini() finds them all.
 */
void tcb_port_add(struct tcb *t)
{
	struct tcp_port *p = &t->ctx->ports[t->lport];

	if (t->on_port)
		return;
	t->pnext = p->head;
	if (p->head)
		p->head->ppprev = &t->pnext;
	t->ppprev = &p->head;
	p->head = t;
	t->on_port = true;
}

/* tcp_listen_leave() - take listener @t out of its group; free it when empty. */
static void tcp_listen_leave(struct tcb *t)
{
	struct tcp_lgroup *g = t->lgroup, **pp;
	struct tcb *last;

	if (!g)
		return;
	last = g->v[--g->n];
	g->v[t->lg_idx] = last;
	last->lg_idx = t->lg_idx;
	t->lgroup = NULL;
	t->lg_idx = 0;
	if (g->n)
		return;
	for (pp = &t->ctx->ports[t->lport].groups; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	free(g->v);
	free(g);
}

/*
 * tcb_port_del() - off its port list and its listen group (idempotent);
 * the port is free again once no other tcb uses it.
 */
void tcb_port_del(struct tcb *t)
{
	if (!t->on_port)
		return;
	tcp_listen_leave(t);
	*t->ppprev = t->pnext;
	if (t->pnext)
		t->pnext->ppprev = t->ppprev;
	t->on_port = false;
}

/*
 * Local addresses of both families: IPv4 sockets and IPv6 sockets bound
 * to a mapped address hold ::ffff:a.b.c.d, and 0.0.0.0 is ::ffff:0.0.0.0
 * (the IPv4 wildcard); an IPv6 socket's [::] is the IPv6 wildcard, and
 * also IPv4's unless the socket is IPV6_V6ONLY. Two bindings overlap when
 * the families they cover meet and their addresses are equal or either
 * is a wildcard: Linux's inet_rcv_saddr_equal() with its dual-stack
 * cases (so [::] and 0.0.0.0 conflict, [::] v6only and 0.0.0.0 do not).
 */
#define TCP_FAM4 1u
#define TCP_FAM6 2u

/* tcp_addr_wild() - @a is a wildcard: [::] or ::ffff:0.0.0.0. */
static inline bool tcp_addr_wild(const struct in6_addr *a)
{
	return IN6_IS_ADDR_UNSPECIFIED(a) || (ipx_is_v4(a) && !ipx_v4(a));
}

/* tcp_addr_fams() - the families a binding to @a covers (TCP_FAM*). */
static inline unsigned tcp_addr_fams(const struct in6_addr *a, bool v6only)
{
	if (ipx_is_v4(a))
		return TCP_FAM4;
	if (IN6_IS_ADDR_UNSPECIFIED(a) && !v6only)
		return TCP_FAM4 | TCP_FAM6;
	return TCP_FAM6;
}

/* tcp_addr_overlap() - do the local addresses of @a and @b collide? */
static inline bool tcp_addr_overlap(const struct tcb *a, const struct tcb *b)
{
	if (!(tcp_addr_fams(&a->laddr, a->v6only) &
	      tcp_addr_fams(&b->laddr, b->v6only)))
		return false;
	return tcp_addr_wild(&a->laddr) || tcp_addr_wild(&b->laddr) ||
	       ipx_eq(&a->laddr, &b->laddr);
}

/**
 * tcp_port_conflict() - would @t holding @port clash with a user of it?
 * @c:		context
 * @t:		the socket binding (or about to listen), t->laddr set
 * @port:	host order
 *
 * Linux's rule (see the theory of operation), applied to every other user
 * of @port whose address overlaps @t's. One relaxation of ours: with
 * SO_REUSEADDR, TIME-WAIT connections never block, whatever they had set.
 *
 * Return: true on conflict.
 */
bool tcp_port_conflict(struct tcp_ctx *c, const struct tcb *t, uint16_t port)
{
	const struct tcb *o;

	for (o = c->ports[port].head; o; o = o->pnext) {
		if (o == t || !tcp_addr_overlap(t, o))
			continue;
		if (t->reuseport && o->reuseport)
			continue;
		if (t->reuseaddr && o->reuseaddr && o->state != TCPS_LISTEN)
			continue;
		if (t->reuseaddr && o->state == TCPS_TIME_WAIT)
			continue;
		return true;
	}
	return false;
}

/**
 * tcp_port_ephemeral() - give @t a free port from 32768..60999
 * @t:	unbound socket
 *
 * Ports are tried from a random start onwards; a port is free when no tcb
 * uses it at all, so every connection has its own local port.
 *
 * Return: 0 or -EADDRNOTAVAIL.
 */
int tcp_port_ephemeral(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;
	uint32_t n = TCP_EPH_HI - TCP_EPH_LO + 1, i, p;

	for (i = 0; i < n; i++) {
		p = c->next_port;
		c->next_port = p == TCP_EPH_HI ? TCP_EPH_LO : p + 1;
		if (!c->ports[p].head) {
			t->lport = (uint16_t)p;
			tcb_port_add(t);
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

/**
 * tcp_listen_join() - put a socket that starts listening into its group
 * @t:	bound socket (on its port list), not yet in LISTEN; the caller has
 *	checked tcp_port_conflict() again, as Linux's listen() does
 *
 * Joins the group of the same local address (all SO_REUSEPORT, checked
 * again here) or creates one.
 *
 * Return: 0, -EADDRINUSE or -ENOMEM.
 */
int tcp_listen_join(struct tcb *t)
{
	struct tcp_port *p = &t->ctx->ports[t->lport];
	struct tcp_lgroup *g;
	struct tcb **v;

	for (g = p->groups; g; g = g->next)
		if (ipx_eq(&g->laddr, &t->laddr) && g->v6only == t->v6only)
			break;
	if (g && (!t->reuseport || !g->v[0]->reuseport))
		return -EADDRINUSE;
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->cap = t->reuseport ? 4 : 1;
		g->v = calloc(g->cap, sizeof(*g->v));
		if (!g->v) {
			free(g);
			return -ENOMEM;
		}
		g->laddr = t->laddr;
		g->v6only = t->v6only;
		g->next = p->groups;
		p->groups = g;
	} else if (g->n == g->cap) {
		v = reallocarray(g->v, 2 * (size_t)g->cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->v = v;
		g->cap *= 2;
	}
	t->lgroup = g;
	t->lg_idx = g->n;
	g->v[g->n++] = t;
	return 0;
}

/* tcp_lgroup_find() - the listen group a SYN to @laddr:@lport goes to. */
static struct tcp_lgroup *
tcp_lgroup_find(struct tcp_ctx *c, const struct in6_addr *laddr, uint16_t lport)
{
	struct tcp_lgroup *g, *any4 = NULL, *any6 = NULL;
	bool v4 = ipx_is_v4(laddr);

	for (g = c->ports[lport].groups; g; g = g->next) {
		if (ipx_eq(&g->laddr, laddr))
			return g;
		if (v4 && ipx_is_v4(&g->laddr) && !ipx_v4(&g->laddr))
			any4 = g;
		else if (IN6_IS_ADDR_UNSPECIFIED(&g->laddr) &&
			 (!v4 || !g->v6only))
			any6 = g;
	}
	return any4 ? any4 : any6;
}

/**
 * tcp_listener_find() - the listener a new connection to @laddr:@lport goes to
 * @c:		context
 * @laddr:	destination address of the SYN (IPv4 mapped)
 * @lport:	destination port (host order)
 * @raddr:	source address (IPv4 mapped)
 * @rport:	source port (host order)
 *
 * The group bound to @laddr wins over the wildcard groups, and for IPv4
 * the IPv4 wildcard (0.0.0.0) over a dual-stack [::] (Linux scores an
 * AF_INET socket higher); [::] with IPV6_V6ONLY takes IPv6 only. Within a
 * SO_REUSEPORT group the 4-tuple's hash picks the member.
 *
 * Return: the listener, or NULL when nobody listens there.
 */
struct tcb *tcp_listener_find(struct tcp_ctx *c, const struct in6_addr *laddr,
			      uint16_t lport, const struct in6_addr *raddr,
			      uint16_t rport)
{
	struct tcp_lgroup *g = tcp_lgroup_find(c, laddr, lport);

	if (!g)
		return NULL;
	if (g->n == 1)
		return g->v[0];
	return g->v[bstack_hash_pick(bstack_flow_hash6(c->hash_seed, laddr,
						       lport, raddr, rport),
				     g->n)];
}
