; Boot sector for t_sendkey / t_vnc: reads keys through int 16h AH=00h and
; reports each on COM1 as "key SSAA" (SS = scancode, AA = ASCII, hex), and
; echoes the character on the text screen with int 10h AH=0Eh (CR gets a
; LF).  Says "keys: ready" once it waits for the first key.
bits 16
org 0x7C00

%define COM1 0x3F8

start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    mov si, msg_ready
    call puts
.loop:
    xor ah, ah
    int 0x16
    mov bp, ax
    mov si, msg_key
    call puts
    mov bx, bp
    mov cx, 4
.digit:
    rol bx, 4
    mov al, bl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    call putc
    loop .digit
    mov al, 10
    call putc
    mov ax, bp
    test al, al
    jz .loop
    call tty
    cmp al, 13
    jne .loop
    mov al, 10
    call tty
    jmp .loop

tty:
    push ax
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    pop ax
    ret

puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

putc:
    push ax
    mov dx, COM1 + 5
.w:
    in al, dx
    test al, 0x20
    jz .w
    pop ax
    mov dx, COM1
    out dx, al
    ret

msg_ready: db "keys: ready", 10, 0
msg_key:   db "key ", 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
