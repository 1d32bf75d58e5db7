/* SPDX-License-Identifier: BSD-3-Clause */
/* Offload metadata mapping; see rp_ipc_ol.h. */
/* rte_ipv{4,6}_udptcp_cksum_mbuf are experimental in 22.11; they are
 * inline, so nothing of that ABI is linked against. */
#define ALLOW_EXPERIMENTAL_API 1
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "rp_ipc_ol.h"

#define RP_OL_L2_LEN_MAX ((1u << RTE_MBUF_L2_LEN_BITS) - 1)
#define RP_OL_L3_LEN_MAX ((1u << RTE_MBUF_L3_LEN_BITS) - 1)
#define L4_FIELD(f, shift) (((f) >> (shift)) & 3u)
#define TCP_CKSUM_OFF 16
#define UDP_CKSUM_OFF 6

/* The headers the lengths describe are in the first segment; 0 or -EINVAL. */
static int
check_headers(const struct rte_mbuf *m, unsigned int l3, unsigned int l4, uint32_t l2_len,
	uint32_t l3_len)
{
	uint32_t l4_min = l4 == RP_IPC_L4_TCP ? sizeof(struct rte_tcp_hdr) : 8;

	if ((l3 != RP_IPC_L3_IPV4 && l3 != RP_IPC_L3_IPV6) ||
		(l4 != RP_IPC_L4_TCP && l4 != RP_IPC_L4_UDP))
		return -EINVAL;
	/* The mbuf's fields are narrower than the descriptor's (l2_len 7 bits,
	 * l3_len 9): a length they cannot hold must not pass truncated. */
	if (l2_len < RTE_ETHER_HDR_LEN || l2_len > RP_OL_L2_LEN_MAX ||
		l3_len < (l3 == RP_IPC_L3_IPV4 ? sizeof(struct rte_ipv4_hdr)
					       : sizeof(struct rte_ipv6_hdr)) ||
		l3_len > RP_OL_L3_LEN_MAX || l2_len + l3_len + l4_min > m->data_len)
		return -EINVAL;
	return 0;
}

/* Fill in a partial L4 checksum in place (the buffer is ours while
 * borrowed). The field holds the pseudo-header sum by convention: zero it
 * and sum everything. Lengths come from the IP header; a lying one only
 * spoils the sender's own packet (DPDK bounds the sum by pkt_len). */
static void
complete_cksum(struct rte_mbuf *m, unsigned int l3, unsigned int l4, uint32_t l2_len,
	uint32_t l3_len)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, l2_len);
	uint8_t *field = ip + l3_len + (l4 == RP_IPC_L4_TCP ? TCP_CKSUM_OFF : UDP_CKSUM_OFF);
	uint16_t ck = 0;

	memcpy(field, &ck, sizeof(ck));
	if (l3 == RP_IPC_L3_IPV4)
		ck = rte_ipv4_udptcp_cksum_mbuf(m, (const struct rte_ipv4_hdr *)ip, l2_len + l3_len);
	else
		ck = rte_ipv6_udptcp_cksum_mbuf(m, (const struct rte_ipv6_hdr *)ip, l2_len + l3_len);
	memcpy(field, &ck, sizeof(ck));
}

int
rp_ipc_ol_to_mbuf(struct rte_mbuf *m, const struct rp_ipc_desc *d, unsigned int conf)
{
	unsigned int l4 = L4_FIELD(d->flags, RP_IPC_DESC_L4_SHIFT);
	unsigned int l3 = L4_FIELD(d->flags, RP_IPC_DESC_L3_SHIFT);
	unsigned int gso = L4_FIELD(d->flags, RP_IPC_DESC_GSO_SHIFT);
	bool partial = d->flags & RP_IPC_DESC_F_CSUM_PARTIAL;
	uint64_t ip_flag = l3 == RP_IPC_L3_IPV4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;

	if (d->flags & RP_IPC_DESC_F_CSUM_VALID) {
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		if (l3 == RP_IPC_L3_IPV4)
			m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	}
	if (!partial && gso == RP_IPC_GSO_NONE)
		return 0;
	if (check_headers(m, l3, l4, d->l2_len, d->l3_len) < 0)
		return -EINVAL;
	m->l2_len = d->l2_len;
	m->l3_len = d->l3_len;
	if (gso != RP_IPC_GSO_NONE) {
		const struct rte_tcp_hdr *th;
		uint32_t l4_off = (uint32_t)d->l2_len + d->l3_len, l4_len;

		if (gso != RP_IPC_GSO_TCP || l4 != RP_IPC_L4_TCP || d->gso_size == 0 ||
			!(conf & RP_IPC_OL_CONF_TSO))
			return -EINVAL;
		th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, l4_off);
		l4_len = (uint32_t)(th->data_off >> 4) * 4;
		if (l4_len < sizeof(*th) || l4_off + l4_len > m->data_len)
			return -EINVAL;
		m->l4_len = l4_len;
		m->tso_segsz = d->gso_size;
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM | ip_flag;
		if (l3 == RP_IPC_L3_IPV4)
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		return 0;
	}
	if (conf & RP_IPC_OL_CONF_CKSUM) {
		m->ol_flags |= ip_flag |
			(l4 == RP_IPC_L4_TCP ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
		return 0;
	}
	complete_cksum(m, l3, l4, d->l2_len, d->l3_len);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return 0;
}

int
rp_ipc_ol_from_mbuf(const struct rte_mbuf *m, uint8_t *pkt, uint32_t len, struct rp_ipc_desc *d)
{
	uint64_t f = m->ol_flags, l4req = f & RTE_MBUF_F_TX_L4_MASK;
	bool tso = f & RTE_MBUF_F_TX_TCP_SEG;
	unsigned int l3, l4;
	uint16_t flags = 0;

	if ((f & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		flags |= RP_IPC_DESC_F_CSUM_VALID;
	if (!tso && l4req == 0 && !(f & RTE_MBUF_F_TX_IP_CKSUM))
		return flags;

	l3 = f & RTE_MBUF_F_TX_IPV4 ? RP_IPC_L3_IPV4
		: f & RTE_MBUF_F_TX_IPV6 ? RP_IPC_L3_IPV6 : RP_IPC_L3_NONE;
	if (tso || l4req == RTE_MBUF_F_TX_TCP_CKSUM)
		l4 = RP_IPC_L4_TCP;
	else if (l4req == RTE_MBUF_F_TX_UDP_CKSUM)
		l4 = RP_IPC_L4_UDP;
	else if (l4req == 0)
		l4 = RP_IPC_L4_NONE; /* IPv4 header checksum only */
	else
		return -1; /* SCTP: virtio cannot ask for it */
	if (m->l2_len < RTE_ETHER_HDR_LEN || m->l3_len > UINT8_MAX || /* l2_len: 7 bits */
		(uint32_t)m->l2_len + m->l3_len + (l4 == RP_IPC_L4_TCP ? 20 : 8) > len ||
		l3 == RP_IPC_L3_NONE)
		return -1;
	if (f & RTE_MBUF_F_TX_IP_CKSUM) {
		struct rte_ipv4_hdr ip;

		if (l3 != RP_IPC_L3_IPV4 || m->l3_len < sizeof(ip))
			return -1;
		memcpy(&ip, pkt + m->l2_len, sizeof(ip));
		ip.hdr_checksum = 0;
		/* Options are part of the sum: sum the real header in place. */
		memcpy(pkt + m->l2_len, &ip, sizeof(ip));
		uint16_t ck = rte_raw_cksum(pkt + m->l2_len, m->l3_len);

		ck = ck == 0xffff ? ck : (uint16_t)~ck; /* as rte_ipv4_cksum() */
		memcpy(pkt + m->l2_len + offsetof(struct rte_ipv4_hdr, hdr_checksum), &ck,
			sizeof(ck));
	}
	if (l4 == RP_IPC_L4_NONE)
		return flags;
	d->l2_len = (uint8_t)m->l2_len;
	d->l3_len = (uint8_t)m->l3_len;
	flags |= RP_IPC_DESC_F_CSUM_PARTIAL | (uint16_t)(l4 << RP_IPC_DESC_L4_SHIFT) |
		(uint16_t)(l3 << RP_IPC_DESC_L3_SHIFT);
	if (tso) {
		d->gso_size = m->tso_segsz;
		flags |= (uint16_t)(RP_IPC_GSO_TCP << RP_IPC_DESC_GSO_SHIFT);
	}
	return flags;
}
