// SPDX-License-Identifier: Apache-2.0
/* stack-serve's socket bookkeeping: wrappers, the pending list, close. */
#include <stdlib.h>
#include <string.h>

#include "cli/serve.h"

/* Most services per serve_process() call before the loop gets a turn. */
#define SERVE_PROCESS_MAX 4096u

/* serve_queue() - put @ss on the pending list unless it is there. */
void serve_queue(struct serve *sv, struct serve_sock *ss)
{
	if (ss->queued)
		return;
	ss->queued = true;
	ss->next_pending = NULL;
	*sv->pending_tail = ss;
	sv->pending_tail = &ss->next_pending;
}

void serve_notify(void *host, struct cove_sock *s, void *cookie,
		  uint32_t events)
{
	(void)s;
	(void)events;
	if (cookie)
		serve_queue(host, cookie);
}

/* serve_adopt() - link a new wrapper for @s into @all and the stack. */
void serve_adopt(struct serve *sv, struct serve_sock *ss, struct cove_sock *s,
		 serve_fn *service)
{
	ss->s = s;
	ss->service = service;
	ss->next = sv->all.next;
	ss->prev = &sv->all;
	sv->all.next->prev = ss;
	sv->all.next = ss;
	sv->ops->set_cookie(s, ss);
}

static void serve_free(struct serve *sv, struct serve_sock *ss)
{
	ss->prev->next = ss->next;
	ss->next->prev = ss->prev;
	if (ss->is_conn)
		sv->nconns--;
	free(ss);
}

void serve_sock_close(struct serve *sv, struct serve_sock *ss)
{
	if (ss->s) {
		sv->ops->close(ss->s);
		ss->s = NULL;
	}
	if (ss->queued)
		ss->dead = true;
	else
		serve_free(sv, ss);
}

bool serve_process(struct serve *sv)
{
	unsigned n = 0;

	while (sv->pending && n++ < SERVE_PROCESS_MAX) {
		struct serve_sock *ss = sv->pending;

		sv->pending = ss->next_pending;
		if (!sv->pending)
			sv->pending_tail = &sv->pending;
		ss->queued = false;
		if (ss->dead)
			serve_free(sv, ss);
		else
			ss->service(sv, ss);
	}
	return sv->pending != NULL;
}

void serve_close_all(struct serve *sv)
{
	while (sv->pending) {
		struct serve_sock *ss = sv->pending;

		sv->pending = ss->next_pending;
		ss->queued = false;
	}
	sv->pending_tail = &sv->pending;
	while (sv->all.next != &sv->all)
		serve_sock_close(sv, sv->all.next);
}
