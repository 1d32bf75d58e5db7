/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Steering programs on the host side; see rp_prog.h.
 *
 * The object file is read with libelf (no ELF parsing of our own) and
 * checked against the ABI before rte_bpf sees it, so that each refusal can
 * say what is wrong. The code and its relocations are kept in memory: every
 * instance (one per worker, each with its own counters) is made from that
 * copy, never from the file again, so a file changed after loading changes
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_bpf.h>

#include "rp_prog.h"
#include "rp_prog_private.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif
#define BPF_LDDW 0x18 /* BPF_LD | BPF_IMM | BPF_DW */
#define BPF_CALL 0x85 /* BPF_JMP | BPF_CALL */

/* Read @path whole: a regular file of at most RP_PROG_MAX_FILE bytes. */
static void *
slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	void *buf = NULL;
	ssize_t n;
	int fd, rc;

	/* Never wait on what the path names (a FIFO would hold the caller,
	 * the iothread's control thread, until someone writes it), never
	 * follow a link in its last component; only a regular file is read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		rc = errno;
		if (rc == ELOOP)
			rp_prog_errf(err, errlen, 0,
				"%s is a symbolic link: name the program file itself", path);
		else
			rp_prog_errf(err, errlen, 0, "cannot open %s: %s", path, strerror(rc));
		errno = rc;
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		rc = errno;
		rp_prog_errf(err, errlen, 0, "cannot stat %s: %s", path, strerror(rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RP_PROG_MAX_FILE) {
		rc = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		rp_prog_errf(err, errlen, 0, "%s: %s", path,
			rc == EFBIG ? "larger than 1 MiB: not a steering program" : "not a regular file");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = ENOMEM;
		goto out;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		rc = n < 0 ? errno : EIO;
		rp_prog_errf(err, errlen, 0, "cannot read %s: %s", path, strerror(rc));
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = (size_t)n;
	rc = 0;
out:
	close(fd);
	errno = rc;
	return buf;
}

/* The relocations against the code section (index @code): each must put
 * the address of one of the ABI's two symbols into a 64-bit load. */
static int
collect_relocs(struct rp_prog *p, Elf *e, size_t code, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh, symsh;
		Elf_Data *rd, *symd;
		Elf_Scn *symscn;

		if (gelf_getshdr(scn, &sh) == NULL)
			return rp_prog_errf(err, errlen, -EINVAL, "%s: bad section header", p->path);
		if (sh.sh_info != code || (sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA))
			continue;
		if (sh.sh_type == SHT_RELA)
			return rp_prog_errf(err, errlen, -EINVAL, "%s: RELA relocations are not supported",
				p->path);
		symscn = elf_getscn(e, sh.sh_link);
		rd = elf_getdata(scn, NULL);
		if (symscn == NULL || gelf_getshdr(symscn, &symsh) == NULL ||
			(symd = elf_getdata(symscn, NULL)) == NULL || rd == NULL)
			return rp_prog_errf(err, errlen, -EINVAL, "%s: bad relocation section", p->path);
		for (size_t k = 0; k < sh.sh_size / (sh.sh_entsize ? sh.sh_entsize : 16); k++) {
			struct rp_prog_reloc *nr;
			const char *name;
			GElf_Rel rel;
			GElf_Sym sym;
			uint32_t idx;

			if (gelf_getrel(rd, (int)k, &rel) == NULL ||
				gelf_getsym(symd, (int)GELF_R_SYM(rel.r_info), &sym) == NULL)
				return rp_prog_errf(err, errlen, -EINVAL, "%s: bad relocation %zu", p->path, k);
			name = elf_strptr(e, symsh.sh_link, sym.st_name);
			if (name == NULL || name[0] == '\0')
				name = "(unnamed)";
			idx = (uint32_t)(rel.r_offset / sizeof(struct ebpf_insn));
			if (rel.r_offset % sizeof(struct ebpf_insn) != 0 || idx >= p->n_ins)
				return rp_prog_errf(err, errlen, -EINVAL, "%s: relocation for '%s' at %#llx is "
					"outside the code", p->path, name,
					(unsigned long long)rel.r_offset);
			if (p->ins[idx].code == BPF_CALL)
				return rp_prog_errf(err, errlen, -EINVAL, "%s: calls '%s': steering programs "
					"may not call functions (inline them)", p->path, name);
			if (strcmp(name, RP_STEER_CFG_SYM) != 0 && strcmp(name, RP_STEER_CNT_SYM) != 0)
				return rp_prog_errf(err, errlen, -EINVAL, "%s: references '%s': only %s and %s "
					"are provided", p->path, name, RP_STEER_CFG_SYM,
					RP_STEER_CNT_SYM);
			if (sym.st_shndx != SHN_UNDEF)
				return rp_prog_errf(err, errlen, -EINVAL, "%s: defines '%s' itself: declare it "
					"extern (rp_steer_abi.h)", p->path, name);
			if (p->ins[idx].code != BPF_LDDW || idx + 1 >= p->n_ins ||
				p->ins[idx].imm != 0 || p->ins[idx + 1].imm != 0)
				return rp_prog_errf(err, errlen, -EINVAL, "%s: unsupported use of '%s' at "
					"instruction %u", p->path, name, idx);
			nr = realloc(p->rel, (p->n_rel + 1) * sizeof(*nr));
			if (nr == NULL)
				return -ENOMEM;
			p->rel = nr;
			p->rel[p->n_rel++] = (struct rp_prog_reloc){
				.insn = idx,
				.sym = strcmp(name, RP_STEER_CFG_SYM) == 0 ? RP_PROG_SYM_CFG
									  : RP_PROG_SYM_CNT,
			};
		}
	}
	return 0;
}

/* Find the code section and refuse any data section. */
static int
check_sections(struct rp_prog *p, Elf *e, size_t *code, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	*code = 0;
	if (elf_getshdrstrndx(e, &shstrndx) != 0)
		return rp_prog_errf(err, errlen, -EINVAL, "%s: no section name table", p->path);
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		const char *name;
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) == NULL)
			return rp_prog_errf(err, errlen, -EINVAL, "%s: bad section header", p->path);
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name == NULL)
			name = "(unnamed)";
		if ((sh.sh_flags & SHF_EXECINSTR) && strcmp(name, RP_STEER_SEC) == 0 &&
			sh.sh_type == SHT_PROGBITS) {
			*code = elf_ndxscn(scn);
		} else if ((sh.sh_flags & SHF_ALLOC) && !(sh.sh_flags & SHF_EXECINSTR) &&
			sh.sh_size > 0) {
			return rp_prog_errf(err, errlen, -EINVAL, "%s: has a data section '%s': steering "
				"programs may not have .data, .rodata or .bss (settings come from %s)",
				p->path, name, RP_STEER_CFG_SYM);
		}
	}
	if (*code == 0)
		return rp_prog_errf(err, errlen, -EINVAL, "%s: no code in section '%s' (the entry must "
			"be SEC(\"%s\"))", p->path, RP_STEER_SEC, RP_STEER_SEC);
	return 0;
}

/* What the kernel's verifier refuses in an instruction by itself and
 * rte_bpf 22.11's validator lets through. A shift by an immediate out of
 * range passed it and the x86 JIT then emitted code that crashed
 * (tests/fuzz/fuzz_prog.c found it; corpus/fuzz_prog/shift_imm). */
static int
check_insns(const struct rp_prog *p, char *err, size_t errlen)
{
	const uint8_t lddw = BPF_LD | BPF_IMM | EBPF_DW;
	const struct ebpf_insn *last = &p->ins[p->n_ins - 1];
	uint8_t *second = calloc(p->n_ins, 1); /* the second slot of an lddw */
	int rc = 0;

	if (second == NULL)
		return -ENOMEM;
	/* The control flow first: every lddw whole, every jump inside the
	 * code and onto an instruction, the last one an exit or a jump (the
	 * validator walks past the end otherwise: ASan saw it write there). */
	for (uint32_t k = 0; k < p->n_ins && rc == 0; k++) {
		if (p->ins[k].code != lddw)
			continue;
		if (k + 1 == p->n_ins || p->ins[k + 1].code != 0)
			rc = rp_prog_errf(err, errlen, -EINVAL, "%s: instruction %u: a 64-bit load "
				"without its second half", p->path, k);
		else
			second[++k] = 1;
	}
	for (uint32_t k = 0; k < p->n_ins && rc == 0; k++) {
		const struct ebpf_insn *in = &p->ins[k];
		int64_t to = (int64_t)k + 1 + in->off;

		if (second[k] || BPF_CLASS(in->code) != BPF_JMP || BPF_OP(in->code) == EBPF_CALL ||
			BPF_OP(in->code) == EBPF_EXIT)
			continue;
		if (to < 0 || to >= p->n_ins || second[to])
			rc = rp_prog_errf(err, errlen, -EINVAL, "%s: instruction %u: a jump to %lld, "
				"not an instruction", p->path, k, (long long)to);
	}
	if (rc == 0 && (second[p->n_ins - 1] || last->code != (BPF_JMP | EBPF_EXIT)) &&
		last->code != (BPF_JMP | BPF_JA))
		rc = rp_prog_errf(err, errlen, -EINVAL, "%s: the last instruction is not an exit "
			"or a jump", p->path);
	free(second);
	if (rc < 0)
		return rc;
	for (uint32_t k = 0; k < p->n_ins; k++) {
		const struct ebpf_insn *in = &p->ins[k];
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		bool k_src = BPF_SRC(in->code) == BPF_K;
		int32_t bits = cls == EBPF_ALU64 ? 64 : 32;
		const char *why = NULL;

		if (cls != BPF_ALU && cls != EBPF_ALU64)
			continue;
		if ((op == BPF_LSH || op == BPF_RSH || op == EBPF_ARSH) && k_src &&
			(in->imm < 0 || in->imm >= bits))
			why = "shift by an immediate out of range";
		else if ((op == BPF_DIV || op == BPF_MOD) && k_src && in->imm == 0)
			why = "division by an immediate zero";
		else if (op == EBPF_END && in->imm != 16 && in->imm != 32 && in->imm != 64)
			why = "byte swap of a width other than 16, 32 or 64";
		else if (op == BPF_NEG && (!k_src || in->imm != 0 || in->src_reg != 0))
			why = "negation with a source";
		if (why != NULL)
			return rp_prog_errf(err, errlen, -EINVAL, "%s: instruction %u: %s (imm %d)",
				p->path, k, why, in->imm);
	}
	return 0;
}

/* What a register or stack slot may hold, per instruction: a pointer
 * (the context, the configuration, the counters, the stack) or not.
 * Over-approximated: a bit set means "may be". */
struct ptr_state {
	uint16_t ptr;   /* registers r0..r10 */
	uint16_t stack; /* registers that may point into the stack */
	uint64_t slots; /* 8-byte stack slots (r10 - 8 * (i + 1)) */
};

#define REG_BIT(r) ((uint16_t)(1u << (r)))

static bool
ptr_merge(struct ptr_state *into, const struct ptr_state *s, bool *seen)
{
	struct ptr_state old = *into;

	if (!*seen) {
		*into = *s;
		*seen = true;
		return true;
	}
	into->ptr |= s->ptr;
	into->stack |= s->stack;
	into->slots |= s->slots;
	return memcmp(&old, into, sizeof(old)) != 0;
}

/* The stack slot of [r10 + off] for an 8-byte access, or -1. */
static int
slot_of(int16_t off)
{
	return off < 0 && off >= -512 && off % 8 == 0 ? -off / 8 - 1 : -1;
}

/* One instruction's effect on @st; a reason if it does with a pointer what
 * rte_bpf 22.11's validator should refuse and does not (fuzz_prog: "r1 &=
 * r3" on the context pointer passed, and the JIT code then read from the
 * masked address). Only moves, and adding or subtracting a number, may
 * touch a pointer; no 32-bit operation may; a program may not return one. */
static const char *
ptr_step(const struct rp_prog *p, uint32_t k, struct ptr_state *st, bool is_reloc)
{
	const struct ebpf_insn *in = &p->ins[k];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	uint16_t d = REG_BIT(in->dst_reg & 0xf), sr = REG_BIT(in->src_reg & 0xf);
	bool x = BPF_SRC(in->code) == BPF_X, dptr = st->ptr & d, sptr = x && (st->ptr & sr);

	switch (cls) {
	case BPF_ALU:
		if (dptr || sptr)
			return "a 32-bit operation on a pointer";
		st->ptr &= (uint16_t)~d;
		st->stack &= (uint16_t)~d;
		return NULL;
	case EBPF_ALU64:
		if (op == EBPF_MOV) {
			st->ptr = (uint16_t)((st->ptr & ~d) | (sptr ? d : 0));
			st->stack = (uint16_t)((st->stack & ~d) | (x && (st->stack & sr) ? d : 0));
			return NULL;
		}
		if ((op == BPF_ADD || op == BPF_SUB) && !(dptr && sptr)) {
			if (sptr && op == BPF_SUB)
				return "a number minus a pointer";
			if (sptr) { /* number + pointer: a pointer */
				st->ptr |= d;
				st->stack = (uint16_t)((st->stack & ~d) | (st->stack & sr ? d : 0));
			}
			return NULL;
		}
		if (dptr || sptr)
			return "an operation other than adding or subtracting a number on a pointer";
		return NULL;
	case BPF_LD: /* lddw: a pointer where a symbol was relocated */
		st->ptr = (uint16_t)((st->ptr & ~d) | (is_reloc ? d : 0));
		st->stack &= (uint16_t)~d;
		return NULL;
	case BPF_LDX: {
		bool from_stack = st->stack & sr;
		int slot = in->src_reg == EBPF_REG_10 ? slot_of(in->off) : -1;
		bool may = from_stack && (slot >= 0 ? (st->slots >> slot) & 1 : st->slots != 0);

		if (may && BPF_SIZE(in->code) != EBPF_DW)
			return "a part of a pointer loaded from the stack";
		st->ptr = (uint16_t)((st->ptr & ~d) | (may ? d : 0));
		st->stack &= (uint16_t)~d; /* a stack pointer kept on the stack: refused below */
		return NULL;
	}
	case BPF_ST:
	case BPF_STX: {
		bool val_ptr = cls == BPF_STX && (st->ptr & sr);
		int slot = in->dst_reg == EBPF_REG_10 ? slot_of(in->off) : -1;

		if (BPF_MODE(in->code) == EBPF_XADD && val_ptr)
			return "an atomic add of a pointer";
		if (val_ptr && BPF_SIZE(in->code) != EBPF_DW)
			return "a part of a pointer stored";
		if (val_ptr && (st->stack & sr))
			return "a stack pointer stored";
		if (!(st->stack & d))
			/* outside the stack it would come back as a number */
			return val_ptr ? "a pointer stored outside the stack" : NULL;
		if (val_ptr) /* this slot, or any when the offset is unknown */
			st->slots |= slot >= 0 ? UINT64_C(1) << slot : ~UINT64_C(0);
		else if (slot >= 0 && BPF_SIZE(in->code) == EBPF_DW)
			st->slots &= ~(UINT64_C(1) << slot);
		return NULL;
	}
	default: /* jumps: calls clobber r0..r5 (there are no helpers to call) */
		if (op == EBPF_EXIT && (st->ptr & REG_BIT(0)))
			return "a pointer returned";
		if (op == EBPF_CALL) {
			st->ptr &= (uint16_t)~0x3f;
			st->stack &= (uint16_t)~0x3f;
		}
		return NULL;
	}
}

/* ptr_step() over every path: a fixed point over the control flow (the
 * lattice is finite and the merge only adds bits). Runs after
 * check_insns() (the control flow is sound) and collect_relocs(). */
static int
check_pointers(const struct rp_prog *p, char *err, size_t errlen)
{
	struct ptr_state *in = calloc(p->n_ins, sizeof(*in));
	bool *seen = calloc(p->n_ins, sizeof(*seen)), *reloc = calloc(p->n_ins, sizeof(*reloc));
	bool *queued = calloc(p->n_ins, sizeof(*queued));
	uint32_t *work = malloc(p->n_ins * sizeof(*work)), n_work = 0;
	struct ptr_state entry = {.ptr = REG_BIT(1) | REG_BIT(EBPF_REG_10),
		.stack = REG_BIT(EBPF_REG_10)};
	int rc = 0;

	if (in == NULL || seen == NULL || reloc == NULL || queued == NULL || work == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t r = 0; r < p->n_rel; r++)
		reloc[p->rel[r].insn] = true;
	ptr_merge(&in[0], &entry, &seen[0]);
	work[n_work++] = 0;
	queued[0] = true;
	while (n_work > 0 && rc == 0) {
		uint32_t k = work[--n_work], next[2], n_next = 0;
		const struct ebpf_insn *ins = &p->ins[k];
		uint8_t cls = BPF_CLASS(ins->code), op = BPF_OP(ins->code);
		struct ptr_state st = in[k];
		const char *why;

		queued[k] = false;
		why = ptr_step(p, k, &st, reloc[k]);

		if (why != NULL) {
			rc = rp_prog_errf(err, errlen, -EINVAL, "%s: instruction %u: %s", p->path, k,
				why);
			break;
		}
		if (ins->code == (BPF_LD | BPF_IMM | EBPF_DW))
			next[n_next++] = k + 2;
		else if ((cls == BPF_JMP || cls == BPF_RET) && op == EBPF_EXIT)
			;
		else if ((cls == BPF_JMP || cls == BPF_RET) && op != EBPF_CALL) {
			next[n_next++] = (uint32_t)((int64_t)k + 1 + ins->off);
			if (op != BPF_JA)
				next[n_next++] = k + 1;
		} else {
			next[n_next++] = k + 1;
		}
		/* Each instruction at most once in the work list: it holds
		 * n_ins at most, and a state only ever gains bits, so this ends. */
		for (uint32_t i = 0; i < n_next; i++)
			if (next[i] < p->n_ins && ptr_merge(&in[next[i]], &st, &seen[next[i]]) &&
				!queued[next[i]]) {
				queued[next[i]] = true;
				work[n_work++] = next[i];
			}
	}
out:
	free(in);
	free(seen);
	free(reloc);
	free(queued);
	free(work);
	return rc;
}

static int
load_image(struct rp_prog *p, const void *buf, size_t len, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	Elf_Data *d;
	size_t code;
	Elf *e;
	int rc;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return rp_prog_errf(err, errlen, -ENOTSUP, "libelf: %s", elf_errmsg(-1));
	e = elf_memory((char *)(uintptr_t)buf, len);
	if (e == NULL || elf_kind(e) != ELF_K_ELF) {
		rc = rp_prog_errf(err, errlen, -EINVAL, "%s: not an ELF object file", p->path);
		goto out;
	}
	if (gelf_getehdr(e, &eh) == NULL || eh.e_ident[EI_CLASS] != ELFCLASS64) {
		rc = rp_prog_errf(err, errlen, -EINVAL, "%s: not a 64-bit ELF object", p->path);
		goto out;
	}
	if (eh.e_machine != EM_BPF) {
		rc = rp_prog_errf(err, errlen, -EINVAL, "%s: not eBPF (ELF machine %u; build with clang "
			"-target bpf)", p->path, eh.e_machine);
		goto out;
	}
	if (eh.e_type != ET_REL || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		rc = rp_prog_errf(err, errlen, -EINVAL, "%s: not a little-endian relocatable object "
			"(clang -target bpf -c)", p->path);
		goto out;
	}
	rc = check_sections(p, e, &code, err, errlen);
	if (rc < 0)
		goto out;
	d = elf_getdata(elf_getscn(e, code), NULL);
	if (d == NULL || d->d_size == 0 || d->d_size % sizeof(struct ebpf_insn) != 0 ||
		d->d_size / sizeof(struct ebpf_insn) > RP_PROG_MAX_INSNS) {
		rc = rp_prog_errf(err, errlen, -EINVAL, "%s: section '%s' holds %zu bytes: not 1..%u "
			"eBPF instructions", p->path, RP_STEER_SEC, d ? d->d_size : 0,
			RP_PROG_MAX_INSNS);
		goto out;
	}
	p->n_ins = (uint32_t)(d->d_size / sizeof(struct ebpf_insn));
	p->ins = malloc(d->d_size);
	if (p->ins == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(p->ins, d->d_buf, d->d_size);
	rc = check_insns(p, err, errlen);
	if (rc == 0)
		rc = collect_relocs(p, e, code, err, errlen);
	if (rc == 0)
		rc = check_pointers(p, err, errlen);
out:
	elf_end(e);
	return rc;
}

struct rp_prog *
rp_prog_open_mem(const void *buf, size_t len, const char *name, char *err, size_t errlen)
{
	struct rp_prog *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->path = strdup(name)) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = load_image(p, buf, len, err, errlen);
	if (rc < 0)
		goto fail;
	return p;
fail:
	rp_prog_close(p);
	if (rc == -ENOMEM)
		rp_prog_errf(err, errlen, 0, "%s: out of memory", name);
	errno = -rc;
	return NULL;
}

struct rp_prog *
rp_prog_open(const char *path, char *err, size_t errlen)
{
	struct rp_prog *p;
	size_t len = 0;
	void *buf;
	int e;

	buf = slurp(path, &len, err, errlen);
	if (buf == NULL)
		return NULL;
	p = rp_prog_open_mem(buf, len, path, err, errlen);
	e = errno;
	free(buf);
	errno = e;
	return p;
}

void
rp_prog_close(struct rp_prog *p)
{
	if (p == NULL)
		return;
	free(p->rel);
	free(p->ins);
	free(p->path);
	free(p);
}

const char *
rp_prog_path(const struct rp_prog *p)
{
	return p->path;
}

unsigned int
rp_prog_insns(const struct rp_prog *p)
{
	return p->n_ins;
}
