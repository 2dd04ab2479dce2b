/* Regression tests for bugs the libFuzzer harnesses (tests/fuzz/) found
 * or target, one test per bug, named after it; the input that found a
 * bug also goes into tests/fuzz/corpus/NAME/ so make fuzz-regress
 * replays it. */
#include <CUnit/CUnit.h>
#include <pthread.h>

#include "ide_harness.h"
#include "../../vmm/emul/emul.h"

/* An aio request that holds a worker until released, so a device request
 * queued behind it is guaranteed to still be in flight. */
struct blocker {
    struct aio_req req;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool release;
};

static int64_t blocker_work(struct aio_req *r)
{
    struct blocker *b = r->opaque;
    pthread_mutex_lock(&b->lock);
    while (!b->release)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    return 0;
}

static void blocker_done(struct aio_req *r) { (void)r; }

static void blockers_start(struct blocker *b, unsigned n, struct aio *aio)
{
    for (unsigned i = 0; i < n; i++) {
        memset(&b[i], 0, sizeof(b[i]));
        pthread_mutex_init(&b[i].lock, NULL);
        pthread_cond_init(&b[i].cond, NULL);
        b[i].req.work = blocker_work;
        b[i].req.done = blocker_done;
        b[i].req.opaque = &b[i];
        aio_submit(aio, &b[i].req);
    }
}

static void blockers_release(struct blocker *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        pthread_mutex_lock(&b[i].lock);
        b[i].release = true;
        pthread_cond_broadcast(&b[i].cond);
        pthread_mutex_unlock(&b[i].lock);
    }
}

static void blockers_fini(struct blocker *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        pthread_cond_destroy(&b[i].cond);
        pthread_mutex_destroy(&b[i].lock);
    }
}

/* `eject -f` (or `change`) while the CD-ROM's READ is queued on the aio
 * workers would close the block backend under the request, and the worker
 * would then read a freed backend.  The IDE harness drives this race
 * (ejects between submit and aio_drain); this test makes it
 * deterministic: the drive must refuse to drop its medium while a
 * request on it is in flight (under ASan, a regression is a
 * use-after-free report, otherwise a failed assert). */
static void test_ide_eject_during_inflight_read(void)
{
    struct h *h = h_new();
    struct block_backend *bb = block_open_mem(64 * 2048, true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bb);
    CU_ASSERT_EQUAL_FATAL(ide_attach(h->ide, 1, 0, IDE_CDROM, bb), 0);

    /* Clear the power-on unit attention first (TEST UNIT READY twice). */
    for (int i = 0; i < 2; i++) {
        outb(h, 0x176, 0xA0);
        outb(h, 0x171, 0);
        outb(h, 0x177, 0xA0);
        for (int w = 0; w < 6; w++)
            outw(h, 0x170, 0);
        aio_drain(&h->aio);
    }

    struct blocker b[AIO_MAX_WORKERS];
    unsigned nb = (unsigned)h->aio.nworkers;
    blockers_start(b, nb, &h->aio);

    /* READ(10) of LBA 0, one sector, by PIO: queued behind the blockers. */
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    outb(h, 0x176, 0xA0);
    outb(h, 0x171, 0);
    outb(h, 0x174, 0x00);
    outb(h, 0x175, 0x08);
    outb(h, 0x177, 0xA0);
    for (int w = 0; w < 6; w++)
        outw(h, 0x170, (uint16_t)(cdb[2 * w] | cdb[2 * w + 1] << 8));
    pthread_mutex_lock(&h->aio.lock);
    unsigned inflight = h->aio.inflight;
    pthread_mutex_unlock(&h->aio.lock);
    CU_ASSERT_EQUAL(inflight, nb + 1);
    CU_ASSERT(inb(h, 0x376) & 0x80);                /* BSY while the image is read */

    char err[128];
    CU_ASSERT_EQUAL(ide_cd_eject(h->ide, 1, 0, true, err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(ide_cd_change(h->ide, 1, 0, "/nonexistent.iso", err, sizeof(err)), -1);

    blockers_release(b, nb);
    aio_drain(&h->aio);
    blockers_fini(b, nb);
    CU_ASSERT_EQUAL(inb(h, 0x177) & 0x89, 0x08);    /* DRQ: the sector is ready */
    /* Idle again: now the forced eject is allowed. */
    while (inb(h, 0x177) & 0x08)
        inw(h, 0x170);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(ide_cd_eject(h->ide, 1, 0, true, err, sizeof(err)), 0);
    h_free(h);
}

/* fuzz_emu found it: a fault whose handler's first instruction faults
 * again (here #UD whose IVT entry points at the UD2 itself, with a stack
 * segment that never runs into the IVT) retires no instruction, and
 * emu_run() counted only retired instructions against its budget: it
 * never returned (the vCPU thread answered only kicks).  Deliveries now
 * count too.  Without the fix this test hangs. */
static void emu_pio(void *o, uint16_t p, unsigned s, bool w, uint32_t *v)
{
    (void)o, (void)p, (void)s;
    if (!w)
        *v = 0xFFFFFFFF;
}

static void emu_mmio(void *o, uint64_t a, unsigned s, bool w, uint64_t *v)
{
    (void)o, (void)a, (void)s;
    if (!w)
        *v = ~0ull;
}

static void test_emu_fault_storm_ends_run(void)
{
    static uint8_t bios[64 * 1024] __attribute__((aligned(4096)));
    struct guest_mem mem;
    CU_ASSERT_FATAL(mem_init(&mem, 4 * MiB, bios, sizeof(bios)) == 0);
    struct emu_cpu *cpu = calloc(1, sizeof(*cpu));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cpu);
    struct emu_env env = { .pio = emu_pio, .mmio = emu_mmio };
    CU_ASSERT_FATAL(emu_init(cpu, &mem, &env) == 0);
    /* 1000:0000  mov ax, 0x2000 ; mov ss, ax ; ud2  --  IVT[6] = 1000:0005 */
    static const uint8_t code[] = { 0xB8, 0x00, 0x20, 0x8E, 0xD0, 0x0F, 0x0B };
    memcpy(mem.ram + 0x10000, code, sizeof(code));
    uint32_t vec6 = 0x10000005;
    memcpy(mem.ram + 6 * 4, &vec6, 4);
    struct x86_state s;
    x86_reset_state(&s);
    for (int k = 0; k < X86_NSREG; k++)
        s.seg[k].base = 0, s.seg[k].selector = 0;
    s.seg[X86_CS].selector = 0x1000;
    s.seg[X86_CS].base = 0x10000;
    s.rip = 0;
    emu_reset(cpu, &s);
    CU_ASSERT_EQUAL(emu_run(cpu, 1000), EMU_BUDGET);
    CU_ASSERT_EQUAL(cpu->st.insns, 2);              /* MOV AX, MOV SS */
    CU_ASSERT_EQUAL(cpu->st.exceptions, 1000);      /* one delivery per budget unit */
    CU_ASSERT_EQUAL(cpu->eip, 5);                   /* at the UD2 again */
    CU_ASSERT_EQUAL(cpu->seg[X86_SS].sel, 0x2000);
    /* Each real-mode delivery pushed FLAGS, CS, IP: 6 bytes below SP 0. */
    CU_ASSERT_EQUAL(cpu->r[4] & 0xFFFF, (uint16_t)(0x10000 - 6 * 1000 % 0x10000));
    emu_fini(cpu);
    free(cpu);
    mem_destroy(&mem);
}

void suite_fuzz_regress(void)
{
    CU_pSuite s = CU_add_suite("fuzz_regress", NULL, NULL);
    CU_add_test(s, "ide_eject_during_inflight_read", test_ide_eject_during_inflight_read);
    CU_add_test(s, "emu_fault_storm_ends_run", test_emu_fault_storm_ends_run);
}
