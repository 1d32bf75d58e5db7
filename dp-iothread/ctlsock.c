/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket, served from the control thread's event loop without
 * ever waiting on a client: every client socket is non-blocking, its
 * request is gathered as it arrives, and a request not complete within
 * RP_CTL_DEADLINE_MS of the connection is answered with an error and
 * closed. A client that dribbles, or connects and says nothing, costs one
 * slot until its deadline and delays nobody. Replies are sent without
 * waiting; a client that does not read its reply loses it.
 *
 * Who may connect: root, the iothread's own uid, and members (by primary
 * group) of --ctl-group, checked with SO_PEERCRED at accept, whatever the
 * socket file's mode says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "ctl_req.h"
#include "iothread.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
rp_it_ctl_open(struct rp_it_ctl *c, const char *path, const struct rp_it_ids *ids)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	c->lfd = -1;
	c->ids = *ids;
	for (unsigned int i = 0; i < RP_CTL_CLIENTS; i++)
		c->cl[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, PROG ": --ctl '%s': path too long for a UNIX socket\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	rc = rp_ipc_sock_clear_stale(path, SOCK_STREAM);
	if (rc < 0) {
		fprintf(stderr, PROG ": --ctl '%s': %s\n", path, rp_it_sock_why(rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, PROG ": --ctl '%s': socket: %s\n", path, strerror(-rc));
		return rc;
	}
	/* 0600 from birth: no window where others could connect. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc == 0 && ids->ctl_group_set)
		rc = chmod(path, 0660);
	if (rc == 0 && (ids->run_uid != (uid_t)-1 || ids->ctl_group_set))
		rc = chown(path, ids->run_uid,
			ids->ctl_group_set ? ids->ctl_group : ids->run_gid);
	if (rc < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		fprintf(stderr, PROG ": --ctl '%s': %s\n", path, strerror(-rc));
		close(fd);
		return rc;
	}
	c->lfd = fd;
	return 0;
}

static void
reply(int fd, char *msg)
{
	size_t len;

	if (msg == NULL)
		return;
	len = strlen(msg);
	msg[len] = '\n'; /* json_dumps leaves room: the NUL */
	/* Non-blocking: a reply larger than the socket buffer is cut, never
	 * waited for (the status object is far below the default buffer). */
	if (send(fd, msg, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < (ssize_t)(len + 1))
		RTE_LOG(DEBUG, USER1, "ctl: reply not sent whole\n");
	free(msg);
}

static void
client_close(struct rp_it_ctl *c, struct rp_ctl_client *cl)
{
	close(cl->fd); /* leaves the epoll set with it */
	cl->fd = -1;
	cl->len = 0;
	c->n_clients--;
}

static bool
peer_allowed(const struct rp_it_ctl *c, int fd, char *who, size_t len)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0) {
		snprintf(who, len, "unknown peer (%s)", strerror(errno));
		return false;
	}
	snprintf(who, len, "uid %u gid %u pid %d", (unsigned int)cr.uid, (unsigned int)cr.gid,
		(int)cr.pid);
	return cr.uid == 0 || cr.uid == geteuid() ||
		(c->ids.ctl_group_set && cr.gid == c->ids.ctl_group);
}

void
rp_it_ctl_accept(struct rp_it_ctl *c, int ep)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
		struct rp_ctl_client *cl;
		char who[96];
		unsigned int i;

		if (fd < 0)
			return;
		for (i = 0; i < RP_CTL_CLIENTS && c->cl[i].fd >= 0; i++)
			;
		if (i == RP_CTL_CLIENTS) {
			c->busy++;
			reply(fd, rp_ctl_error("busy: " RTE_STR(RP_CTL_CLIENTS)
				" control requests in progress, try again"));
			close(fd);
			continue;
		}
		cl = &c->cl[i];
		*cl = (struct rp_ctl_client){.fd = fd, .deadline = now_ms() + RP_CTL_DEADLINE_MS};
		/* A caller we do not serve still gets its answer, once its
		 * request is in: closing on unread data would reset the
		 * connection before the client could read why. */
		if (!peer_allowed(c, fd, who, sizeof(who))) {
			c->refused++;
			cl->refused = true;
			snprintf(cl->why, sizeof(cl->why), "permission denied for %s", who);
			RTE_LOG(WARNING, USER1, "ctl: %s refused: not root, not uid %u%s\n", who,
				(unsigned int)geteuid(), c->ids.ctl_group_set ? ", not --ctl-group" : "");
		}
		ev.data.u64 = RP_IT_EV_CTL_CLIENT + i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			cl->fd = -1;
			continue;
		}
		c->n_clients++;
	}
}

/* Client @i can be read: gather, and answer once the request is whole. */
void
rp_it_ctl_event(struct rp_iothread *it, struct rp_it_ctl *c, unsigned int i)
{
	struct rp_ctl_client *cl = &c->cl[i];
	bool eof = false;
	char *nl;

	if (i >= RP_CTL_CLIENTS || cl->fd < 0)
		return;
	for (;;) {
		ssize_t n = recv(cl->fd, cl->req + cl->len, RP_CTL_REQ_MAX - cl->len, 0);

		if (n > 0) {
			cl->len += (size_t)n;
			if (cl->len == RP_CTL_REQ_MAX || memchr(cl->req, '\n', cl->len))
				break;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			eof = true;
		if (n == 0 || errno != EINTR)
			break;
	}
	nl = memchr(cl->req, '\n', cl->len);
	if (nl == NULL && cl->len < RP_CTL_REQ_MAX && !eof)
		return; /* more to come, before the deadline */
	if (cl->refused) {
		reply(cl->fd, rp_ctl_error(cl->why));
	} else if (nl == NULL && cl->len == RP_CTL_REQ_MAX) {
		c->bad++;
		reply(cl->fd, rp_ctl_error("request longer than 4096 bytes"));
	} else if (cl->len > 0) {
		reply(cl->fd, rp_it_ctl_dispatch(it, cl->req,
			nl ? (size_t)(nl - cl->req) + 1 : cl->len, &c->bad));
	}
	client_close(c, cl);
}

/* Answer and close every client past its deadline. */
void
rp_it_ctl_expire(struct rp_it_ctl *c)
{
	uint64_t now;

	if (c->n_clients == 0)
		return;
	now = now_ms();
	for (unsigned int i = 0; i < RP_CTL_CLIENTS; i++) {
		struct rp_ctl_client *cl = &c->cl[i];

		if (cl->fd < 0 || now < cl->deadline)
			continue;
		if (cl->refused) {
			reply(cl->fd, rp_ctl_error(cl->why));
		} else {
			c->timeouts++;
			reply(cl->fd, rp_ctl_error("request not complete within "
				RTE_STR(RP_CTL_DEADLINE_MS) " ms"));
		}
		client_close(c, cl);
	}
}

/* Milliseconds until the first deadline (the event loop's timeout). */
int
rp_it_ctl_next_ms(const struct rp_it_ctl *c, int dflt)
{
	uint64_t now, first = UINT64_MAX;

	if (c->n_clients == 0)
		return dflt;
	now = now_ms();
	for (unsigned int i = 0; i < RP_CTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].deadline < first)
			first = c->cl[i].deadline;
	if (first <= now)
		return 0;
	return first - now < (uint64_t)dflt ? (int)(first - now) : dflt;
}

void
rp_it_ctl_close(struct rp_it_ctl *c, const char *path)
{
	for (unsigned int i = 0; i < RP_CTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			client_close(c, &c->cl[i]);
	/* Only a socket we made: never another process's, nor a file. */
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(path);
	}
	c->lfd = -1;
}
