/* SPDX-License-Identifier: Apache-2.0 */
/* Control-plane error object: an errno plus a message a person can act on. */
#ifndef COVE_ERR_H
#define COVE_ERR_H

/*
 * Two error conventions live in Cove, on purpose:
 *  - the data plane (stack ABI, links) returns negative errno or a count;
 *  - the control plane (CLI, runtime, sentry set-up, control channel) returns
 *    < 0 and fills a struct cove_err, adding context on the way up:
 *
 *	if (open_thing(path, err) < 0)
 *		return cove_err_prefix(err, "cannot start sandbox %s", name);
 */

#define COVE_ERR_MSG_MAX 512

struct cove_err {
	int code;		    /* errno value (positive), 0 if none */
	char msg[COVE_ERR_MSG_MAX]; /* human-readable, no trailing newline */
};

/**
 * cove_err_set() - record an error
 * @err:	error object (may be NULL: the error is then only returned)
 * @code:	errno value, positive; 0 for errors that have no errno
 * @fmt:	printf-style message
 *
 * Return: -1 always, so callers can write "return cove_err_set(...)".
 */
int cove_err_set(struct cove_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * cove_err_prefix() - add context in front of an error already recorded
 * @err:	error object filled by a callee (may be NULL)
 * @fmt:	printf-style context, joined to the old message with ": "
 *
 * Return: -1 always.
 */
int cove_err_prefix(struct cove_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * cove_err_clear() - reset an error object
 * @err:	error object (may be NULL)
 */
void cove_err_clear(struct cove_err *err);

#endif /* COVE_ERR_H */
