// SPDX-License-Identifier: Apache-2.0
/* stack-serve's socket bookkeeping: wrappers, the work queue, close. */
#include <stdlib.h>
#include <string.h>

#include "cli/serve.h"

/* Most services per serve_process() call before the loop gets a turn. */
#define SERVE_PROCESS_MAX 4096u

/* serve_queue() - put @ss on the work queue unless it is there. */
void serve_queue(struct serve *sv, struct serve_sock *ss)
{
	cove_workq_push(&sv->work, &ss->work);
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
	if (ss->work.queued)
		ss->dead = true;
	else
		serve_free(sv, ss);
}

bool serve_process(struct serve *sv)
{
	struct cove_work *w;
	unsigned n = 0;

	while (n++ < SERVE_PROCESS_MAX && (w = cove_workq_pop(&sv->work))) {
		struct serve_sock *ss =
			cove_container_of(w, struct serve_sock, work);

		if (ss->dead)
			serve_free(sv, ss);
		else
			ss->service(sv, ss);
	}
	return !cove_workq_empty(&sv->work);
}

void serve_close_all(struct serve *sv)
{
	while (cove_workq_pop(&sv->work))
		;
	while (sv->all.next != &sv->all)
		serve_sock_close(sv, sv->all.next);
}
