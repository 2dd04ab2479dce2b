; Boot sector for t_vga_mode13: SeaBIOS loads it from the disk; it sets
; mode 13h (320x200, 256 colours) through the VGA BIOS, draws
; colour = (x + y) & 0xFF over the whole screen, reprograms DAC entries
; 200-202 through the ports (0x3C8/0x3C9) and entry 203 through
; int 10h AX=1010h, then says "vga13: ready" on COM1 and halts.  The test
; checks the screendump pixel by pixel.
bits 16
org 0x7C00

%define COM1 0x3F8

start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ax, 0x0013
    int 0x10
    mov ax, 0xA000
    mov es, ax
    xor di, di
    xor dx, dx                      ; y
.row:
    xor cx, cx                      ; x
.col:
    mov al, cl
    add al, dl
    stosb
    inc cx
    cmp cx, 320
    jb .col
    inc dx
    cmp dx, 200
    jb .row
    ; DAC 200 = (63, 0, 0), 201 = (0, 63, 0), 202 = (1, 2, 3) (6-bit).
    mov dx, 0x3C8
    mov al, 200
    out dx, al
    inc dx
    mov si, dac
    mov cx, 9
.dac:
    lodsb
    out dx, al
    loop .dac
    ; DAC 203 = (10, 20, 30) through the BIOS.
    mov ax, 0x1010
    mov bx, 203
    mov dh, 10
    mov ch, 20
    mov cl, 30
    int 0x10
    mov si, msg
.puts:
    lodsb
    test al, al
    jz .halt
    mov ah, al
    mov dx, COM1 + 5
.w:
    in al, dx
    test al, 0x20
    jz .w
    mov al, ah
    mov dx, COM1
    out dx, al
    jmp .puts
.halt:
    cli
    hlt
    jmp .halt

dac: db 63, 0, 0,  0, 63, 0,  1, 2, 3
msg: db "vga13: ready", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
