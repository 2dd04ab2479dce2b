/* The machine's monitor commands: status, registers, accelerator, reset
 * and quit.  Devices' owners add their own commands beside these. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "devices/piix4_pm.h"
#include "devices/sysctl.h"
#include "machine.h"

void machine_monitor_commands(struct machine *m);

static int cmd_info_status(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct machine *m = opaque;
    (void)argc;
    (void)argv;
    monitor_printf(r, "status: running");
    monitor_printf(r, "accelerator: %s", m->backend ? m->backend->name : "none");
    monitor_printf(r, "resets: %u", m->resets);
    monitor_printf(r, "post code: 0x%02x", sysctl_last_post_code(m->sysctl));
    monitor_printf(r, "a20: %s", m->a20 ? "enabled" : "masked");
    return 0;
}

/* Asks the vCPU thread for a snapshot (the lock is released while we
 * wait, so the vCPU can reach a safe point). */
static int fetch_registers(struct machine *m, struct x86_state *out)
{
    m->state_ready = false;
    atomic_store(&m->state_wanted, true);
    pthread_cond_broadcast(&m->cond);
    m->backend->kick(m);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    while (!m->state_ready) {
        if (pthread_cond_timedwait(&m->cond, &m->lock, &deadline) == ETIMEDOUT)
            return -1;
    }
    *out = m->snapshot;
    return 0;
}

static int cmd_info_registers(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct machine *m = opaque;
    struct x86_state s;
    char buf[2048];
    (void)argc;
    (void)argv;
    if (fetch_registers(m, &s) < 0) {
        monitor_error(r, "the vCPU did not answer");
        return -1;
    }
    x86_format_state(&s, buf, sizeof(buf));
    monitor_printf(r, "%s", buf);
    return 0;
}

static int cmd_info_accel(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct machine *m = opaque;
    char buf[1024];
    (void)argc;
    (void)argv;
    m->backend->info(m, buf, sizeof(buf));
    monitor_printf(r, "%s", buf);
    if (m->probed)
        monitor_printf(r, "chosen by --accel auto: %s", m->accel_reason);
    else
        monitor_printf(r, "chosen by --accel %s", m->cfg.accel == ACCEL_KVM ? "kvm" : "emu");
    return 0;
}

static int cmd_system_reset(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    (void)r;
    (void)argc;
    (void)argv;
    machine_request_reset(opaque);
    return 0;
}

static int cmd_system_powerdown(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct machine *m = opaque;
    (void)r;
    (void)argc;
    (void)argv;
    piix4_pm_power_button(m->pm);
    return 0;
}

static int cmd_quit(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    (void)r;
    (void)argc;
    (void)argv;
    machine_request_exit(opaque, 0);
    return 0;
}

void machine_monitor_commands(struct machine *m)
{
    monitor_add_command(m->monitor, "info status", "machine state", cmd_info_status, m);
    monitor_add_command(m->monitor, "info registers", "vCPU registers", cmd_info_registers, m);
    monitor_add_command(m->monitor, "info accel", "accelerator and its statistics",
                        cmd_info_accel, m);
    monitor_add_command(m->monitor, "system_reset", "reset the machine", cmd_system_reset, m);
    monitor_add_command(m->monitor, "system_powerdown", "press the ACPI power button",
                        cmd_system_powerdown, m);
    monitor_add_command(m->monitor, "quit", "end minus1", cmd_quit, m);
}
