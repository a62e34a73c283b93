/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the link back ends: interface queries, clock, naming. */
#ifndef COVE_LINKS_LINKS_H
#define COVE_LINKS_LINKS_H

#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/err.h"
#include "cove/link.h"

/* Largest Ethernet header we accept on top of the IP MTU (with one VLAN tag). */
#define LINKS_ETH_HLEN	    14u
#define LINKS_ETH_VLAN_HLEN 18u

/**
 * links_ifname_check() - validate an interface name given as link argument
 * @kind:	link kind, for the message ("tap")
 * @ifname:	the name
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set (empty, too long, '/' or whitespace).
 */
int links_ifname_check(const char *kind, const char *ifname,
		       struct cove_err *err);

/* One "name=value" option of a link spec and the flag it sets. */
struct links_opt {
	const char *text; /* "offload=off" */
	bool *field;
	bool value;
};

/**
 * links_parse_spec() - split "IFNAME[,OPT...]" into a name and options
 * @kind:	link kind, for messages ("packet")
 * @arg:	text after "kind:"
 * @ifname:	set to the checked interface name
 * @known:	the options this kind takes; each one seen sets its field
 *		(the last of conflicting ones wins)
 * @nknown:	their count
 * @err:	one line naming the unknown option and the known ones
 *
 * Return: 0 or < 0 with @err set.
 */
int links_parse_spec(const char *kind, const char *arg, char ifname[IFNAMSIZ],
		     const struct links_opt *known, size_t nknown,
		     struct cove_err *err);

/**
 * links_if_mtu() - read an interface's MTU (SIOCGIFMTU)
 * @ifname:	interface
 * @mtu:	set on success
 *
 * Return: 0 or negative errno.
 */
int links_if_mtu(const char *ifname, uint32_t *mtu);

/**
 * links_if_mac() - read an interface's hardware address (SIOCGIFHWADDR)
 * @ifname:	interface
 * @mac:	set on success
 *
 * Return: 0 or negative errno.
 */
int links_if_mac(const char *ifname, uint8_t mac[6]);

/**
 * links_set_name() - fill a link's "kind:arg" name, truncating safely
 * @l:		link
 * @kind:	kind
 * @arg:	argument
 */
void links_set_name(struct cove_link *l, const char *kind, const char *arg);

/**
 * links_csum_fixup() - fill the TCP/UDP checksum of an IPv4 or IPv6 frame
 * in software
 * @frame:	whole Ethernet frame
 * @len:	its length
 *
 * Used when the kernel hands over a frame whose checksum it left for a
 * device to fill (CHECKSUM_PARTIAL seen through AF_PACKET). Frames that are
 * not unfragmented IPv4 TCP/UDP or IPv6 TCP/UDP right after the fixed
 * header, or are truncated, are left untouched.
 *
 * Return: 1 if the checksum was filled, 0 if the frame was left as it was.
 */
int links_csum_fixup(uint8_t *frame, uint32_t len);

/**
 * links_csum_partial() - complete a checksum the way a device would
 * @frame:	whole Ethernet frame
 * @len:	its length
 * @start:	where the summed bytes start (csum_start of a virtio_net_hdr)
 * @off:	where the checksum field is, from @start (csum_offset)
 *
 * The field already holds the pseudo-header sum, as the kernel leaves it
 * for a device (CHECKSUM_PARTIAL): the one's complement of the sum of
 * @frame[@start..@len) goes there (0 sent as 0xffff), like
 * skb_checksum_help(). @start and @off are checked against @len first.
 *
 * Return: 0, or -1 (frame untouched) if they do not fit the frame.
 */
int links_csum_partial(uint8_t *frame, uint32_t len, uint32_t start,
		       uint32_t off);

/**
 * links_vnet_hdr() - the virtio_net_hdr that sends @f with its offload flags
 * @f:		frame to send (COVE_FRAME_F_CSUM_PARTIAL / COVE_FRAME_F_TSO)
 * @vh:		filled; all zero for a frame without offload flags
 *
 * Return: 0, or -EINVAL when the flags do not fit the frame (not IPv4 or
 * IPv6 TCP or UDP, an IPv4 fragment, an IPv6 extension header, truncated
 * headers, TSO on one segment's worth).
 */
int links_vnet_hdr(const struct cove_frame *f, struct virtio_net_hdr *vh);

#endif /* COVE_LINKS_LINKS_H */
