/* SPDX-License-Identifier: BSD-3-Clause */
/* rp_prog_private.h: inside the policy library only (rp_prog.c,
 * rp_steer_cfg.c), never installed or included from outside. */
#ifndef RP_PROG_PRIVATE_H
#define RP_PROG_PRIVATE_H

#include <stddef.h>

/* Internal to the library: format a reason into @err, return @rc. */
int rp_prog_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* RP_PROG_PRIVATE_H */
