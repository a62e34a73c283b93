// SPDX-License-Identifier: Apache-2.0
/* cove run gives up root's powers once the sandbox is made. */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * Set-up needs root (the cgroup, the sentry's namespaces, the veth, the
 * nft table, /proc/sys). Once the program runs, `cove run` only waits for
 * it, forwards signals to the sentry and tears down, so rt_drop_privs()
 * keeps only what the teardown (rt_release() in runtime.c, gc's helpers
 * it shares) needs, in the effective, permitted and bounding sets, none
 * inheritable or ambient, and sets no_new_privs:
 *
 *  - CAP_NET_ADMIN: deleting the host end of the veth over rtnetlink
 *    (rt_detach_host()), and the --publish nft table (rt_publish_del();
 *    nft, exec'd as root, gets at most this set, the bounding set's);
 *  - CAP_SYS_ADMIN, only with --netns on a link-based stack: setns() into
 *    the caller's netns to undo a killed sentry's qdisc and XDP program
 *    there (rt_netns_undo()).
 *
 * What needs no capability: signals to the sentry, and killing it (both
 * are uid 0, so kill()'s uid rule allows it without CAP_KILL); waiting for
 * it; removing the cgroup's directories, the state dir and its lock
 * (owned by root, so the owner's mode bits suffice without
 * CAP_DAC_OVERRIDE). A failure to drop ends the run (fail closed).
 */

/**
 * rt_keep_caps() - the capabilities teardown needs for @o
 * @o:		options
 * @caps:	filled with CAP_* numbers
 * @max:	room in @caps (at least 2)
 *
 * Return: how many.
 */
unsigned rt_keep_caps(const struct sbx_opts *o, int *caps, unsigned max)
{
	unsigned n = 0;

	if (n < max)
		caps[n++] = CAP_NET_ADMIN;
	if (n < max && o->netns_path && o->mode == SBX_NET_STACK &&
	    strcmp(o->network, "kernel"))
		caps[n++] = CAP_SYS_ADMIN;
	return n;
}

/* rt_cap_in() - is @cap one of the @n in @caps? */
static bool rt_cap_in(int cap, const int *caps, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (caps[i] == cap)
			return true;
	return false;
}

/**
 * rt_drop_privs() - keep only what teardown needs (see above)
 * @o:		options (which teardown steps may run)
 * @err:	the step that failed
 *
 * Return: 0 or -1.
 */
int rt_drop_privs(const struct sbx_opts *o, struct cove_err *err)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int caps[4], cap;
	unsigned n = rt_keep_caps(o, caps, 4);

	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!rt_cap_in(cap, caps, n) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return cove_err_set(err, errno,
					    "dropping capability %d from the "
					    "bounding set",
					    cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return cove_err_set(err, errno,
				    "clearing ambient capabilities");
	memset(d, 0, sizeof(d));
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (rt_cap_in(cap, caps, n)) {
			d[cap / 32].effective |= 1u << (cap % 32);
			d[cap / 32].permitted |= 1u << (cap % 32);
		}
	if (syscall(SYS_capset, &h, d) < 0)
		return cove_err_set(err, errno, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cove_err_set(err, errno, "no_new_privs");
	return 0;
}
