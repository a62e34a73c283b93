// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the plugin loader's ELF header check and ops check. */
#include <stdint.h>
#include <string.h>

#include "plugin/plugin.h"

/*
 * Input: the first bytes of a would-be plugin file go to
 * cove_plugin_check_elf(); the same bytes, laid over a provider table whose
 * function pointers are replaced by a fixed stub, go to
 * cove_plugin_check_ops() (names point into a NUL-terminated copy). Checks:
 * no crash, and an error always comes with a message.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_stub(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cove_netstack_ops ops;
	struct cove_err err = { 0 };
	char name[40];
	size_t i;

	if (cove_plugin_check_elf(data, size, &err) < 0 && !err.msg[0])
		__builtin_trap();

	memset(&ops, 0, sizeof(ops));
	memcpy(&ops, data, size < sizeof(ops) ? size : sizeof(ops));
	memset(name, 0, sizeof(name));
	if (size > sizeof(ops))
		memcpy(name, data + sizeof(ops),
		       size - sizeof(ops) < sizeof(name) - 1 ?
			       size - sizeof(ops) :
			       sizeof(name) - 1);
	ops.name = name;
	ops.description = name;
	/* Every pointer member after the strings: keep NULL or make valid. */
	for (i = offsetof(struct cove_netstack_ops, create);
	     i + sizeof(void *) <= sizeof(ops); i += sizeof(void *)) {
		void (*fn)(void);

		memcpy(&fn, (char *)&ops + i, sizeof(fn));
		if (fn) {
			fn = fuzz_stub;
			memcpy((char *)&ops + i, &fn, sizeof(fn));
		}
	}
	cove_err_clear(&err);
	if (cove_plugin_check_ops(size ? &ops : NULL, &err) < 0 && !err.msg[0])
		__builtin_trap();
	return 0;
}
