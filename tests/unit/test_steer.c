/* SPDX-License-Identifier: BSD-3-Clause */
/* The RSS core (xdp/include/rp_rss_core.h) against the RSS verification
 * vectors published with the Microsoft RSS spec (the virtio-net default
 * key), built as real frames; natively, then the default program
 * (rss.bpf.o, $RP_RSS_PROG) under rte_bpf's JIT and interpreter against the
 * native build on the same frames and on random ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_bpf.h>
#include <rte_thash.h>

#include "rp_prog.h"
#include "rp_testframes.h"

struct vec {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t ip_hash, l4_hash;
};

static const struct vec v4[] = {
	{"66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178},
	{"199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea},
	{"24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
	{"38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f},
	{"153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2},
};

static const struct vec v6[] = {
	{"3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5, 0x40207d3d},
	{"3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0f0c461c, 0xdde51bbf},
	{"3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024,
		0x4b61e985, 0x02d1feef},
};

/* Ethernet (optionally one VLAN tag) + IP + an L4 header of @proto. */
static uint32_t
build(uint8_t *f, const struct vec *v, bool ipv6, uint8_t proto, bool vlan, uint16_t frag)
{
	uint32_t off = 12;

	memset(f, 0, 128);
	if (vlan) {
		f[off++] = 0x81, f[off++] = 0x00, f[off++] = 0x00, f[off++] = 0x05;
	}
	f[off++] = ipv6 ? 0x86 : 0x08;
	f[off++] = ipv6 ? 0xdd : 0x00;
	if (ipv6) {
		f[off] = 0x60;
		f[off + 6] = proto;
		assert_int_equal(inet_pton(AF_INET6, v->src, f + off + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, v->dst, f + off + 24), 1);
		off += 40;
	} else {
		f[off] = 0x45;
		f[off + 6] = (uint8_t)(frag >> 8);
		f[off + 7] = (uint8_t)frag;
		f[off + 9] = proto;
		assert_int_equal(inet_pton(AF_INET, v->src, f + off + 12), 1);
		assert_int_equal(inet_pton(AF_INET, v->dst, f + off + 16), 1);
		off += 20;
	}
	f[off] = (uint8_t)(v->sport >> 8), f[off + 1] = (uint8_t)v->sport;
	f[off + 2] = (uint8_t)(v->dport >> 8), f[off + 3] = (uint8_t)v->dport;
	return off + 20;
}

static struct rp_steer_cfg c;

/* The native core: true with *h set when the frame got a hash. */
static bool
rss_hash(const struct rp_steer_cfg *cfg, const uint8_t *f, uint32_t len, uint32_t *h)
{
	uint8_t buf[RP_STEER_PKT_MAX + 40] = {0};
	uint64_t r;

	memcpy(buf, f, len < RP_STEER_PKT_MAX ? len : RP_STEER_PKT_MAX);
	r = rp_rss_run(cfg, buf, len < RP_STEER_PKT_MAX ? len : RP_STEER_PKT_MAX);
	*h = RP_STEER_RET_GET_HASH(r);
	return (r & RP_STEER_RET_HASH) != 0;
}

static uint64_t
rss_ret(const struct rp_steer_cfg *cfg, const uint8_t *f, uint32_t len)
{
	uint8_t buf[RP_STEER_PKT_MAX + 40] = {0};

	memcpy(buf, f, len < RP_STEER_PKT_MAX ? len : RP_STEER_PKT_MAX);
	return rp_rss_run(cfg, buf, len < RP_STEER_PKT_MAX ? len : RP_STEER_PKT_MAX);
}

static uint32_t
toeplitz(const struct rp_steer_cfg *cfg, const uint8_t *in, unsigned int n)
{
	uint32_t h = 0;

	for (unsigned int i = 0; i < n; i++)
		h ^= cfg->lut[i][in[i]];
	return h;
}

static void
check(const struct vec *vs, size_t n, bool ipv6)
{
	uint8_t f[128];
	uint32_t h, len;

	rp_steer_cfg_init(&c);
	for (size_t i = 0; i < n; i++) {
		len = build(f, &vs[i], ipv6, 6 /* TCP */, false, 0);
		assert_true(rss_hash(&c, f, len, &h));
		assert_int_equal(h, vs[i].l4_hash);
		/* UDP hashes the same 4-tuple. */
		len = build(f, &vs[i], ipv6, 17, true, 0);
		assert_true(rss_hash(&c, f, len, &h));
		assert_int_equal(h, vs[i].l4_hash);
		/* No L4 type: the address pair. */
		len = build(f, &vs[i], ipv6, 47 /* GRE */, false, 0);
		assert_true(rss_hash(&c, f, len, &h));
		assert_int_equal(h, vs[i].ip_hash);
		assert_int_equal(rp_steer_queue(rss_ret(&c, f, len), 4), (h & 127) % 4);
	}
}

static void
test_ipv4_vectors(void **state)
{
	(void)state;
	check(v4, sizeof(v4) / sizeof(v4[0]), false);
}

static void
test_ipv6_vectors(void **state)
{
	(void)state;
	check(v6, sizeof(v6) / sizeof(v6[0]), true);
}

static void
test_types_and_edges(void **state)
{
	uint8_t f[128];
	uint32_t h, len;

	(void)state;
	rp_steer_cfg_init(&c);
	/* A TCP packet with only the IPv4 type enabled hashes addresses. */
	c.hash_types = RP_STEER_HASH_IPV4;
	len = build(f, &v4[0], false, 6, false, 0);
	assert_true(rss_hash(&c, f, len, &h));
	assert_int_equal(h, v4[0].ip_hash);
	/* Nothing enabled for IPv6: no hash. */
	len = build(f, &v6[0], true, 6, false, 0);
	assert_false(rss_hash(&c, f, len, &h));
	/* A non-first fragment has no ports: address hash. */
	rp_steer_cfg_init(&c);
	len = build(f, &v4[1], false, 6, false, 100);
	assert_true(rss_hash(&c, f, len, &h));
	assert_int_equal(h, v4[1].ip_hash);
	/* Truncated and non-IP frames are refused, never read past. */
	len = build(f, &v4[1], false, 6, false, 0);
	assert_false(rss_hash(&c, f, 20, &h));
	f[12] = 0x88, f[13] = 0xb5;
	assert_false(rss_hash(&c, f, len, &h));
	assert_false(rss_hash(&c, f, 10, &h));
	/* A bogus IHL does not take the parser past the frame. */
	len = build(f, &v4[1], false, 6, false, 0);
	f[14] = 0x4f;
	assert_false(rss_hash(&c, f, 40, &h));
}

/* The lookup tables against DPDK's bit-loop rte_softrss(), for random keys
 * and inputs of every length the hash types use. */
static void
test_tables_match_softrss(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int round = 0; round < 200; round++) {
		uint8_t key[RP_STEER_KEY_SIZE], in[RP_STEER_LUT_BYTES];
		uint32_t words[RP_STEER_LUT_BYTES / 4];
		const unsigned int lens[] = {8, 12, 32, 36};

		for (size_t i = 0; i < sizeof(key) + sizeof(in); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (i < sizeof(key))
				key[i] = (uint8_t)x;
			else
				in[i - sizeof(key)] = (uint8_t)(x >> 8);
		}
		rp_steer_cfg_set_key(&c, round == 0 ? rp_steer_default_key : key);
		for (size_t l = 0; l < 4; l++) {
			for (unsigned int w = 0; w < lens[l] / 4; w++)
				words[w] = (uint32_t)in[4 * w] << 24 | (uint32_t)in[4 * w + 1] << 16 |
					(uint32_t)in[4 * w + 2] << 8 | in[4 * w + 3];
			assert_int_equal(toeplitz(&c, in, lens[l]),
				rte_softrss(words, lens[l] / 4, c.key));
		}
	}
}

/* rss.bpf.o as the build made it (RP_RSS_PROG), bound to @cfg in @inst, or
 * the test is skipped. */
static struct rp_prog *
open_rss(struct rp_prog_inst *inst, const struct rp_steer_cfg *cfg, uint64_t *counters)
{
	const char *path = getenv("RP_RSS_PROG");
	struct rp_prog *p;
	char err[512];

	if (path == NULL) {
		print_message("RP_RSS_PROG not set (run through meson test): skipped\n");
		skip();
	}
	p = rp_prog_open(path, err, sizeof(err));
	if (p == NULL || rp_prog_inst_init(inst, p, cfg, counters, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return p;
}

/* rss.bpf.o under the JIT and the interpreter against the native core. */
static void
test_program_matches_native(void **state)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS];
	struct rp_steer_ctx ctx;
	struct rp_prog_inst inst;
	struct rp_prog *p;
	char err[512];

	(void)state;
	rp_steer_cfg_init(&cfg);
	p = open_rss(&inst, &cfg, counters);
	assert_non_null(inst.fn);
	for (int i = 0; i < 100000; i++) {
		uint64_t want, jit, interp;

		if (i % 5000 == 0) {
			uint8_t key[RP_STEER_KEY_SIZE];

			for (size_t k = 0; k < sizeof(key); k++)
				key[k] = (uint8_t)rnd();
			rp_steer_cfg_set_key(&cfg, i == 0 ? rp_steer_default_key : key);
			cfg.hash_types = i == 0 ? RP_STEER_HASH_ALL : (uint32_t)rnd() & 0x3f;
			cfg.table_mask = (uint16_t)((1u << rnd() % 8) - 1);
			for (int k = 0; k < RP_STEER_TABLE_MAX; k++)
				cfg.table[k] = (uint16_t)(rnd() % 16);
			cfg.default_queue = (uint16_t)(rnd() % 4);
			/* An instance reads its own copy, taken when it is
			 * made: a new configuration is a new instance. */
			rp_prog_inst_fini(&inst);
			if (rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err)) < 0)
				fail_msg("%s", err);
		}
		memset(&ctx, 0, sizeof(ctx));
		ctx.pkt_len = random_frame(ctx.pkt);
		ctx.len = ctx.pkt_len;
		ctx.nb_queues = 16;
		ctx.dir = RP_STEER_TO_GUEST; /* one worker: the spec's queue */
		want = rp_rss_run(&cfg, ctx.pkt, ctx.pkt_len);
		jit = rp_prog_run(&inst, &ctx);
		interp = rte_bpf_exec(inst.bpf, &ctx);
		if (jit != want || interp != want)
			fail_msg("frame %d (%u bytes): native %#llx, JIT %#llx, interpreter %#llx", i,
				ctx.pkt_len, (unsigned long long)want, (unsigned long long)jit,
				(unsigned long long)interp);
	}
	/* And the published vectors through the program. */
	rp_steer_cfg_init(&cfg);
	rp_prog_inst_fini(&inst);
	if (rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		memset(&ctx, 0, sizeof(ctx));
		ctx.pkt_len = build(ctx.pkt, &v4[i], false, 6, true, 0);
		assert_int_equal(RP_STEER_RET_GET_HASH(rp_prog_run(&inst, &ctx)), v4[i].l4_hash);
	}
	rp_prog_inst_fini(&inst);
	rp_prog_close(p);
}

/* The default's locality (rp_rss_steer, in rss.bpf.o and built in): to the
 * switch the ingress ring; to the guest a queue the receiving worker owns,
 * the same for every packet of a flow, spread over all of its queues; with
 * one worker the spec's queue. The JIT agrees with the native code. */
/*
 * The switch often picks the ring by the same hash (OVS tx-steering=hash
 * takes the RSS hash modulo its tx queues), so the frames that reach
 * worker w share the hash's low bits. The default must still spread them
 * over every guest queue w owns (it once took the same low bits again:
 * with 2 workers and 4 queues, all of worker 0's flows went to queue 0
 * and all of worker 1's to queue 3, in the qemu-mq test).
 */
static void
test_default_spreads_hash_rings(void **state)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS];
	struct rp_prog_inst inst;
	struct rp_steer_ctx ctx;
	struct rp_prog *p;

	(void)state;
	rp_steer_cfg_init(&cfg);
	p = open_rss(&inst, &cfg, counters);
	for (unsigned int nw = 2; nw <= 4; nw++) {
		for (unsigned int nq = nw; nq <= 8; nq++) {
			for (unsigned int rings = nw; rings <= nq; rings++) {
				unsigned int seen[4] = {0}, owned[4] = {0};

				for (unsigned int g = 0; g < nq; g++)
					owned[g % nw] |= 1u << g;
				for (int i = 0; i < 4000; i++) {
					uint8_t f[RP_STEER_PKT_MAX];
					uint32_t n = random_frame(f);
					uint64_t spec;
					unsigned int ring, w, g;

					rp_steer_ctx_fill(&ctx, f, n, n, RP_STEER_TO_GUEST, 0, nq, 0, nw);
					spec = rp_rss_run(&cfg, ctx.pkt, ctx.pkt_len);
					ring = RP_STEER_RET_GET_HASH(spec) % rings;
					w = ring % nw;
					rp_steer_ctx_fill(&ctx, f, n, n, RP_STEER_TO_GUEST, ring, nq, w, nw);
					g = (unsigned int)RP_STEER_RET_GET_QUEUE(rp_prog_run(&inst, &ctx));
					assert_true(owned[w] & (1u << g));
					seen[w] |= 1u << g;
				}
				for (unsigned int w = 0; w < nw; w++) {
					if (seen[w] != owned[w])
						print_error("%u workers, %u queues, ring = hash %% %u: "
							"worker %u used queues 0x%x of 0x%x\n",
							nw, nq, rings, w, seen[w], owned[w]);
					assert_int_equal(seen[w], owned[w]);
				}
			}
		}
	}
	rp_prog_inst_fini(&inst);
	rp_prog_close(p);
}

static void
test_default_keeps_worker(void **state)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS];
	struct rp_prog_inst inst;
	struct rp_steer_ctx ctx;
	struct rp_prog *p;

	(void)state;
	rp_steer_cfg_init(&cfg);
	p = open_rss(&inst, &cfg, counters);
	for (unsigned int nw = 1; nw <= 4; nw++) {
		for (unsigned int nq = 1; nq <= 8; nq++) {
			for (unsigned int w = 0; w < nw; w++) {
				unsigned int seen = 0, owned = 0;

				for (unsigned int g = w; g < nq; g += nw)
					owned |= 1u << g;
				for (int i = 0; i < 2000; i++) {
					uint8_t f[RP_STEER_PKT_MAX];
					uint32_t n = random_frame(f);
					unsigned int q = w + nw * (i % 3), dir = i & 1;
					uint64_t r, r2, g;

					rp_steer_ctx_fill(&ctx, f, n, n, dir, q % nq, nq, w, nw);
					r = rp_prog_run(&inst, &ctx);
					assert_int_equal(r, rp_rss_steer(&cfg, &ctx));
					g = RP_STEER_RET_GET_QUEUE(r);
					if (dir == RP_STEER_TO_SWITCH) {
						assert_int_equal(g, q % nq);
						continue;
					}
					/* The same flow again, on another ring of
					 * the same worker: the same queue. */
					rp_steer_ctx_fill(&ctx, f, n, n, dir, (q + nw) % nq, nq, w, nw);
					r2 = rp_prog_run(&inst, &ctx);
					assert_int_equal(RP_STEER_RET_GET_QUEUE(r2), g);
					if (nw == 1 || owned == 0) {
						/* the spec's table entry, which the
						 * host maps onto its queues */
						uint64_t spec = rp_rss_run(&cfg, ctx.pkt,
							ctx.pkt_len); /* the slack follows */

						assert_int_equal(g, RP_STEER_RET_GET_QUEUE(spec));
						continue;
					}
					assert_true(g < nq && (owned & (1u << g)));
					seen |= 1u << g;
				}
				/* Flows spread over every queue the worker owns. */
				if (nw > 1 && owned != 0)
					assert_int_equal(seen, owned);
			}
		}
	}
	rp_prog_inst_fini(&inst);
	rp_prog_close(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_vectors),
		cmocka_unit_test(test_ipv6_vectors),
		cmocka_unit_test(test_types_and_edges),
		cmocka_unit_test(test_tables_match_softrss),
		cmocka_unit_test(test_program_matches_native),
		cmocka_unit_test(test_default_keeps_worker),
		cmocka_unit_test(test_default_spreads_hash_rings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
