/* Capstone -> struct emu_insn.  Every Capstone quirk is handled here (the
 * list is in emul.h); handlers only see our own decoded form. */
#include <capstone/capstone.h>
#include <stdlib.h>

#include "ops.h"

/* What a Capstone register is to us. */
struct regmap {
    uint8_t kind;           /* enum emu_opkind; OPK_NONE: not ours */
    uint8_t num, size;
};

struct emu_decoder {
    csh h[3];               /* 16-, 32-, 64-bit */
    cs_insn *insn[3];
    struct regmap reg[X86_REG_ENDING];
};

static void regmap_init(struct emu_decoder *d)
{
    static const x86_reg r8[16] = {
        X86_REG_AL, X86_REG_CL, X86_REG_DL, X86_REG_BL, X86_REG_SPL, X86_REG_BPL, X86_REG_SIL,
        X86_REG_DIL, X86_REG_R8B, X86_REG_R9B, X86_REG_R10B, X86_REG_R11B, X86_REG_R12B,
        X86_REG_R13B, X86_REG_R14B, X86_REG_R15B };
    static const x86_reg r16[16] = {
        X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX, X86_REG_SP, X86_REG_BP, X86_REG_SI,
        X86_REG_DI, X86_REG_R8W, X86_REG_R9W, X86_REG_R10W, X86_REG_R11W, X86_REG_R12W,
        X86_REG_R13W, X86_REG_R14W, X86_REG_R15W };
    static const x86_reg r32[16] = {
        X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX, X86_REG_ESP, X86_REG_EBP,
        X86_REG_ESI, X86_REG_EDI, X86_REG_R8D, X86_REG_R9D, X86_REG_R10D, X86_REG_R11D,
        X86_REG_R12D, X86_REG_R13D, X86_REG_R14D, X86_REG_R15D };
    static const x86_reg r64[16] = {
        X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX, X86_REG_RSP, X86_REG_RBP,
        X86_REG_RSI, X86_REG_RDI, X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
        X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15 };
    static const x86_reg rh[4] = { X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH };
    static const x86_reg sr[6] = { X86_REG_ES, X86_REG_CS, X86_REG_SS, X86_REG_DS,
                                   X86_REG_FS, X86_REG_GS };
    for (uint8_t k = 0; k < 16; k++) {
        d->reg[r8[k]] = (struct regmap){ OPK_REG, k, 1 };
        d->reg[r16[k]] = (struct regmap){ OPK_REG, k, 2 };
        d->reg[r32[k]] = (struct regmap){ OPK_REG, k, 4 };
        d->reg[r64[k]] = (struct regmap){ OPK_REG, k, 8 };
    }
    for (uint8_t k = 0; k < 4; k++)
        d->reg[rh[k]] = (struct regmap){ OPK_REG, (uint8_t)(EMU_AH + k), 1 };
    for (uint8_t k = 0; k < 6; k++)
        d->reg[sr[k]] = (struct regmap){ OPK_SREG, k, 2 };
    for (unsigned r = X86_REG_CR0; r <= X86_REG_CR15; r++)
        d->reg[r] = (struct regmap){ OPK_CR, (uint8_t)(r - X86_REG_CR0), 8 };
    for (unsigned r = X86_REG_DR0; r <= X86_REG_DR15; r++)
        d->reg[r] = (struct regmap){ OPK_DR, (uint8_t)(r - X86_REG_DR0), 8 };
}

struct emu_decoder *emu_decoder_new(void)
{
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    struct emu_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    for (int k = 0; k < 3; k++) {
        if (cs_open(CS_ARCH_X86, modes[k], &d->h[k]) != CS_ERR_OK) {
            d->h[k] = 0;
            emu_decoder_free(d);
            return NULL;
        }
        cs_option(d->h[k], CS_OPT_DETAIL, CS_OPT_ON);
        /* One preallocated cs_insn per handle: decoding never allocates. */
        d->insn[k] = cs_malloc(d->h[k]);
        if (!d->insn[k]) {
            emu_decoder_free(d);
            return NULL;
        }
    }
    regmap_init(d);
    return d;
}

void emu_decoder_free(struct emu_decoder *d)
{
    if (!d)
        return;
    for (int k = 0; k < 3; k++) {
        if (d->insn[k])
            cs_free(d->insn[k], 1);
        if (d->h[k])
            cs_close(&d->h[k]);
    }
    free(d);
}

/* Capstone register -> (kind, number, size).  False for registers we do
 * not model as operands (x87 stack, MMX/XMM: the FPU glue has those). */
static bool map_reg(const struct emu_decoder *d, x86_reg r, struct emu_operand *o)
{
    if (r <= X86_REG_INVALID || r >= X86_REG_ENDING || d->reg[r].kind == OPK_NONE)
        return false;
    o->kind = d->reg[r].kind;
    o->reg = d->reg[r].num;
    o->size = d->reg[r].size;
    return true;
}

static uint8_t gpr_of(const struct emu_decoder *d, x86_reg r)
{
    if (r == X86_REG_RIP || r == X86_REG_EIP)
        return EMU_RIPREL;
    struct emu_operand o;
    if (r == X86_REG_INVALID || r == X86_REG_EIZ || r == X86_REG_RIZ || !map_reg(d, r, &o) ||
        o.kind != OPK_REG || o.reg >= EMU_AH)
        return EMU_NOREG;
    return o.reg;
}

static int seg_of_prefix(uint8_t p)
{
    switch (p) {
    case 0x26: return ES_;
    case 0x2E: return CS_;
    case 0x36: return SS_;
    case 0x3E: return DS_;
    case 0x64: return FS_;
    case 0x65: return GS_;
    default: return -1;
    }
}

static bool convert_op(const struct emu_decoder *d, const cs_x86_op *src, struct emu_operand *o,
                       int seg_override)
{
    *o = (struct emu_operand){ .base = EMU_NOREG, .index = EMU_NOREG, .size = src->size };
    switch (src->type) {
    case X86_OP_REG:
        return map_reg(d, src->reg, o);
    case X86_OP_IMM:
        /* Sign-extended by Capstone (quirk 4): masked to the right size
         * by emu_decode / the handler selection. */
        o->kind = OPK_IMM;
        o->disp = src->imm;
        return true;
    case X86_OP_MEM: {
        o->kind = OPK_MEM;
        o->base = gpr_of(d, src->mem.base);
        o->index = gpr_of(d, src->mem.index);
        if ((src->mem.base != X86_REG_INVALID && o->base == EMU_NOREG) ||
            (src->mem.index != X86_REG_INVALID && src->mem.index != X86_REG_EIZ &&
             src->mem.index != X86_REG_RIZ && (o->index == EMU_NOREG || o->index == EMU_RIPREL)))
            return false;
        o->scale = src->mem.scale == 8 ? 3 : src->mem.scale == 4 ? 2 : src->mem.scale == 2 ? 1 : 0;
        o->disp = src->mem.disp;
        if (seg_override >= 0)
            o->seg = (uint8_t)seg_override;
        else
            o->seg = (o->base == ESP_ || o->base == EBP_) ? SS_ : DS_;
        return true;
    }
    default:
        return false;
    }
}

static uint64_t raw_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

/* Instructions whose operand size defaults to 64 bits in 64-bit mode
 * (near branches, stack operations): 32 becomes 64, 0x66 keeps 16. */
static void def64(struct emu_insn *i, unsigned mode)
{
    if (mode == 2 && i->opsz == 4)
        i->opsz = 8;
}

/* The handler of an operand size 1, 2, 4 or 8 (`other` for anything else). */
static emu_handler sized(unsigned size, emu_handler h1, emu_handler h2, emu_handler h4,
                         emu_handler h8, emu_handler other)
{
    return size == 1 ? h1 : size == 2 ? h2 : size == 4 ? h4 : size == 8 ? h8 : other;
}

/* Handler for a Capstone id; sub/flags filled in.  NULL: not ours. */
static emu_handler select_handler(unsigned id, struct emu_insn *i, const uint8_t *b, unsigned mode)
{
    unsigned cc = i->op0 & 0xF;
    unsigned strsz = (i->op0 & 1) ? i->opsz : 1;
    bool m64 = mode == 2;
    switch (id) {
    case X86_INS_ADD: i->sub = ALU_ADD; goto alu;
    case X86_INS_OR:  i->sub = ALU_OR; goto alu;
    case X86_INS_ADC: i->sub = ALU_ADC; goto alu;
    case X86_INS_SBB: i->sub = ALU_SBB; goto alu;
    case X86_INS_AND: i->sub = ALU_AND; goto alu;
    case X86_INS_SUB: i->sub = ALU_SUB; goto alu;
    case X86_INS_XOR: i->sub = ALU_XOR; goto alu;
    case X86_INS_CMP: i->sub = ALU_CMP;
    alu:
        if (i->nops != 2)
            return NULL;
        if (i->op[0].kind == OPK_REG && i->op[0].size == 4) {
            if (i->op[1].kind == OPK_REG && i->op[1].size == 4)
                return emu_alu_form(h_alu_rr32, i->sub);
            if (i->op[1].kind == OPK_IMM)
                return emu_alu_form(h_alu_ri32, i->sub);
        }
        if (i->op[0].kind == OPK_REG && i->op[0].size == 8) {
            if (i->op[1].kind == OPK_REG && i->op[1].size == 8)
                return emu_alu_form(h_alu_rr64, i->sub);
            if (i->op[1].kind == OPK_IMM)
                return emu_alu_form(h_alu_ri64, i->sub);
        }
        if (i->op[0].kind == OPK_REG && i->op[1].kind == OPK_MEM &&
            i->op[0].size == i->op[1].size && (i->op[0].size == 4 || i->op[0].size == 8))
            return emu_alu_form(i->op[0].size == 4 ? h_alu_rm32 : h_alu_rm64, i->sub);
        return h_alu;
    case X86_INS_TEST: return h_test;
    case X86_INS_INC: case X86_INS_DEC:
        i->sub = id == X86_INS_DEC;
        if (i->nops == 1 && i->op[0].kind == OPK_REG && i->op[0].size >= 4)
            return h_incdec_r;
        return h_incdec;
    case X86_INS_NEG: return h_neg;
    case X86_INS_NOT: return h_not;
    case X86_INS_ROL: i->sub = SH_ROL; return h_shift;
    case X86_INS_ROR: i->sub = SH_ROR; return h_shift;
    case X86_INS_RCL: i->sub = SH_RCL; return h_shift;
    case X86_INS_RCR: i->sub = SH_RCR; return h_shift;
    case X86_INS_SHL: case X86_INS_SAL: case X86_INS_SHR: case X86_INS_SAR:
        i->sub = id == X86_INS_SHR ? SH_SHR : id == X86_INS_SAR ? SH_SAR : SH_SHL;
        if (i->nops == 2 && i->op[0].kind == OPK_REG && i->op[0].size >= 4 &&
            i->op[1].kind == OPK_IMM)
            return h_shift_ri;
        return h_shift;
    case X86_INS_SHLD: i->sub = 0; return i->nops == 3 ? h_shxd : NULL;
    case X86_INS_SHRD: i->sub = 1; return i->nops == 3 ? h_shxd : NULL;
    case X86_INS_MUL: i->sub = 0; return h_mul1;
    case X86_INS_IMUL: i->sub = 1; return i->nops == 1 ? h_mul1 : h_imul;
    case X86_INS_DIV: i->sub = 0; return h_div;
    case X86_INS_IDIV: i->sub = 1; return h_div;
    case X86_INS_MOV:
        if (i->nops != 2)
            return NULL;
        if (i->op[0].kind == OPK_SREG) {
            i->ends = i->op[0].reg == SS_;
            return h_mov_to_sreg;
        }
        if (i->op[1].kind == OPK_SREG)
            return h_mov_from_sreg;
        if (i->op[0].kind == OPK_CR) { i->sub = 0; i->ends = 1; return h_mov_cr; }
        if (i->op[0].kind == OPK_REG && i->op[1].kind == OPK_REG && i->op[0].size == 8)
            return h_mov_rr64;
        if (i->op[1].kind == OPK_CR) { i->sub = 1; return h_mov_cr; }
        if (i->op[0].kind == OPK_DR) { i->sub = 0; return h_mov_dr; }
        if (i->op[1].kind == OPK_DR) { i->sub = 1; return h_mov_dr; }
        if (i->op[0].kind == OPK_REG && i->op[1].kind == OPK_REG && i->op[0].size == 4)
            return h_mov_rr32;
        if (i->op[0].kind == OPK_REG && i->op[1].kind == OPK_MEM &&
            i->op[0].size == i->op[1].size)
            return sized(i->op[0].size, h_mov_load1, h_mov_load2, h_mov_load4, h_mov_load8,
                         h_mov_load);
        if (i->op[0].kind == OPK_MEM && (i->op[1].kind == OPK_REG || i->op[1].kind == OPK_IMM) &&
            (i->op[1].kind == OPK_IMM || i->op[0].size == i->op[1].size))
            return sized(i->op[0].size, h_mov_store1, h_mov_store2, h_mov_store4, h_mov_store8,
                         h_mov_store);
        return h_mov;
    case X86_INS_MOVABS: return i->nops == 2 ? h_mov : NULL;
    case X86_INS_MOVNTI: return i->nops == 2 && i->op[0].kind == OPK_MEM ? h_mov_store : NULL;
    case X86_INS_MOVZX: case X86_INS_MOVSX: case X86_INS_MOVSXD:
        i->sub = id != X86_INS_MOVZX;
        if (i->nops == 2 && i->op[0].kind == OPK_REG && i->op[1].kind == OPK_MEM) {
            unsigned ss = i->op[1].size;
            if (!i->sub && (ss == 1 || ss == 2))
                return ss == 1 ? h_movzx_load1 : h_movzx_load2;
            if (i->sub && (ss == 1 || ss == 2 || ss == 4))
                return ss == 1 ? h_movsx_load1 : ss == 2 ? h_movsx_load2 : h_movsx_load4;
        }
        return h_movx;
    case X86_INS_LEA: return i->op[1].kind == OPK_MEM ? h_lea : NULL;
    case X86_INS_XCHG: return h_xchg;
    case X86_INS_XADD: return h_xadd;
    case X86_INS_CMPXCHG: return h_cmpxchg;
    case X86_INS_CMPXCHG8B: i->sub = 0; return h_cmpxchg8b;
    case X86_INS_CMPXCHG16B: i->sub = 1; return h_cmpxchg8b;
    case X86_INS_BSWAP: return h_bswap;
    case X86_INS_CBW: case X86_INS_CWDE: case X86_INS_CDQE: return h_cbw;
    case X86_INS_CWD: case X86_INS_CDQ: case X86_INS_CQO: return h_cwd;
    case X86_INS_XLATB: return h_xlat;
    case X86_INS_LDS: i->sub = DS_; return h_lxs;
    case X86_INS_LES: i->sub = ES_; return h_lxs;
    case X86_INS_LFS: i->sub = FS_; return h_lxs;
    case X86_INS_LGS: i->sub = GS_; return h_lxs;
    case X86_INS_LSS: i->sub = SS_; i->ends = 1; return h_lxs;
    case X86_INS_PUSH:
        def64(i, mode);
        /* Quirk 5: the operand size is ours, immediates pushed at opsz. */
        if (i->op[0].kind == OPK_IMM)
            i->op[0].disp = (int64_t)((uint64_t)i->op[0].disp & size_mask(i->opsz));
        if (i->op[0].kind == OPK_REG && i->op[0].size == i->opsz && i->opsz >= 4 &&
            i->op[0].reg != ESP_)
            return h_push_r;
        return h_push;
    case X86_INS_POP:
        def64(i, mode);
        if (i->op[0].kind == OPK_SREG)
            i->ends = i->op[0].reg == SS_;
        if (i->op[0].kind == OPK_REG && i->op[0].size == i->opsz && i->opsz >= 4)
            return h_pop_r;
        return h_pop;
    case X86_INS_PUSHAW: case X86_INS_PUSHAL: return h_pusha;
    case X86_INS_POPAW: case X86_INS_POPAL: return h_popa;
    case X86_INS_PUSHF: case X86_INS_PUSHFD: case X86_INS_PUSHFQ: def64(i, mode); return h_pushf;
    case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ:
        def64(i, mode);
        i->ends = 1;
        return h_popf;
    case X86_INS_ENTER:
        def64(i, mode);
        i->imm = raw_le(b + i->len - 3, 2);
        i->imm2 = b[i->len - 1];
        return h_enter;
    case X86_INS_LEAVE: def64(i, mode); return h_leave;
    case X86_INS_JMP:
        i->ends = 1;
        if (m64)
            i->opsz = 8;        /* 0x66 is ignored (Intel) */
        if (i->op0 == 0xE9 || i->op0 == 0xEB) {
            i->imm = (uint64_t)i->op[0].disp;
            return h_jmp;
        }
        return h_jmp_ind;
    case X86_INS_JO: case X86_INS_JNO: case X86_INS_JB: case X86_INS_JAE:
    case X86_INS_JE: case X86_INS_JNE: case X86_INS_JBE: case X86_INS_JA:
    case X86_INS_JS: case X86_INS_JNS: case X86_INS_JP: case X86_INS_JNP:
    case X86_INS_JL: case X86_INS_JGE: case X86_INS_JLE: case X86_INS_JG:
        i->ends = 1;
        if (m64)
            i->opsz = 8;
        i->sub = (uint8_t)cc;
        i->imm = (uint64_t)i->op[0].disp;
        return h_jcc;
    case X86_INS_CALL:
        i->ends = 1;
        if (m64)
            i->opsz = 8;
        if (i->op0 == 0xE8) {
            i->imm = (uint64_t)i->op[0].disp;
            return h_call;
        }
        return h_call_ind;
    case X86_INS_RET:
        i->ends = 1;
        if (m64)
            i->opsz = 8;
        i->imm = i->op0 == 0xC2 ? raw_le(b + i->len - 2, 2) : 0;
        return h_ret;
    case X86_INS_RETF: case X86_INS_RETFQ:
        i->ends = 1;
        i->imm = i->op0 == 0xCA ? raw_le(b + i->len - 2, 2) : 0;
        return h_retf;
    case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
        i->ends = 1;
        return h_iret;
    case X86_INS_LJMP: case X86_INS_LCALL:
        i->ends = 1;
        i->sub = id == X86_INS_LCALL;
        if (i->op0 == 0xEA || i->op0 == 0x9A) {
            /* Quirk 3: ptr16:16/32 from the raw bytes. */
            i->imm2 = (uint32_t)raw_le(b + i->len - 2, 2);
            i->imm = raw_le(b + i->len - 2 - i->opsz, i->opsz);
            return h_ljmp_ptr;
        }
        return h_ljmp_mem;
    case X86_INS_LOOP: i->sub = 0; goto loop;
    case X86_INS_LOOPE: i->sub = 1; goto loop;
    case X86_INS_LOOPNE: i->sub = 2; goto loop;
    case X86_INS_JCXZ: case X86_INS_JECXZ: case X86_INS_JRCXZ: i->sub = 3;
    loop:
        i->ends = 1;
        if (m64)
            i->opsz = 8;
        i->imm = (uint64_t)i->op[0].disp;
        return h_loop;
    case X86_INS_INT: i->ends = 1; i->imm = b[i->len - 1]; return h_int;
    case X86_INS_INT3: i->ends = 1; return h_int3;
    case X86_INS_INTO: i->ends = 1; return h_into;
    case X86_INS_BOUND: return h_bound;
    case X86_INS_SETO: case X86_INS_SETNO: case X86_INS_SETB: case X86_INS_SETAE:
    case X86_INS_SETE: case X86_INS_SETNE: case X86_INS_SETBE: case X86_INS_SETA:
    case X86_INS_SETS: case X86_INS_SETNS: case X86_INS_SETP: case X86_INS_SETNP:
    case X86_INS_SETL: case X86_INS_SETGE: case X86_INS_SETLE: case X86_INS_SETG:
        i->sub = (uint8_t)cc;
        i->op[0].size = 1;
        return h_setcc;
    case X86_INS_CMOVO: case X86_INS_CMOVNO: case X86_INS_CMOVB: case X86_INS_CMOVAE:
    case X86_INS_CMOVE: case X86_INS_CMOVNE: case X86_INS_CMOVBE: case X86_INS_CMOVA:
    case X86_INS_CMOVS: case X86_INS_CMOVNS: case X86_INS_CMOVP: case X86_INS_CMOVNP:
    case X86_INS_CMOVL: case X86_INS_CMOVGE: case X86_INS_CMOVLE: case X86_INS_CMOVG:
        i->sub = (uint8_t)cc;
        return h_cmovcc;
    case X86_INS_BT: i->sub = 0; return h_bt;
    case X86_INS_BTS: i->sub = 1; return h_bt;
    case X86_INS_BTR: i->sub = 2; return h_bt;
    case X86_INS_BTC: i->sub = 3; return h_bt;
    /* Without BMI1/ABM advertised, F3 0F BC/BD run as BSF/BSR (what
     * Linux's "rep; bsf" relies on). */
    case X86_INS_BSF: case X86_INS_TZCNT: i->sub = 0; return h_bsf;
    case X86_INS_BSR: case X86_INS_LZCNT: i->sub = 1; return h_bsf;
    case X86_INS_CLC: i->sub = 0; return h_flagop;
    case X86_INS_STC: i->sub = 1; return h_flagop;
    case X86_INS_CMC: i->sub = 2; return h_flagop;
    case X86_INS_CLD: i->sub = 3; return h_flagop;
    case X86_INS_STD: i->sub = 4; return h_flagop;
    case X86_INS_CLI: i->ends = 1; return h_cli;
    case X86_INS_STI: i->ends = 1; return h_sti;
    case X86_INS_LAHF: return h_lahf;
    case X86_INS_SAHF: return h_sahf;
    case X86_INS_DAA: i->sub = 0; return h_daa;
    case X86_INS_DAS: i->sub = 1; return h_daa;
    case X86_INS_AAA: i->sub = 0; return h_aaa;
    case X86_INS_AAS: i->sub = 1; return h_aaa;
    case X86_INS_AAM: i->imm = i->len >= 2 ? b[i->len - 1] : 10; return h_aam;
    case X86_INS_AAD: i->imm = i->len >= 2 ? b[i->len - 1] : 10; return h_aad;
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
        if (i->op0 != 0xA4 && i->op0 != 0xA5)
            return NULL;    /* SSE MOVSD shares the id */
        i->sub = (uint8_t)strsz;
        return h_movs;
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
        i->sub = (uint8_t)strsz;
        return h_stos;
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
        i->sub = (uint8_t)strsz;
        return h_lods;
    case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD: case X86_INS_CMPSQ:
        if (i->op0 != 0xA6 && i->op0 != 0xA7)
            return NULL;
        i->sub = (uint8_t)strsz;
        return h_cmps;
    case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
        i->sub = (uint8_t)strsz;
        return h_scas;
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
        i->sub = (uint8_t)strsz;
        i->ends = 1;
        return h_ins;
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        i->sub = (uint8_t)strsz;
        i->ends = 1;
        return h_outs;
    case X86_INS_IN: case X86_INS_OUT:
        /* Quirk 6: size and port form from the opcode. */
        i->sub = (uint8_t)strsz;
        i->ends = 1;
        if (i->op0 == 0xE4 || i->op0 == 0xE5 || i->op0 == 0xE6 || i->op0 == 0xE7) {
            i->imm = b[i->len - 1];
            i->imm2 = 1;
        }
        return id == X86_INS_IN ? h_in : h_out;
    case X86_INS_WBINVD: case X86_INS_INVD:
        return h_wbinvd;
    case X86_INS_NOP: case X86_INS_PAUSE:
    case X86_INS_PREFETCH: case X86_INS_PREFETCHT0: case X86_INS_PREFETCHT1:
    case X86_INS_PREFETCHT2: case X86_INS_PREFETCHNTA: case X86_INS_PREFETCHW:
    case X86_INS_ENDBR32: case X86_INS_LFENCE: case X86_INS_MFENCE: case X86_INS_SFENCE:
    case X86_INS_ENDBR64: case X86_INS_CLFLUSH:
        return h_nop;
    case X86_INS_SYSCALL: i->ends = 1; return h_syscall;
    case X86_INS_SYSRET: i->ends = 1; return h_sysret;
    case X86_INS_SYSENTER: i->ends = 1; return h_sysenter;
    case X86_INS_SYSEXIT: i->ends = 1; return h_sysexit;
    case X86_INS_SWAPGS: return h_swapgs;
    case X86_INS_RDTSCP: return h_rdtscp;
    case X86_INS_HLT: i->ends = 1; return h_hlt;
    case X86_INS_LGDT: i->sub = 0; i->ends = 1; def64(i, mode); return h_lgdt;
    case X86_INS_LIDT: i->sub = 1; i->ends = 1; def64(i, mode); return h_lgdt;
    case X86_INS_SGDT: i->sub = 0; def64(i, mode); return h_sgdt;
    case X86_INS_SIDT: i->sub = 1; def64(i, mode); return h_sgdt;
    case X86_INS_LLDT: i->ends = 1; return h_lldt;
    case X86_INS_LTR: i->ends = 1; return h_ltr;
    case X86_INS_SLDT: i->sub = 0; return h_sldt;
    case X86_INS_STR: i->sub = 1; return h_sldt;
    case X86_INS_SMSW: return h_smsw;
    case X86_INS_LMSW: i->ends = 1; return h_lmsw;
    case X86_INS_CLTS: return h_clts;
    case X86_INS_INVLPG: i->ends = 1; return h_invlpg;
    case X86_INS_CPUID: return h_cpuid;
    case X86_INS_RDTSC: return h_rdtsc;
    case X86_INS_RDMSR: return h_rdmsr;
    case X86_INS_WRMSR: i->ends = 1; return h_wrmsr;
    case X86_INS_LAR: i->sub = 0; return h_larlsl;
    case X86_INS_LSL: i->sub = 1; return h_larlsl;
    case X86_INS_VERR: i->sub = 0; return h_verrw;
    case X86_INS_VERW: i->sub = 1; return h_verrw;
    case X86_INS_ARPL: return h_arpl;
    case X86_INS_WAIT: return h_fwait;
    case X86_INS_UD2: return h_ud;
    case X86_INS_XGETBV: return h_xgetbv;
    case X86_INS_XSETBV: i->ends = 1; return h_xsetbv;
    case X86_INS_XSAVE: i->sub = XSAVE_OP_SAVE; return h_xsave;
    case X86_INS_XSAVE64: i->sub = XSAVE_OP_SAVE | XSAVE_REXW; return h_xsave;
    case X86_INS_XSAVEOPT: i->sub = XSAVE_OP_SAVEOPT; return h_xsave;
    case X86_INS_XSAVEOPT64: i->sub = XSAVE_OP_SAVEOPT | XSAVE_REXW; return h_xsave;
    case X86_INS_XRSTOR: i->sub = XSAVE_OP_RSTOR; return h_xsave;
    case X86_INS_XRSTOR64: i->sub = XSAVE_OP_RSTOR | XSAVE_REXW; return h_xsave;
    /* not advertised (CPUID.(0xD,1):EAX[1,3] clear): what such a CPU does */
    case X86_INS_XSAVEC: case X86_INS_XSAVEC64: case X86_INS_XSAVES: case X86_INS_XSAVES64:
    case X86_INS_XRSTORS: case X86_INS_XRSTORS64:
        return h_ud;
    default:
        return NULL;
    }
}

/* x87/MMX/SSE: the FPU glue decodes it; we only keep the memory operand
 * (in op[0]) so the handler can compute its address. */
static bool decode_fpu(const struct emu_decoder *d, const cs_insn *ci, unsigned mode,
                       struct emu_insn *i, int ovr)
{
    if (!fpu_glue_decode(ci, mode == 2, &i->fg))
        return false;
    struct emu_operand r;
    if (i->fg.dloc == L_GPR) {
        if (!map_reg(d, i->fg.dgpr, &r) || r.kind != OPK_REG)
            return false;
        i->fg.dgpr = EMU_FPU_GPR(r.reg, r.size);
    }
    if (i->fg.sloc == L_GPR) {
        if (!map_reg(d, i->fg.sgpr, &r) || r.kind != OPK_REG)
            return false;
        i->fg.sgpr = EMU_FPU_GPR(r.reg, r.size);
    }
    const cs_x86 *x = &ci->detail->x86;
    i->nops = 0;
    for (unsigned k = 0; k < x->op_count; k++) {
        if (x->operands[k].type != X86_OP_MEM)
            continue;
        if (!convert_op(d, &x->operands[k], &i->op[0], ovr))
            return false;
        i->nops = 1;
        break;
    }
    i->fn = h_fpu;
    return true;
}

unsigned emu_decode(struct emu_decoder *d, const uint8_t *bytes, unsigned len, uint64_t eip,
                    unsigned mode, struct emu_insn *out)
{
    if (mode > 2)
        mode = 2;
    csh h = d->h[mode];
    cs_insn *ci = d->insn[mode];
    const uint8_t *p = bytes;
    size_t sz = len;
    uint64_t addr = mode == 2 ? eip : (uint32_t)eip;
    if (!cs_disasm_iter(h, &p, &sz, &addr, ci))
        return 0;
    const cs_x86 *x = &ci->detail->x86;
    struct emu_insn *i = out;
    *i = (struct emu_insn){ .len = (uint8_t)ci->size, .id = (uint16_t)ci->id };
    if (mode == 2) {
        i->opsz = (x->rex & 8) ? 8 : x->prefix[2] == 0x66 ? 2 : 4;
        i->adsz = x->prefix[3] == 0x67 ? 4 : 8;
    } else {
        i->opsz = mode ? 4 : 2;
        if (x->prefix[2] == 0x66)
            i->opsz ^= 6;
        i->adsz = mode ? 4 : 2;
        if (x->prefix[3] == 0x67)
            i->adsz ^= 6;
    }
    i->rep = x->prefix[0] == 0xF3 ? EMU_REP : x->prefix[0] == 0xF2 ? EMU_REPNE : 0;
    int ovr = seg_of_prefix(x->prefix[1]);
    i->seg = ovr >= 0 ? (uint8_t)ovr : DS_;
    i->op0 = x->opcode[0] == 0x0F ? x->opcode[1] : x->opcode[0];
    if (decode_fpu(d, ci, mode, i, ovr)) {
        /* The FPU state is not part of the block's assumptions, but a
         * #NM/#MF/#XM unwinds like any fault: nothing special to do. */
        return i->len;
    }
    unsigned n = x->op_count > 3 ? 3 : x->op_count;
    bool ok = true;
    for (unsigned k = 0; k < n; k++)
        ok = ok && convert_op(d, &x->operands[k], &i->op[k], ovr);
    i->nops = (uint8_t)n;
    /* Quirk 1: relative branch targets -> displacement from the next insn. */
    bool rel = (i->op0 >= 0x70 && i->op0 <= 0x7F && x->opcode[0] != 0x0F) ||
               (x->opcode[0] == 0x0F && i->op0 >= 0x80 && i->op0 <= 0x8F) ||
               (x->opcode[0] >= 0xE0 && x->opcode[0] <= 0xE3) || x->opcode[0] == 0xE8 ||
               x->opcode[0] == 0xE9 || x->opcode[0] == 0xEB;
    if (rel && n == 1 && i->op[0].kind == OPK_IMM)
        i->op[0].disp = (int32_t)(uint32_t)((uint64_t)x->operands[0].imm - (addr));
    /* Quirk 4: immediates to the destination's size. */
    if (!rel && n >= 2 && i->op[n - 1].kind == OPK_IMM && i->op[0].kind != OPK_IMM)
        i->op[n - 1].disp = (int64_t)((uint64_t)x->operands[n - 1].imm &
                                      size_mask(i->op[0].size ? i->op[0].size : 4));
    emu_handler fn = ok ? select_handler(ci->id, i, bytes, mode) : NULL;
    if (!fn)
        fn = h_unimpl;
    /* Quirk 7: LOCK only on read-modify-write memory forms. */
    if (x->prefix[0] == 0xF0) {
        bool lockable = i->nops >= 1 && i->op[0].kind == OPK_MEM &&
                        (fn == h_alu || fn == h_incdec || fn == h_neg || fn == h_not ||
                         fn == h_xchg || fn == h_xadd || fn == h_cmpxchg || fn == h_cmpxchg8b ||
                         fn == h_bt) && !(fn == h_alu && i->sub == ALU_CMP) &&
                        !(fn == h_bt && i->sub == 0);
        if (!lockable)
            fn = h_ud;
    }
    fn = emu_special_form(fn, i, mode);
    i->fn = fn;
    if (fn == h_unimpl || fn == h_ud)
        i->ends = 1;
    return i->len;
}

unsigned emu_fuse_tail(struct emu_insn *in, unsigned n)
{
    if (n < 2 || in[n - 1].fn != h_jcc)
        return n;
    struct emu_insn *p = &in[n - 2];
    emu_handler f = p->fn;
    emu_handler fused = f == h_alu_rr32 ? h_alu_rr32_jcc
                      : f == h_alu_ri32 ? h_alu_ri32_jcc
                      : f == h_alu_rr64 ? h_alu_rr64_jcc
                      : f == h_alu_ri64 ? h_alu_ri64_jcc
                      : f == h_alu_rm32 ? h_alu_rm32_jcc     /* memory only read */
                      : f == h_alu_rm64 ? h_alu_rm64_jcc
                      : f == h_alu && p->sub == ALU_CMP ? h_cmp_jcc  /* CMP never writes */
                      : f == h_test ? h_test_jcc
                      : f == h_incdec_r ? h_incdec_r_jcc
                      : emu_alu_fused(f);     /* the per-op ALU forms */
    if (!fused || p->ends)
        return n;
    p->fn = fused;
    return n - 1;
}

void emu_thread_block(struct emu_insn *in, unsigned nexec)
{
    if (nexec == 0)
        return;
    in[nexec - 1].run = 0;
    /* backwards, so each threaded slot's chain end is known: the chain
     * from slot k runs on to the first non-threaded slot after it */
    for (unsigned k = nexec - 1; k-- > 0;) {
        emu_handler t = in[k].ends ? NULL : emu_threaded_form(in[k].fn);
        if (t)
            in[k].fn = t;
        in[k].run = t ? (uint8_t)(in[k + 1].run + 1) : 0;
    }
}

bool emu_insn_ends_block(const struct emu_insn *i)
{
    return i->ends;
}
