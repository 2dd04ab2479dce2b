; Programs the 8259 pair and the 8254 channel 0 at 1 kHz (mode 2), counts
; 100 IRQ0 interrupts taken through the IVT with HLT between them, checks
; that the PIC's ISR is clear after each EOI, and reports over COM1.
bits 16
org 0
%include "lib.inc"

TICKS equ 100

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    serial_init
    ; IVT entry for vector 0x08 (IRQ0 with the master at base 0x08).
    mov word [0x08 * 4], irq0_handler
    mov word [0x08 * 4 + 2], 0xF000
    mov word [0x500], 0             ; tick counter
    pic_init 0x08, 0x70, 0xFE       ; the PC's real-mode vectors, only IRQ0
    pit_1khz
    sti
.wait:
    hlt
    cmp word [0x500], TICKS
    jb .wait
    cli
    ; ISR must be empty now (OCW3 read ISR).
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    test al, al
    jnz fail
    mov si, msg_ok
    call puts
    mov ax, [0x500]
    call puthex16
    mov al, 10
    call putc
    exit_with EXIT_PASS
fail:
    mov si, msg_fail
    call puts
    exit_with EXIT_FAIL

irq0_handler:
    push ax
    inc word [0x500]
    mov al, 0x20                    ; non-specific EOI
    out 0x20, al
    pop ax
    iret

serial_routines
msg_ok:   db "pit_irq: ticks=0x", 0
msg_fail: db "pit_irq: ISR not clear after EOI", 10, 0

reset_vector start
