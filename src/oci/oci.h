/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI runtime side of cove: bundles, container state, runc's log. */
#ifndef COVE_OCI_OCI_H
#define COVE_OCI_OCI_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/sandbox.h"

/*
 * Theory of operation
 *
 * `cove create` (src/cli/cmd_oci.c) reads a bundle's config.json here
 * (bundle.c) into the same struct sbx_opts `cove run --rootfs` uses, plus
 * the struct sbx_oci extras the sentry applies in the program's process
 * (src/sentry/oci_fs.c); then rt_create() makes the sandbox exactly as
 * `cove run` does, stopping the program before its exec on exec.fifo.
 * Every field of config.json is either honoured, or known to be harmless
 * to accept, or refused with its name: nothing that would weaken the
 * isolation the spec asks for is ignored.
 *
 * A container's state (state.c) is a directory ROOT/ID holding state.json
 * (the sentry's pid and start time, bundle, creation time, annotations,
 * Cove's sandbox name) and exec.fifo while the container is "created".
 * The status is derived, never stored: the sentry gone (or a zombie, or
 * its pid reused) is "stopped", the fifo present "created", the cgroup
 * frozen "paused", else "running".
 *
 * Errors go out as runc's do (log.c): with --log, one line in the log in
 * the chosen format (JSON: {"level","msg","time"}) and the bare message on
 * stderr; without it, a logrus text line on stderr. Exit status 1.
 */

#define OCI_VERSION	 "1.0.2"
#define OCI_DEFAULT_ROOT "/run/cove-oci"
#define OCI_ID_MAX	 128
#define OCI_MAX_ARGS	 256

/* A bundle read from config.json; strings point into @json. */
struct oci_bundle {
	json_t *json;
	struct sbx_opts o;
	struct sbx_oci x;
	char dir[4096];			      /* the bundle's absolute path */
	char rootfs[4096];		      /* root.path, absolute */
	char *runargv[OCI_MAX_ARGS * 2 + 16]; /* what rt_opts_parse() read */
	char strs[8][4200];		      /* values built for runargv */
	json_t *annotations;		      /* borrowed from @json, or NULL */
	const char *netns;	  /* the network namespace's path, or NULL */
	struct sbx_limits limits; /* linux.resources */
	char mdata[SBX_OCI_MAX_MOUNTS][512]; /* mount data strings */
	char msrc[SBX_OCI_MAX_MOUNTS][4200]; /* bind sources, absolute */
	struct sbx_seccomp seccomp;	     /* linux.seccomp, if x.seccomp */
	const char **sc_names;		     /* its syscall names */
	const json_t *hooks; /* borrowed from @json, checked, or NULL */
};

/**
 * oci_bundle_load() - read and check DIR/config.json
 * @dir:	the bundle directory
 * @network:	the global --network (builtin, lwip, kernel, host, none),
 *		or NULL: loopback only for a new network namespace (as
 *		runc), builtin on one prepared by netavark or CNI
 * @b:		filled; release with oci_bundle_free()
 * @err:	one line naming the file, the field and what is wrong
 *
 * Return: 0 or -1 (@b needs no freeing then).
 */
int oci_bundle_load(const char *dir, const char *network, struct oci_bundle *b,
		    struct cove_err *err);

/* oci_bundle_parse() - the same from JSON text (tests, fuzzing). */
int oci_bundle_parse(const char *text, const char *dir, const char *network,
		     struct oci_bundle *b, struct cove_err *err);

void oci_bundle_free(struct oci_bundle *b);

/**
 * oci_seccomp_parse() - check linux.seccomp (src/oci/profile.c)
 * @sc:		the JSON object
 * @out:	filled; its strings point into @sc
 * @names:	the name table @out's entries point into (allocated)
 * @err:	names the field
 *
 * Release with oci_seccomp_free() (also after an error).
 * Return: 0 or -1.
 */
int oci_seccomp_parse(const json_t *sc, struct sbx_seccomp *out,
		      const char ***names, struct cove_err *err);

void oci_seccomp_free(struct sbx_seccomp *sc, const char ***names);

/**
 * oci_hooks_check() - config.json's hooks (src/oci/hooks.c)
 * @hooks:	the "hooks" object, or NULL
 * @net_hook:	set when prestart or createRuntime hooks exist (they run
 *		once the container's namespaces do, before its network is
 *		set up: Docker's libnetwork configures the namespace there)
 * @err:	names the field; createContainer and startContainer are
 *		refused (they run inside the container)
 *
 * Return: 0 or -1.
 */
int oci_hooks_check(const json_t *hooks, bool *net_hook, struct cove_err *err);

/**
 * oci_hooks_run() - run the hooks of one phase, in order, the state JSON
 * on each one's stdin
 * @hooks:	the checked "hooks" object, or NULL (nothing to run)
 * @phase:	"prestart", "createRuntime", "poststart" or "poststop"
 * @state:	the state to pass
 * @err:	the first failure: its index, path, status and output
 *
 * Return: 0, or -1 at the first hook that fails (the rest do not run).
 */
int oci_hooks_run(const json_t *hooks, const char *phase, const json_t *state,
		  struct cove_err *err);

/**
 * oci_pod_network() - a network namespace another Cove sandbox is in
 * already (a pod's): which stack may serve this container there
 * @b:		the bundle, parsed
 * @chosen:	the network asked for (flag or annotation), or NULL
 * @network:	set to "kernel" when the bundle must be parsed again with it
 *
 * One user-level stack instance belongs to one sentry, and two on one
 * interface would both answer for its address: a namespace served by a
 * link-based stack (builtin, lwip) cannot take a second sandbox, and one
 * served by the kernel provider takes more of them on the kernel
 * provider, by default, so that 127.0.0.1 is shared as in any pod.
 *
 * Return: 0, or -1 with @err set (EBUSY).
 */
int oci_pod_network(const struct oci_bundle *b, const char *chosen,
		    const char **network, struct cove_err *err);

/*
 * oci_pod_default_network() - "kernel" for a Kubernetes pod's sandbox
 * (pause) container, as containerd's CRI (io.kubernetes.cri.container-type)
 * and CRI-O (io.kubernetes.cri-o.ContainerType) mark it; NULL otherwise.
 */
const char *oci_pod_default_network(const json_t *annotations);

/* What the create-time hooks need to make the state they are given. */
struct oci_hook_ctx {
	const struct oci_bundle *b;
	const char *id;
};

/**
 * oci_create_hooks() - rt_create()'s ns_ready step: the prestart, then
 * the createRuntime hooks, once the sentry's namespaces exist (Docker's
 * libnetwork-setkey configures the network namespace here)
 * @arg:	struct oci_hook_ctx
 * @sentry:	the container's pid
 * @err:	the failing hook
 *
 * Return: 0 or -1.
 */
int oci_create_hooks(void *arg, pid_t sentry, struct cove_err *err);

/* oci_cap_from_name() - "CAP_NET_BIND_SERVICE" -> 10; -1 if unknown. */
int oci_cap_from_name(const char *name);

/* ---- state.c ---------------------------------------------------------- */

enum oci_status {
	OCI_CREATED,
	OCI_RUNNING,
	OCI_PAUSED, /* running, its cgroup frozen (pause) */
	OCI_STOPPED
};

struct oci_state {
	char id[OCI_ID_MAX + 1];
	char dir[4096]; /* ROOT/ID */
	pid_t pid;
	unsigned long long starttime;
	char bundle[4096];
	char rootfs[4096];
	char created[40]; /* RFC 3339 with nanoseconds, UTC */
	char sandbox[SBX_NAME_MAX + 1];
	char cgroup[512];    /* the container's cgroup, "" if none */
	json_t *annotations; /* owned */
};

/**
 * oci_late_hooks() - the poststart or poststop hooks of a container, read
 * again from its bundle's config.json; a failure is a warning in the log
 * (as the runtime-spec says), never the verb's error
 * @s:		the container
 * @phase:	"poststart" or "poststop"
 * @status:	its status now ("running", "stopped")
 */
void oci_late_hooks(const struct oci_state *s, const char *phase,
		    const char *status);

/* oci_id_valid() - 1..128 of [A-Za-z0-9_.+-], not starting with '.'. */
bool oci_id_valid(const char *id);

/**
 * oci_state_dir() - ROOT/ID, created (mode 0700) with ROOT if @make
 * @root:	the --root directory
 * @id:		container id (valid)
 * @make:	create it; EEXIST means the id is taken
 * @out:	the path
 * @len:	its size
 * @err:	reason
 *
 * Return: 0 or -1.
 */
int oci_state_dir(const char *root, const char *id, bool make, char *out,
		  size_t len, struct cove_err *err);

/* oci_state_save() - write @s as ROOT/ID/state.json (atomically). */
int oci_state_save(const struct oci_state *s, struct cove_err *err);

/**
 * oci_state_load() - read ROOT/ID/state.json
 * @root:	the --root directory
 * @id:		container id
 * @s:		filled; release with oci_state_free()
 * @err:	"container does not exist" (ENOENT) or what is wrong
 *
 * Return: 0 or -1.
 */
int oci_state_load(const char *root, const char *id, struct oci_state *s,
		   struct cove_err *err);

void oci_state_free(struct oci_state *s);

/* oci_state_status() - created, running, paused or stopped, from the
 * process, exec.fifo and the cgroup's freezer. */
enum oci_status oci_state_status(const struct oci_state *s);

const char *oci_status_name(enum oci_status st);

/* oci_state_json() - the runtime-spec state object runc prints. */
json_t *oci_state_json(const struct oci_state *s);

/* oci_state_remove() - unlink exec.fifo and state.json, rmdir ROOT/ID. */
void oci_state_remove(const struct oci_state *s);

/* ---- log.c ------------------------------------------------------------ */

/**
 * oci_log_open() - where --log and --log-format send runc-style lines
 * @path:	--log FILE, or NULL (stderr)
 * @json:	--log-format json
 * @debug:	--debug: debug lines are written too
 *
 * Return: 0 or -1 (errno set) when the file cannot be opened.
 */
int oci_log_open(const char *path, bool json, bool debug);

/* oci_log() - one line at @level ("debug", "info", "warning", "error"). */
void oci_log(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * oci_fail() - report an error as runc does and return its exit status
 * @fmt:	printf-style message
 *
 * Return: 1.
 */
int oci_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* COVE_OCI_OCI_H */
