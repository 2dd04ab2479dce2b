; Display benchmark guest (boot sector, loaded by SeaBIOS from a disk).
;
; Default: sets mode 13h through int 10h, then switches to 32-bit
; protected mode (so KVM runs the loop natively instead of emulating real
; mode) and redraws the whole 320x200 screen forever, one solid colour per
; frame (colour = frame number & 0xFF, with rep stosd into the legacy
; window at 0xA0000), writing 'F' to COM1 after every frame.
;
; -DTEXT: stays in the 80x25 text mode, hides the cursor (no blink to
; confuse the measurement), then reads keys with int 16h and echoes them
; with int 10h AH=0Eh, so every screen change is a key's echo.
;
; Both say "disp: ready" on COM1 first.
bits 16
org 0x7C00

%define COM1 0x3F8

start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
%ifdef TEXT
    sti
    mov ah, 0x01
    mov cx, 0x2000                  ; cursor off
    int 0x10
    mov si, msg
    call puts16
.key:
    xor ah, ah
    int 0x16
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp .key

puts16:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1 + 5
.w:
    in al, dx
    test al, 0x20
    jz .w
    mov al, ah
    mov dx, COM1
    out dx, al
    jmp puts16
.done:
    ret
%else
    mov ax, 0x0013
    int 0x10
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm

bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7C00
    mov esi, msg
    call puts32
    xor ebx, ebx                    ; frame number
.frame:
    mov al, bl
    mov ah, al
    mov dx, ax
    shl eax, 16
    mov ax, dx                      ; colour in all four bytes
    mov edi, 0xA0000
    mov ecx, 320 * 200 / 4
    rep stosd
    mov dx, COM1
    mov al, 'F'
    out dx, al
    inc ebx
    jmp .frame

puts32:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1 + 5
.w:
    in al, dx
    test al, 0x20
    jz .w
    mov al, ah
    mov dx, COM1
    out dx, al
    jmp puts32
.done:
    ret

align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF       ; 0x08: 32-bit code, flat
        dq 0x00CF92000000FFFF       ; 0x10: data, flat
gdtr:   dw 23
        dd gdt
%endif
msg: db "disp: ready", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
