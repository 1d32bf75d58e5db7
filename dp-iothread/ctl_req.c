/* SPDX-License-Identifier: BSD-3-Clause */
/* Control requests: parsing and checking (see ctl_req.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl_req.h"

struct cmd_desc {
	const char *name;
	enum rp_ctl_cmd cmd;
	const char *const *required;
	const char *const *optional;
};

static const char *const none[] = {NULL};
static const char *const load_req[] = {"direction", "path", NULL};
static const char *const rss_req[] = {"direction", NULL};
static const char *const rss_opt[] = {"key", "table", "types", "user", NULL};

static const struct cmd_desc cmds[] = {
	{"status", RP_CTL_STATUS, none, none},
	{"steer-load", RP_CTL_STEER_LOAD, load_req, none},
	{"rss-set", RP_CTL_RSS_SET, rss_req, rss_opt},
};

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool
listed(const char *const *names, const char *k)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, k) == 0)
			return true;
	return false;
}

static const char **
field(struct rp_ctl_req *r, const char *k)
{
	static const char *const names[] = {"direction", "path", "key", "table", "types", "user"};
	const char **slots[] = {&r->direction, &r->path, &r->key, &r->table, &r->types, &r->user};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], k) == 0)
			return slots[i];
	return NULL;
}

int
rp_ctl_req_parse(const char *buf, size_t len, struct rp_ctl_req *r, char *err, size_t errlen)
{
	const struct cmd_desc *cd = NULL;
	json_error_t jerr;
	const char *k, *cmd;
	json_t *v;

	memset(r, 0, sizeof(*r));
	if (len > RP_CTL_REQ_MAX)
		return fail(err, errlen, "request longer than %d bytes", RP_CTL_REQ_MAX);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (memchr(buf, '\n', len) != NULL)
		return fail(err, errlen, "one request per line");
	if (memchr(buf, '\0', len) != NULL)
		return fail(err, errlen, "NUL byte in the request");
	r->j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->j == NULL || !json_is_object(r->j)) {
		rp_ctl_req_free(r);
		return fail(err, errlen, "request is not a JSON object");
	}
	cmd = json_string_value(json_object_get(r->j, "cmd"));
	for (size_t i = 0; cmd != NULL && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, cmd) == 0)
			cd = &cmds[i];
	if (cd == NULL) {
		char c[72];

		snprintf(c, sizeof(c), "%.64s", cmd ? cmd : "");
		rp_ctl_req_free(r);
		if (cmd != NULL)
			return fail(err, errlen, "unknown command '%s'", c);
		return fail(err, errlen, "no \"cmd\" string");
	}
	r->cmd = cd->cmd;
	json_object_foreach(r->j, k, v) {
		const char **slot = field(r, k);
		char name[72];

		if (strcmp(k, "cmd") == 0)
			continue;
		snprintf(name, sizeof(name), "%.64s", k);
		if (slot == NULL || !(listed(cd->required, k) || listed(cd->optional, k))) {
			rp_ctl_req_free(r);
			return fail(err, errlen, "%s takes no field '%s'", cd->name, name);
		}
		if (!json_is_string(v)) {
			rp_ctl_req_free(r);
			return fail(err, errlen, "field '%s' must be a string", name);
		}
		*slot = json_string_value(v);
	}
	for (const char *const *q = cd->required; *q != NULL; q++)
		if (*field(r, *q) == NULL) {
			rp_ctl_req_free(r);
			return fail(err, errlen, "%s needs field '%s'", cd->name, *q);
		}
	return 0;
}

void
rp_ctl_req_free(struct rp_ctl_req *r)
{
	json_decref(r->j);
	memset(r, 0, sizeof(*r));
}

char *
rp_ctl_error(const char *msg)
{
	json_t *e = json_pack("{s:s}", "error", msg);
	char *out = e ? json_dumps(e, JSON_COMPACT) : NULL;

	json_decref(e);
	return out;
}
