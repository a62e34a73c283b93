/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime: cove run and cove gc on the host side of a sandbox. */
#ifndef COVE_RUNTIME_RUNTIME_H
#define COVE_RUNTIME_RUNTIME_H

#include "common/sandbox.h"

/*
 * Theory of operation
 *
 * The runtime is everything `cove run` does outside the sandbox: parse the
 * options (opts.c), lock /run/cove and collect stale state (state.c), pick
 * an address (ipam.c), fork the sentry (runtime.c, which enters the sandbox
 * through sbx_sentry_main() and shares only common/sandbox.h with it), make
 * the host end of the veth (hostnet.c) and the --publish rules (publish.c),
 * then wait on the control channel and clean up. Its functions are rt_*.
 */

/* ---- opts.c: pure command-line parsing ------------------------------ */

/**
 * rt_opts_parse() - parse `cove run` arguments
 * @argc:	argument count
 * @argv:	arguments, argv[0] == "run"
 * @o:		filled
 * @err:	one line on a usage error
 *
 * Return: 0 to run, 1 after --help was asked (print rt_run_help), -1 on a
 * usage error with @err set.
 */
int rt_opts_parse(int argc, char **argv, struct sbx_opts *o,
		  struct cove_err *err);

/**
 * rt_opts_parse_pools() - rt_opts_parse() with the address pools given
 * (cove.conf's pool and pool6); rt_opts_parse() uses the built-in ones
 * @argc:	argument count
 * @argv:	arguments
 * @pools:	the pools
 * @o:		filled
 * @err:	one line on a usage error
 *
 * Return: as rt_opts_parse().
 */
int rt_opts_parse_pools(int argc, char **argv, const struct sbx_pools *pools,
			struct sbx_opts *o, struct cove_err *err);

/* rt_pools_default() - the built-in pools: 10.209.0.0/16, fd63:6f76:6500::/48. */
void rt_pools_default(struct sbx_pools *p);

/* rt_run_usage() - print the --help text of `cove run`. */
void rt_run_usage(FILE *out, const char *prog);

/**
 * rt_parse_cidr() - parse A.B.C.D/N (N 8..30) into an address and prefix
 * @text:	the text
 * @ip:		address
 * @prefix:	prefix length
 *
 * Return: 0 or -1.
 */
int rt_parse_cidr(const char *text, struct in_addr *ip, uint8_t *prefix);

/**
 * rt_name_valid() - a sandbox name: 1..32 of [A-Za-z0-9_.-], not "." first
 * @name:	candidate
 *
 * Return: true if usable as a directory name under /run/cove.
 */
bool rt_name_valid(const char *name);

/* ---- ipam.c: address allocation ------------------------------------- */

/**
 * rt_ipam_pick() - the lowest free host address of a subnet
 * @net:	network address (host order), e.g. 10.209.0.0
 * @prefix:	its prefix length (8..30)
 * @used:	addresses in use (host order), any order
 * @nused:	their count
 * @out:	the chosen address (host order)
 *
 * Skips the network address, the gateway (network + 1) and broadcast.
 * Return: 0, or -1 when the subnet is full.
 */
int rt_ipam_pick(uint32_t net, uint8_t prefix, const uint32_t *used,
		 unsigned nused, uint32_t *out);

/* A route or local address of the host, as rt_route_conflict() sees it. */
struct rt_route {
	uint32_t dst;	      /* host order */
	struct in6_addr dst6; /* an IPv6 route's (rt_route6_conflict()) */
	uint8_t prefix;
	bool cove;    /* made by Cove: on a host end cvXXXXXXXX, or the fence */
	bool local;   /* a local address of the host (the local table) */
	char dev[16]; /* output interface, "" when none (for messages) */
};

/**
 * rt_ip_refusal() - why an address cannot be a sandbox's (loopback,
 * unspecified, multicast, reserved/broadcast, network, subnet broadcast)
 * @ip:		address (network order)
 * @prefix:	prefix length (8..30)
 *
 * Return: NULL if usable, else a static reason starting "is ...".
 */
const char *rt_ip_refusal(struct in_addr ip, uint8_t prefix);

/**
 * rt_in_pool() - is @ip/@prefix (address and gateway) inside the pool?
 * @p:		the pools
 * @ip:		address (network order)
 * @prefix:	prefix length
 *
 * Return: true if inside @p's IPv4 pool.
 */
bool rt_in_pool(const struct sbx_pools *p, struct in_addr ip, uint8_t prefix);

/**
 * rt_route_conflict() - a host route or address that @ip/@prefix overlaps
 * @p:		the pools (a route containing the whole IPv4 pool is fine)
 * @ip:		sandbox address (network order)
 * @prefix:	its prefix length
 * @r:		the host's routes and local addresses
 * @n:		their count
 *
 * Cove's own routes, default routes and (for a subnet in the pool) routes
 * containing the whole pool do not count.
 *
 * Return: the index of the first conflicting entry of @r, or -1.
 */
int rt_route_conflict(const struct sbx_pools *p, struct in_addr ip,
		      uint8_t prefix, const struct rt_route *r, unsigned n);

/**
 * rt_gateway_of() - the host side of a sandbox subnet: network + 1
 * @ip:		sandbox address (network order)
 * @prefix:	prefix length
 *
 * Return: the gateway, network order.
 */
struct in_addr rt_gateway_of(struct in_addr ip, uint8_t prefix);

/* ---- ipam.c: IPv6 ----------------------------------------------------- */

/* rt_prefix6_match() - do @a and @b share their first @prefix bits? */
bool rt_prefix6_match(const struct in6_addr *a, const struct in6_addr *b,
		      uint8_t prefix);

/**
 * rt_ip6_refusal() - why an address cannot be a sandbox's IPv6 address
 * (::/8, link-local, multicast, the subnet's network address)
 * @ip:		address
 * @prefix:	its prefix length (64..126)
 *
 * Return: NULL if usable, else a static reason starting "is ...".
 */
const char *rt_ip6_refusal(const struct in6_addr *ip, uint8_t prefix);

/**
 * rt_route6_conflict() - rt_route_conflict() for an IPv6 subnet
 * @p:		the pools (a route containing the whole IPv6 pool is fine)
 * @ip:		sandbox address
 * @prefix:	its prefix length
 * @r:		the host's IPv6 routes and local addresses (@dst6)
 * @n:		their count
 *
 * Return: the index of the first conflicting entry of @r, or -1.
 */
int rt_route6_conflict(const struct sbx_pools *p, const struct in6_addr *ip,
		       uint8_t prefix, const struct rt_route *r, unsigned n);

/* rt_gateway6_of() - the host side of an IPv6 subnet: network + 1. */
struct in6_addr rt_gateway6_of(const struct in6_addr *ip, uint8_t prefix);

/* rt_in_pool6() - is @ip/@prefix (address and gateway) inside @p's pool? */
bool rt_in_pool6(const struct sbx_pools *p, const struct in6_addr *ip,
		 uint8_t prefix);

/**
 * rt_ip6_derive() - the IPv6 address of the sandbox whose IPv4 one is @ip
 * @p:		pools (the IPv6 pool's first /64 is the subnet)
 * @ip:		the sandbox's IPv4 address
 * @out:	its IPv6 address: the subnet with @ip in the low 32 bits
 * @prefix:	set to SBX_SUBNET6_PREFIX
 * @gw:		set to the subnet's ::1
 */
void rt_ip6_derive(const struct sbx_pools *p, struct in_addr ip,
		   struct in6_addr *out, uint8_t *prefix, struct in6_addr *gw);

/**
 * rt_parse_cidr6() - parse ADDR/N (an IPv6 address, N 64..126)
 * @text:	the text
 * @ip:		address
 * @prefix:	prefix length
 *
 * Return: 0 or -1.
 */
int rt_parse_cidr6(const char *text, struct in6_addr *ip, uint8_t *prefix);

/* ---- state.c: /run/cove/NAME and garbage collection ------------------ */

struct rt_state {
	char dir[128]; /* /run/cove/NAME */
	int lock_fd;   /* flock held while the sandbox lives */
};

/**
 * rt_state_create() - pick a name and an address, create /run/cove/NAME
 * @o:		options: the name and address are chosen here if not given
 * @st:		filled; the lock is held on success
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int rt_state_create(struct sbx_opts *o, struct rt_state *st,
		    struct cove_err *err);

/**
 * rt_state_write() - write one small file NAME=VALUE in the state dir
 * @st:		state
 * @file:	file name
 * @fmt:	printf-style content
 */
void rt_state_write(const struct rt_state *st, const char *file,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* rt_state_pid() - record the sentry's pid and start time in "pid". */
void rt_state_pid(const struct rt_state *st, pid_t pid);

/**
 * rt_state_remove() - remove the state dir and release the lock
 * @st:		state (lock_fd -1 afterwards)
 */
void rt_state_remove(struct rt_state *st);

/**
 * rt_gc() - clean up after sandboxes whose runtime is gone
 * @verbose:	print what is removed
 *
 * For every /run/cove/NAME whose lock is free: kill its sentry if it still
 * runs, delete its veth and published ports, remove the directory.
 * Return: the number of sandboxes cleaned.
 */
int rt_gc(bool verbose);

/**
 * rt_proc_starttime() - when a process started, to tell it from a later
 * process with the same pid
 * @pid:	the process
 * @state:	if not NULL, set to its state letter (R, S, Z, ...)
 *
 * Return: field 22 of /proc/PID/stat (clock ticks since boot), 0 if
 * unknown.
 */
unsigned long long rt_proc_starttime(pid_t pid, char *state);

/* ---- hostnet.c: the host end of the veth ---------------------------- */

/**
 * rt_attach_host() - runtime side: veth pair, host end addressed
 * @o:		options (address, gateway)
 * @sentry:	pid of the sentry, whose netns gets the peer
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set (a half-made veth is removed).
 */
int rt_attach_host(const struct sbx_opts *o, pid_t sentry,
		   struct cove_err *err);

/* rt_detach_host() - delete the host end (and so the pair); idempotent. */
void rt_detach_host(struct in_addr ip);

/**
 * rt_netns_undo() - a --netns sandbox's sentry died without cleaning up
 * (killed): undo on the netns's interface what it did there
 * @o:		options (netns path, network)
 *
 * The sentry's own exit removes its ingress drop and any XDP program a
 * link loaded; a killed sentry leaves the clsact qdisc and, for a link
 * that attached XDP by netlink (DPDK's af_xdp PMD; Cove's own xdp link
 * uses a bpf_link that dies with it), the program. A child enters the
 * netns and removes both, so the netns is as it was for its next user
 * (disable_ipv6 stays as the sentry set it). Nothing for other sandboxes.
 */
void rt_netns_undo(const struct sbx_opts *o);

/* ---- publish.c ------------------------------------------------------ */

/**
 * rt_publish_add() - DNAT each --publish host port to the sandbox
 * @o:		options (address, ports); the veth must exist
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
int rt_publish_add(const struct sbx_opts *o, struct cove_err *err);

/* rt_publish_del() - remove the rules of the sandbox at @ip; idempotent. */
void rt_publish_del(struct in_addr ip);

/* ---- hostcheck.c --------------------------------------------------- */

/**
 * rt_host_check() - what the host uses already, before anything is made
 * @o:		options
 * @err:	one line: an explicit --ip overlaps a host route or address
 *		Cove did not make, or a --publish host port is bound on the host
 *
 * Return: 0 or -1.
 */
int rt_host_check(const struct sbx_opts *o, struct cove_err *err);

/* ---- privs.c: cove run after set-up ---------------------------------- */

/* rt_keep_caps() - the capabilities teardown needs; Return: how many. */
unsigned rt_keep_caps(const struct sbx_opts *o, int *caps, unsigned max);

/**
 * rt_drop_privs() - keep only rt_keep_caps() in the effective, permitted
 * and bounding sets, clear the inheritable and ambient ones, set
 * no_new_privs
 * @o:		options
 * @err:	the step that failed
 *
 * Return: 0 or -1.
 */
int rt_drop_privs(const struct sbx_opts *o, struct cove_err *err);

/* ---- cgroup.c: a sandbox's limits (cove run --memory, OCI) --------- */

/**
 * rt_cgroup_enter() - make the sandbox's cgroup, set its limits, and
 * move the calling process into it (the sentry forked next inherits it)
 * @l:		the limits; l->path the cgroup (relative to each hierarchy)
 * @err:	the file that could not be written
 *
 * cgroup v2 when /sys/fs/cgroup is cgroup2, else the v1 memory, pids and
 * cpu hierarchies, each only when a limit needs it.
 *
 * Return: 0 or -1 (what was made is removed).
 */
int rt_cgroup_enter(const struct sbx_limits *l, struct cove_err *err);

/* rt_cgroup_leave() - move the caller back where it was before enter. */
void rt_cgroup_leave(void);

/* rt_cgroup_remove() - rmdir the cgroup @path (it must be empty). */
void rt_cgroup_remove(const char *path);

/**
 * rt_cgroup_freeze() - freeze or thaw every task of the cgroup @path
 * @path:	the cgroup (made with l->freezer on v1)
 * @freeze:	true to freeze, false to thaw
 * @err:	the file that could not be written, or that it did not settle
 *
 * Returns once the kernel reports the new state (2 s at most).
 *
 * Return: 0 or -1.
 */
int rt_cgroup_freeze(const char *path, bool freeze, struct cove_err *err);

/* rt_cgroup_frozen() - 1 if @path is frozen, 0 if not, -1 if unknown. */
int rt_cgroup_frozen(const char *path);

/**
 * rt_cgroup_remove_wait() - rt_cgroup_remove() until the cgroup is gone
 * @path:	the cgroup
 * @ms:		how long its last tasks may take to leave it
 *
 * For a sandbox whose sentry has just died or been killed: the tasks of
 * its pid namespace may not have left the cgroup yet.
 *
 * Return: true if no directory of it is left.
 */
bool rt_cgroup_remove_wait(const char *path, unsigned ms);

/* ---- runtime.c ------------------------------------------------------ */

/**
 * rt_run() - `cove run` after parsing
 * @o:		options
 *
 * Return: the exit status for `cove run`.
 */
int rt_run(struct sbx_opts *o);

/**
 * rt_create() - OCI create: make the sandbox, leave the program waiting
 * on o->oci->fifo_fd, hand the sentry over
 * @o:		options, o->oci set
 * @pid:	the sentry's pid
 * @err:	reason
 *
 * Return: 0, or an exit status (> 0) with @err set and nothing left.
 */
int rt_create(struct sbx_opts *o, pid_t *pid, struct cove_err *err);

#endif /* COVE_RUNTIME_RUNTIME_H */
