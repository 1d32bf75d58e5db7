/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_ipc_abi.h: the ringport shared-memory and socket ABI.
 *
 * This header is the only definition of the per-port region and of the
 * messages on the port socket. Both peers (ringport-iothread, the server, and
 * librte_net_ringport.so, the client) include it. Rules:
 *  - fixed-width fields, explicit padding, nothing is a pointer;
 *  - fields and flag bits are only ever appended; a retired one stays
 *    reserved; reserved fields and bits are written as zero and refused
 *    otherwise;
 *  - a change of layout bumps RP_IPC_VERSION_MAJOR, an addition the minor.
 *
 * Region layout (offsets are from the start of the region):
 *
 *   0                 struct rp_ipc_hdr, RP_IPC_HDR_AREA bytes
 *   rings_off         4 rings per queue pair, ring_stride bytes each, in
 *                     the order of enum rp_ipc_ring_kind, queue pair 0 first
 *   bufs_off[dir]     n_bufs[dir] buffers of (1 << buf_shift) bytes, one
 *                     pool per direction (enum rp_ipc_dir)
 *
 * Every ring is a DPDK rte_ring initialised in place with rte_ring_init()
 * and used only with the *_elem API and 16-byte elements (struct
 * rp_ipc_desc). Both sides use single-producer/single-consumer operations
 * on the shared rings, so no side ever waits on an index the peer controls.
 *
 * Buffer ownership: the TO_SWITCH pool belongs to the server, which lends
 * its buffers on the TO_SWITCH ring and gets them back on TO_SWITCH_FREE.
 * The TO_GUEST pool belongs to the client, which lends on TO_GUEST and gets
 * them back on TO_GUEST_FREE. A free-ring descriptor names the buffer's
 * first byte in `off` and has every other field zero.
 */
#ifndef RP_IPC_ABI_H
#define RP_IPC_ABI_H

#include <stddef.h>
#include <stdint.h>

/** "RINGPORT" read as a little-endian 64-bit integer. */
#define RP_IPC_COOKIE UINT64_C(0x54524f50474e4952)

#define RP_IPC_VERSION_MAJOR 1
#define RP_IPC_VERSION_MINOR 1 /* 1.1: wake-up sockets (RP_IPC_F_WAKE_SOCK) */
/** (major << 8) | minor, as in memif. */
#define RP_IPC_VERSION ((RP_IPC_VERSION_MAJOR << 8) | RP_IPC_VERSION_MINOR)
/** Oldest version this build still speaks. */
#define RP_IPC_VERSION_MIN ((1 << 8) | 0)
#define RP_IPC_VERSION_MAJOR_OF(v) ((unsigned)(v) >> 8)
#define RP_IPC_VERSION_MINOR_OF(v) ((unsigned)(v)&0xff)

/* Limits a validator enforces on everything it receives. */
#define RP_IPC_MAX_QPAIRS 16
#define RP_IPC_MIN_RING_SIZE 64
#define RP_IPC_MAX_RING_SIZE 32768
#define RP_IPC_MIN_BUF_SHIFT 10 /* 1 KiB buffers */
#define RP_IPC_MAX_BUF_SHIFT 15 /* 32 KiB: len (16 bits) always fits */
#define RP_IPC_MAX_BUFS (1u << 20)
#define RP_IPC_MAX_REGION_SIZE (UINT64_C(1) << 32) /* desc.off is 32 bits */
#define RP_IPC_HDR_AREA 4096
#define RP_IPC_DESC_SIZE 16
/* Most descriptors one frame may span (a 64 KB frame in 1 KiB buffers):
 * a receiver drops a longer frame whole. */
#define RP_IPC_MAX_FRAME_DESCS 80

/** Direction of a packet, and the buffer pool it travels in. */
enum rp_ipc_dir {
	RP_IPC_DIR_TO_SWITCH = 0, /**< guest TX: server lends, client returns */
	RP_IPC_DIR_TO_GUEST = 1,  /**< guest RX: client lends, server returns */
	RP_IPC_DIR_MAX = 2,
};

/** How options, commands and logs spell a direction ("to-switch"). */
static inline const char *
rp_ipc_dir_name(enum rp_ipc_dir dir)
{
	return dir == RP_IPC_DIR_TO_GUEST ? "to-guest" : "to-switch";
}

/** How JSON (ringportctl status) spells a direction, as a key ("to_switch"). */
static inline const char *
rp_ipc_dir_key(enum rp_ipc_dir dir)
{
	return dir == RP_IPC_DIR_TO_GUEST ? "to_guest" : "to_switch";
}

/** The four rings of a queue pair, in region order. */
enum rp_ipc_ring_kind {
	RP_IPC_RING_TO_SWITCH = 0,      /**< server -> client: filled buffers */
	RP_IPC_RING_TO_SWITCH_FREE = 1, /**< client -> server: buffers back */
	RP_IPC_RING_TO_GUEST = 2,       /**< client -> server: filled buffers */
	RP_IPC_RING_TO_GUEST_FREE = 3,  /**< server -> client: buffers back */
	RP_IPC_RINGS_PER_QPAIR = 4,
};

/* Feature bits (rp_ipc_hdr.features, hello and init messages). */
/** Retired in 1.1, reserved: wake-up eventfds. O_NONBLOCK belongs to the
 * open file description the server also holds, so a server could make the
 * client's write block; refused as an unknown bit. */
#define RP_IPC_F_WAKE_EVENTFD_RETIRED (1u << 0)
#define RP_IPC_F_OFFLOAD (1u << 1)  /**< descriptors carry offload metadata */
#define RP_IPC_F_MULTISEG (1u << 2) /**< packets may span buffers (DESC_F_MORE) */
/**
 * The server sends one wake-up socket per queue pair: an AF_UNIX
 * SOCK_DGRAM socket, connected to one the server keeps. The client wakes
 * queue pair q's worker by sending one byte on socket q with MSG_DONTWAIT:
 * the call never blocks whatever the server did to the socket, and a full
 * queue (EAGAIN) means the worker is woken already.
 */
#define RP_IPC_F_WAKE_SOCK (1u << 3)
#define RP_IPC_F_KNOWN (RP_IPC_F_WAKE_SOCK | RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG)

/* Session state (rp_ipc_hdr.state), written by the server only. */
#define RP_IPC_STATE_INIT 0    /**< region laid out, handshake not done */
#define RP_IPC_STATE_UP 1      /**< both sides attached, traffic may flow */
#define RP_IPC_STATE_CLOSING 2 /**< server is ending the session */

/* rp_ipc_hdr.wake: bit q set means the server's worker for queue pair q
 * sleeps and wants a wake-up (RP_IPC_F_WAKE_SOCK) after the client
 * enqueues to it. */

/**
 * The region header, at offset 0. The server writes everything above
 * `state` once, before it sends the region fd, and never again; the client
 * copies it out with pread() and validates the copy before it maps anything.
 */
struct rp_ipc_hdr {
	uint64_t cookie;        /**< RP_IPC_COOKIE */
	uint16_t version;       /**< ABI version the region is laid out for */
	uint16_t hdr_size;      /**< sizeof(struct rp_ipc_hdr) of the writer */
	uint32_t features;      /**< RP_IPC_F_* in force for this session */
	uint64_t region_size;   /**< bytes; equals the memfd's size */
	uint16_t n_qpairs;      /**< queue pairs, 1..RP_IPC_MAX_QPAIRS */
	uint16_t ring_hdr_size; /**< sizeof(struct rte_ring) of the writer */
	uint32_t ring_size;     /**< slots per ring, power of two */
	uint32_t buf_shift;     /**< log2 of the buffer size */
	uint32_t n_bufs[RP_IPC_DIR_MAX]; /**< buffers in each pool */
	uint32_t reserved0;     /**< zero */
	uint64_t rings_off;     /**< offset of ring 0, cache-line aligned */
	uint64_t ring_stride;   /**< bytes from one ring to the next */
	uint64_t bufs_off[RP_IPC_DIR_MAX]; /**< offset of each pool, page aligned */
	uint8_t mac[6];         /**< the port's MAC address, for the switch */
	uint16_t mtu;           /**< the port's MTU, for the switch */
	uint32_t reserved1[10]; /**< zero */
	/* --- third cache line: live state, written after set-up --- */
	uint32_t state;         /**< RP_IPC_STATE_*; server stores, release */
	uint32_t wake;          /**< wake bits (see above); server stores */
	uint32_t reserved2[30]; /**< zero */
};

/* Descriptor flags. */
#define RP_IPC_DESC_F_MORE (1u << 0)       /**< another segment follows */
#define RP_IPC_DESC_F_HASH (1u << 1)       /**< hash holds the RSS hash */
#define RP_IPC_DESC_F_CSUM_PARTIAL (1u << 2) /**< L4 checksum still to do */
#define RP_IPC_DESC_F_CSUM_VALID (1u << 3) /**< L4 checksum verified */
#define RP_IPC_DESC_L4_SHIFT 4             /**< 2 bits: RP_IPC_L4_* */
#define RP_IPC_DESC_L3_SHIFT 6             /**< 2 bits: RP_IPC_L3_* */
#define RP_IPC_DESC_GSO_SHIFT 8            /**< 2 bits: RP_IPC_GSO_* */
#define RP_IPC_DESC_L4_MASK (3u << RP_IPC_DESC_L4_SHIFT)
#define RP_IPC_DESC_L3_MASK (3u << RP_IPC_DESC_L3_SHIFT)
#define RP_IPC_DESC_GSO_MASK (3u << RP_IPC_DESC_GSO_SHIFT)
#define RP_IPC_DESC_F_KNOWN 0x03ffu        /**< bits 10..15 reserved, zero */

#define RP_IPC_L4_NONE 0
#define RP_IPC_L4_TCP 1
#define RP_IPC_L4_UDP 2
#define RP_IPC_L4_SCTP 3
#define RP_IPC_L3_NONE 0
#define RP_IPC_L3_IPV4 1
#define RP_IPC_L3_IPV6 2
#define RP_IPC_GSO_NONE 0
#define RP_IPC_GSO_TCP 1 /**< TSO; v4 or v6 from the L3 field */
#define RP_IPC_GSO_UDP 2 /**< UDP segmentation (USO) */

/**
 * A ring element: one buffer (one segment of a packet) handed over.
 * Offsets and ids only; the receiver checks every field (rp_ipc_pool_*).
 */
struct rp_ipc_desc {
	uint32_t off;      /**< first data byte, from the region start */
	uint16_t len;      /**< data bytes in this segment, >= 1 */
	uint16_t flags;    /**< RP_IPC_DESC_F_* and the type fields */
	uint32_t hash;     /**< RSS hash, when RP_IPC_DESC_F_HASH */
	uint16_t gso_size; /**< segment payload size, when GSO type != NONE */
	uint8_t l2_len;    /**< L2 header bytes (VLANs included), for offloads */
	uint8_t l3_len;    /**< L3 header bytes (extensions included) */
};

/* ---------------------------------------------------------------------- */
/* Port socket messages: SOCK_SEQPACKET, every message RP_IPC_MSG_SIZE bytes.
 *
 *   server (iothread)                 client (PMD)
 *     HELLO  (versions, features)  ->
 *                                  <- INIT (chosen version, features)
 *     REGION + fds (memfd, eventfds) ->
 *                                  <- CONNECTED
 *   Either side may send DISCONNECT (with a reason) at any point, and then
 *   closes the socket.
 */
#define RP_IPC_MSG_SIZE 128
#define RP_IPC_NAME_SIZE 32
#define RP_IPC_REASON_SIZE 96
/** Most fds one message carries: the region and a wake socket per queue pair. */
#define RP_IPC_MAX_FDS (1 + RP_IPC_MAX_QPAIRS)

enum rp_ipc_msg_type {
	RP_IPC_MSG_HELLO = 1,
	RP_IPC_MSG_INIT = 2,
	RP_IPC_MSG_REGION = 3,
	RP_IPC_MSG_CONNECTED = 4,
	RP_IPC_MSG_DISCONNECT = 5,
};

/* Disconnect codes. */
#define RP_IPC_DISC_NORMAL 0   /**< orderly shutdown */
#define RP_IPC_DISC_REFUSED 1  /**< handshake refused, see reason */
#define RP_IPC_DISC_PROTOCOL 2 /**< peer broke the protocol at run time */

struct rp_ipc_msg_hdr {
	uint64_t cookie;     /**< RP_IPC_COOKIE */
	uint16_t type;       /**< enum rp_ipc_msg_type */
	uint16_t version;    /**< sender's ABI version (hello: its maximum) */
	uint8_t n_fds;       /**< fds passed with this message (SCM_RIGHTS) */
	uint8_t reserved[3]; /**< zero */
};

struct rp_ipc_msg_hello {
	uint16_t min_version; /**< oldest version the server speaks */
	uint16_t max_version; /**< newest version the server speaks */
	uint16_t max_qpairs;  /**< queue pairs the server will offer */
	uint16_t reserved;    /**< zero */
	uint32_t features;    /**< RP_IPC_F_* the server offers */
	char name[RP_IPC_NAME_SIZE]; /**< server id, NUL-terminated */
};

struct rp_ipc_msg_init {
	uint16_t version;  /**< the version the client chose */
	uint16_t reserved; /**< zero */
	uint32_t features; /**< subset of the hello's features */
	char name[RP_IPC_NAME_SIZE]; /**< client id, NUL-terminated */
};

struct rp_ipc_msg_region {
	uint64_t region_size; /**< bytes; the fd must be exactly this big */
	uint16_t n_qpairs;    /**< queue pairs in the region */
	uint16_t n_wake_fds;  /**< wake sockets after the region fd: 0 or n_qpairs */
	uint32_t features;    /**< features in force */
};

struct rp_ipc_msg_disconnect {
	uint32_t code;                   /**< RP_IPC_DISC_* */
	char reason[RP_IPC_REASON_SIZE]; /**< why, NUL-terminated */
};

struct rp_ipc_msg {
	struct rp_ipc_msg_hdr h;
	union {
		struct rp_ipc_msg_hello hello;
		struct rp_ipc_msg_init init;
		struct rp_ipc_msg_region region;
		struct rp_ipc_msg_disconnect disconnect;
		uint8_t raw[RP_IPC_MSG_SIZE - sizeof(struct rp_ipc_msg_hdr)];
	} u;
};

/* The wire and the region are fixed: any change here is an ABI change. */
_Static_assert(sizeof(struct rp_ipc_desc) == RP_IPC_DESC_SIZE, "descriptor is 16 bytes");
_Static_assert(offsetof(struct rp_ipc_desc, hash) == 8, "desc.hash offset");
_Static_assert(offsetof(struct rp_ipc_desc, gso_size) == 12, "desc.gso_size offset");
_Static_assert(sizeof(struct rp_ipc_hdr) == 256, "region header is four cache lines");
_Static_assert(sizeof(struct rp_ipc_hdr) <= RP_IPC_HDR_AREA, "header fits its area");
_Static_assert(offsetof(struct rp_ipc_hdr, n_qpairs) == 24, "hdr.n_qpairs offset");
_Static_assert(offsetof(struct rp_ipc_hdr, rings_off) == 48, "hdr.rings_off offset");
_Static_assert(offsetof(struct rp_ipc_hdr, bufs_off) == 64, "hdr.bufs_off offset");
_Static_assert(offsetof(struct rp_ipc_hdr, mac) == 80, "hdr.mac offset");
_Static_assert(offsetof(struct rp_ipc_hdr, mtu) == 86, "hdr.mtu offset");
_Static_assert(offsetof(struct rp_ipc_hdr, state) == 128, "live state on its own line");
_Static_assert(sizeof(struct rp_ipc_msg_hdr) == 16, "message header size");
_Static_assert(sizeof(struct rp_ipc_msg) == RP_IPC_MSG_SIZE, "message size");
_Static_assert(sizeof(struct rp_ipc_msg_hello) == 44, "hello size");
_Static_assert(sizeof(struct rp_ipc_msg_init) == 40, "init size");
_Static_assert(sizeof(struct rp_ipc_msg_region) == 16, "region message size");
_Static_assert(sizeof(struct rp_ipc_msg_disconnect) == 100, "disconnect size");

#endif /* RP_IPC_ABI_H */
