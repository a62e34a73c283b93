// SPDX-License-Identifier: Apache-2.0
/* cove as an OCI runtime: runc's global flags and lifecycle verbs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/ctl_cmd.h"
#include "common/args.h"
#include "control/cove.pb-c.h"
#include "oci/oci.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * `cove [GLOBAL FLAGS] VERB ...` with runc's names and flags, for podman
 * (through conmon), containerd (go-runc) and people who type runc
 * commands. main.c decides whether an invocation is this form or a
 * native verb (oci_claims(), rule in docs/OCI.md); this file parses
 * the global flags and runs the verb:
 *
 *   create  bundle -> options (src/oci/bundle.c), ROOT/ID, exec.fifo,
 *           rt_create() (the sandbox exactly as `cove run` makes it, the
 *           program stopped before its exec), state.json, --pid-file;
 *   start   reads exec.fifo: the program execs;
 *   state   the runtime-spec state JSON;
 *   kill    SIGKILL straight to the sentry (its pid namespace dies with
 *           it); other signals through the control channel (cove.Signal,
 *           as `cove kill`), since a pid namespace's init ignores signals
 *           it has no handler for;
 *   delete  kills what is left, waits for the sentry, then gc removes
 *           the sandbox's host state (/run/cove/NAME, veth) and the
 *           container's directory goes;
 *   run     create + start, then waits (unless --detach) and exits with
 *           the container's status; list, features, spec as runc.
 *
 * The container's pid is the sentry's: PID 1 of the container, whose
 * exit status is the program's (128+N after signal N), which is what
 * conmon and the shim wait for once `create` has exited and left it to
 * them (they are subreapers).
 */

struct oci_global {
	const char *root;
	const char *log;
	const char *network;
	bool json, debug;
};

/* oci_usage() - the OCI form's help. */
static void oci_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n\n"
		"The OCI runtime form of %s (runc's command line).\n\n"
		"Global options:\n"
		"  --root DIR         container state (default %s)\n"
		"  --log FILE         log file (default stderr)\n"
		"  --log-format F     text or json\n"
		"  --debug            debug lines in the log\n"
		"  --network=STACK    builtin, lwip (cove-plugin), kernel, host or\n"
		"                     none, for containers with a network\n"
		"                     namespace (default: none for a new one, as\n"
		"                     runc; builtin on a prepared one, podman's)\n"
		"  --systemd-cgroup   not supported yet (an error)\n"
		"  --version\n\n"
		"Commands: create, start, state, kill, delete, list, run,\n"
		"exec, ps, pause, resume, features, spec. `%s VERB --help` for a verb's flags.\n\n"
		"Which form: the OCI form is taken when a global option comes\n"
		"first; for create, start, state, delete, features, spec; for run\n"
		"with --bundle/-b, --detach or --pid-file; for exec with --process,\n"
		"--pid-file, --detach or --tty; for kill, exec and ps naming an ID\n"
		"that exists under the default root; for list with --format\n"
		"or --quiet; and always after `%s oci`. Everything else is a\n"
		"native verb (`%s --help`).\n",
		cove_progname, cove_progname, OCI_DEFAULT_ROOT, cove_progname,
		cove_progname, cove_progname);
}

/* oci_now_rfc3339() - the creation time as runc prints it (UTC, ns). */
static void oci_now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char s[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	if ((size_t)snprintf(buf, len, "%s.%09ldZ", s,
			     ts.tv_nsec % 1000000000L) >= len)
		buf[0] = '\0';
}

/* oci_write_pid_file() - --pid-file: the pid, no newline, as runc. */
static int oci_write_pid_file(const char *path, pid_t pid)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.cove-tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -1;
	fprintf(f, "%d", (int)pid);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

struct oci_create_opts {
	const char *bundle, *pid_file, *console;
	unsigned preserve_fds;
	bool detach, keep, no_new_keyring;
};

/**
 * oci_parse_create() - create's and run's flags
 * @argc:	arguments, argv[0] the verb
 * @argv:	arguments
 * @c:		filled
 * @id:		the container id (the one positional argument)
 *
 * Return: 0, 1 after --help, or -1 (reported).
 */
static int oci_parse_create(int argc, char **argv, struct oci_create_opts *c,
			    const char **id)
{
	static const struct option lo[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'K' },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool run = !strcmp(argv[0], "run");
	char *end;
	long n;
	int opt;

	memset(c, 0, sizeof(*c));
	c->bundle = ".";
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+b:dh", lo, NULL)) != -1) {
		if (opt == 'h') {
			printf("Usage: %s %s [--bundle DIR] [--pid-file F] "
			       "[--console-socket S] [--preserve-fds N] "
			       "[--no-pivot] [--no-new-keyring]%s ID\n",
			       cove_progname, argv[0],
			       run ? " [--detach] [--keep]" : "");
			return 1;
		} else if (opt == 'b') {
			c->bundle = optarg;
		} else if (opt == 'p') {
			c->pid_file = optarg;
		} else if (opt == 'c') {
			c->console = optarg;
		} else if (opt == 'f') {
			n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 0 || n > 1024) {
				oci_fail("--preserve-fds: '%s' is not 0..1024",
					 optarg);
				return -1;
			}
			c->preserve_fds = (unsigned)n;
		} else if ((opt == 'd' || opt == 'k') && run) {
			if (opt == 'd')
				c->detach = true;
			else
				c->keep = true;
		} else if (opt == 'K') {
			c->no_new_keyring = true;
		} else if (opt != 'P') {
			oci_fail("%s: unknown option '%s'", argv[0],
				 argv[optind - 1]);
			return -1;
		}
	}
	if (argc - optind != 1) {
		oci_fail("%s: expected exactly one container id", argv[0]);
		return -1;
	}
	*id = argv[optind];
	return 0;
}

/**
 * oci_pick_network() - the network for this container: the annotation
 * "run.cove.network" if present, else the global --network, else the
 * kernel provider for a Kubernetes pod's sandbox container
 * @g:		global flags
 * @b:		the bundle, already parsed with @g's network
 * @network:	set to the choice
 *
 * Return: true when the annotation asks for a different one (the bundle
 * must be parsed again).
 */
static bool oci_pick_network(const struct oci_global *g,
			     const struct oci_bundle *b, const char **network)
{
	const char *a = json_string_value(
		json_object_get(b->annotations, "run.cove.network"));

	/* A Kubernetes pod's sandbox container: its namespace is the pod's,
	 * which its other containers join (src/oci/pod.c). */
	if (!a && !g->network)
		a = oci_pod_default_network(b->annotations);

	*network = a ? a : g->network;
	return a && (!g->network || strcmp(a, g->network));
}

/* oci_console_connect() - connect to --console-socket; Return: fd or -1. */
static int oci_console_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * oci_cgroup_drop() - remove a container's cgroup once its tasks have left
 * it, and the default parent /cove-oci when that is empty now.
 */
static void oci_cgroup_drop(const char *path)
{
	if (!path || !path[0])
		return;
	(void)rt_cgroup_remove_wait(path, 2000);
	if (!strncmp(path, "/cove-oci/", 10))
		rt_cgroup_remove("/cove-oci"); /* only once empty */
}

/**
 * oci_create() - create: the container exists, its program waits for start
 * @g:		global flags
 * @c:		create's flags
 * @id:		container id
 * @pid:	set to the container's pid (the sentry)
 *
 * Nothing is left behind on failure: rt_create() removes the sandbox, and
 * the container's directory is removed here.
 *
 * Return: 0 or 1 (reported).
 */
static int oci_create(const struct oci_global *g,
		      const struct oci_create_opts *c, const char *id,
		      pid_t *pid)
{
	struct cove_err err = { 0 };
	struct oci_state s = { 0 };
	struct oci_bundle *b = calloc(1, sizeof(*b));
	struct oci_hook_ctx hc = { .b = b, .id = id };
	const char *network, *pod_net;
	char fifo[4200], net[64];
	int ret = 1;

	if (!b)
		return oci_fail("out of memory");
	if (geteuid() != 0) {
		free(b);
		return oci_fail("cove needs root to create containers");
	}
	if (oci_bundle_load(c->bundle, g->network, b, &err) < 0) {
		free(b);
		return oci_fail("%s", err.msg);
	}
	if (oci_pick_network(g, b, &network)) {
		/* @network points into the tree about to be freed. */
		snprintf(net, sizeof(net), "%s", network);
		oci_bundle_free(b);
		if (oci_bundle_load(c->bundle, net, b, &err) < 0) {
			free(b);
			return oci_fail("annotation run.cove.network: %s",
					err.msg);
		}
		network = net;
	}
	if (oci_pod_network(b, network, &pod_net, &err) < 0) {
		ret = oci_fail("%s", err.msg);
		goto out;
	}
	if (pod_net) {
		oci_bundle_free(b);
		if (oci_bundle_load(c->bundle, pod_net, b, &err) < 0) {
			free(b);
			return oci_fail("%s", err.msg);
		}
	}
	if (c->console && !b->x.terminal) {
		ret = oci_fail("cannot use console socket if the container "
			       "will not have a terminal");
		goto out;
	}
	if (b->x.terminal && !c->console) {
		ret = oci_fail("process.terminal needs --console-socket (cove "
			       "does not proxy a terminal itself yet)");
		goto out;
	}
	if (c->console &&
	    (b->x.console_fd = oci_console_connect(c->console)) < 0) {
		ret = oci_fail("--console-socket %s: %s", c->console,
			       strerror(errno));
		goto out;
	}
	b->x.preserve_fds = c->preserve_fds;
	b->x.no_new_keyring = c->no_new_keyring;
	b->x.ns_ready = oci_create_hooks;
	b->x.ns_ready_arg = &hc;
	if (oci_state_dir(g->root, id, true, s.dir, sizeof(s.dir), &err) < 0) {
		ret = oci_fail("%s", err.msg);
		goto out;
	}
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", s.dir);
	/* 0622 whatever the umask: the program opens it as its own user. */
	if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0 ||
	    (b->x.fifo_fd = open(fifo, O_PATH | O_CLOEXEC)) < 0) {
		ret = oci_fail("exec fifo %s: %s", fifo, strerror(errno));
		goto fail;
	}
	oci_log("debug", "create %s: bundle %s, network %s", id, b->dir,
		b->o.network ? b->o.network : "none");
	if (b->limits.any && !b->limits.path[0])
		snprintf(b->limits.path, sizeof(b->limits.path), "/cove-oci/%s",
			 id);
	if (b->limits.any && rt_cgroup_enter(&b->limits, &err) < 0) {
		close(b->x.fifo_fd);
		ret = oci_fail("%s", err.msg);
		goto fail;
	}
	/* The sentry is forked inside the cgroup; we leave it after. */
	ret = rt_create(&b->o, pid, &err);
	if (b->limits.any)
		rt_cgroup_leave();
	if (ret && b->limits.any)
		oci_cgroup_drop(b->limits.path);
	close(b->x.fifo_fd);
	if (b->x.console_fd >= 0)
		close(b->x.console_fd);
	if (ret) {
		ret = oci_fail("%s", err.msg);
		goto fail;
	}
	snprintf(s.id, sizeof(s.id), "%s", id);
	s.pid = *pid;
	s.starttime = rt_proc_starttime(*pid, NULL);
	snprintf(s.bundle, sizeof(s.bundle), "%s", b->dir);
	snprintf(s.rootfs, sizeof(s.rootfs), "%s", b->rootfs);
	snprintf(s.sandbox, sizeof(s.sandbox), "%s", b->o.name);
	snprintf(s.cgroup, sizeof(s.cgroup), "%s", b->limits.path);
	oci_now_rfc3339(s.created, sizeof(s.created));
	s.annotations = b->annotations;
	if (oci_state_save(&s, &err) < 0 ||
	    (c->pid_file && oci_write_pid_file(c->pid_file, *pid) < 0)) {
		ret = oci_fail("%s", err.msg[0] ? err.msg : "--pid-file");
		kill(*pid, SIGKILL);
		oci_cgroup_drop(b->limits.path);
		goto fail;
	}
	s.annotations = NULL;
	ret = 0;
	goto out;
fail:
	s.annotations = NULL;
	oci_state_remove(&s);
out:
	oci_bundle_free(b);
	free(b);
	return ret;
}

/**
 * oci_load() - the state of @id, or report that it does not exist
 * @g:		global flags
 * @id:		container id
 * @s:		filled (release with oci_state_free())
 *
 * Return: 0 or 1 (reported).
 */
static int oci_load(const struct oci_global *g, const char *id,
		    struct oci_state *s)
{
	struct cove_err err = { 0 };

	if (oci_state_load(g->root, id, s, &err) < 0)
		return oci_fail("%s", err.msg);
	return 0;
}

/**
 * oci_start_fifo() - open and read exec.fifo: the program execs
 * @s:		the container, created
 *
 * The reader opens without blocking and polls, so that a program that
 * died meanwhile is noticed instead of waiting forever for its writer.
 *
 * Return: 0 or 1 (reported).
 */
static int oci_start_fifo(const struct oci_state *s)
{
	char fifo[4200], c;
	struct pollfd p;
	int fd, r;

	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", s->dir);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return oci_fail("cannot start container %s: %s", s->id,
				strerror(errno));
	for (;;) {
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		r = poll(&p, 1, 100);
		if (r == 1 && read(fd, &c, 1) == 1)
			break;
		if (oci_state_status(s) == OCI_STOPPED) {
			close(fd);
			return oci_fail("cannot start container %s: its "
					"process exited",
					s->id);
		}
	}
	close(fd);
	(void)unlink(fifo);
	return 0;
}

/* oci_start() - start ID. Return: 0 or 1. */
static int oci_start(const struct oci_global *g, const char *id)
{
	struct oci_state s;
	enum oci_status st;
	int ret;

	if (oci_load(g, id, &s))
		return 1;
	st = oci_state_status(&s);
	if (st == OCI_CREATED) {
		ret = oci_start_fifo(&s);
		if (!ret)
			oci_late_hooks(&s, "poststart", "running");
	} else
		ret = oci_fail(st == OCI_RUNNING || st == OCI_PAUSED ?
				       "cannot start an already running "
				       "container" :
				       "cannot start a container that has "
				       "stopped");
	oci_state_free(&s);
	return ret;
}

/* oci_state_print() - state ID: the state JSON on stdout. */
static int oci_state_print(const struct oci_global *g, const char *id)
{
	struct oci_state s;
	json_t *o;
	char *text;

	if (oci_load(g, id, &s))
		return 1;
	o = oci_state_json(&s);
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	oci_state_free(&s);
	if (!text)
		return oci_fail("out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

/**
 * oci_signal() - deliver @sig to the container
 * @s:		the container, created or running
 * @sig:	the signal
 * @all:	every process of the container
 *
 * Return: 0 or 1 (reported).
 */
static int oci_signal(const struct oci_state *s, int sig, bool all)
{
	Cove__Control__SignalRequest sr = COVE__CONTROL__SIGNAL_REQUEST__INIT;
	struct cove_ctl_response resp = { 0 };
	struct cove_ctl_client *c = NULL;
	uint8_t buf[64];
	size_t n;
	int ret;

	if (sig == SIGKILL) { /* the sentry's death ends every process */
		if (kill(s->pid, SIGKILL) < 0)
			return oci_fail("kill: %s", strerror(errno));
		/* a frozen task dies only once thawed */
		if (s->cgroup[0] && rt_cgroup_frozen(s->cgroup) == 1)
			(void)rt_cgroup_freeze(s->cgroup, false, NULL);
		return 0;
	}
	if (oci_state_status(s) == OCI_PAUSED)
		return oci_fail("container %s is paused: resume it first (or "
				"kill it with KILL)",
				s->id);
	sr.signal = sig;
	sr.all = all;
	n = cove__control__signal_request__pack(&sr, buf);
	ret = ctl_cmd_open("kill", s->sandbox, NULL, &c);
	if (!ret)
		ret = ctl_cmd_call("kill", s->sandbox, c, "cove.Signal", buf, n,
				   NULL, 0, 5000, &resp);
	if (!ret)
		free(resp.payload);
	cove_ctl_client_close(c);
	return ret ? oci_fail("kill %s: the sandbox did not take the signal",
			      s->id) :
		     0;
}

/**
 * oci_pause() - pause ID / resume ID: freeze or thaw the container's
 * cgroup (every container has one, in the freezer hierarchy on v1)
 * @g:		global flags
 * @id:		the container
 * @freeze:	pause (true) or resume
 *
 * As runc: pause needs a running container, resume a paused one.
 *
 * Return: 0 or 1.
 */
static int oci_pause(const struct oci_global *g, const char *id, bool freeze)
{
	struct cove_err err = { 0 };
	struct oci_state s;
	enum oci_status st;
	int ret = 0;

	if (oci_load(g, id, &s))
		return 1;
	st = oci_state_status(&s);
	if (st != (freeze ? OCI_RUNNING : OCI_PAUSED))
		ret = oci_fail("container %s is %s, not %s", id,
			       oci_status_name(st),
			       freeze ? "running" : "paused");
	else if (rt_cgroup_freeze(s.cgroup, freeze, &err) < 0)
		ret = oci_fail("%s %s: %s", freeze ? "pause" : "resume", id,
			       err.msg);
	oci_state_free(&s);
	return ret;
}

/* oci_kill() - kill [--all] ID [SIGNAL]. Return: 0 or 1. */
static int oci_kill(const struct oci_global *g, int argc, char **argv)
{
	struct oci_state s;
	bool all = false;
	int i, sig = SIGTERM, ret, npos = 0;
	const char *pos[2] = { NULL, NULL };

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all") || !strcmp(argv[i], "-a"))
			all = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return oci_fail("kill: unknown option '%s'", argv[i]);
		else if (npos < 2)
			pos[npos++] = argv[i];
		else
			return oci_fail("kill: expected ID [SIGNAL]");
	}
	if (!npos)
		return oci_fail("kill: expected ID [SIGNAL]");
	if (pos[1] && (sig = cove_signal_parse(pos[1])) < 0)
		return oci_fail("invalid signal \"%s\"", pos[1]);
	if (oci_load(g, pos[0], &s))
		return 1;
	if (oci_state_status(&s) == OCI_STOPPED)
		ret = oci_fail("container not running");
	else
		ret = oci_signal(&s, sig, all);
	oci_state_free(&s);
	return ret;
}

/* oci_wait_gone() - wait up to @ms for the sentry to exit (or be a zombie). */
static bool oci_wait_gone(const struct oci_state *s, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (oci_state_status(s) == OCI_STOPPED)
			return true;
		usleep(10000);
	}
	return oci_state_status(s) == OCI_STOPPED;
}

/*
 * oci_gc_sandbox() - gc until the sandbox's /run/cove/NAME is gone, up to
 * 2 s: the sentry is gone, but the other processes of its pid namespace
 * (the program, the exec helper), which the kernel kills once it died,
 * may still hold the sandbox's lock for a moment, and gc skips a held one.
 */
static void oci_gc_sandbox(const char *name)
{
	char dir[sizeof(SBX_RUN_DIR) + SBX_NAME_MAX + 2];
	int i;

	snprintf(dir, sizeof(dir), "%s/%s", SBX_RUN_DIR, name);
	for (i = 0; i < 100; i++) {
		(void)rt_gc(false);
		if (!name[0] || access(dir, F_OK) < 0)
			return;
		usleep(20000);
	}
}

/**
 * oci_destroy() - kill what is left of the container and remove its state
 * @s:		the container
 *
 * gc then finds the sandbox's lock free (the sentry held it) and removes
 * /run/cove/NAME and the host end of its veth; the container's cgroup,
 * empty now, goes too.
 */
static void oci_destroy(const struct oci_state *s)
{
	if (oci_state_status(s) != OCI_STOPPED) {
		kill(s->pid, SIGKILL);
		if (s->cgroup[0]) /* a paused container dies once thawed */
			(void)rt_cgroup_freeze(s->cgroup, false, NULL);
		if (!oci_wait_gone(s, 5000))
			oci_log("warning", "container %s: pid %d still alive",
				s->id, (int)s->pid);
	}
	(void)waitpid(s->pid, NULL, WNOHANG); /* ours after `run` */
	oci_gc_sandbox(s->sandbox);
	oci_cgroup_drop(s->cgroup);
	oci_state_remove(s);
	oci_late_hooks(s, "poststop", "stopped");
}

/* oci_delete() - delete [--force] ID. Return: 0 or 1. */
static int oci_delete(const struct oci_global *g, int argc, char **argv)
{
	struct cove_err err = { 0 };
	const char *id = NULL;
	struct oci_state s;
	enum oci_status st;
	bool force = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = true;
		else if (argv[i][0] == '-' || id)
			return oci_fail("delete: expected [--force] ID");
		else
			id = argv[i];
	}
	if (!id)
		return oci_fail("delete: expected [--force] ID");
	if (oci_state_load(g->root, id, &s, &err) < 0) {
		if (force && err.code == ENOENT)
			return 0; /* runc: --force on a missing id is fine */
		return oci_fail("%s", err.msg);
	}
	st = oci_state_status(&s);
	if ((st == OCI_RUNNING || st == OCI_PAUSED) && !force) {
		oci_state_free(&s);
		return oci_fail("cannot delete container %s that is not "
				"stopped: %s",
				id, oci_status_name(st));
	}
	oci_destroy(&s);
	oci_state_free(&s);
	return 0;
}

/**
 * oci_list() - list [--format table|json] [--quiet]
 * @g:		global flags
 * @argc:	arguments, argv[0] == "list"
 * @argv:	arguments
 *
 * Return: 0 or 1.
 */
static int oci_list(const struct oci_global *g, int argc, char **argv)
{
	bool json = false, quiet = false;
	json_t *arr = json_array();
	struct cove_err err;
	struct oci_state s;
	struct dirent *de;
	char *text;
	DIR *d;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--format=json") ||
			 ((!strcmp(argv[i], "--format") ||
			   !strcmp(argv[i], "-f")) &&
			  i + 1 < argc && !strcmp(argv[++i], "json")))
			json = true;
		else if (strcmp(argv[i], "--format=table") &&
			 strcmp(argv[i], "table"))
			return oci_fail("list: unknown option '%s'", argv[i]);
	}
	if (!json && !quiet)
		printf("%-20s %-8s %-10s %-40s %-31s %s\n", "ID", "PID",
		       "STATUS", "BUNDLE", "CREATED", "OWNER");
	d = opendir(g->root);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    oci_state_load(g->root, de->d_name, &s, &err) < 0)
			continue;
		if (json)
			json_array_append_new(arr, oci_state_json(&s));
		else if (quiet)
			printf("%s\n", s.id);
		else
			printf("%-20s %-8d %-10s %-40s %-31s %s\n", s.id,
			       oci_state_status(&s) == OCI_STOPPED ? 0 :
								     (int)s.pid,
			       oci_status_name(oci_state_status(&s)), s.bundle,
			       s.created, "root");
		oci_state_free(&s);
	}
	if (d)
		closedir(d);
	if (json) {
		text = json_dumps(arr, 0);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(arr);
	return 0;
}

/**
 * oci_run() - run: create, start, and (unless --detach) wait
 * @g:		global flags
 * @argc:	arguments, argv[0] == "run"
 * @argv:	arguments
 *
 * In the foreground, INT, TERM, HUP and QUIT are passed to the container
 * (its sentry forwards them to the program) and the exit status is the
 * container's; the container is deleted afterwards unless --keep.
 *
 * Return: the container's status, or 1 (reported).
 */
static int oci_run(const struct oci_global *g, int argc, char **argv)
{
	struct oci_create_opts c;
	struct oci_state s;
	siginfo_t si;
	sigset_t set;
	const char *id;
	int r, status = 0;
	pid_t pid;

	r = oci_parse_create(argc, argv, &c, &id);
	if (r)
		return r > 0 ? 0 : 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (oci_create(g, &c, id, &pid) || oci_start(g, id)) {
		if (!oci_state_load(g->root, id, &s, &(struct cove_err){ 0 })) {
			oci_destroy(&s);
			oci_state_free(&s);
		}
		return 1;
	}
	if (c.detach)
		return 0;
	sigprocmask(SIG_BLOCK, &set, NULL); /* rt_create() unblocked them */
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (sigwaitinfo(&set, &si) > 0 && si.si_signo != SIGCHLD)
			kill(pid, si.si_signo);
	}
	if (!c.keep &&
	    !oci_state_load(g->root, id, &s, &(struct cove_err){ 0 })) {
		oci_destroy(&s);
		oci_state_free(&s);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define OCI_EXEC_MAX (OCI_MAX_ARGS * 2 + 8)

struct oci_exec {
	char *argv[OCI_EXEC_MAX]; /* for cove_exec_native() */
	int argc;
	char strs[3][4200];
	json_t *process; /* --process FILE, owned */
	const char *pid_file;
	bool detach;
};

/* oci_exec_push() - one more argument for the native exec. */
static int oci_exec_push(struct oci_exec *e, const char *arg)
{
	if (e->argc + 2 >= OCI_EXEC_MAX)
		return oci_fail("exec: too many arguments");
	e->argv[e->argc++] = (char *)arg;
	e->argv[e->argc] = NULL;
	return 0;
}

/**
 * oci_exec_process() - --process FILE: args, env, cwd, user of the spec's
 * process object, as the native exec's options
 * @e:		the exec being built
 * @path:	the file
 *
 * What the native exec cannot do is refused by name: a terminal,
 * capabilities other than the container's, an AppArmor profile or SELinux
 * label.
 *
 * Return: 0 or 1 (reported).
 */
static int oci_exec_process(struct oci_exec *e, const char *path)
{
	const json_t *p, *u, *v;
	json_error_t je;
	size_t i;
	json_t *x;

	e->process = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	p = e->process;
	if (!json_is_object(p))
		return oci_fail("exec --process %s: %s", path,
				p ? "not an object" : je.text);
	if (json_is_true(json_object_get(p, "terminal")))
		return oci_fail("exec: process.terminal is not supported yet");
	if (json_string_length(json_object_get(p, "apparmorProfile")) ||
	    json_string_length(json_object_get(p, "selinuxLabel")))
		return oci_fail("exec: process.apparmorProfile/selinuxLabel "
				"are not supported");
	json_array_foreach(json_object_get(p, "env"), i, x)
	{
		if (!json_is_string(x) || oci_exec_push(e, "--env") ||
		    oci_exec_push(e, json_string_value(x)))
			return oci_fail("exec: process.env[%zu]", i);
	}
	v = json_object_get(p, "cwd");
	if (json_is_string(v)) {
		snprintf(e->strs[0], sizeof(e->strs[0]), "--workdir=%s",
			 json_string_value(v));
		if (oci_exec_push(e, e->strs[0]))
			return 1;
	}
	u = json_object_get(p, "user");
	if (u) {
		snprintf(e->strs[1], sizeof(e->strs[1]), "--user=%lld:%lld",
			 (long long)json_integer_value(
				 json_object_get(u, "uid")),
			 (long long)json_integer_value(
				 json_object_get(u, "gid")));
		if (oci_exec_push(e, e->strs[1]))
			return 1;
	}
	return 0;
}

/**
 * oci_exec_parse() - exec's flags; the native exec's argument vector
 * @argc:	arguments, argv[0] == "exec"
 * @argv:	arguments
 * @e:		filled (e->argv up to NAME is left for the caller)
 * @id:		the container id
 * @cmd:	set to the index of the inline command in @argv (0: none)
 *
 * Return: 0 or 1 (reported).
 */
static int oci_exec_parse(int argc, char **argv, struct oci_exec *e,
			  const char **id, int *cmd)
{
	static const struct option lo[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "detach", no_argument, NULL, 'd' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "tty", no_argument, NULL, 't' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *process = NULL;
	int opt;

	optind = 1;
	opterr = 0;
	if (oci_exec_push(e, "exec"))
		return 1;
	while ((opt = getopt_long(argc, argv, "+p:de:u:tw:", lo, NULL)) != -1) {
		if (opt == 'p') {
			process = optarg;
		} else if (opt == 'P') {
			e->pid_file = optarg;
		} else if (opt == 'd') {
			e->detach = true;
		} else if (opt == 'w') {
			snprintf(e->strs[0], sizeof(e->strs[0]), "--workdir=%s",
				 optarg);
			if (oci_exec_push(e, e->strs[0]))
				return 1;
		} else if (opt == 'e' || opt == 'u') {
			if (oci_exec_push(e, opt == 'e' ? "--env" : "--user") ||
			    oci_exec_push(e, optarg))
				return 1;
		} else if (opt == 't' || opt == 'c') {
			return oci_fail(
				"exec: a terminal is not supported yet");
		} else if (opt == 'f') {
			if (strcmp(optarg, "0"))
				return oci_fail("exec: --preserve-fds is not "
						"supported yet");
		} else if (opt != 'n') {
			return oci_fail("exec: unknown option '%s'",
					argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return oci_fail("exec: expected ID [COMMAND...]");
	*id = argv[optind];
	*cmd = optind + 1 < argc ? optind + 1 : 0;
	if (process && *cmd)
		return oci_fail("exec: --process and a command exclude each "
				"other");
	if (!process && !*cmd)
		return oci_fail("exec: no command (give --process FILE or "
				"COMMAND)");
	return process ? oci_exec_process(e, process) : 0;
}

/**
 * oci_exec() - exec [OPTIONS] ID [COMMAND...]: a process in a running
 * container, through the native `cove exec` (the sandbox's exec helper)
 * @g:		global flags
 * @argc:	arguments, argv[0] == "exec"
 * @argv:	arguments
 *
 * With --detach, as conmon uses it, a child of this process runs the
 * native exec and waits for the command; its pid goes to --pid-file and
 * its exit status is the command's, so the caller (a subreaper) collects
 * it once this process has exited.
 *
 * Return: the command's status, 0 after --detach, or 1 (reported).
 */
static int oci_exec(const struct oci_global *g, int argc, char **argv)
{
	struct oci_exec *e = calloc(1, sizeof(*e));
	const json_t *args;
	struct oci_state s;
	const char *id = NULL;
	int cmd = 0, r = 1, i;
	size_t k;
	json_t *x;
	pid_t pid;

	if (!e)
		return oci_fail("out of memory");
	if (oci_exec_parse(argc, argv, e, &id, &cmd) || oci_load(g, id, &s))
		goto out;
	if (oci_state_status(&s) != OCI_RUNNING) {
		r = oci_fail("cannot exec in a container that is not running");
		goto state;
	}
	if (oci_exec_push(e, s.sandbox) || oci_exec_push(e, "--"))
		goto state;
	args = json_object_get(e->process, "args");
	json_array_foreach(args, k,
			   x) if (!json_is_string(x) ||
				  oci_exec_push(e, json_string_value(
							   x))) goto state;
	for (i = cmd; cmd && i < argc; i++)
		if (oci_exec_push(e, argv[i]))
			goto state;
	if (!e->detach) {
		r = cove_exec_native(e->argc, e->argv);
		goto state;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(cove_exec_native(e->argc, e->argv));
	if (pid < 0 ||
	    (e->pid_file && oci_write_pid_file(e->pid_file, pid) < 0)) {
		r = oci_fail("exec: %s", strerror(errno));
		goto state;
	}
	r = 0;
state:
	oci_state_free(&s);
out:
	json_decref(e->process);
	free(e);
	return r;
}

/* oci_same_pidns() - is @pid in the pid namespace whose inode is @ns? */
static bool oci_same_pidns(pid_t pid, ino_t ns)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return !stat(path, &sb) && sb.st_ino == ns;
}

/* oci_comm() - /proc/PID/comm into @buf ("?" if unreadable). */
static void oci_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "?");
	buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

/**
 * oci_ps() - ps [--format table|json] ID: the container's processes
 * @g:		global flags
 * @argc:	arguments, argv[0] == "ps"
 * @argv:	arguments
 *
 * Every process of the sentry's pid namespace (the sentry included), by
 * host pid: a JSON array of pids, as runc prints for containerd, or a
 * PID/COMMAND table.
 *
 * Return: 0 or 1 (reported).
 */
static int oci_ps(const struct oci_global *g, int argc, char **argv)
{
	const char *id = NULL;
	char path[64], comm[64];
	bool json = false;
	struct oci_state s;
	struct dirent *de;
	struct stat sb;
	json_t *arr;
	char *text;
	DIR *d;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format=json") ||
		    ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) &&
		     i + 1 < argc && !strcmp(argv[++i], "json")))
			json = true;
		else if (argv[i][0] != '-' && !id && strcmp(argv[i], "table"))
			id = argv[i];
		else if (strcmp(argv[i], "--format=table") &&
			 strcmp(argv[i], "table"))
			return oci_fail(
				"ps: expected [--format table|json] ID");
	}
	if (!id)
		return oci_fail("ps: expected [--format table|json] ID");
	if (oci_load(g, id, &s))
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)s.pid);
	if (oci_state_status(&s) == OCI_STOPPED || stat(path, &sb) < 0) {
		oci_state_free(&s);
		return oci_fail("container not running");
	}
	oci_state_free(&s);
	arr = json_array();
	if (!json)
		printf("%-8s %s\n", "PID", "CMD");
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0 || !oci_same_pidns(pid, sb.st_ino))
			continue;
		json_array_append_new(arr, json_integer(pid));
		oci_comm(pid, comm, sizeof(comm));
		if (!json)
			printf("%-8d %s\n", (int)pid, comm);
	}
	if (d)
		closedir(d);
	if (json) {
		text = json_dumps(arr, JSON_COMPACT);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(arr);
	return 0;
}

/* oci_features() - features: what this runtime supports, as runc 1.1. */
static int oci_features(void)
{
	static const char *const opts[] = {
		"async",       "atime",	   "bind",	 "defaults", "dev",
		"diratime",    "dirsync",  "exec",	 "noatime",  "nodev",
		"nodiratime",  "noexec",   "norelatime", "nosuid",   "private",
		"rbind",       "relatime", "ro",	 "rprivate", "rw",
		"strictatime", "suid",	   "sync",
	};
	json_t *o, *mo = json_array();
	char *text;
	unsigned i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		json_array_append_new(mo, json_string(opts[i]));
	o = json_pack("{s:s, s:s, s:[], s:o, s:{s:[sssss], s:[], s:{s:b, "
		      "s:b, s:b}, s:{s:b}, s:{s:b}, s:{s:b}}, s:{s:s}}",
		      "ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION,
		      "hooks", "mountOptions", mo, "linux", "namespaces",
		      "cgroup", "ipc", "mount", "network", "pid",
		      "capabilities", "cgroup", "v1", 0, "v2", 0, "systemd", 0,
		      "seccomp", "enabled", 0, "apparmor", "enabled", 0,
		      "selinux", "enabled", 0, "annotations",
		      "run.cove.network", "the stack of this container");
	text = o ? json_dumps(o, JSON_INDENT(4)) : NULL;
	json_decref(o);
	if (!text)
		return oci_fail("out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

/* The default config.json of `spec`: sh in ./rootfs, isolated. */
static const char oci_default_spec[] =
	"{\n"
	"  \"ociVersion\": \"" OCI_VERSION "\",\n"
	"  \"process\": {\n"
	"    \"terminal\": false,\n"
	"    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
	"    \"args\": [ \"sh\" ],\n"
	"    \"env\": [\n"
	"      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"      \"TERM=xterm\"\n"
	"    ],\n"
	"    \"cwd\": \"/\",\n"
	"    \"noNewPrivileges\": true\n"
	"  },\n"
	"  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
	"  \"hostname\": \"cove\",\n"
	"  \"mounts\": [\n"
	"    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
	"    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
	"      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
	"    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\" ] },\n"
	"    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
	"    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
	"    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] }\n"
	"  ],\n"
	"  \"linux\": {\n"
	"    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" },\n"
	"      { \"type\": \"ipc\" }, { \"type\": \"uts\" }, { \"type\": \"mount\" } ],\n"
	"    \"maskedPaths\": [ \"/proc/kcore\", \"/proc/keys\", \"/proc/timer_list\",\n"
	"      \"/sys/firmware\" ],\n"
	"    \"readonlyPaths\": [ \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
	"      \"/proc/sysrq-trigger\" ]\n"
	"  }\n"
	"}\n";

/* oci_spec() - spec [--bundle DIR]: write a default config.json. */
static int oci_spec(int argc, char **argv)
{
	const char *dir = ".";
	char path[4200];
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--bundle") || !strcmp(argv[i], "-b")) &&
		    i + 1 < argc)
			dir = argv[++i];
		else if (!strncmp(argv[i], "--bundle=", 9))
			dir = argv[i] + 9;
		else
			return oci_fail("spec: unknown option '%s'", argv[i]);
	}
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (!access(path, F_OK))
		return oci_fail("File %s exists. Remove it first", path);
	f = fopen(path, "wxe");
	if (!f || fputs(oci_default_spec, f) < 0 || fclose(f) != 0)
		return oci_fail("write %s: %s", path, strerror(errno));
	return 0;
}

/* oci_one_id() - the verb's single argument (state, start). */
static const char *oci_one_id(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		oci_fail("%s: expected exactly one container id", argv[0]);
		return NULL;
	}
	return argv[1];
}

/**
 * oci_globals() - the global flags before the verb
 * @argc:	argument count
 * @argv:	argv[0] the program
 * @g:		filled
 * @verb:	set to the verb's index in @argv
 *
 * Return: 0, 1 after --help/--version (printed), or -1 (reported).
 */
static int oci_globals(int argc, char **argv, struct oci_global *g, int *verb)
{
	const char *fmt = "text", *a, *v;
	int i;

	*g = (struct oci_global){ .root = OCI_DEFAULT_ROOT, .network = NULL };
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		a = argv[i];
		v = strchr(a, '=');
		if (!strcmp(a, "--debug")) {
			g->debug = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			oci_usage(stdout);
			return 1;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("%s version 0.1.0\nspec: %s\n", cove_progname,
			       OCI_VERSION);
			return 1;
		}
		if (!strcmp(a, "--systemd-cgroup")) {
			oci_fail("--systemd-cgroup: cgroups through systemd "
				 "are not supported yet%s",
				 access("/run/systemd/system", F_OK) ?
					 " (and systemd does not run here)" :
					 "");
			return -1;
		}
		if (!strncmp(a, "--rootless", 10)) {
			if (v &&
			    (!strcmp(v + 1, "false") || !strcmp(v + 1, "auto")))
				continue;
			oci_fail("--rootless: not supported (cove needs root)");
			return -1;
		}
		if (!v && i + 1 < argc)
			v = argv[++i];
		else if (v)
			v++;
		if (!v) {
			oci_fail("%s needs a value", a);
			return -1;
		}
		if (!strncmp(a, "--root", 6) && (a[6] == '=' || !a[6]))
			g->root = v;
		else if (!strncmp(a, "--log-format", 12))
			fmt = v;
		else if (!strncmp(a, "--log", 5) && (a[5] == '=' || !a[5]))
			g->log = v;
		else if (!strncmp(a, "--network", 9))
			g->network = v;
		else if (!strncmp(a, "--criu", 6))
			continue;
		else {
			oci_fail("unknown global option '%s'", a);
			return -1;
		}
	}
	if (strcmp(fmt, "text") && strcmp(fmt, "json")) {
		oci_fail("--log-format: '%s' is not text or json", fmt);
		return -1;
	}
	g->json = !strcmp(fmt, "json");
	if (oci_log_open(g->log, g->json, g->debug) < 0) {
		fprintf(stderr, "%s: --log %s: %s\n", cove_progname, g->log,
			strerror(errno));
		return -1;
	}
	if (i >= argc) {
		oci_usage(stderr);
		return -1;
	}
	*verb = i;
	return 0;
}

/**
 * oci_main() - the OCI form: global flags, then the verb
 * @argc:	argument count
 * @argv:	argv[0] the program (or "oci" for `cove oci ...`), then the
 *		global flags and the verb
 *
 * Return: the verb's exit status: 0, 1 on any failure (as runc), or the
 * container's status for a foreground run.
 */
static int oci_main(int argc, char **argv)
{
	struct oci_create_opts c;
	struct oci_global g;
	const char *id;
	int v, r;
	pid_t pid;

	r = oci_globals(argc, argv, &g, &v);
	if (r)
		return r > 0 ? 0 : 1;
	argc -= v;
	argv += v;
	oci_log("debug", "%s %s", cove_progname, argv[0]);
	if (!strcmp(argv[0], "create")) {
		r = oci_parse_create(argc, argv, &c, &id);
		return r ? (r > 0 ? 0 : 1) : oci_create(&g, &c, id, &pid);
	}
	if (!strcmp(argv[0], "start"))
		return (id = oci_one_id(argc, argv)) ? oci_start(&g, id) : 1;
	if (!strcmp(argv[0], "state"))
		return (id = oci_one_id(argc, argv)) ? oci_state_print(&g, id) :
						       1;
	if (!strcmp(argv[0], "kill"))
		return oci_kill(&g, argc, argv);
	if (!strcmp(argv[0], "delete"))
		return oci_delete(&g, argc, argv);
	if (!strcmp(argv[0], "list"))
		return oci_list(&g, argc, argv);
	if (!strcmp(argv[0], "run"))
		return oci_run(&g, argc, argv);
	if (!strcmp(argv[0], "exec"))
		return oci_exec(&g, argc, argv);
	if (!strcmp(argv[0], "ps"))
		return oci_ps(&g, argc, argv);
	if (!strcmp(argv[0], "pause") || !strcmp(argv[0], "resume"))
		return (id = oci_one_id(argc, argv)) ?
			       oci_pause(&g, id, argv[0][0] == 'p') :
			       1;
	if (!strcmp(argv[0], "features"))
		return oci_features();
	if (!strcmp(argv[0], "spec"))
		return oci_spec(argc, argv);
	return oci_fail("%s: not supported yet by %s's OCI runtime", argv[0],
			cove_progname);
}

/* oci_is_container() - does @id name a container under the default root? */
static bool oci_is_container(const char *id)
{
	char path[4200];

	if (!oci_id_valid(id))
		return false;
	snprintf(path, sizeof(path), "%s/%s/state.json", OCI_DEFAULT_ROOT, id);
	return !access(path, F_OK);
}

/*
 * oci_names_container() - does an argument before any "--" name a
 * container under the default root? (The native verbs' NAME is a
 * sandbox name, which never has state there.)
 */
static bool oci_names_container(int argc, char **argv)
{
	int i;

	for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (argv[i][0] != '-' && oci_is_container(argv[i]))
			return true;
	return false;
}

/* oci_exec_flag() - a flag only OCI's exec has (conmon passes them). */
static bool oci_exec_flag(const char *a)
{
	return !strncmp(a, "--process", 9) || !strncmp(a, "--pid-file", 10) ||
	       !strcmp(a, "--detach") || !strcmp(a, "-d") || !strcmp(a, "-p") ||
	       !strcmp(a, "--tty") || !strcmp(a, "-t");
}

/**
 * oci_claims() - is this command line the OCI form? (rule in docs/OCI.md)
 * @argc:	argument count (>= 2)
 * @argv:	the whole command line
 *
 * Return: true for an OCI global flag first, a verb only OCI has, run
 * or exec with a flag only OCI's has, kill/exec/ps naming an id that
 * exists under the default root, list with --format or --quiet.
 */
static bool oci_claims(int argc, char **argv)
{
	static const char *const only_oci[] = {
		"create", "start",  "state",  "delete", "features",   "spec",
		"pause",  "resume", "update", "events", "checkpoint", "restore",
	};
	static const char *const globals[] = {
		"--root",    "--log",	   "--debug", "--systemd-cgroup",
		"--network", "--rootless", "--criu",
	};
	const char *a = argv[1];
	unsigned i;
	int j;

	for (i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		if (!strncmp(a, globals[i], strlen(globals[i])))
			return true;
	for (i = 0; i < sizeof(only_oci) / sizeof(only_oci[0]); i++)
		if (!strcmp(a, only_oci[i]))
			return true;
	if (!strcmp(a, "run")) {
		for (j = 2; j < argc && argv[j][0] == '-'; j++)
			if (!strcmp(argv[j], "-b") || !strcmp(argv[j], "-d") ||
			    !strncmp(argv[j], "--bundle", 8) ||
			    !strcmp(argv[j], "--detach") ||
			    !strncmp(argv[j], "--pid-file", 10))
				return true;
		return false;
	}
	if (!strcmp(a, "exec"))
		for (j = 2; j < argc && strcmp(argv[j], "--"); j++)
			if (oci_exec_flag(argv[j]))
				return true;
	if (!strcmp(a, "kill") || !strcmp(a, "exec") || !strcmp(a, "ps"))
		return oci_names_container(argc, argv);
	if (!strcmp(a, "list"))
		for (j = 2; j < argc; j++)
			if (!strncmp(argv[j], "--format", 8) ||
			    !strcmp(argv[j], "-f") || !strcmp(argv[j], "-q") ||
			    !strcmp(argv[j], "--quiet"))
				return true;
	return false;
}

static const struct cove_cmd oci_cmd = {
	.name = "oci",
	.summary = "OCI runtime form, runc's command line (docs/OCI.md)",
	.main = oci_main,
	.claims = oci_claims,
};
COVE_COMMAND(oci_cmd);
