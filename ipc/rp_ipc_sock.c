/* SPDX-License-Identifier: BSD-3-Clause */
/* The port socket: SOCK_SEQPACKET, fixed-size messages, fds by
 * SCM_RIGHTS, and the handshake state machines of both sides. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rp_ipc.h"
#include "rp_ipc_private.h"

static int
sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int
rp_ipc_sock_clear_stale(const char *path, int type)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	rc = sock_addr(path, &sa);
	if (rc < 0)
		return rc;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	/* Is anyone listening? Non-blocking: a listener whose backlog is
	 * full (EAGAIN) is alive too, and we never wait on it. */
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	switch (rc) {
	case ECONNREFUSED: /* nobody: left by a process that died */
		return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
	case ENOENT: /* gone meanwhile */
		return 0;
	case 0:
	case EAGAIN:
	case EINPROGRESS:
	case EPROTOTYPE: /* a live socket of another type */
		return -EADDRINUSE;
	default:
		return -rc;
	}
}

int
rp_ipc_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = sock_addr(path, &sa);
	if (rc < 0)
		return rc;
	/* Replace a stale socket, never a live one nor another kind of file. */
	rc = rp_ipc_sock_clear_stale(path, SOCK_SEQPACKET);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
		listen(fd, 8) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int
connect_flags(const char *path, int flags)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = sock_addr(path, &sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
rp_ipc_connect(const char *path)
{
	return connect_flags(path, 0);
}

int
rp_ipc_connect_nonblock(const char *path)
{
	/* A UNIX socket connects at once or not at all: a listener whose
	 * backlog is full gives -EAGAIN, never a connect that hangs. */
	return connect_flags(path, SOCK_NONBLOCK);
}

int
rp_ipc_send(int sock, const struct rp_ipc_msg *m, const int *fds, unsigned int n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * RP_IPC_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (n_fds > RP_IPC_MAX_FDS)
		return -EINVAL;
	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	/* Never wait for the peer: a full socket buffer fails the send. */
	if (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

int
rp_ipc_wake_pair(int pair[2])
{
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	return 0;
}

int
rp_ipc_wake(int fd)
{
	static const uint8_t one = 1;

	/* MSG_DONTWAIT: non-blocking per call, not per (shared) file. */
	if (send(fd, &one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

unsigned int
rp_ipc_wake_drain(int fd)
{
	uint8_t b[16];
	unsigned int n = 0;

	/* Bounded: a peer that keeps sending cannot hold us here. */
	while (n < 64 && recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

void
rp_ipc_send_disconnect(int sock, uint32_t code, const char *reason)
{
	struct rp_ipc_msg m;

	rp_ipc_msg_init(&m, RP_IPC_MSG_DISCONNECT, 0);
	m.u.disconnect.code = code;
	snprintf(m.u.disconnect.reason, sizeof(m.u.disconnect.reason), "%s", reason);
	(void)rp_ipc_send(sock, &m, NULL, 0);
}

static void
close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
}

enum rp_ipc_reject
rp_ipc_recv(int sock, struct rp_ipc_msg *m, int *fds, unsigned int *n_fds, int timeout_ms,
	char *why, size_t ws)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * RP_IPC_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	uint8_t buf[RP_IPC_MSG_SIZE + 1];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	enum rp_ipc_reject rej;
	unsigned int nf = 0, extra = 0;
	ssize_t n;
	int rc;

	*n_fds = 0;
	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return rp_ipc_refuse(RP_IPC_REJ_IO, why, ws,
			"timed out after %d ms waiting for a message", timeout_ms);
	if (rc < 0)
		return rp_ipc_refuse(RP_IPC_REJ_IO, why, ws, "poll: %s", strerror(errno));

	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return rp_ipc_refuse(RP_IPC_REJ_IO, why, ws, "recvmsg: %s", strerror(errno));

	/* Every fd that arrived is ours to close, whatever else is wrong
	 * with the message: a peer must not be able to make us leak them. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned int k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (unsigned int i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nf < RP_IPC_MAX_FDS) {
				fds[nf++] = fd;
			} else {
				close(fd);
				extra++;
			}
		}
	}
	if (n == 0 && nf == 0)
		return rp_ipc_refuse(RP_IPC_REJ_IO, why, ws, "peer closed the socket");
	if (n == 0) {
		close_fds(fds, nf);
		return rp_ipc_refuse(RP_IPC_REJ_TRUNCATED, why, ws,
			"empty message with %u fds (closed)", nf + extra);
	}
	if ((mh.msg_flags & MSG_CTRUNC) || extra != 0) {
		close_fds(fds, nf);
		return rp_ipc_refuse(RP_IPC_REJ_FDS, why, ws,
			"too many fds: more than %u with one message (closed)", RP_IPC_MAX_FDS);
	}
	if (mh.msg_flags & MSG_TRUNC)
		n = (ssize_t)sizeof(buf); /* longer than we take: oversized */
	rej = rp_ipc_msg_parse(buf, (size_t)n, nf, m, why, ws);
	if (rej != RP_IPC_REJ_NONE) {
		close_fds(fds, nf);
		return rej;
	}
	*n_fds = nf;
	return RP_IPC_REJ_NONE;
}

static bool
is_unix_dgram(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);
	struct stat sb;

	if (fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode) ||
		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return false;
	len = sizeof(domain);
	return type == SOCK_DGRAM && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
		domain == AF_UNIX;
}

/* Count a refusal and, if it is ours (not the peer's), tell the peer. */
static int
refused(int sock, enum rp_ipc_reject r, struct rp_ipc_stats *st, enum rp_ipc_reject *rej,
	const char *why)
{
	if (st != NULL)
		st->rejects[r]++;
	*rej = r;
	if (r == RP_IPC_REJ_IO)
		return strstr(why, "timed out") != NULL ? -ETIMEDOUT : -ECONNRESET;
	if (r != RP_IPC_REJ_PEER)
		rp_ipc_send_disconnect(sock, RP_IPC_DISC_REFUSED, why);
	return -EPROTO;
}

/* Receive the next message; DISCONNECT and wrong types become refusals. */
static enum rp_ipc_reject
expect(int sock, enum rp_ipc_msg_type want, struct rp_ipc_msg *m, int *fds, unsigned int *n_fds,
	int timeout_ms, char *why, size_t ws)
{
	static const char *const names[] = {"?", "HELLO", "INIT", "REGION", "CONNECTED",
		"DISCONNECT"};
	enum rp_ipc_reject r = rp_ipc_recv(sock, m, fds, n_fds, timeout_ms, why, ws);

	if (r != RP_IPC_REJ_NONE)
		return r;
	if (m->h.type == want)
		return RP_IPC_REJ_NONE;
	close_fds(fds, *n_fds);
	*n_fds = 0;
	if (m->h.type == RP_IPC_MSG_DISCONNECT)
		return rp_ipc_refuse(RP_IPC_REJ_PEER, why, ws, "peer refused: %s",
			m->u.disconnect.reason);
	return rp_ipc_refuse(RP_IPC_REJ_TYPE, why, ws, "expected %s, got %s", names[want],
		names[m->h.type]);
}

/* Where a handshake reports: the caller's fields, or stand-ins for those
 * it left out. */
struct hs_out {
	enum rp_ipc_reject *rej, rej_buf;
	char *why, why_buf[RP_IPC_REASON_SIZE];
	size_t ws;
};

static void
hs_out_init(struct hs_out *h, const struct rp_ipc_hs_opts *o)
{
	h->rej = o->rej != NULL ? o->rej : &h->rej_buf;
	h->why = o->why != NULL && o->why_size != 0 ? o->why : h->why_buf;
	h->ws = h->why == o->why ? o->why_size : sizeof(h->why_buf);
	h->why[0] = '\0';
}

int
rp_ipc_server_handshake(int sock, struct rp_ipc_region *r, const int *wake_fds,
	unsigned int n_wake, const struct rp_ipc_hs_opts *o)
{
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	struct hs_out h;
	int fds[RP_IPC_MAX_FDS];
	struct rp_ipc_msg m;
	enum rp_ipc_reject e;
	unsigned int nf;
	int rc;

	hs_out_init(&h, o);
	*h.rej = RP_IPC_REJ_NONE;
	if (n_wake != 0 && n_wake != l->n_qpairs)
		return -EINVAL;
	rp_ipc_msg_init(&m, RP_IPC_MSG_HELLO, 0);
	m.u.hello.min_version = RP_IPC_VERSION_MIN;
	m.u.hello.max_version = RP_IPC_VERSION;
	m.u.hello.max_qpairs = l->n_qpairs;
	m.u.hello.features = l->features;
	snprintf(m.u.hello.name, sizeof(m.u.hello.name), "%s", o->name ? o->name : "");
	rc = rp_ipc_send(sock, &m, NULL, 0);
	if (rc < 0)
		return rc;

	e = expect(sock, RP_IPC_MSG_INIT, &m, fds, &nf, o->timeout_ms, h.why, h.ws);
	if (e != RP_IPC_REJ_NONE)
		return refused(sock, e, o->st, h.rej, h.why);
	if (m.u.init.version < RP_IPC_VERSION_MIN || m.u.init.version > RP_IPC_VERSION) {
		rp_ipc_refuse(RP_IPC_REJ_VERSION, h.why, h.ws,
			"client chose ABI %u.%u, we speak %u.%u..%u.%u",
			RP_IPC_VERSION_MAJOR_OF(m.u.init.version),
			RP_IPC_VERSION_MINOR_OF(m.u.init.version),
			RP_IPC_VERSION_MAJOR_OF(RP_IPC_VERSION_MIN),
			RP_IPC_VERSION_MINOR_OF(RP_IPC_VERSION_MIN), RP_IPC_VERSION_MAJOR,
			RP_IPC_VERSION_MINOR);
		return refused(sock, RP_IPC_REJ_VERSION, o->st, h.rej, h.why);
	}
	if (m.u.init.features & ~l->features) {
		rp_ipc_refuse(RP_IPC_REJ_FIELD, h.why, h.ws,
			"client asked for features 0x%x not offered (offered 0x%x)",
			m.u.init.features, l->features);
		return refused(sock, RP_IPC_REJ_FIELD, o->st, h.rej, h.why);
	}
	if (o->peer != NULL) {
		memcpy(o->peer->name, m.u.init.name, sizeof(o->peer->name));
		o->peer->version = m.u.init.version;
		o->peer->features = m.u.init.features;
	}

	fds[0] = rp_ipc_region_fd(r);
	for (unsigned int i = 0; i < n_wake; i++)
		fds[1 + i] = wake_fds[i];
	rp_ipc_msg_init(&m, RP_IPC_MSG_REGION, (uint8_t)(1 + n_wake));
	m.u.region.region_size = rp_ipc_region_hdr(r)->region_size;
	m.u.region.n_qpairs = l->n_qpairs;
	m.u.region.n_wake_fds = (uint16_t)n_wake;
	m.u.region.features = l->features;
	rc = rp_ipc_send(sock, &m, fds, 1 + n_wake);
	if (rc < 0)
		return rc;

	e = expect(sock, RP_IPC_MSG_CONNECTED, &m, fds, &nf, o->timeout_ms, h.why, h.ws);
	if (e != RP_IPC_REJ_NONE)
		return refused(sock, e, o->st, h.rej, h.why);
	/* Pairs with the client's acquire load of state. */
	__atomic_store_n(&rp_ipc_region_hdr(r)->state, RP_IPC_STATE_UP, __ATOMIC_RELEASE);
	return 0;
}

/* The version a client answers HELLO @m with: the highest both speak,
 * within our major; 0 (and why) when there is none. */
static uint16_t
hello_version(const struct rp_ipc_msg *m, char *why, size_t ws)
{
	uint16_t lo = RTE_MAX(m->u.hello.min_version, (uint16_t)RP_IPC_VERSION_MIN);
	uint16_t hi = RTE_MIN(m->u.hello.max_version, (uint16_t)RP_IPC_VERSION);

	if (lo <= hi && RP_IPC_VERSION_MAJOR_OF(hi) == RP_IPC_VERSION_MAJOR)
		return hi;
	rp_ipc_refuse(RP_IPC_REJ_VERSION, why, ws,
		"ABI major mismatch: server speaks %u.%u..%u.%u, we speak %u.%u..%u.%u",
		RP_IPC_VERSION_MAJOR_OF(m->u.hello.min_version),
		RP_IPC_VERSION_MINOR_OF(m->u.hello.min_version),
		RP_IPC_VERSION_MAJOR_OF(m->u.hello.max_version),
		RP_IPC_VERSION_MINOR_OF(m->u.hello.max_version),
		RP_IPC_VERSION_MAJOR_OF(RP_IPC_VERSION_MIN),
		RP_IPC_VERSION_MINOR_OF(RP_IPC_VERSION_MIN), RP_IPC_VERSION_MAJOR,
		RP_IPC_VERSION_MINOR);
	return 0;
}

/* The attached region @r and the @nf fds of REGION @m (fds[0], the region,
 * is closed already) against what @m says and what the client asked for. */
static enum rp_ipc_reject
region_matches(const struct rp_ipc_region *r, const struct rp_ipc_msg *m, const int *fds,
	unsigned int nf, uint32_t features, char *why, size_t ws)
{
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);

	if (l->n_qpairs != m->u.region.n_qpairs || l->features != m->u.region.features ||
		(l->features & ~features & ~RP_IPC_F_WAKE_SOCK))
		return rp_ipc_refuse(RP_IPC_REJ_FIELD, why, ws,
			"REGION says %u queue pairs, features 0x%x; header says %u, 0x%x",
			m->u.region.n_qpairs, m->u.region.features, l->n_qpairs, l->features);
	/* Each wake fd must be what the feature says: we write them from the
	 * data path, where nothing may block or signal. */
	for (unsigned int i = 1; i < nf; i++)
		if (!is_unix_dgram(fds[i]))
			return rp_ipc_refuse(RP_IPC_REJ_FDS, why, ws,
				"wake fd %u of %u is not a UNIX datagram socket", i, nf - 1);
	if (nf > 1 && !(l->features & RP_IPC_F_WAKE_SOCK))
		return rp_ipc_refuse(RP_IPC_REJ_FDS, why, ws,
			"REGION carries %u wake fds without the wake-socket feature", nf - 1);
	return RP_IPC_REJ_NONE;
}

int
rp_ipc_client_handshake(int sock, const struct rp_ipc_hs_opts *o, struct rp_ipc_region **out,
	int *wake_fds, unsigned int *n_wake)
{
	uint32_t features = o->features;
	struct hs_out h;
	int fds[RP_IPC_MAX_FDS];
	struct rp_ipc_region *r;
	struct rp_ipc_msg m;
	enum rp_ipc_reject e;
	uint16_t hi, max_qp;
	unsigned int nf;
	struct stat sb;
	int rc;

	hs_out_init(&h, o);
	*h.rej = RP_IPC_REJ_NONE;
	*out = NULL;
	*n_wake = 0;
	e = expect(sock, RP_IPC_MSG_HELLO, &m, fds, &nf, o->timeout_ms, h.why, h.ws);
	if (e != RP_IPC_REJ_NONE)
		return refused(sock, e, o->st, h.rej, h.why);
	hi = hello_version(&m, h.why, h.ws);
	if (hi == 0)
		return refused(sock, RP_IPC_REJ_VERSION, o->st, h.rej, h.why);
	max_qp = m.u.hello.max_qpairs;
	if (o->peer != NULL) {
		memcpy(o->peer->name, m.u.hello.name, sizeof(o->peer->name));
		o->peer->version = hi;
		o->peer->features = m.u.hello.features;
	}
	features &= m.u.hello.features;

	rp_ipc_msg_init(&m, RP_IPC_MSG_INIT, 0);
	m.h.version = hi;
	m.u.init.version = hi;
	m.u.init.features = features;
	snprintf(m.u.init.name, sizeof(m.u.init.name), "%s", o->name ? o->name : "");
	rc = rp_ipc_send(sock, &m, NULL, 0);
	if (rc < 0)
		return rc;

	e = expect(sock, RP_IPC_MSG_REGION, &m, fds, &nf, o->timeout_ms, h.why, h.ws);
	if (e != RP_IPC_REJ_NONE)
		return refused(sock, e, o->st, h.rej, h.why);
	if (m.u.region.n_qpairs > max_qp) {
		close_fds(fds, nf);
		rp_ipc_refuse(RP_IPC_REJ_FIELD, h.why, h.ws,
			"REGION has %u queue pairs, HELLO promised at most %u",
			m.u.region.n_qpairs, max_qp);
		return refused(sock, RP_IPC_REJ_FIELD, o->st, h.rej, h.why);
	}
	if (fstat(fds[0], &sb) < 0 || (uint64_t)sb.st_size < m.u.region.region_size) {
		close_fds(fds, nf);
		rp_ipc_refuse(RP_IPC_REJ_REGION_SIZE, h.why, h.ws,
			"region fd is %lld bytes, smaller than the %llu the server announced",
			(long long)sb.st_size, (unsigned long long)m.u.region.region_size);
		return refused(sock, RP_IPC_REJ_REGION_SIZE, o->st, h.rej, h.why);
	}
	r = rp_ipc_region_attach(fds[0], &e, h.why, h.ws);
	close(fds[0]);
	if (r == NULL) {
		close_fds(fds + 1, nf - 1);
		if (errno != EPROTO) {
			rc = -errno;
			rp_ipc_send_disconnect(sock, RP_IPC_DISC_REFUSED, h.why);
			return rc;
		}
		return refused(sock, e, o->st, h.rej, h.why);
	}
	e = region_matches(r, &m, fds, nf, features, h.why, h.ws);
	if (e != RP_IPC_REJ_NONE) {
		close_fds(fds + 1, nf - 1);
		rp_ipc_region_put(r);
		return refused(sock, e, o->st, h.rej, h.why);
	}

	rp_ipc_msg_init(&m, RP_IPC_MSG_CONNECTED, 0);
	m.h.version = hi;
	rc = rp_ipc_send(sock, &m, NULL, 0);
	if (rc < 0) {
		close_fds(fds + 1, nf - 1);
		rp_ipc_region_put(r);
		return rc;
	}
	for (unsigned int i = 1; i < nf; i++)
		wake_fds[i - 1] = fds[i];
	*n_wake = nf - 1;
	*out = r;
	return 0;
}
