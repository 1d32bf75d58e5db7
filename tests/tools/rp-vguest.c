/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp-vguest: a test guest on DPDK's net_virtio_user, a real virtio-net
 * driver we did not write, for the iothread's tests.
 *
 *   rp-vguest --vhost PATH [--queues N] [--packed] [--server] [--send N]
 *             [--expect N] [--flows F] [--rate PPS] [--check-steer]
 *
 * It sends --send UDP/IPv4 frames over --flows flows (flow f has source
 * port 1024+f and always leaves on TX queue f % N), each carrying its flow,
 * a per-flow sequence number and a CRC32C over the payload. It receives,
 * verifies every frame (CRC, length, per-flow order) and, with
 * --check-steer, that each flow arrived on the RX queue the Toeplitz
 * reference picks: (hash & 127) % N over the UDP 4-tuple with the standard
 * key, computed here bit by bit, independently of the iothread's code.
 * Prints one JSON object; exit 0 only if everything sent went out and
 * exactly --expect clean frames came in (--forever: see --help).
 */
/* rte_ipv4_udptcp_cksum_verify() is experimental (and inline) in 22.11. */
#define ALLOW_EXPERIMENTAL_API 1
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "rp_peer.h"

#define PROG "rp-vguest"
#define MAX_Q 16
#define MAX_FLOWS 4096
#define BURST 32
#define RATE_DEPTH 256
#define VG_MAGIC 0x52505647u /* "RPVG" */
#define VG_MAGIC_SPOOF 0x52505653u /* "RPVS": a --spoof frame */
#define VG_HDR_LEN (RTE_ETHER_HDR_LEN + 20 + 8)
#define LINGER_S 0.3 /* after the counts: catch duplicates */

struct vg_payload {
	uint32_t magic;
	uint16_t flow;
	uint16_t len; /* whole frame */
	uint64_t seq;
	uint32_t sender; /* the sending process: a restarted guest starts over */
	uint32_t crc; /* CRC32C of the rest of the payload, then of the above */
} __attribute__((packed));

struct opts {
	const char *vhost;
	unsigned int queues;
	bool packed, server, check_steer, forever, tx_csum, reorder_ok;
	uint64_t send, expect, rate;
	unsigned int flows;
	unsigned int timeout_s;
	unsigned int frame_min, frame_max;
	unsigned int n_over; /* --oversize frames, sent first */
	unsigned int n_spoof; /* --spoof frames, sent first */
	bool mac_set; /* --addr: the device's MAC too */
	uint64_t over_len[4];
	unsigned int over_segs[4];
	int cpu;
	const char *go_file;
};

static const uint8_t std_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Toeplitz, straight from the definition: for each input bit set, XOR in
 * the 32 key bits starting at that bit. */
static uint32_t
toeplitz(const uint8_t *in, size_t n)
{
	uint32_t h = 0;

	for (size_t bit = 0; bit < n * 8; bit++) {
		if (!(in[bit / 8] & (0x80 >> (bit % 8))))
			continue;
		uint32_t w = 0;

		for (size_t k = 0; k < 32; k++) {
			size_t kb = bit + k;

			w = (w << 1) | ((std_key[kb / 8] >> (7 - kb % 8)) & 1u);
		}
		h ^= w;
	}
	return h;
}

/* The frames' addresses (--addr, --peer). */
static uint8_t mac_src[6] = {0x02, 0x52, 0x50, 0, 0, 0x01}, mac_dst[6] = {0x02, 0x52, 0x50, 0, 0, 0x02};
static uint8_t ip_src[4] = {10, 0, 0, 1}, ip_dst[4] = {10, 0, 0, 2};
#define DPORT 5001

/* The RX queue of a frame from @src to @dst, UDP source port @sport. */
static unsigned int
rss_queue(const uint8_t *src, const uint8_t *dst, uint16_t sport, unsigned int nq)
{
	uint8_t in[12];

	memcpy(in, src, 4);
	memcpy(in + 4, dst, 4);
	in[8] = (uint8_t)(sport >> 8), in[9] = (uint8_t)sport;
	in[10] = DPORT >> 8, in[11] = DPORT & 0xff;
	return (toeplitz(in, sizeof(in)) & 127) % nq;
}

/* Where the peer's RSS puts our flow @flow. */
static unsigned int
flow_queue(unsigned int flow, unsigned int nq)
{
	return rss_queue(ip_src, ip_dst, (uint16_t)(1024 + flow), nq);
}

/* Where ours should have put the received frame @f (checked by check()). */
static unsigned int
frame_queue(const uint8_t *f, unsigned int nq)
{
	const uint8_t *ip = f + RTE_ETHER_HDR_LEN;

	return rss_queue(ip + 12, ip + 16, (uint16_t)(ip[20] << 8 | ip[21]), nq);
}

static uint32_t
payload_crc(const uint8_t *pl, uint32_t pl_len)
{
	uint32_t c = rp_crc32c(pl + sizeof(struct vg_payload), pl_len - sizeof(struct vg_payload),
		0xffffffff);

	return rp_crc32c(pl, offsetof(struct vg_payload, crc), c);
}

static void
build(uint8_t *f, uint16_t len, unsigned int flow, uint64_t seq, uint32_t magic)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(udp + 1);
	uint32_t pl_len = len - VG_HDR_LEN;
	struct vg_payload h = {.magic = magic, .flow = (uint16_t)flow, .len = len, .seq = seq,
		.sender = (uint32_t)getpid()};

	memcpy(eh->dst_addr.addr_bytes, mac_dst, 6);
	memcpy(eh->src_addr.addr_bytes, mac_src, 6);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - RTE_ETHER_HDR_LEN));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, ip_src, 4);
	memcpy(&ip->dst_addr, ip_dst, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + flow));
	udp->dst_port = rte_cpu_to_be_16(DPORT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(len - RTE_ETHER_HDR_LEN - 20));
	udp->dgram_cksum = 0;
	for (uint32_t i = sizeof(h); i < pl_len; i++)
		pl[i] = (uint8_t)(seq + i * 13 + flow);
	memcpy(pl, &h, sizeof(h));
	h.crc = payload_crc(pl, pl_len);
	memcpy(pl + offsetof(struct vg_payload, crc), &h.crc, sizeof(h.crc));
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

/* Offload the UDP checksum: the field holds the pseudo-header sum and the
 * device (here: the iothread, then the switch port) completes it. */
static void
csum_offload(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
		RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
	udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
}

/* 0 and the flow/seq; -1: not one of ours, or damaged; -2: the UDP
 * checksum does not verify; -3: one of --spoof's frames. */
static int
check(const uint8_t *f, uint32_t len, uint16_t *flow, uint64_t *seq, uint32_t *sender)
{
	struct vg_payload h;

	if (len < VG_HDR_LEN + sizeof(h) || f[12] != 0x08 || f[13] != 0x00 || f[23] != IPPROTO_UDP)
		return -1;
	/* The UDP checksum, whoever filled it in, must verify. */
	if (rte_ipv4_udptcp_cksum_verify((const struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN),
		    f + RTE_ETHER_HDR_LEN + 20) != 0)
		return -2;
	memcpy(&h, f + VG_HDR_LEN, sizeof(h));
	if ((h.magic != VG_MAGIC && h.magic != VG_MAGIC_SPOOF) || h.len != len ||
		h.flow >= MAX_FLOWS || payload_crc(f + VG_HDR_LEN, len - VG_HDR_LEN) != h.crc)
		return -1;
	if (h.magic == VG_MAGIC_SPOOF)
		return -3; /* a forged source got through */
	*flow = h.flow;
	*seq = h.seq;
	*sender = h.sender;
	return 0;
}

static volatile sig_atomic_t stop, hold;

/* SIGUSR1: stop sending, keep receiving (with --forever, a test can then
 * drain the path and compare one guest's sent with the other's received). */
static void
on_hold(int sig)
{
	(void)sig;
	hold = 1;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --vhost PATH [options]\n"
		"  --vhost PATH      vhost-user socket (the iothread's --vhost)\n"
		"  --queues N        queue pairs (1..%d, default 1)\n"
		"  --packed          use packed virtqueues (default split)\n"
		"  --server          be the vhost-user server (the iothread runs --vhost-client)\n"
		"  --send N          frames to send (default 0)\n"
		"  --expect N        clean frames to receive (default 0)\n"
		"  --flows F         flows to spread the frames over (1..%d, default 64)\n"
		"  --rate PPS        send at most PPS frames per second (default: no limit)\n"
		"  --frame-size MIN[-MAX]  frame lengths (60..1514, default 64-1514)\n"
		"  --oversize BYTES:SEGS  first send one frame of BYTES in SEGS buffers (up to\n"
		"                    16000 each) on queue 0, before the others: a frame the\n"
		"                    backend must drop whole (up to 4 times)\n"
		"  --check-steer     check each flow's RX queue against the Toeplitz reference\n"
		"  --tx-csum         leave the UDP checksum to the device (virtio NEEDS_CSUM);\n"
		"                    every frame's UDP checksum is verified on receipt anyway\n"
		"  --forever         run until SIGTERM (the counts and --timeout do not end it);\n"
		"                    clean then means nothing damaged, duplicated or reordered\n"
		"                    (frames lost while a peer restarts are counted as gaps)\n"
		"  --addr MAC,IP     the frames' source, and the device's MAC\n"
		"                    (default 02:52:50:00:00:01,10.0.0.1)\n"
		"  --peer MAC,IP     the frames' destination (default 02:52:50:00:00:02,10.0.0.2)\n"
		"  --spoof N         first send N frames with a forged source, a MAC and an IP\n"
		"                    in turn (flows 0.. as usual otherwise): a receiver counts\n"
		"                    any that arrive as 'spoofed', and is not clean then\n"
		"  --reorder-ok      frames of a flow may arrive out of order (steering changed\n"
		"                    the flow's queue): every frame must still arrive exactly\n"
		"                    once; reorders are counted, duplicates are errors\n"
		"  --go-file PATH    hold sending until PATH exists (SIGUSR1: stop sending)\n"
		"  --cpu C           the CPU to run on (default: any)\n"
		"  --timeout S       give up after S seconds (default 30)\n"
		"  -h, --help        this text\n"
		"Prints one JSON object (gaps: frames of a flow that never came, up to its\n"
		"last that did; bad_order: frames behind, or with --reorder-ok seen twice);\n"
		"exit 0 if clean, 1 if not, 2 on bad usage.\n",
		MAX_Q, MAX_FLOWS);
}

static int
num(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || *s == '-' || v < min || v > max) {
		fprintf(stderr, PROG ": %s '%s' is not a number in %" PRIu64 "..%" PRIu64 "\n",
			flag, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* One frame of @len bytes in @segs buffers: an Ethernet header (local
 * experimental EtherType) and zeroes, which no receiver should ever see. */
static struct rte_mbuf *
oversize(struct rte_mempool *mp, uint64_t len, unsigned int segs)
{
	struct rte_mbuf *head = NULL;

	for (unsigned int i = 0; i < segs; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint16_t n = (uint16_t)(len / segs + (i < len % segs));

		if (m == NULL || rte_pktmbuf_append(m, n) == NULL) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		memset(rte_pktmbuf_mtod(m, void *), 0, n);
		if (head == NULL) {
			struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

			memset(eh->dst_addr.addr_bytes, 0xff, 6);
			memcpy(eh->src_addr.addr_bytes, mac_src, 6);
			eh->ether_type = rte_cpu_to_be_16(0x88b5);
			head = m;
		} else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	return head;
}

/* MAC,IPv4 into @mac and @ip; -1 with a message naming the bad value. */
static int
parse_addr(const char *what, const char *arg, uint8_t *mac, uint8_t *ip)
{
	char buf[64];
	char *comma;
	struct rte_ether_addr ea;

	snprintf(buf, sizeof(buf), "%s", arg);
	comma = strchr(buf, ',');
	if (comma == NULL || strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, PROG ": %s '%s': want MAC,IPv4\n", what, arg);
		return -1;
	}
	*comma = '\0';
	if (rte_ether_unformat_addr(buf, &ea) != 0 || !rte_is_unicast_ether_addr(&ea)) {
		fprintf(stderr, PROG ": %s: '%s' is not a unicast MAC address\n", what, buf);
		return -1;
	}
	if (inet_pton(AF_INET, comma + 1, ip) != 1) {
		fprintf(stderr, PROG ": %s: '%s' is not an IPv4 address\n", what, comma + 1);
		return -1;
	}
	memcpy(mac, ea.addr_bytes, 6);
	return 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"vhost", required_argument, NULL, 'v'}, {"queues", required_argument, NULL, 'q'},
		{"packed", no_argument, NULL, 'P'}, {"server", no_argument, NULL, 'S'},
		{"send", required_argument, NULL, 's'}, {"expect", required_argument, NULL, 'e'},
		{"flows", required_argument, NULL, 'f'}, {"rate", required_argument, NULL, 'r'},
		{"frame-size", required_argument, NULL, 'z'},
		{"oversize", required_argument, NULL, 'O'},
		{"check-steer", no_argument, NULL, 'C'}, {"forever", no_argument, NULL, 'F'},
		{"tx-csum", no_argument, NULL, 'X'}, {"go-file", required_argument, NULL, 'g'},
		{"reorder-ok", no_argument, NULL, 'R'},
		{"addr", required_argument, NULL, 'a'}, {"peer", required_argument, NULL, 'p'},
		{"spoof", required_argument, NULL, 'o'},
		{"cpu", required_argument, NULL, 'c'}, {"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	*o = (struct opts){.queues = 1, .flows = 64, .timeout_s = 30, .frame_min = 64,
		.frame_max = 1514, .cpu = -1};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'v': o->vhost = optarg; break;
		case 'q':
			if (num("--queues", optarg, 1, MAX_Q, &v) < 0)
				return -1;
			o->queues = (unsigned int)v;
			break;
		case 'P': o->packed = true; break;
		case 'S': o->server = true; break;
		case 'C': o->check_steer = true; break;
		case 'F': o->forever = true; break;
		case 'X': o->tx_csum = true; break;
		case 'R': o->reorder_ok = true; break;
		case 'g': o->go_file = optarg; break;
		case 'a':
			if (parse_addr("--addr", optarg, mac_src, ip_src) < 0)
				return -1;
			o->mac_set = true;
			break;
		case 'p':
			if (parse_addr("--peer", optarg, mac_dst, ip_dst) < 0)
				return -1;
			break;
		case 'o':
			if (num("--spoof", optarg, 0, 1000, &v) < 0)
				return -1;
			o->n_spoof = (unsigned int)v;
			break;
		case 's':
			if (num("--send", optarg, 0, UINT64_MAX, &o->send) < 0)
				return -1;
			break;
		case 'e':
			if (num("--expect", optarg, 0, UINT64_MAX, &o->expect) < 0)
				return -1;
			break;
		case 'r':
			if (num("--rate", optarg, 0, UINT64_MAX, &o->rate) < 0)
				return -1;
			break;
		case 'f':
			if (num("--flows", optarg, 1, MAX_FLOWS, &v) < 0)
				return -1;
			o->flows = (unsigned int)v;
			break;
		case 'c':
			if (num("--cpu", optarg, 0, 1023, &v) < 0)
				return -1;
			o->cpu = (int)v;
			break;
		case 't':
			if (num("--timeout", optarg, 1, 86400, &v) < 0)
				return -1;
			o->timeout_s = (unsigned int)v;
			break;
		case 'z': {
			char *dash = strchr(optarg, '-');
			uint64_t a, b;

			if (dash)
				*dash = '\0';
			if (num("--frame-size", optarg, 60, 1514, &a) < 0 ||
				(dash && num("--frame-size", dash + 1, a, 1514, &b) < 0))
				return -1;
			o->frame_min = (unsigned int)a;
			o->frame_max = (unsigned int)(dash ? b : a);
			break;
		}
		case 'O': {
			char *colon = strchr(optarg, ':');
			uint64_t b, k;

			if (colon == NULL || o->n_over == 4) {
				fprintf(stderr, PROG ": --oversize '%s': want BYTES:SEGS, at most 4\n",
					optarg);
				return -1;
			}
			*colon = '\0';
			if (num("--oversize segments", colon + 1, 1, 200, &k) < 0 ||
				num("--oversize bytes", optarg, 60 * k, 16000 * k, &b) < 0)
				return -1;
			o->over_len[o->n_over] = b;
			o->over_segs[o->n_over++] = (unsigned int)k;
			break;
		}
		case 'h': usage(stdout); exit(0);
		case ':':
			fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	if (o->vhost == NULL) {
		fprintf(stderr, PROG ": --vhost is required\n");
		return -1;
	}
	/* Headers and our payload header always fit. */
	if (o->frame_min < VG_HDR_LEN + sizeof(struct vg_payload))
		o->frame_min = VG_HDR_LEN + sizeof(struct vg_payload);
	if (o->frame_max < o->frame_min)
		o->frame_max = o->frame_min;
	return 0;
}

struct flow_state {
	uint64_t tx_seq, rx_seq;
	uint64_t rx_count; /* --reorder-ok: frames of this sender received */
	uint32_t sender;
	uint64_t *seen; /* --reorder-ok: a bit per sequence number received */
	uint64_t seen_bits;
};

/* --reorder-ok: mark seq received; false if it already was (a duplicate). */
static bool
mark_seen(struct flow_state *f, uint64_t seq)
{
	if (seq >= f->seen_bits) {
		/* Whole words: a partial last word would be cleared by
		 * neither memset, and stale bits would read as duplicates. */
		uint64_t bits = RTE_ALIGN_CEIL((seq + 1) * 2 > 4096 ? (seq + 1) * 2 : 4096, 64);
		uint64_t *n = realloc(f->seen, bits / 8);

		if (n == NULL)
			abort();
		memset((uint8_t *)n + f->seen_bits / 8, 0, (bits - f->seen_bits) / 8);
		f->seen = n;
		f->seen_bits = bits;
	}
	if (f->seen[seq / 64] & (1ull << (seq % 64)))
		return false;
	f->seen[seq / 64] |= 1ull << (seq % 64);
	return true;
}

static struct flow_state flows[MAX_FLOWS];

/* The first frames out of order, and the first changes of a flow's
 * sender, on stderr with the wall-clock time, so that a test can tell
 * which event they followed. */
static void __rte_format_printf(2, 3)
report(unsigned int *count, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (*count >= 20)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "[%s.%03ld] " PROG ": ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (++*count == 20)
		fprintf(stderr, PROG ": (no more reports of this kind)\n");
}

/* A frame of flow @flow not the @next one expected: @what it is. */
enum vg_odd { VG_BEHIND, VG_REORDERED, VG_GAP, VG_ODD_MAX };

static void
report_frame(enum vg_odd what, uint16_t flow, uint64_t seq, uint64_t next, uint32_t sender,
	uint16_t q)
{
	static unsigned int n[VG_ODD_MAX];
	char why[48];

	if (what == VG_GAP)
		snprintf(why, sizeof(why), "%" PRIu64 " missing", seq - next);
	else
		snprintf(why, sizeof(why), "%s", what == VG_REORDERED ? "reordered" :
			seq < next ? "behind" : "a duplicate");
	report(&n[what], "flow %u from sender %" PRIu32 " on queue %u: seq %" PRIu64 " when %"
		PRIu64 " was next (%s)\n", flow, sender, q, seq, next, why);
}

static void
report_sender(uint16_t flow, uint32_t was, uint32_t now, uint64_t seq)
{
	static unsigned int n;

	report(&n, "flow %u: sender %" PRIu32 " after %" PRIu32 " (seq %" PRIu64 ")\n", flow,
		now, was, seq);
}

int
main(int argc, char **argv)
{
	struct opts o;
	char prefix[64], lcores[32], vdev[512];
	char *eal[16];
	int n = 0;

	if (parse(argc, argv, &o) < 0)
		return 2;
	snprintf(prefix, sizeof(prefix), "--file-prefix=rp-vguest-%d", (int)getpid());
	if (o.cpu >= 0)
		snprintf(lcores, sizeof(lcores), "0@%d", o.cpu);
	else
		snprintf(lcores, sizeof(lcores), "0");
	/* --single-file-segments: without it the memory table keeps changing
	 * and the vhost side never sees a packet (DPDK 22.11, seen here). */
	/* The device's MAC: --addr's, or one of our own. */
	uint8_t dev_mac[6] = {0x02, 0x52, 0x50, 0, 0, (uint8_t)getpid()};

	if (o.mac_set)
		memcpy(dev_mac, mac_src, sizeof(dev_mac));
	snprintf(vdev, sizeof(vdev),
		"net_virtio_user0,path=%s,queues=%u,packed_vq=%d,server=%d,mrg_rxbuf=1,"
		"mac=%02x:%02x:%02x:%02x:%02x:%02x", o.vhost, o.queues, o.packed, o.server,
		dev_mac[0], dev_mac[1], dev_mac[2], dev_mac[3], dev_mac[4], dev_mac[5]);
	eal[n++] = argv[0];
	eal[n++] = prefix;
	eal[n++] = (char *)"--in-memory";
	eal[n++] = (char *)"--single-file-segments";
	eal[n++] = (char *)"--no-pci";
	eal[n++] = (char *)"--no-telemetry";
	eal[n++] = (char *)"-m";
	eal[n++] = (char *)"256";
	eal[n++] = (char *)"--lcores";
	eal[n++] = lcores;
	eal[n++] = (char *)"--vdev";
	eal[n++] = vdev;
	eal[n++] = (char *)"--log-level=*:warning";
	eal[n] = NULL;
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, PROG ": EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_hold);

	uint16_t port = 0, nq = (uint16_t)o.queues;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("vg", 8191, 256, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	struct rte_eth_conf conf = {0};
	int rc = 1;

	/* Server mode re-accepts a backend that went away from the port's
	 * interrupt handler, armed by the link-state checks below. */
	conf.intr_conf.lsc = o.server;

	if (mp == NULL || !rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, PROG ": no virtio-user port (is %s there?)\n", o.vhost);
		goto out;
	}
	if (o.tx_csum) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(port, &info) != 0 ||
			!(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) {
			fprintf(stderr, PROG ": --tx-csum: the device offers no UDP checksum offload "
				"(did the backend offer VIRTIO_NET_F_CSUM?)\n");
			goto out;
		}
		conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	}
	if (rte_eth_dev_configure(port, nq, nq, &conf) < 0)
		goto fail;
	for (uint16_t q = 0; q < nq; q++)
		if (rte_eth_rx_queue_setup(port, q, 512, (unsigned int)rte_socket_id(), NULL, mp) < 0 ||
			rte_eth_tx_queue_setup(port, q, 512, (unsigned int)rte_socket_id(), NULL) < 0)
			goto fail;
	if (rte_eth_dev_start(port) < 0)
		goto fail;

	uint64_t sent = 0, received = 0, bad_payload = 0, bad_order = 0, bad_queue = 0, gaps = 0;
	uint64_t reordered = 0;
	uint64_t bad_csum = 0; /* of bad_payload: the UDP checksum did not verify */
	uint64_t tx_q[MAX_Q] = {0}, rx_q[MAX_Q] = {0}, ring_expect[MAX_Q] = {0};
	double t0 = rp_now_s(), last_rx = t0, done_at = 0, tokens = RATE_DEPTH, t_rate = t0;
	double t_link = t0;
	bool go = o.go_file == NULL, timed_out = false;
	struct rte_mbuf *pend[MAX_Q][BURST];
	unsigned int n_pend[MAX_Q] = {0};
	uint64_t next_flow = 0, made = 0;
	unsigned int over_sent = 0, spoof_sent = 0;
	uint64_t spoofed = 0; /* --spoof frames (a peer's) received */
	struct rte_mempool *big_mp = o.n_over == 0 ? NULL :
		rte_pktmbuf_pool_create("vg-big", 1023, 0, 0, RTE_PKTMBUF_HEADROOM + 16000,
			(int)rte_socket_id());

	if (o.n_over > 0 && big_mp == NULL) {
		fprintf(stderr, PROG ": --oversize: no memory for its buffers\n");
		goto out;
	}

	while (!stop) {
		double now = rp_now_s();
		unsigned int got_any = 0, sent_now = 0;

		if (!o.forever && now - t0 > o.timeout_s) {
			timed_out = true;
			break;
		}
		if (o.server && now - t_link > 0.1) {
			struct rte_eth_link link;

			rte_eth_link_get_nowait(port, &link);
			t_link = now;
		}
		if (!go) {
			struct stat sb;

			go = stat(o.go_file, &sb) == 0;
		}
		if (o.rate) {
			tokens += (now - t_rate) * (double)o.rate;
			if (tokens > RATE_DEPTH)
				tokens = RATE_DEPTH;
		}
		t_rate = now;
		/* The oversize frames, once, before any other. */
		while (go && over_sent < o.n_over && n_pend[0] < BURST) {
			struct rte_mbuf *m = oversize(big_mp, o.over_len[over_sent],
				o.over_segs[over_sent]);

			if (m == NULL)
				break;
			pend[0][n_pend[0]++] = m;
			over_sent++;
		}
		/* The forged frames, once, before the others: the source MAC,
		 * then the source IP, not the port's (OVN's port security). */
		while (go && spoof_sent < o.n_spoof && n_pend[0] < BURST) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
			uint8_t *fr;

			if (m == NULL)
				break;
			fr = rte_pktmbuf_mtod(m, uint8_t *);
			build(fr, 128, 0, spoof_sent, VG_MAGIC_SPOOF);
			if (spoof_sent % 2 == 0) {
				fr[6 + 5] ^= 0x80; /* the source MAC's last byte */
			} else {
				struct rte_ipv4_hdr *ip = (void *)(fr + RTE_ETHER_HDR_LEN);
				struct rte_udp_hdr *udp = (void *)(ip + 1);

				fr[RTE_ETHER_HDR_LEN + 15] ^= 0x80; /* the source IP's */
				ip->hdr_checksum = 0;
				ip->hdr_checksum = rte_ipv4_cksum(ip);
				udp->dgram_cksum = 0;
				udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
			}
			m->data_len = m->pkt_len = 128;
			pend[0][n_pend[0]++] = m;
			spoof_sent++;
		}
		/* Send: one frame per flow in turn; flow f always on queue
		 * f % nq, each queue in order, so every flow stays in order. */
		while (go && !hold && made < o.send && (!o.rate || tokens >= 1)) {
			unsigned int f = (unsigned int)(next_flow % o.flows), q = f % nq;
			struct rte_mbuf *m;
			uint16_t len;

			if (n_pend[q] == BURST || (m = rte_pktmbuf_alloc(mp)) == NULL)
				break;
			len = rp_testpkt_len(flows[f].tx_seq, (uint16_t)o.frame_min,
				(uint16_t)o.frame_max);
			build(rte_pktmbuf_mtod(m, uint8_t *), len, f, flows[f].tx_seq++, VG_MAGIC);
			m->data_len = m->pkt_len = len;
			if (o.tx_csum)
				csum_offload(m);
			pend[q][n_pend[q]++] = m;
			ring_expect[flow_queue(f, nq)]++;
			next_flow++;
			made++;
			tokens -= 1;
		}
		for (uint16_t q = 0; q < nq; q++) {
			if (n_pend[q] == 0)
				continue;
			uint16_t k = rte_eth_tx_burst(port, q, pend[q], (uint16_t)n_pend[q]);

			memmove(pend[q], pend[q] + k, (n_pend[q] - k) * sizeof(pend[q][0]));
			n_pend[q] -= k;
			sent += k;
			sent_now += k;
			tx_q[q] += k;
		}
		/* Receive and verify. */
		for (uint16_t q = 0; q < nq; q++) {
			struct rte_mbuf *rx[BURST];
			uint16_t k = rte_eth_rx_burst(port, q, rx, BURST);

			got_any += k;
			for (uint16_t i = 0; i < k; i++) {
				struct rte_mbuf *m = rx[i];
				uint16_t fl;
				uint64_t seq;
				uint32_t from;

				int ck = m->nb_segs != 1 ? -1 : check(rte_pktmbuf_mtod(m, uint8_t *),
					m->pkt_len, &fl, &seq, &from);

				if (ck == -3) {
					spoofed++;
				} else if (ck < 0) {
					bad_payload++;
					bad_csum += ck == -2;
				} else {
					if (from != flows[fl].sender) {
						/* A new sender: its flow starts over. */
						if (flows[fl].sender != 0)
							report_sender(fl, flows[fl].sender, from, seq);
						if (o.reorder_ok)
							gaps += flows[fl].rx_seq - flows[fl].rx_count;
						flows[fl].sender = from;
						flows[fl].rx_seq = 0;
						flows[fl].rx_count = 0;
						if (flows[fl].seen != NULL)
							memset(flows[fl].seen, 0, flows[fl].seen_bits / 8);
					}
					/* Behind: a duplicate or a reordering.
					 * Ahead: frames lost on the way (or, with
					 * --reorder-ok, overtaken: received ==
					 * expected with no duplicate is the proof). */
					uint64_t bad_before = bad_order;

					if (o.reorder_ok) {
						if (!mark_seen(&flows[fl], seq)) {
							bad_order++;
						} else {
							flows[fl].rx_count++;
							if (seq < flows[fl].rx_seq) {
								reordered++;
								report_frame(VG_REORDERED, fl, seq,
									flows[fl].rx_seq, from, q);
							}
						}
					} else if (seq < flows[fl].rx_seq) {
						bad_order++;
					} else if (seq > flows[fl].rx_seq) {
						gaps += seq - flows[fl].rx_seq;
						report_frame(VG_GAP, fl, seq, flows[fl].rx_seq, from, q);
					}
					if (bad_order != bad_before)
						report_frame(VG_BEHIND, fl, seq, flows[fl].rx_seq, from, q);
					if (seq >= flows[fl].rx_seq)
						flows[fl].rx_seq = seq + 1;
					if (o.check_steer && q != frame_queue(rte_pktmbuf_mtod(m,
									  const uint8_t *), nq))
						bad_queue++;
					received++;
				}
				rx_q[q]++;
				rte_pktmbuf_free(m);
			}
		}
		if (got_any)
			last_rx = now;
		bool counts = sent >= o.send + o.n_over + o.n_spoof && received + bad_payload >= o.expect;

		if (counts && done_at == 0 && !o.forever)
			done_at = now;
		if (done_at && now - done_at > LINGER_S && now - last_rx > LINGER_S)
			break;
		/* Nothing came and nothing could go (all sent, held, or paced):
		 * nap, so a paced guest leaves the CPU to the switch. */
		if (!got_any && !sent_now)
			usleep(20);
	}

	json_t *txa = json_array(), *rxa = json_array(), *ra = json_array();

	for (uint16_t q = 0; q < nq; q++) {
		json_array_append_new(txa, json_integer((json_int_t)tx_q[q]));
		json_array_append_new(rxa, json_integer((json_int_t)rx_q[q]));
		json_array_append_new(ra, json_integer((json_int_t)ring_expect[q]));
	}
	/* --reorder-ok: what never came, of each flow's current sender, up
	 * to the last frame that did. */
	for (unsigned int f = 0; o.reorder_ok && f < MAX_FLOWS; f++)
		gaps += flows[f].rx_seq - flows[f].rx_count;
	bool clean = o.forever ? stop && bad_payload == 0 && bad_order == 0 && bad_queue == 0 &&
				 spoofed == 0
			       : !timed_out && !stop && sent == o.send + o.n_over + o.n_spoof &&
			received == o.expect && bad_payload == 0 && bad_order == 0 && bad_queue == 0 &&
			gaps == 0 && spoofed == 0;
	json_t *out = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:b}", "end",
		timed_out ? "timeout" : stop ? "signal" : "done", "sent", (json_int_t)sent,
		"received", (json_int_t)received, "bad_payload", (json_int_t)bad_payload,
		"bad_csum", (json_int_t)bad_csum,
		"bad_order", (json_int_t)bad_order, "gaps", (json_int_t)gaps, "bad_queue",
		(json_int_t)bad_queue, "tx_queues",
		txa, "rx_queues", rxa, "steer_expect", ra, "clean", clean);
	json_object_set_new(out, "reordered", json_integer((json_int_t)reordered));
	json_object_set_new(out, "oversize_sent", json_integer((json_int_t)over_sent));
	json_object_set_new(out, "spoof_sent", json_integer((json_int_t)spoof_sent));
	json_object_set_new(out, "spoofed", json_integer((json_int_t)spoofed));
	char *s = json_dumps(out, JSON_COMPACT);

	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(out);
	rc = clean ? 0 : 1;
	for (uint16_t q = 0; q < nq; q++)
		rte_pktmbuf_free_bulk(pend[q], n_pend[q]);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	goto out;
fail:
	fprintf(stderr, PROG ": cannot set up the virtio-user port with %u queues\n", o.queues);
out:
	rte_eal_cleanup();
	return rc;
}
