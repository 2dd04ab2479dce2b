; CPU-bound benchmark guest for the emulator: switches to flat 32-bit
; protected mode and runs an integer loop with memory traffic (a load, a
; store, ALU work on a 64 KiB buffer) ITER times, 8 instructions per
; iteration, then exits through isa-debug-exit.  Runs as a 64 KiB BIOS
; image under minus1 --accel emu and under QEMU -accel tcg -bios.
; Instructions executed: 8 * ITER + a few dozen.
bits 16
org 0
%include "lib.inc"

%ifndef ITER
%define ITER 80000000
%endif
%define BIOS_BASE 0xF0000

start:
    cli
    cld
    o32 lgdt [cs:gdt_ptr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:(BIOS_BASE + pm_entry)

bits 32
pm_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x8000
    mov ecx, ITER
    xor esi, esi
    xor eax, eax
    xor edx, edx
.loop:
    add eax, [esi + 0x10000]
    mov [esi + 0x10004], eax
    xor edx, eax
    lea ebx, [eax + edx * 2]
    add esi, 8
    and esi, 0xFFF8
    dec ecx
    jnz .loop
    mov al, EXIT_PASS
    out DEBUG_EXIT, al
.hang:
    hlt
    jmp .hang

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08: flat 32-bit code
    dq 0x00CF92000000FFFF       ; 0x10: flat 32-bit data
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd BIOS_BASE + gdt

bits 16
reset_vector start
