/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ringportctl: the control plane of ringport.
 *
 *   ringportctl --ctl PATH status
 *   ringportctl --ctl PATH steer load PROG.o --direction to-guest|to-switch
 *   ringportctl --ctl PATH rss set [--key HEX] [--table LIST] [--types LIST] ...
 *   ringportctl steer test PROG.o --pcap FILE [--queues N] [--key HEX] ...
 *
 * Commands on a running iothread send one JSON request line to its control
 * socket and print the one JSON object that comes back. `steer test` runs
 * offline (steer_test.c). Settings are checked here, for a prompt error,
 * and again by the iothread, which trusts nobody.
 * Exit status: 0 ok, 1 the iothread could not be reached or refused the
 * request, 2 bad usage or input.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ringportctl.h"

#define REPLY_MAX (1 << 20)
#define TIMEOUT_MS 5000

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--ctl PATH] COMMAND [ARGS]\n"
		"  --ctl PATH     the iothread's control socket (ringport-iothread --ctl)\n"
		"  -h, --help     this text\n"
		"commands on a running iothread (need --ctl):\n"
		"  status         link and session state, negotiated features, steering,\n"
		"                 per-queue counters and per-stage cycles per packet, as one\n"
		"                 JSON object\n"
		"  steer load PROG.o --direction to-guest|to-switch|both\n"
		"                 validate, JIT and swap in a steering program; on refusal\n"
		"                 the running one stays\n"
		"  rss set [--direction D] [--key HEX] [--table LIST] [--types LIST] [--user LIST]\n"
		"                 change the RSS configuration the programs read (both\n"
		"                 directions unless --direction); see 'rss set --help'\n"
		"offline:\n"
		"  steer test PROG.o --pcap FILE [--queues N] [--key HEX] [--table LIST]\n"
		"                 [--types LIST] [--user LIST] [--direction D] [--no-jit] [--counters]\n"
		"                 run a program over a pcap: one JSON line per packet,\n"
		"                 {\"pkt\":i,\"hash\":\"0x...\",\"queue\":q}; see 'steer test --help'\n"
		"Exit status: 0 ok, 1 runtime failure, 2 bad usage or input.\n");
}

/* Send @req, return the reply (malloc'd, NUL-terminated) or NULL. */
static char *
call(const char *path, const char *req)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, PROG ": --ctl '%s': path too long for a UNIX socket\n", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, PROG ": --ctl '%s': %s\n", path, strerror(errno));
		goto out;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, PROG ": --ctl '%s': send: %s\n", path, strerror(errno));
		goto out;
	}
	buf = malloc(cap);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (buf == NULL)
			goto out;
		if (poll(&p, 1, TIMEOUT_MS) <= 0) {
			fprintf(stderr, PROG ": --ctl '%s': no reply within %d ms\n", path,
				TIMEOUT_MS);
			goto fail;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			fprintf(stderr, PROG ": --ctl '%s': recv: %s\n", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len + 1 == cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, PROG ": reply longer than %d bytes\n", REPLY_MAX);
				goto fail;
			}
			cap *= 2;
			char *nb = realloc(buf, cap);

			if (nb == NULL)
				goto fail;
			buf = nb;
		}
	}
	buf[len] = '\0';
	goto out;
fail:
	free(buf);
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Send request @j (consumed) to @ctl; print the reply. Exit status. */
static int
request(const char *ctl, json_t *j)
{
	json_error_t err;
	char *reply, *req, *line;
	size_t rl;
	int rc = 0;

	req = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (req == NULL)
		return 1;
	rl = strlen(req);
	line = malloc(rl + 2);
	if (line == NULL) {
		free(req);
		return 1;
	}
	memcpy(line, req, rl);
	memcpy(line + rl, "\n", 2);
	free(req);
	reply = call(ctl, line);
	free(line);
	if (reply == NULL)
		return 1;
	j = json_loads(reply, JSON_DISABLE_EOF_CHECK, &err);
	if (j == NULL || !json_is_object(j)) {
		fprintf(stderr, PROG ": the iothread's reply is not a JSON object: %s\n", err.text);
		rc = 1;
	} else if (json_object_get(j, "error") != NULL) {
		fprintf(stderr, PROG ": %s\n", json_string_value(json_object_get(j, "error")));
		rc = 1;
	} else {
		fputs(reply, stdout);
		if (reply[0] != '\0' && reply[strlen(reply) - 1] != '\n')
			fputc('\n', stdout);
	}
	json_decref(j);
	free(reply);
	return rc;
}

int
rpctl_bad_option(const char *cmd, int c, char **argv)
{
	const char *sep = cmd[0] ? ": " : "";

	if (c == ':')
		fprintf(stderr, PROG ": %s%s%s needs a value\n", cmd, sep, argv[optind - 1]);
	else
		fprintf(stderr, PROG ": %s%sunknown option '%s' (see --help)\n", cmd, sep,
			argv[optind - 1]);
	return 2;
}

int
rpctl_direction(const char *s, const char **out)
{
	if (strcmp(s, "to-guest") == 0 || strcmp(s, "to-switch") == 0 || strcmp(s, "both") == 0) {
		*out = s;
		return 0;
	}
	fprintf(stderr, PROG ": --direction '%s': must be to-guest, to-switch or both\n", s);
	return -EINVAL;
}

static int
cmd_steer_load(const char *ctl, int argc, char **argv)
{
	static const struct option lo[] = {
		{"direction", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *prog = NULL;
	char err[256], abs[PATH_MAX];
	struct rp_prog *p;
	int c;

	optind = 0; /* 0: glibc starts over (main parsed with "+") */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (rpctl_direction(optarg, &dir) < 0)
				return 2;
			break;
		case 'h':
			printf("usage: " PROG " --ctl PATH steer load PROG.o --direction "
			       "to-guest|to-switch|both\n"
			       "The iothread reads PROG.o itself (the path is made absolute here),\n"
			       "validates and JIT-compiles it once per worker, and swaps it in\n"
			       "between two bursts: no packet is lost or steered by half a change.\n"
			       "A refused program leaves the running one in place.\n");
			return 0;
		default:
			return rpctl_bad_option("steer load", c, argv);
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, PROG ": steer load: give exactly one PROG.o\n");
		return 2;
	}
	prog = argv[optind];
	if (dir == NULL) {
		fprintf(stderr, PROG ": steer load: --direction is required\n");
		return 2;
	}
	if (ctl == NULL) {
		fprintf(stderr, PROG ": steer load: --ctl is required\n");
		return 2;
	}
	/* Check it here too: a bad file gets its reason without a round trip. */
	p = rp_prog_open(prog, err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	rp_prog_close(p);
	if (realpath(prog, abs) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", prog, strerror(errno));
		return 2;
	}
	return request(ctl, json_pack("{s:s,s:s,s:s}", "cmd", "steer-load", "path", abs,
			      "direction", dir));
}

static int
cmd_rss_set(const char *ctl, int argc, char **argv)
{
	static const struct option lo[] = {
		{"direction", required_argument, NULL, 'd'},
		{"key", required_argument, NULL, 'k'},
		{"table", required_argument, NULL, 't'},
		{"types", required_argument, NULL, 'y'},
		{"user", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct rp_steer_cfg scratch;
	const char *dir = "both";
	char err[256];
	json_t *j;
	int c;

	j = json_pack("{s:s}", "cmd", "rss-set");
	optind = 0; /* 0: glibc starts over (main parsed with "+") */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		uint8_t key[RP_STEER_KEY_SIZE];
		uint32_t types;
		int rc = 0;

		switch (c) {
		case 'd':
			rc = rpctl_direction(optarg, &dir);
			break;
		case 'k':
			rc = rp_steer_parse_key(optarg, key, err, sizeof(err));
			json_object_set_new(j, "key", json_string(optarg));
			break;
		case 't':
			rc = rp_steer_parse_table(optarg, UINT16_MAX, &scratch, err, sizeof(err));
			json_object_set_new(j, "table", json_string(optarg));
			break;
		case 'y':
			rc = rp_steer_parse_types(optarg, &types, err, sizeof(err));
			json_object_set_new(j, "types", json_string(optarg));
			break;
		case 'u':
			rc = rp_steer_parse_user(optarg, &scratch, err, sizeof(err));
			json_object_set_new(j, "user", json_string(optarg));
			break;
		case 'h':
			printf("usage: " PROG " --ctl PATH rss set [--direction to-guest|to-switch|both]\n"
			       "       [--key HEX] [--table LIST] [--types LIST] [--user LIST]\n"
			       "  --key HEX      40-byte Toeplitz key, 80 hex digits (':' allowed)\n"
			       "  --table LIST   indirection table: a power of two (1..128) of queue\n"
			       "                 numbers, each below the iothread's --queues\n"
			       "  --types LIST   ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6 | all | none\n"
			       "  --user LIST    up to 8 32-bit words custom programs read\n"
			       "Settings not named keep their values. The new configuration is\n"
			       "swapped in whole, with the program, between two bursts.\n");
			json_decref(j);
			return 0;
		default:
			json_decref(j);
			return rpctl_bad_option("rss set", c, argv);
		}
		if (rc < 0) {
			if (c != 'd')
				fprintf(stderr, PROG ": rss set: %s\n", err);
			json_decref(j);
			return 2;
		}
	}
	if (optind != argc || json_object_size(j) == 1) {
		fprintf(stderr, PROG ": rss set: %s\n", optind != argc ? "unexpected argument" :
			"nothing to set (see rss set --help)");
		json_decref(j);
		return 2;
	}
	if (ctl == NULL) {
		fprintf(stderr, PROG ": rss set: --ctl is required\n");
		json_decref(j);
		return 2;
	}
	json_object_set_new(j, "direction", json_string(dir));
	return request(ctl, j);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"ctl", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ctl = NULL, *cmd, *sub;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return rpctl_bad_option("", c, argv);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": a command is required (see --help)\n");
		return 2;
	}
	cmd = argv[optind];
	sub = optind + 1 < argc ? argv[optind + 1] : "";
	if (strcmp(cmd, "status") == 0) {
		if (optind + 1 < argc) {
			fprintf(stderr, PROG ": status: unexpected argument '%s'\n", sub);
			return 2;
		}
		if (ctl == NULL) {
			fprintf(stderr, PROG ": status: --ctl is required (see --help)\n");
			return 2;
		}
		return request(ctl, json_pack("{s:s}", "cmd", "status"));
	}
	if (strcmp(cmd, "steer") == 0 && strcmp(sub, "test") == 0)
		return rpctl_steer_test(argc - optind - 1, argv + optind + 1);
	if (strcmp(cmd, "steer") == 0 && strcmp(sub, "load") == 0)
		return cmd_steer_load(ctl, argc - optind - 1, argv + optind + 1);
	if (strcmp(cmd, "rss") == 0 && strcmp(sub, "set") == 0)
		return cmd_rss_set(ctl, argc - optind - 1, argv + optind + 1);
	fprintf(stderr, PROG ": unknown command '%s%s%s' (see --help)\n", cmd, sub[0] ? " " : "",
		sub);
	return 2;
}
