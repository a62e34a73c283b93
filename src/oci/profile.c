// SPDX-License-Identifier: Apache-2.0
/* config.json linux.seccomp -> struct sbx_seccomp (the container's profile). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/oci.h"

/*
 * Theory of operation
 *
 * The container's own seccomp profile is checked here, at create time,
 * so a bad one fails `create` with the field named; the sentry turns the
 * result into a libseccomp filter in the program's process
 * (src/sentry/profile.c), loaded on top of Cove's own filter just before
 * the program's execve, as runc loads it. The kernel runs both filters
 * and takes the strictest answer, so the profile can only take calls
 * away: a call it allows that Cove traps is still served by the sentry.
 *
 * Checked here: defaultAction (required), defaultErrnoRet, each
 * syscalls[] entry's names, action, errnoRet and args (index 0..5,
 * value, valueTwo, op), architectures and flags. An unknown action, op,
 * architecture or flag is an error. Syscall names are kept as strings;
 * the sentry skips those libseccomp does not know, as runc does.
 * SCMP_ACT_NOTIFY and listenerPath are refused: the program's one
 * notification listener is Cove's (the sentry's), and a second user
 * listener on top would never be served.
 *
 * The profile's architectures are checked but only the native one gets
 * rules: Cove's own filter kills every call made through another
 * architecture (x32, int 0x80), which is stricter than any profile.
 */

#define OCI_ERR(err, ...) cove_err_set(err, 0, "config.json: " __VA_ARGS__)

/* The largest errno the kernel returns from a filter (MAX_ERRNO). */
#define OCI_SC_ERRNO_MAX 4095

static const struct {
	const char *name;
	enum sbx_sc_action act;
} oci_sc_actions[] = {
	{ "SCMP_ACT_KILL", SBX_SC_KILL_THREAD },
	{ "SCMP_ACT_KILL_THREAD", SBX_SC_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", SBX_SC_KILL_PROCESS },
	{ "SCMP_ACT_TRAP", SBX_SC_TRAP },
	{ "SCMP_ACT_ERRNO", SBX_SC_ERRNO },
	{ "SCMP_ACT_TRACE", SBX_SC_TRACE },
	{ "SCMP_ACT_LOG", SBX_SC_LOG },
	{ "SCMP_ACT_ALLOW", SBX_SC_ALLOW },
};

static const char *const oci_sc_ops[] = {
	[SBX_SC_NE] = "SCMP_CMP_NE",
	[SBX_SC_LT] = "SCMP_CMP_LT",
	[SBX_SC_LE] = "SCMP_CMP_LE",
	[SBX_SC_EQ] = "SCMP_CMP_EQ",
	[SBX_SC_GE] = "SCMP_CMP_GE",
	[SBX_SC_GT] = "SCMP_CMP_GT",
	[SBX_SC_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* The architectures libseccomp names (runc accepts these). */
static const char *const oci_sc_arches[] = {
	"SCMP_ARCH_NATIVE",   "SCMP_ARCH_X86",	    "SCMP_ARCH_X86_64",
	"SCMP_ARCH_X32",      "SCMP_ARCH_ARM",	    "SCMP_ARCH_AARCH64",
	"SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
	"SCMP_ARCH_PPC",      "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",
	"SCMP_ARCH_S390",     "SCMP_ARCH_S390X",    "SCMP_ARCH_PARISC",
	"SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

/* oci_sc_action() - "SCMP_ACT_ERRNO" -> SBX_SC_ERRNO; -1 if unknown. */
static int oci_sc_action(const char *name, const char *field,
			 struct cove_err *err)
{
	unsigned i;

	if (!name)
		return OCI_ERR(err, "%s: missing or not a string", field);
	if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		return OCI_ERR(err,
			       "%s: SCMP_ACT_NOTIFY is not supported (Cove's "
			       "sentry owns the program's seccomp listener)",
			       field);
	for (i = 0; i < sizeof(oci_sc_actions) / sizeof(oci_sc_actions[0]); i++)
		if (!strcmp(name, oci_sc_actions[i].name))
			return (int)oci_sc_actions[i].act;
	return OCI_ERR(err, "%s: unknown action '%s'", field, name);
}

/**
 * oci_sc_errno() - an errnoRet field: absent is EPERM
 * @v:		the JSON value, or NULL
 * @act:	the action it goes with
 * @field:	for the message
 * @out:	the value
 * @err:	what is wrong
 *
 * Only ERRNO and TRACE carry a value, as the runtime spec says.
 *
 * Return: 0 or -1.
 */
static int oci_sc_errno(const json_t *v, enum sbx_sc_action act,
			const char *field, unsigned *out, struct cove_err *err)
{
	json_int_t n;

	*out = act == SBX_SC_ERRNO ? EPERM : 0;
	if (!v || json_is_null(v))
		return 0;
	if (act != SBX_SC_ERRNO && act != SBX_SC_TRACE)
		return OCI_ERR(err,
			       "%s: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE "
			       "take a return value",
			       field);
	n = json_integer_value(v);
	if (!json_is_integer(v) || n < 0 || n > OCI_SC_ERRNO_MAX)
		return OCI_ERR(err, "%s: not an integer in 0..%d", field,
			       OCI_SC_ERRNO_MAX);
	*out = (unsigned)n;
	return 0;
}

/* oci_sc_u64() - a non-negative JSON integer (0 if absent). */
static int oci_sc_u64(const json_t *v, const char *field, size_t i,
		      uint64_t *out, struct cove_err *err)
{
	*out = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return OCI_ERR(err,
			       "linux.seccomp.syscalls[%zu].args: %s: not a "
			       "non-negative integer",
			       i, field);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/**
 * oci_sc_args() - the args of syscalls[@i]
 * @args:	the JSON array, or NULL
 * @i:		the entry's index, for messages
 * @e:		filled: nargs, args[]
 * @err:	names the arg and what is wrong
 *
 * Return: 0 or -1.
 */
static int oci_sc_args(const json_t *args, size_t i, struct sbx_sc_entry *e,
		       struct cove_err *err)
{
	const json_t *a;
	json_int_t idx;
	const char *op;
	size_t k;
	unsigned o;

	if (!args || json_is_null(args))
		return 0;
	if (!json_is_array(args))
		return OCI_ERR(err,
			       "linux.seccomp.syscalls[%zu].args: not an "
			       "array",
			       i);
	if (json_array_size(args) > SBX_SC_MAX_ARGS)
		return OCI_ERR(err,
			       "linux.seccomp.syscalls[%zu].args: more than %d",
			       i, SBX_SC_MAX_ARGS);
	json_array_foreach(args, k, a)
	{
		struct sbx_sc_arg *c = &e->args[k];

		idx = json_integer_value(json_object_get(a, "index"));
		if (!json_is_integer(json_object_get(a, "index")) || idx < 0 ||
		    idx > 5)
			return OCI_ERR(err,
				       "linux.seccomp.syscalls[%zu].args[%zu]."
				       "index: not in 0..5",
				       i, k);
		c->index = (unsigned)idx;
		op = json_string_value(json_object_get(a, "op"));
		for (o = 0;
		     op && o < sizeof(oci_sc_ops) / sizeof(oci_sc_ops[0]); o++)
			if (!strcmp(op, oci_sc_ops[o]))
				break;
		if (!op || o == sizeof(oci_sc_ops) / sizeof(oci_sc_ops[0]))
			return OCI_ERR(err,
				       "linux.seccomp.syscalls[%zu].args[%zu]."
				       "op: unknown '%s'",
				       i, k, op ? op : "(missing)");
		c->op = (enum sbx_sc_op)o;
		if (oci_sc_u64(json_object_get(a, "value"), "value", i,
			       &c->value, err) < 0 ||
		    oci_sc_u64(json_object_get(a, "valueTwo"), "valueTwo", i,
			       &c->value2, err) < 0)
			return -1;
	}
	e->nargs = (unsigned)json_array_size(args);
	return 0;
}

/**
 * oci_sc_entry() - one syscalls[] entry
 * @s:		the JSON object
 * @i:		its index
 * @e:		filled (names point into @names from @names[*@used] on)
 * @names:	the profile's name table
 * @used:	names taken so far; advanced
 * @err:	names the field
 *
 * Return: 0 or -1.
 */
static int oci_sc_entry(const json_t *s, size_t i, struct sbx_sc_entry *e,
			const char **names, unsigned *used,
			struct cove_err *err)
{
	const json_t *nv = json_object_get(s, "names"), *n;
	char field[64];
	size_t k;
	int act;

	if (!json_is_object(s))
		return OCI_ERR(err,
			       "linux.seccomp.syscalls[%zu]: not an "
			       "object",
			       i);
	snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].action", i);
	act = oci_sc_action(json_string_value(json_object_get(s, "action")),
			    field, err);
	if (act < 0)
		return -1;
	e->action = (enum sbx_sc_action)act;
	snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].errnoRet",
		 i);
	if (oci_sc_errno(json_object_get(s, "errnoRet"), e->action, field,
			 &e->ret, err) < 0)
		return -1;
	if (!json_is_array(nv) || !json_array_size(nv))
		return OCI_ERR(err,
			       "linux.seccomp.syscalls[%zu].names: "
			       "missing or empty",
			       i);
	if (*used + json_array_size(nv) > SBX_SC_MAX_RULES)
		return OCI_ERR(err, "linux.seccomp: more than %d syscall names",
			       SBX_SC_MAX_RULES);
	e->names = &names[*used];
	json_array_foreach(nv, k, n)
	{
		if (!json_is_string(n) || !json_string_length(n))
			return OCI_ERR(err,
				       "linux.seccomp.syscalls[%zu].names[%zu]: "
				       "not a name",
				       i, k);
		names[(*used)++] = json_string_value(n);
	}
	e->nnames = (unsigned)json_array_size(nv);
	return oci_sc_args(json_object_get(s, "args"), i, e, err);
}

/**
 * oci_sc_top() - the profile's own fields: flags, architectures, listener
 * @sc:		linux.seccomp
 * @out:	flags set
 * @err:	names the field
 *
 * Return: 0 or -1.
 */
static int oci_sc_top(const json_t *sc, struct sbx_seccomp *out,
		      struct cove_err *err)
{
	const json_t *v;
	const char *s;
	size_t i, k;

	s = json_string_value(json_object_get(sc, "listenerPath"));
	if (s && s[0])
		return OCI_ERR(err, "linux.seccomp.listenerPath: not supported "
				    "(Cove's sentry owns the program's seccomp "
				    "listener)");
	json_array_foreach(json_object_get(sc, "flags"), i, v)
	{
		s = json_string_value(v);
		if (s && !strcmp(s, "SECCOMP_FILTER_FLAG_LOG"))
			out->log = true;
		else if (s && !strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			out->spec_allow = true;
		else if (!s || strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC"))
			return OCI_ERR(err,
				       "linux.seccomp.flags[%zu]: unknown "
				       "flag '%s'",
				       i, s ? s : "?");
	}
	json_array_foreach(json_object_get(sc, "architectures"), i, v)
	{
		s = json_string_value(v);
		for (k = 0; s && k < sizeof(oci_sc_arches) / sizeof(char *);
		     k++)
			if (!strcmp(s, oci_sc_arches[k]))
				break;
		if (!s || k == sizeof(oci_sc_arches) / sizeof(char *))
			return OCI_ERR(err,
				       "linux.seccomp.architectures[%zu]: "
				       "unknown '%s'",
				       i, s ? s : "?");
	}
	return 0;
}

int oci_seccomp_parse(const json_t *sc, struct sbx_seccomp *out,
		      const char ***names, struct cove_err *err)
{
	const json_t *list = json_object_get(sc, "syscalls"), *s;
	unsigned used = 0;
	size_t i;
	int act;

	memset(out, 0, sizeof(*out));
	*names = NULL;
	if (!json_is_object(sc))
		return OCI_ERR(err, "linux.seccomp: not an object");
	act = oci_sc_action(json_string_value(
				    json_object_get(sc, "defaultAction")),
			    "linux.seccomp.defaultAction", err);
	if (act < 0)
		return -1;
	out->defact = (enum sbx_sc_action)act;
	if (oci_sc_errno(json_object_get(sc, "defaultErrnoRet"), out->defact,
			 "linux.seccomp.defaultErrnoRet", &out->defret,
			 err) < 0 ||
	    oci_sc_top(sc, out, err) < 0)
		return -1;
	if (list && !json_is_null(list) && !json_is_array(list))
		return OCI_ERR(err, "linux.seccomp.syscalls: not an array");
	if (json_array_size(list) > SBX_SC_MAX_RULES)
		return OCI_ERR(err, "linux.seccomp.syscalls: more than %d",
			       SBX_SC_MAX_RULES);
	if (!json_array_size(list))
		return 0;
	out->entries = calloc(json_array_size(list), sizeof(*out->entries));
	*names = calloc(SBX_SC_MAX_RULES, sizeof(**names));
	if (!out->entries || !*names) {
		oci_seccomp_free(out, names);
		return cove_err_set(err, ENOMEM,
				    "config.json: linux.seccomp: "
				    "out of memory");
	}
	json_array_foreach(list, i, s)
	{
		if (oci_sc_entry(s, i, &out->entries[i], *names, &used, err) <
		    0) {
			oci_seccomp_free(out, names);
			return -1;
		}
		out->nentries++;
	}
	return 0;
}

void oci_seccomp_free(struct sbx_seccomp *sc, const char ***names)
{
	free(sc->entries);
	sc->entries = NULL;
	sc->nentries = 0;
	free((void *)*names);
	*names = NULL;
}
