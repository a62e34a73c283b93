// SPDX-License-Identifier: Apache-2.0
/* Unit test of stack-serve's host loop: link bursts, shim deadlines, pools. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/serve.h"
#include "cove/link.h"
#include "tests/unit/check.h"

/*
 * A fake provider reflects every frame it gets back out on its link. The
 * loop serves it on one end of an in-memory pair wrapped in an impairment
 * shim that delays both directions, so frames only come back if the loop
 * wakes at cove_link_impair_next_ns() and flushes the shim: the part of
 * the loop no real stack can be blamed for. Pools must be full at the end.
 */

struct cove_stack {
	struct cove_stack_env env;
	unsigned inputs, runs;
};

static int fake_create(const struct cove_stack_config *cfg,
		       const struct cove_stack_env *env,
		       struct cove_stack **out)
{
	(void)cfg;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->env = *env;
	return 0;
}

static void fake_destroy(struct cove_stack *st)
{
	free(st);
}

static void fake_input(struct cove_stack *st, struct cove_frame **f, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		st->inputs++;
		if (cove_link_tx_burst(st->env.link, &f[i], 1) != 1)
			cove_frame_free(f[i]);
	}
}

static uint64_t fake_run(struct cove_stack *st, uint64_t now_ns)
{
	(void)now_ns;
	st->runs++;
	return UINT64_MAX;
}

static int fake_poll_fd(struct cove_stack *st)
{
	(void)st;
	return -1;
}

static const struct cove_netstack_ops fake_ops = {
	.abi_version = COVE_NETSTACK_ABI_VERSION,
	.name = "reflector",
	.create = fake_create,
	.destroy = fake_destroy,
	.input = fake_input,
	.run = fake_run,
	.poll_fd = fake_poll_fd,
};

#define N_FRAMES 100u

static void test_reflect_through_delay(void)
{
	static struct serve sv;
	struct cove_frame_pool pa, pb;
	struct cove_link *a, *b, *shim;
	struct cove_impair_spec spec;
	struct cove_stack_config cfg = { .size = sizeof(cfg) };
	struct cove_stack_env env = { .notify = serve_notify,
				      .now_ns = serve_now,
				      .host = &sv };
	struct serve_loop lp = { .host = { .ep = -1, .tfd = -1 }, .sfd = -1 };
	struct cove_frame *f[SERVE_BURST];
	struct cove_err err;
	bool seen[N_FRAMES] = { false };
	unsigned i, n, got = 0, rounds = 0;

	REQUIRE(cove_frame_pool_init(&pa, 256, COVE_FRAME_DEFAULT_SIZE) == 0);
	REQUIRE(cove_frame_pool_init(&pb, 256, COVE_FRAME_DEFAULT_SIZE) == 0);
	REQUIRE(cove_link_mem_pair(&pa, &pb, &a, &b) == 0);
	REQUIRE(cove_impair_parse("delay=3,seed=9", &spec, &err) == 0);
	REQUIRE(cove_link_impair(a, &spec, &shim) == 0);

	serve_init(&sv, &fake_ops, 4);
	env.link = shim;
	REQUIRE(fake_ops.create(&cfg, &env, &sv.st) == 0);
	lp.link = shim;
	lp.impaired = true;
	REQUIRE(serve_loop_init(&lp, &sv, NULL, &err) == 0);

	for (i = 0; i < N_FRAMES; i++) {
		struct cove_frame *x = cove_frame_alloc(&pb);

		REQUIRE(x);
		memset(x->data, 0, 64);
		x->data[20] = (uint8_t)i;
		x->len = 64;
		CHECK(cove_link_tx_burst(b, &x, 1) == 1);
	}

	/*
	 * Sleep without a timeout: only the link's fd and the timer armed at
	 * the shim's deadline can wake us, so a missed deadline hangs (and
	 * meson's timeout fails the test) instead of passing slowly.
	 */
	while (got < N_FRAMES && rounds < 10000) {
		CHECK(serve_loop_wait(&lp, -1) == 0);
		serve_turn(&lp);
		rounds++;
		while ((n = cove_link_rx_burst(b, f, SERVE_BURST)) > 0) {
			for (i = 0; i < n; i++) {
				CHECK(f[i]->len == 64);
				CHECK(!seen[f[i]->data[20]]);
				seen[f[i]->data[20] % N_FRAMES] = true;
				cove_frame_free(f[i]);
				got++;
			}
		}
	}
	CHECK(got == N_FRAMES);
	CHECK(sv.st->inputs == N_FRAMES);
	CHECK(sv.st->runs >= 1);
	CHECK(rounds > 1); /* the delay needed timer wakes */
	CHECK(cove_link_impair_next_ns(shim) == UINT64_MAX);

	serve_close_all(&sv);
	fake_ops.destroy(sv.st);
	serve_loop_fini(&lp);
	cove_link_close(shim);
	cove_link_close(b);
	CHECK(cove_frame_pool_fini(&pa) == 0);
	CHECK(cove_frame_pool_fini(&pb) == 0);
}

int main(void)
{
	RUN(test_reflect_through_delay);
	return check_summary();
}
