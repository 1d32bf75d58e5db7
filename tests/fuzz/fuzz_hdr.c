/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the region header validator. The input is XORed onto a valid
 * header (so the empty input is valid and every mutation is a corruption
 * of a plausible one); its first 8 bytes are XORed onto the fd size.
 * A header that passes must describe a layout that lies wholly inside the
 * fd: that is what lets the client map it and trust every offset. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rp_ipc_region_params p = {
		.n_qpairs = 4, .ring_size = 1024, .buf_size = 2048,
		.n_bufs = {4096, 4096}, .mtu = 1500, .features = RP_IPC_F_OFFLOAD,
	};
	uint8_t raw[8 + sizeof(struct rp_ipc_hdr)];
	struct rp_ipc_layout lay;
	struct rp_ipc_hdr h;
	uint64_t fd_size;
	char why[160];

	if (rp_ipc_layout_compute(&p, &lay, why, sizeof(why)) < 0)
		abort();
	fd_size = (lay.size + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
	rp_ipc_hdr_write(&lay, fd_size, &h);
	memcpy(raw, &fd_size, 8);
	memcpy(raw + 8, &h, sizeof(h));
	for (size_t i = 0; i < size && i < sizeof(raw); i++)
		raw[i] ^= data[i];
	memcpy(&fd_size, raw, 8);
	memcpy(&h, raw + 8, sizeof(h));

	if (rp_ipc_hdr_validate(&h, fd_size, &lay, why, sizeof(why)) != RP_IPC_REJ_NONE) {
		if (why[0] == '\0')
			abort(); /* every refusal has a reason */
		return 0;
	}
	uint64_t rings_end = lay.rings_off +
		lay.ring_stride * lay.n_qpairs * RP_IPC_RINGS_PER_QPAIR;
	if (lay.n_qpairs == 0 || lay.n_qpairs > RP_IPC_MAX_QPAIRS)
		abort();
	if (lay.rings_off < sizeof(struct rp_ipc_hdr) || rings_end > lay.bufs_off[0])
		abort();
	for (int d = 0; d < RP_IPC_DIR_MAX; d++) {
		uint64_t end = lay.bufs_off[d] + ((uint64_t)lay.n_bufs[d] << lay.buf_shift);
		if (end > fd_size || end > RP_IPC_MAX_REGION_SIZE)
			abort();
	}
	if (lay.bufs_off[1] < lay.bufs_off[0] + ((uint64_t)lay.n_bufs[0] << lay.buf_shift))
		abort(); /* pools overlap */
	return 0;
}
