/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp-mkpcap: write the pcap files the steering tests feed to
 * `ringportctl steer test`.
 *
 *   rp-mkpcap vectors FILE        the RSS verification suite's IPv4 and IPv6
 *                                 tuples as TCP/SYN frames, in suite order
 *   rp-mkpcap flows N K FILE      N random TCP flows (IPv4 and IPv6 mixed,
 *                                 seeded), K packets each, interleaved: packet
 *                                 r*N + f + 1 belongs to flow f
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

struct tuple {
	bool v6;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* Published with the RSS verification suite (source -> destination). */
static const char *const vec4[][4] = {
	{"66.9.149.187", "161.142.100.80", "2794", "1766"},
	{"199.92.111.2", "65.69.140.83", "14230", "4739"},
	{"24.19.198.95", "12.22.207.184", "12898", "38024"},
	{"38.27.205.30", "209.142.163.6", "48228", "2217"},
	{"153.39.163.191", "202.188.127.2", "44251", "1303"},
};
static const char *const vec6[][4] = {
	{"3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", "2794", "1766"},
	{"3ffe:501:8::260:97ff:fe40:efab", "ff02::1", "14230", "4739"},
	{"3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", "44251", "38024"},
};

static uint64_t seed = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
	return seed;
}

/* An Ethernet + IP + TCP (SYN) frame of 64 bytes or more. */
static uint32_t
tcp_frame(uint8_t *f, const struct tuple *t)
{
	uint32_t off = 14;

	memset(f, 0, 128);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (t->v6) {
		f[12] = 0x86, f[13] = 0xdd;
		f[off] = 0x60, f[off + 5] = 20, f[off + 6] = 6, f[off + 7] = 64;
		memcpy(f + off + 8, t->src, 16);
		memcpy(f + off + 24, t->dst, 16);
		off += 40;
	} else {
		f[12] = 0x08, f[13] = 0x00;
		f[off] = 0x45, f[off + 3] = 40, f[off + 8] = 64, f[off + 9] = 6;
		memcpy(f + off + 12, t->src, 4);
		memcpy(f + off + 16, t->dst, 4);
		off += 20;
	}
	f[off] = (uint8_t)(t->sport >> 8), f[off + 1] = (uint8_t)t->sport;
	f[off + 2] = (uint8_t)(t->dport >> 8), f[off + 3] = (uint8_t)t->dport;
	f[off + 12] = 0x50, f[off + 13] = 0x02; /* data offset 5, SYN */
	off += 20;
	return off < 64 ? 64 : off;
}

static void
put(pcap_dumper_t *d, const uint8_t *f, uint32_t len)
{
	struct pcap_pkthdr h = {.caplen = len, .len = len};

	pcap_dump((u_char *)d, &h, f);
}

static int
parse_tuple(struct tuple *t, const char *const v[4], bool v6)
{
	memset(t, 0, sizeof(*t));
	t->v6 = v6;
	t->sport = (uint16_t)atoi(v[2]);
	t->dport = (uint16_t)atoi(v[3]);
	return inet_pton(v6 ? AF_INET6 : AF_INET, v[0], t->src) == 1 &&
			inet_pton(v6 ? AF_INET6 : AF_INET, v[1], t->dst) == 1
		? 0
		: -1;
}

static const char usage[] =
	"usage: rp-mkpcap vectors FILE | flows N K FILE\n"
	"  vectors FILE    the RSS verification suite's IPv4 and IPv6 tuples as\n"
	"                  TCP/SYN frames, in suite order\n"
	"  flows N K FILE  N random TCP flows (IPv4 and IPv6 mixed, seeded), K\n"
	"                  packets each, interleaved: packet r*N + f + 1 belongs\n"
	"                  to flow f (1 <= N <= 10000000, 1 <= K <= 1000)\n";

/* A whole decimal number in [1, max], or -1 with a message naming it. */
static long
parse_count(const char *name, const char *v, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > max) {
		fprintf(stderr, "rp-mkpcap: flows: %s '%s': need a number from 1 to %ld\n", name, v,
			max);
		return -1;
	}
	return n;
}

int
main(int argc, char **argv)
{
	bool vectors = argc == 3 && strcmp(argv[1], "vectors") == 0;
	long n = 0, k = 0;
	pcap_dumper_t *d;
	struct tuple t;
	uint8_t f[128];
	const char *out;
	pcap_t *p;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (!vectors && !(argc == 5 && strcmp(argv[1], "flows") == 0)) {
		fprintf(stderr, "rp-mkpcap: %s%s%s\n%s", argc < 2 ? "no mode" : "bad arguments to '",
			argc < 2 ? "" : argv[1], argc < 2 ? "" : "'", usage);
		return 2;
	}
	if (!vectors && ((n = parse_count("N", argv[2], 10000000)) < 0 ||
			    (k = parse_count("K", argv[3], 1000)) < 0))
		return 2;
	out = argv[argc - 1];
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = p ? pcap_dump_open(p, out) : NULL;
	if (d == NULL) {
		fprintf(stderr, "rp-mkpcap: %s: %s\n", out, p ? pcap_geterr(p) : "pcap_open_dead");
		return 1;
	}
	if (vectors) {
		for (size_t i = 0; i < sizeof(vec4) / sizeof(vec4[0]); i++) {
			if (parse_tuple(&t, vec4[i], false) < 0)
				abort(); /* the table above is wrong */
			put(d, f, tcp_frame(f, &t));
		}
		for (size_t i = 0; i < sizeof(vec6) / sizeof(vec6[0]); i++) {
			if (parse_tuple(&t, vec6[i], true) < 0)
				abort();
			put(d, f, tcp_frame(f, &t));
		}
	} else {
		struct tuple *fl = calloc((size_t)n, sizeof(*fl));

		if (fl == NULL) {
			fprintf(stderr, "rp-mkpcap: out of memory for %ld flows\n", n);
			return 1;
		}
		for (long i = 0; i < n; i++) {
			fl[i].v6 = (rnd() & 3) == 0;
			for (int b = 0; b < 16; b++) {
				fl[i].src[b] = (uint8_t)rnd();
				fl[i].dst[b] = (uint8_t)rnd();
			}
			fl[i].sport = (uint16_t)(1024 + rnd() % 64000);
			fl[i].dport = (uint16_t)(rnd() % 2 ? 80 : 1 + rnd() % 65535);
		}
		for (long r = 0; r < k; r++)
			for (long i = 0; i < n; i++)
				put(d, f, tcp_frame(f, &fl[i]));
		free(fl);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
