; Hardware task switches with 32-bit TSSs: CALL to a TSS (NT, link field,
; busy bits, CR0.TS, registers saved and restored) and IRET back through
; the link; a second CALL resumes the task after its IRET; JMP through a
; task gate in the GDT (no NT, the old task's busy bit cleared) and JMP
; back; INT n through a task gate in the IDT; a double fault on a broken
; stack handled by a task gate (the classic use: the #DF task has its own
; stack, repairs the faulting task's saved SS:ESP:EIP and IRETs to it);
; and the checks: #GP for a busy TSS (directly and through a task gate),
; #TS for a too-small TSS limit and for IRET (NT) to a TSS that is not
; busy.
; sys_task_df.asm includes this file with TASK_DF_ONLY defined and runs
; only the double-fault part: this host's KVM cannot deliver a #DF
; through a task gate (see t_sys_guests.sh), the rest it runs fine, so
; the rest keeps KVM as its oracle.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

TASK_A    equ 0x40          ; 32-bit TSS at TSS_A
TASK_DF   equ 0x48          ; the double-fault task
TGATE_A   equ 0x50          ; task gate -> TASK_A
TGATE_M   equ 0x58          ; task gate -> TSS_SEL (the main task)
TASK_SMALL equ 0x60         ; TSS descriptor with limit 0x50 (< 0x67)
TASK_I    equ 0x68          ; the INT 0x40 task

TSS_A     equ 0x2200
TSS_DF    equ 0x2300
TSS_I     equ 0x2400
STACK_A   equ 0x6000
STACK_DF  equ 0x6800
STACK_I   equ 0x6C00
VEC_TASK  equ 0x40

r_a_nt    equ g_tmp         ; what task A saw, for main to print
r_saved   equ g_tmp + 4

start:
    sys_start main

bits 32
; init_tss: EDI TSS base, EAX EIP, EDX ESP: a ring-0 flat task, IF=0.
init_tss:
    push edi
    push ecx
    push eax
    mov ecx, 0x68 / 4
    xor eax, eax
    rep stosd
    pop eax
    pop ecx
    pop edi
    mov [edi + 0x20], eax
    mov dword [edi + 0x24], 2
    mov [edi + 0x38], edx
    mov dword [edi + 0x48], KDATA32
    mov dword [edi + 0x4C], KCODE32
    mov dword [edi + 0x50], KDATA32
    mov dword [edi + 0x54], KDATA32
    mov dword [edi + 0x58], KDATA32
    mov dword [edi + 0x5C], KDATA32
    mov word [edi + 0x66], 0x68     ; no I/O bitmap
    ret

; ptype SEL: prints the type byte of GDT descriptor SEL (0x89 available,
; 0x8b busy TSS).
%macro ptype 1
    push eax
    movzx eax, byte [GDT_BASE + (%1) + 5]
    phex eax, 2
    pop eax
%endmacro

; pnt: prints EFLAGS.NT.
%macro pnt 0
    push eax
    pushfd
    pop eax
    shr eax, 14
    and eax, 1
    phex eax, 1
    pop eax
%endmacro

main:
%ifdef TASK_DF_ONLY
    print "sys_task_df", 10
%else
    print "sys_task", 10
%endif
    mov edi, TSS_A
    mov eax, task_a
    mov edx, STACK_A
    call init_tss
    mov edi, TSS_DF
    mov eax, task_df
    mov edx, STACK_DF
    call init_tss
    mov edi, TSS_I
    mov eax, task_i
    mov edx, STACK_I
    call init_tss
    ; IDT: #DF and INT 0x40 through task gates.
    mov dword [IDT_BASE + 8 * 8], TASK_DF << 16
    mov dword [IDT_BASE + 8 * 8 + 4], 0x8500
    mov dword [IDT_BASE + VEC_TASK * 8], TASK_I << 16
    mov dword [IDT_BASE + VEC_TASK * 8 + 4], 0x8500

%ifdef TASK_DF_ONLY
    jmp .df
%endif
    ; 1. CALL to a TSS, IRET back.
    mov ebx, 0x11112222
    mov esi, 0x33334444
    call TASK_A:0
    print "main after call: tr "
    str ax
    phex eax, 4
    print " ebx "
    phex ebx, 8
    print " esi "
    phex esi, 8
    print " nt "
    pnt
    print " types main "
    ptype TSS_SEL
    print " a "
    ptype TASK_A
    mov eax, cr0
    shr eax, 3
    and eax, 1
    print " cr0.ts "
    phex eax, 1
    nl
    clts
    ; task A's state was saved by its IRET: EIP just after it.
    mov eax, [TSS_A + 0x20]
    cmp eax, task_a.after_iret1
    check e, "task a saved eip"
    ; 2. The second CALL resumes task A there.
    call TASK_A:0
    print "main after second call", 10
    ; 3. JMP through a task gate; task A JMPs back.
    jmp TGATE_A:0
.jmp_back:
    print "main after jmp back: nt "
    pnt
    print " types main "
    ptype TSS_SEL
    print " a "
    ptype TASK_A
    nl
    ; 4. INT n through a task gate in the IDT.
    int VEC_TASK
.after_int:
    print "main after int task: link of task i "
    phex [TSS_I], 4
    nl
    ; 5. The checks.
    try 0x0D, TSS_SEL, jmp TSS_SEL:0        ; the running task is busy
    try 0x0D, TSS_SEL, call TSS_SEL:0
    try 0x0D, TSS_SEL, call TGATE_M:0       ; a gate to a busy task
    try 0x0A, TASK_SMALL, jmp TASK_SMALL:0  ; TSS limit below 0x67
    mov word [TSS_BASE], TASK_A             ; link to an available TSS
    pushfd
    or dword [esp], 0x4000
    popfd
    try 0x0A, TASK_A, iretd
    print "nt after #TS "
    pnt
    nl
%ifndef TASK_DF_ONLY
    sys_finish
%endif
    ; 6. Double fault through a task gate: a push on a broken stack
    ; faults (#SS), delivering #SS faults again on the same stack: #DF.
.df:
    mov dword [g_tmp + 12], 0
    mov dword [g_tmp + 16], .df_insn
    mov [g_tmp + 8], esp
    mov ax, KDATA16
    mov ss, ax
    mov esp, 2
.df_insn:
    push eax
    print "df not raised BAD", 10
    inc dword [g_fails]
.df_back:
    print "main after #df task: ss "
    mov ax, ss
    phex eax, 4
    print " esp ok "
    cmp esp, [g_tmp + 8]
    sete al
    phex eax, 1
    print " types main "
    ptype TSS_SEL
    print " df "
    ptype TASK_DF
    nl
    clts
    ; Again through the same #DF task, now from a #GP whose gate is not
    ; present (#NP while delivering it).
    inc dword [g_tmp + 12]
    cmp dword [g_tmp + 12], 2
    je .df_done
    gate_present 13, 0
    gate_present 11, 0
    mov dword [g_tmp + 16], .df_insn2
    mov [g_tmp + 8], esp
.df_insn2:
    jmp 0x78:0                      ; beyond the GDT limit: #GP(0x78)
    print "df not raised BAD", 10
    inc dword [g_fails]
.df_done:
    gate_present 13, 1
    gate_present 11, 1
    sys_finish

; Task A: a script, each entry continues where the last one left off.
task_a:
    print "task a: tr "
    str ax
    phex eax, 4
    print " link "
    phex [TSS_A], 4
    print " nt "
    pnt
    print " types main "
    ptype TSS_SEL
    print " a "
    ptype TASK_A
    print " main saved ebx "
    phex [TSS_BASE + 0x34], 8
    nl
    mov ebx, 0xAAAAAAAA             ; main's EBX must survive
    mov esi, 0xBBBBBBBB
    iretd
.after_iret1:
    print "task a resumed after iret, nt "
    pnt
    nl
    iretd
    ; entered by JMP through the task gate: no nesting
    print "task a by jmp: nt "
    pnt
    print " types main "
    ptype TSS_SEL
    print " a "
    ptype TASK_A
    nl
    mov dword [TSS_BASE + 0x20], main.jmp_back
    jmp TSS_SEL:0
    print "task a reentered BAD", 10
    inc dword [g_fails]
    hlt

; The INT 0x40 task.
task_i:
    print "int task: link "
    phex [TSS_I], 4
    print " nt "
    pnt
    print " main saved eip ok "
    mov eax, [TSS_BASE + 0x20]
    cmp eax, main.after_int
    sete al
    movzx eax, al
    phex eax, 1
    nl
    iretd
    jmp task_i

; The double-fault task: the error code is on its own stack.
task_df:
    pop ecx
    print "df task: err "
    phex ecx, 4
    print " link "
    phex [TSS_DF], 4
    print " nt "
    pnt
    print " main ss "
    phex [TSS_BASE + 0x50], 4
    print " esp "
    phex [TSS_BASE + 0x38], 8
    mov eax, [TSS_BASE + 0x20]
    cmp eax, [g_tmp + 16]
    sete al
    movzx eax, al
    print " eip at fault "
    phex eax, 1
    nl
    ; repair the faulting task and return to it
    mov dword [TSS_BASE + 0x50], KDATA32
    mov eax, [g_tmp + 8]
    mov [TSS_BASE + 0x38], eax
    mov dword [TSS_BASE + 0x20], main.df_back
    iretd
    jmp task_df

sys_routines

sys_gdt_begin
    desc TSS_A, 0x67, 0x89, 0x0         ; 40 TASK_A
    desc TSS_DF, 0x67, 0x89, 0x0        ; 48 TASK_DF
    dw 0, TASK_A, 0x8500, 0             ; 50 task gate -> TASK_A
    dw 0, TSS_SEL, 0x8500, 0            ; 58 task gate -> main
    desc TSS_A, 0x50, 0x89, 0x0         ; 60 TSS limit too small
    desc TSS_I, 0x67, 0x89, 0x0         ; 68 TASK_I
sys_gdt_end

bits 16
reset_vector start
