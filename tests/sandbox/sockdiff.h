/* SPDX-License-Identifier: Apache-2.0 */
/* The differential checks of sockcheck (sockdiff*.c). */
#ifndef COVE_TESTS_SOCKDIFF_H
#define COVE_TESTS_SOCKDIFF_H
#include <netinet/in.h>

/* Set by sockcheck's main() before any check runs. */
extern struct sockaddr_in sd_host_reset;  /* the host's reset server */
extern struct sockaddr_in sd_host_closed; /* a closed host port */
extern unsigned short sd_port_base; /* free ports inside: base, base + 1 */

/* sockdiff.c: observations (one line per check) */
void sd_ob(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sd_ob_end(const char *name);
const char *sd_ename(int e);
/* sockdiff.c: resets, refused and unconnected sockets */
void sd_run_resets(void);
/* sockdiff_opts.c: socket options */
void sd_run_options(void);
#endif
