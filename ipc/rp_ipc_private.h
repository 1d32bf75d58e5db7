/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal helpers of the ipc library; not installed, not for callers. */
#ifndef RP_IPC_PRIVATE_H
#define RP_IPC_PRIVATE_H

#include "rp_ipc.h"

#define RP_IPC_HUGEPAGE_SIZE (2u << 20)

void rp_ipc_log(enum rp_ipc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fill why (if any) and return r. */
enum rp_ipc_reject rp_ipc_refuse(enum rp_ipc_reject r, char *why, size_t why_size,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Bytes one ring takes in this process's DPDK, cache-line rounded. */
uint64_t rp_ipc_ring_memsize(uint32_t ring_size);

#endif /* RP_IPC_PRIVATE_H */
