/* SPDX-License-Identifier: BSD-3-Clause */
/* ABI layout, message parsing, and the handshake with each refusal. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <dirent.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "rp_ipc.h"

#define WHY 256

/* ---- ABI: the wire layout is a contract; these fail on any drift ------ */
static void
test_abi_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct rp_ipc_desc), 16);
	assert_int_equal(offsetof(struct rp_ipc_desc, off), 0);
	assert_int_equal(offsetof(struct rp_ipc_desc, len), 4);
	assert_int_equal(offsetof(struct rp_ipc_desc, flags), 6);
	assert_int_equal(offsetof(struct rp_ipc_desc, hash), 8);
	assert_int_equal(offsetof(struct rp_ipc_desc, l3_len), 15);
	assert_int_equal(sizeof(struct rp_ipc_hdr), 256);
	assert_int_equal(offsetof(struct rp_ipc_hdr, version), 8);
	assert_int_equal(offsetof(struct rp_ipc_hdr, region_size), 16);
	assert_int_equal(offsetof(struct rp_ipc_hdr, ring_size), 28);
	assert_int_equal(offsetof(struct rp_ipc_hdr, n_bufs), 36);
	assert_int_equal(offsetof(struct rp_ipc_hdr, state), 128);
	assert_int_equal(offsetof(struct rp_ipc_hdr, wake), 132);
	assert_int_equal(sizeof(struct rp_ipc_msg), RP_IPC_MSG_SIZE);
	assert_int_equal(offsetof(struct rp_ipc_msg, u), 16);
	assert_int_equal(RP_IPC_COOKIE, 0x54524f50474e4952ULL);
	assert_memory_equal(&(uint64_t){RP_IPC_COOKIE}, "RINGPORT", 8);
	assert_int_equal(RP_IPC_VERSION, 0x0101);
	/* Every reason has a distinct, non-empty name (xstats rely on it). */
	for (int i = 0; i < RP_IPC_REJ_MAX; i++) {
		assert_true(strlen(rp_ipc_reject_name(i)) > 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(rp_ipc_reject_name(i), rp_ipc_reject_name(j));
	}
}

/* ---- message parser: table-driven ------------------------------------- */
struct parse_case {
	const char *desc;
	void (*mutate)(struct rp_ipc_msg *m, size_t *len, unsigned int *n_fds);
	enum rp_ipc_reject want;
	const char *why; /* substring of the reason */
};

static void mut_none(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)m; (void)l; (void)n; }
static void mut_short(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)m; (void)n; *l = 40; }
static void mut_empty(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)m; (void)n; *l = 0; }
static void mut_long(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)m; (void)n; *l = RP_IPC_MSG_SIZE + 1; }
static void mut_cookie(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)l; (void)n; m->h.cookie ^= 1; }
static void mut_type0(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)l; (void)n; m->h.type = 0; }
static void mut_type99(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)l; (void)n; m->h.type = 99; }
static void mut_major(struct rp_ipc_msg *m, size_t *l, unsigned int *n)
{ (void)l; (void)n; m->h.type = RP_IPC_MSG_INIT; m->h.version = 0x0200; }
static void mut_hdr_resv(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)l; (void)n; m->h.reserved[1] = 7; }
static void mut_extra_fd(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)m; (void)l; *n = 1; }
static void mut_hdr_fds(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)l; (void)n; m->h.n_fds = 2; }
static void mut_name(struct rp_ipc_msg *m, size_t *l, unsigned int *n)
{ (void)l; (void)n; memset(m->u.hello.name, 'x', sizeof(m->u.hello.name)); }
static void mut_range(struct rp_ipc_msg *m, size_t *l, unsigned int *n)
{ (void)l; (void)n; m->u.hello.min_version = 0x0102; m->u.hello.max_version = 0x0101; }
static void mut_qpairs(struct rp_ipc_msg *m, size_t *l, unsigned int *n)
{ (void)l; (void)n; m->u.hello.max_qpairs = RP_IPC_MAX_QPAIRS + 1; }
static void mut_tail(struct rp_ipc_msg *m, size_t *l, unsigned int *n) { (void)l; (void)n; m->u.raw[100] = 1; }
static void mut_region_nofd(struct rp_ipc_msg *m, size_t *l, unsigned int *n)
{
	(void)l;
	rp_ipc_msg_init(m, RP_IPC_MSG_REGION, 1);
	m->u.region.region_size = 1 << 21;
	m->u.region.n_qpairs = 1;
	*n = 0;
}
static void mut_region_wake(struct rp_ipc_msg *m, size_t *l, unsigned int *n)
{
	(void)l;
	rp_ipc_msg_init(m, RP_IPC_MSG_REGION, 3);
	m->u.region.region_size = 1 << 21;
	m->u.region.n_qpairs = 4;
	m->u.region.n_wake_fds = 2;
	*n = 3;
}
static void mut_disc_reason(struct rp_ipc_msg *m, size_t *l, unsigned int *n)
{
	(void)l; (void)n;
	rp_ipc_msg_init(m, RP_IPC_MSG_DISCONNECT, 0);
	memset(m->u.disconnect.reason, 'r', sizeof(m->u.disconnect.reason));
}

static const struct parse_case parse_cases[] = {
	{"valid HELLO", mut_none, RP_IPC_REJ_NONE, ""},
	{"40-byte message", mut_short, RP_IPC_REJ_TRUNCATED, "truncated message: 40 bytes, expected 128"},
	{"empty message", mut_empty, RP_IPC_REJ_TRUNCATED, "truncated message: 0 bytes"},
	{"129-byte message", mut_long, RP_IPC_REJ_OVERSIZED, "oversized message: more than 128 bytes"},
	{"cookie off by one bit", mut_cookie, RP_IPC_REJ_COOKIE, "bad cookie 0x54524f50474e4953"},
	{"type 0", mut_type0, RP_IPC_REJ_TYPE, "unknown message type 0"},
	{"type 99", mut_type99, RP_IPC_REJ_TYPE, "unknown message type 99"},
	{"INIT at ABI 2.0", mut_major, RP_IPC_REJ_VERSION, "ABI major mismatch: peer 2.0, ours 1.1"},
	{"reserved header byte", mut_hdr_resv, RP_IPC_REJ_FIELD, "reserved header bytes"},
	{"HELLO with an extra fd", mut_extra_fd, RP_IPC_REJ_FDS, "HELLO: expected 0 fds, header says 0, received 1"},
	{"HELLO header claims fds", mut_hdr_fds, RP_IPC_REJ_FDS, "header says 2"},
	{"name not terminated", mut_name, RP_IPC_REJ_FIELD, "HELLO: name not NUL-terminated"},
	{"min above max", mut_range, RP_IPC_REJ_FIELD, "min_version 0x0102 above max_version 0x0101"},
	{"17 queue pairs", mut_qpairs, RP_IPC_REJ_FIELD, "max_qpairs 17 not in 1..16"},
	{"garbage after body", mut_tail, RP_IPC_REJ_FIELD, "bytes after the 44-byte body"},
	{"REGION without its fd", mut_region_nofd, RP_IPC_REJ_FDS, "REGION: expected 1 fds, header says 1, received 0"},
	{"REGION with 2 wake fds for 4 queues", mut_region_wake, RP_IPC_REJ_FIELD, "n_wake_fds 2 is neither 0 nor n_qpairs 4"},
	{"DISCONNECT reason unterminated", mut_disc_reason, RP_IPC_REJ_FIELD, "reason not NUL-terminated"},
};

static void
test_msg_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint8_t buf[RP_IPC_MSG_SIZE + 8] = {0};
		struct rp_ipc_msg m, out;
		size_t len = RP_IPC_MSG_SIZE;
		unsigned int n_fds = 0;
		char why[WHY] = "";

		rp_ipc_msg_init(&m, RP_IPC_MSG_HELLO, 0);
		m.u.hello.min_version = m.u.hello.max_version = RP_IPC_VERSION;
		m.u.hello.max_qpairs = 4;
		strcpy(m.u.hello.name, "test");
		c->mutate(&m, &len, &n_fds);
		memcpy(buf, &m, sizeof(m));
		enum rp_ipc_reject got = rp_ipc_msg_parse(buf, len, n_fds, &out, why, sizeof(why));
		if (got != c->want || strstr(why, c->why) == NULL) {
			print_error("case '%s': got %s (\"%s\"), want %s (\"%s\")\n", c->desc,
				rp_ipc_reject_name(got), why, rp_ipc_reject_name(c->want), c->why);
			fail();
		}
	}
}

/* ---- handshake --------------------------------------------------------- */
static struct rp_ipc_region_params
small_params(uint16_t qp)
{
	struct rp_ipc_region_params p = {
		.n_qpairs = qp,
		.ring_size = 256,
		.buf_size = 2048,
		.n_bufs = {512, 512},
		.mac = {0x02, 0, 0, 0, 0, 1},
		.mtu = 1500,
		.features = RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG,
	};
	return p;
}

struct srv_arg {
	int sock;
	struct rp_ipc_region *r;
	int rc;
	enum rp_ipc_reject rej;
	struct rp_ipc_peer peer;
	struct rp_ipc_stats st;
	char why[WHY];
};

static void *
srv_thread(void *a)
{
	struct srv_arg *s = a;

	s->rc = rp_ipc_server_handshake(s->sock, s->r, NULL, 0, &(struct rp_ipc_hs_opts){
		.name = "iothread-test", .timeout_ms = 5000, .peer = &s->peer, .st = &s->st,
		.rej = &s->rej, .why = s->why, .why_size = sizeof(s->why)});
	return NULL;
}

static void
sockpair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* A fresh region with @qp queue pairs, and its server handshake running on
 * a thread over sv[0]; the test plays the client on sv[1]. */
static void
start_server(struct srv_arg *s, int sv[2], uint16_t qp, pthread_t *t)
{
	struct rp_ipc_region_params p = small_params(qp);

	sockpair(sv);
	s->sock = sv[0];
	s->r = rp_ipc_region_create(&p, s->why, sizeof(s->why));
	assert_non_null(s->r);
	assert_int_equal(pthread_create(t, NULL, srv_thread, s), 0);
}

static void
test_handshake_ok(void **state)
{
	struct rp_ipc_region_params p = small_params(4);
	struct srv_arg s = {0};
	struct rp_ipc_region *cr = NULL;
	struct rp_ipc_stats cst = {0};
	struct rp_ipc_peer cpeer;
	enum rp_ipc_reject rej;
	char why[WHY] = "";
	unsigned int n_wake = 9;
	int wake[RP_IPC_MAX_FDS];
	pthread_t t;
	int sv[2];

	(void)state;
	start_server(&s, sv, p.n_qpairs, &t);
	int rc = rp_ipc_client_handshake(sv[1], &(struct rp_ipc_hs_opts){.name = "pmd-test",
		.features = RP_IPC_F_KNOWN, .timeout_ms = 5000, .peer = &cpeer, .st = &cst,
		.rej = &rej, .why = why, .why_size = sizeof(why)}, &cr, wake, &n_wake);
	pthread_join(t, NULL);
	if (rc != 0 || s.rc != 0)
		print_error("client rc %d (%s), server rc %d (%s)\n", rc, why, s.rc, s.why);
	assert_int_equal(rc, 0);
	assert_int_equal(s.rc, 0);
	assert_non_null(cr);
	assert_int_equal(n_wake, 0);
	assert_string_equal(cpeer.name, "iothread-test");
	assert_string_equal(s.peer.name, "pmd-test");
	assert_int_equal(s.peer.version, RP_IPC_VERSION);
	assert_int_equal(s.peer.features, p.features);

	/* The client mapped the same memory somewhere else, validated. */
	const struct rp_ipc_layout *l = rp_ipc_region_layout(cr);
	assert_int_equal(l->n_qpairs, 4);
	assert_int_equal(l->mtu, 1500);
	assert_memory_equal(l->mac, p.mac, 6);
	assert_ptr_not_equal(rp_ipc_region_base(cr), rp_ipc_region_base(s.r));
	assert_int_equal(__atomic_load_n(&rp_ipc_region_hdr(cr)->state, __ATOMIC_ACQUIRE),
		RP_IPC_STATE_UP);
	/* A descriptor put on a ring by one side is seen by the other. */
	struct rp_ipc_desc d = {.off = 4242, .len = 60}, got;
	assert_int_equal(rte_ring_sp_enqueue_elem(rp_ipc_region_ring(s.r, 3, RP_IPC_RING_TO_SWITCH),
				 &d, sizeof(d)), 0);
	assert_int_equal(rte_ring_sc_dequeue_elem(rp_ipc_region_ring(cr, 3, RP_IPC_RING_TO_SWITCH),
				 &got, sizeof(got)), 0);
	assert_memory_equal(&d, &got, sizeof(d));
	for (int i = 0; i < RP_IPC_REJ_MAX; i++) {
		assert_int_equal(cst.rejects[i], 0);
		assert_int_equal(s.st.rejects[i], 0);
	}
	rp_ipc_region_put(cr);
	rp_ipc_region_put(s.r);
	close(sv[0]);
	close(sv[1]);
}

/* A raw peer: queue messages on sv[0] before the library side runs. */
static void
raw_send(int sock, const struct rp_ipc_msg *m, size_t len, const int *fds, unsigned int nf)
{
	if (len == sizeof(*m) && nf > 0) {
		assert_int_equal(rp_ipc_send(sock, m, fds, nf), 0);
		return;
	}
	assert_int_equal(send(sock, m, len, 0), (ssize_t)len);
}

static void
good_hello(struct rp_ipc_msg *m)
{
	rp_ipc_msg_init(m, RP_IPC_MSG_HELLO, 0);
	m->u.hello.min_version = RP_IPC_VERSION_MIN;
	m->u.hello.max_version = RP_IPC_VERSION;
	m->u.hello.max_qpairs = 4;
	m->u.hello.features = RP_IPC_F_KNOWN;
	strcpy(m->u.hello.name, "raw");
}

/* Run the client against what is queued; check its refusal and that the
 * raw side got a DISCONNECT carrying the same reason (unless none due). */
static void
client_refuses(int sv[2], enum rp_ipc_reject want, const char *why_sub, bool expect_disc)
{
	struct rp_ipc_region *cr = NULL;
	struct rp_ipc_stats st = {0};
	enum rp_ipc_reject rej;
	unsigned int n_wake;
	int wake[RP_IPC_MAX_FDS];
	char why[WHY] = "";
	struct rp_ipc_msg m;
	ssize_t n;

	int rc = rp_ipc_client_handshake(sv[1], &(struct rp_ipc_hs_opts){.name = "pmd",
		.features = RP_IPC_F_KNOWN, .timeout_ms = 2000, .st = &st, .rej = &rej, .why = why,
		.why_size = sizeof(why)}, &cr, wake, &n_wake);
	if (rej != want || strstr(why, why_sub) == NULL) {
		print_error("got %s (\"%s\"), want %s (\"%s\")\n", rp_ipc_reject_name(rej), why,
			rp_ipc_reject_name(want), why_sub);
		fail();
	}
	assert_int_equal(rc, -EPROTO);
	assert_null(cr);
	assert_int_equal(st.rejects[want], 1);
	if (!expect_disc)
		return;
	/* Skip the client's INIT, if any, to its DISCONNECT. */
	do {
		n = recv(sv[0], &m, sizeof(m), MSG_DONTWAIT);
		assert_int_equal(n, sizeof(m));
	} while (m.h.type == RP_IPC_MSG_INIT);
	assert_int_equal(m.h.type, RP_IPC_MSG_DISCONNECT);
	assert_int_equal(m.u.disconnect.code, RP_IPC_DISC_REFUSED);
	assert_non_null(strstr(m.u.disconnect.reason, why_sub));
}

/* Wake sockets travel with the region: one per queue pair; a wake-up on
 * the client's end is seen on the server's, and never blocks, whatever the
 * server did to the socket. Anything else as a wake fd is refused. */
struct wake_srv {
	struct srv_arg s;
	int keep[4], send[4];
	unsigned int n_send;
};

static void *
wake_srv_thread(void *a)
{
	struct wake_srv *w = a;

	w->s.rc = rp_ipc_server_handshake(w->s.sock, w->s.r, w->send, w->n_send,
		&(struct rp_ipc_hs_opts){.name = "iothread-test", .timeout_ms = 5000,
		.rej = &w->s.rej, .why = w->s.why, .why_size = sizeof(w->s.why)});
	return NULL;
}

static int
wake_handshake(struct wake_srv *w, int sv[2], int *wake, unsigned int *n_wake,
	struct rp_ipc_region **cr, enum rp_ipc_reject *rej, char *why, size_t ws)
{
	struct rp_ipc_region_params p = small_params(4);
	pthread_t t;

	p.features |= RP_IPC_F_WAKE_SOCK;
	sockpair(sv);
	w->s.sock = sv[0];
	w->s.r = rp_ipc_region_create(&p, w->s.why, sizeof(w->s.why));
	assert_non_null(w->s.r);
	assert_int_equal(pthread_create(&t, NULL, wake_srv_thread, w), 0);
	int rc = rp_ipc_client_handshake(sv[1], &(struct rp_ipc_hs_opts){.name = "pmd",
		.features = RP_IPC_F_KNOWN, .timeout_ms = 5000, .rej = rej, .why = why,
		.why_size = ws}, cr, wake, n_wake);
	pthread_join(t, NULL);
	return rc;
}

/* The server's four wake socket pairs: keep[] stays, send[] goes. */
static void
wake_pairs(struct wake_srv *w)
{
	for (int i = 0; i < 4; i++) {
		int pair[2];

		assert_int_equal(rp_ipc_wake_pair(pair), 0);
		w->keep[i] = pair[0];
		w->send[i] = pair[1];
	}
}

static void
test_handshake_wake_fds(void **state)
{
	struct wake_srv w = {.n_send = 4};
	struct rp_ipc_region *cr = NULL;
	enum rp_ipc_reject rej;
	unsigned int n_wake = 0;
	int wake[RP_IPC_MAX_FDS], sv[2];
	char why[WHY] = "";

	(void)state;
	wake_pairs(&w);
	/* Three wake fds for four queue pairs is refused before anything is sent. */
	struct rp_ipc_region_params p4 = small_params(4);
	struct rp_ipc_region *r4 = rp_ipc_region_create(&p4, why, sizeof(why));
	assert_non_null(r4);
	assert_int_equal(rp_ipc_server_handshake(-1, r4, w.send, 3, &(struct rp_ipc_hs_opts){
		.name = "x", .timeout_ms = 10, .rej = &rej, .why = why,
		.why_size = sizeof(why)}), -EINVAL);
	rp_ipc_region_put(r4);
	assert_int_equal(wake_handshake(&w, sv, wake, &n_wake, &cr, &rej, why, sizeof(why)), 0);
	assert_int_equal(w.s.rc, 0);
	assert_int_equal(n_wake, 4);
	assert_true(rp_ipc_region_layout(cr)->features & RP_IPC_F_WAKE_SOCK);
	assert_int_equal(rp_ipc_wake(wake[2]), 0);
	assert_true(rp_ipc_wake_drain(w.keep[2]) >= 1);
	assert_int_equal(rp_ipc_wake_drain(w.keep[1]), 0); /* others untouched */

	/* Hostile: the server clears O_NONBLOCK on the socket it sent (the
	 * flag belongs to the open file, which it shares) and fills the queue
	 * it never reads. A wake-up still returns at once: woken already. */
	assert_int_equal(fcntl(w.send[3], F_SETFL, 0), 0);
	assert_int_equal(fcntl(wake[3], F_GETFL) & O_NONBLOCK, 0);
	uint8_t b = 1;
	while (send(wake[3], &b, 1, MSG_DONTWAIT) == 1)
		;
	assert_int_equal(errno, EAGAIN);
	alarm(5); /* a blocking call fails the test with SIGALRM */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rp_ipc_wake(wake[3]), 0);
	alarm(0);
	/* ... and one whose server end is gone: an error, never SIGPIPE. */
	close(w.keep[0]);
	assert_true(rp_ipc_wake(wake[0]) < 0);
	for (int i = 0; i < 4; i++) {
		close(wake[i]);
		if (i != 0)
			close(w.keep[i]);
		close(w.send[i]);
	}
	rp_ipc_region_put(cr);
	rp_ipc_region_put(w.s.r);
	close(sv[0]);
	close(sv[1]);
}

/* A wake fd that is not a UNIX datagram socket: an eventfd, whose
 * O_NONBLOCK the server could clear (the retired 1.0 wake-ups). */
static void
test_refuse_wake_eventfd(void **state)
{
	struct wake_srv w = {.n_send = 4};
	struct rp_ipc_region *cr = NULL;
	enum rp_ipc_reject rej;
	unsigned int n_wake = 0;
	int wake[RP_IPC_MAX_FDS], sv[2];
	char why[WHY] = "";

	(void)state;
	wake_pairs(&w);
	close(w.send[1]);
	w.send[1] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(wake_handshake(&w, sv, wake, &n_wake, &cr, &rej, why, sizeof(why)),
		-EPROTO);
	assert_int_equal(rej, RP_IPC_REJ_FDS);
	assert_string_equal(why, "wake fd 2 of 4 is not a UNIX datagram socket");
	assert_null(cr);
	assert_int_equal(n_wake, 0);
	for (int i = 0; i < 4; i++) {
		close(w.keep[i]);
		close(w.send[i]);
	}
	rp_ipc_region_put(w.s.r);
	close(sv[0]);
	close(sv[1]);
}

static void
test_refuse_cookie(void **state)
{
	struct rp_ipc_msg m;
	int sv[2];

	(void)state;
	sockpair(sv);
	good_hello(&m);
	m.h.cookie = 0x1122334455667788ULL;
	raw_send(sv[0], &m, sizeof(m), NULL, 0);
	client_refuses(sv, RP_IPC_REJ_COOKIE, "bad cookie 0x1122334455667788", true);
	close(sv[0]);
	close(sv[1]);
}

static void
test_refuse_major(void **state)
{
	struct rp_ipc_msg m;
	int sv[2];

	(void)state;
	sockpair(sv);
	good_hello(&m);
	m.h.version = 0x0203;
	m.u.hello.min_version = 0x0200;
	m.u.hello.max_version = 0x0203;
	raw_send(sv[0], &m, sizeof(m), NULL, 0);
	client_refuses(sv, RP_IPC_REJ_VERSION,
		"ABI major mismatch: server speaks 2.0..2.3, we speak 1.0..1.1", true);
	close(sv[0]);
	close(sv[1]);
}

static void
test_refuse_truncated(void **state)
{
	struct rp_ipc_msg m;
	int sv[2];

	(void)state;
	sockpair(sv);
	good_hello(&m);
	raw_send(sv[0], &m, 100, NULL, 0);
	client_refuses(sv, RP_IPC_REJ_TRUNCATED, "truncated message: 100 bytes, expected 128", true);
	close(sv[0]);
	close(sv[1]);
}

static void
test_refuse_oversized(void **state)
{
	uint8_t big[300] = {0};
	struct rp_ipc_msg m;
	int sv[2];

	(void)state;
	sockpair(sv);
	good_hello(&m);
	memcpy(big, &m, sizeof(m));
	assert_int_equal(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	client_refuses(sv, RP_IPC_REJ_OVERSIZED, "oversized message", true);
	close(sv[0]);
	close(sv[1]);
}

static void
test_refuse_extra_fds(void **state)
{
	struct rp_ipc_msg m;
	int sv[2], fds[2];

	(void)state;
	sockpair(sv);
	good_hello(&m);
	m.h.n_fds = 0;
	fds[0] = dup(0);
	fds[1] = dup(0);
	raw_send(sv[0], &m, sizeof(m), fds, 2);
	client_refuses(sv, RP_IPC_REJ_FDS, "HELLO: expected 0 fds, header says 0, received 2", true);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
}

/* Open fds of this process. */
static unsigned int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* Send @len bytes (any, even 0) with @nf fresh eventfds in as many
 * SCM_RIGHTS messages of at most 32 each; our copies are closed. */
static void
send_with_fds(int sock, const void *buf, size_t len, unsigned int nf)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 32) * 2];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b};
	struct cmsghdr *c;
	int fds[64];

	assert_true(nf <= 64);
	memset(&ctl, 0, sizeof(ctl));
	for (unsigned int i = 0; i < nf; i++)
		assert_true((fds[i] = eventfd(0, EFD_CLOEXEC)) >= 0);
	mh.msg_controllen = 0;
	c = &ctl.align;
	for (unsigned int i = 0; i < nf; i += 32) {
		unsigned int k = nf - i < 32 ? nf - i : 32;

		mh.msg_controllen += CMSG_SPACE(sizeof(int) * k);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * k);
		memcpy(CMSG_DATA(c), fds + i, sizeof(int) * k);
		c = (struct cmsghdr *)((char *)c + CMSG_SPACE(sizeof(int) * k));
	}
	if (nf == 0)
		mh.msg_control = NULL;
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
	for (unsigned int i = 0; i < nf; i++)
		close(fds[i]);
}

/* Whatever a message is, every fd that came with it is closed when it is
 * refused: a hostile server answering each connection with fds must not
 * make the switch leak them (an empty message with fds once did). */
static void
test_recv_closes_fds(void **state)
{
	static const struct {
		const char *desc;
		size_t len;        /* bytes sent: 0, short, whole (a good HELLO) */
		unsigned int nf;
		enum rp_ipc_reject want;
		const char *why;
	} cases[] = {
		{"empty message, 3 fds", 0, 3, RP_IPC_REJ_TRUNCATED, "empty message with 3 fds"},
		{"short message, 2 fds", 40, 2, RP_IPC_REJ_TRUNCATED, "truncated message"},
		{"HELLO, 2 unexpected fds", RP_IPC_MSG_SIZE, 2, RP_IPC_REJ_FDS, "expected 0 fds"},
		{"HELLO, 40 fds in two cmsgs", RP_IPC_MSG_SIZE, 40, RP_IPC_REJ_FDS, "too many fds"},
		{"empty message, 64 fds", 0, 64, RP_IPC_REJ_TRUNCATED, "empty message with"},
	};
	struct rp_ipc_msg m, got;
	int sv[2], fds[RP_IPC_MAX_FDS];
	unsigned int n_fds, before;
	char why[256];

	(void)state;
	good_hello(&m);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sockpair(sv);
		before = count_fds();
		for (int round = 0; round < 50; round++) {
			send_with_fds(sv[0], &m, cases[i].len, cases[i].nf);
			enum rp_ipc_reject r = rp_ipc_recv(sv[1], &got, fds, &n_fds, 1000, why,
				sizeof(why));
			if (r != cases[i].want || strstr(why, cases[i].why) == NULL)
				fail_msg("%s: got %s (%s), want %s (%s)", cases[i].desc,
					rp_ipc_reject_name(r), why, rp_ipc_reject_name(cases[i].want),
					cases[i].why);
			assert_int_equal(n_fds, 0);
		}
		if (count_fds() != before)
			fail_msg("%s: %u fds open after 50 refusals, %u before", cases[i].desc,
				count_fds(), before);
		close(sv[0]);
		close(sv[1]);
	}
}

static void
test_refuse_missing_fd(void **state)
{
	struct rp_ipc_msg m;
	int sv[2];

	(void)state;
	sockpair(sv);
	good_hello(&m);
	raw_send(sv[0], &m, sizeof(m), NULL, 0);
	rp_ipc_msg_init(&m, RP_IPC_MSG_REGION, 1);
	m.u.region.region_size = 4 << 20;
	m.u.region.n_qpairs = 1;
	raw_send(sv[0], &m, sizeof(m), NULL, 0); /* claims an fd, sends none */
	client_refuses(sv, RP_IPC_REJ_FDS, "REGION: expected 1 fds, header says 1, received 0", true);
	close(sv[0]);
	close(sv[1]);
}

/* A region fd holding a valid header but cut short: a real region's first
 * page copied into a smaller sealed memfd. */
static void
test_refuse_small_region(void **state)
{
	struct rp_ipc_region_params p = small_params(1);
	struct rp_ipc_region *r;
	struct rp_ipc_msg m;
	char why[WHY];
	int sv[2], fd;

	(void)state;
	r = rp_ipc_region_create(&p, why, sizeof(why));
	assert_non_null(r);
	fd = memfd_create("short", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 65536), 0);
	assert_int_equal(pwrite(fd, rp_ipc_region_hdr(r), sizeof(struct rp_ipc_hdr), 0),
		(ssize_t)sizeof(struct rp_ipc_hdr));
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);

	sockpair(sv);
	good_hello(&m);
	raw_send(sv[0], &m, sizeof(m), NULL, 0);
	rp_ipc_msg_init(&m, RP_IPC_MSG_REGION, 1);
	m.u.region.region_size = 65536; /* the message agrees with the fd ... */
	m.u.region.n_qpairs = 1;
	m.u.region.features = p.features;
	raw_send(sv[0], &m, sizeof(m), &fd, 1);
	char want[WHY];
	snprintf(want, sizeof(want), "region fd is 65536 bytes but the header says %llu",
		(unsigned long long)rp_ipc_region_hdr(r)->region_size);
	client_refuses(sv, RP_IPC_REJ_REGION_SIZE, want, true); /* ... the header doesn't */
	close(fd);
	close(sv[0]);
	close(sv[1]);
	rp_ipc_region_put(r);
}

/* The server side sees the client's refusal as RP_IPC_REJ_PEER with its text. */
static void
test_server_sees_refusal(void **state)
{
	struct srv_arg s = {0};
	struct rp_ipc_msg m;
	pthread_t t;
	int sv[2];

	(void)state;
	start_server(&s, sv, 2, &t);
	assert_int_equal(recv(sv[1], &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(m.h.type, RP_IPC_MSG_HELLO);
	rp_ipc_send_disconnect(sv[1], RP_IPC_DISC_REFUSED, "no thanks: test");
	pthread_join(t, NULL);
	assert_int_equal(s.rc, -EPROTO);
	assert_int_equal(s.rej, RP_IPC_REJ_PEER);
	assert_string_equal(s.why, "peer refused: no thanks: test");
	assert_int_equal(s.st.rejects[RP_IPC_REJ_PEER], 1);
	rp_ipc_region_put(s.r);
	close(sv[0]);
	close(sv[1]);
}

static void
test_timeout(void **state)
{
	struct rp_ipc_region *cr;
	enum rp_ipc_reject rej;
	unsigned int n_wake;
	int wake[RP_IPC_MAX_FDS], sv[2];
	char why[WHY];

	(void)state;
	sockpair(sv);
	int rc = rp_ipc_client_handshake(sv[1], &(struct rp_ipc_hs_opts){.name = "pmd",
		.timeout_ms = 50, .rej = &rej, .why = why, .why_size = sizeof(why)}, &cr, wake,
		&n_wake);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_int_equal(rej, RP_IPC_REJ_IO);
	assert_non_null(strstr(why, "timed out after 50 ms"));
	close(sv[0]);
	rc = rp_ipc_client_handshake(sv[1], &(struct rp_ipc_hs_opts){.name = "pmd",
		.timeout_ms = 50, .rej = &rej, .why = why, .why_size = sizeof(why)}, &cr, wake,
		&n_wake);
	assert_int_equal(rc, -ECONNRESET);
	assert_string_equal(why, "peer closed the socket");
	close(sv[1]);
}

/* A socket a killed server left behind is replaced; a live one, or a
 * file that is not a socket, is left alone and named. */
static void
test_stale_socket(void **state)
{
	char dir[] = "/tmp/rp-stale.XXXXXX", path[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, live;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	/* Nothing there. */
	assert_int_equal(rp_ipc_sock_clear_stale(path, SOCK_STREAM), 0);
	/* A regular file: kept. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rp_ipc_sock_clear_stale(path, SOCK_STREAM), -EEXIST);
	assert_int_equal(rp_ipc_listen(path), -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
	/* Stale: bound, then its process "died" (closed without unlink). */
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	close(fd);
	assert_int_equal(rp_ipc_sock_clear_stale(path, SOCK_STREAM), 0);
	assert_int_equal(lstat(path, &st), -1);
	/* Live (a SEQPACKET listener, as the port socket): kept, and a
	 * second listener is refused instead of stealing the path. */
	live = rp_ipc_listen(path);
	assert_true(live >= 0);
	assert_int_equal(rp_ipc_sock_clear_stale(path, SOCK_SEQPACKET), -EADDRINUSE);
	assert_int_equal(rp_ipc_sock_clear_stale(path, SOCK_STREAM), -EADDRINUSE);
	assert_int_equal(rp_ipc_listen(path), -EADDRINUSE);
	fd = rp_ipc_connect(path);
	assert_true(fd >= 0); /* still the first listener's */
	close(fd);
	close(live);
	/* Its server gone: a restarted one takes the path over. */
	live = rp_ipc_listen(path);
	assert_true(live >= 0);
	close(live);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_layout),
		cmocka_unit_test(test_msg_parse),
		cmocka_unit_test(test_handshake_ok),
		cmocka_unit_test(test_handshake_wake_fds),
		cmocka_unit_test(test_refuse_wake_eventfd),
		cmocka_unit_test(test_refuse_cookie),
		cmocka_unit_test(test_refuse_major),
		cmocka_unit_test(test_refuse_truncated),
		cmocka_unit_test(test_refuse_oversized),
		cmocka_unit_test(test_refuse_extra_fds),
		cmocka_unit_test(test_refuse_missing_fd),
		cmocka_unit_test(test_recv_closes_fds),
		cmocka_unit_test(test_refuse_small_region),
		cmocka_unit_test(test_server_sees_refusal),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_stale_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
