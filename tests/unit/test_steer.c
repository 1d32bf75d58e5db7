/* SPDX-License-Identifier: BSD-3-Clause */
/* The iothread's built-in Toeplitz steering against the RSS verification
 * vectors published with the Microsoft RSS spec (the virtio-net default
 * key), built as real frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_thash.h>

#include "rp_steer.h"

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

static void
check(const struct vec *vs, size_t n, bool ipv6)
{
	struct rp_rss c;
	uint8_t f[128];
	uint32_t h, len;

	rp_rss_init(&c, 4);
	for (size_t i = 0; i < n; i++) {
		len = build(f, &vs[i], ipv6, 6 /* TCP */, false, 0);
		assert_true(rp_rss_hash(&c, f, len, &h));
		assert_int_equal(h, vs[i].l4_hash);
		/* UDP hashes the same 4-tuple. */
		len = build(f, &vs[i], ipv6, 17, true, 0);
		assert_true(rp_rss_hash(&c, f, len, &h));
		assert_int_equal(h, vs[i].l4_hash);
		/* No L4 type: the address pair. */
		len = build(f, &vs[i], ipv6, 47 /* GRE */, false, 0);
		assert_true(rp_rss_hash(&c, f, len, &h));
		assert_int_equal(h, vs[i].ip_hash);
		assert_int_equal(rp_rss_queue(&c, h), (h & 127) % 4);
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
	struct rp_rss c;
	uint8_t f[128];
	uint32_t h, len;

	(void)state;
	rp_rss_init(&c, 1);
	/* A TCP packet with only the IPv4 type enabled hashes addresses. */
	c.types = RP_RSS_TYPE_IPV4;
	len = build(f, &v4[0], false, 6, false, 0);
	assert_true(rp_rss_hash(&c, f, len, &h));
	assert_int_equal(h, v4[0].ip_hash);
	/* Nothing enabled for IPv6: no hash. */
	len = build(f, &v6[0], true, 6, false, 0);
	assert_false(rp_rss_hash(&c, f, len, &h));
	/* A non-first fragment has no ports: address hash. */
	rp_rss_init(&c, 1);
	len = build(f, &v4[1], false, 6, false, 100);
	assert_true(rp_rss_hash(&c, f, len, &h));
	assert_int_equal(h, v4[1].ip_hash);
	/* Truncated and non-IP frames are refused, never read past. */
	len = build(f, &v4[1], false, 6, false, 0);
	assert_false(rp_rss_hash(&c, f, 20, &h));
	f[12] = 0x88, f[13] = 0xb5;
	assert_false(rp_rss_hash(&c, f, len, &h));
	assert_false(rp_rss_hash(&c, f, 10, &h));
	/* A bogus IHL does not take the parser past the frame. */
	len = build(f, &v4[1], false, 6, false, 0);
	f[14] = 0x4f;
	assert_false(rp_rss_hash(&c, f, 40, &h));
}

/* The lookup tables against DPDK's bit-loop rte_softrss(), for random keys
 * and inputs of every length the hash types use. */
static void
test_tables_match_softrss(void **state)
{
	static struct rp_rss c;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int round = 0; round < 200; round++) {
		uint8_t key[RP_RSS_KEY_SIZE], in[RP_RSS_INPUT_MAX];
		uint32_t words[RP_RSS_INPUT_MAX / 4];
		const unsigned int lens[] = {8, 12, 32, 36};

		for (size_t i = 0; i < sizeof(key) + sizeof(in); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (i < sizeof(key))
				key[i] = (uint8_t)x;
			else
				in[i - sizeof(key)] = (uint8_t)(x >> 8);
		}
		rp_rss_set_key(&c, round == 0 ? rp_rss_default_key : key);
		for (size_t l = 0; l < 4; l++) {
			for (unsigned int w = 0; w < lens[l] / 4; w++)
				words[w] = (uint32_t)in[4 * w] << 24 | (uint32_t)in[4 * w + 1] << 16 |
					(uint32_t)in[4 * w + 2] << 8 | in[4 * w + 3];
			assert_int_equal(rp_rss_toeplitz(&c, in, lens[l]),
				rte_softrss(words, lens[l] / 4, c.key));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_vectors),
		cmocka_unit_test(test_ipv6_vectors),
		cmocka_unit_test(test_types_and_edges),
		cmocka_unit_test(test_tables_match_softrss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
