/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_ipc.h: the ringport port library. Linked (static, PIC) into the
 * switch-side PMD and into ringport-iothread. Nothing here needs
 * rte_eal_init(): rings are rte_ring_init()ed in place and driven with the
 * inline *_elem API.
 *
 * Conventions: int functions return 0 or a negative errno; constructors
 * return NULL and set errno; every refusal also fills a caller buffer with a
 * reason naming the bad value, and bumps a counter in struct rp_ipc_stats.
 * The library owns no threads, never exits and never writes to stderr: set
 * a log callback with rp_ipc_set_log().
 */
#ifndef RP_IPC_H
#define RP_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "rp_ipc_abi.h"
#include "rp_ipc_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- logging ---------------------------------------------------------- */
enum rp_ipc_log_level { RP_IPC_LOG_ERR, RP_IPC_LOG_WARN, RP_IPC_LOG_INFO };
typedef void (*rp_ipc_log_fn)(enum rp_ipc_log_level level, const char *msg);
/** Route library messages (default: dropped). Not thread-safe; call early. */
void rp_ipc_set_log(rp_ipc_log_fn fn);

/* ---- rejections and their counters ------------------------------------ */
/** Why a message, header or descriptor was refused. */
enum rp_ipc_reject {
	RP_IPC_REJ_NONE = 0,
	/* handshake and header */
	RP_IPC_REJ_TRUNCATED,  /**< message shorter than RP_IPC_MSG_SIZE */
	RP_IPC_REJ_OVERSIZED,  /**< message longer than RP_IPC_MSG_SIZE */
	RP_IPC_REJ_COOKIE,     /**< wrong cookie */
	RP_IPC_REJ_VERSION,    /**< no common ABI major version */
	RP_IPC_REJ_TYPE,       /**< unknown or unexpected message type */
	RP_IPC_REJ_FDS,        /**< missing, extra or unreadable fds */
	RP_IPC_REJ_FIELD,      /**< a message field out of range */
	RP_IPC_REJ_HEADER,     /**< region header field invalid */
	RP_IPC_REJ_REGION_SIZE, /**< region fd smaller or larger than declared */
	RP_IPC_REJ_PEER,       /**< the peer sent DISCONNECT */
	RP_IPC_REJ_IO,         /**< socket error, EOF or time-out */
	/* descriptors */
	RP_IPC_REJ_DESC_RANGE,   /**< offset outside any buffer pool */
	RP_IPC_REJ_DESC_FOREIGN, /**< buffer of the wrong pool */
	RP_IPC_REJ_DESC_ALIGN,   /**< returned offset not a buffer start */
	RP_IPC_REJ_DESC_LEN,     /**< zero length, or data past buffer end */
	RP_IPC_REJ_DESC_FLAGS,   /**< reserved flag bits or fields set */
	RP_IPC_REJ_DESC_DUP,     /**< buffer already held / not lent */
	RP_IPC_REJ_RING,         /**< ring metadata changed under us */
	RP_IPC_REJ_MAX,
};

/** Counters, one per reason. Owned by the caller; one writer per struct. */
struct rp_ipc_stats {
	uint64_t rejects[RP_IPC_REJ_MAX];
};

/** Short stable name of a reason ("desc_dup"), for logs and xstats. */
const char *rp_ipc_reject_name(enum rp_ipc_reject r);

/* ---- messages (pure: no I/O) ------------------------------------------ */
/**
 * Check one received message. @buf/@len is what recvmsg() returned (len
 * may exceed RP_IPC_MSG_SIZE if the caller saw MSG_TRUNC), @n_fds the fds
 * that came with it. On success copies it to @out (strings NUL-terminated).
 * @return RP_IPC_REJ_NONE, or the reason with @why filled in.
 */
enum rp_ipc_reject rp_ipc_msg_parse(const void *buf, size_t len, unsigned int n_fds,
	struct rp_ipc_msg *out, char *why, size_t why_size);

/** Fill the common header and zero the body. */
void rp_ipc_msg_init(struct rp_ipc_msg *m, enum rp_ipc_msg_type type, uint8_t n_fds);

/* ---- region geometry and header validation (pure) --------------------- */
/** What a server asks for. buf_size must be a power of two. */
struct rp_ipc_region_params {
	uint16_t n_qpairs;
	uint32_t ring_size;
	uint32_t buf_size;
	uint32_t n_bufs[RP_IPC_DIR_MAX];
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t features;
};

/** A validated layout: private copy of every geometry field. */
struct rp_ipc_layout {
	uint16_t n_qpairs;
	uint32_t ring_size;
	uint32_t buf_shift;
	uint32_t n_bufs[RP_IPC_DIR_MAX];
	uint64_t rings_off;
	uint64_t ring_stride;
	uint64_t bufs_off[RP_IPC_DIR_MAX];
	uint64_t size;      /**< bytes needed, before page rounding */
	uint32_t features;
	uint8_t mac[6];
	uint16_t mtu;
	uint16_t version;
};

/**
 * Compute the layout for @p. Fills @lay; @return 0, or -EINVAL with @why
 * naming the parameter that is out of range.
 */
int rp_ipc_layout_compute(const struct rp_ipc_region_params *p, struct rp_ipc_layout *lay,
	char *why, size_t why_size);

/**
 * Validate a region header copied out of a region whose fd is @fd_size
 * bytes. Every field is checked, every offset recomputed from the geometry
 * and compared. @return RP_IPC_REJ_NONE and @lay filled, or the reason.
 */
enum rp_ipc_reject rp_ipc_hdr_validate(const struct rp_ipc_hdr *h, uint64_t fd_size,
	struct rp_ipc_layout *lay, char *why, size_t why_size);

/**
 * Write the header for layout @l in a region of @region_size bytes (what
 * the server puts at offset 0; the live fields are zeroed).
 */
void rp_ipc_hdr_write(const struct rp_ipc_layout *l, uint64_t region_size, struct rp_ipc_hdr *h);

/* ---- regions ----------------------------------------------------------- */
struct rp_ipc_region;

/**
 * Server: create a fresh region: memfd (MFD_HUGETLB, else 4 KiB pages with
 * a warning), sized, sealed against shrink/grow, header written, rings
 * initialised. Refcount 1. NULL and errno on failure (EINVAL: @p out of
 * range, why filled; ENOMEM, or the errno of memfd_create/mmap).
 */
struct rp_ipc_region *rp_ipc_region_create(const struct rp_ipc_region_params *p, char *why,
	size_t why_size);

/**
 * Client: validate the header of region @fd (read with pread, not mapped),
 * check the seals, then map it and check every ring's metadata. The fd is
 * not consumed. NULL and errno (EPROTO: refused, *rej and why filled).
 */
struct rp_ipc_region *rp_ipc_region_attach(int fd, enum rp_ipc_reject *rej, char *why,
	size_t why_size);

/** Take a reference (e.g. per external-buffer mbuf batch). */
void rp_ipc_region_get(struct rp_ipc_region *r);
/** Drop a reference; the last one unmaps and closes. NULL is fine. */
void rp_ipc_region_put(struct rp_ipc_region *r);

int rp_ipc_region_fd(const struct rp_ipc_region *r);
const struct rp_ipc_layout *rp_ipc_region_layout(const struct rp_ipc_region *r);
/** True when the region lives in 2 MB hugepages. */
bool rp_ipc_region_hugetlb(const struct rp_ipc_region *r);
/** The shared header (live fields only may be used: state, wake). */
struct rp_ipc_hdr *rp_ipc_region_hdr(const struct rp_ipc_region *r);
struct rte_ring *rp_ipc_region_ring(const struct rp_ipc_region *r, unsigned int qp,
	enum rp_ipc_ring_kind kind);
/** Base address of the mapping (offsets in descriptors are from here). */
uint8_t *rp_ipc_region_base(const struct rp_ipc_region *r);

/**
 * Set up @q, this side's private view of ring @kind of queue pair @qp
 * (rp_ipc_ring.h): @server says which side we are, and so whether we
 * produce or consume on it. Geometry comes from our validated layout,
 * never from the ring's shared header.
 */
void rp_ipc_region_ring_view(const struct rp_ipc_region *r, unsigned int qp,
	enum rp_ipc_ring_kind kind, bool server, struct rp_ipc_ring *q);

/**
 * FNV-1a of the string @s: the seed of the locally administered MACs both
 * sides derive from their socket path (stable across restarts).
 */
static inline uint32_t
rp_ipc_path_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/*
 * Frame placement. Not ABI: a frame may start anywhere in its buffer. But
 * buffers are a power of two apart, so frames that all start at their
 * buffer's start put their first line, the one every reader touches, in a
 * few cache sets: 2 KB apart, 2 of an L1D's 64 and 1/32 of an L2's, and
 * with more rings in flight more of them compete for those sets (the
 * switch's cycles per packet grew with the queue count: perf/README.md,
 * "Frame placement"). Writers start a frame rp_ipc_color() bytes into its
 * buffer where it fits: (buffer index mod @n) cache lines.
 */
#define RP_IPC_COLORS 7 /* odd: mod 8 would be a function of address bits (11-13
			  * with 2 KB buffers) that pick the set anyway */
#define RP_IPC_COLOR_UNIT 64 /* a cache line */

/** Where a frame starts in the buffer at region offset @off (buffers of
 * 1 << @shift bytes, at offsets that are multiples of it), with @n colors. */
static inline uint32_t
rp_ipc_color(uint32_t off, uint32_t shift, unsigned int n)
{
	return (off >> shift) % n * RP_IPC_COLOR_UNIT;
}

/** True when side @server produces on rings of @kind. */
static inline bool
rp_ipc_ring_is_producer(enum rp_ipc_ring_kind kind, bool server)
{
	bool server_produces = kind == RP_IPC_RING_TO_SWITCH || kind == RP_IPC_RING_TO_GUEST_FREE;

	return server == server_produces;
}

/* ---- buffer pools and ownership tracking ------------------------------- */
/**
 * One side's view of one pool. The owner (lender) allocates and lends;
 * every buffer it lends must come back exactly once. The borrower records
 * which peer buffers it holds, so a duplicate delivery is caught. Both use
 * one private byte per buffer (never shared memory: the peer can't forge it).
 *
 * The free list (owner only) is a private MP/MC rte_ring, so several
 * threads may alloc/free. The checks (rp_ipc_pool_return, rp_ipc_pool_borrow)
 * are for the single consumer of the ring the descriptor came from.
 */
struct rp_ipc_pool;

/** @owner: build the free list, full. NULL and errno (ENOMEM). */
struct rp_ipc_pool *rp_ipc_pool_create(const struct rp_ipc_region *r, enum rp_ipc_dir dir,
	bool owner);
/**
 * An owner whose free list lives elsewhere (the iothread's rte_mempool
 * over the TO_SWITCH buffers): lend and take-back tracking only;
 * rp_ipc_pool_alloc/put/return/return_burst must not be used on it.
 */
struct rp_ipc_pool *rp_ipc_pool_create_tracker(const struct rp_ipc_region *r,
	enum rp_ipc_dir dir);
void rp_ipc_pool_free(struct rp_ipc_pool *p);

/** Owner: take up to @n buffers; returns how many. @offs get buffer starts. */
unsigned int rp_ipc_pool_alloc(struct rp_ipc_pool *p, uint32_t *offs, unsigned int n);
/** Owner: put back buffers it allocated and never lent. */
void rp_ipc_pool_put(struct rp_ipc_pool *p, const uint32_t *offs, unsigned int n);
/** Owner: mark a buffer lent to the peer (call before publishing it). */
void rp_ipc_pool_lend(struct rp_ipc_pool *p, uint32_t off);
/**
 * Owner: the peer returned @d on a free ring. Checks it is a buffer start
 * of this pool that was lent, marks it free and puts it on the free list.
 */
enum rp_ipc_reject rp_ipc_pool_return(struct rp_ipc_pool *p, const struct rp_ipc_desc *d);
/**
 * Borrower: the peer lent @d on a data ring. Checks range, length, flags
 * and that we don't hold it already, then marks it held.
 */
enum rp_ipc_reject rp_ipc_pool_borrow(struct rp_ipc_pool *p, const struct rp_ipc_desc *d);
/** Most descriptors the *_burst calls handle in one internal step. */
#define RP_IPC_POOL_MAX_BURST 64

/**
 * Owner: rp_ipc_pool_return() for @n descriptors, with one free-list
 * operation. Rejected ones are counted in @st. @return @n.
 */
unsigned int rp_ipc_pool_return_burst(struct rp_ipc_pool *p, const struct rp_ipc_desc *d,
	unsigned int n, struct rp_ipc_stats *st);
/**
 * Owner (tracker): the checks of rp_ipc_pool_return_burst(), but the
 * accepted buffer starts go to @offs, in order, for the caller to put on
 * its own free list. Rejected ones are counted in @st.
 * @return how many were accepted.
 */
unsigned int rp_ipc_pool_take_back_burst(struct rp_ipc_pool *p, const struct rp_ipc_desc *d,
	unsigned int n, struct rp_ipc_stats *st, uint32_t *offs);
/**
 * Borrower: rp_ipc_pool_borrow() for @n descriptors. The accepted ones are
 * compacted to the front of @d, in order; rejected ones are counted in @st.
 * A buffer twice in one burst is caught. @return how many were accepted.
 */
unsigned int rp_ipc_pool_borrow_burst(struct rp_ipc_pool *p, struct rp_ipc_desc *d,
	unsigned int n, struct rp_ipc_stats *st);
/** Borrower: we are about to return buffer @off (any offset inside it). */
void rp_ipc_pool_unborrow(struct rp_ipc_pool *p, uint32_t off);
/**
 * Owner, at session end: every lent buffer comes home.
 * @return the number reclaimed.
 */
unsigned int rp_ipc_pool_reclaim(struct rp_ipc_pool *p);
/** rp_ipc_pool_reclaim(), calling @fn (if not NULL) with each buffer start
 * reclaimed: how a tracker's owner frees what the peer kept. */
unsigned int rp_ipc_pool_reclaim_each(struct rp_ipc_pool *p,
	void (*fn)(uint32_t off, void *arg), void *arg);
/** Buffers on the free list (owner), not lent (tracker) or held
 * (borrower); trackers and borrowers scan, not for the fast path. */
unsigned int rp_ipc_pool_count(const struct rp_ipc_pool *p);
unsigned int rp_ipc_pool_size(const struct rp_ipc_pool *p);
/** Buffer start of the buffer holding @off (no range check). */
uint32_t rp_ipc_pool_buf_start(const struct rp_ipc_pool *p, uint32_t off);

/* ---- the port socket --------------------------------------------------- */
/**
 * A UNIX socket of @type (SOCK_STREAM, SOCK_SEQPACKET) left at @path by a
 * process that died (nobody listens: connect() is refused) is removed, so a
 * restarted server can bind there again. 0: @path is free now; -EADDRINUSE:
 * a process listens on it; -EEXIST: it is not a socket (never removed);
 * another negative errno otherwise.
 */
int rp_ipc_sock_clear_stale(const char *path, int type);
/** Server: SOCK_SEQPACKET listener at @path (0600); a stale socket there
 * is replaced; -EADDRINUSE if a live one, -EEXIST if not a socket. */
int rp_ipc_listen(const char *path);
/** Client: connect to @path; returns the fd or a negative errno. */
int rp_ipc_connect(const char *path);
/**
 * Client: rp_ipc_connect() on a non-blocking socket, which never waits for
 * the listener: -EAGAIN when its backlog is full (it does not accept).
 */
int rp_ipc_connect_nonblock(const char *path);

/**
 * Send one message with @n_fds fds, without waiting for room in the
 * socket: @return 0 or a negative errno (-EAGAIN: the peer does not read).
 */
int rp_ipc_send(int sock, const struct rp_ipc_msg *m, const int *fds, unsigned int n_fds);

/**
 * Receive and parse one message within @timeout_ms (-1: forever).
 * Received fds land in @fds (up to RP_IPC_MAX_FDS); on any refusal they are
 * closed. @return RP_IPC_REJ_NONE or the reason (why filled).
 */
enum rp_ipc_reject rp_ipc_recv(int sock, struct rp_ipc_msg *m, int *fds, unsigned int *n_fds,
	int timeout_ms, char *why, size_t why_size);

/* ---- wake-ups (RP_IPC_F_WAKE_SOCK) -------------------------------------- */
/**
 * Server: a wake-up pair for one queue pair: @pair[0] stays (poll it, then
 * rp_ipc_wake_drain), @pair[1] goes to the client in REGION and is closed
 * once sent. Both non-blocking. @return 0 or a negative errno.
 */
int rp_ipc_wake_pair(int pair[2]);
/**
 * Client: wake the worker behind wake socket @fd. Never blocks and never
 * raises SIGPIPE, whatever the server did to the socket.
 * @return 0 (sent, or the queue is full: woken already) or a negative errno.
 */
int rp_ipc_wake(int fd);
/** Server: empty wake socket @fd (bounded); @return datagrams taken. */
unsigned int rp_ipc_wake_drain(int fd);

/** Send DISCONNECT with @code and @reason; errors are ignored. */
void rp_ipc_send_disconnect(int sock, uint32_t code, const char *reason);

/** What the other side said about itself. */
struct rp_ipc_peer {
	char name[RP_IPC_NAME_SIZE];
	uint16_t version;
	uint32_t features;
};

/**
 * A handshake's options, and where it reports (libbpf style: zero the
 * struct, set what you need; every pointer is optional).
 */
struct rp_ipc_hs_opts {
	const char *name;          /**< ours, sent in HELLO (server) or INIT (client) */
	int timeout_ms;            /**< each step's deadline */
	uint32_t features;         /**< client: the RP_IPC_F_* it asks for */
	struct rp_ipc_peer *peer;  /**< out: what the peer said about itself */
	struct rp_ipc_stats *st;   /**< each refusal counted here */
	enum rp_ipc_reject *rej;   /**< out: why refused (RP_IPC_REJ_NONE if not) */
	char *why;                 /**< out: the reason, as text (why_size bytes) */
	size_t why_size;
};

/**
 * Server side of the handshake on accepted socket @sock: HELLO, INIT,
 * REGION with the region fd and @n_wake wake sockets, CONNECTED. On
 * success the header state is set to RP_IPC_STATE_UP.
 * @return 0; -EPROTO (refused either way: o->rej and o->why say why),
 * -ETIMEDOUT, -ECONNRESET or another negative errno.
 */
int rp_ipc_server_handshake(int sock, struct rp_ipc_region *r, const int *wake_fds,
	unsigned int n_wake, const struct rp_ipc_hs_opts *o);

/**
 * Client side, asking for o->features. On success *@out holds the attached
 * region (refcount 1) and @wake_fds the wake sockets (*@n_wake of them,
 * each checked to be a UNIX datagram socket; caller closes them). Returns
 * as the server side does.
 */
int rp_ipc_client_handshake(int sock, const struct rp_ipc_hs_opts *o, struct rp_ipc_region **out,
	int *wake_fds, unsigned int *n_wake);

#ifdef __cplusplus
}
#endif

#endif /* RP_IPC_H */
