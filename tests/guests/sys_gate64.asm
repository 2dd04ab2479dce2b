; Long-mode call gates: 16-byte 64-bit call gates in the GDT.  From CPL0
; a same-level far CALL and a far JMP through a gate; the gate checks with
; their error codes (RPL above the gate's DPL, gate not present, non-zero
; type field in the upper half, a target that is not 64-bit code, a
; 16-bit gate type, which long mode does not have); then from CPL3 a far
; CALL through a DPL3 gate to DPL0 code (stack from TSS.RSP0, null SS,
; the caller's SS:RSP and CS:RIP on the new stack) and RETFQ back to
; CPL3, a gate to conforming code (no privilege change), a DPL0 gate
; (#GP at CPL3) and a far JMP through a gate to more privileged code
; (#GP: JMP never changes the CPL).  Transcript on COM1 (sys_gate64.expected,
; made under QEMU TCG); exit through isa-debug-exit: 0x10 pass, 0x11 fail.
bits 16
org 0
%include "lib.inc"
%include "long.inc"

g_user_rsp   equ 0x518

CCODE32   equ 0x28          ; compatibility-mode code, DPL0
UDATA     equ 0x30          ; DPL3 data
UCODE64   equ 0x38          ; DPL3 64-bit code
GATE3     equ 0x40          ; 64-bit call gate, DPL3 -> KCODE64:gate_entry
TSS_SEL   equ 0x50
GATE0     equ 0x60          ; DPL0 -> KCODE64:gate0_entry
GATE_NP   equ 0x70          ; DPL3, not present
GATE_UP   equ 0x80          ; DPL3, upper-half type field 0x0C
GATE_C32  equ 0x90          ; DPL3 -> CCODE32 (not 64-bit code)
GATE16    equ 0xA0          ; a 16-bit call gate (type 4)
CONF64    equ 0xB0          ; conforming 64-bit code, DPL0
GATE_CONF equ 0xB8          ; DPL3 -> CONF64:conf_entry
GATE_EXIT equ 0xC8          ; DPL3 -> KCODE64:gate_exit
GATE0J    equ 0xD8          ; DPL0 -> KCODE64:jmp_target

long_boot 0x3000                ; zeroes PML4, PDPT, PD: 0-4M identity
    long_switch 0x20, 0x100, 0x80000000             ; PAE; LME; PG

; make_gate: RDI = GDT slot, RAX = target offset, EDX = target selector,
; ECX = access byte (P, DPL, type), ESI = upper dword (type field 12:8).
make_gate:
    mov [rdi], ax
    mov [rdi + 2], dx
    mov byte [rdi + 4], 0
    mov [rdi + 5], cl
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    mov [rdi + 12], esi
    ret

%macro gate 5   ; slot selector, target, target selector, access, upper dword
    mov rdi, GDT_BASE + %1
    mov rax, ROM_BASE + %2
    mov edx, %3
    mov ecx, %4
    mov esi, %5
    call make_gate
%endmacro

; to_user LABEL: IRETQ to LABEL at CPL3 (IOPL 3 so it may print); a
; fault or a gate_exit comes back to the instruction after the macro.
%macro to_user 1
    mov qword [g_resume], ROM_BASE + %%back
    mov [g_resume_rsp], rsp
    push UDATA | 3
    push USTACK
    push 0x3002
    push UCODE64 | 3
    push ROM_BASE + %1
    iretq
%%back:
    mov ax, KDATA
    mov ss, ax
%endmacro

long64_begin "sys_gate64"
    ; IDT: exception stubs 0..31
    long_idt
    long_load_tables
    gate GATE3, gate_entry, KCODE64, 0xEC, 0
    gate GATE0, gate0_entry, KCODE64, 0x8C, 0
    gate GATE_NP, gate_entry, KCODE64, 0x6C, 0
    gate GATE_UP, gate_entry, KCODE64, 0xEC, 0x0C00
    gate GATE_C32, gate_entry, CCODE32, 0xEC, 0
    gate GATE_CONF, conf_entry, CONF64, 0xEC, 0
    gate GATE_EXIT, gate_exit, KCODE64, 0xEC, 0
    gate GATE0J, jmp_target, KCODE64, 0x8C, 0
    ; GATE16: an 8-byte 16-bit call gate (type 4), upper half zero
    gate GATE16, gate_entry, KCODE64, 0xE4, 0
    print "gates built", 10

    ; ---- CPL0: same-level CALL through a gate, RETFQ ----
    mov r15, rsp
    call far [rel p_gate0]
gate0_ret:
    sub r15, rsp
    print "same-level call back, rsp delta "
    phex r15, 2
    nl
    ; ---- CPL0: JMP through a gate ----
    jmp far [rel p_gate0_jmp]
jmp_back:
    print "jmp through gate landed at cs "
    mov ax, cs
    phex rax, 4
    nl

    ; ---- gate checks at CPL0 ----
    try call far [rel p_gate0_rpl3]     ; RPL 3 > DPL 0: #GP(60)
    try call far [rel p_gate_np]        ; #NP(70)
    try call far [rel p_gate_up]        ; upper type field: #GP(80)
    try call far [rel p_gate_c32]       ; target not 64-bit code: #GP(28)
    try call far [rel p_gate16]         ; 16-bit gate in long mode: #GP(a0)

    ; ---- CPL3 -> CPL0 through GATE3 and back ----
    to_user user_main
    print "back at cpl0 after user", 10
    to_user user_gp_dpl
    to_user user_jmp
    to_user user_conf

    long_finish

; same-level gate target: [rsp] return RIP, [rsp + 8] CS, 8 bytes each
gate0_entry:
    mov r12, [rsp + 8]
    print "gate0 at cpl0: caller cs "
    phex r12, 4
    mov rax, ROM_BASE + gate0_ret
    cmp [rsp], rax
    check e, " ret rip"
    o64 retf

jmp_target:
    jmp jmp_back

; CPL3 caller through GATE3: the handler runs at CPL0 on RSP0 - 32
gate_entry:
    mov r12, [rsp + 8]              ; caller CS
    mov r13, [rsp + 24]             ; caller SS
    mov r14, [rsp + 16]             ; caller RSP
    lea r11, [rsp]
    print "gate from cs "
    phex r12, 4
    print " ss "
    phex r13, 4
    print " rsp "
    phex r14, 4
    print " now cs "
    mov ax, cs
    phex rax, 4
    print " ss "
    mov ax, ss
    phex rax, 4
    print " rsp "
    phex r11, 4
    nl
    o64 retf

; conforming DPL0 code reached from CPL3: still CPL3, caller's stack
conf_entry:
    print "conforming: cs "
    mov ax, cs
    phex rax, 4
    print " ss "
    mov ax, ss
    phex rax, 4
    mov r12, [rsp + 8]
    print " pushed cs "
    phex r12, 4
    nl
    o64 retf

; ends a user excursion: runs at CPL0 from a CPL3 gate call
gate_exit:
    mov rsp, [g_resume_rsp]
    jmp [g_resume]

user_main:
    mov [g_user_rsp], rsp
    call far [rel p_gate3]
gate3_ret:
    print "back at cpl3: cs "
    mov ax, cs
    phex rax, 4
    print " ss "
    mov ax, ss
    phex rax, 4
    cmp rsp, [g_user_rsp]
    check e, " rsp"
    call far [rel p_gate_exit]

user_gp_dpl:
    call far [rel p_gate0_u]            ; DPL0 gate from CPL3: #GP(60)
    print "no fault BAD", 10
    inc dword [g_fails]
    call far [rel p_gate_exit]

user_jmp:
    jmp far [rel p_gate3]               ; JMP to DPL0 non-conforming code: #GP(18)
    print "no fault BAD", 10
    inc dword [g_fails]
    call far [rel p_gate_exit]

user_conf:
    call far [rel p_gate_conf]
    print "back from conforming", 10
    call far [rel p_gate_exit]

long_set_gate

long_runtime

align 8
; far pointers (m16:64, what nasm emits for "call far [mem]" in 64-bit
; code): the offset is ignored for gates
p_gate0:      dq 0x12345678
              dw GATE0
p_gate0_jmp:  dq 0
              dw GATE0J
p_gate0_rpl3: dq 0
              dw GATE0 | 3
p_gate_np:    dq 0
              dw GATE_NP
p_gate_up:    dq 0
              dw GATE_UP
p_gate_c32:   dq 0
              dw GATE_C32
p_gate16:     dq 0
              dw GATE16
p_gate3:      dq 0
              dw GATE3 | 3
p_gate0_u:    dq 0
              dw GATE0 | 3
p_gate_conf:  dq 0
              dw GATE_CONF | 3
p_gate_exit:  dq 0
              dw GATE_EXIT | 3

long_gdt_begin
    desc 0, 0xFFFFF, 0x9B, 0xC          ; 28 compat code DPL0
    desc 0, 0xFFFFF, 0xF3, 0xC          ; 30 data DPL3
    desc 0, 0xFFFFF, 0xFB, 0xA          ; 38 64-bit code DPL3
    dq 0, 0                             ; 40 GATE3 (built at run time)
    desc TSS_BASE, 0x67, 0x89, 0x0      ; 50 64-bit TSS
    dq 0                                ;    (high half)
    dq 0, 0                             ; 60 GATE0
    dq 0, 0                             ; 70 GATE_NP
    dq 0, 0                             ; 80 GATE_UP
    dq 0, 0                             ; 90 GATE_C32
    dq 0, 0                             ; a0 GATE16
    desc 0, 0xFFFFF, 0x9F, 0xA          ; b0 conforming 64-bit code DPL0
    dq 0, 0                             ; b8 GATE_CONF
    dq 0, 0                             ; c8 GATE_EXIT
    dq 0, 0                             ; d8 GATE0J
long_gdt_end
