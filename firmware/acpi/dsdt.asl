/*
 * minus1's DSDT: the i440FX/PIIX3 PC as minus1 builds it.
 *
 *   00:00.0 i440FX host bridge      00:01.0 PIIX3 ISA bridge (PIRQ links)
 *   00:01.1 PIIX3 IDE               00:01.3 PIIX4-style PM function (SCI 9)
 *   00:02.0 std VGA                 00:03.0 NE2000 (when enabled)
 *   ISA: PIC, PIT, RTC, i8042 keyboard and mouse, COM1.  No APIC.
 *
 * The fixed-feature power button (FADT PWR_BUTTON clear) is the power
 * button, so there is no PNP0C0C device here: declaring one as well
 * would give the OS two buttons, one of which never fires.
 *
 * Kept in step with firmware/acpi_tables.c (PM ports) and
 * vmm/devices/piix4_pm.h (SLP_TYP for S5).  Compiled by iasl at build
 * time (firmware/acpi/acpi.mk).
 */
DefinitionBlock ("", "DSDT", 1, "MINUS1", "MINUS1PC", 1)
{
    /* S5 (soft off): SLP_TYP 0, the PIIX4's "soft off" SUS_TYP encoding
     * (and what SeaBIOS's APM poweroff writes).  No other sleep state is
     * offered. */
    Name (\_S5, Package (0x04) { 0x00, 0x00, 0x00, 0x00 })

    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, 0x00)
            /* Bus 0 only (no bridges); all ports but the configuration
             * mechanism's own; legacy VGA memory; the 32-bit PCI hole
             * from MEM_PCI_HOLE_START (vmm/memory.h) up to the
             * IOAPIC's place, where SeaBIOS assigns BARs. */
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x0000, 0x0000, 0x0001,,,)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8,,, , TypeStatic, DenseTranslation)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300,,, , TypeStatic, DenseTranslation)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000,,, , AddressRangeMemory, TypeStatic)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xE0000000, 0xFEBFFFFF, 0x00000000, 0x1EC00000,,, , AddressRangeMemory, TypeStatic)
            })

            /* INTx of every slot through the PIIX3 links: pin p of slot s
             * drives PIRQ (s + p) & 3, as vmm/devices/pci.c wires it. */
            Name (_PRT, Package ()
            {
                Package () { 0x0001FFFF, 0, LNKB, 0 }, Package () { 0x0001FFFF, 1, LNKC, 0 },
                Package () { 0x0001FFFF, 2, LNKD, 0 }, Package () { 0x0001FFFF, 3, LNKA, 0 },
                Package () { 0x0002FFFF, 0, LNKC, 0 }, Package () { 0x0002FFFF, 1, LNKD, 0 },
                Package () { 0x0002FFFF, 2, LNKA, 0 }, Package () { 0x0002FFFF, 3, LNKB, 0 },
                Package () { 0x0003FFFF, 0, LNKD, 0 }, Package () { 0x0003FFFF, 1, LNKA, 0 },
                Package () { 0x0003FFFF, 2, LNKB, 0 }, Package () { 0x0003FFFF, 3, LNKC, 0 },
                Package () { 0x0004FFFF, 0, LNKA, 0 }, Package () { 0x0004FFFF, 1, LNKB, 0 },
                Package () { 0x0004FFFF, 2, LNKC, 0 }, Package () { 0x0004FFFF, 3, LNKD, 0 },
                Package () { 0x0005FFFF, 0, LNKB, 0 }, Package () { 0x0005FFFF, 1, LNKC, 0 },
                Package () { 0x0005FFFF, 2, LNKD, 0 }, Package () { 0x0005FFFF, 3, LNKA, 0 },
                Package () { 0x0006FFFF, 0, LNKC, 0 }, Package () { 0x0006FFFF, 1, LNKD, 0 },
                Package () { 0x0006FFFF, 2, LNKA, 0 }, Package () { 0x0006FFFF, 3, LNKB, 0 },
                Package () { 0x0007FFFF, 0, LNKD, 0 }, Package () { 0x0007FFFF, 1, LNKA, 0 },
                Package () { 0x0007FFFF, 2, LNKB, 0 }, Package () { 0x0007FFFF, 3, LNKC, 0 },
                Package () { 0x0008FFFF, 0, LNKA, 0 }, Package () { 0x0008FFFF, 1, LNKB, 0 },
                Package () { 0x0008FFFF, 2, LNKC, 0 }, Package () { 0x0008FFFF, 3, LNKD, 0 },
                Package () { 0x0009FFFF, 0, LNKB, 0 }, Package () { 0x0009FFFF, 1, LNKC, 0 },
                Package () { 0x0009FFFF, 2, LNKD, 0 }, Package () { 0x0009FFFF, 3, LNKA, 0 },
                Package () { 0x000AFFFF, 0, LNKC, 0 }, Package () { 0x000AFFFF, 1, LNKD, 0 },
                Package () { 0x000AFFFF, 2, LNKA, 0 }, Package () { 0x000AFFFF, 3, LNKB, 0 },
                Package () { 0x000BFFFF, 0, LNKD, 0 }, Package () { 0x000BFFFF, 1, LNKA, 0 },
                Package () { 0x000BFFFF, 2, LNKB, 0 }, Package () { 0x000BFFFF, 3, LNKC, 0 },
                Package () { 0x000CFFFF, 0, LNKA, 0 }, Package () { 0x000CFFFF, 1, LNKB, 0 },
                Package () { 0x000CFFFF, 2, LNKC, 0 }, Package () { 0x000CFFFF, 3, LNKD, 0 },
                Package () { 0x000DFFFF, 0, LNKB, 0 }, Package () { 0x000DFFFF, 1, LNKC, 0 },
                Package () { 0x000DFFFF, 2, LNKD, 0 }, Package () { 0x000DFFFF, 3, LNKA, 0 },
                Package () { 0x000EFFFF, 0, LNKC, 0 }, Package () { 0x000EFFFF, 1, LNKD, 0 },
                Package () { 0x000EFFFF, 2, LNKA, 0 }, Package () { 0x000EFFFF, 3, LNKB, 0 },
                Package () { 0x000FFFFF, 0, LNKD, 0 }, Package () { 0x000FFFFF, 1, LNKA, 0 },
                Package () { 0x000FFFFF, 2, LNKB, 0 }, Package () { 0x000FFFFF, 3, LNKC, 0 },
                Package () { 0x0010FFFF, 0, LNKA, 0 }, Package () { 0x0010FFFF, 1, LNKB, 0 },
                Package () { 0x0010FFFF, 2, LNKC, 0 }, Package () { 0x0010FFFF, 3, LNKD, 0 },
                Package () { 0x0011FFFF, 0, LNKB, 0 }, Package () { 0x0011FFFF, 1, LNKC, 0 },
                Package () { 0x0011FFFF, 2, LNKD, 0 }, Package () { 0x0011FFFF, 3, LNKA, 0 },
                Package () { 0x0012FFFF, 0, LNKC, 0 }, Package () { 0x0012FFFF, 1, LNKD, 0 },
                Package () { 0x0012FFFF, 2, LNKA, 0 }, Package () { 0x0012FFFF, 3, LNKB, 0 },
                Package () { 0x0013FFFF, 0, LNKD, 0 }, Package () { 0x0013FFFF, 1, LNKA, 0 },
                Package () { 0x0013FFFF, 2, LNKB, 0 }, Package () { 0x0013FFFF, 3, LNKC, 0 },
                Package () { 0x0014FFFF, 0, LNKA, 0 }, Package () { 0x0014FFFF, 1, LNKB, 0 },
                Package () { 0x0014FFFF, 2, LNKC, 0 }, Package () { 0x0014FFFF, 3, LNKD, 0 },
                Package () { 0x0015FFFF, 0, LNKB, 0 }, Package () { 0x0015FFFF, 1, LNKC, 0 },
                Package () { 0x0015FFFF, 2, LNKD, 0 }, Package () { 0x0015FFFF, 3, LNKA, 0 },
                Package () { 0x0016FFFF, 0, LNKC, 0 }, Package () { 0x0016FFFF, 1, LNKD, 0 },
                Package () { 0x0016FFFF, 2, LNKA, 0 }, Package () { 0x0016FFFF, 3, LNKB, 0 },
                Package () { 0x0017FFFF, 0, LNKD, 0 }, Package () { 0x0017FFFF, 1, LNKA, 0 },
                Package () { 0x0017FFFF, 2, LNKB, 0 }, Package () { 0x0017FFFF, 3, LNKC, 0 },
                Package () { 0x0018FFFF, 0, LNKA, 0 }, Package () { 0x0018FFFF, 1, LNKB, 0 },
                Package () { 0x0018FFFF, 2, LNKC, 0 }, Package () { 0x0018FFFF, 3, LNKD, 0 },
                Package () { 0x0019FFFF, 0, LNKB, 0 }, Package () { 0x0019FFFF, 1, LNKC, 0 },
                Package () { 0x0019FFFF, 2, LNKD, 0 }, Package () { 0x0019FFFF, 3, LNKA, 0 },
                Package () { 0x001AFFFF, 0, LNKC, 0 }, Package () { 0x001AFFFF, 1, LNKD, 0 },
                Package () { 0x001AFFFF, 2, LNKA, 0 }, Package () { 0x001AFFFF, 3, LNKB, 0 },
                Package () { 0x001BFFFF, 0, LNKD, 0 }, Package () { 0x001BFFFF, 1, LNKA, 0 },
                Package () { 0x001BFFFF, 2, LNKB, 0 }, Package () { 0x001BFFFF, 3, LNKC, 0 },
                Package () { 0x001CFFFF, 0, LNKA, 0 }, Package () { 0x001CFFFF, 1, LNKB, 0 },
                Package () { 0x001CFFFF, 2, LNKC, 0 }, Package () { 0x001CFFFF, 3, LNKD, 0 },
                Package () { 0x001DFFFF, 0, LNKB, 0 }, Package () { 0x001DFFFF, 1, LNKC, 0 },
                Package () { 0x001DFFFF, 2, LNKD, 0 }, Package () { 0x001DFFFF, 3, LNKA, 0 },
                Package () { 0x001EFFFF, 0, LNKC, 0 }, Package () { 0x001EFFFF, 1, LNKD, 0 },
                Package () { 0x001EFFFF, 2, LNKA, 0 }, Package () { 0x001EFFFF, 3, LNKB, 0 },
                Package () { 0x001FFFFF, 0, LNKD, 0 }, Package () { 0x001FFFFF, 1, LNKA, 0 },
                Package () { 0x001FFFFF, 2, LNKB, 0 }, Package () { 0x001FFFFF, 3, LNKC, 0 }
            })

            /* PIIX3 function 0: the PIRQ route control registers
             * (0x60-0x63: bit 7 disables, bits 3:0 the ISA IRQ). */
            Device (ISA)
            {
                Name (_ADR, 0x00010000)
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQA, 8,
                    PRQB, 8,
                    PRQC, 8,
                    PRQD, 8
                }

                Device (PIC)
                {
                    Name (_HID, EisaId ("PNP0000"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02)
                        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02)
                        IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02)
                        IRQNoFlags () {2}
                    })
                }

                Device (TMR)
                {
                    Name (_HID, EisaId ("PNP0100"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04)
                        IRQNoFlags () {0}
                    })
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, 0x01)
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                /* Ports the board decodes that no other device claims:
                 * the PM function's block at the PMBA SeaBIOS programs
                 * (0x600, 64 bytes), fw_cfg, A20/reset (0x92) and the
                 * PIIX3 reset control (0xCF9 sits in PCI0's own range). */
                Device (MBRS)
                {
                    Name (_HID, EisaId ("PNP0C02"))
                    Name (_UID, 0x01)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0600, 0x0600, 0x01, 0x40)
                        IO (Decode16, 0x0510, 0x0510, 0x01, 0x0C)
                        IO (Decode16, 0x0092, 0x0092, 0x01, 0x01)
                    })
                }
            }
        }

        /* Link helpers.  Arg0 is a PIRQ route register's value. */
        Method (IQST, 1, NotSerialized)
        {
            If (Arg0 & 0x80)
            {
                Return (0x09)       /* present, functioning, disabled */
            }
            Return (0x0B)           /* present, functioning, enabled */
        }

        Method (IQCR, 1, Serialized)
        {
            Name (RES, ResourceTemplate ()
            {
                IRQ (Level, ActiveLow, Shared, ) {}
            })
            CreateWordField (RES, 0x01, MASK)
            If (!(Arg0 & 0x80))
            {
                MASK = (One << (Arg0 & 0x0F))
            }
            Return (RES)
        }

        /* The route value for an IRQ descriptor the OS hands to _SRS:
         * its lowest IRQ, or "disabled" for an empty mask. */
        Method (IQSR, 1, NotSerialized)
        {
            CreateWordField (Arg0, 0x01, MASK)
            Local0 = FindSetRightBit (MASK)
            If (Local0 == Zero)
            {
                Return (0x80)
            }
            Return (Local0 - One)
        }

        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x01)
            Name (_PRS, ResourceTemplate ()
            {
                IRQ (Level, ActiveLow, Shared, ) {5,10,11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQA)) }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQA)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQA |= 0x80 }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQA = IQSR (Arg0) }
        }

        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x02)
            Name (_PRS, ResourceTemplate ()
            {
                IRQ (Level, ActiveLow, Shared, ) {5,10,11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQB)) }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQB)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQB |= 0x80 }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQB = IQSR (Arg0) }
        }

        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x03)
            Name (_PRS, ResourceTemplate ()
            {
                IRQ (Level, ActiveLow, Shared, ) {5,10,11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQC)) }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQC)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQC |= 0x80 }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQC = IQSR (Arg0) }
        }

        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x04)
            Name (_PRS, ResourceTemplate ()
            {
                IRQ (Level, ActiveLow, Shared, ) {5,10,11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQD)) }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQD)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQD |= 0x80 }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQD = IQSR (Arg0) }
        }
    }
}
