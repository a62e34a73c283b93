// SPDX-License-Identifier: Apache-2.0
/* cove run: command-line parsing, pure (unit tested in tests/unit). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cove/link.h"
#include "cove/netstack.h"
#include "common/args.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * Parsing is pure: no file, socket or namespace is touched, so every rule
 * here is unit tested (tests/unit/test_sandbox_opts.c) without root. The
 * result is one struct sbx_opts, shared read-only by the runtime and the
 * sentry (common/sandbox.h); its strings point into argv, nothing is
 * allocated, so there is nothing to free.
 *
 * Two passes. getopt_long() checks each option on its own, in the order
 * given ("+": the first non-option is the command, whose own options are
 * left alone); a repeated option overrides, a repeatable one (--env,
 * --publish) is bounded by the fixed arrays of struct sbx_opts. Then
 * rt_opts_check() checks the options against each other, which needs all
 * of them: --network resolves to a mode, --ip/--publish exclude --netns,
 * --publish needs a network, --ip must not be its own gateway, nor any
 * address rt_ip_refusal() names, and stays in the pool unless
 * --ip-outside-pool; a host port is published once per sandbox.
 *
 * What parsing cannot know is left to the runtime, which checks it before
 * it makes anything: whether an --ip overlaps a host route and whether a
 * --publish host port is in use on the host (hostcheck.c), whether a
 * --name, an --ip or a published port is taken by another sandbox
 * (state.c, under the global lock), and the address itself when no --ip
 * was given.
 *
 * Every error is one line in @err that names the option and the rule;
 * rt_opts_parse() stops at the first.
 */

#define SBX_RUN_HELP                                                                 \
	"Usage: %s run [OPTIONS] [--] COMMAND [ARG...]\n"                            \
	"\n"                                                                         \
	"Run an unmodified program in a sandbox (its own net, pid, mount, uts\n"     \
	"and ipc namespaces) whose TCP and UDP sockets are served by a\n"            \
	"user-level stack through the sentry.\n"                                     \
	"\n"                                                                         \
	"  --network=MODE      a stack provider (see 'cove stacks': builtin,\n"      \
	"                      kernel, ...), 'host' (the sandbox netns's own\n"      \
	"                      kernel stack, no interception: the baseline) or\n"    \
	"                      'none' (loopback only); default builtin\n"            \
	"  --link=KIND         how a link-based stack reaches eth0: packet\n"        \
	"                      (AF_PACKET on eth0, the default), tap (a TAP\n"       \
	"                      spliced to eth0 with tc redirects), xdp (AF_XDP\n"    \
	"                      on eth0) or dpdk[:DEVARGS] (a DPDK PMD on eth0,\n"    \
	"                      net_af_packet0 unless DEVARGS names net_af_xdp0,\n"   \
	"                      net_tap0 or a PCI device); xdp and dpdk are in\n"     \
	"                      cove-plugin only (docs/LINKS.md)\n"                   \
	"  --ip=A.B.C.D/N      sandbox address; default the next free one in\n"      \
	"                      10.209.0.0/16 from .2, a pool claimed on the host\n"  \
	"                      with an unreachable route; the host side is\n"        \
	"                      network+1. Never loopback, multicast, 0/8,\n"         \
	"                      240/4, a network or broadcast address, nor a\n"       \
	"                      subnet overlapping a host route Cove did not make\n"  \
	"  --ip-outside-pool   let --ip (--ip6) leave the pool (the host end then\n" \
	"                      takes network+1 of that subnet as its address)\n"     \
	"  --ip6=ADDR/N|none   IPv6 address (N 64-126); default the IPv4 address\n"  \
	"                      in the low 32 bits of fd63:6f76:6500::/64, host\n"    \
	"                      side ::1 of the subnet; none: IPv4 only\n"            \
	"  --ipv4-only         no IPv6 address (as --ip6=none)\n"                    \
	"  --name=NAME         sandbox name (default generated); state lives in\n"   \
	"                      /run/cove/NAME\n"                                     \
	"  --publish=HOST:PORT forward host TCP port HOST to PORT in the sandbox\n"  \
	"                      (repeatable); refused if a host process has HOST\n"   \
	"                      bound or another sandbox publishes it\n"              \
	"  --netns=PATH        use an existing, configured netns (e.g. made by a\n"  \
	"                      CNI plugin) instead of making one\n"                  \
	"  --rootfs=DIR        the program's root directory\n"                       \
	"  --host-fs=ro|rw     without --rootfs: ro (default) shows the host's\n"    \
	"                      tree read-only with a private /tmp, /var/tmp,\n"      \
	"                      /run and /dev, root mapped to host uid 100000;\n"     \
	"                      rw gives the program the host's files as real\n"      \
	"                      root (UNSAFE: it can change the host)\n"              \
	"  --env=K=V           set an environment variable (repeatable)\n"           \
	"  --workdir=DIR       the program's working directory\n"                    \
	"  --user=UID[:GID]    run the program as UID (and GID)\n"                   \
	"  --cap-add=CAP[,CAP] give the program these capabilities as well (in\n"    \
	"                      its user namespace; NET_BIND_SERVICE or\n"            \
	"                      CAP_NET_BIND_SERVICE, ALL); never NET_ADMIN,\n"       \
	"                      NET_RAW, SYS_ADMIN, SYS_PTRACE, SYS_MODULE, BPF\n"    \
	"                      and the others docs/SECURITY.md lists\n"              \
	"  --cap-drop=CAP[,CAP] take these (or ALL) away; the default set is\n"      \
	"                      CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID\n"       \
	"                      SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT\n"         \
	"                      AUDIT_WRITE SETFCAP (a container engine's)\n"         \
	"  --poll-us=N         spin up to N microseconds before sleeping\n"          \
	"  --max-sockets=N     sockets (and so connections) the stack serves at\n"   \
	"                      once, 16-16777216; default the provider's (65536\n"   \
	"                      for builtin, kernel and lwip)\n"                      \
	"  --pcap=FILE         write every frame the stack's link sends and\n"       \
	"                      receives to FILE (pcap: tcpdump -r, Wireshark);\n"    \
	"                      link-based stacks only\n"                             \
	"  --pcap-size=N[k|m|g] stop adding frames before FILE passes N bytes\n"     \
	"                      (default 256m); the file stays readable\n"            \
	"  --memory=N[k|m|g]   limit the sandbox's memory (its sentry and stack\n"   \
	"                      included) to N bytes (6m or more); past it the\n"     \
	"                      kernel's OOM killer ends the program (137)\n"         \
	"  --stack-mem=N[k|m|g] the stack's socket buffer memory, all sockets\n"     \
	"                      together (1m or more); default a quarter of\n"        \
	"                      --memory when given, else the provider's (64m\n"      \
	"                      for builtin)\n"                                       \
	"  --cpus=F            at most F CPUs of time (0.01 to 1024: a CFS\n"        \
	"                      quota of F * 100 ms per 100 ms)\n"                    \
	"  --pids=N            at most N processes and threads (8 or more,\n"        \
	"                      the sentry's included); fork then fails EAGAIN\n"     \
	"  --config=FILE       cove.conf to read (default /etc/cove/cove.conf):\n"   \
	"                      the address pools (pool, pool6) and the control\n"    \
	"                      channel's settings\n"                                 \
	"  --verbose           print the address and each setup step's time\n"       \
	"\n"                                                                         \
	"Exit status: the program's, 128+N if signal N ended it, 125 when\n"         \
	"cove itself fails, 126 / 127 when COMMAND cannot run / is not found.\n"

/* rt_run_usage() - the --help text of `cove run`, to @out. */
void rt_run_usage(FILE *out, const char *prog)
{
	fprintf(out, SBX_RUN_HELP, prog);
}

/**
 * rt_parse_caps() - one --cap-add or --cap-drop: a comma list of names
 * @arg:	"SYS_NICE,CAP_IPC_LOCK", "ALL"
 * @add:	--cap-add (else --cap-drop)
 * @o:		o->caps is changed in the order the options come, as Docker
 *		does for --cap-drop=ALL --cap-add=X
 * @err:	an unknown name, or a capability Cove never gives
 *
 * Return: 0 or -1.
 */
static int rt_parse_caps(const char *arg, bool add, struct sbx_opts *o,
			 struct cove_err *err)
{
	const char *opt = add ? "--cap-add" : "--cap-drop";
	char buf[512], *tok, *save = NULL;
	uint64_t set = 0;
	int cap;

	if (strlen(arg) >= sizeof(buf) || !*arg)
		return cove_err_set(err, 0, "%s: '%s' is not a list of names",
				    opt, arg);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "ALL")) {
			set |= add ? ~(uint64_t)SBX_CAPS_NEVER : ~0ull;
			continue;
		}
		cap = cove_cap_from_name(tok);
		if (cap < 0)
			return cove_err_set(err, 0,
					    "%s: unknown capability '%s'", opt,
					    tok);
		if (add && (SBX_CAPS_NEVER & SBX_CAP(cap)))
			return cove_err_set(
				err, 0,
				"--cap-add: Cove never gives the program "
				"CAP_%s (docs/SECURITY.md: with it root inside "
				"could reach past the sandbox or its stack)",
				cove_cap_name(cap));
		set |= SBX_CAP(cap);
	}
	if (add)
		o->caps |= set;
	else
		o->caps &= ~set;
	return 0;
}

/**
 * rt_name_valid() - is @name usable as a sandbox name
 * @name:	candidate
 *
 * 1..SBX_NAME_MAX of [A-Za-z0-9_.-], not starting with "." (no hidden or
 * relative directories under /run/cove) or "-" (no option look-alikes).
 *
 * Return: true if valid.
 */
bool rt_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > SBX_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/**
 * rt_parse_cidr() - parse A.B.C.D/N, N in 8..30
 * @text:	the text
 * @ip:		the address (network order)
 * @prefix:	N
 *
 * /31 and /32 leave no room for a sandbox and its gateway; below /8 is not
 * a subnet anyone means.
 *
 * Return: 0, or -1 (then @ip may have been written).
 */
int rt_parse_cidr(const char *text, struct in_addr *ip, uint8_t *prefix)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long n;

	if (!slash || (size_t)(slash - text) >= sizeof(buf))
		return -1;
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (inet_pton(AF_INET, buf, ip) != 1)
		return -1;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || n < 8 || n > 30)
		return -1;
	*prefix = (uint8_t)n;
	return 0;
}

/**
 * rt_parse_cidr6() - parse ADDR/N, an IPv6 address and N in 64..126
 * @text:	the text
 * @ip:		the address
 * @prefix:	N
 *
 * Shorter than /64 is not a subnet one interface has; /127 and /128
 * leave no room for a sandbox besides its gateway and the subnet-router
 * anycast address.
 *
 * Return: 0, or -1 (then @ip may have been written).
 */
int rt_parse_cidr6(const char *text, struct in6_addr *ip, uint8_t *prefix)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long n;

	if (!slash || (size_t)(slash - text) >= sizeof(buf))
		return -1;
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (inet_pton(AF_INET6, buf, ip) != 1)
		return -1;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || n < 64 || n > 126)
		return -1;
	*prefix = (uint8_t)n;
	return 0;
}

/**
 * rt_parse_u32() - a plain decimal number in [@lo, @hi]
 * @text:	the text: digits only, no sign, no spaces, not empty
 * @lo:		lowest value accepted
 * @hi:		highest value accepted
 * @out:	the value
 *
 * Return: 0, or -1 (@out untouched).
 */
static int rt_parse_u32(const char *text, unsigned long lo, unsigned long hi,
			uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*text || *text == '-' || *text == '+')
		return -1;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/**
 * rt_parse_publish() - parse --publish HOSTPORT:PORT
 * @text:	the text; both ports 1..65535
 * @p:		filled
 *
 * Return: 0, or -1 (@p untouched).
 */
static int rt_parse_publish(const char *text, struct sbx_publish *p)
{
	char buf[16];
	const char *colon = strchr(text, ':');
	uint32_t a, b;

	if (!colon || (size_t)(colon - text) >= sizeof(buf))
		return -1;
	memcpy(buf, text, (size_t)(colon - text));
	buf[colon - text] = '\0';
	if (rt_parse_u32(buf, 1, 65535, &a) ||
	    rt_parse_u32(colon + 1, 1, 65535, &b))
		return -1;
	p->host_port = (uint16_t)a;
	p->port = (uint16_t)b;
	return 0;
}

/**
 * rt_parse_user() - parse --user UID[:GID], numbers only
 * @text:	the text; each id 0..2^32-2 ((uid_t)-1 means "unchanged" to
 *		setresuid(), so it is refused)
 * @o:		uid, gid (the uid when not given) and have_user set
 *
 * Return: 0, or -1 (@o untouched).
 */
static int rt_parse_user(const char *text, struct sbx_opts *o)
{
	char buf[16];
	const char *colon = strchr(text, ':');
	uint32_t u, g;

	if (colon) {
		if ((size_t)(colon - text) >= sizeof(buf))
			return -1;
		memcpy(buf, text, (size_t)(colon - text));
		buf[colon - text] = '\0';
		if (rt_parse_u32(buf, 0, 0xfffffffeul, &u) ||
		    rt_parse_u32(colon + 1, 0, 0xfffffffeul, &g))
			return -1;
	} else {
		if (rt_parse_u32(text, 0, 0xfffffffeul, &u))
			return -1;
		g = u;
	}
	o->uid = u;
	o->gid = g;
	o->have_user = true;
	return 0;
}

/* rt_has_link() - is a link of @kind built into this binary? */
static bool rt_has_link(const char *kind)
{
	const struct cove_link_ops *const *l;
	unsigned i, n;

	l = cove_link_types(&n);
	for (i = 0; i < n; i++)
		if (!strcmp(l[i]->kind, kind))
			return true;
	return false;
}

/**
 * rt_set_network() - resolve --network to a mode
 * @o:		network and mode set
 * @v:		"host", "none", or the name of a stack provider linked into
 *		this binary
 * @err:	one line naming the alternatives
 *
 * Return: 0 or -1.
 */
static int rt_set_network(struct sbx_opts *o, const char *v,
			  struct cove_err *err)
{
	o->network = v;
	if (!strcmp(v, "host"))
		o->mode = SBX_NET_HOST;
	else if (!strcmp(v, "none"))
		o->mode = SBX_NET_NONE;
	else if (cove_stack_find(v))
		o->mode = SBX_NET_STACK;
	else
		return cove_err_set(
			err, 0,
			"--network: no stack '%s' in this binary (see 'cove stacks'; or host, none)",
			v);
	return 0;
}

/*
 * rt_opt_dpdk() - --link=dpdk[:DEVARGS]: a DPDK PMD as the stack's link.
 * DEVARGS names a virtual device (net_af_packet0, net_af_xdp0, net_tap0,
 * with its options) or a PCI address; the sentry points it at eth0.
 * Return: 0 or -1 with @err set.
 */
static int rt_opt_dpdk(const char *arg, struct sbx_opts *o,
		       struct cove_err *err)
{
	if (!rt_has_link("dpdk"))
		return cove_err_set(err, 0,
				    "--link=dpdk: this binary has no dpdk "
				    "link (cove-plugin has)");
	o->link = SBX_LINK_DPDK;
	o->link_args = NULL;
	if (!arg[4])
		return 0;
	if (!arg[5] || strlen(arg + 5) > SBX_LINK_ARGS_MAX)
		return cove_err_set(err, 0,
				    "--link=dpdk:DEVARGS: DEVARGS must be 1 to "
				    "%d characters",
				    SBX_LINK_ARGS_MAX);
	o->link_args = arg + 5;
	return 0;
}

/* The smallest limits a sandbox starts under: its sentry, program and
 * exec helper with room to run. */
#define RT_MEMORY_MIN	 (6ull << 20)
#define RT_STACK_MEM_MIN (1ull << 20) /* builtin's smallest budget */
_Static_assert(RT_MEMORY_MIN / 4 >= RT_STACK_MEM_MIN,
	       "a quarter of any --memory is a budget the stack takes");
#define RT_PIDS_MIN   8
#define RT_CPU_PERIOD 100000 /* us, the kernel's default CFS period */

/* rt_parse_cpus() - "0.5", "2", "1.25" -> quota us per RT_CPU_PERIOD. */
static int rt_parse_cpus(const char *s, int64_t *quota)
{
	int64_t whole = 0, frac = 0, scale = RT_CPU_PERIOD;
	const char *p = s;

	if (!*p || *p == '.')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > 1024)
			return -1;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale >= 10) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	if (*p || p[-1] == '.')
		return -1;
	*quota = whole * RT_CPU_PERIOD + frac;
	/* the kernel's minimum quota is 1 ms; at most 1024 CPUs */
	return *quota >= 1000 && *quota <= 1024ll * RT_CPU_PERIOD ? 0 : -1;
}

/**
 * rt_opt_limit() - --memory, --cpus, --pids: the sandbox's cgroup limits
 * @c:		the option's getopt code
 * @arg:	its value
 * @l:		filled; l->any set
 * @err:	one line naming the option
 *
 * Return: 0 or -1.
 */
static int rt_opt_limit(int c, const char *arg, struct sbx_limits *l,
			struct cove_err *err)
{
	uint64_t v;
	unsigned n;

	if (c == 'M') {
		if (cove_parse_size(arg, &v) < 0 || v < RT_MEMORY_MIN ||
		    v > INT64_MAX)
			return cove_err_set(err, 0,
					    "--memory: '%s' is not a size of "
					    "6m or more (N, Nk, Nm, Ng)",
					    arg);
		l->memory = (int64_t)v;
	} else if (c == 'c') {
		if (rt_parse_cpus(arg, &l->cpu_quota) < 0)
			return cove_err_set(err, 0,
					    "--cpus: '%s' is not a number of "
					    "CPUs from 0.01 to 1024",
					    arg);
		l->cpu_period = RT_CPU_PERIOD;
	} else {
		if (rt_parse_u32(arg, RT_PIDS_MIN, 4194304, &n))
			return cove_err_set(err, 0,
					    "--pids: '%s' is not a number of "
					    "processes from %d to 4194304",
					    arg, RT_PIDS_MIN);
		l->pids = n;
	}
	l->any = true;
	return 0;
}

/**
 * rt_opt_one() - apply one option that getopt_long() found
 * @c:		its short code (see rt_opts_parse()'s table)
 * @arg:	its value, or NULL
 * @o:		options being filled
 * @network:	the --network value, resolved later by rt_opts_check()
 * @err:	one line naming the option and the rule it breaks
 *
 * Return: 0, -1, or 1 when @c is not an option of `cove run` ('?').
 */
static int rt_opt_one(int c, char *arg, struct sbx_opts *o,
		      const char **network, struct cove_err *err)
{
	uint32_t v;

	switch (c) {
	case 'n':
		*network = arg;
		break;
	case 'l':
		if (!strcmp(arg, "packet"))
			o->link = SBX_LINK_PACKET;
		else if (!strcmp(arg, "tap"))
			o->link = SBX_LINK_TAP;
		else if (!strcmp(arg, "xdp") && rt_has_link("xdp"))
			o->link = SBX_LINK_XDP;
		else if (!strcmp(arg, "xdp"))
			return cove_err_set(err, 0,
					    "--link=xdp: this binary has no xdp "
					    "link (cove-plugin has)");
		else if (!strncmp(arg, "dpdk", 4) && (!arg[4] || arg[4] == ':'))
			return rt_opt_dpdk(arg, o, err);
		else
			return cove_err_set(
				err, 0,
				"--link: '%s' is not packet, tap, xdp or dpdk",
				arg);
		break;
	case 'i':
		if (rt_parse_cidr(arg, &o->ip, &o->prefix_len))
			return cove_err_set(
				err, 0, "--ip: '%s' is not A.B.C.D/N (N 8-30)",
				arg);
		o->have_ip = true;
		break;
	case '6':
		if (!strcmp(arg, "none")) {
			o->ipv4_only = true;
			break;
		}
		if (rt_parse_cidr6(arg, &o->ip6, &o->prefix6_len))
			return cove_err_set(
				err, 0,
				"--ip6: '%s' is not ADDR/N (IPv6, N 64-126) or none",
				arg);
		o->ip6_given = o->have_ip6 = true;
		break;
	case '4':
		o->ipv4_only = true;
		break;
	case 'K':
		o->config_path = arg;
		break;
	case 'N':
		if (!rt_name_valid(arg))
			return cove_err_set(
				err, 0,
				"--name: '%s' must be 1-%d of A-Z a-z 0-9 _ . - (not starting with . or -)",
				arg, SBX_NAME_MAX);
		strcpy(o->name, arg);
		o->have_name = true;
		break;
	case 'p':
		if (o->npublish == SBX_MAX_PUBLISH)
			return cove_err_set(err, 0, "--publish: at most %d",
					    SBX_MAX_PUBLISH);
		if (rt_parse_publish(arg, &o->publish[o->npublish]))
			return cove_err_set(
				err, 0, "--publish: '%s' is not HOSTPORT:PORT",
				arg);
		o->npublish++;
		break;
	case 's':
		o->netns_path = arg;
		break;
	case 'r':
		o->rootfs = arg;
		break;
	case 'H':
		if (strcmp(arg, "ro") && strcmp(arg, "rw"))
			return cove_err_set(err, 0,
					    "--host-fs: '%s' is not ro or rw",
					    arg);
		o->host_fs_rw = !strcmp(arg, "rw");
		break;
	case 'e':
		if (!strchr(arg, '=') || arg[0] == '=')
			return cove_err_set(err, 0, "--env: '%s' is not K=V",
					    arg);
		if (o->nenv == SBX_MAX_ENV)
			return cove_err_set(err, 0, "--env: at most %d",
					    SBX_MAX_ENV);
		o->env[o->nenv++] = arg;
		break;
	case 'w':
		if (arg[0] != '/')
			return cove_err_set(
				err, 0,
				"--workdir: '%s' is not an absolute path", arg);
		o->workdir = arg;
		break;
	case 'u':
		if (rt_parse_user(arg, o))
			return cove_err_set(
				err, 0,
				"--user: '%s' is not UID[:GID] (numbers)", arg);
		break;
	case 'P':
		if (rt_parse_u32(arg, 0, 1000000, &v))
			return cove_err_set(err, 0,
					    "--poll-us: '%s' is not 0-1000000",
					    arg);
		o->poll_us = v;
		break;
	case 'A':
	case 'D':
		return rt_parse_caps(arg, c == 'A', o, err);
	case 'X':
		if (rt_parse_u32(arg, SBX_MAX_SOCKETS_MIN, SBX_MAX_SOCKETS_MAX,
				 &v))
			return cove_err_set(err, 0,
					    "--max-sockets: '%s' is not %u-%u",
					    arg, SBX_MAX_SOCKETS_MIN,
					    SBX_MAX_SOCKETS_MAX);
		o->max_sockets = v;
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'O':
		o->ip_outside_pool = true;
		break;
	case 'C':
		o->pcap_path = arg;
		break;
	case 'S':
		if (cove_parse_size(arg, &o->pcap_max) < 0 ||
		    o->pcap_max < 4096)
			return cove_err_set(
				err, 0,
				"--pcap-size: '%s' is not a size of 4k or more (N, Nk, Nm, Ng)",
				arg);
		break;
	case 'B':
		if (cove_parse_size(arg, &o->stack_mem) < 0 ||
		    o->stack_mem < RT_STACK_MEM_MIN)
			return cove_err_set(err, 0,
					    "--stack-mem: '%s' is not a size of "
					    "1m or more (N, Nk, Nm, Ng)",
					    arg);
		break;
	case 'M':
	case 'c':
	case 'I':
		return rt_opt_limit(c, arg, &o->limits, err);
	default:
		return 1;
	}
	return 0;
}

/**
 * rt_publish_check() - a host port may be published once
 * @o:		options
 * @err:	one line naming the port
 *
 * Return: 0 or -1.
 */
static int rt_publish_check(const struct sbx_opts *o, struct cove_err *err)
{
	unsigned i, j;

	for (i = 0; i < o->npublish; i++)
		for (j = 0; j < i; j++)
			if (o->publish[i].host_port == o->publish[j].host_port)
				return cove_err_set(
					err, 0,
					"--publish: host port %u is given twice",
					o->publish[i].host_port);
	return 0;
}

/* rt_outside_pool() - the message for an --ip outside the IPv4 pool. */
static int rt_outside_pool(const struct sbx_opts *o, struct cove_err *err)
{
	char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], pool[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &o->ip, ip, sizeof(ip));
	inet_ntop(AF_INET, &o->gateway, gw, sizeof(gw));
	inet_ntop(AF_INET, &o->pools.net, pool, sizeof(pool));
	return cove_err_set(
		err, 0,
		"--ip: %s/%u is outside Cove's pool %s/%u (and its host side %s with it); --ip-outside-pool allows it",
		ip, o->prefix_len, pool, o->pools.prefix, gw);
}

/**
 * rt_ip_check() - the rules of --ip (see rt_ip_refusal(), rt_in_pool())
 * @o:		options; the gateway is set here
 * @err:	one line naming the address and the rule
 *
 * Return: 0 or -1.
 */
static int rt_ip_check(struct sbx_opts *o, struct cove_err *err)
{
	char ip[INET_ADDRSTRLEN];
	const char *why = rt_ip_refusal(o->ip, o->prefix_len);

	inet_ntop(AF_INET, &o->ip, ip, sizeof(ip));
	o->gateway = rt_gateway_of(o->ip, o->prefix_len);
	if (why)
		return cove_err_set(err, 0, "--ip: %s/%u %s", ip, o->prefix_len,
				    why);
	if (o->gateway.s_addr == o->ip.s_addr)
		return cove_err_set(
			err, 0,
			"--ip: %s is the host side of its subnet (network + 1)",
			ip);
	if (!o->ip_outside_pool && !rt_in_pool(&o->pools, o->ip, o->prefix_len))
		return rt_outside_pool(o, err);
	return 0;
}

/**
 * rt_ip6_check() - the rules of --ip6 (see rt_ip6_refusal(), rt_in_pool6())
 * @o:		options; the IPv6 gateway is set here
 * @err:	one line naming the address and the rule
 *
 * Return: 0 or -1.
 */
static int rt_ip6_check(struct sbx_opts *o, struct cove_err *err)
{
	char ip[INET6_ADDRSTRLEN], pool[INET6_ADDRSTRLEN];
	const char *why = rt_ip6_refusal(&o->ip6, o->prefix6_len);

	inet_ntop(AF_INET6, &o->ip6, ip, sizeof(ip));
	o->gateway6 = rt_gateway6_of(&o->ip6, o->prefix6_len);
	if (why)
		return cove_err_set(err, 0, "--ip6: %s/%u %s", ip,
				    o->prefix6_len, why);
	if (!memcmp(&o->gateway6, &o->ip6, sizeof(o->ip6)))
		return cove_err_set(
			err, 0,
			"--ip6: %s is the host side of its subnet (network + 1)",
			ip);
	inet_ntop(AF_INET6, &o->pools.net6, pool, sizeof(pool));
	if (!o->ip_outside_pool &&
	    !rt_in_pool6(&o->pools, &o->ip6, o->prefix6_len))
		return cove_err_set(
			err, 0,
			"--ip6: %s/%u is outside Cove's IPv6 pool %s/%u; --ip-outside-pool allows it",
			ip, o->prefix6_len, pool, o->pools.prefix6);
	return 0;
}

/**
 * rt_opts_check() - the rules between options, once all are known
 * @o:		options; mode and (with --ip) gateway are set here
 * @network:	the --network value
 * @err:	one line naming the options that conflict
 *
 * Return: 0 or -1.
 */
static int rt_opts_check(struct sbx_opts *o, const char *network,
			 struct cove_err *err)
{
	if (rt_set_network(o, network, err) < 0)
		return -1;
	if (o->netns_path && o->have_ip)
		return cove_err_set(
			err, 0,
			"--ip and --netns exclude each other: the netns brings its address");
	if (o->netns_path && o->ip6_given)
		return cove_err_set(
			err, 0,
			"--ip6 and --netns exclude each other: the netns brings its address");
	if (o->ip6_given && o->ipv4_only)
		return cove_err_set(err, 0,
				    "--ip6 and --ipv4-only exclude each other");
	if (o->netns_path && o->npublish)
		return cove_err_set(
			err, 0,
			"--publish needs a netns made by cove, not --netns");
	if (o->npublish && o->mode == SBX_NET_NONE)
		return cove_err_set(
			err, 0,
			"--publish needs a network (not --network=none)");
	if (o->ip_outside_pool && !o->have_ip && !o->ip6_given)
		return cove_err_set(
			err, 0,
			"--ip-outside-pool is about --ip or --ip6: give one");
	if (o->pcap_path &&
	    (o->mode != SBX_NET_STACK || !strcmp(o->network, "kernel")))
		return cove_err_set(err, 0,
				    "--pcap needs a link-based stack (not "
				    "--network=%s): it records the link's frames",
				    o->network);
	if (o->have_ip && rt_ip_check(o, err) < 0)
		return -1;
	if (o->ip6_given && rt_ip6_check(o, err) < 0)
		return -1;
	/* the stack's share of a memory limit: a quarter, leaving the rest
	 * to the program, the sentry's frames and the allocator's slack */
	if (!o->stack_mem && o->limits.memory)
		o->stack_mem = (uint64_t)o->limits.memory / 4;
	return rt_publish_check(o, err);
}

/**
 * rt_opts_parse() - parse `cove run`'s arguments into @o
 * @argc:	argument count
 * @argv:	arguments, argv[0] == "run"; @o points into them
 * @o:		cleared, then filled
 * @err:	one line on a usage error
 *
 * Return: 0 to run, 1 after --help (print rt_run_usage()), -1 on a usage
 * error with @err set.
 */
int rt_opts_parse(int argc, char **argv, struct sbx_opts *o,
		  struct cove_err *err)
{
	struct sbx_pools pools;

	rt_pools_default(&pools);
	return rt_opts_parse_pools(argc, argv, &pools, o, err);
}

/* rt_pools_default() - Cove's built-in pools (sandbox.h). */
void rt_pools_default(struct sbx_pools *p)
{
	static const struct in6_addr net6 = SBX_POOL6_INIT;

	p->net.s_addr = htonl(SBX_POOL_NET);
	p->prefix = SBX_POOL_PREFIX;
	p->net6 = net6;
	p->prefix6 = SBX_POOL6_PREFIX;
}

/**
 * rt_opts_parse_pools() - rt_opts_parse() with the address pools given
 * @argc:	argument count
 * @argv:	arguments, argv[0] == "run"; @o points into them
 * @pools:	the pools --ip and --ip6 must stay in (cove.conf's)
 * @o:		cleared, then filled
 * @err:	one line on a usage error
 *
 * Return: as rt_opts_parse().
 */
int rt_opts_parse_pools(int argc, char **argv, const struct sbx_pools *pools,
			struct sbx_opts *o, struct cove_err *err)
{
	static const struct option longopts[] = {
		{ "network", required_argument, NULL, 'n' },
		{ "net", required_argument, NULL, 'n' },
		{ "link", required_argument, NULL, 'l' },
		{ "ip", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'N' },
		{ "publish", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 's' },
		{ "rootfs", required_argument, NULL, 'r' },
		{ "host-fs", required_argument, NULL, 'H' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "poll-us", required_argument, NULL, 'P' },
		{ "max-sockets", required_argument, NULL, 'X' },
		{ "cap-add", required_argument, NULL, 'A' },
		{ "cap-drop", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "ip-outside-pool", no_argument, NULL, 'O' },
		{ "ip6", required_argument, NULL, '6' },
		{ "ipv4-only", no_argument, NULL, '4' },
		{ "config", required_argument, NULL, 'K' },
		{ "pcap", required_argument, NULL, 'C' },
		{ "pcap-size", required_argument, NULL, 'S' },
		{ "memory", required_argument, NULL, 'M' },
		{ "stack-mem", required_argument, NULL, 'B' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "pids", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *network = "builtin";
	int c, r;

	memset(o, 0, sizeof(*o));
	o->pools = *pools;
	o->link = SBX_LINK_PACKET;
	o->pcap_fd = -1;
	o->pcap_max = SBX_PCAP_MAX_DEFAULT;
	o->caps = SBX_CAPS_DEFAULT;
	cove_err_clear(err);
	optind = 1;
	opterr = 0;
	/* "+": stop at the first non-option, the command. */
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return 1;
		case ':':
			return cove_err_set(err, 0, "%s needs a value",
					    argv[optind - 1]);
		}
		r = rt_opt_one(c, optarg, o, &network, err);
		if (r < 0)
			return -1;
		if (r > 0)
			return cove_err_set(err, 0, "unknown option '%s'",
					    argv[optind - 1]);
	}
	if (optind >= argc)
		return cove_err_set(err, 0, "no command given");
	o->argv = argv + optind;
	return rt_opts_check(o, network, err);
}
