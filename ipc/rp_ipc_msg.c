/* SPDX-License-Identifier: BSD-3-Clause */
/* Port socket messages: building and checking. Pure; fuzzed by
 * tests/fuzz/fuzz_msg.c. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rp_ipc.h"
#include "rp_ipc_private.h"

static rp_ipc_log_fn rp_ipc_log_cb;

void
rp_ipc_set_log(rp_ipc_log_fn fn)
{
	rp_ipc_log_cb = fn;
}

void
rp_ipc_log(enum rp_ipc_log_level level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (rp_ipc_log_cb == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rp_ipc_log_cb(level, buf);
}

enum rp_ipc_reject
rp_ipc_refuse(enum rp_ipc_reject r, char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && why_size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return r;
}

static const char *const reject_names[RP_IPC_REJ_MAX] = {
	[RP_IPC_REJ_NONE] = "none",
	[RP_IPC_REJ_TRUNCATED] = "msg_truncated",
	[RP_IPC_REJ_OVERSIZED] = "msg_oversized",
	[RP_IPC_REJ_COOKIE] = "bad_cookie",
	[RP_IPC_REJ_VERSION] = "version_mismatch",
	[RP_IPC_REJ_TYPE] = "bad_msg_type",
	[RP_IPC_REJ_FDS] = "bad_fds",
	[RP_IPC_REJ_FIELD] = "bad_msg_field",
	[RP_IPC_REJ_HEADER] = "bad_region_header",
	[RP_IPC_REJ_REGION_SIZE] = "bad_region_size",
	[RP_IPC_REJ_PEER] = "peer_disconnect",
	[RP_IPC_REJ_IO] = "io_error",
	[RP_IPC_REJ_DESC_RANGE] = "desc_range",
	[RP_IPC_REJ_DESC_FOREIGN] = "desc_foreign",
	[RP_IPC_REJ_DESC_ALIGN] = "desc_align",
	[RP_IPC_REJ_DESC_LEN] = "desc_len",
	[RP_IPC_REJ_DESC_FLAGS] = "desc_flags",
	[RP_IPC_REJ_DESC_DUP] = "desc_dup",
	[RP_IPC_REJ_RING] = "ring_corrupt",
};

const char *
rp_ipc_reject_name(enum rp_ipc_reject r)
{
	if ((unsigned int)r >= RP_IPC_REJ_MAX)
		return "unknown";
	return reject_names[r];
}

void
rp_ipc_msg_init(struct rp_ipc_msg *m, enum rp_ipc_msg_type type, uint8_t n_fds)
{
	memset(m, 0, sizeof(*m));
	m->h.cookie = RP_IPC_COOKIE;
	m->h.type = type;
	m->h.version = RP_IPC_VERSION;
	m->h.n_fds = n_fds;
}

static const char *
msg_type_name(unsigned int type)
{
	switch (type) {
	case RP_IPC_MSG_HELLO:
		return "HELLO";
	case RP_IPC_MSG_INIT:
		return "INIT";
	case RP_IPC_MSG_REGION:
		return "REGION";
	case RP_IPC_MSG_CONNECTED:
		return "CONNECTED";
	case RP_IPC_MSG_DISCONNECT:
		return "DISCONNECT";
	default:
		return NULL;
	}
}

/* A name field must hold a NUL; we never read past it. */
static bool
str_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Bytes of the body each type uses; the rest must be zero. */
static size_t
msg_body_size(unsigned int type)
{
	switch (type) {
	case RP_IPC_MSG_HELLO:
		return sizeof(struct rp_ipc_msg_hello);
	case RP_IPC_MSG_INIT:
		return sizeof(struct rp_ipc_msg_init);
	case RP_IPC_MSG_REGION:
		return sizeof(struct rp_ipc_msg_region);
	case RP_IPC_MSG_DISCONNECT:
		return sizeof(struct rp_ipc_msg_disconnect);
	default:
		return 0;
	}
}

static enum rp_ipc_reject
check_body(const struct rp_ipc_msg *m, unsigned int n_fds, char *why, size_t ws)
{
	const char *tn = msg_type_name(m->h.type);
	unsigned int want_fds = 0;

	switch (m->h.type) {
	case RP_IPC_MSG_HELLO: {
		const struct rp_ipc_msg_hello *h = &m->u.hello;

		if (h->min_version > h->max_version)
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"HELLO: min_version 0x%04x above max_version 0x%04x",
				h->min_version, h->max_version);
		if (h->max_qpairs == 0 || h->max_qpairs > RP_IPC_MAX_QPAIRS)
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"HELLO: max_qpairs %u not in 1..%u", h->max_qpairs,
				RP_IPC_MAX_QPAIRS);
		if (!str_terminated(h->name, sizeof(h->name)))
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"HELLO: name not NUL-terminated");
		if (h->reserved != 0)
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"HELLO: reserved field 0x%x not zero", h->reserved);
		break;
	}
	case RP_IPC_MSG_INIT: {
		const struct rp_ipc_msg_init *in = &m->u.init;

		if (!str_terminated(in->name, sizeof(in->name)))
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"INIT: name not NUL-terminated");
		if (in->reserved != 0)
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"INIT: reserved field 0x%x not zero", in->reserved);
		break;
	}
	case RP_IPC_MSG_REGION: {
		const struct rp_ipc_msg_region *rg = &m->u.region;

		if (rg->n_qpairs == 0 || rg->n_qpairs > RP_IPC_MAX_QPAIRS)
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"REGION: n_qpairs %u not in 1..%u", rg->n_qpairs,
				RP_IPC_MAX_QPAIRS);
		if (rg->n_wake_fds != 0 && rg->n_wake_fds != rg->n_qpairs)
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"REGION: n_wake_fds %u is neither 0 nor n_qpairs %u",
				rg->n_wake_fds, rg->n_qpairs);
		if (rg->region_size == 0 || rg->region_size > RP_IPC_MAX_REGION_SIZE)
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"REGION: region_size %" PRIu64 " not in 1..%" PRIu64,
				rg->region_size, RP_IPC_MAX_REGION_SIZE);
		want_fds = 1u + rg->n_wake_fds;
		break;
	}
	case RP_IPC_MSG_CONNECTED:
		break;
	case RP_IPC_MSG_DISCONNECT:
		if (!str_terminated(m->u.disconnect.reason, sizeof(m->u.disconnect.reason)))
			return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
				"DISCONNECT: reason not NUL-terminated");
		break;
	default:
		break;
	}

	if (m->h.n_fds != want_fds || n_fds != want_fds)
		return rp_ipc_refuse(RP_IPC_REJ_FDS, why, ws,
			"%s: expected %u fds, header says %u, received %u", tn, want_fds,
			m->h.n_fds, n_fds);
	size_t used = msg_body_size(m->h.type);
	if (!all_zero(m->u.raw + used, sizeof(m->u.raw) - used))
		return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
			"%s: bytes after the %zu-byte body are not zero", tn, used);
	return RP_IPC_REJ_NONE;
}

enum rp_ipc_reject
rp_ipc_msg_parse(const void *buf, size_t len, unsigned int n_fds, struct rp_ipc_msg *out,
	char *why, size_t ws)
{
	struct rp_ipc_msg m;

	if (len < RP_IPC_MSG_SIZE)
		return rp_ipc_refuse(RP_IPC_REJ_TRUNCATED, why, ws,
			"truncated message: %zu bytes, expected %u", len, RP_IPC_MSG_SIZE);
	if (len > RP_IPC_MSG_SIZE)
		return rp_ipc_refuse(RP_IPC_REJ_OVERSIZED, why, ws,
			"oversized message: more than %u bytes", RP_IPC_MSG_SIZE);
	memcpy(&m, buf, sizeof(m));
	if (m.h.cookie != RP_IPC_COOKIE)
		return rp_ipc_refuse(RP_IPC_REJ_COOKIE, why, ws,
			"bad cookie 0x%016" PRIx64 ", expected 0x%016" PRIx64, m.h.cookie,
			RP_IPC_COOKIE);
	if (msg_type_name(m.h.type) == NULL)
		return rp_ipc_refuse(RP_IPC_REJ_TYPE, why, ws, "unknown message type %u",
			m.h.type);
	/* HELLO may come from a newer server that still speaks our major
	 * (its min..max range is negotiated); any other message is sent at the
	 * agreed version, so its major must be ours. */
	if (RP_IPC_VERSION_MAJOR_OF(m.h.version) != RP_IPC_VERSION_MAJOR &&
		m.h.type != RP_IPC_MSG_HELLO)
		return rp_ipc_refuse(RP_IPC_REJ_VERSION, why, ws,
			"ABI major mismatch: peer %u.%u, ours %u.%u",
			RP_IPC_VERSION_MAJOR_OF(m.h.version), RP_IPC_VERSION_MINOR_OF(m.h.version),
			RP_IPC_VERSION_MAJOR, RP_IPC_VERSION_MINOR);
	if (m.h.reserved[0] | m.h.reserved[1] | m.h.reserved[2])
		return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
			"%s: reserved header bytes not zero", msg_type_name(m.h.type));
	enum rp_ipc_reject r = check_body(&m, n_fds, why, ws);
	if (r != RP_IPC_REJ_NONE)
		return r;
	*out = m;
	return RP_IPC_REJ_NONE;
}
