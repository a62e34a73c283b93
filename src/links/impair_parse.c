// SPDX-License-Identifier: Apache-2.0
/* Parser for impairment specs ("drop=2,dup=1,delay=20:5,seed=7"). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "links/links.h"

/*
 * The grammar (link.h): comma separated KEY=VALUE items, each key at most
 * once, all optional; an empty spec impairs nothing.
 *
 *   drop, dup, reorder, corrupt	percentage 0..100, decimals allowed
 *   delay			MS or MS:JITTER_MS, 0..60000, decimals allowed
 *   seed			unsigned decimal integer (64 bit)
 *
 * Numbers are parsed by hand (digits, at most one '.', nothing else), so
 * "1e3", "inf", " 5" or a locale's decimal comma are errors, not surprises.
 * Every error is one line naming the item and what would be accepted.
 */

#define IMPAIR_PARSE_DELAY_MAX_MS 60000.0
#define IMPAIR_PARSE_NUM_MAX	  24 /* characters in one number */

/**
 * impair_parse_decimal() - parse a non-negative decimal number
 * @s:		text
 * @len:	its length (not NUL terminated)
 * @out:	value
 *
 * Return: 0, or -EINVAL if @s is not digits with at most one '.'.
 */
static int impair_parse_decimal(const char *s, size_t len, double *out)
{
	double v = 0, scale = 0;
	size_t i, digits = 0;

	if (!len || len > IMPAIR_PARSE_NUM_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && !scale) {
			scale = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		digits++;
		if (scale) {
			scale /= 10;
			v += (s[i] - '0') * scale;
		} else {
			v = v * 10 + (s[i] - '0');
		}
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

/**
 * impair_parse_u64() - parse an unsigned decimal integer without overflow
 * @s:		text
 * @len:	its length
 * @out:	value
 *
 * Return: 0 or -EINVAL (not digits) / -ERANGE (above 2^64 - 1).
 */
static int impair_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/**
 * impair_parse_ms() - parse a millisecond value into microseconds
 * @item:	the whole item, for messages
 * @ilen:	its length
 * @s:		the number
 * @len:	its length
 * @us:		result
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
static int impair_parse_ms(const char *item, size_t ilen, const char *s,
			   size_t len, uint32_t *us, struct cove_err *err)
{
	double ms;

	if (impair_parse_decimal(s, len, &ms) < 0)
		return cove_err_set(
			err, EINVAL,
			"impairment '%.*s': '%.*s' is not a number of milliseconds (e.g. delay=20 or delay=20:5)",
			(int)ilen, item, (int)len, s);
	if (ms > IMPAIR_PARSE_DELAY_MAX_MS)
		return cove_err_set(
			err, ERANGE,
			"impairment '%.*s': %.*s ms is more than the 60000 ms allowed",
			(int)ilen, item, (int)len, s);
	*us = (uint32_t)(ms * 1000.0 + 0.5);
	return 0;
}

int cove_impair_parse(const char *text, struct cove_impair_spec *spec,
		      struct cove_err *err)
{
	static const char *const keys[] = {
		"drop", "dup", "reorder", "corrupt", "delay", "seed",
	};
	struct cove_impair_spec s = { .seed = 1 };
	unsigned seen = 0;
	const char *p = text;

	while (*p) {
		const char *item = p, *end = strchr(p, ','), *eq, *val;
		size_t ilen, klen, vlen;
		unsigned k;

		ilen = end ? (size_t)(end - p) : strlen(p);
		p = end ? end + 1 : p + ilen;
		if (end && !*p)
			return cove_err_set(
				err, EINVAL,
				"impairment spec '%s' ends with a comma", text);
		eq = memchr(item, '=', ilen);
		if (!eq)
			return cove_err_set(
				err, EINVAL,
				"impairment '%.*s' is not KEY=VALUE (e.g. drop=2)",
				(int)ilen, item);
		klen = (size_t)(eq - item);
		val = eq + 1;
		vlen = ilen - klen - 1;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strlen(keys[k]) == klen &&
			    !memcmp(keys[k], item, klen))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return cove_err_set(
				err, EINVAL,
				"impairment '%.*s': unknown key '%.*s' (known: drop, dup, reorder, corrupt, delay, seed)",
				(int)ilen, item, (int)klen, item);
		if (seen & (1u << k))
			return cove_err_set(
				err, EINVAL,
				"impairment spec '%s' gives '%s' twice", text,
				keys[k]);
		seen |= 1u << k;
		if (k < 4) {
			double pct, *dst[] = { &s.drop, &s.dup, &s.reorder,
					       &s.corrupt };

			if (impair_parse_decimal(val, vlen, &pct) < 0)
				return cove_err_set(
					err, EINVAL,
					"impairment '%.*s': '%.*s' is not a percentage (e.g. %s=2 or %s=0.5)",
					(int)ilen, item, (int)vlen, val,
					keys[k], keys[k]);
			if (pct > 100.0)
				return cove_err_set(
					err, ERANGE,
					"impairment '%.*s': percentage must be between 0 and 100",
					(int)ilen, item);
			*dst[k] = pct / 100.0;
		} else if (k == 4) {
			const char *colon = memchr(val, ':', vlen);
			size_t dlen = colon ? (size_t)(colon - val) : vlen;

			if (impair_parse_ms(item, ilen, val, dlen, &s.delay_us,
					    err) < 0)
				return -1;
			if (colon && impair_parse_ms(item, ilen, colon + 1,
						     vlen - dlen - 1,
						     &s.jitter_us, err) < 0)
				return -1;
		} else {
			int r = impair_parse_u64(val, vlen, &s.seed);

			if (r < 0)
				return cove_err_set(
					err, -r,
					"impairment '%.*s': seed must be an integer from 0 to 18446744073709551615",
					(int)ilen, item);
		}
	}
	*spec = s;
	return 0;
}
