// SPDX-License-Identifier: Apache-2.0
/* Control channel addresses: parse and print unix, vsock and hvsock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"

/**
 * addr_u32() - parse a decimal unsigned 32-bit number, nothing else
 * @s:		text
 * @n:		its length
 * @out:	value
 *
 * Return: 0 or -1.
 */
static int addr_u32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/**
 * addr_path() - check and copy a socket path
 * @p:		path text
 * @n:		its length
 * @out:	destination, COVE_CTL_PATH_MAX bytes
 * @spec:	whole spec, for messages
 * @err:	reason
 *
 * Return: 0 or -1.
 */
static int addr_path(const char *p, size_t n, char *out, const char *spec,
		     struct cove_err *err)
{
	if (n == 0)
		return cove_err_set(err, EINVAL,
				    "control address '%s': empty socket path",
				    spec);
	if (n >= COVE_CTL_PATH_MAX)
		return cove_err_set(
			err, ENAMETOOLONG,
			"control address '%s': socket path longer than %d bytes",
			spec, COVE_CTL_PATH_MAX - 1);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/**
 * addr_name_ok() - a sandbox name usable as one path component
 * @name:	name
 *
 * Return: true if it is.
 */
static int addr_name_ok(const char *name)
{
	const char *c;

	if (!name || !*name || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	for (c = name; *c; c++)
		if (*c == '/' || *c < 0x21 || *c > 0x7e)
			return 0;
	return 1;
}

int cove_ctl_addr_parse(const char *spec, const char *name,
			struct cove_ctl_addr *out, struct cove_err *err)
{
	const char *rest, *colon;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec || strcmp(spec, "unix") == 0) {
		int n;

		if (!addr_name_ok(name))
			return cove_err_set(
				err, EINVAL,
				"control address: default unix socket needs a valid sandbox name, got '%s'",
				name ? name : "");
		out->transport = COVE_CTL_UNIX;
		n = snprintf(out->path, sizeof(out->path),
			     COVE_CTL_RUN_DIR "/%s/control.sock", name);
		if (n < 0 || (size_t)n >= sizeof(out->path))
			return cove_err_set(
				err, ENAMETOOLONG,
				"control address: sandbox name '%s' makes the socket path too long",
				name);
		return 0;
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		out->transport = COVE_CTL_UNIX;
		return addr_path(spec + 5, strlen(spec + 5), out->path, spec,
				 err);
	}
	if (strncmp(spec, "vsock:", 6) == 0) {
		rest = spec + 6;
		colon = strchr(rest, ':');
		if (!colon)
			return cove_err_set(
				err, EINVAL,
				"control address '%s': expected vsock:CID:PORT",
				spec);
		out->transport = COVE_CTL_VSOCK;
		if (addr_u32(rest, (size_t)(colon - rest), &out->cid) < 0)
			return cove_err_set(
				err, EINVAL,
				"control address '%s': CID must be a number 0..4294967295",
				spec);
		if (addr_u32(colon + 1, strlen(colon + 1), &out->port) < 0)
			return cove_err_set(
				err, EINVAL,
				"control address '%s': PORT must be a number 0..4294967295",
				spec);
		return 0;
	}
	if (strncmp(spec, "hvsock:", 7) == 0) {
		rest = spec + 7;
		colon = strrchr(rest, ':'); /* paths may contain ':' */
		if (!colon)
			return cove_err_set(
				err, EINVAL,
				"control address '%s': expected hvsock:PATH:PORT",
				spec);
		out->transport = COVE_CTL_HVSOCK;
		if (addr_u32(colon + 1, strlen(colon + 1), &out->port) < 0)
			return cove_err_set(
				err, EINVAL,
				"control address '%s': PORT must be a number 0..4294967295",
				spec);
		return addr_path(rest, (size_t)(colon - rest), out->path, spec,
				 err);
	}
	return cove_err_set(
		err, EINVAL,
		"control address '%s': unknown transport (use unix, unix:PATH, vsock:CID:PORT or hvsock:PATH:PORT)",
		spec);
}

const char *cove_ctl_addr_str(const struct cove_ctl_addr *a, char *buf,
			      size_t len)
{
	switch (a->transport) {
	case COVE_CTL_UNIX:
		snprintf(buf, len, "unix:%s", a->path);
		break;
	case COVE_CTL_VSOCK:
		snprintf(buf, len, "vsock:%u:%u", a->cid, a->port);
		break;
	case COVE_CTL_HVSOCK:
		snprintf(buf, len, "hvsock:%s:%u", a->path, a->port);
		break;
	default:
		snprintf(buf, len, "(invalid address)");
	}
	return buf;
}
