; CPU-bound benchmark guest for the emulator in 64-bit mode: the loop of
; cpu_loop.asm (a load, a store, ALU work on a 64 KiB buffer, 8
; instructions per iteration) with 64-bit registers, after switching to
; long mode (PAE, one 2 MiB identity page, EFER.LME, CR0.PG).  Exits
; through isa-debug-exit.  Runs as a 64 KiB BIOS image under minus1
; --accel emu and under QEMU -accel tcg -bios.
; Instructions executed: 8 * ITER + a few dozen.
bits 16
org 0
%include "lib.inc"

%ifndef ITER
%define ITER 80000000
%endif
%define BIOS_BASE 0xF0000
%define PML4 0x1000             ; page tables in low RAM, built at start-up
%define PDPT 0x2000
%define PD   0x3000

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
    ; PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] = 2 MiB page at 0 (P|W|PS),
    ; PD[7] = the 2 MiB page holding the BIOS (0xE00000.. is not needed:
    ; the BIOS is below 1 MiB, so PD[0] covers it)
    mov edi, PML4
    mov ecx, 3 * 4096 / 4
    xor eax, eax
    rep stosd
    mov dword [PML4], PDPT | 3
    mov dword [PDPT], PD | 3
    mov dword [PD], 0x83
    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 8              ; LME
    wrmsr
    mov eax, cr0
    or eax, 1 << 31
    mov cr0, eax
    jmp 0x18:(BIOS_BASE + long_entry)

bits 64
long_entry:
    mov ecx, ITER
    xor esi, esi
    xor eax, eax
    xor edx, edx
.loop:
    add rax, [rsi + 0x10000]
    mov [rsi + 0x10008], rax
    xor rdx, rax
    lea rbx, [rax + rdx * 2]
    add rsi, 8
    and rsi, 0xFFF8
    dec rcx
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
    dq 0x00AF9A000000FFFF       ; 0x18: 64-bit code (L=1)
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd BIOS_BASE + gdt

bits 16
reset_vector start
