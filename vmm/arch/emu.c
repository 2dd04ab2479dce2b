/* The emulator backend: vmm/emul run on the vCPU thread, with the
 * machine's buses, PIC and memory map behind it. */
#include "cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../emul/emul.h"
#include "../machine.h"

/* Instructions per emu_run() call: bounds the latency of monitor requests
 * and kicks without costing anything measurable. */
#define RUN_SLICE 200000

struct emu_priv {
    struct emu_cpu cpu;
    struct machine *m;
    uint64_t pio_exits, mmio_exits, hlt_exits, irqs, runs;
    uint64_t unimpl_reported;
};

static struct emu_priv *priv(struct machine *m) { return m->backend_priv; }

static void env_pio(void *o, uint16_t port, unsigned size, bool is_write, uint32_t *val)
{
    struct emu_priv *p = o;
    p->pio_exits++;
    p->m->exits_pio++;
    machine_pio(p->m, port, size, is_write, val);
    /* Port 0x92 and the i8042 move A20: the TLB and decoded code keyed by
     * physical address are stale then. */
    if (p->m->a20 != p->cpu.a20) {
        p->cpu.a20 = p->m->a20;
        emu_map_changed(&p->cpu);
    }
}

static void env_mmio(void *o, uint64_t addr, unsigned size, bool is_write, uint64_t *val)
{
    struct emu_priv *p = o;
    p->mmio_exits++;
    p->m->exits_mmio++;
    machine_mmio(p->m, addr, size, is_write, val);
}

static void env_log(void *o, const char *msg)
{
    struct emu_priv *p = o;
    if (p->unimpl_reported++ < 20)
        log_warn(&p->m->log, "emu: not implemented: %s", msg);
}

static void slot_changed(void *o, const struct mem_slot *s)
{
    (void)s;
    struct emu_priv *p = o;
    emu_map_changed(&p->cpu);
}

static void ram_written(void *o, uint64_t gpa, uint64_t len)
{
    struct emu_priv *p = o;
    emu_ram_written(&p->cpu, gpa, len);
}

static void emu_destroy(struct machine *m)
{
    struct emu_priv *p = priv(m);
    if (!p)
        return;
    m->mem.ram_written = NULL;
    struct mem_listener none = { NULL, NULL, NULL };
    m->mem.listener = none;
    emu_fini(&p->cpu);
    free(p);
    m->backend_priv = NULL;
}

static int emu_create(struct machine *m, char *err, size_t errlen)
{
    struct emu_priv *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "emu: out of memory");
        return -1;
    }
    p->m = m;
    struct emu_env env = { .opaque = p, .pio = env_pio, .mmio = env_mmio, .log = env_log,
                           .intr_line = &m->intr_line };
    if (emu_init(&p->cpu, &m->mem, &env) < 0) {
        free(p);
        snprintf(err, errlen, "emu: cannot allocate the decode cache");
        return -1;
    }
    p->cpu.a20 = m->a20;
    m->backend_priv = p;
    struct mem_listener l = { slot_changed, slot_changed, p };
    mem_set_listener(&m->mem, &l);
    m->mem.ram_written_opaque = p;
    m->mem.ram_written = ram_written;
    return 0;
}

static void emu_kick(struct machine *m)
{
    struct emu_priv *p = priv(m);
    if (p)
        atomic_store(&p->cpu.kick, true);
}

static int emu_get(struct machine *m, struct x86_state *s)
{
    emu_get_state(&priv(m)->cpu, s);
    return 0;
}

static int emu_set(struct machine *m, const struct x86_state *s)
{
    emu_set_state(&priv(m)->cpu, s);
    return 0;
}

static int emu_do_reset(struct machine *m, const struct x86_state *s)
{
    struct emu_priv *p = priv(m);
    p->cpu.a20 = m->a20;
    emu_reset(&p->cpu, s);
    return 0;
}

static void take_interrupt(struct machine *m, struct emu_priv *p)
{
    int vec = machine_ack_interrupt(m);
    if (vec < 0)
        return;
    p->irqs++;
    m->exits_irq_injected++;
    emu_interrupt(&p->cpu, vec);
}

static int emu_run_vcpu(struct machine *m)
{
    struct emu_priv *p = priv(m);
    struct emu_cpu *c = &p->cpu;
    for (;;) {
        atomic_store(&c->kick, false);
        machine_vcpu_poll(m);
        if (machine_should_leave_run(m))
            return 0;
        if (machine_intr_pending(m) && emu_can_take_intr(c))
            take_interrupt(m, p);
        if (c->shutdown) {
            log_info(&m->log, "guest triple fault (shutdown)");
            machine_request_reset(m);
            return 0;
        }
        p->runs++;
        switch (emu_run(c, RUN_SLICE)) {
        case EMU_HLT:
            p->hlt_exits++;
            m->exits_hlt++;
            machine_halt_wait(m, (emu_get_eflags(c) & X86_RFLAGS_IF) != 0);
            if (machine_intr_pending(m) && emu_can_take_intr(c))
                take_interrupt(m, p);
            break;
        case EMU_SHUTDOWN:
            log_info(&m->log, "guest triple fault (shutdown)");
            machine_request_reset(m);
            return 0;
        default:
            break;
        }
    }
}

static size_t emu_info(struct machine *m, char *buf, size_t len)
{
    struct emu_priv *p = priv(m);
    const struct emu_stats *s = &p->cpu.st;
    uint64_t lookups = s->cache_hits + s->cache_misses;
    int n = snprintf(buf, len,
                     "accelerator: emu (minus1 interpreter, Capstone-decoded blocks)\n"
                     "instructions: %llu\nblocks run: %llu\n"
                     "decode cache: %llu blocks / %llu instructions decoded, hit rate %.2f%%, "
                     "%llu chained, "
                     "%llu flushes, %llu self-modifying-code invalidations\n"
                     "uncached instructions: %llu\nexceptions: %llu, interrupts: %llu\n"
                     "exits: pio %llu, mmio %llu, hlt %llu\n"
                     "virtual-8086 mode entries: %llu, hardware task switches: %llu\n"
                     "unimplemented instructions hit: %llu\n",
                     (unsigned long long)s->insns, (unsigned long long)s->blocks_run,
                     (unsigned long long)s->blocks_decoded, (unsigned long long)s->insns_decoded,
                     lookups ? 100.0 * (double)s->cache_hits / (double)lookups : 0.0,
                     (unsigned long long)(s->blocks_run - lookups),  /* the rest came by chain */
                     (unsigned long long)s->cache_flushes,
                     (unsigned long long)s->smc_invalidations,
                     (unsigned long long)s->uncached_insns, (unsigned long long)s->exceptions,
                     (unsigned long long)s->interrupts, (unsigned long long)p->pio_exits,
                     (unsigned long long)p->mmio_exits, (unsigned long long)p->hlt_exits,
                     (unsigned long long)s->v86_entries, (unsigned long long)s->task_switches,
                     (unsigned long long)s->unimplemented);
    if (n > 0 && (size_t)n < len) {
        int k = snprintf(buf + n, len - (size_t)n,
                         "rep movs/stos elements: %llu in page chunks, %llu one by one\n",
                         (unsigned long long)s->str_bulk, (unsigned long long)s->str_single);
        if (k > 0)
            n += k;
    }
    if (n > 0 && (size_t)n < len && s->unimplemented) {
        int k = snprintf(buf + n, len - (size_t)n, "last unimplemented: %s\n", p->cpu.unimpl_msg);
        if (k > 0)
            n += k;
    }
    return n < 0 ? 0 : ((size_t)n >= len ? len - 1 : (size_t)n);
}

const struct cpu_backend emu_backend = {
    .name = "emu",
    .create = emu_create,
    .destroy = emu_destroy,
    .run = emu_run_vcpu,
    .kick = emu_kick,
    .get_state = emu_get,
    .set_state = emu_set,
    .reset = emu_do_reset,
    .info = emu_info,
};
