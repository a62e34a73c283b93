/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the verbs that command a running sandbox over its control channel. */
#ifndef COVE_CLI_CTL_CMD_H
#define COVE_CLI_CTL_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "control/control.h"

#define CTL_EXIT_COVE 125 /* cove's own failure, as cove run */

/**
 * ctl_cmd_open() - connect to sandbox @name and say hello
 * @verb:	"exec", ... for messages
 * @name:	sandbox name
 * @config:	--config path or NULL
 * @out:	the client
 *
 * Prints one line naming the problem on failure: no such sandbox, stale
 * state, not the owner, the sentry not answering.
 *
 * Return: 0 or CTL_EXIT_COVE.
 */
int ctl_cmd_open(const char *verb, const char *name, const char *config,
		 struct cove_ctl_client **out);

/**
 * ctl_cmd_call() - one call; non-OK answers and transport errors printed
 * @verb:	for messages
 * @name:	sandbox name, for messages
 * @c:		client
 * @method:	"cove.Stats", ...
 * @req:	packed request
 * @len:	its length
 * @fds:	fds to pass (or NULL)
 * @nfds:	how many
 * @timeout_ms:	how long to wait
 * @resp:	the OK answer; free resp->payload
 *
 * Return: 0 or CTL_EXIT_COVE.
 */
int ctl_cmd_call(const char *verb, const char *name, struct cove_ctl_client *c,
		 const char *method, const uint8_t *req, size_t len,
		 const int *fds, unsigned nfds, uint32_t timeout_ms,
		 struct cove_ctl_response *resp);

/**
 * ctl_cmd_error() - print "PROG VERB: message" (one line)
 * @verb:	verb
 * @fmt:	printf-style message
 *
 * Return: CTL_EXIT_COVE.
 */
int ctl_cmd_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * ctl_cmd_lock_state() - is a sandbox's runtime alive?
 * @dir:	its state dir
 *
 * Return: 1 (running: its runtime holds the lock), 2 (stopping: the
 * program has exited and the teardown runs in the background; "stopping"
 * in the dir), 0 (stale: the lock is free or gone), -1 (cannot tell).
 */
int ctl_cmd_lock_state(const char *dir);

/* ctl_cmd_client_closep() - close the client *@c points to, leave NULL. */
static inline void ctl_cmd_client_closep(struct cove_ctl_client **c)
{
	cove_ctl_client_close(*c);
	*c = NULL;
}

/* A client local closed on scope exit, as common/cleanup.h's helpers. */
#define ctl_cmd_cleanup_client __attribute__((cleanup(ctl_cmd_client_closep)))

#endif /* COVE_CLI_CTL_CMD_H */
