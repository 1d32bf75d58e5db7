/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * steer_pcap.h: run a steering instance over every packet of a capture
 * and print one JSON line per packet to @out ({"pkt":N,"hash":...,
 * "queue":...}). Apart from the CLI so the fuzz harness can feed it any
 * file: what a capture claims (len, caplen) is never trusted beyond the
 * bytes libpcap returned.
 */
#ifndef RP_STEER_PCAP_H
#define RP_STEER_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "rp_prog.h"

/** @return pcap_next_ex()'s last word: PCAP_ERROR_BREAK at the end,
 * PCAP_ERROR on a damaged file (pcap_geterr() says why). *@n counts
 * the packets run. */
int rp_steer_test_pcap(pcap_t *pc, const struct rp_prog_inst *inst, unsigned int dir,
	unsigned int queues, bool no_jit, FILE *out, uint64_t *n);

#endif /* RP_STEER_PCAP_H */
