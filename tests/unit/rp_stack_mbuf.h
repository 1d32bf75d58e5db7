/* SPDX-License-Identifier: BSD-3-Clause */
/* Stack mbufs without EAL, for code that only reads and writes mbuf
 * fields (the offload mapping): the unit test and the fuzz harness. */
#ifndef RP_STACK_MBUF_H
#define RP_STACK_MBUF_H

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

/* @len bytes already in @buf[0]: one flat mbuf over it (mb[0]), or, with
 * 0 < @split < @len, a chain of two with the bytes from @split on moved
 * to @buf[1] (mb[1]). Each buffer holds @room bytes. */
static inline struct rte_mbuf *
rp_stack_mbuf(struct rte_mbuf mb[2], uint8_t *buf[2], uint16_t room, uint32_t len,
	uint32_t split)
{
	memset(mb, 0, 2 * sizeof(mb[0]));
	mb[0].buf_addr = buf[0];
	mb[0].buf_len = room;
	mb[0].nb_segs = 1;
	mb[0].pkt_len = len;
	mb[0].data_len = (uint16_t)len;
	if (split != 0 && split < len) {
		memcpy(buf[1], buf[0] + split, len - split);
		mb[0].data_len = (uint16_t)split;
		mb[0].next = &mb[1];
		mb[0].nb_segs = 2;
		mb[1].buf_addr = buf[1];
		mb[1].buf_len = room;
		mb[1].nb_segs = 1;
		mb[1].data_len = (uint16_t)(len - split);
		mb[1].pkt_len = len - split;
	}
	return &mb[0];
}

#endif /* RP_STACK_MBUF_H */
