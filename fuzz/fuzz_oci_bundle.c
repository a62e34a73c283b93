// SPDX-License-Identifier: Apache-2.0
/* libFuzzer: an OCI bundle's config.json (untrusted JSON) into options. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/oci.h"

/* check_profile() - a profile that parsed has named calls, sane args. */
static void check_profile(const struct sbx_seccomp *sc)
{
	unsigned i, k;

	for (i = 0; i < sc->nentries; i++) {
		const struct sbx_sc_entry *e = &sc->entries[i];

		if (!e->nnames || e->nargs > SBX_SC_MAX_ARGS)
			__builtin_trap();
		for (k = 0; k < e->nnames; k++)
			if (!e->names[k] || !e->names[k][0])
				__builtin_trap();
		for (k = 0; k < e->nargs; k++)
			if (e->args[k].index > 5 ||
			    e->args[k].op > SBX_SC_MASKED_EQ)
				__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oci_bundle b;
	struct cove_err err = { 0 };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (oci_bundle_parse(text, "/", "builtin", &b, &err) == 0) {
		/* a bundle that parsed has a command and its extras */
		if (!b.o.argv || !b.o.argv[0] || b.o.oci != &b.x ||
		    b.x.nmounts > SBX_OCI_MAX_MOUNTS)
			__builtin_trap();
		if (b.x.seccomp)
			check_profile(b.x.seccomp);
		oci_bundle_free(&b);
	} else if (!memchr(err.msg, '\0', sizeof(err.msg)) ||
		   strncmp(err.msg, "config.json", 11) != 0) {
		__builtin_trap(); /* every error names the file */
	}
	free(text);
	return 0;
}
