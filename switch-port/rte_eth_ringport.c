/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ringport: a vdev PMD that turns a ringport port socket into an
 * ethdev for stock OVS-DPDK.
 *
 *   --vdev/dpdk-devargs net_ringport<N>,path=/run/ringport/vm1.sock
 *
 * The session (connect, handshake, peer loss, reconnect) runs on a thread
 * of the port's own, with non-blocking sockets and deadlines: add-port
 * returns at once with the link down, and the link comes up when a
 * handshake completes. Failed attempts back off from RP_PMD_BACKOFF_MIN_MS
 * doubling to RP_PMD_BACKOFF_MAX_MS.
 * A session that ends is retired: rp_port.sess is cleared, and the session
 * is released only when every queue has left any burst that could have
 * seen it, and its region stays mapped until the last mbuf pointing into it
 * is freed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bus_vdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_alarm.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "rp_pmd.h"
#include "rp_ipc_ol.h"

#define RP_PMD_ARG_PATH "path"
#define RP_PMD_ARG_ZEROCOPY "zerocopy"
#define RP_PMD_ARG_MAX_MEM "max_mem"
/* What one session may make the PMD allocate by default: about three times
 * what ringport-iothread's largest region needs (16 queue pairs, 1024-slot
 * rings, 32768 buffers each way: 5.3 MiB). */
#define RP_PMD_MAX_MEM_DEFAULT (UINT64_C(16) << 20)
#define RP_PMD_POLL_US 100000     /* orphaned sessions' check */
#define RP_PMD_TICK_MS 100        /* the session thread's period with a session */
#define RP_PMD_HANDSHAKE_MS 500   /* each handshake step's deadline */
#define RP_PMD_BACKOFF_MIN_MS 100
#define RP_PMD_BACKOFF_MAX_MS 5000
#define RP_PMD_LOG_EVERY_MS 60000 /* a repeated refusal, logged once a minute */

RTE_LOG_REGISTER_DEFAULT(rp_pmd_logtype, NOTICE);

static const char *const valid_args[] = {RP_PMD_ARG_PATH, RP_PMD_ARG_ZEROCOPY,
	RP_PMD_ARG_MAX_MEM, NULL};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
rp_ipc_logger(enum rp_ipc_log_level level, const char *msg)
{
	rte_log(level == RP_IPC_LOG_ERR ? RTE_LOG_ERR : level == RP_IPC_LOG_WARN ? RTE_LOG_WARNING
										   : RTE_LOG_INFO,
		rp_pmd_logtype, "net_ringport: %s\n", msg);
}

/* ---- sessions ----------------------------------------------------------- */
/* Bytes of our own memory a session over layout @l takes (sess_build and
 * the pools): all of it sized by the peer's header, hence capped. */
static uint64_t
sess_mem_need(const struct rp_ipc_layout *l)
{
	uint64_t n_ts = l->n_bufs[RP_IPC_DIR_TO_SWITCH], n_tg = l->n_bufs[RP_IPC_DIR_TO_GUEST];
	uint64_t fb = (uint64_t)rte_ring_get_memsize_elem(sizeof(uint32_t),
		rte_align32pow2((uint32_t)n_ts + 1));
	uint64_t own_list = (uint64_t)rte_ring_get_memsize_elem(sizeof(uint32_t),
		rte_align32pow2((uint32_t)n_tg + 1));

	return sizeof(struct rp_sess) + sizeof(struct rp_free_cache) * (RTE_MAX_LCORE + 1) +
		n_ts * (sizeof(struct rte_mbuf_ext_shared_info) + 1 /* origin */ + 1 /* held */) +
		l->n_qpairs * fb + n_tg + own_list;
}

static struct rp_sess *
sess_build(struct rp_port *port, int sock, struct rp_ipc_region *r)
{
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	uint32_t n = l->n_bufs[RP_IPC_DIR_TO_SWITCH];
	struct rp_sess *s;

	s = rte_zmalloc("rp_sess", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL)
		return NULL;
	s->r = r;
	s->base = rp_ipc_region_base(r);
	s->sock = sock;
	s->n_qpairs = l->n_qpairs;
	rte_spinlock_init(&s->any_lock);
	s->bufs_off = (uint32_t)l->bufs_off[RP_IPC_DIR_TO_SWITCH];
	s->buf_shift = l->buf_shift;
	s->multiseg = l->features & RP_IPC_F_MULTISEG;
	s->offload = l->features & RP_IPC_F_OFFLOAD;
	s->max_frame = s->multiseg ? UINT16_MAX : 1u << l->buf_shift;
	s->own = rp_ipc_pool_create(r, RP_IPC_DIR_TO_GUEST, true);
	s->borrowed = rp_ipc_pool_create(r, RP_IPC_DIR_TO_SWITCH, false);
	s->shinfo = rte_zmalloc("rp_shinfo", sizeof(*s->shinfo) * n, RTE_CACHE_LINE_SIZE);
	s->origin = rte_zmalloc("rp_origin", n, 0);
	s->lc = rte_zmalloc("rp_free_cache", sizeof(*s->lc) * (RTE_MAX_LCORE + 1),
		RTE_CACHE_LINE_SIZE);
	if (s->own == NULL || s->borrowed == NULL || s->shinfo == NULL || s->origin == NULL ||
		s->lc == NULL)
		goto fail;
	for (uint32_t i = 0; i < n; i++) {
		s->shinfo[i].free_cb = rp_pmd_extbuf_free;
		s->shinfo[i].fcb_opaque = s;
	}
	for (unsigned int q = 0; q < s->n_qpairs; q++) {
		uint32_t slots = rte_align32pow2(n + 1);
		ssize_t sz = rte_ring_get_memsize_elem(sizeof(uint32_t), slots);

		s->free_back[q] = rte_zmalloc("rp_free_back", (size_t)sz, RTE_CACHE_LINE_SIZE);
		if (s->free_back[q] == NULL ||
			rte_ring_init(s->free_back[q], "rp_fb", slots, RING_F_SC_DEQ) < 0)
			goto fail;
		rte_spinlock_init(&s->tx_lock[q]);
		for (unsigned int k = 0; k < RP_IPC_RINGS_PER_QPAIR; k++)
			rp_ipc_region_ring_view(r, q, k, false, &s->ring[q][k]);
	}
	RTE_SET_USED(port);
	return s;
fail:
	s->r = NULL; /* the caller still owns it */
	rp_sess_free(s);
	return NULL;
}

/* A failed attempt; retried with back-off: say it once per reason per
 * minute. A peer going away mid-handshake (it is restarting) is not an
 * error; a peer breaking the protocol is. */
static void
sess_refused(struct rp_port *port, enum rp_ipc_reject rej, const char *why)
{
	uint64_t now = now_ms();

	if (rej != port->last_refusal || now - port->last_refusal_ms >= RP_PMD_LOG_EVERY_MS) {
		port->last_refusal_ms = now;
		if (rej == RP_IPC_REJ_IO)
			PMD_LOG(WARNING, "%s: %s: handshake cut short (%s): %s (retrying)",
				port->name, port->path, rp_ipc_reject_name(rej), why);
		else
			PMD_LOG(ERR, "%s: %s refused (%s): %s (retrying)", port->name, port->path,
				rp_ipc_reject_name(rej), why);
		port->last_refusal = rej;
	} else {
		PMD_LOG(DEBUG, "%s: %s refused: %s", port->name, port->path, why);
	}
}

static int
sess_open(struct rp_port *port)
{
	struct rp_ipc_region *r;
	struct rp_ipc_peer peer;
	enum rp_ipc_reject rej;
	unsigned int n_wake;
	int wake[RP_IPC_MAX_FDS], sock, rc;
	char why[256] = "";
	struct rp_sess *s;

	sock = rp_ipc_connect_nonblock(port->path);
	if (sock < 0)
		return sock;
	rc = rp_ipc_client_handshake(sock, port->name,
		RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG | RP_IPC_F_WAKE_SOCK,
		RP_PMD_HANDSHAKE_MS, &r, wake, &n_wake, &peer, &port->sess_rej, &rej, why,
		sizeof(why));
	if (rc < 0) {
		sess_refused(port, rej, why);
		close(sock);
		return rc;
	}
	const struct rp_ipc_layout *lay = rp_ipc_region_layout(r);
	uint64_t need = sess_mem_need(lay);
	if (need > port->max_mem) {
		snprintf(why, sizeof(why), "region needs %" PRIu64 " bytes of switch memory "
			"(%u queue pairs, %u+%u buffers), above max_mem=%" PRIu64, need,
			lay->n_qpairs, lay->n_bufs[0], lay->n_bufs[1], port->max_mem);
		port->sess_rej.rejects[RP_IPC_REJ_HEADER]++;
		sess_refused(port, RP_IPC_REJ_HEADER, why);
		rp_ipc_send_disconnect(sock, RP_IPC_DISC_REFUSED, why);
		for (unsigned int i = 0; i < n_wake; i++)
			close(wake[i]);
		rp_ipc_region_put(r);
		close(sock);
		return -E2BIG;
	}
	s = sess_build(port, sock, r);
	if (s == NULL) {
		for (unsigned int i = 0; i < n_wake; i++)
			close(wake[i]);
		rp_ipc_send_disconnect(sock, RP_IPC_DISC_REFUSED, "out of memory");
		rp_ipc_region_put(r);
		close(sock);
		return -ENOMEM;
	}
	/* OVS PMD threads always poll; the peer may sleep (wake-ups). */
	s->n_wake = n_wake;
	memcpy(s->wake, wake, n_wake * sizeof(wake[0]));
	s->wake_word = &rp_ipc_region_hdr(r)->wake;
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	PMD_LOG(INFO, "%s: session with '%s' on %s: %u queue pairs, %u+%u buffers of %u bytes%s",
		port->name, peer.name, port->path, l->n_qpairs, l->n_bufs[0], l->n_bufs[1],
		1u << l->buf_shift, rp_ipc_region_hugetlb(r) ? ", hugepages" : "");
	port->last_refusal = RP_IPC_REJ_NONE;
	/* The region names the port's MAC (the guest side chose it); before
	 * the first session the one derived from the path stands in. */
	struct rte_ether_addr mac;
	memcpy(mac.addr_bytes, l->mac, sizeof(mac.addr_bytes));
	if (rte_is_valid_assigned_ether_addr(&mac) && !rte_is_same_ether_addr(&mac, &port->mac)) {
		char buf[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(buf, sizeof(buf), &mac);
		PMD_LOG(INFO, "%s: MAC %s from the region", port->name, buf);
		port->mac = mac;
		*port->dev_mac = mac;
	}
	/* Publish: pairs with the bursts' load of sess. */
	__atomic_store_n(&port->sess, s, __ATOMIC_SEQ_CST);
	return 0;
}

static void
sess_close(struct rp_port *port, const char *reason)
{
	struct rp_sess *s = port->sess;
	unsigned int i = 0;

	if (s == NULL)
		return;
	__atomic_store_n(&port->sess, NULL, __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->dead, true, __ATOMIC_RELEASE);
	/* Snapshot each queue's burst section (pairs with rp_queue_enter). */
	for (unsigned int q = 0; q < port->n_rxq; q++)
		s->retire_seq[i++] = port->rxq[q] ? __atomic_load_n(&port->rxq[q]->seq, __ATOMIC_SEQ_CST) : 0;
	for (unsigned int q = 0; q < port->n_txq; q++)
		s->retire_seq[i++] = port->txq[q] ? __atomic_load_n(&port->txq[q]->seq, __ATOMIC_SEQ_CST) : 0;
	rp_ipc_send_disconnect(s->sock, RP_IPC_DISC_NORMAL, reason);
	close(s->sock);
	s->sock = -1;
	rp_ipc_pool_reclaim(s->own);
	s->next_retired = port->retired;
	port->retired = s;
	PMD_LOG(INFO, "%s: session ended: %s", port->name, reason);
}

/* A queue has left the section it was in when @s was retired. */
static bool
queue_past(const struct rp_queue *q, uint64_t snap)
{
	return q == NULL || (snap & 1) == 0 || __atomic_load_n(&q->seq, __ATOMIC_ACQUIRE) != snap;
}

/*
 * Sessions of closed ports whose rx mbufs are still out in OVS: checked
 * every RP_PMD_POLL_US until the last is freed, then the region goes.
 */
static struct rp_sess *orphans;
static rte_spinlock_t orphan_lock = RTE_SPINLOCK_INITIALIZER;
static bool orphan_alarm_set;

static void
orphan_alarm(void *arg)
{
	struct rp_sess **pp;

	RTE_SET_USED(arg);
	rte_spinlock_lock(&orphan_lock);
	for (pp = &orphans; *pp != NULL;) {
		struct rp_sess *s = *pp;

		if (rp_sess_idle(s)) {
			*pp = s->next_retired;
			rp_sess_free(s);
		} else {
			pp = &s->next_retired;
		}
	}
	orphan_alarm_set = orphans != NULL &&
		rte_eal_alarm_set(RP_PMD_POLL_US, orphan_alarm, NULL) == 0;
	rte_spinlock_unlock(&orphan_lock);
}

static void
orphan_add(struct rp_sess *s)
{
	rte_spinlock_lock(&orphan_lock);
	s->next_retired = orphans;
	orphans = s;
	if (!orphan_alarm_set)
		orphan_alarm_set = rte_eal_alarm_set(RP_PMD_POLL_US, orphan_alarm, NULL) == 0;
	rte_spinlock_unlock(&orphan_lock);
}

static void
reap_retired(struct rp_port *port, bool force)
{
	struct rp_sess **pp = &port->retired;

	while (*pp != NULL) {
		struct rp_sess *s = *pp;
		bool past = true;
		unsigned int i = 0;

		for (unsigned int q = 0; q < port->n_rxq; q++)
			past &= queue_past(port->rxq[q], s->retire_seq[i++]);
		for (unsigned int q = 0; q < port->n_txq; q++)
			past &= queue_past(port->txq[q], s->retire_seq[i++]);
		/* force: the port is closed, no burst runs any more. */
		if ((past || force) && rp_sess_idle(s)) {
			*pp = s->next_retired;
			rp_sess_free(s);
		} else if (force) {
			/* The port goes, mbufs into the region are still out. */
			*pp = s->next_retired;
			orphan_add(s);
		} else {
			pp = &s->next_retired;
		}
	}
}

/* Has the peer hung up or said goodbye? Never blocks. */
static bool
peer_gone(struct rp_sess *s, char *why, size_t ws)
{
	struct pollfd pfd = {.fd = s->sock, .events = POLLIN};
	struct rp_ipc_msg m;
	unsigned int nf;
	int fds[RP_IPC_MAX_FDS];

	if (poll(&pfd, 1, 0) != 1)
		return false;
	if (rp_ipc_recv(s->sock, &m, fds, &nf, 0, why, ws) == RP_IPC_REJ_NONE) {
		for (unsigned int i = 0; i < nf; i++)
			close(fds[i]);
		if (m.h.type == RP_IPC_MSG_DISCONNECT)
			snprintf(why, ws, "peer disconnected: %s", m.u.disconnect.reason);
		else
			snprintf(why, ws, "unexpected message type %u after the handshake", m.h.type);
	}
	return true;
}

static int rp_link_update(struct rte_eth_dev *dev, int wait);

/* Store the new link state, then tell the application. With LSC interrupt
 * mode ethdev reads dev_link directly rather than calling link_update. */
static void
link_changed(struct rte_eth_dev *dev)
{
	rp_link_update(dev, 0);
	rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, NULL);
}

/* With a session: hand back what idle tx left, watch the peer. */
static void
sess_watch(struct rte_eth_dev *dev)
{
	struct rp_port *port = dev->data->dev_private;
	struct rp_sess *s = port->sess;
	char why[256];

	if (s == NULL)
		return;
	rp_pmd_reap_idle(s, &port->sess_rej);
	/* What non-EAL threads freed waits in a locked cache. */
	rte_spinlock_lock(&s->any_lock);
	if (s->lc[RTE_MAX_LCORE].n != 0)
		rp_sess_flush_cache(s, &s->lc[RTE_MAX_LCORE]);
	rte_spinlock_unlock(&s->any_lock);
	if (__atomic_load_n(&s->broken, __ATOMIC_ACQUIRE)) {
		sess_close(port, "peer corrupted a shared ring");
		link_changed(dev);
	} else if (peer_gone(s, why, sizeof(why))) {
		sess_close(port, why);
		link_changed(dev);
	}
}

/*
 * The port's session thread: the only thread that opens, watches and ends
 * sessions. It waits on the session's socket (the peer leaving wakes it),
 * on stop_fd (dev_close), or for the next tick or attempt.
 */
static void *
sess_thread(void *arg)
{
	struct rte_eth_dev *dev = arg;
	struct rp_port *port = dev->data->dev_private;
	uint64_t next_try = 0;

	port->backoff_ms = RP_PMD_BACKOFF_MIN_MS;
	while (!__atomic_load_n(&port->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd[2] = {{.fd = port->stop_fd, .events = POLLIN}, {.fd = -1}};
		uint64_t now = now_ms();
		int wait_ms = RP_PMD_TICK_MS;

		sess_watch(dev);
		if (port->sess == NULL && now >= next_try) {
			if (sess_open(port) == 0) {
				port->reconnects++;
				port->backoff_ms = RP_PMD_BACKOFF_MIN_MS;
				link_changed(dev);
			} else {
				port->connect_failures++;
				next_try = now_ms() + port->backoff_ms;
				port->backoff_ms = RTE_MIN(port->backoff_ms * 2, RP_PMD_BACKOFF_MAX_MS);
			}
		}
		reap_retired(port, false);
		if (port->sess != NULL) {
			pfd[1] = (struct pollfd){.fd = port->sess->sock, .events = POLLIN};
		} else {
			now = now_ms();
			wait_ms = next_try > now ? (int)(next_try - now) : 0;
			if (port->retired != NULL)
				wait_ms = RTE_MIN(wait_ms, RP_PMD_TICK_MS);
		}
		(void)poll(pfd, 2, wait_ms);
	}
	return NULL;
}

static int
sess_thread_start(struct rte_eth_dev *dev)
{
	struct rp_port *port = dev->data->dev_private;
	char name[RTE_MAX_THREAD_NAME_LEN];
	int rc;

	port->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (port->stop_fd < 0)
		return -errno;
	snprintf(name, sizeof(name), "rp-sess-%u", port->port_id);
	rc = rte_ctrl_thread_create(&port->thread, name, NULL, sess_thread, dev);
	if (rc != 0) {
		close(port->stop_fd);
		port->stop_fd = -1;
		return -rc;
	}
	port->thread_running = true;
	return 0;
}

static void
sess_thread_stop(struct rp_port *port)
{
	uint64_t one = 1;

	if (!port->thread_running)
		return;
	__atomic_store_n(&port->stop, true, __ATOMIC_RELEASE);
	if (write(port->stop_fd, &one, sizeof(one)) < 0)
		PMD_LOG(WARNING, "%s: cannot wake the session thread: %s", port->name,
			strerror(errno));
	pthread_join(port->thread, NULL);
	close(port->stop_fd);
	port->stop_fd = -1;
	port->thread_running = false;
}

/* ---- eth_dev_ops ---------------------------------------------------------- */
static int
rp_dev_configure(struct rte_eth_dev *dev)
{
	struct rp_port *port = dev->data->dev_private;

	if (dev->data->nb_rx_queues > RP_PMD_MAX_RXQ || dev->data->nb_tx_queues > RP_PMD_MAX_TXQ) {
		PMD_LOG(ERR, "%s: %u rx / %u tx queues asked, at most %u / %u", port->name,
			dev->data->nb_rx_queues, dev->data->nb_tx_queues, RP_PMD_MAX_RXQ,
			RP_PMD_MAX_TXQ);
		return -EINVAL;
	}
	return 0;
}

static int
rp_dev_start(struct rte_eth_dev *dev)
{
	struct rp_port *port = dev->data->dev_private;

	uint64_t tx_ol = dev->data->dev_conf.txmode.offloads;

	port->n_rxq = dev->data->nb_rx_queues;
	port->n_txq = dev->data->nb_tx_queues;
	/* What OVS will accept in received packets' Tx offload requests
	 * (OVS enables these with other_config:userspace-tso-enable). */
	port->ol_conf = (tx_ol & (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) ==
				(RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
		? RP_IPC_OL_CONF_CKSUM : 0;
	if (tx_ol & RTE_ETH_TX_OFFLOAD_TCP_TSO)
		port->ol_conf |= RP_IPC_OL_CONF_TSO;
	/* With TSO the peer's GSO frames are taken whole: they need buffers
	 * larger than OVS's mbufs. Made once, kept until the port closes. */
	if ((port->ol_conf & RP_IPC_OL_CONF_TSO) && port->big == NULL) {
		port->big = rp_pmd_big_pool_create(port);
		if (port->big == NULL) {
			PMD_LOG(ERR, "%s: no memory for %u buffers of %u bytes for GSO frames: %s",
				port->name, RP_PMD_BIG_BUFS, RP_PMD_BIG_LEN,
				rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	port->started = true;
	for (uint16_t i = 0; i < port->n_rxq; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (uint16_t i = 0; i < port->n_txq; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	dev->data->dev_started = 1;
	return 0;
}

static int
rp_dev_stop(struct rte_eth_dev *dev)
{
	struct rp_port *port = dev->data->dev_private;

	port->started = false;
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	dev->data->dev_started = 0;
	return 0;
}

static void
queue_release(struct rp_queue **slot)
{
	rte_free(*slot);
	*slot = NULL;
}

static void
rp_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct rp_port *port = dev->data->dev_private;

	queue_release(&port->rxq[qid]);
	dev->data->rx_queues[qid] = NULL;
}

static void
rp_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct rp_port *port = dev->data->dev_private;

	queue_release(&port->txq[qid]);
	dev->data->tx_queues[qid] = NULL;
}

static int
rp_dev_close(struct rte_eth_dev *dev)
{
	struct rp_port *port = dev->data->dev_private;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	sess_thread_stop(port);
	sess_close(port, "port closed");
	/* No burst runs once the port is closed. */
	reap_retired(port, true);
	for (uint16_t i = 0; i < RP_PMD_MAX_RXQ; i++)
		queue_release(&port->rxq[i]);
	for (uint16_t i = 0; i < RP_PMD_MAX_TXQ; i++)
		queue_release(&port->txq[i]);
	if (port->big != NULL) {
		/* A GSO frame OVS still holds would point into a freed pool. */
		if (rte_mempool_full(port->big))
			rte_mempool_free(port->big);
		else
			PMD_LOG(WARNING, "%s: %u GSO buffers still in use at close: pool %s kept",
				port->name, rte_mempool_in_use_count(port->big), port->big->name);
		port->big = NULL;
	}
	return 0;
}

static struct rp_queue *
queue_new(struct rte_eth_dev *dev, uint16_t qid, bool is_tx, unsigned int socket)
{
	struct rp_queue *q = rte_zmalloc_socket("rp_queue", sizeof(*q), RTE_CACHE_LINE_SIZE,
		(int)socket);

	if (q == NULL)
		return NULL;
	q->port = dev->data->dev_private;
	q->qid = qid;
	q->is_tx = is_tx;
	return q;
}

/* (Re)create queue @qid in @slot and publish it to ethdev in @data_slot. */
static int
queue_replace(struct rte_eth_dev *dev, struct rp_queue **slot, void **data_slot, uint16_t qid,
	bool is_tx, unsigned int socket)
{
	queue_release(slot);
	*slot = queue_new(dev, qid, is_tx, socket);
	if (*slot == NULL)
		return -ENOMEM;
	*data_slot = *slot;
	return 0;
}

static int
rp_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc, unsigned int socket,
	const struct rte_eth_rxconf *conf, struct rte_mempool *mp)
{
	struct rp_port *port = dev->data->dev_private;

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	if (queue_replace(dev, &port->rxq[qid], &dev->data->rx_queues[qid], qid, false,
		socket) < 0)
		return -ENOMEM;
	port->rxq[qid]->mp = mp;
	return 0;
}

static int
rp_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc, unsigned int socket,
	const struct rte_eth_txconf *conf)
{
	struct rp_port *port = dev->data->dev_private;

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	return queue_replace(dev, &port->txq[qid], &dev->data->tx_queues[qid], qid, true, socket);
}

static int
rp_dev_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct rp_port *port = dev->data->dev_private;
	struct rp_sess *s = port->sess;

	info->max_mac_addrs = 1;
	info->max_rx_pktlen = RP_PMD_MAX_MTU + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = RP_PMD_MAX_MTU;
	info->max_rx_queues = s != NULL ? s->n_qpairs : RP_PMD_MAX_RXQ;
	info->max_tx_queues = RP_PMD_MAX_TXQ;
	/* Rx: hashes and verified (or completed) checksums. Tx: virtio-net's
	 * offloads, handed to the guest as descriptor metadata. */
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_RSS_HASH | RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
		RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
		RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
		RTE_ETH_TX_OFFLOAD_TCP_TSO;
	info->rx_desc_lim.nb_max = RP_IPC_MAX_RING_SIZE;
	info->tx_desc_lim.nb_max = RP_IPC_MAX_RING_SIZE;
	return 0;
}

static int
rp_link_update(struct rte_eth_dev *dev, int wait)
{
	struct rp_port *port = dev->data->dev_private;
	struct rte_eth_link link = {
		.link_speed = RTE_ETH_SPEED_NUM_10G,
		.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
		.link_autoneg = RTE_ETH_LINK_FIXED,
		.link_status = __atomic_load_n(&port->sess, __ATOMIC_ACQUIRE) != NULL,
	};

	RTE_SET_USED(wait);
	return rte_eth_linkstatus_set(dev, &link);
}

static int
rp_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st)
{
	struct rp_port *port = dev->data->dev_private;

	for (uint16_t i = 0; i < RP_PMD_MAX_RXQ; i++) {
		const struct rp_queue *q = port->rxq[i];
		if (q == NULL)
			continue;
		st->ipackets += q->st[RP_QS_PKTS];
		st->ibytes += q->st[RP_QS_BYTES];
		st->ierrors += q->st[RP_QS_INVALID] + q->st[RP_QS_BAD_OFFLOAD] +
			q->st[RP_QS_TOO_BIG];
		st->rx_nombuf += q->st[RP_QS_NO_MBUF];
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_ipackets[i] = q->st[RP_QS_PKTS];
			st->q_ibytes[i] = q->st[RP_QS_BYTES];
			st->q_errors[i] = q->st[RP_QS_INVALID];
		}
	}
	for (uint16_t i = 0; i < RP_PMD_MAX_TXQ; i++) {
		const struct rp_queue *q = port->txq[i];
		if (q == NULL)
			continue;
		st->opackets += q->st[RP_QS_PKTS];
		st->obytes += q->st[RP_QS_BYTES];
		st->oerrors += q->st[RP_QS_RING_FULL] + q->st[RP_QS_TOO_BIG] +
			q->st[RP_QS_BAD_OFFLOAD];
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_opackets[i] = q->st[RP_QS_PKTS];
			st->q_obytes[i] = q->st[RP_QS_BYTES];
		}
	}
	return 0;
}

static int
rp_stats_reset(struct rte_eth_dev *dev)
{
	struct rp_port *port = dev->data->dev_private;

	for (uint16_t i = 0; i < RP_PMD_MAX_RXQ; i++)
		if (port->rxq[i] != NULL) {
			memset(port->rxq[i]->st, 0, sizeof(port->rxq[i]->st));
			memset(&port->rxq[i]->rej, 0, sizeof(port->rxq[i]->rej));
		}
	for (uint16_t i = 0; i < RP_PMD_MAX_TXQ; i++)
		if (port->txq[i] != NULL) {
			memset(port->txq[i]->st, 0, sizeof(port->txq[i]->st));
			memset(&port->txq[i]->rej, 0, sizeof(port->txq[i]->rej));
		}
	port->reconnects = 0;
	port->connect_failures = 0;
	memset(&port->sess_rej, 0, sizeof(port->sess_rej));
	return 0;
}

/*
 * xstats. ethdev already reports per-queue packets and bytes; these add
 * what only we know, named so that OVS (which keeps only names ending in
 * _errors or _dropped) shows them in the Interface statistics column:
 * per rx queue the invalid descriptors and mbuf shortages, per tx queue
 * the drops, then each descriptor rejection reason summed over queues,
 * reconnects and failed connection attempts.
 */
static const char *const rxq_names[] = {"invalid_desc_errors", "no_mbuf_errors",
	"bad_offload_dropped", "too_big_dropped"};
static const enum rp_qstat rxq_idx[] = {RP_QS_INVALID, RP_QS_NO_MBUF, RP_QS_BAD_OFFLOAD,
	RP_QS_TOO_BIG};
static const char *const txq_names[] = {"ring_full_dropped", "too_big_dropped",
	"bad_offload_dropped", "wake_errors"};
static const enum rp_qstat txq_idx[] = {RP_QS_RING_FULL, RP_QS_TOO_BIG, RP_QS_BAD_OFFLOAD,
	RP_QS_WAKE_FAIL};

static unsigned int
xstats_count(const struct rte_eth_dev *dev)
{
	return dev->data->nb_rx_queues * RTE_DIM(rxq_names) +
		dev->data->nb_tx_queues * RTE_DIM(txq_names) + (RP_IPC_REJ_MAX - 1) + 2;
}

static int
rp_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names, unsigned int size)
{
	unsigned int n = xstats_count(dev), k = 0;

	if (names == NULL || size < n)
		return (int)n;
	for (uint16_t q = 0; q < dev->data->nb_rx_queues; q++)
		for (unsigned int i = 0; i < RTE_DIM(rxq_names); i++)
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "rx_q%u_%s", q,
				rxq_names[i]);
	for (uint16_t q = 0; q < dev->data->nb_tx_queues; q++)
		for (unsigned int i = 0; i < RTE_DIM(txq_names); i++)
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "tx_q%u_%s", q,
				txq_names[i]);
	for (int r = 1; r < RP_IPC_REJ_MAX; r++)
		snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "rejected_%s_errors",
			rp_ipc_reject_name(r));
	snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "reconnects");
	snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "connect_failures");
	return (int)n;
}

static int
rp_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int size)
{
	struct rp_port *port = dev->data->dev_private;
	unsigned int n = xstats_count(dev), k = 0;
	uint64_t rej[RP_IPC_REJ_MAX] = {0};

	if (xs == NULL || size < n)
		return (int)n;
	for (uint16_t q = 0; q < dev->data->nb_rx_queues; q++) {
		const struct rp_queue *rq = port->rxq[q];
		for (unsigned int i = 0; i < RTE_DIM(rxq_names); i++, k++)
			xs[k] = (struct rte_eth_xstat){k, rq ? rq->st[rxq_idx[i]] : 0};
		for (int r = 0; rq && r < RP_IPC_REJ_MAX; r++)
			rej[r] += rq->rej.rejects[r];
	}
	for (uint16_t q = 0; q < dev->data->nb_tx_queues; q++) {
		const struct rp_queue *tq = port->txq[q];
		for (unsigned int i = 0; i < RTE_DIM(txq_names); i++, k++)
			xs[k] = (struct rte_eth_xstat){k, tq ? tq->st[txq_idx[i]] : 0};
		for (int r = 0; tq && r < RP_IPC_REJ_MAX; r++)
			rej[r] += tq->rej.rejects[r];
	}
	for (int r = 1; r < RP_IPC_REJ_MAX; r++, k++)
		xs[k] = (struct rte_eth_xstat){k, rej[r] + port->sess_rej.rejects[r]};
	xs[k] = (struct rte_eth_xstat){k, port->reconnects};
	k++;
	xs[k] = (struct rte_eth_xstat){k, port->connect_failures};
	return (int)n;
}

static int
rp_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	struct rp_port *port = dev->data->dev_private;

	if (mtu > RP_PMD_MAX_MTU) {
		PMD_LOG(ERR, "%s: MTU %u is above the most ringport takes, %u", port->name, mtu,
			RP_PMD_MAX_MTU);
		return -EINVAL;
	}
	return 0;
}

static int
rp_nop(struct rte_eth_dev *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static const struct eth_dev_ops rp_ops = {
	.dev_configure = rp_dev_configure,
	.dev_start = rp_dev_start,
	.dev_stop = rp_dev_stop,
	.dev_close = rp_dev_close,
	.dev_infos_get = rp_dev_infos_get,
	.rx_queue_setup = rp_rx_queue_setup,
	.tx_queue_setup = rp_tx_queue_setup,
	.rx_queue_release = rp_rx_queue_release,
	.tx_queue_release = rp_tx_queue_release,
	.link_update = rp_link_update,
	.stats_get = rp_stats_get,
	.stats_reset = rp_stats_reset,
	.xstats_get = rp_xstats_get,
	.xstats_get_names = rp_xstats_get_names,
	.xstats_reset = rp_stats_reset,
	.mtu_set = rp_mtu_set,
	.promiscuous_enable = rp_nop,
	.promiscuous_disable = rp_nop,
	.allmulticast_enable = rp_nop,
	.allmulticast_disable = rp_nop,
};

/* ---- probe / remove ------------------------------------------------------ */
static int
arg_path(const char *key, const char *value, void *opaque)
{
	struct rp_port *port = opaque;

	if (value == NULL || value[0] == '\0' || strlen(value) >= sizeof(port->path)) {
		PMD_LOG(ERR, "%s: %s='%s' must be a socket path of 1..%zu bytes", port->name, key,
			value ? value : "", sizeof(port->path) - 1);
		return -EINVAL;
	}
	strcpy(port->path, value);
	return 0;
}

static int
arg_zerocopy(const char *key, const char *value, void *opaque)
{
	struct rp_port *port = opaque;

	if (value == NULL || (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)) {
		PMD_LOG(ERR, "%s: %s='%s' must be 0 (copy on rx, the default) or 1 (zero-copy "
			"rx, trusts the VM side)", port->name, key, value ? value : "");
		return -EINVAL;
	}
	port->zerocopy = value[0] == '1';
	return 0;
}

/* Bytes, with an optional K, M or G suffix (powers of 1024). */
static int
arg_max_mem(const char *key, const char *value, void *opaque)
{
	struct rp_port *port = opaque;
	unsigned long long v;
	char *end;

	errno = 0;
	v = value != NULL && value[0] >= '0' && value[0] <= '9' ? strtoull(value, &end, 10) : 0;
	if (v != 0 && errno == 0) {
		unsigned int shift = 0;

		switch (*end) {
		case 'K': case 'k': shift = 10; end++; break;
		case 'M': case 'm': shift = 20; end++; break;
		case 'G': case 'g': shift = 30; end++; break;
		default: break;
		}
		if (*end == '\0' && v <= (UINT64_C(1) << 40) >> shift) {
			port->max_mem = (uint64_t)v << shift;
			return 0;
		}
	}
	PMD_LOG(ERR, "%s: %s='%s' must be a size from 1 to 1T (bytes, or with K, M or G)",
		port->name, key, value ? value : "");
	return -EINVAL;
}

static int
rp_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	const char *args = rte_vdev_device_args(vdev);
	struct rte_kvargs *kv;
	struct rte_eth_dev *dev;
	struct rp_port *port;

	rp_ipc_set_log(rp_ipc_logger);
	kv = rte_kvargs_parse(args ? args : "", valid_args);
	if (kv == NULL) {
		PMD_LOG(ERR, "%s: bad devargs '%s' (valid keys: %s, %s, %s)", name,
			args ? args : "", RP_PMD_ARG_PATH, RP_PMD_ARG_ZEROCOPY, RP_PMD_ARG_MAX_MEM);
		return -EINVAL;
	}
	if (rte_kvargs_count(kv, RP_PMD_ARG_PATH) != 1) {
		PMD_LOG(ERR, "%s: devargs need exactly one %s=<port socket>", name, RP_PMD_ARG_PATH);
		rte_kvargs_free(kv);
		return -EINVAL;
	}
	dev = rte_eth_vdev_allocate(vdev, sizeof(*port));
	if (dev == NULL) {
		rte_kvargs_free(kv);
		return -ENOMEM;
	}
	port = dev->data->dev_private;
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->max_mem = RP_PMD_MAX_MEM_DEFAULT;
	if (rte_kvargs_process(kv, RP_PMD_ARG_PATH, arg_path, port) < 0 ||
		rte_kvargs_process(kv, RP_PMD_ARG_ZEROCOPY, arg_zerocopy, port) < 0 ||
		rte_kvargs_process(kv, RP_PMD_ARG_MAX_MEM, arg_max_mem, port) < 0) {
		rte_kvargs_free(kv);
		rte_eth_dev_release_port(dev);
		return -EINVAL;
	}
	rte_kvargs_free(kv);
	port->port_id = dev->data->port_id;

	/* A locally administered MAC derived from the path, stable across
	 * restarts; the region's MAC is for the guest side. */
	uint32_t h = rp_ipc_path_hash(port->path);
	port->mac = (struct rte_ether_addr){{0x02, 0x52, (uint8_t)(h >> 24), (uint8_t)(h >> 16),
		(uint8_t)(h >> 8), (uint8_t)h}};
	dev->data->mac_addrs = rte_zmalloc("rp_mac", sizeof(port->mac), 0);
	if (dev->data->mac_addrs == NULL) {
		rte_eth_dev_release_port(dev);
		return -ENOMEM;
	}
	*dev->data->mac_addrs = port->mac;
	port->dev_mac = dev->data->mac_addrs;
	dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	dev->dev_ops = &rp_ops;
	dev->rx_pkt_burst = rp_pmd_rx_burst;
	dev->tx_pkt_burst = rp_pmd_tx_burst;

	rte_eth_dev_probing_finish(dev);
	/* The link comes up once the session thread has a session: nothing
	 * here waits for the peer. */
	int rc = sess_thread_start(dev);
	if (rc < 0) {
		PMD_LOG(ERR, "%s: cannot start the session thread: %s", name, strerror(-rc));
		rte_eth_dev_release_port(dev);
		return rc;
	}
	PMD_LOG(INFO, "%s: probed, path=%s, port %u, %s rx, max_mem=%" PRIu64, name, port->path,
		port->port_id, port->zerocopy ? "zero-copy (trusts the VM side)" : "copying",
		port->max_mem);
	return 0;
}

static int
rp_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));

	if (dev == NULL)
		return 0;
	rp_dev_close(dev);
	return rte_eth_dev_release_port(dev);
}

static struct rte_vdev_driver rp_pmd_drv = {
	.probe = rp_probe,
	.remove = rp_remove,
};

RTE_PMD_REGISTER_VDEV(net_ringport, rp_pmd_drv);
RTE_PMD_REGISTER_PARAM_STRING(net_ringport, RP_PMD_ARG_PATH "=<port socket path> "
	RP_PMD_ARG_ZEROCOPY "=0|1 " RP_PMD_ARG_MAX_MEM "=<bytes, K, M or G>");
