// SPDX-License-Identifier: Apache-2.0
/* rtnetlink over libmnl: veth pairs, addresses, routes, an ingress drop. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "netlink/netlink.h"

/*
 * Theory of operation
 *
 * Every request is one message with NLM_F_ACK, sent and answered
 * synchronously (cove_nl_talk()): the kernel's ack carries the errno, and
 * one page-sized buffer per call is enough. The one dump (the routes,
 * cove_nl_route_list()) collects into a growing array until NLMSG_DONE.
 * These run only during set-up and clean-up, never on the data path.
 */

int cove_nl_open(struct cove_nl *nl, struct cove_err *err)
{
	nl->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->nl)
		return cove_err_set(err, errno, "netlink");
	if (mnl_socket_bind(nl->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl->nl);
		nl->nl = NULL;
		return cove_err_set(err, e, "netlink bind");
	}
	nl->portid = mnl_socket_get_portid(nl->nl);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void cove_nl_close(struct cove_nl *nl)
{
	if (nl->nl)
		mnl_socket_close(nl->nl);
	nl->nl = NULL;
}

/* cove_nl_talk() - send @nlh, wait for its ack; Return: 0 or negative errno. */
static int cove_nl_talk(struct cove_nl *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, nl->seq, nl->portid, NULL,
				 NULL);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int cove_nl_ifindex(struct cove_nl *nl, const char *name)
{
	(void)nl;
	return (int)if_nametoindex(name);
}

/* cove_nl_link_msg() - start an RTM_*LINK message for @ifindex in @buf. */
static struct nlmsghdr *cove_nl_link_msg(char *buf, uint16_t type,
					 uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int cove_nl_veth_add(struct cove_nl *nl, const char *name, const char *peer,
		     pid_t peer_ns_pid, struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = cove_nl_link_msg(buf, RTM_NEWLINK,
						NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *linkinfo, *data, *peerinfo;
	struct ifinfomsg *pifi;
	int ret;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = (struct ifinfomsg *)((char *)nlh + nlh->nlmsg_len);
	memset(pifi, 0, sizeof(*pifi));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_ns_pid > 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)peer_ns_pid);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0)
		return cove_err_set(err, -ret, "cannot create veth %s/%s", name,
				    peer);
	return 0;
}

int cove_nl_link_del(struct cove_nl *nl, const char *name, struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = cove_nl_link_msg(buf, RTM_DELLINK, 0, 0);
	int ret;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0)
		return cove_err_set(err, -ret, "cannot delete link %s", name);
	return 0;
}

int cove_nl_link_set(struct cove_nl *nl, int ifindex, const char *new_name,
		     bool up, struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = cove_nl_link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	int ret;

	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (new_name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, new_name);
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0)
		return cove_err_set(err, -ret, "cannot set link %d%s%s",
				    ifindex, new_name ? " name " : "",
				    new_name ? new_name : "");
	return 0;
}

int cove_nl_addr_add(struct cove_nl *nl, int ifindex, struct in_addr addr,
		     uint8_t prefix, struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	int ret;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0)
		return cove_err_set(err, -ret, "cannot add address");
	return 0;
}

/* cove_nl_route_msg() - start an RTM_NEWROUTE for @dst/@prefix in main. */
static struct nlmsghdr *cove_nl_route_msg(char *buf, uint16_t flags,
					  struct in_addr dst, uint8_t prefix,
					  uint8_t type, uint8_t scope)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = scope;
	rtm->rtm_type = type;
	if (prefix)
		mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	return nlh;
}

int cove_nl_route_add(struct cove_nl *nl, struct in_addr dst, uint8_t prefix,
		      struct in_addr gw, int ifindex, struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = cove_nl_route_msg(buf, NLM_F_CREATE | NLM_F_REPLACE, dst, prefix,
				RTN_UNICAST,
				gw.s_addr ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	if (gw.s_addr)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0)
		return cove_err_set(err, -ret, "cannot add route");
	return 0;
}

int cove_nl_addr6_add(struct cove_nl *nl, int ifindex,
		      const struct in6_addr *addr, uint8_t prefix,
		      struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	int ret;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(*addr), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(*addr), addr);
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0)
		return cove_err_set(err, -ret, "cannot add IPv6 address");
	return 0;
}

/* cove_nl_route6_msg() - start an RTM_NEWROUTE for @dst/@prefix (IPv6). */
static struct nlmsghdr *cove_nl_route6_msg(char *buf, uint16_t flags,
					   const struct in6_addr *dst,
					   uint8_t prefix, uint8_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE; /* IPv6 routes have no scope */
	rtm->rtm_type = type;
	if (prefix)
		mnl_attr_put(nlh, RTA_DST, sizeof(*dst), dst);
	return nlh;
}

int cove_nl_route6_add(struct cove_nl *nl, const struct in6_addr *dst,
		       uint8_t prefix, const struct in6_addr *gw, int ifindex,
		       struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = cove_nl_route6_msg(buf, NLM_F_CREATE | NLM_F_REPLACE, dst, prefix,
				 RTN_UNICAST);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(*gw), gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0)
		return cove_err_set(err, -ret, "cannot add IPv6 route");
	return 0;
}

int cove_nl_route6_fence(struct cove_nl *nl, const struct in6_addr *dst,
			 uint8_t prefix, struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret;

	ret = cove_nl_talk(nl,
			   cove_nl_route6_msg(buf, NLM_F_CREATE | NLM_F_EXCL,
					      dst, prefix, RTN_UNREACHABLE));
	if (ret < 0 && ret != -EEXIST)
		return cove_err_set(
			err, -ret,
			"cannot add the IPv6 pool's unreachable route");
	return 0;
}

/* The routes being collected by cove_nl_route_list(). */
struct cove_nl_routes {
	struct cove_nl_route *r;
	unsigned n, cap;
	int err;	/* 0, or ENOMEM */
	uint8_t family; /* AF_INET or AF_INET6 */
};

/* cove_nl_route_attr() - keep RTA_DST, RTA_OIF and RTA_TABLE of a route. */
static int cove_nl_route_attr(const struct nlattr *a, void *data)
{
	struct cove_nl_route *r = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == RTA_DST && mnl_attr_get_payload_len(a) == sizeof(r->dst))
		memcpy(&r->dst, mnl_attr_get_payload(a), sizeof(r->dst));
	else if (type == RTA_DST &&
		 mnl_attr_get_payload_len(a) == sizeof(r->dst6))
		memcpy(&r->dst6, mnl_attr_get_payload(a), sizeof(r->dst6));
	else if (type == RTA_OIF && !mnl_attr_validate(a, MNL_TYPE_U32))
		r->oif = (int)mnl_attr_get_u32(a);
	else if (type == RTA_TABLE && !mnl_attr_validate(a, MNL_TYPE_U32))
		r->table = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* cove_nl_route_one() - one RTM_NEWROUTE of the dump into the array. */
static int cove_nl_route_one(const struct nlmsghdr *nlh, void *data)
{
	struct cove_nl_routes *rs = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct cove_nl_route r = { .dst = { 0 } };

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm) ||
	    rtm->rtm_family != rs->family)
		return MNL_CB_OK;
	r.prefix = rtm->rtm_dst_len;
	r.type = rtm->rtm_type;
	r.table = rtm->rtm_table;
	mnl_attr_parse(nlh, sizeof(*rtm), cove_nl_route_attr, &r);
	if (rs->n == rs->cap) {
		unsigned cap = rs->cap ? rs->cap * 2 : 64;
		struct cove_nl_route *nr = realloc(rs->r, cap * sizeof(*nr));

		if (!nr) {
			rs->err = ENOMEM;
			return MNL_CB_ERROR;
		}
		rs->r = nr;
		rs->cap = cap;
	}
	rs->r[rs->n++] = r;
	return MNL_CB_OK;
}

/* cove_nl_routes_of() - the dump of cove_nl_route_list() for @family. */
static int cove_nl_routes_of(struct cove_nl *nl, uint8_t family,
			     struct cove_nl_route **out, unsigned *n,
			     struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cove_nl_routes rs = { NULL, 0, 0, 0, family };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	ssize_t got;
	int ret;

	*out = NULL;
	*n = 0;
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++nl->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	if (mnl_socket_sendto(nl->nl, nlh, nlh->nlmsg_len) < 0)
		return cove_err_set(err, errno, "netlink: listing routes");
	do {
		got = mnl_socket_recvfrom(nl->nl, buf, sizeof(buf));
		ret = got < 0 ? -1 :
				mnl_cb_run(buf, (size_t)got, nl->seq,
					   nl->portid, cove_nl_route_one, &rs);
	} while (ret > MNL_CB_STOP);
	if (ret < 0) {
		int e = rs.err ? rs.err : errno;

		free(rs.r);
		return cove_err_set(err, e, "netlink: listing routes");
	}
	*out = rs.r;
	*n = rs.n;
	return 0;
}

int cove_nl_route_list(struct cove_nl *nl, struct cove_nl_route **out,
		       unsigned *n, struct cove_err *err)
{
	return cove_nl_routes_of(nl, AF_INET, out, n, err);
}

int cove_nl_route6_list(struct cove_nl *nl, struct cove_nl_route **out,
			unsigned *n, struct cove_err *err)
{
	return cove_nl_routes_of(nl, AF_INET6, out, n, err);
}

int cove_nl_route_fence(struct cove_nl *nl, struct in_addr dst, uint8_t prefix,
			struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret;

	ret = cove_nl_talk(nl, cove_nl_route_msg(buf, NLM_F_CREATE | NLM_F_EXCL,
						 dst, prefix, RTN_UNREACHABLE,
						 RT_SCOPE_UNIVERSE));
	if (ret < 0 && ret != -EEXIST)
		return cove_err_set(err, -ret,
				    "cannot add the pool's unreachable route");
	return 0;
}

/*
 * sbx_bpf_tc_prog() - load a tc classifier: drop everything, or redirect
 * everything to the egress of interface @to
 * @to:		0 for "return TC_ACT_SHOT", else an ifindex for
 *		"return bpf_redirect(to, 0)"
 *
 * This kernel has cls_bpf but neither matchall nor gact nor a usable
 * mirred-without-match, so both are tiny BPF programs in direct-action
 * mode. Return: the program fd, or negative errno.
 */
static int sbx_bpf_tc_prog(int to)
{
	struct bpf_insn drop[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_0,
		  .imm = TC_ACT_SHOT },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_insn redirect[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_1,
		  .imm = to },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_2,
		  .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	attr.insn_cnt = to ? 4 : 2;
	attr.insns = (uint64_t)(uintptr_t)(to ? redirect : drop);
	attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
	strncpy(attr.prog_name, "cove_drop", sizeof(attr.prog_name) - 1);
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

int cove_nl_ingress_drop(struct cove_nl *nl, int ifindex, struct cove_err *err)
{
	return cove_nl_ingress_redirect(nl, ifindex, 0, err);
}

int cove_nl_ingress_redirect(struct cove_nl *nl, int ifindex, int to,
			     struct cove_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *opts;
	struct tcmsg *tcm;
	int ret, prog;

	nlh->nlmsg_type = RTM_NEWQDISC;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	tcm->tcm_parent = TC_H_CLSACT;
	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	ret = cove_nl_talk(nl, nlh);
	if (ret < 0 && ret != -EEXIST)
		return cove_err_set(err, -ret, "tc clsact qdisc");

	prog = sbx_bpf_tc_prog(to);
	if (prog < 0)
		return cove_err_set(err, -prog, "tc drop program");
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWTFILTER;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	tcm->tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, (uint32_t)prog);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, "cove_drop");
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, opts);
	ret = cove_nl_talk(nl, nlh);
	close(prog);
	if (ret < 0)
		return cove_err_set(err, -ret, "tc ingress drop filter");
	return 0;
}

int cove_nl_qdisc_del_clsact(struct cove_nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;

	nlh->nlmsg_type = RTM_DELQDISC;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	tcm->tcm_parent = TC_H_CLSACT;
	return cove_nl_talk(nl, nlh);
}

int cove_nl_xdp_detach(struct cove_nl *nl, int ifindex)
{
	static const uint32_t modes[] = { XDP_FLAGS_DRV_MODE,
					  XDP_FLAGS_SKB_MODE };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *xdp;
	unsigned i;
	int ret = 0, r;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		nlh = cove_nl_link_msg(buf, RTM_SETLINK, 0, ifindex);
		xdp = mnl_attr_nest_start(nlh, IFLA_XDP);
		mnl_attr_put_u32(nlh, IFLA_XDP_FD, (uint32_t)-1);
		mnl_attr_put_u32(nlh, IFLA_XDP_FLAGS, modes[i]);
		mnl_attr_nest_end(nlh, xdp);
		r = cove_nl_talk(nl, nlh);
		if (r < 0 && !ret)
			ret = r;
	}
	return ret;
}
