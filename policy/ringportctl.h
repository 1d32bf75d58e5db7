/* SPDX-License-Identifier: BSD-3-Clause */
/* ringportctl's parts: the main command table and the offline tester. */
#ifndef RINGPORTCTL_H
#define RINGPORTCTL_H

#include "rp_prog.h"

#define PROG "ringportctl"

/** `steer test`: argv[0] is "test". Exit status. */
int rpctl_steer_test(int argc, char **argv);

/** An option getopt_long did not take (@c is ':' or '?'), in command @cmd
 * ("" for the global options): print why. Returns 2, the exit status. */
int rpctl_bad_option(const char *cmd, int c, char **argv);

/** Check a --direction value (to-guest, to-switch, both); prints the error. */
int rpctl_direction(const char *s, const char **out);

#endif /* RINGPORTCTL_H */
