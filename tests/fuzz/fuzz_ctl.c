/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: control requests as the iothread's dispatcher takes them,
 * without sockets: the request parser, then every value parser a request's
 * fields reach (key, table, hash types, user words) on a scratch
 * configuration. Nothing may crash, leak or read out of bounds, and a
 * refusal must come with a reason. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "ctl_req.h"
#include "rp_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rp_steer_cfg cfg;
	uint8_t key[RP_STEER_KEY_SIZE];
	struct rp_ctl_req r;
	char err[256] = "";

	if (rp_ctl_req_parse((const char *)data, size, &r, err, sizeof(err)) < 0) {
		assert(err[0] != '\0');
		return 0;
	}
	rp_steer_cfg_init(&cfg);
	err[0] = '\0';
	if (r.key != NULL && rp_steer_parse_key(r.key, key, err, sizeof(err)) < 0)
		assert(err[0] != '\0');
	if (r.table != NULL && rp_steer_parse_table(r.table, 16, &cfg, err, sizeof(err)) == 0)
		assert(cfg.table_mask < RP_STEER_TABLE_MAX);
	if (r.types != NULL)
		rp_steer_parse_types(r.types, &cfg.hash_types, err, sizeof(err));
	if (r.user != NULL)
		rp_steer_parse_user(r.user, &cfg, err, sizeof(err));
	rp_ctl_req_free(&r);
	return 0;
}
