/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload metadata between ringport descriptors and mbufs (ipc/'s
 * rp_ipc_ol.c), on stack mbufs without EAL. Checksums are checked against
 * an independent RFC 1071 sum computed here byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "rp_ipc_ol.h"
#include "rp_stack_mbuf.h"

#define L2 14
#define MAXPKT 3000

static uint8_t pkt_buf[2][MAXPKT] __attribute__((aligned(64)));
static struct rte_mbuf mb[2];

/* RFC 1071 over big-endian 16-bit words, folded, not complemented. */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* Ethernet + IPv4 or IPv6 + TCP or UDP + @payload bytes, in one flat
 * buffer; the L4 checksum field holds garbage. Returns the length. */
static uint32_t
build(uint8_t *p, bool v6, bool tcp, uint32_t payload)
{
	uint32_t l3 = v6 ? 40 : 20, l4 = tcp ? 20 : 8, len = L2 + l3 + l4 + payload;

	memset(p, 0, len);
	p[12] = v6 ? 0x86 : 0x08;
	p[13] = v6 ? 0xdd : 0x00;
	uint8_t *ip = p + L2, *l4h = ip + l3;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((l4 + payload) >> 8);
		ip[5] = (uint8_t)(l4 + payload);
		ip[6] = tcp ? 6 : 17;
		ip[7] = 64;
		for (int i = 0; i < 32; i++)
			ip[8 + i] = (uint8_t)(0x20 + i);
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((l3 + l4 + payload) >> 8);
		ip[3] = (uint8_t)(l3 + l4 + payload);
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	}
	l4h[0] = 0x30;
	l4h[1] = 0x39;
	l4h[2] = 0x00;
	l4h[3] = 0x50;
	if (tcp) {
		l4h[12] = 5 << 4;
		l4h[16] = 0xde; /* garbage in the checksum */
		l4h[17] = 0xad;
	} else {
		l4h[4] = (uint8_t)((l4 + payload) >> 8);
		l4h[5] = (uint8_t)(l4 + payload);
		l4h[6] = 0xde;
		l4h[7] = 0xad;
	}
	for (uint32_t i = 0; i < payload; i++)
		l4h[l4 + i] = (uint8_t)(i * 7 + 3);
	return len;
}

/* What the L4 checksum field must hold for the packet in @p. */
static uint16_t
ref_l4_cksum(const uint8_t *p, bool v6, bool tcp, uint32_t len)
{
	uint32_t l3 = v6 ? 40 : 20, l4_len = len - L2 - l3, acc;
	uint8_t copy[MAXPKT], ph[40] = {0};
	const uint8_t *ip = p + L2;

	memcpy(copy, ip + l3, l4_len);
	copy[tcp ? 16 : 6] = copy[tcp ? 17 : 7] = 0;
	if (v6) {
		memcpy(ph, ip + 8, 32);
		ph[34] = (uint8_t)(l4_len >> 8);
		ph[35] = (uint8_t)l4_len;
		ph[39] = tcp ? 6 : 17;
		acc = sum16(ph, 40, 0);
	} else {
		memcpy(ph, ip + 12, 8);
		ph[9] = tcp ? 6 : 17;
		ph[10] = (uint8_t)(l4_len >> 8);
		ph[11] = (uint8_t)l4_len;
		acc = sum16(ph, 12, 0);
	}
	uint16_t ck = (uint16_t)~sum16(copy, l4_len, acc);
	return (!tcp && ck == 0) ? 0xffff : ck;
}

static uint16_t
field_be(const uint8_t *p, uint32_t off)
{
	return (uint16_t)(p[off] << 8 | p[off + 1]);
}

/* One flat mbuf over pkt_buf[0], or a chain of two split at @split. */
static struct rte_mbuf *
mbuf_over(uint32_t len, uint32_t split)
{
	return rp_stack_mbuf(mb, (uint8_t *[2]){pkt_buf[0], pkt_buf[1]}, MAXPKT, len, split);
}

static struct rp_ipc_desc
rx_desc(bool v6, bool tcp, uint16_t extra)
{
	return (struct rp_ipc_desc){
		.flags = (uint16_t)(RP_IPC_DESC_F_CSUM_PARTIAL |
			(tcp ? RP_IPC_L4_TCP : RP_IPC_L4_UDP) << RP_IPC_DESC_L4_SHIFT |
			(v6 ? RP_IPC_L3_IPV6 : RP_IPC_L3_IPV4) << RP_IPC_DESC_L3_SHIFT | extra),
		.l2_len = L2,
		.l3_len = v6 ? 40 : 20,
	};
}

/* A partial checksum, OVS without Tx checksum offload: completed here. */
static void
test_rx_partial_completed(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			for (uint32_t split = 0; split <= 100; split += 100) {
				uint32_t len = build(pkt_buf[0], v6, tcp, 1001);
				uint16_t want = ref_l4_cksum(pkt_buf[0], v6, tcp, len);
				struct rte_mbuf *m = mbuf_over(len, split);
				struct rp_ipc_desc d = rx_desc(v6, tcp, 0);
				uint32_t field = L2 + (v6 ? 40 : 20) + (tcp ? 16 : 6);

				assert_int_equal(rp_ipc_ol_to_mbuf(m, &d, 0), 0);
				assert_int_equal(field_be(pkt_buf[0], field), want);
				assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
					RTE_MBUF_F_RX_L4_CKSUM_GOOD);
				assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0);
			}
		}
	}
}

/* OVS enabled Tx checksum offload: pass the request on, as vhost does. */
static void
test_rx_partial_passed_on(void **state)
{
	(void)state;
	uint32_t len = build(pkt_buf[0], false, false, 200);
	struct rte_mbuf *m = mbuf_over(len, 0);
	struct rp_ipc_desc d = rx_desc(false, false, 0);

	assert_int_equal(rp_ipc_ol_to_mbuf(m, &d, RP_IPC_OL_CONF_CKSUM), 0);
	assert_int_equal(m->ol_flags, RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV4);
	assert_int_equal(m->l2_len, L2);
	assert_int_equal(m->l3_len, 20);
	assert_int_equal(field_be(pkt_buf[0], L2 + 20 + 6), 0xdead); /* untouched */
}

static void
test_rx_valid_and_gso(void **state)
{
	(void)state;
	uint32_t len = build(pkt_buf[0], false, true, 2000);
	struct rte_mbuf *m = mbuf_over(len, 0);
	struct rp_ipc_desc d = {
		.flags = RP_IPC_DESC_F_CSUM_VALID | RP_IPC_L3_IPV4 << RP_IPC_DESC_L3_SHIFT,
	};

	assert_int_equal(rp_ipc_ol_to_mbuf(m, &d, 0), 0);
	assert_int_equal(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD);

	d = rx_desc(false, true, RP_IPC_GSO_TCP << RP_IPC_DESC_GSO_SHIFT);
	d.gso_size = 1448;
	m = mbuf_over(len, 0);
	assert_int_equal(rp_ipc_ol_to_mbuf(m, &d, RP_IPC_OL_CONF_CKSUM), -EINVAL); /* no TSO */
	m = mbuf_over(len, 0);
	assert_int_equal(rp_ipc_ol_to_mbuf(m, &d, RP_IPC_OL_CONF_CKSUM | RP_IPC_OL_CONF_TSO), 0);
	assert_int_equal(m->ol_flags, RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
	assert_int_equal(m->tso_segsz, 1448);
	assert_int_equal(m->l4_len, 20);
	d.gso_size = 0;
	m = mbuf_over(len, 0);
	assert_int_equal(rp_ipc_ol_to_mbuf(m, &d, RP_IPC_OL_CONF_TSO), -EINVAL);
}

/* Metadata that does not fit the packet is refused, never followed. */
static void
test_rx_bad_metadata(void **state)
{
	(void)state;
	uint32_t len = build(pkt_buf[0], false, true, 10);
	struct rp_ipc_desc d;

	d = rx_desc(false, true, 0);
	d.flags &= (uint16_t)~RP_IPC_DESC_L3_MASK; /* no L3 */
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 0), &d, 0), -EINVAL);
	d = rx_desc(false, true, 0);
	d.flags |= RP_IPC_L4_SCTP << RP_IPC_DESC_L4_SHIFT;
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 0), &d, 0), -EINVAL);
	d = rx_desc(false, true, 0);
	d.l3_len = 200; /* past the end */
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 0), &d, 0), -EINVAL);
	d = rx_desc(false, true, 0);
	d.l2_len = 2;
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 0), &d, 0), -EINVAL);
	d = rx_desc(false, true, 0); /* headers split across segments */
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 40), &d, 0), -EINVAL);
	d = rx_desc(true, true, 0);  /* says IPv6: 40 bytes of L3 do not fit */
	d.l3_len = 20;
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 0), &d, 0), -EINVAL);
	/* Lengths the mbuf's fields cannot hold (l2_len is 7 bits, l3_len 9),
	 * in a frame long enough for them: 142 must not pass as 14. */
	len = build(pkt_buf[0], false, true, 600);
	d = rx_desc(false, true, 0);
	d.l2_len = 142;
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 0), &d, 0), -EINVAL);
	assert_int_equal(rp_ipc_ol_to_mbuf(mbuf_over(len, 0), &d, RP_IPC_OL_CONF_CKSUM), -EINVAL);
	d = rx_desc(false, true, 0);
	d.l2_len = 127; /* the most the field holds: taken */
	struct rte_mbuf *m = mbuf_over(len, 0);
	assert_int_equal(rp_ipc_ol_to_mbuf(m, &d, RP_IPC_OL_CONF_CKSUM), 0);
	assert_int_equal(m->l2_len, 127);
}

static void
test_tx_mapping(void **state)
{
	(void)state;
	uint32_t len = build(pkt_buf[0], false, true, 100);
	struct rte_mbuf *m = mbuf_over(len, 0);
	struct rp_ipc_desc d = {0};
	int f;

	/* A verified checksum only. */
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	assert_int_equal(rp_ipc_ol_from_mbuf(m, pkt_buf[0], len, &d), RP_IPC_DESC_F_CSUM_VALID);

	/* TSO with the IPv4 header checksum to write. */
	pkt_buf[0][L2 + 10] = 0x12;
	pkt_buf[0][L2 + 11] = 0x34;
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4 |
		RTE_MBUF_F_TX_IP_CKSUM;
	m->l2_len = L2;
	m->l3_len = 20;
	m->tso_segsz = 1400;
	f = rp_ipc_ol_from_mbuf(m, pkt_buf[0], len, &d);
	assert_int_equal(f, RP_IPC_DESC_F_CSUM_PARTIAL | RP_IPC_L4_TCP << RP_IPC_DESC_L4_SHIFT |
		RP_IPC_L3_IPV4 << RP_IPC_DESC_L3_SHIFT | RP_IPC_GSO_TCP << RP_IPC_DESC_GSO_SHIFT);
	assert_int_equal(d.gso_size, 1400);
	assert_int_equal(d.l2_len, L2);
	assert_int_equal(d.l3_len, 20);
	assert_int_equal(sum16(pkt_buf[0] + L2, 20, 0), 0xffff); /* header sums right */

	/* What the guest gets back maps to what OVS asked for. */
	struct rte_mbuf *m2 = &mb[1];
	memset(m2, 0, sizeof(*m2));
	m2->buf_addr = pkt_buf[0];
	m2->data_len = (uint16_t)len;
	m2->pkt_len = len;
	d.flags = (uint16_t)(f & ~RP_IPC_DESC_GSO_MASK);
	assert_int_equal(rp_ipc_ol_to_mbuf(m2, &d, RP_IPC_OL_CONF_CKSUM), 0);
	assert_int_equal(m2->ol_flags, RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4);

	/* Refused: SCTP, lengths past the packet, no L3 type. */
	m->ol_flags = RTE_MBUF_F_TX_SCTP_CKSUM | RTE_MBUF_F_TX_IPV4;
	assert_int_equal(rp_ipc_ol_from_mbuf(m, pkt_buf[0], len, &d), -1);
	m->ol_flags = RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV6;
	m->l3_len = 40;
	assert_int_equal(rp_ipc_ol_from_mbuf(m, pkt_buf[0], 60, &d), -1);
	m->ol_flags = RTE_MBUF_F_TX_TCP_CKSUM;
	m->l3_len = 20;
	assert_int_equal(rp_ipc_ol_from_mbuf(m, pkt_buf[0], len, &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_partial_completed),
		cmocka_unit_test(test_rx_partial_passed_on),
		cmocka_unit_test(test_rx_valid_and_gso),
		cmocka_unit_test(test_rx_bad_metadata),
		cmocka_unit_test(test_tx_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
