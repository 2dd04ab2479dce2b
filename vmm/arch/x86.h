/* Architectural x86 state shared by every execution backend (KVM and the
 * emulator), the monitor's `info registers` and the reset logic. */
#ifndef MINUS1_X86_H
#define MINUS1_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_gpr {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
    X86_NGPR
};

enum x86_sreg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_NSREG };

struct x86_seg {
    uint64_t base;
    uint32_t limit;         /* byte granular (already scaled by G) */
    uint16_t selector;
    uint8_t type;           /* descriptor type nibble */
    bool present, s, db, l, g, avl, unusable;
    uint8_t dpl;
};

struct x86_dtable {
    uint64_t base;
    uint16_t limit;
};

struct x86_state {
    uint64_t gpr[X86_NGPR];
    uint64_t rip, rflags;
    struct x86_seg seg[X86_NSREG];
    struct x86_seg tr, ldt;
    struct x86_dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)
#define X86_RFLAGS_IF (1ull << 9)

/* The architectural power-on / INIT state (Intel SDM vol. 3, 9.1.1):
 * CS = F000 with base FFFF0000, IP = FFF0, CR0 = 60000010. */
void x86_reset_state(struct x86_state *s);

/* Writes a multi-line register dump (like `info registers`). */
size_t x86_format_state(const struct x86_state *s, char *buf, size_t len);

/* Disassembles up to `len` bytes of one instruction with Capstone in the
 * mode the state implies (16/32/64-bit).  Returns the text length, 0 if
 * Capstone could not decode it. */
size_t x86_disasm_one(const struct x86_state *s, const uint8_t *bytes, size_t len, uint64_t addr,
                      char *out, size_t outlen);

/* Code size of the current CS in bits: 16, 32 or 64. */
int x86_code_bits(const struct x86_state *s);

#endif
