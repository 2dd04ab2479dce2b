; El Torito no-emulation boot image: SeaBIOS loads it at 0000:7C00 from our
; ATAPI CD-ROM.  It reads sector 16 of the disc (the ISO 9660 primary
; volume descriptor) through INT 13h extended read, checks "CD001", prints
; over COM1 and exits through isa-debug-exit.
bits 16
org 0x7C00
%include "lib.inc"

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov [drive], dl
    serial_init
    mov si, msg_boot
    call puts_ds
    ; INT 13h AH=42h: read 1 CD sector (2048 bytes) at LBA 16 to 0000:8000.
    mov si, dap
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc fail
    cmp dword [0x8001], 'CD00'
    jne fail
    cmp byte [0x8005], '1'
    jne fail
    mov si, msg_ok
    call puts_ds
    exit_with EXIT_PASS
fail:
    mov si, msg_fail
    call puts_ds
    exit_with EXIT_FAIL

serial_puts_ds

align 4
dap:
    db 0x10, 0
    dw 1                    ; sectors
    dw 0x8000, 0x0000       ; buffer
    dq 16                   ; LBA
drive: db 0
msg_boot: db "cdboot: booted from the CD-ROM", 10, 0
msg_ok:   db "cdboot: read the volume descriptor via INT 13h", 10, 0
msg_fail: db "cdboot: INT 13h read failed", 10, 0
    times 2048 - ($ - $$) db 0
