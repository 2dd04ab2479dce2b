/* fw_cfg: selector/data at 0x510-0x511, the DMA register at 0x514-0x51B,
 * DMA descriptors and targets in a fuzzed 2 MiB guest RAM (GPA 0 holds
 * the blob; addresses beyond 2 MiB are not RAM).  Config byte 0: how many
 * files to add (past FW_CFG_MAX_FILES the device must refuse them). */
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/devices/fw_cfg.h"
#include "common.h"

static void add_items(struct fw_cfg *f, const struct fz_ctx *c)
{
    fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, FZ_RAM_SIZE);
    fw_cfg_add_i16(f, FW_CFG_NB_CPUS, 1);
    fw_cfg_add_i32(f, FW_CFG_BOOT_MENU, 0);
    uint8_t e820[20] = { 0 };
    fz_blob_copy(c, 0, e820, sizeof(e820));
    fw_cfg_add_bytes(f, FW_CFG_E820_TABLE, e820, sizeof(e820));
    /* An empty item and a larger one, so reads cross item ends. */
    fw_cfg_add_bytes(f, FW_CFG_KERNEL_CMDLINE, "", 0);
    uint8_t big[3000];
    fz_blob_copy(c, 7, big, sizeof(big));
    fw_cfg_add_file(f, "etc/fuzz-big", big, sizeof(big));
    unsigned nfiles = c->config[0] % (FW_CFG_MAX_FILES + 8);
    for (unsigned i = 0; i < nfiles; i++) {
        char name[32];
        snprintf(name, sizeof(name), "opt/fuzz/%u", i);
        fw_cfg_add_file(f, name, big, i * 13 % 200);
    }
}

static void reset(struct fz_ctx *c)
{
    fw_cfg_reset(c->h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    fz_init(&c, data, size);
    if (fz_mem_init(&c) == 0) {
        struct fw_cfg *f = fw_cfg_create(&c.pio, &c.mem, &c.log);
        if (f) {
            c.h = f;
            add_items(f, &c);
            fz_add_window(&c, &c.pio, 0x510, 2);
            fz_add_window(&c, &c.pio, 0x514, 8);
            static const struct fz_hooks hooks = { NULL, reset, NULL };
            fz_run(&c, &hooks);
            fw_cfg_destroy(f);
        }
    }
    fz_fini(&c);
    return 0;
}
