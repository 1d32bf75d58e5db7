/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Confinement: once EAL, rte_vhost, the workers and every socket are up,
 * the iothread (1) stops being dumpable, (2) with --user, becomes that
 * user and group with no supplementary groups and no capabilities
 * (libcap-ng; the bounding set cleared), and (3) sets no_new_privs and
 * installs a seccomp allow-list on every thread (libseccomp, TSYNC).
 *
 * The allow-list is what the data path, the control path and session
 * set-up call after this point (measured with strace over the integration
 * tests; see README "Security"). Anything else kills the whole process
 * (SECCOMP_RET_KILL_PROCESS) by default: a compromised iothread learns
 * nothing by probing, and the VM loses its NIC, which a compromised
 * iothread could do anyway. --seccomp=log allows and logs instead (to
 * find a missing call), --seccomp=off installs nothing.
 *
 * What still works afterwards: new switch sessions (a region is a
 * MFD_HUGETLB memfd, which needs no privilege), guests connecting and
 * reconnecting (vhost-user fds come over the socket), steering programs
 * loaded from files the user may read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "iothread.h"

/* Every call allowed without conditions. */
static const int allowed[] = {
	/* memory */
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(memfd_create), SCMP_SYS(ftruncate),
	SCMP_SYS(get_mempolicy), SCMP_SYS(set_mempolicy), SCMP_SYS(mbind),
	/* fds and files (steering programs, memfd seals) */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek),
	SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(unlink), SCMP_SYS(readlink),
	SCMP_SYS(eventfd2), SCMP_SYS(signalfd4), SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
	/* waiting */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_create1), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(futex),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(sched_yield),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	/* UNIX sockets: sessions, wake-ups, the control socket, vhost-user */
	SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(recvmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
	SCMP_SYS(sendto), SCMP_SYS(connect), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(shutdown), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* threads and signals */
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(sched_setaffinity), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(getrandom), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static int
add(scmp_filter_ctx ctx, int nr, unsigned int n_args, const struct scmp_arg_cmp *args,
	char *err, size_t errlen)
{
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n_args, args);

	if (rc < 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		snprintf(err, errlen, "seccomp rule for %s: %s", name ? name : "?", strerror(-rc));
		free(name);
	}
	return rc;
}

static int
seccomp_install(enum rp_it_seccomp mode, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc = 0;

	ctx = seccomp_init(mode == RP_IT_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++)
		rc = add(ctx, allowed[i], 0, NULL, err, errlen);
	/* Files are only ever read now (steering programs): no writing,
	 * creating, truncating or appending. */
	if (rc == 0)
		rc = add(ctx, SCMP_SYS(openat), 1,
			(struct scmp_arg_cmp[]){SCMP_A2(SCMP_CMP_MASKED_EQ,
				O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)}, err, errlen);
	/* Sockets: UNIX only (vhost-user reconnects, wake-up pairs). */
	if (rc == 0)
		rc = add(ctx, SCMP_SYS(socket), 1,
			(struct scmp_arg_cmp[]){SCMP_A0(SCMP_CMP_EQ, AF_UNIX)}, err, errlen);
	if (rc == 0)
		rc = add(ctx, SCMP_SYS(socketpair), 1,
			(struct scmp_arg_cmp[]){SCMP_A0(SCMP_CMP_EQ, AF_UNIX)}, err, errlen);
	/* Threads only (glibc's pthread_create), never a new process. clone3
	 * keeps its flags in memory seccomp cannot read: ENOSYS, and glibc
	 * falls back to clone, whose flags it can. */
	if (rc == 0 && (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
		snprintf(err, errlen, "seccomp rule for clone3: %s", strerror(-rc));
	if (rc == 0)
		rc = add(ctx, SCMP_SYS(clone), 1,
			(struct scmp_arg_cmp[]){SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)},
			err, errlen);
	/* Signals to ourselves only (abort(), pthread_kill()). */
	if (rc == 0)
		rc = add(ctx, SCMP_SYS(tgkill), 1,
			(struct scmp_arg_cmp[]){SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())}, err,
			errlen);
	/* pthread_setname_np() and the dumpable bit; nothing else of prctl. */
	if (rc == 0)
		rc = add(ctx, SCMP_SYS(prctl), 1,
			(struct scmp_arg_cmp[]){SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)}, err, errlen);
	if (rc == 0 && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		snprintf(err, errlen, "seccomp: thread sync: %s", strerror(-rc));
	if (rc == 0 && (rc = seccomp_load(ctx)) < 0)
		snprintf(err, errlen, "seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	return rc;
}

int
rp_it_confine(const struct rp_it_opts *o, const struct rp_it_ids *ids, char *err,
	size_t errlen)
{
	int rc;

	/* No core dumps of guest data, no ptrace by the same user. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -errno;
	}
	if (ids->run_uid != (uid_t)-1) {
		capng_clear(CAPNG_SELECT_BOTH);
		rc = capng_change_id((int)ids->run_uid, (int)ids->run_gid,
			CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		if (rc < 0) {
			snprintf(err, errlen, "--user: cannot become uid %u gid %u (libcap-ng "
				"capng_change_id: %d)", (unsigned int)ids->run_uid,
				(unsigned int)ids->run_gid, rc);
			return -EPERM;
		}
		if (getuid() != ids->run_uid || geteuid() != ids->run_uid ||
			getegid() != ids->run_gid) {
			snprintf(err, errlen, "--user: still uid %u after the switch",
				(unsigned int)geteuid());
			return -EPERM;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -errno;
	}
	if (o->seccomp == RP_IT_SECCOMP_OFF)
		return 0;
	return seccomp_install(o->seccomp, err, errlen);
}
