; Hostile guest for tests/integration/t_flood.sh: after one line on COM1 it
; writes the transmit register in a tight loop, never looking at LSR, and
; reads an unused port in between (a guest spinning on I/O).
bits 16
org 0
%include "lib.inc"

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    serial_init
    mov si, msg
    call puts
    mov dx, COM1
    xor al, al
.flood:
    out dx, al
    inc al
    in al, 0x80
    jmp .flood

serial_routines
msg: db "flood: uart", 10, 0

reset_vector start
