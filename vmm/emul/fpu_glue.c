/* Capstone -> fpu.h glue (see fpu_glue.h).  The SIMD opcode map is keyed
 * by raw bytes (mandatory prefix, 0F / 0F38 / 0F3A, opcode, ModRM.reg for
 * the shift groups) because Capstone 4 renames some encodings (CMPPS ->
 * CMPEQPS...) and drops their imm8; Capstone supplies the operands. */
#include "fpu_glue.h"

#include <string.h>

struct simd_enc {
    uint8_t op, pfx, esc, opc;
    int8_t ext;             /* group: ModRM.reg, operand 0 is the register */
    uint8_t imm, mmx;       /* mmx: 1 also MMX form (no prefix), 2 MMX only */
};

#define E(o, p, e, c, imm, mmx) { S_##o, p, e, c, -1, imm, mmx }
#define GR(o, c, x, mmx) { S_##o, 0x66, 0x0F, c, x, 1, mmx }

static const struct simd_enc simd_map[] = {
    E(ADDPS, 0, 0x0F, 0x58, 0, 0), E(ADDSS, 0xF3, 0x0F, 0x58, 0, 0), E(ADDPD, 0x66, 0x0F, 0x58, 0, 0),
    E(ADDSD, 0xF2, 0x0F, 0x58, 0, 0), E(SUBPS, 0, 0x0F, 0x5C, 0, 0), E(SUBSS, 0xF3, 0x0F, 0x5C, 0, 0),
    E(SUBPD, 0x66, 0x0F, 0x5C, 0, 0), E(SUBSD, 0xF2, 0x0F, 0x5C, 0, 0), E(MULPS, 0, 0x0F, 0x59, 0, 0),
    E(MULSS, 0xF3, 0x0F, 0x59, 0, 0), E(MULPD, 0x66, 0x0F, 0x59, 0, 0), E(MULSD, 0xF2, 0x0F, 0x59, 0, 0),
    E(DIVPS, 0, 0x0F, 0x5E, 0, 0), E(DIVSS, 0xF3, 0x0F, 0x5E, 0, 0), E(DIVPD, 0x66, 0x0F, 0x5E, 0, 0),
    E(DIVSD, 0xF2, 0x0F, 0x5E, 0, 0), E(MINPS, 0, 0x0F, 0x5D, 0, 0), E(MINSS, 0xF3, 0x0F, 0x5D, 0, 0),
    E(MINPD, 0x66, 0x0F, 0x5D, 0, 0), E(MINSD, 0xF2, 0x0F, 0x5D, 0, 0), E(MAXPS, 0, 0x0F, 0x5F, 0, 0),
    E(MAXSS, 0xF3, 0x0F, 0x5F, 0, 0), E(MAXPD, 0x66, 0x0F, 0x5F, 0, 0), E(MAXSD, 0xF2, 0x0F, 0x5F, 0, 0),
    E(SQRTPS, 0, 0x0F, 0x51, 0, 0), E(SQRTSS, 0xF3, 0x0F, 0x51, 0, 0), E(SQRTPD, 0x66, 0x0F, 0x51, 0, 0),
    E(SQRTSD, 0xF2, 0x0F, 0x51, 0, 0), E(RCPPS, 0, 0x0F, 0x53, 0, 0), E(RCPSS, 0xF3, 0x0F, 0x53, 0, 0),
    E(RSQRTPS, 0, 0x0F, 0x52, 0, 0), E(RSQRTSS, 0xF3, 0x0F, 0x52, 0, 0),
    E(CMPPS, 0, 0x0F, 0xC2, 1, 0), E(CMPSS, 0xF3, 0x0F, 0xC2, 1, 0), E(CMPPD, 0x66, 0x0F, 0xC2, 1, 0),
    E(CMPSD, 0xF2, 0x0F, 0xC2, 1, 0),
    E(CVTPS2PD, 0, 0x0F, 0x5A, 0, 0), E(CVTPD2PS, 0x66, 0x0F, 0x5A, 0, 0),
    E(CVTSS2SD, 0xF3, 0x0F, 0x5A, 0, 0), E(CVTSD2SS, 0xF2, 0x0F, 0x5A, 0, 0),
    E(CVTDQ2PS, 0, 0x0F, 0x5B, 0, 0), E(CVTPS2DQ, 0x66, 0x0F, 0x5B, 0, 0),
    E(CVTTPS2DQ, 0xF3, 0x0F, 0x5B, 0, 0), E(CVTDQ2PD, 0xF3, 0x0F, 0xE6, 0, 0),
    E(CVTPD2DQ, 0xF2, 0x0F, 0xE6, 0, 0), E(CVTTPD2DQ, 0x66, 0x0F, 0xE6, 0, 0),
    E(CVTPI2PS, 0, 0x0F, 0x2A, 0, 0), E(CVTPI2PD, 0x66, 0x0F, 0x2A, 0, 0),
    E(CVTPS2PI, 0, 0x0F, 0x2D, 0, 0), E(CVTTPS2PI, 0, 0x0F, 0x2C, 0, 0),
    E(CVTPD2PI, 0x66, 0x0F, 0x2D, 0, 0), E(CVTTPD2PI, 0x66, 0x0F, 0x2C, 0, 0),
    E(ADDSUBPS, 0xF2, 0x0F, 0xD0, 0, 0), E(ADDSUBPD, 0x66, 0x0F, 0xD0, 0, 0),
    E(HADDPS, 0xF2, 0x0F, 0x7C, 0, 0), E(HADDPD, 0x66, 0x0F, 0x7C, 0, 0),
    E(HSUBPS, 0xF2, 0x0F, 0x7D, 0, 0), E(HSUBPD, 0x66, 0x0F, 0x7D, 0, 0),
    E(AND, 0, 0x0F, 0x54, 0, 0), E(AND, 0x66, 0x0F, 0x54, 0, 0), E(ANDN, 0, 0x0F, 0x55, 0, 0),
    E(ANDN, 0x66, 0x0F, 0x55, 0, 0), E(OR, 0, 0x0F, 0x56, 0, 0), E(OR, 0x66, 0x0F, 0x56, 0, 0),
    E(XOR, 0, 0x0F, 0x57, 0, 0), E(XOR, 0x66, 0x0F, 0x57, 0, 0),
    E(AND, 0x66, 0x0F, 0xDB, 0, 1), E(ANDN, 0x66, 0x0F, 0xDF, 0, 1), E(OR, 0x66, 0x0F, 0xEB, 0, 1),
    E(XOR, 0x66, 0x0F, 0xEF, 0, 1),
    E(MOVHLPS, 0, 0x0F, 0x12, 0, 0), E(MOVLHPS, 0, 0x0F, 0x16, 0, 0),
    E(MOVDDUP, 0xF2, 0x0F, 0x12, 0, 0), E(MOVSHDUP, 0xF3, 0x0F, 0x16, 0, 0),
    E(MOVSLDUP, 0xF3, 0x0F, 0x12, 0, 0),
    E(SHUFPS, 0, 0x0F, 0xC6, 1, 0), E(SHUFPD, 0x66, 0x0F, 0xC6, 1, 0), E(UNPCKLPS, 0, 0x0F, 0x14, 0, 0),
    E(UNPCKHPS, 0, 0x0F, 0x15, 0, 0), E(UNPCKLPD, 0x66, 0x0F, 0x14, 0, 0),
    E(UNPCKHPD, 0x66, 0x0F, 0x15, 0, 0),
    E(PADDB, 0x66, 0x0F, 0xFC, 0, 1), E(PADDW, 0x66, 0x0F, 0xFD, 0, 1), E(PADDD, 0x66, 0x0F, 0xFE, 0, 1),
    E(PADDQ, 0x66, 0x0F, 0xD4, 0, 1), E(PADDSB, 0x66, 0x0F, 0xEC, 0, 1), E(PADDSW, 0x66, 0x0F, 0xED, 0, 1),
    E(PADDUSB, 0x66, 0x0F, 0xDC, 0, 1), E(PADDUSW, 0x66, 0x0F, 0xDD, 0, 1),
    E(PSUBB, 0x66, 0x0F, 0xF8, 0, 1), E(PSUBW, 0x66, 0x0F, 0xF9, 0, 1), E(PSUBD, 0x66, 0x0F, 0xFA, 0, 1),
    E(PSUBQ, 0x66, 0x0F, 0xFB, 0, 1), E(PSUBSB, 0x66, 0x0F, 0xE8, 0, 1), E(PSUBSW, 0x66, 0x0F, 0xE9, 0, 1),
    E(PSUBUSB, 0x66, 0x0F, 0xD8, 0, 1), E(PSUBUSW, 0x66, 0x0F, 0xD9, 0, 1),
    E(PMULLW, 0x66, 0x0F, 0xD5, 0, 1), E(PMULHW, 0x66, 0x0F, 0xE5, 0, 1),
    E(PMULHUW, 0x66, 0x0F, 0xE4, 0, 1), E(PMULUDQ, 0x66, 0x0F, 0xF4, 0, 1),
    E(PMADDWD, 0x66, 0x0F, 0xF5, 0, 1), E(PSADBW, 0x66, 0x0F, 0xF6, 0, 1),
    E(PAVGB, 0x66, 0x0F, 0xE0, 0, 1), E(PAVGW, 0x66, 0x0F, 0xE3, 0, 1),
    E(PMINUB, 0x66, 0x0F, 0xDA, 0, 1), E(PMAXUB, 0x66, 0x0F, 0xDE, 0, 1),
    E(PMINSW, 0x66, 0x0F, 0xEA, 0, 1), E(PMAXSW, 0x66, 0x0F, 0xEE, 0, 1),
    E(PCMPEQB, 0x66, 0x0F, 0x74, 0, 1), E(PCMPEQW, 0x66, 0x0F, 0x75, 0, 1),
    E(PCMPEQD, 0x66, 0x0F, 0x76, 0, 1), E(PCMPGTB, 0x66, 0x0F, 0x64, 0, 1),
    E(PCMPGTW, 0x66, 0x0F, 0x65, 0, 1), E(PCMPGTD, 0x66, 0x0F, 0x66, 0, 1),
    E(PACKSSWB, 0x66, 0x0F, 0x63, 0, 1), E(PACKSSDW, 0x66, 0x0F, 0x6B, 0, 1),
    E(PACKUSWB, 0x66, 0x0F, 0x67, 0, 1), E(PUNPCKLBW, 0x66, 0x0F, 0x60, 0, 1),
    E(PUNPCKLWD, 0x66, 0x0F, 0x61, 0, 1), E(PUNPCKLDQ, 0x66, 0x0F, 0x62, 0, 1),
    E(PUNPCKLQDQ, 0x66, 0x0F, 0x6C, 0, 0), E(PUNPCKHBW, 0x66, 0x0F, 0x68, 0, 1),
    E(PUNPCKHWD, 0x66, 0x0F, 0x69, 0, 1), E(PUNPCKHDQ, 0x66, 0x0F, 0x6A, 0, 1),
    E(PUNPCKHQDQ, 0x66, 0x0F, 0x6D, 0, 0),
    E(PSLLW, 0x66, 0x0F, 0xF1, 0, 1), E(PSLLD, 0x66, 0x0F, 0xF2, 0, 1), E(PSLLQ, 0x66, 0x0F, 0xF3, 0, 1),
    E(PSRLW, 0x66, 0x0F, 0xD1, 0, 1), E(PSRLD, 0x66, 0x0F, 0xD2, 0, 1), E(PSRLQ, 0x66, 0x0F, 0xD3, 0, 1),
    E(PSRAW, 0x66, 0x0F, 0xE1, 0, 1), E(PSRAD, 0x66, 0x0F, 0xE2, 0, 1),
    GR(PSLLW_I, 0x71, 6, 1), GR(PSLLD_I, 0x72, 6, 1), GR(PSLLQ_I, 0x73, 6, 1),
    GR(PSRLW_I, 0x71, 2, 1), GR(PSRLD_I, 0x72, 2, 1), GR(PSRLQ_I, 0x73, 2, 1),
    GR(PSRAW_I, 0x71, 4, 1), GR(PSRAD_I, 0x72, 4, 1), GR(PSLLDQ, 0x73, 7, 0), GR(PSRLDQ, 0x73, 3, 0),
    E(PSHUFD, 0x66, 0x0F, 0x70, 1, 0), E(PSHUFHW, 0xF3, 0x0F, 0x70, 1, 0),
    E(PSHUFLW, 0xF2, 0x0F, 0x70, 1, 0), E(PSHUFW, 0, 0x0F, 0x70, 1, 2),
    E(PINSRW, 0x66, 0x0F, 0xC4, 1, 1),
    E(PSHUFB, 0x66, 0x38, 0x00, 0, 1), E(PHADDW, 0x66, 0x38, 0x01, 0, 1),
    E(PHADDD, 0x66, 0x38, 0x02, 0, 1), E(PHADDSW, 0x66, 0x38, 0x03, 0, 1),
    E(PMADDUBSW, 0x66, 0x38, 0x04, 0, 1), E(PHSUBW, 0x66, 0x38, 0x05, 0, 1),
    E(PHSUBD, 0x66, 0x38, 0x06, 0, 1), E(PHSUBSW, 0x66, 0x38, 0x07, 0, 1),
    E(PSIGNB, 0x66, 0x38, 0x08, 0, 1), E(PSIGNW, 0x66, 0x38, 0x09, 0, 1),
    E(PSIGND, 0x66, 0x38, 0x0A, 0, 1), E(PMULHRSW, 0x66, 0x38, 0x0B, 0, 1),
    E(PABSB, 0x66, 0x38, 0x1C, 0, 1), E(PABSW, 0x66, 0x38, 0x1D, 0, 1),
    E(PABSD, 0x66, 0x38, 0x1E, 0, 1), E(PALIGNR, 0x66, 0x3A, 0x0F, 1, 1),
};

static uint8_t loc_of(x86_reg r, uint8_t *num)
{
    if (r >= X86_REG_XMM0 && r <= X86_REG_XMM15) {
        *num = (uint8_t)(r - X86_REG_XMM0);
        return L_XMM;
    }
    if (r >= X86_REG_MM0 && r <= X86_REG_MM7) {
        *num = (uint8_t)(r - X86_REG_MM0);
        return L_MM;
    }
    *num = 0;
    return L_GPR;
}

/* Fills loc/reg/gpr for Capstone operand k. */
static void operand(const cs_x86 *x, unsigned k, uint8_t *loc, uint8_t *reg, uint16_t *gpr,
                    uint8_t *size)
{
    if (k >= x->op_count) {
        *loc = L_NONE;
        return;
    }
    const cs_x86_op *o = &x->operands[k];
    if (o->type == X86_OP_MEM) {
        *loc = L_MEM;
    } else if (o->type == X86_OP_REG) {
        *loc = loc_of(o->reg, reg);
        if (*loc == L_GPR)
            *gpr = (uint16_t)o->reg;
    } else {
        *loc = L_NONE;
    }
    if (size && *loc == L_GPR)
        *size = o->size;
}

static bool decode_mov(const cs_insn *ci, const cs_x86 *x, struct fpu_glue_insn *g)
{
    uint8_t size = 0, zx = 0, al = 0, doff = 0, soff = 0;
    switch (ci->id) {
    case X86_INS_MOVAPS: case X86_INS_MOVAPD: case X86_INS_MOVDQA: case X86_INS_MOVNTPS:
    case X86_INS_MOVNTPD: case X86_INS_MOVNTDQ:
        size = 16; al = 1; break;
    case X86_INS_MOVUPS: case X86_INS_MOVUPD: case X86_INS_MOVDQU: case X86_INS_LDDQU:
        size = 16; break;
    case X86_INS_MOVD: size = 4; zx = 1; break;
    case X86_INS_MOVQ: case X86_INS_MOVQ2DQ: case X86_INS_MOVDQ2Q: case X86_INS_MOVNTQ:
        size = 8; zx = 1; break;
    case X86_INS_MOVSS: size = 4; zx = 1; break;
    case X86_INS_MOVSD: size = 8; zx = 1; break;
    case X86_INS_MOVLPS: case X86_INS_MOVLPD: size = 8; break;
    case X86_INS_MOVHPS: case X86_INS_MOVHPD: size = 8; break;
    default: return false;
    }
    uint8_t dsz = 0, ssz = 0;
    operand(x, 0, &g->dloc, &g->dreg, &g->dgpr, &dsz);
    operand(x, 1, &g->sloc, &g->sreg, &g->sgpr, &ssz);
    if (g->dloc == L_NONE || g->sloc == L_NONE || (g->dloc != L_XMM && g->dloc != L_MM &&
                                                   g->sloc != L_XMM && g->sloc != L_MM))
        return false;                       /* string MOVSD and friends */
    if ((ci->id == X86_INS_MOVSS || ci->id == X86_INS_MOVSD) && g->dloc == L_XMM &&
        g->sloc == L_XMM) {
        g->kind = G_SIMD;
        g->op = ci->id == X86_INS_MOVSS ? S_MOVSS : S_MOVSD;
        g->width = 16;
        return true;
    }
    /* MOVD/MOVQ with a 64-bit GPR (REX.W) move 8 bytes. */
    if (ci->id == X86_INS_MOVD || ci->id == X86_INS_MOVQ) {
        if (g->dloc == L_GPR)
            size = dsz;
        if (g->sloc == L_GPR)
            size = ssz;
    }
    if (ci->id == X86_INS_MOVHPS || ci->id == X86_INS_MOVHPD) {
        if (g->dloc == L_XMM)
            doff = 8;
        else
            soff = 8;
    }
    g->kind = G_MOV;
    g->size = size;
    g->zx = zx && g->sloc != L_XMM ? 1 : (ci->id == X86_INS_MOVQ && g->dloc == L_XMM);
    g->align16 = al;
    g->doff = doff;
    g->soff = soff;
    g->mmx = g->dloc == L_MM || g->sloc == L_MM;
    return true;
}

bool fpu_glue_decode(const cs_insn *ci, bool mode64, struct fpu_glue_insn *g)
{
    memset(g, 0, sizeof(*g));
    if (!ci->detail)
        return false;
    const cs_x86 *x = &ci->detail->x86;
    unsigned i = 0, n = ci->size;
    uint8_t pfx = 0;
    const uint8_t *b = ci->bytes;
    for (; i < n; i++) {
        if (b[i] == 0x66) {
            if (!pfx)
                pfx = 0x66;
        } else if (b[i] == 0xF2 || b[i] == 0xF3) {
            pfx = b[i];
        } else if (b[i] == 0x2E || b[i] == 0x36 || b[i] == 0x3E || b[i] == 0x26 || b[i] == 0x64 ||
                   b[i] == 0x65 || b[i] == 0x67 || b[i] == 0xF0) {
            continue;
        } else if (mode64 && (b[i] & 0xF0) == 0x40) {
            continue;
        } else {
            break;
        }
    }
    if (i + 1 >= n)
        return false;
    if (b[i] >= 0xD8 && b[i] <= 0xDF) {
        g->kind = G_X87;
        g->opc = b[i];
        g->modrm = b[i + 1];
        return true;
    }
    if (b[i] != 0x0F)
        return false;
    uint8_t esc = 0x0F, opc = b[i + 1];
    unsigned mi = i + 2;                        /* ModRM index */
    if (opc == 0x38 || opc == 0x3A) {
        if (i + 2 >= n)
            return false;
        esc = opc;
        opc = b[i + 2];
        mi = i + 3;
    }
    uint8_t modrm = mi < n ? b[mi] : 0;
    g->imm = b[n - 1];

    switch (ci->id) {
    case X86_INS_EMMS: g->kind = G_EMMS; g->mmx = true; return true;
    case X86_INS_LDMXCSR: g->kind = G_LDMXCSR; return true;
    case X86_INS_STMXCSR: g->kind = G_STMXCSR; return true;
    case X86_INS_FXSAVE: case X86_INS_FXSAVE64:
        g->kind = G_FXSAVE; g->dbl = ci->id == X86_INS_FXSAVE64; g->align16 = true; return true;
    case X86_INS_FXRSTOR: case X86_INS_FXRSTOR64:
        g->kind = G_FXRSTOR; g->dbl = ci->id == X86_INS_FXRSTOR64; g->align16 = true; return true;
    case X86_INS_CVTSS2SI: case X86_INS_CVTTSS2SI: case X86_INS_CVTSD2SI: case X86_INS_CVTTSD2SI:
        g->kind = G_CVT2SI;
        g->op = ci->id == X86_INS_CVTSS2SI ? C_CVTSS2SI : ci->id == X86_INS_CVTTSS2SI ? C_CVTTSS2SI
              : ci->id == X86_INS_CVTSD2SI ? C_CVTSD2SI : C_CVTTSD2SI;
        operand(x, 0, &g->dloc, &g->dreg, &g->dgpr, &g->size);
        operand(x, 1, &g->sloc, &g->sreg, &g->sgpr, NULL);
        return g->dloc == L_GPR;
    case X86_INS_CVTSI2SS: case X86_INS_CVTSI2SD: {
        g->kind = G_CVTSI2S;
        g->dbl = ci->id == X86_INS_CVTSI2SD;
        operand(x, 0, &g->dloc, &g->dreg, &g->dgpr, NULL);
        operand(x, 1, &g->sloc, &g->sreg, &g->sgpr, &g->size);
        if (g->sloc == L_MEM)
            g->size = x->operands[1].size;
        return g->dloc == L_XMM;
    }
    case X86_INS_COMISS: case X86_INS_UCOMISS: case X86_INS_COMISD: case X86_INS_UCOMISD:
        g->kind = G_COMIS;
        g->dbl = ci->id == X86_INS_COMISD || ci->id == X86_INS_UCOMISD;
        g->quiet = ci->id == X86_INS_UCOMISS || ci->id == X86_INS_UCOMISD;
        operand(x, 0, &g->dloc, &g->dreg, &g->dgpr, NULL);
        operand(x, 1, &g->sloc, &g->sreg, &g->sgpr, NULL);
        return true;
    case X86_INS_MOVMSKPS: case X86_INS_MOVMSKPD: case X86_INS_PMOVMSKB:
        g->kind = G_MOVMSK;
        g->op = ci->id == X86_INS_MOVMSKPS ? 0 : ci->id == X86_INS_MOVMSKPD ? 1 : 2;
        operand(x, 0, &g->dloc, &g->dreg, &g->dgpr, NULL);
        operand(x, 1, &g->sloc, &g->sreg, &g->sgpr, NULL);
        g->width = g->sloc == L_MM ? 8 : 16;
        g->mmx = g->sloc == L_MM;
        return true;
    case X86_INS_PEXTRW:
        g->kind = G_PEXTRW;
        operand(x, 0, &g->dloc, &g->dreg, &g->dgpr, NULL);
        operand(x, 1, &g->sloc, &g->sreg, &g->sgpr, NULL);
        g->width = g->sloc == L_MM ? 8 : 16;
        g->mmx = g->sloc == L_MM;
        return g->dloc == L_GPR;    /* the SSE4.1 memory form is not ours */
    default:
        break;
    }
    /* MOVLPS/MOVHPS with two registers are MOVHLPS/MOVLHPS: table. */
    bool regsrc = (modrm >> 6) == 3;
    if (!((ci->id == X86_INS_MOVHLPS || ci->id == X86_INS_MOVLHPS) && regsrc) &&
        !(esc == 0x0F && (opc == 0x12 || opc == 0x16) && pfx == 0 && regsrc) &&
        decode_mov(ci, x, g))
        return true;
    for (size_t k = 0; k < sizeof(simd_map) / sizeof(simd_map[0]); k++) {
        const struct simd_enc *e = &simd_map[k];
        if (e->esc != esc || e->opc != opc)
            continue;
        if (e->ext >= 0 && (!regsrc || ((modrm >> 3) & 7) != e->ext))
            continue;
        unsigned width;
        if (e->mmx == 2 && pfx == 0)
            width = 8;
        else if (e->mmx == 1 && pfx == 0 && e->pfx == 0x66)
            width = 8;
        else if (e->pfx == pfx && e->mmx != 2)
            width = 16;
        else
            continue;
        g->kind = G_SIMD;
        g->op = e->op;
        g->width = (uint8_t)width;
        if (!e->imm)
            g->imm = 0;
        operand(x, 0, &g->dloc, &g->dreg, &g->dgpr, NULL);
        if (e->ext >= 0) {
            g->sloc = L_NONE;
        } else {
            operand(x, 1, &g->sloc, &g->sreg, &g->sgpr, NULL);
        }
        g->mmx = g->dloc == L_MM || g->sloc == L_MM;
        return g->dloc == L_XMM || g->dloc == L_MM;
    }
    return false;
}

/* ------------------------------------------------------------ execute */

static fpu_xmm reg_get(struct emu_fpu *f, uint8_t loc, uint8_t r)
{
    fpu_xmm v = { .q = { 0, 0 } };
    if (loc == L_XMM)
        v = f->xmm[r & 15];
    else if (loc == L_MM)
        v.q[0] = fpu_mmx_get(f, r);
    return v;
}

static void reg_set(struct emu_fpu *f, uint8_t loc, uint8_t r, const fpu_xmm *v)
{
    if (loc == L_XMM)
        f->xmm[r & 15] = *v;
    else if (loc == L_MM)
        fpu_mmx_set(f, r, v->q[0]);
}

static int rd(const struct fpu_glue_env *env, const struct fpu_glue_insn *g, void *buf,
              unsigned len)
{
    if (g->align16 && (env->mem_addr(env->opaque) & 15))
        return FPU_GP;
    return env->mem_read(env->opaque, buf, len) ? FPU_OK : FPU_GLUE_FAULT;
}

static int wr(const struct fpu_glue_env *env, const struct fpu_glue_insn *g, const void *buf,
              unsigned len)
{
    if (g->align16 && (env->mem_addr(env->opaque) & 15))
        return FPU_GP;
    return env->mem_write(env->opaque, buf, len) ? FPU_OK : FPU_GLUE_FAULT;
}

static int exec_x87(struct emu_fpu *f, const struct fpu_glue_insn *g, const struct fpu_glue_env *env)
{
    struct fpu_x87_info in = fpu_x87_classify(g->opc, g->modrm, env->layout);
    struct fpu_x87_args a = { .opc = g->opc, .modrm = g->modrm, .layout = env->layout,
                              .ignne = env->ignne, .eflags = env->eflags ? *env->eflags : 0,
                              .cs = env->cs, .ds = env->ds, .ip = env->ip, .dp = env->dp };
    if (!in.valid)
        return FPU_UD;
    if (in.dir == FPU_MEM_READ && !env->mem_read(env->opaque, a.mem, in.size))
        return FPU_GLUE_FAULT;
    struct emu_fpu t = *f;                  /* committed after the store worked */
    int rc = fpu_x87_exec(&t, &a);
    if (rc != FPU_OK)
        return rc;
    if (a.store && !env->mem_write(env->opaque, a.mem, in.size))
        return FPU_GLUE_FAULT;
    if (in.writes_ax)
        env->gpr_set(env->opaque, X86_REG_AX, a.ax);
    if (in.writes_eflags && env->eflags)
        *env->eflags = a.eflags;
    *f = t;
    return FPU_OK;
}

static int exec_mov(struct emu_fpu *f, const struct fpu_glue_insn *g, const struct fpu_glue_env *env)
{
    fpu_xmm v = { .q = { 0, 0 } };
    int rc;
    if (g->sloc == L_MEM) {
        if ((rc = rd(env, g, v.b, g->size)) != FPU_OK)
            return rc;
    } else if (g->sloc == L_GPR) {
        v.q[0] = env->gpr_get(env->opaque, g->sgpr);
        if (g->size == 4)
            v.q[0] &= 0xFFFFFFFF;
    } else {
        fpu_xmm s = reg_get(f, g->sloc, g->sreg);
        memcpy(v.b, s.b + g->soff, g->size);
    }
    if (g->dloc == L_MEM)
        return wr(env, g, v.b, g->size);
    if (g->dloc == L_GPR) {
        env->gpr_set(env->opaque, g->dgpr, g->size == 8 ? v.q[0] : (uint32_t)v.q[0]);
        return FPU_OK;
    }
    fpu_xmm d = g->zx || g->dloc == L_MM ? (fpu_xmm){ .q = { 0, 0 } } : reg_get(f, g->dloc, g->dreg);
    memcpy(d.b + g->doff, v.b, g->size);
    reg_set(f, g->dloc, g->dreg, &d);
    return FPU_OK;
}

int fpu_glue_exec(struct emu_fpu *f, const struct fpu_glue_insn *g, const struct fpu_glue_env *env)
{
    int rc = FPU_OK;
    if (g->kind == G_X87)
        return exec_x87(f, g, env);
    /* MMX instructions check pending x87 exceptions like FWAIT. */
    if (g->mmx && fpu_pending(f) && !env->ignne)
        return FPU_MF;
    switch (g->kind) {
    case G_EMMS:
        fpu_emms(f);
        return FPU_OK;
    case G_LDMXCSR: {
        uint32_t v;
        if (!env->mem_read(env->opaque, &v, 4))
            return FPU_GLUE_FAULT;
        return fpu_ldmxcsr(f, v);
    }
    case G_STMXCSR:
        return env->mem_write(env->opaque, &f->mxcsr, 4) ? FPU_OK : FPU_GLUE_FAULT;
    case G_FXSAVE: {
        uint8_t img[512];
        if ((rc = rd(env, g, img, 512)) != FPU_OK)   /* keeps bytes 464..511 */
            return rc;
        fpu_fxsave(f, img, g->dbl, env->no_xmm ? 0 : env->legacy ? 8 : 16);
        return wr(env, g, img, 512);
    }
    case G_FXRSTOR: {
        uint8_t img[512];
        if ((rc = rd(env, g, img, 512)) != FPU_OK)
            return rc;
        return fpu_fxrstor(f, img, g->dbl, env->no_xmm ? 0 : env->legacy ? 8 : 16);
    }
    case G_MOV:
        return exec_mov(f, g, env);
    case G_MOVMSK: {
        fpu_xmm s = reg_get(f, g->sloc, g->sreg);
        uint32_t m = g->op == 0 ? fpu_movmskps(&s) : g->op == 1 ? fpu_movmskpd(&s)
                                                                : fpu_pmovmskb(&s, g->width);
        env->gpr_set(env->opaque, g->dgpr, m);
        return FPU_OK;
    }
    case G_PEXTRW: {
        fpu_xmm s = reg_get(f, g->sloc, g->sreg);
        env->gpr_set(env->opaque, g->dgpr, fpu_pextrw(&s, g->imm, g->width));
        return FPU_OK;
    }
    default:
        break;
    }
    /* Operations with a source operand. */
    fpu_xmm src = { .q = { 0, 0 } };
    unsigned ssz = g->size;
    if (g->kind == G_SIMD)
        ssz = fpu_simd_srcsize((enum fpu_simd_op)g->op, g->width);
    else if (g->kind == G_COMIS)
        ssz = g->dbl ? 8 : 4;
    else if (g->kind == G_CVT2SI)
        ssz = g->op >= C_CVTSD2SI ? 8 : 4;
    if (g->sloc == L_MEM) {
        /* Packed 16-byte memory operands of legacy SSE must be aligned. */
        struct fpu_glue_insn ga = *g;
        ga.align16 = ssz == 16 && g->width == 16;
        if ((rc = rd(env, &ga, src.b, ssz)) != FPU_OK)
            return rc;
    } else if (g->sloc == L_GPR) {
        src.q[0] = env->gpr_get(env->opaque, g->sgpr);
    } else if (g->sloc != L_NONE) {
        src = reg_get(f, g->sloc, g->sreg);
    }
    switch (g->kind) {
    case G_SIMD: {
        if (g->sloc == L_NONE)          /* shift groups: the register is the only operand */
            src = reg_get(f, g->dloc, g->dreg);
        fpu_xmm d = reg_get(f, g->dloc, g->dreg);
        struct emu_fpu t = *f;
        rc = fpu_simd(&t, (enum fpu_simd_op)g->op, &d, &src, g->imm, g->width);
        if (rc == FPU_XM) {
            f->mxcsr = t.mxcsr;         /* flags stay set, destination does not change */
            return rc;
        }
        if (rc != FPU_OK)
            return rc;
        *f = t;
        reg_set(f, g->dloc, g->dreg, &d);
        return FPU_OK;
    }
    case G_CVT2SI: {
        uint64_t out;
        rc = fpu_cvt2si(f, (enum fpu_cvt_op)g->op, &src, g->size == 8 ? 8 : 4, &out);
        if (rc == FPU_OK)
            env->gpr_set(env->opaque, g->dgpr, out);
        return rc;
    }
    case G_CVTSI2S:
        return fpu_cvtsi2s(f, g->dbl, &f->xmm[g->dreg & 15], src.q[0], g->size == 8 ? 8 : 4);
    case G_COMIS: {
        uint32_t fl = env->eflags ? *env->eflags : 0;
        fpu_xmm a = f->xmm[g->dreg & 15];
        rc = fpu_comis(f, g->dbl, g->quiet, &a, &src, &fl);
        if (rc == FPU_OK && env->eflags)
            *env->eflags = fl;
        return rc;
    }
    default:
        return FPU_UD;
    }
}
