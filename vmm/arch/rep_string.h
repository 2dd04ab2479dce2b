/* REP MOVS / REP STOS iterations carried out in userspace.
 *
 * The KVM backend uses this when KVM exits for MMIO in the middle of a
 * REP string instruction: instead of one exit per element, the remaining
 * elements are copied here in one go (RAM directly, MMIO through the
 * machine's bus), and the registers are left as the CPU would leave
 * them.  The engine never raises an exception: before each element it
 * checks everything that could fault (segment type and limit,
 * canonical form, the page walk with the access's privilege, SMAP) and
 * stops *before* an element that would fault, crosses a page boundary
 * or writes a dirty-logged slot, leaving RCX/RSI/RDI/RIP at that
 * element: KVM then executes it itself, faults included.
 *
 * Architecture followed (Intel SDM vol. 2, MOVS/STOS/REP): the count is
 * RCX masked to the address size; each element moves SIZE bytes between
 * [src_seg:RSI] and [ES:RDI], then RSI/RDI move by SIZE (down when
 * EFLAGS.DF is set) within the address size, and RCX drops by one; when
 * RCX reaches 0 RIP moves past the instruction.  In 64-bit mode 32-bit
 * address-size updates zero-extend RCX/RSI/RDI; outside it the bits
 * above the address size are kept.  A20 is not applied: the addresses
 * are those KVM itself uses. */
#ifndef MINUS1_REP_STRING_H
#define MINUS1_REP_STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../memory.h"
#include "x86.h"

enum rep_kind { REP_MOVS, REP_STOS };

struct rep_insn {
    uint8_t kind;           /* enum rep_kind */
    uint8_t size;           /* element bytes: 1, 2, 4 or 8 */
    uint8_t adsz;           /* address size in bytes: 2, 4 or 8 */
    uint8_t src_seg;        /* MOVS source segment (enum x86_sreg): DS or the override */
    uint8_t len;            /* instruction length */
};

/* Recognises REP (F3) MOVS/STOS in the instruction bytes for code of
 * code_bits (16, 32, 64).  Returns 0 and fills *ri, or -1 for anything
 * else (other instructions, REPNE, LOCK, truncated bytes). */
int rep_decode(const uint8_t *bytes, size_t n, int code_bits, struct rep_insn *ri);

/* What the engine needs from the machine. */
struct rep_env {
    struct guest_mem *mem;  /* RAM, ROM and device memory slots; the rest is MMIO */
    void *opaque;
    void (*mmio)(void *opaque, uint64_t gpa, unsigned size, bool is_write, uint64_t *val);
    /* Polled between elements (may be NULL): true stops early, e.g. when
     * an interrupt the guest would take is pending. */
    bool (*should_stop)(void *opaque);
};

struct rep_result {
    uint64_t done;          /* elements fully carried out */
    bool finished;          /* the count reached 0: RIP is past the instruction */
    bool handed_back;       /* hand-back mode: see rep_run */
    uint64_t read_val;      /* the handed-back element's value read from MMIO */
};

/* Carries out up to max elements of ri on the state s (registers updated
 * per element; RIP moved past the instruction when the count reaches 0).
 * Nothing happens when the count is already 0.
 *
 * hand_back_read: for an exit on an MMIO read, where KVM has started the
 * current element (element 0) and will finish it itself with the data
 * we give back, writing element 0's destination and then stepping RCX/
 * RSI/RDI by one element from their values at that time.  The engine
 * reads element 0's source into res->read_val (res->handed_back), does
 * elements 1..k, and leaves the registers one element short of where k
 * leaves them (RIP unchanged: KVM moves it if the count ends).  Only
 * for MOVS from MMIO to RAM (no device sees element 0's late write);
 * res->done counts elements 1..k. */
void rep_run(const struct rep_env *env, struct x86_state *s, const struct rep_insn *ri,
             uint64_t max, bool hand_back_read, struct rep_result *res);

/* Copies up to n instruction bytes from CS:RIP (through paging, RAM and
 * ROM only) into buf.  Returns how many could be fetched. */
size_t rep_fetch(const struct rep_env *env, const struct x86_state *s, uint8_t *buf, size_t n);

/* Guest-physical address of an element's destination (dst) or MOVS
 * source, `back` elements before the current one (0: the current one;
 * 1: the one just done).  Returns 0, or -1 when that access would fault
 * or cross a page boundary.  The page walk sets accessed/dirty bits as
 * the CPU does. */
int rep_element_gpa(const struct rep_env *env, const struct x86_state *s,
                    const struct rep_insn *ri, bool dst, int64_t back, uint64_t *gpa);

#endif
