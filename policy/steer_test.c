/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ringportctl steer test: run a steering program over a pcap, offline,
 * exactly as the iothread would (the same loader, validator, JIT, context
 * and queue mapping), and print one JSON line per packet:
 *
 *	{"pkt":1,"hash":"0x51ccc178","queue":2}
 *	{"pkt":2,"hash":null,"queue":0}             no hash type applied
 *	{"pkt":3,"hash":null,"queue":null,"drop":true}
 *
 * Packets are numbered from 1, as Wireshark and tcpdump -# number them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>

#include "ringportctl.h"
#include "steer_pcap.h"

#define QUEUES_MAX 65535

struct st_opts {
	const char *prog, *pcap;
	unsigned int queues;
	unsigned int dir;
	bool no_jit, counters;
	const char *key, *table, *types, *user;
};

static void
st_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " steer test PROG.o --pcap FILE [options]\n"
		"Runs PROG.o (rte_bpf, validated and JIT-compiled as the iothread does) over\n"
		"every packet of FILE and prints one JSON line per packet:\n"
		"  {\"pkt\":i,\"hash\":\"0x...\",\"queue\":q}   (hash null: none; \"drop\":true)\n"
		"  --pcap FILE        packets (Ethernet link type)\n"
		"  --queues N         queues to steer over, 1..%d (default 1)\n"
		"  --direction D      to-guest (default) or to-switch, as the program sees it;\n"
		"                     packets arrive on queue 0 of a one-worker iothread, so\n"
		"                     rss.bpf.o gives the spec's RSS queue to the guest and\n"
		"                     the ingress queue (0) to the switch\n"
		"  --key HEX          40-byte Toeplitz key (default: the standard key)\n"
		"  --table LIST       indirection table, a power of two of entries below N\n"
		"                     (default: 128 entries, 0..127, mapped modulo N)\n"
		"  --types LIST       ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6 | all | none (default all)\n"
		"  --user LIST        up to 8 words for custom programs\n"
		"  --no-jit           run in rte_bpf's interpreter instead of the JIT code\n"
		"  --counters         finish with {\"counters\":[...]}, what the program counted\n",
		QUEUES_MAX);
}

static int
st_parse(int argc, char **argv, struct st_opts *o)
{
	static const struct option lo[] = {
		{"pcap", required_argument, NULL, 'p'},
		{"queues", required_argument, NULL, 'q'},
		{"direction", required_argument, NULL, 'd'},
		{"key", required_argument, NULL, 'k'},
		{"table", required_argument, NULL, 't'},
		{"types", required_argument, NULL, 'y'},
		{"user", required_argument, NULL, 'u'},
		{"no-jit", no_argument, NULL, 'J'},
		{"counters", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir;
	char *end;
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->queues = 1;
	o->dir = RP_STEER_TO_GUEST;
	optind = 0; /* 0: glibc starts over (main parsed with "+") */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pcap = optarg;
			break;
		case 'q':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v < 1 || v > QUEUES_MAX) {
				fprintf(stderr, PROG ": steer test: --queues '%s': need 1..%d\n",
					optarg, QUEUES_MAX);
				return 2;
			}
			o->queues = (unsigned int)v;
			break;
		case 'd':
			if (rpctl_direction(optarg, &dir) < 0)
				return 2;
			if (strcmp(dir, "both") == 0) {
				fprintf(stderr, PROG ": steer test: --direction 'both': pick one\n");
				return 2;
			}
			o->dir = strcmp(dir, "to-guest") == 0 ? RP_STEER_TO_GUEST : RP_STEER_TO_SWITCH;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 't':
			o->table = optarg;
			break;
		case 'y':
			o->types = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'J':
			o->no_jit = true;
			break;
		case 'C':
			o->counters = true;
			break;
		case 'h':
			st_usage(stdout);
			return 0;
		default:
			return rpctl_bad_option("steer test", c, argv);
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, PROG ": steer test: give exactly one PROG.o (see --help)\n");
		return 2;
	}
	o->prog = argv[optind];
	if (o->pcap == NULL) {
		fprintf(stderr, PROG ": steer test: --pcap is required\n");
		return 2;
	}
	return -1;
}

/* The configuration the options describe. */
static int
st_cfg(const struct st_opts *o, struct rp_steer_cfg *cfg)
{
	char err[256];
	int rc = 0;

	rp_steer_cfg_init(cfg);
	if (o->key != NULL) {
		uint8_t key[RP_STEER_KEY_SIZE];

		rc = rp_steer_parse_key(o->key, key, err, sizeof(err));
		if (rc == 0)
			rp_steer_cfg_set_key(cfg, key);
	}
	if (rc == 0 && o->table != NULL)
		rc = rp_steer_parse_table(o->table, o->queues, cfg, err, sizeof(err));
	if (rc == 0 && o->types != NULL)
		rc = rp_steer_parse_types(o->types, &cfg->hash_types, err, sizeof(err));
	if (rc == 0 && o->user != NULL)
		rc = rp_steer_parse_user(o->user, cfg, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, PROG ": steer test: %s\n", err);
	return rc;
}

int
rpctl_steer_test(int argc, char **argv)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS] = {0};
	char err[PCAP_ERRBUF_SIZE > 512 ? PCAP_ERRBUF_SIZE : 512];
	struct rp_prog_inst inst;
	struct st_opts o;
	struct rp_prog *p;
	uint64_t n = 0;
	pcap_t *pc;
	int rc;

	rc = st_parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (st_cfg(&o, &cfg) < 0)
		return 2;
	p = rp_prog_open(o.prog, err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, PROG ": steer test: %s\n", err);
		return 2;
	}
	if (rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": steer test: %s\n", err);
		rp_prog_close(p);
		return 2;
	}
	pc = pcap_open_offline(o.pcap, err);
	if (pc == NULL) {
		fprintf(stderr, PROG ": steer test: --pcap '%s': %s\n", o.pcap, err);
		rc = 2;
		goto out;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, PROG ": steer test: --pcap '%s': link type %s, need Ethernet\n",
			o.pcap, pcap_datalink_val_to_name(pcap_datalink(pc)));
		rc = 2;
		goto close;
	}
	rc = rp_steer_test_pcap(pc, &inst, o.dir, o.queues, o.no_jit, stdout, &n);
	if (rc == PCAP_ERROR) {
		fprintf(stderr, PROG ": steer test: --pcap '%s': packet %" PRIu64 ": %s\n", o.pcap,
			n + 1, pcap_geterr(pc));
		rc = 2;
	} else {
		rc = 0;
		if (o.counters) {
			printf("{\"counters\":[");
			for (int k = 0; k < RP_STEER_COUNTERS; k++)
				printf("%s%" PRIu64, k ? "," : "", counters[k]);
			printf("]}\n");
		}
	}
	if (fflush(stdout) != 0)
		rc = 1;
close:
	pcap_close(pc);
out:
	rp_prog_inst_fini(&inst);
	rp_prog_close(p);
	return rc;
}
