/* SPDX-License-Identifier: Apache-2.0 */
/* The xdp link's kernel side: its XDP program, XSKMAP and attachment. */
#ifndef COVE_LINKS_XDP_XDP_H
#define COVE_LINKS_XDP_XDP_H

#include <stdbool.h>
#include <stdint.h>

/* How the program is attached ("mode=" of the link spec). */
enum xl_mode {
	XL_MODE_AUTO,	 /* native, or generic if the driver has no XDP */
	XL_MODE_NATIVE,	 /* in the driver (XDP_FLAGS_DRV_MODE) */
	XL_MODE_GENERIC, /* after the skb is built (XDP_FLAGS_SKB_MODE) */
};

/* The program of one link and the fds that keep it alive. */
struct xl_prog {
	int map_fd;  /* XSKMAP: rx queue index -> AF_XDP socket */
	int prog_fd; /* the program */
	int link_fd; /* bpf_link to the interface; closing it detaches */
	bool native; /* attached in driver mode */
};

/**
 * xl_prog_attach() - load the redirect program and attach it to @ifindex
 * @xp:		filled; fds are -1 on entry and stay -1 for what failed
 * @ifindex:	interface
 * @queue:	the rx queue whose frames go to the socket
 * @mode:	native, generic, or native falling back to generic
 * @what:	set to the step that failed
 *
 * The program sends frames of @queue to the socket in the map (none yet:
 * until xl_prog_add_socket() they go to the kernel stack as before).
 *
 * Return: 0 or a negative errno; xl_prog_detach() cleans up either way.
 */
int xl_prog_attach(struct xl_prog *xp, unsigned ifindex, uint32_t queue,
		   enum xl_mode mode, const char **what);

/**
 * xl_prog_add_socket() - point @queue's map entry at @xsk_fd
 * @xp:		attached program
 * @queue:	rx queue
 * @xsk_fd:	AF_XDP socket bound to that queue
 *
 * Return: 0 or a negative errno.
 */
int xl_prog_add_socket(struct xl_prog *xp, uint32_t queue, int xsk_fd);

/**
 * xl_prog_detach() - detach and unload; safe on a partly attached @xp
 * @xp:	program (fds reset to -1)
 */
void xl_prog_detach(struct xl_prog *xp);

#endif /* COVE_LINKS_XDP_XDP_H */
