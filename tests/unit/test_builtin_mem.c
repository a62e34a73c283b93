// SPDX-License-Identifier: Apache-2.0
/* Builtin socket memory budget: pressure, the hard limit, wake-ups, orphans. */
#include "tests/unit/test_builtin_tcp.h"

/*
 * B (the server) gets a 1 MiB budget: soft limit 2/3 of it, hard limit
 * 1 MiB. A is the peers. "Zero-window" connections are ones whose A side
 * never reads while B writes until its send ring is full, as the attack
 * suite's zero-window peers do; each holds B's receive ring and a full
 * send ring. After every step the budget's count must equal the rings B
 * really holds (mem_sum()), and every case ends with mem_bytes back at 0
 * (tnet_down()).
 */

#define MEM_MAX (1u << 20)
#define PORT	80
#define NZ	64

struct zconn {
	struct cove_sock *c, *s; /* A's end, B's end */
	uint64_t sent, got;	 /* B -> A bytes, pattern tpat(.., 0) */
	bool bad;
};

static struct bstack *bst(struct tnet *net)
{
	return (struct bstack *)(void *)net->b.st;
}

/* mem_sum() - the ring bytes B's open sockets and orphans hold. */
static uint64_t mem_sum(struct tnet *net)
{
	struct tcp_ctx *c = tctx(&net->b);
	uint64_t sum = 0;
	struct tcb *t;
	unsigned i;

	for (i = 0; i < TNET_MAX_SOCKS; i++) {
		if (!net->b.open[i])
			continue;
		t = tcb_of((struct bsock *)(void *)net->b.open[i]);
		sum += (t->rbuf ? t->rb_size : 0) + t->sb_cap;
	}
	for (t = c->orphans; t; t = t->orph_next)
		sum += (t->rbuf ? t->rb_size : 0) + t->sb_cap;
	return sum;
}

/* mem_exact() - the budget's count is what B holds, within its limit. */
static bool mem_exact(struct tnet *net)
{
	struct bstack *st = bst(net);
	uint64_t sum = mem_sum(net);

	if (st->mem.used == sum && st->mem.used <= st->mem.hard &&
	    tstats(&net->b).mem_bytes == sum)
		return true;
	fprintf(stderr, "  budget %llu, rings %llu, hard %llu\n",
		(unsigned long long)st->mem.used, (unsigned long long)sum,
		(unsigned long long)st->mem.hard);
	return false;
}

/* zsend() - B writes the pattern into @z until the ring takes no more. */
static ssize_t zsend(struct zconn *z, size_t max)
{
	uint8_t buf[65536];
	ssize_t n, total = 0;
	size_t i, len;

	for (;;) {
		len = max < sizeof(buf) ? max : sizeof(buf);
		if (!len)
			return total;
		for (i = 0; i < len; i++)
			buf[i] = tpat(z->sent + i, 0);
		n = tsend(z->s, buf, len);
		if (n <= 0)
			return total ? total : n;
		z->sent += (uint64_t)n;
		total += n;
		max -= (size_t)n;
	}
}

/* zread() - A reads what arrived on @z and checks it. */
static void zread(struct zconn *z)
{
	uint8_t buf[65536];
	ssize_t n, i;

	while ((n = trecv(z->c, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != tpat(z->got + (uint64_t)i, 0))
				z->bad = true;
		z->got += (uint64_t)n;
	}
}

struct zopen {
	struct cove_sock *l;
	struct zconn *z;
};

static bool step_accept(struct tnet *net, void *ctx)
{
	struct zopen *o = ctx;

	if (!o->z->s)
		o->z->s = taccept(&net->b, o->l);
	return o->z->s && (tops->events(o->z->c) & (EPOLLOUT | EPOLLERR));
}

/*
 * zopen() - connect A to B's listener and accept. A connection takes no
 * memory of B's budget until data arrives, so B never refuses one for it.
 */
static bool zopen(struct tnet *net, struct cove_sock *l, struct zconn *z)
{
	struct zopen o = { l, z };

	memset(z, 0, sizeof(*z));
	z->c = tconnect(&net->a, "10.0.0.2", PORT);
	tnet_loop(net, step_accept, &o, 5000);
	return z->s && !(tops->events(z->c) & EPOLLERR);
}

/*
 * zhold() - zopen(), then A sends one byte that B never reads: B's
 * receive ring for it is what the connection holds. False when B had no
 * ring for it (the hard limit): the byte waits at A, unacknowledged.
 */
static bool zhold(struct tnet *net, struct cove_sock *l, struct zconn *z)
{
	REQUIRE(zopen(net, l, z));
	CHECK(tsend(z->c, "x", 1) == 1);
	tnet_pump(net);
	return tcb_of((struct bsock *)(void *)z->s)->rbuf != NULL;
}

/* zheld() - B reads the byte zhold() sent, once it got in. */
static bool zheld(struct tnet *net, struct zconn *z)
{
	char c = 0;
	unsigned i;

	for (i = 0; i < 600 && trecv(z->s, &c, 1, 0) != 1; i++)
		tadvance(net, 10);
	return c == 'x';
}

struct zfill {
	struct zconn *z;
};

static bool step_fill(struct tnet *net, void *ctx)
{
	struct zfill *f = ctx;

	(void)net;
	(void)zsend(f->z, SIZE_MAX);
	return false;
}

/* zfill() - B fills @z until A's window and B's send ring are full. */
static void zfill(struct tnet *net, struct zconn *z)
{
	struct zfill f = { z };

	tnet_loop(net, step_fill, &f, 3000);
}

/* zdrain() - A reads @z until B has nothing queued and A has it all. */
static void zdrain(struct tnet *net, struct zconn *z)
{
	unsigned i;

	for (i = 0; i < 2000 && z->got < z->sent; i++) {
		zread(z);
		tnet_pump(net);
		tadvance(net, 1);
	}
	zread(z);
	CHECK(z->got == z->sent);
	CHECK(!z->bad);
}

/*
 * zpressure() - open zero-window connections until B is under pressure;
 * Return: how many (in @z).
 */
static unsigned zpressure(struct tnet *net, struct cove_sock *l,
			  struct zconn *z)
{
	unsigned n = 0;

	while (!bmem_pressure(bst(net)) && n < NZ) {
		REQUIRE(zopen(net, l, &z[n]));
		zfill(net, &z[n]);
		CHECK(mem_exact(net));
		n++;
	}
	REQUIRE(bmem_pressure(bst(net)));
	return n;
}

/*
 * Under pressure a new connection gets the per-socket minimum: its
 * receive ring is BMEM_SOCK_MIN and writes stop at that many queued bytes
 * (-EAGAIN), yet it moves data; the zero-window connections hold their
 * memory without passing the soft limit by growth. When they are read,
 * the memory comes back and rings grow again; every byte arrives intact.
 */
static void test_pressure(void)
{
	struct topts o = { .mem_max = MEM_MAX };
	struct zconn z[NZ], p;
	struct tnet net;
	uint64_t want = 1u << 20;
	struct tcb *pt;
	unsigned nz, i, rounds;
	uint32_t max_cap = 0;
	struct cove_sock *l;

	tnet_up(&net, &o);
	l = tlisten(&net.b, PORT, 64);
	nz = zpressure(&net, l, z);
	CHECK(nz >= 2);
	CHECK(bst(&net)->mem.refused_soft > 0);

	REQUIRE(zopen(&net, l, &p));
	pt = tcb_of((struct bsock *)(void *)p.s);
	CHECK(pt->rb_size == BMEM_SOCK_MIN);
	/* and its SYN-ACK offered no more than that ring */
	CHECK(tcb_of((struct bsock *)(void *)p.c)->max_sndwnd <= BMEM_SOCK_MIN);
	CHECK(zsend(&p, 65536) == BMEM_SOCK_MIN);
	CHECK(zsend(&p, 65536) == -EAGAIN);
	CHECK(mem_exact(&net));
	/* 1 MiB through the minimum ring, the zero-window ones still full */
	for (rounds = 0; rounds < 100000 && p.got < want; rounds++) {
		if (p.sent < want)
			(void)zsend(&p, want - p.sent);
		if (pt->sb_cap > max_cap)
			max_cap = pt->sb_cap;
		zread(&p);
		if (!tnet_pump(&net))
			tadvance(&net, 1);
	}
	CHECK(p.got == want && !p.bad);
	CHECK(max_cap == BMEM_SOCK_MIN);
	CHECK(mem_exact(&net));

	/* recovery: the peers read, the send rings empty and go back */
	for (i = 0; i < nz; i++) {
		zdrain(&net, &z[i]);
		CHECK(mem_exact(&net));
	}
	CHECK(!bmem_pressure(bst(&net)));
	zdrain(&net, &p);
	CHECK(zsend(&p, 65536) == 65536); /* the ring grows again */
	zdrain(&net, &p);
	CHECK(mem_exact(&net));
	tnet_down(&net);
}

/*
 * At the hard limit a connection's first data finds no receive ring: it
 * is dropped unacknowledged and the connection lives on; an established
 * one without a send ring gets -EAGAIN and no EPOLLOUT, and is told
 * EPOLLOUT by run() once memory is freed elsewhere, after which its data
 * flows intact, and the dropped byte gets in on its retransmission.
 */
static void test_hard_limit_wake(void)
{
	struct topts o = { .mem_max = MEM_MAX };
	struct zconn z[NZ], w[NZ];
	struct tnet net;
	struct cove_sock *l;
	struct tcb *ct;
	unsigned nz, nw = 0, i;

	tnet_up(&net, &o);
	l = tlisten(&net.b, PORT, 64);
	nz = zpressure(&net, l, z);
	/* minimum-ring connections until one's byte finds no ring */
	while (nw < NZ - 1 && zhold(&net, l, &w[nw])) {
		CHECK(mem_exact(&net));
		nw++;
	}
	REQUIRE(nw < NZ - 1 && nw > 0);
	CHECK(bst(&net)->mem.refused_hard > 0);
	ct = tcb_of((struct bsock *)(void *)w[nw].c);
	CHECK(tsockerr(w[nw].c) == 0);
	CHECK(ct->snd_una != ct->snd_max); /* not acknowledged */
	CHECK(mem_exact(&net));

	/* the last one with a ring has a receive ring and no send ring: */
	i = nw - 1;
	CHECK(tcb_of((struct bsock *)(void *)w[i].s)->sb_cap == 0);
	CHECK(!bmem_may(bst(&net), BMEM_SOCK_MIN, BMEM_MIN));
	CHECK(zsend(&w[i], 1000) == -EAGAIN);
	CHECK(!(tops->events(w[i].s) & EPOLLOUT));
	net.b.watch = w[i].s;
	net.b.watch_out = 0;
	tnet_pump(&net);
	CHECK(net.b.watch_out == 0);

	/* one zero-window peer reads: its ring goes back, w[i] hears it */
	zdrain(&net, &z[0]);
	CHECK(net.b.watch_out > 0);
	CHECK(tops->events(w[i].s) & EPOLLOUT);
	CHECK(zsend(&w[i], 1000) == 1000);
	zdrain(&net, &w[i]);
	CHECK(mem_exact(&net));

	/* the dropped byte gets in, retransmitted */
	CHECK(zheld(&net, &w[nw]));
	CHECK(ct->snd_una == ct->snd_max);
	CHECK(mem_exact(&net));
	for (i = 1; i < nz; i++)
		zdrain(&net, &z[i]);
	tnet_down(&net);
}

/*
 * An orphan that still holds data its zero-window peer never took is
 * reset when the budget meets its hard limit (as Linux's tcp_check_oom),
 * and its rings go back; a close while the budget is exhausted resets at
 * once instead of making another orphan.
 */
static void test_orphans_reset(void)
{
	struct topts o = { .mem_max = MEM_MAX };
	struct zconn z[NZ], w[NZ], y;
	struct tnet net;
	struct tcp_ctx *c;
	struct cove_sock *l;
	unsigned nz, nw = 0, i;

	tnet_up(&net, &o);
	c = tctx(&net.b);
	l = tlisten(&net.b, PORT, 64);
	nz = zpressure(&net, l, z);
	/* the first zero-window connection is closed by B: an orphan */
	tclose(&net.b, z[0].s);
	tnet_pump(&net);
	CHECK(c->norphans == 1);
	CHECK(c->orphans && c->orphans->sb_len > 0);
	CHECK(mem_exact(&net));

	/* connections until the hard limit: the orphan is reset */
	while (nw < NZ && c->norphans && zhold(&net, l, &w[nw]))
		nw++;
	tadvance(&net, 10);
	CHECK(c->norphans == 0);
	CHECK(c->oom_resets == 1);
	CHECK(tsockerr(z[0].c) == ECONNRESET);
	/* its rings went back: a minimum ring can be had again */
	CHECK(bmem_may(bst(&net), BMEM_SOCK_MIN, BMEM_MIN));
	CHECK(mem_exact(&net));

	/* fill to the limit again: closing a socket with data resets it */
	while (nw < NZ && zhold(&net, l, &w[nw]))
		nw++;
	REQUIRE(nw < NZ);
	CHECK(tcp_mem_exhausted(bst(&net)));
	y = z[1];
	tclose(&net.b, y.s);
	CHECK(c->norphans == 0);
	tadvance(&net, 10);
	CHECK(tsockerr(y.c) == ECONNRESET);
	CHECK(mem_exact(&net));
	for (i = 2; i < nz; i++)
		zdrain(&net, &z[i]);
	tnet_down(&net);
}

/* A configured budget below the smallest accepted one is refused. */
static void test_config(void)
{
	struct bstack st;

	memset(&st, 0, sizeof(st));
	CHECK(bmem_init(&st, BMEM_MIN_MAX - 1) == -EINVAL);
	CHECK(bmem_init(&st, 0) == 0 && st.mem.hard == BMEM_DEFAULT_MAX);
	CHECK(st.mem.soft == BMEM_DEFAULT_MAX / 3 * 2);
}

int main(void)
{
	RUN(test_config);
	RUN(test_pressure);
	RUN(test_hard_limit_wake);
	RUN(test_orphans_reset);
	return check_summary();
}
