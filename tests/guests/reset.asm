; Exercises every reset path of the PC.  A boot counter lives in CMOS
; byte 0x40 (NVRAM survives a reset, RAM contents are not trusted):
; boot 1 resets through the i8042 (command 0xFE), boot 2 through port 0x92
; (fast reset), boot 3 through the PIIX3 reset control register 0xCF9,
; boot 4 reports and exits.  (Triple-fault resets are left to a guest of
; their own: this host's KVM does not raise a shutdown for them.)
bits 16
org 0
%include "lib.inc"

%define COUNTER 0x40

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    serial_init
    mov al, COUNTER
    out 0x70, al
    in al, 0x71
    inc al
    mov bl, al
    mov al, COUNTER
    out 0x70, al
    mov al, bl
    out 0x71, al
    mov si, msg_boot
    call puts
    mov al, bl
    add al, '0'
    call putc
    mov al, 10
    call putc
    cmp bl, 1
    je via_kbc
    cmp bl, 2
    je via_port92
    cmp bl, 3
    je via_cf9
    mov si, msg_done
    call puts
    exit_with EXIT_PASS

via_kbc:
    in al, 0x64
    test al, 0x02                   ; wait for an empty input buffer
    jnz via_kbc
    mov al, 0xFE
    out 0x64, al
    jmp stuck
via_port92:
    in al, 0x92
    and al, 0xFE
    out 0x92, al
    or al, 0x01
    out 0x92, al
    jmp stuck
via_cf9:
    mov dx, 0xCF9
    mov al, 0x02
    out dx, al
    mov al, 0x06
    out dx, al
    jmp stuck
stuck:
    mov cx, 0xFFFF
.spin:
    loop .spin
    mov si, msg_stuck
    call puts
    exit_with EXIT_FAIL

serial_routines
msg_boot:  db "reset: boot ", 0
msg_done:  db "reset: all reset paths work", 10, 0
msg_stuck: db "reset: the reset did not happen", 10, 0

reset_vector start
