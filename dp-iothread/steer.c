/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Steering programs in the iothread: loading at start, `steer load` and
 * `rss set` from the control socket, and their status.
 *
 * Each direction has one published struct rp_it_steer: a program image,
 * the configuration it reads and one JIT instance per worker (each bound to
 * that worker's own counters). It is immutable once published. A change
 * builds a whole new one on the control thread (reading and validating the
 * file, compiling it n_workers times), publishes it with one release store,
 * and frees the old one after every worker has passed a quiescent point
 * (QSBR). A worker reads the pointer once per burst, so each packet is
 * steered by the old state or by the new one, never by a mix, and none
 * waits: nothing is lost while programs change. A refused change leaves
 * the running state untouched.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "iothread.h"

/* A program's ctx->dir is the region's direction (one enum, two headers:
 * the program ABI must stand alone for clang -target bpf). */
_Static_assert(RP_STEER_TO_SWITCH == RP_IPC_DIR_TO_SWITCH &&
	RP_STEER_TO_GUEST == RP_IPC_DIR_TO_GUEST, "rp_steer_abi.h's directions are rp_ipc_abi.h's");

static void
steer_free(struct rp_it_steer *st, unsigned int n_workers)
{
	if (st == NULL)
		return;
	for (unsigned int i = 0; i < n_workers; i++)
		rp_prog_inst_fini(&st->inst[i]);
	rp_prog_close(st->prog);
	rte_free(st);
}

/* A new state for direction @d: program @prog (owned on success; NULL:
 * built-in) over a copy of @cfg. */
static struct rp_it_steer *
steer_new(struct rp_iothread *it, unsigned int d, struct rp_prog *prog,
	const struct rp_steer_cfg *cfg, char *err, size_t errlen)
{
	struct rp_it_steer *st;
	size_t sz = sizeof(*st) + it->n_workers * sizeof(st->inst[0]);

	st = rte_zmalloc("rp-steer", sz, RTE_CACHE_LINE_SIZE);
	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->cfg = *cfg;
	for (unsigned int i = 0; i < it->n_workers; i++) {
		if (rp_prog_inst_init(&st->inst[i], prog, &st->cfg, it->w[i].steer_cnt[d], err,
			    errlen) < 0) {
			steer_free(st, i);
			return NULL;
		}
	}
	st->prog = prog;
	return st;
}

/* Publish @st for direction @d and retire what it replaces. */
static void
steer_swap(struct rp_iothread *it, unsigned int d, struct rp_it_steer *st)
{
	struct rp_it_steer *old = it->steer[d];

	/* Pairs with the workers' acquire load in rp_it_steer_get(). */
	__atomic_store_n(&it->steer[d], st, __ATOMIC_RELEASE);
	if (old == NULL)
		return;
	rte_rcu_qsbr_synchronize(it->qsbr, RTE_QSBR_THRID_INVALID);
	if (old->prog == st->prog)
		old->prog = NULL; /* rss set: the image moved on to st */
	steer_free(old, it->n_workers);
}

static void
refused(struct rp_iothread *it, unsigned int d, const char *why)
{
	it->steer_refused[d]++;
	snprintf(it->steer_last_refusal[d], sizeof(it->steer_last_refusal[d]), "%s", why);
	RTE_LOG(WARNING, USER1, "steering %s: refused: %s\n", rp_ipc_dir_name(d), why);
}

/* The default program: rss.bpf.o where the build or the install put it,
 * found from this executable's own path. */
static bool
default_prog(char *path, size_t len)
{
	static const char *const rel[] = {"/../xdp/rss.bpf.o", "/../share/ringport/rss.bpf.o"};
	char exe[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX];

		if ((size_t)snprintf(cand, sizeof(cand), "%s%s", exe, rel[i]) < sizeof(cand) &&
			len >= PATH_MAX && realpath(cand, path) != NULL && access(path, R_OK) == 0)
			return true;
	}
	return false;
}

int
rp_it_steer_init(struct rp_iothread *it)
{
	struct rp_steer_cfg *cfg = malloc(sizeof(*cfg));
	char err[512], def[PATH_MAX];
	bool have_def = default_prog(def, sizeof(def));

	if (cfg == NULL)
		return -ENOMEM;
	rp_steer_cfg_init(cfg);
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		const char *path = it->o.steer_prog[d] ? it->o.steer_prog[d] : have_def ? def : NULL;
		struct rp_prog *p = NULL;
		struct rp_it_steer *st;

		if (path != NULL && (p = rp_prog_open(path, err, sizeof(err))) == NULL)
			goto fail;
		st = steer_new(it, d, p, cfg, err, sizeof(err));
		if (st == NULL) {
			rp_prog_close(p);
			goto fail;
		}
		it->steer[d] = st;
		if (p == NULL)
			RTE_LOG(NOTICE, USER1, "steering %s: built-in RSS (no rss.bpf.o found beside "
				"the executable)\n", rp_ipc_dir_name(d));
		continue;
fail:
		fprintf(stderr, PROG ": --steer-%s: %s\n", rp_ipc_dir_name(d), err);
		free(cfg);
		return -EINVAL;
	}
	free(cfg);
	return 0;
}

void
rp_it_steer_fini(struct rp_iothread *it)
{
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		steer_free(it->steer[d], it->n_workers);
		it->steer[d] = NULL;
	}
}

static int
parse_dirs(const char *s, unsigned int *mask, char *err, size_t errlen)
{
	*mask = 0;
	for (unsigned int d = 0; s != NULL && d < RP_IPC_DIR_MAX; d++)
		if (strcmp(s, rp_ipc_dir_name(d)) == 0)
			*mask = 1u << d;
	if (s != NULL && strcmp(s, "both") == 0)
		*mask = (1u << RP_IPC_DIR_MAX) - 1;
	if (*mask == 0) {
		snprintf(err, errlen, "direction '%.32s': must be to-switch, to-guest or both",
			s ? s : "");
		return -EINVAL;
	}
	return 0;
}

int
rp_it_steer_load(struct rp_iothread *it, const char *dir, const char *path, char *err,
	size_t errlen)
{
	struct rp_it_steer *st[RP_IPC_DIR_MAX] = {NULL};
	unsigned int mask;

	if (parse_dirs(dir, &mask, err, errlen) < 0)
		return -EINVAL;
	if (path == NULL || path[0] != '/') {
		snprintf(err, errlen, "path '%.200s': must be absolute", path ? path : "");
		goto refuse;
	}
	/* Build every direction asked for before publishing any. */
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		struct rp_prog *p;

		if (!(mask & (1u << d)))
			continue;
		p = rp_prog_open(path, err, errlen);
		if (p == NULL)
			goto refuse;
		st[d] = steer_new(it, d, p, &it->steer[d]->cfg, err, errlen);
		if (st[d] == NULL) {
			rp_prog_close(p);
			goto refuse;
		}
	}
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		if (st[d] == NULL)
			continue;
		steer_swap(it, d, st[d]);
		it->steer_loads[d]++;
		RTE_LOG(INFO, USER1, "steering %s: loaded %s (%u instructions)\n", rp_ipc_dir_name(d),
			path, rp_prog_insns(st[d]->prog));
	}
	return 0;
refuse:
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		if (mask & (1u << d))
			refused(it, d, err);
		steer_free(st[d], it->n_workers);
	}
	return -EINVAL;
}

int
rp_it_steer_rss_set(struct rp_iothread *it, const struct rp_ctl_req *r, char *err,
	size_t errlen)
{
	struct rp_it_steer *st[RP_IPC_DIR_MAX] = {NULL};
	struct rp_steer_cfg *cfg = malloc(sizeof(*cfg));
	uint8_t k[RP_STEER_KEY_SIZE];
	unsigned int mask;
	int rc = -EINVAL;

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (parse_dirs(r->direction, &mask, err, errlen) < 0)
		goto out;
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		if (!(mask & (1u << d)))
			continue;
		*cfg = it->steer[d]->cfg;
		if (r->key != NULL && rp_steer_parse_key(r->key, k, err, errlen) < 0)
			goto refuse;
		if (r->key != NULL)
			rp_steer_cfg_set_key(cfg, k);
		if (r->table != NULL &&
			rp_steer_parse_table(r->table, it->o.queues, cfg, err, errlen) < 0)
			goto refuse;
		if (r->types != NULL &&
			rp_steer_parse_types(r->types, &cfg->hash_types, err, errlen) < 0)
			goto refuse;
		if (r->user != NULL && rp_steer_parse_user(r->user, cfg, err, errlen) < 0)
			goto refuse;
		/* The same image, bound to the new configuration. */
		st[d] = steer_new(it, d, it->steer[d]->prog, cfg, err, errlen);
		if (st[d] == NULL)
			goto refuse;
	}
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		if (st[d] == NULL)
			continue;
		steer_swap(it, d, st[d]);
		it->rss_sets[d]++;
	}
	rc = 0;
	goto out;
refuse:
	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		if (mask & (1u << d))
			refused(it, d, err);
		if (st[d] != NULL)
			st[d]->prog = NULL; /* still the running state's */
		steer_free(st[d], it->n_workers);
	}
out:
	free(cfg);
	return rc;
}

json_t *
rp_it_steer_json(struct rp_iothread *it)
{
	json_t *o = json_object();

	for (unsigned int d = 0; d < RP_IPC_DIR_MAX; d++) {
		const struct rp_it_steer *st = it->steer[d];
		const struct rp_steer_cfg *c = &st->cfg;
		json_t *cnt = json_array(), *tab = json_array(), *user = json_array();
		char key[2 * RP_STEER_KEY_SIZE + 1], types[64];

		for (unsigned int k = 0; k < RP_STEER_COUNTERS; k++) {
			uint64_t sum = 0;

			for (unsigned int i = 0; i < it->n_workers; i++)
				sum += __atomic_load_n(&it->w[i].steer_cnt[d][k], __ATOMIC_RELAXED);
			json_array_append_new(cnt, json_integer((json_int_t)sum));
		}
		for (unsigned int k = 0; k <= c->table_mask; k++)
			json_array_append_new(tab, json_integer(c->table[k]));
		for (unsigned int k = 0; k < 8; k++)
			json_array_append_new(user, json_integer(c->user[k]));
		for (unsigned int k = 0; k < RP_STEER_KEY_SIZE; k++)
			snprintf(key + 2 * k, 3, "%02x", c->key[k]);
		json_object_set_new(o, rp_ipc_dir_key(d),
			json_pack("{s:s,s:i,s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:i,s:o,s:o}", "program",
				st->prog ? rp_prog_path(st->prog) : "builtin", "instructions",
				st->prog ? (int)rp_prog_insns(st->prog) : 0, "loads",
				(json_int_t)it->steer_loads[d], "rss_sets",
				(json_int_t)it->rss_sets[d], "refused",
				(json_int_t)it->steer_refused[d], "last_refusal",
				it->steer_last_refusal[d], "key", key, "hash_types",
				rp_steer_types_str(c->hash_types, types, sizeof(types)), "table", tab,
				"default_queue", c->default_queue, "user", user, "counters", cnt));
	}
	return o;
}
