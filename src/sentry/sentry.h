/* SPDX-License-Identifier: Apache-2.0 */
/* Sentry internals: sockets served through seccomp notifications. */
#ifndef COVE_SENTRY_SENTRY_H
#define COVE_SENTRY_SENTRY_H

#include <linux/seccomp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cove/netstack.h"
#include "common/sandbox.h"
#include "host/loop.h"

/*
 * Theory of operation
 *
 * Every AF_INET and AF_INET6 socket of the program is a struct sbx_sock: a stack socket
 * (@s) and a kernel AF_UNIX pair whose one end is installed in the program
 * (SECCOMP_IOCTL_NOTIF_ADDFD) and whose other end (@sfd, non-blocking,
 * edge-triggered in the sentry's epoll set) the sentry keeps. The program's
 * end is known by its SO_COOKIE (unique for the kernel's lifetime, never
 * reused), which the sentry reads through a pidfd_getfd() duplicate when a
 * trapped call names an fd; the sentry never keeps the program's end
 * itself, except for accepted connections not yet handed out (@held_afd),
 * so that closing it in the program shows as EPOLLHUP on @sfd.
 *
 * Work is queued, not done in callbacks: the stack's notify(), epoll events
 * on @sfd and answered calls put a socket on the host loop's work queue
 * once (@work); sbx_relay_process() pops each and pumps it (relay.c). A socket
 * freed while queued is marked @dead and freed when popped.
 *
 * A trapped call that must block (a blocking connect, accept or recvfrom)
 * is parked as a struct sbx_waiter on its socket and answered when the
 * socket changes; the sentry itself never blocks.
 */

#define SBX_SCRATCH	(256u * 1024) /* one stack -> pair move */
#define SBX_UP_CHUNK	65536u	      /* one pair -> stack read */
#define SBX_PAIR_SNDBUF (512 * 1024)  /* the kernel doubles it */
#define SBX_HASH	1024u
#define SBX_RING	1024u /* UDP source addresses kept per socket */
#define SBX_PUMP_ROUNDS 16u   /* per direction per turn */
#define SBX_MAX_BACKLOG 4096
#define SBX_MAX_OPTLEN	256u
#define SBX_WAITERS	1024u	    /* parked calls, whole sandbox */
#define SBX_SPILL_LEN	SBX_SCRATCH /* the largest leftover of one move */
#define SBX_SPILL_SPARE 8u	    /* spill buffers kept for reuse */

/* The flags of the one sendmsg() and the one recvmsg() the filter lets by:
 * spawn.c handing the listener fd over, the exec zygote taking requests
 * (MSG_CMSG_CLOEXEC means nothing to sendmsg, MSG_NOSIGNAL to recvmsg). */
#define SBX_HANDOVER_FLAGS (MSG_NOSIGNAL | MSG_CMSG_CLOEXEC)

/* Directions a queued socket needs pumped. */
#define SBX_PUMP_UP   1u /* program -> stack */
#define SBX_PUMP_DOWN 2u /* stack -> program */
#define SBX_PUMP_BOTH 3u

enum sbx_tag {
	SBX_EV_SOCK = 1, /* must stay first: struct sbx_sock starts with it */
	SBX_EV_NOTIFY,
	SBX_EV_SIGNAL,
	SBX_EV_TIMER,
	SBX_EV_STACK,
	SBX_EV_CONTROL,
	SBX_EV_LINK, /* the link's thread is done (sentry.c) */
};

/*
 * An address as a stack socket reports it: struct sockaddr_in for AF_INET
 * sockets, struct sockaddr_in6 for AF_INET6 ones (an IPv4 peer of a
 * dual-stack socket as ::ffff:a.b.c.d), exactly as Linux returns them.
 */
union sbx_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* sbx_sa_len() - the length Linux reports for an address of @family. */
static inline socklen_t sbx_sa_len(int family)
{
	return family == AF_INET6 ? sizeof(struct sockaddr_in6) :
				    sizeof(struct sockaddr_in);
}

/**
 * sbx_sa_port() - the port of an address of either family
 * @a:		address (read from the program or from the stack)
 * @len:	its length
 *
 * Return: the port in network order, or 0 when @a is too short for its
 * family or of another family.
 */
static inline uint16_t sbx_sa_port(const struct sockaddr *a, socklen_t len)
{
	union sbx_sockaddr u;

	if (len < (socklen_t)sizeof(sa_family_t))
		return 0;
	memset(&u, 0, sizeof(u));
	memcpy(&u, a, len < sizeof(u) ? len : sizeof(u));
	if (u.sa.sa_family == AF_INET && len >= sizeof(u.in))
		return u.in.sin_port;
	if (u.sa.sa_family == AF_INET6 && len >= sizeof(u.in6))
		return u.in6.sin6_port;
	return 0;
}

enum sbx_sk_state {
	SK_NEW,
	SK_CONNECTING,
	SK_CONNECTED,
	SK_LISTENING,
	SK_FAILED,
};

/* A parked call: a slot of sentry->waiter_pool (socktab.c). */
struct sbx_waiter {
	struct sbx_waiter *next; /* the socket's queue, or the free list */
	uint64_t id;		 /* the notification */
	uint32_t pid;		 /* its thread, in the sentry's pid ns */
	int nr;			 /* syscall */
	uint64_t args[6];
};

struct sbx_sock {
	enum sbx_tag tag; /* SBX_EV_SOCK */
	struct sentry *sn;
	struct cove_sock *s; /* stack socket; NULL once closed */
	int sfd;	     /* the sentry's end of the pair */
	int held_afd;	     /* program's end until installed, or -1 */
	uint64_t cookie;     /* SO_COOKIE of the program's end */
	uint64_t app_ino;    /* its inode, for sock_diag */
	int type;	     /* SOCK_STREAM or SOCK_DGRAM */
	int family;	     /* AF_INET or AF_INET6 (what SO_DOMAIN says) */
	enum sbx_sk_state state;
	int conn_err; /* connect's outcome for SO_ERROR */
	/* The last thread and fd that named this socket in a trapped call
	 * (or were given it): where the program's end likely is, for
	 * sbx_relay_reset_pair(). Only a hint; checked by cookie. */
	uint32_t hint_pid;
	int hint_fd;
	uint32_t filler; /* bytes of filler queued on @sfd */
	int backlog;
	/* accepted connections waiting for accept() (one token byte each) */
	struct sbx_sock *acq_head, *acq_tail, *acq_next;
	unsigned nacq;
	unsigned tokens; /* token bytes in the listener's pair, <= nacq */
	struct sbx_waiter *waiters;
	/* leftovers when the other side was full: spill buffers (socktab.c) */
	uint8_t *up_buf, *down_buf;
	uint32_t up_off, up_len, down_off, down_len;
	uint32_t pair_sndbuf; /* SO_SNDBUF of @sfd (TCP), 0: unknown */
	uint32_t pair_queued; /* bound on what @sfd holds (relay.c) */
	union sbx_sockaddr down_addr;
	/* UDP: source addresses of datagrams queued to the program, in order */
	union sbx_sockaddr *ring;
	uint32_t ring_head, ring_len;
	bool hup;		      /* EPOLLHUP seen on @sfd */
	bool rdhup;		      /* EPOLLRDHUP seen: read until 0 */
	bool app_readable;	      /* EPOLLIN seen since the last dry read */
	bool app_eof;		      /* read 0 on @sfd */
	bool stack_eof;		      /* stack said EOF or an error */
	bool stack_shut_wr;	      /* shutdown(SHUT_WR) given to the stack */
	bool sfd_shut_wr;	      /* shutdown(SHUT_WR) done on @sfd */
	bool sfd_reset;		      /* @sfd closed for a reset (relay.c) */
	bool err_in_pair;	      /* its error is the program end's own */
	uint8_t pend;		      /* SBX_PUMP_*: directions to pump */
	bool want_out;		      /* EPOLLOUT watched on @sfd */
	bool zombie;		      /* both ways shut, program end alive */
	bool starved;		      /* held back: no spill buffer to be had */
	bool dead;		      /* freed, still on the work queue */
	struct cove_work work;	      /* entry of sentry->work */
	struct sbx_sock *hnext;	      /* cookie hash chain */
	struct sbx_sock *prev, *next; /* sentry's list of all sockets */
};

struct sbx_procs;
struct cove_ctl_server;

struct sentry {
	struct sbx_opts *o;
	const struct cove_netstack_ops *ops; /* NULL: no interception */
	struct cove_stack *st;
	struct cove_link *link;
	/* the link opened beside spawning the program (sentry.c) */
	pthread_t link_thread;
	bool link_pending; /* link_thread runs; join before serving */
	int link_ret;	   /* its result, with link_err */
	struct cove_err link_err;
	int link_efd;	  /* eventfd: the thread is done; -1: none */
	bool link_failed; /* the program was killed for it: exit 125 */
	struct cove_frame_pool pool;
	struct cove_host host;	/* epoll set, timer, turns (host/loop.h) */
	struct cove_workq work; /* sockets to pump */
	int sigfd, nfd;
	enum sbx_tag tag_notify, tag_signal, tag_timer, tag_stack, tag_control,
		tag_link;
	struct cove_ctl_server *ctl; /* control channel listener */
	struct sbx_procs *procs;     /* process table (procs.h) */
	int zyg_fd;		     /* the exec zygote's pair, or -1 */
	pid_t zyg_pid;		     /* 0: none */
	pid_t child;		     /* the program, PID 2 */
	int child_status;
	bool child_done;
	bool main_told; /* main's status went to a cove.Wait */
	bool trace;	/* COVE_TRACE set: log every call */
	unsigned nsocks;
	unsigned nzombies;
	unsigned nstarved;   /* sockets with @starved set */
	int diag;	     /* NETLINK_SOCK_DIAG, or -1 */
	uint64_t nofile_cur; /* RLIMIT_NOFILE soft limit to give the program */
	struct sbx_sock *hash[SBX_HASH];
	struct sbx_sock *all;
	/* The frontend's answer to parked calls the relay finds ready (set by
	 * sbx_frontend_init(); the relay never calls the frontend directly). */
	void (*wake_parked)(struct sbx_sock *sk);
	/* parked calls: free list built on first use (socktab.c) */
	struct sbx_waiter waiter_pool[SBX_WAITERS];
	struct sbx_waiter *waiter_free;
	unsigned nwaiters; /* slots in use */
	bool waiter_ready;
	/* leftovers: spare spill buffers, and how many sockets hold one */
	uint8_t *spill_spare[SBX_SPILL_SPARE];
	unsigned nspill_spare, nspill_held;
	uint64_t spill_waits; /* reads held back for want of a buffer */
	long spill_fails;     /* COVE_TEST_SPILL_FAILS still to fail */
	uint8_t scratch[SBX_SCRATCH];
};

/* confine.c */
int sbx_confine(struct sentry *sn, struct cove_err *err);
int sbx_confine_filter(bool dpdk, bool log_only, unsigned *count,
		       struct cove_err *err);

/* control.c */
int sbx_control_start(struct sentry *sn, struct cove_err *err);
void sbx_control_run(struct sentry *sn);
int sbx_control_fd(const struct sentry *sn);
void sbx_proc_add(struct sentry *sn, const char *id, pid_t pid,
		  char *const *argv, size_t argc);
void sbx_proc_exited(struct sentry *sn, pid_t pid, int status);

/* exec.c: the zygote that cove exec's processes are forked from */
int sbx_zygote_fork(int zfd, const struct sbx_oci *oci, uint64_t caps);
/* sbx_caps_limit() - bounding set to @bound, the other sets to @keep. */
int sbx_caps_limit(uint64_t bound, uint64_t keep);
int sbx_zygote_hello(struct sentry *sn, int zfd);
int sbx_zygote_exec(struct sentry *sn, const uint8_t *req, size_t len,
		    const int fds[3], struct cove_err *err);
char **sbx_build_env(const struct sbx_opts *o);
void sbx_use_path(char *const *env);

/* ---- oci_fs.c: an OCI bundle in the program's process ---------------- */

/* On the exec pipe: the program waits on exec.fifo (not an errno). */
#define SBX_OCI_ARMED (-2)

int sbx_oci_enter_root(const struct sbx_opts *o, int *fdsdir,
		       struct cove_err *err);
int sbx_oci_process(const struct sbx_oci *x, struct cove_err *err);
int sbx_oci_caps(const struct sbx_oci *x, uint64_t keep);
/**
 * sbx_oci_caps_final() - after the uid change (the program's, an exec'd
 * command's): exactly the spec's effective and permitted sets, within
 * what is permitted; keep-caps off again
 * @x:		the bundle's extras, or NULL (nothing to do)
 *
 * Return: 0 or negative errno.
 */
int sbx_oci_caps_final(const struct sbx_oci *x);
int sbx_oci_terminal(const struct sbx_opts *o, struct cove_err *err);
int sbx_oci_gate(const struct sbx_opts *o, char *const *env, int fdsdir,
		 int exec_pipe);

/* sandnet.c: the sandbox end of the network */
/**
 * sbx_attach_sandbox() - sentry side: lo up, eth0 addressed, default route
 * @o:		options
 * @drop_ingress: stop the netns's kernel stack from answering on eth0
 * @kernel_ip6:	the kernel serves the program: give eth0 the IPv6 address
 * @err:	filled on failure
 *
 * With --netns the interface is expected to be configured already; only
 * lo and the ingress drop are done, and the address is read back.
 * Return: 0 or < 0 with @err set.
 */
int sbx_attach_sandbox(struct sbx_opts *o, bool drop_ingress, bool kernel_ip6,
		       struct cove_err *err);

/**
 * sbx_attach_tap() - sentry side, --link=tap: splice a TAP to the interface
 * @o:		options (after sbx_attach_sandbox)
 * @tap:	the TAP's name (the link has created it)
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int sbx_attach_tap(struct sbx_opts *o, const char *tap, struct cove_err *err);

/**
 * sbx_detach_sandbox() - sentry side, --netns only: undo the ingress drop
 * and the IPv6 switch on an interface the sandbox does not own
 * @o:		options as sbx_attach_sandbox() left them
 */
void sbx_detach_sandbox(const struct sbx_opts *o);

/* profile.c: the container's own seccomp profile (OCI) */
void *sbx_profile_build(const struct sbx_seccomp *sc, struct cove_err *err);
int sbx_profile_load(void *filter);

/* seccomp.c */
int sbx_seccomp_install(bool notify, int *notify_fd, struct cove_err *err);

/* spawn.c: fork the program; Return: 0, or < 0 with @err and the exit
 * @status to use (125, or 126/127 when exec failed). */
int sbx_spawn(struct sentry *sn, struct cove_err *err, int *status);

/*
 * Who calls whom: sentry.c (the loop) -> frontend.c (trapped calls) ->
 * relay.c (the pumps) -> socktab.c (sockets, pairs, parked calls) ->
 * notify.c (answers, program memory and fds). The relay reaches back up
 * only through sn->wake_parked.
 */

/* frontend.c */
void sbx_frontend_init(struct sentry *sn);
void sbx_frontend_drain(struct sentry *sn);
bool sbx_serve_accept(struct sentry *sn, struct sbx_sock *l,
		      const struct sbx_waiter *w);
int sbx_bind(struct sentry *sn, struct sbx_sock *sk, const struct sockaddr *a,
	     socklen_t len);
int sbx_listen(struct sentry *sn, struct sbx_sock *sk, int backlog);
bool sbx_try_recvfrom(struct sentry *sn, struct sbx_sock *sk,
		      const struct sbx_waiter *w, int dup, bool can_park);

/* dgram.c */
bool sbx_dgram_try_recv(struct sentry *sn, struct sbx_sock *sk,
			const struct sbx_waiter *w, int dup, bool can_park);
void sbx_dgram_send(struct sentry *sn, const struct seccomp_notif *n,
		    struct sbx_sock *sk, int dup);

/* relay.c */
void sbx_relay_notify(void *host, struct cove_sock *s, void *cookie,
		      uint32_t events);
bool sbx_relay_process(struct sentry *sn);
unsigned sbx_relay_settle_port(struct sentry *sn, struct sbx_sock *self,
			       uint16_t port);
void sbx_relay_close_all(struct sentry *sn);
void sbx_relay_sweep(struct sentry *sn);
void sbx_relay_reset_pair(struct sbx_sock *sk);

/* sockfilter.c: SO_ATTACH_* options, whose values point into the program */
int sbx_sockopt_filter(struct sentry *sn, uint32_t pid, struct sbx_sock *sk,
		       int level, int name, const uint8_t *val, uint64_t len);
int sbx_get_filter(struct sentry *sn, uint32_t pid, struct sbx_sock *sk,
		   uint64_t optval, uint64_t optlen, uint32_t cap);

/* socktab.c */
struct sbx_sock *sbx_sock_new(struct sentry *sn, struct cove_sock *s, int type);
int sbx_sock_pair(struct sbx_sock *sk, int *app_end, bool nonblock);
void sbx_pair_sndbuf(struct sbx_sock *sk, int fd, int bytes, bool force);
struct sbx_sock *sbx_sock_find(struct sentry *sn, uint64_t cookie);
void sbx_sock_free(struct sbx_sock *sk);
void sbx_sock_queue(struct sbx_sock *sk);
void sbx_sock_kick(struct sbx_sock *sk, unsigned dirs);
void sbx_tokens_fill(struct sbx_sock *l);
void sbx_waiter_park(struct sbx_sock *sk, const struct seccomp_notif *n);
void sbx_waiter_put(struct sentry *sn, struct sbx_waiter *w);
bool sbx_spill_reserve(struct sentry *sn);
uint8_t *sbx_spill_take(struct sentry *sn);
void sbx_spill_put(struct sentry *sn, uint8_t **buf);
void sbx_spill_free_all(struct sentry *sn);
void sbx_sock_starve(struct sbx_sock *sk);
void sbx_spill_retry(struct sentry *sn);

/* notify.c */
int sbx_reply(struct sentry *sn, uint64_t id, int64_t val, int error);
void sbx_continue(struct sentry *sn, uint64_t id);
bool sbx_id_valid(struct sentry *sn, uint64_t id);
int sbx_getfd(uint32_t pid, int fd);
int sbx_mem_read(uint32_t pid, uint64_t addr, void *buf, size_t len);
int sbx_mem_write(uint32_t pid, uint64_t addr, const void *buf, size_t len);
/**
 * sbx_send_fd() - @fd and the @len bytes at @data over unix socket @sock
 * @flags:	sendmsg() flags (the listener hand-over uses
 *		SBX_HANDOVER_FLAGS, which the program's filter lets by)
 *
 * Return: 0, or -errno (a short send is -errno of whatever errno holds).
 */
int sbx_send_fd(int sock, int fd, const void *data, size_t len, int flags);

#endif /* COVE_SENTRY_SENTRY_H */
