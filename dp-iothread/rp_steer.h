/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_steer.h: the iothread's built-in steering, used until an eBPF program
 * is loaded (and as the reference the default program must match).
 *
 * Toeplitz RSS as the virtio-net spec defines it (5.1.6.4.3): a 40-byte
 * key, hash types IPv4, TCPv4, UDPv4, IPv6, TCPv6, UDPv6 (the _EX types are
 * not offered), and a power-of-two indirection table of up to 128 entries.
 * A packet of no enabled type has no hash and goes to the default queue.
 * The hash is table-driven: per input byte position, the XOR of the key
 * windows for each of its 256 values, computed once per key (one load and
 * XOR per input byte, about 4x faster than rte_softrss's bit loop). No EAL
 * needed: unit-tested against the published RSS verification vectors and
 * against DPDK's rte_softrss().
 */
#ifndef RP_STEER_H
#define RP_STEER_H

#include <stdbool.h>
#include <stdint.h>

#define RP_RSS_KEY_SIZE 40
#define RP_RSS_TABLE_MAX 128
#define RP_RSS_INPUT_MAX 36 /* IPv6 addresses and ports */

/* Hash types: the bit numbers of VIRTIO_NET_RSS_HASH_TYPE_*. */
#define RP_RSS_TYPE_IPV4 (1u << 0)
#define RP_RSS_TYPE_TCPV4 (1u << 1)
#define RP_RSS_TYPE_UDPV4 (1u << 2)
#define RP_RSS_TYPE_IPV6 (1u << 3)
#define RP_RSS_TYPE_TCPV6 (1u << 4)
#define RP_RSS_TYPE_UDPV6 (1u << 5)
#define RP_RSS_TYPES_ALL 0x3fu

struct rp_rss {
	uint8_t key[RP_RSS_KEY_SIZE];
	uint32_t types;       /* RP_RSS_TYPE_* */
	uint16_t table_size;  /* power of two, 1..RP_RSS_TABLE_MAX */
	uint16_t default_queue;
	uint16_t table[RP_RSS_TABLE_MAX];
	/* lut[i][v]: the hash of byte value v at input position i (from key) */
	uint32_t lut[RP_RSS_INPUT_MAX][256];
};

/** The standard key (the virtio-net and Microsoft RSS default). */
extern const uint8_t rp_rss_default_key[RP_RSS_KEY_SIZE];

/** Default config for @n_queues queues: standard key, all types, a
 * 128-entry table spreading over the queues round robin, queue 0 default. */
void rp_rss_init(struct rp_rss *c, unsigned int n_queues);

/** Use @key (RP_RSS_KEY_SIZE bytes) from now on. */
void rp_rss_set_key(struct rp_rss *c, const uint8_t *key);

/** Toeplitz hash of @n (<= RP_RSS_INPUT_MAX) input bytes with c's key. */
static inline uint32_t
rp_rss_toeplitz(const struct rp_rss *c, const uint8_t *in, unsigned int n)
{
	uint32_t h = 0;

	for (unsigned int i = 0; i < n; i++)
		h ^= c->lut[i][in[i]];
	return h;
}

/**
 * Hash Ethernet frame @pkt (@len bytes; up to two VLAN tags are skipped).
 * @return true with *@hash set, or false when no enabled type applies.
 */
bool rp_rss_hash(const struct rp_rss *c, const uint8_t *pkt, uint32_t len, uint32_t *hash);

/** The queue for a hashed packet. */
static inline uint16_t
rp_rss_queue(const struct rp_rss *c, uint32_t hash)
{
	return c->table[hash & (c->table_size - 1u)];
}

#endif /* RP_STEER_H */
