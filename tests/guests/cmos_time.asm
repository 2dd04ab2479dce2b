; Reads the RTC the way a BIOS does (wait for UIP to clear, then read),
; checks every field is valid BCD in range, prints
; "cmos_time: 20YY-MM-DD HH:MM:SS" (the test compares it with the host
; clock), and checks status register D reports valid RAM and time.
bits 16
org 0
%include "lib.inc"

%macro cmos_read 1
    mov al, %1
    out 0x70, al
    in al, 0x71
%endmacro

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    serial_init
    cmos_read 0x0B
    test al, 0x04                       ; must be BCD after power-on
    jnz fail
    test al, 0x02                       ; and 24-hour
    jz fail
    cmos_read 0x0D
    test al, 0x80                       ; VRT
    jz fail
.uip:
    cmos_read 0x0A
    test al, 0x80
    jnz .uip
    cmos_read 0x32
    mov [0x600], al
    cmos_read 0x09
    mov [0x601], al
    cmos_read 0x08
    mov [0x602], al
    cmos_read 0x07
    mov [0x603], al
    cmos_read 0x04
    mov [0x604], al
    cmos_read 0x02
    mov [0x605], al
    cmos_read 0x00
    mov [0x606], al
    ; Validate: each byte BCD; month 1-12, day 1-31, hour < 24, min/sec < 60.
    mov si, 0x600
    mov cx, 7
.bcd:
    mov al, [si]
    mov ah, al
    and al, 0x0F
    cmp al, 9
    ja fail
    shr ah, 4
    cmp ah, 9
    ja fail
    inc si
    loop .bcd
    mov al, [0x602]
    cmp al, 0x01
    jb fail
    cmp al, 0x12
    ja fail
    mov al, [0x603]
    cmp al, 0x01
    jb fail
    cmp al, 0x31
    ja fail
    cmp byte [0x604], 0x23
    ja fail
    cmp byte [0x605], 0x59
    ja fail
    cmp byte [0x606], 0x59
    ja fail
    mov si, msg_ok
    call puts
    mov al, [0x600]
    call puthex8
    mov al, [0x601]
    call puthex8
    mov al, '-'
    call putc
    mov al, [0x602]
    call puthex8
    mov al, '-'
    call putc
    mov al, [0x603]
    call puthex8
    mov al, ' '
    call putc
    mov al, [0x604]
    call puthex8
    mov al, ':'
    call putc
    mov al, [0x605]
    call puthex8
    mov al, ':'
    call putc
    mov al, [0x606]
    call puthex8
    mov al, 10
    call putc
    exit_with EXIT_PASS
fail:
    mov si, msg_fail
    call puts
    exit_with EXIT_FAIL

; AL = BCD byte, printed as two digits.
puthex8:
    push ax
    shr al, 4
    add al, '0'
    call putc
    pop ax
    and al, 0x0F
    add al, '0'
    call putc
    ret

serial_routines
msg_ok:   db "cmos_time: ", 0
msg_fail: db "cmos_time: invalid RTC contents", 10, 0

reset_vector start
