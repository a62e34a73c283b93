// SPDX-License-Identifier: Apache-2.0
/* dpdk: the link's argument grammar and the process-wide EAL start-up. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "links/dpdk/dpdk.h"

/*
 * Theory of operation
 *
 * DPDK's Environment Abstraction Layer is process-global: rte_eal_init()
 * runs once per process and cannot run again, even after
 * rte_eal_cleanup(). So this file keeps the one piece of file-scope state
 * in the links: whether the EAL is up (and with how much memory), or the
 * error it failed with, which every later attempt reports again. The EAL
 * stays up until the process exits; devices come and go under it with
 * rte_dev_probe() / rte_dev_remove() (dpdk_link.c), so one process may
 * open a dpdk link, close it and open another (one at a time).
 *
 * The EAL is started the same way for every device:
 *
 *  --no-huge -m MB    anonymous memory instead of hugepages, sized once by
 *                     the first link's mem= (default DPDK_MEM_MB_DEFAULT);
 *  --no-shconf        no shared config files: no secondary processes;
 *  --no-telemetry     no telemetry socket or thread;
 *  --lcores 0@(CPUS)  one lcore, allowed on the CPUs the process already
 *                     runs on, so the EAL does not pin the calling thread
 *                     to one core or start workers;
 *  --no-pci           unless the first link names a PCI device, which is
 *                     then the only one the EAL probes (-a DEVARGS).
 *
 * Drivers: Debian builds DPDK as shared libraries and its EAL loads every
 * driver in its plugin directory (RTE_EAL_PMD_PATH, here
 * /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0) at start-up, so the PMDs
 * (net_af_packet, net_tap, net_af_xdp, vfio-pci NIC drivers, the ring
 * mempool) register without -d options or linking them. That costs some
 * 0.2 s of start-up for its 128 libraries.
 *
 * DPDK logs through a stream of ours (rte_openlog_stream): the first line
 * at RTE_LOG_ERR or worse since the last look (usually the cause; later
 * lines say who gave up) is what a failed open puts in its error message; the rest is dropped, unless COVE_DPDK_LOG is set
 * in the environment, which copies every line to stderr.
 */

static struct {
	int state; /* 0: not tried, 1: up, -1: failed with @err */
	uint32_t mem_mb;
	struct cove_err err;
	char last[200]; /* first ERR line since dpdk_last_log() */
	char line[200]; /* line being assembled */
	size_t line_len;
	int line_level;
	bool echo;
} dpdk_eal;

/* dpdk_log_write() - DPDK's log stream: keep the last error line. */
static ssize_t dpdk_log_write(void *cookie, const char *buf, size_t size)
{
	size_t i;

	(void)cookie;
	if (dpdk_eal.echo)
		(void)!fwrite(buf, 1, size, stderr);
	if (!dpdk_eal.line_len)
		dpdk_eal.line_level = rte_log_cur_msg_loglevel();
	for (i = 0; i < size; i++) {
		if (buf[i] != '\n') {
			if (dpdk_eal.line_len < sizeof(dpdk_eal.line) - 1)
				dpdk_eal.line[dpdk_eal.line_len++] = buf[i];
			continue;
		}
		dpdk_eal.line[dpdk_eal.line_len] = 0;
		if (dpdk_eal.line_level <= (int)RTE_LOG_ERR &&
		    dpdk_eal.line_len && !dpdk_eal.last[0])
			memcpy(dpdk_eal.last, dpdk_eal.line,
			       dpdk_eal.line_len + 1);
		dpdk_eal.line_len = 0;
		dpdk_eal.line_level = rte_log_cur_msg_loglevel();
	}
	return (ssize_t)size;
}

void dpdk_last_log(char *buf, unsigned len)
{
	snprintf(buf, len, "%s", dpdk_eal.last);
	dpdk_eal.last[0] = 0;
}

/* dpdk_is_pci() - does @dev look like a PCI address (DDDD:BB:DD.F, BB:DD.F)? */
static bool dpdk_is_pci(const char *dev)
{
	unsigned a, b, c, d;
	int n = -1;

	if (sscanf(dev, "%x:%x:%x.%x%n", &a, &b, &c, &d, &n) == 4 &&
	    n == (int)strlen(dev))
		return true;
	n = -1;
	return sscanf(dev, "%x:%x.%x%n", &a, &b, &c, &n) == 3 &&
	       n == (int)strlen(dev);
}

/* dpdk_num() - parse the decimal value of option @key into @v (lo..hi). */
static int dpdk_num(const char *arg, const char *key, const char *val,
		    uint32_t lo, uint32_t hi, uint32_t *v, struct cove_err *err)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(val, &end, 10);
	if (errno || end == val || *end || *val == '-' || x < lo || x > hi)
		return cove_err_set(err, EINVAL,
				    "dpdk:%s: %s wants a number from %u to %u, "
				    "not '%s'",
				    arg, key, lo, hi, val);
	*v = (uint32_t)x;
	return 0;
}

/* dpdk_onoff() - parse "on"/"off" for option @key into @v. */
static int dpdk_onoff(const char *arg, const char *key, const char *val,
		      bool *v, struct cove_err *err)
{
	if (!strcmp(val, "on") || !strcmp(val, "off")) {
		*v = !strcmp(val, "on");
		return 0;
	}
	return cove_err_set(err, EINVAL, "dpdk:%s: %s is on or off, not '%s'",
			    arg, key, val);
}

int dpdk_parse(const char *arg, struct dpdk_opts *o, struct cove_err *err)
{
	char buf[sizeof(o->devargs)], *tok, *save = NULL;
	size_t off = 0;
	int ret = 0;

	*o = (struct dpdk_opts){
		.mem_mb = DPDK_MEM_MB_DEFAULT,
		.empty_polls = DPDK_EMPTY_POLLS_DEFAULT,
		.sleep_max_us = DPDK_SLEEP_MAX_US_DEFAULT,
		.intr = true,
		.offload = true,
	};
	if (strlen(arg) >= sizeof(buf))
		return cove_err_set(err, EINVAL, "dpdk:%.40s...: too long",
				    arg);
	if (!*arg || *arg == ',')
		return cove_err_set(err, EINVAL,
				    "dpdk:%s: no device (dpdk:net_af_packet0,"
				    "iface=IF, dpdk:net_tap0,iface=IF, "
				    "dpdk:0000:01:00.0, ...)",
				    arg);
	memcpy(buf, arg, strlen(arg) + 1);
	for (tok = strtok_r(buf, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (!off) {
			if (val || strlen(tok) >= sizeof(o->dev))
				return cove_err_set(
					err, EINVAL,
					"dpdk:%s: '%s' is not a device name",
					arg, tok);
			memcpy(o->dev, tok, strlen(tok) + 1);
		} else if (val && !strncmp(tok, "mem=", 4)) {
			ret = dpdk_num(arg, "mem", val + 1, 1, 1u << 16,
				       &o->mem_mb, err);
			continue;
		} else if (val && !strncmp(tok, "empty_polls=", 12)) {
			ret = dpdk_num(arg, "empty_polls", val + 1, 1, 1u << 24,
				       &o->empty_polls, err);
			continue;
		} else if (val && !strncmp(tok, "sleep_max=", 10)) {
			ret = dpdk_num(arg, "sleep_max", val + 1, 10, 1000000,
				       &o->sleep_max_us, err);
			continue;
		} else if (val && !strncmp(tok, "intr=", 5)) {
			ret = dpdk_onoff(arg, "intr", val + 1, &o->intr, err);
			continue;
		} else if (val && !strncmp(tok, "offload=", 8)) {
			ret = dpdk_onoff(arg, "offload", val + 1, &o->offload,
					 err);
			continue;
		}
		/* fits: the devargs are never longer than @arg */
		off += (size_t)snprintf(o->devargs + off,
					sizeof(o->devargs) - off, "%s%s",
					off ? "," : "", tok);
	}
	if (ret < 0)
		return ret;
	o->pci = dpdk_is_pci(o->dev);
	return 0;
}

/* dpdk_cpu_list() - "a,b,c": the CPUs this thread may run on. */
static void dpdk_cpu_list(char *buf, size_t len)
{
	cpu_set_t set;
	size_t off = 0;
	int cpu;

	buf[0] = 0;
	if (sched_getaffinity(0, sizeof(set), &set)) {
		snprintf(buf, len, "0");
		return;
	}
	for (cpu = 0; cpu < CPU_SETSIZE && off < len; cpu++)
		if (CPU_ISSET(cpu, &set))
			off += (size_t)snprintf(buf + off, len - off, "%s%d",
						off ? "," : "", cpu);
}

int dpdk_eal_start(const struct dpdk_opts *o, const char *arg,
		   struct cove_err *err)
{
	static char mem[16], lcores[600], devargs[sizeof(o->devargs)];
	static char *argv[16];
	char cpus[512], why[sizeof(dpdk_eal.last)];
	cookie_io_functions_t io = { .write = dpdk_log_write };
	FILE *log;
	int argc = 0;

	if (dpdk_eal.state > 0)
		return 0;
	if (dpdk_eal.state < 0) {
		if (err)
			*err = dpdk_eal.err;
		return -1;
	}
	dpdk_eal.echo = getenv("COVE_DPDK_LOG") != NULL;
	log = fopencookie(NULL, "w", io);
	if (log) {
		setvbuf(log, NULL, _IOLBF, 0);
		rte_openlog_stream(log);
	}
	snprintf(mem, sizeof(mem), "%u", o->mem_mb);
	dpdk_cpu_list(cpus, sizeof(cpus));
	snprintf(lcores, sizeof(lcores), "0@(%s)", cpus);
	snprintf(devargs, sizeof(devargs), "%s", o->devargs);
	argv[argc++] = "cove-dpdk";
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc++] = "--no-shconf";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	if (o->pci) {
		argv[argc++] = "-a";
		argv[argc++] = devargs;
	} else {
		argv[argc++] = "--no-pci";
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		int code = rte_errno ? rte_errno : EINVAL;

		dpdk_last_log(why, sizeof(why));
		cove_err_set(&dpdk_eal.err, code,
			     "dpdk:%s: DPDK's EAL did not start (--no-huge -m "
			     "%u, mem=): %s",
			     arg, o->mem_mb, *why ? why : rte_strerror(code));
		dpdk_eal.state = -1;
		if (err)
			*err = dpdk_eal.err;
		return -1;
	}
	dpdk_eal.state = 1;
	dpdk_eal.mem_mb = o->mem_mb;
	return 0;
}
