// SPDX-License-Identifier: Apache-2.0
/* Out-of-tree stack providers: ELF check, dlopen, entry symbol, ABI checks. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/plugin.h"

/* See plugin.h for the theory of operation. */

#if defined(__x86_64__)
#define PLUGIN_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define PLUGIN_MACHINE EM_AARCH64
#else
#define PLUGIN_MACHINE EM_NONE /* not checked */
#endif

#define PLUGIN_NAME_MAX 32

/* plugin_u16() - a 16-bit field in the file's (little-endian) byte order. */
static unsigned plugin_u16(const uint8_t *buf, size_t len, size_t off)
{
	if (off > len || len - off < 2)
		return 0;
	return (unsigned)buf[off] | (unsigned)buf[off + 1] << 8;
}

int cove_plugin_check_elf(const uint8_t *buf, size_t len, struct cove_err *err)
{
	unsigned type, machine;

	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG))
		return cove_err_set(err, 0, "not an ELF file");
	if (buf[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
		return cove_err_set(err, 0,
				    "ELF class %u does not match this cove",
				    buf[EI_CLASS]);
	if (buf[EI_DATA] != ELFDATA2LSB)
		return cove_err_set(err, 0,
				    "ELF byte order does not match this cove");
	/* e_type and e_machine sit at the same offsets in both classes. */
	type = plugin_u16(buf, len, offsetof(Elf64_Ehdr, e_type));
	machine = plugin_u16(buf, len, offsetof(Elf64_Ehdr, e_machine));
	if (PLUGIN_MACHINE != EM_NONE && machine != PLUGIN_MACHINE)
		return cove_err_set(err, 0,
				    "ELF machine %u does not match this cove",
				    machine);
	if (type != ET_DYN)
		return cove_err_set(err, 0, "not a shared object (ELF type %u)",
				    type);
	return 0;
}

int cove_plugin_check_ops(const struct cove_netstack_ops *ops,
			  struct cove_err *err)
{
	static const struct {
		const char *name;
		size_t off;
	} members[] = {
#define PLUGIN_OP(m) { #m, offsetof(struct cove_netstack_ops, m) }
		PLUGIN_OP(create),	PLUGIN_OP(destroy),
		PLUGIN_OP(input),	PLUGIN_OP(run),
		PLUGIN_OP(poll_fd),	PLUGIN_OP(socket),
		PLUGIN_OP(set_cookie),	PLUGIN_OP(bind),
		PLUGIN_OP(listen),	PLUGIN_OP(accept),
		PLUGIN_OP(connect),	PLUGIN_OP(sendmsg),
		PLUGIN_OP(recvmsg),	PLUGIN_OP(shutdown),
		PLUGIN_OP(close),	PLUGIN_OP(setsockopt),
		PLUGIN_OP(getsockopt),	PLUGIN_OP(getsockname),
		PLUGIN_OP(getpeername), PLUGIN_OP(events),
		PLUGIN_OP(stats),
#undef PLUGIN_OP
	};
	size_t i, n;

	if (!ops)
		return cove_err_set(err, 0, "the entry returned no provider");
	if (ops->abi_version != COVE_NETSTACK_ABI_VERSION)
		return cove_err_set(
			err, 0,
			"provider speaks stack ABI %u, this cove speaks %d",
			ops->abi_version, COVE_NETSTACK_ABI_VERSION);
	n = ops->name ? strnlen(ops->name, PLUGIN_NAME_MAX + 1) : 0;
	if (!n || n > PLUGIN_NAME_MAX)
		return cove_err_set(err, 0,
				    "provider name missing or longer than %d",
				    PLUGIN_NAME_MAX);
	for (i = 0; i < n; i++) {
		char c = ops->name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return cove_err_set(err, 0,
					    "provider name is not [a-z0-9_-]+");
	}
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		void (*fn)(void);

		memcpy(&fn, (const char *)ops + members[i].off, sizeof(fn));
		if (!fn)
			return cove_err_set(err, 0,
					    "provider '%s' lacks ops->%s",
					    ops->name, members[i].name);
	}
	return 0;
}

int cove_plugin_load(const char *path, const struct cove_netstack_ops **out,
		     struct cove_err *err)
{
	const struct cove_netstack_ops *(*entry)(void);
	const struct cove_netstack_ops *ops;
	char local[4096];
	uint8_t head[64];
	ssize_t n;
	void *h;
	int fd;

	if (!strchr(path, '/')) {
		/* Never let dlopen search library paths for a bare name. */
		if ((size_t)snprintf(local, sizeof(local), "./%s", path) >=
		    sizeof(local))
			return cove_err_set(err, ENAMETOOLONG,
					    "%s: name too long", path);
		path = local;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cove_err_set(err, errno, "%s", path);
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return cove_err_set(err, errno, "%s", path);
	if (cove_plugin_check_elf(head, (size_t)n, err) < 0)
		return cove_err_prefix(err, "%s", path);

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return cove_err_set(err, 0, "%s", dlerror());
	*(void **)&entry = dlsym(h, COVE_NETSTACK_ENTRY_SYMBOL);
	if (!entry && dlsym(h, COVE_NETSTACK_ENTRY_SYMBOL_V1)) {
		dlclose(h);
		return cove_err_set(
			err, 0,
			"%s: built for stack ABI v1 (it exports %s); this cove "
			"speaks v%d: rebuild it against this cove's "
			"include/cove/netstack.h (docs/PLUGINS.md, \"Changes in "
			"v2\")",
			path, COVE_NETSTACK_ENTRY_SYMBOL_V1,
			COVE_NETSTACK_ABI_VERSION);
	}
	if (!entry) {
		dlclose(h);
		return cove_err_set(err, 0,
				    "%s: no symbol %s: not a Cove stack provider",
				    path, COVE_NETSTACK_ENTRY_SYMBOL);
	}
	ops = entry();
	if (cove_plugin_check_ops(ops, err) < 0) {
		dlclose(h);
		return cove_err_prefix(err, "%s", path);
	}
	*out = ops; /* @h stays open for the process's lifetime */
	return 0;
}
