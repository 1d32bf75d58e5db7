/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload metadata between ringport descriptors and mbuf ol_flags, for both
 * processes: the descriptor flags (RP_IPC_DESC_L3/L4/GSO_*, gso_size,
 * l2_len, l3_len) mean the same to each, so one mapping serves both ends of
 * each ring.
 *
 * rp_ipc_ol_to_mbuf(): a descriptor becomes mbuf offload state.
 *  - The PMD, to the switch: a frame from the guest becomes what OVS 3.1
 *    gets from its own vhost-user ports (rte_vhost's legacy offload flags):
 *    RTE_MBUF_F_TX_* requests plus l2/l3/l4 lengths and tso_segsz, so OVS
 *    treats a ringport packet exactly like a vhost one. Where OVS did not
 *    enable the matching Tx offload on the port (userspace TSO off, the
 *    default) a partial checksum is completed here in software and the
 *    packet is marked RX_L4_CKSUM_GOOD, so nothing depends on that setting.
 *    A segmentation request the port cannot take is refused (the caller
 *    drops and counts it): cutting a 64 KB TCP frame is the guest's or
 *    OVS's job.
 *  - The iothread, to the guest: a frame from OVS becomes the mbuf that
 *    rte_vhost turns into a virtio-net header (conf: what the guest
 *    negotiated).
 *
 * rp_ipc_ol_from_mbuf(): the reverse, mbuf offload state becomes descriptor
 * flags. Checksum requests become CSUM_PARTIAL with the header lengths,
 * TSO becomes GSO with gso_size, a verified checksum becomes CSUM_VALID.
 * The IPv4 header checksum, which virtio has no way to ask for, is written
 * here. The PMD uses it on OVS's tx mbufs (to the guest), the iothread on
 * the mbufs rte_vhost made from the guest's virtio-net headers (to the
 * switch).
 *
 * Built as a library of its own (rp_ipc_ol, not in the ipc core, which
 * knows no mbufs). No EAL needed: unit-tested on stack mbufs.
 */
#ifndef RP_IPC_OL_H
#define RP_IPC_OL_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "rp_ipc_abi.h"

/* What the receiving side takes (rp_ipc_ol_to_mbuf's conf): the Tx offloads
 * OVS enabled on the port (PMD), the offloads the guest negotiated
 * (iothread). */
#define RP_IPC_OL_CONF_CKSUM (1u << 0) /* L4 (and IPv4) checksum requests welcome */
#define RP_IPC_OL_CONF_TSO (1u << 1)   /* TCP segmentation requests welcome */

/**
 * Apply @d's offload metadata to @m, the first mbuf of a packet taken off a
 * ring (data, lengths and chain already set). 0, or -EINVAL when the
 * metadata does not fit the packet or asks for what @conf does not take.
 */
int rp_ipc_ol_to_mbuf(struct rte_mbuf *m, const struct rp_ipc_desc *d, unsigned int conf);

/**
 * Offload metadata for the first descriptor of @m, a packet about to go on
 * a ring, whose first bytes are at @pkt (contiguous, @len bytes: the
 * region copy, or the mbuf's own data). Returns the descriptor flags to
 * OR in, fills @d's gso_size, l2_len and l3_len; -1 if the requested
 * offload does not fit the packet (the caller drops and counts it).
 */
int rp_ipc_ol_from_mbuf(const struct rte_mbuf *m, uint8_t *pkt, uint32_t len,
	struct rp_ipc_desc *d);

#endif /* RP_IPC_OL_H */
