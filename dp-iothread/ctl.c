/* SPDX-License-Identifier: BSD-3-Clause */
/* `ringportctl status`: one JSON object, read from the workers' counters
 * without stopping them (each counter has one writer). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <linux/virtio_config.h>
#include <rte_cycles.h>
#include <rte_vhost.h>

#include "iothread.h"

static const char *const drop_names[RP_IT_DROP_MAX] = {
	[RP_IT_DROP_NO_SESSION] = "no_session",
	[RP_IT_DROP_NO_GUEST] = "no_guest",
	[RP_IT_DROP_OFFLOAD] = "bad_offload",
	[RP_IT_DROP_TOO_BIG] = "too_big",
	[RP_IT_DROP_INVALID] = "invalid_frame",
	[RP_IT_DROP_STEER] = "steering",
};

static json_t *
rejects_json(const struct rp_ipc_stats *st)
{
	json_t *o = json_object();

	for (int i = 1; i < RP_IPC_REJ_MAX; i++)
		if (st->rejects[i])
			json_object_set_new(o, rp_ipc_reject_name(i),
				json_integer((json_int_t)st->rejects[i]));
	return o;
}

static json_t *
cpp(uint64_t cycles, uint64_t pkts)
{
	return pkts ? json_real((double)cycles / (double)pkts) : json_null();
}

static json_t *
queues_json(struct rp_iothread *it)
{
	json_t *qs = json_array();

	for (unsigned int q = 0; q < it->o.queues; q++) {
		json_t *qo = json_pack("{s:i}", "queue", q);

		for (int d = 0; d < RP_IPC_DIR_MAX; d++) {
			uint64_t pkts = 0, bytes = 0, drops[RP_IT_DROP_MAX] = {0}, csum = 0, gso = 0;
			json_t *dr = json_object();

			for (unsigned int i = 0; i < it->n_workers; i++) {
				struct rp_it_qstats *s = &it->w[i].q[q];

				pkts += RP_IT_STAT_READ(s->pkts[d]);
				csum += RP_IT_STAT_READ(s->csum_partial[d]);
				gso += RP_IT_STAT_READ(s->gso[d]);
				bytes += RP_IT_STAT_READ(s->bytes[d]);
				for (int k = 0; k < RP_IT_DROP_MAX; k++)
					drops[k] += RP_IT_STAT_READ(s->drops[d][k]);
			}
			uint64_t hits, misses;

			for (int k = 0; k < RP_IT_DROP_MAX; k++)
				json_object_set_new(dr, drop_names[k], json_integer((json_int_t)drops[k]));
			/* Guest TX vring 2q + 1 feeds to_switch, RX vring 2q to_guest. */
			rp_it_vhost_iotlb((uint16_t)(2 * q + (d == RP_IPC_DIR_TO_SWITCH)), &hits, &misses);
			json_object_set_new(qo, rp_ipc_dir_key(d), json_pack("{s:I,s:I,s:I,s:I,s:o,s:I,s:I}",
				"packets", (json_int_t)pkts, "bytes", (json_int_t)bytes, "csum_partial",
				(json_int_t)csum, "gso", (json_int_t)gso, "drops", dr, "iotlb_hits",
				(json_int_t)hits, "iotlb_misses", (json_int_t)misses));
		}
		json_array_append_new(qs, qo);
	}
	return qs;
}

/* What status sums over the workers. */
struct totals {
	struct rp_ipc_stats rej;
	uint64_t busy[RP_IPC_DIR_MAX], pkts[RP_IPC_DIR_MAX];
	uint64_t full_c[RP_IPC_DIR_MAX], full_p[RP_IPC_DIR_MAX];
	uint64_t intr_c[RP_IPC_DIR_MAX], intr_p[RP_IPC_DIR_MAX];
};

/* Worker @id's counters as status shows them (workers write them; relaxed
 * reads), summed into @t too. */
static json_t *
worker_json(const struct rp_it_worker *w, unsigned int id, struct totals *t)
{
	json_t *st = json_object();

	for (int k = 0; k < RP_IPC_REJ_MAX; k++)
		t->rej.rejects[k] += RP_IT_STAT_READ(w->st.rejects[k]);
	for (int dd = 0; dd < RP_IPC_DIR_MAX; dd++) {
		uint64_t b = RP_IT_STAT_READ(w->busy_cycles[dd]);
		uint64_t p = RP_IT_STAT_READ(w->stage_pkts[dd]);
		uint64_t n = RP_IT_STAT_READ(w->busy_iters[dd]);
		uint64_t fc = RP_IT_STAT_READ(w->full_cycles[dd]);
		uint64_t fp = RP_IT_STAT_READ(w->full_pkts[dd]);
		uint64_t ic = RP_IT_STAT_READ(w->intr_cycles[dd]);
		uint64_t ip = RP_IT_STAT_READ(w->intr_pkts[dd]);
		json_t *o;

		t->busy[dd] += b;
		t->pkts[dd] += p;
		t->full_c[dd] += fc;
		t->full_p[dd] += fp;
		t->intr_c[dd] += ic;
		t->intr_p[dd] += ip;
		o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o,s:o}",
			"busy_cycles", (json_int_t)b, "packets", (json_int_t)p,
			"busy_iterations", (json_int_t)n, "full_burst_cycles", (json_int_t)fc,
			"full_burst_packets", (json_int_t)fp, "packets_per_iteration",
			n ? json_real((double)p / (double)n) : json_null(),
			"cycles_per_packet_full_bursts", cpp(fc, fp));
		json_object_set_new(o, "interrupted", json_pack("{s:I,s:I,s:I}", "iterations",
			(json_int_t)RP_IT_STAT_READ(w->intr_iters[dd]), "cycles", (json_int_t)ic,
			"packets", (json_int_t)ip));
		json_object_set_new(st, rp_ipc_dir_key(dd), o);
	}
	/* What the worker holds right now (racy reads, diagnostics). */
	unsigned int ts_n = 0, tg_n = 0, held = 0, ret = 0;

	for (unsigned int q = 0; q < RP_IT_MAX_QP; q++) {
		ts_n += __atomic_load_n(&w->ts[q].n, __ATOMIC_RELAXED);
		tg_n += __atomic_load_n(&w->tg[q].n, __ATOMIC_RELAXED);
		held += __atomic_load_n(&w->outstanding[q], __ATOMIC_RELAXED);
		ret += __atomic_load_n(&w->n_ret[q], __ATOMIC_RELAXED);
	}
	json_object_set_new(st, "held", json_pack("{s:i,s:i,s:i,s:i}", "to_switch_staged",
		ts_n, "to_guest_staged", tg_n, "to_guest_buffers", held, "returns_waiting", ret));
	json_object_set_new(st, "sleeps", json_integer((json_int_t)RP_IT_STAT_READ(w->sleeps)));
	json_object_set_new(st, "stall_naps",
		json_integer((json_int_t)RP_IT_STAT_READ(w->stall_naps)));
	json_object_set_new(st, "wakeups",
		json_integer((json_int_t)RP_IT_STAT_READ(w->wakeups)));
	json_object_set_new(st, "handoff_packets", json_pack("{s:I,s:I}", "to_switch",
		(json_int_t)RP_IT_STAT_READ(w->handoff_pkts[RP_IPC_DIR_TO_SWITCH]), "to_guest",
		(json_int_t)RP_IT_STAT_READ(w->handoff_pkts[RP_IPC_DIR_TO_GUEST])));
	json_object_set_new(st, "foreign_vq_writes",
		json_integer((json_int_t)RP_IT_STAT_READ(w->foreign_vq_writes)));
	json_object_set_new(st, "steer_folded",
		json_integer((json_int_t)RP_IT_STAT_READ(w->steer_folded)));
	return json_pack("{s:i,s:i,s:{s:I,s:I},s:{s:I,s:I},s:I,s:I,s:I,s:o}",
		"id", (int)id, "cpu", w->cpu, "busy_cycles", "to_switch",
		(json_int_t)RP_IT_STAT_READ(w->busy_cycles[0]), "to_guest",
		(json_int_t)RP_IT_STAT_READ(w->busy_cycles[1]), "packets", "to_switch",
		(json_int_t)RP_IT_STAT_READ(w->stage_pkts[0]), "to_guest",
		(json_int_t)RP_IT_STAT_READ(w->stage_pkts[1]), "idle_cycles",
		(json_int_t)RP_IT_STAT_READ(w->idle_cycles), "idle_iterations",
		(json_int_t)RP_IT_STAT_READ(w->idle_iters), "naps",
		(json_int_t)RP_IT_STAT_READ(w->naps), "stages", st);
}

char *
rp_it_status_json(struct rp_iothread *it)
{
	struct rp_it_sess *s = rp_it_sess_get(it);
	struct rp_it_dev *d = &it->dev;
	bool running = rp_it_dev_running(it);
	uint64_t f = d->features;
	struct totals t = {0};
	json_t *ws = json_array(), *o, *port, *vh;
	char feat[24], *out;

	for (unsigned int i = 0; i < it->n_workers; i++)
		json_array_append_new(ws, worker_json(&it->w[i], i, &t));
	port = json_pack("{s:s,s:b,s:I,s:I,s:i,s:o,s:o}", "path", it->o.port_path, "session",
		s != NULL, "sessions", (json_int_t)it->sessions, "refused",
		(json_int_t)it->sess_refused, "queues", it->o.queues, "rejects", rejects_json(&t.rej),
		"handshake_rejects", rejects_json(&it->hs_st));
	if (s != NULL) {
		json_object_set_new(port, "peer", json_string(s->peer.name));
		json_object_set_new(port, "hugepages", json_boolean(rp_ipc_region_hugetlb(s->r)));
	}
	snprintf(feat, sizeof(feat), "0x%" PRIx64, running ? f : 0);
	vh = json_pack("{s:s,s:s,s:b,s:b,s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:I,s:I,s:I}", "path",
		it->o.vhost_path,
		"mode", it->o.vhost_client ? "client" : "server", "connected", d->vid >= 0,
		"running", running, "features", feat, "packed",
		running && (f & (1ULL << VIRTIO_F_RING_PACKED)), "mrg_rxbuf",
		running && (f & (1ULL << VIRTIO_NET_F_MRG_RXBUF)), "csum",
		running && (f & (1ULL << VIRTIO_NET_F_CSUM)), "tso",
		running && (f & (1ULL << VIRTIO_NET_F_HOST_TSO4)), "iommu",
		/* addresses go through the guest's vIOMMU */
		running && (f & (1ULL << VIRTIO_F_IOMMU_PLATFORM)), "rx_queues",
		(int)RP_IT_DEV_READ(it, n_rxq), "connects",
		(json_int_t)d->connects, "iotlb_whole_invalidations",
		(json_int_t)RP_IT_DEV_READ(it, iotlb_whole), "iotlb_ring_unmaps",
		(json_int_t)RP_IT_DEV_READ(it, iotlb_ring_unmaps));
	o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:{s:o,s:o},s:{s:o,s:o},s:I}", "link",
		s != NULL && running ? "up" : "down", "poll",
		it->o.poll == RP_IT_POLL_BUSY ? "busy" : "adaptive", "port", port, "vhost", vh,
		"steering", rp_it_steer_json(it),
		"queues", queues_json(it), "workers", ws, "cycles_per_packet", "to_switch",
		cpp(t.busy[0], t.pkts[0]), "to_guest", cpp(t.busy[1], t.pkts[1]),
		"cycles_per_packet_full_bursts", "to_switch", cpp(t.full_c[0], t.full_p[0]),
		"to_guest", cpp(t.full_c[1], t.full_p[1]), "tsc_hz", (json_int_t)rte_get_tsc_hz());
	json_object_set_new(o, "cycles_per_packet_uninterrupted", json_pack("{s:o,s:o}",
		"to_switch", cpp(t.busy[0] - t.intr_c[0], t.pkts[0] - t.intr_p[0]),
		"to_guest", cpp(t.busy[1] - t.intr_c[1], t.pkts[1] - t.intr_p[1])));
	json_object_set_new(o, "shared_queues", json_boolean(it->o.shared_queues));
	json_object_set_new(o, "control", json_pack("{s:s,s:i,s:I,s:I,s:I,s:I}", "path",
		it->o.ctl_path, "clients", (int)it->ctl.n_clients, "refused",
		(json_int_t)it->ctl.refused, "timeouts", (json_int_t)it->ctl.timeouts, "busy",
		(json_int_t)it->ctl.busy, "bad_requests", (json_int_t)it->ctl.bad));
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

/* steer-load {path, direction}, rss-set {direction, key, table, types,
 * user}: each value is checked again in steer.c, whoever sent it. */
static char *
ctl_steer(struct rp_iothread *it, const struct rp_ctl_req *r)
{
	char err[512];
	json_t *j;
	char *out;
	int rc;

	if (r->cmd == RP_CTL_STEER_LOAD)
		rc = rp_it_steer_load(it, r->direction, r->path, err, sizeof(err));
	else
		rc = rp_it_steer_rss_set(it, r, err, sizeof(err));
	j = rc == 0 ? json_pack("{s:b,s:o}", "ok", 1, "steering", rp_it_steer_json(it))
		    : json_pack("{s:s}", "error", err);
	out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}

char *
rp_it_ctl_dispatch(struct rp_iothread *it, const char *buf, size_t len, uint64_t *bad)
{
	struct rp_ctl_req r;
	char err[256], *out;

	if (rp_ctl_req_parse(buf, len, &r, err, sizeof(err)) < 0) {
		(*bad)++;
		return rp_ctl_error(err);
	}
	out = r.cmd == RP_CTL_STATUS ? rp_it_status_json(it) : ctl_steer(it, &r);
	rp_ctl_req_free(&r);
	return out;
}
