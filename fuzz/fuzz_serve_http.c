// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: stack-serve's HTTP responder fed arbitrary request bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "cli/serve.h"

/*
 * A fake provider stands in for the stack: recvmsg() hands out the input
 * in slices whose sizes come from the input itself, sendmsg() accepts a
 * varying part of what it is offered or says -EAGAIN, and close() notes
 * that the responder gave up. The responder is serviced until it closes
 * or a bounded number of rounds has passed; ASan/UBSan watch its buffers.
 * The body formula is checked on its own at an input-derived offset.
 */

struct fake {
	const uint8_t *in;
	size_t len, off;
	unsigned turn;
	bool closed;
	uint64_t sent;
};

static struct fake fake;

static ssize_t fake_recvmsg(struct cove_sock *s, struct msghdr *msg, int flags)
{
	size_t n, want;

	(void)s;
	(void)flags;
	if (fake.off == fake.len)
		return fake.turn++ & 1 ? 0 : -EAGAIN;
	want = (size_t)fake.in[fake.off] % 97 + 1;
	n = fake.len - fake.off;
	if (n > want)
		n = want;
	if (n > msg->msg_iov[0].iov_len)
		n = msg->msg_iov[0].iov_len;
	memcpy(msg->msg_iov[0].iov_base, fake.in + fake.off, n);
	fake.off += n;
	return (ssize_t)n;
}

static ssize_t fake_sendmsg(struct cove_sock *s, const struct msghdr *msg,
			    int flags)
{
	size_t total = 0, i;

	(void)s;
	(void)flags;
	if (++fake.turn % 5 == 0)
		return -EAGAIN;
	for (i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	if (total > 1000 + fake.turn % 7000)
		total = 1000 + fake.turn % 7000;
	fake.sent += total;
	return (ssize_t)total;
}

static void fake_close(struct cove_sock *s)
{
	(void)s;
	fake.closed = true;
}

static const struct cove_netstack_ops fake_ops = {
	.abi_version = COVE_NETSTACK_ABI_VERSION,
	.name = "fake",
	.recvmsg = fake_recvmsg,
	.sendmsg = fake_sendmsg,
	.close = fake_close,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct serve sv;
	struct serve_sock *ss;
	unsigned rounds;
	uint8_t chunk[64];

	memset(&fake, 0, sizeof(fake));
	fake.in = data;
	fake.len = size;
	serve_init(&sv, &fake_ops, 1);
	ss = serve_http_new();
	if (!ss)
		return 0;
	/* Stand-alone: not on sv.all, so close it by hand below. */
	ss->s = (struct cove_sock *)&fake;
	ss->prev = ss->next = ss;
	for (rounds = 0; rounds < 2000 && !fake.closed; rounds++)
		serve_http_service(&sv, ss);
	if (!fake.closed)
		fake_close(ss->s);
	else
		ss = NULL; /* serve_sock_close() freed it */
	free(ss);

	/* The body formula itself: any offset, any length. */
	serve_http_body(chunk, sizeof(chunk), size * 7919u);
	for (rounds = 1; rounds < sizeof(chunk); rounds++)
		if ((chunk[rounds] + 251 - chunk[rounds - 1]) % 251 != 31)
			__builtin_trap();
	return 0;
}
