/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Switch sessions (control thread): one port-socket connection from the
 * switch-side PMD, a fresh region for it, the mempool over its TO_SWITCH
 * buffers, and retiring all of it when the peer leaves.
 */
/* rte_pktmbuf_pool_create_extbuf() is still experimental in 22.11; the
 * iothread is built against the DPDK it runs with. */
#define ALLOW_EXPERIMENTAL_API 1
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "iothread.h"

#define INBOX_SIZE 1024

/* Index the mbuf of each TO_SWITCH buffer, and place its frames: its
 * buffer starts s->ts_colors' worth of cache lines in (rp_ipc_color();
 * rte_vhost puts the headroom after that), so the guest's frames do not
 * all start a power of two apart. */
static void
map_mbuf(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct rp_it_sess *s = arg;
	struct rte_mbuf *m = obj;
	uint32_t off = (uint32_t)((uint8_t *)m->buf_addr - s->base);
	uint32_t c = rp_ipc_color(off - s->ts_off, s->ts_shift, s->ts_colors);

	(void)mp;
	(void)idx;
	s->mbuf_of[(off - s->ts_off) >> s->ts_shift] = m;
	m->buf_addr = (uint8_t *)m->buf_addr + c;
	m->buf_len = (uint16_t)(m->buf_len - c);
	m->data_off = (uint16_t)RTE_MIN((uint32_t)RTE_PKTMBUF_HEADROOM, m->buf_len);
}

static void
sess_free(struct rp_it_sess *s)
{
	for (unsigned int q = 0; q < RP_IT_MAX_QP; q++) {
		void *m;

		if (s->inbox[q] == NULL)
			continue;
		while (rte_ring_sc_dequeue(s->inbox[q], &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(s->inbox[q]);
	}
	if (s->mp != NULL) {
		unsigned int in_use = rte_mempool_in_use_count(s->mp);

		if (in_use != 0)
			RTE_LOG(ERR, USER1, "session %" PRIu64 ": %u mbufs not back at close\n",
				s->id, in_use);
		rte_mempool_free(s->mp);
	}
	for (unsigned int q = 0; q < s->n_qpairs; q++) {
		if (s->wake[q] >= 0)
			close(s->wake[q]);
		if (s->wake_peer[q] >= 0)
			close(s->wake_peer[q]);
	}
	free(s->mbuf_of);
	rp_ipc_pool_free(s->lent);
	rp_ipc_pool_free(s->held);
	if (s->sock >= 0)
		close(s->sock);
	rp_ipc_region_put(s->r);
	rte_free(s);
}

static void
free_lent(uint32_t off, void *arg)
{
	struct rp_it_sess *s = arg;

	rte_pktmbuf_free_seg(s->mbuf_of[(off - s->ts_off) >> s->ts_shift]);
}

/* A region, the pools over it and the inboxes; NULL with a log line. */
static struct rp_it_sess *
sess_alloc(struct rp_iothread *it, uint64_t id)
{
	unsigned int nq = it->o.queues;
	uint32_t n_bufs = RTE_MAX(4096u, 2048u * nq);
	struct rp_ipc_region_params p = {
		.n_qpairs = (uint16_t)nq,
		.ring_size = RP_IT_RING_SIZE,
		.buf_size = RP_IT_BUF_SIZE,
		.n_bufs = {n_bufs, n_bufs},
		.mtu = it->o.mtu,
		.features = RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG | RP_IPC_F_WAKE_SOCK,
	};
	const struct rp_ipc_layout *l;
	struct rte_pktmbuf_extmem ext;
	char why[256], name[RTE_MEMPOOL_NAMESIZE];
	struct rp_it_sess *s;

	memcpy(p.mac, it->mac, sizeof(p.mac));
	s = rte_zmalloc("rp_it_sess", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL)
		return NULL;
	s->sock = -1;
	s->id = id;
	for (unsigned int q = 0; q < RP_IT_MAX_QP; q++)
		s->wake[q] = s->wake_peer[q] = -1;
	s->r = rp_ipc_region_create(&p, why, sizeof(why));
	if (s->r == NULL) {
		RTE_LOG(ERR, USER1, "cannot create the port region: %s\n",
			errno == EINVAL ? why : strerror(errno));
		rte_free(s);
		return NULL;
	}
	l = rp_ipc_region_layout(s->r);
	s->base = rp_ipc_region_base(s->r);
	s->n_qpairs = l->n_qpairs;
	s->ring_size = l->ring_size;
	s->ts_off = (uint32_t)l->bufs_off[RP_IPC_DIR_TO_SWITCH];
	s->ts_shift = l->buf_shift;
	s->ts_n = l->n_bufs[RP_IPC_DIR_TO_SWITCH];
	s->tg_off = (uint32_t)l->bufs_off[RP_IPC_DIR_TO_GUEST];
	s->tg_bytes = l->n_bufs[RP_IPC_DIR_TO_GUEST] << l->buf_shift;
	s->ts_max_frame = it->o.mtu + RP_IT_L2_OVERHEAD;
	s->ts_max_segs = RTE_MIN((uint32_t)RP_IPC_MAX_FRAME_DESCS, s->ring_size - 1);
	/* As many placements as leave a frame of the MTU in one buffer (7
	 * at 1500; an odd number, see RP_IPC_COLORS); with larger MTUs such
	 * frames take several buffers anyway. */
	int32_t slack = (int32_t)(1u << s->ts_shift) - RTE_PKTMBUF_HEADROOM - (int32_t)s->ts_max_frame;
	s->ts_colors = slack < 0 ? RP_IPC_COLORS
				 : RTE_MIN((unsigned int)RP_IPC_COLORS, (unsigned int)slack / RP_IPC_COLOR_UNIT + 1);
	s->ts_colors -= s->ts_colors > 1 && s->ts_colors % 2 == 0;
	s->wake_word = &rp_ipc_region_hdr(s->r)->wake;
	for (unsigned int q = 0; q < l->n_qpairs; q++)
		for (unsigned int k = 0; k < RP_IPC_RINGS_PER_QPAIR; k++)
			rp_ipc_region_ring_view(s->r, q, k, true, &s->ring[q][k]);
	for (unsigned int q = 0; q < nq; q++) {
		int pair[2];

		if (rp_ipc_wake_pair(pair) < 0)
			goto fail;
		s->wake[q] = pair[0];
		s->wake_peer[q] = pair[1];
	}
	s->lent = rp_ipc_pool_create_tracker(s->r, RP_IPC_DIR_TO_SWITCH);
	s->held = rp_ipc_pool_create(s->r, RP_IPC_DIR_TO_GUEST, false);
	s->mbuf_of = calloc(s->ts_n, sizeof(s->mbuf_of[0]));
	if (s->lent == NULL || s->held == NULL || s->mbuf_of == NULL)
		goto fail;
	/* The guest's packets land straight in region buffers: pinned
	 * external buffers, headers and shared info in private memory. */
	ext = (struct rte_pktmbuf_extmem){
		.buf_ptr = s->base + s->ts_off,
		.buf_iova = RTE_BAD_IOVA,
		.buf_len = (size_t)s->ts_n << s->ts_shift,
		.elt_size = (uint16_t)(1u << s->ts_shift),
	};
	snprintf(name, sizeof(name), "rp-ts-%" PRIu64, id);
	s->mp = rte_pktmbuf_pool_create_extbuf(name, s->ts_n, 256, 0, ext.elt_size,
		(int)rte_socket_id(), &ext, 1);
	if (s->mp == NULL) {
		RTE_LOG(ERR, USER1, "cannot create the session mempool: %s\n",
			rte_strerror(rte_errno));
		goto fail;
	}
	rte_mempool_obj_iter(s->mp, map_mbuf, s);
	for (unsigned int q = 0; q < nq; q++) {
		snprintf(name, sizeof(name), "rp-in-%" PRIu64 "-%u", id, q);
		s->inbox[q] = rte_ring_create(name, INBOX_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
		if (s->inbox[q] == NULL)
			goto fail;
	}
	return s;
fail:
	sess_free(s);
	return NULL;
}

struct rp_it_sess *
rp_it_sess_open(struct rp_iothread *it, int sock)
{
	struct rp_it_sess *s;
	enum rp_ipc_reject rej;
	char why[256] = "";
	int rc;

	s = sess_alloc(it, it->sessions + 1);
	if (s == NULL) {
		rp_ipc_send_disconnect(sock, RP_IPC_DISC_REFUSED, "iothread out of memory");
		close(sock);
		return NULL;
	}
	s->sock = sock;
	s->offload = true;
	const struct rp_ipc_hs_opts hs = {.name = "ringport-iothread",
		.timeout_ms = RP_IT_HANDSHAKE_MS, .peer = &s->peer, .st = &it->hs_st, .rej = &rej,
		.why = why, .why_size = sizeof(why)};
	rc = rp_ipc_server_handshake(sock, s->r, s->wake_peer, s->n_qpairs, &hs);
	/* The switch has its ends now (or never will). */
	for (unsigned int q = 0; q < s->n_qpairs; q++) {
		close(s->wake_peer[q]);
		s->wake_peer[q] = -1;
	}
	if (rc < 0) {
		it->sess_refused++;
		if (strncmp(why, it->last_refusal, sizeof(it->last_refusal) - 1) != 0)
			RTE_LOG(WARNING, USER1, "switch session refused (%s): %s\n",
				rp_ipc_reject_name(rej), why[0] ? why : strerror(-rc));
		snprintf(it->last_refusal, sizeof(it->last_refusal), "%s", why);
		sess_free(s);
		return NULL;
	}
	it->sessions++;
	it->last_refusal[0] = '\0';
	/* A switch that did not ask for wake-ups never writes them. */
	s->wake_ok = s->peer.features & RP_IPC_F_WAKE_SOCK;
	RTE_LOG(INFO, USER1, "switch session %" PRIu64 " up: peer '%s', %u queue pairs%s\n", s->id,
		s->peer.name, s->n_qpairs, rp_ipc_region_hugetlb(s->r) ? "" : " (4 KiB pages)");
	rp_it_sess_publish(it, s);
	return s;
}

void
rp_it_sess_close(struct rp_iothread *it, struct rp_it_sess *s)
{
	struct rp_ipc_hdr *h = rp_ipc_region_hdr(s->r);
	unsigned int kept;

	rp_it_sess_publish(it, NULL);
	/* After this no worker holds anything of s (iothread.h). */
	rte_rcu_qsbr_synchronize(it->qsbr, RTE_QSBR_THRID_INVALID);
	__atomic_store_n(&h->state, RP_IPC_STATE_CLOSING, __ATOMIC_RELEASE);
	kept = rp_ipc_pool_reclaim_each(s->lent, free_lent, s);
	rp_ipc_pool_reclaim(s->held);
	RTE_LOG(INFO, USER1, "switch session %" PRIu64 " down; %u buffers reclaimed from the peer\n",
		s->id, kept);
	sess_free(s);
}
