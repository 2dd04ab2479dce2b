/* The i440FX host bridge (8086:1237, 00:00.0): PAM shadowing registers
 * 0x59-0x5F drive the guest memory map's 0xC0000-0xFFFFF segments. */
#ifndef MINUS1_I440FX_H
#define MINUS1_I440FX_H

#include "../memory.h"
#include "pci.h"

struct i440fx;

struct i440fx *i440fx_create(struct pci_bus *bus, struct guest_mem *mem);
void i440fx_destroy(struct i440fx *h);
void i440fx_reset(struct i440fx *h);

#endif
