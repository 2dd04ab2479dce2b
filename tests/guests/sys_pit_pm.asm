; PIT IRQ0 at 1 kHz in 32-bit protected mode through an IDT interrupt
; gate: 200 ticks waited for with the race-free STI;HLT idiom, the PIC's
; ISR empty after each EOI, an edge latched in the IRR while IRQ0 is
; masked and delivered right after unmasking, and the interrupt frame
; (CS, EFLAGS.IF) the handler sees.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

TICKS equ 200
r_isr_bad equ g_tmp
r_frame   equ g_tmp + 4

start:
    sys_start main

bits 32
main:
    print "sys_pit_pm", 10
    mov dword [g_ticks], 0
    mov dword [r_isr_bad], 0
    mov dword [r_frame], 0
    mov ebx, 0x20
    mov eax, irq0_handler
    mov ecx, 0x8E00
    call set_gate
    pic_init 0x20, 0x28, 0xFE       ; vectors 0x20/0x28, only IRQ0
    pit_1khz
.wait:
    cli
    cmp dword [g_ticks], TICKS
    jae .counted
    sti
    hlt
    jmp .wait
.counted:
    print "ticks "
    phex [g_ticks], 4
    nl
    mov eax, [r_isr_bad]
    cmp eax, 0
    check e, "isr clear after every eoi"
    mov eax, [r_frame]
    cmp eax, 0
    check e, "frame cs 0008 and if set"
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    print "isr "
    movzx eax, al
    phex eax, 2
    nl
    ; Mask IRQ0 and wait (IF=1) for more than two periods: no interrupt,
    ; but the edge is latched in the IRR.
    mov al, 0xFF
    out 0x21, al
    mov ebx, [g_ticks]
    sti
    call wait_3ms
    cli
    mov eax, [g_ticks]
    cmp eax, ebx
    check e, "masked irq0 not delivered"
    mov al, 0x0A
    out 0x20, al
    in al, 0x20
    and al, 1
    print "irr bit0 "
    movzx eax, al
    phex eax, 1
    nl
    ; Unmask with IF=1: the pending request is taken, and it is the only
    ; one: channel 0 is first switched to a one-shot (mode 0) with the
    ; longest count, whose OUT stays low for 55 ms, so no new edge can
    ; arrive however long the host takes to run the next instructions.
    mov al, 0x30
    out 0x43, al                    ; channel 0, lobyte/hibyte, mode 0
    mov al, 0xFF
    out 0x40, al
    out 0x40, al
    mov ebx, [g_ticks]
    mov al, 0xFE
    out 0x21, al
    sti
    mov ecx, 1000                   ; bounded: a few port reads
.unmasked:
    cmp [g_ticks], ebx
    jne .taken
    in al, 0x21
    loop .unmasked
.taken:
    cli
    mov eax, [g_ticks]
    sub eax, ebx
    cmp eax, 1
    check e, "latched irq0 taken after unmask, before the next tick"
    sys_finish

; Waits for 4 reloads of PIT channel 0 (read back with the latch
; command), i.e. 3 to 4 periods; returns just after a reload.
wait_3ms:
    pushad
    xor esi, esi                    ; wraps seen
    mov edi, 0xFFFF                 ; previous count
.poll:
    mov al, 0x00
    out 0x43, al                    ; latch channel 0
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    movzx eax, ax
    cmp eax, edi
    mov edi, eax
    jbe .poll
    inc esi                         ; the count went up: a reload
    cmp esi, 4
    jb .poll
    popad
    ret

irq0_handler:
    push eax
    inc dword [g_ticks]
    cmp word [esp + 8], KCODE32
    jne .bad_frame
    test dword [esp + 12], 0x200
    jnz .frame_ok
.bad_frame:
    mov dword [r_frame], 1
.frame_ok:
    mov al, 0x20
    out 0x20, al
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    test al, al
    jz .isr_ok
    mov dword [r_isr_bad], 1
.isr_ok:
    pop eax
    iretd

sys_routines
sys_gdt_begin
sys_gdt_end
bits 16
reset_vector start
