/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * steer_vlan_subnet.bpf.c: example. Pin a VLAN, or an IPv4 subnet, to a
 * queue.
 *
 * Shows: parsing an 802.1Q tag, matching a prefix with a mask, and
 * settings from the configuration's user words (ringportctl rss set
 * --user VLAN,VQUEUE,NET,MASK,NQUEUE, NET and MASK as 32-bit numbers, for
 * example 167772160,4278190080 for 10.0.0.0/8).
 *
 *  - frames tagged with VLAN id user[0] (1..4094) go to queue user[1];
 *  - untagged IPv4 from source subnet user[2]/user[3] goes to user[4];
 *  - everything else: Toeplitz RSS.
 */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
steer_vlan_subnet(const struct rp_steer_ctx *ctx)
{
	const struct rp_steer_cfg *c = &rp_steer_cfg;
	const uint8_t *p = ctx->pkt;
	uint64_t r = rp_rss_run(c, p, ctx->pkt_len), keep = r & ~RP_STEER_RET_QUEUE(0xffff);
	uint32_t et, src;

	if (ctx->pkt_len < 18)
		return r;
	et = rp_be16(p, 12);
	if (et == 0x8100 && (rp_be16(p, 14) & 0xfff) == c->user[0] && c->user[0] != 0)
		return keep | RP_STEER_RET_QUEUE(c->user[1]);
	if (et != 0x0800 || ctx->pkt_len < 34 || c->user[3] == 0)
		return r;
	src = (uint32_t)p[26] << 24 | (uint32_t)p[27] << 16 | (uint32_t)p[28] << 8 | p[29];
	if ((src & c->user[3]) == (c->user[2] & c->user[3]))
		return keep | RP_STEER_RET_QUEUE(c->user[4]);
	return r;
}
