/* Decoder-level glue: Capstone instruction -> fpu.h operations.
 *
 * Two steps, matching the emulator's "decode once" design:
 *   fpu_glue_decode()  at decode time (decode.c): looks at the cs_insn
 *                      (raw bytes for opcode/prefix/imm8, Capstone
 *                      operands for register numbers and memory-or-not)
 *                      and fills a small struct fpu_glue_insn that the
 *                      emulator keeps in its struct emu_insn;
 *   fpu_glue_exec()    at run time (ops.c handler): runs it against a
 *                      struct emu_fpu through callbacks for the single
 *                      memory operand and the GPRs.
 * CR0.EM/TS/MP, CR4.OSFXSR and the #MF/#XM mapping stay in the
 * emulator: see fpu_glue_exec's return values. */
#ifndef MINUS1_EMUL_FPU_GLUE_H
#define MINUS1_EMUL_FPU_GLUE_H

#include <capstone/capstone.h>

#include "fpu.h"

enum fpu_glue_kind {
    G_NONE, G_X87, G_SIMD, G_MOV, G_CVT2SI, G_CVTSI2S, G_COMIS, G_MOVMSK, G_PEXTRW, G_EMMS,
    G_LDMXCSR, G_STMXCSR, G_FXSAVE, G_FXRSTOR,
};

/* Operand locations of G_MOV and friends. */
enum fpu_loc { L_NONE, L_XMM, L_MM, L_GPR, L_MEM };

struct fpu_glue_insn {
    uint8_t kind;           /* enum fpu_glue_kind */
    uint8_t op;             /* enum fpu_simd_op / fpu_cvt_op / MOVMSK: 0 ps, 1 pd, 2 pmovmskb */
    uint8_t opc, modrm;     /* G_X87 */
    uint8_t width;          /* 8 (MMX) or 16 */
    uint8_t dloc, sloc;     /* enum fpu_loc */
    uint8_t dreg, sreg;     /* XMM/MM number, or GPR as Capstone x86_reg (low byte of id map) */
    uint16_t dgpr, sgpr;    /* Capstone x86_reg of GPR operands */
    uint8_t size;           /* G_MOV bytes; GPR operand size for conversions */
    uint8_t doff, soff;     /* G_MOV: byte offset in the XMM (MOVHPS) */
    bool zx;                /* G_MOV into XMM: zero the rest */
    bool align16;           /* memory operand must be 16-byte aligned (#GP) */
    bool mmx;               /* touches MMX state: x87 pending check + MMX transition */
    bool dbl, quiet;        /* G_CVTSI2S / G_COMIS */
    uint8_t imm;
};

/* Returns true when the instruction is x87/MMX/SSE* and handled here. */
bool fpu_glue_decode(const cs_insn *ci, bool mode64, struct fpu_glue_insn *g);

struct fpu_glue_env {
    void *opaque;
    /* The instruction's memory operand (the emulator knows its address).
     * Return false on a fault (or longjmp out, as the emulator does). */
    bool (*mem_read)(void *opaque, void *buf, unsigned len);
    bool (*mem_write)(void *opaque, const void *buf, unsigned len);
    /* Low bits of the memory operand's effective address (alignment). */
    uint64_t (*mem_addr)(void *opaque);
    uint64_t (*gpr_get)(void *opaque, uint16_t x86_reg);
    void (*gpr_set)(void *opaque, uint16_t x86_reg, uint64_t v);    /* 32-bit writes zero-extend */
    uint32_t *eflags;
    enum fpu_layout layout;
    bool ignne;
    uint16_t cs, ds;
    uint64_t ip, dp;
    /* FXSAVE/FXRSTOR: legacy (not 64-bit mode): XMM0-7 only; no_xmm
     * (CR4.OSFXSR clear): neither XMM nor MXCSR.  Zero: 64-bit view. */
    bool legacy, no_xmm;
};

enum { FPU_GLUE_FAULT = 100 };  /* a memory callback failed: state unchanged */

/* Returns FPU_OK, FPU_UD, FPU_MF, FPU_XM, FPU_GP (alignment, MXCSR) or
 * FPU_GLUE_FAULT.  On anything but FPU_OK the state is unchanged. */
int fpu_glue_exec(struct emu_fpu *f, const struct fpu_glue_insn *g, const struct fpu_glue_env *env);

#endif
