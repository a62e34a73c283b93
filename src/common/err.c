// SPDX-License-Identifier: Apache-2.0
/* Control-plane error objects: errno plus an actionable message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cove/err.h"

int cove_err_set(struct cove_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (code) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
			 strerror(code));
	}
	return -1;
}

int cove_err_prefix(struct cove_err *err, const char *fmt, ...)
{
	char old[COVE_ERR_MSG_MAX];
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (old[0])
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", old);
	return -1;
}

void cove_err_clear(struct cove_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
