/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_steer.h: the iothread's built-in steering, used until an eBPF program
 * is loaded (and as the reference the default program must match).
 *
 * Toeplitz RSS as the virtio-net spec defines it (5.1.6.4.3): a 40-byte
 * key, hash types IPv4, TCPv4, UDPv4, IPv6, TCPv6, UDPv6 (the _EX types are
 * not offered), and a power-of-two indirection table of up to 128 entries.
 * A packet of no enabled type has no hash and goes to the default queue.
 * The hash itself is DPDK's rte_softrss(); what is ours is choosing the
 * input as the spec says. No EAL needed: unit-tested against the published
 * RSS verification vectors.
 */
#ifndef RP_STEER_H
#define RP_STEER_H

#include <stdbool.h>
#include <stdint.h>

#define RP_RSS_KEY_SIZE 40
#define RP_RSS_TABLE_MAX 128

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
};

/** The standard key (the virtio-net and Microsoft RSS default). */
extern const uint8_t rp_rss_default_key[RP_RSS_KEY_SIZE];

/** Default config for @n_queues queues: standard key, all types, a
 * 128-entry table spreading over the queues round robin, queue 0 default. */
void rp_rss_init(struct rp_rss *c, unsigned int n_queues);

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
