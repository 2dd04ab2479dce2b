# The DSDT is ASL source compiled at build time by iasl (Debian's
# acpica-tools) and included into firmware/acpi_tables.c as a byte list.
# Included from GNUmakefile (`-include firmware/acpi/acpi.mk`): the rules
# below only add prerequisites and flags to acpi_tables.o, so the link
# lines stay as they are.

IASL     ?= iasl
ACPI_GEN := $(BUILD)/firmware/acpi

# -we: a warning is a build error (e.g. a resource descriptor that does
# not say what we mean).  iasl writes <prefix>.aml.
$(ACPI_GEN)/dsdt.aml: firmware/acpi/dsdt.asl
	@mkdir -p $(dir $@)
	$(IASL) -vs -we -p $(basename $@) $< >$(basename $@).log 2>&1 || \
		{ cat $(basename $@).log; rm -f $@; exit 1; }

# "0x12, 0x34, ..." for an array initialiser.
$(ACPI_GEN)/dsdt.inc: $(ACPI_GEN)/dsdt.aml
	od -An -v -tx1 $< | sed -e 's/[0-9a-f][0-9a-f]/0x&,/g' > $@.tmp
	mv $@.tmp $@

$(BUILD)/firmware/acpi_tables.o $(ASAN)/firmware/acpi_tables.o: $(ACPI_GEN)/dsdt.inc
$(BUILD)/firmware/acpi_tables.o $(ASAN)/firmware/acpi_tables.o: CFLAGS += -I$(ACPI_GEN)
