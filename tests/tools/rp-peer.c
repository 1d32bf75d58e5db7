/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp-peer: play either side of a ringport port, for tests and by hand.
 *
 *   rp-peer --role server --path SOCK [--queues N] [--send N] [--expect N]
 *   rp-peer --role client --path SOCK [--send N] [--expect N]
 *
 * The server (the iothread's role) listens, creates a fresh region per
 * session and serves --sessions of them; the client (the PMD's role)
 * connects. Each sends --send sequence-numbered, CRC-checked frames spread
 * over the queues and finishes a session once it has received --expect
 * frames and has every lent buffer back. At the end it prints one JSON
 * object per session and exits 0 only if nothing was wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "rp_peer.h"

#define RATE_DEPTH 256     /* --rate: most frames sent in one catch-up burst */
#define IDLE_SPINS 1024    /* empty polls before a peer starts to nap */
#define IDLE_SLEEP_US 20   /* each nap while idle */

struct opts {
	bool server;
	const char *path;
	unsigned int queues;
	uint64_t send;
	uint64_t expect;
	unsigned int sessions;
	unsigned int timeout_s;
	unsigned int ring_size;
	unsigned int n_bufs;
	bool wait_forever; /* after the counts: keep serving until EOF */
	uint64_t rate;     /* frames per second to send, 0: as fast as possible */
	const char *go_file; /* hold sending until this file exists */
	uint64_t hostile;  /* invalid descriptors to publish before sending */
	bool corrupt_ring; /* once the counts are met, corrupt a ring's index */
	bool tamper;       /* a thread scribbles over every ring's header */
	bool rewrite_dst;  /* a thread rewrites the dst MAC of every frame we lend */
	bool hostile_wake; /* blocking, full wake sockets, a wake-up always asked */
	uint8_t evil_dst[6];
	bool check_dst;
	bool sink;         /* receive and return without checking (benchmarks) */
	bool touch;        /* ... reading each frame's first bytes, as a switch does */
	bool bare;         /* send the test header only (benchmarks) */
	unsigned int spread; /* frames start 0..spread-1 cache lines in */
	bool lossy;        /* gaps in a sender's sequence are counted, not errors */
	uint8_t expect_dst[6];
	unsigned int frame_min; /* shortest frame sent; 0: 60 */
	unsigned int frame_max; /* longest frame sent; 0: one buffer, <= 1514 */
	unsigned int mtu;       /* the region's MTU (server) */
	uint8_t mac[6];         /* the region's MAC (server) */
};

static volatile sig_atomic_t stop;
static struct rp_peer *toggled; /* SIGUSR1's: the session running */

/* SIGUSR1: pause --spread, or resume it (a benchmark compares the two on
 * one region: perf/ovs-port-bench.sh --alternate). */
static void
on_usr1(int sig)
{
	(void)sig;
	if (toggled != NULL)
		toggled->spread_off = !toggled->spread_off;
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
		"usage: rp-peer --role server|client --path SOCK [options]\n"
		"  --role R         server (iothread side: listens, creates regions)\n"
		"                   or client (PMD side: connects)\n"
		"  --path SOCK      port socket path\n"
		"  --queues N       queue pairs in the region (server; 1..%d, default 1)\n"
		"  --send N         frames to send, spread over the queues (default 0)\n"
		"  --expect N       frames to receive before a session is done (default 0)\n"
		"  --sessions N     sessions to serve before exiting (server; default 1)\n"
		"  --timeout S      give up a session after S seconds (default 30)\n"
		"  --ring-size N    slots per ring (server; default 512)\n"
		"  --bufs N         buffers per pool (server; default 4096)\n"
		"  --linger         after the counts, keep serving until the peer leaves\n"
		"  --sink           count and return what arrives without checking it\n"
		"                   (a benchmark's receiver: any frames, not only rp-peer's)\n"
		"  --touch          with --sink: read each frame's first 8 bytes, as a\n"
		"                   switch reads the header (the writer's lines then\n"
		"                   leave its core, as they do with OVS behind)\n"
		"  --bare           send frames with the test header only: no payload\n"
		"                   pattern, no CRC (a benchmark's sender, for a sink or a\n"
		"                   switch that drops; a checking receiver counts them bad)\n"
		"  --spread N       start each one-buffer frame (buffer index mod N)\n"
		"                   cache lines into its buffer, not at its start\n"
		"                   (default 1: at the start; at most 16); SIGUSR1\n"
		"                   pauses it (frames at the start) or resumes it\n"
		"  --lossy          frames missing from a sender's sequence (a switch\n"
		"                   dropped them) are counted as \"lost\", not errors;\n"
		"                   duplicates and reordering still are\n"
		"  --expect-dst MAC check every received frame's destination MAC\n"
		"  --corrupt-ring   once the counts are met, move queue 0's outgoing ring's\n"
		"                   tail half the index space ahead (impossible) and wait\n"
		"                   for the peer to end the session\n"
		"  --tamper         for the whole session, a second thread keeps rewriting\n"
		"                   every ring header's size, mask, capacity, flags, sync\n"
		"                   types and head indices (an honest receiver reads none)\n"
		"  --rewrite-dst MAC  for the whole session, a second thread keeps writing\n"
		"                   MAC over the destination of every buffer we lend (a\n"
		"                   frame changed after the switch classified it)\n"
		"  --hostile-wake   (server) send wake sockets with O_NONBLOCK cleared and\n"
		"                   their queues full, and ask for a wake-up always\n"
		"  --hostile N      first publish N invalid items on queue 0 (six kinds\n"
		"                   in turn: range, foreign, len, flags, dup, random)\n"
		"  --go-file PATH   hold sending until PATH exists (a switch may still be\n"
		"                   wiring the port up when the session starts)\n"
		"  --rate PPS       send at most PPS frames per second (default: no limit);\n"
		"                   a switch drops what a slow receiver cannot take\n"
		"  --frame-max N    send frames of 60..N bytes (default 1514; up to %d,\n"
		"                   spanning buffers)\n"
		"  --frame-size N   send frames of exactly N bytes (60..%d)\n"
		"  --mtu N          the MTU the region announces (server; default 1500)\n"
		"  --mac MAC        the MAC the region announces (server; default\n"
		"                   02:52:50:00:00:01)\n"
		"  -h, --help       this text\n"
		"Prints one JSON object per session; exit 0 if all were clean, 1 if not,\n"
		"2 on bad usage.\n",
		RP_IPC_MAX_QPAIRS, RP_TESTPKT_JUMBO, RP_TESTPKT_JUMBO);
}

static int
parse_u64(const char *flag, const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || *s == '-' || v > max) {
		fprintf(stderr, "rp-peer: %s '%s' is not a number in 0..%" PRIu64 "\n", flag, s,
			max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_mac(const char *flag, const char *s, uint8_t mac[6])
{
	unsigned int m[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
		    &tail) != 6 || (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) > 0xff) {
		fprintf(stderr, "rp-peer: %s '%s' is not a MAC address\n", flag, s);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"role", required_argument, NULL, 'r'},
		{"path", required_argument, NULL, 'p'},
		{"queues", required_argument, NULL, 'q'},
		{"send", required_argument, NULL, 's'},
		{"expect", required_argument, NULL, 'e'},
		{"sessions", required_argument, NULL, 'n'},
		{"timeout", required_argument, NULL, 't'},
		{"ring-size", required_argument, NULL, 'R'},
		{"bufs", required_argument, NULL, 'B'},
		{"linger", no_argument, NULL, 'l'},
		{"sink", no_argument, NULL, 'K'},
		{"touch", no_argument, NULL, 'U'},
		{"bare", no_argument, NULL, 'b'},
		{"spread", required_argument, NULL, 'o'},
		{"lossy", no_argument, NULL, 'L'},
		{"rate", required_argument, NULL, 'P'},
		{"go-file", required_argument, NULL, 'g'},
		{"expect-dst", required_argument, NULL, 'D'},
		{"hostile", required_argument, NULL, 'H'},
		{"corrupt-ring", no_argument, NULL, 'C'},
		{"tamper", no_argument, NULL, 'T'},
		{"rewrite-dst", required_argument, NULL, 'W'},
		{"hostile-wake", no_argument, NULL, 'w'},
		{"frame-max", required_argument, NULL, 'F'},
		{"frame-size", required_argument, NULL, 'S'},
		{"mtu", required_argument, NULL, 'M'},
		{"mac", required_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *role = NULL;
	uint64_t v;
	int c;

	*o = (struct opts){.queues = 1, .sessions = 1, .timeout_s = 30, .ring_size = 512,
		.n_bufs = 4096, .mtu = 1500, .mac = {0x02, 0x52, 0x50, 0, 0, 1}};
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			role = optarg;
			break;
		case 'p':
			o->path = optarg;
			break;
		case 'q':
			if (parse_u64("--queues", optarg, RP_IPC_MAX_QPAIRS, &v) < 0 || v == 0)
				return v == 0 ? (fprintf(stderr, "rp-peer: --queues must be >= 1\n"), -1) : -1;
			o->queues = (unsigned int)v;
			break;
		case 's':
			if (parse_u64("--send", optarg, UINT64_MAX / 2, &o->send) < 0)
				return -1;
			break;
		case 'e':
			if (parse_u64("--expect", optarg, UINT64_MAX / 2, &o->expect) < 0)
				return -1;
			break;
		case 'n':
			if (parse_u64("--sessions", optarg, UINT_MAX, &v) < 0)
				return -1;
			o->sessions = (unsigned int)v;
			break;
		case 't':
			if (parse_u64("--timeout", optarg, 86400, &v) < 0)
				return -1;
			o->timeout_s = (unsigned int)v;
			break;
		case 'R':
			if (parse_u64("--ring-size", optarg, RP_IPC_MAX_RING_SIZE, &v) < 0)
				return -1;
			o->ring_size = (unsigned int)v;
			break;
		case 'B':
			if (parse_u64("--bufs", optarg, RP_IPC_MAX_BUFS, &v) < 0)
				return -1;
			o->n_bufs = (unsigned int)v;
			break;
		case 'l':
			o->wait_forever = true;
			break;
		case 'g':
			o->go_file = optarg;
			break;
		case 'C':
			o->corrupt_ring = true;
			break;
		case 'T':
			o->tamper = true;
			break;
		case 'w':
			o->hostile_wake = true;
			break;
		case 'W':
			if (parse_mac("--rewrite-dst", optarg, o->evil_dst) < 0)
				return -1;
			o->rewrite_dst = true;
			break;
		case 'H':
			if (parse_u64("--hostile", optarg, UINT32_MAX, &o->hostile) < 0)
				return -1;
			break;
		case 'U':
			o->touch = true;
			break;
		case 'K':
			o->sink = true;
			break;
		case 'b':
			o->bare = true;
			break;
		case 'o':
			if (parse_u64("--spread", optarg, 16, &v) < 0)
				return -1;
			if (v == 0) {
				fprintf(stderr, "rp-peer: --spread '%s': must be 1 to 16\n", optarg);
				return -1;
			}
			o->spread = (unsigned int)v;
			break;
		case 'L':
			o->lossy = true;
			break;
		case 'D':
			if (parse_mac("--expect-dst", optarg, o->expect_dst) < 0)
				return -1;
			o->check_dst = true;
			break;
		case 'A':
			if (parse_mac("--mac", optarg, o->mac) < 0)
				return -1;
			break;
		case 'F':
		case 'S': {
			const char *flag = c == 'F' ? "--frame-max" : "--frame-size";

			if (parse_u64(flag, optarg, RP_TESTPKT_JUMBO, &v) < 0)
				return -1;
			if (v < RP_TESTPKT_MIN) {
				fprintf(stderr, "rp-peer: %s '%s' is below %d\n", flag, optarg,
					RP_TESTPKT_MIN);
				return -1;
			}
			o->frame_max = (unsigned int)v;
			o->frame_min = c == 'S' ? (unsigned int)v : 0;
			break;
		}
		case 'M':
			if (parse_u64("--mtu", optarg, UINT16_MAX, &v) < 0)
				return -1;
			o->mtu = (unsigned int)v;
			break;
		case 'P':
			if (parse_u64("--rate", optarg, UINT64_MAX / 2, &o->rate) < 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rp-peer: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (role == NULL || (strcmp(role, "server") && strcmp(role, "client"))) {
		fprintf(stderr, "rp-peer: --role must be 'server' or 'client', not '%s'\n",
			role ? role : "(missing)");
		return -1;
	}
	o->server = strcmp(role, "server") == 0;
	if (o->touch && !o->sink) {
		fprintf(stderr, "rp-peer: --touch is for --sink (a checking receiver reads every byte)\n");
		return -1;
	}
	if (o->path == NULL) {
		fprintf(stderr, "rp-peer: --path is required\n");
		return -1;
	}
	return 0;
}

static void
log_cb(enum rp_ipc_log_level level, const char *msg)
{
	fprintf(stderr, "rp-peer: %s: %s\n", level == RP_IPC_LOG_ERR ? "error" : "warning", msg);
}

/* Run traffic until done, timed out, stopped, or the peer left. */
static const char *
run_session(struct rp_peer *p, int sock, const struct opts *o)
{
	uint64_t per_q = o->send / p->n_qpairs, extra = o->send % p->n_qpairs;
	double deadline = rp_now_s() + o->timeout_s;
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	unsigned long iter = 0, idle = 0;
	double t0 = rp_now_s();
	uint64_t sent = 0, bad_left = o->hostile;
	bool corrupted = false;
	bool go = o->go_file == NULL;

	for (;;) {
		unsigned int work = 0;
		bool sent_all = true;
		/* Token bucket: what the rate allows by now, per queue. */
		uint64_t budget = go ? UINT64_MAX : 0;
		if (go && o->rate != 0) {
			double now = rp_now_s();
			uint64_t allowed = (uint64_t)((now - t0) * (double)o->rate);

			/* The bucket holds RATE_DEPTH frames: a sender that was
			 * descheduled resumes at the rate, not with one burst of
			 * everything it missed (which no receiver could absorb). */
			if (allowed > sent + RATE_DEPTH) {
				allowed = sent + RATE_DEPTH;
				t0 = now - (double)allowed / (double)o->rate;
			}
			budget = allowed > sent ? (allowed - sent) / p->n_qpairs + 1 : 0;
		}

		if (go && bad_left > 0) {
			/* The hostile part first: valid frames only once it is out. */
			bad_left -= rp_peer_inject_bad(p, 0, bad_left > 32 ? 32 : (unsigned int)bad_left);
			budget = 0;
			sent_all = false;
			t0 = rp_now_s();
		}
		for (unsigned int q = 0; q < p->n_qpairs; q++) {
			uint64_t want = per_q + (q < extra);
			uint64_t left = want - p->q[q].tx_seq;

			if (left > 0) {
				uint64_t k = RTE_MIN(RTE_MIN(left, budget), (uint64_t)32);
				unsigned int n = k ? rp_peer_tx(p, q, (unsigned int)k) : 0;

				sent += n;
				work += n;
				sent_all = false;
			}
			work += rp_peer_reap(p, q);
			work += rp_peer_rx(p, q, 32);
		}
		bool counts_met = sent_all && rp_peer_rx_total(p) >= o->expect &&
			rp_peer_pool_full(p) && !rp_peer_returns_pending(p);
		if (counts_met && o->corrupt_ring && !corrupted) {
			rp_peer_corrupt_ring(p, 0);
			corrupted = true;
		}
		if (!o->wait_forever && !o->corrupt_ring && counts_met)
			return "done";
		/* Adaptive polling: on a shared 2-core machine a peer that spins
		 * while idle steals the CPU that OVS's PMD thread needs. */
		idle = work == 0 ? idle + 1 : 0;
		if (idle > IDLE_SPINS)
			usleep(IDLE_SLEEP_US);
		else if (work == 0)
			sched_yield();
		if ((++iter & 255) == 0) {
			if (!go && access(o->go_file, F_OK) == 0) {
				go = true;
				t0 = rp_now_s();
			}
			if (stop)
				return "stopped";
			if (rp_now_s() > deadline)
				return "timeout";
			if (poll(&pfd, 1, 0) == 1) {
				/* The peer is gone or leaving: take what it left us. */
				for (unsigned int q = 0; q < p->n_qpairs; q++) {
					while (rp_peer_reap(p, q) > 0)
						;
					while (rp_peer_rx(p, q, 32) > 0)
						;
				}
				counts_met = sent_all && rp_peer_rx_total(p) >= o->expect &&
					rp_peer_pool_full(p);
				return counts_met && !corrupted ? "done" : "peer-left";
			}
		}
	}
}

/* A second thread, hostile to the peer: it rewrites ring headers
 * (--tamper) or the frames we lend (--rewrite-dst) until stopped. */
struct tamper {
	struct rp_ipc_region *r;
	bool server;
	const uint8_t *evil_dst; /* NULL: scribble over ring headers */
	volatile bool stop;
	uint64_t rounds;
};

static void *
tamper_main(void *arg)
{
	struct tamper *t = arg;
	const struct rp_ipc_layout *l = rp_ipc_region_layout(t->r);
	unsigned int dir = t->server ? RP_IPC_DIR_TO_SWITCH : RP_IPC_DIR_TO_GUEST;
	uint8_t *bufs = rp_ipc_region_base(t->r) + l->bufs_off[dir];
	uint64_t x = 0x452821e638d01377ull;

	while (!t->stop) {
		if (t->evil_dst == NULL)
			rp_peer_tamper(t->r, &x);
		else
			for (uint32_t i = 0; i < l->n_bufs[dir]; i++)
				memcpy(bufs + ((size_t)i << l->buf_shift), t->evil_dst, 6);
		if (t->evil_dst != NULL)
			usleep(20); /* windows in which a frame is still as built */
		t->rounds++;
	}
	return NULL;
}

/*
 * --hostile-wake: wake sockets made to hurt a writer that trusts them. The
 * ends we send have O_NONBLOCK cleared (the flag belongs to the open file,
 * which the switch will share) and their queues full (we never read ours),
 * and the header asks for a wake-up on every queue, always. A switch must
 * still never block. Our ends go to @keep.
 */
static int
hostile_wake_setup(struct rp_ipc_region *r, unsigned int n, int *send_fds, int *keep)
{
	for (unsigned int q = 0; q < n; q++) {
		int pair[2];
		uint8_t b = 0;

		if (rp_ipc_wake_pair(pair) < 0) {
			fprintf(stderr, "rp-peer: socketpair: %s\n", strerror(errno));
			return -1;
		}
		while (send(pair[1], &b, 1, MSG_DONTWAIT) == 1)
			;
		if (fcntl(pair[1], F_SETFL, 0) < 0) {
			fprintf(stderr, "rp-peer: fcntl: %s\n", strerror(errno));
			return -1;
		}
		keep[q] = pair[0];
		send_fds[q] = pair[1];
	}
	__atomic_store_n(&rp_ipc_region_hdr(r)->wake, UINT32_MAX, __ATOMIC_RELEASE);
	return 0;
}

static json_t *
session_json(const struct rp_peer *p, const char *end, const char *peer_name, unsigned int n)
{
	json_t *rej = json_object(), *qs = json_array();
	uint64_t tx = 0, bad_payload = 0, bad_order = 0, bad_dst = 0;

	for (int i = 1; i < RP_IPC_REJ_MAX; i++)
		if (p->st.rejects[i])
			json_object_set_new(rej, rp_ipc_reject_name(i), json_integer((json_int_t)p->st.rejects[i]));
	uint64_t starts = 0;

	for (unsigned int q = 0; q < p->n_qpairs; q++) {
		starts |= p->q[q].rx_starts;
		tx += p->q[q].tx_pkts;
		bad_payload += p->q[q].bad_payload;
		bad_order += p->q[q].bad_order;
		bad_dst += p->q[q].bad_dst;
		json_array_append_new(qs, json_pack("{s:I,s:I,s:I}", "tx", (json_int_t)p->q[q].tx_pkts,
			"rx", (json_int_t)p->q[q].rx_pkts, "ring_full", (json_int_t)p->q[q].ring_full));
	}
	json_t *o = json_pack("{s:s,s:i,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:o,s:o}", "role",
		p->server ? "server" : "client", "session", n, "peer", peer_name, "end", end,
		"hugepages", rp_ipc_region_hugetlb(p->r), "sent", (json_int_t)tx, "received",
		(json_int_t)rp_peer_rx_total(p), "bad_payload", (json_int_t)bad_payload,
		"bad_order", (json_int_t)bad_order, "rejects", rej, "queues", qs);
	json_object_set_new(o, "bad_dst", json_integer((json_int_t)bad_dst));
	json_object_set_new(o, "lost", json_integer((json_int_t)rp_peer_lost(p)));
	uint64_t rx_bytes = 0;
	for (unsigned int q = 0; q < p->n_qpairs; q++)
		rx_bytes += p->q[q].rx_bytes;
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)rx_bytes));
	/* Where one-buffer frames started in their buffers: the cache-line
	 * offsets seen (the sender's frame placement, rp_ipc_color()). */
	json_t *lines = json_array();
	for (unsigned int k = 0; k < 64; k++)
		if (starts & (UINT64_C(1) << k))
			json_array_append_new(lines, json_integer(k));
	json_object_set_new(o, "rx_start_lines", lines);
	return o;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int lsock = -1, failures = 0;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	rp_ipc_set_log(log_cb);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_usr1);

	if (o.server) {
		lsock = rp_ipc_listen(o.path);
		if (lsock < 0) {
			fprintf(stderr, "rp-peer: cannot listen on '%s': %s\n", o.path, strerror(-lsock));
			return 1;
		}
	}
	for (unsigned int n = 0; n < o.sessions && !stop; n++) {
		struct rp_ipc_region_params rp = {
			.n_qpairs = (uint16_t)o.queues, .ring_size = o.ring_size, .buf_size = 2048,
			.n_bufs = {o.n_bufs, o.n_bufs}, .mtu = (uint16_t)o.mtu,
			.features = RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG,
		};
		struct rp_ipc_region *r = NULL;
		struct rp_ipc_peer peer = {0};
		enum rp_ipc_reject rej;
		unsigned int n_wake = 0;
		int wake[RP_IPC_MAX_FDS], hw_keep[RP_IPC_MAX_QPAIRS], sock, rc;
		char why[256] = "";
		struct rp_peer p;

		memcpy(rp.mac, o.mac, sizeof(rp.mac));

		if (o.server) {
			struct pollfd pfd = {.fd = lsock, .events = POLLIN};
			while (!stop && poll(&pfd, 1, 200) == 0)
				;
			if (stop)
				break;
			sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
			if (sock < 0) {
				fprintf(stderr, "rp-peer: accept: %s\n", strerror(errno));
				return 1;
			}
			if (o.hostile_wake)
				rp.features |= RP_IPC_F_WAKE_SOCK;
			r = rp_ipc_region_create(&rp, why, sizeof(why));
			if (r == NULL) {
				fprintf(stderr, "rp-peer: %s\n", why);
				return 1;
			}
			if (o.hostile_wake && hostile_wake_setup(r, o.queues, wake, hw_keep) < 0)
				return 1;
			rc = rp_ipc_server_handshake(sock, r, wake, o.hostile_wake ? o.queues : 0,
				&(struct rp_ipc_hs_opts){.name = "rp-peer", .timeout_ms = 5000,
				.peer = &peer, .rej = &rej, .why = why, .why_size = sizeof(why)});
			if (o.hostile_wake)
				for (unsigned int i = 0; i < o.queues; i++)
					close(wake[i]); /* the switch has them now */
		} else {
			sock = rp_ipc_connect(o.path);
			if (sock < 0) {
				fprintf(stderr, "rp-peer: cannot connect to '%s': %s\n", o.path,
					strerror(-sock));
				return 1;
			}
			rc = rp_ipc_client_handshake(sock, &(struct rp_ipc_hs_opts){
				.name = "rp-peer", .features = RP_IPC_F_KNOWN, .timeout_ms = 5000,
				.peer = &peer, .rej = &rej, .why = why, .why_size = sizeof(why)},
				&r, wake, &n_wake);
		}
		if (rc < 0) {
			fprintf(stderr, "rp-peer: handshake refused (%s): %s\n", rp_ipc_reject_name(rej),
				why);
			rp_ipc_region_put(o.server ? r : NULL);
			close(sock);
			failures++;
			continue;
		}
		if (rp_peer_init(&p, r, o.server) < 0) {
			fprintf(stderr, "rp-peer: out of memory\n");
			return 1;
		}
		/* The client writes the server's wake-ups, as the PMD does. */
		p.n_wake = n_wake;
		memcpy(p.wake, wake, sizeof(wake[0]) * n_wake);
		if (o.frame_max != 0 && rp_peer_set_len(&p, o.frame_min ? o.frame_min : RP_TESTPKT_MIN,
			o.frame_max) < 0) {
			fprintf(stderr, "rp-peer: frames of %u bytes do not fit the session's %u-byte "
				"buffers (no multi-buffer frames)\n", o.frame_max, p.buf_size);
			for (unsigned int i = 0; i < n_wake; i++)
				close(wake[i]);
			rp_peer_fini(&p);
			rp_ipc_region_put(r);
			close(sock);
			return 2;
		}
		p.check_dst = o.check_dst;
		p.sink = o.sink;
		p.touch = o.touch;
		p.bare = o.bare;
		p.spread = o.spread;
		p.lossy = o.lossy;
		memcpy(p.expect_dst, o.expect_dst, sizeof(p.expect_dst));
		struct tamper tam = {.r = r, .server = o.server,
			.evil_dst = o.rewrite_dst ? o.evil_dst : NULL};
		pthread_t tam_thread;
		bool tampering = o.tamper || o.rewrite_dst;
		if (tampering && pthread_create(&tam_thread, NULL, tamper_main, &tam) != 0) {
			fprintf(stderr, "rp-peer: cannot start the tamper thread\n");
			return 1;
		}
		toggled = &p;
		const char *end = run_session(&p, sock, &o);
		toggled = NULL;
		if (tampering) {
			tam.stop = true;
			pthread_join(tam_thread, NULL);
		}
		rp_ipc_send_disconnect(sock, RP_IPC_DISC_NORMAL, end);
		close(sock);
		rp_peer_reclaim(&p);
		bool clean = (strcmp(end, "done") == 0 || (o.wait_forever && strcmp(end, "timeout") != 0)) &&
			rp_peer_errors(&p) == 0 && rp_peer_rx_total(&p) >= o.expect;
		json_t *j = session_json(&p, end, peer.name, n);
		if (tampering)
			json_object_set_new(j, "tamper_rounds", json_integer((json_int_t)tam.rounds));
		json_object_set_new(j, "clean", json_boolean(clean));
		/* After reclaim our pool must be whole again, whatever the peer did. */
		json_object_set_new(j, "pool_full", json_boolean(rp_peer_pool_full(&p)));
		json_dumpf(j, stdout, JSON_COMPACT);
		putchar('\n');
		fflush(stdout);
		json_decref(j);
		failures += !clean;
		for (unsigned int i = 0; i < n_wake; i++)
			close(wake[i]);
		for (unsigned int i = 0; o.hostile_wake && i < o.queues; i++)
			close(hw_keep[i]);
		rp_peer_fini(&p);
		rp_ipc_region_put(r);
	}
	if (lsock >= 0) {
		close(lsock);
		unlink(o.path);
	}
	return failures ? 1 : 0;
}
