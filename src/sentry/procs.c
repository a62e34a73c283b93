// SPDX-License-Identifier: Apache-2.0
/* The sentry's process table (theory: procs.h). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/sandbox.h"
#include "sentry/procs.h"

struct sbx_proc *sbx_procs_find(struct sbx_procs *pt, const char *id)
{
	unsigned i;

	if (!id || !id[0])
		id = "main";
	for (i = 0; i < SBX_MAX_PROCS; i++)
		if (pt->p[i].id[0] && !strcmp(pt->p[i].id, id))
			return &pt->p[i];
	return NULL;
}

struct sbx_proc *sbx_procs_slot(struct sbx_procs *pt)
{
	struct sbx_proc *old = NULL;
	unsigned i;

	for (i = 0; i < SBX_MAX_PROCS; i++) {
		struct sbx_proc *p = &pt->p[i];

		if (!p->id[0])
			return p;
		if (!p->running && !p->nwaits && strcmp(p->id, "main") &&
		    (!old || p->seq < old->seq))
			old = p;
	}
	return old;
}

void sbx_procs_add(struct sbx_procs *pt, const char *id, pid_t pid,
		   char *const *argv, size_t argc)
{
	struct sbx_proc *p = sbx_procs_slot(pt);
	size_t i, off = 0;

	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->pid = pid;
	p->running = true;
	p->seq = ++pt->seq;
	for (i = 0; i < argc && off + 1 < sizeof(p->argv); i++) {
		int n = snprintf(p->argv + off, sizeof(p->argv) - off, "%s%s",
				 i ? " " : "", argv[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* sbx_status_code() - wait status as a shell would report it. */
static int sbx_status_code(int status, int *sig)
{
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return *sig ? 128 + *sig : SBX_EXIT_COVE;
}

struct sbx_proc *sbx_procs_exited(struct sbx_procs *pt, pid_t pid, int status)
{
	unsigned i;

	for (i = 0; i < SBX_MAX_PROCS; i++) {
		struct sbx_proc *p = &pt->p[i];

		if (!p->id[0] || !p->running || p->pid != pid)
			continue;
		p->running = false;
		p->exit_code = sbx_status_code(status, &p->term_signal);
		return p;
	}
	return NULL;
}

bool sbx_procs_running(const struct sbx_procs *pt, pid_t pid)
{
	unsigned i;

	for (i = 0; i < SBX_MAX_PROCS; i++)
		if (pt->p[i].id[0] && pt->p[i].running && pt->p[i].pid == pid)
			return true;
	return false;
}
