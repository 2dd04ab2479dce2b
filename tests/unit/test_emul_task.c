/* Virtual-8086 mode and hardware task switches in the emulator, checked
 * on the architectural state and guest memory (SDM vol. 3, ch. 7 and 20):
 * IRETD into v86 mode, the ring-0 frame of an interrupt from v86 mode,
 * IOPL-sensitive #GP, the I/O bitmap at IOPL 3, CALL/IRET between 32-bit
 * TSSs (busy bits, link, NT, CR0.TS), a 16-bit TSS, the busy-task #GP,
 * and an exception with error code through an IDT task gate. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "emu_harness.h"

struct fx { struct emu_h h; unsigned pio_hits; uint16_t last_port; };

/* Counts port accesses; reads return 0xA5. */
static void pio(void *o, uint16_t p, unsigned s, bool w, uint32_t *v)
{
    struct fx *f = o;
    (void)s;
    f->pio_hits++;
    f->last_port = p;
    if (!w)
        *v = 0xA5;
}

#define GDT 0x10000u
#define IDT 0x11000u
#define TSS0 0x12000u       /* the running task */
#define TSS1 0x12100u       /* another 32-bit task */
#define TSS16 0x12200u      /* a 16-bit task */
#define KSTACK 0x9000u      /* ring-0 stack (TSS0.ESP0) */

/* SEL_CODE/SEL_DATA are the selectors emu_h_state() loads. */
enum { SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_TSS0 = 0x18, SEL_TSS1 = 0x20, SEL_TSS16 = 0x28,
       SEL_TGATE = 0x30, SEL_UCODE = 0x38 };

/* Writes guest RAM behind the CPU's back, as DMA would: the decode cache
 * must drop what it holds there (code is rewritten between runs). */
static void put(struct fx *f, uint32_t at, const void *b, size_t n)
{
    memcpy(f->h.mem.ram + at, b, n);
    emu_ram_written(&f->h.cpu, at, n);
}
static uint32_t rd32(struct fx *f, uint32_t at)
{
    uint32_t v;
    memcpy(&v, f->h.mem.ram + at, 4);
    return v;
}
static uint16_t rd16(struct fx *f, uint32_t at)
{
    uint16_t v;
    memcpy(&v, f->h.mem.ram + at, 2);
    return v;
}
static void wr32(struct fx *f, uint32_t at, uint32_t v) { emu_h_put32(&f->h, at, v); }
static void wr16(struct fx *f, uint32_t at, uint16_t v) { emu_h_put(&f->h, at, &v, 2); }

static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xFFFF) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xF) << 48) | ((uint64_t)(flags & 0xF) << 52) |
           ((uint64_t)(base >> 24) << 56);
}

static void set_desc(struct fx *f, unsigned sel, uint64_t d) { put(f, GDT + sel, &d, 8); }

/* 32-bit interrupt gate to SEL_CODE:off, DPL dpl (type 0xE) or a task gate. */
static void set_gate(struct fx *f, unsigned vec, uint32_t off, unsigned dpl)
{
    uint64_t g = (off & 0xFFFF) | ((uint64_t)SEL_CODE << 16) |
                 ((uint64_t)(0x8E | (dpl << 5)) << 40) | ((uint64_t)(off >> 16) << 48);
    put(f, IDT + vec * 8, &g, 8);
}

/* Flat 32-bit PM at CPL0, GDT/IDT in RAM, TR = SEL_TSS0 (busy). */
static void setup(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    const struct emu_env env = { .opaque = f, .pio = pio, .mmio = emu_h_mmio };
    emu_h_open(&f->h, 4 * MiB, &env);
    set_desc(f, SEL_CODE, desc(0, 0xFFFFF, 0x9B, 0xC));
    set_desc(f, SEL_DATA, desc(0, 0xFFFFF, 0x93, 0xC));
    set_desc(f, SEL_TSS0, desc(TSS0, 0x67 + 0x2001, 0x8B, 0));    /* I/O bitmap below */
    set_desc(f, SEL_TSS1, desc(TSS1, 0x67, 0x89, 0));
    set_desc(f, SEL_TSS16, desc(TSS16, 0x2B, 0x81, 0));
    set_desc(f, SEL_TGATE, (uint64_t)SEL_TSS1 << 16 | (uint64_t)0x85 << 40);
    set_desc(f, SEL_UCODE, desc(0, 0xFFFFF, 0xFB, 0xC));
    wr32(f, TSS0 + 4, KSTACK);
    wr32(f, TSS0 + 8, SEL_DATA);
    wr16(f, TSS0 + 0x66, 0x68);
    memset(f->h.mem.ram + TSS0 + 0x68, 0xFF, 0x2000);               /* every port denied */
    struct x86_state s;
    emu_h_state(&s, true);
    s.tr = (struct x86_seg){ .base = TSS0, .limit = 0x67 + 0x2001, .selector = SEL_TSS0,
                             .type = 0xB, .present = true };
    s.gdt = (struct x86_dtable){ GDT, 0x3F };
    s.idt = (struct x86_dtable){ IDT, 0x7FF };
    emu_reset(&f->h.cpu, &s);
}

/* Pushes an IRETD-to-v86 frame at ESP 0x8000 - 36 and runs "iretd" at
 * 0x1000 (CPL0): v86 CS:IP = 0x0200:0x0000 (linear 0x2000). */
static void enter_v86(struct fx *f, uint32_t eflags)
{
    uint32_t frame[9] = { 0x0000, 0x0200, eflags | F_VM | 2, 0x0700, 0x0300,
                          0x0400, 0x0500, 0x0600, 0x0650 };     /* ...ESP SS ES DS FS GS */
    put(f, 0x8000 - 36, frame, sizeof(frame));
    f->h.cpu.r[ESP_] = 0x8000 - 36;
    static const uint8_t iretd = 0xCF;
    put(f, 0x1000, &iretd, 1);
    f->h.cpu.eip = 0x1000;
}

static void test_v86_entry_and_interrupt(void)
{
    struct fx f;
    setup(&f);
    /* v86: mov [0x10], ds (through DS base 0x5000); push 0x1234; int 0x30 */
    static const uint8_t v86[] = { 0x8C, 0x1E, 0x10, 0x00, 0x68, 0x34, 0x12, 0xCD, 0x30 };
    put(&f, 0x2000, v86, sizeof(v86));
    static const uint8_t hlt = 0xF4;
    put(&f, 0x3000, &hlt, 1);
    set_gate(&f, 0x30, 0x3000, 3);
    enter_v86(&f, F_IOPL | F_IF);
    CU_ASSERT_EQUAL(emu_run(&f.h.cpu, 10), EMU_HLT);
    struct emu_cpu *c = &f.h.cpu;
    CU_ASSERT_EQUAL(c->st.v86_entries, 1);
    CU_ASSERT_EQUAL(rd16(&f, 0x5010), 0x0500);              /* DS base = 0x500 << 4 */
    CU_ASSERT_EQUAL(rd16(&f, 0x3000 + 0x700 - 2), 0x1234);   /* v86 stack: SS 0x300 */
    /* ring-0 frame: EIP CS EFLAGS ESP SS ES DS FS GS from TSS.ESP0 down */
    uint32_t sp = KSTACK - 36;
    CU_ASSERT_EQUAL(c->r[ESP_], sp);
    CU_ASSERT_EQUAL(c->seg[SS_].sel, SEL_DATA);
    CU_ASSERT_EQUAL(rd32(&f, sp), sizeof(v86));              /* after INT 0x30 */
    CU_ASSERT_EQUAL(rd32(&f, sp + 4), 0x0200);
    CU_ASSERT(rd32(&f, sp + 8) & F_VM);
    CU_ASSERT_EQUAL(rd32(&f, sp + 8) & F_IOPL, F_IOPL);
    CU_ASSERT_EQUAL(rd32(&f, sp + 12), 0x0700 - 2);
    CU_ASSERT_EQUAL(rd32(&f, sp + 16), 0x0300);
    CU_ASSERT_EQUAL(rd32(&f, sp + 20), 0x0400);
    CU_ASSERT_EQUAL(rd32(&f, sp + 24), 0x0500);
    CU_ASSERT_EQUAL(rd32(&f, sp + 28), 0x0600);
    CU_ASSERT_EQUAL(rd32(&f, sp + 32), 0x0650);
    CU_ASSERT_EQUAL(c->cpl, 0);
    CU_ASSERT_FALSE(c->eflags & (F_VM | F_IF));              /* interrupt gate clears IF */
    CU_ASSERT_FALSE(c->seg[DS_].valid || c->seg[ES_].valid || c->seg[FS_].valid ||
                    c->seg[GS_].valid);
    CU_ASSERT_EQUAL(c->seg[DS_].sel, 0);
    /* IRETD from the handler goes back to v86 mode at the next byte. */
    static const uint8_t iretd = 0xCF;
    put(&f, 0x3001, &iretd, 1);
    c->halted = false;
    static const uint8_t v86_hlt = 0xF4;                     /* HLT at CPL3: #GP */
    put(&f, 0x2000 + sizeof(v86), &v86_hlt, 1);
    set_gate(&f, 13, 0x3000, 0);
    CU_ASSERT_EQUAL(emu_run(&f.h.cpu, 10), EMU_HLT);
    CU_ASSERT_EQUAL(c->st.v86_entries, 2);
    sp = KSTACK - 40;                                        /* + error code */
    CU_ASSERT_EQUAL(rd32(&f, sp), 0);
    CU_ASSERT_EQUAL(rd32(&f, sp + 4), sizeof(v86));          /* the faulting HLT */
    CU_ASSERT_EQUAL(rd32(&f, sp + 8), 0x0200);
    emu_h_done(&f.h);
}

static void test_v86_iopl_and_io(void)
{
    struct fx f;
    setup(&f);
    set_gate(&f, 13, 0x3000, 0);
    static const uint8_t hlt = 0xF4;
    put(&f, 0x3000, &hlt, 1);
    struct emu_cpu *c = &f.h.cpu;
    /* IOPL 0: CLI, PUSHF, POPF, INT n, IRET fault with #GP(0) at the insn */
    static const uint8_t insns[][2] = { { 0xFA }, { 0x9C }, { 0x9D }, { 0xCD, 0x30 }, { 0xCF } };
    for (unsigned k = 0; k < 5; k++) {
        put(&f, 0x2000, insns[k], 2);
        enter_v86(&f, 0);
        c->halted = false;
        CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
        CU_ASSERT_EQUAL(rd32(&f, KSTACK - 40), 0);           /* error code */
        CU_ASSERT_EQUAL(rd32(&f, KSTACK - 36), 0);           /* IP of the insn */
        CU_ASSERT_EQUAL(c->eip, 0x3001);
    }
    /* IOPL 3, port 0x60 allowed by the bitmap, 0x61 denied: IN AL,0x60; IN AL,0x61 */
    f.h.mem.ram[TSS0 + 0x68 + 0x60 / 8] = (uint8_t)~1u;
    static const uint8_t io[] = { 0xE4, 0x60, 0xE4, 0x61 };
    put(&f, 0x2000, io, sizeof(io));
    enter_v86(&f, F_IOPL);
    c->halted = false;
    f.pio_hits = 0;
    CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
    CU_ASSERT_EQUAL(f.pio_hits, 1);
    CU_ASSERT_EQUAL(f.last_port, 0x60);
    CU_ASSERT_EQUAL(rd32(&f, KSTACK - 36), 2);               /* #GP at the second IN */
    CU_ASSERT_EQUAL(c->r[EAX_] & 0xFF, 0xA5);
    /* an interrupt gate whose code segment is not ring 0: #GP(selector) */
    uint64_t g = 0x4000 | ((uint64_t)SEL_UCODE << 16) | ((uint64_t)0xEE << 40);
    put(&f, IDT + 0x31 * 8, &g, 8);
    static const uint8_t int31[] = { 0xCD, 0x31 };
    put(&f, 0x2000, int31, 2);
    enter_v86(&f, F_IOPL);
    c->halted = false;
    CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
    CU_ASSERT_EQUAL(rd32(&f, KSTACK - 40), SEL_UCODE);
    emu_h_done(&f.h);
}

/* Fills a 32-bit TSS: flat ring-0 task at eip with esp. */
static void init_tss32(struct fx *f, uint32_t base, uint32_t eip, uint32_t esp)
{
    memset(f->h.mem.ram + base, 0, 0x68);
    wr32(f, base + 0x20, eip);
    wr32(f, base + 0x24, 2);
    wr32(f, base + 0x38, esp);
    wr32(f, base + 0x28, 0xAAAA0001);                       /* EAX */
    static const unsigned segs[] = { 0x48, 0x50, 0x54, 0x58, 0x5C };
    for (unsigned k = 0; k < 5; k++)
        wr32(f, base + segs[k], SEL_DATA);
    wr32(f, base + 0x4C, SEL_CODE);
}

static uint8_t type_of(struct fx *f, unsigned sel) { return f->h.mem.ram[GDT + sel + 5]; }

static void test_task_call_iret(void)
{
    struct fx f;
    setup(&f);
    struct emu_cpu *c = &f.h.cpu;
    /* main: call SEL_TSS1:0; hlt      task 1: iretd; (resumes) hlt */
    static const uint8_t main_code[] = { 0x9A, 0, 0, 0, 0, SEL_TSS1, 0, 0xF4 };
    static const uint8_t task_code[] = { 0xCF, 0xF4 };
    put(&f, 0x1000, main_code, sizeof(main_code));
    put(&f, 0x4000, task_code, sizeof(task_code));
    init_tss32(&f, TSS1, 0x4000, 0x7000);
    c->r[EBX_] = 0x12345678;
    c->r[EAX_] = 0x55;
    /* one instruction: the CALL */
    CU_ASSERT_EQUAL(emu_run(c, 1), EMU_BUDGET);
    CU_ASSERT_EQUAL(c->tr.sel, SEL_TSS1);
    CU_ASSERT_EQUAL(c->eip, 0x4000);
    CU_ASSERT_EQUAL(c->r[EAX_], 0xAAAA0001);
    CU_ASSERT(c->eflags & F_NT);
    CU_ASSERT(c->cr0 & 8);                                   /* CR0.TS */
    CU_ASSERT_EQUAL(rd16(&f, TSS1), SEL_TSS0);               /* link */
    CU_ASSERT_EQUAL(type_of(&f, SEL_TSS0), 0x8B);            /* both busy */
    CU_ASSERT_EQUAL(type_of(&f, SEL_TSS1), 0x8B);
    CU_ASSERT_EQUAL(rd32(&f, TSS0 + 0x20), 0x1007);          /* saved EIP: after the CALL */
    CU_ASSERT_EQUAL(rd32(&f, TSS0 + 0x34), 0x12345678);      /* saved EBX */
    CU_ASSERT_EQUAL(c->st.task_switches, 1);
    /* the task's IRETD returns */
    CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
    CU_ASSERT_EQUAL(c->tr.sel, SEL_TSS0);
    CU_ASSERT_EQUAL(c->eip, 0x1008);
    CU_ASSERT_EQUAL(c->r[EBX_], 0x12345678);
    CU_ASSERT_EQUAL(c->r[EAX_], 0x55);
    CU_ASSERT_FALSE(c->eflags & F_NT);
    CU_ASSERT_EQUAL(type_of(&f, SEL_TSS1), 0x89);            /* IRET frees the old task */
    CU_ASSERT_EQUAL(type_of(&f, SEL_TSS0), 0x8B);
    CU_ASSERT_EQUAL(rd32(&f, TSS1 + 0x20), 0x4001);          /* task 1 resumes after IRETD */
    CU_ASSERT_FALSE(rd32(&f, TSS1 + 0x24) & F_NT);           /* NT cleared in its image */
    /* busy: JMP to the running task, CALL through a gate to it after
     * marking TSS1 busy: #GP(selector) */
    set_gate(&f, 13, 0x3000, 0);
    static const uint8_t hlt = 0xF4;
    put(&f, 0x3000, &hlt, 1);
    static const uint8_t jmp_self[] = { 0xEA, 0, 0, 0, 0, SEL_TSS0, 0 };
    put(&f, 0x1000, jmp_self, sizeof(jmp_self));
    c->eip = 0x1000;
    c->halted = false;
    c->r[ESP_] = 0x8000;
    CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
    CU_ASSERT_EQUAL(rd32(&f, 0x8000 - 16), SEL_TSS0);
    CU_ASSERT_EQUAL(rd32(&f, 0x8000 - 12), 0x1000);
    f.h.mem.ram[GDT + SEL_TSS1 + 5] = 0x8B;
    static const uint8_t call_gate[] = { 0x9A, 0, 0, 0, 0, SEL_TGATE, 0 };
    put(&f, 0x1000, call_gate, sizeof(call_gate));
    c->eip = 0x1000;
    c->halted = false;
    c->r[ESP_] = 0x8000;
    CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
    CU_ASSERT_EQUAL(rd32(&f, 0x8000 - 16), SEL_TSS1);
    CU_ASSERT_EQUAL(c->st.task_switches, 2);
    emu_h_done(&f.h);
}

static void test_task_16bit_and_gate_errcode(void)
{
    struct fx f;
    setup(&f);
    struct emu_cpu *c = &f.h.cpu;
    /* 16-bit TSS: IP 0x0E, FLAGS 0x10, AX.. 0x12, ES CS SS DS 0x22.., LDT 0x2A */
    memset(f.h.mem.ram + TSS16, 0, 0x2C);
    wr16(&f, TSS16 + 0x0E, 0x4100);
    wr16(&f, TSS16 + 0x10, 2);
    wr16(&f, TSS16 + 0x12, 0xBEEF);                         /* AX */
    wr16(&f, TSS16 + 0x1A, 0x7800);                         /* SP */
    wr16(&f, TSS16 + 0x22, SEL_DATA);
    wr16(&f, TSS16 + 0x24, SEL_CODE);
    wr16(&f, TSS16 + 0x26, SEL_DATA);
    wr16(&f, TSS16 + 0x28, SEL_DATA);
    static const uint8_t jmp16[] = { 0xEA, 0, 0, 0, 0, SEL_TSS16, 0 };
    put(&f, 0x1000, jmp16, sizeof(jmp16));
    static const uint8_t iret_task[] = { 0xF4 };
    put(&f, 0x4100, iret_task, 1);
    c->r[EAX_] = 0x11110000;
    CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
    CU_ASSERT_EQUAL(c->tr.sel, SEL_TSS16);
    CU_ASSERT_EQUAL(c->eip, 0x4101);
    CU_ASSERT_EQUAL(c->r[EAX_], 0x1111BEEF);                 /* 16-bit TSS: low halves */
    CU_ASSERT_EQUAL(c->r[ESP_] & 0xFFFF, 0x7800);
    CU_ASSERT_FALSE(c->eflags & F_NT);                       /* JMP does not nest */
    CU_ASSERT_EQUAL(type_of(&f, SEL_TSS0), 0x89);            /* JMP frees the old task */
    CU_ASSERT_EQUAL(type_of(&f, SEL_TSS16), 0x83);           /* 16-bit busy TSS */
    CU_ASSERT_EQUAL(rd32(&f, TSS0 + 0x20), 0x1007);
    /* #GP through a task gate in the IDT: the error code is pushed on
     * the new task's stack (a 32-bit TSS: a dword). */
    f.h.mem.ram[GDT + SEL_TSS0 + 5] = 0x89;
    init_tss32(&f, TSS1, 0x4200, 0x7000);
    put(&f, 0x4200, iret_task, 1);
    uint64_t tg = (uint64_t)SEL_TSS1 << 16 | (uint64_t)0x85 << 40;
    put(&f, IDT + 13 * 8, &tg, 8);
    static const uint8_t bad_ds[] = { 0x8E, 0xD8 };          /* mov ds, ax (0x40: beyond the GDT) */
    put(&f, 0x4101, bad_ds, 2);
    c->halted = false;
    c->r[EAX_] = 0x40;
    f.h.mem.ram[GDT + SEL_TSS16 + 5] = 0x83;
    CU_ASSERT_EQUAL(emu_run(c, 10), EMU_HLT);
    CU_ASSERT_EQUAL(c->tr.sel, SEL_TSS1);
    CU_ASSERT_EQUAL(c->r[ESP_], 0x7000 - 4);
    CU_ASSERT_EQUAL(rd32(&f, 0x7000 - 4), 0x40);             /* #GP(0x40) */
    CU_ASSERT(c->eflags & F_NT);
    CU_ASSERT_EQUAL(rd16(&f, TSS1), SEL_TSS16);
    CU_ASSERT_EQUAL(rd16(&f, TSS16 + 0x0E), 0x4101);         /* the faulting insn */
    emu_h_done(&f.h);
}

void suite_emul_task(void)
{
    CU_pSuite s = CU_add_suite("emul_task", NULL, NULL);
    CU_add_test(s, "v86: IRETD entry, INT n to ring 0, frame and nulled segments",
                test_v86_entry_and_interrupt);
    CU_add_test(s, "v86: IOPL-sensitive #GP, I/O bitmap at IOPL 3, non-ring-0 target",
                test_v86_iopl_and_io);
    CU_add_test(s, "task switch: CALL/IRET, busy bits, link, NT, TS, busy #GP",
                test_task_call_iret);
    CU_add_test(s, "task switch: 16-bit TSS, #GP through an IDT task gate",
                test_task_16bit_and_gate_errcode);
}
