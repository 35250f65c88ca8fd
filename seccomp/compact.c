#include "compact.h"

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bpf.h"
#include "lib/alloc.h"
#include "lib/cleanup.h"

#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define JUMP_K(op) (BPF_JMP | (op) | BPF_K)

/* Where the program goes for one (arch, nr), before it reads anything
 * else: a return, or the first instruction that reads an argument (or the
 * instruction pointer), from which on it runs as it is. */
struct outcome {
	bool ret;
	uint32_t k; /* the return value, or that instruction's index */
	bool read_nr;
};

static bool same(const struct outcome *a, const struct outcome *b) { return a->ret == b->ret && a->k == b->k; }

static bool taken(uint16_t code, uint32_t a, const struct sock_filter *f)
{
	switch (code) {
	case JUMP_K(BPF_JEQ): return a == f->k;
	case JUMP_K(BPF_JGT): return a > f->k;
	case JUMP_K(BPF_JGE): return a >= f->k;
	default: return (a & f->k) != 0; /* JSET */
	}
}

/* 0, or -1 when the program does something this cannot follow: anything
 * but a comparison with a constant on the number, anything but JEQ with
 * the native architecture on the architecture. */
static int walk(const struct sock_filter *in, size_t n, uint32_t native, uint32_t arch, uint32_t nr,
		struct outcome *o)
{
	uint32_t a = 0;
	enum { NONE, ARCH, NR } held = NONE;
	*o = (struct outcome){ 0 };
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &in[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k != OFF_ARCH && f->k != OFF_NR) {
				o->k = (uint32_t)pc;
				return 0;
			}
			held = f->k == OFF_NR ? NR : ARCH;
			a = held == NR ? nr : arch;
			o->read_nr |= held == NR;
			break;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			break;
		case JUMP_K(BPF_JEQ):
		case JUMP_K(BPF_JGT):
		case JUMP_K(BPF_JGE):
		case JUMP_K(BPF_JSET):
			if (held == NONE || (held == NR && f->code == JUMP_K(BPF_JSET)) ||
			    (held == ARCH && (f->code != JUMP_K(BPF_JEQ) || f->k != native)))
				return -1;
			pc += taken(f->code, a, f) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			o->ret = true;
			o->k = f->k;
			return 0;
		default:
			return -1;
		}
	}
	return -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Every number at which the path can change: each constant of a
 * comparison and the one after it, and 0.  Sorted, without repeats. */
static size_t boundaries(const struct sock_filter *in, size_t n, uint32_t *b)
{
	size_t m = 0;
	b[m++] = 0;
	for (size_t pc = 0; pc < n; pc++) {
		uint16_t c = in[pc].code;
		if (c != JUMP_K(BPF_JEQ) && c != JUMP_K(BPF_JGT) && c != JUMP_K(BPF_JGE))
			continue;
		b[m++] = in[pc].k;
		if (in[pc].k != UINT32_MAX)
			b[m++] = in[pc].k + 1;
	}
	qsort(b, m, sizeof(*b), cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < m; i++)
		if (u == 0 || b[u - 1] != b[i])
			b[u++] = b[i];
	return u;
}

struct interval {
	uint32_t start;
	struct outcome o;
};

struct out {
	struct sock_filter *f;
	size_t n;
	size_t *fix_at; /* JA instructions to an argument check: the original index in fix_pc */
	uint32_t *fix_pc;
	size_t n_fix;
};

static size_t tree_size(size_t lo, size_t hi)
{
	if (lo == hi)
		return 1;
	size_t mid = (lo + hi + 1) / 2, left = tree_size(lo, mid - 1);
	return (left > 255 ? 2 : 1) + left + tree_size(mid, hi);
}

/* A binary search over iv[lo..hi] by start, the number in A: the left
 * half falls through, the right half is reached by JGE (and a JA when the
 * left half is longer than a conditional jump can skip). */
static void emit_tree(struct out *o, const struct interval *iv, size_t lo, size_t hi)
{
	if (lo == hi) {
		if (iv[lo].o.ret) {
			o->f[o->n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, iv[lo].o.k);
		} else {
			o->fix_at[o->n_fix] = o->n;
			o->fix_pc[o->n_fix++] = iv[lo].o.k;
			o->f[o->n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
		}
		return;
	}
	size_t mid = (lo + hi + 1) / 2, left = tree_size(lo, mid - 1);
	if (left <= 255) {
		o->f[o->n++] = (struct sock_filter)BPF_JUMP(JUMP_K(BPF_JGE), iv[mid].start, (uint8_t)left, 0);
	} else {
		o->f[o->n++] = (struct sock_filter)BPF_JUMP(JUMP_K(BPF_JGE), iv[mid].start, 0, 1);
		o->f[o->n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)left);
	}
	emit_tree(o, iv, lo, mid - 1);
	emit_tree(o, iv, mid, hi);
}

/* The instructions reachable from the argument checks, copied in their
 * order (jumps only go forward, so they only get shorter). */
static void emit_checks(struct out *o, const struct sock_filter *in, size_t n)
{
	cleanup_free bool *reach = sbx_xcalloc(n, sizeof(*reach));
	cleanup_free size_t *pos = sbx_xcalloc(n, sizeof(*pos));
	for (size_t i = 0; i < o->n_fix; i++)
		reach[o->fix_pc[i]] = true;
	size_t at = o->n;
	for (size_t pc = 0; pc < n; pc++) {
		if (!reach[pc])
			continue;
		pos[pc] = at++;
		const struct sock_filter *f = &in[pc];
		if (f->code == (BPF_JMP | BPF_JA))
			reach[pc + 1 + f->k] = true;
		else if (BPF_CLASS(f->code) == BPF_JMP)
			reach[pc + 1 + f->jt] = reach[pc + 1 + f->jf] = true;
		else if (BPF_CLASS(f->code) != BPF_RET)
			reach[pc + 1] = true;
	}
	for (size_t pc = 0; pc < n; pc++) {
		if (!reach[pc])
			continue;
		struct sock_filter f = in[pc];
		if (f.code == (BPF_JMP | BPF_JA)) {
			f.k = (uint32_t)(pos[pc + 1 + f.k] - pos[pc] - 1);
		} else if (BPF_CLASS(f.code) == BPF_JMP) {
			f.jt = (uint8_t)(pos[pc + 1 + f.jt] - pos[pc] - 1);
			f.jf = (uint8_t)(pos[pc + 1 + f.jf] - pos[pc] - 1);
		}
		o->f[o->n++] = f;
	}
	for (size_t i = 0; i < o->n_fix; i++)
		o->f[o->fix_at[i]].k = (uint32_t)(pos[o->fix_pc[i]] - o->fix_at[i] - 1);
}

/* The same answer as the original at every boundary and just below it,
 * for the native and another architecture: the dispatch is all that
 * changed, and it depends on nothing else. */
static bool agrees(const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb, uint32_t native,
		   const uint32_t *bound, size_t nbound)
{
	const uint32_t arches[] = { native, native ^ 1, 0 };
	for (size_t i = 0; i < nbound; i++)
		for (size_t j = 0; j < 3; j++)
			for (int below = 0; below < 2; below++) {
				struct seccomp_data d = { .nr = (int)(bound[i] - (uint32_t)below), .arch = arches[j] };
				if (sbx_bpf_run(a, na, &d) != sbx_bpf_run(b, nb, &d))
					return false;
			}
	return true;
}

/* Every jump lands inside the program, and only returns and jumps end it. */
static bool well_formed(const struct sock_filter *in, size_t n)
{
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &in[pc];
		size_t last;
		if (f->code == (BPF_JMP | BPF_JA))
			last = pc + 1 + (size_t)f->k;
		else if (BPF_CLASS(f->code) == BPF_JMP)
			last = pc + 1 + (f->jt > f->jf ? f->jt : f->jf);
		else if (BPF_CLASS(f->code) == BPF_RET)
			continue;
		else
			last = pc + 1;
		if (last >= n)
			return false;
	}
	return true;
}

int sbx_bpf_compact(const struct sock_filter *in, size_t n, uint32_t native_arch, struct sock_filter **out,
		    size_t *n_out)
{
	*out = NULL;
	struct outcome other;
	if (!well_formed(in, n))
		return 0;
	/* Another architecture must get one answer without a look at the
	 * number: only then does one return stand for all of them. */
	if (n == 0 || walk(in, n, native_arch, native_arch ^ 1, 0, &other) < 0 || !other.ret || other.read_nr)
		return 0;
	cleanup_free uint32_t *bound = sbx_xcalloc(2 * n + 1, sizeof(*bound));
	size_t nb = boundaries(in, n, bound);
	cleanup_free struct interval *iv = sbx_xcalloc(nb, sizeof(*iv));
	size_t m = 0;
	for (size_t i = 0; i < nb; i++) {
		struct outcome o;
		if (walk(in, n, native_arch, native_arch, bound[i], &o) < 0)
			return 0;
		if (m > 0 && same(&iv[m - 1].o, &o))
			continue;
		iv[m++] = (struct interval){ .start = bound[i], .o = o };
	}
	struct out o = { .f = sbx_xcalloc(4 + tree_size(0, m - 1) + n, sizeof(*o.f)), .fix_at = sbx_xcalloc(m, sizeof(size_t)),
			 .fix_pc = sbx_xcalloc(m, sizeof(uint32_t)) };
	int done = 0;
	if (4 + tree_size(0, m - 1) < n) {
		o.f[o.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH);
		o.f[o.n++] = (struct sock_filter)BPF_JUMP(JUMP_K(BPF_JEQ), native_arch, 1, 0);
		o.f[o.n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, other.k);
		o.f[o.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR);
		emit_tree(&o, iv, 0, m - 1);
		emit_checks(&o, in, n);
		done = o.n < n && agrees(in, n, o.f, o.n, native_arch, bound, nb);
	}
	free(o.fix_at);
	free(o.fix_pc);
	if (!done) {
		free(o.f);
		return 0;
	}
	*out = o.f;
	*n_out = o.n;
	return 1;
}
