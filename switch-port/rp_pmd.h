/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ringport private structures, shared by the ethdev ops
 * (rte_eth_ringport.c), the session thread (rp_pmd_sess.c) and the data
 * path (rp_pmd_rx.c, rp_pmd_tx.c).
 *
 * Threads: rx/tx bursts run on OVS PMD threads; the session (connect,
 * handshake, peer loss) is handled on the port's own session thread,
 * never in a burst and never on an OVS thread (main, PMD, EAL interrupt):
 * nothing a peer does can block those. A burst reaches the session only
 * through rp_port.sess, read once per burst inside a "burst section" (see
 * rp_queue_enter/exit): a retired session is freed only once every queue
 * has left the section it may have been read in, so no OVS thread ever
 * touches an unmapped region.
 *
 * Errors: functions return 0 (or a count) and a negative errno, as the
 * ethdev ops must; the reason goes to the PMD's log (PMD_LOG, naming the
 * port) where it happens. What a peer does wrong is counted (the rejected_*
 * xstats, the per-queue drop counters) and never fails an OVS call: the
 * session ends and the port waits for the next one. Nothing here exits,
 * aborts or asserts in OVS's process.
 */
#ifndef RP_PMD_H
#define RP_PMD_H

#include <pthread.h>
#include <stdint.h>

#include <ethdev_driver.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "rp_ipc.h"

#define RP_PMD_MAX_RXQ RP_IPC_MAX_QPAIRS
#define RP_PMD_MAX_TXQ 128
#define RP_PMD_BURST 32
#define RP_PMD_RX_DESCS RP_IPC_MAX_FRAME_DESCS /* descriptors one rx call peeks */
#define RP_PMD_TX_SEGS 128  /* buffers one tx call fills: a 64 KB TSO frame is 33 */
#define RP_PMD_MAX_MTU 9000 /* jumbo frames span buffers (RP_IPC_F_MULTISEG) */
/* Received GSO frames (up to 64 KB, across many region buffers) are copied
 * into one buffer of a per-port pool, made when OVS enables TSO: OVS 3.1
 * takes no chained mbufs, and its own mbufs are sized from the MTU. */
#define RP_PMD_BIG_LEN UINT16_MAX /* an mbuf's buf_len is 16 bits */
#define RP_PMD_BIG_BUFS 128       /* per port: GSO frames OVS may hold at once */
/* Tx mbuf flags that need rp_ipc_ol_from_mbuf(). */
#define RP_PMD_TX_OL_FLAGS (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | \
	RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_RX_L4_CKSUM_MASK)
/* Descriptor flags that need rp_ipc_ol_to_mbuf(). */
#define RP_PMD_RX_OL_FLAGS (RP_IPC_DESC_F_CSUM_PARTIAL | RP_IPC_DESC_F_CSUM_VALID | \
	RP_IPC_DESC_GSO_MASK)

extern int rp_pmd_logtype;
#define PMD_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, rp_pmd_logtype, "net_ringport: " fmt "\n", ##__VA_ARGS__)

/*
 * Freed rx mbufs, per lcore. The extbuf free callback runs on whatever
 * thread frees the mbuf (in OVS, nearly always the PMD thread that received
 * it): it stacks the buffer here, with no atomic operation, and flushes the
 * stack to the owning rings' free_back in one bulk enqueue when it is full
 * or when that lcore next runs a burst of the port. `freed` counts mbufs
 * this lcore has finished freeing; each callback's last access to the
 * session is its release store of it, so once the counts add up to what
 * rx attached, no callback can touch the session any more.
 */
#define RP_PMD_FREE_CACHE 32
struct rp_free_cache {
	uint64_t freed;                /* writer: the lcore; readers: acquire */
	uint32_t n;
	uint32_t off[RP_PMD_FREE_CACHE];
} __rte_cache_aligned;

struct rp_ring_ctr {
	uint64_t attached;             /* writer: the ring's rx queue (release) */
} __rte_cache_aligned;

/* One session: a connection, its region, and our view of its buffers. */
struct rp_sess {
	struct rp_ipc_region *r;
	uint8_t *base;                 /* the region's mapping */
	int sock;
	uint16_t n_qpairs;
	struct rp_ipc_pool *own;       /* TO_GUEST pool: we lend it */
	struct rp_ipc_pool *borrowed;  /* TO_SWITCH pool: the peer's */
	struct rte_mbuf_ext_shared_info *shinfo; /* per TO_SWITCH buffer, private */
	uint8_t *origin;               /* per TO_SWITCH buffer: ring it came on */
	uint32_t bufs_off;             /* TO_SWITCH pool start */
	uint32_t buf_shift;
	uint32_t max_frame;            /* tx: longest packet the session takes */
	bool multiseg;                 /* RP_IPC_F_MULTISEG in force */
	bool offload;                  /* RP_IPC_F_OFFLOAD in force */
	/* Freed mbufs come back here from any thread (MP); the rx queue that
	 * owns ring q drains it into the shared free ring (SP). */
	struct rte_ring *free_back[RP_IPC_MAX_QPAIRS];
	rte_spinlock_t tx_lock[RP_IPC_MAX_QPAIRS]; /* tx bursts and the idle reap */
	/* RTE_MAX_LCORE caches, then one for non-EAL threads (any_lock). */
	struct rp_free_cache *lc;
	rte_spinlock_t any_lock;
	struct rp_ring_ctr ctr[RP_IPC_MAX_QPAIRS];
	/* Our private views of the shared rings (rp_ipc_ring.h): TO_SWITCH and
	 * TO_SWITCH_FREE of ring q are the rx queue's that polls q; TO_GUEST
	 * and TO_GUEST_FREE are under tx_lock[q]. */
	struct rp_ipc_ring ring[RP_IPC_MAX_QPAIRS][RP_IPC_RINGS_PER_QPAIR];
	/* The iothread's wake-up sockets, one per queue pair (0: none).
	 * Sent to (rp_ipc_wake: MSG_DONTWAIT, never blocks) after a tx burst
	 * to ring q while bit q of the header's wake word says its worker
	 * sleeps (adaptive polling). */
	unsigned int n_wake;
	int wake[RP_IPC_MAX_QPAIRS];
	const uint32_t *wake_word;
	bool dead;                     /* peer gone: stop returning buffers */
	bool broken;                   /* data path saw the peer corrupt a ring */
	struct rp_sess *next_retired;
	uint64_t retire_seq[RP_PMD_MAX_RXQ + RP_PMD_MAX_TXQ];
};

/* Per-queue counters; one writer (the queue's thread). */
enum rp_qstat {
	RP_QS_PKTS,
	RP_QS_BYTES,
	RP_QS_INVALID,   /* descriptors rejected (see rejects) */
	RP_QS_RING_FULL, /* tx: burst refused whole, ring or pool full */
	RP_QS_TOO_BIG,   /* tx: packet larger than a buffer */
	RP_QS_NO_MBUF,   /* rx: mempool empty */
	RP_QS_BAD_OFFLOAD, /* offload metadata that does not fit the packet */
	RP_QS_WAKE_FAIL, /* tx: the wake-up socket refused (not EAGAIN: full is woken) */
	RP_QS_MAX,
};

struct rp_queue {
	struct rp_port *port;
	uint16_t qid;
	bool is_tx;
	/* Burst section counter: odd while inside a burst. */
	uint64_t seq;
	struct rte_mempool *mp; /* rx only */
	uint64_t st[RP_QS_MAX];
	struct rp_ipc_stats rej;
} __rte_cache_aligned;

struct rp_port {
	char path[108];
	char name[RTE_DEV_NAME_MAX_LEN];
	uint16_t port_id;
	struct rte_ether_addr mac;
	struct rte_ether_addr *dev_mac; /* dev->data->mac_addrs */
	struct rp_sess *sess;       /* current session or NULL; atomic */
	struct rp_sess *retired;    /* session thread only */
	bool started;
	bool zerocopy;              /* devarg zerocopy=1: rx attaches region buffers */
	/* The session thread: connects, hands shakes, watches the peer,
	 * reaps; dev_close stops it (stop, then a write to stop_fd). */
	pthread_t thread;
	bool thread_running;
	bool stop;
	int stop_fd;
	uint32_t backoff_ms;        /* until the next attempt, after a failure */
	uint64_t reconnects;
	uint64_t connect_failures;
	struct rp_ipc_stats sess_rej; /* refused by the session thread: handshakes,
				      * headers over max_mem, the idle reap */
	uint64_t max_mem;           /* devarg max_mem: most one session may take */
	enum rp_ipc_reject last_refusal; /* the last handshake refusal logged */
	uint64_t last_refusal_ms;   /* when it was logged (CLOCK_MONOTONIC) */
	uint16_t n_rxq, n_txq;
	unsigned int ol_conf;       /* RP_IPC_OL_CONF_*: Tx offloads OVS enabled */
	struct rte_mempool *big;    /* RP_PMD_BIG_LEN buffers, with TSO; else NULL */
	struct rp_queue *rxq[RP_PMD_MAX_RXQ];
	struct rp_queue *txq[RP_PMD_MAX_TXQ];
};

static inline void
rp_queue_enter(struct rp_queue *q)
{
	/* Odd: inside. The seq_cst store orders it before our load of
	 * port->sess, pairing with the session thread's store of sess = NULL
	 * followed by its load of seq (both seq_cst). */
	__atomic_store_n(&q->seq, q->seq + 1, __ATOMIC_SEQ_CST);
}

static inline void
rp_queue_exit(struct rp_queue *q)
{
	/* Even: out. Release: our accesses to the session happen before. */
	__atomic_store_n(&q->seq, q->seq + 1, __ATOMIC_RELEASE);
}

/* ---- the data path (rp_pmd_rx.c, rp_pmd_tx.c): queue threads, and the
 * mbuf free callback on any thread ---- */

/* The peer broke a ring: no more traffic on the session, which the
 * session thread ends (counted as ring_corrupt). */
static inline void
rp_sess_corrupt(struct rp_ipc_stats *rej, struct rp_sess *s)
{
	rej->rejects[RP_IPC_REJ_RING]++;
	__atomic_store_n(&s->broken, true, __ATOMIC_RELEASE);
}

uint16_t rp_pmd_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t n);
uint16_t rp_pmd_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t n);
/** Session thread: take back returns on rings no tx burst is using. */
void rp_pmd_reap_idle(struct rp_sess *s, struct rp_ipc_stats *rej);
/** Zero-copy rx: hand the buffers in @c back toward their rings' free_back
 * (the rx burst and the free callback's path; the session thread flushes
 * what non-EAL threads freed). */
void rp_sess_flush_cache(struct rp_sess *s, struct rp_free_cache *c);

/* At a burst's start: hand on what this lcore freed since. */
static inline void
rp_sess_flush_mine(struct rp_sess *s)
{
	unsigned int lc = rte_lcore_id();

	if (lc < RTE_MAX_LCORE && s->lc[lc].n != 0)
		rp_sess_flush_cache(s, &s->lc[lc]);
}
void rp_pmd_extbuf_free(void *addr, void *opaque);
struct rte_mempool *rp_pmd_big_pool_create(const struct rp_port *port);

/* ---- sessions (rp_pmd_sess.c): the port's session thread, and
 * dev_start/dev_close ---- */
int rp_sess_thread_start(struct rte_eth_dev *dev);
/** Stop the session thread; after it, nothing but the caller touches
 * port->sess or port->retired. */
void rp_sess_thread_stop(struct rp_port *port);
/** End the session (if any): it is retired, the link goes down. */
void rp_sess_close(struct rp_port *port, const char *reason);
/** Free retired sessions no queue can still see; @force: the port is going,
 * sessions with mbufs still out become orphans, freed by an alarm. */
void rp_sess_reap_retired(struct rp_port *port, bool force);
void rp_sess_free(struct rp_sess *s);
/** No rx mbuf of @s is out any more (its free callbacks are all done). */
bool rp_sess_idle(const struct rp_sess *s);

/* ---- ethdev ops (rte_eth_ringport.c) ---- */
int rp_pmd_link_update(struct rte_eth_dev *dev, int wait);

#endif /* RP_PMD_H */
