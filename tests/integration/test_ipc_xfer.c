/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two processes over a real handshake (fork + socketpair; the client maps
 * the region at its own address):
 *  - 10 M descriptors each way, SP/SC, payload CRC and per-queue order
 *    checked, zero errors, both pools full at the end;
 *  - a hostile client: random, out-of-range, misaligned, duplicate and
 *    foreign descriptors, all rejected and counted exactly, nothing lost;
 *  - kill -9 of either side mid-traffic: the survivor reclaims every
 *    buffer and a new session works.
 * Environment: RINGPORT_XFER_DESCS overrides the 10 M (per direction).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rp_peer.h"

#define WHY 256
#define DEADLINE_S 240 /* a hang guard, not a speed assertion */

static const struct rp_ipc_region_params params = {
	.n_qpairs = 4,
	.ring_size = 512,
	.buf_size = 2048,
	.n_bufs = {4096, 4096},
	.mac = {0x02, 0, 0, 0, 0, 9},
	.mtu = 1500,
	.features = RP_IPC_F_OFFLOAD,
};

/* Handshake as @server over @sock. Region is created (server) or attached. */
static struct rp_ipc_region *
session(int sock, bool server)
{
	struct rp_ipc_region *r = NULL;
	enum rp_ipc_reject rej;
	unsigned int n_wake;
	int wake[RP_IPC_MAX_FDS];
	char why[WHY] = "";
	int rc;

	if (server) {
		r = rp_ipc_region_create(&params, why, sizeof(why));
		if (r == NULL) {
			fprintf(stderr, "region_create: %s\n", why);
			return NULL;
		}
		rc = rp_ipc_server_handshake(sock, r, NULL, 0, &(struct rp_ipc_hs_opts){
			.name = "xfer-server", .timeout_ms = 10000, .rej = &rej, .why = why,
			.why_size = sizeof(why)});
		if (rc < 0) {
			rp_ipc_region_put(r);
			r = NULL;
		}
	} else {
		rc = rp_ipc_client_handshake(sock, &(struct rp_ipc_hs_opts){.name = "xfer-client",
			.features = RP_IPC_F_KNOWN, .timeout_ms = 10000, .rej = &rej, .why = why,
			.why_size = sizeof(why)}, &r, wake, &n_wake);
	}
	if (rc < 0)
		fprintf(stderr, "%s handshake: %d (%s)\n", server ? "server" : "client", rc, why);
	return r;
}

static bool
peer_gone(int sock)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR | POLLIN));
}

/*
 * Move @per_dir packets each way. Stops when everything was sent and
 * received and our pool is full, or (with @stop_after) once we received
 * that many (leaving traffic in flight), or when the peer hangs up.
 * Returns 0, or -1 on deadline/peer loss.
 */
static int
pump(struct rp_peer *p, int sock, uint64_t per_dir, uint64_t stop_after)
{
	uint64_t per_q = per_dir / p->n_qpairs;
	double deadline = rp_now_s() + DEADLINE_S;
	unsigned long iter = 0;

	for (;;) {
		unsigned int work = 0;
		bool sent_all = true;

		for (unsigned int q = 0; q < p->n_qpairs; q++) {
			uint64_t left = per_q - p->q[q].tx_seq;

			if (left > 0) {
				work += rp_peer_tx(p, q, left > 32 ? 32 : (unsigned int)left);
				sent_all = false;
			}
			work += rp_peer_reap(p, q);
			work += rp_peer_rx(p, q, 32);
		}
		if (stop_after != 0 && rp_peer_rx_total(p) >= stop_after)
			return 0;
		if (sent_all && rp_peer_rx_total(p) >= per_q * p->n_qpairs &&
			rp_peer_pool_full(p) && !rp_peer_returns_pending(p))
			return 0;
		if (work == 0)
			sched_yield(); /* 2 cores, two busy pollers: let the peer run */
		if ((++iter & 1023) == 0) {
			if (rp_now_s() > deadline) {
				fprintf(stderr, "deadline: rx %" PRIu64 " of %" PRIu64 "\n",
					rp_peer_rx_total(p), per_q * p->n_qpairs);
				return -1;
			}
			if (stop_after == 0 && peer_gone(sock) && !rp_peer_pool_full(p))
				return -1;
		}
	}
}

static void
print_peer(const char *who, const struct rp_peer *p)
{
	fprintf(stderr, "%s: rx %" PRIu64 ", errors %" PRIu64 ", pool %u/%u\n", who,
		rp_peer_rx_total(p), rp_peer_errors(p), rp_ipc_pool_count(p->own),
		rp_ipc_pool_size(p->own));
	for (unsigned int q = 0; q < p->n_qpairs; q++)
		fprintf(stderr, "  q%u: tx %" PRIu64 " rx %" PRIu64 " bad_payload %" PRIu64
				" bad_order %" PRIu64 "\n",
			q, p->q[q].tx_pkts, p->q[q].rx_pkts, p->q[q].bad_payload,
			p->q[q].bad_order);
	for (int i = 1; i < RP_IPC_REJ_MAX; i++)
		if (p->st.rejects[i])
			fprintf(stderr, "  reject %s: %" PRIu64 "\n", rp_ipc_reject_name(i),
				p->st.rejects[i]);
}

/* Child body for a full transfer; exit status is the verdict. */
static void __attribute__((noreturn))
child_xfer(int sock, bool server, uint64_t per_dir)
{
	/* Forked children lay out memory like their parent: reserve some
	 * address space first so the region lands elsewhere, proving that
	 * nothing in it depends on where it is mapped. */
	void *shift = mmap(NULL, 64 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct rp_ipc_region *r = session(sock, server);
	struct rp_peer p;

	(void)shift;

	if (r == NULL || rp_peer_init(&p, r, server) < 0)
		_exit(2);
	int rc = pump(&p, sock, per_dir, 0);
	bool ok = rc == 0 && rp_peer_errors(&p) == 0 && rp_peer_rx_total(&p) == per_dir &&
		rp_peer_pool_full(&p);
	if (!ok)
		print_peer(server ? "child server" : "child client", &p);
	uint64_t base = (uintptr_t)rp_ipc_region_base(r);
	(void)write(sock, &base, sizeof(base));
	/* Stay until the parent is done with our buffers too. */
	char c;
	(void)read(sock, &c, 1);
	_exit(ok ? 0 : 1);
}

static pid_t
spawn(int sv[2], bool child_server, uint64_t per_dir)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		child_xfer(sv[1], child_server, per_dir);
	}
	close(sv[1]);
	return pid;
}

static int
wait_child(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Parent side of a full transfer against a child spawned with spawn(). */
static void
xfer(bool parent_server, uint64_t per_dir)
{
	struct rp_ipc_region *r;
	struct rp_peer p;
	int sv[2];

	pid_t pid = spawn(sv, !parent_server, per_dir);
	r = session(sv[0], parent_server);
	assert_non_null(r);
	assert_int_equal(rp_peer_init(&p, r, parent_server), 0);
	double t0 = rp_now_s();
	int rc = pump(&p, sv[0], per_dir, 0);
	double dt = rp_now_s() - t0;
	if (rc != 0 || rp_peer_errors(&p) != 0 || rp_peer_rx_total(&p) != per_dir)
		print_peer("parent", &p);
	uint64_t child_base = 0;
	struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
	if (rc == 0 && poll(&pfd, 1, 30000) == 1)
		(void)read(sv[0], &child_base, sizeof(child_base));
	close(sv[0]); /* releases the child */
	int st = wait_child(pid);
	printf("  %" PRIu64 " descriptors each way over %u queues in %.2f s (%s pages)\n",
		per_dir, p.n_qpairs, dt, rp_ipc_region_hugetlb(r) ? "2 MB" : "4 KiB");
	assert_int_equal(rc, 0);
	assert_int_equal(st, 0);
	assert_true(child_base != 0);
	assert_true(child_base != (uintptr_t)rp_ipc_region_base(r));
	assert_int_equal(rp_peer_errors(&p), 0);
	assert_int_equal(rp_peer_rx_total(&p), per_dir);
	assert_true(rp_peer_pool_full(&p));
	assert_int_equal(rp_ipc_pool_count(p.borrowed), 0);
	for (unsigned int q = 0; q < p.n_qpairs; q++)
		assert_int_equal(p.q[q].rx_seq, per_dir / p.n_qpairs);
	rp_peer_fini(&p);
	rp_ipc_region_put(r);
}

static void
test_xfer_10m(void **state)
{
	const char *env = getenv("RINGPORT_XFER_DESCS");
	uint64_t n = env ? strtoull(env, NULL, 0) : 10000000;

	(void)state;
	n -= n % params.n_qpairs;
	xfer(true, n);
}

/* ---- hostile client ---------------------------------------------------- */
enum { N_RANDOM = 1000, N_OOR = 500, N_FOREIGN = 300, N_LEN = 200, N_DUP = 100, N_GOOD = 5000 };
enum { R_TWICE = 64, R_ALIGN = 50, R_FOREIGN = 40, R_RANGE = 30, R_NEVER = 20, R_FLAGS = 10 };

/* Push @n descriptors onto @ring (our rp_peer's own view of it, so that
 * its later sends continue from here), waiting for room. */
static void
push(struct rp_ipc_ring *ring, const struct rp_ipc_desc *d, unsigned int n)
{
	while (n > 0) {
		unsigned int k = rp_ipc_ring_avail(ring) < 0 ? 0 : rp_ipc_ring_put(ring, d, n);
		d += k;
		n -= k;
		if (k == 0)
			sched_yield();
	}
}

static void __attribute__((noreturn))
child_hostile(int sock)
{
	struct rp_ipc_region *r = session(sock, false);
	struct rp_peer p;

	if (r == NULL || rp_peer_init(&p, r, false) < 0)
		_exit(2);
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	struct rp_ipc_ring *data = &p.ring[0][RP_IPC_RING_TO_GUEST];
	struct rp_ipc_ring *ret = &p.ring[0][RP_IPC_RING_TO_SWITCH_FREE];
	uint32_t to_sw = (uint32_t)l->bufs_off[RP_IPC_DIR_TO_SWITCH];
	uint32_t to_g = (uint32_t)l->bufs_off[RP_IPC_DIR_TO_GUEST];
	uint32_t end = (uint32_t)rp_ipc_region_hdr(r)->region_size;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct rp_ipc_desc d;

	/* Data ring (server borrows): garbage of every kind. */
	for (int i = 0; i < N_RANDOM; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(&d, &x, 8);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy((uint8_t *)&d + 8, &x, 8);
		d.flags |= 0x8000; /* random, and certainly not valid */
		push(data, &d, 1);
	}
	for (int i = 0; i < N_OOR; i++) {
		d = (struct rp_ipc_desc){.off = end + (uint32_t)i * 4096, .len = 64};
		if (i % 2)
			d.off = (uint32_t)(i * 8); /* header and rings */
		push(data, &d, 1);
	}
	for (int i = 0; i < N_FOREIGN; i++) {
		d = (struct rp_ipc_desc){.off = to_sw + (uint32_t)i * 2048, .len = 64};
		push(data, &d, 1);
	}
	for (int i = 0; i < N_LEN; i++) {
		d = (struct rp_ipc_desc){.off = to_g + (uint32_t)i * 2048 + 1000,
			.len = (uint16_t)(i % 2 ? 0 : 1049)};
		push(data, &d, 1);
	}
	/* Duplicates: one real packet then the same buffer again, adjacent
	 * (the borrower holds it until the burst is done). */
	for (int i = 0; i < N_DUP; i++) {
		uint32_t off;
		while (rp_ipc_pool_alloc(p.own, &off, 1) != 1)
			sched_yield();
		uint16_t len = rp_testpkt_len(p.q[0].tx_seq, p.min_len, p.max_len);
		rp_testpkt_build(rp_ipc_region_base(r) + off, len, 0, p.q[0].tx_seq++);
		p.q[0].tx_pkts++;
		rp_ipc_pool_lend(p.own, off);
		struct rp_ipc_desc two[2] = {{.off = off, .len = len}, {.off = off, .len = len}};
		/* A duplicate is only detectable while the first copy is held:
		 * publish the pair at once into an empty ring, so that the
		 * server dequeues both in one burst. */
		while (rp_ipc_ring_avail(data) != (int)data->capacity)
			sched_yield();
		assert_int_equal(rp_ipc_ring_put(data, two, 2), 2);
	}
	/* Then good traffic: the session still works. (The server's packets
	 * wait in our rx ring for the returns below.) */
	while (p.q[0].tx_pkts < N_DUP + N_GOOD) {
		uint64_t left = N_DUP + N_GOOD - p.q[0].tx_pkts;

		if (rp_peer_tx(&p, 0, left < 32 ? (unsigned int)left : 32) +
				rp_peer_reap(&p, 0) == 0)
			sched_yield();
	}
	/* Returns (server owns): receive its packets by hand, return badly. */
	struct rp_ipc_desc got[R_TWICE];
	unsigned int n = 0;
	struct rp_ipc_ring *rx = &p.ring[0][RP_IPC_RING_TO_SWITCH];
	while (n < R_TWICE) {
		int k = rp_ipc_ring_get(rx, got + n, R_TWICE - n);
		n += k > 0 ? (unsigned int)k : 0;
		rp_peer_reap(&p, 0);
	}
	for (unsigned int i = 0; i < R_TWICE; i++) {
		struct rp_ipc_desc b = {.off = got[i].off & ~2047u};
		push(ret, &b, 1);
		push(ret, &b, 1); /* twice */
	}
	for (int i = 0; i < R_ALIGN; i++) {
		struct rp_ipc_desc b = {.off = to_sw + (uint32_t)i * 2048 + 8};
		push(ret, &b, 1);
	}
	for (int i = 0; i < R_FOREIGN; i++) {
		struct rp_ipc_desc b = {.off = to_g + (uint32_t)i * 2048};
		push(ret, &b, 1);
	}
	for (int i = 0; i < R_RANGE; i++) {
		struct rp_ipc_desc b = {.off = i % 2 ? end + 2048u * i : 64u * i};
		push(ret, &b, 1);
	}
	/* Buffers the server never lent: every other one it has not sent. */
	for (int i = 0; i < R_NEVER; i++) {
		struct rp_ipc_desc b = {.off = to_sw + (uint32_t)(4095 - i) * 2048};
		push(ret, &b, 1);
	}
	for (int i = 0; i < R_FLAGS; i++) {
		struct rp_ipc_desc b = {.off = to_sw, .len = 60, .flags = RP_IPC_DESC_F_HASH};
		push(ret, &b, 1);
	}
	/* Tell the server we are done, then keep serving returns of our own
	 * pool until it hangs up. */
	char c = 'D';
	(void)write(sock, &c, 1);
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	while (poll(&pfd, 1, 0) == 0)
		if (rp_peer_reap(&p, 0) == 0)
			sched_yield();
	(void)read(sock, &c, 1);
	_exit(0);
}

static void
test_hostile_peer(void **state)
{
	struct rp_ipc_region *r;
	struct rp_peer p;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		child_hostile(sv[1]);
	}
	close(sv[1]);
	r = session(sv[0], true);
	assert_non_null(r);
	assert_int_equal(rp_peer_init(&p, r, true), 0);

	const uint64_t sends = 1000; /* packets we lend the client, queue 0 only */
	struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
	double deadline = rp_now_s() + DEADLINE_S;
	unsigned int idle = 0;
	bool child_done = false;

	/* Serve until the child says it is done, then until both rings stay
	 * empty: every descriptor it wrote has been judged. */
	while (!child_done || idle < 1000) {
		unsigned int work = rp_peer_rx(&p, 0, 32) + rp_peer_reap(&p, 0);
		if (p.q[0].tx_seq < sends)
			work += rp_peer_tx(&p, 0, 32);
		if (!child_done && poll(&pfd, 1, 0) == 1) {
			char c;
			child_done = read(sv[0], &c, 1) == 1 && c == 'D';
			assert_true(child_done);
		}
		idle = work ? 0 : idle + 1;
		if (work == 0)
			sched_yield();
		assert_true(rp_now_s() < deadline);
	}

	print_peer("server", &p);
	assert_int_equal(p.st.rejects[RP_IPC_REJ_DESC_FLAGS], N_RANDOM + R_FLAGS);
	assert_int_equal(p.st.rejects[RP_IPC_REJ_DESC_RANGE], N_OOR + R_RANGE);
	assert_int_equal(p.st.rejects[RP_IPC_REJ_DESC_FOREIGN], N_FOREIGN + R_FOREIGN);
	assert_int_equal(p.st.rejects[RP_IPC_REJ_DESC_LEN], N_LEN);
	assert_int_equal(p.st.rejects[RP_IPC_REJ_DESC_DUP], N_DUP + R_TWICE + R_NEVER);
	assert_int_equal(p.st.rejects[RP_IPC_REJ_DESC_ALIGN], R_ALIGN);
	assert_int_equal(p.st.rejects[RP_IPC_REJ_RING], 0);
	/* Every valid packet arrived intact and in order. */
	assert_int_equal(p.q[0].rx_pkts, N_DUP + N_GOOD);
	assert_int_equal(p.q[0].bad_payload, 0);
	assert_int_equal(p.q[0].bad_order, 0);
	assert_int_equal(rp_ipc_pool_count(p.borrowed), 0);

	/* Session over: the client still holds what it never returned. */
	close(sv[0]);
	assert_int_equal(wait_child(pid), 0);
	rp_peer_reclaim(&p);
	assert_true(rp_peer_pool_full(&p));
	rp_peer_fini(&p);
	rp_ipc_region_put(r);
}

/* ---- kill -9 mid-traffic ------------------------------------------------ */
static void __attribute__((noreturn))
child_forever(int sock, bool server)
{
	struct rp_ipc_region *r = session(sock, server);
	struct rp_peer p;

	if (r == NULL || rp_peer_init(&p, r, server) < 0)
		_exit(2);
	pump(&p, sock, UINT64_MAX / 2, 0); /* until killed */
	_exit(3);
}

static void
kill_and_recover(bool survivor_server)
{
	struct rp_ipc_region *r;
	struct rp_peer p;
	int sv[2];

	for (int round = 0; round < 3; round++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(sv[0]);
			child_forever(sv[1], !survivor_server);
		}
		close(sv[1]);
		r = session(sv[0], survivor_server);
		assert_non_null(r);
		assert_int_equal(rp_peer_init(&p, r, survivor_server), 0);
		assert_int_equal(pump(&p, sv[0], UINT64_MAX / 2, 50000 * (round + 1)), 0);
		/* Traffic in flight: we just sent a burst and reaped nothing since. */
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(wait_child(pid), 128 + SIGKILL);

		/* The socket tells us: EOF. */
		struct rp_ipc_msg m;
		unsigned int nf;
		int fds[RP_IPC_MAX_FDS];
		char why[WHY];
		assert_int_equal(rp_ipc_recv(sv[0], &m, fds, &nf, 1000, why, sizeof(why)),
			RP_IPC_REJ_IO);
		assert_string_equal(why, "peer closed the socket");
		close(sv[0]);

		unsigned int out = rp_ipc_pool_size(p.own) - rp_ipc_pool_count(p.own);
		assert_true(out > 0);
		assert_int_equal(rp_peer_errors(&p), 0);
		rp_peer_reclaim(&p);
		assert_true(rp_peer_pool_full(&p));
		assert_int_equal(rp_ipc_pool_count(p.borrowed), 0);
		printf("  round %d: survivor (%s) reclaimed %u lent buffers\n", round,
			survivor_server ? "server" : "client", out);
		rp_peer_fini(&p);
		rp_ipc_region_put(r);

		/* A new session works. */
		xfer(survivor_server, 200000);
	}
}

static void
test_kill_client(void **state)
{
	(void)state;
	kill_and_recover(true);
}

static void
test_kill_server(void **state)
{
	(void)state;
	kill_and_recover(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xfer_10m),
		cmocka_unit_test(test_hostile_peer),
		cmocka_unit_test(test_kill_client),
		cmocka_unit_test(test_kill_server),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
