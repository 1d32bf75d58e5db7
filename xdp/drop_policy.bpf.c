/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drop_policy.bpf.c: example. Drop by policy, with counters.
 *
 * Shows: returning RP_STEER_RET_DROP (the host drops the packet and counts
 * it as a steering drop) and counting in rp_steer_counters (per worker;
 * ringportctl status adds them up).
 *
 * Policy: drop IPv4 UDP to destination port user[0] (when not 0), and
 * every frame whose EtherType is not IPv4, IPv6, ARP or VLAN. Counters:
 *   [0] UDP packets dropped by port, [1] frames dropped by EtherType,
 *   [2] packets passed (steered by Toeplitz RSS).
 */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
drop_policy(const struct rp_steer_ctx *ctx)
{
	const struct rp_steer_cfg *c = &rp_steer_cfg;
	const uint8_t *p = ctx->pkt;
	uint32_t et;
	uint64_t l4;

	if (ctx->pkt_len < 14) {
		rp_steer_counters[1]++;
		return RP_STEER_RET_DROP;
	}
	et = rp_be16(p, 12);
	if (et != 0x0800 && et != 0x86dd && et != 0x0806 && et != 0x8100) {
		rp_steer_counters[1]++;
		return RP_STEER_RET_DROP;
	}
	if (et == 0x0800 && c->user[0] != 0 && ctx->pkt_len >= 34 && p[23] == 17) {
		l4 = 14 + (uint64_t)(p[14] & 0xf) * 4;
		if (l4 + 4 <= ctx->pkt_len && rp_be16(p, l4 + 2) == c->user[0]) {
			rp_steer_counters[0]++;
			return RP_STEER_RET_DROP;
		}
	}
	rp_steer_counters[2]++;
	return rp_rss_run(c, p, ctx->pkt_len);
}
