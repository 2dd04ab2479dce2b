; Sequential-read benchmark guest: an MBR boot sector SeaBIOS loads at
; 0000:7C00 from the primary master ATA disk.  It reads TOTAL sectors from
; LBA 1 on, SECTS sectors per command, into a 64 KiB buffer at 0x10000,
; then exits through isa-debug-exit.  Variants (nasm -D):
;   PIO       READ MULTIPLE after SET MULTIPLE MODE 16, one `rep insw` per
;             16-sector DRQ block (else: READ DMA through the PIIX3 bus
;             master, one 64 KiB PRD entry per 128 sectors).  On our hosts'
;             KVM a `rep insw` leaves the guest once per 512 words (the
;             in-kernel emulator's 1 KiB read-ahead; counted with strace:
;             ~84k more KVM_RUNs than the baseline for 64 MiB), so PIO
;             costs ~8 exits per 8 KiB block, not one per word
;   NO_READ   the same boot and set-up without the reads: the baseline the
;             benchmark subtracts
; Interrupts stay off (cli, PIC masked): the guest polls, like both VMMs'
; exits are the cost being measured and an ISR would only add noise.
bits 16
org 0x7C00
%include "lib.inc"

%ifndef SECTS
%define SECTS 128                   ; per command (PIO: at most 128)
%endif
%ifndef TOTAL
%define TOTAL 131072                ; 64 MiB
%endif
%define PRD 0x8000
%define BUF 0x10000
%define NCMD (TOTAL / SECTS)

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ax, BUF >> 4
    mov es, ax
    mov al, 0xFF
    out 0x21, al                    ; mask every PIC input: pure polling
    out 0xA1, al
%ifdef PIO
    ; SET MULTIPLE MODE 16.
    mov dx, 0x1F6
    mov al, 0xE0
    out dx, al
    mov dx, 0x1F2
    mov al, 16
    out dx, al
    mov dx, 0x1F7
    mov al, 0xC6
    out dx, al
    call wait_not_busy
%else
    ; BAR4 of 00:01.1 (bus master, I/O space); enable bus mastering.
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
    ; PRD table: SECTS * 512 bytes in 64 KiB entries from BUF on.
    mov di, PRD
    mov ebx, BUF
    mov cx, SECTS / 128
.prd:
    mov [di], ebx
    mov dword [di + 4], 0           ; byte count 0 = 64 KiB
    add ebx, 0x10000
    add di, 8
    loop .prd
    or byte [di - 1], 0x80          ; end of table
    mov dx, [bmbase]
    add dx, 4
    mov eax, PRD
    out dx, eax
%endif
    ; "@GO" on COM1 right before the first command: the benchmark can
    ; also time the read phase alone from when it shows in the serial log.
    serial_init
    mov dx, COM1
    mov al, '@'
    out dx, al
    mov al, 'G'
    out dx, al
    mov al, 'O'
    out dx, al
    mov al, 10
    out dx, al
%ifndef NO_READ
    mov ebp, 1                      ; LBA
    mov esi, NCMD
.cmd:
%ifndef PIO
    mov dx, [bmbase]
    add dx, 2
    mov al, 0x06
    out dx, al                      ; clear interrupt + error
%endif
    mov dx, 0x1F6
    mov eax, ebp
    shr eax, 24
    or al, 0xE0
    out dx, al                      ; LBA mode, master, LBA 27:24
    mov dx, 0x1F2
    mov al, SECTS & 0xFF
    out dx, al
    inc dx
    mov eax, ebp
    out dx, al
    inc dx
    mov al, ah
    out dx, al
    inc dx
    shr eax, 16
    out dx, al
    mov dx, 0x1F7
%ifdef PIO
    mov al, 0xC4                    ; READ MULTIPLE
    out dx, al
    xor di, di
    mov bx, SECTS / 16
.blk:
    call wait_drq
    mov dx, 0x1F0
    mov cx, 16 * 256
    rep insw
    dec bx
    jnz .blk
%else
    mov al, 0xC8                    ; READ DMA
    out dx, al
    mov dx, [bmbase]
    mov al, 0x09
    out dx, al                      ; start, device -> memory
    add dx, 2
    mov ecx, 100000000
.poll:
    in al, dx
    test al, 0x04
    jnz .irq
    dec ecx
    jnz .poll
    jmp fail
.irq:
    test al, 0x02
    jnz fail
    sub dx, 2
    xor al, al
    out dx, al                      ; stop
%endif
    call wait_not_busy              ; final status; acknowledges INTRQ
    add ebp, SECTS
    dec esi
    jnz .cmd
%endif
    exit_with EXIT_PASS

; Status polls, capped; any error ends the run as a failure.
wait_not_busy:
    mov dx, 0x1F7
    mov ecx, 100000000
.w:
    in al, dx
    test al, 0x80
    jz .ok
    dec ecx
    jnz .w
    jmp fail
.ok:
    test al, 0x21                   ; ERR, DF
    jnz fail
    ret

wait_drq:
    mov dx, 0x1F7
    mov ecx, 100000000
.w:
    in al, dx
    test al, 0x80
    jnz .next
    test al, 0x21
    jnz fail
    test al, 0x08
    jnz .ok
.next:
    dec ecx
    jnz .w
    jmp fail
.ok:
    ret

fail:
    exit_with EXIT_FAIL

bmbase: dw 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
