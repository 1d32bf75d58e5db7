/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iothread.h: ringport-iothread's shared state.
 *
 * Threads:
 *  - the control thread (EAL main lcore, unpinned): the port socket (one
 *    switch session at a time), the control socket, signals;
 *  - rte_vhost's event thread: new_device / destroy_device /
 *    vring_state_changed callbacks;
 *  - pinned workers (EAL lcores): the data path, no locks of ours.
 *
 * Queue pair q (guest queue pair and region queue pair alike) belongs to
 * worker q % n_workers. A worker dequeues its guest TX queues and its
 * TO_GUEST rings, and is the only producer of its TO_SWITCH rings and
 * TO_GUEST_FREE rings. The default program (rss.bpf.o) keeps each packet
 * on its worker both ways, and without --shared-queues the host folds any
 * program's choice onto the worker's own queues (keep_local()). With it, a
 * program may send a guest packet to a ring another worker owns (counted:
 * handoff_packets): it is handed over through that ring's private inbox (an
 * MP/SC rte_ring of mbuf pointers), one burst per ring per pass, never
 * enqueued on the shared ring by a second producer; what the inbox cannot
 * take stays staged. A packet for the guest may go to any guest RX queue:
 * rte_vhost_enqueue_burst serialises on the virtqueue's own lock (a write
 * to another worker's queue is counted: foreign_vq_writes).
 *
 * Lifetimes: the session and the vhost device are published to workers by
 * pointer / flag and retired with QSBR (rte_rcu): the retiring thread
 * clears them, then waits until every worker has passed a quiescent point,
 * and workers drop anything they hold from a retired session before they
 * report one. Shared state is read through the accessors below
 * (rp_it_sess_get(), rp_it_dev_running(), rp_it_dev_gen(), RP_IT_DEV_READ,
 * rp_it_steer_get()); struct rp_iothread says who writes each field.
 *
 * Errors: functions return 0 (or a count) and a negative errno on failure,
 * libbpf-style; those that take err/errlen leave the reason there for the
 * caller to report (control commands answer with it), the others log it
 * themselves (stderr before EAL is up, RTE_LOG after). Constructors return
 * NULL with the reason logged. Only main() turns an error into an exit
 * status; rte_exit() is kept for a broken invariant on a worker.
 */
#ifndef RP_IOTHREAD_H
#define RP_IOTHREAD_H

#include <stdbool.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "ctl_req.h"
#include "rp_ipc.h"
#include "rp_prog.h"

#define RP_IT_BURST 32
#define RP_IT_STAGE 128          /* packets staged per target */
#define RP_IT_FRAME_SEGS 64      /* most buffers in one to-guest frame */
#define RP_IT_L2_OVERHEAD 22     /* Ethernet header and two VLAN tags over the MTU */
#define RP_IT_TSO_FRAME_MAX (65535 + RP_IT_L2_OVERHEAD) /* a guest TSO frame */
#define RP_IT_RING_SIZE 1024
#define RP_IT_BUF_SIZE 2048
#define PROG "ringport-iothread"
#define RP_IT_MAX_QP RP_IPC_MAX_QPAIRS
#define RP_IT_MAX_WORKERS RP_IT_MAX_QP
#define RP_IT_HANDSHAKE_MS 2000
#define RP_IT_IDLE_SPINS 4096    /* adaptive: empty polls before napping */
#define RP_IT_NAP_MIN_US 16
#define RP_IT_NAP_MAX_US 1024
#define RP_IT_SLEEP_MS 10        /* adaptive, with wake-ups: longest sleep */
/* A loop iteration longer than this was interrupted (the worker's CPU was
 * taken: preemption, a host that deschedules the vCPU); no iteration's
 * work comes near it (a full reap of a ring: a few microseconds). The
 * threshold OVS's pmd-perf-log calls an iteration suspicious at. */
#define RP_IT_INTERRUPTED_US 250

/* Why a packet was dropped; per queue, per direction. */
enum rp_it_drop {
	RP_IT_DROP_NO_SESSION, /* to-switch: no switch attached (link down) */
	RP_IT_DROP_NO_GUEST,   /* to-guest: no guest, or its queue is disabled */
	RP_IT_DROP_OFFLOAD,    /* offload metadata the other side cannot take */
	RP_IT_DROP_TOO_BIG,    /* more buffers than a frame may span */
	RP_IT_DROP_INVALID,    /* to-guest: a frame lost a segment to a rejection */
	RP_IT_DROP_STEER,      /* the steering program said drop */
	RP_IT_DROP_MAX,
};

struct rp_it_qstats {
	uint64_t pkts[RP_IPC_DIR_MAX];  /* to-switch: by ring; to-guest: by guest queue */
	uint64_t bytes[RP_IPC_DIR_MAX];
	uint64_t drops[RP_IPC_DIR_MAX][RP_IT_DROP_MAX];
	uint64_t csum_partial[RP_IPC_DIR_MAX]; /* packets with a checksum left to do */
	uint64_t gso[RP_IPC_DIR_MAX];          /* packets to be segmented */
};

/* One switch session: a region, the pools over it, the inboxes. */
struct rp_it_sess {
	struct rp_ipc_region *r;
	uint8_t *base;
	uint64_t id;
	uint16_t n_qpairs;
	uint32_t ring_size;
	bool offload;
	bool broken; /* a worker found a ring's metadata rewritten */
	bool wake_ok; /* the switch wakes wake[q] when bit q of *wake_word is set */
	int wake[RP_IT_MAX_QP];      /* our ends of the wake sockets: poll, drain */
	int wake_peer[RP_IT_MAX_QP]; /* the switch's ends, until the handshake */
	uint32_t *wake_word;
	int sock;
	struct rp_ipc_peer peer;
	/* TO_SWITCH: an rte_mempool of pinned external-buffer mbufs whose data
	 * buffers are the region's buffers (headers and shared info stay in
	 * private memory), and the tracker of what is lent. */
	struct rte_mempool *mp;
	struct rte_mbuf **mbuf_of; /* by TO_SWITCH buffer index */
	uint32_t ts_off, ts_shift, ts_n;
	/* Guest frames to the switch: longer ones, or ones spanning more
	 * buffers, are dropped whole (too_big) before they are staged. */
	uint32_t ts_max_frame; /* bytes, without TSO */
	uint32_t ts_max_segs;  /* within one ring's room and the ABI's limit */
	unsigned int ts_colors; /* frame placements (rp_ipc_color()) */
	uint32_t tg_off, tg_bytes; /* the TO_GUEST buffers' offset and extent */
	struct rp_ipc_pool *lent;
	struct rp_ipc_pool *held;  /* TO_GUEST buffers we hold */
	struct rte_ring *inbox[RP_IT_MAX_QP];
	/* Our private views of the shared rings (rp_ipc_ring.h); those of
	 * queue pair q are driven by its owner worker only. */
	struct rp_ipc_ring ring[RP_IT_MAX_QP][RP_IPC_RINGS_PER_QPAIR];
};

/* What a worker stages for one target between bursts. */
struct rp_it_stage {
	uint16_t n;
	struct rte_mbuf *m[RP_IT_STAGE];
};

/* A to-guest frame being put together from one ring's segments. */
struct rp_it_frag {
	struct rte_mbuf *head, *tail;
	struct rp_ipc_desc first; /* hash and offload state ride on it */
	uint16_t segs;
	bool bad; /* a segment was rejected: drop the frame at its end */
};

struct rp_it_worker {
	unsigned int id;
	uint32_t owned_q; /* bit q: queue pair q is ours (q % n_workers == id) */
	unsigned int lcore;
	int cpu;
	struct rp_iothread *it;
	struct rte_mempool *view_mp; /* to-guest: mbufs viewing region buffers */
	struct rte_mempool *drop_mp; /* guest TX while no switch is attached */
	struct rp_it_sess *cur;      /* the session our staging belongs to */
	struct rp_it_stage ts[RP_IT_MAX_QP]; /* to-switch, by (our) ring */
	struct rp_it_stage tg[RP_IT_MAX_QP]; /* to-guest, by guest queue */
	uint32_t tg_staged; /* bit g: tg[g] holds packets (the loop visits only those) */
	struct rp_it_frag frag[RP_IT_MAX_QP]; /* by (our) TO_GUEST ring */
	uint32_t outstanding[RP_IT_MAX_QP];   /* buffers borrowed from ring, not returned */
	uint16_t n_ret[RP_IT_MAX_QP];
	struct rp_ipc_desc *ret[RP_IT_MAX_QP]; /* returns waiting for free-ring room */
	unsigned int idle_polls;
	unsigned int nap_us;
	/* Views done with, going back to view_mp in bulk (worker.h). */
	unsigned int n_vfree;
	struct rte_mbuf *vfree[RP_IT_BURST * 2];
	/* Statistics: this worker writes them, the control thread reads. */
	struct rp_ipc_stats st;
	uint64_t busy_cycles[RP_IPC_DIR_MAX];
	uint64_t stage_pkts[RP_IPC_DIR_MAX];
	uint64_t busy_iters[RP_IPC_DIR_MAX];   /* iterations the stage had work */
	uint64_t full_cycles[RP_IPC_DIR_MAX];  /* ... of those with a full burst */
	uint64_t full_pkts[RP_IPC_DIR_MAX];
	/* ... of those longer than RP_IT_INTERRUPTED_US (included above) */
	uint64_t intr_cycles[RP_IPC_DIR_MAX];
	uint64_t intr_pkts[RP_IPC_DIR_MAX];
	uint64_t intr_iters[RP_IPC_DIR_MAX];
	uint64_t idle_cycles;
	uint64_t idle_iters; /* iterations that found and moved nothing */
	uint64_t naps;
	uint64_t stall_naps; /* adaptive: napped holding packets nothing could take */
	/* Packets and buffers moved on after they were taken: flushed,
	 * handed over, reaped, returned (private: busy-cycle accounting and
	 * stall detection). */
	uint64_t moved;
	uint64_t sleeps; /* slept on the kick and wake eventfds */
	uint64_t wakeups; /* ... and were woken by one */
	/* Locality: packets this worker passed to another worker (per
	 * direction), and packets it wrote to a guest RX virtqueue it does
	 * not own (rte_vhost then serialises on the virtqueue's lock). */
	uint64_t handoff_pkts[RP_IPC_DIR_MAX];
	uint64_t foreign_vq_writes;
	uint64_t steer_folded; /* a program's queue moved onto our own */
	struct rp_it_qstats q[RP_IT_MAX_QP];
	/* What the steering programs count (rp_steer_counters), per direction;
	 * written by this worker's program instances only. */
	uint64_t steer_cnt[RP_IPC_DIR_MAX][RP_STEER_COUNTERS];
	struct rp_steer_ctx ctx; /* the steering context, reused per packet */
} __rte_cache_aligned;

/* One direction's steering: a program (NULL: the built-in RSS), the
 * configuration it reads, one compiled instance per worker. Immutable
 * once published; replaced whole and retired with QSBR (steer.c). */
struct rp_it_steer {
	struct rp_prog *prog;
	struct rp_steer_cfg cfg;
	struct rp_prog_inst inst[]; /* by worker */
};

enum rp_it_poll { RP_IT_POLL_BUSY, RP_IT_POLL_ADAPTIVE };

enum rp_it_seccomp { RP_IT_SECCOMP_KILL, RP_IT_SECCOMP_LOG, RP_IT_SECCOMP_OFF };

struct rp_it_opts {
	const char *vhost_path;
	const char *port_path;
	const char *ctl_path;
	unsigned int queues;
	bool vhost_client;
	bool tso;
	enum rp_it_poll poll;
	int cpus[RP_IT_MAX_WORKERS];
	unsigned int n_cpus;
	const char *steer_prog[RP_IPC_DIR_MAX];
	uint16_t mtu;
	enum rp_it_seccomp seccomp;
	bool shared_queues; /* programs may steer to other workers' queues */
};

/* The guest's vhost-user device. rte_vhost's event thread writes every
 * field (vhost.c); others read them through rp_it_dev_running(),
 * rp_it_dev_gen() and RP_IT_DEV_READ() below. */
struct rp_it_dev {
	int vid;            /* -1: none; read while running was seen true */
	bool running;       /* workers may use vid (released after vid, features) */
	uint32_t vrings;    /* enabled vrings, bit per vring */
	uint64_t features;  /* negotiated; read while running was seen true */
	uint32_t n_rxq;     /* guest RX queues enabled from 0 up, for steering */
	uint64_t connects;  /* the control thread reads it (status) */
	uint64_t gen;       /* bumped when the device starts or stops */
	/* the control thread reads these (relaxed): */
	uint64_t iotlb_whole; /* IOTLB invalidations read as "all from iova" */
	uint64_t iotlb_ring_unmaps; /* rings unmapped by one: still enabled */
};

/* Who the iothread runs as, and who may use the control socket. */
struct rp_it_ids {
	uid_t run_uid; /* --user; (uid_t)-1: stay who we are */
	gid_t run_gid;
	gid_t ctl_group; /* --ctl-group */
	bool ctl_group_set;
};

/**
 * The command line (opts.c; no EAL) into @o and @ids; --cpus must name
 * CPUs in @allowed (default: the last of them). 0; 1 after printing
 * --help; -1 after printing the bad option and value to stderr.
 */
int rp_it_parse_args(int argc, char **argv, struct rp_it_opts *o, struct rp_it_ids *ids,
	const cpu_set_t *allowed);

/* The control socket (ctlsock.c), on the control thread. */
#define RP_CTL_CLIENTS 16        /* requests in progress at once */
#define RP_CTL_DEADLINE_MS 1000  /* from connect to a whole request */

struct rp_ctl_client {
	int fd; /* -1: free slot */
	uint64_t deadline; /* CLOCK_MONOTONIC ms */
	bool refused;      /* SO_PEERCRED said no: the answer is why */
	char why[128];
	size_t len;
	char req[RP_CTL_REQ_MAX];
};

struct rp_it_ctl {
	int lfd;
	struct rp_it_ids ids;
	unsigned int n_clients;
	uint64_t refused;  /* SO_PEERCRED said no */
	uint64_t timeouts; /* no whole request before the deadline */
	uint64_t busy;     /* every slot taken */
	uint64_t bad;      /* requests refused as malformed */
	struct rp_ctl_client cl[RP_CTL_CLIENTS];
};

/* epoll tags of the control thread's event loop */
enum {
	RP_IT_EV_SIGNAL = 0,
	RP_IT_EV_PORT,
	RP_IT_EV_CTL,
	RP_IT_EV_SESS,
	RP_IT_EV_CTL_CLIENT = 16, /* + client slot */
};

/*
 * The process. Who writes what:
 *  - set before the workers start, read-only after: o, ids, mac, qsbr,
 *    n_workers, w (each worker then owns its struct rp_it_worker: see
 *    there for what the control thread may read);
 *  - published by the control thread, read by workers through
 *    rp_it_sess_get() and rp_it_steer_get(), retired with QSBR: sess
 *    (sess.c), steer (steer.c);
 *  - dev: rte_vhost's event thread (vhost.c), read through the
 *    rp_it_dev_*() accessors and RP_IT_DEV_READ();
 *  - stop: set once by the control thread (rp_it_stop());
 *  - everything else: the control thread only.
 */
struct rp_iothread {
	struct rp_it_opts o;
	struct rp_it_ids ids;
	struct rp_it_ctl ctl;
	int port_lfd;
	uint8_t mac[6];
	struct rp_it_sess *sess; /* NULL: link down */
	struct rp_it_dev dev;
	struct rp_it_steer *steer[RP_IPC_DIR_MAX];
	struct rte_rcu_qsbr *qsbr;
	bool stop;
	unsigned int n_workers;
	uint64_t intr_tsc; /* RP_IT_INTERRUPTED_US in TSC cycles */
	struct rp_it_worker *w;
	/* control thread only */
	uint64_t sessions, sess_refused;
	struct rp_ipc_stats hs_st; /* handshake refusals */
	char last_refusal[128];
	uint64_t steer_loads[RP_IPC_DIR_MAX], rss_sets[RP_IPC_DIR_MAX], steer_refused[RP_IPC_DIR_MAX];
	char steer_last_refusal[RP_IPC_DIR_MAX][256];
};

/* ---- Reading what another thread publishes ---- */

/* The switch session a worker uses until its next quiescent report (NULL:
 * link down), or the control thread's current one. */
static inline struct rp_it_sess *
rp_it_sess_get(const struct rp_iothread *it)
{
	return __atomic_load_n(&it->sess, __ATOMIC_SEQ_CST);
}

/* sess.c: publish a new session, or NULL before retiring the old one. */
static inline void
rp_it_sess_publish(struct rp_iothread *it, struct rp_it_sess *s)
{
	__atomic_store_n(&it->sess, s, __ATOMIC_SEQ_CST);
}

/* The guest device may be used: after true, dev.vid and dev.features are
 * the running device's (they were written before it was released). */
static inline bool
rp_it_dev_running(const struct rp_iothread *it)
{
	return __atomic_load_n(&it->dev.running, __ATOMIC_ACQUIRE);
}

/* Changes whenever the device starts or stops: a worker that slept
 * compares it to tell the device it slept on from a new one. */
static inline uint64_t
rp_it_dev_gen(const struct rp_iothread *it)
{
	return __atomic_load_n(&it->dev.gen, __ATOMIC_SEQ_CST);
}

/* A relaxed read of a device field with no ordering of its own: vrings
 * (enabled vrings, a bit each: guest RX queue g is vring 2g, TX 2g+1),
 * n_rxq (guest RX queues enabled from 0 up; steering's choice is bounded by
 * it), and the IOTLB counters the control thread shows. */
#define RP_IT_DEV_READ(it, field) __atomic_load_n(&(it)->dev.field, __ATOMIC_RELAXED)

/* Workers leave their loop; the control thread then joins them. */
static inline void
rp_it_stop(struct rp_iothread *it)
{
	__atomic_store_n(&it->stop, true, __ATOMIC_RELAXED);
}

static inline bool
rp_it_stopping(const struct rp_iothread *it)
{
	return __atomic_load_n(&it->stop, __ATOMIC_RELAXED);
}

/* The steering state a worker uses for one burst (between quiescent
 * reports). Pairs with the release store in steer.c's steer_swap(). */
static inline const struct rp_it_steer *
rp_it_steer_get(const struct rp_iothread *it, unsigned int dir)
{
	return __atomic_load_n(&it->steer[dir], __ATOMIC_ACQUIRE);
}

static inline unsigned int
rp_it_owner(const struct rp_iothread *it, unsigned int q)
{
	return q % it->n_workers;
}

/* Single-writer statistics, read by the control thread. */
#define RP_IT_STAT_ADD(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)
#define RP_IT_STAT_READ(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* confine.c: drop what the iothread no longer needs (see there). */
int rp_it_confine(const struct rp_it_opts *o, const struct rp_it_ids *ids, char *err,
	size_t errlen);

/* ctlsock.c */
/* Why one of our sockets could not be made at its path
 * (rp_ipc_sock_clear_stale(), rp_ipc_listen()). */
static inline const char *
rp_it_sock_why(int rc)
{
	switch (rc) {
	case -EADDRINUSE:
		return "another process listens on it (an iothread already serving this path?)";
	case -EEXIST:
		return "exists and is not a socket (left alone)";
	default:
		return strerror(-rc);
	}
}

int rp_it_ctl_open(struct rp_it_ctl *c, const char *path, const struct rp_it_ids *ids);
void rp_it_ctl_accept(struct rp_it_ctl *c, int ep);
void rp_it_ctl_event(struct rp_iothread *it, struct rp_it_ctl *c, unsigned int i);
void rp_it_ctl_expire(struct rp_it_ctl *c);
int rp_it_ctl_next_ms(const struct rp_it_ctl *c, int dflt);
void rp_it_ctl_close(struct rp_it_ctl *c, const char *path);

/* ctl.c: the reply to the request in @buf (malloc'ed JSON; NULL if out of
 * memory); a malformed request counts in *@bad. */
char *rp_it_ctl_dispatch(struct rp_iothread *it, const char *buf, size_t len, uint64_t *bad);

/* worker.c */
int rp_it_worker_main(void *arg);
int rp_it_workers_init(struct rp_iothread *it);

/* vhost.c */
int rp_it_vhost_start(struct rp_iothread *it);
/* rte_vhost's IOTLB counters of @vring (0 and -ENODEV without a guest;
 * the last values read while its rings are unmapped); the control
 * thread's, safe against the guest going away. */
int rp_it_vhost_iotlb(uint16_t vring, uint64_t *hits, uint64_t *misses);
void rp_it_vhost_stop(struct rp_iothread *it);
/* Guest notifications (kicks) of @vring on or off, as
 * rte_vhost_enable_guest_notification() (-ENXIO where it failed: no such
 * vring, or its rings are not mapped now), and the used-ring fields that
 * wrote (flags, or avail_event with EVENT_IDX) marked in the dirty log:
 * rte_vhost does not log them, and a migrating guest would get them stale. */
int rp_it_vhost_notify(int vid, uint16_t vring, int on);

/* sess.c */
struct rp_it_sess *rp_it_sess_open(struct rp_iothread *it, int sock);
void rp_it_sess_close(struct rp_iothread *it, struct rp_it_sess *s);

/* steer.c (control thread) */
int rp_it_steer_init(struct rp_iothread *it);
void rp_it_steer_fini(struct rp_iothread *it);
int rp_it_steer_load(struct rp_iothread *it, const char *dir, const char *path, char *err,
	size_t errlen);
/* steer rss: @r's direction, and those of its key, table, types and user
 * that are not NULL, in one swap per direction (all or nothing). */
int rp_it_steer_rss_set(struct rp_iothread *it, const struct rp_ctl_req *r, char *err,
	size_t errlen);
struct json_t *rp_it_steer_json(struct rp_iothread *it);

/* ctl.c */
char *rp_it_status_json(struct rp_iothread *it);

#endif /* RP_IOTHREAD_H */
