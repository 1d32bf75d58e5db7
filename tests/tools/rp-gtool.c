/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp-gtool: what the test guests' busybox lacks, linked statically into
 * their initramfs (tests/lib/qemu-guest.sh):
 *
 *   rp-gtool channels IFACE [N]   print "combined C max M" (ethtool -l);
 *                                 with N, set N combined channels first
 *                                 (ethtool -L IFACE combined N)
 *   rp-gtool queues IFACE         the driver's per-queue packet counters
 *                                 (ethtool -S), "rx P0 P1 ... tx P0 P1 ..."
 *   rp-gtool udp DST PORT SPORT FLOWS COUNT
 *                                 COUNT datagrams on each of FLOWS flows to
 *                                 DST:PORT, flow f from source port SPORT+f
 *   rp-gtool sink PORT            bind UDP PORT and discard what arrives
 *                                 (no ICMP port-unreachable replies)
 *   rp-gtool tcp-recv PORT        accept one TCP connection on PORT, copy
 *                                 what it brings to stdout until it ends
 *   rp-gtool tcp-send HOST PORT [KIB_S]
 *                                 connect (retrying for up to 120 s), send
 *                                 stdin (at most KIB_S KiB a second, so a
 *                                 stream lasts), end the sending side, wait
 *                                 for the peer to close: every byte was
 *                                 taken (busybox nc stops sending when
 *                                 the other way closes first)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUEUES 64

static int
ethtool(const char *ifname, void *data)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return rc;
}

static int
channels(const char *ifname, const char *n)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};

	if (ethtool(ifname, &ch) < 0) {
		fprintf(stderr, "rp-gtool: %s: ETHTOOL_GCHANNELS: %s\n", ifname, strerror(errno));
		return 1;
	}
	if (n != NULL) {
		ch.cmd = ETHTOOL_SCHANNELS;
		ch.combined_count = (unsigned int)strtoul(n, NULL, 10);
		if (ethtool(ifname, &ch) < 0) {
			fprintf(stderr, "rp-gtool: %s: combined %s: %s\n", ifname, n, strerror(errno));
			return 1;
		}
		ch.cmd = ETHTOOL_GCHANNELS;
		if (ethtool(ifname, &ch) < 0)
			return 1;
	}
	printf("combined %u max %u\n", ch.combined_count, ch.max_combined);
	return 0;
}

/* virtio_net's per-queue counters: "rx_queue_N_packets", "tx_queue_N_packets". */
static int
queues(const char *ifname)
{
	struct {
		struct ethtool_sset_info h;
		uint32_t len;
	} info = {.h = {.cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS}};
	unsigned long long rx[MAX_QUEUES] = {0}, tx[MAX_QUEUES] = {0};
	unsigned int n, nrx = 0, ntx = 0;
	struct ethtool_gstrings *names;
	struct ethtool_stats *vals;

	if (ethtool(ifname, &info) < 0 || info.h.sset_mask == 0) {
		fprintf(stderr, "rp-gtool: %s: no statistics: %s\n", ifname, strerror(errno));
		return 1;
	}
	n = info.len;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(uint64_t));
	if (names == NULL || vals == NULL)
		return 1;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	if (ethtool(ifname, names) < 0 || ethtool(ifname, vals) < 0) {
		fprintf(stderr, "rp-gtool: %s: statistics: %s\n", ifname, strerror(errno));
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		const char *s = (const char *)names->data + (size_t)i * ETH_GSTRING_LEN;
		unsigned int q;
		char dir[3];
		int end = -1;

		/* Exactly "rx_queue_N_packets" (not "rx_queue_N_xdp_packets"). */
		if (sscanf(s, "%2[rtx]_queue_%u_packets%n", dir, &q, &end) != 2 || end < 0 ||
			s[end] != '\0' || q >= MAX_QUEUES)
			continue;
		if (strcmp(dir, "rx") == 0) {
			rx[q] = vals->data[i];
			nrx = q + 1 > nrx ? q + 1 : nrx;
		} else if (strcmp(dir, "tx") == 0) {
			tx[q] = vals->data[i];
			ntx = q + 1 > ntx ? q + 1 : ntx;
		}
	}
	printf("rx");
	for (unsigned int q = 0; q < nrx; q++)
		printf(" %llu", rx[q]);
	printf(" tx");
	for (unsigned int q = 0; q < ntx; q++)
		printf(" %llu", tx[q]);
	printf("\n");
	return 0;
}

static int
udp(const char *dst, const char *port, const char *sport, const char *flows, const char *count)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	unsigned int nf = (unsigned int)atoi(flows), nc = (unsigned int)atoi(count);
	unsigned int sp = (unsigned int)atoi(sport), sent = 0;
	char payload[32] = "ringport multi-queue test";

	if (inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
		fprintf(stderr, "rp-gtool: udp: '%s' is not an IPv4 address\n", dst);
		return 2;
	}
	for (unsigned int f = 0; f < nf; f++) {
		struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(sp + f))};
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
			fprintf(stderr, "rp-gtool: udp: source port %u: %s\n", sp + f, strerror(errno));
			return 1;
		}
		for (unsigned int i = 0; i < nc; i++)
			if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) ==
				(ssize_t)sizeof(payload))
				sent++;
		close(fd);
	}
	printf("sent %u\n", sent);
	return sent == nf * nc ? 0 : 1;
}

static int
sink(const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	char buf[2048];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "rp-gtool: sink %s: %s\n", port, strerror(errno));
		return 1;
	}
	for (;;)
		if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EINTR)
			return 1;
}

static int
write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
tcp_recv(const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c;
	static char buf[65536];
	ssize_t n;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0) {
		fprintf(stderr, "rp-gtool: tcp-recv %s: %s\n", port, strerror(errno));
		return 1;
	}
	c = accept(l, NULL, NULL);
	if (c < 0)
		return 1;
	while ((n = read(c, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(1, buf, (size_t)n) < 0)
			return 1;
	}
	close(c);
	return 0;
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
tcp_send(const char *host, const char *port, const char *kib_s)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	double rate = kib_s != NULL ? atof(kib_s) * 1024 : 0, t0;
	static char buf[65536];
	uint64_t sent = 0;
	int fd = -1;
	ssize_t n;

	if (inet_pton(AF_INET, host, &to.sin_addr) != 1)
		return 2;
	for (int i = 0; i < 120; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0)
			break;
		close(fd);
		fd = -1;
		sleep(1); /* the peer is still booting: retry, bounded */
	}
	if (fd < 0) {
		fprintf(stderr, "rp-gtool: tcp-send %s:%s: %s\n", host, port, strerror(errno));
		return 1;
	}
	t0 = now_s();
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(fd, buf, (size_t)n) < 0)
			return 1;
		sent += (uint64_t)n;
		if (rate > 0) {
			double ahead = (double)sent / rate - (now_s() - t0);

			if (ahead > 0)
				usleep((useconds_t)(ahead * 1e6));
		}
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) != 0)
		if (n < 0 && errno != EINTR)
			return 1;
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "channels") == 0)
		return channels(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc == 3 && strcmp(argv[1], "queues") == 0)
		return queues(argv[2]);
	if (argc == 7 && strcmp(argv[1], "udp") == 0)
		return udp(argv[2], argv[3], argv[4], argv[5], argv[6]);
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return sink(argv[2]);
	if (argc == 3 && strcmp(argv[1], "tcp-recv") == 0)
		return tcp_recv(argv[2]);
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "tcp-send") == 0)
		return tcp_send(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	fprintf(stderr, "usage: rp-gtool channels IFACE [N] | queues IFACE |\n"
			"       udp DST PORT SPORT FLOWS COUNT | sink PORT |\n"
			"       tcp-recv PORT | tcp-send HOST PORT [KIB_S]\n");
	return 2;
}
