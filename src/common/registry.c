// SPDX-License-Identifier: Apache-2.0
/* Provider and link tables, filled by the linker from registration sections. */
#include <errno.h>
#include <string.h>

#include "cove/link.h"
#include "cove/netstack.h"

/*
 * COVE_STACK_PROVIDER() and COVE_LINK_TYPE() put pointers into the sections
 * "cove_stacks" and "cove_links"; the linker provides __start_/__stop_
 * bounds. The symbols are weak so that a binary with no entry links (and
 * sees an empty table). cppcheck takes each pair for two distinct arrays
 * and warns on the subtraction; the inline suppressions below say why not.
 */
extern const struct cove_netstack_ops *const __start_cove_stacks[]
	__attribute__((weak));
extern const struct cove_netstack_ops *const __stop_cove_stacks[]
	__attribute__((weak));
extern const struct cove_link_ops *const __start_cove_links[]
	__attribute__((weak));
extern const struct cove_link_ops *const __stop_cove_links[]
	__attribute__((weak));

const struct cove_netstack_ops *const *cove_stack_providers(unsigned *n)
{
	if (!__start_cove_stacks) {
		*n = 0;
		return NULL;
	}
	/* cppcheck-suppress comparePointers ; both bound one linker section */
	*n = (unsigned)(__stop_cove_stacks - __start_cove_stacks);
	return __start_cove_stacks;
}

const struct cove_netstack_ops *cove_stack_find(const char *name)
{
	const struct cove_netstack_ops *const *p;
	unsigned i, n;

	p = cove_stack_providers(&n);
	for (i = 0; i < n; i++)
		if (!strcmp(p[i]->name, name))
			return p[i];
	return NULL;
}

const struct cove_link_ops *const *cove_link_types(unsigned *n)
{
	if (!__start_cove_links) {
		*n = 0;
		return NULL;
	}
	/* cppcheck-suppress comparePointers ; both bound one linker section */
	*n = (unsigned)(__stop_cove_links - __start_cove_links);
	return __start_cove_links;
}

int cove_link_open(const char *spec, struct cove_frame_pool *pool,
		   struct cove_link **out, struct cove_err *err)
{
	const struct cove_link_ops *const *t;
	const char *colon = strchr(spec, ':');
	unsigned i, n;
	size_t klen;

	if (!colon || colon == spec || !colon[1])
		return cove_err_set(
			err, EINVAL,
			"link '%s' is not of the form KIND:ARG (e.g. tap:tap0)",
			spec);
	klen = (size_t)(colon - spec);
	t = cove_link_types(&n);
	for (i = 0; i < n; i++)
		if (strlen(t[i]->kind) == klen &&
		    !strncmp(t[i]->kind, spec, klen))
			return t[i]->open(colon + 1, pool, out, err);
	return cove_err_set(err, 0, "unknown link kind '%.*s' in '%s'",
			    (int)klen, spec, spec);
}

int cove_stack_read_stats(const struct cove_netstack_ops *ops,
			  struct cove_stack *st, struct cove_stack_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return ops->stats(st, out);
}

void cove_stack_put_stats(struct cove_stack_stats *out,
			  const struct cove_stack_stats *src)
{
	uint64_t size = out->size;
	size_t n = sizeof(*out);

	if (size < n)
		n = (size_t)size;
	if (n > sizeof(out->size))
		memcpy((char *)out + sizeof(out->size),
		       (const char *)src + sizeof(src->size),
		       n - sizeof(out->size));
	out->size = size;
}
