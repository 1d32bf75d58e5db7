/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the port-socket message parser. Input byte 0 is the number of
 * fds that "came with" the message, byte 1 picks a valid message of each
 * type, and the rest is XORed onto it; the message is as long as the rest
 * (so lengths other than RP_IPC_MSG_SIZE are tried too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
baseline(unsigned int pick, struct rp_ipc_msg *m, unsigned int *want_fds)
{
	*want_fds = 0;
	switch (pick % 5) {
	case 0:
		rp_ipc_msg_init(m, RP_IPC_MSG_HELLO, 0);
		m->u.hello.min_version = m->u.hello.max_version = RP_IPC_VERSION;
		m->u.hello.max_qpairs = 4;
		strcpy(m->u.hello.name, "srv");
		break;
	case 1:
		rp_ipc_msg_init(m, RP_IPC_MSG_INIT, 0);
		m->u.init.version = RP_IPC_VERSION;
		strcpy(m->u.init.name, "cli");
		break;
	case 2:
		rp_ipc_msg_init(m, RP_IPC_MSG_REGION, 5);
		m->u.region.region_size = 8u << 20;
		m->u.region.n_qpairs = 4;
		m->u.region.n_wake_fds = 4;
		*want_fds = 5;
		break;
	case 3:
		rp_ipc_msg_init(m, RP_IPC_MSG_CONNECTED, 0);
		break;
	default:
		rp_ipc_msg_init(m, RP_IPC_MSG_DISCONNECT, 0);
		strcpy(m->u.disconnect.reason, "bye");
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[2 * RP_IPC_MSG_SIZE] = {0};
	struct rp_ipc_msg m, out;
	unsigned int want_fds, n_fds;
	char why[128];

	if (size < 2)
		return 0;
	baseline(data[1], &m, &want_fds);
	n_fds = (want_fds + data[0]) % (RP_IPC_MAX_FDS + 2);
	memcpy(buf, &m, sizeof(m));
	size_t len = size - 2 < sizeof(buf) ? size - 2 : sizeof(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] ^= data[2 + i];
	if (len == 0)
		len = RP_IPC_MSG_SIZE; /* the pristine message */

	enum rp_ipc_reject r = rp_ipc_msg_parse(buf, len, n_fds, &out, why, sizeof(why));
	if (r == RP_IPC_REJ_NONE) {
		/* Whatever passes must hold what the parser promises. */
		if (len != RP_IPC_MSG_SIZE || out.h.cookie != RP_IPC_COOKIE ||
			out.h.n_fds != n_fds)
			abort();
		if (out.h.type == RP_IPC_MSG_HELLO &&
			memchr(out.u.hello.name, 0, sizeof(out.u.hello.name)) == NULL)
			abort();
		if (out.h.type == RP_IPC_MSG_REGION &&
			(out.u.region.n_qpairs == 0 || out.u.region.n_qpairs > RP_IPC_MAX_QPAIRS ||
				n_fds != 1u + out.u.region.n_wake_fds))
			abort();
	} else if (why[0] == '\0') {
		abort(); /* every refusal has a reason */
	}
	return 0;
}
