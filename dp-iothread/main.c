/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ringport-iothread: the vhost-user IOThread of one VM NIC.
 *
 *   ringport-iothread --vhost PATH --port PATH [--queues N] [--cpus LIST]
 *       [--ctl PATH] [--vhost-client] [--poll busy|adaptive] [--tso]
 *       [--mtu N] [--user USER[:GROUP]] [--ctl-group GROUP]
 *       [--seccomp kill|log|off] [--shared-queues]
 *       [--steer-to-switch PROG.o] [--steer-to-guest PROG.o]
 *
 * The main thread brings EAL up (its own file prefix, in memory, no PCI:
 * users never write EAL arguments), starts rte_vhost and one pinned worker
 * per --cpus entry, and then serves the port socket (switch sessions) and
 * the control socket until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "iothread.h"

/* EAL from our options: lcore 0 (control) floats over the allowed CPUs,
 * lcore i+1 is worker i pinned to its CPU. 0 or -rte_errno, printed. */
static int
eal_up(const char *prog, const struct rp_it_opts *o, const cpu_set_t *allowed)
{
	char prefix[64], lcores[1024], *argv[16];
	int argc = 0, n, rc;
	bool huge;
	FILE *f;

	n = snprintf(lcores, sizeof(lcores), "0@(");
	for (int c = 0; c < CPU_SETSIZE && n < (int)sizeof(lcores) - 16; c++)
		if (CPU_ISSET(c, allowed))
			n += snprintf(lcores + n, sizeof(lcores) - (size_t)n, "%s%d",
				lcores[n - 1] == '(' ? "" : ",", c);
	n += snprintf(lcores + n, sizeof(lcores) - (size_t)n, ")");
	for (unsigned int i = 0; i < o->n_cpus && n < (int)sizeof(lcores) - 16; i++)
		n += snprintf(lcores + n, sizeof(lcores) - (size_t)n, ",%u@%d", i + 1, o->cpus[i]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=ringport-iothread-%d", (int)getpid());
	/* Hugepages if there are any free; the region has its own. */
	huge = false;
	f = fopen("/proc/meminfo", "r");
	if (f != NULL) {
		char line[128];
		unsigned long free_pages = 0;

		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "HugePages_Free: %lu", &free_pages) == 1)
				break;
		fclose(f);
		huge = free_pages >= 16;
	}
	argv[argc++] = (char *)prog;
	argv[argc++] = prefix;
	argv[argc++] = (char *)"--in-memory";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-telemetry";
	/* No device DMA here: virtual addresses, so nothing needs to read
	 * /proc/self/pagemap (which an unprivileged process cannot). */
	argv[argc++] = (char *)"--iova-mode=va";
	argv[argc++] = (char *)"--lcores";
	argv[argc++] = lcores;
	argv[argc++] = (char *)"--log-level=lib.eal:warning";
	argv[argc++] = (char *)"--log-level=lib.vhost.config:notice";
	if (!huge) {
		argv[argc++] = (char *)"--no-huge";
		argv[argc++] = (char *)"-m";
		argv[argc++] = (char *)"256";
	}
	argv[argc] = NULL;
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot initialise DPDK EAL (lcores %s): %s\n", lcores,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	if (!huge)
		RTE_LOG(WARNING, USER1, "no free hugepages: EAL runs on 4 KiB pages\n");
	return 0;
}

static void
sess_end(struct rp_iothread *it, struct rp_it_sess **cur, uint32_t code, const char *why)
{
	if (*cur == NULL)
		return;
	if (code != RP_IPC_DISC_NORMAL || why != NULL)
		rp_ipc_send_disconnect((*cur)->sock, code, why ? why : "");
	rp_it_sess_close(it, *cur);
	*cur = NULL;
}

/* The peer said something or left: after CONNECTED, only DISCONNECT is
 * legal, so any message or EOF ends the session. */
static void
sess_event(struct rp_iothread *it, struct rp_it_sess **cur)
{
	struct rp_ipc_msg m;
	int fds[RP_IPC_MAX_FDS];
	unsigned int n_fds = 0;
	char why[256] = "";
	enum rp_ipc_reject rej = rp_ipc_recv((*cur)->sock, &m, fds, &n_fds, 0, why, sizeof(why));

	for (unsigned int i = 0; i < n_fds; i++)
		close(fds[i]);
	if (rej == RP_IPC_REJ_PEER || rej == RP_IPC_REJ_IO ||
		(rej == RP_IPC_REJ_NONE && m.h.type == RP_IPC_MSG_DISCONNECT)) {
		sess_end(it, cur, RP_IPC_DISC_NORMAL, NULL);
	} else {
		RTE_LOG(ERR, USER1, "switch broke the protocol: %s\n",
			rej == RP_IPC_REJ_NONE ? "message after CONNECTED" : why);
		sess_end(it, cur, RP_IPC_DISC_PROTOCOL, "unexpected message");
	}
}

static bool
sock_dead(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};

	return poll(&p, 1, 0) > 0;
}

static void
port_accept(struct rp_iothread *it, int lfd, struct rp_it_sess **cur, int ep)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (*cur != NULL && sock_dead((*cur)->sock))
		sess_event(it, cur);
	if (*cur != NULL) {
		char msg[RP_IPC_REASON_SIZE];

		snprintf(msg, sizeof(msg), "port already attached to '%.40s'", (*cur)->peer.name);
		RTE_LOG(WARNING, USER1, "second switch connection refused: %s\n", msg);
		rp_ipc_send_disconnect(fd, RP_IPC_DISC_REFUSED, msg);
		close(fd);
		it->sess_refused++;
		return;
	}
	*cur = rp_it_sess_open(it, fd);
	if (*cur != NULL) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = RP_IT_EV_SESS};

		epoll_ctl(ep, EPOLL_CTL_ADD, (*cur)->sock, &ev);
	}
}

/* The port and control sockets, made the --user's before it is one.
 * 0 or -errno, the reason printed. */
static int
open_sockets(struct rp_iothread *it)
{
	const struct rp_it_ids *ids = &it->ids;
	int rc;

	it->ctl.lfd = -1;
	it->port_lfd = rp_ipc_listen(it->o.port_path);
	if (it->port_lfd < 0) {
		fprintf(stderr, PROG ": --port '%s': %s\n", it->o.port_path,
			rp_it_sock_why(it->port_lfd));
		return it->port_lfd;
	}
	if (ids->run_uid != (uid_t)-1 && chown(it->o.port_path, ids->run_uid, ids->run_gid) < 0) {
		rc = -errno;
		fprintf(stderr, PROG ": --port '%s': chown to --user: %s\n", it->o.port_path,
			strerror(-rc));
		return rc;
	}
	return rp_it_ctl_open(&it->ctl, it->o.ctl_path, ids);
}

/* The control thread's loop until SIGINT or SIGTERM: the process's exit
 * status (1: its event loop could not be set up). */
static int
serve(struct rp_iothread *it)
{
	int ep, sfd, pfd;
	struct rp_it_sess *cur = NULL;
	sigset_t sigs;
	struct epoll_event ev;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	pfd = it->port_lfd;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0)
		return 1;
	ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = RP_IT_EV_SIGNAL};
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u64 = RP_IT_EV_PORT;
	epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev);
	ev.data.u64 = RP_IT_EV_CTL;
	epoll_ctl(ep, EPOLL_CTL_ADD, it->ctl.lfd, &ev);
	RTE_LOG(INFO, USER1, "serving vhost %s, port %s, control %s, %u queue pairs, "
		"%u worker(s)\n", it->o.vhost_path, it->o.port_path, it->o.ctl_path, it->o.queues,
		it->n_workers);
	/* Nothing in this loop waits on a peer or a client: a signal is seen
	 * within one pass (at most 100 ms, or a handshake step). */
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, rp_it_ctl_next_ms(&it->ctl, 100));
		bool quit = false;

		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			switch (tag) {
			case RP_IT_EV_SIGNAL:
				quit = true;
				break;
			case RP_IT_EV_PORT:
				port_accept(it, pfd, &cur, ep);
				break;
			case RP_IT_EV_CTL:
				rp_it_ctl_accept(&it->ctl, ep);
				break;
			case RP_IT_EV_SESS:
				if (cur != NULL)
					sess_event(it, &cur);
				break;
			default:
				if (tag >= RP_IT_EV_CTL_CLIENT)
					rp_it_ctl_event(it, &it->ctl,
						(unsigned int)(tag - RP_IT_EV_CTL_CLIENT));
				break;
			}
		}
		rp_it_ctl_expire(&it->ctl);
		if (cur != NULL && cur->broken) {
			RTE_LOG(ERR, USER1, "switch rewrote a ring's metadata: session ended\n");
			sess_end(it, &cur, RP_IPC_DISC_PROTOCOL, "ring metadata rewritten");
		}
		if (quit)
			break;
	}
	RTE_LOG(INFO, USER1, "stopping\n");
	rp_it_stop(it);
	rte_eal_mp_wait_lcore();
	sess_end(it, &cur, RP_IPC_DISC_NORMAL, "iothread stopping");
	close(ep);
	close(sfd);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct rp_iothread it;
	char ctl_default[PATH_MAX];
	cpu_set_t allowed;
	sigset_t sigs;
	size_t sz;
	int rc;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
		perror(PROG ": sched_getaffinity");
		return 1;
	}
	rc = rp_it_parse_args(argc, argv, &it.o, &it.ids, &allowed);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (it.o.ctl_path == NULL) {
		snprintf(ctl_default, sizeof(ctl_default), "%s.ctl", it.o.port_path);
		it.o.ctl_path = ctl_default;
	}
	/* Signals are read from a signalfd by the control thread; block them
	 * before EAL starts threads so every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (eal_up(argv[0], &it.o, &allowed) < 0)
		return 1;
	/* A MAC for the switch side, stable per port path. */
	uint32_t h = rp_ipc_path_hash(it.o.port_path);
	memcpy(it.mac, (uint8_t[6]){0x02, 0x52, 0x50, (uint8_t)(h >> 16), (uint8_t)(h >> 8),
		(uint8_t)h}, 6);
	it.n_workers = it.o.n_cpus;
	it.w = rte_zmalloc("rp-workers", it.n_workers * sizeof(*it.w), RTE_CACHE_LINE_SIZE);
	sz = rte_rcu_qsbr_get_memsize(it.n_workers);
	it.qsbr = rte_zmalloc("rp-qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (it.w == NULL || it.qsbr == NULL || rte_rcu_qsbr_init(it.qsbr, it.n_workers) != 0 ||
		rp_it_workers_init(&it) < 0) {
		fprintf(stderr, PROG ": out of memory setting up %u workers\n", it.n_workers);
		rte_eal_cleanup();
		return 1;
	}
	rc = rp_it_steer_init(&it);
	if (rc < 0) {
		rte_eal_cleanup();
		return rc == -EINVAL ? 2 : 1;
	}
	if (rp_it_vhost_start(&it) < 0) {
		rp_it_steer_fini(&it);
		rte_eal_cleanup();
		return 1;
	}
	for (unsigned int i = 0; i < it.n_workers; i++) {
		it.w[i].lcore = i + 1;
		it.w[i].cpu = it.o.cpus[i];
		rte_eal_remote_launch(rp_it_worker_main, &it.w[i], i + 1);
	}
	rc = open_sockets(&it) < 0 ? 1 : 0;
	if (rc == 0) {
		char err[256];

		if (rp_it_confine(&it.o, &it.ids, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			rc = 1;
		} else {
			RTE_LOG(INFO, USER1, "confined: uid %u gid %u, no_new_privs, seccomp %s\n",
				(unsigned int)geteuid(), (unsigned int)getegid(),
				it.o.seccomp == RP_IT_SECCOMP_KILL ? "kill" :
				it.o.seccomp == RP_IT_SECCOMP_LOG ? "log" : "off");
		}
	}
	if (rc == 0)
		rc = serve(&it);
	if (it.port_lfd >= 0) {
		close(it.port_lfd);
		unlink(it.o.port_path);
	}
	rp_it_ctl_close(&it.ctl, it.o.ctl_path);
	if (rc != 0) {
		rp_it_stop(&it);
		rte_eal_mp_wait_lcore();
	}
	rp_it_vhost_stop(&it);
	rp_it_steer_fini(&it);
	rte_eal_cleanup();
	return rc;
}
