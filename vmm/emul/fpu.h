/* minus1's x87 / MMX / SSE / SSE2 / SSE3 / SSSE3 state and semantics.
 *
 * A self-contained library the interpreter (ops.c) calls; it knows nothing
 * about segments, paging or guest memory.  The caller reads a memory
 * operand into a buffer, calls the operation, and writes the buffer back
 * when the operation says so.
 *
 * HOW THE ARITHMETIC IS DONE (and why it is bit-exact)
 *
 *  x87: every data instruction (everything but the control instructions
 *  FNINIT/FNCLEX/FLDCW/FNSTCW/FNSTSW/FNSTENV/FLDENV/FNSAVE/FRSTOR and the
 *  287 no-ops) is executed by the HOST on the guest state: the state is
 *  turned into a 108-byte FRSTOR image, a per-encoding stub runs
 *  "FRSTOR image; <the guest's own two opcode bytes>; FNSAVE image" with
 *  the memory operand in a private buffer, and the image is turned back
 *  into the state.  So results, C0-C3, stack faults, precision/rounding
 *  control, denormals, pseudo-denormals, unnormals, the transcendental
 *  results and even the unmasked-exception behaviour (bias-adjusted
 *  results, destinations left alone) are what an x86 CPU does, because an
 *  x86 CPU does it.  x87 exceptions are deferred, so running with the
 *  guest's masks is safe: FNSAVE does not wait.  The guest's sticky
 *  exception flags are cleared in the image (and OR-ed back) so the host
 *  never sees a pending exception.  EFLAGS for FCMOVcc / FCOMI go through
 *  the stub (only CF/PF/ZF/... are passed).  The x87 stack registers of
 *  the host are clobbered and its control word restored.
 *
 *  SSE/SSE2/SSE3 floating point: the host instruction with the guest's
 *  MXCSR (rounding, DAZ, FTZ) loaded and ALL exceptions masked (SIMD FP
 *  exceptions are precise: an unmasked one would SIGFPE the host), then
 *  the raised flags are compared against the guest's masks.  Ops done
 *  this way: ADD/SUB/MUL/DIV/MIN/MAX/SQRT PS/SS/PD/SD, RCP/RSQRT PS/SS
 *  (so the approximation is this host's; Intel and AMD differ), CMPcc
 *  PS/SS/PD/SD, (U)COMISS/SD, every CVT*, ADDSUB/HADD/HSUB PS/PD.
 *  Integer SIMD, logic, moves, shuffles, packs, shifts: portable C.
 *
 *  Unmasked SIMD FP exceptions (FPU_XM returned, destination unchanged):
 *  if an unmasked pre-computation exception (IE/DE/ZE) happened only the
 *  pre-computation flags are recorded, else all flags of the masked run.
 *  That is the SDM's rule, but the masked run may show flags of lanes a
 *  real CPU would not have evaluated after the first unmasked one:
 *  APPROXIMATE in that corner only.
 *
 * Requires an x86-64 host (the emulator is only built there).
 *
 * MMX: mmN IS the mantissa of physical register N (r[N].mant).  Any MMX
 * instruction first calls fpu_mmx_enter() (TOP=0, all tags valid); a
 * write sets the exponent/sign word to 0xFFFF; EMMS empties all tags.
 *
 * CR0.EM/TS/MP (#UD/#NM), CR4.OSFXSR/OSXMMEXCPT and CR0.NE/IGNNE# are
 * the caller's policy: it checks them before calling, and maps FPU_MF /
 * FPU_XM to exceptions.  See fpu_glue.h for the decoder-level mapping.
 */
#ifndef MINUS1_EMUL_FPU_H
#define MINUS1_EMUL_FPU_H

#include <stdbool.h>
#include <stdint.h>

typedef union {
    uint8_t b[16];
    int8_t sb[16];
    uint16_t w[8];
    int16_t sw[8];
    uint32_t d[4];
    int32_t sd[4];
    uint64_t q[2];
    int64_t sq[2];
    float f[4];
    double df[2];
} fpu_xmm;

struct fpu_reg80 {
    uint64_t mant;      /* significand incl. the explicit integer bit; MMX register */
    uint16_t se;        /* sign (bit 15) and biased exponent */
};

struct emu_fpu {
    uint16_t cw;            /* bit 6 reads as 1; bits 13-15 read as 0 */
    uint16_t sw;            /* incl. TOP (13:11), ES (7), B (15) */
    uint8_t tag;            /* abridged: bit p set = physical register p not empty */
    uint16_t fop;           /* last non-control opcode (11 bits) */
    uint64_t fip, fdp;      /* last instruction / data pointer (offsets) */
    uint16_t fcs, fds;
    struct fpu_reg80 r[8];  /* PHYSICAL registers: ST(i) = r[(TOP + i) & 7] */
    uint32_t mxcsr;
    uint32_t mxcsr_mask;    /* what FXSAVE reports / FXRSTOR enforces (0xFFFF: DAZ) */
    fpu_xmm xmm[16];
};

/* Result codes. */
enum {
    FPU_OK = 0,
    FPU_UD,     /* invalid encoding / operand: #UD */
    FPU_MF,     /* waiting instruction with a pending unmasked x87 exception:
                 * #MF if CR0.NE, else FERR#/IRQ13 (nothing was executed) */
    FPU_XM,     /* unmasked SIMD FP exception: #XM if CR4.OSXMMEXCPT else #UD */
    FPU_GP,     /* FXRSTOR/LDMXCSR with reserved MXCSR bits: #GP(0) */
};

#define FPU_SW_IE 0x0001
#define FPU_SW_DE 0x0002
#define FPU_SW_ZE 0x0004
#define FPU_SW_OE 0x0008
#define FPU_SW_UE 0x0010
#define FPU_SW_PE 0x0020
#define FPU_SW_SF 0x0040
#define FPU_SW_ES 0x0080
#define FPU_SW_C0 0x0100
#define FPU_SW_C1 0x0200
#define FPU_SW_C2 0x0400
#define FPU_SW_C3 0x4000
#define FPU_SW_B 0x8000

#define FPU_MXCSR_DAZ 0x0040
#define FPU_MXCSR_FTZ 0x8000

/* Power-on/RESET state (FNINIT + MXCSR 0x1F80, XMM zeroed, mask 0xFFFF). */
void fpu_reset(struct emu_fpu *f);
/* FNINIT (also what FNSAVE leaves behind). */
void fpu_finit(struct emu_fpu *f);

static inline unsigned fpu_top(const struct emu_fpu *f) { return (f->sw >> 11) & 7; }
/* True when a waiting x87/MMX instruction must raise #MF / FERR# first. */
static inline bool fpu_pending(const struct emu_fpu *f) { return (f->sw & FPU_SW_ES) != 0; }

/* ---------------------------------------------------------------- x87 */

/* Where the memory operand goes and how big it is. */
enum fpu_memdir { FPU_MEM_NONE, FPU_MEM_READ, FPU_MEM_WRITE };

/* Layout of FNSTENV/FLDENV/FNSAVE/FRSTOR images: the operand size and
 * whether the CPU is in real/V86 mode pick it. */
enum fpu_layout { FPU_REAL16, FPU_REAL32, FPU_PROT16, FPU_PROT32 };

struct fpu_x87_info {
    bool valid;             /* false: #UD */
    bool waiting;           /* checks for pending exceptions (not FN*) */
    bool control;           /* does not update FIP/FDP/FOP */
    bool reads_eflags;      /* FCMOVcc */
    bool writes_eflags;     /* FCOMI/FUCOMI(P): ZF PF CF set, OF SF AF cleared */
    bool writes_ax;         /* FNSTSW AX */
    uint8_t dir;            /* enum fpu_memdir */
    uint8_t size;           /* memory operand bytes (0: none) */
};

/* What an x87 encoding needs: opc is 0xD8..0xDF, modrm the ModRM byte
 * (mod == 3: register form; else only the reg field matters). */
struct fpu_x87_info fpu_x87_classify(uint8_t opc, uint8_t modrm, enum fpu_layout layout);

struct fpu_x87_args {
    uint8_t opc, modrm;
    enum fpu_layout layout;     /* for the environment / save forms */
    bool ignne;                 /* IGNNE# asserted: don't stop for a pending exception */
    uint32_t eflags;            /* in: for FCMOVcc; out: FCOMI* flags merged */
    uint16_t ax;                /* out: FNSTSW AX */
    uint16_t cs, ds;            /* pointers recorded in FCS:FIP / FDS:FDP */
    uint64_t ip, dp;
    bool store;                 /* out: write mem[0..info.size) back to the operand */
    bool raised;                /* out: this instruction set ES (FERR# goes active) */
    uint8_t mem[108];           /* memory operand in (loads) / out (stores) */
};

/* Executes one x87 instruction.  Memory operands: for FPU_MEM_READ forms
 * the caller fills mem[] with info.size bytes first; for FPU_MEM_WRITE
 * forms it writes mem[] back when a->store is set (an unmasked IE/OE/UE
 * on a store stores nothing).  Returns FPU_OK, FPU_UD or FPU_MF (then the
 * state is untouched).  To make faulting stores restartable, run on a copy
 * of the state and commit it after the memory write succeeded. */
int fpu_x87_exec(struct emu_fpu *f, struct fpu_x87_args *a);

/* FWAIT: FPU_MF when an exception is pending. */
int fpu_fwait(const struct emu_fpu *f);

/* Environment images (also reachable via fpu_x87_exec).  Return the size
 * written/read: 14 (16-bit) or 28 (32-bit); 94/108 for FSAVE. */
unsigned fpu_fstenv(struct emu_fpu *f, uint8_t *buf, enum fpu_layout l);    /* masks all after */
unsigned fpu_fldenv(struct emu_fpu *f, const uint8_t *buf, enum fpu_layout l);
unsigned fpu_fsave(struct emu_fpu *f, uint8_t *buf, enum fpu_layout l);     /* FNINIT after */
unsigned fpu_frstor(struct emu_fpu *f, const uint8_t *buf, enum fpu_layout l);

/* Full (FSTENV) tag word computed from the registers. */
uint16_t fpu_full_tag(const struct emu_fpu *f);

/* FXSAVE/FXRSTOR 512-byte image.  rex_w: 64-bit FIP/FDP form.  nxmm: 8
 * (32-bit mode), 16 (64-bit mode), or 0 (CR4.OSFXSR clear: XMM/MXCSR not
 * saved/restored).  FXRSTOR returns FPU_GP when MXCSR has bits outside
 * mxcsr_mask (nothing loaded).  Alignment checks are the caller's. */
void fpu_fxsave(const struct emu_fpu *f, uint8_t img[512], bool rex_w, unsigned nxmm);
int fpu_fxrstor(struct emu_fpu *f, const uint8_t img[512], bool rex_w, unsigned nxmm);

/* XSAVE/XSAVEOPT and XRSTOR (standard form) of the state components this
 * library holds: x87 (bit 0) and SSE (bit 1), both in the legacy region,
 * so the area is the 512-byte legacy region plus the 64-byte header.
 * rfbm: requested-feature bitmap (EDX:EAX & XCR0); xinuse: components
 * not in their initial configuration (a CPU may report 1 for any).  XSAVE
 * writes only what RFBM selects and XSTATE_BV's RFBM bits.  XRSTOR
 * initialises a requested component whose XSTATE_BV bit is clear, loads
 * MXCSR whenever RFBM[1] is set, and returns FPU_GP (nothing changed) for
 * a non-zero XCOMP_BV or header bytes 16-23, XSTATE_BV bits outside xcr0,
 * or reserved MXCSR bits.  rex_w, nxmm: as for FXSAVE.  Alignment (64
 * bytes) is the caller's check. */
#define FPU_XSAVE_SIZE 576u
#define FPU_XSTATE_X87 1u
#define FPU_XSTATE_SSE 2u
void fpu_xsave(const struct emu_fpu *f, uint8_t img[FPU_XSAVE_SIZE], uint64_t rfbm,
               uint64_t xinuse, bool rex_w, unsigned nxmm);
int fpu_xrstor(struct emu_fpu *f, const uint8_t img[FPU_XSAVE_SIZE], uint64_t rfbm,
               uint64_t xcr0, bool rex_w, unsigned nxmm);

/* LDMXCSR (FPU_GP on reserved bits) / STMXCSR. */
int fpu_ldmxcsr(struct emu_fpu *f, uint32_t v);
static inline uint32_t fpu_stmxcsr(const struct emu_fpu *f) { return f->mxcsr; }

/* ST(i) as a host long double (tests and debugging). */
long double fpu_st(const struct emu_fpu *f, unsigned i);

/* ---------------------------------------------------------------- MMX */

void fpu_mmx_enter(struct emu_fpu *f);          /* TOP = 0, all tags valid */
uint64_t fpu_mmx_get(struct emu_fpu *f, unsigned n);
void fpu_mmx_set(struct emu_fpu *f, unsigned n, uint64_t v);
void fpu_emms(struct emu_fpu *f);

/* ------------------------------------------------------- SIMD operations */

/* Two-operand SIMD instructions "dst op= src (imm)".  The same op
 * works on MMX (width 8) where the instruction has an MMX form, and
 * on XMM (width 16).  Memory sources are read by the caller into an
 * fpu_xmm (size per fpu_simd_srcsize); 16-byte alignment of the
 * aligned forms is the caller's check. */
#define FPU_SIMD_OPS(X) \
    /* ---- SSE/SSE2 floating point (host-executed) ---- */ \
    X(ADDPS) X(ADDSS) X(ADDPD) X(ADDSD) X(SUBPS) X(SUBSS) X(SUBPD) X(SUBSD) \
    X(MULPS) X(MULSS) X(MULPD) X(MULSD) X(DIVPS) X(DIVSS) X(DIVPD) X(DIVSD) \
    X(MINPS) X(MINSS) X(MINPD) X(MINSD) X(MAXPS) X(MAXSS) X(MAXPD) X(MAXSD) \
    X(SQRTPS) X(SQRTSS) X(SQRTPD) X(SQRTSD) X(RCPPS) X(RCPSS) X(RSQRTPS) X(RSQRTSS) \
    X(CMPPS) X(CMPSS) X(CMPPD) X(CMPSD) /* imm: predicate 0-7 */ \
    X(CVTPS2PD) X(CVTPD2PS) X(CVTSS2SD) X(CVTSD2SS) \
    X(CVTDQ2PS) X(CVTPS2DQ) X(CVTTPS2DQ) X(CVTDQ2PD) X(CVTPD2DQ) X(CVTTPD2DQ) \
    X(CVTPI2PS) X(CVTPI2PD) X(CVTPS2PI) X(CVTTPS2PI) X(CVTPD2PI) X(CVTTPD2PI) /* MMX side: low qword */ \
    X(ADDSUBPS) X(ADDSUBPD) X(HADDPS) X(HADDPD) X(HSUBPS) X(HSUBPD) \
    /* ---- logic / moves / shuffles (C) ---- */ \
    X(AND) X(ANDN) X(OR) X(XOR) /* ANDPS/PAND... (all widths) */ \
    X(MOVSS) X(MOVSD) /* reg-reg merge of the low element */ \
    X(MOVSS_LOAD) X(MOVSD_LOAD) /* from memory: upper zeroed */ \
    X(MOVLPS) X(MOVHPS) X(MOVHLPS) X(MOVLHPS) /* MOVLPD/MOVHPD: same ops */ \
    X(MOVQ_XMM) /* MOVQ xmm, xmm/m64: upper zeroed */ \
    X(MOVDDUP) X(MOVSHDUP) X(MOVSLDUP) \
    X(SHUFPS) X(SHUFPD) X(UNPCKLPS) X(UNPCKHPS) X(UNPCKLPD) X(UNPCKHPD) \
    /* ---- integer SIMD (C), MMX and XMM ---- */ \
    X(PADDB) X(PADDW) X(PADDD) X(PADDQ) X(PADDSB) X(PADDSW) X(PADDUSB) X(PADDUSW) \
    X(PSUBB) X(PSUBW) X(PSUBD) X(PSUBQ) X(PSUBSB) X(PSUBSW) X(PSUBUSB) X(PSUBUSW) \
    X(PMULLW) X(PMULHW) X(PMULHUW) X(PMULUDQ) X(PMADDWD) X(PSADBW) X(PAVGB) X(PAVGW) \
    X(PMINUB) X(PMAXUB) X(PMINSW) X(PMAXSW) \
    X(PCMPEQB) X(PCMPEQW) X(PCMPEQD) X(PCMPGTB) X(PCMPGTW) X(PCMPGTD) \
    X(PACKSSWB) X(PACKSSDW) X(PACKUSWB) \
    X(PUNPCKLBW) X(PUNPCKLWD) X(PUNPCKLDQ) X(PUNPCKLQDQ) \
    X(PUNPCKHBW) X(PUNPCKHWD) X(PUNPCKHDQ) X(PUNPCKHQDQ) \
    X(PSLLW) X(PSLLD) X(PSLLQ) X(PSRLW) X(PSRLD) X(PSRLQ) X(PSRAW) X(PSRAD) /* count: src low qword */ \
    X(PSLLW_I) X(PSLLD_I) X(PSLLQ_I) X(PSRLW_I) X(PSRLD_I) X(PSRLQ_I) X(PSRAW_I) X(PSRAD_I) \
    X(PSLLDQ) X(PSRLDQ) /* imm, XMM only */ \
    X(PSHUFD) X(PSHUFHW) X(PSHUFLW) X(PSHUFW) /* dst = shuffle(src, imm) */ \
    X(PINSRW) /* src.w[0] into word imm */ \
    /* ---- SSSE3 (C) ---- */ \
    X(PSHUFB) X(PALIGNR) X(PHADDW) X(PHADDD) X(PHADDSW) X(PHSUBW) X(PHSUBD) X(PHSUBSW) \
    X(PMADDUBSW) X(PMULHRSW) X(PSIGNB) X(PSIGNW) X(PSIGND) X(PABSB) X(PABSW) X(PABSD)

enum fpu_simd_op {
#define FPU_SIMD_ENUM(n) S_##n,
    FPU_SIMD_OPS(FPU_SIMD_ENUM)
#undef FPU_SIMD_ENUM
    S_NUM_OPS
};

/* width: 8 (MMX registers) or 16.  Returns FPU_OK, FPU_XM (dst unchanged,
 * MXCSR flags set) or FPU_UD (op has no form of that width). */
int fpu_simd(struct emu_fpu *f, enum fpu_simd_op op, fpu_xmm *dst, const fpu_xmm *src,
             uint8_t imm, unsigned width);
/* Bytes read from a memory source (scalar forms read less than 16). */
unsigned fpu_simd_srcsize(enum fpu_simd_op op, unsigned width);
const char *fpu_simd_name(enum fpu_simd_op op);

/* Scalar <-> integer conversions with GPRs (size 4 or 8 = REX.W). */
enum fpu_cvt_op { C_CVTSS2SI, C_CVTTSS2SI, C_CVTSD2SI, C_CVTTSD2SI };
int fpu_cvt2si(struct emu_fpu *f, enum fpu_cvt_op op, const fpu_xmm *src, unsigned size,
               uint64_t *out);
/* CVTSI2SS (dbl false) / CVTSI2SD (dbl true) into the low element of dst. */
int fpu_cvtsi2s(struct emu_fpu *f, bool dbl, fpu_xmm *dst, uint64_t v, unsigned size);

/* COMISS/UCOMISS/COMISD/UCOMISD: EFLAGS ZF/PF/CF set, OF/SF/AF cleared
 * (other bits of *eflags kept). */
int fpu_comis(struct emu_fpu *f, bool dbl, bool unordered_quiet, const fpu_xmm *a,
              const fpu_xmm *b, uint32_t *eflags);

/* Extractions. */
uint32_t fpu_movmskps(const fpu_xmm *x);
uint32_t fpu_movmskpd(const fpu_xmm *x);
uint32_t fpu_pmovmskb(const fpu_xmm *x, unsigned width);
uint32_t fpu_pextrw(const fpu_xmm *x, uint8_t imm, unsigned width);
/* MASKMOVQ/MASKMOVDQU: bytes of data whose mask byte has bit 7 set are
 * to be written; returns the byte mask (bit k: write byte k). */
uint32_t fpu_maskmov(const fpu_xmm *mask, unsigned width);

#endif
