/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload metadata between ringport descriptors and mbuf ol_flags.
 *
 * To the switch (rx): a descriptor's checksum and segmentation state becomes
 * what OVS 3.1 gets from its own vhost-user ports (rte_vhost's legacy
 * offload flags): RTE_MBUF_F_TX_* requests plus l2/l3/l4 lengths and
 * tso_segsz, so OVS treats a ringport packet exactly like a vhost one. Where
 * OVS did not enable the matching Tx offload on the port (userspace TSO off,
 * the default) a partial checksum is completed here in software and the
 * packet is marked RX_L4_CKSUM_GOOD, so nothing depends on that setting.
 * A segmentation request OVS cannot take is refused (the caller drops and
 * counts it): cutting a 64 KB TCP frame is the guest's or OVS's job.
 *
 * To the guest (tx): the reverse. Checksum requests become CSUM_PARTIAL with
 * the header lengths, TSO becomes GSO with gso_size, a verified checksum
 * becomes CSUM_VALID. The IPv4 header checksum, which virtio has no way to
 * ask for, is written here.
 *
 * No EAL needed: unit-tested on stack mbufs.
 */
#ifndef RP_PMD_OL_H
#define RP_PMD_OL_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "rp_ipc_abi.h"

/* Port Tx offloads OVS configured, as far as rx mapping cares. */
#define RP_OL_CONF_CKSUM (1u << 0) /* L4 (and IPv4) checksum requests welcome */
#define RP_OL_CONF_TSO (1u << 1)   /* TCP segmentation requests welcome */

/**
 * Apply @d's offload metadata to @m, the first mbuf of a received packet
 * (data, lengths and chain already set). 0, or -EINVAL when the metadata
 * does not fit the packet or asks for what the port cannot take.
 */
int rp_ol_to_mbuf(struct rte_mbuf *m, const struct rp_ipc_desc *d, unsigned int conf);

/**
 * Offload metadata for the to-guest descriptor of @m, whose bytes were just
 * copied to @pkt (contiguous, @len bytes). Returns the descriptor flags to
 * OR in, fills @d's gso_size, l2_len and l3_len; -1 if the requested
 * offload does not fit the packet (the caller drops and counts it).
 */
int rp_ol_from_mbuf(const struct rte_mbuf *m, uint8_t *pkt, uint32_t len, struct rp_ipc_desc *d);

#endif /* RP_PMD_OL_H */
