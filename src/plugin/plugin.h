/* SPDX-License-Identifier: Apache-2.0 */
/* Out-of-tree stack providers: load a shared object exporting the entry symbol. */
#ifndef COVE_PLUGIN_H
#define COVE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "cove/err.h"
#include "cove/netstack.h"

/*
 * Theory of operation
 *
 * A provider built outside Cove is a shared object that exports
 * COVE_NETSTACK_ENTRY_SYMBOL (see include/cove/netstack.h). Loading one
 * runs foreign code inside the host process (its constructors run at
 * dlopen), so hosts load plugins only when a person names one explicitly
 * and say on stderr that it widens the sandbox's trusted base.
 *
 * cove_plugin_load() checks, in order, each failure being one line in
 * @err: the file opens and starts with an ELF header of this machine's
 * class and byte order describing a shared object (ET_DYN);
 * dlopen(RTLD_NOW | RTLD_LOCAL) succeeds (missing dependencies and
 * unresolved symbols are reported here); the entry symbol exists; the entry
 * returns ops; ops->abi_version equals COVE_NETSTACK_ABI_VERSION; every
 * ops member is set and the name is a short printable word. The object is
 * never unloaded: the ops must outlive every instance made from them.
 */

/**
 * cove_plugin_check_elf() - is this the start of a loadable shared object?
 * @buf:	the first bytes of the file (untrusted)
 * @len:	how many (64 are enough)
 * @err:	one line on failure
 *
 * Return: 0, or < 0 with @err set (not ELF, wrong class, byte order or
 * machine, not a shared object).
 */
int cove_plugin_check_elf(const uint8_t *buf, size_t len, struct cove_err *err);

/**
 * cove_plugin_check_ops() - does a provider's table satisfy the ABI?
 * @ops:	the table the entry returned (may be NULL)
 * @err:	one line on failure
 *
 * Return: 0, or < 0 with @err set (version mismatch, missing member).
 */
int cove_plugin_check_ops(const struct cove_netstack_ops *ops,
			  struct cove_err *err);

/**
 * cove_plugin_load() - load an out-of-tree stack provider
 * @path:	the shared object; a name without '/' is taken as ./NAME,
 *		never searched for in library paths
 * @out:	the provider's ops, valid for the rest of the process
 * @err:	one line on failure, starting with @path
 *
 * Return: 0, or < 0 with @err set.
 */
int cove_plugin_load(const char *path, const struct cove_netstack_ops **out,
		     struct cove_err *err);

#endif /* COVE_PLUGIN_H */
