// SPDX-License-Identifier: Apache-2.0
/* Pods: containers joining a network namespace another Cove sandbox is in. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "oci/oci.h"

/*
 * Theory of operation
 *
 * A pod's containers (podman's, Kubernetes') join the network namespace
 * of its infra or sandbox container by path. One user-level stack
 * instance belongs to one sentry: it serves the programs whose seccomp
 * notifications that sentry receives, in that sentry's pid namespace.
 * Each container of a pod is a sandbox of its own, so two of them cannot
 * share a builtin or lwip instance yet, and two instances on the pod's
 * interface would both answer for its address, each with a 127.0.0.1 of
 * its own. So a pod runs on the kernel provider: every container keeps
 * its sentry, which serves its socket calls from kernel sockets of the
 * pod's namespace, and 127.0.0.1 is the pod's. oci_pod_network() finds
 * the sandbox already in the namespace (its sentry's pid under
 * /run/cove, compared by the namespace's inode) and decides;
 * oci_pod_default_network() gives a CRI sandbox container the kernel
 * provider, since its namespace is the pod's.
 */

/**
 * oci_netns_server() - the live Cove sandbox whose sentry is in the
 * network namespace at @path, if any (a pod's infra container, or any
 * sandbox: their state under /run/cove names the sentry's pid)
 * @path:	the spec's network namespace path
 * @name:	set to the sandbox's name
 * @net:	set to its network ("builtin", "kernel", ...)
 * @len:	size of @name and @net
 *
 * Return: true when one was found.
 */
static bool oci_netns_server(const char *path, char *name, char *net,
			     size_t len)
{
	char p[PATH_MAX];
	struct stat want, st;
	struct dirent *de;
	bool found = false;
	FILE *f;
	DIR *d;
	int pid;

	if (stat(path, &want) < 0 || !(d = opendir(SBX_RUN_DIR)))
		return false;
	while (!found && (de = readdir(d))) {
		snprintf(p, sizeof(p), "%s/%s/pid", SBX_RUN_DIR, de->d_name);
		f = de->d_name[0] == '.' ? NULL : fopen(p, "re");
		if (!f)
			continue;
		pid = 0;
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
		snprintf(p, sizeof(p), "/proc/%d/ns/net", pid);
		if (pid <= 0 || stat(p, &st) < 0 || st.st_ino != want.st_ino ||
		    st.st_dev != want.st_dev)
			continue;
		snprintf(name, len, "%s", de->d_name);
		snprintf(p, sizeof(p), "%s/%s/network", SBX_RUN_DIR,
			 de->d_name);
		f = fopen(p, "re");
		if (!f || !fgets(net, (int)len, f))
			snprintf(net, len, "unknown");
		if (f)
			fclose(f);
		net[strcspn(net, "\n")] = '\0';
		found = true;
	}
	closedir(d);
	return found;
}

/* oci_link_stack() - does @net name a stack that takes an interface over? */
static bool oci_link_stack(const char *net)
{
	return strcmp(net, "kernel") && strcmp(net, "host") &&
	       strcmp(net, "none");
}

int oci_pod_network(const struct oci_bundle *b, const char *chosen,
		    const char **network, struct cove_err *err)
{
	char name[256], net[256];

	*network = NULL;
	if (!b->netns || !oci_netns_server(b->netns, name, net, sizeof(name)))
		return 0;
	if (oci_link_stack(net))
		return cove_err_set(err, EBUSY,
				    "linux.namespaces: the network namespace %s "
				    "is served by Cove sandbox %s's %s stack, "
				    "which a second sandbox cannot share (a "
				    "pod: run its containers with "
				    "--network=kernel, see docs/OCI.md)",
				    b->netns, name, net);
	if (chosen && oci_link_stack(chosen))
		return cove_err_set(err, EBUSY,
				    "linux.namespaces: the network namespace %s "
				    "is shared with Cove sandbox %s (%s): a %s "
				    "stack would take its interface from it",
				    b->netns, name, net, chosen);
	if (!chosen)
		*network = "kernel";
	return 0;
}

const char *oci_pod_default_network(const json_t *annotations)
{
	const char *cri = json_string_value(
		json_object_get(annotations,
				"io.kubernetes.cri.container-type"));
	const char *crio = json_string_value(
		json_object_get(annotations,
				"io.kubernetes.cri-o.ContainerType"));

	if ((cri && !strcmp(cri, "sandbox")) ||
	    (crio && !strcmp(crio, "sandbox")))
		return "kernel";
	return NULL;
}
