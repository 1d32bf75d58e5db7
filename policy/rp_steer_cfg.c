/* SPDX-License-Identifier: BSD-3-Clause */
/* The RSS configuration: defaults, key tables, parsing; see rp_prog.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_prog.h"
#include "rp_prog_private.h"

const uint8_t rp_steer_default_key[RP_STEER_KEY_SIZE] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static const char *const type_names[] = {"ipv4", "tcpv4", "udpv4", "ipv6", "tcpv6", "udpv6"};

int
rp_prog_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void
rp_steer_cfg_set_key(struct rp_steer_cfg *c, const uint8_t key[RP_STEER_KEY_SIZE])
{
	memcpy(c->key, key, sizeof(c->key));
	for (unsigned int i = 0; i < RP_STEER_LUT_BYTES; i++) {
		uint32_t win[8];

		/* The 32 key bits starting at input bit 8i + b. */
		for (unsigned int b = 0; b < 8; b++) {
			unsigned int bit = 8 * i + b;
			uint64_t k = 0;

			for (unsigned int j = 0; j < 5; j++)
				k = k << 8 | key[bit / 8 + j];
			win[b] = (uint32_t)(k >> (8 - bit % 8));
		}
		for (unsigned int v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (unsigned int b = 0; b < 8; b++)
				if (v & (0x80u >> b))
					h ^= win[b];
			c->lut[i][v] = h;
		}
	}
}

void
rp_steer_cfg_init(struct rp_steer_cfg *c)
{
	memset(c, 0, sizeof(*c));
	rp_steer_cfg_set_key(c, rp_steer_default_key);
	c->hash_types = RP_STEER_HASH_ALL;
	c->table_mask = RP_STEER_TABLE_MAX - 1;
	for (unsigned int i = 0; i < RP_STEER_TABLE_MAX; i++)
		c->table[i] = (uint16_t)i;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
rp_steer_parse_key(const char *s, uint8_t key[RP_STEER_KEY_SIZE], char *err, size_t errlen)
{
	unsigned int n = 0;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	while (*p != '\0') {
		int hi, lo;

		if (*p == ':' && n > 0) {
			p++;
			continue;
		}
		hi = hexval(p[0]);
		lo = hi < 0 ? -1 : hexval(p[1]);
		if (hi < 0 || lo < 0)
			return rp_prog_errf(err, errlen, -EINVAL, "key '%s': not hex at '%.2s'", s, p);
		if (n == RP_STEER_KEY_SIZE)
			return rp_prog_errf(err, errlen, -EINVAL, "key '%s': longer than %d bytes", s,
				RP_STEER_KEY_SIZE);
		key[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if (n != RP_STEER_KEY_SIZE)
		return rp_prog_errf(err, errlen, -EINVAL, "key '%s': %u bytes, need %d (%d hex digits)", s, n,
			RP_STEER_KEY_SIZE, 2 * RP_STEER_KEY_SIZE);
	return 0;
}

int
rp_steer_parse_table(const char *s, unsigned int max_queue, struct rp_steer_cfg *c, char *err,
	size_t errlen)
{
	uint16_t t[RP_STEER_TABLE_MAX];
	unsigned int n = 0;
	const char *p = s;

	while (*p != '\0') {
		unsigned long v;
		char *end;

		if (n == RP_STEER_TABLE_MAX)
			return rp_prog_errf(err, errlen, -EINVAL, "table '%s': more than %d entries", s,
				RP_STEER_TABLE_MAX);
		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || errno != 0 || (*end != ',' && *end != '\0') || *p == '-' || *p == '+')
			return rp_prog_errf(err, errlen, -EINVAL, "table '%s': entry %u is not a number", s, n);
		if (v >= max_queue)
			return rp_prog_errf(err, errlen, -EINVAL, "table '%s': entry %u is queue %lu, queues go "
				"up to %u", s, n, v, max_queue - 1);
		t[n++] = (uint16_t)v;
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0')
			return rp_prog_errf(err, errlen, -EINVAL, "table '%s': ends with ','", s);
	}
	if (n == 0 || (n & (n - 1)) != 0)
		return rp_prog_errf(err, errlen, -EINVAL, "table '%s': %u entries, need a power of two "
			"from 1 to %d", s, n, RP_STEER_TABLE_MAX);
	memcpy(c->table, t, n * sizeof(t[0]));
	c->table_mask = (uint16_t)(n - 1);
	return 0;
}

int
rp_steer_parse_user(const char *s, struct rp_steer_cfg *c, char *err, size_t errlen)
{
	uint32_t u[8] = {0};
	unsigned int n = 0;
	const char *p = s;

	while (*p != '\0') {
		unsigned long long v;
		char *end;

		if (n == 8)
			return rp_prog_errf(err, errlen, -EINVAL, "user '%s': more than 8 words", s);
		errno = 0;
		v = strtoull(p, &end, 0);
		if (end == p || errno != 0 || v > UINT32_MAX || *p == '-' || *p == '+' ||
			(*end != ',' && *end != '\0'))
			return rp_prog_errf(err, errlen, -EINVAL, "user '%s': word %u is not a 32-bit number",
				s, n);
		u[n++] = (uint32_t)v;
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0')
			return rp_prog_errf(err, errlen, -EINVAL, "user '%s': ends with ','", s);
	}
	if (n == 0)
		return rp_prog_errf(err, errlen, -EINVAL, "user '%s': empty", s);
	memcpy(c->user, u, sizeof(u));
	return 0;
}

int
rp_steer_parse_types(const char *s, uint32_t *types, char *err, size_t errlen)
{
	const char *p = s;
	uint32_t t = 0;

	if (strcmp(s, "all") == 0) {
		*types = RP_STEER_HASH_ALL;
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		*types = 0;
		return 0;
	}
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		unsigned int k;

		for (k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++)
			if (strlen(type_names[k]) == len && strncasecmp(p, type_names[k], len) == 0)
				break;
		if (k == sizeof(type_names) / sizeof(type_names[0]))
			return rp_prog_errf(err, errlen, -EINVAL, "types '%s': unknown type '%.*s' (known: "
				"ipv4, tcpv4, udpv4, ipv6, tcpv6, udpv6, all, none)", s, (int)len, p);
		t |= 1u << k;
		p += len;
		if (*p == ',' && *++p == '\0')
			return rp_prog_errf(err, errlen, -EINVAL, "types '%s': ends with ','", s);
	}
	if (t == 0)
		return rp_prog_errf(err, errlen, -EINVAL, "types '%s': empty (use 'none')", s);
	*types = t;
	return 0;
}

const char *
rp_steer_types_str(uint32_t types, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++)
		if (types & (1u << k))
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "",
				type_names[k]);
	if (o == 0)
		snprintf(buf, len, "none");
	return buf;
}
