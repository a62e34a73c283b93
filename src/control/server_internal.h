/* SPDX-License-Identifier: Apache-2.0 */
/* Control server internals shared by server*.c (not an API). */
#ifndef COVE_CTL_SERVER_INTERNAL_H
#define COVE_CTL_SERVER_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "control/control.h"

/*
 * The server is three files, each calling only the ones below it:
 *
 *   server.c        listeners, receive, send, dispatch, _run(), _reply()
 *   server_admit.c  who gets a slot and for how long: peer checks at
 *                   accept, the connection limit, eviction, the
 *                   handshake and idle timeouts (its theory of operation)
 *   server_table.c  the slot table's basics: log, clock, close a slot
 */

#define SRV_MAX_LISTEN		 2
#define SRV_DEFAULT_CONNS	 16
#define SRV_DEFAULT_HANDSHAKE_MS 3000
#define SRV_DEFAULT_IDLE_MS	 60000
#define SRV_DEFAULT_EVICT_MS	 1000
#define SRV_DRAIN_MAX		 65536 /* bytes read away before a refusal */
#define SRV_TX_LIMIT		 4 /* queued bytes <= 4 * (max frame + 10) */
#define SRV_EV_LISTEN		 (1ull << 32)
#define SRV_EV_CONN		 (2ull << 32)
#define SRV_EV_TIMER		 (3ull << 32)
#define SRV_NEVER		 INT64_MAX

struct srv_conn {
	int fd; /* -1: slot free */
	uint64_t gen;
	uid_t uid;
	pid_t pid;
	int hello;	  /* hello done */
	int deferred;	  /* deferred calls not yet answered; an answer given
		       * inside its own handler dips it below 0 for a moment */
	int64_t since_ms; /* accepted: the handshake timeout's start */
	int64_t last_ms;  /* last bytes in or answer out: idle's start */
	int want_out;	  /* EPOLLOUT armed */
	int fds[COVE_CTL_MAX_FDS]; /* passed with the request being read */
	unsigned nfds;
	struct cove_ctl_rx rx;
	uint8_t *tx;
	size_t tx_len, tx_off;
};

struct srv_listener {
	int fd;
	int is_unix;
	char path[COVE_CTL_PATH_MAX];
};

struct cove_ctl_server {
	struct cove_ctl_server_cfg cfg;
	int epfd;
	struct srv_listener lis[SRV_MAX_LISTEN];
	unsigned n_lis;
	struct srv_conn *conns;
	uint64_t next_gen;
	int tfd;	  /* timerfd: the earliest expiry */
	int64_t armed_ms; /* what tfd is armed for, SRV_NEVER: disarmed */
};

/* ---- server_table.c ------------------------------------------------ */

void srv_log(struct cove_ctl_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* srv_now() - the server's clock: cfg.now_ms, or CLOCK_MONOTONIC in ms. */
int64_t srv_now(const struct cove_ctl_server *srv);

/* srv_drop_fds() - close the fds a connection received and nobody took. */
void srv_drop_fds(struct srv_conn *c);

/* srv_close_slot() - free a slot whose socket is closed already. */
void srv_close_slot(struct srv_conn *c);

/* srv_close() - close a connection and free its slot. */
void srv_close(struct cove_ctl_server *srv, struct srv_conn *c);

/* ---- server_admit.c ------------------------------------------------ */

/**
 * srv_add() - give a connected socket a slot (making room if full)
 * @srv:	server
 * @fd:		connected socket, non-blocking; closed on failure
 * @uid:	peer uid, for logs
 * @pid:	peer pid, for logs
 *
 * Return: 0 or negative errno (the peer was refused or epoll failed).
 */
int srv_add(struct cove_ctl_server *srv, int fd, uid_t uid, pid_t pid);

/**
 * srv_accept() - accept, check and admit every pending peer of a listener
 * @srv:	server
 * @l:		listener
 */
void srv_accept(struct cove_ctl_server *srv, struct srv_listener *l);

/**
 * srv_expire() - close the connections that timed out, arm the timer
 * @srv:	server
 */
void srv_expire(struct cove_ctl_server *srv);

#endif /* COVE_CTL_SERVER_INTERNAL_H */
