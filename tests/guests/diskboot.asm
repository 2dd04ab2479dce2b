; MBR boot sector for the disk tests.  SeaBIOS loads it at 0000:7C00 from
; our ATA disk.  It finds the PIIX3 IDE function's bus-master BAR (BAR4,
; programmed by SeaBIOS), writes 8 sectors of a known pattern at LBA 100
; with WRITE DMA through a one-entry PRD table, reads them back with READ
; DMA into another buffer, issues FLUSH CACHE, and reports.  The test then
; checks the pattern in the image file on the host.
bits 16
org 0x7C00
%include "lib.inc"

%define PATTERN 0x9000              ; 4 KiB written
%define READBACK 0xA000             ; 4 KiB read back
%define PRD 0x8000
%define LBA 100
%define NSECT 8

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    serial_init
    mov si, msg_boot
    call puts_ds
    ; Pattern: byte i = (i * 7 + 3) & 0xFF.
    mov di, PATTERN
    xor cx, cx
.fill:
    mov ax, cx
    mov bl, 7
    mul bl
    add al, 3
    stosb
    inc cx
    cmp cx, NSECT * 512
    jb .fill
    ; BAR4 of 00:01.1 (bus master registers, I/O).
    mov eax, 0x80000920
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in eax, dx
    and ax, 0xFFFC
    jz fail
    mov [bmbase], ax
    ; Enable bus mastering in the PCI command register.
    mov eax, 0x80000904
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in ax, dx
    or ax, 0x05
    out dx, ax
    mov ebx, PATTERN
    mov al, 0xCA                    ; WRITE DMA
    mov ah, 0x00                    ; bus master: memory -> disk
    call dma_cmd
    mov ebx, READBACK
    mov al, 0xC8                    ; READ DMA
    mov ah, 0x08                    ; bus master: disk -> memory
    call dma_cmd
    mov si, PATTERN
    mov di, READBACK
    mov cx, NSECT * 512
    repe cmpsb
    jne fail
    ; FLUSH CACHE, then wait for BSY to clear.
    mov dx, 0x1F7
    mov al, 0xE7
    out dx, al
    call wait_ready
    mov si, msg_ok
    call puts_ds
    exit_with EXIT_PASS

; AL = ATA command, AH = bus-master direction bit, EBX = buffer.
dma_cmd:
    mov [PRD], ebx
    mov dword [PRD + 4], 0x80000000 | (NSECT * 512)
    push ax
    mov dx, [bmbase]
    xor al, al
    out dx, al                      ; stop
    add dx, 2
    mov al, 0x06
    out dx, al                      ; clear error + interrupt
    add dx, 2
    mov eax, PRD
    out dx, eax                     ; PRD table address
    mov dx, 0x1F6
    mov al, 0xE0 | ((LBA >> 24) & 0x0F)
    out dx, al                      ; LBA mode, master
    mov dx, 0x1F2
    mov al, NSECT
    out dx, al
    inc dx
    mov al, LBA & 0xFF
    out dx, al
    inc dx
    mov al, (LBA >> 8) & 0xFF
    out dx, al
    inc dx
    mov al, (LBA >> 16) & 0xFF
    out dx, al
    pop ax
    push ax
    mov dx, 0x1F7
    out dx, al                      ; command
    pop ax
    mov dx, [bmbase]
    mov al, ah
    or al, 0x01
    out dx, al                      ; start
    ; Wait for the bus master's interrupt bit.
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
    test al, 0x02                   ; error
    jnz fail
    mov dx, [bmbase]
    xor al, al
    out dx, al                      ; stop
    mov dx, 0x1F7
    in al, dx                       ; status: acknowledges INTRQ
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
msg_boot: db "diskboot: booted from the disk", 10, 0
msg_ok:   db "diskboot: DMA write, read back and flush ok", 10, 0
msg_fail: db "diskboot: failed", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
