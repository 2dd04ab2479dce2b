; Long mode: from the reset vector through protected mode into 64-bit
; mode (PAE + EFER.LME + CR0.PG, 4-level paging with 2 MiB and 4 KiB
; pages), a 64-bit IDT and TSS; then #PF error codes and CR2 (not present,
; write to read-only with CR0.WP, NX fetch, user access to a supervisor
; page), an interrupt on an IST stack, a SYSCALL/SYSRET round trip through
; CPL3, a compatibility-mode code segment that takes an interrupt and
; returns to 64-bit mode with RETF, and 64-bit arithmetic.  Prints a
; deterministic transcript on COM1 (sys_long.expected) and exits through
; isa-debug-exit: 0x10 pass, 0x11 fail.
bits 16
org 0
%include "lib.inc"
%include "long.inc"

PT       equ 0x13000
IST1     equ 0x9800

UCODE32  equ 0x28           ; STAR[63:48]: compat user code
UDATA    equ 0x30           ; STAR[63:48] + 8
UCODE64  equ 0x38           ; STAR[63:48] + 16
CCODE32  equ 0x40           ; compatibility-mode code, DPL0, base 0
TSS_SEL  equ 0x48           ; 16-byte 64-bit TSS descriptor

long_boot 0x4000                ; zeroes PML4, PDPT, PD and PT
    ; page tables: long_boot maps 0-2M and 2-4M as 2 MiB user pages;
    ; 4-6M through PT (4 KiB pages)
    mov dword [PD + 16], PT | 7
    mov edi, PT
    mov eax, 0x400007
.pt:
    mov [edi], eax
    add eax, 0x1000
    add edi, 8
    cmp edi, PT + 4096
    jb .pt
    mov dword [PT + 0 * 8], 0                   ; 400000: not present
    mov dword [PT + 1 * 8], 0x401001            ; 401000: present, read-only, supervisor
    mov dword [PT + 2 * 8 + 4], 0x80000000      ; 402000: user RW, NX
    mov dword [PT + 3 * 8], 0x403003            ; 403000: supervisor RW
    long_switch 0x220, 0x901, 0x80010000, IST1     ; PAE, OSFXSR; SCE, LME, NXE; PG, WP

long64_begin "sys_long"
    mov ecx, 0xC0000080
    rdmsr
    test eax, 0x400
    check nz, "efer.lma"
    mov eax, 0x80000001
    cpuid
    bt edx, 29
    check c, "cpuid lm"
    ; 64-bit arithmetic, RIP-relative data, REX registers
    mov rax, 0x123456789ABCDEF0
    mov r9, rax
    shr r9, 36
    add r9, [rel qword_one]
    phex r9, 16
    print " r9", 10
    mov eax, 0xFFFFFFFF
    mov r10, -1
    mov r10d, eax                   ; 32-bit writes zero-extend
    phex r10, 16
    nl
    mov rax, 0x100000000
    mov rcx, 3
    mul rcx
    phex rax, 16
    phex rdx, 2
    nl
    movsxd rax, dword [rel dword_neg]
    phex rax, 16
    nl
    cqo
    phex rdx, 16
    nl
    ; IDT: exception stubs 0..31 DPL0, 0x40 with IST1, 0x41 DPL0
    long_idt
    mov ebx, 0x40
    mov rax, ROM_BASE + int40
    mov edx, 0x8E01                 ; IST1
    call set_gate
    mov ebx, 0x41
    mov rax, ROM_BASE + int41
    mov edx, 0x8E00
    call set_gate
    long_load_tables                ; LIDT; LTR of the 16-byte TSS descriptor
    print "tables loaded", 10

    ; ---- page faults ----
    try mov eax, [0x400000]
    try mov dword [0x401000], 1
    mov byte [0x402000], 0xC3       ; RET in an NX page
    mov rax, 0x402000
    try call rax
    mov eax, [0x401000]             ; read-only is readable
    print "read ro ok", 10
    ; non-canonical address: #GP(0)
    mov rax, 0x0000800000000000
    try mov rbx, [rax]

    ; ---- IST ----
    int 0x40

    ; ---- SYSCALL / SYSRET through CPL3 ----
    mov ecx, 0xC0000081             ; STAR
    xor eax, eax
    mov edx, (UCODE32 << 16) | KCODE64
    wrmsr
    mov ecx, 0xC0000082             ; LSTAR
    mov eax, ROM_BASE + syscall_entry
    xor edx, edx
    wrmsr
    mov ecx, 0xC0000084             ; SFMASK: clear TF, DF, IF on entry
    mov eax, 0x700
    wrmsr
    mov qword [g_resume], ROM_BASE + after_user
    mov [g_resume_rsp], rsp
    push UDATA | 3
    push USTACK
    push 0x402                      ; IF=0 (DF... no: bit 10 is DF) set DF for SFMASK to clear
    push UCODE64 | 3
    push ROM_BASE + user64
    iretq
after_user:
    print "back at cpl0", 10

    ; ---- user access to a supervisor page: #PF err 5 at CPL3 ----
    mov qword [g_resume], ROM_BASE + after_user2
    mov [g_resume_rsp], rsp
    push UDATA | 3
    push USTACK
    push 0x2
    push UCODE64 | 3
    push ROM_BASE + user_pf
    iretq
after_user2:
    mov ax, KDATA
    mov ss, ax
    mov ds, ax
    mov es, ax

    ; ---- compatibility mode ----
    jmp far dword [rel compat_ptr]
back64:
    phex rax, 8
    print " from compat", 10

    long_finish

long_set_gate

user64:
    mov rax, 0x1234
    mov rdi, 0x5678
    syscall
user64_ret:
    mov rdi, rax                    ; SYSRET's return value
    pushfq
    pop rsi
    mov eax, 2
    syscall                         ; "exit": back to CPL0


user_pf:
    mov eax, [0x401000]
    jmp user_pf

syscall_entry:
    cmp eax, 2
    je .exit
    print "syscall rax "
    phex rax, 4
    print " rdi "
    phex rdi, 4
    print " cs "
    mov rbx, rcx
    mov cx, cs
    phex rcx, 4
    print " ss "
    mov cx, ss
    phex rcx, 4
    print " r11 "
    phex r11, 4
    pushfq
    pop rax
    print " rflags "
    phex rax, 4
    nl
    mov rcx, rbx
    mov rax, ROM_BASE + user64_ret
    cmp rcx, rax
    check e, "rcx is the return rip"
    mov eax, 0xBEEF
    o64 sysret
.exit:
    print "user got "
    phex rdi, 4
    print " rflags "
    phex rsi, 4
    print " kernel cs "
    mov cx, cs
    phex rcx, 4
    nl
    mov rsp, [g_resume_rsp]
    jmp [g_resume]

int40:
    print "int40 rsp "
    lea rax, [rsp]
    phex rax, 8
    print " ist ok", 10
    iretq

int41:
    mov r12, [rsp + 8]
    mov r13, [rsp + 32]
    print "int41 from cs "
    phex r12, 4
    print " ss "
    phex r13, 4
    nl
    iretq

long_runtime

qword_one: dq 1
dword_neg: dd -5
compat_ptr:
    dd ROM_BASE + compat32
    dw CCODE32

bits 32
compat32:
    mov eax, 0x11223344
    int 0x41
    add eax, 1
    push dword KCODE64
    push dword ROM_BASE + back64
    retf
bits 64

long_gdt_begin
    desc 0, 0xFFFFF, 0xFB, 0xC          ; 28 compat code DPL3
    desc 0, 0xFFFFF, 0xF3, 0xC          ; 30 data DPL3
    desc 0, 0xFFFFF, 0xFB, 0xA          ; 38 64-bit code DPL3
    desc 0, 0xFFFFF, 0x9B, 0xC          ; 40 compat code DPL0
    desc TSS_BASE, 0x67, 0x89, 0x0      ; 48 64-bit TSS (low half)
    dq 0                                ;    (high half: base 63:32 = 0)
long_gdt_end
