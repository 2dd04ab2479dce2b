# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c -> build/fuzz/fuzz_NAME).
# Everything is compiled here with clang into build/fuzz/ (never the gcc
# objects): the harness, tests/fuzz/common.c and the project sources the
# device models need, all with -fsanitize=fuzzer-no-link,address,undefined.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ=NAME...]  run each harness for a while,
#                      new inputs go to build/fuzz/corpus/NAME, crashes to
#                      build/fuzz/crashes/; prints executions and crashes
#   make fuzz-regress  run each harness once over tests/fuzz/corpus/NAME
#                      (seconds; part of make check)
#
# Seeds: tests/fuzz/corpus/NAME holds inputs from a recorded guest
# (build/minus1 ... --trace-io T; tools/trace2corpus T DIR), the hand-made
# ones of tests/fuzz/gen_seeds.py, and what libFuzzer's -merge=1 kept of
# fuzzing runs; inputs that found bugs stay there under their bug's name.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP -pthread -g -O1 \
                -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_LDFLAGS := -fsanitize=fuzzer $(FUZZ_SAN) -pthread
FUZZ_CFLAGS  += $(shell pkg-config --cflags capstone 2>/dev/null)
FUZZ_LIBS    := -lpcap -lm

# What the harnessed devices link against (no KVM, UI or slirp; the
# emulator only for fuzz_emu).
FUZZ_LIB_SRCS := vmm/log.c vmm/iobus.c vmm/vclock.c vmm/memory.c vmm/aio.c vmm/loop.c \
                 vmm/chardev.c vmm/monitor.c \
                 vmm/devices/pic.c vmm/devices/pit.c vmm/devices/rtc.c vmm/devices/uart.c \
                 vmm/devices/i8042.c vmm/devices/pci.c vmm/devices/i440fx.c \
                 vmm/devices/piix3.c vmm/devices/fw_cfg.c \
                 $(sort $(wildcard vmm/devices/ide/*.c)) $(sort $(wildcard vmm/devices/ne2k/*.c)) \
                 $(sort $(wildcard vmm/devices/vga/*.c)) \
                 vmm/block/block.c vmm/block/raw.c vmm/net/net.c vmm/net/pcap.c \
                 tests/fuzz/common.c
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_EMU_SRCS := $(sort $(wildcard vmm/emul/*.c)) $(sort $(wildcard vmm/paging/*.c)) \
                 vmm/arch/x86.c vmm/arch/cpuid.c
FUZZ_EMU_OBJS := $(FUZZ_EMU_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_NAMES    := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ          ?= $(FUZZ_NAMES)
FUZZ_BINS     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-regress $(FUZZ_NAMES:%=fuzz-run-%)

# The renderer's per-pixel loops would spend most of each run in the
# comparison hooks (65 runs/s); its branches are still covered, its
# memory accesses still checked.
$(FUZZ_DIR)/vmm/devices/vga/render.o: FUZZ_CFLAGS += -fno-sanitize-coverage=trace-cmp
# Likewise the slot lookup every emulated descriptor/page-table read does.
$(FUZZ_DIR)/vmm/memory.o: FUZZ_CFLAGS += -fno-sanitize-coverage=trace-cmp

# A REP string instruction counts as one instruction per STR_CAP
# iterations: keep that small, so the harness's instruction budget bounds
# the time of a run (64 * 4096 iterations at most).
$(FUZZ_DIR)/vmm/emul/ops.o: FUZZ_CFLAGS += -DSTR_CAP=64u

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

# The emulator harness: the x86 interpreter and its page walker, Capstone.
$(FUZZ_DIR)/fuzz_emu: $(FUZZ_DIR)/tests/fuzz/fuzz_emu.o $(FUZZ_LIB_OBJS) $(FUZZ_EMU_OBJS)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(FUZZ_LIBS) -lcapstone

fuzz-build: $(FUZZ_BINS)

# Each harness in its own target so `make -j2 fuzz` runs two at a time.
# The log's last lines give the counts; a crash stops that harness only.
FUZZ_OPTS := -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
$(FUZZ_NAMES:%=fuzz-run-%): fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/crashes $(FUZZ_DIR)/logs
	@echo "fuzz: $* for $(FUZZ_SECONDS) s"
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $< $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=$(FUZZ_DIR)/crashes/$*- \
	  $(FUZZ_DIR)/corpus/$* tests/fuzz/corpus/$* > $(FUZZ_DIR)/logs/$*.log 2>&1; \
	  echo $$? > $(FUZZ_DIR)/logs/$*.rc; true

fuzz: $(FUZZ:%=fuzz-run-%)
	@printf '%-8s %12s %8s %8s  %s\n' harness executions exec/s crashes artifact; \
	fail=0; for n in $(FUZZ); do \
	  log=$(FUZZ_DIR)/logs/$$n.log; \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -1); \
	  rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log | tail -1); \
	  art=$$(sed -n 's/.*Test unit written to \(.*\)/\1/p' $$log | tail -1); \
	  rc=$$(cat $(FUZZ_DIR)/logs/$$n.rc); crashes=0; \
	  if [ "$$rc" != 0 ]; then crashes=1; fail=1; fi; \
	  printf '%-8s %12s %8s %8s  %s\n' $$n "$${runs:-?}" "$${rate:-?}" $$crashes "$$art"; \
	done; exit $$fail

# Every seed once, under ASan/UBSan/LSan: quick, for make check.
fuzz-regress: $(FUZZ_BINS)
	@for n in $(FUZZ_NAMES); do \
	  set -- tests/fuzz/corpus/$$n/*; [ -e "$$1" ] || continue; \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(FUZZ_DIR)/fuzz_$$n "$$@" > $(FUZZ_DIR)/regress-$$n.log 2>&1 || \
	    { cat $(FUZZ_DIR)/regress-$$n.log; echo "fuzz-regress: $$n FAILED"; exit 1; }; \
	  echo "fuzz-regress: $$n ok ($$# inputs)"; \
	done

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_EMU_OBJS:.o=.d) $(FUZZ_NAMES:%=$(FUZZ_DIR)/tests/fuzz/fuzz_%.d)

# Pattern-built objects are not intermediates to delete.
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_EMU_OBJS) $(FUZZ_NAMES:%=$(FUZZ_DIR)/tests/fuzz/fuzz_%.o)
