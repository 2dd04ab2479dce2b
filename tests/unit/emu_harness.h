/* Shared by the emulator unit tests (test_emul_sys.c, test_xsave.c,
 * test_cpuid.c, test_emul_task.c): guest RAM and an emu_cpu on it with no
 * devices behind the ports or MMIO, a flat reset state, and raw RAM
 * writes.  Header-only: every test file is linked into one runner, so
 * everything here is static, and static inline where a file may not use it. */
#ifndef TEST_EMU_HARNESS_H
#define TEST_EMU_HARNESS_H

#include <CUnit/CUnit.h>
#include <string.h>

#include "../../vmm/emul/emul_int.h"

/* mem_init wants a BIOS image; the tests never run it, so zeroes will do. */
static uint8_t emu_h_bios[64 * 1024];

struct emu_h {
    struct guest_mem mem;
    struct emu_cpu cpu;
};

/* No devices: reads see a floating bus (all ones), writes vanish. */
static inline void emu_h_pio(void *o, uint16_t p, unsigned s, bool w, uint32_t *v)
{
    (void)o; (void)p; (void)s;
    if (!w)
        *v = 0xFF;
}
static inline void emu_h_mmio(void *o, uint64_t a, unsigned s, bool w, uint64_t *v)
{
    (void)o; (void)a; (void)s;
    if (!w)
        *v = ~0ull;
}

/* RAM of ram_size bytes and an emulator on it, not yet reset to a chosen
 * state.  env NULL: no devices (emu_h_pio/emu_h_mmio). */
static inline void emu_h_open(struct emu_h *h, uint64_t ram_size, const struct emu_env *env)
{
    CU_ASSERT_FATAL(mem_init(&h->mem, ram_size, emu_h_bios, sizeof(emu_h_bios)) == 0);
    const struct emu_env none = { .pio = emu_h_pio, .mmio = emu_h_mmio };
    CU_ASSERT_FATAL(emu_init(&h->cpu, &h->mem, env ? env : &none) == 0);
}

/* The reset state with every segment based at 0: real mode (selectors 0)
 * or, with pm32, flat 4 GiB 32-bit protected mode at CPL0 (CS 0x08 code,
 * the others 0x10 data).  Code at 0x1000, stack at 0x8000. */
static inline void emu_h_state(struct x86_state *s, bool pm32)
{
    x86_reset_state(s);
    for (int k = 0; k < X86_NSREG; k++)
        s->seg[k].base = 0, s->seg[k].selector = 0;
    if (pm32) {
        s->cr0 |= 1;
        for (int k = 0; k < X86_NSREG; k++)
            s->seg[k] = (struct x86_seg){ .limit = 0xFFFFFFFF, .selector = 0x10, .type = 3,
                                          .present = true, .s = true, .db = true, .g = true };
        s->seg[X86_CS].type = 0xB;
        s->seg[X86_CS].selector = 0x08;
    }
    s->rip = 0x1000;
    s->gpr[X86_RSP] = 0x8000;
}

/* emu_h_open (4 MiB, no devices) then emu_h_state. */
static inline void emu_h_setup(struct emu_h *h, bool pm32)
{
    emu_h_open(h, 4 * MiB, NULL);
    struct x86_state s;
    emu_h_state(&s, pm32);
    emu_reset(&h->cpu, &s);
}

static inline void emu_h_done(struct emu_h *h)
{
    emu_fini(&h->cpu);
    mem_destroy(&h->mem);
}

/* Raw RAM writes: the decode cache is not told (see emu_ram_written). */
static inline void emu_h_put(struct emu_h *h, uint32_t at, const void *b, size_t n)
{
    memcpy(h->mem.ram + at, b, n);
}
static inline void emu_h_put32(struct emu_h *h, uint32_t at, uint32_t v)
{
    emu_h_put(h, at, &v, 4);
}
static inline void emu_h_put64(struct emu_h *h, uint32_t at, uint64_t v)
{
    emu_h_put(h, at, &v, 8);
}

#endif
