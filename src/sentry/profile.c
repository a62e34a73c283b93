// SPDX-License-Identifier: Apache-2.0
/* The container's own seccomp profile, on top of Cove's program filter. */
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * An OCI bundle may carry a seccomp profile of its own (linux.seccomp,
 * checked by src/oci/profile.c). It becomes a second filter, built here
 * with libseccomp in the program's process and loaded as late as
 * possible: right before the program's execve (spawn.c, after the
 * exec.fifo gate, as runc does) and before each `cove exec` command's
 * execve (exec.c). Cove's own filter (seccomp.c) is loaded earlier, with
 * the listener the sentry serves, so the set-up between the two (the
 * listener's hand-over, the exec helper's fork, setuid, the fifo) is
 * never subject to the profile.
 *
 * The kernel runs every filter and returns the answer of highest
 * precedence (KILL, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW): a call
 * the profile allows and Cove traps goes to the sentry; a call the
 * profile refuses is refused before the sentry sees it; a call Cove
 * refuses stays refused whatever the profile says.
 *
 * As runc does: syscall names libseccomp does not know (or that do not
 * exist on this architecture) are skipped; a rule whose action is the
 * default one is skipped (libseccomp refuses it); an entry whose args
 * compare one argument twice becomes one rule per comparison (an OR),
 * otherwise one rule with all of them (an AND).
 */

/* sbx_profile_action() - our action as libseccomp's. */
static uint32_t sbx_profile_action(enum sbx_sc_action a, unsigned ret)
{
	switch (a) {
	case SBX_SC_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case SBX_SC_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case SBX_SC_TRAP:
		return SCMP_ACT_TRAP;
	case SBX_SC_ERRNO:
		return SCMP_ACT_ERRNO(ret);
	case SBX_SC_TRACE:
		return SCMP_ACT_TRACE(ret);
	case SBX_SC_LOG:
		return SCMP_ACT_LOG;
	case SBX_SC_ALLOW:
		break;
	}
	return SCMP_ACT_ALLOW;
}

/* sbx_profile_cmp() - one of our comparisons as libseccomp's. */
static struct scmp_arg_cmp sbx_profile_cmp(const struct sbx_sc_arg *a)
{
	static const enum scmp_compare ops[] = {
		[SBX_SC_NE] = SCMP_CMP_NE,
		[SBX_SC_LT] = SCMP_CMP_LT,
		[SBX_SC_LE] = SCMP_CMP_LE,
		[SBX_SC_EQ] = SCMP_CMP_EQ,
		[SBX_SC_GE] = SCMP_CMP_GE,
		[SBX_SC_GT] = SCMP_CMP_GT,
		[SBX_SC_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
	};
	struct scmp_arg_cmp c = {
		.arg = a->index,
		.op = ops[a->op],
		.datum_a = a->value,
		.datum_b = a->value2,
	};

	return c;
}

/* sbx_profile_add() - one rule; a call unknown on this arch is skipped. */
static int sbx_profile_add(scmp_filter_ctx ctx, uint32_t act, int nr,
			   unsigned n, const struct scmp_arg_cmp *c)
{
	int r = seccomp_rule_add_array(ctx, act, nr, n, c);

	return r == -EDOM || r == -EFAULT ? 0 : r;
}

/**
 * sbx_profile_entry() - the rules of one syscalls[] entry
 * @ctx:	filter being built
 * @e:		the entry
 * @def:	the default action (rules with it are skipped)
 * @err:	names the call on failure
 *
 * Return: 0 or -1.
 */
static int sbx_profile_entry(scmp_filter_ctx ctx, const struct sbx_sc_entry *e,
			     uint32_t def, struct cove_err *err)
{
	uint32_t act = sbx_profile_action(e->action, e->ret);
	struct scmp_arg_cmp c[SBX_SC_MAX_ARGS];
	unsigned per_arg[6] = { 0 }, i, k;
	bool split = false;
	int nr, r = 0;

	if (act == def)
		return 0;
	for (k = 0; k < e->nargs; k++) {
		c[k] = sbx_profile_cmp(&e->args[k]);
		split |= ++per_arg[e->args[k].index] > 1;
	}
	for (i = 0; i < e->nnames && !r; i++) {
		nr = seccomp_syscall_resolve_name(e->names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to libseccomp: skipped, as runc */
		if (!split)
			r = sbx_profile_add(ctx, act, nr, e->nargs, c);
		for (k = 0; split && k < e->nargs && !r; k++)
			r = sbx_profile_add(ctx, act, nr, 1, &c[k]);
		if (r)
			return cove_err_set(err, -r,
					    "linux.seccomp: rule for %s",
					    e->names[i]);
	}
	return 0;
}

/**
 * sbx_profile_build() - the container's profile as a libseccomp filter
 * @sc:		the profile (src/oci/profile.c checked it)
 * @err:	what libseccomp refused
 *
 * Nothing is loaded yet: sbx_profile_load() does that, as late as the
 * caller can.
 *
 * Return: the filter, or NULL with @err set.
 */
void *sbx_profile_build(const struct sbx_seccomp *sc, struct cove_err *err)
{
	uint32_t def = sbx_profile_action(sc->defact, sc->defret);
	scmp_filter_ctx ctx = seccomp_init(def);
	unsigned i;
	int r = 0;

	if (!ctx) {
		cove_err_set(err, ENOMEM, "linux.seccomp: seccomp_init");
		return NULL;
	}
	if (sc->log)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (!r && sc->spec_allow)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
	if (r) {
		cove_err_set(err, -r, "linux.seccomp.flags");
		seccomp_release(ctx);
		return NULL;
	}
	for (i = 0; i < sc->nentries; i++)
		if (sbx_profile_entry(ctx, &sc->entries[i], def, err) < 0) {
			seccomp_release(ctx);
			return NULL;
		}
	return ctx;
}

/**
 * sbx_profile_load() - load a filter from sbx_profile_build() and free it
 * @filter:	the filter
 *
 * Return: 0 or a negative errno.
 */
int sbx_profile_load(void *filter)
{
	int r = seccomp_load(filter);

	seccomp_release(filter);
	return r;
}
