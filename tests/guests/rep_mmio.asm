; REP MOVS / REP STOS through MMIO: the legacy VGA window (A0000, 64 KiB)
; set to plain planar addressing (no chain-4, no odd/even, write mode 0,
; all planes, read mode 0 from plane 0), so every byte access traps and
; the window reads back what was written, like RAM.  Checks the data and
; the registers the CPU leaves (CX/SI/DI counts, DF=1 copies, 32-bit
; address size) for: STOSD into MMIO, MOVSD RAM->MMIO, MOVSD MMIO->RAM,
; MOVSW MMIO->MMIO backwards, A32 STOSB/MOVSB.  Prints "done" (or
; "failures NN") and then halts with interrupts off, so the test can read
; `info accel` (how many exits those 28672 elements cost) before it quits.
bits 16
org 0
%include "lib.inc"

FAILS   equ 0x500               ; failure count (flat, segment 0)
PAT     equ 0xA5C31E7F
N       equ 4096                ; dwords per 16 KiB block

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov dword [FAILS], 0
    serial_init
    mov si, s_hello
    call puts
    call vga_planar

    ; 1: rep stosd, 16 KiB of PAT at A000:0000.
    mov ax, 0xA000
    mov es, ax
    xor di, di
    mov ecx, N
    mov eax, PAT
    cld
    rep stosd
    cmp ecx, 0
    jne .f1
    cmp di, 0x4000
.f1:
    mov si, s_stosd
    call check

    ; 2: rep movsd RAM (1000:0, a counting pattern) -> A000:4000.
    call fill_1000
    mov ax, 0x1000
    mov ds, ax
    mov ax, 0xA000
    mov es, ax
    xor si, si
    mov di, 0x4000
    mov ecx, N
    rep movsd
    xor ax, ax
    mov ds, ax
    cmp ecx, 0
    jne .f2
    cmp si, 0x4000
    jne .f2
    cmp di, 0x8000
.f2:
    mov si, s_movsd_w
    call check

    ; 3: rep movsd A000:0000 -> RAM 2000:0, then all of it must be PAT.
    mov ax, 0xA000
    mov ds, ax
    mov ax, 0x2000
    mov es, ax
    xor si, si
    xor di, di
    mov ecx, N
    rep movsd
    xor ax, ax
    mov ds, ax
    cmp si, 0x4000
    jne .f3
    xor di, di
    mov ecx, N
    mov eax, PAT
    repe scasd
.f3:
    mov si, s_movsd_r
    call check

    ; 4: rep movsd A000:4000 -> RAM 3000:0 must equal 1000:0.
    mov ax, 0x3000
    call clear_seg
    mov ax, 0xA000
    mov ds, ax
    mov ax, 0x3000
    mov es, ax
    mov si, 0x4000
    xor di, di
    mov ecx, N
    rep movsd
    xor ax, ax
    mov ds, ax
    mov ax, 0x3000
    call same_as_1000
    mov si, s_movsd_r2
    call check

    ; 5: DF=1 rep movsw A000:4000..7FFF -> A000:8000..BFFF, from the top.
    mov ax, 0xA000
    mov ds, ax
    mov es, ax
    mov si, 0x7FFE
    mov di, 0xBFFE
    mov ecx, 0x2000
    std
    rep movsw
    cld
    xor ax, ax
    mov ds, ax
    cmp ecx, 0
    jne .f5
    cmp si, 0x3FFE
    jne .f5
    cmp di, 0x7FFE
.f5:
    mov si, s_movsw_regs
    call check
    mov ax, 0x3000
    call clear_seg
    mov ax, 0xA000
    mov ds, ax
    mov ax, 0x3000
    mov es, ax
    mov si, 0x8000
    xor di, di
    mov ecx, N
    rep movsd
    xor ax, ax
    mov ds, ax
    mov ax, 0x3000
    call same_as_1000
    mov si, s_movsw_data
    call check

    ; 6: 32-bit address size: a32 rep stosb at A000:C000, 4 KiB of 5A, read
    ; back with a32 rep movsb into 2000:0.
    mov ax, 0xA000
    mov es, ax
    mov edi, 0xC000
    mov ecx, 0x1000
    mov al, 0x5A
    a32 rep stosb
    cmp edi, 0xD000
    jne .f6
    mov ax, 0xA000
    mov ds, ax
    mov ax, 0x2000
    mov es, ax
    mov esi, 0xC000
    xor edi, edi
    mov ecx, 0x1000
    a32 rep movsb
    xor ax, ax
    mov ds, ax
    cmp esi, 0xD000
    jne .f6
    xor edi, edi
    mov ecx, 0x1000
    mov al, 0x5A
    a32 repe scasb
.f6:
    mov si, s_a32
    call check

    cmp dword [FAILS], 0
    jne .bad
    mov si, s_done
    call puts
    jmp .halt
.bad:
    mov si, s_failures
    call puts
    mov ax, [FAILS]
    call puthex16
    mov al, 10
    call putc
.halt:
    cli
    hlt
    jmp .halt

; VGA: graphics controller map A0000-AFFFF, graphics mode, write mode 0,
; read mode 0 from plane 0, no set/reset, rotate or function, bit mask
; FF; sequencer all planes, memory mode 06 (no chain-4, no odd/even).
vga_planar:
    mov dx, 0x3C4
    mov ax, 0x0F02
    out dx, ax
    mov ax, 0x0604
    out dx, ax
    mov dx, 0x3CE
    mov ax, 0x0001
    out dx, ax
    mov ax, 0x0003
    out dx, ax
    mov ax, 0x0004
    out dx, ax
    mov ax, 0x0005
    out dx, ax
    mov ax, 0x0506
    out dx, ax
    mov ax, 0xFF08
    out dx, ax
    ret

; 1000:0: dword i = i * 0x00010003 + 0x55, i < N.
fill_1000:
    push es
    mov ax, 0x1000
    mov es, ax
    xor di, di
    xor ebx, ebx
.next:
    mov eax, ebx
    imul eax, eax, 0x00010003
    add eax, 0x55
    stosd
    inc ebx
    cmp ebx, N
    jb .next
    pop es
    ret

; AX = segment: its first 16 KiB zeroed.
clear_seg:
    push es
    mov es, ax
    xor di, di
    xor eax, eax
    mov ecx, N
    rep stosd
    pop es
    ret

; AX = segment: ZF set if its first 16 KiB equal 1000:0's.
same_as_1000:
    push ds
    push es
    mov es, ax
    mov ax, 0x1000
    mov ds, ax
    xor si, si
    xor di, di
    mov ecx, N
    repe cmpsd
    pop es
    pop ds
    ret

; After a comparison (ZF set = good): prints CS:SI and " ok" or " BAD".
check:
    pushf
    call puts
    popf
    jne .bad
    mov si, s_ok
    call puts
    ret
.bad:
    inc dword [FAILS]
    mov si, s_bad
    call puts
    ret

serial_routines

s_hello:      db "rep_mmio", 10, 0
s_stosd:      db "rep stosd into mmio", 0
s_movsd_w:    db "rep movsd ram to mmio", 0
s_movsd_r:    db "rep movsd mmio to ram", 0
s_movsd_r2:   db "rep movsd mmio to ram, pattern", 0
s_movsw_regs: db "std rep movsw mmio to mmio, registers", 0
s_movsw_data: db "std rep movsw mmio to mmio, data", 0
s_a32:        db "a32 rep stosb and movsb", 0
s_ok:         db " ok", 10, 0
s_bad:        db " BAD", 10, 0
s_done:       db "done", 10, 0
s_failures:   db "failures ", 0

reset_vector start
