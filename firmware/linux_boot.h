/* Direct Linux boot: the x86 32-bit boot protocol without a BIOS.
 *
 * minus1 loads a bzImage, an optional initrd and a command line straight
 * into guest RAM, builds the "zero page" (struct boot_params) and hands
 * back the CPU state for the kernel's 32-bit entry point: protected
 * mode, paging off, flat segments, ESI = zero page.  SeaBIOS is not run.
 * References: Documentation/arch/x86/boot.rst and zero-page.rst.
 *
 * Guest-physical layout (all inside low RAM):
 *   LINUX_BOOT_GDT        the 4-entry GDT the entry state points at
 *   LINUX_BOOT_ZERO_PAGE  boot_params, 4 KiB
 *   LINUX_BOOT_CMDLINE    the command line, NUL-terminated
 *   LINUX_BOOT_KERNEL     the protected-mode kernel (the file minus its
 *                         real-mode setup sectors)
 *   initrd                page-aligned, as high as the kernel's
 *                         initrd_addr_max, low RAM and reservations allow,
 *                         above everything the kernel needs to decompress */
#ifndef MINUS1_LINUX_BOOT_H
#define MINUS1_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "../vmm/arch/x86.h"
#include "../vmm/memory.h"
#include "firmware.h"

#define LINUX_BOOT_GDT 0x500ull
#define LINUX_BOOT_ZERO_PAGE 0x7000ull
#define LINUX_BOOT_CMDLINE 0x20000ull
#define LINUX_BOOT_CMDLINE_MAX 0x10000ull   /* bytes, NUL included */
#define LINUX_BOOT_KERNEL 0x100000ull

/* Protocol 2.06 is the first with cmdline_size; older kernels (before
 * Linux 2.6.22) are refused. */
#define LINUX_BOOT_MIN_VERSION 0x0206

/* The boot_params e820 table has this many slots. */
#define LINUX_BOOT_E820_MAX 128

/* Loads `kernel` (a bzImage), `initrd` (NULL for none) and `cmdline`
 * (NULL for an empty one) into guest RAM, writes the zero page, GDT and
 * command line, and fills `entry` with the CPU state to start the vCPU
 * in (pass it to backend->reset() instead of the power-on state).
 *
 * The e820 map the kernel gets is minus1's "etc/e820" (firmware_e820()
 * with the same `reserved` ranges the firmware gets), except that the
 * 640 KiB - 1 MiB hole is left out of low RAM: SeaBIOS would carve it out
 * itself, and there is VGA memory and ROM there, not RAM.
 *
 * Call it after mem_init()/mem_reset() and again on every reset (the
 * guest may have overwritten the kernel).  Returns 0, or -1 with a
 * one-line reason in err (a file that cannot be read, is not a bzImage,
 * is truncated or too old, a kernel or initrd that does not fit in RAM,
 * a command line longer than the kernel accepts). */
int linux_boot_prepare(struct guest_mem *mem, const char *kernel, const char *initrd,
                       const char *cmdline, const struct fw_e820_range *reserved,
                       unsigned nreserved, struct x86_state *entry, char *err,
                       size_t errlen);

#endif
