/* SPDX-License-Identifier: Apache-2.0 */
/* Values given on the command line: sizes, signals, capabilities. */
#ifndef COVE_COMMON_ARGS_H
#define COVE_COMMON_ARGS_H

#include <stdint.h>

/**
 * cove_parse_size() - "4096", "64k", "256m", "1g" (also upper case)
 * @text:	the option's value
 * @out:	bytes, on success
 *
 * Return: 0, or -1 when @text is not a whole number with one optional
 * suffix, or the result does not fit 64 bits.
 */
int cove_parse_size(const char *text, uint64_t *out);

/**
 * cove_signal_parse() - "15", "TERM", "SIGTERM" (any case)
 * @s:		the value
 *
 * Return: the signal number (1..NSIG-1), or -1.
 */
int cove_signal_parse(const char *s);

/**
 * cove_cap_from_name() - "CAP_NET_BIND_SERVICE" or "net_bind_service" -> 10
 * @name:	a capability's name, with or without "CAP_", any case
 *
 * Return: the capability's number, or -1 if unknown.
 */
int cove_cap_from_name(const char *name);

/* cove_cap_name() - "NET_BIND_SERVICE" for 10; "?" out of range. */
const char *cove_cap_name(int cap);

#endif /* COVE_COMMON_ARGS_H */
