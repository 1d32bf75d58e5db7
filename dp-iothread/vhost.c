/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user side: one rte_vhost socket, one guest NIC. The callbacks
 * run on rte_vhost's event thread; they publish the device to the workers
 * and retire it with QSBR before rte_vhost tears its queues down.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vhost_types.h>

#include <rte_log.h>
#include <rte_vhost.h>

#include "iothread.h"

static struct rp_iothread *vh_it; /* rte_vhost callbacks carry only a vid */

/* The vid the control thread may read rte_vhost's counters of: set and
 * cleared under this lock, cleared before rte_vhost frees the device
 * (destroy_connection comes first). */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int stats_vid = -1;
/* The last IOTLB counters read per vring, under stats_lock: rte_vhost
 * will not read a vring's counters while its rings are unmapped (a vIOMMU
 * invalidation), and a counter must not go back to 0 then. */
static uint64_t stats_hits[2 * RP_IT_MAX_QP], stats_misses[2 * RP_IT_MAX_QP];

/* Guest RX queues 0..n-1 enabled: where to-guest steering may send. */
static void
update_rxq(struct rp_it_dev *d)
{
	uint32_t n = 0, v = __atomic_load_n(&d->vrings, __ATOMIC_RELAXED);

	while (n < RP_IT_MAX_QP && (v & (1u << (2 * n))))
		n++;
	__atomic_store_n(&d->n_rxq, n, __ATOMIC_RELAXED);
}

/*
 * vhost-user messages as rte_vhost's pre-handler sees them: the wire
 * format of the vhost-user spec (a 12-byte header, then the payload).
 */
struct vu_msg_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* of the payload */
} __rte_packed;

#define VU_REQ_IOTLB_MSG 22 /* VHOST_USER_IOTLB_MSG: struct vhost_iotlb_msg */

/* The message rte_vhost is handling now: written and read on its event
 * thread only (the pre-handler, then the callbacks it makes). */
static uint32_t vu_cur_request;

/* @vring's IOTLB counters into stats_hits/stats_misses, where rte_vhost
 * can read them now. Under stats_lock. */
static void
stats_read(int vid, uint16_t vring)
{
	struct rte_vhost_stat_name names[32];
	struct rte_vhost_stat st[32];
	int n = rte_vhost_vring_stats_get_names(vid, vring, names, RTE_DIM(names));

	if (n <= 0 || n > (int)RTE_DIM(names) ||
		rte_vhost_vring_stats_get(vid, vring, st, (unsigned int)n) != n)
		return;
	/* Named "rx_q0_iotlb_hits" and so on (the host's view). */
	for (int i = 0; i < n; i++) {
		const char *u = strstr(names[i].name, "_iotlb_");

		if (u != NULL && strcmp(u, "_iotlb_hits") == 0)
			stats_hits[vring] = st[i].value;
		else if (u != NULL && strcmp(u, "_iotlb_misses") == 0)
			stats_misses[vring] = st[i].value;
	}
}

/*
 * Before rte_vhost handles a message. A guest whose vIOMMU flushes its
 * whole address space (Linux's lazy mode does, every few milliseconds
 * while it unmaps) sends a device-IOTLB invalidation that QEMU 7.2's
 * intel-iommu turns into a range of 2^64 bytes, which wraps: QEMU sends
 * size 0. The kernel's vhost reads [iova, iova + size - 1] and drops
 * everything; rte_vhost 22.11 ignores a size of 0, and keeps translations
 * the guest has taken back: a reused I/O address then reads (tx) or writes
 * (rx) the page it used to name. Read size 0, or a range past 2^64, as
 * "all from iova".
 */
static enum rte_vhost_msg_result
pre_msg(int vid, void *msg)
{
	struct vu_msg_hdr *h = msg;
	struct vhost_iotlb_msg *m = (struct vhost_iotlb_msg *)(h + 1);
	struct rp_it_dev *d = &vh_it->dev;

	vu_cur_request = h->request;
	if (h->request != VU_REQ_IOTLB_MSG || h->size < sizeof(*m) ||
		m->type != VHOST_IOTLB_INVALIDATE)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (m->size == 0 || m->iova + m->size < m->iova) {
		m->size = UINT64_MAX - m->iova;
		__atomic_fetch_add(&d->iotlb_whole, 1, __ATOMIC_RELAXED);
	}
	/* It may unmap the rings, and rte_vhost reads no counters of a vring
	 * whose rings are unmapped (a receive ring stays so until the next
	 * frame for the guest): read them while it still can. IOTLB messages
	 * come without the queues locked. */
	pthread_mutex_lock(&stats_lock);
	if (stats_vid == vid)
		for (uint16_t v = 0; v < RTE_DIM(stats_hits); v++)
			stats_read(vid, v);
	pthread_mutex_unlock(&stats_lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops extern_ops = {
	.pre_msg_handle = pre_msg,
};

static int
new_connection(int vid)
{
	struct rp_it_dev *d = &vh_it->dev;

	if (d->vid >= 0) {
		RTE_LOG(ERR, USER1, "vhost: a second front end connected (vid %d); one guest NIC "
			"per iothread, refused\n", vid);
		return -1;
	}
	if (rte_vhost_extern_callback_register(vid, &extern_ops, NULL) != 0) {
		RTE_LOG(ERR, USER1, "vhost: cannot watch vid %d's messages; refused\n", vid);
		return -1;
	}
	d->vid = vid;
	__atomic_store_n(&d->vrings, 0, __ATOMIC_RELAXED);
	update_rxq(d);
	d->connects++;
	pthread_mutex_lock(&stats_lock);
	stats_vid = vid;
	memset(stats_hits, 0, sizeof(stats_hits));
	memset(stats_misses, 0, sizeof(stats_misses));
	pthread_mutex_unlock(&stats_lock);
	RTE_LOG(INFO, USER1, "vhost: front end connected (vid %d)\n", vid);
	return 0;
}

static void
destroy_connection(int vid)
{
	struct rp_it_dev *d = &vh_it->dev;

	if (vid != d->vid)
		return;
	pthread_mutex_lock(&stats_lock);
	stats_vid = -1;
	pthread_mutex_unlock(&stats_lock);
	__atomic_store_n(&d->vrings, 0, __ATOMIC_RELAXED);
	update_rxq(d);
	d->vid = -1;
	RTE_LOG(INFO, USER1, "vhost: front end disconnected (vid %d)\n", vid);
}

/* The guest's memory stays out of core dumps too (the process is not
 * dumpable once confined; this holds even if it is started without). */
static void
guest_mem_no_dump(int vid)
{
	struct rte_vhost_memory *mem = NULL;

	if (rte_vhost_get_mem_table(vid, &mem) != 0 || mem == NULL)
		return;
	for (uint32_t i = 0; i < mem->nregions; i++)
		if (mem->regions[i].mmap_addr != NULL)
			(void)madvise(mem->regions[i].mmap_addr, mem->regions[i].mmap_size,
				MADV_DONTDUMP);
	free(mem);
}

static int
new_device(int vid)
{
	struct rp_it_dev *d = &vh_it->dev;
	uint64_t f = 0;

	if (vid != d->vid)
		return -1;
	rte_vhost_get_negotiated_features(vid, &f);
	d->features = f;
	guest_mem_no_dump(vid);
	/* Workers poll with notifications off. */
	for (uint16_t q = 0; q < 2 * RP_IT_MAX_QP; q++)
		rp_it_vhost_notify(vid, q, 0);
	__atomic_fetch_add(&d->gen, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&d->running, true, __ATOMIC_RELEASE);
	RTE_LOG(INFO, USER1, "vhost: device ready (vid %d, features 0x%" PRIx64 ")\n", vid, f);
	return 0;
}

static void
destroy_device(int vid)
{
	struct rp_it_dev *d = &vh_it->dev;

	if (vid != d->vid)
		return;
	__atomic_store_n(&d->running, false, __ATOMIC_RELEASE);
	__atomic_fetch_add(&d->gen, 1, __ATOMIC_SEQ_CST);
	/* rte_vhost frees the queues when we return: wait out the workers. */
	rte_rcu_qsbr_synchronize(vh_it->qsbr, RTE_QSBR_THRID_INVALID);
	RTE_LOG(INFO, USER1, "vhost: device stopped (vid %d)\n", vid);
}

static int
vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct rp_it_dev *d = &vh_it->dev;

	if (vid != d->vid)
		return 0;
	if (vring >= 2 * RP_IT_MAX_QP) {
		if (enable)
			RTE_LOG(WARNING, USER1, "vhost: vring %u is beyond the %u queue pairs "
				"served; it is not polled\n", vring, RP_IT_MAX_QP);
		return 0;
	}
	/* An IOTLB invalidation that covers a vring's rings unmaps them, and
	 * rte_vhost reports the vring as not ready. The driver did not
	 * disable it: the next burst maps the rings again (an IOTLB miss),
	 * and only a burst does. Stop polling it here and it stays unmapped,
	 * and its traffic is dropped for good. */
	if (!enable && vu_cur_request == VU_REQ_IOTLB_MSG) {
		__atomic_fetch_add(&d->iotlb_ring_unmaps, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (enable)
		__atomic_fetch_or(&d->vrings, 1u << vring, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&d->vrings, ~(1u << vring), __ATOMIC_RELAXED);
	update_rxq(d);
	return 0;
}

int
rp_it_vhost_notify(int vid, uint16_t vring, int on)
{
	struct rte_vhost_vring vr;

	if (rte_vhost_enable_guest_notification(vid, vring, on) != 0 ||
		rte_vhost_get_vhost_vring(vid, vring, &vr) != 0)
		return -ENXIO;
	/* Written in the used ring without logging: its flags (no EVENT_IDX)
	 * and the avail_event after its last entry (EVENT_IDX). Logging does
	 * nothing unless QEMU asked for it (migration). */
	rte_vhost_log_used_vring(vid, vring, offsetof(struct vring_used, flags),
		sizeof(vr.used->flags));
	rte_vhost_log_used_vring(vid, vring, offsetof(struct vring_used, ring) +
		(uint64_t)vr.size * sizeof(vr.used->ring[0]), sizeof(uint16_t));
	return 0;
}

static const struct rte_vhost_device_ops ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
	.new_connection = new_connection,
	.destroy_connection = destroy_connection,
};

int
rp_it_vhost_start(struct rp_iothread *it)
{
	const char *path = it->o.vhost_path;
	/* IOMMU support: a guest with a vIOMMU (VIRTIO_F_IOMMU_PLATFORM)
	 * hands us I/O virtual addresses, which rte_vhost translates through
	 * its IOTLB; a miss asks QEMU and that burst comes back short, without
	 * holding up the other queues. Negotiated only when the guest wants it. */
	uint64_t flags = (it->o.vhost_client ? RTE_VHOST_USER_CLIENT : 0) |
		RTE_VHOST_USER_IOMMU_SUPPORT |
		/* Per-virtqueue counters (as OVS enables them): the IOTLB's
		 * hits and misses in status; a few cycles a packet. */
		RTE_VHOST_USER_NET_STATS_ENABLE;
	/* Not offered: what neither side of the port can do. UFO and ECN
	 * have no descriptor metadata; TSO needs the switch to take or make
	 * 64 KB frames (OVS userspace-tso-enable), so it is opt-in. */
	uint64_t off = (1ULL << VIRTIO_NET_F_HOST_UFO) | (1ULL << VIRTIO_NET_F_GUEST_UFO) |
		(1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_ECN) |
		(1ULL << VIRTIO_NET_F_GSO);

	if (!it->o.tso)
		off |= (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
			(1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6);
	vh_it = it;
	it->dev.vid = -1;
	/* rte_vhost will not bind over a socket a killed iothread left (a
	 * confined one cannot remove its sockets from a root-owned
	 * directory): remove it, unless someone still listens there. */
	if (!it->o.vhost_client) {
		int rc = rp_ipc_sock_clear_stale(path, SOCK_STREAM);

		if (rc < 0) {
			RTE_LOG(ERR, USER1, "--vhost %s: %s\n", path, rp_it_sock_why(rc));
			return rc;
		}
	}
	if (rte_vhost_driver_register(path, flags) != 0) {
		RTE_LOG(ERR, USER1, "--vhost %s: cannot register the vhost-user socket\n", path);
		return -EIO;
	}
	if (rte_vhost_driver_disable_features(path, off) != 0 ||
		rte_vhost_driver_callback_register(path, &ops) != 0 ||
		rte_vhost_driver_start(path) != 0) {
		RTE_LOG(ERR, USER1, "--vhost %s: cannot start the vhost-user socket\n", path);
		rte_vhost_driver_unregister(path);
		return -EIO;
	}
	/* QEMU connects as whoever runs it (libvirt: libvirt-qemu), never as
	 * root: like the port socket, this one is --user's, and its group's
	 * (QEMU's user in that group may connect), mode 0660. */
	if (!it->o.vhost_client && it->ids.run_uid != (uid_t)-1 &&
		(chown(path, it->ids.run_uid, it->ids.run_gid) < 0 || chmod(path, 0660) < 0)) {
		int rc = -errno;

		RTE_LOG(ERR, USER1, "--vhost %s: cannot give the socket to --user: %s\n", path,
			strerror(-rc));
		rte_vhost_driver_unregister(path);
		return rc;
	}
	return 0;
}

void
rp_it_vhost_stop(struct rp_iothread *it)
{
	rte_vhost_driver_unregister(it->o.vhost_path);
}

int
rp_it_vhost_iotlb(uint16_t vring, uint64_t *hits, uint64_t *misses)
{
	int rc = -ENODEV;

	*hits = *misses = 0;
	if (vring >= RTE_DIM(stats_hits))
		return -EINVAL;
	pthread_mutex_lock(&stats_lock);
	if (stats_vid >= 0) {
		stats_read(stats_vid, vring);
		*hits = stats_hits[vring];
		*misses = stats_misses[vring];
		rc = 0;
	}
	pthread_mutex_unlock(&stats_lock);
	return rc;
}
