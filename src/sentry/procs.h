/* SPDX-License-Identifier: Apache-2.0 */
/* The sentry's process table: the program ("main") and cove exec's. */
#ifndef COVE_SENTRY_PROCS_H
#define COVE_SENTRY_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/control.h"

/*
 * Theory of operation
 *
 * SBX_MAX_PROCS fixed slots: "main" and one per exec. An exited process
 * keeps its slot, so a late cove.Wait or ps still sees its status, until a
 * new process needs the slot (the oldest exited one without waiters goes;
 * "main" never does). A process holds at most SBX_MAX_WAITS deferred
 * cove.Wait calls; control.c answers them when sbx_procs_exited() reports
 * the process ended. Only control.c and sentry.c see this table: the data
 * plane (frontend, relay) does not include this header, nor control.h.
 */

#define SBX_MAX_PROCS	  64
#define SBX_MAX_WAITS	  8 /* pending cove.Wait calls per process */
#define SBX_PROC_ID_MAX	  31
#define SBX_PROC_ARGV_MAX 256 /* argv joined by spaces, for ps */

struct sbx_proc {
	char id[SBX_PROC_ID_MAX + 1]; /* "" : slot free */
	pid_t pid;
	char argv[SBX_PROC_ARGV_MAX];
	bool running;
	int exit_code; /* 128+N after signal N */
	int term_signal;
	uint64_t seq; /* start order, for evicting exited */
	struct cove_ctl_call waits[SBX_MAX_WAITS];
	unsigned nwaits;
};

struct sbx_procs {
	struct sbx_proc p[SBX_MAX_PROCS];
	uint64_t seq; /* of the last process added */
};

/**
 * sbx_procs_find() - a process by id
 * @pt:		table
 * @id:		its id; NULL or "" means "main"
 *
 * Return: the slot or NULL.
 */
struct sbx_proc *sbx_procs_find(struct sbx_procs *pt, const char *id);

/**
 * sbx_procs_slot() - where the next process would go
 * @pt:		table
 *
 * Return: a free slot, or the oldest exited one without waiters; NULL when
 * every slot runs or is waited for.
 */
struct sbx_proc *sbx_procs_slot(struct sbx_procs *pt);

/**
 * sbx_procs_add() - record a started process
 * @pt:		table
 * @id:		its id (copied)
 * @pid:	its pid in the sandbox
 * @argv:	its arguments, joined by spaces for ps (truncated)
 * @argc:	how many
 *
 * Nothing is recorded when no slot is left (sbx_procs_slot() said so
 * before the process was started).
 */
void sbx_procs_add(struct sbx_procs *pt, const char *id, pid_t pid,
		   char *const *argv, size_t argc);

/**
 * sbx_procs_exited() - note that @pid ended with wait status @status
 * @pt:		table
 * @pid:	a reaped child
 * @status:	its wait status
 *
 * Return: the process, now not running with its exit code set, whose
 * deferred waits the caller answers; NULL if @pid is not in the table.
 */
struct sbx_proc *sbx_procs_exited(struct sbx_procs *pt, pid_t pid, int status);

/* sbx_procs_running() - is @pid a running process of the table? */
bool sbx_procs_running(const struct sbx_procs *pt, pid_t pid);

#endif /* COVE_SENTRY_PROCS_H */
