/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ringport-iothread's command line: getopt_long over the options main.c's
 * synopsis lists, every value checked and a bad one named on stderr. No
 * EAL and no side effects beyond the structs it fills (user and group
 * names are looked up, nothing is switched), so the unit test
 * (tests/unit/test_it_opts.c) runs it as is.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iothread.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --vhost PATH --port PATH [options]\n"
		"  --vhost PATH            vhost-user socket of the guest NIC (created unless\n"
		"                          --vhost-client)\n"
		"  --port PATH             port socket the switch's net_ringport PMD connects to\n"
		"  --queues N              queue pairs, guest and switch side (1..%d, default 1)\n"
		"  --cpus LIST             CPUs for the pinned workers, one worker each, e.g.\n"
		"                          2 or 2,3 or 2-5 (default: the last allowed CPU)\n"
		"  --ctl PATH              control socket for ringportctl (default PORT.ctl)\n"
		"  --vhost-client          connect to the --vhost socket (QEMU server=on) and\n"
		"                          reconnect when it goes away\n"
		"  --poll busy|adaptive    busy: workers always spin (default); adaptive: they\n"
		"                          nap when idle\n"
		"  --tso                   offer the guest TSO (HOST/GUEST_TSO4/6); the switch\n"
		"                          must take 64 KB frames (OVS userspace-tso-enable)\n"
		"  --mtu N                 MTU announced to the switch (68..9000, default 1500)\n"
		"  --user USER[:GROUP]     once set up, run as USER (and GROUP, default USER's\n"
		"                          primary group) with no capabilities; the sockets are\n"
		"                          made USER's, the vhost-user one GROUP's too (0660:\n"
		"                          QEMU must run in GROUP; see README, Security)\n"
		"  --ctl-group GROUP       members (primary group) may use the control socket\n"
		"                          too (mode 0660); otherwise root and the iothread's\n"
		"                          own user only\n"
		"  --seccomp kill|log|off  the system-call allow-list: a call outside it kills\n"
		"                          the process (kill, default), is logged and allowed\n"
		"                          (log), or no filter (off)\n"
		"  --shared-queues         let steering programs send packets to queues other\n"
		"                          workers own (hand-offs, virtqueues written by two\n"
		"                          workers; e.g. rss_global.bpf.o). Without it such a\n"
		"                          choice is folded onto the worker's own queues and\n"
		"                          counted (steer_folded)\n"
		"  --steer-to-switch PROG.o, --steer-to-guest PROG.o\n"
		"                          eBPF steering program per direction (default: the\n"
		"                          rss.bpf.o built or installed beside this program;\n"
		"                          the same RSS compiled in when there is none).\n"
		"                          Replace it live with ringportctl steer load\n"
		"  -h, --help              this text\n"
		"Exit status: 0 after SIGINT/SIGTERM, 1 on a runtime failure, 2 on bad usage.\n",
		RP_IT_MAX_QP);
}

static int
bad(const char *flag, const char *val, const char *what)
{
	fprintf(stderr, PROG ": %s '%s': %s\n", flag, val, what);
	return -1;
}

static int
parse_uint(const char *flag, const char *s, unsigned long min, unsigned long max,
	unsigned long *out)
{
	char *end;
	unsigned long v;
	char msg[64];

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || *s == '-' || v < min || v > max) {
		snprintf(msg, sizeof(msg), "not a number in %lu..%lu", min, max);
		return bad(flag, s, msg);
	}
	*out = v;
	return 0;
}

/* "2", "2,3", "2-5": CPUs this process may run on, no repeats. */
static int
parse_cpus(const char *s, const cpu_set_t *allowed, struct rp_it_opts *o)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL)
		return -1;
	o->n_cpus = 0;
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		unsigned long a, b;
		char *dash = strchr(tok, '-');

		if (dash != NULL)
			*dash = '\0';
		if (parse_uint("--cpus", tok, 0, CPU_SETSIZE - 1, &a) < 0 ||
			(dash && parse_uint("--cpus", dash + 1, a, CPU_SETSIZE - 1, &b) < 0)) {
			rc = -1;
			break;
		}
		if (dash == NULL)
			b = a;
		for (unsigned long c = a; c <= b && rc == 0; c++) {
			char v[16];

			snprintf(v, sizeof(v), "%lu", c);
			if (!CPU_ISSET(c, allowed))
				rc = bad("--cpus", v, "CPU not online or not allowed for this process");
			for (unsigned int i = 0; i < o->n_cpus && rc == 0; i++)
				if (o->cpus[i] == (int)c)
					rc = bad("--cpus", v, "CPU listed twice");
			if (rc == 0 && o->n_cpus == RP_IT_MAX_WORKERS)
				rc = bad("--cpus", s, "more than 16 workers");
			if (rc == 0)
				o->cpus[o->n_cpus++] = (int)c;
		}
	}
	if (rc == 0 && o->n_cpus == 0)
		rc = bad("--cpus", s, "no CPU listed");
	free(copy);
	return rc;
}

/* A numeric uid or gid: true with *@id set (ids are 32 bits, -1 is none). */
static bool
numeric_id(const char *s, uint32_t *id)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno || v >= UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

/* A group by name or number. */
static int
parse_group(const char *flag, const char *s, gid_t *gid)
{
	struct group *g = getgrnam(s);
	uint32_t v;

	if (g != NULL)
		*gid = g->gr_gid;
	else if (numeric_id(s, &v))
		*gid = (gid_t)v;
	else
		return bad(flag, s, "no such group");
	return 0;
}

/* USER[:GROUP], by name or number; root is refused (it is no drop). */
static int
parse_user(const char *s, struct rp_it_ids *ids)
{
	char name[256], *colon;
	struct passwd *pw;
	uint32_t v;

	if (strlen(s) >= sizeof(name))
		return bad("--user", s, "too long");
	strcpy(name, s);
	colon = strchr(name, ':');
	if (colon != NULL)
		*colon++ = '\0';
	pw = getpwnam(name);
	if (pw != NULL) {
		ids->run_uid = pw->pw_uid;
		ids->run_gid = pw->pw_gid;
	} else if (numeric_id(name, &v)) {
		ids->run_uid = (uid_t)v;
		ids->run_gid = (gid_t)v;
	} else {
		return bad("--user", s, "no such user");
	}
	if (colon != NULL && parse_group("--user", colon, &ids->run_gid) < 0)
		return -1;
	if (ids->run_uid == 0 || ids->run_gid == 0)
		return bad("--user", s, "root is not a confinement (omit --user to stay root)");
	if (geteuid() != 0 && geteuid() != ids->run_uid)
		return bad("--user", s, "only root can switch to another user");
	return 0;
}

enum { O_VHOST = 256, O_PORT, O_QUEUES, O_CPUS, O_CTL, O_CLIENT, O_POLL, O_TSO, O_MTU,
	O_STEER_TS, O_STEER_TG, O_USER, O_CTL_GROUP, O_SECCOMP, O_SHARED };
static const struct option long_opts[] = {
	{"vhost", required_argument, NULL, O_VHOST},
	{"port", required_argument, NULL, O_PORT},
	{"queues", required_argument, NULL, O_QUEUES},
	{"cpus", required_argument, NULL, O_CPUS},
	{"ctl", required_argument, NULL, O_CTL},
	{"vhost-client", no_argument, NULL, O_CLIENT},
	{"poll", required_argument, NULL, O_POLL},
	{"tso", no_argument, NULL, O_TSO},
	{"mtu", required_argument, NULL, O_MTU},
	{"steer-to-switch", required_argument, NULL, O_STEER_TS},
	{"steer-to-guest", required_argument, NULL, O_STEER_TG},
	{"user", required_argument, NULL, O_USER},
	{"ctl-group", required_argument, NULL, O_CTL_GROUP},
	{"seccomp", required_argument, NULL, O_SECCOMP},
	{"shared-queues", no_argument, NULL, O_SHARED},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* @s as one of @words (NULL-terminated): its index, or -1. */
static int
word(const char *s, const char *const *words)
{
	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

/* After the options: what is required, and the defaults that depend on
 * the machine. */
static int
finish(struct rp_it_opts *o, const cpu_set_t *allowed)
{
	if (o->vhost_path == NULL || o->port_path == NULL) {
		fprintf(stderr, PROG ": %s is required (see --help)\n",
			o->vhost_path == NULL ? "--vhost" : "--port");
		return -1;
	}
	if (o->n_cpus == 0) {
		for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
			if (CPU_ISSET(cpu, allowed)) {
				o->cpus[0] = cpu;
				o->n_cpus = 1;
				break;
			}
	}
	return 0;
}

int
rp_it_parse_args(int argc, char **argv, struct rp_it_opts *o, struct rp_it_ids *ids,
	const cpu_set_t *allowed)
{
	unsigned long v;
	int c, w;

	*o = (struct rp_it_opts){.queues = 1, .poll = RP_IT_POLL_BUSY, .mtu = 1500};
	*ids = (struct rp_it_ids){.run_uid = (uid_t)-1, .run_gid = (gid_t)-1};
	opterr = 0;
	optind = 0; /* glibc: start over (a second parse, in the unit test) */
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_VHOST:
			o->vhost_path = optarg;
			break;
		case O_PORT:
			o->port_path = optarg;
			break;
		case O_QUEUES:
			if (parse_uint("--queues", optarg, 1, RP_IT_MAX_QP, &v) < 0)
				return -1;
			o->queues = (unsigned int)v;
			break;
		case O_CPUS:
			if (parse_cpus(optarg, allowed, o) < 0)
				return -1;
			break;
		case O_CTL:
			o->ctl_path = optarg;
			break;
		case O_CLIENT:
			o->vhost_client = true;
			break;
		case O_POLL: /* in enum rp_it_poll's order */
			w = word(optarg, (const char *const[]){"busy", "adaptive", NULL});
			if (w < 0)
				return bad("--poll", optarg, "must be busy or adaptive");
			o->poll = (enum rp_it_poll)w;
			break;
		case O_TSO:
			o->tso = true;
			break;
		case O_MTU:
			if (parse_uint("--mtu", optarg, 68, 9000, &v) < 0)
				return -1;
			o->mtu = (uint16_t)v;
			break;
		case O_STEER_TS:
		case O_STEER_TG:
			o->steer_prog[c == O_STEER_TS ? RP_IPC_DIR_TO_SWITCH : RP_IPC_DIR_TO_GUEST] = optarg;
			break;
		case O_SHARED:
			o->shared_queues = true;
			break;
		case O_USER:
			if (parse_user(optarg, ids) < 0)
				return -1;
			break;
		case O_CTL_GROUP:
			if (parse_group("--ctl-group", optarg, &ids->ctl_group) < 0)
				return -1;
			ids->ctl_group_set = true;
			break;
		case O_SECCOMP: /* in enum rp_it_seccomp's order */
			w = word(optarg, (const char *const[]){"kill", "log", "off", NULL});
			if (w < 0)
				return bad("--seccomp", optarg, "must be kill, log or off");
			o->seccomp = (enum rp_it_seccomp)w;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	return finish(o, allowed);
}
