/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_req.h: control requests, parsed and checked before anything acts on
 * them. No EAL and no sockets: the fuzz harness runs this alone.
 *
 * A request is one JSON object on one line, at most RP_CTL_REQ_MAX bytes:
 *   {"cmd":"status"}
 *   {"cmd":"steer-load","direction":D,"path":P}
 *   {"cmd":"rss-set","direction":D[,"key":K][,"table":T][,"types":Y][,"user":U]}
 * Every field is a string; a field the command does not take, a missing
 * one or a value of another type is refused by name. The values themselves
 * (paths, keys, tables) are checked by whoever uses them (steer.c).
 */
#ifndef RP_CTL_REQ_H
#define RP_CTL_REQ_H

#include <stddef.h>

#include <jansson.h>

#define RP_CTL_REQ_MAX 4096 /* bytes in one request, newline included */

enum rp_ctl_cmd { RP_CTL_STATUS, RP_CTL_STEER_LOAD, RP_CTL_RSS_SET };

struct rp_ctl_req {
	enum rp_ctl_cmd cmd;
	/* NULL where absent; point into j (valid until rp_ctl_req_free()) */
	const char *direction, *path, *key, *table, *types, *user;
	json_t *j;
};

/**
 * Parse the @len bytes at @buf (need not be NUL-terminated; one trailing
 * newline allowed) into @r.
 * @return 0, or -EINVAL with the reason in @err (and nothing to free).
 */
int rp_ctl_req_parse(const char *buf, size_t len, struct rp_ctl_req *r, char *err,
	size_t errlen);

void rp_ctl_req_free(struct rp_ctl_req *r);

/** {"error":"@msg"} as a compact string (malloc'ed; NULL if out of memory). */
char *rp_ctl_error(const char *msg);

#endif /* RP_CTL_REQ_H */
