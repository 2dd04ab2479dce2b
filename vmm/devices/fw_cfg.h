/* QEMU-compatible firmware configuration device: selector at 0x510
 * (16-bit), data at 0x511 (8-bit), DMA address at 0x514 (64-bit, big
 * endian, written as two 32-bit halves or one 64-bit value).  SeaBIOS
 * finds RAM size, the e820 map, boot order and its serial console here. */
#ifndef MINUS1_FW_CFG_H
#define MINUS1_FW_CFG_H

#include <stdint.h>

#include "../iobus.h"
#include "../log.h"
#include "../memory.h"

/* Well-known selector keys (the fw_cfg ABI). */
#define FW_CFG_SIGNATURE    0x0000
#define FW_CFG_ID           0x0001
#define FW_CFG_UUID         0x0002
#define FW_CFG_RAM_SIZE     0x0003
#define FW_CFG_NOGRAPHIC    0x0004
#define FW_CFG_NB_CPUS      0x0005
#define FW_CFG_MACHINE_ID   0x0006
#define FW_CFG_KERNEL_ADDR  0x0007
#define FW_CFG_KERNEL_SIZE  0x0008
#define FW_CFG_KERNEL_CMDLINE 0x0009
#define FW_CFG_INITRD_ADDR  0x000a
#define FW_CFG_INITRD_SIZE  0x000b
#define FW_CFG_BOOT_DEVICE  0x000c
#define FW_CFG_NUMA         0x000d
#define FW_CFG_BOOT_MENU    0x000e
#define FW_CFG_MAX_CPUS     0x000f
#define FW_CFG_KERNEL_ENTRY 0x0010
#define FW_CFG_KERNEL_DATA  0x0011
#define FW_CFG_INITRD_DATA  0x0012
#define FW_CFG_CMDLINE_ADDR 0x0013
#define FW_CFG_CMDLINE_SIZE 0x0014
#define FW_CFG_CMDLINE_DATA 0x0015
#define FW_CFG_SETUP_ADDR   0x0016
#define FW_CFG_SETUP_SIZE   0x0017
#define FW_CFG_SETUP_DATA   0x0018
#define FW_CFG_FILE_DIR     0x0019
#define FW_CFG_FILE_FIRST   0x0020
#define FW_CFG_MAX_FILES    64
#define FW_CFG_IRQ0_OVERRIDE 0x8002
#define FW_CFG_E820_TABLE   0x8003

struct fw_cfg;

struct fw_cfg *fw_cfg_create(struct iobus *pio, struct guest_mem *mem,
                             const struct logger *log);
void fw_cfg_destroy(struct fw_cfg *f);
/* Selector back to 0, DMA state cleared; items stay. */
void fw_cfg_reset(struct fw_cfg *f);

/* Items are copied.  Adding an existing key/name replaces it.  Return 0,
 * or -1 (bad key, directory full, name too long). */
int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len);
int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v);
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len);

#endif
