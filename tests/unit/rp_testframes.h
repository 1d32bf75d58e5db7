/* SPDX-License-Identifier: BSD-3-Clause */
/* Random test frames for the steering tests (test_steer, test_kern_oracle):
 * mostly well-formed, so that every parser path (VLAN tags, IHL, fragments,
 * IPv6 extension headers, truncation) gets exercised. Seeded: the same
 * sequence every run. */
#ifndef RP_TESTFRAMES_H
#define RP_TESTFRAMES_H

#include <stdint.h>

#include "rp_steer_abi.h"

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static inline uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13, rnd_state ^= rnd_state >> 7, rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Fill f[0..RP_STEER_PKT_MAX) and return a length (0..128). */
static inline uint32_t
random_frame(uint8_t *f)
{
	static const uint16_t ets[] = {0x0800, 0x86dd, 0x0800, 0x86dd, 0x0806, 0x88b5};
	static const uint8_t nhs[] = {0, 43, 60, 44, 6, 17, 6, 17, 47, 59};
	uint32_t off = 12, len;

	for (unsigned int i = 0; i < RP_STEER_PKT_MAX; i++)
		f[i] = (uint8_t)rnd();
	for (uint64_t tags = rnd() % 3; tags > 0; tags--) {
		f[off] = rnd() & 1 ? 0x81 : 0x88, f[off + 1] = f[off] == 0x81 ? 0x00 : 0xa8;
		off += 4;
	}
	uint16_t et = ets[rnd() % 6];

	f[off] = (uint8_t)(et >> 8), f[off + 1] = (uint8_t)et;
	off += 2;
	if (et == 0x0800) {
		f[off] = (uint8_t)(rnd() % 8 ? 0x45 + (rnd() % 4) * (rnd() & 1) : rnd());
		f[off + 6] = rnd() % 4 ? 0 : (uint8_t)rnd(), f[off + 7] = rnd() % 4 ? 0 : (uint8_t)rnd();
		f[off + 9] = nhs[4 + rnd() % 6];
	} else if (et == 0x86dd) {
		uint32_t o = off + 40;

		f[off] = rnd() % 8 ? 0x60 : (uint8_t)rnd();
		f[off + 6] = nhs[rnd() % 10];
		for (int k = 0; k < 5 && o + 2 <= RP_STEER_PKT_MAX; k++) {
			f[o] = nhs[rnd() % 10];
			f[o + 1] = (uint8_t)(rnd() % 3);
			o += (f[o + 1] + 1u) * 8;
		}
	}
	len = (uint32_t)(rnd() % 8 ? 54 + rnd() % 75 : rnd() % 129);
	return len;
}

#endif /* RP_TESTFRAMES_H */
