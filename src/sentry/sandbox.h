/* SPDX-License-Identifier: Apache-2.0 */
/* The sandbox runtime (cove run / cove gc) and the sentry: shared types. */
#ifndef COVE_SENTRY_SANDBOX_H
#define COVE_SENTRY_SANDBOX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cove/err.h"

/*
 * Theory of operation
 *
 *   cove run (runtime, host netns)          sentry (PID 1 of the sandbox)
 *   ------------------------------          -----------------------------
 *   parse options (opts.c)
 *   lock /run/cove, gc stale state (state.c)
 *   pick the address (ipam.c)
 *   fork the sentry into a new pid ns  -->  unshare net, mount, uts, ipc
 *                                      <--  "netns ready" on the sync pipe
 *   veth pair, host end addressed,
 *   peer moved into the netns (attach.c) --> "go"
 *                                           eth0, lo, routes, ingress drop
 *                                           stack + link (sentry.c)
 *                                           fork the program (spawn.c):
 *                                             seccomp filter (seccomp.c),
 *                                             listener fd sent to the sentry
 *                                      <--  "started" once exec succeeded
 *   wait, forward signals                   serve notifications (frontend.c)
 *                                           and relay bytes (relay.c)
 *   remove veth, state; exit with           exit with the program's status
 *   the sentry's status
 *
 * Exit statuses of `cove run`: the program's exit code, 128+N when a
 * signal N ended it, 125 for Cove's own failures, 126/127 when the command
 * cannot be executed / found (as docker and runc do).
 */

#define SBX_EXIT_COVE		125
#define SBX_EXIT_NOEXEC		126
#define SBX_EXIT_NOTFOUND	127

#define SBX_RUN_DIR		"/run/cove"
#define SBX_NAME_MAX		32
/* The default address pool: 10.209.0.0/16 (host order). cove run claims it on
 * the host with an unreachable route (see sbx_attach_host()). */
#define SBX_POOL_NET	0x0ad10000u
#define SBX_POOL_PREFIX	16u
#define SBX_MAX_PUBLISH		16
#define SBX_MAX_ENV		256

enum sbx_net_mode {
	SBX_NET_STACK,		/* a provider through the sentry frontend */
	SBX_NET_HOST,		/* the netns's kernel stack, no interception */
	SBX_NET_NONE,		/* loopback only */
};

enum sbx_link_kind {
	SBX_LINK_PACKET,
	SBX_LINK_TAP,
};

struct sbx_publish {
	uint16_t host_port, port;
};

struct sbx_opts {
	const char *network;		/* the --network value */
	enum sbx_net_mode mode;
	enum sbx_link_kind link;
	bool have_ip;
	bool pool_ip;			/* picked from SBX_POOL_NET/SBX_POOL_PREFIX */
	struct in_addr ip;		/* the sandbox address */
	uint8_t prefix_len;
	struct in_addr gateway;		/* host side of the veth */
	char name[SBX_NAME_MAX + 1];
	bool have_name;
	struct sbx_publish publish[SBX_MAX_PUBLISH];
	unsigned npublish;
	const char *netns_path;
	const char *rootfs;
	const char *env[SBX_MAX_ENV];	/* K=V */
	unsigned nenv;
	const char *workdir;
	bool have_user;
	uid_t uid;
	gid_t gid;
	bool verbose;
	unsigned poll_us;
	/* Set up by the sentry (attach.c): */
	char ifname[16];		/* the sandbox interface: eth0 */
	bool undo_ingress;		/* --netns: remove our qdisc at exit */
	char ipv6_was;			/* --netns: disable_ipv6 before us */
	char **argv;			/* the command, NULL-terminated */
};

/* ---- opts.c: pure command-line parsing ------------------------------ */

/**
 * sbx_opts_parse() - parse `cove run` arguments
 * @argc:	argument count
 * @argv:	arguments, argv[0] == "run"
 * @o:		filled
 * @err:	one line on a usage error
 *
 * Return: 0 to run, 1 after --help was asked (print sbx_run_help), -1 on a
 * usage error with @err set.
 */
int sbx_opts_parse(int argc, char **argv, struct sbx_opts *o,
		   struct cove_err *err);

/* sbx_run_usage() - print the --help text of `cove run`. */
void sbx_run_usage(FILE *out, const char *prog);

/**
 * sbx_parse_cidr() - parse A.B.C.D/N (N 8..30) into an address and prefix
 * @text:	the text
 * @ip:		address
 * @prefix:	prefix length
 *
 * Return: 0 or -1.
 */
int sbx_parse_cidr(const char *text, struct in_addr *ip, uint8_t *prefix);

/**
 * sbx_name_valid() - a sandbox name: 1..32 of [A-Za-z0-9_.-], not "." first
 * @name:	candidate
 *
 * Return: true if usable as a directory name under /run/cove.
 */
bool sbx_name_valid(const char *name);

/* ---- ipam.c: address allocation ------------------------------------- */

/**
 * sbx_ipam_pick() - the lowest free host address of a subnet
 * @net:	network address (host order), e.g. 10.209.0.0
 * @prefix:	its prefix length (8..30)
 * @used:	addresses in use (host order), any order
 * @nused:	their count
 * @out:	the chosen address (host order)
 *
 * Skips the network address, the gateway (network + 1) and broadcast.
 * Return: 0, or -1 when the subnet is full.
 */
int sbx_ipam_pick(uint32_t net, uint8_t prefix, const uint32_t *used,
		  unsigned nused, uint32_t *out);

/**
 * sbx_gateway_of() - the host side of a sandbox subnet: network + 1
 * @ip:		sandbox address (network order)
 * @prefix:	prefix length
 *
 * Return: the gateway, network order.
 */
struct in_addr sbx_gateway_of(struct in_addr ip, uint8_t prefix);

/* ---- state.c: /run/cove/NAME and garbage collection ------------------ */

struct sbx_state {
	char dir[128];			/* /run/cove/NAME */
	int lock_fd;			/* flock held while the sandbox lives */
};

/**
 * sbx_state_create() - pick a name and an address, create /run/cove/NAME
 * @o:		options: the name and address are chosen here if not given
 * @st:		filled; the lock is held on success
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int sbx_state_create(struct sbx_opts *o, struct sbx_state *st,
		     struct cove_err *err);

/**
 * sbx_state_write() - write one small file NAME=VALUE in the state dir
 * @st:		state
 * @file:	file name
 * @fmt:	printf-style content
 */
void sbx_state_write(const struct sbx_state *st, const char *file,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* sbx_state_pid() - record the sentry's pid and start time in "pid". */
void sbx_state_pid(const struct sbx_state *st, pid_t pid);

/**
 * sbx_state_remove() - remove the state dir and release the lock
 * @st:		state (lock_fd -1 afterwards)
 */
void sbx_state_remove(struct sbx_state *st);

/**
 * sbx_gc() - clean up after sandboxes whose runtime is gone
 * @verbose:	print what is removed
 *
 * For every /run/cove/NAME whose lock is free: kill its sentry if it still
 * runs, delete its veth and published ports, remove the directory.
 * Return: the number of sandboxes cleaned.
 */
int sbx_gc(bool verbose);

/* ---- netlink.c: rtnetlink over libmnl ------------------------------- */

struct mnl_socket;

struct sbx_nl {
	struct mnl_socket *nl;
	uint32_t seq, portid;
};

int sbx_nl_open(struct sbx_nl *nl, struct cove_err *err);
void sbx_nl_close(struct sbx_nl *nl);
int sbx_nl_ifindex(struct sbx_nl *nl, const char *name);
int sbx_nl_veth_add(struct sbx_nl *nl, const char *name, const char *peer,
		    pid_t peer_ns_pid, struct cove_err *err);
int sbx_nl_link_del(struct sbx_nl *nl, const char *name, struct cove_err *err);
int sbx_nl_link_set(struct sbx_nl *nl, int ifindex, const char *new_name,
		    bool up, struct cove_err *err);
int sbx_nl_addr_add(struct sbx_nl *nl, int ifindex, struct in_addr addr,
		    uint8_t prefix, struct cove_err *err);
int sbx_nl_route_add(struct sbx_nl *nl, struct in_addr dst, uint8_t prefix,
		     struct in_addr gw, int ifindex, struct cove_err *err);
/*
 * An "unreachable" route for @dst/@prefix unless a route for exactly that
 * prefix exists already (then nothing changes). Return: 0, or < 0.
 */
int sbx_nl_route_fence(struct sbx_nl *nl, struct in_addr dst, uint8_t prefix,
		       struct cove_err *err);
int sbx_nl_ingress_drop(struct sbx_nl *nl, int ifindex, struct cove_err *err);
/* Every frame arriving on @ifindex leaves by the egress of @to (0: drop). */
int sbx_nl_ingress_redirect(struct sbx_nl *nl, int ifindex, int to,
			    struct cove_err *err);

/* ---- attach.c: the network of the sandbox --------------------------- */

/* Interface names for a sandbox address: unique while the address is. */
void sbx_veth_names(struct in_addr ip, char host[16], char peer[16]);

/**
 * sbx_attach_host() - runtime side: veth pair, host end addressed
 * @o:		options (address, gateway)
 * @sentry:	pid of the sentry, whose netns gets the peer
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set (a half-made veth is removed).
 */
int sbx_attach_host(const struct sbx_opts *o, pid_t sentry,
		    struct cove_err *err);

/* sbx_detach_host() - delete the host end (and so the pair); idempotent. */
void sbx_detach_host(struct in_addr ip);

/**
 * sbx_attach_sandbox() - sentry side: lo up, eth0 addressed, default route
 * @o:		options
 * @drop_ingress: stop the netns's kernel stack from answering on eth0
 * @err:	filled on failure
 *
 * With --netns the interface is expected to be configured already; only
 * lo and the ingress drop are done, and the address is read back.
 * Return: 0 or < 0 with @err set.
 */
int sbx_attach_sandbox(struct sbx_opts *o, bool drop_ingress,
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

int sbx_nl_qdisc_del_clsact(struct sbx_nl *nl, int ifindex);

/* ---- publish.c ------------------------------------------------------ */

/**
 * sbx_publish_add() - DNAT each --publish host port to the sandbox
 * @o:		options (address, ports); the veth must exist
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int sbx_publish_add(const struct sbx_opts *o, struct cove_err *err);

/* sbx_publish_del() - remove the rules of the sandbox at @ip; idempotent. */
void sbx_publish_del(struct in_addr ip);

/* ---- sentry.c ------------------------------------------------------- */

/**
 * sbx_sentry_main() - the sentry, PID 1 of the sandbox; never returns
 * @o:		options
 * @sync_rd:	"go" from the runtime arrives here
 * @sync_wr:	"netns ready", then "E<message>" if set-up fails, go here
 * @ready_wr:	readiness pipe: one byte once the control socket listens
 *		(cove_ctl_signal_ready()); closed right after
 */
void sbx_sentry_main(struct sbx_opts *o, int sync_rd, int sync_wr,
		     int ready_wr)
	__attribute__((noreturn));

/* ---- runtime.c ------------------------------------------------------ */

/**
 * sbx_run() - `cove run` after parsing
 * @o:		options
 *
 * Return: the exit status for `cove run`.
 */
int sbx_run(struct sbx_opts *o);

/* Verbose step log: "cove run: [  12.345 ms] message". */
void sbx_step(const struct sbx_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* COVE_SENTRY_SANDBOX_H */
