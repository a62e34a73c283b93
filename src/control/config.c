// SPDX-License-Identifier: Apache-2.0
/* cove.conf: "key = value" lines with # comments, checked key by key. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sandbox.h"
#include "control/control.h"

/*
 * Theory of operation: a table lists every key with the field it sets and
 * the range it accepts; new keys are new rows. The parser walks the text
 * line by line without copying more than one bounded line, so any bytes
 * (including NULs) give either a configuration or "FILE:LINE: reason".
 */

#define CONFIG_LINE_MAX 512
#define CONFIG_FILE_MAX (64 * 1024)

/* What a key's value is. */
enum config_kind {
	CONFIG_U32,   /* a whole number in min..max */
	CONFIG_POOL,  /* an IPv4 network A.B.C.D/N, N in min..max */
	CONFIG_POOL6, /* an IPv6 network ADDR/N, N in min..max */
};

struct config_key {
	const char *name;
	size_t off; /* CONFIG_U32: uint32_t field in struct cove_config */
	uint32_t min, max;
	enum config_kind kind;
};

static const struct config_key config_keys[] = {
	{ "dial.attempt_timeout_ms",
	  offsetof(struct cove_config, dial_attempt_timeout_ms), 1, 60000,
	  CONFIG_U32 },
	{ "dial.retry_initial_ms",
	  offsetof(struct cove_config, dial_retry_initial_ms), 1, 60000,
	  CONFIG_U32 },
	{ "dial.retry_max_ms", offsetof(struct cove_config, dial_retry_max_ms),
	  1, 60000, CONFIG_U32 },
	{ "dial.deadline_ms", offsetof(struct cove_config, dial_deadline_ms), 1,
	  3600000, CONFIG_U32 },
	{ "dial.handshake_timeout_ms",
	  offsetof(struct cove_config, dial_handshake_timeout_ms), 1, 60000,
	  CONFIG_U32 },
	{ "control.max_frame_bytes",
	  offsetof(struct cove_config, control_max_frame), 1024,
	  COVE_CTL_FRAME_MAX, CONFIG_U32 },
	{ "pool", 0, 8, 30, CONFIG_POOL },
	{ "pool6", 0, 8, 64, CONFIG_POOL6 },
};

void cove_config_defaults(struct cove_config *cfg)
{
	cfg->dial_attempt_timeout_ms = 50;
	cfg->dial_retry_initial_ms = 1;
	cfg->dial_retry_max_ms = 10;
	cfg->dial_deadline_ms = 5000;
	cfg->dial_handshake_timeout_ms = 100;
	cfg->control_max_frame = COVE_CTL_FRAME_MAX;
	cfg->pool.s_addr = htonl(SBX_POOL_NET);
	cfg->pool_prefix = SBX_POOL_PREFIX;
	cfg->pool6 = (struct in6_addr)SBX_POOL6_INIT;
	cfg->pool6_prefix = SBX_POOL6_PREFIX;
}

/**
 * config_net() - split "ADDRESS/N" and parse both halves
 * @k:		key row (the family and N's range)
 * @val:	value text (not NUL-terminated)
 * @n:		its length
 * @addr:	16 bytes: the address, network order
 * @prefix:	N
 *
 * Return: 0 or -1.
 */
static int config_net(const struct config_key *k, const char *val, size_t n,
		      void *addr, uint8_t *prefix)
{
	char buf[64];
	char *slash, *end;
	unsigned long v;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, val, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (inet_pton(k->kind == CONFIG_POOL6 ? AF_INET6 : AF_INET, buf,
		      addr) != 1)
		return -1;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	errno = 0;
	v = strtoul(slash + 1, &end, 10);
	if (errno || *end || v < k->min || v > k->max)
		return -1;
	*prefix = (uint8_t)v;
	return 0;
}

/* config_host_bits() - are bits past @prefix set in the @len bytes? */
static bool config_host_bits(const uint8_t *a, size_t len, unsigned prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned lo = (unsigned)i * 8;
		uint8_t keep =
			lo >= prefix	 ? 0 :
			prefix - lo >= 8 ? 0xff :
					   (uint8_t)(0xff00u >> (prefix - lo));

		if (a[i] & (uint8_t)~keep)
			return true;
	}
	return false;
}

/**
 * config_pool_refusal() - why a network cannot be a pool
 * @k:		key row
 * @a:		the address (4 or 16 bytes)
 * @prefix:	its prefix
 *
 * A pool is a network (no host bits) of unicast addresses: not 0/8,
 * 127/8, 224/4 or 240/4 for IPv4; not ::/8, fe80::/10 or ff00::/8 for
 * IPv6. That no route of the host overlaps it is checked by cove run
 * (hostcheck.c), which sees the routes.
 *
 * Return: NULL or a static reason.
 */
static const char *config_pool_refusal(const struct config_key *k,
				       const uint8_t *a, uint8_t prefix)
{
	if (config_host_bits(a, k->kind == CONFIG_POOL6 ? 16 : 4, prefix))
		return "has bits set past its prefix (give the network)";
	if (k->kind == CONFIG_POOL6) {
		if (a[0] == 0 || a[0] == 0xff ||
		    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
			return "is not unicast (::/8, fe80::/10, ff00::/8)";
		return NULL;
	}
	if (a[0] == 0 || a[0] == 127 || a[0] >= 224)
		return "is not unicast (0/8, 127/8, 224/4, 240/4)";
	return NULL;
}

/**
 * config_apply_pool() - "pool = A.B.C.D/N" or "pool6 = ADDR/N"
 * @cfg:	configuration
 * @k:		key row
 * @val:	value text
 * @n:		its length
 * @why:	reason buffer
 * @whylen:	its size
 *
 * Return: 0 or -1.
 */
static int config_apply_pool(struct cove_config *cfg,
			     const struct config_key *k, const char *val,
			     size_t n, char *why, size_t whylen)
{
	uint8_t a[16] = { 0 }, prefix = 0;
	const char *bad;

	if (config_net(k, val, n, a, &prefix) < 0) {
		snprintf(why, whylen,
			 "%s: expected %s/N (N %u..%u), got '%.*s'", k->name,
			 k->kind == CONFIG_POOL6 ? "an IPv6 network" :
						   "A.B.C.D",
			 k->min, k->max, (int)(n > 60 ? 60 : n), val);
		return -1;
	}
	bad = config_pool_refusal(k, a, prefix);
	if (bad) {
		snprintf(why, whylen, "%s: %.*s %s", k->name,
			 (int)(n > 60 ? 60 : n), val, bad);
		return -1;
	}
	if (k->kind == CONFIG_POOL6) {
		memcpy(&cfg->pool6, a, 16);
		cfg->pool6_prefix = prefix;
	} else {
		memcpy(&cfg->pool, a, 4);
		cfg->pool_prefix = prefix;
	}
	return 0;
}

/**
 * config_find() - the table row of a key
 * @key:	key text
 * @n:		its length
 *
 * Return: the row or NULL.
 */
static const struct config_key *config_find(const char *key, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strlen(config_keys[i].name) == n &&
		    memcmp(config_keys[i].name, key, n) == 0)
			return &config_keys[i];
	return NULL;
}

/**
 * config_apply() - check a value against its key and store it
 * @cfg:	configuration
 * @k:		key row
 * @val:	value text
 * @n:		its length
 * @why:	reason buffer
 * @whylen:	its size
 *
 * Return: 0 or -1.
 */
static int config_apply(struct cove_config *cfg, const struct config_key *k,
			const char *val, size_t n, char *why, size_t whylen)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0) {
		snprintf(why, whylen, "%s: missing value", k->name);
		return -1;
	}
	if (k->kind != CONFIG_U32)
		return config_apply_pool(cfg, k, val, n, why, whylen);
	for (i = 0; i < n; i++) {
		if (val[i] < '0' || val[i] > '9' || v > UINT32_MAX) {
			snprintf(why, whylen,
				 "%s: expected a whole number %u..%u, got '%.*s'",
				 k->name, k->min, k->max,
				 (int)(n > 40 ? 40 : n), val);
			return -1;
		}
		v = v * 10 + (uint64_t)(val[i] - '0');
	}
	if (v < k->min || v > k->max) {
		snprintf(why, whylen, "%s: %llu is out of range %u..%u",
			 k->name, (unsigned long long)v, k->min, k->max);
		return -1;
	}
	memcpy((char *)cfg + k->off, &(uint32_t){ (uint32_t)v },
	       sizeof(uint32_t));
	return 0;
}

/**
 * config_trim() - strip spaces and tabs at both ends
 * @s:		start, updated
 * @n:		length, updated
 */
static void config_trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
		      (*s)[*n - 1] == '\r'))
		(*n)--;
}

/**
 * config_line() - parse one line (without its newline)
 * @cfg:	configuration
 * @s:		line
 * @n:		its length
 * @why:	reason buffer
 * @whylen:	its size
 *
 * Return: 0 or -1.
 */
static int config_line(struct cove_config *cfg, const char *s, size_t n,
		       char *why, size_t whylen)
{
	const struct config_key *k;
	const char *eq, *hash, *key, *val;
	size_t klen, vlen;

	if (memchr(s, '\0', n)) {
		snprintf(why, whylen, "NUL byte in line");
		return -1;
	}
	hash = memchr(s, '#', n);
	if (hash)
		n = (size_t)(hash - s);
	config_trim(&s, &n);
	if (n == 0)
		return 0;
	eq = memchr(s, '=', n);
	if (!eq) {
		snprintf(why, whylen, "expected 'key = value', got '%.*s'",
			 (int)(n > 60 ? 60 : n), s);
		return -1;
	}
	key = s;
	klen = (size_t)(eq - s);
	val = eq + 1;
	vlen = n - klen - 1;
	config_trim(&key, &klen);
	config_trim(&val, &vlen);
	k = config_find(key, klen);
	if (!k) {
		snprintf(why, whylen, "unknown key '%.*s'",
			 (int)(klen > 60 ? 60 : klen), key);
		return -1;
	}
	return config_apply(cfg, k, val, vlen, why, whylen);
}

/**
 * config_check() - relations between keys
 * @cfg:	configuration
 * @why:	reason buffer
 * @whylen:	its size
 *
 * Return: 0 or -1.
 */
static int config_check(const struct cove_config *cfg, char *why, size_t whylen)
{
	if (cfg->dial_retry_initial_ms > cfg->dial_retry_max_ms) {
		snprintf(why, whylen,
			 "dial.retry_initial_ms (%u) is larger than dial.retry_max_ms (%u)",
			 cfg->dial_retry_initial_ms, cfg->dial_retry_max_ms);
		return -1;
	}
	return 0;
}

int cove_config_parse(const char *text, size_t len, const char *file,
		      struct cove_config *cfg, struct cove_err *err)
{
	char why[256];
	size_t pos = 0;
	unsigned line = 0;

	while (pos < len) {
		const char *s = text + pos, *nl;
		size_t n;

		line++;
		nl = memchr(s, '\n', len - pos);
		n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n > CONFIG_LINE_MAX)
			return cove_err_set(err, EINVAL,
					    "%s:%u: line longer than %d bytes",
					    file, line, CONFIG_LINE_MAX);
		if (config_line(cfg, s, n, why, sizeof(why)) < 0)
			return cove_err_set(err, EINVAL, "%s:%u: %s", file,
					    line, why);
	}
	if (config_check(cfg, why, sizeof(why)) < 0)
		return cove_err_set(err, EINVAL, "%s: %s", file, why);
	return 0;
}

int cove_config_set(struct cove_config *cfg, const char *key, const char *value,
		    struct cove_err *err)
{
	const struct config_key *k = config_find(key, strlen(key));
	char why[256];

	if (!k)
		return cove_err_set(err, EINVAL, "unknown setting '%s'", key);
	if (config_apply(cfg, k, value, strlen(value), why, sizeof(why)) < 0 ||
	    config_check(cfg, why, sizeof(why)) < 0)
		return cove_err_set(err, EINVAL, "%s", why);
	return 0;
}

int cove_config_load(const char *path, struct cove_config *cfg,
		     struct cove_err *err)
{
	const char *file = path ? path : COVE_CONFIG_DEFAULT_PATH;
	size_t len = 0;
	char *buf;
	ssize_t r;
	int fd, ret;

	cove_config_defaults(cfg);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!path && errno == ENOENT)
			return 0;
		return cove_err_set(err, errno, "cannot open config %s", file);
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return cove_err_set(err, ENOMEM, "config %s", file);
	}
	for (;;) {
		r = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_FILE_MAX)
			break;
	}
	ret = errno;
	close(fd);
	if (r < 0) {
		free(buf);
		return cove_err_set(err, ret, "cannot read config %s", file);
	}
	if (len > CONFIG_FILE_MAX) {
		free(buf);
		return cove_err_set(err, EFBIG,
				    "config %s is larger than %d bytes", file,
				    CONFIG_FILE_MAX);
	}
	ret = cove_config_parse(buf, len, file, cfg, err);
	free(buf);
	return ret;
}
