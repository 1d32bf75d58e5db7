/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ringport sessions: the port's session thread, the only thread that
 * opens, watches and ends them.
 *
 * It connects with non-blocking sockets and deadlines, so add-port returns
 * at once with the link down, and the link comes up when a handshake
 * completes. Failed attempts back off from RP_PMD_BACKOFF_MIN_MS doubling
 * to RP_PMD_BACKOFF_MAX_MS. A session that ends is retired: rp_port.sess
 * is cleared, and the session is released only when every queue has left
 * any burst that could have seen it, and its region stays mapped until the
 * last mbuf pointing into it is freed (orphans, checked by an EAL alarm
 * after the port is gone).
 *
 * Ownership: port->sess, port->retired and the session counters are
 * written here only, on the session thread (dev_close stops it first);
 * the data path (rp_pmd_rx.c, rp_pmd_tx.c) reads port->sess inside
 * rp_queue_enter/exit.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <ethdev_driver.h>
#include <rte_alarm.h>
#include <rte_malloc.h>

#include "rp_pmd.h"

#define RP_PMD_POLL_US 100000     /* orphaned sessions' check */
#define RP_PMD_TICK_MS 100        /* the session thread's period with a session */
#define RP_PMD_HANDSHAKE_MS 500   /* each handshake step's deadline */
#define RP_PMD_BACKOFF_MIN_MS 100
#define RP_PMD_BACKOFF_MAX_MS 5000
#define RP_PMD_LOG_EVERY_MS 60000 /* a repeated refusal, logged once a minute */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- sessions ----------------------------------------------------------- */
void
rp_sess_free(struct rp_sess *s)
{
	for (unsigned int q = 0; q < s->n_wake; q++)
		close(s->wake[q]);
	for (unsigned int q = 0; q < RP_IPC_MAX_QPAIRS; q++)
		rte_free(s->free_back[q]);
	rte_free(s->lc);
	rte_free(s->shinfo);
	rte_free(s->origin);
	rp_ipc_pool_free(s->own);
	rp_ipc_pool_free(s->borrowed);
	rp_ipc_region_put(s->r);
	rte_free(s);
}

bool
rp_sess_idle(const struct rp_sess *s)
{
	uint64_t attached = 0, freed = 0;

	/* Retired: no rx runs on @s, so attached is final; read it first. */
	for (unsigned int q = 0; q < RP_IPC_MAX_QPAIRS; q++)
		attached += __atomic_load_n(&s->ctr[q].attached, __ATOMIC_ACQUIRE);
	for (unsigned int i = 0; i <= RTE_MAX_LCORE; i++)
		freed += __atomic_load_n(&s->lc[i].freed, __ATOMIC_ACQUIRE);
	return freed == attached;
}

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
	const struct rp_ipc_hs_opts hs = {.name = port->name,
		.features = RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG | RP_IPC_F_WAKE_SOCK,
		.timeout_ms = RP_PMD_HANDSHAKE_MS, .peer = &peer, .st = &port->sess_rej,
		.rej = &rej, .why = why, .why_size = sizeof(why)};
	rc = rp_ipc_client_handshake(sock, &hs, &r, wake, &n_wake);
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

void
rp_sess_close(struct rp_port *port, const char *reason)
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

void
rp_sess_reap_retired(struct rp_port *port, bool force)
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

/* Store the new link state, then tell the application. With LSC interrupt
 * mode ethdev reads dev_link directly rather than calling link_update. */
static void
link_changed(struct rte_eth_dev *dev)
{
	rp_pmd_link_update(dev, 0);
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
		rp_sess_close(port, "peer corrupted a shared ring");
		link_changed(dev);
	} else if (peer_gone(s, why, sizeof(why))) {
		rp_sess_close(port, why);
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
		rp_sess_reap_retired(port, false);
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

int
rp_sess_thread_start(struct rte_eth_dev *dev)
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

void
rp_sess_thread_stop(struct rp_port *port)
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
