/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_steer_cfg.h: the RSS configuration a steering program reads (struct
 * rp_steer_cfg, rp_steer_abi.h): building it, and parsing what operators
 * write (ringportctl rss set, steer test) into it.
 *
 * Errors: functions taking `char *err, size_t errlen` write a one-line
 * reason naming the bad value there and return a negative errno (-EINVAL).
 */
#ifndef RP_STEER_CFG_H
#define RP_STEER_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "rp_steer_abi.h"

/** The standard key (virtio-net and Microsoft RSS default). */
extern const uint8_t rp_steer_default_key[RP_STEER_KEY_SIZE];

/** Defaults: standard key, all hash types, a 128-entry identity table
 * (queue = (hash & 127) % nb_queues once the host maps it), queue 0. */
void rp_steer_cfg_init(struct rp_steer_cfg *c);

/** Use @key from now on (rebuilds the lookup tables). */
void rp_steer_cfg_set_key(struct rp_steer_cfg *c, const uint8_t key[RP_STEER_KEY_SIZE]);

/** "6d5a56da..." (80 hex digits, optional ':' between bytes) into @key. */
int rp_steer_parse_key(const char *s, uint8_t key[RP_STEER_KEY_SIZE], char *err, size_t errlen);

/** "0,1,2,3" (a power of two of entries, up to RP_STEER_TABLE_MAX, each
 * below @max_queue) into c->table and c->table_mask. */
int rp_steer_parse_table(const char *s, unsigned int max_queue, struct rp_steer_cfg *c,
	char *err, size_t errlen);

/** Up to 8 comma-separated 32-bit numbers into c->user (the rest zero). */
int rp_steer_parse_user(const char *s, struct rp_steer_cfg *c, char *err, size_t errlen);

/** "ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6", "all" or "none" into *types. */
int rp_steer_parse_types(const char *s, uint32_t *types, char *err, size_t errlen);

/** The types as the list rp_steer_parse_types() reads; @buf >= 48 bytes. */
const char *rp_steer_types_str(uint32_t types, char *buf, size_t len);

#endif /* RP_STEER_CFG_H */
