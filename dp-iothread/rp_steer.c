/* SPDX-License-Identifier: BSD-3-Clause */
/* Built-in Toeplitz steering; see rp_steer.h. */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "rp_steer.h"

const uint8_t rp_rss_default_key[RP_RSS_KEY_SIZE] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

void
rp_rss_set_key(struct rp_rss *c, const uint8_t *key)
{
	memcpy(c->key, key, sizeof(c->key));
	for (unsigned int i = 0; i < RP_RSS_INPUT_MAX; i++) {
		uint32_t win[8];

		/* The 32 key bits starting at input bit 8i + b. */
		for (unsigned int b = 0; b < 8; b++) {
			unsigned int bit = 8 * i + b;
			uint64_t k = 0;

			for (unsigned int j = 0; j < 5; j++)
				k = k << 8 | key[bit / 8 + j];
			win[b] = (uint32_t)(k >> (8 - bit % 8));
		}
		for (unsigned int v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (unsigned int b = 0; b < 8; b++)
				if (v & (0x80u >> b))
					h ^= win[b];
			c->lut[i][v] = h;
		}
	}
}

void
rp_rss_init(struct rp_rss *c, unsigned int n_queues)
{
	memset(c, 0, sizeof(*c));
	rp_rss_set_key(c, rp_rss_default_key);
	c->types = RP_RSS_TYPES_ALL;
	c->table_size = RP_RSS_TABLE_MAX;
	for (unsigned int i = 0; i < RP_RSS_TABLE_MAX; i++)
		c->table[i] = (uint16_t)(n_queues ? i % n_queues : 0);
}

/* Walk IPv6 extension headers the spec's non-_EX types still hash
 * through; returns the L4 protocol and its offset, or 0 for none (a
 * fragment, an unknown header, a truncated chain). */
static uint8_t
ipv6_l4(const uint8_t *pkt, uint32_t len, uint32_t off, uint32_t *l4_off)
{
	uint8_t nh = pkt[off + 6];

	off += sizeof(struct rte_ipv6_hdr);
	for (int i = 0; i < 8; i++) {
		switch (nh) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			*l4_off = off;
			return nh;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 8 > len)
				return 0;
			nh = pkt[off];
			off += (pkt[off + 1] + 1u) * 8;
			break;
		default: /* fragments and the rest: address hash only */
			return 0;
		}
	}
	return 0;
}

bool
rp_rss_hash(const struct rp_rss *c, const uint8_t *pkt, uint32_t len, uint32_t *hash)
{
	uint8_t in[RP_RSS_INPUT_MAX];
	uint32_t off = RTE_ETHER_HDR_LEN, l4_off = 0, n;
	uint16_t et;
	uint8_t proto = 0;
	bool v4;

	if (len < RTE_ETHER_HDR_LEN)
		return false;
	et = (uint16_t)(pkt[12] << 8 | pkt[13]);
	for (int i = 0; i < 2 && (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ); i++) {
		if (off + 4 > len)
			return false;
		et = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
		off += 4;
	}
	if (et == RTE_ETHER_TYPE_IPV4) {
		uint32_t ihl;
		uint16_t frag;

		if (off + sizeof(struct rte_ipv4_hdr) > len || (pkt[off] >> 4) != 4)
			return false;
		ihl = (pkt[off] & 0xfu) * 4u;
		if (ihl < sizeof(struct rte_ipv4_hdr) || off + ihl > len)
			return false;
		frag = (uint16_t)(pkt[off + 6] << 8 | pkt[off + 7]);
		/* Only the first fragment has ports, and not all of them:
		 * hash every fragment by address alone. */
		if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) == 0) {
			proto = pkt[off + 9];
			l4_off = off + ihl;
		}
		memcpy(in, pkt + off + 12, 8); /* source, destination */
		n = 8;
		v4 = true;
	} else if (et == RTE_ETHER_TYPE_IPV6) {
		if (off + sizeof(struct rte_ipv6_hdr) > len || (pkt[off] >> 4) != 6)
			return false;
		proto = ipv6_l4(pkt, len, off, &l4_off);
		memcpy(in, pkt + off + 8, 32);
		n = 32;
		v4 = false;
	} else {
		return false;
	}
	uint32_t t_tcp = v4 ? RP_RSS_TYPE_TCPV4 : RP_RSS_TYPE_TCPV6;
	uint32_t t_udp = v4 ? RP_RSS_TYPE_UDPV4 : RP_RSS_TYPE_UDPV6;
	uint32_t t_ip = v4 ? RP_RSS_TYPE_IPV4 : RP_RSS_TYPE_IPV6;

	if (((proto == IPPROTO_TCP && (c->types & t_tcp)) ||
		    (proto == IPPROTO_UDP && (c->types & t_udp))) &&
		l4_off + 4 <= len) {
		memcpy(in + n, pkt + l4_off, 4); /* source port, destination port */
		n += 4;
	} else if (!(c->types & t_ip)) {
		return false;
	}
	*hash = rp_rss_toeplitz(c, in, n);
	return true;
}
