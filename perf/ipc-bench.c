/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipc-bench: what a descriptor costs to cross the ringport region, beside
 * plain rte_ring in one process, measured in the same run.
 *
 *   baseline   one thread: SP/SC enqueue then dequeue of BURST 16-byte
 *              elements on a private rte_ring (DPDK's ring_perf pattern)
 *   raw-xproc  two processes on two CPUs: producer enqueues BURST
 *              descriptors on a region ring, consumer dequeues them
 *   checks-1thread  the ownership protocol alone in one thread: alloc,
 *              lend, borrow, unborrow, return (both sides' checks)
 *   returns-xproc  the same two-way traffic as full-xproc (descriptors
 *              out, returns back) without pools or checks
 *   full-xproc the whole protocol: the owner allocates, lends and
 *              publishes; the borrower validates (rp_ipc_pool_borrow),
 *              unborrows and returns on the free ring; the owner reaps and
 *              validates the return (rp_ipc_pool_return)
 *
 * Prints one JSON object: for each, the median over --trials of ns and TSC
 * cycles per descriptor, the min and max, and the ratio to the baseline;
 * and checks_xproc_ns = full - returns: what ownership tracking and
 * validation add across processes. Not a test: nothing is asserted on speed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "rp_ipc.h"

#define MAX_BURST 256
#define MAX_TRIALS 31

struct result {
	double ns;     /* wall ns per descriptor */
	double cycles; /* TSC cycles per descriptor, per process (busy-polling) */
};

static int
cmp_ns(const void *a, const void *b)
{
	double x = ((const struct result *)a)->ns, y = ((const struct result *)b)->ns;

	return (x > y) - (x < y);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* TSC rate without EAL: count ticks across 200 ms of CLOCK_MONOTONIC. */
static double
tsc_hz(void)
{
	double t0 = now_s();
	uint64_t c0 = rte_rdtsc();

	while (now_s() - t0 < 0.2)
		;
	return (double)(rte_rdtsc() - c0) / (now_s() - t0);
}

static void
pin(int cpu)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu % n, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static struct result
bench_baseline(uint64_t n, unsigned int burst, double hz)
{
	ssize_t sz = rte_ring_get_memsize_elem(RP_IPC_DESC_SIZE, 1024);
	struct rte_ring *r = aligned_alloc(64, (size_t)RTE_ALIGN_CEIL(sz, 64));
	struct rp_ipc_desc d[MAX_BURST] = {0};

	rte_ring_init(r, "bench", 1024, RING_F_SP_ENQ | RING_F_SC_DEQ);
	pin(0);
	double t0 = now_s();
	uint64_t c0 = rte_rdtsc();
	for (uint64_t i = 0; i < n; i += burst) {
		d[0].off = (uint32_t)i;
		rte_ring_sp_enqueue_bulk_elem(r, d, sizeof(d[0]), burst, NULL);
		rte_ring_sc_dequeue_bulk_elem(r, d, sizeof(d[0]), burst, NULL);
	}
	uint64_t c1 = rte_rdtsc();
	double t1 = now_s();
	free(r);
	(void)hz;
	return (struct result){(t1 - t0) * 1e9 / n, (double)(c1 - c0) / n};
}

/*
 * The ownership protocol alone, one thread, no cross-core traffic: owner
 * alloc + lend, borrower borrow_burst + unborrow, owner return_burst.
 */
static struct result
bench_checks(uint64_t n, unsigned int burst)
{
	struct rp_ipc_region_params p = {
		.n_qpairs = 1, .ring_size = 1024, .buf_size = 2048,
		.n_bufs = {4096, 4096}, .mtu = 1500,
	};
	struct rp_ipc_desc d[MAX_BURST];
	struct rp_ipc_stats st = {0};
	uint32_t offs[MAX_BURST];
	char why[256];

	struct rp_ipc_region *r = rp_ipc_region_create(&p, why, sizeof(why));
	struct rp_ipc_pool *own = rp_ipc_pool_create(r, RP_IPC_DIR_TO_SWITCH, true);
	struct rp_ipc_pool *b = rp_ipc_pool_create(r, RP_IPC_DIR_TO_SWITCH, false);
	pin(0);
	double t0 = now_s();
	uint64_t c0 = rte_rdtsc();
	for (uint64_t i = 0; i < n; i += burst) {
		unsigned int k = rp_ipc_pool_alloc(own, offs, burst);
		for (unsigned int j = 0; j < k; j++) {
			rp_ipc_pool_lend(own, offs[j]);
			d[j] = (struct rp_ipc_desc){.off = offs[j], .len = 64};
		}
		unsigned int ok = rp_ipc_pool_borrow_burst(b, d, k, &st);
		for (unsigned int j = 0; j < ok; j++) {
			uint32_t s0 = rp_ipc_pool_buf_start(b, d[j].off);
			rp_ipc_pool_unborrow(b, s0);
			d[j] = (struct rp_ipc_desc){.off = s0};
		}
		rp_ipc_pool_return_burst(own, d, ok, &st);
	}
	uint64_t c1 = rte_rdtsc();
	double t1 = now_s();
	rp_ipc_pool_free(b);
	rp_ipc_pool_free(own);
	rp_ipc_region_put(r);
	return (struct result){(t1 - t0) * 1e9 / n, (double)(c1 - c0) / n};
}

/* Both ends over a real handshake on a socketpair; the child consumes. */
enum mode { RAW, RETURNS, FULL };

static int
xproc(uint64_t n, unsigned int burst, enum mode mode, struct result *res)
{
	struct rp_ipc_region_params p = {
		.n_qpairs = 1, .ring_size = 1024, .buf_size = 2048,
		.n_bufs = {4096, 4096}, .mtu = 1500,
	};
	int sv[2];
	char why[256];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) { /* consumer, the PMD's role */
		struct rp_ipc_region *r;
		enum rp_ipc_reject rej;
		unsigned int nw;
		int wake[RP_IPC_MAX_FDS];

		close(sv[0]);
		pin(1);
		if (rp_ipc_client_handshake(sv[1], &(struct rp_ipc_hs_opts){.name = "bench",
			.timeout_ms = 5000, .rej = &rej, .why = why, .why_size = sizeof(why)}, &r,
			wake, &nw) < 0)
			_exit(2);
		struct rp_ipc_pool *b = rp_ipc_pool_create(r, RP_IPC_DIR_TO_SWITCH, false);
		struct rte_ring *data = rp_ipc_region_ring(r, 0, RP_IPC_RING_TO_SWITCH);
		struct rte_ring *ret = rp_ipc_region_ring(r, 0, RP_IPC_RING_TO_SWITCH_FREE);
		struct rp_ipc_desc d[MAX_BURST];
		struct rp_ipc_stats st = {0};
		uint64_t got = 0, bad = 0;

		while (got < n) {
			unsigned int k = rte_ring_sc_dequeue_burst_elem(data, d, sizeof(d[0]), burst,
				NULL);
			if (mode == RETURNS && k > 0) {
				unsigned int put = 0;
				while (put < k)
					put += rte_ring_sp_enqueue_burst_elem(ret, d + put, sizeof(d[0]),
						k - put, NULL);
			} else if (mode == FULL && k > 0) {
				unsigned int ok = rp_ipc_pool_borrow_burst(b, d, k, &st);
				bad += k - ok;
				for (unsigned int i = 0; i < ok; i++) {
					uint32_t s = rp_ipc_pool_buf_start(b, d[i].off);
					rp_ipc_pool_unborrow(b, s);
					d[i] = (struct rp_ipc_desc){.off = s};
				}
				unsigned int put = 0;
				while (put < k)
					put += rte_ring_sp_enqueue_burst_elem(ret, d + put, sizeof(d[0]),
						k - put, NULL);
			}
			got += k;
		}
		(void)write(sv[1], &bad, sizeof(bad));
		char c;
		(void)read(sv[1], &c, 1);
		_exit(bad ? 1 : 0);
	}
	close(sv[1]);
	pin(0);
	struct rp_ipc_region *r = rp_ipc_region_create(&p, why, sizeof(why));
	enum rp_ipc_reject rej;
	if (r == NULL || rp_ipc_server_handshake(sv[0], r, NULL, 0, &(struct rp_ipc_hs_opts){
		.name = "bench", .timeout_ms = 5000, .rej = &rej, .why = why,
		.why_size = sizeof(why)}) < 0) {
		fprintf(stderr, "ipc-bench: %s\n", why);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -EPROTO;
	}
	struct rp_ipc_pool *own = rp_ipc_pool_create(r, RP_IPC_DIR_TO_SWITCH, true);
	struct rte_ring *data = rp_ipc_region_ring(r, 0, RP_IPC_RING_TO_SWITCH);
	struct rte_ring *ret = rp_ipc_region_ring(r, 0, RP_IPC_RING_TO_SWITCH_FREE);
	struct rp_ipc_desc d[MAX_BURST] = {0};
	uint32_t offs[MAX_BURST];
	struct rp_ipc_stats st = {0};
	uint64_t sent = 0, bad = 0;

	double t0 = now_s();
	uint64_t c0 = rte_rdtsc();
	while (sent < n) {
		unsigned int k = burst;

		if (mode == RETURNS) {
			/* Same traffic both ways, no pool, no checks. */
			unsigned int back = rte_ring_sc_dequeue_burst_elem(ret, d, sizeof(d[0]),
				burst, NULL);
			unsigned int room = rte_ring_free_count(data);
			k = RTE_MIN(burst, room);
			(void)back;
		} else if (mode == FULL) {
			unsigned int back = rte_ring_sc_dequeue_burst_elem(ret, d, sizeof(d[0]),
				burst, NULL);
			rp_ipc_pool_return_burst(own, d, back, &st);
			unsigned int room = rte_ring_free_count(data);
			k = rp_ipc_pool_alloc(own, offs, RTE_MIN(burst, room));
			for (unsigned int i = 0; i < k; i++) {
				rp_ipc_pool_lend(own, offs[i]);
				d[i] = (struct rp_ipc_desc){.off = offs[i], .len = 64};
			}
		}
		sent += rte_ring_sp_enqueue_burst_elem(data, d, sizeof(d[0]), k, NULL);
	}
	uint64_t child_bad;
	/* The child writes once it has consumed everything; until then keep
	 * taking returns, or it could wait on a full free ring for ever. */
	struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
	while (mode != RAW && poll(&pfd, 1, 0) == 0) {
		unsigned int back = rte_ring_sc_dequeue_burst_elem(ret, d, sizeof(d[0]), burst,
			NULL);
		if (mode == FULL)
			rp_ipc_pool_return_burst(own, d, back, &st);
	}
	(void)read(sv[0], &child_bad, sizeof(child_bad));
	uint64_t c1 = rte_rdtsc();
	double t1 = now_s();
	close(sv[0]);
	int status;
	waitpid(pid, &status, 0);
	for (int i = 0; i < RP_IPC_REJ_MAX; i++)
		bad += st.rejects[i];
	rp_ipc_pool_free(own);
	rp_ipc_region_put(r);
	if (bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "ipc-bench: %" PRIu64 " bad descriptors (child status %d)\n", bad,
			status);
		return -EPROTO;
	}
	res->ns = (t1 - t0) * 1e9 / n;
	res->cycles = (double)(c1 - c0) / n;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"descs", required_argument, NULL, 'n'},
		{"burst", required_argument, NULL, 'b'},
		{"trials", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t n = 20000000;
	unsigned int burst = 32, trials = 5;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtoull(optarg, &end, 0);
			if (*end || n == 0) {
				fprintf(stderr, "ipc-bench: --descs '%s' is not a positive number\n", optarg);
				return 2;
			}
			break;
		case 'b':
			burst = (unsigned int)strtoul(optarg, &end, 0);
			if (*end || burst == 0 || burst > MAX_BURST) {
				fprintf(stderr, "ipc-bench: --burst '%s' not in 1..%d\n", optarg, MAX_BURST);
				return 2;
			}
			break;
		case 't':
			trials = (unsigned int)strtoul(optarg, &end, 0);
			if (*end || trials == 0 || trials > MAX_TRIALS) {
				fprintf(stderr, "ipc-bench: --trials '%s' not in 1..%d\n", optarg, MAX_TRIALS);
				return 2;
			}
			break;
		case 'h':
			printf("usage: ipc-bench [--descs N (default 20000000)] [--burst N (default 32)]\n"
			       "                 [--trials N (default 5; the median is reported)]\n"
			       "Prints one JSON object: ns and TSC cycles per descriptor for an\n"
			       "in-process rte_ring baseline and for ringport's cross-process\n"
			       "transfer, raw and with the full ownership protocol.\n");
			return 0;
		default:
			return 2;
		}
	}
	n -= n % burst;
	double hz = tsc_hz();
	static const char *const names[] = {"baseline", "checks_1thread", "raw_xproc",
		"returns_xproc", "full_xproc"};
	enum { NV = 5 };
	struct result res[NV][MAX_TRIALS], med[NV];

	for (unsigned int t = 0; t < trials; t++) {
		res[0][t] = bench_baseline(n, burst, hz);
		res[1][t] = bench_checks(n, burst);
		if (xproc(n, burst, RAW, &res[2][t]) < 0 || xproc(n, burst, RETURNS, &res[3][t]) < 0 ||
			xproc(n, burst, FULL, &res[4][t]) < 0)
			return 1;
		fprintf(stderr, "ipc-bench: trial %u/%u done\n", t + 1, trials);
	}
	printf("{\"descs\":%" PRIu64 ",\"burst\":%u,\"trials\":%u,\"cpus\":%ld,\"tsc_mhz\":%.0f", n,
		burst, trials, sysconf(_SC_NPROCESSORS_ONLN), hz / 1e6);
	for (int v = 0; v < NV; v++) {
		qsort(res[v], trials, sizeof(res[v][0]), cmp_ns);
		med[v] = res[v][trials / 2];
		printf(",\"%s\":{\"ns\":%.2f,\"cycles\":%.1f,\"ns_min\":%.2f,\"ns_max\":%.2f,"
		       "\"ratio\":%.2f}",
			names[v], med[v].ns, med[v].cycles, res[v][0].ns, res[v][trials - 1].ns,
			med[v].ns / med[0].ns);
	}
	printf(",\"checks_xproc_ns\":%.2f}\n", med[4].ns - med[3].ns);
	return 0;
}
