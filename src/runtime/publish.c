// SPDX-License-Identifier: Apache-2.0
/* --publish HOSTPORT:PORT: nftables DNAT on the host to the sandbox. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * One nftables table per sandbox and family, "ip cove_XXXXXXXX" (the
 * sandbox address in hex, like the veth's name) and, when the sandbox has
 * IPv6, "ip6 cove_XXXXXXXX" with the same rules for its IPv6 address, so
 * removing a sandbox's rules is one atomic transaction that cannot touch
 * anyone else's:
 *
 *   prerouting  (dstnat): fib daddr type local tcp dport H dnat to IP:P
 *   output      (-100):   the same, for clients on the host itself
 *   postrouting (srcnat): to the veth from 127.0.0.0/8: masquerade
 *
 * plus route_localnet on the host end of the veth, so that connections to
 * 127.0.0.1:H may be routed out to the sandbox. Clients on other machines
 * also need IP forwarding, which cove does not switch on (a host-wide
 * policy); see docs/SANDBOX.md.
 *
 * The rules are fed to nft(8) on its stdin: building nftables netlink
 * batches by hand would need libnftnl, another dependency of the default
 * binary, for a start-up-only path.
 */

/* rt_table_name() - "cove_" and the sandbox address in hex. */
static void rt_table_name(struct in_addr ip, char *buf, size_t len)
{
	snprintf(buf, len, "cove_%08x", ntohl(ip.s_addr));
}

/**
 * rt_nft() - run "nft -f -" with @script on its stdin
 * @script:	rules
 * @errbuf:	nft's first line of complaint (may be NULL)
 * @errlen:	its size
 *
 * The pipe ends are closed as soon as their last user is done, in this
 * order: nft's ends once it has them; stdin after the script, so nft sees
 * its end; its output after the first read, before waiting, so that an nft
 * with more to say gets EPIPE instead of blocking us both.
 *
 * Return: 0, or -1 when nft failed or could not run.
 */
static int rt_nft(const char *script, char *errbuf, size_t errlen)
{
	cove_cleanup_close int in_rd = -1, in_wr = -1;
	cove_cleanup_close int out_rd = -1, out_wr = -1;
	ssize_t n;
	pid_t pid;
	int status;

	if (cove_pipe(&in_rd, &in_wr) < 0 || cove_pipe(&out_rd, &out_wr) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in_rd, 0);
		dup2(out_wr, 1);
		dup2(out_wr, 2);
		execlp("nft", "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	cove_closep(&in_rd);
	cove_closep(&out_wr);
	if (pid > 0)
		(void)!write(in_wr, script, strlen(script));
	cove_closep(&in_wr);
	n = pid > 0 && errbuf ? read(out_rd, errbuf, errlen - 1) : 0;
	if (errbuf)
		errbuf[n > 0 ? n : 0] = '\0';
	cove_closep(&out_rd);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/**
 * rt_publish_v6() - the IPv6 half of the rules: table ip6 cove_XXXXXXXX
 * @o:		options (the IPv6 address, ports)
 * @table:	the table's name (the IPv4 one's)
 * @out:	appended to the script
 * @cap:	room in @out
 *
 * The same DNAT as for IPv4, to [ip6]:PORT, for clients that reach a
 * local IPv6 address of the host (any but ::1). Linux never lets a packet
 * from ::1 leave by another interface than lo (IPv6 has no
 * route_localnet), so [::1]:HOST is left alone: a client there gets the
 * host's own answer (a reset) at once, not a DNAT into a black hole.
 */
static void rt_publish_v6(const struct sbx_opts *o, const char *table,
			  char *out, size_t cap)
{
	char rules[3072] = "", ip6[INET6_ADDRSTRLEN];
	size_t off = 0;
	unsigned i;

	inet_ntop(AF_INET6, &o->ip6, ip6, sizeof(ip6));
	for (i = 0; i < o->npublish; i++)
		off += (size_t)snprintf(
			rules + off, sizeof(rules) - off,
			"\t\tfib daddr type local tcp dport %u dnat to [%s]:%u\n",
			o->publish[i].host_port, ip6, o->publish[i].port);
	snprintf(out, cap,
		 "table ip6 %s {\n"
		 "\tchain pre {\n\t\ttype nat hook prerouting priority dstnat;\n%s\t}\n"
		 "\tchain out {\n\t\ttype nat hook output priority -100;\n"
		 "\t\tip6 daddr ::1 return\n%s\t}\n"
		 "}\n",
		 table, rules, rules);
}

/**
 * rt_publish_add() - the sandbox's nft table: DNAT each --publish host port
 * @o:		options (address, ports); the host end of the veth must exist
 *		(its route_localnet is switched on here)
 * @err:	reason, with nft's first line of complaint
 *
 * The table is made in one nft transaction, so a failure leaves none.
 *
 * Return: 0 or -1.
 */
int rt_publish_add(const struct sbx_opts *o, struct cove_err *err)
{
	char script[16384], table[32], host[16], peer[16], ip[INET_ADDRSTRLEN];
	char rules[2048] = "", errbuf[256], path[96];
	size_t off = 0, len;
	unsigned i;
	int fd;

	rt_table_name(o->ip, table, sizeof(table));
	sbx_veth_names(o->ip, host, peer);
	inet_ntop(AF_INET, &o->ip, ip, sizeof(ip));
	for (i = 0; i < o->npublish; i++)
		off += (size_t)snprintf(
			rules + off, sizeof(rules) - off,
			"\t\tfib daddr type local tcp dport %u dnat to %s:%u\n",
			o->publish[i].host_port, ip, o->publish[i].port);
	len = (size_t)snprintf(
		script, sizeof(script),
		"table ip %s {\n"
		"\tchain pre {\n\t\ttype nat hook prerouting priority dstnat;\n%s\t}\n"
		"\tchain out {\n\t\ttype nat hook output priority -100;\n%s\t}\n"
		"\tchain post {\n\t\ttype nat hook postrouting priority srcnat;\n"
		"\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n\t}\n"
		"}\n",
		table, rules, rules, host);
	if (o->have_ip6)
		rt_publish_v6(o, table, script + len, sizeof(script) - len);
	snprintf(path, sizeof(path),
		 "/proc/sys/net/ipv4/conf/%s/route_localnet", host);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "1", 1);
		close(fd);
	}
	if (rt_nft(script, errbuf, sizeof(errbuf)) < 0) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		return cove_err_set(err, EIO, "--publish: nft failed%s%s",
				    errbuf[0] ? ": " :
						" (is nftables installed?)",
				    errbuf);
	}
	return 0;
}

/* rt_publish_del() - delete the sandbox's nft tables; idempotent. */
void rt_publish_del(struct in_addr ip)
{
	char script[192], table[32];

	rt_table_name(ip, table, sizeof(table));
	/* Adding an empty table first makes "delete" succeed whether or not
	 * the sandbox had IPv6, in one transaction. */
	snprintf(script, sizeof(script),
		 "table ip %s {}\ndelete table ip %s\n"
		 "table ip6 %s {}\ndelete table ip6 %s\n",
		 table, table, table, table);
	(void)rt_nft(script, NULL, 0);
}
