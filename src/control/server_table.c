// SPDX-License-Identifier: Apache-2.0
/* Control server: the slot table's basics (log, clock, closing a slot). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/clock.h"
#include "control/server_internal.h"

/**
 * srv_log() - one line to the configured log
 * @srv:	server
 * @fmt:	printf-style message
 */
void srv_log(struct cove_ctl_server *srv, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (srv->cfg.log)
		srv->cfg.log(srv->cfg.opaque, line);
	else
		fprintf(stderr, "cove: control: %s\n", line);
}

/* srv_now() - the server's clock: cfg.now_ms, or CLOCK_MONOTONIC in ms. */
int64_t srv_now(const struct cove_ctl_server *srv)
{
	return srv->cfg.now_ms ? srv->cfg.now_ms(srv->cfg.opaque) :
				 cove_now_ms();
}

/**
 * srv_drop_fds() - close the fds a connection received and nobody took
 * @c:		connection
 */
void srv_drop_fds(struct srv_conn *c)
{
	while (c->nfds)
		close(c->fds[--c->nfds]);
}

/**
 * srv_close_slot() - free a slot whose socket is closed already
 * @c:		connection
 */
void srv_close_slot(struct srv_conn *c)
{
	srv_drop_fds(c);
	cove_ctl_rx_free(&c->rx);
	free(c->tx);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/**
 * srv_close() - close a connection and free its slot
 * @srv:	server
 * @c:		connection
 */
void srv_close(struct cove_ctl_server *srv, struct srv_conn *c)
{
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	srv_close_slot(c);
}
