/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: offload metadata across the trust boundary (ipc/'s
 * rp_ipc_ol.c), both ways, on stack mbufs without EAL.
 *   byte 0: what to do (bit 0: rx/tx, bits 1-2: the port's conf, bits 3-7:
 *           where a two-segment chain splits, 0: one segment);
 *   bytes 1-16: the descriptor (rx) or ol_flags and lengths (tx);
 *   the rest: the frame.
 * rx: rp_ipc_ol_to_mbuf() with a peer's descriptor must refuse or produce
 * lengths that lie inside the packet; tx: rp_ipc_ol_from_mbuf() with what OVS
 * might hand over must refuse or describe a packet it fits. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "rp_ipc_ol.h"
#include "rp_stack_mbuf.h"

#define MAXPKT 70000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[2][MAXPKT] __attribute__((aligned(64)));
static struct rte_mbuf mb[2];

static struct rte_mbuf *
mbuf_over(const uint8_t *pkt, uint32_t len, uint32_t split)
{
	memcpy(buf[0], pkt, len);
	return rp_stack_mbuf(mb, (uint8_t *[2]){buf[0], buf[1]}, UINT16_MAX, len, split);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_ipc_desc d;
	struct rte_mbuf *m;
	uint32_t len, split;

	if (size < 17 || size - 17 > UINT16_MAX)
		return 0;
	len = (uint32_t)(size - 17);
	split = (uint32_t)(data[0] >> 3) * 8;
	memcpy(&d, data + 1, sizeof(d));
	m = mbuf_over(data + 17, len, split);
	if (!(data[0] & 1)) {
		if (rp_ipc_ol_to_mbuf(m, &d, (data[0] >> 1) & 3) == 0 && m->ol_flags)
			assert((uint32_t)m->l2_len + m->l3_len + m->l4_len <= m->pkt_len ||
				!(m->ol_flags & RTE_MBUF_F_TX_L4_MASK));
	} else {
		struct rp_ipc_desc out = {0};
		uint64_t fl;

		memcpy(&fl, data + 1, sizeof(fl));
		m->ol_flags = fl & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG |
			RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM |
			RTE_MBUF_F_TX_UDP_SEG);
		m->l2_len = data[9] & 0x7f;
		m->l3_len = (uint16_t)(data[10] | (data[11] & 1) << 8);
		m->l4_len = data[12];
		m->tso_segsz = (uint16_t)(data[13] | data[14] << 8);
		/* The PMD's tx copies the frame flat first. */
		memcpy(buf[0], data + 17, len);
		if (rp_ipc_ol_from_mbuf(m, buf[0], len, &out) >= 0 && (out.l2_len || out.l3_len))
			assert((uint32_t)out.l2_len + out.l3_len <= len);
	}
	return 0;
}
