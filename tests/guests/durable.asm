; MBR boot sector for the durability test (tests/integration/t_durability.sh).
; Writes NSECT distinct sectors at LBA FLUSHED_LBA with one WRITE DMA,
; issues FLUSH CACHE, prints "durable: flushed" on COM1, then keeps
; rewriting the UNFL_SECT sectors at UNFL_LBA (WRITE DMA, never flushed)
; until it is killed.  Sector L of the flushed range holds byte i =
; (L * 5 + i) & 0xFF, with L (16 bits) in its first two bytes.
bits 16
org 0x7C00
%include "lib.inc"

%define BUF_SEG 0x2000              ; buffer at physical 0x20000
%define BUF_PHYS 0x20000
%define PRD 0x8000
%define FLUSHED_LBA 200
%define NSECT 32
%define UNFL_LBA 1000
%define UNFL_SECT 64

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    serial_init
    ; Fill NSECT sectors: ES:DI walks the buffer, DX = LBA, CX = byte index.
    mov ax, BUF_SEG
    mov es, ax
    xor di, di
    mov dx, FLUSHED_LBA
.sector:
    xor cx, cx
.byte:
    mov ax, dx
    mov bl, 5
    mul bl                          ; AX = L * 5 (low byte is what counts)
    add al, cl
    stosb
    inc cx
    cmp cx, 512
    jb .byte
    mov [es:di - 512], dx           ; the LBA in the first two bytes
    inc dx
    cmp dx, FLUSHED_LBA + NSECT
    jb .sector
    ; Bus master BAR4 of 00:01.1, bus mastering on.
    mov eax, 0x80000920
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in eax, dx
    and ax, 0xFFFC
    jz fail
    mov [bmbase], ax
    mov eax, 0x80000904
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in ax, dx
    or ax, 0x05
    out dx, ax
    mov ebx, FLUSHED_LBA
    mov cl, NSECT
    call write_dma
    mov dx, 0x1F7
    mov al, 0xE7                    ; FLUSH CACHE
    out dx, al
    call wait_ready
    mov si, msg_flushed
    call puts_ds
    ; Unflushed writes forever: the buffer's first byte counts rounds.
    xor ebp, ebp
.again:
    inc ebp
    mov ax, bp
    mov [es:2], ax
    mov ebx, ebp
    and ebx, (UNFL_SECT / 8) - 1
    shl ebx, 3
    add ebx, UNFL_LBA
    mov cl, 8
    call write_dma
    jmp .again

; EBX = LBA, CL = sectors: WRITE DMA from BUF_PHYS through a one-entry PRD.
write_dma:
    mov dword [PRD], BUF_PHYS
    xor eax, eax
    mov ah, cl
    shl eax, 1                      ; CL * 512
    or eax, 0x80000000
    mov [PRD + 4], eax
    mov dx, [bmbase]
    xor al, al
    out dx, al                      ; stop
    add dx, 2
    mov al, 0x06
    out dx, al                      ; clear error + interrupt
    add dx, 2
    mov eax, PRD
    out dx, eax
    mov dx, 0x1F6
    mov al, 0xE0
    out dx, al                      ; LBA mode, master, LBA bits 24-27 = 0
    mov dx, 0x1F2
    mov al, cl
    out dx, al
    inc dx
    mov al, bl
    out dx, al
    inc dx
    mov al, bh
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, 0x1F7
    mov al, 0xCA                    ; WRITE DMA
    out dx, al
    mov dx, [bmbase]
    mov al, 0x01                    ; start, memory -> disk
    out dx, al
    mov ecx, 10000000
.wait:
    mov dx, [bmbase]
    add dx, 2
    in al, dx
    test al, 0x04
    jnz .done
    dec ecx
    jnz .wait
    jmp fail
.done:
    test al, 0x02
    jnz fail
    mov dx, [bmbase]
    xor al, al
    out dx, al
    mov dx, 0x1F7
    in al, dx
    test al, 0x01
    jnz fail
    ret

wait_ready:
    mov ecx, 10000000
.poll:
    mov dx, 0x1F7
    in al, dx
    test al, 0x80
    jz .ok
    dec ecx
    jnz .poll
    jmp fail
.ok:
    test al, 0x01
    jnz fail
    ret

fail:
    mov si, msg_fail
    call puts_ds
    exit_with EXIT_FAIL

serial_puts_ds

bmbase: dw 0
msg_flushed: db "durable: flushed", 10, 0
msg_fail: db "durable: failed", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
