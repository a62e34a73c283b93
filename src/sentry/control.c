// SPDX-License-Identifier: Apache-2.0
/* The sentry's end of the control channel: it listens, the runtime dials. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "control/control.h"
#include "control/cove.pb-c.h"
#include "sentry/procs.h"
#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * The sentry serves the control channel (src/control/, docs/CONTROL.md)
 * on /run/cove/NAME/control.sock, owner uid only. Right after listen() the
 * sentry writes the readiness byte `cove run` waits for; requests are
 * served from the sentry's loop, so once the program runs. The server's
 * epoll fd sits in the sentry's epoll set.
 *
 * Methods: cove.Health, cove.Exec (a process forked by the zygote, exec.c,
 * with the caller's stdio passed as fds), cove.Wait (deferred until the
 * process exits), cove.Signal, cove.ListProcesses, cove.Stats.
 *
 * The process table is procs.c (sn->procs); deferred cove.Wait calls are
 * answered here by sbx_proc_exited() from the sentry's reaper, which also
 * runs for everything killed when the sandbox ends.
 *
 * Every request is unpacked by protobuf-c and then checked here: counts
 * and lengths bounded, ids of [A-Za-z0-9._-], signals 1..64. A bad request
 * is an INVALID_ARGUMENT answer, never a crash or a disconnect.
 */

#define SBX_EXEC_ARGS_MAX 1024 /* argv and env entries */
#define SBX_EXEC_STR_MAX  4096 /* bytes per argument, env entry, cwd */
#define SBX_PS_MAX	  256  /* processes in one ListProcesses */

/* sbx_rep_err() - fill an error answer. */
static void sbx_rep_err(struct cove_ctl_reply *rep, int32_t code,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sbx_rep_err(struct cove_ctl_reply *rep, int32_t code,
			const char *fmt, ...)
{
	va_list ap;

	rep->code = code;
	va_start(ap, fmt);
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	va_end(ap);
}

/* sbx_rep_pack() - allocate the answer's payload; false when out of memory. */
static bool sbx_rep_alloc(struct cove_ctl_reply *rep, size_t n)
{
	rep->payload = malloc(n ? n : 1);
	if (!rep->payload) {
		sbx_rep_err(rep, COVE_CTL_RESOURCE_EXHAUSTED, "out of memory");
		return false;
	}
	return true;
}

/**
 * sbx_wait_answer() - answer one deferred cove.Wait
 * @sn:		sentry
 * @call:	the call
 * @p:		the exited process
 */
static void sbx_wait_answer(struct sentry *sn, const struct cove_ctl_call *call,
			    const struct sbx_proc *p)
{
	Cove__Control__WaitResponse w = COVE__CONTROL__WAIT_RESPONSE__INIT;
	struct cove_ctl_reply rep = { 0 };

	w.exit_code = p->exit_code;
	w.signal = p->term_signal;
	if (!sbx_rep_alloc(&rep,
			   cove__control__wait_response__get_packed_size(&w)))
		return;
	rep.len = cove__control__wait_response__pack(&w, rep.payload);
	if (sn->ctl) {
		if (cove_ctl_server_reply(sn->ctl, call, &rep) == 0 &&
		    !strcmp(p->id, "main"))
			sn->main_told = true;
	} else
		free(rep.payload);
}

void sbx_proc_exited(struct sentry *sn, pid_t pid, int status)
{
	struct sbx_proc *p = sbx_procs_exited(sn->procs, pid, status);
	unsigned k;

	if (!p)
		return;
	for (k = 0; k < p->nwaits; k++)
		sbx_wait_answer(sn, &p->waits[k], p);
	p->nwaits = 0;
}

void sbx_proc_add(struct sentry *sn, const char *id, pid_t pid,
		  char *const *argv, size_t argc)
{
	sbx_procs_add(sn->procs, id, pid, argv, argc);
}

/* sbx_id_ok() - 1..31 characters of [A-Za-z0-9._-]. */
static bool sbx_id_ok(const char *id)
{
	size_t i, n = strlen(id);

	if (!n || n > SBX_PROC_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._-", id[i]))
			return false;
	return true;
}

/* sbx_strs_ok() - at most SBX_EXEC_ARGS_MAX strings of bounded length. */
static bool sbx_strs_ok(char **v, size_t n, bool need_eq)
{
	size_t i;

	if (n > SBX_EXEC_ARGS_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (strnlen(v[i], SBX_EXEC_STR_MAX + 1) > SBX_EXEC_STR_MAX ||
		    (need_eq && (!strchr(v[i], '=') || v[i][0] == '=')))
			return false;
	return true;
}

/**
 * sbx_exec_check() - validate an ExecRequest
 * @r:		unpacked request
 * @rep:	error answer when invalid
 *
 * Return: true when valid.
 */
static bool sbx_exec_check(const Cove__Control__ExecRequest *r,
			   struct cove_ctl_reply *rep)
{
	const Cove__Control__ProcessSpec *ps = r->process;

	if (!ps || !ps->n_argv) {
		sbx_rep_err(rep, COVE_CTL_INVALID_ARGUMENT,
			    "no command to run");
		return false;
	}
	if (r->id[0] && !sbx_id_ok(r->id)) {
		sbx_rep_err(
			rep, COVE_CTL_INVALID_ARGUMENT,
			"process id must be 1..%d characters of [A-Za-z0-9._-]",
			SBX_PROC_ID_MAX);
		return false;
	}
	if (!ps->argv[0][0] || !sbx_strs_ok(ps->argv, ps->n_argv, false) ||
	    !sbx_strs_ok(ps->env, ps->n_env, true) ||
	    strnlen(ps->cwd, SBX_EXEC_STR_MAX + 1) > SBX_EXEC_STR_MAX ||
	    ps->n_groups > 0) {
		sbx_rep_err(
			rep, COVE_CTL_INVALID_ARGUMENT,
			"bad process spec: at most %d arguments and variables (KEY=VALUE) of %d bytes each, no extra groups",
			SBX_EXEC_ARGS_MAX, SBX_EXEC_STR_MAX);
		return false;
	}
	if (ps->stdio != COVE__CONTROL__STDIO_MODE__STDIO_FDS &&
	    ps->stdio != COVE__CONTROL__STDIO_MODE__STDIO_NULL) {
		sbx_rep_err(rep, COVE_CTL_UNIMPLEMENTED,
			    "stdio mode %d: only passed fds and /dev/null",
			    (int)ps->stdio);
		return false;
	}
	return true;
}

/**
 * sbx_exec_complete() - the spec the zygote gets: sandbox environment
 * first, then the caller's; the sandbox's --user unless one was given
 * @sn:		sentry
 * @ps:		spec (modified: env replaced, user filled)
 * @env:	set to the merged array (free it; strings borrowed)
 *
 * Return: 0 or -ENOMEM.
 */
static int sbx_exec_complete(struct sentry *sn, Cove__Control__ProcessSpec *ps,
			     char ***env)
{
	char **base = sbx_build_env(sn->o), **all;
	size_t nb = 0, i;

	if (!base)
		return -ENOMEM;
	while (base[nb])
		nb++;
	all = calloc(nb + ps->n_env + 1, sizeof(char *));
	if (!all) {
		free(base);
		return -ENOMEM;
	}
	memcpy(all, base, nb * sizeof(char *));
	for (i = 0; i < ps->n_env; i++)
		all[nb + i] = ps->env[i];
	free(base);
	ps->env = all;
	ps->n_env += nb;
	*env = all;
	if (!ps->user_set && sn->o->have_user) {
		ps->user_set = true;
		ps->uid = sn->o->uid;
		ps->gid = sn->o->gid;
	}
	return 0;
}

/*
 * sbx_exec_stdio() - the three stdio fds for the zygote: the caller's
 * (mode FDS, passed with the request) or /dev/null (mode NULL) in
 * @fds[0..2]; *@n counts the open fds in @fds, which the caller closes.
 * Return: true, or false after an error reply.
 */
static bool sbx_exec_stdio(const Cove__Control__ProcessSpec *ps, int *fds,
			   int *n, struct cove_ctl_reply *rep)
{
	if (ps->stdio == COVE__CONTROL__STDIO_MODE__STDIO_FDS && *n != 3) {
		sbx_rep_err(
			rep, COVE_CTL_INVALID_ARGUMENT,
			"stdio mode FDS needs 3 fds passed with the request (got %d; unix transport only)",
			*n);
		return false;
	}
	if (ps->stdio != COVE__CONTROL__STDIO_MODE__STDIO_NULL)
		return true;
	while (*n > 0)
		close(fds[--*n]);
	for (; *n < 3; ++*n) {
		fds[*n] = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fds[*n] < 0) {
			sbx_rep_err(rep, COVE_CTL_INTERNAL, "/dev/null: %s",
				    strerror(errno));
			return false;
		}
	}
	return true;
}

/*
 * sbx_exec_name() - the new process's id in @id: @want, or the next
 * exec-N; it must be free, with a slot in the table and the sandbox not
 * stopping. Return: true, or false after an error reply.
 */
static bool sbx_exec_name(struct sentry *sn, const char *want, char *id,
			  size_t size, struct cove_ctl_reply *rep)
{
	if (sn->child_done) {
		sbx_rep_err(rep, COVE_CTL_FAILED_PRECONDITION,
			    "the sandbox is stopping");
		return false;
	}
	if (want[0])
		snprintf(id, size, "%s", want);
	else
		snprintf(id, size, "exec-%llu",
			 (unsigned long long)sn->procs->seq + 1);
	if (sbx_procs_find(sn->procs, id)) {
		sbx_rep_err(rep, COVE_CTL_ALREADY_EXISTS,
			    "process id %s is taken", id);
		return false;
	}
	if (!sbx_procs_slot(sn->procs)) {
		sbx_rep_err(rep, COVE_CTL_RESOURCE_EXHAUSTED,
			    "%d processes run already", SBX_MAX_PROCS);
		return false;
	}
	return true;
}

/*
 * sbx_exec_spawn() - complete @r's spec (sbx_exec_complete()), pack it and
 * have the zygote fork it with @fds as stdio; @r is as it came afterwards.
 * Return: the host pid, or -1 after an error reply.
 */
static pid_t sbx_exec_spawn(struct sentry *sn, Cove__Control__ExecRequest *r,
			    const int *fds, struct cove_ctl_reply *rep)
{
	char **saved_env = r->process->env;
	size_t saved_n = r->process->n_env, plen;
	cove_cleanup_free char **env = NULL;
	cove_cleanup_free uint8_t *packed = NULL;
	struct cove_err err = { 0 };
	pid_t pid = -1;

	if (sbx_exec_complete(sn, r->process, &env) < 0) {
		sbx_rep_err(rep, COVE_CTL_RESOURCE_EXHAUSTED, "out of memory");
		return -1;
	}
	plen = cove__control__exec_request__get_packed_size(r);
	packed = malloc(plen ? plen : 1);
	if (!packed) {
		sbx_rep_err(rep, COVE_CTL_RESOURCE_EXHAUSTED, "out of memory");
	} else {
		cove__control__exec_request__pack(r, packed);
		pid = sbx_zygote_exec(sn, packed, plen, fds, &err);
		if (pid < 0)
			sbx_rep_err(rep,
				    err.code == E2BIG ?
					    COVE_CTL_INVALID_ARGUMENT :
					    COVE_CTL_UNAVAILABLE,
				    "%s", err.msg);
	}
	/* the merged array borrowed the strings: give back the request's */
	r->process->env = saved_env;
	r->process->n_env = saved_n;
	return pid < 0 ? -1 : pid;
}

/* sbx_ctl_exec() - cove.Exec: one more process, forked by the zygote. */
static void sbx_ctl_exec(void *opaque, const struct cove_ctl_call *call,
			 const uint8_t *req, size_t len,
			 struct cove_ctl_reply *rep)
{
	Cove__Control__ExecResponse er = COVE__CONTROL__EXEC_RESPONSE__INIT;
	Cove__Control__ExecRequest *r;
	struct sentry *sn = opaque;
	int fds[COVE_CTL_MAX_FDS], i, n;
	char id[SBX_PROC_ID_MAX + 1];
	pid_t pid;

	n = (int)cove_ctl_server_take_fds(sn->ctl, call, fds, COVE_CTL_MAX_FDS);
	r = cove__control__exec_request__unpack(NULL, len, req);
	if (!r)
		sbx_rep_err(rep, COVE_CTL_INVALID_ARGUMENT,
			    "malformed ExecRequest");
	else if (sbx_exec_check(r, rep) &&
		 sbx_exec_stdio(r->process, fds, &n, rep) &&
		 sbx_exec_name(sn, r->id, id, sizeof(id), rep) &&
		 (pid = sbx_exec_spawn(sn, r, fds, rep)) > 0) {
		sbx_proc_add(sn, id, pid, r->process->argv, r->process->n_argv);
		er.pid = (uint32_t)pid;
		er.id = id;
		if (sbx_rep_alloc(rep,
				  cove__control__exec_response__get_packed_size(
					  &er)))
			rep->len =
				cove__control__exec_response__pack(&er,
								   rep->payload);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (r)
		cove__control__exec_request__free_unpacked(r, NULL);
}

/* sbx_ctl_wait() - cove.Wait: answered now if exited, else when it exits. */
static void sbx_ctl_wait(void *opaque, const struct cove_ctl_call *call,
			 const uint8_t *req, size_t len,
			 struct cove_ctl_reply *rep)
{
	Cove__Control__WaitRequest *r;
	struct sentry *sn = opaque;
	struct sbx_proc *p;

	r = cove__control__wait_request__unpack(NULL, len, req);
	if (!r) {
		sbx_rep_err(rep, COVE_CTL_INVALID_ARGUMENT,
			    "malformed WaitRequest");
		return;
	}
	p = sbx_procs_find(sn->procs, r->id);
	if (!p)
		sbx_rep_err(rep, COVE_CTL_NOT_FOUND, "no process %s",
			    r->id[0] ? r->id : "main");
	else if (!p->running)
		sbx_wait_answer(sn, call, p), rep->deferred = 1;
	else if (p->nwaits == SBX_MAX_WAITS)
		sbx_rep_err(rep, COVE_CTL_RESOURCE_EXHAUSTED,
			    "%d callers wait for %s already", SBX_MAX_WAITS,
			    p->id);
	else
		p->waits[p->nwaits++] = *call, rep->deferred = 1;
	cove__control__wait_request__free_unpacked(r, NULL);
}

/**
 * sbx_each_pid() - call @fn for every process of the sandbox but the
 * sentry and the zygote (from the sandbox's /proc)
 * @sn:		sentry
 * @fn:		callback; returns false to stop
 * @arg:	its argument
 */
static void sbx_each_pid(struct sentry *sn, bool (*fn)(void *, pid_t),
			 void *arg)
{
	struct dirent *d;
	DIR *dir = opendir("/proc");

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (*end || pid <= 1 || pid == sn->zyg_pid)
			continue;
		if (!fn(arg, (pid_t)pid))
			break;
	}
	closedir(dir);
}

struct sbx_sig_all {
	int sig, sent;
};

static bool sbx_sig_one(void *arg, pid_t pid)
{
	struct sbx_sig_all *a = arg;

	a->sent += kill(pid, a->sig) == 0;
	return true;
}

/* sbx_ctl_signal() - cove.Signal: the program, one process, or all. */
static void sbx_ctl_signal(void *opaque, const struct cove_ctl_call *call,
			   const uint8_t *req, size_t len,
			   struct cove_ctl_reply *rep)
{
	Cove__Control__SignalRequest *r;
	struct sentry *sn = opaque;
	struct sbx_proc *p;
	int sig;

	(void)call;
	r = cove__control__signal_request__unpack(NULL, len, req);
	if (!r) {
		sbx_rep_err(rep, COVE_CTL_INVALID_ARGUMENT,
			    "malformed SignalRequest");
		return;
	}
	sig = r->signal ? r->signal : SIGTERM;
	if (sig < 1 || sig >= NSIG) {
		sbx_rep_err(rep, COVE_CTL_INVALID_ARGUMENT, "no signal %d",
			    sig);
	} else if (r->all) {
		struct sbx_sig_all a = { .sig = sig };

		sbx_each_pid(sn, sbx_sig_one, &a);
		if (!a.sent)
			sbx_rep_err(rep, COVE_CTL_NOT_FOUND,
				    "no process to signal");
	} else {
		p = sbx_procs_find(sn->procs, r->id);
		if (!p)
			sbx_rep_err(rep, COVE_CTL_NOT_FOUND, "no process %s",
				    r->id[0] ? r->id : "main");
		else if (!p->running)
			sbx_rep_err(rep, COVE_CTL_FAILED_PRECONDITION,
				    "process %s has exited", p->id);
		else if (kill(p->pid, sig) < 0)
			sbx_rep_err(rep, COVE_CTL_INTERNAL, "kill %d: %s",
				    (int)p->pid, strerror(errno));
	}
	cove__control__signal_request__free_unpacked(r, NULL);
}

/* One ListProcesses answer under construction. */
struct sbx_ps {
	struct sentry *sn;
	Cove__Control__ProcessInfo info[SBX_PS_MAX];
	Cove__Control__ProcessInfo *ptr[SBX_PS_MAX];
	char *argv1[SBX_PS_MAX]; /* one joined string each */
	char cmd[SBX_PS_MAX][SBX_PROC_ARGV_MAX];
	size_t n;
};

/* sbx_ps_add() - one row; Return: false when the answer is full. */
static bool sbx_ps_add(struct sbx_ps *ps, const char *id, pid_t pid,
		       const char *argv, bool running, int code)
{
	Cove__Control__ProcessInfo *i;

	if (ps->n == SBX_PS_MAX)
		return false;
	i = &ps->info[ps->n];
	cove__control__process_info__init(i);
	snprintf(ps->cmd[ps->n], sizeof(ps->cmd[0]), "%s", argv);
	ps->argv1[ps->n] = ps->cmd[ps->n];
	i->id = (char *)id;
	i->pid = (uint32_t)pid;
	i->n_argv = 1;
	i->argv = &ps->argv1[ps->n];
	i->running = running;
	i->exit_code = code;
	ps->ptr[ps->n] = i;
	ps->n++;
	return true;
}

/* sbx_ps_other() - a process not in the table: its /proc cmdline. */
static bool sbx_ps_other(void *arg, pid_t pid)
{
	struct sbx_ps *ps = arg;
	char path[64], cmd[SBX_PROC_ARGV_MAX];
	unsigned i;
	ssize_t n;
	int fd;

	if (sbx_procs_running(ps->sn->procs, pid))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return true; /* a zombie or a kernel detail */
	for (i = 0; i + 1 < (size_t)n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	cmd[n] = '\0';
	return sbx_ps_add(ps, "", pid, cmd, true, 0);
}

/* sbx_ctl_ps() - cove.ListProcesses: the table, then other live processes. */
static void sbx_ctl_ps(void *opaque, const struct cove_ctl_call *call,
		       const uint8_t *req, size_t len,
		       struct cove_ctl_reply *rep)
{
	Cove__Control__ListProcessesResponse lr =
		COVE__CONTROL__LIST_PROCESSES_RESPONSE__INIT;
	struct sentry *sn = opaque;
	struct sbx_ps *ps;
	unsigned i;

	(void)call;
	(void)req;
	(void)len;
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		sbx_rep_err(rep, COVE_CTL_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	ps->sn = sn;
	for (i = 0; i < SBX_MAX_PROCS; i++) {
		struct sbx_proc *p = &sn->procs->p[i];

		if (p->id[0])
			sbx_ps_add(ps, p->id, p->pid, p->argv, p->running,
				   p->exit_code);
	}
	sbx_each_pid(sn, sbx_ps_other, ps);
	lr.n_processes = ps->n;
	lr.processes = ps->ptr;
	if (sbx_rep_alloc(rep,
			  cove__control__list_processes_response__get_packed_size(
				  &lr)))
		rep->len = cove__control__list_processes_response__pack(
			&lr, rep->payload);
	free(ps);
}

/* sbx_ctl_stats() - cove.Stats: the provider's and the relay's counters. */
static void sbx_ctl_stats(void *opaque, const struct cove_ctl_call *call,
			  const uint8_t *req, size_t len,
			  struct cove_ctl_reply *rep)
{
	Cove__Control__StatsResponse sr = COVE__CONTROL__STATS_RESPONSE__INIT;
	Cove__Control__StackStats ss = COVE__CONTROL__STACK_STATS__INIT;
	Cove__Control__StackStats *one = &ss;
	Cove__Control__RelayStats rs = COVE__CONTROL__RELAY_STATS__INIT;
	struct sentry *sn = opaque;
	struct cove_stack_stats s;
	int r;

	(void)call;
	(void)req;
	(void)len;
	if (!sn->st && sn->link_pending) {
		sbx_rep_err(rep, COVE_CTL_UNAVAILABLE,
			    "sandbox %s: the stack is still starting (its link "
			    "is being opened); ask again",
			    sn->o->name);
		return;
	}
	if (!sn->st) {
		sbx_rep_err(rep, COVE_CTL_FAILED_PRECONDITION,
			    "sandbox %s has no user-level stack (--network=%s)",
			    sn->o->name, sn->o->network);
		return;
	}
	memset(&s, 0, sizeof(s));
	r = cove_stack_read_stats(sn->ops, sn->st, &s);
	if (r < 0) {
		sbx_rep_err(rep, COVE_CTL_INTERNAL, "stack %s: stats: %s",
			    sn->ops->name, strerror(-r));
		return;
	}
	ss.stack = (char *)sn->ops->name;
#define SBX_S(f) ss.f = s.f
	SBX_S(rx_frames);
	SBX_S(rx_bytes);
	SBX_S(tx_frames);
	SBX_S(tx_bytes);
	SBX_S(rx_dropped);
	SBX_S(rx_bad_csum);
	SBX_S(rx_malformed);
	SBX_S(tx_dropped);
	SBX_S(arp_requests);
	SBX_S(arp_replies);
	SBX_S(ip_frags_in);
	SBX_S(ip_reassembled);
	SBX_S(ip_reasm_failed);
	SBX_S(icmp_in);
	SBX_S(icmp_out);
	SBX_S(udp_in);
	SBX_S(udp_out);
	SBX_S(udp_no_port);
	SBX_S(tcp_active_opens);
	SBX_S(tcp_passive_opens);
	SBX_S(tcp_in_segs);
	SBX_S(tcp_out_segs);
	SBX_S(tcp_retransmits);
	SBX_S(tcp_fast_retransmits);
	SBX_S(tcp_timeouts);
	SBX_S(tcp_resets_in);
	SBX_S(tcp_resets_out);
	SBX_S(tcp_ooo_segments);
	SBX_S(tcp_challenge_acks);
	SBX_S(sockets);
	SBX_S(tcp_conns);
	SBX_S(tcp_established);
	SBX_S(mem_bytes);
	SBX_S(frames_held);
	SBX_S(ip6_frags_in);
	SBX_S(ip6_reassembled);
	SBX_S(ip6_reasm_failed);
	SBX_S(icmp6_in);
	SBX_S(icmp6_out);
	SBX_S(nd_solicits);
	SBX_S(nd_adverts);
	SBX_S(pmtu_updates);
	SBX_S(tcp_syncookies_sent);
	SBX_S(tcp_syncookies_ok);
	SBX_S(tcp_syncookies_failed);
#undef SBX_S
	sr.n_stacks = 1;
	sr.stacks = &one;
	rs.spill_held = sn->nspill_held;
	rs.spill_spare = sn->nspill_spare;
	rs.spill_waits = sn->spill_waits;
	sr.relay = &rs;
	if (sbx_rep_alloc(rep,
			  cove__control__stats_response__get_packed_size(&sr)))
		rep->len =
			cove__control__stats_response__pack(&sr, rep->payload);
}

/*
 * sbx_ctl_health() - cove.Health: STARTING before the program was spawned,
 * SERVING while it runs, STOPPING after. `cove run` takes SERVING or
 * STOPPING as "the program started" (the sentry serves requests only from
 * its loop, which begins after the spawn).
 */
static void sbx_ctl_health(void *opaque, const struct cove_ctl_call *call,
			   const uint8_t *req, size_t len,
			   struct cove_ctl_reply *rep)
{
	struct sentry *sn = opaque;
	Cove__Control__HealthResponse r = COVE__CONTROL__HEALTH_RESPONSE__INIT;
	size_t n;

	(void)call;
	(void)req;
	(void)len;
	r.state = !sn->child ? COVE__CONTROL__HEALTH_RESPONSE__STATE__STARTING :
		  sn->child_done ?
			       COVE__CONTROL__HEALTH_RESPONSE__STATE__STOPPING :
			       COVE__CONTROL__HEALTH_RESPONSE__STATE__SERVING;
	n = cove__control__health_response__get_packed_size(&r);
	rep->payload = malloc(n ? n : 1);
	if (!rep->payload) {
		rep->code = COVE__CONTROL__CODE__RESOURCE_EXHAUSTED;
		return;
	}
	rep->len = cove__control__health_response__pack(&r, rep->payload);
}

static const struct cove_ctl_method sbx_ctl_methods[] = {
	{ "cove.Health", sbx_ctl_health },
	{ "cove.Exec", sbx_ctl_exec },
	{ "cove.Wait", sbx_ctl_wait },
	{ "cove.Signal", sbx_ctl_signal },
	{ "cove.ListProcesses", sbx_ctl_ps },
	{ "cove.Stats", sbx_ctl_stats },
	{ NULL, NULL },
};

static void sbx_ctl_log(void *opaque, const char *line)
{
	struct sentry *sn = opaque;

	if (sn->o->verbose)
		fprintf(stderr, "cove sentry: control: %s\n", line);
}

/**
 * sbx_control_start() - create the control server and listen on its socket
 * @sn:		sentry; sn->ctl is set on success (the sentry owns it)
 * @err:	set on failure, prefixed "control channel"
 *
 * Only the owner uid may connect; methods are sbx_ctl_methods.
 * Return: 0, or a negative errno with @err set.
 */
int sbx_control_start(struct sentry *sn, struct cove_err *err)
{
	struct cove_ctl_server_cfg cfg = {
		.owner_uid = getuid(),
		.sandbox = sn->o->name,
		.methods = sbx_ctl_methods,
		.opaque = sn,
		.log = sbx_ctl_log,
	};
	struct cove_ctl_addr a;

	if (cove_ctl_addr_parse("unix", sn->o->name, &a, err) < 0 ||
	    cove_ctl_server_new(&cfg, &sn->ctl, err) < 0 ||
	    cove_ctl_server_listen(sn->ctl, &a, err) < 0)
		return cove_err_prefix(err, "control channel");
	return 0;
}

void sbx_control_run(struct sentry *sn)
{
	if (sn->ctl)
		(void)cove_ctl_server_run(sn->ctl, 0);
}

int sbx_control_fd(const struct sentry *sn)
{
	return sn->ctl ? cove_ctl_server_fd(sn->ctl) : -1;
}
