/* SPDX-License-Identifier: Apache-2.0 */
/* Control channel internals shared between its files (not an API). */
#ifndef COVE_CTL_INTERNAL_H
#define COVE_CTL_INTERNAL_H

#include "control/control.h"

/* Outcome of one dial attempt. */
enum {
	CTL_ATTEMPT_OK = 0,
	CTL_ATTEMPT_RETRY = 1, /* err holds the reason */
	CTL_ATTEMPT_FATAL = -1,
};

/**
 * cove_ctl_hvsock_handshake() - "CONNECT <port>\n", then wait for "OK ..."
 * @fd:		connected unix socket (non-blocking)
 * @port:	guest vsock port
 * @deadline:	absolute ms for the reply line
 * @out:	pending bytes after the reply line are stored here
 * @err:	reason
 *
 * Return: CTL_ATTEMPT_OK, _RETRY (peer closed or timed out) or _FATAL.
 */
int cove_ctl_hvsock_handshake(int fd, uint32_t port, int64_t deadline,
			      struct cove_ctl_conn *out, struct cove_err *err);

/**
 * cove_ctl_vsock_set_timeout() - SO_VM_SOCKETS_CONNECT_TIMEOUT in ms
 * @fd:		AF_VSOCK socket
 * @ms:		timeout
 *
 * Return: 0 or negative errno.
 */
int cove_ctl_vsock_set_timeout(int fd, uint32_t ms);

/**
 * cove_ctl_ready_poll() - wait up to @timeout_ms for the readiness byte
 * @fd:		readiness fd
 * @timeout_ms:	how long
 *
 * Return: 1 byte read, 0 timed out, -EPIPE at end of file, other -errno.
 */
int cove_ctl_ready_poll(int fd, int timeout_ms);

#endif /* COVE_CTL_INTERNAL_H */
