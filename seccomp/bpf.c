#include "bpf.h"

#include <string.h>

/* Opcodes the kernel accepts in seccomp filters (seccomp_check_filter());
 * libseccomp uses only loads from seccomp_data, ALU AND, jumps and returns,
 * but the rest is cheap and keeps this total. */
uint32_t sbx_bpf_run(const struct sock_filter *prog, size_t len, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	const uint32_t bad = SECCOMP_RET_KILL_PROCESS;
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *in = &prog[pc];
		uint32_t k = in->k;
		uint32_t src = BPF_SRC(in->code) == BPF_X ? x : k;
		switch (BPF_CLASS(in->code)) {
		case BPF_LD:
		case BPF_LDX: {
			uint32_t v;
			switch (BPF_MODE(in->code)) {
			case BPF_ABS:
				if (BPF_SIZE(in->code) != BPF_W || k % 4 || k > sizeof(*d) - 4)
					return bad;
				memcpy(&v, (const char *)d + k, 4);
				break;
			case BPF_LEN:
				v = sizeof(*d);
				break;
			case BPF_IMM:
				v = k;
				break;
			case BPF_MEM:
				if (k >= BPF_MEMWORDS)
					return bad;
				v = mem[k];
				break;
			default:
				return bad;
			}
			if (BPF_CLASS(in->code) == BPF_LD)
				a = v;
			else
				x = v;
			break;
		}
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return bad;
			mem[k] = BPF_CLASS(in->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			switch (BPF_OP(in->code)) {
			case BPF_ADD: a += src; break;
			case BPF_SUB: a -= src; break;
			case BPF_MUL: a *= src; break;
			case BPF_DIV:
				if (src == 0)
					return 0; /* the kernel's classic BPF returns 0 */
				a /= src;
				break;
			case BPF_MOD:
				if (src == 0)
					return 0;
				a %= src;
				break;
			case BPF_AND: a &= src; break;
			case BPF_OR: a |= src; break;
			case BPF_XOR: a ^= src; break;
			case BPF_LSH: a = src < 32 ? a << src : 0; break;
			case BPF_RSH: a = src < 32 ? a >> src : 0; break;
			case BPF_NEG: a = -a; break;
			default: return bad;
			}
			break;
		case BPF_JMP: {
			size_t target;
			if (BPF_OP(in->code) == BPF_JA) {
				target = pc + 1 + (size_t)k;
			} else {
				int cond;
				switch (BPF_OP(in->code)) {
				case BPF_JEQ: cond = a == src; break;
				case BPF_JGT: cond = a > src; break;
				case BPF_JGE: cond = a >= src; break;
				case BPF_JSET: cond = (a & src) != 0; break;
				default: return bad;
				}
				target = pc + 1 + (cond ? in->jt : in->jf);
			}
			if (target >= len)
				return bad;
			pc = target - 1;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(in->code) == BPF_A ? a : k;
		case BPF_MISC:
			if (BPF_MISCOP(in->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			return bad;
		}
	}
	return bad; /* fell off the end: the kernel's checker forbids it */
}
