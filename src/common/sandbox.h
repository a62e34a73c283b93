/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the runtime (src/runtime: cove run, cove gc) and the
 * sentry (src/sentry: PID 1 of the sandbox): the options the runtime hands
 * over across fork(), exit statuses, state paths, the sentry's entry point
 * and the verbose step log both write to. Nothing else is shared; each side
 * keeps its own private header.
 */
#ifndef COVE_COMMON_SANDBOX_H
#define COVE_COMMON_SANDBOX_H

#include <netinet/in.h>
#include <linux/capability.h>
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
 *   parse options (runtime/opts.c)
 *   lock /run/cove, gc stale state (runtime/state.c)
 *   pick the address (runtime/ipam.c)
 *   fork the sentry into a new pid ns  -->  unshare net, mount, uts, ipc
 *                                      <--  "netns ready" on the sync pipe
 *   veth pair, host end addressed,
 *   peer moved into the netns (runtime/hostnet.c) --> "go"
 *                                           eth0, lo, routes, ingress drop
 *                                           stack + link (sentry/sentry.c)
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

#define SBX_EXIT_COVE	  125
#define SBX_EXIT_NOEXEC	  126
#define SBX_EXIT_NOTFOUND 127

#define SBX_RUN_DIR "/run/cove"
/* Default sandbox: its root is host uid/gid SBX_USERNS_BASE, and so on. */
#define SBX_USERNS_BASE	     100000u
#define SBX_USERNS_COUNT     65536u
#define SBX_NAME_MAX	     32
#define SBX_LINK_ARGS_MAX    160	    /* --link=dpdk:DEVARGS */
#define SBX_PCAP_MAX_DEFAULT (256ull << 20) /* --pcap-size */
#define SBX_MAX_SOCKETS_MIN  16u	    /* --max-sockets */
#define SBX_MAX_SOCKETS_MAX  (1u << 24)
/* The default address pool: 10.209.0.0/16 (host order). cove run claims it on
 * the host with an unreachable route (see sbx_attach_host()). */
#define SBX_POOL_NET	0x0ad10000u
#define SBX_POOL_PREFIX 16u
/* The default IPv6 pool: fd63:6f76:6500::/48, a unique local prefix whose
 * global ID is "cove" in ASCII (docs/SANDBOX.md says why). A sandbox's
 * subnet is the pool's first /64; its address carries its IPv4 address in
 * the low 32 bits, its gateway is the subnet's ::1. */
#define SBX_POOL6_INIT                                                       \
	{                                                                    \
		{                                                            \
			{                                                    \
				0xfd, 0x63, 0x6f, 0x76, 0x65, 0x00, 0, 0, 0, \
					0, 0, 0, 0, 0, 0, 0                  \
			}                                                    \
		}                                                            \
	}
#define SBX_POOL6_PREFIX   48u
#define SBX_SUBNET6_PREFIX 64u
#define SBX_MAX_PUBLISH	   16
#define SBX_MAX_ENV	   256

/*
 * struct sbx_pools - where sandbox addresses come from: the IPv4 pool and
 * the IPv6 pool (cove.conf's pool and pool6, else the defaults above).
 */
struct sbx_pools {
	struct in_addr net; /* network order */
	uint8_t prefix;	    /* 8..30 */
	struct in6_addr net6;
	uint8_t prefix6; /* 8..64 */
};

enum sbx_net_mode {
	SBX_NET_STACK, /* a provider through the sentry frontend */
	SBX_NET_HOST,  /* the netns's kernel stack, no interception */
	SBX_NET_NONE,  /* loopback only */
};

enum sbx_link_kind {
	SBX_LINK_PACKET,
	SBX_LINK_TAP,
	SBX_LINK_XDP,  /* AF_XDP on eth0 (cove-plugin only) */
	SBX_LINK_DPDK, /* a DPDK PMD on eth0 (cove-plugin only) */
};

struct sbx_publish {
	uint16_t host_port, port;
};

#define SBX_OCI_MAX_MOUNTS 64
#define SBX_OCI_MAX_PATHS  64
#define SBX_OCI_MAX_GIDS   32
#define SBX_OCI_MAX_RLIMIT 16
#define SBX_OCI_MAX_SYSCTL 32

/* One entry of config.json's "mounts", resolved to mount(2) arguments. */
struct sbx_oci_mount {
	const char *dest;   /* absolute, inside the root */
	const char *type;   /* "bind" for bind and rbind */
	const char *source; /* host path for binds */
	unsigned long flags;
	const char *data; /* the options mount(2) takes as data, or NULL */
	bool bind, recursive;
};

struct sbx_oci_rlimit {
	int resource;
	uint64_t soft, hard;
};

/*
 * The container's own seccomp profile (config.json linux.seccomp), read by
 * src/oci/profile.c and loaded by src/sentry/profile.c in the program's
 * process on top of Cove's filter. Libseccomp-free here: the sentry maps
 * these to SCMP_ACT_* and SCMP_CMP_*.
 */
#define SBX_SC_MAX_RULES 4096 /* syscall names over all syscalls[] */
#define SBX_SC_MAX_ARGS	 16   /* args of one syscalls[] entry */

enum sbx_sc_action {
	SBX_SC_KILL_PROCESS,
	SBX_SC_KILL_THREAD, /* SCMP_ACT_KILL and SCMP_ACT_KILL_THREAD */
	SBX_SC_TRAP,
	SBX_SC_ERRNO,
	SBX_SC_TRACE,
	SBX_SC_LOG,
	SBX_SC_ALLOW,
};

enum sbx_sc_op {
	SBX_SC_NE,
	SBX_SC_LT,
	SBX_SC_LE,
	SBX_SC_EQ,
	SBX_SC_GE,
	SBX_SC_GT,
	SBX_SC_MASKED_EQ,
};

struct sbx_sc_arg {
	unsigned index; /* 0..5 */
	enum sbx_sc_op op;
	uint64_t value, value2;
};

/* One syscalls[] entry (its names share the action and the args). */
struct sbx_sc_entry {
	const char *const *names; /* nnames of them */
	unsigned nnames;
	enum sbx_sc_action action;
	unsigned ret; /* errno for ERRNO, the message for TRACE */
	unsigned nargs;
	struct sbx_sc_arg args[SBX_SC_MAX_ARGS];
};

struct sbx_seccomp {
	enum sbx_sc_action defact;
	unsigned defret;
	bool log;	 /* SECCOMP_FILTER_FLAG_LOG */
	bool spec_allow; /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
	struct sbx_sc_entry *entries;
	unsigned nentries;
};

/*
 * struct sbx_oci - what an OCI bundle asks beyond `cove run --rootfs`
 * (src/oci/bundle.c fills it, src/sentry/oci_fs.c applies it in the
 * program's process). Present only for `cove create` and OCI `run`.
 */
struct cove_err;

struct sbx_oci {
	int fifo_fd; /* O_PATH fd of exec.fifo: the program waits on it */
	unsigned preserve_fds; /* --preserve-fds: 3..3+N-1 pass to it */
	bool no_new_keyring;   /* keep the caller's session keyring */
	bool terminal;	       /* process.terminal: a pty, its master sent */
	int console_fd;	       /* ... over this --console-socket connection */
	unsigned short rows, cols; /* process.consoleSize, 0: unset */
	const char *hostname;
	bool root_readonly;
	bool host_netns; /* the spec has no network namespace: the host's */
	/* A new network namespace that prestart hooks configure (Docker):
	 * the sentry adopts its interface after them, as with --netns. */
	bool adopt_netns;
	/* ipc and uts namespaces joined by path (a pod's), or NULL: new. */
	const char *ipc_path, *uts_path;
	/* rt_create() calls this once the sentry's namespaces exist, before
	 * the sentry goes on (the prestart and createRuntime hooks). */
	int (*ns_ready)(void *arg, pid_t sentry, struct cove_err *err);
	void *ns_ready_arg;
	struct sbx_oci_mount mounts[SBX_OCI_MAX_MOUNTS];
	unsigned nmounts;
	const char *masked[SBX_OCI_MAX_PATHS];
	unsigned nmasked;
	const char *readonly[SBX_OCI_MAX_PATHS];
	unsigned nreadonly;
	gid_t gids[SBX_OCI_MAX_GIDS]; /* process.user.additionalGids */
	unsigned ngids;
	const char *sysctl_key[SBX_OCI_MAX_SYSCTL]; /* linux.sysctl */
	const char *sysctl_val[SBX_OCI_MAX_SYSCTL];
	unsigned nsysctl;
	struct sbx_oci_rlimit rlimits[SBX_OCI_MAX_RLIMIT];
	unsigned nrlimits;
	bool have_caps;
	uint64_t caps_bounding, caps_effective, caps_permitted;
	uint64_t caps_inheritable;
	bool have_umask;
	mode_t umask;
	bool have_oom;
	int oom_score_adj;
	const struct sbx_seccomp *seccomp; /* linux.seccomp, or NULL */
};

/* Limits a sandbox's cgroup enforces (src/runtime/cgroup.c); 0: none. */
struct sbx_limits {
	bool any;
	int64_t memory;	    /* bytes */
	int64_t pids;	    /* > 0 */
	int64_t cpu_shares; /* v1 shares (v2: converted to a weight) */
	int64_t cpu_quota;  /* us per period */
	int64_t cpu_period; /* us, 0: the kernel's default */
	char path[512];	    /* the cgroup, relative to each hierarchy */
	bool freezer;	    /* v1: join the freezer hierarchy too */
};

/*
 * The program's capabilities under `cove run` (inside its user namespace):
 * an allow list, the set container engines give by default (Docker's, less
 * CAP_MKNOD and CAP_NET_RAW, which Cove never gives), changed by
 * --cap-add/--cap-drop. SBX_CAPS_NEVER are never given, whatever is asked
 * (an OCI bundle's sets are cut to what is left of them, spawn.c): with
 * them root inside could reconfigure the sandbox's interface, bypass the
 * stack with raw sockets, load code into the kernel or leave the sandbox.
 */
#define SBX_CAP(c) (1ull << (c))
#define SBX_CAPS_DEFAULT                                                    \
	(SBX_CAP(CAP_CHOWN) | SBX_CAP(CAP_DAC_OVERRIDE) |                   \
	 SBX_CAP(CAP_FOWNER) | SBX_CAP(CAP_FSETID) | SBX_CAP(CAP_KILL) |    \
	 SBX_CAP(CAP_SETGID) | SBX_CAP(CAP_SETUID) | SBX_CAP(CAP_SETPCAP) | \
	 SBX_CAP(CAP_NET_BIND_SERVICE) | SBX_CAP(CAP_SYS_CHROOT) |          \
	 SBX_CAP(CAP_AUDIT_WRITE) | SBX_CAP(CAP_SETFCAP))
#define SBX_CAPS_NEVER                                                         \
	(SBX_CAP(CAP_NET_ADMIN) | SBX_CAP(CAP_NET_RAW) |                       \
	 SBX_CAP(CAP_SYS_MODULE) | SBX_CAP(CAP_SYS_RAWIO) |                    \
	 SBX_CAP(CAP_SYS_PTRACE) | SBX_CAP(CAP_SYS_ADMIN) |                    \
	 SBX_CAP(CAP_SYS_BOOT) | SBX_CAP(CAP_SYS_TIME) | SBX_CAP(CAP_MKNOD) |  \
	 SBX_CAP(CAP_AUDIT_CONTROL) | SBX_CAP(CAP_MAC_OVERRIDE) |              \
	 SBX_CAP(CAP_MAC_ADMIN) | SBX_CAP(CAP_SYSLOG) | SBX_CAP(CAP_PERFMON) | \
	 SBX_CAP(CAP_BPF))

struct sbx_opts {
	const struct sbx_oci *oci; /* NULL for cove run */
	const char *network;	   /* the --network value */
	enum sbx_net_mode mode;
	enum sbx_link_kind link;
	const char *link_args; /* --link=dpdk:DEVARGS; NULL: net_af_packet0 */
	const char *pcap_path; /* --pcap FILE, or NULL */
	uint64_t pcap_max;     /* --pcap-size, bytes */
	int pcap_fd;	       /* opened by the runtime; -1: none */
	bool have_ip;
	bool pool_ip;	      /* picked from SBX_POOL_NET/SBX_POOL_PREFIX */
	bool ip_outside_pool; /* --ip-outside-pool: --ip may leave the pool */
	struct in_addr ip;    /* the sandbox address */
	uint8_t prefix_len;
	struct in_addr gateway;	 /* host side of the veth */
	struct sbx_pools pools;	 /* rt_opts_parse*(): defaults or cove.conf's */
	const char *config_path; /* --config FILE; NULL: /etc/cove/cove.conf */
	/* IPv6 (docs/SANDBOX.md "IPv6 in the sandbox") */
	bool ipv4_only;	     /* --ipv4-only (--ip6=none): no IPv6 address */
	bool have_ip6;	     /* ip6 is set (--ip6, derived or the netns's) */
	bool ip6_given;	     /* --ip6 */
	struct in6_addr ip6; /* the sandbox's IPv6 address */
	uint8_t prefix6_len; /* its on-link prefix */
	struct in6_addr gateway6; /* the host side: the subnet's ::1 */
	char name[SBX_NAME_MAX + 1];
	bool have_name;
	struct sbx_publish publish[SBX_MAX_PUBLISH];
	unsigned npublish;
	const char *netns_path;
	const char *rootfs;
	bool host_fs_rw; /* --host-fs=rw: the host's tree, real root */
	const char *env[SBX_MAX_ENV]; /* K=V */
	unsigned nenv;
	const char *workdir;
	bool have_user;
	uid_t uid;
	gid_t gid;
	bool verbose;
	unsigned poll_us;
	struct sbx_limits limits; /* --memory, --cpus, --pids (cove run) */
	uint32_t max_sockets;	  /* --max-sockets; 0: the provider's default */
	uint64_t caps; /* cove run: the program's capabilities (SBX_CAPS_*) */
	uint64_t stack_mem; /* --stack-mem (or a share of --memory): the
				   * stack's socket memory; 0: its default */
	/* Set up by the sentry (attach.c): */
	char ifname[16];   /* the sandbox interface: eth0 */
	bool undo_ingress; /* --netns: remove our qdisc at exit */
	char ipv6_was;	   /* --netns: disable_ipv6 before us */
	char **argv;	   /* the command, NULL-terminated */
};

/*
 * sbx_netns_adopted() - is the sandbox's network namespace configured by
 * someone else (--netns, or an OCI prestart hook), so that the sentry
 * adopts its interface and address instead of Cove's veth and pool?
 */
static inline bool sbx_netns_adopted(const struct sbx_opts *o)
{
	return o->netns_path || (o->oci && o->oci->adopt_netns);
}

/* Interface names for a sandbox address: unique while the address is. */
void sbx_veth_names(struct in_addr ip, char host[16], char peer[16]);

/**
 * sbx_sentry_main() - the sentry, PID 1 of the sandbox; never returns
 * @o:		options
 * @sync_rd:	"go" from the runtime arrives here
 * @sync_wr:	"netns ready", then "E<message>" if set-up fails, go here
 * @ready_wr:	readiness pipe: one byte once the control socket listens
 *		(cove_ctl_signal_ready()); closed right after
 */
void sbx_sentry_main(struct sbx_opts *o, int sync_rd, int sync_wr, int ready_wr)
	__attribute__((noreturn));

/* sbx_step_start() - time zero of the step log (the runtime's start). */
void sbx_step_start(void);

/* sbx_step() - verbose step log: "cove run: [  12.345 ms] message". */
void sbx_step(const struct sbx_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* COVE_COMMON_SANDBOX_H */
