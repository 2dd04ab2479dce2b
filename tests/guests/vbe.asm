; Boot sector for t_vga_vbe: finds the 800x600x32 mode with a linear
; framebuffer in the VGA BIOS's VBE mode list (4F00h, then 4F01h for each
; mode), sets it with the LFB bit (4F02h, BX = mode | 0x4000), and draws
; in the LFB at PhysBasePtr, BytesPerScanLine apart (unreal mode for the
; 32-bit addresses):
;   pixel(x, y) = (x & 0xFF) << 16 | (y & 0xFF) << 8 | ((x + y) >> 2) & 0xFF
; then prints "vbe: ready" on COM1 and halts ("vbe: failed" if the BIOS
; said no).
bits 16
org 0x7C00

%define COM1 0x3F8
%define VBEINFO 0x8000
%define MODEINFO 0x8200

start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov di, VBEINFO
    mov dword [di], 'VBE2'
    mov ax, 0x4F00
    int 0x10
    cmp ax, 0x004F
    jne fail
    lfs si, [VBEINFO + 0x0E]        ; VideoModePtr
.next:
    mov bp, [fs:si]
    add si, 2
    cmp bp, 0xFFFF
    je fail
    push fs
    push si
    mov cx, bp
    mov di, MODEINFO
    mov ax, 0x4F01
    int 0x10
    pop si
    pop fs
    cmp ax, 0x004F
    jne .next
    cmp word [MODEINFO + 0x12], 800
    jne .next
    cmp word [MODEINFO + 0x14], 600
    jne .next
    cmp byte [MODEINFO + 0x19], 32
    jne .next
    test byte [MODEINFO], 0x80      ; linear framebuffer supported
    jz .next
    mov bx, bp
    or bx, 0x4000
    mov ax, 0x4F02
    int 0x10
    cmp ax, 0x004F
    jne fail
    ; Unreal mode: ES keeps a 4 GiB limit after the return to real mode.
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov bx, 8
    mov es, bx
    and al, 0xFE
    mov cr0, eax
    xor bx, bx
    mov es, bx
    mov edi, [MODEINFO + 0x28]      ; PhysBasePtr
    movzx ebp, word [MODEINFO + 0x10]   ; BytesPerScanLine
    xor dx, dx                      ; y
.row:
    push edi
    xor cx, cx                      ; x
.col:
    mov ax, cx
    add ax, dx
    shr ax, 2
    mov ah, dl
    movzx eax, ax
    movzx ebx, cl
    shl ebx, 16
    or eax, ebx
    mov [es:edi], eax
    add edi, 4
    inc cx
    cmp cx, 800
    jb .col
    pop edi
    add edi, ebp
    inc dx
    cmp dx, 600
    jb .row
    mov si, msg_ok
    jmp puts

fail:
    mov si, msg_fail
puts:
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
    jmp puts
.halt:
    cli
    hlt
    jmp .halt

align 8
gdt:    dq 0, 0x00CF92000000FFFF
gdtr:   dw 15
        dd gdt
msg_ok:   db "vbe: ready", 10, 0
msg_fail: db "vbe: failed", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
