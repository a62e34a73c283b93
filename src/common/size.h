/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes given on the command line: N, Nk, Nm, Ng (powers of 1024). */
#ifndef COVE_COMMON_SIZE_H
#define COVE_COMMON_SIZE_H

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

#endif /* COVE_COMMON_SIZE_H */
