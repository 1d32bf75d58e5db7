/* SPDX-License-Identifier: BSD-3-Clause */
/* Regions: one memfd per session, created by the server, validated and
 * mapped by the client. Refcounted so that external-buffer mbufs can keep a
 * region mapped after its session has gone. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_common.h>

#include "rp_ipc.h"
#include "rp_ipc_private.h"

#define RP_IPC_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define RP_IPC_RING_FLAGS (RING_F_SP_ENQ | RING_F_SC_DEQ)

struct rp_ipc_region {
	uint8_t *base;             /* this process's mapping */
	size_t map_size;           /* == layout.size rounded to the page */
	int fd;                    /* the memfd (kept: the server sends it) */
	bool hugetlb;              /* 2 MB pages */
	uint32_t refcnt;           /* atomic */
	struct rp_ipc_layout lay;  /* validated, private */
};

uint8_t *
rp_ipc_region_base(const struct rp_ipc_region *r)
{
	return r->base;
}

int
rp_ipc_region_fd(const struct rp_ipc_region *r)
{
	return r->fd;
}

const struct rp_ipc_layout *
rp_ipc_region_layout(const struct rp_ipc_region *r)
{
	return &r->lay;
}

bool
rp_ipc_region_hugetlb(const struct rp_ipc_region *r)
{
	return r->hugetlb;
}

struct rp_ipc_hdr *
rp_ipc_region_hdr(const struct rp_ipc_region *r)
{
	return (struct rp_ipc_hdr *)r->base;
}

struct rte_ring *
rp_ipc_region_ring(const struct rp_ipc_region *r, unsigned int qp, enum rp_ipc_ring_kind kind)
{
	uint64_t i = (uint64_t)qp * RP_IPC_RINGS_PER_QPAIR + kind;

	return (struct rte_ring *)(r->base + r->lay.rings_off + i * r->lay.ring_stride);
}

void
rp_ipc_region_ring_view(const struct rp_ipc_region *r, unsigned int qp,
	enum rp_ipc_ring_kind kind, bool server, struct rp_ipc_ring *q)
{
	rp_ipc_ring_view(q, rp_ipc_region_ring(r, qp, kind), r->lay.ring_size,
		rp_ipc_ring_is_producer(kind, server));
}

void
rp_ipc_region_get(struct rp_ipc_region *r)
{
	__atomic_fetch_add(&r->refcnt, 1, __ATOMIC_RELAXED);
}

void
rp_ipc_region_put(struct rp_ipc_region *r)
{
	if (r == NULL)
		return;
	/* Release our accesses; the last owner acquires everyone's. */
	if (__atomic_sub_fetch(&r->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	munmap(r->base, r->map_size);
	close(r->fd);
	free(r);
}

/* memfd of @size bytes (rounded to the page size in use), mapped. */
/* Packets of guests are no business of a core file (ours or the
 * switch's): keep the region out of dumps. Advisory; a failure changes
 * nothing else. */
static void
no_dump(const struct rp_ipc_region *r)
{
	(void)madvise(r->base, r->map_size, MADV_DONTDUMP);
}

static int
region_backing(struct rp_ipc_region *r, uint64_t size, bool huge)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | (huge ? MFD_HUGETLB : 0);
	uint64_t page = huge ? RP_IPC_HUGEPAGE_SIZE : (uint64_t)sysconf(_SC_PAGESIZE);
	int err;

	r->map_size = RTE_ALIGN_CEIL(size, page);
	r->fd = memfd_create("ringport-region", flags);
	if (r->fd < 0)
		return -errno;
	if (ftruncate(r->fd, (off_t)r->map_size) < 0)
		goto fail;
	/* MAP_POPULATE: hugetlb reservations fail here, not at first touch. */
	r->base = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		r->fd, 0);
	if (r->base == MAP_FAILED)
		goto fail;
	no_dump(r);
	if (fcntl(r->fd, F_ADD_SEALS, RP_IPC_SEALS) < 0) {
		err = -errno;
		munmap(r->base, r->map_size);
		close(r->fd);
		return err;
	}
	r->hugetlb = huge;
	return 0;
fail:
	err = -errno;
	close(r->fd);
	return err;
}

struct rp_ipc_region *
rp_ipc_region_create(const struct rp_ipc_region_params *p, char *why, size_t ws)
{
	struct rp_ipc_region *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (rp_ipc_layout_compute(p, &r->lay, why, ws) < 0) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	rc = region_backing(r, r->lay.size, true);
	if (rc < 0) {
		rp_ipc_log(RP_IPC_LOG_WARN,
			"no 2 MB hugepages for a %" PRIu64 "-byte region (%s); using 4 KiB pages",
			r->lay.size, strerror(-rc));
		rc = region_backing(r, r->lay.size, false);
	}
	if (rc < 0) {
		snprintf(why, ws, "cannot create a %" PRIu64 "-byte region: %s", r->lay.size,
			strerror(-rc));
		free(r);
		errno = -rc;
		return NULL;
	}

	rp_ipc_hdr_write(&r->lay, r->map_size, rp_ipc_region_hdr(r));

	for (unsigned int q = 0; q < r->lay.n_qpairs; q++) {
		for (unsigned int k = 0; k < RP_IPC_RINGS_PER_QPAIR; k++) {
			char name[RTE_RING_NAMESIZE];

			snprintf(name, sizeof(name), "rp-q%u-r%u", q, k);
			rc = rte_ring_init(rp_ipc_region_ring(r, q, k), name, r->lay.ring_size,
				RP_IPC_RING_FLAGS);
			if (rc < 0) {
				snprintf(why, ws, "rte_ring_init(%s, %u slots): %s", name,
					r->lay.ring_size, strerror(-rc));
				munmap(r->base, r->map_size);
				close(r->fd);
				free(r);
				errno = -rc;
				return NULL;
			}
		}
	}
	r->refcnt = 1;
	/* Pairs with the client's acquire of state after mapping. */
	__atomic_store_n(&rp_ipc_region_hdr(r)->state, RP_IPC_STATE_INIT, __ATOMIC_RELEASE);
	return r;
}

static bool
ring_meta_ok(const struct rte_ring *ring, uint32_t n)
{
	return ring->size == n && ring->mask == n - 1 && ring->capacity == n - 1 &&
		ring->flags == RP_IPC_RING_FLAGS && ring->prod.single && ring->cons.single;
}

struct rp_ipc_region *
rp_ipc_region_attach(int fd, enum rp_ipc_reject *rej, char *why, size_t ws)
{
	struct rp_ipc_region *r;
	struct rp_ipc_hdr h;
	struct statfs sfs;
	struct stat st;
	ssize_t n;
	int seals;

	*rej = RP_IPC_REJ_NONE;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0) {
		*rej = rp_ipc_refuse(RP_IPC_REJ_FDS, why, ws, "region fd %d: %s", fd,
			strerror(errno));
		goto refused;
	}
	if (!S_ISREG(st.st_mode)) {
		*rej = rp_ipc_refuse(RP_IPC_REJ_FDS, why, ws,
			"region fd %d is not a memory file (mode 0%o)", fd, st.st_mode);
		goto refused;
	}
	/* Read the header into private memory; validate the copy. */
	n = pread(fd, &h, sizeof(h), 0);
	if (n != (ssize_t)sizeof(h)) {
		*rej = rp_ipc_refuse(RP_IPC_REJ_REGION_SIZE, why, ws,
			"region fd is %" PRIu64 " bytes, too small for its %zu-byte header",
			(uint64_t)st.st_size, sizeof(h));
		goto refused;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	*rej = rp_ipc_hdr_validate(&h, (uint64_t)st.st_size, &r->lay, why, ws);
	if (*rej != RP_IPC_REJ_NONE) {
		free(r);
		goto refused;
	}
	/* Without these seals the peer could shrink the file and turn our
	 * next access into SIGBUS. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) != (F_SEAL_SHRINK | F_SEAL_SEAL)) {
		*rej = rp_ipc_refuse(RP_IPC_REJ_REGION_SIZE, why, ws,
			"region fd not sealed against shrinking (seals 0x%x)",
			seals < 0 ? 0 : seals);
		free(r);
		goto refused;
	}
	r->map_size = (size_t)st.st_size;
	r->hugetlb = sfs.f_type == HUGETLBFS_MAGIC;
	r->base = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->base == MAP_FAILED) {
		int err = errno;

		snprintf(why, ws, "mmap of a %zu-byte region: %s", r->map_size, strerror(err));
		free(r);
		errno = err;
		return NULL;
	}
	no_dump(r);
	r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (r->fd < 0) {
		int err = errno;

		munmap(r->base, r->map_size);
		free(r);
		errno = err;
		return NULL;
	}
	r->refcnt = 1;
	for (unsigned int q = 0; q < r->lay.n_qpairs; q++) {
		for (unsigned int k = 0; k < RP_IPC_RINGS_PER_QPAIR; k++) {
			if (ring_meta_ok(rp_ipc_region_ring(r, q, k), r->lay.ring_size))
				continue;
			*rej = rp_ipc_refuse(RP_IPC_REJ_RING, why, ws,
				"ring %u of queue pair %u is not an SP/SC rte_ring of %u slots", k,
				q, r->lay.ring_size);
			rp_ipc_region_put(r);
			goto refused;
		}
	}
	return r;
refused:
	errno = EPROTO;
	return NULL;
}
