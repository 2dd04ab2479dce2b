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

ROM_BASE   equ 0xF0000

g_resume     equ 0x500
g_resume_rsp equ 0x508
g_fails      equ 0x510

GDT_BASE equ 0x1000
TSS_BASE equ 0x2000
IDT_BASE equ 0x3000
PML4     equ 0x10000
PDPT     equ 0x11000
PD       equ 0x12000
PT       equ 0x13000
USTACK   equ 0x6000
RSP0     equ 0x7800
KSTACK   equ 0x8000
IST1     equ 0x9800

CODE32   equ 0x08           ; base F0000, 32-bit (protected-mode entry)
DATA     equ 0x10           ; flat data, DPL0
KCODE64  equ 0x18           ; 64-bit code, DPL0 (STAR[47:32])
KDATA    equ 0x20           ; STAR[47:32] + 8
UCODE32  equ 0x28           ; STAR[63:48]: compat user code
UDATA    equ 0x30           ; STAR[63:48] + 8
UCODE64  equ 0x38           ; STAR[63:48] + 16
CCODE32  equ 0x40           ; compatibility-mode code, DPL0, base 0
TSS_SEL  equ 0x48           ; 16-byte 64-bit TSS descriptor

%macro desc 4
    dw (%2) & 0xFFFF
    dw (%1) & 0xFFFF
    db ((%1) >> 16) & 0xFF
    db %3
    db (((%2) >> 16) & 0x0F) | ((%4) << 4)
    db ((%1) >> 24) & 0xFF
%endmacro

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov es, ax
    serial_init
    push cs
    pop ds
    mov si, gdt_template
    mov di, GDT_BASE
    mov cx, gdt_end - gdt_template
    cld
    rep movsb
    xor ax, ax
    mov ds, ax
    o32 lgdt [cs:gdtr_rom]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword CODE32:pm32

bits 32
pm32:
    mov ax, DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, KSTACK
    ; page tables: PML4 -> PDPT -> PD: 0-2M and 2-4M as 2 MiB user pages,
    ; 4-6M through PT (4 KiB pages)
    mov edi, PML4
    mov ecx, 0x4000 / 4
    xor eax, eax
    rep stosd
    mov dword [PML4], PDPT | 7
    mov dword [PDPT], PD | 7
    mov dword [PD], 0x000087
    mov dword [PD + 8], 0x200087
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
    ; 64-bit TSS: RSP0, IST1
    mov edi, TSS_BASE
    mov ecx, 0x68 / 4
    xor eax, eax
    rep stosd
    mov dword [TSS_BASE + 4], RSP0
    mov dword [TSS_BASE + 36], IST1
    mov eax, cr4
    or eax, 0x220                   ; PAE, OSFXSR
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x901                   ; SCE, LME, NXE
    wrmsr
    mov eax, cr0
    or eax, 0x80010000              ; PG, WP
    mov cr0, eax
    jmp KCODE64:ROM_BASE + long64

bits 64
%macro print 1+
    push rsi
    lea rsi, [rel %%s]
    call puts64
    pop rsi
    jmp %%e
%%s: db %1, 0
%%e:
%endmacro

%macro phex 2
    push rax
    push rcx
    mov rax, %1
    mov ecx, %2
    call puthex64
    pop rcx
    pop rax
%endmacro

%macro nl 0
    push rax
    mov al, 10
    call putc64
    pop rax
%endmacro

; try INSN: INSN must fault; the handler prints the exception and
; resumes after the macro.
%macro try 1+
    mov qword [g_resume], ROM_BASE + %%resume
    mov [g_resume_rsp], rsp
    %1
    print "no fault BAD", 10
    inc dword [g_fails]
%%resume:
%endmacro

; check JCC_BAD, "what"
%macro check 2
    j%-1 %%bad
    print %2, " ok", 10
    jmp %%e
%%bad:
    print %2, " BAD", 10
    inc dword [g_fails]
%%e:
%endmacro

long64:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, KSTACK
    mov dword [g_fails], 0
    print "sys_long", 10
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
    mov rdi, IDT_BASE
    mov rcx, 4096 / 8
    xor eax, eax
    rep stosq
    xor ebx, ebx
.gates:
    lea rsi, [rel stub_table]
    mov rax, [rsi + rbx * 8]
    mov edx, 0x8E00
    call set_gate
    inc ebx
    cmp ebx, 32
    jb .gates
    mov ebx, 0x40
    mov rax, ROM_BASE + int40
    mov edx, 0x8E01                 ; IST1
    call set_gate
    mov ebx, 0x41
    mov rax, ROM_BASE + int41
    mov edx, 0x8E00
    call set_gate
    lidt [rel idtr_rom]
    ; TSS descriptor (16 bytes) and LTR
    mov ax, TSS_SEL
    ltr ax
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

    cmp dword [g_fails], 0
    jne .bad
    print "done", 10
    exit_with EXIT_PASS
.bad:
    print "failures "
    phex [g_fails], 2
    nl
    exit_with EXIT_FAIL

; set_gate: EBX = vector, RAX = handler, EDX = attributes<<8 | IST
set_gate:
    push rdi
    mov rdi, rbx
    shl rdi, 4
    add rdi, IDT_BASE
    mov [rdi], ax
    mov word [rdi + 2], KCODE64
    mov [rdi + 4], dx
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    mov dword [rdi + 12], 0
    pop rdi
    ret

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

exc_common:
    mov r12, [rsp]
    mov r13, [rsp + 8]
    mov r14, [rsp + 24]
    print "exc "
    phex r12, 2
    print " err "
    phex r13, 4
    cmp r12, 14
    jne .nocr2
    print " cr2 "
    mov rax, cr2
    phex rax, 8
.nocr2:
    test r14b, 3
    jz .k
    print " cpl3"
.k:
    nl
    mov rsp, [g_resume_rsp]
    jmp [g_resume]

; putc64: AL
putc64:
    push rdx
    push rax
    mov dx, COM1 + 5
.w:
    in al, dx
    test al, 0x20
    jz .w
    pop rax
    mov dx, COM1
    out dx, al
    pop rdx
    ret

puts64:
    push rax
.l:
    lodsb
    test al, al
    jz .d
    call putc64
    jmp .l
.d:
    pop rax
    ret

; puthex64: RAX value, ECX digits
puthex64:
    push rbx
    push rcx
    mov rbx, rax
    mov eax, ecx
    shl eax, 2
    mov ecx, 64
    sub ecx, eax
    shl rbx, cl
    pop rcx
    push rcx
.d:
    rol rbx, 4
    mov al, bl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 'a' - '0' - 10
.o:
    call putc64
    loop .d
    pop rcx
    pop rbx
    ret

%assign v 0
%rep 32
stub %+ v:
%if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17
    push qword v
%else
    push qword 0
    push qword v
%endif
    jmp exc_common
%assign v v + 1
%endrep

align 8
stub_table:
%assign v 0
%rep 32
    dq ROM_BASE + stub %+ v
%assign v v + 1
%endrep

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

align 8
gdt_template:
    dq 0
    desc ROM_BASE, 0xFFFF, 0x9B, 0x4    ; 08 32-bit code, base F0000
    desc 0, 0xFFFFF, 0x93, 0xC          ; 10 flat data
    desc 0, 0xFFFFF, 0x9B, 0xA          ; 18 64-bit code DPL0
    desc 0, 0xFFFFF, 0x93, 0xC          ; 20 data DPL0
    desc 0, 0xFFFFF, 0xFB, 0xC          ; 28 compat code DPL3
    desc 0, 0xFFFFF, 0xF3, 0xC          ; 30 data DPL3
    desc 0, 0xFFFFF, 0xFB, 0xA          ; 38 64-bit code DPL3
    desc 0, 0xFFFFF, 0x9B, 0xC          ; 40 compat code DPL0
    desc TSS_BASE, 0x67, 0x89, 0x0      ; 48 64-bit TSS (low half)
    dq 0                                ;    (high half: base 63:32 = 0)
gdt_end:
gdtr_rom:
    dw gdt_end - gdt_template - 1
    dd GDT_BASE
idtr_rom:
    dw 4096 - 1
    dq IDT_BASE

bits 16
    reset_vector start
