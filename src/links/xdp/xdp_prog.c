// SPDX-License-Identifier: Apache-2.0
/* The xdp link's XDP program: rx queue -> AF_XDP socket, held by a bpf_link. */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include "links/xdp/xdp.h"

/*
 * Theory of operation
 *
 * The program is five instructions, built here rather than compiled from
 * C (no BPF compiler at build time, no object file to find at run time):
 *
 *	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
 *
 * The map is an XSKMAP private to the link with one slot per queue up to
 * the link's. A frame of a queue without a socket (another queue of a
 * multi-queue NIC, or the link's own before the socket is in the map) gets
 * the fallback action XDP_PASS and goes to the kernel stack as it would
 * without the program. The program runs only on the interface it is
 * attached to, so only that interface's traffic can reach the socket.
 *
 * It is attached with a bpf_link (BPF_LINK_CREATE), not through netlink as
 * libxdp's loader does: the kernel detaches a bpf_link's program when the
 * last fd of the link closes, which includes the process dying by SIGKILL.
 * Nothing can stay attached after the link's process is gone, and there
 * is nothing to pin, so no bpffs is needed. The price: the interface must
 * have no other XDP program (a netlink-attached one, libxdp's multi-program
 * dispatcher included, makes the attach fail with EBUSY: one program per
 * interface and mode is all the kernel allows without a dispatcher).
 */

#define XL_LICENSE "Apache-2.0" /* bpf_redirect_map() is not GPL-only */

/* xl_prog_load() - the redirect program over @map_fd; fd or -errno. */
static int xl_prog_load(int map_fd)
{
	const struct bpf_insn insns[] = {
		/* r2 = ctx->rx_queue_index */
		{ .code = BPF_LDX | BPF_MEM | BPF_W,
		  .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1,
		  .off = offsetof(struct xdp_md, rx_queue_index) },
		/* r1 = &xsks_map: a 64-bit immediate over two slots */
		{ .code = BPF_LD | BPF_DW | BPF_IMM,
		  .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = map_fd },
		{ 0 },
		/* r3 = the action when the queue has no socket */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_3,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_prog_load_opts opts = {
		.sz = sizeof(opts),
		.expected_attach_type = BPF_XDP,
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "cove_xsk", XL_LICENSE, insns,
			       sizeof(insns) / sizeof(insns[0]), &opts);

	return fd < 0 ? -errno : fd;
}

/* xl_prog_link() - attach @xp->prog_fd in driver or generic mode. */
static int xl_prog_link(struct xl_prog *xp, unsigned ifindex, bool native)
{
	struct bpf_link_create_opts opts = {
		.sz = sizeof(opts),
		.flags = native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE,
	};
	int fd = bpf_link_create(xp->prog_fd, (int)ifindex, BPF_XDP, &opts);

	if (fd < 0)
		return -errno;
	xp->link_fd = fd;
	xp->native = native;
	return 0;
}

int xl_prog_attach(struct xl_prog *xp, unsigned ifindex, uint32_t queue,
		   enum xl_mode mode, const char **what)
{
	int ret;

	*what = "creating the XSKMAP";
	xp->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "cove_xsks",
				    sizeof(uint32_t), sizeof(uint32_t),
				    queue + 1, NULL);
	if (xp->map_fd < 0) {
		ret = -errno;
		xp->map_fd = -1;
		return ret;
	}
	*what = "loading the XDP program";
	ret = xl_prog_load(xp->map_fd);
	if (ret < 0)
		return ret;
	xp->prog_fd = ret;
	if (mode == XL_MODE_GENERIC) {
		*what = "attaching the XDP program (generic mode)";
		return xl_prog_link(xp, ifindex, false);
	}
	*what = "attaching the XDP program (native mode)";
	ret = xl_prog_link(xp, ifindex, true);
	/* EOPNOTSUPP: the driver has no XDP of its own */
	if (ret == -EOPNOTSUPP && mode == XL_MODE_AUTO) {
		*what = "attaching the XDP program (generic mode)";
		ret = xl_prog_link(xp, ifindex, false);
	}
	return ret;
}

int xl_prog_add_socket(struct xl_prog *xp, uint32_t queue, int xsk_fd)
{
	uint32_t fd = (uint32_t)xsk_fd;

	return bpf_map_update_elem(xp->map_fd, &queue, &fd, BPF_ANY) ? -errno :
								       0;
}

void xl_prog_detach(struct xl_prog *xp)
{
	/* the link first: the program stops running before its map goes */
	if (xp->link_fd >= 0)
		close(xp->link_fd);
	if (xp->prog_fd >= 0)
		close(xp->prog_fd);
	if (xp->map_fd >= 0)
		close(xp->map_fd);
	xp->link_fd = xp->prog_fd = xp->map_fd = -1;
}
