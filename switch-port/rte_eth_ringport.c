/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ringport: a vdev PMD that turns a ringport port socket into an
 * ethdev for stock OVS-DPDK.
 *
 *   --vdev/dpdk-devargs net_ringport<N>,path=/run/ringport/vm1.sock
 *
 * This file: the devargs, probe and remove, and the eth_dev_ops. The
 * session (connect, handshake, peer loss, reconnect, retirement) runs on a
 * thread of the port's own: rp_pmd_sess.c. The data path: rp_pmd_rx.c and
 * rp_pmd_tx.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bus_vdev_driver.h>
#include <ethdev_vdev.h>
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

RTE_LOG_REGISTER_DEFAULT(rp_pmd_logtype, NOTICE);

static const char *const valid_args[] = {RP_PMD_ARG_PATH, RP_PMD_ARG_ZEROCOPY,
	RP_PMD_ARG_MAX_MEM, NULL};

static void
rp_ipc_logger(enum rp_ipc_log_level level, const char *msg)
{
	rte_log(level == RP_IPC_LOG_ERR ? RTE_LOG_ERR : level == RP_IPC_LOG_WARN ? RTE_LOG_WARNING
										   : RTE_LOG_INFO,
		rp_pmd_logtype, "net_ringport: %s\n", msg);
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
	rp_sess_thread_stop(port);
	rp_sess_close(port, "port closed");
	/* No burst runs once the port is closed. */
	rp_sess_reap_retired(port, true);
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

int
rp_pmd_link_update(struct rte_eth_dev *dev, int wait)
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
	.link_update = rp_pmd_link_update,
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
	int rc = rp_sess_thread_start(dev);
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
