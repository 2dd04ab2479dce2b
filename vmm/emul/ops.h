/* Handler names and sub-op codes shared by ops.c and decode.c. */
#ifndef MINUS1_EMUL_OPS_H
#define MINUS1_EMUL_OPS_H

#include "emul_int.h"

enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };
enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

/* The threaded form of handler f (runs f, then jumps to the next slot's
 * handler), NULL if f has none.  Only for slots that are not a block's
 * last. */
emu_handler emu_threaded_form(emu_handler f);

/* The per-op form (ADD/OR/AND/SUB/XOR/CMP with the op a constant) of a
 * register-destination ALU fast form f (h_alu_rr32 ... h_alu_rm64) for op
 * sub; f itself for the others (ADC, SBB). */
emu_handler emu_alu_form(emu_handler f, unsigned sub);
/* The fused + Jcc form of a per-op ALU handler, NULL if f is none. */
emu_handler emu_alu_fused(emu_handler f);

/* The 64-bit mode form of memory move f for insn i (decoded in 64-bit
 * mode) when its address allows one (see ops.c), else f. */
emu_handler emu_mem64_form(emu_handler f, const struct emu_insn *i);
/* Decode-time specialisation of handler f for insn i decoded in mode
 * (0/1/2: 16/32/64-bit): per-op shifts by an immediate, register IMUL,
 * 64-bit LEA and the 64-bit memory moves; f if none applies. */
emu_handler emu_special_form(emu_handler f, const struct emu_insn *i, unsigned mode);

H(h_alu);
H(h_alu_rr32);
H(h_alu_ri32);
H(h_alu_rr64);
H(h_alu_ri64);
H(h_alu_rm32);
H(h_alu_rm64);
H(h_test);
H(h_incdec);
H(h_neg);
H(h_not);
H(h_shift);
H(h_shift_ri);
H(h_shxd);
H(h_mul1);
H(h_imul);
H(h_div);
H(h_mov);
H(h_mov_rr32);
H(h_mov_rr64);
H(h_mov_load);
H(h_mov_store);
H(h_mov_load1);
H(h_mov_load2);
H(h_mov_load4);
H(h_mov_load8);
H(h_mov_store1);
H(h_mov_store2);
H(h_mov_store4);
H(h_mov_store8);
H(h_movzx_load1);
H(h_movzx_load2);
H(h_movsx_load1);
H(h_movsx_load2);
H(h_movsx_load4);
H(h_incdec_r);
H(h_mov_to_sreg);
H(h_mov_from_sreg);
H(h_movx);
H(h_lea);
H(h_xchg);
H(h_xadd);
H(h_cmpxchg);
H(h_cmpxchg8b);
H(h_bswap);
H(h_cbw);
H(h_cwd);
H(h_xlat);
H(h_lxs);
H(h_push);
H(h_push_r);
H(h_pop_r);
H(h_pop);
H(h_pusha);
H(h_popa);
H(h_pushf);
H(h_popf);
H(h_enter);
H(h_leave);
H(h_jmp);
H(h_jcc);
H(h_alu_rr32_jcc);
H(h_alu_ri32_jcc);
H(h_alu_rr64_jcc);
H(h_alu_ri64_jcc);
H(h_alu_rm32_jcc);
H(h_alu_rm64_jcc);
H(h_cmp_jcc);
H(h_test_jcc);
H(h_incdec_r_jcc);
H(h_jmp_ind);
H(h_call);
H(h_call_ind);
H(h_ret);
H(h_retf);
H(h_iret);
H(h_ljmp_ptr);
H(h_ljmp_mem);
H(h_loop);
H(h_int);
H(h_int3);
H(h_into);
H(h_bound);
H(h_setcc);
H(h_cmovcc);
H(h_bt);
H(h_bsf);
H(h_flagop);
H(h_cli);
H(h_sti);
H(h_lahf);
H(h_sahf);
H(h_daa);
H(h_aaa);
H(h_aam);
H(h_aad);
H(h_movs);
H(h_stos);
H(h_lods);
H(h_cmps);
H(h_scas);
H(h_ins);
H(h_outs);
H(h_in);
H(h_out);
H(h_nop);
H(h_wbinvd);
H(h_hlt);
H(h_lgdt);
H(h_sgdt);
H(h_lldt);
H(h_ltr);
H(h_sldt);
H(h_smsw);
H(h_lmsw);
H(h_clts);
H(h_mov_cr);
H(h_mov_dr);
H(h_invlpg);
H(h_cpuid);
H(h_rdtsc);
H(h_rdmsr);
H(h_wrmsr);
H(h_larlsl);
H(h_verrw);
H(h_arpl);
H(h_fwait);
H(h_fpu);
H(h_syscall);
H(h_sysret);
H(h_sysenter);
H(h_sysexit);
H(h_swapgs);
H(h_rdtscp);
H(h_unimpl);
/* xsave.c; h_xsave's sub: XSAVE_OP_* | XSAVE_REXW (the 64-bit FIP/FDP form) */
enum { XSAVE_OP_SAVE, XSAVE_OP_RSTOR, XSAVE_OP_SAVEOPT };
#define XSAVE_REXW 4u
H(h_xsave);
H(h_xgetbv);
H(h_xsetbv);

#endif
