/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ringportctl: talk to a ringport-iothread's control socket.
 *
 *   ringportctl --ctl PATH status
 *
 * Sends one JSON request line, prints the one JSON object that comes back.
 * Exit status: 0 ok, 1 the iothread could not be reached or refused the
 * request, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#define PROG "ringportctl"
#define REPLY_MAX (1 << 20)
#define TIMEOUT_MS 5000

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --ctl PATH COMMAND\n"
		"  --ctl PATH     the iothread's control socket (ringport-iothread --ctl)\n"
		"  -h, --help     this text\n"
		"commands:\n"
		"  status         link and session state, negotiated features, per-queue\n"
		"                 counters and per-stage cycles per packet, as one JSON object\n"
		"Exit status: 0 ok, 1 runtime failure, 2 bad usage.\n");
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

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"ctl", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ctl = NULL;
	json_error_t err;
	json_t *j;
	char *reply, *req;
	int c, rc = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (ctl == NULL) {
		fprintf(stderr, PROG ": --ctl is required (see --help)\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": a command is required (see --help)\n");
		return 2;
	}
	if (strcmp(argv[optind], "status") != 0) {
		fprintf(stderr, PROG ": unknown command '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (optind + 1 < argc) {
		fprintf(stderr, PROG ": status: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	j = json_pack("{s:s}", "cmd", argv[optind]);
	req = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (req == NULL)
		return 1;
	size_t rl = strlen(req);
	char *line = malloc(rl + 2);

	if (line == NULL)
		return 1;
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
	}
	json_decref(j);
	free(reply);
	return rc;
}
