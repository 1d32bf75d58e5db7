/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ringport-iothread's command line (dp-iothread/opts.c), without EAL:
 * defaults, every option, and each bad value refused with a message that
 * names the option and the value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include <cmocka.h>

#include "iothread.h"

#define MAX_ARGS 32

struct parsed {
	struct rp_it_opts o;
	struct rp_it_ids ids;
	char err[1024]; /* what it printed to stderr */
	int rc;
};

/* CPUs 0, 1 and 5: a default, a range and a gap to test against. */
static cpu_set_t
allowed_cpus(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CPU_SET(1, &set);
	CPU_SET(5, &set);
	return set;
}

/* Parse the NULL-terminated arguments after the program name, stderr
 * captured in p->err. */
static void
parse(struct parsed *p, ...)
{
	char *argv[MAX_ARGS] = {"ringport-iothread"};
	cpu_set_t allowed = allowed_cpus();
	int argc = 1, saved = dup(STDERR_FILENO);
	FILE *tmp = tmpfile();
	va_list ap;
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	va_start(ap, p);
	for (char *a; (a = va_arg(ap, char *)) != NULL;) {
		assert_true(argc < MAX_ARGS - 1);
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	p->rc = rp_it_parse_args(argc, argv, &p->o, &p->ids, &allowed);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(p->err, 1, sizeof(p->err) - 1, tmp);
	p->err[n] = '\0';
	fclose(tmp);
}

/* Refused (-1), and stderr names every string in the NULL-terminated list. */
static void
refused(const struct parsed *p, ...)
{
	va_list ap;

	if (p->rc != -1)
		print_error("rc %d, want -1 (stderr: %s)\n", p->rc, p->err);
	assert_int_equal(p->rc, -1);
	va_start(ap, p);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
		if (strstr(p->err, s) == NULL)
			print_error("'%s' not in: %s\n", s, p->err);
		assert_non_null(strstr(p->err, s));
	}
	va_end(ap);
}

static void
test_defaults(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "--vhost", "v.sock", "--port", "p.sock", NULL);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.o.vhost_path, "v.sock");
	assert_string_equal(p.o.port_path, "p.sock");
	assert_null(p.o.ctl_path);
	assert_int_equal(p.o.queues, 1);
	assert_int_equal(p.o.poll, RP_IT_POLL_BUSY);
	assert_int_equal(p.o.mtu, 1500);
	assert_int_equal(p.o.seccomp, RP_IT_SECCOMP_KILL);
	assert_false(p.o.vhost_client || p.o.tso || p.o.shared_queues);
	assert_null(p.o.steer_prog[RP_IPC_DIR_TO_SWITCH]);
	assert_null(p.o.steer_prog[RP_IPC_DIR_TO_GUEST]);
	/* One worker, on the last allowed CPU. */
	assert_int_equal(p.o.n_cpus, 1);
	assert_int_equal(p.o.cpus[0], 5);
	assert_int_equal(p.ids.run_uid, (uid_t)-1);
	assert_false(p.ids.ctl_group_set);
	assert_string_equal(p.err, "");
}

static void
test_every_option(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "--vhost", "v", "--port", "p", "--queues", "16", "--cpus", "0-1,5", "--ctl", "c",
		"--vhost-client", "--poll", "adaptive", "--tso", "--mtu", "9000", "--seccomp", "log",
		"--shared-queues", "--steer-to-switch", "a.bpf.o", "--steer-to-guest", "b.bpf.o",
		"--ctl-group", "4242", NULL);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.o.queues, 16);
	assert_int_equal(p.o.n_cpus, 3);
	assert_int_equal(p.o.cpus[0], 0);
	assert_int_equal(p.o.cpus[1], 1);
	assert_int_equal(p.o.cpus[2], 5);
	assert_string_equal(p.o.ctl_path, "c");
	assert_true(p.o.vhost_client && p.o.tso && p.o.shared_queues);
	assert_int_equal(p.o.poll, RP_IT_POLL_ADAPTIVE);
	assert_int_equal(p.o.mtu, 9000);
	assert_int_equal(p.o.seccomp, RP_IT_SECCOMP_LOG);
	assert_string_equal(p.o.steer_prog[RP_IPC_DIR_TO_SWITCH], "a.bpf.o");
	assert_string_equal(p.o.steer_prog[RP_IPC_DIR_TO_GUEST], "b.bpf.o");
	assert_true(p.ids.ctl_group_set);
	assert_int_equal(p.ids.ctl_group, 4242);
	/* The last of a repeated option wins; a second parse starts over. */
	parse(&p, "--vhost", "v", "--port", "p", "--seccomp", "kill", "--seccomp", "off", NULL);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.o.seccomp, RP_IT_SECCOMP_OFF);
	assert_int_equal(p.o.queues, 1);
}

static void
test_bad_numbers(void **state)
{
	static const char *const bad[][2] = {
		{"--queues", "0"}, {"--queues", "17"}, {"--queues", "1x"}, {"--queues", "-1"},
		{"--queues", ""}, {"--queues", "99999999999999999999999"},
		{"--mtu", "67"}, {"--mtu", "9001"}, {"--mtu", "1500.0"},
	};
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char quoted[64];

		parse(&p, "--vhost", "v", "--port", "p", bad[i][0], bad[i][1], NULL);
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i][1]);
		refused(&p, bad[i][0], quoted, "not a number in", NULL);
	}
}

static void
test_bad_words(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "--vhost", "v", "--port", "p", "--poll", "spin", NULL);
	refused(&p, "--poll", "'spin'", "busy or adaptive", NULL);
	parse(&p, "--vhost", "v", "--port", "p", "--seccomp", "maybe", NULL);
	refused(&p, "--seccomp", "'maybe'", "kill, log or off", NULL);
	parse(&p, "--vhost", "v", "--port", "p", "--ctl-group", "no-such-group-rp", NULL);
	refused(&p, "--ctl-group", "'no-such-group-rp'", "no such group", NULL);
}

static void
test_bad_cpus(void **state)
{
	static const char *const bad[][2] = {
		{"2", "not online or not allowed"}, {"1,1", "listed twice"}, {"0-2", "'2'"},
		{"1-0", "'0'"}, {"a", "'a'"}, {",", "no CPU listed"}, {"0,,5,x", "'x'"},
	};
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&p, "--vhost", "v", "--port", "p", "--cpus", bad[i][0], NULL);
		refused(&p, "--cpus", bad[i][1], NULL);
	}
}

static void
test_usage_errors(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "--port", "p", NULL);
	refused(&p, "--vhost is required", NULL);
	parse(&p, "--vhost", "v", NULL);
	refused(&p, "--port is required", NULL);
	parse(&p, "--vhost", "v", "--port", "p", "--frobnicate", NULL);
	refused(&p, "unknown option", "--frobnicate", NULL);
	parse(&p, "--vhost", "v", "--port", NULL);
	refused(&p, "--port needs a value", NULL);
	parse(&p, "--vhost", "v", "--port", "p", "stray", NULL);
	refused(&p, "unexpected argument", "'stray'", NULL);
	parse(&p, "--help", NULL);
	assert_int_equal(p.rc, 1);
}

static void
test_user(void **state)
{
	struct passwd *nobody = getpwnam("nobody");
	struct parsed p;

	(void)state;
	parse(&p, "--vhost", "v", "--port", "p", "--user", "root", NULL);
	refused(&p, "--user", "'root'", "root is not a confinement", NULL);
	parse(&p, "--vhost", "v", "--port", "p", "--user", "0:4242", NULL);
	refused(&p, "root is not a confinement", NULL);
	parse(&p, "--vhost", "v", "--port", "p", "--user", "no-such-user-rp", NULL);
	refused(&p, "--user", "'no-such-user-rp'", "no such user", NULL);
	if (nobody == NULL)
		return;
	parse(&p, "--vhost", "v", "--port", "p", "--user", "nobody:4242", NULL);
	if (geteuid() != 0 && geteuid() != nobody->pw_uid) {
		refused(&p, "only root can switch", NULL);
		return;
	}
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.ids.run_uid, nobody->pw_uid);
	assert_int_equal(p.ids.run_gid, 4242);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_bad_words),
		cmocka_unit_test(test_bad_cpus),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
