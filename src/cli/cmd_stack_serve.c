// SPDX-License-Identifier: Apache-2.0
/* cove stack-serve: run one stack on one link with simple servers, no sandbox. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/serve.h"
#include "common/args.h"
#include "cove/link.h"
#include "cove/netstack.h"
#include "plugin/plugin.h"

/*
 * Theory of operation
 *
 * One thread, interrupt mode. The loop sleeps in epoll on the link's fd,
 * the provider's poll_fd(), a timerfd armed to the stack's next deadline
 * (or the impairment shim's, whichever is first) and a signalfd for SIGUSR1
 * (print statistics), SIGTERM and SIGINT (print statistics, exit 0). On
 * every wake it drains the link in bursts of SERVE_BURST into input(),
 * services the sockets the stack notified, calls run() and re-arms the
 * timer. When work is left over (a long receive backlog, sockets still
 * queued) it polls again without sleeping.
 *
 * With --stack kernel no link is opened: the kernel owns the interface and
 * the caller gives it the address; --link and --addr are then optional and
 * only checked. A provider loaded with --stack-plugin gets a link exactly
 * when --link is given.
 */

#define SERVE_POOL_FRAMES 4096u
#define SERVE_MAX_CONNS	  1024u
#define SERVE_MAX_PORTS	  8u

struct serve_opts {
	const char *stack, *link, *impair, *plugin, *pcap;
	uint64_t pcap_max;
	uint64_t mem_max; /* --stack-mem; 0: the provider's default */
	const struct cove_netstack_ops *ops; /* the provider chosen */
	bool needs_link;
	struct in_addr addr, gateway;
	uint8_t prefix_len;
	struct in6_addr addr6;	  /* --addr6; :: for none */
	struct in6_addr gateway6; /* --gateway6; :: for none */
	uint32_t stack_flags;	  /* COVE_STACK_F_*: --no-ipv6 */
	uint8_t prefix6_len;
	bool have_addr, have_connect;
	struct sockaddr_in connect_to;
	uint16_t ports[SERVE_MAX_PORTS];
	int kinds[SERVE_MAX_PORTS]; /* enum serve_app, or -1: udp echo */
	unsigned nports;
	int verbose;
};

#define SERVE_HELP                                                                \
	"Usage: %s stack-serve --stack NAME --link KIND:IF\n"                     \
	"           --addr A.B.C.D/N [--gateway A.B.C.D] [--addr6 ADDR/LEN]\n"    \
	"           [--gateway6 ADDR] [--no-ipv6] [--echo PORT]\n"                \
	"           [--discard PORT] [--http PORT] [--udp-echo PORT]\n"           \
	"           [--impair SPEC] [--connect A.B.C.D:PORT] [--verbose]\n"       \
	"           [--pcap FILE [--pcap-size N[k|m|g]]] [--stack-mem N]\n"       \
	"           [--stack-plugin PATH]\n"                                      \
	"\n"                                                                      \
	"Run one network stack on one link, without a sandbox, with simple\n"     \
	"servers on it, for testing and measuring stacks in isolation.\n"         \
	"\n"                                                                      \
	"  --stack NAME        provider (see '%s stacks'); default builtin\n"     \
	"  --link KIND:IF      link to serve on, one of the kinds listed\n"       \
	"                      under 'Links' below\n"                             \
	"  --addr A.B.C.D/N    the stack's address and prefix length\n"           \
	"  --gateway A.B.C.D   default route\n"                                   \
	"  --addr6 ADDR/LEN    an IPv6 address and on-link prefix length as\n"    \
	"                      well (the stack checks it with DAD first); the\n"  \
	"                      servers are dual stack ([::]) where the\n"         \
	"                      provider has AF_INET6\n"                           \
	"  --gateway6 ADDR     IPv6 default router (else one from router\n"       \
	"                      advertisements)\n"                                 \
	"  --no-ipv6           no IPv6 on the link at all (not even the\n"        \
	"                      link-local address, DAD, RS and MLD at start)\n"   \
	"  --echo PORT         TCP: send every byte back\n"                       \
	"  --discard PORT      TCP: read and drop\n"                              \
	"  --http PORT         HTTP/1.1: GET /N answers N bytes, byte i being\n"  \
	"                      (i * 31 + 7) mod 251; keep-alive, pipelining\n"    \
	"  --udp-echo PORT     UDP: send every datagram back\n"                   \
	"  --impair SPEC       impair the link: drop=P,dup=P,reorder=P,\n"        \
	"                      corrupt=P,delay=MS[:JITTER],seed=N\n"              \
	"  --pcap FILE         write every frame of the link to FILE (pcap, as\n" \
	"                      on the wire: before --impair on the way out)\n"    \
	"  --pcap-size N       stop adding frames before FILE passes N bytes\n"   \
	"                      (k, m, g suffixes; default 256m)\n"                \
	"  --stack-mem N       the stack's socket buffer memory, all sockets\n"   \
	"                      together (1m or more; default the provider's)\n"   \
	"  --connect A:PORT    connect from the stack once ready; prints\n"       \
	"                      'connect: ok' or 'connect: ERRNAME'\n"             \
	"  --verbose           print the stack's info and debug messages\n"       \
	"  --stack-plugin PATH load an out-of-tree provider (a shared object\n"   \
	"                      exporting " COVE_NETSTACK_ENTRY_SYMBOL             \
	") and serve\n"                                                           \
	"                      with it; it runs inside this process, which\n"     \
	"                      widens the trusted base (see docs/PLUGINS.md)\n"   \
	"\n"                                                                      \
	"Prints 'ready' once serving. SIGUSR1 prints the stack's statistics\n"    \
	"('name value' lines); SIGTERM and SIGINT print them and exit 0.\n"       \
	"With --stack kernel no link is opened: the kernel owns the interface\n"  \
	"(give it the address yourself) and serves on it.\n"

/* serve_port() - parse a port option: 1..65535. */
static int serve_port(const char *opt, const char *text, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v == 0 || v > 65535)
		return cove_usage_error("stack-serve",
					"%s: '%s' is not a port (1-65535)", opt,
					text);
	*port = (uint16_t)v;
	return 0;
}

/* serve_addr_prefix() - parse A.B.C.D/N. */
static int serve_addr_prefix(const char *text, struct serve_opts *o)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long n;

	if (!slash || (size_t)(slash - text) >= sizeof(ip))
		goto bad;
	memcpy(ip, text, (size_t)(slash - text));
	ip[slash - text] = '\0';
	if (inet_pton(AF_INET, ip, &o->addr) != 1)
		goto bad;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || n > 32)
		goto bad;
	o->prefix_len = (uint8_t)n;
	o->have_addr = true;
	return 0;
bad:
	return cove_usage_error("stack-serve",
				"--addr: '%s' is not A.B.C.D/N (N 0-32)", text);
}

/* serve_addr6_prefix() - parse --addr6 ADDR/LEN (an IPv6 address, 0-128). */
static int serve_addr6_prefix(const char *text, struct serve_opts *o)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long n;

	if (!slash || (size_t)(slash - text) >= sizeof(ip))
		goto bad;
	memcpy(ip, text, (size_t)(slash - text));
	ip[slash - text] = '\0';
	if (inet_pton(AF_INET6, ip, &o->addr6) != 1 ||
	    IN6_IS_ADDR_UNSPECIFIED(&o->addr6))
		goto bad;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || n > 128)
		goto bad;
	o->prefix6_len = (uint8_t)n;
	return 0;
bad:
	return cove_usage_error("stack-serve",
				"--addr6: '%s' is not ADDR/LEN (LEN 0-128)",
				text);
}

/* serve_addr_port() - parse A.B.C.D:PORT for --connect. */
static int serve_addr_port(const char *text, struct serve_opts *o)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(text, ':');
	uint16_t port;

	if (!colon || (size_t)(colon - text) >= sizeof(ip))
		return cove_usage_error("stack-serve",
					"--connect: '%s' is not A.B.C.D:PORT",
					text);
	memcpy(ip, text, (size_t)(colon - text));
	ip[colon - text] = '\0';
	if (inet_pton(AF_INET, ip, &o->connect_to.sin_addr) != 1)
		return cove_usage_error("stack-serve",
					"--connect: '%s' is not an IPv4 address",
					ip);
	if (serve_port("--connect", colon + 1, &port))
		return 2;
	o->connect_to.sin_family = AF_INET;
	o->connect_to.sin_port = htons(port);
	o->have_connect = true;
	return 0;
}

/* serve_help_links() - the link kinds of this binary, for --help. */
static void serve_help_links(void)
{
	const struct cove_link_ops *const *l;
	unsigned i, n;

	l = cove_link_types(&n);
	printf("\nLinks in %s (--link):\n", cove_progname);
	for (i = 0; i < n; i++)
		printf("  %s\n", l[i]->usage);
}

/**
 * serve_parse() - parse the command line
 * @argc:	argument count
 * @argv:	arguments, argv[0] == "stack-serve"
 * @o:		filled
 *
 * Return: 0 to run, 1 after --help (exit 0), 2 after a usage error.
 */
static int serve_parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{ "stack", required_argument, NULL, 's' },
		{ "link", required_argument, NULL, 'l' },
		{ "addr", required_argument, NULL, 'a' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "addr6", required_argument, NULL, '6' },
		{ "gateway6", required_argument, NULL, 'G' },
		{ "no-ipv6", no_argument, NULL, 'N' },
		{ "echo", required_argument, NULL, 'e' },
		{ "discard", required_argument, NULL, 'd' },
		{ "http", required_argument, NULL, 'H' },
		{ "udp-echo", required_argument, NULL, 'u' },
		{ "impair", required_argument, NULL, 'i' },
		{ "pcap", required_argument, NULL, 'C' },
		{ "pcap-size", required_argument, NULL, 'Z' },
		{ "stack-mem", required_argument, NULL, 'B' },
		{ "connect", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stack-plugin", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool stack_given = false;
	int c, kind;

	memset(o, 0, sizeof(*o));
	o->stack = "builtin";
	o->pcap_max = 256ull << 20;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		kind = -2;
		switch (c) {
		case 's':
			o->stack = optarg;
			stack_given = true;
			break;
		case 'P':
			o->plugin = optarg;
			break;
		case 'l':
			o->link = optarg;
			break;
		case 'i':
			o->impair = optarg;
			break;
		case 'C':
			o->pcap = optarg;
			break;
		case 'Z':
			if (cove_parse_size(optarg, &o->pcap_max) < 0 ||
			    o->pcap_max < 4096)
				return cove_usage_error(
					"stack-serve",
					"--pcap-size: '%s' is not a size of 4k or more",
					optarg);
			break;
		case 'B':
			if (cove_parse_size(optarg, &o->mem_max) < 0 ||
			    o->mem_max < (1ull << 20))
				return cove_usage_error(
					"stack-serve",
					"--stack-mem: '%s' is not a size of 1m or more",
					optarg);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'a':
			if (serve_addr_prefix(optarg, o))
				return 2;
			break;
		case 'g':
			if (inet_pton(AF_INET, optarg, &o->gateway) != 1)
				return cove_usage_error(
					"stack-serve",
					"--gateway: '%s' is not an IPv4 address",
					optarg);
			break;
		case 'c':
			if (serve_addr_port(optarg, o))
				return 2;
			break;
		case '6':
			if (serve_addr6_prefix(optarg, o))
				return 2;
			break;
		case 'N':
			o->stack_flags |= COVE_STACK_F_NO_IPV6;
			break;
		case 'G':
			if (inet_pton(AF_INET6, optarg, &o->gateway6) != 1)
				return cove_usage_error(
					"stack-serve",
					"--gateway6: '%s' is not an IPv6 address",
					optarg);
			break;
		case 'e':
			kind = SERVE_ECHO;
			break;
		case 'd':
			kind = SERVE_DISCARD;
			break;
		case 'H':
			kind = SERVE_HTTP;
			break;
		case 'u':
			kind = -1;
			break;
		case 'h':
			printf(SERVE_HELP, cove_progname, cove_progname);
			serve_help_links();
			return 1;
		case ':':
			return cove_usage_error("stack-serve",
						"%s needs a value",
						argv[optind - 1]);
		default:
			return cove_usage_error("stack-serve",
						"unknown option '%s'",
						argv[optind - 1]);
		}
		if (kind == -2)
			continue;
		if (o->nports == SERVE_MAX_PORTS)
			return cove_usage_error("stack-serve",
						"at most %u servers",
						SERVE_MAX_PORTS);
		if (serve_port(kind == SERVE_ECHO    ? "--echo" :
			       kind == SERVE_DISCARD ? "--discard" :
			       kind == SERVE_HTTP    ? "--http" :
						       "--udp-echo",
			       optarg, &o->ports[o->nports]))
			return 2;
		o->kinds[o->nports++] = kind;
	}
	if (optind < argc)
		return cove_usage_error("stack-serve",
					"unexpected argument '%s'",
					argv[optind]);
	if (o->plugin) {
		struct cove_err err = { 0 };

		fprintf(stderr,
			"%s stack-serve: warning: --stack-plugin runs "
			"%s inside this process; it widens the trusted base\n",
			cove_progname, o->plugin);
		if (cove_plugin_load(o->plugin, &o->ops, &err) < 0)
			return cove_usage_error("stack-serve",
						"--stack-plugin: %s", err.msg);
		if (stack_given && strcmp(o->stack, o->ops->name))
			return cove_usage_error(
				"stack-serve",
				"--stack %s, but the plugin is '%s'", o->stack,
				o->ops->name);
		o->stack = o->ops->name;
		o->needs_link = o->link != NULL;
	} else {
		o->ops = cove_stack_find(o->stack);
		o->needs_link = strcmp(o->stack, "kernel") != 0;
	}
	if (!o->ops)
		return cove_usage_error(
			"stack-serve",
			"no stack '%s' in this binary (see '%s stacks')",
			o->stack, cove_progname);
	if (o->needs_link) {
		if (!o->link)
			return cove_usage_error("stack-serve",
						"--link is required");
		if (!o->have_addr)
			return cove_usage_error("stack-serve",
						"--addr is required");
	}
	if (o->impair && !o->needs_link)
		return cove_usage_error(
			"stack-serve",
			"--impair needs a link; the %s stack has none",
			o->stack);
	if (o->pcap && !o->needs_link)
		return cove_usage_error(
			"stack-serve",
			"--pcap needs a link; the %s stack has none", o->stack);
	if (o->impair) {
		struct cove_impair_spec spec;
		struct cove_err err;

		if (cove_impair_parse(o->impair, &spec, &err) < 0)
			return cove_usage_error("stack-serve", "--impair: %s",
						err.msg);
	}
	return 0;
}

/*
 * serve_pcap() - --pcap: the capture shim right on the link, so the file
 * shows the wire (the impairment shim, if any, goes around it).
 * Return: 0 or -1 with @err set.
 */
static int serve_pcap(const struct serve_opts *o, struct serve_loop *lp,
		      struct cove_err *err)
{
	struct cove_link *shim;
	int fd = open(o->pcap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return cove_err_set(err, errno, "--pcap %s", o->pcap);
	if (cove_link_pcap(lp->link, fd, o->pcap_max, &shim, err) < 0) {
		close(fd);
		return -1;
	}
	lp->link = shim;
	return 0;
}

static void serve_log(void *host, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* serve_log() - the env->log callback: warnings, or all with --verbose. */
static void serve_log(void *host, int level, const char *fmt, ...)
{
	const struct serve *sv = host;
	va_list ap;

	if (level > (sv->verbose ? COVE_LOG_DEBUG : COVE_LOG_WARN))
		return;
	fprintf(stderr, "stack-serve: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Every field of struct cove_stack_stats, in order, for printing. */
#define SERVE_STAT(f)                                    \
	{                                                \
#f, offsetof(struct cove_stack_stats, f) \
	}
static const struct {
	const char *name;
	size_t off;
} serve_stat_fields[] = {
	SERVE_STAT(rx_frames),
	SERVE_STAT(rx_bytes),
	SERVE_STAT(tx_frames),
	SERVE_STAT(tx_bytes),
	SERVE_STAT(rx_dropped),
	SERVE_STAT(rx_bad_csum),
	SERVE_STAT(rx_malformed),
	SERVE_STAT(tx_dropped),
	SERVE_STAT(arp_requests),
	SERVE_STAT(arp_replies),
	SERVE_STAT(ip_frags_in),
	SERVE_STAT(ip_reassembled),
	SERVE_STAT(ip_reasm_failed),
	SERVE_STAT(icmp_in),
	SERVE_STAT(icmp_out),
	SERVE_STAT(udp_in),
	SERVE_STAT(udp_out),
	SERVE_STAT(udp_no_port),
	SERVE_STAT(tcp_active_opens),
	SERVE_STAT(tcp_passive_opens),
	SERVE_STAT(tcp_in_segs),
	SERVE_STAT(tcp_out_segs),
	SERVE_STAT(tcp_retransmits),
	SERVE_STAT(tcp_fast_retransmits),
	SERVE_STAT(tcp_timeouts),
	SERVE_STAT(tcp_resets_in),
	SERVE_STAT(tcp_resets_out),
	SERVE_STAT(tcp_ooo_segments),
	SERVE_STAT(tcp_challenge_acks),
	SERVE_STAT(sockets),
	SERVE_STAT(tcp_conns),
	SERVE_STAT(tcp_established),
	SERVE_STAT(mem_bytes),
	SERVE_STAT(frames_held),
	SERVE_STAT(ip6_frags_in),
	SERVE_STAT(ip6_reassembled),
	SERVE_STAT(ip6_reasm_failed),
	SERVE_STAT(icmp6_in),
	SERVE_STAT(icmp6_out),
	SERVE_STAT(nd_solicits),
	SERVE_STAT(nd_adverts),
	SERVE_STAT(pmtu_updates),
	SERVE_STAT(tcp_syncookies_sent),
	SERVE_STAT(tcp_syncookies_ok),
	SERVE_STAT(tcp_syncookies_failed),
};
_Static_assert(sizeof(serve_stat_fields) / sizeof(serve_stat_fields[0]) ==
		       sizeof(struct cove_stack_stats) / sizeof(uint64_t) - 1,
	       "every statistics field is printed");

/* serve_print_stats() - the stack's and the servers' counters, flushed. */
static void serve_print_stats(struct serve *sv, struct cove_link *link)
{
	struct cove_stack_stats st;
	unsigned i;

	memset(&st, 0, sizeof(st));
	if (cove_stack_read_stats(sv->ops, sv->st, &st) < 0)
		fprintf(stderr, "stack-serve: the stack gave no statistics\n");
	printf("stats begin\n");
	for (i = 0;
	     i < sizeof(serve_stat_fields) / sizeof(serve_stat_fields[0]);
	     i++) {
		uint64_t v;

		memcpy(&v, (const char *)&st + serve_stat_fields[i].off,
		       sizeof(v));
		printf("%s %llu\n", serve_stat_fields[i].name,
		       (unsigned long long)v);
	}
	printf("serve_conns_accepted %llu\nserve_conns_refused %llu\n"
	       "serve_echo_bytes %llu\nserve_discard_bytes %llu\n"
	       "serve_http_requests %llu\nserve_http_bytes %llu\n"
	       "serve_http_errors %llu\nserve_udp_echoed %llu\n",
	       (unsigned long long)sv->cnt.conns_accepted,
	       (unsigned long long)sv->cnt.conns_refused,
	       (unsigned long long)sv->cnt.echo_bytes,
	       (unsigned long long)sv->cnt.discard_bytes,
	       (unsigned long long)sv->cnt.http_requests,
	       (unsigned long long)sv->cnt.http_bytes,
	       (unsigned long long)sv->cnt.http_errors,
	       (unsigned long long)sv->cnt.udp_echoed);
	if (link)
		printf("link_rx_frames %llu\nlink_tx_frames %llu\n"
		       "link_rx_dropped %llu\nlink_tx_dropped %llu\n",
		       (unsigned long long)link->stats.rx_frames,
		       (unsigned long long)link->stats.tx_frames,
		       (unsigned long long)link->stats.rx_dropped,
		       (unsigned long long)link->stats.tx_dropped);
	printf("stats end\n");
	fflush(stdout);
}

/**
 * serve_loop_run() - sleep and serve until SIGTERM or SIGINT
 * @lp:		loop with its fds registered
 *
 * Return: 0, or 1 when epoll itself fails.
 */
static int serve_loop_run(struct serve_loop *lp)
{
	bool busy = true;
	int sig;

	for (;;) {
		sig = serve_loop_wait(lp, busy ? 0 : -1);
		if (sig < 0) {
			fprintf(stderr, "stack-serve: epoll_wait: %s\n",
				strerror(-sig));
			return 1;
		}
		if (sig == SIGUSR1)
			serve_print_stats(lp->sv, lp->link);
		else if (sig)
			return 0;
		busy = serve_turn(lp);
	}
}

/**
 * serve_setup() - open the link, make the stack, start the servers
 * @o:		options
 * @sv:		server set to fill
 * @lp:		loop to fill
 * @pool:	frame pool (initialised here)
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set; what was made is torn down by the caller.
 */
static int serve_setup(const struct serve_opts *o, struct serve *sv,
		       struct serve_loop *lp, struct cove_frame_pool *pool,
		       struct cove_err *err)
{
	const struct cove_netstack_ops *ops = o->ops;
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.addr = o->addr,
		.prefix_len = o->prefix_len,
		.gateway = o->gateway,
		.mem_max = o->mem_max,
		.addr6 = o->addr6,
		.prefix6_len = o->prefix6_len,
		.gateway6 = o->gateway6,
		.flags = o->stack_flags,
	};
	struct cove_stack_env env = {
		.notify = serve_notify,
		.now_ns = serve_now,
		.log = serve_log,
		.host = sv,
	};
	sigset_t sigs;
	unsigned i;
	int ret;

	if (ops->abi_version != COVE_NETSTACK_ABI_VERSION)
		return cove_err_set(err, EPROTO,
				    "stack '%s' speaks ABI %u, not %d",
				    o->stack, ops->abi_version,
				    COVE_NETSTACK_ABI_VERSION);
	serve_init(sv, ops, SERVE_MAX_CONNS);
	sv->verbose = o->verbose;
	ret = cove_frame_pool_init(pool, SERVE_POOL_FRAMES,
				   COVE_FRAME_DEFAULT_SIZE);
	if (ret < 0)
		return cove_err_set(err, -ret, "frame pool: %s",
				    strerror(-ret));
	if (o->needs_link) {
		if (cove_link_open(o->link, pool, &lp->link, err) < 0)
			return -1;
		if (o->pcap && serve_pcap(o, lp, err) < 0)
			return -1;
		if (o->impair) {
			struct cove_impair_spec spec;
			struct cove_link *shim;

			if (cove_impair_parse(o->impair, &spec, err) < 0)
				return -1;
			if (cove_link_impair(lp->link, &spec, &shim) < 0)
				return cove_err_set(
					err, ENOMEM,
					"impairment shim: out of memory");
			lp->link = shim;
			lp->impaired = true;
		}
		env.link = lp->link;
	}
	ret = ops->create(&cfg, &env, &sv->st);
	if (ret < 0)
		return cove_err_set(err, -ret, "stack '%s': %s", o->stack,
				    strerror(-ret));

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (serve_loop_init(lp, sv, &sigs, err) < 0)
		return -1;

	for (i = 0; i < o->nports; i++) {
		if (o->kinds[i] < 0)
			ret = serve_udp_echo(sv, o->ports[i], err);
		else
			ret = serve_tcp_listen(sv, o->ports[i],
					       (enum serve_app)o->kinds[i],
					       err);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/**
 * stack_serve_main() - cove stack-serve: parse, set up, serve, tear down
 * @argc:	arguments, argv[0] == "stack-serve"
 * @argv:	see SERVE_HELP
 *
 * Prints "ready" once the servers listen (and, with --connect, after the
 * first turn and the connect). Teardown runs on every path in reverse
 * order of set-up: sockets and stack, link (the impairment shim closes the
 * link it wraps), loop fds, then the frame pool, whose frames still out
 * are reported as a leak on stderr.
 *
 * Return: 0 after SIGTERM or SIGINT, or after --help; 2 after a usage
 * error; 1 when set-up or the loop fails.
 */
static int stack_serve_main(int argc, char **argv)
{
	static struct serve sv; /* big (scratch); one per process */
	struct serve_loop lp = { .host = { .ep = -1, .tfd = -1 }, .sfd = -1 };
	struct cove_frame_pool pool = { 0 };
	struct serve_opts o;
	struct cove_err err = { 0 };
	int ret, status = 1;
	uint32_t leaked;

	ret = serve_parse(argc, argv, &o);
	if (ret)
		return ret == 1 ? 0 : ret;
	if (serve_setup(&o, &sv, &lp, &pool, &err) < 0) {
		fprintf(stderr, "%s stack-serve: %s\n", cove_progname, err.msg);
		goto out;
	}
	if (o.have_connect) {
		/* After the first turn, so the stack has said hello (ARP). */
		serve_turn(&lp);
		if (serve_connect(&sv, &o.connect_to, &err) < 0) {
			fprintf(stderr, "%s stack-serve: %s\n", cove_progname,
				err.msg);
			goto out;
		}
	}
	printf("ready\n");
	fflush(stdout);
	status = serve_loop_run(&lp);
	serve_print_stats(&sv, lp.link);
out:
	if (sv.st) {
		serve_close_all(&sv);
		sv.ops->destroy(sv.st);
	}
	cove_link_close(lp.link);
	serve_loop_fini(&lp);
	if (pool.frames) {
		leaked = cove_frame_pool_fini(&pool);
		if (leaked)
			fprintf(stderr, "stack-serve: %u frames not returned\n",
				leaked);
	}
	return status;
}

static const struct cove_cmd stack_serve_cmd = {
	.name = "stack-serve",
	.summary = "run one stack on one link with test servers (no sandbox)",
	.main = stack_serve_main,
};
COVE_COMMAND(stack_serve_cmd);
