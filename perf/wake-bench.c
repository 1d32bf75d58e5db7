/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wake-bench: what a wake-up costs, from the waker's send to the sleeper
 * returning from poll(), for the wake sockets of ABI 1.1
 * (rp_ipc_wake/rp_ipc_wake_drain) beside the eventfds of 1.0 (the
 * baseline), in one run.
 *
 * Two processes ping-pong: each sleeps in poll() on its own wake object,
 * and when woken, drains it and wakes the other. One round trip is two
 * wake-ups; the figure is half a round trip, with the sender's cost (the
 * send or write call alone, timed with the TSC) beside it.
 *
 *   build/perf/wake-bench [--rounds N] [--trials N] [--cpus A,B]
 *
 * --cpus pins the two processes (default 0,1). On a machine where they
 * share a CPU the figure includes a context switch: say so when quoting it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "rp_ipc.h"

enum kind { WAKE_SOCK, WAKE_EVENTFD };

struct chan {
	int wait_fd; /* poll and drain this */
	int wake_fd; /* send or write this to wake the other side */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "wake-bench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

static int
wake(enum kind k, int fd, uint64_t *cycles)
{
	uint64_t t0 = rte_rdtsc(), one = 1;
	int rc = k == WAKE_SOCK ? rp_ipc_wake(fd) : (write(fd, &one, sizeof(one)) < 0 ? -errno : 0);

	*cycles += rte_rdtsc() - t0;
	return rc;
}

static void
sleep_and_drain(enum kind k, int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint64_t v;

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	if (k == WAKE_SOCK)
		rp_ipc_wake_drain(fd);
	else if (read(fd, &v, sizeof(v)) < 0)
		perror("wake-bench: read");
}

/* Make the two channels of kind @k: a[] for the parent, b[] for the child. */
static int
make_chans(enum kind k, struct chan *a, struct chan *b)
{
	int p1[2], p2[2];

	if (k == WAKE_SOCK) {
		if (rp_ipc_wake_pair(p1) < 0 || rp_ipc_wake_pair(p2) < 0)
			return -1;
		*a = (struct chan){.wait_fd = p1[0], .wake_fd = p2[1]};
		*b = (struct chan){.wait_fd = p2[0], .wake_fd = p1[1]};
		return 0;
	}
	int e1 = eventfd(0, EFD_NONBLOCK), e2 = eventfd(0, EFD_NONBLOCK);
	if (e1 < 0 || e2 < 0)
		return -1;
	*a = (struct chan){.wait_fd = e1, .wake_fd = e2};
	*b = (struct chan){.wait_fd = e2, .wake_fd = e1};
	return 0;
}

/* One trial: @rounds round trips. Fills the half round trip in ns and the
 * waker's cycles per wake-up. */
static int
trial(enum kind k, unsigned int rounds, const int cpus[2], double *half_rtt_ns, double *wake_cyc)
{
	struct chan a, b;
	uint64_t cyc = 0, t0;
	pid_t pid;
	int st;

	if (make_chans(k, &a, &b) < 0) {
		perror("wake-bench: channels");
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		uint64_t c = 0;

		pin(cpus[1]);
		for (unsigned int i = 0; i < rounds + 1; i++) {
			sleep_and_drain(k, b.wait_fd);
			if (wake(k, b.wake_fd, &c) < 0)
				_exit(1);
		}
		_exit(0);
	}
	pin(cpus[0]);
	/* One warm-up round trip. */
	wake(k, a.wake_fd, &cyc);
	sleep_and_drain(k, a.wait_fd);
	cyc = 0;
	t0 = now_ns();
	for (unsigned int i = 0; i < rounds; i++) {
		if (wake(k, a.wake_fd, &cyc) < 0)
			return -1;
		sleep_and_drain(k, a.wait_fd);
	}
	*half_rtt_ns = (double)(now_ns() - t0) / rounds / 2;
	*wake_cyc = (double)cyc / rounds;
	waitpid(pid, &st, 0);
	close(a.wait_fd);
	close(a.wake_fd);
	close(b.wait_fd);
	close(b.wake_fd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"rounds", required_argument, NULL, 'r'},
		{"trials", required_argument, NULL, 't'},
		{"cpus", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned int rounds = 20000, trials = 5;
	int cpus[2] = {0, 1}, c;
	char tail;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
		case 't': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v == 0 || v > 10000000) {
				fprintf(stderr, "wake-bench: --%s '%s': need 1..10000000\n",
					c == 'r' ? "rounds" : "trials", optarg);
				return 2;
			}
			*(c == 'r' ? &rounds : &trials) = (unsigned int)v;
			break;
		}
		case 'c':
			if (sscanf(optarg, "%d,%d%c", &cpus[0], &cpus[1], &tail) != 2 || cpus[0] < 0 ||
				cpus[1] < 0) {
				fprintf(stderr, "wake-bench: --cpus '%s': need A,B\n", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: wake-bench [--rounds N] [--trials N] [--cpus A,B]\n"
			       "Half a poll() ping-pong round trip between two processes, wake\n"
			       "sockets (ABI 1.1) beside eventfds (1.0), medians [min-max] over\n"
			       "the trials, and the waker's TSC cycles per wake-up call.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wake-bench: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	printf("wake-up latency, %u round trips x %u trials, processes on CPUs %d and %d%s\n",
		rounds, trials, cpus[0], cpus[1], cpus[0] == cpus[1] ? " (one CPU: includes a switch)" : "");
	printf("| mechanism | half round trip, us | waker's call, TSC cycles |\n|---|---:|---:|\n");
	for (int k = WAKE_SOCK; k <= WAKE_EVENTFD; k++) {
		double ns[64], cy[64];

		if (trials > 64)
			trials = 64;
		for (unsigned int t = 0; t < trials; t++)
			if (trial(k, rounds, cpus, &ns[t], &cy[t]) < 0) {
				fprintf(stderr, "wake-bench: trial failed\n");
				return 1;
			}
		qsort(ns, trials, sizeof(ns[0]), cmp_double);
		qsort(cy, trials, sizeof(cy[0]), cmp_double);
		printf("| %s | %.2f [%.2f-%.2f] | %.0f [%.0f-%.0f] |\n",
			k == WAKE_SOCK ? "UNIX datagram socket, MSG_DONTWAIT (1.1)" : "eventfd (1.0, baseline)",
			ns[trials / 2] / 1000, ns[0] / 1000, ns[trials - 1] / 1000, cy[trials / 2], cy[0],
			cy[trials - 1]);
	}
	return 0;
}
