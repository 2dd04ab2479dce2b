; PIT IRQ0 in 32-bit protected mode with a stack segment whose base is
; not 0 (SS base 0x10000, ESP 0x8000: the stack top is at linear
; 0x18000), as iPXE runs (its SS base is its relocation offset).  The
; CPU pushes the interrupt frame at SS.base + ESP - 12; the handler
; checks the frame it finds there (EIP of the instruction after HLT, CS,
; EFLAGS.IF) and that nothing was written at linear ESP - 12 without the
; base (the KVM on our hosts did that for injected interrupts, so iPXE's
; IRETD popped stale words).
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

TICKS    equ 50
SSB_SEL  equ 0x40               ; data, base 0x10000, 64 KiB, 32-bit
SSB_BASE equ 0x10000
SSB_TOP  equ 0x8000
MARK     equ 0x5A5A5A5A
r_bad    equ g_tmp

start:
    sys_start main

bits 32
main:
    print "sys_irq_ssbase", 10
    mov dword [g_ticks], 0
    mov dword [r_bad], 0
    ; What a base-less push would overwrite: linear 0x7FF0..0x7FFF.
    mov dword [SSB_TOP - 16], MARK
    mov dword [SSB_TOP - 12], MARK
    mov dword [SSB_TOP - 8], MARK
    mov dword [SSB_TOP - 4], MARK
    mov ebx, 0x20
    mov eax, irq0_handler
    mov ecx, 0x8E00
    call set_gate
    pic_init 0x20, 0x28, 0xFE       ; vectors 0x20/0x28, only IRQ0
    pit_1khz
    mov ax, SSB_SEL
    mov ss, ax
    mov esp, SSB_TOP
.wait:
    cli
    cmp dword [g_ticks], TICKS
    jae .counted
    sti
    hlt
.after_hlt:
    jmp .wait
.counted:
    mov ax, KDATA32
    mov ss, ax
    mov esp, KSTACK
    mov al, 0xFF
    out 0x21, al
    print "ticks "
    phex [g_ticks], 4
    nl
    mov eax, [r_bad]
    cmp eax, 0
    check e, "frame eip, cs, if and esp"
    mov eax, MARK
    cmp [SSB_TOP - 16], eax
    jne .clobbered
    cmp [SSB_TOP - 12], eax
    jne .clobbered
    cmp [SSB_TOP - 8], eax
    jne .clobbered
    cmp [SSB_TOP - 4], eax
.clobbered:
    check e, "no frame at linear esp without the ss base"
    sys_finish

irq0_handler:
    push eax
    inc dword [g_ticks]
    cmp esp, SSB_TOP - 16
    jne .bad
    cmp dword [ss:esp + 4], main.after_hlt
    jne .bad
    cmp word [ss:esp + 8], KCODE32
    jne .bad
    test dword [ss:esp + 12], 0x200
    jnz .ok
.bad:
    mov dword [r_bad], 1
.ok:
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

sys_routines
sys_gdt_begin
    desc SSB_BASE, 0xFFFF, 0x93, 0x4    ; 40 ring-0 data, base 0x10000, 32-bit
sys_gdt_end
bits 16
reset_vector start
