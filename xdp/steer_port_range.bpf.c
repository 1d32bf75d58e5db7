/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * steer_port_range.bpf.c: example. Steer by L4 destination port range.
 *
 * Shows: reading L4 ports with bounds checks, using the configuration's
 * user words as settings (ringportctl rss set --user LO,HI,QUEUE), and
 * falling back to the default RSS for everything else.
 *
 * TCP or UDP over IPv4 (any IHL) or IPv6 (no extension headers) with
 * destination port in [user[0], user[1]] goes to queue user[2]; the packet
 * still carries its RSS hash. Everything else: Toeplitz RSS.
 */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
steer_port_range(const struct rp_steer_ctx *ctx)
{
	const struct rp_steer_cfg *c = &rp_steer_cfg;
	const uint8_t *p = ctx->pkt;
	uint64_t r = rp_rss_run(c, p, ctx->pkt_len), l4, proto;
	uint32_t et, dport;

	if (ctx->pkt_len < 14)
		return r;
	et = rp_be16(p, 12);
	if (et == 0x0800) {
		l4 = 14 + (uint64_t)(p[14] & 0xf) * 4;
		proto = p[23];
	} else if (et == 0x86dd) {
		l4 = 14 + 40;
		proto = p[20];
	} else {
		return r;
	}
	if ((proto != 6 && proto != 17) || l4 + 4 > ctx->pkt_len)
		return r;
	dport = rp_be16(p, l4 + 2);
	if (dport < c->user[0] || dport > c->user[1])
		return r;
	return (r & ~RP_STEER_RET_QUEUE(0xffff)) | RP_STEER_RET_QUEUE(c->user[2]);
}
