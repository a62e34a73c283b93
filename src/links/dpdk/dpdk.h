/* SPDX-License-Identifier: Apache-2.0 */
/* dpdk: link internals shared by the EAL start-up and the link itself. */
#ifndef COVE_LINKS_DPDK_H
#define COVE_LINKS_DPDK_H

#include <stdbool.h>
#include <stdint.h>

#include "cove/err.h"

/* The options "dpdk:DEVARGS[,OPT...]" takes for itself (the rest goes to DPDK). */
struct dpdk_opts {
	char devargs[256];    /* what rte_dev_probe() or -a gets */
	char dev[128];	      /* the device name: devargs up to the first ',' */
	bool pci;	      /* @dev is a PCI address */
	uint32_t mem_mb;      /* mem=MB: EAL memory (first link only) */
	uint32_t empty_polls; /* empty_polls=N: empty polls before sleeping */
	uint32_t sleep_max_us; /* sleep_max=US: cap of the adaptive sleep */
	bool intr;	       /* intr=off: never arm the Rx interrupt */
	bool offload;	       /* offload=off: no checksum/TSO offloads */
};

#define DPDK_MEM_MB_DEFAULT	  64u
#define DPDK_EMPTY_POLLS_DEFAULT  128u
#define DPDK_SLEEP_MAX_US_DEFAULT 10000u

/**
 * dpdk_parse() - split a link argument into DPDK's devargs and our options
 * @arg:	text after "dpdk:"
 * @o:		filled on success (defaults for what @arg leaves out)
 * @err:	one line naming the bad part
 *
 * Return: 0 or < 0 with @err set.
 */
int dpdk_parse(const char *arg, struct dpdk_opts *o, struct cove_err *err);

/**
 * dpdk_eal_start() - start DPDK's EAL once per process (no hugepages)
 * @o:		the first link's options (memory, PCI device to allow)
 * @arg:	its argument, for messages
 * @err:	filled on failure, with DPDK's last error message
 *
 * A second call returns 0 at once if the EAL runs, or the first failure
 * again: DPDK cannot start its EAL twice in one process.
 *
 * Return: 0 or < 0 with @err set.
 */
int dpdk_eal_start(const struct dpdk_opts *o, const char *arg,
		   struct cove_err *err);

/**
 * dpdk_last_log() - DPDK's last error-or-worse log line since start-up
 * @buf:	filled (empty if DPDK said nothing)
 * @len:	its size
 *
 * Reading clears it, so the next failure gets a fresh one.
 */
void dpdk_last_log(char *buf, unsigned len);

#endif /* COVE_LINKS_DPDK_H */
