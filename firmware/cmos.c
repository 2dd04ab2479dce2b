/* The PC CMOS configuration bytes SeaBIOS reads (see firmware.h).
 * Offsets and encodings are those of QEMU's pc_cmos_init(), which
 * SeaBIOS's src/hw/rtc.h names:
 *   0x10       floppy drive types (none)
 *   0x12       hard disk types of the primary channel (0xf0 master,
 *              0x0f slave: "type 47, see 0x19/0x1a")
 *   0x14       equipment: FPU, PS/2 mouse, no floppy
 *   0x15/0x16  base memory in KiB (640)
 *   0x17/0x18  extended memory above 1 MiB in KiB, capped at 0xffff;
 *              0x30/0x31 repeat it
 *   0x19/0x1a  primary master/slave drive type (47 = user defined), with
 *              the geometry at 0x1b and 0x24
 *   0x34/0x35  memory between 16 MiB and 4 GiB in 64 KiB units, capped
 *   0x38       high nibble: third boot device; bit 0: skip the floppy
 *              boot signature check
 *   0x39       ATA translation, two bits per drive (index = channel*2+unit)
 *   0x3d       first (low nibble) and second boot devices
 *   0x5b-0x5d  memory above 4 GiB in 64 KiB units
 *   0x5f       CPU count - 1
 * SeaBIOS takes the low RAM size from here only when "etc/e820" is
 * missing, but the CPU count, boot classes and translation always. */
#include "firmware.h"

#include "../vmm/devices/rtc.h"

#define CMOS_FLOPPY_TYPES   0x10
#define CMOS_DISK_TYPES     0x12
#define CMOS_EQUIPMENT      0x14
#define CMOS_BASE_MEM       0x15
#define CMOS_EXT_MEM        0x17
#define CMOS_HD0_TYPE       0x19
#define CMOS_HD1_TYPE       0x1a
#define CMOS_HD0_INFO       0x1b
#define CMOS_HD1_INFO       0x24
#define CMOS_EXT_MEM2       0x30
#define CMOS_MEM_ABOVE_16M  0x34
#define CMOS_BOOT_FLAG1     0x38
#define CMOS_DISK_TRANS     0x39
#define CMOS_BOOT_FLAG2     0x3d
#define CMOS_MEM_ABOVE_4G   0x5b
#define CMOS_SMP_COUNT      0x5f

#define EQUIP_FPU           0x02
#define EQUIP_PS2_MOUSE     0x04
#define HD_TYPE_USER        47

/* Boot class nibbles (QEMU's -boot letters a, c, d). */
#define BOOT_FLOPPY 1
#define BOOT_HDD    2
#define BOOT_CDROM  3

static void set16(struct rtc *rtc, unsigned index, uint32_t v)
{
    rtc_cmos_set(rtc, index, (uint8_t)v);
    rtc_cmos_set(rtc, index + 1, (uint8_t)(v >> 8));
}

static uint32_t cap16(uint64_t v)
{
    return v > 0xffff ? 0xffff : (uint32_t)v;
}

static void set_memory(struct rtc *rtc, const struct guest_mem *mem)
{
    uint64_t low = mem->below_4g;
    set16(rtc, CMOS_BASE_MEM, low / KiB < 640 ? (uint32_t)(low / KiB) : 640);
    uint32_t ext = cap16(low > MiB ? (low - MiB) / KiB : 0);
    set16(rtc, CMOS_EXT_MEM, ext);
    set16(rtc, CMOS_EXT_MEM2, ext);
    set16(rtc, CMOS_MEM_ABOVE_16M, cap16(low > 16 * MiB ? (low - 16 * MiB) / (64 * KiB) : 0));
    uint64_t high = mem->above_4g / (64 * KiB);
    rtc_cmos_set(rtc, CMOS_MEM_ABOVE_4G, (uint8_t)high);
    rtc_cmos_set(rtc, CMOS_MEM_ABOVE_4G + 1, (uint8_t)(high >> 8));
    rtc_cmos_set(rtc, CMOS_MEM_ABOVE_4G + 2, (uint8_t)(high >> 16));
}

/* The legacy boot classes: SeaBIOS gives them priorities 101..103 in
 * nibble order; anything "bootorder" lists comes before them. */
static void set_boot_order(struct rtc *rtc, enum fw_boot_device dev)
{
    uint8_t first, second, third;
    switch (dev) {
    case FW_BOOT_CD:
        first = BOOT_CDROM, second = BOOT_HDD, third = BOOT_FLOPPY;
        break;
    case FW_BOOT_DISK:
        first = BOOT_HDD, second = BOOT_CDROM, third = BOOT_FLOPPY;
        break;
    default:        /* QEMU's default, "-boot cad" */
        first = BOOT_HDD, second = BOOT_FLOPPY, third = BOOT_CDROM;
        break;
    }
    rtc_cmos_set(rtc, CMOS_BOOT_FLAG2, (uint8_t)(second << 4 | first));
    /* Bit 0 clear: check the floppy boot signature, as QEMU does. */
    rtc_cmos_set(rtc, CMOS_BOOT_FLAG1, (uint8_t)(third << 4));
}

static void set_hd_info(struct rtc *rtc, unsigned type_index, unsigned info,
                        const struct fw_ide_drive *d)
{
    rtc_cmos_set(rtc, type_index, HD_TYPE_USER);
    set16(rtc, info, d->cylinders);                 /* cylinders */
    rtc_cmos_set(rtc, info + 2, d->heads);
    set16(rtc, info + 3, 0xffff);                   /* write precompensation: none */
    rtc_cmos_set(rtc, info + 5, (uint8_t)(0xc0 | (d->heads > 8 ? 0x08 : 0)));
    set16(rtc, info + 6, d->cylinders);             /* landing zone */
    rtc_cmos_set(rtc, info + 8, d->sectors);
}

static void set_disks(struct rtc *rtc, const struct firmware_opts *o)
{
    uint8_t types = 0, trans = 0;
    for (unsigned i = 0; i < o->n_ide && i < FW_MAX_IDE_DRIVES; i++) {
        const struct fw_ide_drive *d = &o->ide[i];
        if (d->cdrom || d->channel > 1 || d->unit > 1)
            continue;
        /* Types and geometry exist for the primary channel only. */
        if (d->channel == 0 && d->unit == 0) {
            types |= 0xf0;
            set_hd_info(rtc, CMOS_HD0_TYPE, CMOS_HD0_INFO, d);
        } else if (d->channel == 0) {
            types |= 0x0f;
            set_hd_info(rtc, CMOS_HD1_TYPE, CMOS_HD1_INFO, d);
        }
        trans |= (uint8_t)((d->translation & 3) << (2 * (d->channel * 2 + d->unit)));
    }
    rtc_cmos_set(rtc, CMOS_DISK_TYPES, types);
    rtc_cmos_set(rtc, CMOS_DISK_TRANS, trans);
}

enum fw_ata_translation firmware_ata_auto_translation(unsigned cylinders, unsigned heads,
                                                      unsigned sectors)
{
    return cylinders <= 1024 && heads <= 16 && sectors <= 63 ? FW_ATA_TRANS_NONE
                                                             : FW_ATA_TRANS_LBA;
}

void firmware_setup_cmos(struct rtc *rtc, const struct guest_mem *mem,
                         const struct firmware_opts *o)
{
    unsigned ncpus = o->ncpus ? o->ncpus : 1;
    set_memory(rtc, mem);
    set_boot_order(rtc, o->boot_device);
    set_disks(rtc, o);
    rtc_cmos_set(rtc, CMOS_FLOPPY_TYPES, 0);
    rtc_cmos_set(rtc, CMOS_EQUIPMENT, EQUIP_FPU | EQUIP_PS2_MOUSE);
    rtc_cmos_set(rtc, CMOS_SMP_COUNT, (uint8_t)(ncpus - 1));
}
