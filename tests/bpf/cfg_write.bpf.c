/* SPDX-License-Identifier: BSD-3-Clause */
/* Hostile test program: stores to its "read-only" configuration (the
 * table mask, the table, the key) and asks for a queue far out of range.
 * rte_bpf's validator accepts it; the host must not be affected. */
#include "rp_steer_abi.h"

SEC(RP_STEER_SEC)
uint64_t
cfg_write(const struct rp_steer_ctx *ctx)
{
	struct rp_steer_cfg *c;

	/* Launder the pointer: clang drops plain stores to a const object. */
	asm volatile("" : "=r"(c) : "0"(&rp_steer_cfg));

	(void)ctx;
	c->table_mask = 0xffff;
	c->table[0] = 0xff;
	c->key[0] = 0x55;
	c->default_queue = 0xff;
	return RP_STEER_RET_HASHED(0xfff0, 0x1234);
}
