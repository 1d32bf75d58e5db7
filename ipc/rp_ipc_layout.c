/* SPDX-License-Identifier: BSD-3-Clause */
/* Region geometry: computing it (server) and validating a peer's header
 * against it (client). Pure; fuzzed by tests/fuzz/fuzz_hdr.c. */
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>

#include "rp_ipc.h"
#include "rp_ipc_private.h"

#define RP_IPC_PAGE 4096u

static bool
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

uint64_t
rp_ipc_ring_memsize(uint32_t ring_size)
{
	ssize_t sz = rte_ring_get_memsize_elem(RP_IPC_DESC_SIZE, ring_size);

	return sz < 0 ? 0 : RTE_ALIGN_CEIL((uint64_t)sz, RTE_CACHE_LINE_SIZE);
}

static int
layout_fill(uint16_t n_qpairs, uint32_t ring_size, uint32_t buf_shift, const uint32_t *n_bufs,
	struct rp_ipc_layout *lay, char *why, size_t ws)
{
	if (n_qpairs == 0 || n_qpairs > RP_IPC_MAX_QPAIRS)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws, "n_qpairs %u not in 1..%u",
			n_qpairs, RP_IPC_MAX_QPAIRS), -EINVAL;
	if (!is_pow2(ring_size) || ring_size < RP_IPC_MIN_RING_SIZE ||
		ring_size > RP_IPC_MAX_RING_SIZE)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"ring_size %u not a power of two in %u..%u", ring_size,
			RP_IPC_MIN_RING_SIZE, RP_IPC_MAX_RING_SIZE), -EINVAL;
	if (buf_shift < RP_IPC_MIN_BUF_SHIFT || buf_shift > RP_IPC_MAX_BUF_SHIFT)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"buffer size 2^%u not in 2^%u..2^%u", buf_shift, RP_IPC_MIN_BUF_SHIFT,
			RP_IPC_MAX_BUF_SHIFT), -EINVAL;
	for (int d = 0; d < RP_IPC_DIR_MAX; d++)
		if (n_bufs[d] == 0 || n_bufs[d] > RP_IPC_MAX_BUFS)
			return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
				"n_bufs[%s] %u not in 1..%u",
				d == RP_IPC_DIR_TO_SWITCH ? "to-switch" : "to-guest", n_bufs[d],
				RP_IPC_MAX_BUFS), -EINVAL;

	memset(lay, 0, sizeof(*lay));
	lay->n_qpairs = n_qpairs;
	lay->ring_size = ring_size;
	lay->buf_shift = buf_shift;
	lay->rings_off = RP_IPC_HDR_AREA;
	lay->ring_stride = rp_ipc_ring_memsize(ring_size);
	uint64_t end = lay->rings_off + lay->ring_stride * n_qpairs * RP_IPC_RINGS_PER_QPAIR;
	for (int d = 0; d < RP_IPC_DIR_MAX; d++) {
		lay->n_bufs[d] = n_bufs[d];
		lay->bufs_off[d] = RTE_ALIGN_CEIL(end, RP_IPC_PAGE);
		end = lay->bufs_off[d] + ((uint64_t)n_bufs[d] << buf_shift);
	}
	lay->size = end;
	if (lay->size > RP_IPC_MAX_REGION_SIZE)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"region of %" PRIu64 " bytes exceeds the %" PRIu64 "-byte limit",
			lay->size, RP_IPC_MAX_REGION_SIZE), -EINVAL;
	return 0;
}

int
rp_ipc_layout_compute(const struct rp_ipc_region_params *p, struct rp_ipc_layout *lay,
	char *why, size_t ws)
{
	if (!is_pow2(p->buf_size))
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"buffer size %u not a power of two", p->buf_size), -EINVAL;
	if (p->features & ~RP_IPC_F_KNOWN)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws, "unknown feature bits 0x%x",
			p->features & ~RP_IPC_F_KNOWN), -EINVAL;
	int rc = layout_fill(p->n_qpairs, p->ring_size, (uint32_t)__builtin_ctz(p->buf_size),
		p->n_bufs, lay, why, ws);
	if (rc < 0)
		return rc;
	lay->features = p->features;
	memcpy(lay->mac, p->mac, sizeof(lay->mac));
	lay->mtu = p->mtu;
	lay->version = RP_IPC_VERSION;
	return 0;
}

#define CHECK_EQ(field, want)                                                          \
	do {                                                                           \
		if ((uint64_t)(h->field) != (uint64_t)(want))                          \
			return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,               \
				"header " #field " %" PRIu64 ", expected %" PRIu64,    \
				(uint64_t)(h->field), (uint64_t)(want));               \
	} while (0)

enum rp_ipc_reject
rp_ipc_hdr_validate(const struct rp_ipc_hdr *h, uint64_t fd_size, struct rp_ipc_layout *lay,
	char *why, size_t ws)
{
	struct rp_ipc_layout l;

	if (h->cookie != RP_IPC_COOKIE)
		return rp_ipc_refuse(RP_IPC_REJ_COOKIE, why, ws,
			"bad region cookie 0x%016" PRIx64 ", expected 0x%016" PRIx64, h->cookie,
			RP_IPC_COOKIE);
	if (RP_IPC_VERSION_MAJOR_OF(h->version) != RP_IPC_VERSION_MAJOR)
		return rp_ipc_refuse(RP_IPC_REJ_VERSION, why, ws,
			"region ABI %u.%u, ours %u.%u", RP_IPC_VERSION_MAJOR_OF(h->version),
			RP_IPC_VERSION_MINOR_OF(h->version), RP_IPC_VERSION_MAJOR,
			RP_IPC_VERSION_MINOR);
	/* A newer minor may append fields; it may not shrink the header. */
	if (h->hdr_size < sizeof(*h) || h->hdr_size > RP_IPC_HDR_AREA)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"header hdr_size %u not in %zu..%u", h->hdr_size, sizeof(*h),
			RP_IPC_HDR_AREA);
	CHECK_EQ(ring_hdr_size, sizeof(struct rte_ring));
	if (h->features & ~RP_IPC_F_KNOWN)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"header features has unknown bits 0x%x", h->features & ~RP_IPC_F_KNOWN);
	if (h->reserved0 != 0)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws, "header reserved0 not zero");
	for (size_t i = 0; i < RTE_DIM(h->reserved1); i++)
		if (h->reserved1[i] != 0)
			return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
				"header reserved1[%zu] not zero", i);
	if (h->mtu < 68)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"header mtu %u below the IPv4 minimum 68", h->mtu);
	if (layout_fill(h->n_qpairs, h->ring_size, h->buf_shift, h->n_bufs, &l, why, ws) < 0)
		return RP_IPC_REJ_HEADER;
	if (l.ring_stride == 0)
		return rp_ipc_refuse(RP_IPC_REJ_HEADER, why, ws,
			"rte_ring cannot hold %u slots of %u bytes", h->ring_size,
			RP_IPC_DESC_SIZE);
	CHECK_EQ(rings_off, l.rings_off);
	CHECK_EQ(ring_stride, l.ring_stride);
	CHECK_EQ(bufs_off[RP_IPC_DIR_TO_SWITCH], l.bufs_off[RP_IPC_DIR_TO_SWITCH]);
	CHECK_EQ(bufs_off[RP_IPC_DIR_TO_GUEST], l.bufs_off[RP_IPC_DIR_TO_GUEST]);
	if (h->region_size < l.size)
		return rp_ipc_refuse(RP_IPC_REJ_REGION_SIZE, why, ws,
			"header region_size %" PRIu64 " is smaller than its layout (%" PRIu64
			" bytes)", h->region_size, l.size);
	if (fd_size != h->region_size)
		return rp_ipc_refuse(RP_IPC_REJ_REGION_SIZE, why, ws,
			"region fd is %" PRIu64 " bytes but the header says %" PRIu64, fd_size,
			h->region_size);

	l.features = h->features;
	memcpy(l.mac, h->mac, sizeof(l.mac));
	l.mtu = h->mtu;
	l.version = h->version;
	*lay = l;
	return RP_IPC_REJ_NONE;
}

void
rp_ipc_hdr_write(const struct rp_ipc_layout *l, uint64_t region_size, struct rp_ipc_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->cookie = RP_IPC_COOKIE;
	h->version = RP_IPC_VERSION;
	h->hdr_size = sizeof(*h);
	h->features = l->features;
	h->region_size = region_size;
	h->n_qpairs = l->n_qpairs;
	h->ring_hdr_size = sizeof(struct rte_ring);
	h->ring_size = l->ring_size;
	h->buf_shift = l->buf_shift;
	h->rings_off = l->rings_off;
	h->ring_stride = l->ring_stride;
	for (int d = 0; d < RP_IPC_DIR_MAX; d++) {
		h->n_bufs[d] = l->n_bufs[d];
		h->bufs_off[d] = l->bufs_off[d];
	}
	memcpy(h->mac, l->mac, sizeof(h->mac));
	h->mtu = l->mtu;
}
