/* SPDX-License-Identifier: Apache-2.0 */
/* stack-serve internals: the socket bookkeeping and servers on the stack ABI. */
#ifndef COVE_CLI_SERVE_H
#define COVE_CLI_SERVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cove/err.h"
#include "cove/netstack.h"
#include "host/loop.h"

/*
 * Theory of operation
 *
 * Every ABI socket that stack-serve opens is wrapped in a struct serve_sock
 * (embedded first in the server's own connection type) and given to the
 * stack as its cookie. notify() only queues the wrapper on the work queue
 * (it must not call back into the stack); serve_process() later pops each
 * one and calls its service() callback, which works the socket until
 * -EAGAIN or until it waits for the other direction (backpressure), since
 * notifications may be edges.
 *
 * Invariants: a wrapper is on @all from creation until it is freed; it is on
 * the work queue at most once (@work.queued). serve_sock_close() closes the ABI
 * socket at once, but a wrapper still queued is only marked @dead and freed
 * when serve_process() pops it, so the list never holds freed memory.
 * Connections are bounded by @max_conns; beyond that new ones are closed
 * straight after accept().
 */

struct serve;
struct serve_sock;

typedef void serve_fn(struct serve *sv, struct serve_sock *ss);

struct serve_sock {
	serve_fn *service;		/* work the socket after a notify */
	struct cove_sock *s;		/* NULL once closed */
	struct cove_work work;		/* entry of serve->work */
	struct serve_sock *prev, *next; /* @all */
	bool dead, is_conn;
};

/* Server kinds bound to a TCP port. */
enum serve_app {
	SERVE_ECHO,
	SERVE_DISCARD,
	SERVE_HTTP,
};

/* What the servers did, printed next to the stack's statistics. */
struct serve_counters {
	uint64_t conns_accepted, conns_refused;
	uint64_t echo_bytes, discard_bytes;
	uint64_t http_requests, http_bytes, http_errors;
	uint64_t udp_echoed;
};

#define SERVE_SCRATCH 65536u

struct serve {
	const struct cove_netstack_ops *ops;
	struct cove_stack *st;
	struct cove_workq work; /* notified sockets (host/loop.h) */
	struct serve_sock all;	/* list head of every wrapper */
	uint32_t nconns, max_conns;
	struct serve_counters cnt;
	bool verbose;			/* log the stack's info and debug */
	uint8_t scratch[SERVE_SCRATCH]; /* discard sink, UDP datagrams */
	/* The http body from offset 0; it repeats every 251 bytes, so any
	 * chunk of up to SERVE_SCRATCH bytes is a slice of this. */
	uint8_t http_pattern[SERVE_SCRATCH + 251];
};

/**
 * serve_init() - an empty server set for a stack instance
 * @sv:		to initialise
 * @ops:	the provider
 * @max_conns:	most TCP connections served at once
 */
void serve_init(struct serve *sv, const struct cove_netstack_ops *ops,
		uint32_t max_conns);

/* serve_notify() - the env->notify callback; @host is the struct serve. */
void serve_notify(void *host, struct cove_sock *s, void *cookie,
		  uint32_t events);

/**
 * serve_process() - service every queued socket until the list is empty
 * @sv:		server set
 *
 * A service may queue sockets again (notify inside an ABI call); they are
 * handled in the same pass, up to a bound so that one busy peer cannot
 * starve the loop. Return: true if work is left queued.
 */
bool serve_process(struct serve *sv);

/**
 * serve_tcp_listen() - listen on a port of the stack for one server kind
 * @sv:		server set (its stack must exist)
 * @port:	TCP port
 * @app:	what to serve
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int serve_tcp_listen(struct serve *sv, uint16_t port, enum serve_app app,
		     struct cove_err *err);

/**
 * serve_udp_echo() - echo every datagram arriving on @port to its sender
 * @sv:		server set
 * @port:	UDP port
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int serve_udp_echo(struct serve *sv, uint16_t port, struct cove_err *err);

/**
 * serve_connect() - connect from the stack and report the outcome
 * @sv:		server set
 * @to:		peer address
 * @err:	filled when the socket cannot even be made
 *
 * Prints "connect: ok" or "connect: ENAME" (the errno's name) on stdout
 * once the connection is established or has failed, then closes it.
 *
 * Return: 0 or < 0 with @err set.
 */
int serve_connect(struct serve *sv, const struct sockaddr_in *to,
		  struct cove_err *err);

/* serve_queue() - put @ss on the work queue unless it is there. */
void serve_queue(struct serve *sv, struct serve_sock *ss);

/* serve_adopt() - link a new wrapper @ss for @s into @all and the stack. */
void serve_adopt(struct serve *sv, struct serve_sock *ss, struct cove_sock *s,
		 serve_fn *service);

/* serve_sock_close() - close the ABI socket; free now or when popped. */
void serve_sock_close(struct serve *sv, struct serve_sock *ss);

/* serve_close_all() - close every socket and free every wrapper. */
void serve_close_all(struct serve *sv);

/* serve_http_new() - a fresh HTTP connection wrapper, or NULL. */
struct serve_sock *serve_http_new(void);

/* serve_http_service() - the service() of an HTTP connection. */
serve_fn serve_http_service;

/* serve_http_body() - fill @buf with body bytes starting at offset @off. */
void serve_http_body(uint8_t *buf, size_t len, uint64_t off);

/*
 * The host loop (serve_loop.c): one thread in interrupt mode, sleeping in
 * epoll on the link's fd, the provider's poll_fd(), a timerfd armed to the
 * next deadline (the stack's, or the impairment shim's when it is sooner)
 * and optionally a signalfd.
 */
struct serve_loop {
	struct serve *sv;
	struct cove_link *link; /* NULL for link-less providers */
	bool impaired;		/* @link is a cove_link_impair() shim */
	struct cove_host host;	/* epoll set, timer, turns */
	int sfd;		/* signalfd, -1 when not open */
};

#define SERVE_BURST	      32u /* frames per rx_burst() */
#define SERVE_BURSTS_PER_WAKE 64u /* then let the rest of the loop run */

/* serve_now() - CLOCK_MONOTONIC in ns (the env->now_ns callback). */
uint64_t serve_now(void *host);

/**
 * serve_loop_init() - make the loop's fds and watch the link and stack
 * @lp:		loop with @link and @impaired set, the fds at -1
 * @sv:		server set whose stack exists
 * @sigs:	signals to wake on (already blocked), or NULL
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set; serve_loop_fini() cleans up either way.
 */
int serve_loop_init(struct serve_loop *lp, struct serve *sv,
		    const sigset_t *sigs, struct cove_err *err);

/**
 * serve_loop_wait() - sleep until something wakes the loop
 * @lp:		loop
 * @timeout_ms:	epoll timeout: 0 polls, -1 sleeps as long as needed
 *
 * Return: the number of a signal that arrived, 0 for other wakes and
 * timeouts, or negative errno if epoll fails.
 */
int serve_loop_wait(struct serve_loop *lp, int timeout_ms);

/**
 * serve_turn() - one wake: drain the link into input(), service notified
 * sockets, run() the stack, re-arm the timer
 * @lp:		loop
 *
 * Return: true if work is left and the loop should not sleep.
 */
bool serve_turn(struct serve_loop *lp);

/* serve_loop_fini() - close the loop's fds (not the link, not the stack). */
void serve_loop_fini(struct serve_loop *lp);

#endif /* COVE_CLI_SERVE_H */
