#include "x86.h"

#include <capstone/capstone.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void x86_reset_state(struct x86_state *s)
{
    memset(s, 0, sizeof(*s));
    s->rip = 0xFFF0;
    s->rflags = 0x2;
    s->gpr[X86_RDX] = 0x600;     /* processor signature, as real CPUs leave it */
    s->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
    for (int i = 0; i < X86_NSREG; i++) {
        struct x86_seg *g = &s->seg[i];
        g->limit = 0xFFFF;
        g->present = true;
        g->s = true;
        g->type = 0x3;          /* data, read/write, accessed */
    }
    s->seg[X86_CS].selector = 0xF000;
    s->seg[X86_CS].base = 0xFFFF0000ull;
    s->seg[X86_CS].type = 0xB;  /* code, execute/read, accessed */
    s->ldt = (struct x86_seg){ .limit = 0xFFFF, .type = 0x2, .present = true };
    s->tr = (struct x86_seg){ .limit = 0xFFFF, .type = 0xB, .present = true };
    s->gdt.limit = 0xFFFF;
    s->idt.limit = 0xFFFF;
}

int x86_code_bits(const struct x86_state *s)
{
    if (!(s->cr0 & X86_CR0_PE))
        return 16;
    if ((s->efer & (1ull << 10)) && s->seg[X86_CS].l)
        return 64;
    return s->seg[X86_CS].db ? 32 : 16;
}

static const char *const gpr_names[X86_NGPR] = {
    "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
    "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};
static const char *const seg_names[X86_NSREG] = { "ES", "CS", "SS", "DS", "FS", "GS" };

static size_t append(char *buf, size_t len, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t len, size_t pos, const char *fmt, ...)
{
    if (pos >= len)
        return pos;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + pos, len - pos, fmt, ap);
    va_end(ap);
    return n < 0 ? pos : pos + (size_t)n;
}

static size_t format_seg(char *buf, size_t len, size_t pos, const char *name,
                         const struct x86_seg *g)
{
    return append(buf, len, pos, "%-3s=%04x %016llx %08x type=%x dpl=%u%s%s%s%s\n", name,
                  g->selector, (unsigned long long)g->base, g->limit, g->type, g->dpl,
                  g->present ? " P" : "", g->db ? " DB" : "", g->l ? " L" : "",
                  g->g ? " G" : "");
}

size_t x86_format_state(const struct x86_state *s, char *buf, size_t len)
{
    size_t pos = 0;
    for (int i = 0; i < X86_NGPR; i++)
        pos = append(buf, len, pos, "%-3s=%016llx%s", gpr_names[i],
                     (unsigned long long)s->gpr[i], (i % 4 == 3) ? "\n" : " ");
    pos = append(buf, len, pos, "RIP=%016llx RFL=%08llx CPL=%u mode=%d-bit\n",
                 (unsigned long long)s->rip, (unsigned long long)s->rflags,
                 s->seg[X86_CS].dpl, x86_code_bits(s));
    for (int i = 0; i < X86_NSREG; i++)
        pos = format_seg(buf, len, pos, seg_names[i], &s->seg[i]);
    pos = format_seg(buf, len, pos, "LDT", &s->ldt);
    pos = format_seg(buf, len, pos, "TR", &s->tr);
    pos = append(buf, len, pos, "GDT=%016llx %04x  IDT=%016llx %04x\n",
                 (unsigned long long)s->gdt.base, s->gdt.limit,
                 (unsigned long long)s->idt.base, s->idt.limit);
    pos = append(buf, len, pos, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx EFER=%llx\n",
                 (unsigned long long)s->cr0, (unsigned long long)s->cr2,
                 (unsigned long long)s->cr3, (unsigned long long)s->cr4,
                 (unsigned long long)s->efer);
    return pos;
}

size_t x86_disasm_one(const struct x86_state *s, const uint8_t *bytes, size_t len, uint64_t addr,
                      char *out, size_t outlen)
{
    int bits = x86_code_bits(s);
    cs_mode mode = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
    csh h;
    if (outlen == 0 || cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK)
        return 0;
    cs_insn *insn = NULL;
    size_t n = cs_disasm(h, bytes, len, addr, 1, &insn);
    size_t pos = 0;
    if (n == 1) {
        int w = snprintf(out, outlen, "%s %s", insn->mnemonic, insn->op_str);
        pos = w < 0 ? 0 : ((size_t)w >= outlen ? outlen - 1 : (size_t)w);
    }
    if (insn)
        cs_free(insn, n);
    cs_close(&h);
    return pos;
}
